//! The RADIUS side: access rows and accounting batches.

use crate::Backend;
use crate::testkit::fixtures::*;
use ispd_provisioning::zone::Zone;

pub(super) async fn access_rows_follow_the_records(store: Store) {
    use crate::AccessScope;
    let sub = subscribed_client(&store, "1001").await.subscription.id;
    let mut login = ppp_login("novak", sub);
    login.ipv4 = Some("10.0.0.5".parse().unwrap());
    login.nas = vec!["core-1".into()];
    let created = store
        .create_login(&actor(), login, "arctangent")
        .await
        .unwrap();
    subscribed_client(&store, "1002").await;
    let rows = store.access_rows(&AccessScope::All).await.unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.username, "novak");
    assert_eq!(row.password, "arctangent", "opened for CHAP and MS-CHAPv2");
    assert_eq!(row.ipv4, Some("10.0.0.5".parse().unwrap()));
    assert_eq!(row.nas, ["core-1"]);
    assert_eq!(row.client_number, "1001");
    assert_eq!(row.subscription_id, sub);
    assert_eq!(
        row.cap_period,
        ispd_billing::tariff::CapPeriod {
            period: Period::Monthly,
            alignment: ispd_billing::schedule::Alignment::BillingDay(1),
            billing_from: date(2026, 1, 1),
        },
        "a cap counts in the subscription's billing periods"
    );
    assert!(
        !format!("{row:?}").contains("arctangent"),
        "Debug redacts the password"
    );
    for scope in [
        AccessScope::Login(created.login.id),
        AccessScope::Subscription(sub),
        AccessScope::Client("1001".into()),
        AccessScope::Tariff(row.tariff_id),
    ] {
        assert_eq!(
            store.access_rows(&scope).await.unwrap().len(),
            1,
            "{scope:?}"
        );
    }
    assert!(
        store
            .access_rows(&AccessScope::Client("1002".into()))
            .await
            .unwrap()
            .is_empty()
    );
    // The start-up load (on SQLite its own reader) hands out the same rows, in order.
    let mut second = ppp_login("dvorak", sub);
    second.ipv6_prefix = Some("2001:db8:5::/56".parse().unwrap());
    store
        .create_login(&actor(), second, "cosine-123")
        .await
        .unwrap();
    let mut loaded = Vec::new();
    store.each_access_row(|row| loaded.push(row)).await.unwrap();
    assert_eq!(loaded.len(), 2);
    assert_eq!(loaded, store.access_rows(&AccessScope::All).await.unwrap());
    assert_eq!(loaded[1].password, "cosine-123");
}

pub(super) async fn accounting_batches_store_sessions_once(store: Store) {
    use crate::Partition;
    use ispd_provisioning::accounting::StatusType;
    let login = novak(&store).await;
    let item = minutes_of(login, "s1");
    let partition = Partition { index: 0, count: 1 };
    let mut memory = store
        .accounting_writer(partition, Zone::Host)
        .await
        .unwrap();
    // Start and Interim in one batch, the Interim retransmitted in the next batch, then a
    // Stop from a writer that remembers nothing (as after a restart).
    let changes = memory
        .apply(&[
            item(StatusType::Start, 0, 0, 0),
            item(StatusType::InterimUpdate, 5, 300, 1000),
        ])
        .await
        .unwrap()
        .changes;
    assert_eq!(changes, [(login, 1)]);
    memory
        .apply(&[item(StatusType::InterimUpdate, 5, 300, 1000)])
        .await
        .unwrap();
    let mut fresh = store
        .accounting_writer(partition, Zone::Host)
        .await
        .unwrap();
    let changes = fresh
        .apply(&[item(StatusType::Stop, 10, 600, 1500)])
        .await
        .unwrap()
        .changes;
    assert_eq!(changes, [(login, -1)]);
    let open = store
        .open_sessions(&Default::default(), Default::default())
        .await
        .unwrap();
    assert!(open.items.is_empty());
    let history = store
        .session_history("novak", Default::default())
        .await
        .unwrap();
    assert_eq!(
        history.items.len(),
        1,
        "one session, however often it was reported"
    );
    let session = &history.items[0];
    assert_eq!((session.input_octets, session.output_octets), (1500, 6000));
    assert_eq!(session.session_seconds, 600);
    assert!(session.stopped_at.is_some());
    let day = event_time(0).with_timezone(&chrono::Local).date_naive();
    let usage = store.daily_usage("novak", day, day).await.unwrap();
    assert_eq!(usage.len(), 1);
    assert_eq!(
        (usage[0].input_octets, usage[0].output_octets),
        (1500, 6000),
        "counted once"
    );
    assert_eq!(usage[0].session_seconds, 600);
    // Accounting-On closes what is open and reports it.
    let mut start = item(StatusType::Start, 20, 0, 0);
    start.record.acct_session_id = "s2".into();
    memory.apply(&[start]).await.unwrap();
    let mut on = item(StatusType::AccountingOn, 30, 0, 0);
    on.record.acct_session_id.clear();
    let changes = memory.apply(&[on]).await.unwrap().changes;
    assert_eq!(changes, [(login, -1)]);
    assert_eq!(store.open_session_counts().await.unwrap().get(&login), None);
}

/// A Start that reaches a writer which does not remember its session (retransmitted after a
/// restart, or to another instance) changes nothing stored: no second session, no counters
/// taken back, and a stopped session stays stopped.
pub(super) async fn a_start_repeated_to_a_writer_that_forgot_it_is_one_session(store: Store) {
    use crate::Partition;
    use ispd_provisioning::accounting::StatusType;
    let login = novak(&store).await;
    let item = minutes_of(login, "s1");
    let partition = Partition { index: 0, count: 1 };
    let writer = async || {
        store
            .accounting_writer(partition, Zone::Host)
            .await
            .unwrap()
    };
    let stored = async || {
        let history = store.session_history("novak", Default::default()).await;
        history.unwrap().items
    };
    // The Start again, at a writer that remembers nothing of the session.
    let repeat_start = async || {
        let mut fresh = writer().await;
        fresh
            .apply(&[item(StatusType::Start, 0, 0, 0)])
            .await
            .unwrap()
            .changes
    };
    let mut first = writer().await;
    first
        .apply(&[
            item(StatusType::Start, 0, 0, 0),
            item(StatusType::InterimUpdate, 5, 300, 1000),
        ])
        .await
        .unwrap();
    let changes = repeat_start().await;
    assert!(
        changes.is_empty(),
        "the session was open already: {changes:?}"
    );
    let sessions = stored().await;
    assert_eq!(sessions.len(), 1, "one session, not a second");
    assert_eq!(sessions[0].input_octets, 1000, "the counters are not reset");
    assert!(sessions[0].stopped_at.is_none());

    first
        .apply(&[item(StatusType::Stop, 10, 600, 1500)])
        .await
        .unwrap();
    let changes = repeat_start().await;
    assert!(
        changes.is_empty(),
        "a stopped session is not opened again: {changes:?}"
    );
    let sessions = stored().await;
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].input_octets, 1500);
    assert!(sessions[0].stopped_at.is_some(), "still stopped");
    assert_eq!(store.open_session_counts().await.unwrap().get(&login), None);
}

/// Two instances (two writers with memories of their own, on one database) share sessions:
/// the database, not a memory, decides what is stored.
pub(super) async fn accounting_from_two_instances_is_one_session(store: Store) {
    use crate::{AccountingWriter, AcctItem, Partition};
    use ispd_provisioning::accounting::StatusType;
    let login = novak(&store).await;
    let at = |second: u32| event_time(i64::from(second));
    let item = |sid: &str, status, second: u32, seconds: u64, input: u64| {
        acct_item(
            login,
            sid,
            status,
            i64::from(second),
            seconds,
            input,
            input * 2,
        )
    };
    let partition = Partition { index: 0, count: 1 };
    let (mut a, mut b) = (
        store
            .accounting_writer(partition, Zone::Host)
            .await
            .unwrap(),
        store
            .accounting_writer(partition, Zone::Host)
            .await
            .unwrap(),
    );
    async fn apply(writer: &mut AccountingWriter, item: AcctItem) -> crate::OpenSessionChanges {
        writer.apply(&[item]).await.unwrap().changes
    }
    // The Start reaches A, the Interims alternate, each instance remembering an older state.
    let changes = apply(&mut a, item("s1", StatusType::Start, 0, 0, 0)).await;
    assert_eq!(changes, [(login, 1)]);
    apply(
        &mut b,
        item("s1", StatusType::InterimUpdate, 300, 300, 1000),
    )
    .await;
    apply(
        &mut a,
        item("s1", StatusType::InterimUpdate, 600, 600, 2000),
    )
    .await;
    // B's late retransmission of its Interim does not take the counters back.
    apply(
        &mut b,
        item("s1", StatusType::InterimUpdate, 300, 300, 1000),
    )
    .await;
    let changes = apply(&mut b, item("s1", StatusType::Stop, 900, 900, 3000)).await;
    assert_eq!(changes, [(login, -1)], "B closes the session A opened");
    // An Interim that A sent late does not reopen it.
    let changes = apply(
        &mut a,
        item("s1", StatusType::InterimUpdate, 800, 800, 2500),
    )
    .await;
    assert!(changes.is_empty(), "a Stop is never undone: {changes:?}");
    let history = store
        .session_history("novak", Default::default())
        .await
        .unwrap();
    assert_eq!(history.items.len(), 1, "one session: {:?}", history.items);
    let session = &history.items[0];
    assert_eq!((session.input_octets, session.output_octets), (3000, 6000));
    assert_eq!(session.session_seconds, 900);
    assert!(session.stopped_at.is_some());
    let day = at(0).with_timezone(&chrono::Local).date_naive();
    let usage = store.daily_usage("novak", day, day).await.unwrap();
    assert_eq!(
        (usage[0].input_octets, usage[0].session_seconds),
        (3000, 900),
        "every octet counted once, whichever instance saw it"
    );

    // A session the sweep closed behind a writer's memory stays closed.
    apply(&mut a, item("s2", StatusType::Start, 1000, 0, 0)).await;
    assert_eq!(
        store.open_session_counts_of(&[login]).await.unwrap()[&login],
        1
    );
    let swept = store.close_stale_sessions(at(1001)).await.unwrap();
    assert_eq!(swept, [(login, -1)]);
    let changes = apply(&mut a, item("s2", StatusType::Stop, 1100, 100, 10)).await;
    assert!(changes.is_empty(), "not closed twice: {changes:?}");
    assert!(
        store
            .open_session_counts_of(&[login])
            .await
            .unwrap()
            .is_empty()
    );

    // A Start to one instance and the first Interim to the other at the same moment (the
    // Interim's start, counted back from its session time, one second off): one session.
    let sessions = 20;
    let tasks: Vec<_> = (0..sessions)
        .flat_map(|n| {
            let sid = format!("race-{n}");
            [
                item(&sid, StatusType::Start, 2000, 0, 0),
                item(&sid, StatusType::InterimUpdate, 2300, 299, 500),
            ]
        })
        .map(|one| {
            let store = store.clone();
            tokio::spawn(async move {
                let partition = Partition { index: 0, count: 1 };
                let mut writer = store
                    .accounting_writer(partition, Zone::Host)
                    .await
                    .unwrap();
                writer.apply(&[one]).await.unwrap()
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let history = store
        .session_history("novak", Default::default())
        .await
        .unwrap();
    let raced = history
        .items
        .iter()
        .filter(|s| s.acct_session_id.starts_with("race-"))
        .count();
    assert_eq!(raced, sessions, "no session stored twice");
    assert_eq!(
        store.open_session_counts_of(&[login]).await.unwrap()[&login],
        sessions as u32
    );
}

/// Client 1001 with a subscription and the login "novak"; its id.
async fn novak(store: &Store) -> i64 {
    let sub = subscribed_client(store, "1001").await.subscription.id;
    store
        .create_login(&actor(), ppp_login("novak", sub), "pw-123456")
        .await
        .unwrap()
        .login
        .id
}

/// `second` seconds after 10:00 UTC on 2026-11-24.
fn event_time(second: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 24)
        .unwrap()
        .and_hms_opt(10, 0, 0)
        .unwrap()
        .and_utc()
        + chrono::Duration::seconds(second)
}

/// A session the stale-session sweep closed is not over if its NAS reports it again (a NAS
/// cut off from ispd for longer than `stale_after`): the next Interim opens it again — for
/// Simultaneous-Use and enforcement — and the NAS's Stop then replaces the presumed one. A
/// stop the NAS reported is final.
pub(super) async fn a_session_the_sweep_closed_is_reopened_by_its_next_interim(store: Store) {
    use crate::Partition;
    use ispd_provisioning::accounting::StatusType;
    let login = novak(&store).await;
    let item = minutes_of(login, "p1");
    let partition = Partition { index: 0, count: 1 };
    let mut writer = store
        .accounting_writer(partition, Zone::Host)
        .await
        .unwrap();
    writer
        .apply(&[item(StatusType::Start, 0, 0, 0)])
        .await
        .unwrap();
    writer
        .apply(&[item(StatusType::InterimUpdate, 5, 300, 100)])
        .await
        .unwrap();
    let swept = store
        .close_stale_sessions(event_time(21 * 60))
        .await
        .unwrap();
    assert_eq!(swept, [(login, -1)]);
    let stored = || async {
        let history = store
            .session_history("novak", Default::default())
            .await
            .unwrap();
        assert_eq!(history.items.len(), 1, "one session: {:?}", history.items);
        history.items[0].clone()
    };
    assert_eq!(
        stored().await.terminate_cause.as_deref(),
        Some("Lost-Carrier")
    );

    // The NAS is heard again; the writer remembers the session as it was before the sweep.
    let applied = writer
        .apply(&[item(StatusType::InterimUpdate, 30, 1800, 400)])
        .await
        .unwrap();
    assert_eq!(applied.changes, [(login, 1)], "open again");
    assert_eq!(applied.opened, [("bras".to_owned(), "p1".to_owned())]);
    let session = stored().await;
    assert_eq!((session.stopped_at, session.terminate_cause), (None, None));
    assert_eq!(session.input_octets, 400);
    assert_eq!(
        store.open_session_counts_of(&[login]).await.unwrap()[&login],
        1
    );

    // Swept again, and then the NAS's own Stop: its time and cause, not the sweep's.
    store
        .close_stale_sessions(event_time(60 * 60))
        .await
        .unwrap();
    let mut stop = item(StatusType::Stop, 70, 4200, 900);
    stop.record.terminate_cause = Some("User-Request".into());
    let changes = writer.apply(&[stop]).await.unwrap().changes;
    assert!(changes.is_empty(), "closed once: {changes:?}");
    let session = stored().await;
    assert_eq!(
        session.stopped_at.as_deref(),
        Some(&*crate::timestamp(event_time(70 * 60)))
    );
    assert_eq!(session.terminate_cause.as_deref(), Some("User-Request"));
    assert_eq!((session.input_octets, session.session_seconds), (900, 4200));

    // Reported: a later Interim (a NAS bug, a replay) does not reopen it.
    let changes = writer
        .apply(&[item(StatusType::InterimUpdate, 80, 4800, 950)])
        .await
        .unwrap()
        .changes;
    assert!(changes.is_empty(), "a reported stop is final: {changes:?}");
    assert_eq!(
        stored().await.terminate_cause.as_deref(),
        Some("User-Request")
    );
    let day = event_time(0).with_timezone(&chrono::Local).date_naive();
    let usage = store.daily_usage("novak", day, day).await.unwrap();
    assert_eq!(usage[0].input_octets, 950, "every octet counted once");
}

/// Records of novak's session `sid` by the minute: (status, minute, seconds online, octets
/// in); four times as many octets go out.
fn minutes_of(
    login: i64,
    sid: &str,
) -> impl Fn(ispd_provisioning::accounting::StatusType, u32, u64, u64) -> crate::AcctItem + '_ {
    move |status, minute, seconds, input| {
        let second = i64::from(minute) * 60;
        acct_item(login, sid, status, second, seconds, input, input * 4)
    }
}

/// An accounting record of novak's session `sid` from the NAS "bras".
fn acct_item(
    login: i64,
    sid: &str,
    status: ispd_provisioning::accounting::StatusType,
    second: i64,
    seconds: u64,
    input: u64,
    output: u64,
) -> crate::AcctItem {
    use ispd_provisioning::accounting::{AcctRecord, Counters};
    crate::AcctItem {
        nas_name: "bras".into(),
        login_id: Some(login),
        record: AcctRecord {
            status,
            acct_session_id: sid.into(),
            username: "novak".into(),
            login_id: Some(login),
            accepted_at: None,
            framed_ip: None,
            delegated_prefix: None,
            calling_station: None,
            nas_port: None,
            event_time: event_time(second),
            received_at: None,
            session_seconds: seconds,
            counters: Counters {
                input_octets: input,
                output_octets: output,
                input_packets: 0,
                output_packets: 0,
            },
            terminate_cause: None,
        },
    }
}

/// An instance hears the open sessions another instance's accounting announces, and not its
/// own: it counted those itself when it committed them.
pub(super) async fn an_instance_hears_the_others_sessions_not_its_own(store: Store, url: String) {
    use crate::{Heard, OpenSessionsChanged, Partition};
    use ispd_provisioning::accounting::StatusType;
    if store.backend() == Backend::Sqlite {
        // One instance: nothing is announced.
        assert!(store.listen_changes().await.unwrap().is_none());
        return;
    }
    let other = Store::open_instance(&url, 2, sealer(), "ispd-b")
        .await
        .unwrap();
    let sub = subscribed_client(&store, "1001").await.subscription.id;
    let login = |name: &'static str| {
        let store = store.clone();
        async move {
            store
                .create_login(&actor(), ppp_login(name, sub), "pw-123456")
                .await
                .unwrap()
                .login
                .id
        }
    };
    let (novak, dvorak) = (login("novak").await, login("dvorak").await);
    // Listening from here on: the logins' own change-log notices are not heard.
    let mut mine = store.listen_changes().await.unwrap().unwrap();
    let mut theirs = other.listen_changes().await.unwrap().unwrap();
    let partition = Partition { index: 0, count: 1 };
    let start = |login, sid| acct_item(login, sid, StatusType::Start, 0, 0, 0, 0);
    let mut writer = store
        .accounting_writer(partition, Zone::Host)
        .await
        .unwrap();
    writer.apply(&[start(novak, "s1")]).await.unwrap();
    let mut writer = other
        .accounting_writer(partition, Zone::Host)
        .await
        .unwrap();
    writer.apply(&[start(dvorak, "s2")]).await.unwrap();
    // Each hears the other's first: its own, committed before or after, is not delivered.
    let heard = async |listener: &mut crate::ChangeListener| {
        let next = tokio::time::timeout(std::time::Duration::from_secs(10), listener.next());
        next.await.expect("an announcement within 10 s").unwrap()
    };
    assert_eq!(
        heard(&mut mine).await,
        Heard::OpenSessions(OpenSessionsChanged::Logins(vec![dvorak]))
    );
    assert_eq!(
        heard(&mut theirs).await,
        Heard::OpenSessions(OpenSessionsChanged::Logins(vec![novak]))
    );
    other.close().await;
}

/// A Start that arrives late — after the Stop, stamped later than the session's start — at
/// a writer that remembers nothing of the session opens nothing: the stored session decides,
/// not the writer's memory.
pub(super) async fn a_late_start_to_a_writer_that_forgot_the_session_opens_nothing(store: Store) {
    use crate::Partition;
    use ispd_provisioning::accounting::StatusType;
    let login = novak(&store).await;
    let item = minutes_of(login, "s1");
    let partition = Partition { index: 0, count: 1 };
    // Only the Stop arrived: a session of ten minutes, started at minute 0.
    let mut first = store
        .accounting_writer(partition, Zone::Host)
        .await
        .unwrap();
    first
        .apply(&[item(StatusType::Stop, 10, 600, 1500)])
        .await
        .unwrap();
    // Its Start, delayed and stamped two minutes in, at a writer that knows nothing of it.
    let mut fresh = store
        .accounting_writer(partition, Zone::Host)
        .await
        .unwrap();
    let changes = fresh
        .apply(&[item(StatusType::Start, 2, 0, 0)])
        .await
        .unwrap()
        .changes;
    assert!(changes.is_empty(), "nothing opened: {changes:?}");
    let sessions = store
        .session_history("novak", Default::default())
        .await
        .unwrap()
        .items;
    assert_eq!(sessions.len(), 1, "one session: {sessions:?}");
    assert!(sessions[0].stopped_at.is_some(), "still stopped");
    assert_eq!(store.open_session_counts().await.unwrap().get(&login), None);
}

/// Text that means something to SQL or to a PostgreSQL array literal — quotes, backslashes,
/// braces, commas, the word NULL — is stored as the NAS sent it, and found again by a writer
/// that does not remember the sessions, from two NASes in one batch.
pub(super) async fn accounting_text_is_stored_as_sent(store: Store) {
    use crate::Partition;
    use ispd_provisioning::accounting::StatusType;
    let login = novak(&store).await;
    let ids = [
        r#"a"b"#,
        r"back\slash",
        "{braced},comma",
        "NULL",
        " spaced ",
        "Žluťoučký",
    ];
    let nas = |i: usize| {
        if i.is_multiple_of(2) {
            "bras"
        } else {
            r#"nas "two", {b}\"#
        }
    };
    let calling = |i: usize| (!i.is_multiple_of(3)).then(|| format!(r#"{}\"x"#, ids[i]));
    let batch = |status, minute: u32, input: u64| -> Vec<crate::AcctItem> {
        let second = i64::from(minute) * 60;
        (0..ids.len())
            .map(|i| {
                let mut item = acct_item(login, ids[i], status, second, 0, input, input);
                item.nas_name = nas(i).into();
                item.record.calling_station = calling(i);
                item
            })
            .collect()
    };
    let partition = Partition { index: 0, count: 1 };
    let mut first = store
        .accounting_writer(partition, Zone::Host)
        .await
        .unwrap();
    let opened = first
        .apply(&batch(StatusType::Start, 0, 0))
        .await
        .unwrap()
        .changes;
    assert_eq!(opened, vec![(login, 1); ids.len()]);
    let mut fresh = store
        .accounting_writer(partition, Zone::Host)
        .await
        .unwrap();
    let stopped = fresh
        .apply(&batch(StatusType::Stop, 10, 1000))
        .await
        .unwrap()
        .changes;
    assert_eq!(
        stopped,
        vec![(login, -1); ids.len()],
        "each found and stopped"
    );

    let history = store
        .session_history("novak", Default::default())
        .await
        .unwrap();
    let mut stored: Vec<_> = history
        .items
        .iter()
        .map(|s| {
            assert!(s.stopped_at.is_some());
            assert_eq!(s.input_octets, 1000);
            (
                s.nas_name.clone(),
                s.acct_session_id.clone(),
                s.calling_station.clone(),
            )
        })
        .collect();
    let mut sent: Vec<_> = (0..ids.len())
        .map(|i| (nas(i).to_owned(), ids[i].to_owned(), calling(i)))
        .collect();
    stored.sort();
    sent.sort();
    assert_eq!(stored, sent);
}

/// A NAS that reuses an Acct-Session-Id for another user: the first user's Stop and the
/// second's Start in one batch are both stored, and a record of the first user's session
/// that arrives after the second's Start (delayed, retransmitted) is that first session's
/// news — it neither closes the second user's session nor counts the first's traffic again.
pub(super) async fn a_late_record_of_the_earlier_user_of_a_reused_id_is_that_users(store: Store) {
    use crate::Partition;
    use ispd_provisioning::accounting::StatusType;
    let novak = novak(&store).await;
    let sub = subscribed_client(&store, "1002").await.subscription.id;
    let dvorak = store
        .create_login(&actor(), ppp_login("dvorak", sub), "pw-123456")
        .await
        .unwrap()
        .login
        .id;
    let of_novak = minutes_of(novak, "r1");
    let of_dvorak = |status, minute: i64, seconds, input| {
        let mut item = acct_item(dvorak, "r1", status, minute * 60, seconds, input, input * 4);
        item.record.username = "dvorak".into();
        item
    };
    let partition = Partition { index: 0, count: 1 };
    let mut writer = store
        .accounting_writer(partition, Zone::Host)
        .await
        .unwrap();
    writer
        .apply(&[
            of_novak(StatusType::Start, 0, 0, 0),
            of_novak(StatusType::InterimUpdate, 5, 300, 1000),
        ])
        .await
        .unwrap();
    // novak's Stop and dvorak's Start under the same id, one batch.
    writer
        .apply(&[
            of_novak(StatusType::Stop, 10, 600, 1500),
            of_dvorak(StatusType::Start, 10, 0, 0),
        ])
        .await
        .unwrap();
    let open = || async {
        let open = store
            .open_sessions(&Default::default(), Default::default())
            .await
            .unwrap();
        open.items
            .iter()
            .map(|s| s.username.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(open().await, ["dvorak"]);
    let day = event_time(0).with_timezone(&chrono::Local).date_naive();
    let used = |name: &'static str| {
        let store = store.clone();
        async move {
            let usage = store.daily_usage(name, day, day).await.unwrap();
            usage.iter().map(|u| u.input_octets).sum::<i64>()
        }
    };
    assert_eq!(used("novak").await, 1500);

    // dvorak's session ends unheard; novak gets the id again (its Start lost), then dvorak's
    // Stop arrives late: dvorak's session, not novak's, and counted once.
    writer
        .apply(&[of_dvorak(StatusType::InterimUpdate, 15, 300, 700)])
        .await
        .unwrap();
    writer
        .apply(&[of_novak(StatusType::InterimUpdate, 40, 600, 200)])
        .await
        .unwrap();
    assert_eq!(open().await, ["novak"]);
    let changes = writer
        .apply(&[of_dvorak(StatusType::Stop, 20, 600, 900)])
        .await
        .unwrap()
        .changes;
    assert!(changes.is_empty(), "no open session changes: {changes:?}");
    assert_eq!(open().await, ["novak"], "novak's session stays open");
    assert_eq!(used("dvorak").await, 900, "dvorak's traffic once");
    assert_eq!(used("novak").await, 1700);
    let history = store
        .session_history("dvorak", Default::default())
        .await
        .unwrap();
    assert_eq!(history.items.len(), 1, "{:?}", history.items);
    assert_eq!(
        history.items[0].stopped_at.as_deref(),
        Some(&*crate::timestamp(event_time(20 * 60)))
    );
}

//! The RADIUS side: access rows and accounting batches.

use crate::testkit::fixtures::*;

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
}

pub(super) async fn accounting_batches_store_sessions_once(store: Store) {
    use crate::{AcctItem, Partition, SessionMemory};
    use ispd_provisioning::accounting::{AcctRecord, Counters, StatusType};
    let sub = subscribed_client(&store, "1001").await.subscription.id;
    let login = store
        .create_login(&actor(), ppp_login("novak", sub), "pw-123456")
        .await
        .unwrap()
        .login
        .id;
    let at = |minute: u32| {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 24)
            .unwrap()
            .and_hms_opt(10, minute, 0)
            .unwrap()
            .and_utc()
    };
    let item = |status, minute, seconds: u64, input: u64| AcctItem {
        nas_name: "bras".into(),
        login_id: Some(login),
        record: AcctRecord {
            status,
            acct_session_id: "s1".into(),
            username: "novak".into(),
            login_id: Some(login),
            accepted_at: None,
            framed_ip: None,
            calling_station: None,
            nas_port: None,
            event_time: at(minute),
            session_seconds: seconds,
            counters: Counters {
                input_octets: input,
                output_octets: input * 4,
                input_packets: 0,
                output_packets: 0,
            },
            terminate_cause: None,
        },
    };
    let partition = Partition { index: 0, count: 1 };
    let mut memory = SessionMemory::new(partition);
    // Start and Interim in one batch, the Interim retransmitted in the next batch, then a
    // Stop from a writer that remembers nothing (as after a restart).
    let changes = store
        .apply_accounting(
            &[
                item(StatusType::Start, 0, 0, 0),
                item(StatusType::InterimUpdate, 5, 300, 1000),
            ],
            &mut memory,
        )
        .await
        .unwrap();
    assert_eq!(changes, [(login, 1)]);
    store
        .apply_accounting(
            &[item(StatusType::InterimUpdate, 5, 300, 1000)],
            &mut memory,
        )
        .await
        .unwrap();
    let mut fresh = SessionMemory::new(partition);
    let changes = store
        .apply_accounting(&[item(StatusType::Stop, 10, 600, 1500)], &mut fresh)
        .await
        .unwrap();
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
    let day = at(0).with_timezone(&chrono::Local).date_naive();
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
    store.apply_accounting(&[start], &mut memory).await.unwrap();
    let mut on = item(StatusType::AccountingOn, 30, 0, 0);
    on.record.acct_session_id.clear();
    let changes = store.apply_accounting(&[on], &mut memory).await.unwrap();
    assert_eq!(changes, [(login, -1)]);
    assert_eq!(store.open_session_counts().await.unwrap().get(&login), None);
}

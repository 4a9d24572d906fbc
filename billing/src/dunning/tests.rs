use super::*;
use proptest::prelude::*;
use rust_decimal::Decimal;

/// Days of 2026, March 1 = day 1, so "due + N" reads as `day(1 + N)`.
fn day(n: u32) -> NaiveDate {
    add_days(NaiveDate::from_ymd_opt(2026, 2, 28).unwrap(), n)
}

fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn invoice(id: i64, due: u32, total: &str, paid: &str) -> OpenInvoice {
    OpenInvoice {
        id,
        number: format!("F{id}"),
        issue_date: day(1),
        due_date: day(due),
        total: dec(total),
        paid: dec(paid),
    }
}

/// The manuals' example: suspend after 14 days when at least 1.00 is overdue.
fn settings() -> DunningSettings {
    DunningSettings {
        suspend_days_after_due: 14,
        ..DunningSettings::default()
    }
}

// --- suspension: the table -----------------------------------------------------------------

struct Case {
    name: &'static str,
    settings: fn(&mut DunningSettings),
    state: ClientDunningState,
    invoices: Vec<OpenInvoice>,
    suspended: bool,
    today: u32,
    want: AccessDecision,
}

fn case(name: &'static str) -> Case {
    Case {
        name,
        settings: |_| {},
        state: ClientDunningState::default(),
        invoices: vec![invoice(1, 1, "500", "0")],
        suspended: false,
        today: 16,
        want: AccessDecision::Keep,
    }
}

fn suspend(overdue: &str, oldest_due: u32) -> AccessDecision {
    AccessDecision::Suspend {
        overdue: dec(overdue),
        oldest_due: day(oldest_due),
    }
}

#[test]
fn the_reason_names_each_counted_invoice() {
    let settings = DunningSettings::default();
    let invoices = [
        invoice(2, 10, "300", "0"),
        invoice(1, 1, "500", "200"),
        invoice(3, 30, "100", "0"),
    ];
    // Day 33: invoice 1 is 32 days overdue, invoice 2 is 23; invoice 3 only 3.
    let reason = suspension_reason(
        &settings,
        &ClientDunningState::default(),
        &invoices,
        day(33),
    );
    let summary: Vec<_> = reason
        .iter()
        .map(|r| (r.number.as_str(), r.open, r.days_overdue))
        .collect();
    assert_eq!(summary, [("F1", dec("300"), 32), ("F2", dec("300"), 23)]);
}

fn own_grace(days: u32) -> ClientDunningState {
    ClientDunningState {
        suspend_days_after_due: Some(days),
        ..ClientDunningState::default()
    }
}

fn with_sent(reminders_sent: Vec<SentReminder>) -> ClientDunningState {
    ClientDunningState {
        reminders_sent,
        ..ClientDunningState::default()
    }
}

fn final_notice_on(s: &mut DunningSettings) {
    s.levels.last_mut().unwrap().final_notice = true;
}

#[test]
fn access_decision_table() {
    use AccessDecision::{Keep, Restore};
    let paused = ClientDunningState {
        paused_until: Some(day(200)),
        ..ClientDunningState::default()
    };
    let stopped_no_letters = ClientDunningState {
        stopped: true,
        no_auto_reminders: true,
        ..ClientDunningState::default()
    };
    let never = ClientDunningState {
        never_suspend: true,
        ..ClientDunningState::default()
    };
    let cases = [
        // Grace boundary: due on day 1, grace 14.
        Case {
            today: 15,
            want: Keep,
            ..case("exactly N days overdue: still within grace")
        },
        Case {
            today: 16,
            want: suspend("500", 1),
            ..case("N + 1 days overdue: suspend")
        },
        Case {
            today: 1,
            want: Keep,
            ..case("on the due date")
        },
        Case {
            settings: |s| s.suspend_days_after_due = 0,
            today: 1,
            want: Keep,
            ..case("grace 0: not on the due date")
        },
        Case {
            settings: |s| s.suspend_days_after_due = 0,
            today: 2,
            want: suspend("500", 1),
            ..case("grace 0: the day after")
        },
        Case {
            suspended: true,
            want: Keep,
            ..case("already suspended: keep")
        },
        Case {
            suspended: true,
            today: 15,
            want: Restore,
            ..case("suspended but within grace (due date moved): restore")
        },
        // Minimum amount.
        Case {
            invoices: vec![invoice(1, 1, "0.99", "0")],
            want: Keep,
            ..case("0.99 overdue, minimum 1.00")
        },
        Case {
            invoices: vec![invoice(1, 1, "1.00", "0")],
            want: suspend("1.00", 1),
            ..case("exactly the minimum")
        },
        Case {
            invoices: vec![invoice(1, 1, "0.99", "0")],
            suspended: true,
            want: Restore,
            ..case("suspended, below the minimum")
        },
        Case {
            settings: |s| s.suspend_min_amount = Decimal::ZERO,
            invoices: vec![],
            want: Keep,
            ..case("minimum 0 and no debt: nothing to suspend for")
        },
        Case {
            settings: |s| s.suspend_min_amount = Decimal::ZERO,
            invoices: vec![invoice(1, 1, "0.01", "0")],
            want: suspend("0.01", 1),
            ..case("minimum 0: any overdue amount")
        },
        // Client and global switches.
        Case {
            state: never.clone(),
            want: Keep,
            ..case("never_suspend")
        },
        Case {
            state: never,
            suspended: true,
            want: Restore,
            ..case("never_suspend set while suspended")
        },
        Case {
            settings: |s| s.suspend_enabled = false,
            want: Keep,
            ..case("suspension disabled")
        },
        Case {
            settings: |s| s.suspend_enabled = false,
            suspended: true,
            want: Restore,
            ..case("suspension disabled while suspended")
        },
        // Payments.
        Case {
            invoices: vec![invoice(1, 1, "500", "499.50")],
            suspended: true,
            want: Restore,
            ..case("partial payment drops below the minimum")
        },
        Case {
            invoices: vec![invoice(1, 1, "500", "400")],
            suspended: true,
            want: Keep,
            ..case("partial payment still above the minimum")
        },
        Case {
            invoices: vec![invoice(1, 1, "500", "400")],
            want: suspend("100", 1),
            ..case("the open rest counts, not the total")
        },
        Case {
            invoices: vec![invoice(1, 1, "500", "500")],
            suspended: true,
            want: Restore,
            ..case("paid in full")
        },
        Case {
            invoices: vec![invoice(1, 1, "500", "600")],
            want: Keep,
            ..case("overpaid invoice")
        },
        Case {
            invoices: vec![],
            suspended: true,
            want: Restore,
            ..case("no invoices")
        },
        // Dunning switches do not stop suspension.
        Case {
            state: paused,
            want: suspend("500", 1),
            ..case("paused dunning")
        },
        Case {
            state: stopped_no_letters,
            want: suspend("500", 1),
            ..case("stopped dunning, no automatic reminders")
        },
        // Several invoices.
        Case {
            invoices: vec![invoice(2, 3, "0.60", "0"), invoice(1, 1, "0.60", "0")],
            today: 18,
            want: suspend("1.20", 1),
            ..case("several small invoices summed")
        },
        Case {
            invoices: vec![invoice(1, 1, "0.60", "0"), invoice(2, 3, "5000", "0")],
            want: Keep,
            ..case("only invoices past the grace count")
        },
        Case {
            invoices: vec![
                invoice(1, 1, "300", "0"),
                invoice(2, 2, "300", "300"),
                invoice(3, 0, "200", "150"),
                invoice(4, 10, "999", "0"),
            ],
            today: 16,
            want: suspend("350", 0),
            ..case("paid and not-yet-counted invoices are left out")
        },
        // The client card's own grace days (global 14 here).
        Case {
            state: own_grace(60),
            today: 31,
            want: Keep,
            ..case("own 60 days: kept at day 30")
        },
        Case {
            state: own_grace(60),
            today: 62,
            want: suspend("500", 1),
            ..case("own 60 days: suspended the day after day 60")
        },
        Case {
            state: own_grace(0),
            today: 2,
            want: suspend("500", 1),
            ..case("own 0 days: the day after the due date")
        },
        Case {
            state: own_grace(60),
            suspended: true,
            today: 31,
            want: Restore,
            ..case("own days raised while suspended")
        },
        // Final notice (level 2, the last one): suspension waits for its deadline.
        Case {
            settings: final_notice_on,
            today: 30,
            want: Keep,
            ..case("final notice configured, none sent")
        },
        Case {
            settings: final_notice_on,
            state: with_sent(vec![sent(1, 1, 15)]),
            today: 30,
            want: Keep,
            ..case("only the first reminder sent")
        },
        Case {
            settings: final_notice_on,
            state: with_sent(vec![sent(1, 1, 15), sent(1, 2, 22)]),
            today: 22,
            want: Keep,
            ..case("final notice: on its deadline")
        },
        Case {
            settings: final_notice_on,
            state: with_sent(vec![sent(1, 1, 15), sent(1, 2, 22)]),
            today: 23,
            want: suspend("500", 1),
            ..case("final notice: the day after its deadline")
        },
        Case {
            settings: final_notice_on,
            state: with_sent(vec![sent(1, 2, 10)]),
            today: 15,
            want: Keep,
            ..case("final notice expired, still within the grace days")
        },
        Case {
            settings: final_notice_on,
            state: with_sent(vec![sent(1, 2, 22)]),
            invoices: vec![invoice(1, 1, "500", "500")],
            suspended: true,
            today: 30,
            want: Restore,
            ..case("paid after the final notice")
        },
        Case {
            settings: final_notice_on,
            state: with_sent(vec![sent(1, 2, 22)]),
            invoices: vec![invoice(1, 1, "500", "500"), invoice(2, 5, "500", "0")],
            today: 30,
            want: Keep,
            ..case("the noticed invoice is paid, the newer one had no final notice")
        },
        Case {
            settings: final_notice_on,
            state: with_sent(vec![sent(2, 2, 22)]),
            invoices: vec![invoice(1, 1, "500", "0"), invoice(2, 5, "500", "0")],
            today: 30,
            want: suspend("1000", 1),
            ..case("a final notice for one counted invoice suspends for all of them")
        },
        Case {
            settings: final_notice_on,
            suspended: true,
            today: 30,
            want: Restore,
            ..case("suspended, then a final notice configured: none sent")
        },
        Case {
            settings: final_notice_on,
            state: ClientDunningState {
                never_suspend: true,
                ..with_sent(vec![sent(1, 2, 22)])
            },
            today: 30,
            want: Keep,
            ..case("final notice expired, never_suspend")
        },
        Case {
            settings: final_notice_on,
            state: ClientDunningState {
                suspend_days_after_due: Some(60),
                ..with_sent(vec![sent(1, 2, 22)])
            },
            today: 31,
            want: Keep,
            ..case("final notice expired, own 60 days not yet")
        },
        Case {
            settings: final_notice_on,
            state: ClientDunningState {
                stopped: true,
                ..with_sent(vec![sent(1, 2, 22)])
            },
            today: 30,
            want: suspend("500", 1),
            ..case("dunning stopped after the final notice: suspension goes ahead")
        },
        Case {
            settings: final_notice_on,
            state: with_sent(vec![sent(1, 2, 22)]),
            invoices: vec![invoice(1, 1, "500", "499.50")],
            suspended: true,
            today: 30,
            want: Restore,
            ..case("final notice expired, a payment drops below the minimum")
        },
    ];
    for c in cases {
        let mut settings = settings();
        (c.settings)(&mut settings);
        let got = access_decision(&settings, &c.state, &c.invoices, c.suspended, day(c.today));
        assert_eq!(got, c.want, "{}", c.name);
        // Idempotent: the same inputs, the same answer.
        let again = access_decision(&settings, &c.state, &c.invoices, c.suspended, day(c.today));
        assert_eq!(again, got, "{} (again)", c.name);
    }
}

#[test]
fn a_payment_restores_the_moment_it_is_matched() {
    let s = settings();
    let state = ClientDunningState::default();
    let mut invoices = vec![invoice(1, 1, "500", "0")];
    assert_eq!(
        access_decision(&s, &state, &invoices, false, day(16)),
        suspend("500", 1)
    );
    assert_eq!(
        access_decision(&s, &state, &invoices, true, day(17)),
        AccessDecision::Keep
    );
    let allocation = crate::payment::allocate(dec("500"), &invoices, Decimal::ZERO).unwrap();
    for (id, part) in allocation.to_invoices {
        invoices.iter_mut().find(|i| i.id == id).unwrap().paid += part;
    }
    assert_eq!(
        access_decision(&s, &state, &invoices, true, day(17)),
        AccessDecision::Restore
    );
    assert_eq!(
        access_decision(&s, &state, &invoices, false, day(17)),
        AccessDecision::Keep
    );
}

// --- reminders -----------------------------------------------------------------------------

fn reminder(invoice_id: i64, level: u8, today: u32) -> ReminderDue {
    ReminderDue {
        invoice_id,
        level,
        deadline: day(today + 7),
        fee: None,
        final_notice: false,
    }
}

/// A reminder of `level` for `invoice` that asked for payment by `deadline`.
fn sent(invoice_id: i64, level: u8, deadline: u32) -> SentReminder {
    SentReminder {
        invoice_id,
        level,
        deadline: day(deadline),
    }
}

fn record(state: &mut ClientDunningState, due: &[ReminderDue]) {
    state
        .reminders_sent
        .extend(due.iter().map(|r| SentReminder {
            invoice_id: r.invoice_id,
            level: r.level,
            deadline: r.deadline,
        }));
}

#[test]
fn first_reminder_on_day_seven() {
    let s = settings();
    let state = ClientDunningState::default();
    let invoices = [invoice(1, 1, "500", "0")];
    assert!(reminders_due(&s, &state, &invoices, day(7)).is_empty());
    assert_eq!(
        reminders_due(&s, &state, &invoices, day(8)),
        vec![reminder(1, 1, 8)]
    );
}

#[test]
fn levels_in_order_once_each() {
    let s = settings();
    let mut state = ClientDunningState::default();
    let invoices = [invoice(1, 1, "500", "0"), invoice(2, 5, "100", "0")];
    let mut sent = Vec::new();
    for today in 1..=80 {
        let due = reminders_due(&s, &state, &invoices, day(today));
        for r in &due {
            assert_eq!(r.deadline, day(today + 7));
            sent.push((today, r.invoice_id, r.level));
        }
        record(&mut state, &due);
    }
    assert_eq!(sent, vec![(8, 1, 1), (12, 2, 1), (15, 1, 2), (19, 2, 2)]);
}

#[test]
fn a_late_sweep_sends_one_level_per_run() {
    let s = settings();
    let mut state = ClientDunningState::default();
    let invoices = [invoice(1, 1, "500", "0")];
    assert_eq!(
        reminders_due(&s, &state, &invoices, day(40)),
        vec![reminder(1, 1, 40)]
    );
    state.reminders_sent.push(sent(1, 1, 47));
    assert_eq!(
        reminders_due(&s, &state, &invoices, day(41)),
        vec![reminder(1, 2, 41)]
    );
    state.reminders_sent.push(sent(1, 2, 48));
    assert!(reminders_due(&s, &state, &invoices, day(42)).is_empty());
}

#[test]
fn a_higher_level_sent_by_hand_is_not_followed_by_a_lower_one() {
    let s = settings();
    let state = ClientDunningState {
        reminders_sent: vec![sent(1, 2, 37)],
        ..ClientDunningState::default()
    };
    assert!(reminders_due(&s, &state, &[invoice(1, 1, "500", "0")], day(30)).is_empty());
    // Another invoice's history does not count.
    assert_eq!(
        reminders_due(&s, &state, &[invoice(3, 1, "500", "0")], day(30)),
        vec![reminder(3, 1, 30)]
    );
}

#[test]
fn held_reminders() {
    let s = settings();
    let invoices = [invoice(1, 1, "500", "0")];
    let due =
        |state: ClientDunningState, today: u32| reminders_due(&s, &state, &invoices, day(today));
    let none = ClientDunningState::default;
    assert!(
        due(
            ClientDunningState {
                no_auto_reminders: true,
                ..none()
            },
            20
        )
        .is_empty()
    );
    assert!(
        due(
            ClientDunningState {
                stopped: true,
                ..none()
            },
            20
        )
        .is_empty()
    );
    let paused = ClientDunningState {
        paused_until: Some(day(25)),
        ..none()
    };
    assert!(due(paused.clone(), 24).is_empty());
    assert_eq!(due(paused, 25), vec![reminder(1, 1, 25)]);
    // never_suspend is about access, not letters.
    assert_eq!(
        due(
            ClientDunningState {
                never_suspend: true,
                ..none()
            },
            20
        ),
        vec![reminder(1, 1, 20)]
    );
}

#[test]
fn paid_invoices_get_no_reminder() {
    let s = settings();
    let state = ClientDunningState::default();
    let invoices = [
        invoice(1, 1, "500", "500"),
        invoice(2, 1, "500", "700"),
        invoice(3, 1, "500", "499"),
    ];
    assert_eq!(
        reminders_due(&s, &state, &invoices, day(10)),
        vec![reminder(3, 1, 10)]
    );
}

#[test]
fn level_settings_are_honoured() {
    let s = DunningSettings {
        levels: vec![
            ReminderLevel {
                level: 2,
                days_after_due: 30,
                deadline_days: 3,
                fee: Some(dec("100")),
                final_notice: true,
            },
            ReminderLevel {
                level: 1,
                days_after_due: 3,
                deadline_days: 10,
                fee: Some(dec("50")),
                final_notice: false,
            },
        ],
        ..settings()
    };
    let mut state = ClientDunningState::default();
    let invoices = [invoice(1, 1, "500", "0")];
    assert_eq!(
        reminders_due(&s, &state, &invoices, day(4)),
        vec![ReminderDue {
            invoice_id: 1,
            level: 1,
            deadline: day(14),
            fee: Some(dec("50")),
            final_notice: false,
        }]
    );
    state.reminders_sent.push(sent(1, 1, 14));
    assert!(reminders_due(&s, &state, &invoices, day(30)).is_empty());
    assert_eq!(
        reminders_due(&s, &state, &invoices, day(31)),
        vec![ReminderDue {
            invoice_id: 1,
            level: 2,
            deadline: day(34),
            fee: Some(dec("100")),
            final_notice: true,
        }]
    );
    // No levels configured: no reminders.
    let silent = DunningSettings {
        levels: vec![],
        ..settings()
    };
    assert!(reminders_due(&silent, &ClientDunningState::default(), &invoices, day(60)).is_empty());
}

#[test]
fn fees_and_final_notices_travel_with_the_reminder() {
    let mut s = settings();
    s.levels[0].fee = Some(Decimal::ZERO);
    s.levels[1].fee = Some(dec("50.00"));
    final_notice_on(&mut s);
    let mut state = ClientDunningState::default();
    let invoices = [invoice(1, 1, "500", "0")];
    let first = reminders_due(&s, &state, &invoices, day(8));
    assert_eq!(first, vec![reminder(1, 1, 8)], "a zero fee charges none");
    assert_eq!(fee_line(&first[0], "F1"), None);
    record(&mut state, &first);
    let last = reminders_due(&s, &state, &invoices, day(15));
    assert_eq!(
        last,
        vec![ReminderDue {
            fee: Some(dec("50.00")),
            final_notice: true,
            ..reminder(1, 2, 15)
        }]
    );
    let line = fee_line(&last[0], "202600001").unwrap();
    assert_eq!(
        line.description,
        "Reminder fee (level 2, invoice 202600001)"
    );
    assert_eq!(
        (line.quantity, line.unit_price, line.vat_rate),
        (Decimal::ONE, dec("50.00"), Decimal::ZERO)
    );
    assert_eq!(
        (line.net, line.vat, line.gross),
        (dec("50.00"), dec("0"), dec("50.00"))
    );
    // The notice's deadline passed and the debt is past the grace: suspended.
    record(&mut state, &last);
    assert_eq!(
        access_decision(&s, &state, &invoices, false, day(22)),
        AccessDecision::Keep
    );
    assert_eq!(
        access_decision(&s, &state, &invoices, false, day(23)),
        suspend("500", 1)
    );
}

#[test]
fn a_level_of_zero_days_waits_until_the_invoice_is_overdue() {
    let s = DunningSettings {
        levels: vec![ReminderLevel {
            level: 1,
            days_after_due: 0,
            deadline_days: 0,
            fee: None,
            final_notice: false,
        }],
        ..settings()
    };
    let state = ClientDunningState::default();
    let invoices = [invoice(1, 5, "1", "0")];
    assert!(reminders_due(&s, &state, &invoices, day(5)).is_empty());
    assert_eq!(reminders_due(&s, &state, &invoices, day(6)).len(), 1);
}

// --- settings ------------------------------------------------------------------------------

#[test]
fn defaults_are_consistent() {
    let s = DunningSettings::default();
    assert_eq!(s.validate(), Ok(()));
    assert!(s.suspend_enabled);
    assert_eq!(s.suspend_min_amount, dec("1.00"));
    let last = s.levels.iter().max_by_key(|l| l.level).unwrap();
    // Nobody is suspended before the last reminder's deadline has passed.
    assert_eq!(
        s.suspend_days_after_due,
        last.days_after_due + last.deadline_days
    );
}

#[test]
fn settings_rules() {
    let refused = |edit: fn(&mut DunningSettings)| {
        let mut s = DunningSettings::default();
        edit(&mut s);
        s.validate().unwrap_err().field
    };
    assert_eq!(refused(|s| s.levels[0].level = 0), "dunning.level[0].level");
    assert_eq!(refused(|s| s.levels[1].level = 1), "dunning.level[1].level");
    assert_eq!(
        refused(|s| s.levels[1].days_after_due = 7),
        "dunning.level[1].days_after_due"
    );
    assert_eq!(
        refused(|s| s.levels[0].days_after_due = 0),
        "dunning.level[0].days_after_due"
    );
    assert_eq!(
        refused(|s| s.levels[0].fee = Some(Decimal::NEGATIVE_ONE)),
        "dunning.level[0].fee"
    );
    assert_eq!(
        refused(|s| s.levels[0].fee = Some(dec("0.001"))),
        "dunning.level[0].fee"
    );
    assert_eq!(
        refused(|s| s.suspend_min_amount = dec("-1")),
        "dunning.suspend_min_amount"
    );
    assert_eq!(
        refused(|s| s.levels[0].final_notice = true),
        "dunning.level[0].final_notice"
    );
    let mut s = DunningSettings::default();
    s.levels.reverse();
    assert_eq!(s.validate(), Ok(()));
    assert_eq!(s.final_notice_level(), None);
    // Listed first but numbered last: the final notice is allowed there.
    s.levels[0].final_notice = true;
    assert_eq!(s.validate(), Ok(()));
    assert_eq!(s.final_notice_level(), Some(2));
}

#[test]
fn state_from_the_client_card() {
    let invoicing = Invoicing {
        no_auto_reminders: true,
        never_suspend: true,
        suspend_after_days: Some(45),
        ..Invoicing::default()
    };
    let state = ClientDunningState::for_client(&invoicing);
    assert!(state.no_auto_reminders && state.never_suspend && !state.stopped);
    assert_eq!(state.grace_days(&DunningSettings::default()), 45);
    assert_eq!(
        ClientDunningState::default().grace_days(&DunningSettings::default()),
        21
    );
    assert!(ClientDunningState::for_client(&Invoicing::default()) == ClientDunningState::default());
}

// --- properties ----------------------------------------------------------------------------

fn invoices() -> impl Strategy<Value = Vec<OpenInvoice>> {
    proptest::collection::vec((1u32..60, 0i64..2_000, 0i64..2_500), 0..6).prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(|(i, (due, total, paid))| OpenInvoice {
                id: i as i64 + 1,
                number: String::new(),
                issue_date: day(1),
                due_date: day(due),
                total: Decimal::new(total, 2),
                paid: Decimal::new(paid.min(total + 100), 2),
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn carrying_out_a_decision_leaves_nothing_to_do(
        invoices in invoices(),
        suspended: bool,
        enabled: bool,
        never_suspend: bool,
        paused: bool,
        grace in 0u32..30,
        own_grace in proptest::option::of(0u32..30),
        final_notice: bool,
        noticed in proptest::collection::vec((1i64..7, 1u32..90), 0..4),
        min in 0i64..1_500,
        today in 1u32..90,
    ) {
        let mut settings = DunningSettings {
            suspend_enabled: enabled,
            suspend_min_amount: Decimal::new(min, 2),
            suspend_days_after_due: grace,
            ..DunningSettings::default()
        };
        settings.levels[1].final_notice = final_notice;
        let state = ClientDunningState {
            never_suspend,
            paused_until: paused.then(|| day(today + 1)),
            suspend_days_after_due: own_grace,
            reminders_sent: noticed.iter().map(|&(id, deadline)| sent(id, 2, deadline)).collect(),
            ..ClientDunningState::default()
        };
        let grace = own_grace.unwrap_or(grace);
        let decision = access_decision(&settings, &state, &invoices, suspended, day(today));
        let now_suspended = match &decision {
            AccessDecision::Suspend { overdue, oldest_due } => {
                prop_assert!(!suspended && enabled && !never_suspend);
                prop_assert!(*overdue >= settings.suspend_min_amount);
                prop_assert!(*overdue > Decimal::ZERO);
                prop_assert!((day(today) - *oldest_due).num_days() > i64::from(grace));
                if final_notice {
                    let expired_notice_on_counted_invoice =
                        noticed.iter().any(|&(id, deadline)| {
                            day(deadline) < day(today)
                                && invoices.iter().any(|i| {
                                    i.id == id
                                        && i.open_amount() > Decimal::ZERO
                                        && (day(today) - i.due_date).num_days()
                                            > i64::from(grace)
                                })
                        });
                    prop_assert!(expired_notice_on_counted_invoice);
                }
                true
            }
            AccessDecision::Restore => {
                prop_assert!(suspended);
                false
            }
            AccessDecision::Keep => suspended,
        };
        prop_assert_eq!(
            access_decision(&settings, &state, &invoices, now_suspended, day(today)),
            AccessDecision::Keep
        );
        // Pausing dunning never changes the decision.
        let unpaused = ClientDunningState { paused_until: None, ..state.clone() };
        prop_assert_eq!(
            access_decision(&settings, &unpaused, &invoices, suspended, day(today)),
            decision
        );
    }

    #[test]
    fn each_level_once_and_in_order(invoices in invoices(), start in 1u32..40) {
        let settings = DunningSettings::default();
        let mut state = ClientDunningState::default();
        for today in start..start + 80 {
            let due = reminders_due(&settings, &state, &invoices, day(today));
            for r in &due {
                let invoice = invoices.iter().find(|i| i.id == r.invoice_id).unwrap();
                prop_assert!(invoice.open_amount() > Decimal::ZERO);
                let level = settings.levels.iter().find(|l| l.level == r.level).unwrap();
                prop_assert!(
                    (day(today) - invoice.due_date).num_days()
                        >= i64::from(level.days_after_due)
                );
                prop_assert_eq!(due.iter().filter(|o| o.invoice_id == r.invoice_id).count(), 1);
            }
            record(&mut state, &due);
        }
        for invoice in &invoices {
            let levels: Vec<u8> = state
                .reminders_sent
                .iter()
                .filter(|sent| sent.invoice_id == invoice.id)
                .map(|sent| sent.level)
                .collect();
            let want: Vec<u8> = if invoice.open_amount() > Decimal::ZERO { vec![1, 2] } else { vec![] };
            prop_assert_eq!(levels, want);
        }
    }
}

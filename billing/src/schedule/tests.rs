use super::*;
use proptest::prelude::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn terms(billing_from: NaiveDate, period: Period, alignment: Alignment) -> ChargeTerms {
    ChargeTerms {
        billing_from,
        end: None,
        period,
        alignment,
        unbilled: Vec::new(),
        price_changes: Vec::new(),
        periods_before: Vec::new(),
        commitment_until: None,
        restarts: Vec::new(),
    }
}

/// (from, to, charged_days, period_days, fraction) for compact tables.
fn summary(charges: &[Charge]) -> Vec<(NaiveDate, NaiveDate, u32, u32, Decimal)> {
    charges
        .iter()
        .map(|c| (c.from, c.to, c.charged_days, c.period_days, c.fraction))
        .collect()
}

#[test]
fn periods_by_alignment() {
    use Alignment::{BillingDay, Floating};
    use Period::*;
    let anchor = d(2026, 1, 31);
    for (date, period, alignment, want) in [
        // Billing day 1: calendar months, quarters, halves, years.
        (
            d(2026, 11, 10),
            Monthly,
            BillingDay(1),
            (d(2026, 11, 1), d(2026, 11, 30)),
        ),
        (
            d(2026, 11, 10),
            Quarterly,
            BillingDay(1),
            (d(2026, 10, 1), d(2026, 12, 31)),
        ),
        (
            d(2026, 11, 10),
            HalfYearly,
            BillingDay(1),
            (d(2026, 7, 1), d(2026, 12, 31)),
        ),
        (
            d(2026, 11, 10),
            Yearly,
            BillingDay(1),
            (d(2026, 1, 1), d(2026, 12, 31)),
        ),
        // Billing day 15: the manual's 15.11.-14.12.
        (
            d(2026, 11, 15),
            Monthly,
            BillingDay(15),
            (d(2026, 11, 15), d(2026, 12, 14)),
        ),
        (
            d(2026, 12, 14),
            Monthly,
            BillingDay(15),
            (d(2026, 11, 15), d(2026, 12, 14)),
        ),
        (
            d(2026, 11, 14),
            Monthly,
            BillingDay(15),
            (d(2026, 10, 15), d(2026, 11, 14)),
        ),
        (
            d(2027, 1, 10),
            Quarterly,
            BillingDay(15),
            (d(2026, 10, 15), d(2027, 1, 14)),
        ),
        (
            d(2026, 2, 28),
            Monthly,
            BillingDay(28),
            (d(2026, 2, 28), d(2026, 3, 27)),
        ),
        // Floating from the 31st: clamped in short months, back on the 31st after them.
        (
            d(2026, 2, 27),
            Monthly,
            Floating,
            (d(2026, 1, 31), d(2026, 2, 27)),
        ),
        (
            d(2026, 2, 28),
            Monthly,
            Floating,
            (d(2026, 2, 28), d(2026, 3, 30)),
        ),
        (
            d(2026, 3, 31),
            Monthly,
            Floating,
            (d(2026, 3, 31), d(2026, 4, 29)),
        ),
        (
            d(2026, 6, 1),
            Quarterly,
            Floating,
            (d(2026, 4, 30), d(2026, 7, 30)),
        ),
        (
            d(2025, 12, 31),
            Monthly,
            Floating,
            (d(2025, 12, 31), d(2026, 1, 30)),
        ),
        // A one-off charge has no periods: the day itself.
        (
            d(2026, 11, 10),
            OneOff,
            BillingDay(1),
            (d(2026, 11, 10), d(2026, 11, 10)),
        ),
    ] {
        assert_eq!(
            period_containing(date, period, alignment, anchor),
            want,
            "{date} {period:?} {alignment:?}"
        );
    }
}

#[test]
fn due_charges_from_the_manuals() {
    use Alignment::{BillingDay, Floating};
    use Period::*;
    let nov10 = d(2026, 11, 10);
    let cases: Vec<(&str, ChargeTerms, NaiveDate, Vec<_>)> = vec![
        (
            "activated mid-month, billing day 1: 21/30 of November, then December",
            terms(nov10, Monthly, BillingDay(1)),
            d(2026, 12, 1),
            vec![
                (nov10, d(2026, 11, 30), 21, 30, dec("0.7")),
                (d(2026, 12, 1), d(2026, 12, 31), 31, 31, dec("1")),
            ],
        ),
        (
            "billing day 15: 5 days of the period 15.10.-14.11.",
            terms(nov10, Monthly, BillingDay(15)),
            d(2026, 11, 20),
            vec![
                (nov10, d(2026, 11, 14), 5, 31, dec("0.161290")),
                (d(2026, 11, 15), d(2026, 12, 14), 30, 30, dec("1")),
            ],
        ),
        (
            "floating: whole periods from billing-from",
            terms(nov10, Monthly, Floating),
            d(2026, 12, 10),
            vec![
                (nov10, d(2026, 12, 9), 30, 30, dec("1")),
                (d(2026, 12, 10), d(2027, 1, 9), 31, 31, dec("1")),
            ],
        ),
        (
            "quarterly aligned: 52 of Q4's 92 days",
            terms(nov10, Quarterly, BillingDay(1)),
            d(2027, 1, 1),
            vec![
                (nov10, d(2026, 12, 31), 52, 92, dec("0.565217")),
                (d(2027, 1, 1), d(2027, 3, 31), 90, 90, dec("1")),
            ],
        ),
        (
            "not yet due: billing in advance starts on billing-from",
            terms(nov10, Monthly, BillingDay(1)),
            d(2026, 11, 9),
            vec![],
        ),
        (
            "one-off installation fee",
            terms(nov10, OneOff, BillingDay(1)),
            d(2027, 5, 1),
            vec![(nov10, nov10, 1, 1, dec("1"))],
        ),
        (
            "pause 10.-19.12. with billing suspended",
            ChargeTerms {
                unbilled: vec![(d(2026, 12, 10), d(2026, 12, 19))],
                ..terms(d(2026, 12, 1), Monthly, BillingDay(1))
            },
            d(2026, 12, 1),
            vec![(d(2026, 12, 1), d(2026, 12, 31), 21, 31, dec("0.677419"))],
        ),
        (
            "overlapping pauses count each day once; a whole suspended month is free",
            ChargeTerms {
                unbilled: vec![
                    (d(2027, 1, 5), d(2027, 2, 10)),
                    (d(2026, 12, 20), d(2027, 1, 10)),
                ],
                ..terms(d(2026, 12, 1), Monthly, BillingDay(1))
            },
            d(2027, 2, 1),
            vec![
                (d(2026, 12, 1), d(2026, 12, 31), 19, 31, dec("0.612903")),
                (d(2027, 1, 1), d(2027, 1, 31), 0, 31, dec("0")),
                (d(2027, 2, 1), d(2027, 2, 28), 18, 28, dec("0.642857")),
            ],
        ),
        (
            "pay until 20.1.: the last period is cut and nothing follows",
            ChargeTerms {
                end: Some(d(2027, 1, 20)),
                ..terms(d(2026, 12, 1), Monthly, BillingDay(1))
            },
            d(2027, 6, 1),
            vec![
                (d(2026, 12, 1), d(2026, 12, 31), 31, 31, dec("1")),
                (d(2027, 1, 1), d(2027, 1, 20), 20, 31, dec("0.645161")),
            ],
        ),
    ];
    for (name, terms, as_of, want) in cases {
        let got = due_charges(&terms, None, as_of, Proration::ByDays);
        assert_eq!(summary(&got), want, "{name}");
    }
}

#[test]
fn a_tariff_change_cuts_the_period_it_falls_in() {
    let changed = ChargeTerms {
        price_changes: vec![d(2026, 12, 15)],
        ..terms(d(2026, 12, 1), Period::Monthly, Alignment::BillingDay(1))
    };
    let cases = [
        (
            "by days: each part its own days",
            &changed,
            Proration::ByDays,
            vec![
                (d(2026, 12, 1), d(2026, 12, 14), 14, 31, dec("0.451613")),
                (d(2026, 12, 15), d(2026, 12, 31), 17, 31, dec("0.548387")),
                (d(2027, 1, 1), d(2027, 1, 31), 31, 31, dec("1")),
            ],
        ),
        (
            "whole periods: not cut, the period keeps the price of its first day",
            &changed,
            Proration::WholePeriod,
            vec![
                (d(2026, 12, 1), d(2026, 12, 31), 31, 31, dec("1")),
                (d(2027, 1, 1), d(2027, 1, 31), 31, 31, dec("1")),
            ],
        ),
    ];
    for (name, terms, proration, want) in cases {
        let got = due_charges(terms, None, d(2027, 1, 1), proration);
        assert_eq!(summary(&got), want, "{name}");
    }
    // A change on a period's first day or a pause inside a part: no extra cut, and a
    // suspended day is removed from the part it falls in.
    let paused = ChargeTerms {
        price_changes: vec![d(2026, 12, 1), d(2026, 12, 15)],
        unbilled: vec![(d(2026, 12, 20), d(2026, 12, 21))],
        ..changed.clone()
    };
    let got = due_charges(&paused, None, d(2026, 12, 1), Proration::ByDays);
    assert_eq!(
        summary(&got),
        vec![
            (d(2026, 12, 1), d(2026, 12, 14), 14, 31, dec("0.451613")),
            (d(2026, 12, 15), d(2026, 12, 31), 15, 31, dec("0.483871")),
        ]
    );
}

/// A tariff of another period from 15 Dec: the days before are a share of the old tariff's
/// period, the days from it of the new one's. Found probing from outside: both were shares of
/// the new period (14/92 of a monthly price), and a quarter invoiced before the change was
/// credited by a month's share — a credit larger than the invoice, which stopped the run.
#[test]
fn a_change_to_another_period_charges_each_part_by_its_own() {
    let monthly_then_quarterly = ChargeTerms {
        period: Period::Quarterly,
        price_changes: vec![d(2026, 12, 15)],
        periods_before: vec![(d(2026, 12, 15), Period::Monthly)],
        ..terms(d(2026, 12, 1), Period::Quarterly, Alignment::BillingDay(1))
    };
    assert_eq!(
        summary(&due_charges(
            &monthly_then_quarterly,
            None,
            d(2027, 1, 1),
            Proration::ByDays
        )),
        vec![
            (d(2026, 12, 1), d(2026, 12, 14), 14, 31, dec("0.451613")),
            (d(2026, 12, 15), d(2026, 12, 31), 17, 92, dec("0.184783")),
            (d(2027, 1, 1), d(2027, 3, 31), 90, 90, dec("1")),
        ]
    );
    let quarterly_then_monthly = ChargeTerms {
        period: Period::Monthly,
        price_changes: vec![d(2026, 12, 15)],
        periods_before: vec![(d(2026, 12, 15), Period::Quarterly)],
        ..terms(d(2026, 10, 1), Period::Monthly, Alignment::BillingDay(1))
    };
    // Billed as the days come: the quarter up to the change, then months.
    assert_eq!(
        summary(&due_charges(
            &quarterly_then_monthly,
            None,
            d(2026, 12, 15),
            Proration::ByDays
        )),
        vec![
            (d(2026, 10, 1), d(2026, 12, 14), 75, 92, dec("0.815217")),
            (d(2026, 12, 15), d(2026, 12, 31), 17, 31, dec("0.548387")),
        ]
    );
    // The quarter invoiced whole before the change was recorded, charged again as it is
    // due now: the part before at the quarter's share, the rest by months.
    let invoiced = recharge(
        &quarterly_then_monthly,
        d(2026, 10, 1),
        d(2026, 12, 31),
        Proration::ByDays,
    )
    .unwrap();
    let parts = split_at_price_changes(invoiced, &quarterly_then_monthly, Proration::ByDays);
    assert_eq!(
        summary(&parts),
        vec![
            (d(2026, 10, 1), d(2026, 12, 14), 75, 92, dec("0.815217")),
            (d(2026, 12, 15), d(2026, 12, 31), 17, 31, dec("0.548387")),
        ]
    );
    // From a month into a quarter two months before its end: by the months, then the quarter.
    let mid_quarter = ChargeTerms {
        price_changes: vec![d(2026, 11, 15)],
        periods_before: vec![(d(2026, 11, 15), Period::Quarterly)],
        ..quarterly_then_monthly.clone()
    };
    let invoiced = recharge(
        &mid_quarter,
        d(2026, 10, 1),
        d(2026, 12, 31),
        Proration::ByDays,
    )
    .unwrap();
    assert_eq!(
        summary(&split_at_price_changes(
            invoiced,
            &mid_quarter,
            Proration::ByDays
        )),
        vec![
            (d(2026, 10, 1), d(2026, 11, 14), 45, 92, dec("0.489130")),
            (d(2026, 11, 15), d(2026, 11, 30), 16, 30, dec("0.533333")),
            (d(2026, 12, 1), d(2026, 12, 31), 31, 31, dec("1")),
        ]
    );
}

#[test]
fn repeated_runs_bill_each_day_once() {
    let terms = terms(d(2026, 11, 10), Period::Monthly, Alignment::BillingDay(1));
    let first = due_charges(&terms, None, d(2026, 11, 10), Proration::ByDays);
    assert_eq!(first.len(), 1);
    let billed = Some(first[0].to);
    assert!(due_charges(&terms, billed, d(2026, 11, 30), Proration::ByDays).is_empty());
    let next = due_charges(&terms, billed, d(2026, 12, 1), Proration::ByDays);
    assert_eq!(
        summary(&next),
        vec![(d(2026, 12, 1), d(2026, 12, 31), 31, 31, dec("1"))]
    );
    // A one-off fee is charged once.
    let fee = ChargeTerms {
        period: Period::OneOff,
        ..terms
    };
    let once = due_charges(&fee, None, d(2026, 12, 1), Proration::ByDays);
    assert!(due_charges(&fee, Some(once[0].to), d(2027, 1, 1), Proration::ByDays).is_empty());
}

#[test]
fn whole_period_proration_charges_partial_periods_in_full() {
    let terms = ChargeTerms {
        unbilled: vec![(d(2027, 1, 1), d(2027, 1, 31))],
        ..terms(d(2026, 11, 10), Period::Monthly, Alignment::BillingDay(1))
    };
    let fractions: Vec<_> = due_charges(&terms, None, d(2027, 1, 1), Proration::WholePeriod)
        .into_iter()
        .map(|c| c.fraction)
        .collect();
    assert_eq!(fractions, vec![dec("1"), dec("1"), dec("0")]);
}

#[test]
fn early_end_credits_the_uncharged_days() {
    let december = Charge {
        from: d(2026, 12, 1),
        to: d(2026, 12, 31),
        charged_days: 31,
        period_days: 31,
        fraction: Decimal::ONE,
    };
    let by_days = |end| credit_for_early_end(&december, end, &[], Proration::ByDays);
    let credit = by_days(d(2026, 12, 20)).unwrap();
    assert_eq!(
        summary(&[credit]),
        vec![(d(2026, 12, 21), d(2026, 12, 31), 11, 31, dec("-0.354839"))]
    );
    // Ended before the charge began: all of it is credited.
    let all = by_days(d(2026, 11, 30)).unwrap();
    assert_eq!((all.from, all.fraction), (d(2026, 12, 1), dec("-1")));
    // Ending on or after the charged end credits nothing.
    assert_eq!(by_days(d(2026, 12, 31)), None);
    assert_eq!(by_days(d(2027, 1, 31)), None);
    // A pause inside the credited part was never charged, so it is not credited.
    let paused = Charge {
        charged_days: 26,
        fraction: dec("0.838710"),
        ..december.clone()
    };
    let pause = [(d(2026, 12, 25), d(2026, 12, 29))];
    let credit = credit_for_early_end(&paused, d(2026, 12, 20), &pause, Proration::ByDays);
    let credit = credit.unwrap();
    assert_eq!(
        (credit.charged_days, credit.fraction),
        (6, dec("-0.193549"))
    );
    // Whole-period proration keeps the period charged while any day of it is.
    let whole = credit_for_early_end(&december, d(2026, 12, 20), &[], Proration::WholePeriod);
    assert_eq!(whole, None);
}

#[test]
fn recharge_of_an_invoiced_period() {
    let mut t = terms(d(2026, 1, 1), Period::Monthly, Alignment::BillingDay(1));
    let nov = (d(2026, 11, 1), d(2026, 11, 30));
    // Nothing changed: the whole month is still due.
    let full = recharge(&t, nov.0, nov.1, Proration::ByDays).unwrap();
    assert_eq!((full.to, full.fraction), (nov.1, Decimal::ONE));
    // Ended on the 15th: 15 of 30 days.
    t.end = Some(d(2026, 11, 15));
    let ended = recharge(&t, nov.0, nov.1, Proration::ByDays).unwrap();
    assert_eq!(
        (ended.to, ended.charged_days, ended.fraction),
        (d(2026, 11, 15), 15, dec("0.5"))
    );
    // Whole-period proration keeps a period with any charged day in full.
    let whole = recharge(&t, nov.0, nov.1, Proration::WholePeriod).unwrap();
    assert_eq!(whole.fraction, Decimal::ONE);
    // Ended before the period: nothing of it is due.
    t.end = Some(d(2026, 10, 31));
    assert_eq!(recharge(&t, nov.0, nov.1, Proration::ByDays), None);
    // Paused with billing suspended 21-30 Nov: 20 of 30 days.
    t.end = None;
    t.unbilled = vec![(d(2026, 11, 21), NaiveDate::MAX)];
    let paused = recharge(&t, nov.0, nov.1, Proration::ByDays).unwrap();
    assert_eq!(
        (paused.charged_days, paused.fraction),
        (20, dec("0.666667"))
    );
}

#[test]
fn a_total_price_is_charged_once_for_its_term_and_credited_when_it_ends_early() {
    let term = ChargeTerms {
        commitment_until: Some(d(2027, 10, 31)),
        ..terms(d(2026, 11, 1), Period::Total, Alignment::BillingDay(1))
    };
    // In advance on its first day, the whole term as one period; nothing after.
    let first = due_charges(&term, None, d(2026, 11, 1), Proration::ByDays);
    assert_eq!(
        summary(&first),
        [(d(2026, 11, 1), d(2027, 10, 31), 365, 365, dec("1"))]
    );
    assert!(
        due_charges(
            &term,
            Some(d(2027, 10, 31)),
            d(2028, 1, 1),
            Proration::ByDays
        )
        .is_empty()
    );
    // Ended after 181 days: the rest of the term is credited.
    let ended = ChargeTerms {
        end: Some(d(2027, 4, 30)),
        ..term.clone()
    };
    let credit = credit_for_early_end(
        &first[0],
        d(2027, 4, 30),
        &ended.unbilled,
        Proration::ByDays,
    )
    .unwrap();
    assert_eq!(
        (credit.from, credit.charged_days, credit.fraction),
        (d(2027, 5, 1), 184, dec("-0.504110"))
    );
    assert_eq!(
        recharge(&ended, d(2026, 11, 1), d(2027, 10, 31), Proration::ByDays).map(|c| c.to),
        Some(d(2027, 4, 30))
    );
    // Without a term nothing can be charged.
    let open = ChargeTerms {
        commitment_until: None,
        ..term
    };
    assert!(due_charges(&open, None, d(2027, 1, 1), Proration::ByDays).is_empty());
}

#[test]
fn periods_begin_anew_where_the_expiration_was_moved() {
    // Floating from 10 November; the expiration moved from 10 December to the 20th.
    let moved = ChargeTerms {
        restarts: vec![d(2026, 12, 20)],
        ..terms(d(2026, 11, 10), Period::Monthly, Alignment::Floating)
    };
    assert_eq!(
        moved.period_containing(d(2026, 11, 15)),
        (d(2026, 11, 10), d(2026, 12, 9))
    );
    // The period running into the restart ends before it; the next follow it.
    assert_eq!(
        moved.period_containing(d(2026, 12, 15)),
        (d(2026, 12, 10), d(2026, 12, 19))
    );
    assert_eq!(
        moved.period_containing(d(2027, 1, 25)),
        (d(2027, 1, 20), d(2027, 2, 19))
    );
    // Billed through the 19th (the days given): the next charge is a whole period.
    let next = due_charges(
        &moved,
        Some(d(2026, 12, 19)),
        d(2026, 12, 20),
        Proration::ByDays,
    );
    assert_eq!(
        summary(&next),
        [(d(2026, 12, 20), d(2027, 1, 19), 31, 31, dec("1"))]
    );
}

#[test]
fn expiration_is_the_oldest_unpaid_charge() {
    let charge = |from, fraction: &str| Charge {
        from,
        to: from,
        charged_days: 1,
        period_days: 1,
        fraction: dec(fraction),
    };
    let unpaid = [
        charge(d(2027, 1, 1), "1"),
        charge(d(2026, 11, 1), "0"),
        charge(d(2026, 12, 1), "1"),
    ];
    let expires = expiration(&unpaid);
    assert_eq!(expires, Some(d(2026, 12, 1)));
    assert_eq!(
        paid_until(expires, Some(d(2027, 1, 31))),
        Some(d(2026, 11, 30))
    );
    assert_eq!(expiration(&[]), None);
    assert_eq!(paid_until(None, Some(d(2027, 1, 31))), Some(d(2027, 1, 31)));
}

fn date_strategy() -> impl Strategy<Value = NaiveDate> {
    (0i64..4000).prop_map(|n| d(2020, 1, 1) + chrono::Duration::days(n))
}

fn periodic() -> impl Strategy<Value = Period> {
    prop_oneof![
        Just(Period::Monthly),
        Just(Period::Quarterly),
        Just(Period::HalfYearly),
        Just(Period::Yearly),
    ]
}

fn alignment() -> impl Strategy<Value = Alignment> {
    prop_oneof![
        (1u32..=28).prop_map(Alignment::BillingDay),
        Just(Alignment::Floating)
    ]
}

fn terms_strategy() -> impl Strategy<Value = ChargeTerms> {
    (
        date_strategy(),
        proptest::option::of(0i64..900),
        periodic(),
        alignment(),
        proptest::collection::vec((-40i64..900, 0i64..120), 0..4),
        proptest::collection::vec((-40i64..900, periodic()), 0..3),
    )
        .prop_map(|(billing_from, end, period, alignment, pauses, changes)| {
            let at = |n: i64| billing_from + chrono::Duration::days(n);
            ChargeTerms {
                billing_from,
                end: end.map(at),
                period,
                alignment,
                unbilled: pauses
                    .iter()
                    .map(|&(s, len)| (at(s), at(s + len)))
                    .collect(),
                price_changes: changes.iter().map(|&(day, _)| at(day)).collect(),
                // A tariff change may move to another period.
                periods_before: changes.iter().map(|&(day, p)| (at(day), p)).collect(),
                commitment_until: None,
                restarts: Vec::new(),
            }
        })
}

proptest! {
    #[test]
    fn periods_contain_the_date_and_tile_the_calendar(
        date in date_strategy(),
        anchor in date_strategy(),
        period in periodic(),
        alignment in alignment(),
    ) {
        let (start, end) = period_containing(date, period, alignment, anchor);
        prop_assert!(start <= date && date <= end);
        let next = end.succ_opt().unwrap();
        prop_assert_eq!(period_containing(next, period, alignment, anchor).0, next);
        let months = i64::from(period.months().unwrap());
        let days = (end - start).num_days() + 1;
        prop_assert!((28 * months..=31 * months).contains(&days), "{} days", days);
        if alignment == Alignment::Floating {
            prop_assert_eq!(period_containing(anchor, period, alignment, anchor).0, anchor);
        }
    }

    #[test]
    fn repeated_runs_are_contiguous_and_never_overlap(
        terms in terms_strategy(),
        runs in proptest::collection::vec(-60i64..1200, 1..6),
        proration in prop_oneof![Just(Proration::ByDays), Just(Proration::WholePeriod)],
    ) {
        let at = |n: i64| terms.billing_from + chrono::Duration::days(n);
        let mut billed_until = None;
        let mut all: Vec<Charge> = Vec::new();
        for &run in &runs {
            let charges = due_charges(&terms, billed_until, at(run), proration);
            for c in &charges {
                // In advance: a period is due on its first charged day, with the parts
                // a price change cut off it (and cut again by the periods after a change
                // to another period).
                prop_assert!(
                    c.from <= at(run) || terms.price_changes.iter().any(|day| *day <= c.from),
                    "billed before it was due"
                );
            }
            if let Some(last) = charges.last() {
                billed_until = Some(last.to);
            }
            all.extend(charges);
            // Idempotent: the same run again adds nothing.
            prop_assert!(due_charges(&terms, billed_until, at(run), proration).is_empty());
        }
        let latest = at(*runs.iter().max().unwrap());
        let end = terms.end.unwrap_or(NaiveDate::MAX);
        if latest < terms.billing_from || end < terms.billing_from {
            prop_assert!(all.is_empty());
            return Ok(());
        }
        prop_assert_eq!(all[0].from, terms.billing_from);
        for pair in all.windows(2) {
            prop_assert_eq!(pair[0].to.succ_opt().unwrap(), pair[1].from);
        }
        let covered = terms
            .period_containing(latest)
            .1
            .min(end)
            .min(terms.next_period_change(latest).unwrap_or(NaiveDate::MAX));
        prop_assert_eq!(all.last().unwrap().to, covered);
        let mut charged = 0;
        for c in &all {
            let (start, period_end) = terms.period_containing(c.from);
            prop_assert!(c.to <= period_end, "a charge spans two periods");
            prop_assert_eq!(c.period_days, days_in(start, period_end));
            prop_assert!(c.fraction >= Decimal::ZERO && c.fraction <= Decimal::ONE);
            prop_assert_eq!(c.fraction.is_zero(), c.charged_days == 0);
            if proration == Proration::ByDays {
                prop_assert_eq!(c.fraction == Decimal::ONE, c.charged_days == c.period_days);
            }
            charged += c.charged_days;
        }
        let expected = days_in(terms.billing_from, covered)
            - unbilled_days(terms.billing_from, covered, &terms.unbilled);
        prop_assert_eq!(charged, expected);
    }

    #[test]
    fn invoiced_plus_credit_is_the_shortened_charge(
        terms in terms_strategy(),
        as_of in 0i64..900,
        cut in 0i64..400,
    ) {
        // An early end's credit is about whole charges; price changes cut them apart.
        let terms = ChargeTerms { price_changes: Vec::new(), periods_before: Vec::new(), ..terms };
        let as_of = terms.billing_from + chrono::Duration::days(as_of);
        let charges = due_charges(&terms, None, as_of, Proration::ByDays);
        let Some(last) = charges.last() else { return Ok(()) };
        let new_end = last.to - chrono::Duration::days(cut);
        let kept = if new_end < last.from {
            Decimal::ZERO
        } else {
            let shortened = ChargeTerms { end: Some(new_end), ..terms.clone() };
            let before = last.from.pred_opt();
            let redo = due_charges(&shortened, before, as_of, Proration::ByDays);
            redo.last().map_or(Decimal::ZERO, |c| c.fraction)
        };
        let credit = credit_for_early_end(last, new_end, &terms.unbilled, Proration::ByDays);
        let credited = credit.as_ref().map_or(Decimal::ZERO, |c| c.fraction);
        prop_assert_eq!(last.fraction + credited, kept);
        if let Some(c) = credit {
            prop_assert_eq!(c.to, last.to);
            prop_assert!(c.from > new_end && c.from >= last.from);
        }
    }
}

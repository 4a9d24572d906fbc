use super::*;
use proptest::prelude::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn input(quantity: &str, price: &str, basis: PriceBasis, rate: &str) -> LineInput {
    LineInput {
        description: "x".into(),
        quantity: dec(quantity),
        unit_price: dec(price),
        basis,
        vat_rate: dec(rate),
    }
}

#[test]
fn line_vat_by_basis() {
    use PriceBasis::{Gross, Net};
    for (q, price, basis, rate, net, vat, gross) in [
        // The known case: 499.00 with VAT at 21 %.
        ("1", "499.00", Gross, "21", "412.40", "86.60", "499.00"),
        ("1", "412.40", Net, "21", "412.40", "86.60", "499.00"),
        // 21/30 of a month: gross rounded once, VAT split from it.
        ("0.7", "499.00", Gross, "21", "288.68", "60.62", "349.30"),
        ("0.161290", "499.00", Gross, "21", "66.51", "13.97", "80.48"),
        // Half-up at the cent, away from zero for negatives.
        ("1", "0.50", Net, "21", "0.50", "0.11", "0.61"),
        ("1", "-0.50", Net, "21", "-0.50", "-0.11", "-0.61"),
        ("-0.1", "499.00", Gross, "21", "-41.24", "-8.66", "-49.90"),
        ("1", "100", Gross, "0", "100", "0", "100"),
        ("3", "33.333", Net, "12", "100.00", "12.00", "112.00"),
    ] {
        let line = compute_line(&input(q, price, basis, rate));
        assert_eq!(
            (line.net, line.vat, line.gross),
            (dec(net), dec(vat), dec(gross)),
            "{q} × {price} {basis:?} {rate} %"
        );
    }
}

#[test]
fn totals_are_sums_of_rounded_lines() {
    let service = input("1", "499.00", PriceBasis::Gross, "21");
    let lines: Vec<_> = [
        service.clone(),
        service.clone(),
        service,
        input("1", "100.00", PriceBasis::Net, "12"),
    ]
    .iter()
    .map(compute_line)
    .collect();
    let t = totals(&lines);
    // Per line 3 × 86.60; rounding the 1497.00 total once would give 259.81.
    assert_eq!(
        round_money(dec("1497.00") * dec("21") / dec("121")),
        dec("259.81")
    );
    assert_eq!(
        t.by_rate,
        vec![
            VatSummary {
                rate: dec("12"),
                net: dec("100.00"),
                vat: dec("12.00"),
                gross: dec("112.00")
            },
            VatSummary {
                rate: dec("21"),
                net: dec("1237.20"),
                vat: dec("259.80"),
                gross: dec("1497.00")
            },
        ]
    );
    assert_eq!(
        (t.net, t.vat, t.gross),
        (dec("1337.20"), dec("271.80"), dec("1609.00"))
    );
    assert!(totals(&[]).by_rate.is_empty());
}

fn charge(from: NaiveDate, to: NaiveDate, fraction: &str) -> Charge {
    Charge {
        from,
        to,
        charged_days: 0,
        period_days: 0,
        fraction: dec(fraction),
    }
}

fn discount(name: &str, value: DiscountValue, from: NaiveDate, to: Option<NaiveDate>) -> Discount {
    Discount {
        name: name.into(),
        value,
        valid_from: from,
        valid_to: to,
    }
}

/// (description, quantity, unit price) for compact tables.
fn brief(lines: &[LineInput]) -> Vec<(String, Decimal, Decimal)> {
    lines
        .iter()
        .map(|l| (l.description.clone(), l.quantity, l.unit_price))
        .collect()
}

#[test]
fn charge_lines_with_discounts() {
    use DiscountValue::{Amount, Percent, ResultingPrice};
    let nov = charge(d(2026, 11, 15), d(2026, 12, 14), "1");
    let open = |name, value| discount(name, value, d(2026, 1, 1), None);
    let price = dec("499.00");
    let line = |text: &str, q: &str, p: &str| (text.to_owned(), dec(q), dec(p));
    let service = line("Fiber 100 2026-11-15 – 2026-12-14", "1", "499.00");
    let cases: Vec<(&str, Charge, Vec<Discount>, Vec<_>)> = vec![
        ("no discount", nov.clone(), vec![], vec![service.clone()]),
        (
            "10 %",
            nov.clone(),
            vec![open("Loyalty", Percent(dec("10")))],
            vec![
                service.clone(),
                line("Fiber 100: Loyalty 2026-11-15 – 2026-12-14", "1", "-49.90"),
            ],
        ),
        (
            "percent rounded to the cent per period",
            nov.clone(),
            vec![open("Promo", Percent(dec("12.5")))],
            vec![
                service.clone(),
                line("Fiber 100: Promo 2026-11-15 – 2026-12-14", "1", "-62.38"),
            ],
        ),
        (
            "amount and resulting price together; resulting price ignores the other",
            nov.clone(),
            vec![
                open("Neighbour", Amount(dec("100"))),
                open("Campaign", ResultingPrice(dec("399"))),
            ],
            vec![
                service.clone(),
                line("Fiber 100: Neighbour 2026-11-15 – 2026-12-14", "1", "-100"),
                line("Fiber 100: Campaign 2026-11-15 – 2026-12-14", "1", "-100"),
            ],
        ),
        (
            "resulting price above the base: no discount",
            nov.clone(),
            vec![open("Campaign", ResultingPrice(dec("600")))],
            vec![service.clone()],
        ),
        (
            "never below zero: the second amount is capped",
            nov.clone(),
            vec![open("A", Amount(dec("300"))), open("B", Amount(dec("300")))],
            vec![
                service.clone(),
                line("Fiber 100: A 2026-11-15 – 2026-12-14", "1", "-300"),
                line("Fiber 100: B 2026-11-15 – 2026-12-14", "1", "-199.00"),
            ],
        ),
        (
            // Found probing from outside: an amount over part of the period took its whole
            // amount from what was left, so the resulting price after it was cut short.
            "a part-period amount takes only its part from what the others may take",
            nov.clone(),
            vec![
                discount(
                    "Week",
                    Amount(dec("100")),
                    d(2026, 11, 15),
                    Some(d(2026, 11, 24)),
                ),
                open("Half", Percent(dec("50"))),
                open("Campaign", ResultingPrice(dec("100"))),
            ],
            vec![
                service.clone(),
                line(
                    "Fiber 100: Week 2026-11-15 – 2026-11-24",
                    "0.333333",
                    "-100",
                ),
                line("Fiber 100: Half 2026-11-15 – 2026-12-14", "1", "-249.50"),
                // 499 − 100 × 10/30 − 249.50 = 216.166… left: the campaign's 399 capped there.
                line(
                    "Fiber 100: Campaign 2026-11-15 – 2026-12-14",
                    "1",
                    "-216.16",
                ),
            ],
        ),
        (
            "valid from 1.12.: 14 of the charge's 30 days",
            nov.clone(),
            vec![discount("Winter", Percent(dec("20")), d(2026, 12, 1), None)],
            vec![
                service.clone(),
                line(
                    "Fiber 100: Winter 2026-12-01 – 2026-12-14",
                    "0.466667",
                    "-99.80",
                ),
            ],
        ),
        (
            "prorated charge, discount over part of it",
            charge(d(2026, 11, 10), d(2026, 11, 30), "0.7"),
            vec![discount(
                "Launch",
                Amount(dec("50")),
                d(2026, 1, 1),
                Some(d(2026, 11, 16)),
            )],
            vec![
                line("Fiber 100 2026-11-10 – 2026-11-30", "0.7", "499.00"),
                line(
                    "Fiber 100: Launch 2026-11-10 – 2026-11-16",
                    "0.233333",
                    "-50",
                ),
            ],
        ),
        (
            "expired and future discounts do not apply",
            nov.clone(),
            vec![
                discount(
                    "Old",
                    Percent(dec("10")),
                    d(2025, 1, 1),
                    Some(d(2026, 11, 14)),
                ),
                discount("Future", Percent(dec("10")), d(2026, 12, 15), None),
            ],
            vec![service.clone()],
        ),
        (
            "a wholly suspended period gives no lines",
            charge(d(2026, 11, 15), d(2026, 12, 14), "0"),
            vec![open("Loyalty", Percent(dec("10")))],
            vec![],
        ),
        (
            "one-off fee",
            charge(d(2026, 11, 10), d(2026, 11, 10), "1"),
            vec![],
            vec![line("Fiber 100 2026-11-10", "1", "499.00")],
        ),
    ];
    for (name, charge, discounts, want) in cases {
        let got = charge_lines(
            "Fiber 100",
            price,
            PriceBasis::Gross,
            dec("21"),
            (&charge, &[]),
            &discounts,
        );
        assert_eq!(brief(&got), want, "{name}");
        assert!(
            got.iter()
                .all(|l| l.basis == PriceBasis::Gross && l.vat_rate == dec("21"))
        );
    }
}

/// October paused from the 25th with billing suspended: 24 of 31 days charged. A discount
/// over the 1st–24th covers every charged day; one over the 25th–31st covers none. Found
/// probing from outside: both were prorated over calendar days (24/31 and 7/31 of the
/// charge), the first client overcharged by what the second was undercharged.
#[test]
fn a_discount_takes_nothing_for_days_not_charged() {
    use DiscountValue::Percent;
    let october = Charge {
        from: d(2026, 10, 1),
        to: d(2026, 10, 31),
        charged_days: 24,
        period_days: 31,
        fraction: dec("0.774194"),
    };
    let paused = [(d(2026, 10, 25), d(2026, 10, 31))];
    let half = |from, to| discount("Half", Percent(dec("50")), from, Some(to));
    let lines = |discount| {
        let got = charge_lines(
            "Fiber",
            dec("600"),
            PriceBasis::Net,
            dec("21"),
            (&october, &paused),
            &[discount],
        );
        brief(&got)
    };
    let service = (
        "Fiber 2026-10-01 – 2026-10-31".to_owned(),
        dec("0.774194"),
        dec("600"),
    );
    assert_eq!(
        lines(half(d(2026, 10, 1), d(2026, 10, 24))),
        [
            service.clone(),
            (
                "Fiber: Half 2026-10-01 – 2026-10-24".to_owned(),
                dec("0.774194"),
                dec("-300.00"),
            ),
        ]
    );
    assert_eq!(lines(half(d(2026, 10, 25), d(2026, 10, 31))), [service]);
}

#[test]
fn discount_rules() {
    let ok = discount(
        "Loyalty",
        DiscountValue::Percent(dec("10")),
        d(2026, 1, 1),
        None,
    );
    assert_eq!(ok.validate(), Ok(()));
    let field = |edit: fn(&mut Discount)| {
        let mut x = ok.clone();
        edit(&mut x);
        x.validate().unwrap_err().field
    };
    assert_eq!(field(|x| x.name.clear()), "discount.name");
    assert_eq!(
        field(|x| x.valid_to = Some(d(2025, 12, 31))),
        "discount.valid_to"
    );
    assert_eq!(
        field(|x| x.value = DiscountValue::Percent(dec("101"))),
        "discount.value"
    );
    assert_eq!(
        field(|x| x.value = DiscountValue::Amount(dec("-1"))),
        "discount.value"
    );
    assert_eq!(
        field(|x| x.value = DiscountValue::ResultingPrice(dec("1.001"))),
        "discount.value"
    );
}

#[test]
fn number_patterns() {
    for (pattern, seq, want) in [
        ("{year}/{seq:05}", 42, "2026/00042"),
        ("FV{yy}{seq:04}", 42, "FV260042"),
        ("{seq}", 42, "42"),
        ("{seq:03}", 12345, "12345"),
        ("{{{year}}}-{seq}", 7, "{2026}-7"),
        ("{{x-{seq}", 7, "{x-7"),
    ] {
        assert_eq!(
            format_number(pattern, 2026, seq).unwrap(),
            want,
            "{pattern}"
        );
        assert_eq!(sequence_of(pattern, 2026, want), Ok(Some(seq)), "{pattern}");
    }
    assert_eq!(format_number("{yy}-{seq}", 2005, 1).unwrap(), "05-1");
    for (pattern, problem) in [
        ("{foo}-{seq}", "unknown placeholder {foo}"),
        ("{seq:5}", "unknown placeholder {seq:5}"),
        ("{seq:021}", "unknown placeholder {seq:021}"),
        ("{seq", "unclosed"),
        ("{year}/{seq", "unclosed"),
        ("INV-{year}", "needs exactly one {seq}"),
        ("{seq}{seq}", "needs exactly one {seq}"),
        ("{seq}}", "unmatched"),
    ] {
        let err = format_number(pattern, 2026, 1).unwrap_err();
        assert_eq!(err.pattern, pattern);
        assert!(err.problem.contains(problem), "{pattern}: {err}");
        assert!(err.to_string().contains(pattern), "{err}");
    }
    assert_eq!(sequence_of("{year}/{seq:05}", 2026, "2025/00042"), Ok(None));
    assert_eq!(sequence_of("{year}/{seq:05}", 2026, "2026/0042"), Ok(None));
    assert_eq!(sequence_of("{year}/{seq}", 2026, "2026/x"), Ok(None));
    assert!(check_pattern("{year}").is_err());
}

#[test]
fn dates() {
    let issue = d(2026, 12, 1);
    let end = d(2026, 12, 14);
    assert_eq!(
        taxable_supply_date(TaxableDateRule::IssueDate, issue, end),
        issue
    );
    assert_eq!(
        taxable_supply_date(TaxableDateRule::EndOfPeriod, issue, end),
        end
    );
    assert_eq!(
        taxable_supply_date(TaxableDateRule::DaysBeforeIssue(14), issue, end),
        d(2026, 11, 17)
    );
    assert_eq!(due_date(issue, Some(30), 14), d(2026, 12, 31));
    assert_eq!(due_date(issue, None, 14), d(2026, 12, 15));
    assert_eq!(due_date(issue, Some(0), 14), issue);
}

#[test]
fn invoice_states() {
    use InvoiceState::*;
    for (total, paid, cancelled, want) in [
        ("499.00", "0", false, Unpaid),
        ("499.00", "100", false, PartiallyPaid),
        ("499.00", "499.00", false, Paid),
        ("499.00", "600", false, Paid),
        ("499.00", "-5", false, Unpaid),
        ("499.00", "0", true, Cancelled),
        ("499.00", "499.00", true, Cancelled),
        ("0", "0", false, Paid),
        ("-100", "0", false, Unpaid),
        ("-100", "-40", false, PartiallyPaid),
        ("-100", "-100", false, Paid),
    ] {
        assert_eq!(
            state_for(dec(total), dec(paid), cancelled),
            want,
            "{total} {paid}"
        );
    }
    for s in InvoiceState::ALL {
        assert_eq!(InvoiceState::parse(s.as_str()), Some(s));
    }
}

fn money() -> impl Strategy<Value = Decimal> {
    (-10_000_000i64..10_000_000).prop_map(|n| Decimal::new(n, 2))
}

fn line_input() -> impl Strategy<Value = LineInput> {
    (
        (-2_000_000i64..2_000_000).prop_map(|n| Decimal::new(n, FRACTION_SCALE)),
        money(),
        prop_oneof![Just(PriceBasis::Net), Just(PriceBasis::Gross)],
        prop_oneof![
            Just(dec("0")),
            Just(dec("10")),
            Just(dec("12")),
            Just(dec("21")),
            Just(dec("21.00")),
            (0i64..10_000).prop_map(|n| Decimal::new(n, 2)),
        ],
    )
        .prop_map(|(quantity, unit_price, basis, vat_rate)| LineInput {
            description: String::new(),
            quantity,
            unit_price,
            basis,
            vat_rate,
        })
}

proptest! {
    #[test]
    fn every_line_adds_up(input in line_input()) {
        let line = compute_line(&input);
        prop_assert_eq!(line.gross, line.net + line.vat);
        for amount in [line.net, line.vat, line.gross] {
            prop_assert_eq!(round_money(amount), amount);
        }
        let priced = round_money(input.quantity * input.unit_price);
        match input.basis {
            PriceBasis::Net => prop_assert_eq!(line.net, priced),
            PriceBasis::Gross => prop_assert_eq!(line.gross, priced),
        }
        // A negative line is the exact mirror of its positive twin.
        let negated = compute_line(&LineInput { unit_price: -input.unit_price, ..input });
        prop_assert_eq!((negated.net, negated.vat, negated.gross), (-line.net, -line.vat, -line.gross));
    }

    #[test]
    fn totals_equal_the_lines_and_the_summary(inputs in proptest::collection::vec(line_input(), 0..12)) {
        let lines: Vec<Line> = inputs.iter().map(compute_line).collect();
        let t = totals(&lines);
        prop_assert_eq!(t.net, lines.iter().map(|l| l.net).sum::<Decimal>());
        prop_assert_eq!(t.vat, lines.iter().map(|l| l.vat).sum::<Decimal>());
        prop_assert_eq!(t.gross, lines.iter().map(|l| l.gross).sum::<Decimal>());
        prop_assert_eq!(t.gross, t.net + t.vat);
        prop_assert_eq!(t.net, t.by_rate.iter().map(|s| s.net).sum::<Decimal>());
        prop_assert_eq!(t.vat, t.by_rate.iter().map(|s| s.vat).sum::<Decimal>());
        for s in &t.by_rate {
            let of_rate = || lines.iter().filter(|l| l.vat_rate == s.rate);
            prop_assert_eq!(s.net, of_rate().map(|l| l.net).sum::<Decimal>());
            prop_assert_eq!(s.vat, of_rate().map(|l| l.vat).sum::<Decimal>());
            prop_assert_eq!(s.gross, of_rate().map(|l| l.gross).sum::<Decimal>());
        }
        let mut rates: Vec<_> = t.by_rate.iter().map(|s| s.rate).collect();
        rates.dedup();
        prop_assert_eq!(rates.len(), t.by_rate.len(), "one summary per rate");
    }

    #[test]
    fn full_discount_cancels_the_service(
        price in (0i64..10_000_000).prop_map(|n| Decimal::new(n, 2)),
        fraction in (1i64..=1_000_000).prop_map(|n| Decimal::new(n, FRACTION_SCALE)),
        basis in prop_oneof![Just(PriceBasis::Net), Just(PriceBasis::Gross)],
    ) {
        let day = d(2026, 11, 1);
        let charge = Charge { from: day, to: d(2026, 11, 30), charged_days: 0, period_days: 30, fraction };
        let free = [
            discount("Free", DiscountValue::Percent(dec("100")), day, None),
            discount("More", DiscountValue::Amount(dec("5")), day, None),
        ];
        let lines = charge_lines("S", price, basis, dec("21"), (&charge, &[]), &free);
        let lines: Vec<Line> = lines.iter().map(compute_line).collect();
        prop_assert!(totals(&lines).gross.is_zero());
    }

    #[test]
    fn format_number_round_trips_the_sequence(
        prefix in "[A-Z/-]{0,4}",
        width in 0usize..=MAX_SEQ_WIDTH,
        year in 1990i32..2100,
        seq in any::<u64>(),
        with_year in any::<bool>(),
    ) {
        let seq_token = if width == 0 { "{seq}".to_owned() } else { format!("{{seq:0{width}}}") };
        let year_part = if with_year { "{year}-" } else { "" };
        let pattern = format!("{prefix}{year_part}{seq_token}/{{yy}}");
        let number = format_number(&pattern, year, seq).unwrap();
        prop_assert_eq!(sequence_of(&pattern, year, &number), Ok(Some(seq)));
        prop_assert!(number.len() >= width);
    }

    #[test]
    fn credit_note_states_mirror_invoice_states(total in money(), paid in money()) {
        prop_assert_eq!(state_for(total, paid, false), state_for(-total, -paid, false));
    }
}

#[test]
fn a_series_counts_within_the_year_its_pattern_names() {
    use super::series_year;
    assert_eq!(series_year("{year}{seq:05}", 2026), Ok(2026));
    assert_eq!(series_year("FV{yy}-{seq}", 2026), Ok(2026));
    // No year in the number: one series for all years, or January repeats December's.
    assert_eq!(series_year("INV{seq:06}", 2026), Ok(0));
    assert!(series_year("no sequence", 2026).is_err());
}

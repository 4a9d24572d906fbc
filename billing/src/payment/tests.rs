use super::*;
use crate::client::{BankAccount, Client};
use crate::document::DocumentKind;
use crate::subscription::Subscription;
use proptest::prelude::*;

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
}

fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn invoice(id: i64, due: u32, total: &str, paid: &str) -> OpenInvoice {
    OpenInvoice {
        id,
        number: format!("2026{id:04}"),
        issue_date: day(1),
        due_date: day(due),
        total: dec(total),
        paid: dec(paid),
    }
}

fn payment(vs: Option<&str>, account: Option<&str>) -> IncomingPayment {
    IncomingPayment {
        id: 1,
        amount: dec("500"),
        received_on: day(10),
        variable_symbol: vs.map(str::to_owned),
        payer_account: account.map(str::to_owned),
        bank_transaction_id: None,
        statement_account: None,
    }
}

// --- matching ----------------------------------------------------------------------------

fn directory() -> Directory {
    let mut novak = Client {
        id: 1,
        number: "1001".into(),
        ..Client::default()
    };
    novak.invoicing.variable_symbols = vec!["777".into(), "0000888".into()];
    novak.bank_accounts.push(BankAccount {
        number: "19-2000145399/0800".into(),
        ..BankAccount::default()
    });
    let mut svoboda = Client {
        id: 2,
        number: "1002".into(),
        ..Client::default()
    };
    svoboda.bank_accounts.push(BankAccount {
        iban: "cz65 0800 0000 0012 3456 7890".into(),
        ..BankAccount::default()
    });
    let lettered = Client {
        id: 3,
        number: "A-17".into(),
        ..Client::default()
    };
    let mut directory = Directory::new();
    for client in [&novak, &svoboda, &lettered] {
        directory.add_client(client);
    }
    directory.add_subscription_vs(2, 20, "5550001");
    // Shared by two clients: ambiguous.
    directory.add_assigned_vs(1, "4242");
    directory.add_assigned_vs(2, "4242");
    // A family account on two cards.
    directory.add_bank_account(
        1,
        &BankAccount {
            number: "555/0100".into(),
            ..BankAccount::default()
        },
    );
    directory.add_bank_account(
        2,
        &BankAccount {
            number: "000000-0000000555/0100".into(),
            ..BankAccount::default()
        },
    );
    directory
}

fn matched(target: MatchTarget, by: MatchedBy) -> Match {
    Match::Matched { target, by }
}

#[test]
fn variable_symbols_are_normalised() {
    assert_eq!(
        normalize_variable_symbol("0000001001"),
        Symbol::Valid("1001".into())
    );
    assert_eq!(
        normalize_variable_symbol(" 10 01 "),
        Symbol::Valid("1001".into())
    );
    assert_eq!(normalize_variable_symbol("0000000000"), Symbol::Missing);
    assert_eq!(normalize_variable_symbol(""), Symbol::Missing);
    assert_eq!(
        normalize_variable_symbol("12A"),
        Symbol::Invalid("12A".into())
    );
    assert_eq!(
        normalize_variable_symbol("12345678901"),
        Symbol::Invalid("12345678901".into())
    );
    assert_eq!(
        normalize_variable_symbol("00001234567890"),
        Symbol::Valid("1234567890".into())
    );
}

#[test]
fn accounts_are_normalised() {
    for (text, want) in [
        ("19-2000145399/0800", "19-2000145399/0800"),
        ("000019-2000145399/0800", "19-2000145399/0800"),
        ("0000123456/0800", "123456/0800"),
        ("CZ65 0800 0000 1920 0014 5399", "19-2000145399/0800"),
        ("cz6508000000192000145399", "19-2000145399/0800"),
        ("123/0800", "123/0800"),
        ("0-123/0800", "123/0800"),
        ("de89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        ("12 3", "123"),
        // Prefix and number run together (GPC's form): found probing from outside.
        ("0000192000145399/0800", "19-2000145399/0800"),
        ("0000000000145399/0800", "145399/0800"),
    ] {
        assert_eq!(normalize_account(text).as_deref(), Some(want), "{text}");
    }
    assert_eq!(normalize_account("  "), None);
}

#[test]
fn matching_rules() {
    let d = directory();
    let cases = [
        // VS = client number, bank padding stripped.
        (
            payment(Some("0000001001"), None),
            matched(MatchTarget::Client(1), MatchedBy::ClientNumber),
        ),
        // Assigned VS, itself stored with zeros.
        (
            payment(Some("888"), None),
            matched(MatchTarget::Client(1), MatchedBy::AssignedVs),
        ),
        (
            payment(Some("777"), Some("1/0100")),
            matched(MatchTarget::Client(1), MatchedBy::AssignedVs),
        ),
        // A service's own VS sends the money to the service.
        (
            payment(Some("5550001"), None),
            matched(
                MatchTarget::Subscription {
                    client: 2,
                    subscription: 20,
                },
                MatchedBy::SubscriptionVs,
            ),
        ),
        // VS wins over the account, even when the account is another client's.
        (
            payment(Some("1002"), Some("19-2000145399/0800")),
            matched(MatchTarget::Client(2), MatchedBy::ClientNumber),
        ),
        // Missing VS: the account decides; IBAN on the card, domestic on the statement.
        (
            payment(None, Some("123 4567890/0800")),
            matched(MatchTarget::Client(2), MatchedBy::BankAccount),
        ),
        (
            payment(Some("0000000000"), Some("CZ65 0800 0000 1920 0014 5399")),
            matched(MatchTarget::Client(1), MatchedBy::BankAccount),
        ),
        // Unknown VS: the account still helps.
        (
            payment(Some("999"), Some("19-2000145399/0800")),
            matched(MatchTarget::Client(1), MatchedBy::BankAccount),
        ),
        // Letters in the VS: treated as unknown, the account helps.
        (
            payment(Some("INV1001"), Some("19-2000145399/0800")),
            matched(MatchTarget::Client(1), MatchedBy::BankAccount),
        ),
        (
            payment(Some("999"), None),
            Match::Unmatched(UnmatchedReason::UnknownVariableSymbol("999".into())),
        ),
        (
            payment(Some("0999"), Some("1/0100")),
            Match::Unmatched(UnmatchedReason::UnknownVariableSymbol("999".into())),
        ),
        (
            payment(None, Some("1/0100")),
            Match::Unmatched(UnmatchedReason::UnknownAccount("1/0100".into())),
        ),
        (
            payment(None, None),
            Match::Unmatched(UnmatchedReason::NoIdentifiers),
        ),
        (
            payment(Some(""), Some(" ")),
            Match::Unmatched(UnmatchedReason::NoIdentifiers),
        ),
        // A lettered client number is no VS.
        (
            payment(Some("A-17"), None),
            Match::Unmatched(UnmatchedReason::UnknownVariableSymbol("A-17".into())),
        ),
        // Ambiguity is never resolved by guessing, not even by the account.
        (
            payment(Some("4242"), Some("19-2000145399/0800")),
            Match::Unmatched(UnmatchedReason::AmbiguousVariableSymbol {
                symbol: "4242".into(),
                clients: vec![1, 2],
            }),
        ),
        (
            payment(None, Some("555/0100")),
            Match::Unmatched(UnmatchedReason::AmbiguousAccount {
                account: "555/0100".into(),
                clients: vec![1, 2],
            }),
        ),
    ];
    for (payment, want) in cases {
        assert_eq!(match_payment(&payment, &d), want, "{payment:?}");
    }
}

#[test]
fn symbol_owned_twice_by_one_client() {
    let mut d = Directory::new();
    d.add_client_number(1, "1001");
    d.add_subscription_vs(1, 10, "1001");
    // The service is the more specific owner.
    assert_eq!(
        match_payment(&payment(Some("1001"), None), &d),
        matched(
            MatchTarget::Subscription {
                client: 1,
                subscription: 10
            },
            MatchedBy::SubscriptionVs
        )
    );
    // Two services of the same client with one symbol: the client's money.
    d.add_subscription_vs(1, 11, "1001");
    assert_eq!(
        match_payment(&payment(Some("1001"), None), &d),
        matched(MatchTarget::Client(1), MatchedBy::ClientNumber)
    );
    let mut d = Directory::new();
    d.add_subscription_vs(1, 10, "9");
    d.add_subscription_vs(1, 11, "9");
    d.add_assigned_vs(1, "9");
    assert_eq!(
        match_payment(&payment(Some("9"), None), &d),
        matched(MatchTarget::Client(1), MatchedBy::SubscriptionVs)
    );
    // Client number of one, service of another: ambiguous.
    d.add_client_number(2, "0009");
    assert_eq!(
        match_payment(&payment(Some("9"), None), &d),
        Match::Unmatched(UnmatchedReason::AmbiguousVariableSymbol {
            symbol: "9".into(),
            clients: vec![1, 2]
        })
    );
}

#[test]
fn directory_from_records() {
    let client = Client {
        id: 7,
        number: "2007".into(),
        ..Client::default()
    };
    let subscription = Subscription {
        id: 70,
        client_id: 7,
        tariff_id: 1,
        activation_date: day(1),
        billing_from: day(1),
        price_override: None,
        period: None,
        commitment_until: None,
        variable_symbol: "207001".into(),
        note: String::new(),
        invoice_note: String::new(),
        state: crate::subscription::SubscriptionState::Active,
        alignment: crate::subscription::PeriodAlignment::BillingDay,
        end_date: None,
        end_reason: String::new(),
        unit: None,
        version: 0,
    };
    let d = Directory::from_records([&client], [&subscription]);
    assert_eq!(
        match_payment(&payment(Some("2007"), None), &d),
        matched(MatchTarget::Client(7), MatchedBy::ClientNumber)
    );
    assert_eq!(
        match_payment(&payment(Some("207001"), None), &d).clone(),
        matched(
            MatchTarget::Subscription {
                client: 7,
                subscription: 70
            },
            MatchedBy::SubscriptionVs
        )
    );
    assert_eq!(
        MatchTarget::Subscription {
            client: 7,
            subscription: 70
        }
        .client(),
        7
    );
}

#[test]
fn payment_validation() {
    let mut p = payment(None, None);
    assert_eq!(p.validate(), Ok(()));
    p.amount = Decimal::ZERO;
    assert_eq!(p.validate().unwrap_err().field, "payment.amount");
    p.amount = dec("-1");
    assert!(p.validate().is_err());
    p.amount = dec("1.005");
    assert!(p.validate().is_err());
}

// --- allocation --------------------------------------------------------------------------

#[test]
fn oldest_unpaid_first_then_credit() {
    let invoices = [
        invoice(3, 20, "300", "0"),
        invoice(1, 10, "100", "0"),
        invoice(2, 15, "200", "50"),
        invoice(4, 5, "80", "80"), // fully paid: nothing
    ];
    let a = allocate(dec("500"), &invoices, Decimal::ZERO).unwrap();
    assert_eq!(
        a,
        Allocation {
            to_invoices: vec![(1, dec("100")), (2, dec("150")), (3, dec("250"))],
            to_credit: Decimal::ZERO,
            from_credit: Decimal::ZERO,
        }
    );
    // Overpayment becomes credit.
    let a = allocate(dec("600"), &invoices, Decimal::ZERO).unwrap();
    assert_eq!(a.allocated(), dec("550"));
    assert_eq!(a.to_credit, dec("50"));
    assert_eq!(a.credit_after(Decimal::ZERO), dec("50"));
    // Partial payment leaves the oldest partially paid.
    let a = allocate(dec("40"), &invoices, Decimal::ZERO).unwrap();
    assert_eq!(a.to_invoices, vec![(1, dec("40"))]);
    // No invoices: all credit.
    let a = allocate(dec("40"), &[], dec("10")).unwrap();
    assert_eq!(
        (a.to_credit, a.credit_after(dec("10"))),
        (dec("40"), dec("50"))
    );
}

#[test]
fn equal_due_dates_order_by_issue_date_then_id() {
    let mut older = invoice(9, 10, "100", "0");
    older.issue_date = NaiveDate::from_ymd_opt(2026, 2, 1).unwrap();
    let invoices = [
        invoice(5, 10, "100", "0"),
        invoice(4, 10, "100", "0"),
        older,
    ];
    let a = allocate(dec("250"), &invoices, Decimal::ZERO).unwrap();
    assert_eq!(
        a.to_invoices,
        vec![(9, dec("100")), (4, dec("100")), (5, dec("50"))]
    );
}

#[test]
fn credit_joins_the_payment() {
    let invoices = [invoice(1, 10, "500", "0")];
    // 100 credit + 400 payment settle the 500 invoice.
    let a = allocate(dec("400"), &invoices, dec("100")).unwrap();
    assert_eq!(a.to_invoices, vec![(1, dec("500"))]);
    assert_eq!((a.to_credit, a.from_credit), (Decimal::ZERO, dec("100")));
    assert_eq!(a.credit_after(dec("100")), Decimal::ZERO);
    // Credit on a new invoice.
    let a = apply_credit(dec("120"), &[invoice(2, 20, "100", "0")]).unwrap();
    assert_eq!(a.to_invoices, vec![(2, dec("100"))]);
    assert_eq!(a.credit_after(dec("120")), dec("20"));
    let a = apply_credit(Decimal::ZERO, &[invoice(2, 20, "100", "0")]).unwrap();
    assert_eq!(a, Allocation::default());
}

#[test]
fn negative_inputs_are_refused() {
    assert!(matches!(
        allocate(dec("-1"), &[], Decimal::ZERO),
        Err(PaymentError::Negative { .. })
    ));
    assert!(apply_credit(dec("-1"), &[]).is_err());
    assert!(
        assign(
            dec("-1"),
            AssignMode::InvoiceFirst(1),
            &[invoice(1, 10, "100", "0")],
            Decimal::ZERO
        )
        .is_err()
    );
    assert!(unassign(&Allocation::default(), |_| Decimal::ZERO, dec("-1")).is_err());
}

#[test]
fn manual_assignment_modes() {
    let invoices = [invoice(1, 10, "100", "0"), invoice(2, 20, "200", "0")];
    let up_to_debt = assign(dec("350"), AssignMode::UpToDebt, &invoices, Decimal::ZERO);
    assert_eq!(
        up_to_debt.unwrap(),
        Allocation {
            to_invoices: vec![(1, dec("100")), (2, dec("200"))],
            to_credit: dec("50"),
            from_credit: Decimal::ZERO,
        }
    );
    // The newer invoice first, then the older one; what neither asks is credit, so the
    // client's overpayment is refundable and settles the next documents (it once stayed on
    // the chosen invoice, beyond its total, where nothing else saw it).
    let first = assign(
        dec("350"),
        AssignMode::InvoiceFirst(2),
        &invoices,
        Decimal::ZERO,
    )
    .unwrap();
    assert_eq!(
        first,
        Allocation {
            to_invoices: vec![(2, dec("200")), (1, dec("100"))],
            to_credit: dec("50"),
            from_credit: Decimal::ZERO,
        }
    );
    // Less than the chosen invoice asks: all of it there.
    let part = assign(
        dec("150"),
        AssignMode::InvoiceFirst(2),
        &invoices,
        Decimal::ZERO,
    )
    .unwrap();
    assert_eq!(part.to_invoices, vec![(2, dec("150"))]);
    assert_eq!(
        assign(
            dec("1"),
            AssignMode::InvoiceFirst(99),
            &invoices,
            Decimal::ZERO
        ),
        Err(PaymentError::UnknownInvoice(99))
    );
}

#[test]
fn undo_gives_back_what_was_placed() {
    let invoices = [invoice(1, 10, "100", "0")];
    let a = allocate(dec("150"), &invoices, Decimal::ZERO).unwrap();
    assert_eq!(
        unassign(&a, |_| dec("100"), dec("50")).unwrap(),
        Reversal {
            from_invoices: vec![(1, dec("100"))],
            credit_after: Decimal::ZERO,
            released: dec("150"),
        }
    );
    // The 50 credit was refunded meanwhile: undo the refund first.
    assert_eq!(
        unassign(&a, |_| dec("100"), dec("20")),
        Err(PaymentError::CreditAlreadySpent {
            needed: dec("50"),
            available: dec("20")
        })
    );
    // Undoing a payment that spent old credit gives the credit back.
    let b = allocate(dec("60"), &invoices, dec("40")).unwrap();
    let r = unassign(&b, |_| dec("100"), Decimal::ZERO).unwrap();
    assert_eq!((r.credit_after, r.released), (dec("40"), dec("60")));
}

/// Found probing from outside: a payment on an invoice later cancelled — the credit note made
/// what it paid credit, the credit paid the next invoice — was taken back from the cancelled
/// invoice, which was left paid −500.00 and dunned. What a credit note moved off a document
/// is taken back from the credit, and refused when that credit is spent.
#[test]
fn undo_takes_back_from_credit_what_a_credit_note_moved_there() {
    let a = allocate(dec("500"), &[invoice(1, 10, "500", "0")], Decimal::ZERO).unwrap();
    // Cancelled: nothing lies on the invoice now, the 500 is credit.
    let r = unassign(&a, |_| Decimal::ZERO, dec("500")).unwrap();
    assert_eq!(
        r,
        Reversal {
            from_invoices: vec![],
            credit_after: Decimal::ZERO,
            released: dec("500"),
        }
    );
    // A correction took 100 off what it asks: 400 lie on it, 100 in the credit.
    let r = unassign(&a, |_| dec("400"), dec("100")).unwrap();
    assert_eq!(
        (r.from_invoices, r.credit_after),
        (vec![(1, dec("400"))], Decimal::ZERO)
    );
    // The credit it became was spent on the next invoice, or refunded.
    assert_eq!(
        unassign(&a, |_| Decimal::ZERO, Decimal::ZERO),
        Err(PaymentError::CreditAlreadySpent {
            needed: dec("500"),
            available: Decimal::ZERO
        })
    );
}

#[test]
fn refunds_never_exceed_credit() {
    assert_eq!(refund(dec("100"), dec("30")), Ok(dec("70")));
    assert_eq!(refund(dec("100"), dec("100")), Ok(Decimal::ZERO));
    assert_eq!(
        refund(dec("100"), dec("100.01")),
        Err(RefundError::ExceedsCredit {
            credit: dec("100"),
            requested: dec("100.01")
        })
    );
    assert_eq!(
        refund(dec("100"), Decimal::ZERO),
        Err(RefundError::NotPositive(Decimal::ZERO))
    );
    assert!(refund(dec("100"), dec("-5")).is_err());
}

#[test]
fn a_services_own_documents_are_paid_first_then_the_rest_oldest_first() {
    // 1 and 3 bill other services; 2 and 4 bill the service whose symbol the payment carried.
    let open = [
        invoice(1, 5, "100", "0"),
        invoice(2, 10, "100", "0"),
        invoice(3, 15, "100", "0"),
        invoice(4, 20, "100", "40"),
    ];
    let service: std::collections::HashSet<i64> = [2, 4].into();
    let cases = [
        ("50", "0", vec![(2, "50")], "0"),
        ("160", "0", vec![(2, "100"), (4, "60")], "0"),
        ("250", "0", vec![(2, "100"), (4, "60"), (1, "90")], "0"),
        (
            "500",
            "0",
            vec![(2, "100"), (4, "60"), (1, "100"), (3, "100")],
            "140",
        ),
        // Credit joins the payment, as in `allocate`.
        ("100", "60", vec![(2, "100"), (4, "60")], "0"),
    ];
    for (amount, credit, expected, to_credit) in cases {
        let got = allocate_preferring(dec(amount), &open, dec(credit), &service).unwrap();
        let expected: Vec<(i64, Decimal)> =
            expected.into_iter().map(|(id, a)| (id, dec(a))).collect();
        assert_eq!(got.to_invoices, expected, "{amount} with {credit} credit");
        assert_eq!(got.to_credit, dec(to_credit), "{amount}");
    }
    // Nothing preferred: exactly `allocate`.
    assert_eq!(
        allocate_preferring(dec("250"), &open, dec("0"), &Default::default()).unwrap(),
        allocate(dec("250"), &open, dec("0")).unwrap()
    );
}

// --- statement ---------------------------------------------------------------------------

#[test]
fn statement_in_date_then_kind_order() {
    let entries = [
        StatementEntry::Refund {
            date: day(5),
            amount: dec("20"),
        },
        StatementEntry::Payment {
            date: day(5),
            reference: "VS 1001".into(),
            amount: dec("400"),
        },
        StatementEntry::Invoice {
            date: day(5),
            number: "20260002".into(),
            total: dec("300"),
        },
        StatementEntry::CreditNote {
            date: day(5),
            number: "D1".into(),
            total: dec("50"),
        },
        StatementEntry::Invoice {
            date: day(1),
            number: "20260001".into(),
            total: dec("300"),
        },
        StatementEntry::OpeningBalance {
            date: day(1),
            amount: dec("-100"),
        },
        StatementEntry::Payment {
            date: day(7),
            reference: String::new(),
            amount: dec("300"),
        },
    ];
    let rows = statement(Decimal::ZERO, &entries);
    let got: Vec<(u32, StatementKind, &str, Decimal, Decimal)> = rows
        .iter()
        .map(|r| {
            use chrono::Datelike;
            (
                r.date.day(),
                r.kind,
                r.description.as_str(),
                r.amount,
                r.running_balance,
            )
        })
        .collect();
    use StatementKind::{Payment, Refund};
    const OPENING_BALANCE: StatementKind = StatementKind::Document(DocumentKind::OpeningBalance);
    const INVOICE: StatementKind = StatementKind::Document(DocumentKind::Invoice);
    const CREDIT_NOTE: StatementKind = StatementKind::Document(DocumentKind::CreditNote);
    assert_eq!(
        got,
        vec![
            (
                1,
                OPENING_BALANCE,
                "Opening balance",
                dec("-100"),
                dec("-100")
            ),
            (1, INVOICE, "Invoice 20260001", dec("-300"), dec("-400")),
            (5, INVOICE, "Invoice 20260002", dec("-300"), dec("-700")),
            (5, CREDIT_NOTE, "Credit note D1", dec("50"), dec("-650")),
            (5, Payment, "Payment VS 1001", dec("400"), dec("-250")),
            (5, Refund, "Refund", dec("-20"), dec("-270")),
            (7, Payment, "Payment", dec("300"), dec("30")),
        ]
    );
    assert_eq!(balance(Decimal::ZERO, &entries), dec("30"));
    // Brought forward from the previous statement.
    let rows = statement(dec("10"), &entries[..1]);
    assert_eq!(rows[0].running_balance, dec("-10"));
    assert!(statement(Decimal::ZERO, &[]).is_empty());
}

#[test]
fn statement_keeps_input_order_for_equal_entries() {
    let entries: Vec<StatementEntry> = (1..=3)
        .map(|n| StatementEntry::Payment {
            date: day(2),
            reference: n.to_string(),
            amount: dec("1"),
        })
        .collect();
    let rows = statement(Decimal::ZERO, &entries);
    let refs: Vec<&str> = rows.iter().map(|r| r.description.as_str()).collect();
    assert_eq!(refs, ["Payment 1", "Payment 2", "Payment 3"]);
}

// --- properties --------------------------------------------------------------------------

fn cents(minor: i64) -> Decimal {
    Decimal::new(minor, 2)
}

#[derive(Debug, Clone)]
enum Op {
    Invoice { total: i64, due: u32 },
    Pay { amount: i64 },
    ApplyCredit,
    Refund { amount: i64 },
    AssignUpToDebt { amount: i64 },
    AssignWhole { pick: usize, amount: i64 },
    Undo { pick: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (1i64..50_000, 1u32..28).prop_map(|(total, due)| Op::Invoice { total, due }),
        (1i64..80_000).prop_map(|amount| Op::Pay { amount }),
        Just(Op::ApplyCredit),
        (1i64..30_000).prop_map(|amount| Op::Refund { amount }),
        (1i64..80_000).prop_map(|amount| Op::AssignUpToDebt { amount }),
        (any::<usize>(), 1i64..80_000).prop_map(|(pick, amount)| Op::AssignWhole { pick, amount }),
        any::<usize>().prop_map(|pick| Op::Undo { pick }),
    ]
}

#[derive(Default)]
struct Ledger {
    invoices: Vec<OpenInvoice>,
    credit: Decimal,
    paid_in: Decimal,
    refunded: Decimal,
    placed: Vec<Allocation>,
}

impl Ledger {
    /// Checks the allocation's own rules, then stores it.
    /// Checks the allocation's own rules — no document paid beyond what it asks; `first`
    /// (a chosen document) then the rest oldest first — then stores it.
    fn record(&mut self, a: Allocation, amount: Decimal, first: Option<i64>) {
        let before = self.invoices.clone();
        assert!(a.to_credit >= Decimal::ZERO && a.from_credit >= Decimal::ZERO);
        assert!(a.to_credit.is_zero() || a.from_credit.is_zero());
        assert_eq!(a.allocated() + a.to_credit, amount + a.from_credit);
        for &(id, part) in &a.to_invoices {
            assert!(part > Decimal::ZERO, "allocation {part} is not positive");
            let invoice = self.invoices.iter_mut().find(|i| i.id == id).unwrap();
            assert!(part <= invoice.open_amount(), "{part} exceeds {invoice:?}");
            invoice.paid += part;
        }
        {
            // Oldest first (after the chosen one): an invoice is reached only when every
            // older one is settled, and money left over means every invoice is settled.
            let (chosen, others): (Vec<&OpenInvoice>, Vec<&OpenInvoice>) = oldest_first(&before)
                .into_iter()
                .partition(|i| Some(i.id) == first);
            let order: Vec<&OpenInvoice> = chosen.into_iter().chain(others).collect();
            let reached: Vec<i64> = a.to_invoices.iter().map(|&(id, _)| id).collect();
            let expected: Vec<i64> = order
                .iter()
                .filter(|i| i.open_amount() > Decimal::ZERO)
                .take(reached.len())
                .map(|i| i.id)
                .collect();
            assert_eq!(reached, expected);
            if let Some((_, rest)) = reached.split_last() {
                for id in rest {
                    let invoice = self.invoices.iter().find(|i| i.id == *id).unwrap();
                    assert!(invoice.open_amount().is_zero(), "skipped past {invoice:?}");
                }
            }
            let settled_all = self.invoices.iter().all(|i| i.open_amount().is_zero());
            if a.credit_after(self.credit) > Decimal::ZERO {
                assert!(settled_all, "credit left while an invoice is open");
            }
        }
        self.credit = a.credit_after(self.credit);
        self.paid_in += amount;
        self.placed.push(a);
    }

    fn conserved(&self) {
        let on_invoices: Decimal = self.invoices.iter().map(|i| i.paid).sum();
        assert!(self.credit >= Decimal::ZERO);
        assert_eq!(on_invoices + self.credit + self.refunded, self.paid_in);
        assert!(self.invoices.iter().all(|i| i.paid >= Decimal::ZERO));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn money_is_conserved(ops in proptest::collection::vec(op(), 1..40)) {
        let mut ledger = Ledger::default();
        for op in ops {
            match op {
                Op::Invoice { total, due } => {
                    let id = ledger.invoices.len() as i64 + 1;
                    ledger.invoices.push(OpenInvoice {
                        id,
                        number: id.to_string(),
                        issue_date: day(1),
                        due_date: day(due),
                        total: cents(total),
                        paid: Decimal::ZERO,
                    });
                }
                Op::Pay { amount } | Op::AssignUpToDebt { amount } => {
                    let amount = cents(amount);
                    let a = if matches!(op, Op::Pay { .. }) {
                        allocate(amount, &ledger.invoices, ledger.credit)
                    } else {
                        assign(amount, AssignMode::UpToDebt, &ledger.invoices, ledger.credit)
                    };
                    ledger.record(a.unwrap(), amount, None);
                }
                Op::ApplyCredit => {
                    let a = apply_credit(ledger.credit, &ledger.invoices).unwrap();
                    ledger.record(a, Decimal::ZERO, None);
                }
                Op::AssignWhole { pick, amount } => {
                    let amount = cents(amount);
                    let Some(id) = (!ledger.invoices.is_empty())
                        .then(|| ledger.invoices[pick % ledger.invoices.len()].id)
                    else {
                        continue;
                    };
                    let a = assign(
                        amount,
                        AssignMode::InvoiceFirst(id),
                        &ledger.invoices,
                        ledger.credit,
                    )
                    .unwrap();
                    ledger.record(a, amount, Some(id));
                }
                Op::Refund { amount } => {
                    let amount = cents(amount);
                    match refund(ledger.credit, amount) {
                        Ok(left) => {
                            prop_assert_eq!(left, ledger.credit - amount);
                            ledger.credit = left;
                            ledger.refunded += amount;
                        }
                        Err(_) => prop_assert!(amount > ledger.credit),
                    }
                }
                Op::Undo { pick } => {
                    if ledger.placed.is_empty() {
                        continue;
                    }
                    let index = pick % ledger.placed.len();
                    let paid_now = |id: i64| {
                        ledger.invoices.iter().find(|i| i.id == id).map_or(Decimal::ZERO, |i| i.paid)
                    };
                    match unassign(&ledger.placed[index], paid_now, ledger.credit) {
                        Ok(r) => {
                            let a = ledger.placed.remove(index);
                            prop_assert_eq!(&r.from_invoices, &a.to_invoices);
                            for (id, part) in r.from_invoices {
                                let invoice =
                                    ledger.invoices.iter_mut().find(|i| i.id == id).unwrap();
                                invoice.paid -= part;
                            }
                            ledger.credit = r.credit_after;
                            ledger.paid_in -= r.released;
                        }
                        Err(PaymentError::CreditAlreadySpent { needed, available }) => {
                            prop_assert!(needed > available);
                        }
                        Err(e) => prop_assert!(false, "unexpected {e}"),
                    }
                }
            }
            ledger.conserved();
        }
    }

    #[test]
    fn statement_ends_at_the_balance(
        entries in proptest::collection::vec((0u8..5, 1u32..28, 0i64..100_000), 0..30),
        forward in -100_000i64..100_000,
    ) {
        let entries: Vec<StatementEntry> = entries
            .into_iter()
            .map(|(kind, d, minor)| {
                let (date, amount) = (day(d), cents(minor));
                match kind {
                    0 => StatementEntry::OpeningBalance { date, amount: -amount },
                    1 => StatementEntry::Invoice { date, number: "F".into(), total: amount },
                    2 => StatementEntry::CreditNote { date, number: "D".into(), total: amount },
                    3 => StatementEntry::Payment { date, reference: String::new(), amount },
                    _ => StatementEntry::Refund { date, amount },
                }
            })
            .collect();
        let rows = statement(cents(forward), &entries);
        prop_assert_eq!(rows.len(), entries.len());
        let closing = rows.last().map_or(cents(forward), |r| r.running_balance);
        prop_assert_eq!(closing, balance(cents(forward), &entries));
        for pair in rows.windows(2) {
            prop_assert!((pair[0].date, pair[0].kind) <= (pair[1].date, pair[1].kind));
            prop_assert_eq!(pair[1].running_balance, pair[0].running_balance + pair[1].amount);
        }
    }
}

#[test]
fn standing_counts_credit_against_what_is_owed() {
    use super::standing;
    let cases = [
        // (credit, owed, standing)
        ("0", "0", "0"),
        ("200.10", "0", "200.10"),
        ("0", "998.00", "-998.00"),
    ];
    for (credit, owed, expected) in cases {
        assert_eq!(
            standing(dec(credit), dec(owed)),
            dec(expected),
            "{credit} {owed}"
        );
    }
}

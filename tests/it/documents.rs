//! The books through `ispctl`: invoices paid from camt.053 and CSV statements, cancellation
//! by credit note (with the paid money returned as credit, and rebilling), opening balances of
//! migrated clients, pro-forma clients and the tax invoice that follows their payment, and
//! credit spent on the next invoice.

use serde_json::Value;

use crate::daemon::Daemon;

/// A daemon on SQLite, or on a fresh PostgreSQL database when `pg` is given.
fn start(name: &str, pg: Option<&crate::daemon::PgDatabase>) -> Daemon {
    Daemon::start(name, &crate::daemon::database_section(pg))
}

fn client(d: &Daemon, number: &str, extra: &[&str]) {
    let mut args = vec![
        "client",
        "add",
        "--number",
        number,
        "--name",
        "Klient",
        "--street",
        "Dlouhá 1",
        "--postcode",
        "110 00",
        "--city",
        "Praha",
    ];
    args.extend_from_slice(extra);
    d.ispctl_json(&args);
}

/// A 499.00 CZK (VAT 21 % included) monthly tariff and a subscription of `number` from
/// 2026-11-01, billing day 1.
fn subscribed(d: &Daemon, number: &str) -> i64 {
    subscribed_from(d, number, "2026-11-01")
}

/// The 499.00 CZK "Fiber 100" tariff, created once.
fn fiber_100(d: &Daemon) {
    if d.ispctl(&["tariff", "show", "Fiber 100"]).status.code() != Some(0) {
        vat_tariff(d, "Fiber 100", ("100M", "20M"), "499.00");
    }
}

/// A tariff at `price` a month, 21 % VAT included.
fn vat_tariff(d: &Daemon, name: &str, (down, up): (&str, &str), price: &str) {
    d.ispctl_json(&[
        "tariff",
        "add",
        "--name",
        name,
        "--down",
        down,
        "--up",
        up,
        "--price",
        price,
        "--vat-rate",
        "21",
        "--price-includes-vat",
    ]);
}

fn subscribed_from(d: &Daemon, number: &str, activation: &str) -> i64 {
    fiber_100(d);
    let sub = d.ispctl_json(&[
        "subscription",
        "add",
        "--client",
        number,
        "--tariff",
        "Fiber 100",
        "--activation",
        activation,
    ]);
    sub["id"].as_i64().unwrap()
}

fn invoices(d: &Daemon, number: &str) -> Vec<Value> {
    let list = d.ispctl_json(&["invoice", "list", "--client", number]);
    list["items"].as_array().cloned().unwrap_or_default()
}

fn balance(d: &Daemon, number: &str) -> (String, String, String) {
    let b = d.ispctl_json(&["client", "balance", number]);
    let text = |k: &str| b[k].as_str().unwrap().to_owned();
    (text("balance"), text("owed"), text("credit"))
}

fn s(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_owned()
}

/// A camt.053.001.02 statement with one booked credit per (bank id, VS, amount).
fn camt053(entries: &[(&str, &str, &str)]) -> String {
    let mut xml = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
<GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-11-20T05:00:00</CreDtTm></GrpHdr>
<Stmt><Id>S1</Id><CreDtTm>2026-11-20T05:00:00</CreDtTm>
<Acct><Id><IBAN>CZ6508000000192000145399</IBAN></Id><Ccy>CZK</Ccy></Acct>
"#,
    );
    for (id, vs, amount) in entries {
        xml.push_str(&format!(
            "<Ntry><Amt Ccy=\"CZK\">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>\
             <BookgDt><Dt>2026-11-20</Dt></BookgDt><AcctSvcrRef>{id}</AcctSvcrRef>\
             <NtryDtls><TxDtls><Refs><EndToEndId>VS{vs}</EndToEndId></Refs></TxDtls></NtryDtls>\
             </Ntry>\n"
        ));
    }
    xml.push_str("</Stmt></BkToCstmrStmt></Document>\n");
    xml
}

/// The column mapping of the CSV statements the tests write (as a bank exports them).
pub(crate) const MAPPING: &str = r#"
delimiter = ";"
has_header = true
date_format = "%d.%m.%Y"
decimal_comma = true
default_currency = "CZK"
[columns]
transaction_id = "ID"
date = "Datum"
amount = "Objem"
variable_symbol = "VS"
payer_account = "Protiucet"
"#;

#[test]
fn invoices_are_paid_from_camt053_and_csv_statements() {
    let d = Daemon::start("documents-statements", "");
    client(&d, "1001", &[]);
    client(&d, "1002", &[]);
    let sub = subscribed(&d, "1001").to_string();
    subscribed(&d, "1002");
    // A large run is counted and totalled in full but shows only --limit documents.
    let dry = d.ispctl_json(&[
        "billing",
        "run",
        "--as-of",
        "2026-11-01",
        "--dry-run",
        "--limit",
        "1",
    ]);
    assert_eq!(dry["count"], 2);
    assert_eq!(dry["invoices"].as_array().unwrap().len(), 1);
    assert_eq!(
        (
            s(&dry["totals"][0], "currency"),
            s(&dry["totals"][0], "gross")
        ),
        ("CZK".into(), "998.00".into())
    );
    let run = d.ispctl_json(&["billing", "run", "--as-of", "2026-11-01"]);
    assert_eq!(run["invoices"].as_array().unwrap().len(), 2);
    assert_eq!(balance(&d, "1001").0, "-499.00");
    // Invoiced to the end of November, paid for nothing yet: expires on the 1st.
    let shown = d.ispctl_json(&["subscription", "show", &sub]);
    assert_eq!(
        (
            s(&shown, "billed_until"),
            s(&shown, "expiration"),
            s(&shown, "paid_until")
        ),
        (
            "2026-11-30".into(),
            "2026-11-01".into(),
            "2026-10-31".into()
        )
    );

    let statement = camt053(&[("B1", "1001", "499.00")]);
    let imported = d.import_camt053(&statement);
    assert_eq!(imported["recorded"], 1, "{imported}");
    let imported = d.import_csv(
        "bank.csv",
        "ID;Datum;Objem;VS;Protiucet\nC1;20.11.2026;499,00;1002;19-2000145399/0800\n",
    );
    assert_eq!(imported["recorded"], 1, "{imported}");

    for number in ["1001", "1002"] {
        let list = invoices(&d, number);
        assert_eq!(list.len(), 1);
        assert_eq!(
            (
                s(&list[0], "state"),
                s(&list[0], "open"),
                s(&list[0], "paid")
            ),
            ("paid".into(), "0.00".into(), "499.00".into()),
            "{number}"
        );
        assert_eq!(
            balance(&d, number),
            ("0.00".into(), "0.00".into(), "0.00".into())
        );
    }
    let shown = d.ispctl_json(&["subscription", "show", &sub]);
    assert_eq!(
        (s(&shown, "expiration"), s(&shown, "paid_until")),
        ("".into(), "2026-11-30".into())
    );
    // The same camt.053 again records nothing.
    let again = d.import_camt053(&statement);
    assert_eq!(
        (again["recorded"].as_i64(), again["duplicates"].as_i64()),
        (Some(0), Some(1))
    );
}

#[test]
fn a_cancelled_invoice_returns_what_was_paid_and_can_be_rebilled() {
    a_cancelled_invoice_returns_what_was_paid_and_can_be_rebilled_on(None);
}

#[test]
fn a_cancelled_invoice_returns_what_was_paid_and_can_be_rebilled_on_postgres() {
    if let Some(db) = crate::daemon::PgDatabase::create("doc_cancel") {
        a_cancelled_invoice_returns_what_was_paid_and_can_be_rebilled_on(Some(&db));
    }
}

fn a_cancelled_invoice_returns_what_was_paid_and_can_be_rebilled_on(
    pg: Option<&crate::daemon::PgDatabase>,
) {
    let d = start("documents-cancel", pg);
    client(&d, "1001", &[]);
    subscribed(&d, "1001");
    d.ispctl_json(&["billing", "run", "--as-of", "2026-11-01"]);
    let invoice = s(&invoices(&d, "1001")[0], "number");
    d.ispctl_json(&[
        "payment",
        "add",
        "--client",
        "1001",
        "--amount",
        "200.00",
        "--date",
        "2026-11-05",
    ]);

    // A reason is required: it is printed on the credit note.
    let refused = d.ispctl(&["invoice", "cancel", &invoice, "--reason", " "]);
    assert_ne!(refused.status.code(), Some(0));
    assert!(crate::daemon::stderr(&refused).contains("reason"));

    let cancelled = d.ispctl_json(&[
        "invoice",
        "cancel",
        &invoice,
        "--reason",
        "wrong tariff",
        "--date",
        "2026-11-06",
    ]);
    assert_eq!(s(&cancelled, "kind"), "credit_note");
    assert_eq!(s(&cancelled, "related_number"), invoice);
    assert_eq!(s(&cancelled, "gross"), "-499.00");
    assert_eq!(s(&cancelled, "number"), "CN202600001");
    let original = d.ispctl_json(&["invoice", "show", &invoice]);
    assert_eq!(
        (
            s(&original, "state"),
            s(&original, "credited"),
            s(&original, "paid")
        ),
        ("cancelled".into(), "499.00".into(), "0.00".into())
    );
    // The 200.00 paid on it is the client's credit now.
    assert_eq!(
        balance(&d, "1001"),
        ("200.00".into(), "0.00".into(), "200.00".into())
    );
    let again = d.ispctl(&["invoice", "cancel", &invoice, "--reason", "twice"]);
    assert!(crate::daemon::stderr(&again).contains("already cancelled"));
    // Nothing is billed again for November: the period stays billed.
    let run = d.ispctl_json(&["billing", "run", "--as-of", "2026-11-30"]);
    assert!(run["invoices"].as_array().unwrap().is_empty(), "{run}");

    // The next month's invoice is paid from the credit as it is issued.
    d.ispctl_json(&["billing", "run", "--as-of", "2026-12-01"]);
    let december = invoices(&d, "1001")
        .into_iter()
        .find(|i| s(i, "issue_date") == "2026-12-01")
        .unwrap();
    assert_eq!(
        (s(&december, "paid"), s(&december, "open")),
        ("200.00".into(), "299.00".into())
    );
    assert_eq!(
        balance(&d, "1001"),
        ("-299.00".into(), "299.00".into(), "0.00".into())
    );

    // Cancel with rebill: the run invoices December again (after, say, a price change).
    let number = s(&december, "number");
    d.ispctl_json(&[
        "invoice",
        "cancel",
        &number,
        "--reason",
        "price",
        "--rebill",
        "--date",
        "2026-12-02",
    ]);
    let rebilled = d.ispctl_json(&["billing", "run", "--as-of", "2026-12-02"]);
    let lines = &rebilled["invoices"][0]["lines"];
    assert_eq!(s(&lines[0], "period_from"), "2026-12-01");
    // The money paid on the cancelled December invoice settles its replacement.
    assert_eq!(
        balance(&d, "1001"),
        ("-299.00".into(), "299.00".into(), "0.00".into())
    );

    let statement = d.ispctl_json(&["client", "statement", "1001"]);
    // Within a day, documents come before credit notes (the statement's fixed order).
    let kinds: Vec<String> = statement["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| s(r, "kind"))
        .collect();
    assert_eq!(
        kinds,
        [
            "invoice",
            "payment",
            "credit_note",
            "invoice",
            "invoice",
            "credit_note"
        ]
    );
    let last = statement["items"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(s(&last, "running_balance"), "-299.00");
}

#[test]
fn a_migrated_debt_is_paid_first_and_a_migrated_credit_pays_the_first_invoice() {
    let d = Daemon::start("documents-opening", "");
    client(&d, "1001", &["--opening-balance", "-150.00"]);
    client(&d, "1002", &["--opening-balance", "600.00"]);
    let opening = invoices(&d, "1001");
    assert_eq!(opening.len(), 1);
    assert_eq!(
        (
            s(&opening[0], "number"),
            s(&opening[0], "kind"),
            s(&opening[0], "open")
        ),
        ("OB-1001".into(), "opening_balance".into(), "150.00".into())
    );
    assert_eq!(
        balance(&d, "1001"),
        ("-150.00".into(), "150.00".into(), "0.00".into())
    );
    assert_eq!(
        balance(&d, "1002"),
        ("600.00".into(), "0.00".into(), "600.00".into())
    );

    // The opening balance is dated the day it is entered (today); the first invoice comes
    // later, so the migrated debt is the oldest item whatever day the test runs.
    subscribed_from(&d, "1001", "2030-01-01");
    subscribed_from(&d, "1002", "2030-01-01");
    d.ispctl_json(&["billing", "run", "--as-of", "2030-01-01"]);
    // 1002's credit paid its first invoice; 101.00 is left.
    let paid = &invoices(&d, "1002")[0];
    assert_eq!(s(paid, "state"), "paid");
    assert_eq!(
        balance(&d, "1002"),
        ("101.00".into(), "0.00".into(), "101.00".into())
    );

    // 1001 pays 300.00: the migrated debt first (it is the oldest), then the invoice.
    d.ispctl_json(&["payment", "add", "--client", "1001", "--amount", "300.00"]);
    let docs = invoices(&d, "1001");
    let ob = docs
        .iter()
        .find(|i| s(i, "kind") == "opening_balance")
        .unwrap();
    let inv = docs.iter().find(|i| s(i, "kind") == "invoice").unwrap();
    assert_eq!(s(ob, "state"), "paid");
    assert_eq!(
        (s(inv, "state"), s(inv, "paid")),
        ("partially_paid".into(), "150.00".into())
    );
    // Once money moved, the opening balance is history: editing it is refused.
    let edit = d.ispctl(&["client", "edit", "1001", "--opening-balance", "-100.00"]);
    assert_ne!(edit.status.code(), Some(0));
    assert!(crate::daemon::stderr(&edit).contains("opening_balance"));
    let statement = d.ispctl_json(&["client", "statement", "1001"]);
    let first = &statement["items"][0];
    assert_eq!(
        (s(first, "kind"), s(first, "amount")),
        ("opening_balance".into(), "-150.00".into())
    );
}

#[test]
fn a_proforma_client_gets_the_tax_invoice_when_paying() {
    a_proforma_client_gets_the_tax_invoice_when_paying_on(None);
}

/// Client 1001 billed by pro-forma and 1002 by invoice, each with a subscription.
fn proforma_and_invoice_clients(d: &Daemon) {
    client(d, "1001", &["--proforma"]);
    client(d, "1002", &[]);
    subscribed(d, "1001");
    subscribed(d, "1002");
}

/// Each of `numbers` owes nothing and has no credit.
fn owe_nothing(d: &Daemon, numbers: &[&str]) {
    for &number in numbers {
        assert_eq!(
            balance(d, number),
            ("0.00".into(), "0.00".into(), "0.00".into()),
            "{number}"
        );
    }
}

/// A bank statement on SQLite is recorded on the store's own connection, except one that
/// pays a client with an open pro-forma: completing it issues the tax invoice, which only the
/// pool's transaction writes, so that statement is recorded there — whole, with the
/// payments beside it, the pro-forma followed by its tax invoice.
#[test]
fn a_statement_completing_a_proforma_issues_its_tax_invoice() {
    let d = start("documents-proforma-statement", None);
    proforma_and_invoice_clients(&d);
    let run = d.ispctl_json(&["billing", "run", "--as-of", "2026-11-01"]);
    let mut kinds: Vec<String> = run["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| s(i, "kind"))
        .collect();
    kinds.sort();
    assert_eq!(kinds, ["invoice", "proforma"]);
    let imported = d.import_camt053(&camt053(&[
        ("P1", "1001", "499.00"),
        ("P2", "1002", "499.00"),
    ]));
    assert_eq!(imported["recorded"], 2, "{imported}");
    let docs = invoices(&d, "1001");
    let tax = docs
        .iter()
        .find(|i| s(i, "kind") == "invoice")
        .unwrap_or_else(|| panic!("no tax invoice for the paid pro-forma: {docs:?}"));
    assert_eq!(
        (s(tax, "related_number"), s(tax, "state"), s(tax, "gross")),
        ("PF202600001".into(), "paid".into(), "499.00".into())
    );
    owe_nothing(&d, &["1001", "1002"]);
}

/// A statement is recorded in parts of 5,000 payments; one whose pro-forma payment comes only
/// in its second part still goes the general way as a whole: every payment once, the
/// pro-forma followed by its tax invoice.
#[test]
fn a_proforma_paid_late_in_a_long_statement_is_recorded_once() {
    a_proforma_paid_late_in_a_long_statement_is_recorded_once_on(None);
}

#[test]
fn a_proforma_paid_late_in_a_long_statement_is_recorded_once_on_postgres() {
    if let Some(db) = crate::daemon::PgDatabase::create("doc_proforma_late") {
        a_proforma_paid_late_in_a_long_statement_is_recorded_once_on(Some(&db));
    }
}

fn a_proforma_paid_late_in_a_long_statement_is_recorded_once_on(
    pg: Option<&crate::daemon::PgDatabase>,
) {
    let d = start("documents-proforma-late", pg);
    proforma_and_invoice_clients(&d);
    d.ispctl_json(&["billing", "run", "--as-of", "2026-11-01"]);
    // Parts are of 5,000 lines: 6,000 payments nobody owns, then the two clients'.
    let refs: Vec<String> = (1..=6_000).map(|n| format!("U{n}")).collect();
    let mut entries: Vec<(&str, &str, &str)> =
        refs.iter().map(|r| (r.as_str(), "777", "1.00")).collect();
    entries.extend([("P2", "1002", "499.00"), ("P1", "1001", "499.00")]);
    let imported = d.import_camt053(&camt053(&entries));
    assert_eq!(
        (&imported["recorded"], &imported["unmatched"]),
        (&serde_json::json!(6_002), &serde_json::json!(6_000)),
        "{}",
        imported["duplicates"]
    );
    let unmatched = d.ispctl_json(&["payment", "unmatched"]);
    assert_eq!(unmatched["items"].as_array().unwrap().len(), 6_000);
    let docs = invoices(&d, "1001");
    assert!(
        docs.iter()
            .any(|i| s(i, "kind") == "invoice" && s(i, "state") == "paid"),
        "no paid tax invoice for the paid pro-forma: {docs:?}"
    );
    owe_nothing(&d, &["1001", "1002"]);
}

#[test]
fn a_proforma_client_gets_the_tax_invoice_when_paying_on_postgres() {
    if let Some(db) = crate::daemon::PgDatabase::create("doc_proforma") {
        a_proforma_client_gets_the_tax_invoice_when_paying_on(Some(&db));
    }
}

fn a_proforma_client_gets_the_tax_invoice_when_paying_on(pg: Option<&crate::daemon::PgDatabase>) {
    let d = start("documents-proforma", pg);
    client(&d, "1001", &["--proforma"]);
    subscribed(&d, "1001");
    let run = d.ispctl_json(&["billing", "run", "--as-of", "2026-11-01"]);
    let proforma = &run["invoices"][0];
    assert_eq!(
        (s(proforma, "kind"), s(proforma, "number")),
        ("proforma".into(), "PF202600001".into())
    );
    assert_eq!(balance(&d, "1001").1, "499.00");

    // A partial payment issues no tax invoice yet.
    d.ispctl_json(&[
        "payment",
        "add",
        "--client",
        "1001",
        "--amount",
        "99.00",
        "--date",
        "2026-11-03",
    ]);
    assert_eq!(invoices(&d, "1001").len(), 1);
    d.ispctl_json(&[
        "payment",
        "add",
        "--client",
        "1001",
        "--amount",
        "400.00",
        "--date",
        "2026-11-04",
    ]);
    let docs = invoices(&d, "1001");
    let tax = docs
        .iter()
        .find(|i| s(i, "kind") == "invoice")
        .expect("tax invoice issued");
    assert_eq!(
        (s(tax, "number"), s(tax, "related_number"), s(tax, "state")),
        ("202600001".into(), "PF202600001".into(), "paid".into())
    );
    // Dated by the payment that completed the pro-forma.
    assert_eq!(
        (s(tax, "issue_date"), s(tax, "taxable_supply_date")),
        ("2026-11-04".into(), "2026-11-04".into())
    );
    assert_eq!(s(tax, "gross"), "499.00");
    assert_eq!(
        balance(&d, "1001"),
        ("0.00".into(), "0.00".into(), "0.00".into())
    );
    // The statement lists the pro-forma once, not its tax invoice as a second debt.
    let statement = d.ispctl_json(&["client", "statement", "1001"]);
    let kinds: Vec<String> = statement["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| s(r, "kind"))
        .collect();
    assert_eq!(kinds, ["proforma", "payment", "payment"]);
}

/// The tax invoice of a paid pro-forma holds none of the money, which lies on the
/// pro-forma: cancelling it cancels the pro-forma too and returns the money to credit once,
/// and the payment that paid the pro-forma is unassigned only once its tax invoice is out of
/// the way. Found probing from outside: cancelling the tax invoice left the pro-forma paid
/// beside the credit (the money counted twice), and unassigning first left the tax invoice
/// paid with no money behind it.
#[test]
fn cancelling_a_proformas_tax_invoice_returns_its_money_once() {
    let d = start("documents-proforma-cancel", None);
    client(&d, "1001", &["--proforma"]);
    subscribed(&d, "1001");
    d.ispctl_json(&["billing", "run", "--as-of", "2026-11-01"]);
    // Paid from a statement, by hand: the payment's id is then known.
    d.import_camt053(&camt053(&[("P1", "77777", "499.00")]));
    let payment = d.ispctl_json(&["payment", "unmatched"])["items"][0]["id"].to_string();
    d.ispctl_json(&["payment", "assign", &payment, "--client", "1001"]);
    let state = |number: &str| s(&d.ispctl_json(&["invoice", "show", number]), "state");
    assert_eq!(state("202600001"), "paid", "the tax invoice");

    let refused = d.ispctl(&["payment", "unassign", &payment]);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && err.contains("202600001"),
        "{err}"
    );
    assert_eq!(state("PF202600001"), "paid");

    d.ispctl_json(&["invoice", "cancel", "202600001", "--reason", "not supplied"]);
    assert_eq!(
        (state("202600001"), state("PF202600001")),
        ("cancelled".into(), "cancelled".into())
    );
    assert_eq!(
        balance(&d, "1001"),
        ("499.00".into(), "0.00".into(), "499.00".into())
    );
    // Now the payment comes off the client's credit, the only place its money is.
    d.ispctl_json(&["payment", "unassign", &payment]);
    assert_eq!(
        balance(&d, "1001"),
        ("0.00".into(), "0.00".into(), "0.00".into())
    );
    assert_eq!(state("PF202600001"), "cancelled", "not asked for again");
}

#[test]
fn ending_a_service_inside_an_invoiced_month_credits_the_rest() {
    ending_a_service_inside_an_invoiced_month_credits_the_rest_on(None);
}

#[test]
fn ending_a_service_inside_an_invoiced_month_credits_the_rest_on_postgres() {
    if let Some(db) = crate::daemon::PgDatabase::create("doc_early_end") {
        ending_a_service_inside_an_invoiced_month_credits_the_rest_on(Some(&db));
    }
}

fn ending_a_service_inside_an_invoiced_month_credits_the_rest_on(
    pg: Option<&crate::daemon::PgDatabase>,
) {
    let d = start("documents-early-end", pg);
    client(&d, "1001", &[]);
    let sub = subscribed(&d, "1001").to_string();
    d.ispctl_json(&["billing", "run", "--as-of", "2026-11-01"]);
    let invoice = s(&invoices(&d, "1001")[0], "number");
    d.ispctl_json(&[
        "payment",
        "add",
        "--client",
        "1001",
        "--amount",
        "499.00",
        "--date",
        "2026-11-02",
    ]);
    d.ispctl_json(&["subscription", "end", &sub, "--last-day", "2026-11-15"]);

    let run = d.ispctl_json(&["billing", "run", "--as-of", "2026-11-16"]);
    let documents = run["invoices"].as_array().unwrap();
    assert_eq!(documents.len(), 1, "{run}");
    let credit = &documents[0];
    assert_eq!(
        (s(credit, "kind"), s(credit, "related_number")),
        ("credit_note".into(), invoice.clone())
    );
    // The month reversed, the 15 days charged again: 499.00 - 249.50.
    let lines = credit["lines"].as_array().unwrap();
    assert_eq!(
        lines
            .iter()
            .map(|l| (s(l, "quantity"), s(l, "gross"), s(l, "period_to")))
            .collect::<Vec<_>>(),
        [
            ("-1".into(), "-499.00".into(), "2026-11-30".into()),
            ("0.5".into(), "249.50".into(), "2026-11-15".into()),
        ]
    );
    assert_eq!(s(credit, "gross"), "-249.50");
    // Settled on issue: it reduced the invoice and returned the overpaid part.
    assert_eq!(s(credit, "state"), "paid");
    // The client had paid the whole month: the difference is their credit.
    assert_eq!(
        balance(&d, "1001"),
        ("249.50".into(), "0.00".into(), "249.50".into())
    );
    let original = d.ispctl_json(&["invoice", "show", &invoice]);
    assert_eq!(
        (
            s(&original, "state"),
            s(&original, "credited"),
            s(&original, "paid")
        ),
        ("paid".into(), "249.50".into(), "249.50".into())
    );
    // Corrected once: later runs issue nothing, not even for December.
    let again = d.ispctl_json(&["billing", "run", "--as-of", "2026-12-01"]);
    assert!(again["invoices"].as_array().unwrap().is_empty(), "{again}");
}

#[test]
fn a_total_price_pays_the_whole_term_at_once_and_an_early_end_credits_the_rest() {
    let d = start("documents-total", None);
    client(&d, "1001", &[]);
    d.ispctl_json(&[
        "tariff",
        "add",
        "--name",
        "Fiber 12 months",
        "--down",
        "100M",
        "--up",
        "20M",
        "--price",
        "5000.00",
        "--vat-rate",
        "21",
        "--price-includes-vat",
        "--period",
        "total",
    ]);
    let add = [
        "subscription",
        "add",
        "--client",
        "1001",
        "--tariff",
        "Fiber 12 months",
        "--activation",
        "2025-11-01",
    ];
    // The price pays for the commitment term: none, no service.
    let refused = d.ispctl(&add);
    assert_eq!(refused.status.code(), Some(1));
    assert!(crate::daemon::stderr(&refused).contains("commitment"));
    let sub = d.ispctl_json(&[&add[..], &["--commitment", "12"]].concat());
    assert_eq!(s(&sub, "commitment_until"), "2026-10-31");
    // Charged once, in advance, for the whole term; nothing in the months after.
    let run = d.ispctl_json(&["billing", "run", "--as-of", "2025-11-01"]);
    let line = &run["invoices"][0]["lines"][0];
    assert_eq!(
        (
            s(line, "quantity"),
            s(line, "gross"),
            s(line, "period_from"),
            s(line, "period_to")
        ),
        (
            "1".into(),
            "5000.00".into(),
            "2025-11-01".into(),
            "2026-10-31".into()
        ),
        "{run}"
    );
    let later = d.ispctl_json(&["billing", "run", "--as-of", "2026-03-01"]);
    assert!(later["invoices"].as_array().unwrap().is_empty(), "{later}");
    // Ended (in the past) after 181 days of the 365: the 184 left are credited
    // (5000.00 x 184/365).
    let id = sub["id"].to_string();
    d.ispctl_json(&["subscription", "end", &id, "--last-day", "2026-04-30"]);
    let run = d.ispctl_json(&["billing", "run", "--as-of", "2026-05-01"]);
    let documents = run["invoices"].as_array().unwrap();
    assert_eq!(documents.len(), 1, "{run}");
    assert_eq!(
        (s(&documents[0], "kind"), s(&documents[0], "gross")),
        ("credit_note".into(), "-2520.55".into())
    );
}

#[test]
fn a_moved_expiration_gives_the_days_between_and_restarts_the_periods() {
    a_moved_expiration_gives_the_days_between_on(None);
}

#[test]
fn a_moved_expiration_gives_the_days_between_and_restarts_the_periods_on_postgres() {
    if let Some(db) = crate::daemon::PgDatabase::create("doc_expiration") {
        a_moved_expiration_gives_the_days_between_on(Some(&db));
    }
}

fn a_moved_expiration_gives_the_days_between_on(pg: Option<&crate::daemon::PgDatabase>) {
    let d = start("documents-expiration", pg);
    client(&d, "1001", &[]);
    fiber_100(&d);
    let add = |activation: &str, alignment: &str| {
        let sub = d.ispctl_json(&[
            "subscription",
            "add",
            "--client",
            "1001",
            "--tariff",
            "Fiber 100",
            "--activation",
            activation,
            "--alignment",
            alignment,
        ]);
        sub["id"].to_string()
    };
    let sub = add("2026-11-10", "floating");
    d.ispctl_json(&["billing", "run", "--as-of", "2026-11-10"]);
    let move_to = |id: &str, day: &str| {
        d.ispctl(&[
            "subscription",
            "move-expiration",
            id,
            "--date",
            day,
            "--note",
            "outage",
        ])
    };
    // Unpaid charges are not forgiven by a moved expiration.
    let unpaid = move_to(&sub, "2026-12-20");
    assert_eq!(unpaid.status.code(), Some(1));
    assert!(
        crate::daemon::stderr(&unpaid).contains("unpaid"),
        "{unpaid:?}"
    );
    d.ispctl_json(&[
        "payment",
        "add",
        "--client",
        "1001",
        "--amount",
        "499.00",
        "--date",
        "2026-11-12",
    ]);
    // Paid until 9 December; moved to the 20th: ten days given.
    assert!(move_to(&sub, "2026-12-20").status.success());
    let moved = d.ispctl_json(&["subscription", "show", &sub]);
    assert_eq!(
        (s(&moved, "paid_until"), s(&moved, "billed_until")),
        ("2026-12-19".into(), "2026-12-19".into())
    );
    let history = d.ispctl_json(&["subscription", "history", &sub]);
    assert!(
        history["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| s(h, "note")
                == "expiration 2026-12-10 → 2026-12-20: the days between given; outage"),
        "{history}"
    );
    // Only later, never back; and not for a service on the client's billing day.
    let back = move_to(&sub, "2026-12-18");
    assert!(crate::daemon::stderr(&back).contains("date"), "{back:?}");
    let on_billing_day = add("2026-11-01", "billing-day");
    let refused = move_to(&on_billing_day, "2026-12-20");
    assert!(
        crate::daemon::stderr(&refused).contains("floating"),
        "{refused:?}"
    );
    // Nothing is charged for the days given; the periods follow the 20th, whole.
    let lines_of = |as_of: &str| -> Vec<(String, String, String)> {
        let run = d.ispctl_json(&["billing", "run", "--as-of", as_of]);
        run["invoices"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|i| i["lines"].as_array().unwrap().clone())
            .filter(|l| l["subscription_id"].as_i64() == sub.parse().ok())
            .map(|l| (s(&l, "period_from"), s(&l, "period_to"), s(&l, "gross")))
            .collect()
    };
    assert!(lines_of("2026-12-19").is_empty());
    assert_eq!(
        lines_of("2026-12-20"),
        [("2026-12-20".into(), "2027-01-19".into(), "499.00".into())]
    );
}

#[test]
fn a_fixed_length_service_has_its_end_shifted() {
    let d = start("documents-shift-end", None);
    client(&d, "1001", &[]);
    let month = a_31_day_month_ahead();
    let day = |n: u64| (month + chrono::Days::new(n - 1)).to_string();
    let fixed = subscribed_from(&d, "1001", "2026-11-01").to_string();
    let open = subscribed_from(&d, "1001", "2026-11-01").to_string();
    // A fixed length: its end set ahead, the last charged day two days before.
    d.ispctl_json(&[
        "subscription",
        "end",
        &fixed,
        "--date",
        &day(20),
        "--last-day",
        &day(18),
    ]);
    let shifted = d.ispctl_json(&["subscription", "shift-end", &fixed, "--date", &day(31)]);
    let end = &shifted["scheduled"][0];
    assert_eq!(
        (s(end, "transition"), s(end, "effective"), s(end, "date")),
        ("end".into(), day(31), day(29)),
        "{shifted}"
    );
    let audit = d.ispctl_json(&["audit", "1001"]);
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "subscription.reschedule"),
        "{audit}"
    );
    // A service without an end set ahead has no fixed length; an end is shifted to a later day.
    let refused = d.ispctl(&["subscription", "shift-end", &open, "--date", &day(31)]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(crate::daemon::stderr(&refused).contains("no fixed length"));
    let past = d.ispctl(&["subscription", "shift-end", &fixed, "--date", "2026-11-30"]);
    assert!(crate::daemon::stderr(&past).contains("date"), "{past:?}");
}

#[test]
fn a_pause_with_billing_suspended_is_not_charged() {
    a_pause_with_billing_suspended_is_not_charged_on(None);
}

#[test]
fn a_pause_with_billing_suspended_is_not_charged_on_postgres() {
    if let Some(db) = crate::daemon::PgDatabase::create("doc_pause") {
        a_pause_with_billing_suspended_is_not_charged_on(Some(&db));
    }
}

fn a_pause_with_billing_suspended_is_not_charged_on(pg: Option<&crate::daemon::PgDatabase>) {
    let d = start("documents-pause", pg);
    client(&d, "1001", &[]);
    let sub = subscribed_from(&d, "1001", "2026-09-01").to_string();
    d.ispctl_json(&["billing", "run", "--as-of", "2026-09-01"]);
    d.ispctl_json(&[
        "subscription",
        "pause",
        &sub,
        "--date",
        "2026-09-21",
        "--billing-suspended",
    ]);
    // September was invoiced in advance: its last 10 days are credited. October is paused
    // throughout: nothing to invoice.
    let run = d.ispctl_json(&["billing", "run", "--as-of", "2026-10-01"]);
    let documents = run["invoices"].as_array().unwrap();
    assert_eq!(documents.len(), 1, "{run}");
    assert_eq!(s(&documents[0], "kind"), "credit_note");
    // 20 of 30 days: 0.666667 × 499.00 = 332.67.
    assert_eq!(s(&documents[0], "gross"), "-166.33");

    d.ispctl_json(&["subscription", "resume", &sub, "--date", "2026-10-11"]);
    let run = d.ispctl_json(&["billing", "run", "--as-of", "2026-11-01"]);
    let invoice = &run["invoices"][0];
    let charged: Vec<(String, String, String)> = invoice["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (s(l, "period_from"), s(l, "quantity"), s(l, "gross")))
        .collect();
    // October from the 11th (21 of 31 days), then November in full.
    assert_eq!(
        charged,
        [
            ("2026-10-01".into(), "0.677419".into(), "338.03".into()),
            ("2026-11-01".into(), "1".into(), "499.00".into()),
        ]
    );
    // The September correction stays as it is.
    let again = d.ispctl_json(&["billing", "run", "--as-of", "2026-11-01"]);
    assert!(again["invoices"].as_array().unwrap().is_empty(), "{again}");
}

#[test]
fn the_invoice_carries_its_group_discounts_and_one_off_charges() {
    let d = Daemon::start("documents-group", "");
    d.ispctl_json(&[
        "invoice-group",
        "add",
        "business",
        "--name",
        "ISP Business s.r.o.",
        "--street",
        "Technická 5",
        "--postcode",
        "160 00",
        "--city",
        "Praha",
        "--company-id",
        "87654321",
        "--vat-id",
        "CZ87654321",
        "--iban",
        "CZ6508000000192000145399",
        "--currency",
        "EUR",
        "--due-days",
        "30",
        "--invoice-format",
        "FV{year}{seq:05}",
        "--taxable-date",
        "end-of-period",
    ]);
    client(&d, "1001", &["--invoice-group", "business"]);
    fiber_100(&d);
    let sub = d.ispctl_json(&[
        "subscription",
        "add",
        "--client",
        "1001",
        "--tariff",
        "Fiber 100",
        "--activation",
        "2026-11-10",
        "--alignment",
        "floating",
    ])["id"]
        .to_string();
    d.ispctl_json(&[
        "discount",
        "add",
        &sub,
        "--name",
        "Launch",
        "--percent",
        "10",
        "--from",
        "2026-11-10",
    ]);
    d.ispctl_json(&[
        "charge",
        "add",
        "1001",
        "--description",
        "Installation",
        "--price",
        "1000.00",
        "--price-includes-vat",
        "--vat-rate",
        "21",
        "--on",
        "2026-11-10",
    ]);
    d.ispctl_json(&["billing", "run", "--as-of", "2026-11-10"]);
    let number = s(&invoices(&d, "1001")[0], "number");
    assert_eq!(number, "FV202600001");
    let invoice = d.ispctl_json(&["invoice", "show", &number]);
    // A floating period: the 10th to the 9th, a whole month, no proration.
    let lines: Vec<(String, String, String)> = invoice["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (s(l, "description"), s(l, "quantity"), s(l, "gross")))
        .collect();
    assert_eq!(
        lines,
        [
            (
                "Fiber 100 2026-11-10 – 2026-12-09".into(),
                "1".into(),
                "499.00".into()
            ),
            (
                "Fiber 100: Launch 2026-11-10 – 2026-12-09".into(),
                "1".into(),
                "-49.90".into()
            ),
            ("Installation".into(), "1".into(), "1000.00".into()),
        ]
    );
    assert_eq!(
        (s(&invoice, "gross"), s(&invoice, "currency")),
        ("1449.10".into(), "EUR".into())
    );
    assert_eq!(s(&invoice, "due_date"), "2026-12-10");
    assert_eq!(s(&invoice, "taxable_supply_date"), "2026-12-09");
    assert_eq!(s(&invoice["supplier"], "name"), "ISP Business s.r.o.");
    assert_eq!(s(&invoice["supplier"], "iban"), "CZ6508000000192000145399");
    // The charge is billed once and shows its invoice.
    let charges = d.ispctl_json(&["charge", "list", "1001"]);
    assert_eq!(
        s(&charges["items"][0], "invoice_number"),
        number,
        "{charges}"
    );
    let again = d.ispctl_json(&["billing", "run", "--as-of", "2026-11-10"]);
    assert!(again["invoices"].as_array().unwrap().is_empty(), "{again}");
    // Editing the group later does not change the issued invoice.
    d.ispctl_json(&[
        "invoice-group",
        "set",
        "business",
        "--name",
        "Renamed s.r.o.",
    ]);
    let reread = d.ispctl_json(&["invoice", "show", &number]);
    assert_eq!(s(&reread["supplier"], "name"), "ISP Business s.r.o.");
}

/// The first day of the first 31-day month that begins at least a month from today (the
/// daemon's clock): a tariff change inside it lies ahead, and its fractions are fixed.
fn a_31_day_month_ahead() -> chrono::NaiveDate {
    use chrono::{Datelike, Months};
    let today = chrono::Local::now().date_naive();
    let mut first = today.with_day(1).unwrap() + Months::new(2);
    while (first + Months::new(1) - first).num_days() != 31 {
        first = first + Months::new(1);
    }
    first
}

#[test]
fn a_tariff_change_from_a_date_charges_each_part_of_the_month_at_its_price() {
    a_tariff_change_from_a_date_charges_each_part_of_the_month_at_its_price_on(None);
}

#[test]
fn a_tariff_change_from_a_date_charges_each_part_of_the_month_at_its_price_on_postgres() {
    if let Some(db) = crate::daemon::PgDatabase::create("doc_tariff_change") {
        a_tariff_change_from_a_date_charges_each_part_of_the_month_at_its_price_on(Some(&db));
    }
}

fn a_tariff_change_from_a_date_charges_each_part_of_the_month_at_its_price_on(
    pg: Option<&crate::daemon::PgDatabase>,
) {
    let d = start("documents-tariff-change", pg);
    client(&d, "1001", &[]);
    let month = a_31_day_month_ahead();
    let day = |n: u64| (month + chrono::Days::new(n - 1)).to_string();
    let sub = subscribed_from(&d, "1001", &day(1)).to_string();
    vat_tariff(&d, "Fiber 300", ("300M", "50M"), "799.00");
    d.ispctl_json(&["billing", "run", "--as-of", &day(1)]);
    let invoice = s(&invoices(&d, "1001")[0], "number");

    // Scheduled for the 15th: nothing changes before the day.
    let scheduled = d.ispctl_json(&[
        "subscription",
        "change-tariff",
        &sub,
        "Fiber 300",
        "--date",
        &day(15),
        "--note",
        "upgrade",
    ]);
    assert_eq!(scheduled["tariff"], "Fiber 100");
    let pending = &scheduled["scheduled"][0];
    assert_eq!(
        (
            s(pending, "transition"),
            s(pending, "tariff"),
            s(pending, "effective")
        ),
        ("change_tariff".into(), "Fiber 300".into(), day(15))
    );
    let applied = d.ispctl_json(&["subscription", "apply-due", "--as-of", &day(15)]);
    assert_eq!(applied["items"][0]["state"], "done", "{applied}");
    assert_eq!(
        d.ispctl_json(&["subscription", "show", &sub])["tariff"],
        "Fiber 300"
    );

    // The month was invoiced whole at 499.00 on the 1st. Now: a credit note keeps the 14
    // days at the old price (499.00 × 14/31 = 225.35) and credits the rest, and the invoice
    // charges the 17 days from the 15th at the new one (799.00 × 17/31 = 438.16).
    let run = d.ispctl_json(&["billing", "run", "--as-of", &day(15)]);
    let documents = run["invoices"].as_array().unwrap();
    let kinds: Vec<String> = documents.iter().map(|i| s(i, "kind")).collect();
    assert_eq!(kinds, ["credit_note", "invoice"], "{run}");
    let credit = &documents[0];
    assert_eq!(s(credit, "related_number"), invoice);
    let lines = |doc: &Value| -> Vec<(String, String, String, String)> {
        doc["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    s(l, "quantity"),
                    s(l, "gross"),
                    s(l, "period_from"),
                    s(l, "period_to"),
                )
            })
            .collect()
    };
    assert_eq!(
        lines(credit),
        [
            ("-1".into(), "-499.00".into(), day(1), day(31)),
            ("0.451613".into(), "225.35".into(), day(1), day(14)),
        ]
    );
    assert_eq!(s(credit, "gross"), "-273.65");
    let charged = &documents[1];
    assert_eq!(
        lines(charged),
        [("0.548387".into(), "438.16".into(), day(15), day(31))]
    );
    assert!(
        charged["lines"][0]["description"]
            .as_str()
            .unwrap()
            .starts_with("Fiber 300"),
        "{charged}"
    );
    // What the client owes for the month: 225.35 + 438.16.
    assert_eq!(balance(&d, "1001").1, "663.51");

    // Corrected once; the next month is charged whole at the new price.
    let again = d.ispctl_json(&["billing", "run", "--as-of", &day(31)]);
    assert!(again["invoices"].as_array().unwrap().is_empty(), "{again}");
    let next = (month + chrono::Months::new(1)).to_string();
    let next_run = d.ispctl_json(&["billing", "run", "--as-of", &next]);
    assert_eq!(
        lines(&next_run["invoices"][0])
            .iter()
            .map(|l| l.1.clone())
            .collect::<Vec<_>>(),
        ["799.00"]
    );

    // A change into the past is refused with the field named; an ended one keeps its tariff.
    let past = d.ispctl(&[
        "subscription",
        "change-tariff",
        &sub,
        "Fiber 100",
        "--date",
        "2020-01-01",
    ]);
    assert!(!past.status.success());
    assert!(
        String::from_utf8_lossy(&past.stderr).contains("date"),
        "{}",
        String::from_utf8_lossy(&past.stderr)
    );
}

/// A month invoiced in advance, wholly after a tariff change's day, is charged anew at the
/// new price too. Found probing from outside: only the month the change fell in was
/// corrected; the next kept the old price for good (a change to a cheaper tariff overcharged
/// the client).
#[test]
fn a_tariff_change_reprices_a_month_invoiced_in_advance() {
    let d = start("documents-tariff-advance", None);
    client(&d, "1001", &[]);
    let month = a_31_day_month_ahead();
    let day = |n: u64| (month + chrono::Days::new(n - 1)).to_string();
    let next = (month + chrono::Months::new(1)).to_string();
    let sub = subscribed_from(&d, "1001", &day(1)).to_string();
    vat_tariff(&d, "Fiber 300", ("300M", "50M"), "799.00");
    // Both months invoiced on the 1st, the second ahead of its time.
    let ahead = d.ispctl_json(&[
        "invoice",
        "issue",
        "--client",
        "1001",
        "--date",
        &day(1),
        "--through",
        &next,
    ]);
    assert_eq!(s(&ahead, "gross"), "998.00", "{ahead}");
    d.ispctl_json(&[
        "subscription",
        "change-tariff",
        &sub,
        "Fiber 300",
        "--date",
        &day(15),
    ]);
    d.ispctl_json(&["subscription", "apply-due", "--as-of", &day(15)]);
    let run = d.ispctl_json(&["billing", "run", "--as-of", &day(15)]);
    let documents = run["invoices"].as_array().unwrap();
    let kinds: Vec<String> = documents.iter().map(|i| s(i, "kind")).collect();
    assert_eq!(kinds, ["credit_note", "invoice"], "{run}");
    // The next month is reversed whole and charged again at 799.00, beside the first's
    // 17 days from the 15th (438.16); the first's 14 days keep 499.00 (225.35).
    let charged: Vec<(String, String)> = documents[1]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (s(l, "period_from"), s(l, "gross")))
        .collect();
    assert_eq!(
        charged,
        [(day(15), "438.16".into()), (next.clone(), "799.00".into())],
        "{run}"
    );
    assert_eq!(balance(&d, "1001").1, "1462.51");
    // Corrected once.
    let again = d.ispctl_json(&["billing", "run", "--as-of", &day(20)]);
    assert!(again["invoices"].as_array().unwrap().is_empty(), "{again}");
}

/// A quarterly service moved to a monthly tariff on 15 September, its quarter invoiced on
/// 1 July: the days before keep their share of the quarter (76/92 of 1800.00 = 1486.96), the
/// 16 days from the 15th are 16/30 of September at 600.00 (320.00). Found probing from
/// outside: the quarter was credited by a month's share, a credit beyond the invoice that
/// stopped the whole billing run, every client unbilled.
#[test]
fn a_tariff_change_to_another_period_charges_each_part_by_its_own() {
    use chrono::{Datelike, NaiveDate};
    let d = start("documents-period-change", None);
    client(&d, "1001", &[]);
    client(&d, "1002", &[]);
    // The next July at least a month ahead: a quarter of 92 days, September of 30.
    let today = chrono::Local::now().date_naive();
    let year = if today.month() < 6 {
        today.year()
    } else {
        today.year() + 1
    };
    let day = |m: u32, n: u32| NaiveDate::from_ymd_opt(year, m, n).unwrap().to_string();
    d.ispctl_json(&[
        "tariff",
        "add",
        "--name",
        "Quarter",
        "--down",
        "100M",
        "--up",
        "20M",
        "--price",
        "1800.00",
        "--vat-rate",
        "21",
        "--price-includes-vat",
        "--period",
        "quarterly",
    ]);
    vat_tariff(&d, "Month", ("100M", "20M"), "600.00");
    let sub = d.ispctl_json(&[
        "subscription",
        "add",
        "--client",
        "1001",
        "--tariff",
        "Quarter",
        "--activation",
        &day(7, 1),
    ])["id"]
        .to_string();
    d.ispctl_json(&[
        "subscription",
        "add",
        "--client",
        "1002",
        "--tariff",
        "Month",
        "--activation",
        &day(9, 1),
    ]);
    d.ispctl_json(&["billing", "run", "--as-of", &day(7, 1)]);
    assert_eq!(s(&invoices(&d, "1001")[0], "gross"), "1800.00");
    d.ispctl_json(&[
        "subscription",
        "change-tariff",
        &sub,
        "Month",
        "--date",
        &day(9, 15),
    ]);
    d.ispctl_json(&["subscription", "apply-due", "--as-of", &day(9, 15)]);

    let run = d.ispctl_json(&["billing", "run", "--as-of", &day(9, 15)]);
    let documents = run["invoices"].as_array().unwrap();
    let of = |number: &str| -> Vec<(String, String, String, String)> {
        documents
            .iter()
            .filter(|doc| s(doc, "client_number") == number)
            .flat_map(|doc| doc["lines"].as_array().unwrap().clone())
            .map(|l| {
                (
                    s(&l, "quantity"),
                    s(&l, "gross"),
                    s(&l, "period_from"),
                    s(&l, "period_to"),
                )
            })
            .collect()
    };
    assert_eq!(
        of("1001"),
        [
            ("-1".into(), "-1800.00".into(), day(7, 1), day(9, 30)),
            ("0.826087".into(), "1486.96".into(), day(7, 1), day(9, 14)),
            ("0.533333".into(), "320.00".into(), day(9, 15), day(9, 30)),
        ],
        "{run}"
    );
    // The other client billed in the same run.
    assert_eq!(
        of("1002"),
        [("1".into(), "600.00".into(), day(9, 1), day(9, 30))]
    );
    assert_eq!(balance(&d, "1001").1, "1806.96");
    // Then whole months at the new price.
    let october = d.ispctl_json(&["billing", "run", "--as-of", &day(10, 1)]);
    let gross: Vec<String> = october["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|doc| s(doc, "client_number") == "1001")
        .map(|doc| s(doc, "gross"))
        .collect();
    assert_eq!(gross, ["600.00"], "{october}");
}

/// A service transferred before its price change's day keeps the price it had until that
/// day. Found probing from outside: the new service was charged the later price from the
/// transfer day on (the change's days before were lost with the original).
#[test]
fn a_price_change_of_a_later_day_goes_along_with_a_transfer() {
    let d = start("documents-transfer-price", None);
    client(&d, "1001", &[]);
    client(&d, "1002", &[]);
    let month = a_31_day_month_ahead();
    let day = |n: u64| (month + chrono::Days::new(n - 1)).to_string();
    let sub = subscribed_from(&d, "1001", &day(1)).to_string();
    d.ispctl_json(&[
        "subscription",
        "change-price",
        &sub,
        "--price",
        "100",
        "--date",
        &day(20),
    ]);
    d.ispctl_json(&[
        "subscription",
        "transfer",
        &sub,
        "--client",
        "1002",
        "--date",
        &day(15),
    ]);
    d.ispctl_json(&["subscription", "apply-due", "--as-of", &day(15)]);
    let run = d.ispctl_json(&["billing", "run", "--as-of", &day(15)]);
    let theirs: Vec<(String, String, String)> = run["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| s(i, "client_number") == "1002")
        .flat_map(|i| i["lines"].as_array().unwrap().clone())
        .map(|l| (s(&l, "period_from"), s(&l, "period_to"), s(&l, "gross")))
        .collect();
    // 499.00 × 5/31 until the 19th, 100.00 × 12/31 from the 20th.
    assert_eq!(
        theirs,
        [
            (day(15), day(19), "80.48".into()),
            (day(20), day(31), "38.71".into())
        ],
        "{run}"
    );
}

#[test]
fn a_price_change_from_a_date_charges_each_part_of_the_month_at_its_price() {
    let d = start("documents-price-change", None);
    client(&d, "1001", &[]);
    let month = a_31_day_month_ahead();
    let day = |n: u64| (month + chrono::Days::new(n - 1)).to_string();
    let sub = subscribed_from(&d, "1001", &day(1)).to_string();
    d.ispctl_json(&["billing", "run", "--as-of", &day(1)]);
    // Recorded at once for the 16th: its own price from then on.
    let changed = d.ispctl_json(&[
        "subscription",
        "change-price",
        &sub,
        "--price",
        "399.00",
        "--date",
        &day(16),
        "--note",
        "loyalty",
    ]);
    assert_eq!(
        (s(&changed, "tariff"), s(&changed, "price_override")),
        ("Fiber 100".into(), "399.00".into())
    );
    let history = d.ispctl_json(&["subscription", "history", &sub]);
    let notes: Vec<String> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| s(h, "note"))
        .collect();
    assert!(
        notes.contains(&format!(
            "price 499.00 (the tariff's) → 399.00 from {}; loyalty",
            day(16)
        )),
        "{notes:?}"
    );
    // The month invoiced whole at 499.00: the credit note keeps 15 days at it (241.45) and
    // the invoice charges the 16 days from the 16th at 399.00 (205.94).
    let run = d.ispctl_json(&["billing", "run", "--as-of", &day(16)]);
    let documents = run["invoices"].as_array().unwrap();
    let kinds: Vec<String> = documents.iter().map(|i| s(i, "kind")).collect();
    assert_eq!(kinds, ["credit_note", "invoice"], "{run}");
    assert_eq!(s(&documents[0], "gross"), "-257.55", "{run}");
    let charged = &documents[1]["lines"][0];
    assert_eq!(
        (
            s(charged, "gross"),
            s(charged, "period_from"),
            s(charged, "period_to")
        ),
        ("205.94".into(), day(16), day(31))
    );
    assert_eq!(balance(&d, "1001").1, "447.39");
    // Refused by name: before the last change, the price it has, a day in the past.
    for (args, field) in [
        (vec!["--price", "299", "--date", &day(10)], "date"),
        (vec!["--price", "399.00", "--date", &day(20)], "price"),
        (vec!["--tariff-price", "--date", "2020-01-01"], "date"),
    ] {
        let mut full = vec!["subscription", "change-price", &sub];
        full.extend(args);
        let out = d.ispctl(&full);
        assert_eq!(out.status.code(), Some(1), "{full:?}");
        assert!(crate::daemon::stderr(&out).contains(field), "{full:?}");
    }
    // Back to the tariff's price from the 20th of the next month: that month is cut there.
    let next = month + chrono::Months::new(1);
    let next_day = |n: u64| (next + chrono::Days::new(n - 1)).to_string();
    let back = d.ispctl_json(&[
        "subscription",
        "change-price",
        &sub,
        "--tariff-price",
        "--date",
        &next_day(20),
    ]);
    assert_eq!(s(&back, "price_override"), "");
    let next_run = d.ispctl_json(&["billing", "run", "--as-of", &next_day(1)]);
    let grosses: Vec<(String, String)> = next_run["invoices"][0]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (s(l, "period_from"), s(l, "period_to")))
        .collect();
    assert_eq!(
        grosses.iter().map(|g| g.0.clone()).collect::<Vec<_>>(),
        [next_day(1), next_day(20)],
        "{next_run}"
    );
}

#[test]
fn a_payment_with_a_services_own_symbol_pays_that_services_document_first() {
    let d = start("service-vs", None);
    client(&d, "1001", &[]);
    subscribed_from(&d, "1001", "2026-10-01");
    d.ispctl_json(&["billing", "run", "--as-of", "2026-10-01"]);
    let older = invoices(&d, "1001");
    assert_eq!(older.len(), 1);
    fiber_100(&d);
    d.ispctl_json(&[
        "subscription",
        "add",
        "--client",
        "1001",
        "--tariff",
        "Fiber 100",
        "--activation",
        "2026-11-01",
        "--vs",
        "5005",
    ]);
    d.ispctl_json(&["billing", "run", "--as-of", "2026-11-01"]);
    let imported = d.import_csv(
        "service.csv",
        "ID;Datum;Objem;VS;Protiucet\nS1;20.11.2026;499,00;5005;\n",
    );
    assert_eq!(imported["recorded"], 1, "{imported}");
    let docs = invoices(&d, "1001");
    let state = |number: &str| {
        let doc = docs.iter().find(|i| s(i, "number") == number).unwrap();
        (s(doc, "state"), s(doc, "paid"))
    };
    let first = s(&older[0], "number");
    let newer = docs
        .iter()
        .map(|i| s(i, "number"))
        .find(|n| *n != first)
        .unwrap();
    assert_eq!(
        state(&first),
        ("unpaid".into(), "0.00".into()),
        "the older invoice bills only the other service"
    );
    assert_eq!(
        state(&newer),
        ("partially_paid".into(), "499.00".into()),
        "the invoice billing the service whose symbol the payment carried"
    );
}

#[test]
fn a_balance_adjustment_is_a_document_on_the_statement() {
    let d = start("adjust", None);
    client(&d, "1001", &[]);
    subscribed(&d, "1001");
    d.ispctl_json(&["billing", "run", "--as-of", "2026-11-01"]);
    assert_eq!(balance(&d, "1001").1, "499.00", "owed before");
    // A credit: a credit note on no invoice, spent on the open invoice at once.
    let credit = d.ispctl_json(&[
        "client",
        "adjust",
        "1001",
        "--amount",
        "100.00",
        "--reason",
        "Outage compensation",
    ]);
    assert_eq!(
        (s(&credit, "kind"), s(&credit, "gross"), s(&credit, "vat")),
        ("credit_note".into(), "-100.00".into(), "0.00".into())
    );
    assert_eq!(
        credit["lines"][0]["description"], "Outage compensation",
        "{credit}"
    );
    assert_eq!(
        balance(&d, "1001"),
        ("-399.00".into(), "399.00".into(), "0.00".into())
    );
    // A debit: a debit note due today.
    let debit = d.ispctl_json(&[
        "client",
        "adjust",
        "1001",
        "--amount",
        "-50",
        "--reason",
        "Technician visit",
    ]);
    assert_eq!(
        (s(&debit, "kind"), s(&debit, "gross"), s(&debit, "state")),
        ("debit_note".into(), "50.00".into(), "unpaid".into())
    );
    assert_eq!(balance(&d, "1001").1, "449.00", "owed after the debit");
    // Both are on the statement, which closes on the balance.
    let statement = d.ispctl_json(&["client", "statement", "1001"]);
    let rows = statement["items"].as_array().unwrap();
    let described: Vec<String> = rows.iter().map(|r| s(r, "description")).collect();
    for number in [s(&credit, "number"), s(&debit, "number")] {
        assert!(
            described.iter().any(|d| d.contains(&number)),
            "{number} on the statement: {described:?}"
        );
    }
    assert_eq!(
        s(rows.last().unwrap(), "running_balance"),
        "-449.00",
        "{statement}"
    );
    // Refused by name: no amount, no reason; nothing more is issued.
    for (args, field) in [
        (vec!["--amount", "0", "--reason", "x"], "amount"),
        (vec!["--amount", "10", "--reason", " "], "reason"),
    ] {
        let mut full = vec!["client", "adjust", "1001"];
        full.extend(args);
        let out = d.ispctl(&full);
        assert_eq!(out.status.code(), Some(1), "{full:?}");
        assert!(crate::daemon::stderr(&out).contains(field), "{full:?}");
    }
    assert_eq!(invoices(&d, "1001").len(), 3);
}

#[test]
fn interest_on_an_overdue_invoice_is_billed_once_or_waived_for_good() {
    interest_on_an_overdue_invoice_on(None);
}

#[test]
fn interest_on_an_overdue_invoice_is_billed_once_or_waived_for_good_on_postgres() {
    if let Some(db) = crate::daemon::PgDatabase::create("doc_interest") {
        interest_on_an_overdue_invoice_on(Some(&db));
    }
}

fn interest_on_an_overdue_invoice_on(pg: Option<&crate::daemon::PgDatabase>) {
    let database = crate::daemon::database_section(pg);
    // 10 % a year; a note is worth it from 5.00.
    let d = Daemon::start_edited("interest", None, |base| {
        base.replace(
            "[billing]\n",
            "[billing]\ninterest_rate_percent = \"10\"\ninterest_minimum = \"5.00\"\n",
        ) + &database
    });
    client(&d, "1001", &[]);
    subscribed(&d, "1001");
    d.ispctl_json(&["billing", "run", "--as-of", "2026-11-01"]);
    let invoice = invoices(&d, "1001")[0].clone();
    assert_eq!(s(&invoice, "due_date"), "2026-11-15", "{invoice}");
    let pending = |as_of: &str| {
        let list = d.ispctl_json(&["interest", "list", "--client", "1001", "--as-of", as_of]);
        list["items"].as_array().cloned().unwrap_or_default()
    };
    assert!(pending("2026-11-15").is_empty(), "nothing on the due date");
    // 30 days late: 499.00 x 10 % x 30 / 365 = 4.10, under the minimum: no note.
    let late = pending("2026-12-15");
    assert_eq!(late.len(), 1);
    assert_eq!(
        (
            s(&late[0], "from"),
            s(&late[0], "until"),
            late[0]["days"].as_u64()
        ),
        ("2026-11-16".into(), "2026-12-15".into(), Some(30))
    );
    assert_eq!(s(&late[0], "amount"), "4.10");
    let refused = d.ispctl(&[
        "interest",
        "bill",
        "--client",
        "1001",
        "--as-of",
        "2026-12-15",
    ]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        crate::daemon::stderr(&refused).contains("minimum"),
        "{refused:?}"
    );
    // 45 days late: 6.15, billed on a note with one untaxed line naming the invoice.
    let note = d.ispctl_json(&[
        "interest",
        "bill",
        "--client",
        "1001",
        "--as-of",
        "2026-12-30",
    ]);
    assert_eq!(
        (s(&note, "kind"), s(&note, "gross"), s(&note, "vat")),
        ("debit_note".into(), "6.15".into(), "0.00".into())
    );
    let line = s(&note["lines"][0], "description");
    assert!(
        line.contains(&s(&invoice, "number")) && line.contains("45 days"),
        "{line}"
    );
    assert_eq!(balance(&d, "1001").1, "505.15", "owed with the note");
    // Those days are charged once: the next interest starts the day after.
    assert!(pending("2026-12-30").is_empty());
    let next = pending("2027-01-09");
    assert_eq!(
        (s(&next[0], "from"), s(&next[0], "amount")),
        ("2026-12-31".into(), "1.37".into())
    );
    // A waiver needs --yes, is permanent, and is in the audit log.
    let number = s(&invoice, "number");
    let unconfirmed = d.ispctl(&[
        "interest",
        "waive",
        "--invoice",
        &number,
        "--as-of",
        "2027-01-09",
    ]);
    assert_eq!(unconfirmed.status.code(), Some(1));
    assert!(crate::daemon::stderr(&unconfirmed).contains("confirm"));
    let waived = d.ispctl_json(&[
        "interest",
        "waive",
        "--invoice",
        &number,
        "--as-of",
        "2027-01-09",
        "--yes",
    ]);
    assert_eq!(s(&waived, "amount"), "1.37");
    assert!(
        pending("2027-01-09").is_empty(),
        "waived days are never billed"
    );
    assert_eq!(s(&pending("2027-01-10")[0], "from"), "2027-01-10");
    let audit = d.ispctl_json(&["audit", "1001"]);
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "interest.waive"),
        "{audit}"
    );
    // The interest note itself carries no interest, and a paid invoice none after its payment
    // day — which is still a day late (it accrued nothing at all once paid, found probing
    // from outside: a late payer owed no interest).
    d.ispctl_json(&[
        "payment",
        "add",
        "--client",
        "1001",
        "--amount",
        "505.15",
        "--date",
        "2027-01-10",
    ]);
    let paid_late = pending("2027-03-01");
    assert_eq!(paid_late.len(), 1, "{paid_late:?}");
    assert_eq!(
        (
            s(&paid_late[0], "from"),
            s(&paid_late[0], "until"),
            paid_late[0]["days"].as_u64(),
            s(&paid_late[0], "amount")
        ),
        (
            "2027-01-10".into(),
            "2027-01-10".into(),
            Some(1),
            "0.14".into()
        ),
        "499.00 x 10 % / 365 for the payment day"
    );
}

#[test]
fn an_invoice_or_payment_request_is_issued_on_demand_and_not_billed_again() {
    let d = start("on-demand", None);
    client(&d, "1001", &[]);
    let first = subscribed(&d, "1001");
    // November's invoice now, on the 10th, for the one service.
    let invoice = d.ispctl_json(&[
        "invoice",
        "issue",
        "--client",
        "1001",
        "--date",
        "2026-11-10",
    ]);
    assert_eq!(
        (
            s(&invoice, "kind"),
            s(&invoice, "issue_date"),
            s(&invoice, "due_date")
        ),
        ("invoice".into(), "2026-11-10".into(), "2026-11-24".into())
    );
    assert_eq!(s(&invoice, "gross"), "499.00");
    assert_eq!(
        s(&invoice["lines"][0], "period_from"),
        "2026-11-01",
        "{invoice}"
    );
    // The run does not bill it again.
    d.ispctl_json(&["billing", "run", "--as-of", "2026-11-10"]);
    assert_eq!(invoices(&d, "1001").len(), 1);
    // Nothing more is due through the 21st: refused, nothing issued.
    let nothing = d.ispctl(&[
        "invoice",
        "issue",
        "--client",
        "1001",
        "--date",
        "2026-11-21",
    ]);
    assert_eq!(nothing.status.code(), Some(1));
    assert!(crate::daemon::stderr(&nothing).contains("nothing to bill"));
    // A second service; a payment request for it alone, December ahead, with chosen dates.
    let second = subscribed_from(&d, "1001", "2026-11-16");
    let request = d.ispctl_json(&[
        "invoice",
        "issue",
        "--client",
        "1001",
        "--subscription",
        &second.to_string(),
        "--proforma",
        "--date",
        "2026-11-20",
        "--through",
        "2026-12-01",
        "--due",
        "2026-11-30",
    ]);
    assert_eq!(
        (s(&request, "kind"), s(&request, "due_date")),
        ("proforma".into(), "2026-11-30".into())
    );
    let lines = request["lines"].as_array().unwrap();
    assert!(
        lines
            .iter()
            .all(|l| l["subscription_id"].as_i64() == Some(second)),
        "only the chosen service: {request}"
    );
    let periods: Vec<String> = lines.iter().map(|l| s(l, "period_from")).collect();
    assert_eq!(periods, ["2026-11-16", "2026-12-01"], "{request}");
    // The run of December 1st bills only the first service's December.
    d.ispctl_json(&["billing", "run", "--as-of", "2026-12-01"]);
    let all = invoices(&d, "1001");
    assert_eq!(all.len(), 3, "{all:?}");
    let december = d.ispctl_json(&["invoice", "show", &s(&all[2], "number")]);
    let billed: Vec<i64> = december["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["subscription_id"].as_i64())
        .collect();
    assert_eq!(billed, [first], "{december}");
    // Refused by name: a due date before the issue date, a service not the client's.
    for (args, field) in [
        (
            vec!["--date", "2026-12-02", "--due", "2026-12-01"],
            "due_date",
        ),
        (vec!["--subscription", "999999"], "subscription_ids"),
    ] {
        let mut full = vec!["invoice", "issue", "--client", "1001"];
        full.extend(args);
        let out = d.ispctl(&full);
        assert_eq!(out.status.code(), Some(1), "{full:?}");
        assert!(crate::daemon::stderr(&out).contains(field), "{full:?}");
    }
}

#[test]
fn a_services_invoice_note_names_its_invoice_lines() {
    let d = start("invoice-note", None);
    client(&d, "1001", &[]);
    fiber_100(&d);
    let sub = d.ispctl_json(&[
        "subscription",
        "add",
        "--client",
        "1001",
        "--tariff",
        "Fiber 100",
        "--activation",
        "2026-11-01",
        "--invoice-note",
        "Internet Dlouhá 1, flat 12",
    ]);
    assert_eq!(sub["invoice_note"], "Internet Dlouhá 1, flat 12");
    d.ispctl_json(&["billing", "run", "--as-of", "2026-11-01"]);
    let number = s(&invoices(&d, "1001")[0], "number");
    let invoice = d.ispctl_json(&["invoice", "show", &number]);
    let line = invoice["lines"][0]["description"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        line.starts_with("Internet Dlouhá 1, flat 12") && !line.contains("Fiber 100"),
        "the note instead of the tariff's name, the period after it: {line}"
    );
    // Mango's limit: 50 characters, refused by name, nothing changed.
    let id = sub["id"].to_string();
    let long = "x".repeat(51);
    let out = d.ispctl(&["subscription", "edit", &id, "--invoice-note", &long]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        crate::daemon::stderr(&out).contains("subscription.invoice_note"),
        "{}",
        crate::daemon::stderr(&out)
    );
    assert_eq!(
        d.ispctl_json(&["subscription", "show", &id])["invoice_note"],
        "Internet Dlouhá 1, flat 12"
    );
    // Changed and cleared by an edit.
    let edited = d.ispctl_json(&["subscription", "edit", &id, "--invoice-note", "Fiber home"]);
    assert_eq!(edited["invoice_note"], "Fiber home");
    let cleared = d.ispctl_json(&["subscription", "edit", &id, "--invoice-note", ""]);
    assert_eq!(cleared["invoice_note"], "");
}

#[test]
fn clients_are_listed_by_debt_product_and_contract() {
    let d = start("client-filters", None);
    client(&d, "1001", &[]);
    client(&d, "1002", &["--contract-returned-on", "2026-10-01"]);
    subscribed(&d, "1001");
    d.ispctl_json(&["billing", "run", "--as-of", "2026-11-01"]);
    let listed = |args: &[&str]| -> Vec<String> {
        let mut full = vec!["client", "list"];
        full.extend_from_slice(args);
        d.ispctl_json(&full)["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| s(c, "number"))
            .collect()
    };
    assert_eq!(
        listed(&["--owing"]),
        ["1001"],
        "the one with an open invoice"
    );
    assert_eq!(listed(&["--tariff", "Fiber 100"]), ["1001"]);
    assert_eq!(listed(&["--contract", "returned"]), ["1002"]);
    assert_eq!(listed(&["--contract", "not-returned", "--owing"]), ["1001"]);
    let today = chrono::Utc::now().date_naive().to_string();
    assert_eq!(listed(&["--registered-from", &today]).len(), 2);
    assert!(listed(&["--registered-until", "2020-01-01"]).is_empty());
}

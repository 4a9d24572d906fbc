//! Invoice groups (the provider's companies) and one-off charges through `ispctl`, as an
//! operator sets them up: the group's details read back whole, clients refer to it, mistakes
//! are refused naming the field.

use serde_json::json;

use crate::daemon::{Daemon, stderr, stdout};

pub(crate) fn add_client(d: &Daemon, number: &str, extra: &[&str]) {
    let mut args = vec![
        "client",
        "add",
        "--number",
        number,
        "--name",
        "Nováková Jana",
        "--street",
        "Dlouhá 12",
        "--postcode",
        "110 00",
        "--city",
        "Praha",
    ];
    args.extend_from_slice(extra);
    d.ispctl_json(&args);
}

/// ispctl that must fail; returns its stderr.
fn refused(d: &Daemon, args: &[&str]) -> String {
    let out = d.ispctl(args);
    assert!(
        !out.status.success(),
        "ispctl {args:?} should fail: {}",
        stdout(&out)
    );
    stderr(&out)
}

#[test]
fn an_invoice_group_with_company_details_reads_back_whole_and_stays_while_used() {
    let d = Daemon::start("invoice-groups", "");
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
        "Praha 6",
        "--country",
        "CZ",
        "--company-id",
        "87654321",
        "--vat-id",
        "CZ87654321",
        "--bank-account",
        "19-2000145399/0800",
        "--iban",
        "CZ65 0800 0000 1920 0014 5399",
        "--bic",
        "GIBACZPX",
        "--email",
        "fakturace@isp.example.cz",
        "--phone",
        "+420 222 000 111",
        "--currency",
        "EUR",
        "--due-days",
        "21",
        "--invoice-format",
        "FV{year}{seq:05}",
        "--credit-note-format",
        "DD{yy}-{seq:04}",
        "--proforma-format",
        "ZF{year}{seq}",
        "--debit-note-format",
        "VR{year}{seq:03}",
        "--taxable-date",
        "days-before-issue",
        "--taxable-days",
        "14",
    ]);
    let shown = d.ispctl_json(&["invoice-group", "show", "business"]);
    assert_eq!(
        shown,
        json!({
            "code": "business", "name": "ISP Business s.r.o.", "street": "Technická 5",
            "postcode": "160 00", "city": "Praha 6", "country": "CZ",
            "company_id": "87654321", "vat_id": "CZ87654321",
            "bank_account": "19-2000145399/0800", "iban": "CZ6508000000192000145399",
            "bic": "GIBACZPX", "email": "fakturace@isp.example.cz", "phone": "+420 222 000 111",
            "currency": "EUR", "due_days": 21,
            "invoice_number_format": "FV{year}{seq:05}",
            "credit_note_number_format": "DD{yy}-{seq:04}",
            "proforma_number_format": "ZF{year}{seq}",
            "debit_note_number_format": "VR{year}{seq:03}",
            "taxable_date_rule": "days-before-issue", "taxable_days_before": 14,
            "version": 1,
        })
    );

    // The migrated default group: settings unset, shown as defaults, every field printed.
    let default = d.ispctl_json(&["invoice-group", "show", "default"]);
    assert_eq!(default["currency"], json!(null));
    assert_eq!(default["invoice_number_format"], json!(null));
    assert_eq!(default["taxable_date_rule"], "issue-date");
    let text = stdout(&d.ispctl(&["invoice-group", "show", "default"]));
    for line in [
        "code: default",
        "street: ",
        "iban: ",
        "currency: (default)",
        "due_days: (default)",
        "taxable_date_rule: issue-date",
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} in:\n{text}");
    }
    let codes: Vec<_> = d.ispctl_json(&["invoice-group", "list"])["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes, ["business", "default"]);

    // A client in the group: the group cannot be deleted from under it.
    add_client(&d, "1001", &["--invoice-group", "business"]);
    assert_eq!(
        d.ispctl_json(&["client", "show", "1001"])["invoicing"]["invoice_group"],
        "business"
    );
    let err = refused(&d, &["invoice-group", "delete", "business"]);
    assert!(err.contains("used by 1 client"), "{err}");
    assert_eq!(
        d.ispctl_json(&["invoice-group", "show", "business"])["version"],
        1
    );

    // Mistakes are refused naming the field, and change nothing.
    let err = refused(
        &d,
        &[
            "invoice-group",
            "add",
            "typo",
            "--name",
            "Typo",
            "--iban",
            "CZ6508000000192000145390",
        ],
    );
    assert!(err.contains("invoice_group.iban"), "{err}");
    assert!(!refused(&d, &["invoice-group", "show", "typo"]).is_empty());
    let err = refused(
        &d,
        &[
            "invoice-group",
            "set",
            "business",
            "--invoice-format",
            "{year}",
        ],
    );
    assert!(err.contains("invoice_group.invoice_number_format"), "{err}");
    assert!(err.contains("{seq}"), "says what is missing: {err}");
    let err = refused(
        &d,
        &[
            "invoice-group",
            "add",
            "dup",
            "--name",
            "X",
            "--currency",
            "Kč",
        ],
    );
    assert!(err.contains("invoice_group.currency"), "{err}");
    let err = refused(&d, &["invoice-group", "add", "business", "--name", "Again"]);
    assert!(err.contains("already exists"), "{err}");

    // Editing changes only what is named; back to a default with an empty value.
    let set = d.ispctl_json(&[
        "invoice-group",
        "set",
        "business",
        "--city",
        "Brno",
        "--clear-due-days",
        "--invoice-format",
        "",
        "--taxable-date",
        "end-of-period",
    ]);
    assert_eq!(set["city"], "Brno");
    assert_eq!(set["street"], "Technická 5");
    assert_eq!(set["due_days"], json!(null));
    assert_eq!(set["invoice_number_format"], json!(null));
    assert_eq!(set["credit_note_number_format"], "DD{yy}-{seq:04}");
    assert_eq!(set["taxable_date_rule"], "end-of-period");
    assert_eq!(set["taxable_days_before"], 0);
    assert_eq!(set["version"], 2);

    // Once no client uses it, it can go.
    d.ispctl_json(&["client", "edit", "1001", "--invoice-group", "default"]);
    let deleted = d.ispctl_json(&["invoice-group", "delete", "business"]);
    assert_eq!(deleted["deleted"], true);
    let err = refused(&d, &["invoice-group", "show", "business"]);
    assert!(err.contains("not found"), "{err}");
    // Invoice groups are no longer a code list.
    assert_eq!(
        d.ispctl(&["code", "list", "invoice-group"]).status.code(),
        Some(2)
    );
}

#[test]
fn one_off_charges_are_added_listed_and_deleted() {
    let d = Daemon::start("one-off-charges", "");
    add_client(&d, "1001", &[]);
    add_client(&d, "1002", &[]);
    d.ispctl_json(&[
        "tariff",
        "add",
        "--name",
        "Fiber 100",
        "--down",
        "100M",
        "--up",
        "20M",
        "--price",
        "499.00",
        "--vat-rate",
        "21",
    ]);
    let subscription = |client: &str| {
        d.ispctl_json(&[
            "subscription",
            "add",
            "--client",
            client,
            "--tariff",
            "Fiber 100",
            "--activation",
            "2026-11-10",
        ])["id"]
            .as_i64()
            .unwrap()
    };
    let own = subscription("1001");
    let foreign = subscription("1002");

    let installation = d.ispctl_json(&[
        "charge",
        "add",
        "1001",
        "--description",
        "Installation",
        "--price",
        "1500",
        "--subscription",
        &own.to_string(),
        "--on",
        "2026-12-01",
    ]);
    assert_eq!(
        installation,
        json!({
            "id": installation["id"], "client_number": "1001", "subscription_id": own,
            "description": "Installation", "quantity": "1", "unit_price": "1500.00",
            "price_includes_vat": false, "vat_rate": "21", "charge_on": "2026-12-01",
            "invoice_number": null,
        })
    );
    let credit = d.ispctl_json(&[
        "charge",
        "add",
        "1001",
        "--description",
        "Router returned",
        "--price",
        "-200",
        "--quantity",
        "2",
        "--vat-rate",
        "12",
        "--price-includes-vat",
    ]);
    let today = chrono::Local::now()
        .date_naive()
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(
        credit["charge_on"],
        today.as_str(),
        "--on defaults to today"
    );
    assert_eq!(credit["unit_price"], "-200.00");
    assert_eq!(credit["price_includes_vat"], true);
    assert_eq!(credit["subscription_id"], json!(null));

    let err = refused(
        &d,
        &[
            "charge",
            "add",
            "1001",
            "--description",
            "Wrong client",
            "--price",
            "10",
            "--subscription",
            &foreign.to_string(),
        ],
    );
    assert!(err.contains("charge.subscription_id"), "{err}");
    let err = refused(
        &d,
        &[
            "charge",
            "add",
            "1001",
            "--description",
            "None",
            "--price",
            "10",
            "--quantity",
            "0",
        ],
    );
    assert!(err.contains("charge.quantity"), "{err}");

    let listed = d.ispctl_json(&["charge", "list", "1001"]);
    let ids: Vec<_> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].clone())
        .collect();
    let (first, second) = if today.as_str() <= "2026-12-01" {
        (credit["id"].clone(), installation["id"].clone())
    } else {
        (installation["id"].clone(), credit["id"].clone())
    };
    assert_eq!(ids, [first, second], "oldest charge date first");
    let table = stdout(&d.ispctl(&["charge", "list", "1001"]));
    assert!(table.starts_with("ID"), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.contains("Installation") && l.ends_with("unbilled")),
        "{table}"
    );
    assert_eq!(
        d.ispctl_json(&["charge", "list", "1002"])["items"],
        json!([])
    );

    let id = credit["id"].as_i64().unwrap().to_string();
    assert_eq!(d.ispctl_json(&["charge", "delete", &id])["deleted"], true);
    let left = d.ispctl_json(&["charge", "list", "1001"]);
    assert_eq!(left["items"].as_array().unwrap().len(), 1);
    assert_eq!(left["items"][0]["description"], "Installation");
    let err = refused(&d, &["charge", "delete", &id]);
    assert!(err.contains("not found"), "{err}");
    // The audit trail of the client shows both changes.
    let audit = stdout(&d.ispctl(&["audit", "1001"]));
    assert!(audit.contains("charge.add"), "{audit}");
    assert!(audit.contains("charge.delete"), "{audit}");
}

/// Found probing from outside: a group added without number patterns of its own numbered on
/// the built-in ones, in a series of its own — so its first invoice took a number the default
/// group had (or would) take, and the whole billing run failed on it, nobody billed. A
/// number series is its pattern: the groups on one pattern share it.
#[test]
fn groups_on_one_number_pattern_share_its_series() {
    let d = Daemon::start("group-series", "");
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
        "--country",
        "CZ",
    ]);
    d.add_tariff("Fiber", "499");
    add_client(&d, "1001", &[]);
    add_client(&d, "1002", &["--invoice-group", "business"]);
    add_client(&d, "1003", &[]);
    for client in ["1001", "1002", "1003"] {
        d.subscribe(client, "Fiber", "2026-11-01");
    }
    let run = d.ispctl_json(&["billing", "run", "--as-of", "2026-11-01"]);
    assert_eq!(run["count"], 3, "{run}");
    let mut numbers: Vec<String> = ["1001", "1002", "1003"]
        .iter()
        .map(|c| {
            d.ispctl_json(&["invoice", "list", "--client", c])["items"][0]["number"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    numbers.sort();
    assert_eq!(numbers, ["202600001", "202600002", "202600003"]);
    // A group with a pattern of its own numbers apart.
    d.ispctl_json(&[
        "invoice-group",
        "set",
        "business",
        "--invoice-format",
        "FV{year}{seq:05}",
    ]);
    d.subscribe("1002", "Fiber", "2026-12-01");
    d.ispctl_json(&["billing", "run", "--as-of", "2026-12-01"]);
    let business = d.ispctl_json(&["invoice", "list", "--client", "1002"]);
    assert!(
        business["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["number"] == "FV202600001"),
        "{business}"
    );
}

/// A client invoiced in euros has its balance, statement and refunds stated in euros. Found
/// probing from outside: they read the `[billing]` currency (CZK) beside euro documents.
#[test]
fn a_clients_account_is_stated_in_its_groups_currency() {
    let d = Daemon::start_edited("invoice-groups-currency", None, |base| {
        base.replace("[billing]\n", "[billing]\nrefunds = true\n")
    });
    d.ispctl_json(&[
        "invoice-group",
        "add",
        "eur",
        "--name",
        "ISP Europe",
        "--currency",
        "EUR",
    ]);
    add_client(&d, "1001", &["--invoice-group", "eur"]);
    d.ispctl_json(&[
        "payment",
        "add",
        "--client",
        "1001",
        "--amount",
        "30.00",
        "--currency",
        "EUR",
    ]);
    let balance = d.ispctl_json(&["client", "balance", "1001"]);
    assert_eq!(balance["currency"], "EUR", "{balance}");
    let text = stdout(&d.ispctl(&["client", "balance", "1001"]));
    assert!(
        text.contains("30.00 EUR") && !text.contains("CZK"),
        "{text}"
    );
    let statement = d.ispctl_json(&["client", "statement", "1001"]);
    assert_eq!(statement["currency"], "EUR", "{statement}");
    let refund = d.ispctl_json(&["payment", "refund", "1001", "--amount", "10.00"]);
    assert_eq!(refund["currency"], "EUR", "{refund}");
}

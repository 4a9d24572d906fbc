//! The closing of the books through `ispctl` and the gRPC API: after `books close`, payments,
//! documents, one-off charges and discounts dated in the closed period are refused naming the
//! closing date, nothing of them is stored, and what is dated after it goes on as before.

use ispd_admin_proto::v1;
use tonic::Code;

use crate::daemon::{Daemon, stderr};

/// `payment add` of `amount` for client 1001 received on `date`.
fn payment<'a>(amount: &'a str, date: &'a str) -> [&'a str; 8] {
    [
        "payment", "add", "--client", "1001", "--amount", amount, "--date", date,
    ]
}

/// Runs ispctl expecting a refusal that names the closing day; returns its message.
fn refused_as_closed(d: &Daemon, args: &[&str]) -> String {
    let out = d.ispctl(args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    assert!(
        err.contains("closed period") && err.contains("2026-10-31"),
        "{args:?}: {err}"
    );
    err
}

#[test]
fn nothing_dated_in_a_closed_period_changes() {
    let d = Daemon::start("books", "");
    d.add_client("1001");
    d.add_tariff("Fiber", "100");
    let sub = d.subscribe("1001", "Fiber", "2026-09-01");
    // Before the closing: an October payment, charge and discount.
    d.ispctl_json(&payment("50", "2026-10-15"));
    let charge = d.ispctl_json(&[
        "charge",
        "add",
        "1001",
        "--description",
        "Router",
        "--price",
        "10",
        "--on",
        "2026-10-20",
    ]);
    let discount = d.ispctl_json(&[
        "discount",
        "add",
        &sub,
        "--name",
        "Promo",
        "--percent",
        "10",
        "--from",
        "2026-10-01",
    ]);
    assert_eq!(d.ispctl_json(&["books", "show"])["closed_until"], "never");

    let closed = d.ispctl_json(&["books", "close", "--until", "2026-10-31"]);
    assert_eq!(closed["closed_until"], "2026-10-31");
    assert_eq!(
        d.ispctl_json(&["books", "show"])["closed_until"],
        "2026-10-31"
    );

    refused_as_closed(&d, &payment("5", "2026-10-31"));
    refused_as_closed(
        &d,
        &[
            "charge",
            "add",
            "1001",
            "--description",
            "Cable",
            "--price",
            "1",
            "--on",
            "2026-10-02",
        ],
    );
    refused_as_closed(&d, &["charge", "delete", &charge["id"].to_string()]);
    refused_as_closed(
        &d,
        &[
            "discount",
            "add",
            &sub,
            "--name",
            "Late",
            "--percent",
            "5",
            "--from",
            "2026-10-01",
        ],
    );
    refused_as_closed(&d, &["discount", "delete", &discount["id"].to_string()]);
    refused_as_closed(&d, &["billing", "run", "--as-of", "2026-10-01"]);
    // Its reminders' fee debit notes would be dated that day (found probing from outside:
    // they were issued inside the closed period).
    refused_as_closed(&d, &["dunning", "run", "--as-of", "2026-10-20"]);
    let recorded = d.query("SELECT id FROM payment");
    refused_as_closed(&d, &["payment", "unassign", &recorded[0]]);
    // A statement with a line booked in the closed period is refused whole.
    let csv = d.dir.0.join("statement.csv");
    std::fs::write(
        &csv,
        "ID;Datum;Objem;VS;Protiucet\nA1;02.11.2026;20,00;1001;\nA2;30.10.2026;20,00;1001;\n",
    )
    .unwrap();
    let mapping = d.dir.0.join("mapping.toml");
    std::fs::write(&mapping, crate::documents::MAPPING).unwrap();
    let (csv, mapping) = (csv.to_str().unwrap(), mapping.to_str().unwrap());
    refused_as_closed(
        &d,
        &[
            "payment",
            "import",
            "--format",
            "csv",
            "--mapping",
            mapping,
            csv,
        ],
    );
    assert_eq!(
        d.query("SELECT COUNT(*) FROM payment"),
        ["1"],
        "nothing of the refused statement is stored"
    );
    // What is dated after the closing goes on.
    d.ispctl_json(&payment("5", "2026-11-01"));
    d.ispctl_json(&["billing", "run", "--as-of", "2026-11-01"]);
    // A closing never moves back, nor covers today; over gRPC the day is a named field.
    let out = d.ispctl(&["books", "close", "--until", "2026-09-30"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("never moves back"),
        "{}",
        stderr(&out)
    );
    let today = chrono::Local::now().date_naive().to_string();
    let out = d.ispctl(&["books", "close", "--until", &today]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("until"), "{}", stderr(&out));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (run, close, books) = rt.block_on(async {
        let mut billing = v1::billing_service_client::BillingServiceClient::with_interceptor(
            d.channel().await,
            crate::daemon::Bearer::new(&d.admin_token()),
        );
        let run = billing
            .run_billing(v1::RunBillingRequest {
                as_of: "2026-10-15".into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        let close = billing
            .close_books(v1::CloseBooksRequest {
                until: "2026-09-30".into(),
            })
            .await
            .unwrap_err();
        let books = billing.get_books(v1::GetBooksRequest {}).await.unwrap();
        (run, close, books.into_inner())
    });
    assert_eq!(run.code(), Code::FailedPrecondition, "{}", run.message());
    assert!(run.message().contains("2026-10-31"), "{}", run.message());
    assert_eq!(close.code(), Code::InvalidArgument);
    assert!(close.message().starts_with("until"), "{}", close.message());
    assert_eq!(
        books.closed_until, "2026-10-31",
        "a refused closing changed nothing"
    );
    let audit = d.query("SELECT action FROM audit WHERE action = 'books.close'");
    assert_eq!(audit, ["books.close"], "the closing is audited");
}

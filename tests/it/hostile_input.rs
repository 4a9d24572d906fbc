//! Hostile and oversized input over the admin API, and what ispctl shows of it: control
//! characters never reach the operator's terminal raw, every string field has a length
//! limit answered with INVALID_ARGUMENT naming the field, bytes that are not UTF-8 are the
//! caller's fault, and "check that ispd is running" is said only when it is not.

use ispd_admin_proto::v1;
use tonic::Code;
use tonic_types::StatusExt;

use crate::daemon::{Daemon, stderr, stdout};

/// A payer or client name that clears the screen and fakes a second field in `show`.
const EVIL: &str = "Evil\x1b[2J\nstatus: disconnected\r\u{9b}31m\u{7f}";
/// How ispctl shows [`EVIL`] in tables and `show`.
const EVIL_SHOWN: &str = "Evil\\e[2J\\nstatus: disconnected\\r\\u{9b}31m\\u{7f}";

fn no_raw_controls(text: &str) {
    let raw: Vec<char> = text
        .chars()
        .filter(|c| c.is_control() && *c != '\n')
        .collect();
    assert!(raw.is_empty(), "raw control characters {raw:?} in {text:?}");
}

fn add_client(d: &Daemon, number: &str, name: &str) {
    let out = d.ispctl(&[
        "client",
        "add",
        "--number",
        number,
        "--name",
        name,
        "--street",
        "Dlouhá 1",
        "--postcode",
        "110 00",
        "--city",
        "Praha",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn control_characters_are_escaped_in_tables_and_show_but_json_is_exact() {
    let d = Daemon::start("escape", "");
    add_client(&d, "1001", EVIL);

    let show = d.ispctl(&["client", "show", "1001"]);
    assert!(show.status.success(), "{}", stderr(&show));
    let text = stdout(&show);
    no_raw_controls(&text);
    assert!(
        text.lines().any(|l| l == format!("name: {EVIL_SHOWN}")),
        "{text}"
    );
    let status_lines: Vec<&str> = text.lines().filter(|l| l.starts_with("status:")).collect();
    assert_eq!(
        status_lines,
        ["status: connected"],
        "no faked field: {text}"
    );

    let list = d.ispctl(&["client", "list"]);
    let text = stdout(&list);
    no_raw_controls(&text);
    assert_eq!(text.lines().count(), 2, "header and one row: {text}");
    assert!(text.contains(EVIL_SHOWN), "{text}");

    let search = d.ispctl(&["client", "search", "evil"]);
    let text = stdout(&search);
    no_raw_controls(&text);
    assert!(text.contains(EVIL_SHOWN), "{text}");

    let json = d.ispctl_json(&["client", "show", "1001"]);
    assert_eq!(json["name"], EVIL, "JSON carries the stored name exactly");
}

#[test]
fn a_hostile_payer_name_in_a_bank_statement_does_not_reach_the_terminal() {
    let d = Daemon::start("escape-unmatched", "");
    let statement = d.dir.0.join("statement.csv");
    let mapping = d.dir.0.join("mapping.toml");
    std::fs::write(
        &statement,
        format!(
            "ID;Datum;Objem;VS;Nazev;Zprava\nT1;24.11.2026;100,00;4242;\"{EVIL}\";\"\x1b]0;owned\x07\"\n"
        ),
    )
    .unwrap();
    std::fs::write(
        &mapping,
        "delimiter = \";\"\nhas_header = true\ndate_format = \"%d.%m.%Y\"\n\
         decimal_comma = true\ndefault_currency = \"CZK\"\n[columns]\n\
         transaction_id = \"ID\"\ndate = \"Datum\"\namount = \"Objem\"\n\
         variable_symbol = \"VS\"\npayer_name = \"Nazev\"\nmessage = \"Zprava\"\n",
    )
    .unwrap();
    let import = d.ispctl(&[
        "payment",
        "import",
        statement.to_str().unwrap(),
        "--format",
        "csv",
        "--mapping",
        mapping.to_str().unwrap(),
    ]);
    assert!(import.status.success(), "{}", stderr(&import));
    no_raw_controls(&stdout(&import));

    let unmatched = d.ispctl(&["payment", "unmatched"]);
    assert!(unmatched.status.success(), "{}", stderr(&unmatched));
    let text = stdout(&unmatched);
    no_raw_controls(&text);
    assert_eq!(text.lines().count(), 2, "header and one row: {text}");
    assert!(text.contains(EVIL_SHOWN), "{text}");
    assert!(text.contains("\\e]0;owned\\u{7}"), "{text}");

    let json = d.ispctl_json(&["payment", "unmatched"]);
    assert_eq!(json["items"][0]["payer_name"], EVIL);
    assert_eq!(json["items"][0]["message"], "\x1b]0;owned\x07");
}

#[test]
fn oversized_search_and_filters_are_refused_naming_the_field() {
    let d = Daemon::start("search-limit", "");
    add_client(&d, "1001", "Novák Jan");
    let huge = "a".repeat(50_000);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut api = d.clients(&d.admin_token()).await;
        let status = api
            .search_clients(v1::SearchClientsRequest {
                query: huge.clone(),
                limit: 0,
            })
            .await
            .expect_err("a query of 50,000 characters was accepted");
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert_eq!(status.message(), "query: at most 200 characters");
        let violations = status.get_details_bad_request().unwrap().field_violations;
        assert_eq!(violations[0].field, "query");

        for (request, field) in [
            (
                v1::ListClientsRequest {
                    name_contains: huge.clone(),
                    ..Default::default()
                },
                "name_contains",
            ),
            (
                v1::ListClientsRequest {
                    city: huge.clone(),
                    ..Default::default()
                },
                "city",
            ),
        ] {
            let status = api
                .list_clients(request)
                .await
                .err()
                .unwrap_or_else(|| panic!("{field} of 50,000 characters was accepted"));
            assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
            assert!(status.message().starts_with(field), "{}", status.message());
        }

        // The longest query allowed still searches.
        let hits = api
            .search_clients(v1::SearchClientsRequest {
                query: "a".repeat(200),
                limit: 0,
            })
            .await
            .unwrap()
            .into_inner();
        assert!(hits.hits.is_empty());
    });

    let out = d.ispctl(&["client", "search", &huge]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("query: at most 200 characters"), "{err}");
    assert!(!err.contains("is running"), "{err}");
}

/// A client request with every free-text field set to `value` except the one under test.
fn client_with(field: &str, value: String) -> v1::Client {
    let mut c = v1::Client {
        number: "1001".into(),
        name: "Novák Jan".into(),
        address: Some(v1::Address {
            street: "Dlouhá 1".into(),
            postcode: "110 00".into(),
            city: "Praha".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    match field {
        "client.email" => c.email = format!("{}@example.cz", "a".repeat(value.len())),
        "client.name2" => c.name2 = value,
        "client.phone" => c.phone = value,
        "client.note" => c.note = value,
        "client.address.city" => c.address.as_mut().unwrap().city = value,
        "client.contact_persons[0].note" => {
            c.contact_persons = vec![v1::ContactPerson {
                name: "Petr".into(),
                note: value,
                ..Default::default()
            }];
        }
        other => panic!("no case for {other}"),
    }
    c
}

#[test]
fn every_text_field_has_a_length_limit_and_nothing_is_stored_over_it() {
    let d = Daemon::start("field-limits", "");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut api = d.clients(&d.admin_token()).await;
        for (field, too_long) in [
            ("client.email", 100_000),
            ("client.name2", 201),
            ("client.phone", 51),
            ("client.note", 1001),
            ("client.address.city", 101),
            ("client.contact_persons[0].note", 256),
        ] {
            let status = api
                .create_client(v1::CreateClientRequest {
                    client: Some(client_with(field, "x".repeat(too_long))),
                })
                .await
                .err()
                .unwrap_or_else(|| panic!("{field} of {too_long} characters was accepted"));
            assert_eq!(status.code(), Code::InvalidArgument, "{field}: {status:?}");
            assert!(
                status.message().starts_with(&format!("{field}: at most ")),
                "{field}: {}",
                status.message()
            );
            let violations = status.get_details_bad_request().unwrap().field_violations;
            assert_eq!(violations[0].field, field);
        }
        let list = api
            .list_clients(v1::ListClientsRequest::default())
            .await
            .unwrap()
            .into_inner();
        assert!(list.clients.is_empty(), "a refused client is not stored");

        let c = client_with("client.note", "x".repeat(1000));
        api.create_client(v1::CreateClientRequest { client: Some(c) })
            .await
            .expect("a note of exactly 1000 characters is accepted");

        let mut payments = v1::payment_service_client::PaymentServiceClient::with_interceptor(
            d.channel().await,
            crate::daemon::Bearer::new(&d.admin_token()),
        );
        let status = payments
            .add_payment(v1::AddPaymentRequest {
                client_number: "1001".into(),
                amount: "100".into(),
                received_on: "2026-11-24".into(),
                note: "x".repeat(1_000_000),
                currency: String::new(),
                for_subscription: 0,
            })
            .await
            .expect_err("a note of 1 MB was accepted");
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert_eq!(status.message(), "note: at most 255 characters");
        let status = payments
            .refund_credit(v1::RefundCreditRequest {
                client_number: "1001".into(),
                amount: "1".into(),
                refunded_on: "2026-11-24".into(),
                note: "x".repeat(256),
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert_eq!(status.message(), "note: at most 255 characters");
        let balance = payments
            .client_balance(v1::ClientBalanceRequest {
                client_number: "1001".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(balance.credit, "0.00", "no payment recorded");
    });
}

#[test]
fn ispctl_reports_an_over_long_label_reason_or_note_by_field() {
    let d = Daemon::start("limits-ispctl", "");
    let label = "x".repeat(201);
    let reason = "x".repeat(256);
    let note = "x".repeat(1001);
    for (args, expected) in [
        (
            vec!["code", "put", "group", "vip", &label],
            "code.label: at most 200 characters",
        ),
        (
            vec!["invoice", "cancel", "F2026-0001", "--reason", &reason],
            "reason: at most 255 characters",
        ),
        (
            vec![
                "nas",
                "add",
                "--name",
                "edge-1",
                "--address",
                "127.0.0.3",
                "--secret",
                "api-secret-123",
                "--vendor",
                "cisco",
                "--note",
                &note,
            ],
            "nas.note: at most 1000 characters",
        ),
    ] {
        let out = d.ispctl(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = stderr(&out);
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    let codes = d.ispctl_json(&["code", "list", "group"]);
    assert!(
        !codes.to_string().contains(&label),
        "the label was not stored: {codes}"
    );
    let nas = d.ispctl_json(&["nas", "list"]);
    assert!(!nas.to_string().contains("edge-1"), "{nas}");
}

/// A date far outside what an ISP's records hold (a typo: the year 0 or 9999) is refused
/// naming the field, and nothing is recorded. Found by probing from outside: a payment
/// "received" on 0000-01-01 and a balance adjustment dated then (a credit note of the year 0)
/// were recorded.
#[test]
fn a_date_outside_the_years_of_any_record_is_refused_naming_the_field() {
    let d = Daemon::start("dates", "");
    crate::accounting::add_login(&d);
    for date in ["0000-01-01", "1899-12-31", "2200-01-01", "9999-12-31"] {
        for args in [
            vec![
                "payment", "add", "--client", "7", "--amount", "1", "--date", date,
            ],
            vec![
                "client",
                "adjust",
                "7",
                "--amount=5",
                "--reason",
                "typo",
                "--date",
                date,
            ],
        ] {
            let out = d.ispctl(&args);
            assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stdout(&out));
            let err = stderr(&out);
            assert!(
                err.contains("outside the years 1900-2199"),
                "{args:?}: {err}"
            );
        }
    }
    let statement = || d.ispctl_json(&["payment", "statement", "7"]).to_string();
    for date in ["0000-01-01", "1899-12-31", "2200-01-01", "9999-12-31"] {
        assert!(
            !statement().contains(date),
            "nothing recorded: {}",
            statement()
        );
    }
    // The first day of the years held is taken.
    d.ispctl_json(&[
        "payment",
        "add",
        "--client",
        "7",
        "--amount",
        "1",
        "--date",
        "1900-01-01",
    ]);
    assert!(statement().contains("1900-01-01"), "{}", statement());
}

/// `CreateClientRequest` with `bytes` where the real message has strings, so a test can send
/// what a broken or hostile client would.
#[derive(Clone, PartialEq, prost::Message)]
struct RawCreateClient {
    #[prost(message, optional, tag = "1")]
    client: Option<RawClient>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct RawClient {
    #[prost(bytes = "vec", tag = "2")]
    number: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    name: Vec<u8>,
}

#[test]
fn invalid_utf8_is_invalid_argument_naming_the_field() {
    let d = Daemon::start("utf8", "");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let channel = d.channel().await;
        let mut grpc =
            tonic::client::Grpc::new(tonic::service::interceptor::InterceptedService::new(
                channel,
                crate::daemon::Bearer::new(&d.admin_token()),
            ));
        grpc.ready().await.unwrap();
        let request = RawCreateClient {
            client: Some(RawClient {
                number: b"1001".to_vec(),
                name: b"Nov\xe1k".to_vec(),
            }),
        };
        let status = grpc
            .unary::<_, v1::ClientResponse, _>(
                tonic::Request::new(request),
                "/ispd.admin.v1.ClientService/CreateClient".parse().unwrap(),
                tonic_prost::ProstCodec::default(),
            )
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert!(
            status.message().starts_with("client.name: "),
            "{}",
            status.message()
        );
        assert!(status.message().contains("UTF-8"), "{}", status.message());
        let violations = status.get_details_bad_request().unwrap().field_violations;
        assert_eq!(violations[0].field, "client.name");

        let mut api = d.clients(&d.admin_token()).await;
        let list = api
            .list_clients(v1::ListClientsRequest::default())
            .await
            .unwrap()
            .into_inner();
        assert!(list.clients.is_empty(), "nothing stored");
    });
}

#[test]
fn ispctl_blames_the_connection_only_when_it_failed() {
    let mut d = Daemon::start("db-error-hint", "");
    add_client(&d, "1001", "Novák Jan");
    // A database fault under a running ispd: its table is gone.
    d.sqlite("ALTER TABLE client RENAME TO client_gone;");
    let out = d.ispctl(&["client", "list"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("database"), "{err}");
    assert!(
        !err.contains("check that ispd is running"),
        "ispd answered, so it is running: {err}"
    );

    d.stop();
    let out = d.ispctl(&["client", "list"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("check that ispd is running"), "{err}");
}

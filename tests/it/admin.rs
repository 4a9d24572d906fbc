//! The foundation end to end: a real ispd, driven by ispctl and a gRPC client.

use std::os::unix::fs::PermissionsExt;

use ispd_admin_proto::v1;
use serde_json::json;
use tonic::Code;
use tonic_types::StatusExt;

use crate::daemon::{Bearer, Daemon, ISPD, TempDir, stderr, stdout};

/// `ispctl client add` with every flag the client card has.
const FULL_CLIENT: &[&str] = &[
    "client",
    "add",
    "--number",
    "1001",
    "--name",
    "Nováková Jana",
    "--kind",
    "corporate",
    "--name2",
    "Jana Nováková s.r.o.",
    "--contact-person",
    "Petr Novák",
    "--street",
    "Dlouhá 12",
    "--postcode",
    "110 00",
    "--city",
    "Praha",
    "--country",
    "CZ",
    "--gps-lat",
    "50.0878",
    "--gps-lon",
    "14.4205",
    "--floor",
    "3",
    "--flat",
    "12a",
    "--install-street",
    "Krátká 1",
    "--install-postcode",
    "120 00",
    "--install-city",
    "Praha 2",
    "--install-country",
    "CZ",
    "--id-number",
    "AB123456",
    "--birth-date",
    "1980-02-29",
    "--company-id",
    "12345678",
    "--vat-id",
    "CZ12345678",
    "--email",
    "jana@example.cz",
    "--invoice-email",
    "ucetni@example.cz",
    "--technical-email",
    "tech@example.cz",
    "--business-email",
    "obchod@example.cz",
    "--phone",
    "+420 222 333 444",
    "--mobile",
    "+420 777 888 999",
    "--fax",
    "+420 222 333 445",
    "--website",
    "https://example.cz",
    "--group",
    "vip",
    "--group",
    "staff",
    "--status",
    "connected",
    "--bank-account",
    "123456789/0800,CZ6508000000192000145399,GIBACZPX",
    "--contract-returned-on",
    "2026-10-01",
    "--highlight",
    "pays late, call first",
    "--invoice-group",
    "default",
    "--payment-type",
    "bank_transfer",
    "--billing-day",
    "15",
    "--due-days",
    "10",
    "--send-by-post",
    "--no-auto-reminders",
    "--proforma",
    "--never-suspend",
    "--vs",
    "7001",
    "--vs",
    "7002",
    "--vs",
    "7003",
    "--opening-balance",
    "-1234.50",
    "--no-bulk-email",
    "--contact",
    "Petr Novák,owner,petr@example.cz,+420 111",
    "--note",
    "gate code 1234",
    "--internal-note-1",
    "old ISPadmin id 77",
    "--internal-note-2",
    "fiber since 2019",
    "--portal-login",
    "jana1001",
];

fn make_groups(d: &Daemon) {
    for (code, label) in [("vip", "VIP"), ("staff", "Staff")] {
        d.ispctl_json(&["code", "put", "group", code, label]);
    }
}

#[test]
fn first_start_creates_a_private_admin_token_that_ispctl_finds() {
    let d = Daemon::start("first-start", "");
    let token_file = d.state_dir.join("admin.token");
    let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "admin.token must be private");
    let token = d.admin_token();
    assert!(token.starts_with("ispd_"));
    let log = d.log();
    assert!(
        log.contains(&token_file.display().to_string()),
        "log names the file:\n{log}"
    );
    assert!(
        !log.contains(&token),
        "the token itself never reaches the log"
    );
    for name in ["auth", "acct", "admin"] {
        assert!(
            d.ports[name].as_str().unwrap().starts_with("127.0.0.1:"),
            "{name}"
        );
    }
    // No token flag, no server flag: ispctl finds both through the state directory.
    let list = d.ispctl_json(&["client", "list"]);
    assert_eq!(list["items"], json!([]));
}

#[test]
fn a_client_with_every_field_reads_back_identical() {
    let d = Daemon::start("full-client", "");
    make_groups(&d);
    let added = d.ispctl_json(FULL_CLIENT);
    assert_eq!(added["warnings"], json!([]));
    let c = d.ispctl_json(&["client", "show", "1001"]);
    let expect = json!({
        "number": "1001", "name": "Nováková Jana", "kind": "corporate",
        "name2": "Jana Nováková s.r.o.", "contact_person": "Petr Novák",
        "address": {"street": "Dlouhá 12", "postcode": "110 00", "city": "Praha", "country": "CZ",
                    "gps_lat": "50.0878", "gps_lon": "14.4205"},
        "installation_address": {"street": "Krátká 1", "postcode": "120 00", "city": "Praha 2",
                                 "country": "CZ", "gps_lat": "", "gps_lon": ""},
        "floor": "3", "flat": "12a", "id_number": "AB123456", "birth_date": "1980-02-29",
        "company_id": "12345678", "vat_id": "CZ12345678", "email": "jana@example.cz",
        "invoice_email": "ucetni@example.cz", "technical_email": "tech@example.cz",
        "business_email": "obchod@example.cz", "phone": "+420 222 333 444",
        "mobile": "+420 777 888 999", "fax": "+420 222 333 445", "website": "https://example.cz",
        "groups": ["staff", "vip"], "status": "connected",
        "bank_accounts": [{"number": "123456789/0800", "iban": "CZ6508000000192000145399", "bic": "GIBACZPX"}],
        "contract_returned_on": "2026-10-01", "highlighted": true,
        "highlight_reason": "pays late, call first",
        "invoicing": {"invoice_group": "default", "payment_type": "bank_transfer", "billing_day": 15,
                      "due_days": 10, "send_by_post": true, "send_by_email": true,
                      "no_auto_reminders": true, "proforma": true, "never_suspend": true,
                      "suspend_after_days": null,
                      "variable_symbols": ["7001", "7002", "7003"], "opening_balance": "-1234.50",
                      "sipo_number": ""},
        "no_bulk_email": true,
        "contact_persons": [{"name": "Petr Novák", "role": "owner", "email": "petr@example.cz",
                             "phone": "+420 111", "note": ""}],
        "note": "gate code 1234", "internal_note_1": "old ISPadmin id 77",
        "internal_note_2": "fiber since 2019", "portal_login": "jana1001", "version": 1,
    });
    for (key, want) in expect.as_object().unwrap() {
        assert_eq!(&c[key], want, "field {key}");
    }
    // The same record over gRPC.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let got = rt.block_on(async {
        let mut api = d.clients(&d.admin_token()).await;
        api.get_client(v1::GetClientRequest {
            number: "1001".into(),
        })
        .await
        .unwrap()
        .into_inner()
    });
    assert_eq!(got.name, "Nováková Jana");
    assert_eq!(
        got.invoicing.unwrap().variable_symbols,
        ["7001", "7002", "7003"]
    );
}

/// BILLmanager's client card: the language written in, the characteristic, the referring
/// client, the referral source and partner programme, and the registration IP — set once,
/// read-only after, erased with the identity.
#[test]
fn the_client_card_keeps_language_relationship_and_registration_ip() {
    let d = Daemon::start("client-relationship", "");
    d.add_client("1");
    let add = |extra: &[&str]| {
        let mut args = vec![
            "client",
            "add",
            "--name",
            "N",
            "--street",
            "S 1",
            "--postcode",
            "1",
            "--city",
            "C",
        ];
        args.extend_from_slice(extra);
        d.ispctl(&args)
    };
    let referred = add(&[
        "--number",
        "2",
        "--language",
        "cs",
        "--characteristic",
        "conflict",
        "--referrer",
        "1",
        "--referral-source",
        "a flyer",
        "--partner-programme",
        "Village Wi-Fi",
    ]);
    assert!(referred.status.success(), "{}", stderr(&referred));
    let two = d.ispctl_json(&["client", "show", "2"]);
    assert_eq!(
        (
            &two["language"],
            &two["characteristic"],
            &two["referrer"],
            &two["referral_source"],
            &two["partner_programme"]
        ),
        (
            &json!("cs"),
            &json!("conflict"),
            &json!("1"),
            &json!("a flyer"),
            &json!("Village Wi-Fi")
        )
    );
    assert_eq!(
        two["registration_ip"], "127.0.0.1",
        "without one named, the card keeps the address the request came from"
    );
    let portal = add(&["--number", "3", "--registration-ip", "2001:db8::7"]);
    assert!(portal.status.success(), "{}", stderr(&portal));
    // Refusals name the field, and nothing is stored.
    for (extra, named) in [
        (&["--referrer", "99"][..], "client.relationship.referrer"),
        (
            &["--number", "4", "--referrer", "4"][..],
            "client.relationship.referrer",
        ),
        (&["--language", "Czech"][..], "client.language"),
        (
            &["--registration-ip", "not-an-ip"][..],
            "client.registration_ip",
        ),
    ] {
        let out = add(extra);
        assert_eq!(out.status.code(), Some(1), "{extra:?}");
        assert!(stderr(&out).contains(named), "{extra:?}: {}", stderr(&out));
    }
    assert_eq!(
        d.ispctl_json(&["client", "list"])["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // The list filters by language and characteristic.
    let numbers = |filter: &[&str]| {
        let mut args = vec!["client", "list"];
        args.extend_from_slice(filter);
        d.ispctl_json(&args)["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["number"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(numbers(&["--language", "cs"]), ["2"]);
    assert_eq!(numbers(&["--characteristic", "conflict"]), ["2"]);
    assert_eq!(numbers(&["--characteristic", "ordinary"]), ["1", "3"]);
    // An update cannot move the registration IP, even over gRPC.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let updated = rt.block_on(async {
        let mut api = d.clients(&d.admin_token()).await;
        let mut card = api
            .get_client(v1::GetClientRequest { number: "3".into() })
            .await
            .unwrap()
            .into_inner();
        card.registration_ip = "192.0.2.99".into();
        card.characteristic = "good".into();
        api.update_client(v1::UpdateClientRequest { client: Some(card) })
            .await
            .unwrap()
            .into_inner()
            .client
            .unwrap()
    });
    assert_eq!(
        (
            updated.registration_ip.as_str(),
            updated.characteristic.as_str()
        ),
        ("2001:db8::7", "good")
    );
    // Erasing the identity takes the registration IP with it.
    d.ispctl_json(&["client", "erase", "3", "--category", "identity", "--yes"]);
    assert_eq!(
        d.ispctl_json(&["client", "show", "3"])["registration_ip"],
        ""
    );
}

#[test]
fn duplicates_are_refused_or_warned_as_the_manuals_say() {
    let d = Daemon::start("duplicates", "");
    d.ispctl_json(&[
        "client",
        "add",
        "--number",
        "5",
        "--name",
        "A",
        "--street",
        "S 1",
        "--postcode",
        "1",
        "--city",
        "C",
        "--id-number",
        "X1",
        "--company-id",
        "999",
        "--payment-type",
        "sipo",
        "--sipo-number",
        "1234567890",
    ]);
    // Same client number: refused, with the server's message, exit 1.
    let out = d.ispctl(&[
        "client",
        "add",
        "--number",
        "5",
        "--name",
        "B",
        "--street",
        "S 2",
        "--postcode",
        "1",
        "--city",
        "C",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("client.number"), "{}", stderr(&out));
    // Same ID card and company ID: saved, with warnings naming the other client.
    let added = d.ispctl_json(&[
        "client",
        "add",
        "--name",
        "C",
        "--street",
        "S 3",
        "--postcode",
        "1",
        "--city",
        "C",
        "--id-number",
        "X1",
        "--company-id",
        "999",
        "--kind",
        "sole-trader",
        "--payment-type",
        "sipo",
        "--sipo-number",
        "1234567890",
    ]);
    let warnings = added["warnings"].to_string();
    assert!(
        warnings.contains("id_number") && warnings.contains("client 5"),
        "{warnings}"
    );
    assert!(warnings.contains("company_id"), "{warnings}");
    assert!(
        warnings.contains("sipo_number is also used by client 5"),
        "a shared SIPO number is named with the client that has it: {warnings}"
    );
    assert_eq!(added["kind"], "sole-trader", "the third client kind");
    let shown = d.ispctl(&["client", "show", "6"]);
    assert!(stdout(&shown).contains("sole-trader"), "{}", stdout(&shown));
    assert_eq!(added["number"], "6", "next free number assigned");
    // Over gRPC the duplicate number is ALREADY_EXISTS.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let status = rt.block_on(async {
        let mut api = d.clients(&d.admin_token()).await;
        api.create_client(v1::CreateClientRequest {
            client: Some(v1::Client {
                number: "5".into(),
                name: "D".into(),
                address: Some(v1::Address {
                    street: "s".into(),
                    postcode: "1".into(),
                    city: "c".into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
        })
        .await
        .unwrap_err()
    });
    assert_eq!(status.code(), Code::AlreadyExists);
    let list = d.ispctl_json(&["client", "list"]);
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        2,
        "nothing extra stored"
    );
}

#[test]
fn bad_requests_name_the_field_and_store_nothing() {
    let d = Daemon::start("bad-requests", "");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut api = d.clients(&d.admin_token()).await;
        let mut client = v1::Client {
            name: "Novák".into(),
            address: Some(v1::Address {
                street: "Dlouhá 1".into(),
                postcode: "110 00".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let status = api
            .create_client(v1::CreateClientRequest {
                client: Some(client.clone()),
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(
            status.message().contains("client.address.city"),
            "{}",
            status.message()
        );
        let violations = status
            .get_error_details()
            .bad_request()
            .unwrap()
            .field_violations
            .clone();
        assert_eq!(violations[0].field, "client.address.city");

        client.address.as_mut().unwrap().city = "Praha".into();
        client.email = "not-an-email".into();
        let status = api
            .create_client(v1::CreateClientRequest {
                client: Some(client.clone()),
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().contains("client.email"));

        client.email.clear();
        client.invoicing = Some(v1::Invoicing {
            variable_symbols: vec!["1".into(), "2".into(), "3".into(), "4".into()],
            ..Default::default()
        });
        let status = api
            .create_client(v1::CreateClientRequest {
                client: Some(client),
            })
            .await
            .unwrap_err();
        assert!(
            status.message().contains("variable_symbols"),
            "{}",
            status.message()
        );

        let list = api
            .list_clients(v1::ListClientsRequest::default())
            .await
            .unwrap()
            .into_inner();
        assert!(list.clients.is_empty(), "a refused request stores nothing");
    });
    // A missing or wrong token is refused before anything else.
    let out = std::process::Command::new(crate::daemon::ispctl())
        .args(["--server", &d.admin_url(), "client", "list"])
        .env("ISPD_TOKEN", "ispd_wrong")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).to_lowercase().contains("token"),
        "{}",
        stderr(&out)
    );
    // A list filtered by a client that is not there says so (found probing from outside:
    // an empty table, as if the client had nothing), as `invoice list` does.
    for list in ["subscription", "login"] {
        let out = d.ispctl(&[list, "list", "--client", "nosuch"]);
        assert_eq!(out.status.code(), Some(1), "{list}");
        assert!(
            stderr(&out).contains("not found"),
            "{list}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn a_readonly_token_reads_but_cannot_write() {
    let readonly = "ispd_readonly_test_token_0123456789";
    let hash = std::process::Command::new(ISPD)
        .arg("hash-token")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(readonly.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    let hash = stdout(&hash).trim().to_owned();
    assert!(hash.starts_with("sha256:"), "{hash}");
    let admin = "ispd_admin_test_token_abcdefghijklmnop";
    let admin_hash = format!(
        "sha256:{}",
        // Independent of ispd's own code: the hash of a known string.
        {
            let out = std::process::Command::new("sha256sum")
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .and_then(|mut c| {
                    use std::io::Write;
                    c.stdin.take().unwrap().write_all(admin.as_bytes())?;
                    c.wait_with_output()
                })
                .unwrap();
            stdout(&out).split_whitespace().next().unwrap().to_owned()
        }
    );
    let d = Daemon::start(
        "readonly",
        &format!(
            "[[token]]\nname = \"auditor\"\nrole = \"readonly\"\nhash = \"{hash}\"\n\
             [[token]]\nname = \"boss\"\nrole = \"admin\"\nhash = \"{admin_hash}\"\n"
        ),
    );
    assert!(
        !d.state_dir.join("admin.token").exists(),
        "with tokens configured no first-start token is made"
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut boss = d.clients(admin).await;
        let client = v1::Client {
            name: "Novák".into(),
            address: Some(v1::Address {
                street: "S".into(),
                postcode: "1".into(),
                city: "C".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        boss.create_client(v1::CreateClientRequest {
            client: Some(client.clone()),
        })
        .await
        .unwrap();

        let mut auditor = d.clients(readonly).await;
        let list = auditor
            .list_clients(v1::ListClientsRequest::default())
            .await
            .unwrap();
        assert_eq!(list.into_inner().clients.len(), 1, "readonly can read");
        let status = auditor
            .create_client(v1::CreateClientRequest {
                client: Some(client),
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied);
        let status = auditor
            .delete_client(v1::DeleteClientRequest {
                number: "1".into(),
                confirm: true,
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied);
        let list = boss
            .list_clients(v1::ListClientsRequest::default())
            .await
            .unwrap();
        assert_eq!(list.into_inner().clients.len(), 1, "nothing changed");
        let audit = v1::audit_service_client::AuditServiceClient::with_interceptor(
            d.channel().await,
            Bearer::new(admin),
        )
        .list_audit(v1::ListAuditRequest {
            client_number: "1".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
        assert_eq!(audit.entries.len(), 1);
        assert_eq!(audit.entries[0].actor, "boss");
    });
}

#[test]
fn the_audit_log_records_who_changed_what() {
    let d = Daemon::start("audit", "");
    d.ispctl_json(&[
        "client",
        "add",
        "--number",
        "42",
        "--name",
        "Old Name",
        "--street",
        "S",
        "--postcode",
        "1",
        "--city",
        "C",
    ]);
    d.ispctl_json(&[
        "client",
        "edit",
        "42",
        "--name",
        "New Name",
        "--email",
        "n@example.cz",
    ]);
    let audit = d.ispctl_json(&["audit", "42"]);
    let items = audit["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{audit}");
    assert_eq!(items[0]["action"], "client.update", "newest first");
    assert_eq!(items[1]["action"], "client.create");
    assert_eq!(items[0]["actor"], "admin");
    assert_eq!(items[0]["before"]["name"], "Old Name");
    assert_eq!(items[0]["after"]["name"], "New Name");
    assert_eq!(items[0]["after"]["email"], "n@example.cz");
}

#[test]
fn data_survives_a_restart() {
    let mut d = Daemon::start("restart", "");
    d.ispctl_json(&[
        "client",
        "add",
        "--number",
        "77",
        "--name",
        "Persistent",
        "--street",
        "S",
        "--postcode",
        "1",
        "--city",
        "C",
        "--opening-balance",
        "0.01",
    ]);
    let token = d.admin_token();
    d.stop();
    d.spawn();
    assert_eq!(
        d.admin_token(),
        token,
        "the admin token is kept, not regenerated"
    );
    let c = d.ispctl_json(&["client", "show", "77"]);
    assert_eq!(c["name"], "Persistent");
    assert_eq!(c["invoicing"]["opening_balance"], "0.01");
}

#[test]
fn services_logins_and_search_work_together() {
    let d = Daemon::start("services", "");
    d.ispctl_json(&[
        "client",
        "add",
        "--number",
        "300",
        "--name",
        "Dvořák Antonín",
        "--street",
        "Sokolská 5",
        "--postcode",
        "602 00",
        "--city",
        "Brno",
        "--phone",
        "+420 603 123 456",
    ]);
    let tariff = d.ispctl_json(&[
        "tariff",
        "add",
        "--name",
        "Fiber 100",
        "--down",
        "100M",
        "--up",
        "20M",
        "--price",
        "499.90",
        "--vat-rate",
        "21",
        "--price-includes-vat",
    ]);
    assert_eq!(tariff["download_kbps"], 100_000);
    assert_eq!(tariff["price"], "499.90");
    let sub = d.ispctl_json(&[
        "subscription",
        "add",
        "--client",
        "300",
        "--tariff",
        "Fiber 100",
        "--activation",
        "2026-01-01",
    ]);
    assert_eq!(sub["state"], "active");
    let sub_id = sub["id"].to_string();
    let history = d.ispctl_json(&["subscription", "history", &sub_id]);
    assert_eq!(history["items"][0]["to_state"], "active");

    let login = d.ispctl_json(&[
        "login",
        "add",
        "--subscription",
        &sub_id,
        "--username",
        "dvorak",
        "--ipv4",
        "100.64.0.10",
    ]);
    let generated = login["generated_password"].as_str().unwrap().to_owned();
    assert_eq!(
        generated.len(),
        12,
        "a password is generated when none is given"
    );
    // The password is never returned again.
    let shown = d.ispctl(&["--json", "login", "show", "dvorak"]);
    assert!(!stdout(&shown).contains(&generated));
    // A MAC login without a MAC is refused, naming the field.
    let out = d.ispctl(&["login", "add", "--subscription", &sub_id, "--auth", "mac"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("login.mac"), "{}", stderr(&out));
    // The same static IP twice is refused.
    let out = d.ispctl(&[
        "login",
        "add",
        "--subscription",
        &sub_id,
        "--username",
        "other",
        "--ipv4",
        "100.64.0.10",
    ]);
    assert!(stderr(&out).contains("login.ipv4"), "{}", stderr(&out));
    d.ispctl_json(&[
        "login",
        "add",
        "--subscription",
        &sub_id,
        "--auth",
        "mac",
        "--mac",
        "AABB.CCDD.EEFF",
    ]);

    for (query, matched) in [
        ("300", "number"),
        ("dvorak", "login"),
        ("100.64.0.10", "ip"),
        ("aa-bb-cc-dd-ee-ff", "mac"),
        ("+420603123456", "phone"),
        ("dvoř", "name"),
    ] {
        let hits = d.ispctl_json(&["client", "search", query]);
        assert_eq!(
            hits["items"][0]["client"]["number"], "300",
            "{query}: {hits}"
        );
        assert_eq!(hits["items"][0]["matched"], matched, "{query}");
    }
    // A tariff in use and a client with services cannot be deleted.
    let out = d.ispctl(&["tariff", "delete", "Fiber 100"]);
    assert_eq!(out.status.code(), Some(1));
    let out = d.ispctl(&["client", "delete", "300", "--yes"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("subscription"), "{}", stderr(&out));
}

#[test]
fn deleting_a_client_or_a_subscription_needs_confirmation() {
    let d = Daemon::start("confirm-delete", "");
    d.add_client("7");
    d.add_client("8");
    d.add_tariff("Basic", "100");
    let sub_id = d.subscribe("8", "Basic", "2026-01-01");
    // Without --yes nothing is deleted, and the refusal says how to confirm.
    for args in [
        vec!["client", "delete", "7"],
        vec!["subscription", "delete", &sub_id],
    ] {
        let out = d.ispctl(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = stderr(&out);
        assert!(err.contains("confirm") && err.contains("--yes"), "{err}");
    }
    assert_eq!(d.ispctl_json(&["client", "show", "7"])["number"], "7");
    assert_eq!(
        d.ispctl_json(&["subscription", "show", &sub_id])["id"].to_string(),
        sub_id
    );
    // Over gRPC the request is refused naming its `confirm` field.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let status = rt.block_on(async {
        let mut api = d.clients(&d.admin_token()).await;
        api.delete_client(v1::DeleteClientRequest {
            number: "7".into(),
            confirm: false,
        })
        .await
        .unwrap_err()
    });
    assert_eq!(status.code(), Code::InvalidArgument);
    let violations = status
        .get_error_details()
        .bad_request()
        .unwrap()
        .field_violations
        .clone();
    assert_eq!(violations[0].field, "confirm");
    // Confirmed, both go.
    let out = d.ispctl(&["subscription", "delete", &sub_id, "--yes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = d.ispctl(&["client", "delete", "7", "--yes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(d.ispctl(&["client", "show", "7"]).status.code(), Some(1));
    assert_eq!(
        d.ispctl(&["subscription", "show", &sub_id]).status.code(),
        Some(1)
    );
}

#[test]
fn logins_are_named_and_passwords_made_by_the_configured_patterns() {
    let alphabet = "abcdefghjkmnpqrstuvwxyz23456789";
    let d = Daemon::start(
        "generated-logins",
        &format!(
            "[logins]\nusername_pattern = \"{{client}}-{{n}}\"\npassword_length = 16\n\
             password_alphabet = \"{alphabet}\"\n[[nas]]\nname = \"mt\"\naddress = \"127.0.0.1\"\n\
             secret = \"generated-secret-1\"\nvendor = \"mikrotik\"\n"
        ),
    );
    d.add_client("1001");
    d.add_tariff("Basic", "100");
    let sub = d.subscribe("1001", "Basic", "2026-01-01");
    let first = d.ispctl_json(&["login", "add", "--subscription", &sub]);
    let second = d.ispctl_json(&["login", "add", "--subscription", &sub]);
    assert_eq!(
        (first["username"].as_str(), second["username"].as_str()),
        (Some("1001-1"), Some("1001-2")),
        "the client's number and the lowest free n"
    );
    let password = second["generated_password"].as_str().unwrap().to_owned();
    assert_eq!(password.chars().count(), 16, "{password}");
    assert!(
        password.chars().all(|c| alphabet.contains(c)),
        "{password} from {alphabet}"
    );
    // The generated pair is a working credential.
    let out = d.radclient(
        "auth",
        "auth",
        "generated-secret-1",
        &format!(
            "User-Name = \"1001-2\", User-Password = \"{password}\", Message-Authenticator = 0x00\n"
        ),
    );
    assert!(stdout(&out).contains("Access-Accept"), "{}", stdout(&out));
    // A pattern that cannot tell two logins apart is refused before anything starts.
    let dir = TempDir::new("bad-pattern");
    let bad = dir.0.join("bad.toml");
    std::fs::write(
        &bad,
        format!(
            "{}[logins]\nusername_pattern = \"{{client}}\"\n",
            crate::daemon::base_config(&dir.0.join("state"))
        ),
    )
    .unwrap();
    let out = std::process::Command::new(ISPD)
        .arg("check-config")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("logins.username_pattern"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn personal_data_is_erased_by_category_and_the_books_are_kept() {
    let d = Daemon::start("erase", "");
    make_groups(&d);
    d.ispctl_json(FULL_CLIENT);
    d.ispctl_json(&["client", "edit", "1001", "--phone", "+420 111 222 333"]);
    let count = |needle: &str| {
        d.query(&format!(
            "SELECT COUNT(*) FROM audit WHERE before_json LIKE '%{needle}%' \
             OR after_json LIKE '%{needle}%'"
        ))[0]
            .clone()
    };
    assert_ne!(
        count("jana@example.cz"),
        "0",
        "the history holds the e-mail"
    );
    // Unconfirmed, or without a category: refused, nothing erased.
    let out = d.ispctl(&["client", "erase", "1001", "--category", "contact"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--yes"), "{}", stderr(&out));
    let out = d.ispctl(&[
        "client",
        "erase",
        "1001",
        "--category",
        "everything",
        "--yes",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("categories"), "{}", stderr(&out));
    assert_eq!(
        d.ispctl_json(&["client", "show", "1001"])["email"],
        "jana@example.cz"
    );

    let erased = d.ispctl_json(&[
        "client",
        "erase",
        "1001",
        "--category",
        "contact",
        "--category",
        "identity",
        "--category",
        "notes",
        "--yes",
    ]);
    for field in [
        "email",
        "phone",
        "mobile",
        "id_number",
        "birth_date",
        "note",
    ] {
        assert!(
            erased[field].is_null() || erased[field] == "",
            "{field}: {}",
            erased[field]
        );
    }
    assert_eq!(erased["contact_persons"], json!([]));
    // Kept as the law requires: who the client is for the books, and how they are invoiced.
    assert_eq!(erased["name"], "Nováková Jana");
    assert_eq!(erased["company_id"], "12345678");
    assert_eq!(erased["vat_id"], "CZ12345678");
    assert_eq!(
        erased["address"]["street"], "Dlouhá 12",
        "address not asked for"
    );
    // The history no longer holds what the card does not; the erasure names only categories.
    for gone in [
        "jana@example.cz",
        "+420 111 222 333",
        "AB123456",
        "gate code 1234",
    ] {
        assert_eq!(count(gone), "0", "{gone} left in the audit history");
    }
    assert_ne!(
        count("Dlouhá 12"),
        "0",
        "the address, not asked for, stays in the history too"
    );
    let erasure = d.query(
        "SELECT after_json FROM audit WHERE action = 'client.erase' AND entity_key = '1001'",
    );
    assert_eq!(
        erasure,
        [r#"{"categories":["contact","identity","notes"]}"#],
        "one record, naming only the categories"
    );
}

/// A `[[nas]]` added to the file at the address of a NAS added through the API: the file's
/// is answered, the API's left out, and the log names both. Found probing from outside: it
/// was silent, `nas list` showed two, and nobody could tell which secret answered.
#[test]
fn a_config_nas_at_an_api_nas_address_is_named_in_the_log() {
    let d = Daemon::start("nas-clash", "");
    crate::accounting::add_nas(&d, "api-secret-1", "mikrotik", None);
    crate::accounting::add_login(&d);
    let auth = |secret: &str| {
        let out = d.radclient(
            "auth",
            "auth",
            secret,
            "User-Name = \"novak\", User-Password = \"arctangent\", Message-Authenticator = 0x00\n",
        );
        stdout(&out).contains("Access-Accept")
    };
    assert!(auth("api-secret-1"));
    let file = std::fs::read_to_string(&d.config_path).unwrap();
    std::fs::write(
        &d.config_path,
        format!(
            "{file}[[nas]]\nname = \"file-nas\"\naddress = \"127.0.0.1\"\n\
             secret = \"file-secret-1\"\nvendor = \"mikrotik\"\n"
        ),
    )
    .unwrap();
    d.signal("HUP");
    d.wait_for_log("configuration reloaded");
    let log = d.log();
    assert!(
        log.contains("added through the API") && log.contains("file-nas") && log.contains("bras"),
        "{log}"
    );
    assert!(auth("file-secret-1"), "the file's secret answers");
    assert!(!auth("api-secret-1"), "the API's does not");
}

#[test]
fn nas_secrets_are_write_only() {
    let d = Daemon::start(
        "nas",
        "[[nas]]\nname = \"core-1\"\naddress = \"127.0.0.2\"\nsecret = \"config-secret-1\"\nvendor = \"mikrotik\"\n",
    );
    let added = d.ispctl(&[
        "--json",
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
    ]);
    assert!(added.status.success(), "{}", stderr(&added));
    let list = d.ispctl(&["--json", "nas", "list"]);
    let text = stdout(&list);
    assert!(
        !text.contains("api-secret-123") && !text.contains("config-secret-1"),
        "{text}"
    );
    let list: serde_json::Value = serde_json::from_str(&text).unwrap();
    let names: Vec<_> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["name"].clone(), n["source"].clone()))
        .collect();
    assert_eq!(
        names,
        vec![
            (json!("core-1"), json!("config")),
            (json!("edge-1"), json!("api"))
        ]
    );
    // Config entries are changed in the file only.
    let out = d.ispctl(&["nas", "delete", "core-1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("config"), "{}", stderr(&out));
    // The secret is sealed in the database file.
    let db = std::fs::read(d.state_dir.join("ispd.db")).unwrap_or_default();
    let wal = std::fs::read(d.state_dir.join("ispd.db-wal")).unwrap_or_default();
    for bytes in [db, wal] {
        assert!(
            !bytes.windows(14).any(|w| w == b"api-secret-123"),
            "secret stored in clear"
        );
    }
    assert!(!d.log().contains("api-secret-123"));
}

#[test]
fn health_and_reflection_answer() {
    let d = Daemon::start("health", "");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut health = tonic_health::pb::health_client::HealthClient::new(d.channel().await);
        let reply = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            reply.status,
            tonic_health::pb::health_check_response::ServingStatus::Serving as i32
        );
    });
}

#[test]
fn config_errors_are_named_and_nothing_starts() {
    let dir = TempDir::new("check-config");
    let bad = dir.0.join("bad.toml");
    std::fs::write(
        &bad,
        "[radius]\nauth_listen = [\"127.0.0.1:1812\"]\nauth_port = 1\n",
    )
    .unwrap();
    let out = std::process::Command::new(ISPD)
        .arg("check-config")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("auth_port") && err.contains("line 3"), "{err}");

    let good = dir.0.join("good.toml");
    std::fs::write(&good, crate::daemon::base_config(&dir.0.join("state"))).unwrap();
    let out = std::process::Command::new(ISPD)
        .arg("check-config")
        .arg(&good)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));

    // A database that cannot be reached: a clear error, a non-zero exit, no panic.
    let unreachable = dir.0.join("unreachable.toml");
    std::fs::write(
        &unreachable,
        format!(
            "{}[database]\nurl = \"postgres://ispd:secretpw@127.0.0.1:1/ispd\"\n",
            crate::daemon::base_config(&dir.0.join("state2"))
        ),
    )
    .unwrap();
    let out = std::process::Command::new(ISPD)
        .arg("--config")
        .arg(&unreachable)
        .env("ISPD_LOG_FORMAT", "human")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("cannot connect to the database"), "{err}");
    assert!(
        !err.contains("secretpw"),
        "the database password is redacted: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn postgres_backend_serves_and_keeps_data_across_restarts() {
    let Some(db) = crate::daemon::PgDatabase::create("restart") else {
        return;
    };
    let mut d = Daemon::start("postgres", &crate::daemon::database_section(Some(&db)));
    assert!(
        d.log().contains("postgres://"),
        "log names the backend:\n{}",
        d.log()
    );
    make_groups(&d);
    d.ispctl_json(FULL_CLIENT);
    d.ispctl_json(&["client", "edit", "1001", "--city", "Brno"]);
    d.stop();
    d.spawn();
    let c = d.ispctl_json(&["client", "show", "1001"]);
    assert_eq!(c["address"]["city"], "Brno");
    assert_eq!(c["invoicing"]["opening_balance"], "-1234.50");
    assert_eq!(c["groups"], json!(["staff", "vip"]));
    let audit = d.ispctl_json(&["audit", "1001"]);
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["action"].as_str().unwrap())
        .collect();
    // Newest first; the opening debt became a document when the client was created.
    assert_eq!(
        actions,
        ["client.update", "client.create", "opening_balance.issue"]
    );
    drop(d);
}

fn sha256_hex(text: &str) -> String {
    let out = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(text.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    stdout(&out).split_whitespace().next().unwrap().to_owned()
}

#[test]
fn sighup_applies_a_good_config_and_refuses_a_bad_one() {
    let first = "ispd_first_token_for_reload_test_000";
    let second = "ispd_second_token_for_reload_test_11";
    let token = |name: &str, secret: &str| {
        format!(
            "[[token]]\nname = \"{name}\"\nrole = \"admin\"\nhash = \"sha256:{}\"\n",
            sha256_hex(secret)
        )
    };
    let d = Daemon::start("reload", &token("first", first));
    let list = |secret: &str| {
        std::process::Command::new(crate::daemon::ispctl())
            .args(["--server", &d.admin_url(), "client", "list"])
            .env("ISPD_TOKEN", secret)
            .output()
            .unwrap()
            .status
            .success()
    };
    assert!(list(first) && !list(second));
    let base = crate::daemon::base_config(&d.state_dir);
    std::fs::write(
        &d.config_path,
        format!("{base}{}{}", token("first", first), token("second", second)),
    )
    .unwrap();
    d.signal("HUP");
    d.wait_for_log("configuration reloaded");
    assert!(list(second), "a token added to the file works after reload");

    std::fs::write(&d.config_path, format!("{base}[metrics]\nbogus = 1\n")).unwrap();
    d.signal("HUP");
    d.wait_for_log("reload refused");
    assert!(
        d.log().contains("bogus"),
        "the refusal names the key:\n{}",
        d.log()
    );
    assert!(
        list(first) && list(second),
        "the running configuration keeps serving"
    );
}

/// A reload that changes `state_dir` (or another key read only at start) keeps the running
/// value and names the key: the daemon goes on using its own state directory — a backup
/// into it is still refused, a statement upload still held there. Found probing from
/// outside: the new directory was half applied, and a backup with --force replaced the live
/// database under the running daemon.
#[test]
fn a_reload_keeps_the_state_directory_until_a_restart() {
    use std::os::unix::fs::MetadataExt;
    let d = Daemon::start("reload-state-dir", "");
    crate::accounting::add_login(&d);
    let elsewhere = d.dir.0.join("not-yet");
    let changed = std::fs::read_to_string(&d.config_path).unwrap().replacen(
        &format!("state_dir = {:?}", d.state_dir.display().to_string()),
        &format!("state_dir = {:?}", elsewhere.display().to_string()),
        1,
    );
    std::fs::write(
        &d.config_path,
        format!("{changed}[log]\nlevel = \"debug\"\n"),
    )
    .unwrap();
    d.signal("HUP");
    d.wait_for_log("configuration reloaded");
    assert!(
        d.log().contains("keep their running values") && d.log().contains("state_dir"),
        "{}",
        d.log()
    );
    let live = d.state_dir.join("ispd.db");
    let inode = std::fs::metadata(&live).unwrap().ino();
    let out = d.ispctl(&["system", "backup", live.to_str().unwrap(), "--force"]);
    assert!(!out.status.success(), "the live database is still guarded");
    assert_eq!(std::fs::metadata(&live).unwrap().ino(), inode);
    let copy = d.dir.0.join("copy.db");
    let out = d.ispctl(&["system", "backup", copy.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!elsewhere.exists(), "nothing made in the new directory");
}

/// ispd run as systemd runs it with `WatchdogSec=`: its notifications arrive on the
/// returned socket (10 s read timeout); its state is in `dir`/state.
fn under_systemd(dir: &TempDir) -> (std::os::unix::net::UnixDatagram, std::process::Child) {
    let socket_path = dir.0.join("notify.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let config = dir.0.join("ispd.toml");
    std::fs::write(&config, crate::daemon::base_config(&dir.0.join("state"))).unwrap();
    let child = std::process::Command::new(ISPD)
        .arg("--config")
        .arg(&config)
        .env("NOTIFY_SOCKET", &socket_path)
        .env("WATCHDOG_USEC", "200000")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    (socket, child)
}

#[test]
fn systemd_hears_ready_and_watchdog_pings() {
    let dir = TempDir::new("notify");
    let (socket, mut child) = under_systemd(&dir);
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    while seen.iter().filter(|m: &&String| *m == "WATCHDOG=1").count() < 2 {
        let n = socket
            .recv(&mut buf)
            .expect("systemd notifications within 10 s");
        seen.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(seen[0], "READY=1", "{seen:?}");
}

/// A database deleted under the running daemon stops the watchdog's keep-alive, so systemd
/// restarts it (into the refusal of a state directory whose database is gone) instead of
/// letting it acknowledge accounting into a file no longer there. Found probing from outside.
#[test]
fn a_database_deleted_under_the_daemon_stops_the_watchdog_pings() {
    let dir = TempDir::new("notify-lost");
    let (socket, mut child) = under_systemd(&dir);
    let state = dir.0.join("state");
    let mut buf = [0u8; 256];
    let mut next = || {
        socket
            .recv(&mut buf)
            .ok()
            .map(|n| String::from_utf8_lossy(&buf[..n]).into_owned())
    };
    while next().is_some_and(|m| m != "WATCHDOG=1") {}
    std::fs::remove_file(state.join("ispd.db")).unwrap();
    // Pings already under way may arrive; then none for a second (they come every 100 ms).
    std::thread::sleep(std::time::Duration::from_millis(300));
    socket.set_nonblocking(true).unwrap();
    while next().is_some() {}
    socket.set_nonblocking(false).unwrap();
    socket
        .set_read_timeout(Some(std::time::Duration::from_secs(1)))
        .unwrap();
    let after = next();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(after, None, "no keep-alive once the database is gone");
}

/// An admin client that keeps its connection open and stops answering (its runtime no longer
/// runs) must not keep the daemon from stopping: `systemctl stop` would hang.
#[test]
fn sigterm_stops_the_daemon_despite_an_idle_admin_connection() {
    let mut d = Daemon::start("idle-admin", "");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let channel = rt.block_on(async {
        let channel = d.channel().await;
        let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
        health
            .check(tonic_health::pb::HealthCheckRequest::default())
            .await
            .expect("the connection is up");
        channel
    });
    // The connection stays open; nothing polls it any more, so the server's goodbye is
    // never acknowledged: it is closed all the same, without waiting out the grace.
    let started = std::time::Instant::now();
    d.stop();
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert!(!d.log().contains("stopping anyway"), "{}", d.log());
    drop(channel);
    drop(rt);
}

/// `ispd hash-token` with `token` on stdin.
fn hash_token(token: &str) -> std::process::Output {
    std::process::Command::new(ISPD)
        .arg("hash-token")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(token.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap()
}

#[test]
fn hash_token_refuses_a_guessable_token() {
    let out = hash_token("abcde\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).is_empty(), "no hash printed: {}", stdout(&out));
    assert!(stderr(&out).contains("32"), "{}", stderr(&out));
    let out = hash_token("ispd_a_long_enough_random_token_4f9a0c2e\n");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("sha256:"));
}

/// A reload that would leave no token at all locks every operator out: it is refused.
#[test]
fn sighup_refuses_a_config_that_removes_every_token() {
    let secret = "ispd_only_token_for_lockout_test_0000";
    let d = Daemon::start(
        "lockout",
        &format!(
            "[[token]]\nname = \"only\"\nrole = \"admin\"\nhash = \"sha256:{}\"\n",
            sha256_hex(secret)
        ),
    );
    let list = || {
        std::process::Command::new(crate::daemon::ispctl())
            .args(["--server", &d.admin_url(), "client", "list"])
            .env("ISPD_TOKEN", secret)
            .output()
            .unwrap()
            .status
            .success()
    };
    assert!(list());
    std::fs::write(&d.config_path, crate::daemon::base_config(&d.state_dir)).unwrap();
    d.signal("HUP");
    d.wait_for_log("reload refused");
    assert!(d.log().contains("no API token"), "{}", d.log());
    assert!(list(), "the running tokens keep working");
}

/// A lost secret.key with secrets in the database: ispd refuses to start and writes no
/// new key (a new key would be the wrong one and hide the loss).
#[test]
fn a_missing_key_with_stored_secrets_refuses_start_and_writes_nothing() {
    let mut d = Daemon::start("lost-key", "");
    d.ispctl_json(&[
        "nas",
        "add",
        "--name",
        "core",
        "--address",
        "192.0.2.10",
        "--secret",
        "nas-secret-1234",
    ]);
    d.stop();
    let key = d.state_dir.join("secret.key");
    std::fs::remove_file(&key).unwrap();
    let out = d.start_refused();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("secret.key"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!key.exists(), "no new key was written");
}

/// A database a newer ispd migrated: an older binary refuses to start, names both versions,
/// and changes nothing (the rollback path is the backup taken before the upgrade).
#[test]
fn a_database_from_a_newer_ispd_refuses_start() {
    let mut d = Daemon::start("newer-db", "");
    d.stop();
    d.sqlite(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (9999, 'from a newer ispd', 1, x'00', 0)",
    );
    let out = d.start_refused();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("migrated by a newer ispd") && err.contains("9999"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(
        d.query("SELECT MAX(version) FROM _sqlx_migrations"),
        ["9999"],
        "nothing rolled back or added"
    );
}

//! The read side of accounting end to end: who is online, session history and daily usage,
//! through ispctl and a gRPC client. Sessions are written into the database of a stopped
//! daemon, as accounting stores them, so these tests do not depend on RADIUS accounting.

use std::process::Command;

use ispd_admin_proto::v1;
use serde_json::Value;
use tonic::Code;
use tonic_types::StatusExt;

use crate::daemon::{Bearer, Daemon, ISPD, stderr, stdout};

/// A client with one subscription and one login (`username`, static `ipv4`); the login's id.
fn client_with_login(d: &Daemon, number: &str, username: &str, ipv4: &str) -> i64 {
    d.ispctl_json(&[
        "client",
        "add",
        "--number",
        number,
        "--name",
        &format!("Client {number}"),
        "--street",
        "S 1",
        "--postcode",
        "1",
        "--city",
        "Praha",
    ]);
    let sub = d.ispctl_json(&[
        "subscription",
        "add",
        "--client",
        number,
        "--tariff",
        "Fiber 50",
        "--activation",
        "2026-01-01",
    ]);
    let login = d.ispctl_json(&[
        "login",
        "add",
        "--subscription",
        &sub["id"].to_string(),
        "--username",
        username,
        "--password",
        "arctangent",
        "--ipv4",
        ipv4,
    ]);
    login["id"].as_i64().unwrap()
}

/// One row of the `session` table; `stop` is `Some((stopped_at, cause))` for a closed one.
#[allow(clippy::too_many_arguments)]
fn session_sql(
    nas: &str,
    acct_id: &str,
    login_id: Option<i64>,
    username: &str,
    ip: &str,
    mac: &str,
    started_at: &str,
    stop: Option<(&str, &str)>,
    seconds: i64,
    input: i64,
    output: i64,
) -> String {
    let login = login_id.map_or("NULL".to_owned(), |id| id.to_string());
    let (stopped_at, cause) = match stop {
        Some((at, cause)) => (format!("'{at}'"), format!("'{cause}'")),
        None => ("NULL".to_owned(), "NULL".to_owned()),
    };
    let updated_at = stop.map_or(started_at, |(at, _)| at);
    format!(
        "INSERT INTO session (nas_name, acct_session_id, session_key, login_id, username,
            framed_ip, calling_station, nas_port, started_at, updated_at, stopped_at,
            terminate_cause, session_seconds, input_octets, output_octets, input_packets,
            output_packets)
         VALUES ('{nas}', '{acct_id}', '{nas}/{acct_id}/{started_at}', {login}, '{username}',
            '{ip}', '{mac}', 'ether1', '{started_at}', '{updated_at}', {stopped_at}, {cause},
            {seconds}, {input}, {output}, {}, {});\n",
        input / 1000,
        output / 1000
    )
}

/// A daemon with two clients (100: login novak, 200: login svoboda) and these sessions, in
/// id order:
/// 1. novak, closed on 2026-11-22 (Lost-Carrier)
/// 2. novak, closed on 2026-11-23 (User-Request)
/// 3. svoboda on mt-edge, open
/// 4. novak on mt-core, open
/// 5. ghost (no such login) on mt-core, open
///
/// and novak's daily usage on 2026-10-01 and 2026-11-22..24.
fn seeded(name: &str) -> Daemon {
    // The seeded sessions had no update for hours: keep the stale-session sweeper off them.
    let mut d = Daemon::start_with(
        name,
        "[radius]\nauth_listen = [\"127.0.0.1:0\"]\nacct_listen = [\"127.0.0.1:0\"]\n\
         stale_after = 315360000\n[admin]\nlisten = \"127.0.0.1:0\"\n[billing]\nrun_at = \"\"\n",
    );
    d.ispctl_json(&[
        "tariff", "add", "--name", "Fiber 50", "--down", "50M", "--up", "10M", "--price", "399",
    ]);
    let novak = client_with_login(&d, "100", "novak", "100.64.0.10");
    let svoboda = client_with_login(&d, "200", "svoboda", "100.64.0.20");
    d.stop();
    let mut sql = String::new();
    sql += &session_sql(
        "mt-core",
        "A1",
        Some(novak),
        "novak",
        "100.64.0.10",
        "AA:BB:CC:00:11:22",
        "2026-11-22T08:00:00.000000Z",
        Some(("2026-11-22T09:30:00.000000Z", "Lost-Carrier")),
        5_400,
        200_000_000,
        1_500_000_000,
    );
    sql += &session_sql(
        "mt-core",
        "A2",
        Some(novak),
        "novak",
        "100.64.0.10",
        "AA:BB:CC:00:11:22",
        "2026-11-23T07:00:00.000000Z",
        Some(("2026-11-23T07:10:05.000000Z", "User-Request")),
        605,
        1_000,
        999,
    );
    sql += &session_sql(
        "mt-edge",
        "B1",
        Some(svoboda),
        "svoboda",
        "100.64.0.20",
        "AA:BB:CC:00:22:33",
        "2026-11-24T06:00:00.000000Z",
        None,
        600,
        3_000_000,
        45_000_000,
    );
    sql += &session_sql(
        "mt-core",
        "A3",
        Some(novak),
        "novak",
        "100.64.0.10",
        "AA:BB:CC:00:11:22",
        "2026-11-24T10:00:00.000000Z",
        None,
        300,
        // Beyond 32 bits: Acct-Input-Gigawords in use.
        5_000_000_000,
        6_000_000_000,
    );
    sql += &session_sql(
        "mt-core",
        "G1",
        None,
        "ghost",
        "100.64.0.99",
        "AA:BB:CC:00:99:99",
        "2026-11-24T11:00:00.000000Z",
        None,
        0,
        0,
        0,
    );
    sql += &format!(
        "INSERT INTO usage_daily (login_id, day, input_octets, output_octets, session_seconds)
         VALUES ({novak}, '2026-10-01', 7, 7, 7),
                ({novak}, '2026-11-22', 200000000, 1500000000, 5400),
                ({novak}, '2026-11-23', 1000, 999, 605),
                ({novak}, '2026-11-24', 5000000000, 6000000000, 300);"
    );
    d.sqlite(&sql);
    d.spawn();
    d
}

fn usernames(list: &Value) -> Vec<&str> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["username"].as_str().unwrap())
        .collect()
}

/// The cells of a table line: columns are separated by at least two spaces.
fn cells(line: &str) -> Vec<&str> {
    line.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

fn failure(d: &Daemon, args: &[&str]) -> String {
    let out = d.ispctl(args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "ispctl {args:?} should fail: {}{}",
        stdout(&out),
        stderr(&out)
    );
    stderr(&out)
}

#[test]
fn open_sessions_are_listed_and_filtered() {
    let d = seeded("sessions-open");
    let all = d.ispctl_json(&["session", "list"]);
    assert_eq!(
        usernames(&all),
        ["svoboda", "novak", "ghost"],
        "open only, oldest first"
    );
    assert!(all["next_page_token"].is_null());
    let novak = &all["items"][1];
    assert_eq!(novak["nas"], "mt-core");
    assert_eq!(novak["acct_session_id"], "A3");
    assert_eq!(novak["client_number"], "100");
    assert_eq!(novak["framed_ip"], "100.64.0.10");
    assert_eq!(novak["calling_station"], "AA:BB:CC:00:11:22");
    assert_eq!(novak["nas_port"], "ether1");
    assert_eq!(novak["started_at"], "2026-11-24T10:00:00.000000Z");
    assert_eq!(novak["stopped_at"], "");
    assert_eq!(novak["terminate_cause"], "");
    assert_eq!(novak["duration_seconds"], 300);
    assert_eq!(novak["input_octets"], 5_000_000_000u64);
    assert_eq!(novak["output_octets"], 6_000_000_000u64);
    assert_eq!(novak["input_packets"], 5_000_000);
    assert_eq!(all["items"][2]["client_number"], "", "no login, no client");

    let only = |args: &[&str]| {
        let mut all = vec!["session", "list"];
        all.extend_from_slice(args);
        usernames(&d.ispctl_json(&all))
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(only(&["--client", "100"]), ["novak"]);
    assert_eq!(only(&["--client", "200"]), ["svoboda"]);
    assert_eq!(only(&["--login", "novak"]), ["novak"]);
    assert_eq!(only(&["--nas", "mt-core"]), ["novak", "ghost"]);
    assert_eq!(only(&["--nas", "mt-edge"]), ["svoboda"]);
    assert_eq!(only(&["--ip", "100.64.0.20"]), ["svoboda"]);
    assert_eq!(
        only(&["--ip", "100.64.0.99", "--nas", "mt-core"]),
        ["ghost"]
    );
    assert!(only(&["--client", "100", "--nas", "mt-edge"]).is_empty());
    assert!(only(&["--client", "999"]).is_empty());

    // Paging as every list command does it.
    let first = d.ispctl_json(&["session", "list", "--limit", "2"]);
    assert_eq!(usernames(&first), ["svoboda", "novak"]);
    let token = first["next_page_token"].as_str().unwrap().to_owned();
    let rest = d.ispctl_json(&["session", "list", "--page-token", &token]);
    assert_eq!(usernames(&rest), ["ghost"]);
    assert_eq!(
        usernames(&d.ispctl_json(&["session", "list", "--all"])).len(),
        3
    );

    let err = failure(&d, &["session", "list", "--ip", "not-an-ip"]);
    assert!(err.contains("framed_ip"), "{err}");

    // The table: directions are the subscriber's (DOWN = output), traffic human-readable.
    let out = d.ispctl(&["session", "list", "--login", "novak"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    for head in [
        "USERNAME", "CLIENT", "NAS", "IP", "MAC", "STARTED", "DURATION", "DOWN", "UP",
    ] {
        assert!(lines[0].contains(head), "{text}");
    }
    let cells = cells(lines[1]);
    assert_eq!(
        cells[..6],
        [
            "novak",
            "100",
            "mt-core",
            "100.64.0.10",
            "AA:BB:CC:00:11:22",
            "2026-11-24T10:00:00Z"
        ],
        "{text}"
    );
    assert_eq!(cells[7..], ["6.0 GB", "5.0 GB"], "{text}");
    assert!(
        cells[6].split(':').count() == 3,
        "duration as h:mm:ss: {text}"
    );
}

#[test]
fn history_is_newest_first_with_stop_and_cause() {
    let d = seeded("sessions-history");
    let h = d.ispctl_json(&["session", "history", "novak"]);
    let items = h["items"].as_array().unwrap();
    let ids: Vec<&str> = items
        .iter()
        .map(|s| s["acct_session_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["A3", "A2", "A1"], "newest first, open one included");
    assert_eq!(items[0]["stopped_at"], "");
    assert_eq!(items[1]["stopped_at"], "2026-11-23T07:10:05.000000Z");
    assert_eq!(items[1]["terminate_cause"], "User-Request");
    assert_eq!(items[1]["duration_seconds"], 605);
    assert_eq!(items[2]["terminate_cause"], "Lost-Carrier");
    assert_eq!(items[2]["output_octets"], 1_500_000_000u64);

    let first = d.ispctl_json(&["session", "history", "novak", "--limit", "1"]);
    assert_eq!(first["items"].as_array().unwrap().len(), 1);
    let token = first["next_page_token"].as_str().unwrap().to_owned();
    let rest = d.ispctl_json(&["session", "history", "novak", "--page-token", &token]);
    let ids: Vec<&str> = rest["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["acct_session_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["A2", "A1"]);

    // Sessions outlive logins: an unknown name is an empty history, not an error.
    let none = d.ispctl_json(&["session", "history", "nobody"]);
    assert!(none["items"].as_array().unwrap().is_empty());
    assert_eq!(
        d.ispctl_json(&["session", "history", "ghost"])["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let out = d.ispctl(&["session", "history", "novak"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[0].starts_with("STARTED"), "{text}");
    assert!(lines[0].contains("CAUSE"), "{text}");
    assert!(lines[1].contains("online"), "{text}");
    assert_eq!(
        cells(lines[2]),
        [
            "2026-11-23T07:00:00Z",
            "2026-11-23T07:10:05Z",
            "0:10:05",
            "999 B",
            "1.0 kB",
            "mt-core",
            "100.64.0.10",
            "User-Request"
        ],
        "{text}"
    );
    assert_eq!(
        cells(lines[3])[2..5],
        ["1:30:00", "1.5 GB", "200.0 MB"],
        "{text}"
    );
}

#[test]
fn daily_usage_with_totals_and_refused_ranges() {
    let d = seeded("sessions-usage");
    let u = d.ispctl_json(&[
        "usage",
        "novak",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-30",
    ]);
    assert_eq!(u["username"], "novak");
    let days: Vec<&str> = u["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["day"].as_str().unwrap())
        .collect();
    assert_eq!(days, ["2026-11-22", "2026-11-23", "2026-11-24"]);
    assert_eq!(u["days"][0]["input_octets"], 200_000_000);
    assert_eq!(u["days"][0]["output_octets"], 1_500_000_000u64);
    assert_eq!(u["days"][0]["session_seconds"], 5_400);
    assert_eq!(u["total_input_octets"], 5_200_001_000u64);
    assert_eq!(u["total_output_octets"], 7_500_000_999u64);
    assert_eq!(u["total_session_seconds"], 6_305);

    // Bounds are inclusive; a day outside the range is not counted.
    let one = d.ispctl_json(&[
        "usage",
        "novak",
        "--from",
        "2026-10-01",
        "--to",
        "2026-10-01",
    ]);
    assert_eq!(one["days"].as_array().unwrap().len(), 1);
    assert_eq!(one["total_session_seconds"], 7);

    let out = d.ispctl(&[
        "usage",
        "novak",
        "--from",
        "2026-11-22",
        "--to",
        "2026-11-23",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[0].starts_with("DAY"), "{text}");
    assert_eq!(
        cells(lines[1]),
        ["2026-11-22", "1.5 GB", "200.0 MB", "1:30:00"],
        "{text}"
    );
    assert_eq!(
        cells(lines[2]),
        ["2026-11-23", "999 B", "1.0 kB", "0:10:05"],
        "{text}"
    );
    assert_eq!(
        cells(lines[3]),
        ["TOTAL", "1.5 GB", "200.0 MB", "1:40:05"],
        "{text}"
    );

    let err = failure(
        &d,
        &[
            "usage",
            "novak",
            "--from",
            "2026-11-30",
            "--to",
            "2026-11-01",
        ],
    );
    assert!(err.contains("to:") && err.contains("from"), "{err}");
    let err = failure(
        &d,
        &[
            "usage",
            "novak",
            "--from",
            "2025-01-01",
            "--to",
            "2026-11-30",
        ],
    );
    assert!(err.contains("to:") && err.contains("366"), "{err}");
    let err = failure(
        &d,
        &[
            "usage",
            "nobody",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
        ],
    );
    assert!(err.contains("nobody"), "unknown login: {err}");
    // Dates are checked by ispctl itself: a usage error (2).
    let out = d.ispctl(&[
        "usage",
        "novak",
        "--from",
        "24.11.2026",
        "--to",
        "2026-11-30",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// The API itself: required fields named, NOT_FOUND, and a readonly token reading it all.
#[test]
fn the_api_names_fields_and_lets_readonly_tokens_read() {
    let mut d = seeded("sessions-api");
    let readonly = "ispd_readonly_sessions_token_0123456789";
    let hash = Command::new(ISPD)
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
    d.stop();
    let mut config = std::fs::read_to_string(&d.config_path).unwrap();
    config += &format!("[[token]]\nname = \"auditor\"\nrole = \"readonly\"\nhash = \"{hash}\"\n");
    std::fs::write(&d.config_path, config).unwrap();
    d.spawn();

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut api = v1::session_service_client::SessionServiceClient::with_interceptor(
            d.channel().await,
            Bearer::new(readonly),
        );
        let open = api
            .list_open_sessions(v1::ListOpenSessionsRequest {
                client_number: "100".into(),
                ..Default::default()
            })
            .await
            .expect("readonly may list sessions")
            .into_inner();
        assert_eq!(open.sessions.len(), 1);
        assert_eq!(open.sessions[0].username, "novak");
        assert_eq!(open.sessions[0].input_octets, 5_000_000_000);

        let history = api
            .session_history(v1::SessionHistoryRequest {
                username: "novak".into(),
                page: Some(v1::PageRequest {
                    page_size: 2,
                    page_token: String::new(),
                }),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(history.sessions.len(), 2);
        assert!(!history.next_page_token.is_empty());

        let status = api
            .session_history(v1::SessionHistoryRequest::default())
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        let violations = status.get_error_details().bad_request().unwrap().clone();
        assert_eq!(violations.field_violations[0].field, "username");

        let usage = api
            .daily_usage(v1::DailyUsageRequest {
                username: "novak".into(),
                from: "2026-11-23".into(),
                to: "2026-11-24".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(usage.days.len(), 2);
        assert_eq!(usage.total_input_octets, 5_000_001_000);
        assert_eq!(usage.total_output_octets, 6_000_000_999);
        assert_eq!(usage.total_session_seconds, 905);

        for (from, to, field) in [
            ("", "2026-11-24", "from"),
            ("2026-11-24", "", "to"),
            ("2026-13-01", "2026-11-24", "from"),
            ("2026-11-24", "2026-11-23", "to"),
            ("2025-11-22", "2026-11-24", "to"),
        ] {
            let status = api
                .daily_usage(v1::DailyUsageRequest {
                    username: "novak".into(),
                    from: from.into(),
                    to: to.into(),
                })
                .await
                .unwrap_err();
            assert_eq!(status.code(), Code::InvalidArgument, "{from}..{to}");
            let violations = status.get_error_details().bad_request().unwrap().clone();
            assert_eq!(
                violations.field_violations[0].field,
                field,
                "{from}..{to}: {}",
                status.message()
            );
        }
        // Exactly 366 days apart is still answered.
        api.daily_usage(v1::DailyUsageRequest {
            username: "novak".into(),
            from: "2025-11-23".into(),
            to: "2026-11-24".into(),
        })
        .await
        .expect("366 days apart");

        let status = api
            .daily_usage(v1::DailyUsageRequest {
                username: "nobody".into(),
                from: "2026-11-01".into(),
                to: "2026-11-30".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::NotFound);
    });
}

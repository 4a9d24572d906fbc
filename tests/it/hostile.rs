//! Hostile and careless clients: large bodies from tokens that may not send them, idle
//! connections held open on the admin and metrics ports.

use ispd_admin_proto::v1;
use std::time::{Duration, Instant};

use tonic::Code;

use crate::daemon::{Bearer, Daemon};

/// A field of /proc/<pid>/status in kB, such as "VmHWM" (the peak resident set).
fn proc_status_kb(pid: u32, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/{pid}/status"))
}

fn token_table(name: &str, role: &str, secret: &str) -> String {
    format!(
        "[[token]]\nname = \"{name}\"\nrole = \"{role}\"\nhash = \"{}\"\n",
        ispd::token::TokenHash::of(secret)
    )
}

/// The role is checked from the headers, before the message is read: a readonly token's
/// 64 MiB ImportStatement is refused without the daemon buffering it.
#[test]
fn a_readonly_token_cannot_make_the_daemon_buffer_a_large_import() {
    let readonly = "ispd_readonly_hostile_test_token_0123456789";
    let d = Daemon::start(
        "readonly-import",
        &token_table("auditor", "readonly", readonly),
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut payments = v1::payment_service_client::PaymentServiceClient::with_interceptor(
            d.channel().await,
            Bearer::new(readonly),
        )
        .max_encoding_message_size(usize::MAX);
        // Warm up: the first call allocates what every call needs.
        let status = payments.list_unmatched(v1::ListUnmatchedRequest {}).await;
        assert!(status.is_ok(), "readonly may read: {status:?}");
        let before = proc_status_kb(d.pid(), "VmHWM");
        let body = 64 * 1024 * 1024;
        let status = payments
            .import_statement(v1::ImportStatementRequest {
                format: "camt053".into(),
                content: vec![b'<'; body].into(),
                mapping: String::new(),
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
        let grown = proc_status_kb(d.pid(), "VmHWM").saturating_sub(before);
        assert!(
            grown < 16 * 1024,
            "the daemon's peak memory grew by {grown} kB for a refused {body}-byte request"
        );
    });
}

/// CPU seconds (user + system) the process has used so far, from /proc/<pid>/stat.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

/// `count` TCP connections to `addr` that send nothing.
fn idle_connections(addr: &str, count: usize) -> Vec<std::net::TcpStream> {
    (0..count)
        .map(|_| std::net::TcpStream::connect(addr).expect("the kernel queues the connection"))
        .collect()
}

/// One metrics scrape; panics unless it answers within `within`.
fn scrape(addr: &str, within: Duration) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(within)).unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut text = String::new();
    stream
        .read_to_string(&mut text)
        .unwrap_or_else(|e| panic!("metrics did not answer within {within:?}: {e}"));
    text
}

/// An admin call through ispctl, as an operator would make it; panics unless it succeeds
/// within `within`.
fn ispctl_answers(d: &Daemon, within: Duration) {
    let started = Instant::now();
    let mut child = std::process::Command::new(crate::daemon::ispctl())
        .arg("--state-dir")
        .arg(&d.state_dir)
        .args(["client", "list"])
        .env_remove("ISPD_TOKEN")
        .env_remove("ISPD_SERVER")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            assert!(
                status.success(),
                "ispctl client list failed: {}\n{}",
                String::from_utf8_lossy(&out.stderr),
                d.log()
            );
            return;
        }
        if started.elapsed() > within {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "ispctl did not answer within {within:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until the server closes `stream` (EOF or reset); panics after `within`.
fn closed_by_server(mut stream: std::net::TcpStream, within: Duration) -> Duration {
    use std::io::Read;
    let started = Instant::now();
    stream.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 64];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return started.elapsed(),
            Ok(_) => continue, // an HTTP/2 server's SETTINGS or GOAWAY
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return started.elapsed(),
            Err(e) => panic!("the server kept an idle connection open for {within:?}: {e}"),
        }
    }
}

/// The config of the flood tests: both ports, short idle timeouts, small connection limits.
fn flood_config(limits: &str) -> String {
    format!(
        "[radius]\nauth_listen = [\"127.0.0.1:0\"]\nacct_listen = [\"127.0.0.1:0\"]\n\
         [admin]\nlisten = \"127.0.0.1:0\"\n{limits}\
         [metrics]\nlisten = \"127.0.0.1:0\"\n{limits}\
         [billing]\nrun_at = \"\"\n"
    )
}

/// 300 idle connections to each port: callers still get answers, the daemon does not spin,
/// and idle connections are closed after `idle_timeout`.
#[test]
fn idle_connections_do_not_lock_out_callers_and_are_closed() {
    let _machine = crate::daemon::timed();
    let d = Daemon::start_with(
        "idle-flood",
        &flood_config("idle_timeout = 2\nmax_connections = 16\n"),
    );
    let admin = d.ports["admin"].as_str().unwrap().to_owned();
    let metrics = d.ports["metrics"].as_str().unwrap().to_owned();

    // An idle connection on its own is closed after the idle timeout.
    let lone_admin = std::net::TcpStream::connect(&admin).unwrap();
    let lone_metrics = std::net::TcpStream::connect(&metrics).unwrap();
    let after = closed_by_server(lone_admin, Duration::from_secs(10));
    assert!(
        after >= Duration::from_millis(1500),
        "closed after {after:?}"
    );
    closed_by_server(lone_metrics, Duration::from_secs(10));

    let held_admin = idle_connections(&admin, 300);
    let held_metrics = idle_connections(&metrics, 300);
    let cpu_before = cpu_seconds(d.pid());
    ispctl_answers(&d, Duration::from_secs(5));
    let text = scrape(&metrics, Duration::from_secs(5));
    assert!(text.contains("ispd_up 1"), "{text}");
    std::thread::sleep(Duration::from_secs(3));
    let cpu = cpu_seconds(d.pid()) - cpu_before;
    assert!(
        cpu < 1.0,
        "the daemon used {cpu} s of CPU in ~3 s with idle connections held"
    );
    drop(held_admin);
    drop(held_metrics);
}

/// An HTTP/2 connection that opens `streams` calls of the token-free health check and sends
/// only their headers, never a body: the frames written by hand (HPACK literals, no Huffman).
fn stalled_health_checks(addr: &str, streams: u32) -> std::net::TcpStream {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    let frame = |kind: u8, flags: u8, id: u32, payload: &[u8]| {
        let len = u32::try_from(payload.len()).unwrap().to_be_bytes();
        let mut f = vec![len[1], len[2], len[3], kind, flags];
        f.extend_from_slice(&id.to_be_bytes());
        f.extend_from_slice(payload);
        f
    };
    let mut out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    out.extend(frame(4, 0, 0, &[])); // SETTINGS
    let mut block = Vec::new();
    for (name, value) in [
        (":method", "POST"),
        (":scheme", "http"),
        (":path", "/grpc.health.v1.Health/Check"),
        (":authority", "ispd"),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
    ] {
        block.push(0);
        block.push(u8::try_from(name.len()).unwrap());
        block.extend_from_slice(name.as_bytes());
        block.push(u8::try_from(value.len()).unwrap());
        block.extend_from_slice(value.as_bytes());
    }
    for i in 0..streams {
        out.extend(frame(1, 0x4, 2 * i + 1, &block)); // HEADERS, END_HEADERS, no END_STREAM
    }
    stream.write_all(&out).unwrap();
    stream
}

/// Found probing from outside: connections that each opened a token-free health check and
/// never sent its body counted as serving a call — never idle, never made room — so 256 of
/// them locked every operator out for as long as they were held; and the streams a
/// connection may open were not limited (100,000 on one took the daemon from 43 to 923 MB).
#[test]
fn stalled_token_free_calls_do_not_lock_out_callers_nor_grow_memory() {
    let _machine = crate::daemon::timed();
    let d = Daemon::start_with(
        "stalled-health",
        &flood_config("idle_timeout = 2\nmax_connections = 8\n"),
    );
    let admin = d.ports["admin"].as_str().unwrap().to_owned();
    let held: Vec<_> = (0..8).map(|_| stalled_health_checks(&admin, 1)).collect();
    std::thread::sleep(Duration::from_secs(3));
    ispctl_answers(&d, Duration::from_secs(5));
    drop(held);
    // Many streams on one connection: refused past the server's limit, memory stays.
    let rss = || rss_kib(d.pid());
    let before = rss();
    let flood = stalled_health_checks(&admin, 20_000);
    std::thread::sleep(Duration::from_secs(2));
    let grown = rss().saturating_sub(before);
    assert!(
        grown < 50 * 1024,
        "grew {grown} KiB for 20,000 stalled streams"
    );
    drop(flood);
    ispctl_answers(&d, Duration::from_secs(5));
}

/// The resident memory of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// With the descriptor limit reached, accept fails (EMFILE): the daemon backs off instead
/// of spinning, and a caller still gets in.
#[test]
fn running_out_of_descriptors_backs_off_instead_of_spinning() {
    let _machine = crate::daemon::timed();
    let d = Daemon::start_with("emfile", &flood_config("idle_timeout = 30\n"));
    let pid = d.pid();
    let open = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count();
    let limit = open + 24;
    let ok = std::process::Command::new("prlimit")
        .arg(format!("--pid={pid}"))
        .arg(format!("--nofile={limit}:{limit}"))
        .status()
        .unwrap();
    assert!(
        ok.success(),
        "prlimit (util-linux) lowers the daemon's descriptor limit"
    );
    let admin = d.ports["admin"].as_str().unwrap().to_owned();
    let metrics = d.ports["metrics"].as_str().unwrap().to_owned();
    let held_metrics = idle_connections(&metrics, 300);
    let held_admin = idle_connections(&admin, 300);
    std::thread::sleep(Duration::from_millis(500));
    let cpu_before = cpu_seconds(pid);
    std::thread::sleep(Duration::from_secs(3));
    let cpu = cpu_seconds(pid) - cpu_before;
    assert!(
        cpu < 1.0,
        "the daemon used {cpu} s of CPU in 3 s at its descriptor limit"
    );
    ispctl_answers(&d, Duration::from_secs(10));
    let text = scrape(&metrics, Duration::from_secs(10));
    assert!(text.contains("ispd_up 1"), "{text}");
    drop(held_admin);
    drop(held_metrics);
}

//! Hostile and careless clients: large bodies from tokens that may not send them, idle
//! connections held open on the admin and metrics ports.

use ispd_admin_proto::v1;
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
                content: vec![b'<'; body],
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

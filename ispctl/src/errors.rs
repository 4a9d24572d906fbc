//! Turning failures into the one or two lines an operator needs.
//!
//! The server's message is authoritative (it names the field, e.g. "client.name: required"),
//! so it is printed as is; field violations from a google.rpc.BadRequest detail are added
//! only when the message does not already say the same, and a hint follows for the statuses
//! whose cause is usually local (token, address, a concurrent edit). Messages may quote what
//! was sent, so they are escaped like every other output.

use std::error::Error;

use tonic::{Code, Status};
use tonic_types::StatusExt;

use crate::connect::Target;
use crate::output::{escape, escape_lines};

/// Prints `error: …` (and any hints) to stderr.
pub fn report(err: &anyhow::Error, target: Option<&Target>) {
    let Some(status) = err.downcast_ref::<tonic::Status>() else {
        // Composed here, several lines by design (a hint after the cause).
        eprintln!("error: {}", escape_lines(&format!("{err:#}")));
        return;
    };
    let message = if status.message().is_empty() {
        status.code().description().to_owned()
    } else {
        status.message().to_owned()
    };
    // tonic's own "transport error" says nothing; its sources say what (a TLS alert, say).
    let message = match status.source() {
        Some(source) if connection_failed(status) => {
            let detail = causes(source);
            if detail.contains(&message) {
                detail
            } else {
                format!("{message}: {detail}")
            }
        }
        _ => message,
    };
    eprintln!("error: {}", escape(&message));
    if let Some(bad_request) = status.get_details_bad_request() {
        for v in bad_request.field_violations {
            if !(message.contains(&v.field) && message.contains(&v.description)) {
                eprintln!("  {}: {}", escape(&v.field), escape(&v.description));
            }
        }
    }
    let hint = match (status.code(), target) {
        (Code::Unauthenticated, Some(target)) => Some(target.token_hint()),
        (_, Some(target)) if connection_failed(status) && target.is_tls() => Some(format!(
            "check that ispd is running at {}, that --ca is the CA that signed its \
                 certificate, and whether it requires a client certificate (--cert, --key)",
            target.server_desc()
        )),
        (_, Some(target)) if connection_failed(status) => Some(format!(
            "check that ispd is running and reachable at {}",
            target.server_desc()
        )),
        (Code::Aborted, _) => {
            Some("the record changed since it was read; run the command again".to_owned())
        }
        (Code::Unimplemented, _) => {
            Some("the server does not offer this call; is it an older ispd?".to_owned())
        }
        _ => None,
    };
    if let Some(hint) = hint {
        eprintln!("hint: {hint}");
    }
}

/// Whether the call failed on the way to ispd (connection refused, reset, timed out, a TLS
/// handshake refused) rather than being answered by it: tonic builds such a status itself
/// (UNAVAILABLE, or UNKNOWN / CANCELLED when the connection closes under the call) and keeps
/// the transport error as its source, while a status ispd sent (UNAVAILABLE for a database
/// fault, say) has none. Only then is "is ispd running?" the right question.
fn connection_failed(status: &Status) -> bool {
    matches!(
        status.code(),
        Code::Unavailable | Code::Unknown | Code::Cancelled
    ) && status.source().is_some()
}

/// An error and its sources joined with `: `, skipping repeats: transport errors nest
/// ("transport error" / "tcp connect error" / "Connection refused") and only the chain as a
/// whole says what happened.
pub fn causes(err: &(dyn Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next: Option<&(dyn Error + 'static)> = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn only_a_failed_connection_is_blamed_on_the_connection() {
        let answered = Status::unavailable("database error; see the server log");
        assert!(!connection_failed(&answered));
        let mut refused = Status::unavailable("tcp connect error");
        refused.set_source(Arc::new(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused,
        )));
        assert!(connection_failed(&refused));
        let mut other = Status::internal("h2 protocol error");
        other.set_source(Arc::new(std::io::Error::other("x")));
        assert!(!connection_failed(&other));
    }
}

//! Turning failures into the one or two lines an operator needs.
//!
//! The server's message is authoritative (it names the field, e.g. "client.name: required"),
//! so it is printed as is; field violations from a google.rpc.BadRequest detail are added
//! only when the message does not already say the same, and a hint follows for the statuses
//! whose cause is usually local (token, address, a concurrent edit).

use std::error::Error;

use tonic::Code;
use tonic_types::StatusExt;

use crate::connect::Target;

/// Prints `error: …` (and any hints) to stderr.
pub fn report(err: &anyhow::Error, target: Option<&Target>) {
    let Some(status) = err.downcast_ref::<tonic::Status>() else {
        eprintln!("error: {err:#}");
        return;
    };
    let message = if status.message().is_empty() {
        status.code().description().to_owned()
    } else {
        status.message().to_owned()
    };
    eprintln!("error: {message}");
    if let Some(bad_request) = status.get_details_bad_request() {
        for v in bad_request.field_violations {
            if !(message.contains(&v.field) && message.contains(&v.description)) {
                eprintln!("  {}: {}", v.field, v.description);
            }
        }
    }
    let hint = match (status.code(), target) {
        (Code::Unauthenticated, Some(target)) => Some(target.token_hint()),
        (Code::Unavailable, Some(target)) => Some(format!(
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

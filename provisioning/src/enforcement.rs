//! Enforcement: what an online session must be told when the answer its login would get has
//! changed (RFC 5176 Change-of-Authorization and Disconnect).
//!
//! Pure like the rest of the crate: the daemon hands in the login as it was enforced and as it
//! is now, and the NAS the session is on; [`plan`] returns what to send. The daemon sends it,
//! records the [`Outcome`], and on a NAK of a CoA falls back to a Disconnect.

use serde::Serialize;

/// How a NAS takes a change to an online session (`[[nas]] coa`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CoaMode {
    /// Change the session in place with a CoA-Request where the NAS can; Disconnect where it
    /// cannot (a new address or pool, a password) or when the CoA is NAKed.
    Coa,
    /// Always Disconnect: the subscriber's router dials again and gets the new answer.
    Disconnect,
    /// Send nothing: changes reach a session at its next login.
    None,
}

impl CoaMode {
    pub const ALL: [CoaMode; 3] = [CoaMode::Coa, CoaMode::Disconnect, CoaMode::None];

    pub fn as_str(self) -> &'static str {
        match self {
            CoaMode::Coa => "coa",
            CoaMode::Disconnect => "disconnect",
            CoaMode::None => "none",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == text)
    }
}

impl std::fmt::Display for CoaMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which RFC 5176 request was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    Coa,
    Disconnect,
}

impl RequestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Coa => "coa",
            RequestKind::Disconnect => "disconnect",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [RequestKind::Coa, RequestKind::Disconnect]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

/// How one request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// CoA-ACK or Disconnect-ACK.
    Ack,
    /// CoA-NAK or Disconnect-NAK (the Error-Cause is recorded beside it).
    Nak,
    /// No valid answer after every retry.
    Timeout,
    /// Not sent: the NAS is unknown, has no address to reach, or the socket failed.
    Unsent,
}

impl Outcome {
    pub const ALL: [Outcome; 4] = [
        Outcome::Ack,
        Outcome::Nak,
        Outcome::Timeout,
        Outcome::Unsent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ack => "ack",
            Outcome::Nak => "nak",
            Outcome::Timeout => "timeout",
            Outcome::Unsent => "unsent",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == text)
    }
}

//! Packet type codes.

use std::fmt;

use crate::DecodeError;

/// The RADIUS packet types ispd speaks (RFC 2865 §3, RFC 2866, RFC 5176,
/// RFC 5997). Any other code is a [`DecodeError::UnknownCode`], so a server
/// never has to reason about half-understood packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Code {
    /// Access-Request (1).
    AccessRequest = 1,
    /// Access-Accept (2).
    AccessAccept = 2,
    /// Access-Reject (3).
    AccessReject = 3,
    /// Accounting-Request (4).
    AccountingRequest = 4,
    /// Accounting-Response (5).
    AccountingResponse = 5,
    /// Access-Challenge (11).
    AccessChallenge = 11,
    /// Status-Server (12, RFC 5997).
    StatusServer = 12,
    /// Status-Client (13, reserved; never given semantics).
    StatusClient = 13,
    /// Disconnect-Request (40, RFC 5176).
    DisconnectRequest = 40,
    /// Disconnect-ACK (41, RFC 5176).
    DisconnectAck = 41,
    /// Disconnect-NAK (42, RFC 5176).
    DisconnectNak = 42,
    /// CoA-Request (43, RFC 5176).
    CoaRequest = 43,
    /// CoA-ACK (44, RFC 5176).
    CoaAck = 44,
    /// CoA-NAK (45, RFC 5176).
    CoaNak = 45,
}

/// How the Authenticator field of a packet with this code is formed, which
/// decides how it and the Message-Authenticator are computed and checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthenticatorKind {
    /// Random Request Authenticator (Access-Request, Status-Server).
    Random,
    /// MD5 over the packet with a zero authenticator (Accounting-Request,
    /// CoA-Request, Disconnect-Request).
    Hashed,
    /// Response Authenticator over the request's authenticator.
    Response,
    /// Status-Client: no defined semantics.
    Undefined,
}

impl Code {
    /// Maps a wire code to a [`Code`], `None` for codes ispd does not speak.
    pub const fn from_u8(code: u8) -> Option<Code> {
        Some(match code {
            1 => Code::AccessRequest,
            2 => Code::AccessAccept,
            3 => Code::AccessReject,
            4 => Code::AccountingRequest,
            5 => Code::AccountingResponse,
            11 => Code::AccessChallenge,
            12 => Code::StatusServer,
            13 => Code::StatusClient,
            40 => Code::DisconnectRequest,
            41 => Code::DisconnectAck,
            42 => Code::DisconnectNak,
            43 => Code::CoaRequest,
            44 => Code::CoaAck,
            45 => Code::CoaNak,
            _ => return None,
        })
    }

    /// The wire value.
    pub const fn as_u8(self) -> u8 {
        self as u8
    }

    /// The RFC name, for logs.
    pub const fn name(self) -> &'static str {
        match self {
            Code::AccessRequest => "Access-Request",
            Code::AccessAccept => "Access-Accept",
            Code::AccessReject => "Access-Reject",
            Code::AccountingRequest => "Accounting-Request",
            Code::AccountingResponse => "Accounting-Response",
            Code::AccessChallenge => "Access-Challenge",
            Code::StatusServer => "Status-Server",
            Code::StatusClient => "Status-Client",
            Code::DisconnectRequest => "Disconnect-Request",
            Code::DisconnectAck => "Disconnect-ACK",
            Code::DisconnectNak => "Disconnect-NAK",
            Code::CoaRequest => "CoA-Request",
            Code::CoaAck => "CoA-ACK",
            Code::CoaNak => "CoA-NAK",
        }
    }

    /// True for codes that open an exchange (their authenticator is either
    /// random or hashed from the secret).
    pub const fn is_request(self) -> bool {
        matches!(
            self.authenticator_kind(),
            AuthenticatorKind::Random | AuthenticatorKind::Hashed
        )
    }

    /// True for codes that answer a request (their authenticator is a
    /// Response Authenticator).
    pub const fn is_response(self) -> bool {
        matches!(self.authenticator_kind(), AuthenticatorKind::Response)
    }

    pub(crate) const fn authenticator_kind(self) -> AuthenticatorKind {
        match self {
            Code::AccessRequest | Code::StatusServer => AuthenticatorKind::Random,
            Code::AccountingRequest | Code::DisconnectRequest | Code::CoaRequest => {
                AuthenticatorKind::Hashed
            }
            Code::AccessAccept
            | Code::AccessReject
            | Code::AccessChallenge
            | Code::AccountingResponse
            | Code::DisconnectAck
            | Code::DisconnectNak
            | Code::CoaAck
            | Code::CoaNak => AuthenticatorKind::Response,
            Code::StatusClient => AuthenticatorKind::Undefined,
        }
    }
}

impl TryFrom<u8> for Code {
    type Error = DecodeError;

    fn try_from(code: u8) -> Result<Self, Self::Error> {
        Code::from_u8(code).ok_or(DecodeError::UnknownCode(code))
    }
}

impl From<Code> for u8 {
    fn from(code: Code) -> u8 {
        code.as_u8()
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_round_trips_or_is_unknown() {
        let mut known = 0;
        for b in 0..=u8::MAX {
            match Code::try_from(b) {
                Ok(code) => {
                    known += 1;
                    assert_eq!(code.as_u8(), b);
                    assert_eq!(u8::from(code), b);
                }
                Err(e) => assert_eq!(e, DecodeError::UnknownCode(b)),
            }
        }
        assert_eq!(known, 14);
    }

    #[test]
    fn requests_and_responses_are_disjoint() {
        for b in 0..=u8::MAX {
            if let Some(code) = Code::from_u8(b) {
                assert!(!(code.is_request() && code.is_response()), "{code}");
            }
        }
        assert!(Code::CoaRequest.is_request());
        assert!(Code::DisconnectNak.is_response());
        assert!(!Code::StatusClient.is_request() && !Code::StatusClient.is_response());
        assert_eq!(Code::CoaAck.to_string(), "CoA-ACK");
    }
}

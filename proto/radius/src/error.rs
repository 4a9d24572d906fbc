//! Error types. None of them carries a secret, a password or key material:
//! they are meant to be logged and counted.

use thiserror::Error;

use crate::Code;

/// Why a datagram is not a well-formed RADIUS packet. Each variant is a
/// distinct drop reason so a server can count them separately (see
/// [`DecodeError::reason`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Error)]
pub enum DecodeError {
    /// The datagram cannot hold the 20-octet header.
    #[error("datagram of {0} octets is shorter than the 20-octet header")]
    TooShort(usize),
    /// The datagram is larger than RFC 2865 allows.
    #[error("datagram of {0} octets exceeds the 4096-octet maximum")]
    TooLong(usize),
    /// The Length field is smaller than the header.
    #[error("length field {0} is below the 20-octet minimum")]
    LengthFieldTooSmall(u16),
    /// The Length field claims more octets than were received.
    #[error("length field {length} exceeds the {datagram}-octet datagram")]
    LengthFieldExceedsDatagram {
        /// Value of the Length field.
        length: u16,
        /// Octets actually received.
        datagram: usize,
    },
    /// The Code is not one ispd speaks.
    #[error("unknown packet code {0}")]
    UnknownCode(u8),
    /// An attribute's Length field is 0 or 1.
    #[error("attribute at offset {offset} declares length {length}, below 2")]
    AttributeTooShort {
        /// Offset of the attribute within the packet.
        offset: usize,
        /// The declared length.
        length: u8,
    },
    /// An attribute runs past the end of the packet (including a lone Type
    /// octet at the very end).
    #[error("attribute at offset {offset} runs past the end of the packet")]
    AttributeOverrun {
        /// Offset of the attribute within the packet.
        offset: usize,
    },
}

impl DecodeError {
    /// A short, stable label for metrics ("drops by reason").
    pub const fn reason(&self) -> &'static str {
        match self {
            DecodeError::TooShort(_) => "too_short",
            DecodeError::TooLong(_) => "too_long",
            DecodeError::LengthFieldTooSmall(_) => "length_too_small",
            DecodeError::LengthFieldExceedsDatagram { .. } => "length_exceeds_datagram",
            DecodeError::UnknownCode(_) => "unknown_code",
            DecodeError::AttributeTooShort { .. } => "attribute_too_short",
            DecodeError::AttributeOverrun { .. } => "attribute_overrun",
        }
    }
}

/// Why a packet could not be encoded or signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Error)]
pub enum EncodeError {
    /// The encoded packet would exceed 4096 octets.
    #[error("packet of {0} octets exceeds the 4096-octet maximum")]
    PacketTooLong(usize),
    /// An attribute value exceeds 253 octets.
    #[error("attribute {typ} has a {len}-octet value, above the 253-octet maximum")]
    AttributeTooLong {
        /// Attribute type.
        typ: u8,
        /// Value length.
        len: usize,
    },
    /// A Message-Authenticator attribute whose value is not 16 octets.
    #[error("Message-Authenticator value of {0} octets, expected 16")]
    MessageAuthenticatorLength(usize),
    /// More than one Message-Authenticator attribute.
    #[error("packet carries more than one Message-Authenticator")]
    DuplicateMessageAuthenticator,
    /// Request signing was asked for a code that is not a request.
    #[error("{0} is not a request")]
    NotARequest(Code),
    /// Response signing was asked for a code that is not a response.
    #[error("{0} is not a response")]
    NotAResponse(Code),
    /// A buffer handed to a finalize function is not a valid packet.
    #[error("malformed packet buffer: {0}")]
    Malformed(#[from] DecodeError),
}

/// Why a received packet failed authentication. Packets failing any of these
/// must be silently discarded (RFC 2865 §3, RFC 3579 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Error)]
pub enum AuthError {
    /// The Request or Response Authenticator does not match the secret.
    #[error("authenticator does not match")]
    BadAuthenticator,
    /// The Message-Authenticator does not match the secret.
    #[error("Message-Authenticator does not match")]
    BadMessageAuthenticator,
    /// A Message-Authenticator is required (by policy, Status-Server or
    /// EAP-Message) but absent.
    #[error("Message-Authenticator is required but absent")]
    MissingMessageAuthenticator,
    /// A Message-Authenticator whose value is not 16 octets.
    #[error("Message-Authenticator value of {0} octets, expected 16")]
    MessageAuthenticatorLength(usize),
    /// More than one Message-Authenticator attribute.
    #[error("packet carries more than one Message-Authenticator")]
    DuplicateMessageAuthenticator,
    /// Request verification was asked for a code that is not a request.
    #[error("{0} is not a request")]
    NotARequest(Code),
    /// Response verification was asked for a code that is not a response.
    #[error("{0} is not a response")]
    NotAResponse(Code),
}

impl AuthError {
    /// A short, stable label for metrics.
    pub const fn reason(&self) -> &'static str {
        match self {
            AuthError::BadAuthenticator => "bad_authenticator",
            AuthError::BadMessageAuthenticator => "bad_message_authenticator",
            AuthError::MissingMessageAuthenticator => "missing_message_authenticator",
            AuthError::MessageAuthenticatorLength(_) => "message_authenticator_length",
            AuthError::DuplicateMessageAuthenticator => "duplicate_message_authenticator",
            AuthError::NotARequest(_) => "not_a_request",
            AuthError::NotAResponse(_) => "not_a_response",
        }
    }
}

/// Why an attribute value does not have the expected data type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Error)]
pub enum ValueError {
    /// A fixed-size type (integer, address, date) of the wrong size.
    #[error("expected {expected} octets, found {found}")]
    WrongLength {
        /// Octets the type needs.
        expected: usize,
        /// Octets present.
        found: usize,
    },
    /// A text attribute that is not UTF-8.
    #[error("text is not valid UTF-8")]
    NotUtf8,
    /// An IPv6 prefix value outside 2..=18 octets.
    #[error("IPv6 prefix value of {0} octets, expected 2 to 18")]
    PrefixValueLength(usize),
    /// An IPv6 prefix length above 128 bits.
    #[error("IPv6 prefix length {0} exceeds 128")]
    PrefixTooLong(u8),
    /// An IPv6 prefix with fewer octets than its length needs.
    #[error("IPv6 prefix /{bits} needs more than the {octets} octets present")]
    PrefixTruncated {
        /// Declared prefix length.
        bits: u8,
        /// Prefix octets present.
        octets: usize,
    },
    /// A time before 1970 or after 2106 (RFC 2865 dates are 32-bit).
    #[error("time is outside the 32-bit RADIUS date range")]
    DateOutOfRange,
}

/// Why an operator's text cannot be the value of an attribute of its dictionary type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Error)]
pub enum TextValueError {
    /// The text is not a value of the type; says what one is written as.
    #[error("not {0}")]
    Invalid(&'static str),
    /// No text can be: the type is not one a value is written in (says why).
    #[error("no value can be given: {0}")]
    Unsendable(&'static str),
}

/// Why a Vendor-Specific value does not follow the RFC 2865 §5.26
/// recommended layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Error)]
pub enum VsaError {
    /// Fewer than 6 octets: no room for a Vendor-Id and one sub-attribute.
    #[error("Vendor-Specific value of {0} octets is too short")]
    TooShort(usize),
    /// A sub-attribute length of 0 or 1.
    #[error("vendor sub-attribute at offset {offset} declares length {length}, below 2")]
    SubAttributeTooShort {
        /// Offset within the attribute value.
        offset: usize,
        /// The declared length.
        length: u8,
    },
    /// A sub-attribute running past the end of the attribute.
    #[error("vendor sub-attribute at offset {offset} runs past the end of the attribute")]
    SubAttributeOverrun {
        /// Offset within the attribute value.
        offset: usize,
    },
}

/// Why a User-Password could not be hidden or recovered (RFC 2865 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Error)]
pub enum PasswordError {
    /// The clear-text password is longer than 128 octets.
    #[error("password of {0} octets exceeds 128")]
    TooLong(usize),
    /// The hidden value is empty, not a multiple of 16, or above 128 octets.
    #[error("hidden User-Password of {0} octets is not a multiple of 16 between 16 and 128")]
    InvalidLength(usize),
}

/// Why a salt-encrypted value (RFC 2548 §2.4.2, RFC 2868 §3.5) could not be
/// produced or recovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Error)]
pub enum SaltError {
    /// The salt's most significant bit must be set (RFC 2548 §2.4.2).
    #[error("salt high bit is clear")]
    SaltHighBitClear,
    /// The key does not fit one attribute once encrypted.
    #[error("key of {0} octets exceeds the 239-octet maximum")]
    KeyTooLong(usize),
    /// The value is not a salt followed by a non-empty multiple of 16 octets.
    #[error("encrypted value of {0} octets is not salt + a multiple of 16")]
    InvalidLength(usize),
    /// The recovered Key-Length octet points past the decrypted data: wrong
    /// secret, wrong request authenticator or a corrupt value.
    #[error("decrypted key length {0} exceeds the encrypted data")]
    KeyLengthMismatch(u8),
}

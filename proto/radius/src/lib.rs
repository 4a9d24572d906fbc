//! RADIUS wire codec for ispd: packets, attributes, vendor dictionaries and
//! the authenticator/encryption primitives of RFC 2865, 2866, 2868, 2869,
//! 2548, 3162, 3579, 4818 and 5176.
//!
//! This crate is the codec layer only, in the style of hickory-dns' and
//! quinn's protocol crates: no I/O, no async, no sockets, no clock and no
//! randomness. Callers supply datagrams, secrets, request authenticators and
//! salts; the crate turns them into bytes and back and proves them authentic.
//!
//! # Why not the `radius` crate
//!
//! The `radius` 0.4 crate was considered and rejected: it has no vendor
//! dictionaries (ispd needs Microsoft, MikroTik, Cisco, Juniper and WISPr
//! VSAs), no Message-Authenticator handling (required by RFC 3579 and by the
//! BlastRADIUS hardening of 2024), fixed 1500-byte buffers (RFC 2865 allows
//! 4096) and an unbounded built-in server that does not belong in a codec.
//!
//! # Shape
//!
//! - [`PacketRef`] is a validated, zero-copy view of a received datagram:
//!   decoding an Access-Request walks the attributes once and allocates
//!   nothing. [`Packet`] is the owned form used to build packets.
//! - [`PacketRef::verify_request`] / [`PacketRef::verify_response`] check the
//!   Request/Response Authenticator and Message-Authenticator;
//!   [`Packet::encode_request`] / [`Packet::encode_response`] produce signed
//!   datagrams (Message-Authenticator computed first, then the authenticator
//!   over it), and [`Packet::insert_message_authenticator`] puts it first in
//!   the attribute list.
//! - [`password`], [`salt`] and [`chap`] hold the attribute-hiding schemes,
//!   [`vsa`] the Vendor-Specific layout and [`dict`] the attribute numbers.
//!
//! Secrets are never logged or put in errors. The authenticators take any [`Secret`]:
//! plain bytes, or a [`KeyedSecret`] that keys its HMAC once for every packet of a client.
//!
//! # Example: answering an Access-Request
//!
//! ```
//! use ispd_radius::dict::{mikrotik, rfc};
//! use ispd_radius::{password, Attribute, Code, MaPolicy, Packet, PacketRef};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let secret = b"shared secret";
//! # let mut nas = Packet::new(Code::AccessRequest, 7, [0x42; 16]);
//! # nas.push(Attribute::string(rfc::USER_NAME, "alice"));
//! # let hidden = password::hide(b"hunter2", secret, &nas.authenticator)?;
//! # nas.push(Attribute::new(rfc::USER_PASSWORD, hidden));
//! # nas.insert_message_authenticator();
//! # let datagram = nas.encode_request(secret)?;
//! let request = PacketRef::decode(&datagram)?;
//! request.verify_request(secret, MaPolicy::Required)?;
//! let user = request.first(rfc::USER_NAME).ok_or("no User-Name")?.as_str()?;
//! let hidden = request.first(rfc::USER_PASSWORD).ok_or("no User-Password")?;
//! let pw = password::unhide(hidden.value, secret, request.authenticator())?;
//! assert_eq!((user, &*pw), ("alice", &b"hunter2"[..]));
//!
//! let mut reply = request.reply(Code::AccessAccept);
//! reply.push(Attribute::vendor(mikrotik::VENDOR_ID, mikrotik::MIKROTIK_RATE_LIMIT, b"10M/20M")?);
//! reply.insert_message_authenticator();
//! let bytes = reply.encode_response(request.authenticator(), secret)?;
//! # PacketRef::decode(&bytes)?.verify_response(request.authenticator(), secret, MaPolicy::Required)?;
//! # Ok(())
//! # }
//! ```

// A handler never panics on what it is sent: outside tests, no unwrap or expect without a
// local `allow` that says why the value is always there.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
// A function over 80 lines (clippy.toml) hides steps that deserve a name.
#![cfg_attr(not(test), deny(clippy::too_many_lines))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod attribute;
pub mod authenticator;
pub mod chap;
mod code;
pub mod dict;
mod error;
mod packet;
pub mod password;
pub mod salt;
mod secret;
mod value;
pub mod vsa;

pub use attribute::{Attribute, AttributeRef};
pub use authenticator::MaPolicy;
pub use code::Code;
pub use error::{
    AuthError, DecodeError, EncodeError, PasswordError, SaltError, TextValueError, ValueError,
    VsaError,
};
pub use packet::{Attributes, Packet, PacketRef};
pub use secret::{HmacKey, KeyedSecret, Secret};
pub use value::Ipv6Prefix;
pub use vsa::VendorSpecific;

/// Size of the fixed RADIUS header (Code, Identifier, Length, Authenticator).
pub const HEADER_LEN: usize = 20;

/// Largest packet RFC 2865 §3 allows; larger datagrams are malformed.
pub const MAX_PACKET_LEN: usize = 4096;

/// Largest attribute value: the one-octet Length field covers Type and
/// Length too (255 - 2).
pub const MAX_ATTRIBUTE_VALUE_LEN: usize = 253;

//! The RADIUS domain of ispd: logins, NAS devices, credential checks, the access policy and
//! the per-vendor rendering of speeds into reply attributes.
//!
//! Architecture invariant: this crate is pure. No sockets, no database, no clock, no random
//! source; it works on records and decoded packets handed to it by the daemon, and returns
//! typed reply attributes that the daemon encodes (it does not depend on the RADIUS codec).

// A handler never panics on what it is sent: outside tests, no unwrap or expect without a
// local `allow` that says why the value is always there.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
// A function over 80 lines (clippy.toml) hides steps that deserve a name.
#![cfg_attr(not(test), deny(clippy::too_many_lines))]

pub mod accounting;
pub mod auth;
pub mod enforcement;
pub mod login;
pub mod mac;
pub mod nas;
pub mod policy;
pub mod pool;
pub mod rate;
pub mod reply;
pub mod speed;
pub mod zone;

pub use ispd_billing::FieldError;

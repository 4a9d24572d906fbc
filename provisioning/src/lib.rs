//! The RADIUS domain of ispd: logins, NAS devices and (with the authentication issue) the
//! access policy that turns them into replies.
//!
//! Architecture invariant: this crate is pure. No sockets, no database, no clock; it works on
//! records and decoded packets handed to it by the daemon.

pub mod login;
pub mod mac;
pub mod nas;

pub use ispd_billing::FieldError;

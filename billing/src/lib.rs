//! The billing domain of ispd: clients, tariffs, subscriptions and the money rules around them.
//!
//! Architecture invariant: this crate is pure. It never reads a clock (dates come in as
//! arguments), never touches a database, socket or file, and never compiles tonic or sqlx.
//! The daemon loads records, asks this crate for decisions and stores the results.

// A handler never panics on what it is sent: outside tests, no unwrap or expect without a
// local `allow` that says why the value is always there.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
// Outside tests no function is longer than clippy.toml's threshold (80 lines): a longer one
// is split into named steps.
#![cfg_attr(not(test), deny(clippy::too_many_lines))]

pub mod bank;
pub mod books;
pub mod cancellation;
pub mod charge;
pub mod client;
pub mod credit_note;
pub mod document;
pub mod dunning;
pub mod erasure;
pub mod field;
pub mod interest;
pub mod invoice;
pub mod invoice_group;
pub mod money;
pub mod opening_balance;
pub mod payment;
pub mod period;
pub mod price_change;
pub mod schedule;
pub mod subscription;
pub mod tariff;
pub mod unit;
pub mod violation;

pub use field::FieldError;

//! The ispd daemon: the imperative shell around the pure `billing` and `provisioning` cores.
//! It owns every effect: configuration, storage, sockets, the admin API and the clock.

// A handler never panics on what it is sent: outside tests, no unwrap or expect without a
// local `allow` that says why the value is always there.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
// A function over 80 lines (clippy.toml) hides steps that deserve a name.
#![cfg_attr(not(test), deny(clippy::too_many_lines))]

pub mod api;
pub mod app;
pub mod caps;
pub mod change_log;
pub mod changes;
pub mod clock;
pub mod config;
#[cfg(test)]
mod conformance;
pub mod connections;
pub mod enforcement;
pub mod health;
pub mod heap;
pub mod instance;
pub mod jobs;
pub mod lead;
pub mod live;
pub mod metrics;
pub mod radius;
pub mod reuseport;
pub mod seal;
pub mod server;
pub mod tls;
/// The repositories, as their own crate (`ispd-store`); the daemon names them `storage`.
pub use ispd_store as storage;
pub mod token;

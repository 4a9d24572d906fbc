//! End-to-end tests: a real `ispd` process driven by real clients (`ispctl`, a tonic gRPC
//! client, and for RADIUS Debian's `radclient`). One test binary, many modules: each extra
//! binary would link the whole daemon again.

mod accounting;
mod admin;
mod auth_log;
mod billing;
mod books;
mod daemon;
mod disk;
mod documents;
mod dunning;
mod enforcement;
mod fake_nas;
mod faults;
mod hostile;
mod hostile_input;
mod instances;
mod invoice_groups;
mod lifecycle;
mod package;
mod payments;
mod pools;
mod radius;
mod radius_hostile;
mod sessions;
mod system;
mod timezone;
mod tls;

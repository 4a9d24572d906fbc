//! The ispd daemon: the imperative shell around the pure `billing` and `provisioning` cores.
//! It owns every effect: configuration, storage, sockets, the admin API and the clock.

pub mod api;
pub mod app;
pub mod billing_run;
pub mod changes;
pub mod clock;
pub mod config;
pub mod connections;
pub mod dunning_run;
pub mod jobs;
pub mod live;
pub mod metrics;
pub mod radius;
pub mod seal;
pub mod server;
pub mod storage;
pub mod token;

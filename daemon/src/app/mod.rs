//! Use cases: where a reader finds "what happens when X". A use case loads records, asks a
//! pure core (billing, provisioning) for the decision, writes the result with its audit
//! records in ONE transaction, and after the commit publishes what changed on the change
//! feed. The gRPC handlers, the daily jobs and `ispctl` (through the API) call use cases;
//! storage only persists.
//!
//! The layer is being built one use case at a time (issue 11); handlers not yet moved still
//! call storage directly.

pub mod documents;
pub mod payments;

//! Use cases: where a reader finds "what happens when X". A use case loads records, asks a
//! pure core (billing, provisioning) for the decision, writes the result with its audit
//! records in ONE transaction, and after the commit publishes what changed on the change
//! feed. The gRPC handlers, the daily jobs and `ispctl` (through the API) call use cases;
//! storage only persists.
//!
//! One module per aggregate, named as the API service and the storage file name it. Every
//! use case takes the [`App`] (store, change feed, clock, live config): "today" and the
//! settings are read here, never at the edge.

pub mod audit;
pub mod billing;
pub mod billing_run;
pub mod books;
pub mod charges;
pub mod clients;
pub mod codes;
pub mod discounts;
pub mod documents;
pub mod dunning;
pub mod dunning_run;
mod error;
pub mod interest;
pub mod invoice_groups;
pub mod logins;
pub mod nas;
pub mod payments;
pub mod sessions;
pub(crate) mod settlement;
pub mod statement_upload;
pub mod subscriptions;
pub mod system;
pub mod tariffs;
#[cfg(test)]
mod tests;
pub mod violations;

use chrono::NaiveDate;
use ispd_billing::dunning::DunningSettings;

pub use error::{AppError, AppResult, field};

use crate::changes::{Change, ChangeFeed};
use crate::clock::Clock;
use crate::config::Config;
use crate::live::Live;
use crate::storage::{AccessScope, Store};

/// An answer with the billing currency it is stated in (`[billing] currency`).
#[derive(Debug)]
pub struct InCurrency<T> {
    pub value: T,
    pub currency: String,
}

/// What every use case works with. Cheap to copy: it borrows the daemon's shared state.
#[derive(Clone, Copy)]
pub struct App<'a> {
    pub store: &'a Store,
    /// Where a committed change that alters what RADIUS answers is published.
    pub changes: &'a ChangeFeed,
    /// The one clock: "today" for every date a request leaves out.
    pub clock: Clock,
    /// Swapped on reload: read once per use case.
    pub config: &'a Live<Config>,
    /// Set once the daemon stops: the long bulk runs end after the batch in hand.
    pub stopping: &'a Stopping,
}

/// The daemon's stop as the long bulk use cases see it (the billing run). Set at SIGTERM;
/// a run then commits the batch in hand and ends, cut short, instead of holding the stop
/// past systemd's `TimeoutStopSec` (its database connections keep the store from closing).
/// The runs are idempotent: the next one issues the rest.
#[derive(Debug, Default)]
pub struct Stopping(std::sync::atomic::AtomicBool);

impl Stopping {
    /// Not stopping; `const` so that a caller no stop concerns (a test) can hold a `static`.
    pub const fn new() -> Stopping {
        Stopping(std::sync::atomic::AtomicBool::new(false))
    }

    pub fn begin(&self) {
        self.0.store(true, std::sync::atomic::Ordering::Release);
    }

    pub fn is_stopping(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Acquire)
    }
}

impl App<'_> {
    /// The day a request named, or today.
    fn day_or_today(&self, day: Option<NaiveDate>) -> NaiveDate {
        day.unwrap_or_else(|| self.clock.today())
    }

    /// The `[dunning]` settings as configured now.
    fn dunning_settings(&self) -> DunningSettings {
        self.config.load().dunning.settings()
    }

    /// The `[billing] currency`: what documents and payments are stated in when their invoice
    /// group names none. Storage is handed it; it reads no config.
    fn currency(&self) -> String {
        self.config.load().billing.currency.clone()
    }

    /// `value` stated in the configured billing currency.
    fn in_currency<T>(&self, value: T) -> InCurrency<T> {
        InCurrency {
            value,
            currency: self.config.load().billing.currency.clone(),
        }
    }

    /// `value`, an amount of client `number`'s account, stated in the currency the client is
    /// invoiced in (its invoice group's, else the billing currency): its credit and debt are
    /// held in it. Found probing from outside: a euro client's balance and statement read CZK.
    async fn in_client_currency<T>(&self, number: &str, value: T) -> AppResult<InCurrency<T>> {
        let currency = self
            .store
            .currency_of_client(number, &self.currency())
            .await?;
        Ok(InCurrency { value, currency })
    }

    /// After the commit: RADIUS answers the logins in `scope` with the change before this
    /// returns.
    async fn publish(&self, scope: AccessScope) {
        self.changes.publish(Change::Access(scope)).await;
    }
}

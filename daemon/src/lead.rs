//! Which instance sends what the clock causes. Several instances see the same hour turn and
//! the same cap crossed; one of them, the holder of the database's lead
//! (`ispd_store::Lead`), tells the sessions, so a session gets one CoA however many instances
//! run. The others leave the edges to it, and push what passed while nobody led once they
//! lead (`Enforcer::follow_time`). The lead is asked for every
//! [`CHECK`]; a holder whose connection fails lets go at once, and another instance takes it
//! at its next ask. On SQLite the one instance always leads.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::storage::Store;

const CHECK: Duration = Duration::from_secs(2);
const ROLE: &str = "clock-pushes";

/// Whether this instance leads now.
#[derive(Debug, Default)]
pub struct Lead(AtomicBool);

impl Lead {
    pub fn holds(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    /// Asks for the lead on the runtime, for as long as the daemon runs.
    pub fn start(store: Store) -> Arc<Lead> {
        let lead = Arc::new(Lead::default());
        tokio::spawn(lead.clone().keep(store));
        lead
    }

    /// Takes the lead and keeps checking it.
    async fn keep(self: Arc<Self>, store: Store) {
        let mut held = None;
        loop {
            held = match held.take() {
                None => match store.try_lead(ROLE).await {
                    Ok(Some(lead)) => {
                        tracing::info!("this instance leads the time-driven pushes");
                        Some(lead)
                    }
                    Ok(None) => None,
                    Err(e) => {
                        tracing::debug!(error = %e, "the lead cannot be asked for now");
                        None
                    }
                },
                Some(mut lead) => match lead.check().await {
                    Ok(()) => Some(lead),
                    Err(e) => {
                        tracing::warn!(error = %e, "lost the lead of the time-driven pushes");
                        None
                    }
                },
            };
            self.0.store(held.is_some(), Ordering::Release);
            tokio::time::sleep(CHECK).await;
        }
    }
}

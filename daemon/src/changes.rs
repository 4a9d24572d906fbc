//! The change feed: the one place a committed change that alters what RADIUS should answer
//! is announced. A write path publishes what it changed, after its transaction commits, and
//! never calls a consumer itself; consumers subscribe once at start-up. The consumers are the
//! RADIUS access cache and NAS table, then enforcement (CoA and Disconnect to online sessions,
//! `crate::enforcement`). Several instances on one PostgreSQL learn each other's changes from
//! the database's change log (`crate::change_log`), which publishes them here as
//! [`Change::Elsewhere`].
//!
//! `publish` delivers to every consumer before it returns, so an API call that changed a
//! login returns only once RADIUS answers with the change.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

use crate::storage::AccessScope;

/// What changed, in the words a consumer needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The logins in scope may get another answer: password, tariff, state, suspension,
    /// addresses, attributes.
    Access(AccessScope),
    /// Another instance committed a change of the logins in scope (read from the change
    /// log): this instance's cache takes it; the sessions are told by the instance that made
    /// it, so a change is pushed once.
    Elsewhere(AccessScope),
    /// The NAS table changed (an API edit or a reloaded config).
    Nas,
    /// A reloaded config changed the access policy (walled garden, restricted states, Cisco
    /// shaping); the RADIUS side answers with it already.
    Policy,
}

/// A subscriber of the feed.
pub trait Consumer: Send + Sync {
    /// Applies one change; a consumer reports its own failures (it cannot undo a commit).
    fn apply<'a>(&'a self, change: &'a Change) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>>;
}

/// The feed. Cheap to clone; every clone publishes to the same consumers.
#[derive(Clone, Default)]
pub struct ChangeFeed {
    consumers: Arc<RwLock<Vec<Arc<dyn Consumer>>>>,
}

impl ChangeFeed {
    pub fn subscribe(&self, consumer: Arc<dyn Consumer>) {
        self.consumers
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(consumer);
    }

    /// Delivers `change` to every consumer, in the order they subscribed.
    pub async fn publish(&self, change: Change) {
        let consumers = self
            .consumers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for consumer in consumers {
            consumer.apply(&change).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    struct Recorder(Mutex<Vec<(u8, Change)>>, u8);

    impl Consumer for Recorder {
        fn apply<'a>(
            &'a self,
            change: &'a Change,
        ) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
            Box::pin(async move {
                self.0.lock().unwrap().push((self.1, change.clone()));
            })
        }
    }

    #[tokio::test]
    async fn every_consumer_has_the_change_before_publish_returns() {
        let feed = ChangeFeed::default();
        let first = Arc::new(Recorder(Mutex::default(), 1));
        let second = Arc::new(Recorder(Mutex::default(), 2));
        feed.subscribe(first.clone());
        feed.clone().subscribe(second.clone());
        feed.publish(Change::Access(AccessScope::Login(7))).await;
        feed.publish(Change::Nas).await;
        for (recorder, n) in [(&first, 1), (&second, 2)] {
            assert_eq!(
                *recorder.0.lock().unwrap(),
                [(n, Change::Access(AccessScope::Login(7))), (n, Change::Nas)]
            );
        }
    }
}

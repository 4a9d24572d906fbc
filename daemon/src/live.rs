//! Values the running daemon swaps on reload (SIGHUP): readers take a cheap snapshot and
//! never see a half-applied change.

use std::sync::{Arc, RwLock};

#[derive(Debug)]
pub struct Live<T>(RwLock<Arc<T>>);

impl<T> Live<T> {
    pub fn new(value: T) -> Self {
        Live(RwLock::new(Arc::new(value)))
    }

    /// The current value; later swaps do not affect it.
    pub fn load(&self) -> Arc<T> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn store(&self, value: T) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(value);
    }
}

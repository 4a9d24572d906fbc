//! What tests of the store, and of the code above it, stand on: a fresh database per test on
//! each backend, and records in their fullest form. Built for this crate's own tests and, with
//! the `testkit` feature, for the daemon's (as kanidm's testkit serves its crates).
//!
//! Test-only code: a failed step panics with its reason, which is the test's report, and a
//! fixture in its fullest form is as long as its record.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

pub mod fixtures;
mod harness;

pub use harness::{postgres, sqlite};

/// The store's pool, for a test that checks the books with its own SQL.
pub fn pool(store: &crate::Store) -> &sqlx::AnyPool {
    &store.pool
}

/// Declares one `#[tokio::test]` per listed test function and backend, in modules `sqlite`
/// and `postgres`: `cargo test conformance::postgres::client_round_trip` runs one of them.
/// Each function takes a fresh [`Store`](crate::Store) (and, in `store_and_url`, its URL).
#[macro_export]
macro_rules! on_both_backends {
    (store: [$($module:ident::$name:ident),* $(,)?] store_and_url: [$($url_module:ident::$url_name:ident),* $(,)?]) => {
        $crate::on_both_backends!(@backend sqlite [$($module::$name),*] [$($url_module::$url_name),*]);
        $crate::on_both_backends!(@backend postgres [$($module::$name),*] [$($url_module::$url_name),*]);
    };
    (@backend $backend:ident [$($module:ident::$name:ident),*] [$($url_module:ident::$url_name:ident),*]) => {
        mod $backend {
            $(
                #[tokio::test]
                async fn $name() {
                    $crate::testkit::$backend(stringify!($name), |store, _url| super::$module::$name(store))
                        .await;
                }
            )*
            $(
                #[tokio::test]
                async fn $url_name() {
                    $crate::testkit::$backend(stringify!($url_name), super::$url_module::$url_name)
                        .await;
                }
            )*
        }
    };
}

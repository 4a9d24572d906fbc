//! Fresh databases per test, removed afterwards even when the test panics: the body runs in
//! its own task, its panic is caught by the join, the database dropped, then the panic resumed.

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{AnyConnection, AssertSqlSafe, Connection, Executor};

use super::fixtures::sealer;
use crate::{Store, redact_url};

const URL_VARIABLE: &str = "ISPD_TEST_DATABASE_URL";

/// pid + counter + nanoseconds: unique across parallel tests and test processes.
fn unique() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A panic's payload, carried from the test task to the test thread.
type Panic = Box<dyn std::any::Any + Send>;

/// Opens a store on `url` and runs the body in its own task, so that a panic comes back as
/// a value; the store is closed whatever happened, before the database is removed.
async fn run<F, Fut>(url: String, body: F) -> Result<(), Panic>
where
    F: FnOnce(Store, String) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let store = match Store::open(&url, 4, sealer()).await {
        Ok(store) => store,
        Err(e) => {
            let message = format!("cannot open {}: {e:#}", redact_url(&url));
            eprintln!("{message}");
            return Err(Box::new(message));
        }
    };
    let outcome = tokio::spawn(body(store.clone(), url)).await;
    store.close().await;
    outcome.map_err(|e| {
        e.try_into_panic()
            .unwrap_or_else(|e| Box::new(format!("test task failed: {e}")))
    })
}

/// Fails the test with the body's own panic, after the clean-up.
fn finish(outcome: Result<(), Panic>) {
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

pub async fn sqlite<F, Fut>(test: &str, body: F)
where
    F: FnOnce(Store, String) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = std::env::temp_dir().join(format!("ispd-conformance-{}-{test}", unique()));
    std::fs::create_dir_all(&dir).expect("create the test directory");
    let url = format!("sqlite://{}", dir.join("ispd.db").display());
    let outcome = run(url, body).await;
    let _ = std::fs::remove_dir_all(&dir);
    finish(outcome);
}

pub async fn postgres<F, Fut>(test: &str, body: F)
where
    F: FnOnce(Store, String) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Ok(base) = std::env::var(URL_VARIABLE) else {
        eprintln!(
            "{URL_VARIABLE} unset: skipping PostgreSQL conformance ({test}); scripts/test sets it"
        );
        return;
    };
    let name = format!("ispd_test_{}", unique());
    admin(&base, &format!("CREATE DATABASE {name}"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let outcome = run(with_database(&base, &name), body).await;
    drop_database(&base, &name).await;
    finish(outcome);
}

/// `WITH (FORCE)` ends connections a panicked test left behind; it can still fail while
/// one of them is starting up, hence the retries. A database left over is reported only.
async fn drop_database(base: &str, name: &str) {
    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    let mut attempts = 0;
    while let Err(e) = admin(base, &sql).await {
        attempts += 1;
        if attempts == 10 {
            eprintln!("warning: test database {name} left behind: {e}");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// Runs one statement on the server the test URL points at. Panics when the server does
/// not answer: a set but dead URL is a broken CI setup, not a reason to skip.
async fn admin(base: &str, sql: &str) -> Result<(), String> {
    sqlx::any::install_default_drivers();
    let mut conn = AnyConnection::connect(base).await.unwrap_or_else(|e| {
        panic!(
            "{URL_VARIABLE}={} is set but PostgreSQL does not answer: {e}",
            redact_url(base)
        )
    });
    let result = conn.execute(AssertSqlSafe(sql.to_owned())).await;
    let _ = conn.close().await;
    result.map(drop).map_err(|e| format!("{sql}: {e}"))
}

/// The URL with its database name replaced, keeping any query string.
fn with_database(url: &str, database: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let (location, query) = match rest.split_once('?') {
        Some((location, query)) => (location, format!("?{query}")),
        None => (rest, String::new()),
    };
    let authority = location.split('/').next().unwrap_or_default();
    format!("{scheme}://{authority}/{database}{query}")
}

#[test]
fn database_name_is_swapped() {
    assert_eq!(
        with_database("postgres://ispd:ispd@127.0.0.1:5432/postgres", "t1"),
        "postgres://ispd:ispd@127.0.0.1:5432/t1"
    );
    assert_eq!(
        with_database("postgresql://u@h/db?sslmode=disable", "t2"),
        "postgresql://u@h/t2?sslmode=disable"
    );
    assert_eq!(
        with_database("postgres://h:5432", "t3"),
        "postgres://h:5432/t3"
    );
}

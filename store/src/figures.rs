//! Counts for the metrics endpoint, read at each scrape (never on the RADIUS path).

use crate::{Store, StoreResult};

/// What the metrics endpoint shows of the books and the sessions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    pub clients: i64,
    pub clients_suspended_for_debt: i64,
    /// (state, subscriptions in it).
    pub subscriptions: Vec<(String, i64)>,
    /// (NAS name, open sessions on it).
    pub open_sessions: Vec<(String, i64)>,
    /// (currency, minor units) still owed on issued documents: invoices, debit notes and
    /// opening balances unpaid or partly paid, less credit notes not yet settled; pro-formas
    /// are requests, not receivables.
    pub receivables: Vec<(String, i64)>,
}

impl Store {
    pub async fn figures(&self) -> StoreResult<Figures> {
        let mut conn = self.pool.acquire().await?;
        let clients: (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN debt_suspended <> 0 THEN 1 ELSE 0 END), 0)
             FROM client",
        )
        .fetch_one(&mut *conn)
        .await?;
        let subscriptions = sqlx::query_as(
            "SELECT state, COUNT(*) FROM subscription GROUP BY state ORDER BY state",
        )
        .fetch_all(&mut *conn)
        .await?;
        let open_sessions = sqlx::query_as(
            "SELECT nas_name, COUNT(*) FROM session WHERE stopped_at IS NULL
             GROUP BY nas_name ORDER BY nas_name",
        )
        .fetch_all(&mut *conn)
        .await?;
        // Every currency ever invoiced, at 0 once all is paid (a gauge left out keeps its
        // last value). PostgreSQL sums BIGINT as NUMERIC: cast back.
        let receivables = sqlx::query_as(
            "SELECT currency, CAST(COALESCE(SUM(CASE
                 WHEN state IN ('unpaid', 'partially_paid') AND kind <> 'proforma'
                 THEN gross_minor - paid_minor ELSE 0 END), 0) AS BIGINT)
             FROM invoice GROUP BY currency ORDER BY currency",
        )
        .fetch_all(&mut *conn)
        .await?;
        Ok(Figures {
            clients: clients.0,
            clients_suspended_for_debt: clients.1,
            subscriptions,
            open_sessions,
            receivables,
        })
    }

    /// Connections of the pool: (open, idle).
    pub fn pool_usage(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }
}

//! The closing of the books: one date, read by every use case that writes something dated,
//! and moved forward (the rule is `ispd_billing::books::close`) with its audit record.

use chrono::NaiveDate;

use super::statements::{Cells, Kind, Statements};
use super::{Actor, Audit, Store, StoreResult, Tx, WriteTx, date_text, now, parse_date};

impl Store {
    /// The last day of the closed period; `None` while the books were never closed.
    pub async fn books_closed_until(&self) -> StoreResult<Option<NaiveDate>> {
        let mut conn = self.pool.acquire().await?;
        closed_until(&mut *conn).await
    }

    /// [`Store::books_closed_until`] inside a use case's transaction, so a closing committed
    /// meanwhile is seen before anything dated is written.
    pub async fn books_closed_until_in(&self, tx: &mut impl Tx) -> StoreResult<Option<NaiveDate>> {
        closed_until(&mut tx.conn()).await
    }

    /// Records the closing through `until`, with its audit record.
    pub async fn close_books_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        until: NaiveDate,
    ) -> StoreResult<()> {
        let before = closed_until(tx.conn()).await?;
        sqlx::query(
            "INSERT INTO books_closing (id, closed_until, closed_at, closed_by)
             VALUES (1, $1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET closed_until = excluded.closed_until,
                closed_at = excluded.closed_at, closed_by = excluded.closed_by",
        )
        .bind(date_text(until))
        .bind(now())
        .bind(actor.0.clone())
        .execute(tx.conn())
        .await?;
        let until = date_text(until);
        Audit::new("books.close", "books", &until)
            .before(&serde_json::json!({ "closed_until": before.map(date_text) }))
            .after(&serde_json::json!({ "closed_until": until }))
            .record(tx.conn(), actor)
            .await
    }
}

async fn closed_until(conn: &mut impl Statements) -> StoreResult<Option<NaiveDate>> {
    let sql = "SELECT closed_until FROM books_closing WHERE id = 1";
    let Some(row) = conn.rows(sql, Vec::new(), &[Kind::Text]).await?.pop() else {
        return Ok(None);
    };
    let text = Cells::new("books_closing", row).text("closed_until")?;
    parse_date("books_closing.closed_until", &text).map(Some)
}

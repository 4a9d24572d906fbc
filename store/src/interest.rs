//! Interest on overdue invoices as stored: the invoices it may accrue on, with the last day
//! already charged or waived, and the runs of days an interest note charged or a waiver wrote
//! off. What accrues is `ispd_billing::interest`'s.

use std::collections::HashMap;

use chrono::NaiveDate;
use ispd_billing::interest::{Accrued, Overdue};
use ispd_billing::money;
use sqlx::{AnyConnection, AssertSqlSafe};

use super::{
    Actor, Arg, Audit, Store, StoreResult, Where, WriteTx, date_text, now, parse_date,
    parse_opt_date,
};

/// An overdue invoice with whose it is and the currency its interest is charged in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverdueInvoice {
    pub client_number: String,
    pub currency: String,
    pub invoice: Overdue,
}

/// Which overdue invoices to read: a client's, one invoice, or all.
#[derive(Debug, Clone, Copy)]
pub enum OverdueOf<'a> {
    All,
    Client(&'a str),
    Invoice(&'a str),
}

type Row = (i64, String, String, String, String, i64, Option<String>);

/// The payments and the client's credit that settled invoice `i` after its due date, by day
/// (`day`, `amount`): the days before each asked that much more. A credit note is no
/// settlement: what it took off was never owed.
const SETTLED_LATE: &str = "SELECT a.invoice_id AS invoice_id, p.received_on AS day,
        a.amount_minor AS amount
     FROM payment_allocation a JOIN payment p ON p.id = a.payment_id
        JOIN invoice d ON d.id = a.invoice_id
     WHERE p.received_on > d.due_date
     UNION ALL SELECT ca.invoice_id, ca.applied_on, ca.amount_minor
     FROM credit_application ca JOIN invoice d ON d.id = ca.invoice_id
     WHERE ca.credit_note_id IS NULL AND ca.applied_on > d.due_date";

impl Store {
    /// The invoices still owing something after their due date, before `today`, oldest
    /// first, each with the last day of interest charged or waived.
    pub async fn overdue_invoices(
        &self,
        of: OverdueOf<'_>,
        today: NaiveDate,
    ) -> StoreResult<Vec<OverdueInvoice>> {
        Self::overdue_in(&mut *self.pool.acquire().await?, of, today).await
    }

    /// [`Self::overdue_invoices`] inside a use case's transaction.
    pub async fn overdue_invoices_in(
        &self,
        tx: &mut WriteTx,
        of: OverdueOf<'_>,
        today: NaiveDate,
    ) -> StoreResult<Vec<OverdueInvoice>> {
        Self::overdue_in(tx.conn(), of, today).await
    }

    async fn overdue_in(
        conn: &mut AnyConnection,
        of: OverdueOf<'_>,
        today: NaiveDate,
    ) -> StoreResult<Vec<OverdueInvoice>> {
        let mut w = Where::default();
        w.and("i.kind = {}", Arg::Text("invoice".into()));
        // Still owing, or paid late after the last day of interest charged or waived.
        w.and(
            &format!(
                "(i.state IN ('unpaid', 'partially_paid') OR (i.state = 'paid' AND EXISTS (
                    SELECT 1 FROM ({SETTLED_LATE}) s WHERE s.invoice_id = i.id AND s.day > COALESCE(
                        (SELECT MAX(until_date) FROM interest_charge ic WHERE ic.invoice_id = i.id),
                        i.due_date))))
                 AND i.due_date < {{}}"
            ),
            Arg::Text(date_text(today)),
        );
        match of {
            OverdueOf::All => {}
            OverdueOf::Client(number) => w.and("c.number = {}", Arg::Text(number.to_owned())),
            OverdueOf::Invoice(number) => w.and("i.number = {}", Arg::Text(number.to_owned())),
        }
        let sql = format!(
            "SELECT i.id, c.number, i.number, i.currency, i.due_date,
                i.gross_minor - i.credited_minor - i.paid_minor,
                (SELECT MAX(until_date) FROM interest_charge ic WHERE ic.invoice_id = i.id)
             FROM invoice i JOIN client c ON c.id = i.client_id {} ORDER BY i.due_date, i.id",
            w.sql()
        );
        let rows: Vec<Row> = w
            .bind(sqlx::query_as(AssertSqlSafe(sql)))
            .fetch_all(&mut *conn)
            .await?;
        let ids: Vec<i64> = rows.iter().map(|row| row.0).collect();
        let mut late = Self::settled_late(conn, &ids).await?;
        rows.into_iter()
            .map(
                |(id, client_number, number, currency, due, open, settled)| {
                    Ok(OverdueInvoice {
                        client_number,
                        currency,
                        invoice: Overdue {
                            document_id: id,
                            number,
                            due_date: parse_date("invoice.due_date", &due)?,
                            open: money::from_minor_units(open),
                            settled_late: late.remove(&id).unwrap_or_default(),
                            settled_until: parse_opt_date("interest_charge.until_date", settled)?,
                        },
                    })
                },
            )
            .collect()
    }

    /// [`SETTLED_LATE`] for each of the invoices `ids`.
    async fn settled_late(
        conn: &mut AnyConnection,
        ids: &[i64],
    ) -> StoreResult<HashMap<i64, Vec<(NaiveDate, rust_decimal::Decimal)>>> {
        let mut late: HashMap<i64, Vec<_>> = HashMap::new();
        for chunk in ids.chunks(500) {
            let mut w = Where::default();
            w.and_in("s.invoice_id", chunk);
            let sql = format!(
                "SELECT s.invoice_id, s.day, s.amount FROM ({SETTLED_LATE}) s {}",
                w.sql()
            );
            let rows: Vec<(i64, String, i64)> = w
                .bind(sqlx::query_as(AssertSqlSafe(sql)))
                .fetch_all(&mut *conn)
                .await?;
            for (id, day, amount) in rows {
                let day = parse_date("payment.received_on", &day)?;
                late.entry(id)
                    .or_default()
                    .push((day, money::from_minor_units(amount)));
            }
        }
        Ok(late)
    }

    /// Records the days `items` cover as charged on interest note `note_id`.
    pub async fn record_interest_charged_in(
        &self,
        tx: &mut WriteTx,
        items: &[Accrued],
        note_id: i64,
    ) -> StoreResult<()> {
        for item in items {
            Self::insert_charge(tx.conn(), item, Some(note_id)).await?;
        }
        Ok(())
    }

    /// Records the days `item` covers as waived, for good, with its audit record.
    pub async fn record_interest_waived_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        client_number: &str,
        item: &Accrued,
    ) -> StoreResult<()> {
        let conn = tx.conn();
        Self::insert_charge(conn, item, None).await?;
        Audit::new("interest.waive", "invoice", &item.number)
            .client(client_number)
            .before(item)
            .record(conn, actor)
            .await
    }

    async fn insert_charge(
        conn: &mut AnyConnection,
        item: &Accrued,
        note_id: Option<i64>,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO interest_charge (invoice_id, from_date, until_date, amount_minor, note_id,
                created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(item.document_id)
        .bind(date_text(item.from))
        .bind(date_text(item.until))
        .bind(money::to_minor_units("interest", item.amount)?)
        .bind(note_id)
        .bind(now())
        .execute(conn)
        .await?;
        Ok(())
    }
}

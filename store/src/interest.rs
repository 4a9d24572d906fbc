//! Interest on overdue invoices as stored: the invoices it may accrue on, with the last day
//! already charged or waived, and the runs of days an interest note charged or a waiver wrote
//! off. What accrues is `ispd_billing::interest`'s.

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
        w.and(
            "i.state IN ('unpaid', 'partially_paid') AND i.due_date < {}",
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
            .fetch_all(conn)
            .await?;
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
                            settled_until: parse_opt_date("interest_charge.until_date", settled)?,
                        },
                    })
                },
            )
            .collect()
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

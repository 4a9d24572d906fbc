//! What settling documents other than by payment writes: a credit note's effect on the
//! invoice it corrects, client credit spent on open documents, a document settled on issue —
//! each a `credit_application` row where money moves, so a document's paid amount is always
//! its payment allocations plus its credit applications. What settles what, and when, is the
//! use case's (`app::settlement`), by the core's rules (`credit_note::apply`,
//! `payment::apply_credit`), and so is what a card's opening balance puts on the account.

use std::collections::HashSet;

use chrono::NaiveDate;
use ispd_billing::credit_note::{CreditNoteEffect, Settled};
use ispd_billing::money;
use ispd_billing::payment::OpenInvoice;
use ispd_billing::payment::receipt::DocumentPaid;
use rust_decimal::Decimal;
use sqlx::AnyConnection;

use crate::statements::{Kind, Statements, Value};

use super::{InvoiceRecord, Store, StoreResult, WriteTx, date_text, now, rows_per_statement};

impl Store {
    /// An issued document as stored (its draft among the rest).
    pub async fn document_in(&self, tx: &mut WriteTx, id: i64) -> StoreResult<InvoiceRecord> {
        Self::invoice_by_id(tx.conn(), id).await
    }

    /// What a credit note settles against: the invoice's gross, paid and already credited.
    pub async fn settled_in(&self, tx: &mut WriteTx, invoice: i64) -> StoreResult<Settled> {
        let (gross, paid, credited): (i64, i64, i64) = sqlx::query_as(
            "SELECT gross_minor, paid_minor, credited_minor FROM invoice WHERE id = $1",
        )
        .bind(invoice)
        .fetch_one(tx.conn())
        .await?;
        Ok(Settled {
            gross: money::from_minor_units(gross),
            paid: money::from_minor_units(paid),
            credited: money::from_minor_units(credited),
        })
    }

    /// Writes a credit note's effect on the invoice it corrects; the money it returns to
    /// credit is recorded as a (negative) credit application of that invoice, dated `day`.
    pub async fn record_credit_note_effect_in(
        &self,
        tx: &mut WriteTx,
        (note, invoice, client): (i64, i64, i64),
        effect: &CreditNoteEffect,
        day: NaiveDate,
    ) -> StoreResult<()> {
        let conn = tx.conn();
        sqlx::query(
            "UPDATE invoice SET credited_minor = $1, paid_minor = $2, state = $3 WHERE id = $4",
        )
        .bind(money::to_minor_units("invoice.credited", effect.credited)?)
        .bind(money::to_minor_units("invoice.paid", effect.paid)?)
        .bind(effect.state.as_str())
        .bind(invoice)
        .execute(&mut *conn)
        .await?;
        if !effect.to_credit.is_zero() {
            record_credit_application(conn, (client, invoice), -effect.to_credit, Some(note), day)
                .await?;
        }
        Ok(())
    }

    /// The pro-forma whose tax invoice `invoice` is, if it is one: the tax invoice mirrors the
    /// pro-forma's money, which lies on the pro-forma.
    pub async fn proforma_of_tax_invoice_in(
        &self,
        tx: &mut WriteTx,
        invoice: i64,
    ) -> StoreResult<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT p.id FROM invoice t JOIN invoice p ON p.id = t.related_invoice_id
             WHERE t.id = $1 AND t.kind = 'invoice' AND p.kind = 'proforma'",
        )
        .bind(invoice)
        .fetch_optional(tx.conn())
        .await?)
    }

    /// The numbers of the tax invoices in force of the pro-formas payment `payment_id` paid.
    pub async fn tax_invoices_paid_by_in(
        &self,
        tx: &mut WriteTx,
        payment_id: i64,
    ) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT t.number FROM payment_allocation a
             JOIN invoice p ON p.id = a.invoice_id AND p.kind = 'proforma'
             JOIN invoice t ON t.related_invoice_id = p.id AND t.kind = 'invoice'
             WHERE a.payment_id = $1 AND t.state <> 'cancelled'
             ORDER BY t.number",
        )
        .bind(payment_id)
        .fetch_all(tx.conn())
        .await?)
    }

    /// Marks a document settled in full on issue (a credit note; the tax invoice of a paid
    /// pro-forma, paid by the pro-forma's money).
    pub async fn mark_settled_in(&self, tx: &mut WriteTx, id: i64) -> StoreResult<()> {
        sqlx::query("UPDATE invoice SET paid_minor = gross_minor, state = 'paid' WHERE id = $1")
            .bind(id)
            .execute(tx.conn())
            .await?;
        Ok(())
    }

    /// The client's credit and open documents (of any kind, oldest id first).
    pub async fn credit_and_open_in(
        &self,
        tx: &mut WriteTx,
        client: i64,
    ) -> StoreResult<(Decimal, Vec<OpenInvoice>)> {
        let credit = Self::client_credit(tx.conn(), client).await?;
        let open = Self::open_invoices(tx.conn(), client).await?;
        Ok((credit, open))
    }

    pub async fn set_client_credit_in(
        &self,
        tx: &mut WriteTx,
        client: i64,
        credit: Decimal,
    ) -> StoreResult<()> {
        Self::set_client_credit(tx.conn(), client, credit).await
    }

    /// Writes credit spent on documents, dated `day`: a credit application per part, each
    /// document's paid amount and state, and the client's credit after.
    pub async fn record_credit_spent_in(
        &self,
        tx: &mut WriteTx,
        client: i64,
        (spent, documents): (&[(i64, Decimal)], &[DocumentPaid]),
        credit_after: Decimal,
        day: NaiveDate,
    ) -> StoreResult<()> {
        let conn = tx.conn();
        for &(invoice, part) in spent {
            record_credit_application(conn, (client, invoice), part, None, day).await?;
        }
        write_documents_paid(conn, documents).await?;
        Self::set_client_credit(conn, client, credit_after).await
    }

    /// The client's fully paid pro-formas that have no tax invoice yet, oldest first.
    pub async fn proformas_awaiting_tax_invoice_in(
        &self,
        tx: &mut WriteTx,
        client: i64,
    ) -> StoreResult<Vec<InvoiceRecord>> {
        let conn = tx.conn();
        let paid: Vec<i64> = sqlx::query_scalar(
            "SELECT p.id FROM invoice p WHERE p.client_id = $1 AND p.kind = 'proforma'
                AND p.state = 'paid' AND NOT EXISTS (SELECT 1 FROM invoice t
                    WHERE t.related_invoice_id = p.id AND t.kind = 'invoice')
             ORDER BY p.id",
        )
        .bind(client)
        .fetch_all(&mut *conn)
        .await?;
        let mut records = Vec::with_capacity(paid.len());
        for id in paid {
            records.push(Self::invoice_by_id(conn, id).await?);
        }
        Ok(records)
    }

    /// Which of `clients` hold credit.
    pub async fn clients_holding_credit_in(
        &self,
        tx: &mut WriteTx,
        clients: &[i64],
    ) -> StoreResult<HashSet<i64>> {
        clients_holding_credit(tx.conn(), clients).await
    }

    /// Whether anything happened on the client's account besides an untouched opening
    /// balance (see [`Store::has_books`]).
    pub async fn has_books_in(&self, tx: &mut WriteTx, client: i64) -> StoreResult<bool> {
        Self::has_books(tx.conn(), client).await
    }

    /// Removes the client's opening-balance document (an opening debt being changed).
    pub async fn remove_opening_balance_in(
        &self,
        tx: &mut WriteTx,
        client: i64,
    ) -> StoreResult<()> {
        let conn = tx.conn();
        sqlx::query(
            "DELETE FROM invoice_line WHERE invoice_id IN
                (SELECT id FROM invoice WHERE client_id = $1 AND kind = 'opening_balance')",
        )
        .bind(client)
        .execute(&mut *conn)
        .await?;
        sqlx::query("DELETE FROM invoice WHERE client_id = $1 AND kind = 'opening_balance'")
            .bind(client)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    /// The client's credit.
    pub async fn client_credit_in(&self, tx: &mut WriteTx, client: i64) -> StoreResult<Decimal> {
        Self::client_credit(tx.conn(), client).await
    }

    /// The currency the client is invoiced in: its invoice group's, else `default_currency`.
    pub async fn client_currency_in(
        &self,
        tx: &mut WriteTx,
        client: i64,
        default_currency: &str,
    ) -> StoreResult<String> {
        Self::client_currency(tx.conn(), client, default_currency).await
    }

    /// Whether anything happened on the client's account besides an untouched opening
    /// balance: a payment, a refund or a document.
    pub(super) async fn has_books(conn: &mut AnyConnection, client: i64) -> StoreResult<bool> {
        let activity: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM payment WHERE client_id = $1)
                + (SELECT COUNT(*) FROM refund WHERE client_id = $1)
                + (SELECT COUNT(*) FROM invoice WHERE client_id = $1
                    AND (kind <> 'opening_balance' OR paid_minor <> 0))",
        )
        .bind(client)
        .fetch_one(&mut *conn)
        .await?;
        Ok(activity > 0)
    }
}

/// Each document's paid amount and state as the core left them.
pub(crate) async fn write_documents_paid(
    conn: &mut AnyConnection,
    documents: &[DocumentPaid],
) -> StoreResult<()> {
    for document in documents {
        sqlx::query("UPDATE invoice SET paid_minor = $1, state = $2 WHERE id = $3")
            .bind(money::to_minor_units("invoice.paid", document.paid)?)
            .bind(document.state.as_str())
            .bind(document.id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

async fn record_credit_application(
    conn: &mut AnyConnection,
    (client, invoice): (i64, i64),
    amount: Decimal,
    credit_note: Option<i64>,
    day: NaiveDate,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO credit_application (client_id, invoice_id, amount_minor,
            credit_note_id, applied_on, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(client)
    .bind(invoice)
    .bind(money::to_minor_units("credit_application.amount", amount)?)
    .bind(credit_note)
    .bind(date_text(day))
    .bind(now())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Which of `clients` hold credit, on the batch's connection.
pub(crate) async fn clients_holding_credit(
    conn: &mut impl Statements,
    clients: &[i64],
) -> StoreResult<HashSet<i64>> {
    let mut holding = HashSet::new();
    for chunk in clients.chunks(rows_per_statement(1)) {
        let sql = format!(
            "SELECT id FROM client WHERE credit_minor > 0 AND id IN ({})",
            conn.placeholders().list(chunk.len())
        );
        let params = chunk.iter().map(|&id| Value::from(id)).collect();
        for row in conn.rows(&sql, params, &[Kind::Int]).await? {
            holding.extend(row[0].int());
        }
    }
    Ok(holding)
}

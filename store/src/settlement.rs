//! Settling documents other than by payment: a credit note against the invoice it corrects,
//! client credit against open documents when they are issued, and the tax invoice that follows
//! a paid pro-forma. Every change is a `credit_application` row, so a document's paid amount
//! is always its payment allocations plus its credit applications.

use chrono::NaiveDate;
use ispd_billing::credit_note::{self, Settled};
use ispd_billing::money;
use ispd_billing::payment::apply_credit;
use rust_decimal::Decimal;
use sqlx::AnyConnection;

use ispd_billing::invoice::{LineInput, PriceBasis, compute_line};

use super::{
    Actor, ClientHead, DocumentKind, InvoiceDraft, InvoiceLineRecord, Store, StoreError,
    StoreResult, WriteTx, corrupt, date_text, now,
};

impl Store {
    /// What a freshly issued document does to the client's account.
    pub(crate) async fn settle_issued(
        conn: &mut AnyConnection,
        actor: &Actor,
        id: i64,
        draft: &InvoiceDraft,
    ) -> StoreResult<()> {
        let day = draft.issue_date;
        match draft.kind {
            DocumentKind::CreditNote => {
                Self::settle_credit_note(conn, id, draft).await?;
            }
            // The tax document of a paid pro-forma: paid by the pro-forma's money already.
            DocumentKind::Invoice if draft.related_invoice_id.is_some() => {
                sqlx::query(
                    "UPDATE invoice SET paid_minor = gross_minor, state = 'paid' WHERE id = $1",
                )
                .bind(id)
                .execute(&mut *conn)
                .await?;
                return Ok(());
            }
            _ => {}
        }
        Self::spend_credit(conn, draft.client_id, day).await?;
        Self::follow_proformas(conn, actor, draft.client_id, day).await
    }

    /// A credit note cancels part of its invoice; money the client paid beyond what the
    /// invoice now asks goes to the client's credit. A credit note without an invoice is
    /// credit outright. The credit note itself is settled on issue.
    async fn settle_credit_note(
        conn: &mut AnyConnection,
        id: i64,
        draft: &InvoiceDraft,
    ) -> StoreResult<()> {
        let amount = -draft.totals.gross;
        let to_credit = match draft.related_invoice_id {
            Some(invoice) => {
                let (gross, paid, credited): (i64, i64, i64) = sqlx::query_as(
                    "SELECT gross_minor, paid_minor, credited_minor FROM invoice WHERE id = $1",
                )
                .bind(invoice)
                .fetch_one(&mut *conn)
                .await?;
                let effect = credit_note::apply(
                    Settled {
                        gross: money::from_minor_units(gross),
                        paid: money::from_minor_units(paid),
                        credited: money::from_minor_units(credited),
                    },
                    amount,
                )
                .map_err(|e| StoreError::Precondition(e.to_string()))?;
                sqlx::query(
                    "UPDATE invoice SET credited_minor = $1, paid_minor = $2, state = $3
                     WHERE id = $4",
                )
                .bind(money::to_minor_units("invoice.credited", effect.credited)?)
                .bind(money::to_minor_units("invoice.paid", effect.paid)?)
                .bind(effect.state.as_str())
                .bind(invoice)
                .execute(&mut *conn)
                .await?;
                if !effect.to_credit.is_zero() {
                    Self::record_credit_application(
                        conn,
                        draft.client_id,
                        invoice,
                        -effect.to_credit,
                        Some(id),
                        draft.issue_date,
                    )
                    .await?;
                }
                effect.to_credit
            }
            None => amount,
        };
        sqlx::query("UPDATE invoice SET paid_minor = gross_minor, state = 'paid' WHERE id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
        if !to_credit.is_zero() {
            let credit = Self::client_credit(conn, draft.client_id).await?;
            Self::set_client_credit(conn, draft.client_id, credit + to_credit).await?;
        }
        Ok(())
    }

    /// Spends the client's credit on their open documents, oldest first, so a client never
    /// holds credit and an unpaid invoice at once.
    pub(crate) async fn spend_credit(
        conn: &mut AnyConnection,
        client: i64,
        day: NaiveDate,
    ) -> StoreResult<()> {
        let credit = Self::client_credit(conn, client).await?;
        if credit <= Decimal::ZERO {
            return Ok(());
        }
        let open = Self::open_invoices(conn, client).await?;
        let allocation =
            apply_credit(credit, &open).map_err(|e| StoreError::Precondition(e.to_string()))?;
        for &(invoice_id, part) in &allocation.to_invoices {
            let invoice = open.iter().find(|i| i.id == invoice_id).ok_or_else(|| {
                corrupt(format!("credit applied to invoice {invoice_id}, not open"))
            })?;
            Self::record_credit_application(conn, client, invoice_id, part, None, day).await?;
            Self::set_invoice_paid(conn, invoice_id, invoice.total, invoice.paid + part).await?;
        }
        Self::set_client_credit(conn, client, allocation.credit_after(credit)).await
    }

    async fn record_credit_application(
        conn: &mut AnyConnection,
        client: i64,
        invoice: i64,
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

    /// The tax invoices of the client's paid pro-formas, inside a use case's transaction:
    /// after payments that completed one of them.
    pub async fn follow_proformas_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        client: i64,
        day: NaiveDate,
    ) -> StoreResult<()> {
        Self::follow_proformas(tx.conn(), actor, client, day).await
    }

    /// Issues the tax invoice for every fully paid pro-forma of the client that has none yet:
    /// same lines, dated `day` (the day of the payment that completed it), already paid.
    pub(crate) async fn follow_proformas(
        conn: &mut AnyConnection,
        actor: &Actor,
        client: i64,
        day: NaiveDate,
    ) -> StoreResult<()> {
        let paid: Vec<i64> = sqlx::query_scalar(
            "SELECT p.id FROM invoice p WHERE p.client_id = $1 AND p.kind = 'proforma'
                AND p.state = 'paid' AND NOT EXISTS (SELECT 1 FROM invoice t
                    WHERE t.related_invoice_id = p.id AND t.kind = 'invoice')
             ORDER BY p.id",
        )
        .bind(client)
        .fetch_all(&mut *conn)
        .await?;
        for proforma in paid {
            let record = Self::invoice_by_id(conn, proforma).await?;
            let mut draft = record.draft;
            draft.kind = DocumentKind::Invoice;
            draft.related_invoice_id = Some(proforma);
            draft.related_number = Some(record.number);
            draft.issue_date = day;
            draft.taxable_supply_date = day;
            draft.due_date = day;
            // Boxed: issuing settles, and settling may issue.
            Box::pin(Self::issue_in(conn, actor, &draft)).await?;
        }
        Ok(())
    }

    /// Puts the client card's opening balance (ISPadmin "Počáteční fin. stav") on the account:
    /// a credit becomes client credit, a debt becomes an opening-balance document that
    /// payments settle first (it is the oldest) and that counts as overdue debt from the day it
    /// was entered. It can change only while nothing else happened on the account.
    pub(crate) async fn sync_opening_balance(
        conn: &mut AnyConnection,
        actor: &Actor,
        client: &ClientHead,
        before: Decimal,
        after: Decimal,
        day: NaiveDate,
        default_currency: &str,
    ) -> StoreResult<()> {
        if before == after {
            return Ok(());
        }
        if Self::has_books(conn, client.client_id).await? {
            return Err(StoreError::Precondition(
                "client.invoicing.opening_balance can change only before the client's first \
                 invoice, payment or refund"
                    .into(),
            ));
        }
        let credit = Self::client_credit(conn, client.client_id).await?;
        sqlx::query(
            "DELETE FROM invoice_line WHERE invoice_id IN
                (SELECT id FROM invoice WHERE client_id = $1 AND kind = 'opening_balance')",
        )
        .bind(client.client_id)
        .execute(&mut *conn)
        .await?;
        sqlx::query("DELETE FROM invoice WHERE client_id = $1 AND kind = 'opening_balance'")
            .bind(client.client_id)
            .execute(&mut *conn)
            .await?;
        let credit = credit - before.max(Decimal::ZERO) + after.max(Decimal::ZERO);
        Self::set_client_credit(conn, client.client_id, credit).await?;
        if after < Decimal::ZERO {
            let mut draft = InvoiceDraft::empty(DocumentKind::OpeningBalance, client, day);
            // Not a supply: no VAT, and the currency is the one the client's invoices use.
            draft.lines.push(InvoiceLineRecord {
                line: compute_line(&LineInput {
                    description: "Opening balance".into(),
                    quantity: Decimal::ONE,
                    unit_price: -after,
                    basis: PriceBasis::Gross,
                    vat_rate: Decimal::ZERO,
                }),
                subscription_id: None,
                period: None,
                reverses: None,
            });
            draft.currency = Self::group_currency(conn, &client.invoice_group)
                .await?
                .unwrap_or_else(|| default_currency.to_owned());
            draft.total_up();
            Self::issue_in(conn, actor, &draft).await?;
        }
        Ok(())
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

    /// The currency an invoice group invoices in, if it sets one.
    async fn group_currency(conn: &mut AnyConnection, group: &str) -> StoreResult<Option<String>> {
        let currency: Option<Option<String>> =
            sqlx::query_scalar("SELECT currency FROM invoice_group WHERE code = $1")
                .bind(group.to_owned())
                .fetch_optional(&mut *conn)
                .await?;
        Ok(currency.flatten())
    }
}

//! Invoices: what the billing run needs to read, and issuing one invoice atomically (number
//! allocation, document, lines, billed-until) so concurrent runs can never leave a gap or
//! a duplicate.

use chrono::{Datelike, NaiveDate};
use ispd_billing::invoice::{Line, Totals};
use ispd_billing::money;
use ispd_billing::period::Period;
use rust_decimal::Decimal;
use sqlx::AnyConnection;

use super::{
    Actor, Store, StoreError, StoreResult, corrupt, date_text, now, parse_date, parse_opt_date,
    record_audit,
};

/// What a stored document is. Each kind has its own number series per invoice group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentKind {
    /// A tax invoice: charges for services, or the tax document following a paid pro-forma.
    Invoice,
    /// Corrects an invoice (negative amounts); settles it or becomes client credit.
    CreditNote,
    /// A fee outside the service charges, e.g. a reminder fee.
    DebitNote,
    /// A payment request for pro-forma clients; not a tax document.
    Proforma,
    /// Debt carried over when a client is migrated (client card opening balance).
    OpeningBalance,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 5] = [
        DocumentKind::Invoice,
        DocumentKind::CreditNote,
        DocumentKind::DebitNote,
        DocumentKind::Proforma,
        DocumentKind::OpeningBalance,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Invoice => "invoice",
            DocumentKind::CreditNote => "credit_note",
            DocumentKind::DebitNote => "debit_note",
            DocumentKind::Proforma => "proforma",
            DocumentKind::OpeningBalance => "opening_balance",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// The number pattern used when the invoice group sets none.
    pub fn default_number_format(self) -> &'static str {
        match self {
            DocumentKind::Invoice => "{year}{seq:05}",
            DocumentKind::CreditNote => "CN{year}{seq:05}",
            DocumentKind::DebitNote => "DN{year}{seq:05}",
            DocumentKind::Proforma => "PF{year}{seq:05}",
            DocumentKind::OpeningBalance => "OB{year}{seq:05}",
        }
    }
}

/// A subscription as the billing run sees it, with its client and tariff.
#[derive(Debug, Clone)]
pub struct BillingCandidate {
    pub subscription_id: i64,
    pub client_id: i64,
    pub client_number: String,
    pub client_name: String,
    pub invoice_group: String,
    pub billing_day: u32,
    pub due_days: Option<u32>,
    pub billing_from: NaiveDate,
    pub billed_until: Option<NaiveDate>,
    pub period: Period,
    pub price: Decimal,
    pub price_includes_vat: bool,
    pub vat_rate: Decimal,
    pub tariff_name: String,
}

#[derive(sqlx::FromRow)]
struct CandidateRow {
    subscription_id: i64,
    client_id: i64,
    client_number: String,
    client_name: String,
    invoice_group: String,
    billing_day: i64,
    due_days: Option<i64>,
    billing_from: String,
    billed_until: Option<String>,
    sub_period: Option<String>,
    tariff_period: String,
    price_override_minor: Option<i64>,
    price_minor: i64,
    price_includes_vat: i64,
    vat_rate: String,
    tariff_name: String,
}

/// One invoice line with the service period it charges.
#[derive(Debug, Clone, PartialEq)]
pub struct InvoiceLineRecord {
    pub line: Line,
    pub subscription_id: Option<i64>,
    pub period: Option<(NaiveDate, NaiveDate)>,
}

/// An invoice ready to be issued (or, in a dry run, shown).
#[derive(Debug, Clone, PartialEq)]
pub struct InvoiceDraft {
    pub client_id: i64,
    pub client_number: String,
    pub client_name: String,
    pub invoice_group: String,
    pub issue_date: NaiveDate,
    pub taxable_supply_date: NaiveDate,
    pub due_date: NaiveDate,
    pub variable_symbol: String,
    pub currency: String,
    pub lines: Vec<InvoiceLineRecord>,
    pub totals: Totals,
    /// Subscriptions and the last day this invoice charges them.
    pub billed_until: Vec<(i64, NaiveDate)>,
}

/// A stored invoice.
#[derive(Debug, Clone, PartialEq)]
pub struct InvoiceRecord {
    pub number: String,
    pub kind: DocumentKind,
    pub draft: InvoiceDraft,
    pub state: String,
}

impl Store {
    /// Every subscription that can still be charged, with its client and tariff.
    pub async fn billing_candidates(&self) -> StoreResult<Vec<BillingCandidate>> {
        let rows: Vec<CandidateRow> = sqlx::query_as(
            "SELECT s.id AS subscription_id, c.id AS client_id, c.number AS client_number,
                c.name AS client_name, c.invoice_group, c.billing_day, c.due_days,
                s.billing_from, s.billed_until, s.period AS sub_period,
                t.period AS tariff_period, s.price_override_minor, t.price_minor,
                t.price_includes_vat, t.vat_rate, t.name AS tariff_name
             FROM subscription s JOIN client c ON c.id = s.client_id
             JOIN tariff t ON t.id = s.tariff_id
             WHERE s.state <> 'ended' ORDER BY c.id, s.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                let period_text = r.sub_period.as_deref().unwrap_or(&r.tariff_period);
                Ok(BillingCandidate {
                    subscription_id: r.subscription_id,
                    client_id: r.client_id,
                    client_number: r.client_number,
                    client_name: r.client_name,
                    invoice_group: r.invoice_group,
                    billing_day: u32::try_from(r.billing_day).unwrap_or(1),
                    due_days: r.due_days.and_then(|d| u32::try_from(d).ok()),
                    billing_from: parse_date("billing_from", &r.billing_from)?,
                    billed_until: parse_opt_date("billed_until", r.billed_until)?,
                    period: Period::parse(period_text)
                        .ok_or_else(|| corrupt(format!("period {period_text:?}")))?,
                    price: money::from_minor_units(r.price_override_minor.unwrap_or(r.price_minor)),
                    price_includes_vat: r.price_includes_vat != 0,
                    vat_rate: r
                        .vat_rate
                        .parse()
                        .map_err(|_| corrupt(format!("vat rate {:?}", r.vat_rate)))?,
                    tariff_name: r.tariff_name,
                })
            })
            .collect()
    }

    /// Issues one invoice: allocates the next number of its group's series for the issue
    /// year, stores the document with a snapshot of the client, and moves the subscriptions'
    /// billed-until, all in one transaction. `None` when another run already billed these
    /// periods (nothing is stored and no number is used).
    pub async fn issue_invoice(
        &self,
        actor: &Actor,
        draft: &InvoiceDraft,
        number_format: &str,
    ) -> StoreResult<Option<String>> {
        let mut tx = self.write_tx().await?;
        for (subscription, until) in &draft.billed_until {
            let moved = sqlx::query(
                "UPDATE subscription SET billed_until = $1
                 WHERE id = $2 AND (billed_until IS NULL OR billed_until < $1)",
            )
            .bind(date_text(*until))
            .bind(*subscription)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved == 0 {
                return Ok(None);
            }
        }
        let number = Self::allocate_number(
            &mut tx,
            &draft.invoice_group,
            DocumentKind::Invoice,
            draft.issue_date.year(),
            number_format,
        )
        .await?;
        let client = Self::client_snapshot(&mut tx, draft.client_id).await?;
        let minor = |field: &str, amount: Decimal| money::to_minor_units(field, amount);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO invoice (number, invoice_group, client_id, client_snapshot_json,
                issue_date, taxable_supply_date, due_date, variable_symbol, currency, net_minor,
                vat_minor, gross_minor, state, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'unpaid', $13) RETURNING id",
        )
        .bind(number.clone())
        .bind(draft.invoice_group.clone())
        .bind(draft.client_id)
        .bind(client)
        .bind(date_text(draft.issue_date))
        .bind(date_text(draft.taxable_supply_date))
        .bind(date_text(draft.due_date))
        .bind(draft.variable_symbol.clone())
        .bind(draft.currency.clone())
        .bind(minor("invoice.net", draft.totals.net)?)
        .bind(minor("invoice.vat", draft.totals.vat)?)
        .bind(minor("invoice.gross", draft.totals.gross)?)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        for (position, l) in draft.lines.iter().enumerate() {
            sqlx::query(
                "INSERT INTO invoice_line (invoice_id, position, description, quantity,
                    unit_price_minor, vat_rate, net_minor, vat_minor, gross_minor,
                    subscription_id, period_from, period_to)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(id)
            .bind(position as i64)
            .bind(l.line.description.clone())
            .bind(l.line.quantity.normalize().to_string())
            .bind(minor("invoice.line.unit_price", l.line.unit_price)?)
            .bind(l.line.vat_rate.normalize().to_string())
            .bind(minor("invoice.line.net", l.line.net)?)
            .bind(minor("invoice.line.vat", l.line.vat)?)
            .bind(minor("invoice.line.gross", l.line.gross)?)
            .bind(l.subscription_id)
            .bind(l.period.map(|p| date_text(p.0)))
            .bind(l.period.map(|p| date_text(p.1)))
            .execute(&mut *tx)
            .await?;
        }
        let summary = serde_json::json!({
            "number": number,
            "gross": draft.totals.gross.to_string(),
            "currency": draft.currency,
            "lines": draft.lines.len(),
        });
        record_audit(
            &mut tx,
            actor,
            "invoice.issue",
            "invoice",
            &number,
            Some(&draft.client_number),
            None,
            Some(summary.to_string()),
        )
        .await?;
        tx.commit().await?;
        Ok(Some(number))
    }

    /// Takes the next number of a group's series for one document kind and year. Must run
    /// inside the transaction that stores the document, so a rollback returns the number
    /// and concurrent issuers queue on the series row: no gaps, no duplicates.
    pub(crate) async fn allocate_number(
        conn: &mut AnyConnection,
        invoice_group: &str,
        kind: DocumentKind,
        year: i32,
        number_format: &str,
    ) -> StoreResult<String> {
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO document_series (invoice_group, kind, year, last_seq)
             VALUES ($1, $2, $3, 1)
             ON CONFLICT (invoice_group, kind, year)
             DO UPDATE SET last_seq = document_series.last_seq + 1
             RETURNING last_seq",
        )
        .bind(invoice_group.to_owned())
        .bind(kind.as_str())
        .bind(i64::from(year))
        .fetch_one(&mut *conn)
        .await?;
        ispd_billing::invoice::format_number(number_format, year, u64::try_from(seq).unwrap_or(0))
            .map_err(|e| StoreError::Precondition(e.to_string()))
    }

    pub(super) async fn client_snapshot(
        conn: &mut AnyConnection,
        client_id: i64,
    ) -> StoreResult<String> {
        let number: String = sqlx::query_scalar("SELECT number FROM client WHERE id = $1")
            .bind(client_id)
            .fetch_one(&mut *conn)
            .await?;
        let mut client = Self::client_by_number(conn, &number).await?;
        // Internal notes are for operators, never printed on a document.
        client.note.clear();
        client.internal_note_1.clear();
        client.internal_note_2.clear();
        serde_json::to_string(&client).map_err(|e| corrupt(e.to_string()))
    }

    /// A client's invoices, newest first.
    pub async fn list_invoices(&self, client_number: &str) -> StoreResult<Vec<InvoiceRecord>> {
        let numbers: Vec<String> = sqlx::query_scalar(
            "SELECT i.number FROM invoice i JOIN client c ON c.id = i.client_id
             WHERE c.number = $1 ORDER BY i.issue_date DESC, i.id DESC",
        )
        .bind(client_number.to_owned())
        .fetch_all(&self.pool)
        .await?;
        let mut invoices = Vec::with_capacity(numbers.len());
        for number in numbers {
            invoices.push(self.get_invoice(&number).await?);
        }
        Ok(invoices)
    }

    pub async fn get_invoice(&self, number: &str) -> StoreResult<InvoiceRecord> {
        type Head = (
            i64,
            String,
            i64,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
        );
        let head: Head = sqlx::query_as(
            "SELECT i.id, i.invoice_group, i.client_id, c.number, i.client_snapshot_json,
                i.issue_date, i.taxable_supply_date, i.due_date, i.variable_symbol, i.currency,
                i.state, i.kind
             FROM invoice i JOIN client c ON c.id = i.client_id WHERE i.number = $1",
        )
        .bind(number.to_owned())
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            entity: "invoice",
            key: number.to_owned(),
        })?;
        let (
            id,
            group,
            client_id,
            client_number,
            snapshot,
            issue,
            taxable,
            due,
            vs,
            currency,
            state,
            kind,
        ) = head;
        type LineRow = (
            String,
            String,
            i64,
            String,
            i64,
            i64,
            i64,
            Option<i64>,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<LineRow> = sqlx::query_as(
            "SELECT description, quantity, unit_price_minor, vat_rate, net_minor, vat_minor,
                gross_minor, subscription_id, period_from, period_to
             FROM invoice_line WHERE invoice_id = $1 ORDER BY position",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let decimal = |text: &str| {
            text.parse::<Decimal>()
                .map_err(|_| corrupt(format!("invoice {number}: {text:?}")))
        };
        let mut lines = Vec::with_capacity(rows.len());
        for (description, quantity, unit, rate, net, vat, gross, sub, from, to) in rows {
            let period = match (from, to) {
                (Some(f), Some(t)) => {
                    Some((parse_date("period_from", &f)?, parse_date("period_to", &t)?))
                }
                _ => None,
            };
            lines.push(InvoiceLineRecord {
                line: Line {
                    description,
                    quantity: decimal(&quantity)?,
                    unit_price: money::from_minor_units(unit),
                    vat_rate: decimal(&rate)?,
                    net: money::from_minor_units(net),
                    vat: money::from_minor_units(vat),
                    gross: money::from_minor_units(gross),
                },
                subscription_id: sub,
                period,
            });
        }
        let client_name = serde_json::from_str::<serde_json::Value>(&snapshot)
            .ok()
            .and_then(|v| v["name"].as_str().map(str::to_owned))
            .unwrap_or_default();
        let plain: Vec<Line> = lines.iter().map(|l| l.line.clone()).collect();
        Ok(InvoiceRecord {
            number: number.to_owned(),
            kind: DocumentKind::parse(&kind)
                .ok_or_else(|| corrupt(format!("invoice {number}: kind {kind:?}")))?,
            draft: InvoiceDraft {
                client_id,
                client_number,
                client_name,
                invoice_group: group,
                issue_date: parse_date("issue_date", &issue)?,
                taxable_supply_date: parse_date("taxable_supply_date", &taxable)?,
                due_date: parse_date("due_date", &due)?,
                variable_symbol: vs,
                currency,
                totals: ispd_billing::invoice::totals(&plain),
                lines,
                billed_until: Vec::new(),
            },
            state,
        })
    }
}

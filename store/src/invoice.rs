//! Invoices: issuing one document atomically (number allocation, document, lines,
//! billed-until) so concurrent runs can never leave a gap or a duplicate; what a cancellation
//! reads and writes (the rules are `ispd_billing::cancellation`'s); reading.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use ispd_billing::credit_note::{self, Settled};
use ispd_billing::invoice::{Line, Totals};
use ispd_billing::money;
use rust_decimal::Decimal;
use sqlx::{AnyConnection, AssertSqlSafe};

use crate::statements::{Kind, Statements, Value};

pub use ispd_billing::document::DocumentKind;

use super::{
    Actor, Audit, Store, StoreError, StoreResult, WriteTx, corrupt, date_text, now, parse_date,
    parse_opt_date, parse_timestamp,
};

/// A line of a stored document, by document id and position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LineRef {
    pub invoice_id: i64,
    pub position: i64,
}

/// One document line with the service period it charges.
#[derive(Debug, Clone, PartialEq)]
pub struct InvoiceLineRecord {
    pub line: Line,
    pub subscription_id: Option<i64>,
    pub period: Option<(NaiveDate, NaiveDate)>,
    /// On a credit note: the line it reverses (marked so it is never reversed twice).
    pub reverses: Option<LineRef>,
}

/// A subscription's periods a document bills: its billed-until moves from `from`, as the draft
/// read it, to `until` — only while it is still `from`, so two documents drafted from one read
/// (an invoice issued on demand beside another, or beside the billing run) never both bill a
/// period; the later one is not issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BilledPeriods {
    pub subscription: i64,
    pub from: Option<NaiveDate>,
    pub until: NaiveDate,
}

/// A document ready to be issued (or, in a dry run, shown).
#[derive(Debug, Clone, PartialEq)]
pub struct InvoiceDraft {
    pub kind: DocumentKind,
    /// Credit note: the invoice it corrects; tax invoice: the pro-forma it settles.
    pub related_invoice_id: Option<i64>,
    /// The related document's number, for display.
    pub related_number: Option<String>,
    /// Why a credit note was issued; empty otherwise.
    pub note: String,
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
    /// Subscriptions and the periods this invoice charges them.
    pub billed_until: Vec<BilledPeriods>,
    /// One-off charges this document bills.
    pub charges: Vec<i64>,
}

impl InvoiceDraft {
    /// A document of `kind` for a client with nothing on it yet.
    pub fn empty(kind: DocumentKind, client: &ClientHead, issue_date: NaiveDate) -> Self {
        Self {
            kind,
            related_invoice_id: None,
            related_number: None,
            note: String::new(),
            client_id: client.client_id,
            client_number: client.client_number.clone(),
            client_name: client.client_name.clone(),
            invoice_group: client.invoice_group.clone(),
            issue_date,
            taxable_supply_date: issue_date,
            due_date: issue_date,
            variable_symbol: client.client_number.clone(),
            currency: String::new(),
            lines: Vec::new(),
            totals: ispd_billing::invoice::totals(&[]),
            billed_until: Vec::new(),
            charges: Vec::new(),
        }
    }

    /// Recomputes the totals from the lines (they are always the sums of the lines).
    pub fn total_up(&mut self) {
        let plain: Vec<Line> = self.lines.iter().map(|l| l.line.clone()).collect();
        self.totals = ispd_billing::invoice::totals(&plain);
    }
}

/// Who a document is for, as the billing run knows the client.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientHead {
    pub client_id: i64,
    pub client_number: String,
    pub client_name: String,
    pub invoice_group: String,
}

impl ClientHead {
    pub fn of(client: &ispd_billing::client::Client) -> Self {
        Self {
            client_id: client.id,
            client_number: client.number.clone(),
            client_name: client.name.clone(),
            invoice_group: client.invoicing.invoice_group.clone(),
        }
    }
}

/// A line still in force that charges part of a subscription's period: neither reversed nor
/// a reversal, on a document that counts (a pro-forma only until its tax invoice exists).
#[derive(Debug, Clone, PartialEq)]
pub struct LiveLine {
    pub at: LineRef,
    /// When the document that charges it was written: a price change recorded later
    /// reprices it (`ispd_billing::price_change::repriced`).
    pub invoiced_at: chrono::DateTime<chrono::Utc>,
    /// The invoice a correction of this line is issued against.
    pub root_invoice_id: i64,
    pub root_number: String,
    pub line: Line,
    pub period: (NaiveDate, NaiveDate),
}

/// A stored document.
#[derive(Debug, Clone, PartialEq)]
pub struct InvoiceRecord {
    pub id: i64,
    pub number: String,
    pub draft: InvoiceDraft,
    pub state: String,
    pub paid: Decimal,
    /// Cancelled by credit notes.
    pub credited: Decimal,
    /// The invoice group (supplier) as of issuing, JSON.
    pub supplier_json: String,
}

/// A document that was issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    pub id: i64,
    pub number: String,
}

impl Store {
    /// Issues one document atomically: moves the subscriptions' billed-until, allocates the
    /// next number of the group's series for the kind and year, stores the document with
    /// snapshots of the client and the supplier, marks reversed lines and billed one-off
    /// charges and records the audit entry. What the document settles (a credit note against
    /// its invoice, client credit against it) is the use case's (`app::settlement`). `None`
    /// when a concurrent run already did this work (nothing is stored and no number is used).
    pub async fn issue_document(
        &self,
        actor: &Actor,
        draft: &InvoiceDraft,
    ) -> StoreResult<Option<Issued>> {
        let mut tx = self.write_tx().await?;
        let Some(issued) = Self::issue_in(&mut tx, actor, draft).await? else {
            return Ok(None);
        };
        tx.commit().await?;
        Ok(Some(issued))
    }

    /// [`Store::issue_document`] inside a use case's transaction.
    pub async fn issue_document_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        draft: &InvoiceDraft,
    ) -> StoreResult<Option<Issued>> {
        Self::issue_in(tx.conn(), actor, draft).await
    }

    /// Issues one document inside the caller's transaction: its periods claimed, a number
    /// from its series, the document and its lines, its one-off charges billed, the audit
    /// record. `None` when another run got there first.
    pub(crate) async fn issue_in(
        conn: &mut AnyConnection,
        actor: &Actor,
        draft: &InvoiceDraft,
    ) -> StoreResult<Option<Issued>> {
        if !Self::claim_periods(conn, draft).await? {
            return Ok(None);
        }
        let number = if draft.kind == DocumentKind::OpeningBalance {
            // One per client, outside the tax documents' series.
            format!("OB-{}", draft.client_number)
        } else {
            let format = Self::number_format(conn, &draft.invoice_group, draft.kind).await?;
            let year = draft.issue_date.year();
            Self::allocate_number(conn, year, &format).await?
        };
        let id = Self::insert_document(conn, draft, &number).await?;
        if !Self::insert_document_lines(conn, id, draft).await? {
            return Ok(None);
        }
        if !Self::bill_charges(conn, id, draft).await? {
            return Ok(None);
        }
        let summary = IssueSummary::of(draft, &number);
        Audit::new(
            &format!("{}.issue", draft.kind.as_str()),
            "invoice",
            &number,
        )
        .client(&draft.client_number)
        .after(&summary)
        .record(conn, actor)
        .await?;
        Ok(Some(Issued { id, number }))
    }

    /// Moves each subscription's billed-until forward; `false` when it is no longer where the
    /// draft read it (another document billed a period meanwhile; see [`BilledPeriods`]).
    async fn claim_periods(conn: &mut AnyConnection, draft: &InvoiceDraft) -> StoreResult<bool> {
        for billed in &draft.billed_until {
            let moved = sqlx::query(
                "UPDATE subscription SET billed_until = $1
                 WHERE id = $2 AND (billed_until = CAST($3 AS TEXT)
                    OR (billed_until IS NULL AND CAST($3 AS TEXT) IS NULL))",
            )
            .bind(date_text(billed.until))
            .bind(billed.subscription)
            .bind(billed.from.map(date_text))
            .execute(&mut *conn)
            .await?
            .rows_affected();
            if moved == 0 {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The document row, with the client's and the supplier's details as they are today.
    async fn insert_document(
        conn: &mut AnyConnection,
        draft: &InvoiceDraft,
        number: &str,
    ) -> StoreResult<i64> {
        let client = Self::client_snapshot(conn, draft.client_id).await?;
        let supplier = Self::supplier_snapshot(conn, &draft.invoice_group).await?;
        let minor = |field: &str, amount: Decimal| money::to_minor_units(field, amount);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO invoice (number, invoice_group, client_id, client_snapshot_json,
                issue_date, taxable_supply_date, due_date, variable_symbol, currency, net_minor,
                vat_minor, gross_minor, state, created_at, kind, related_invoice_id,
                supplier_snapshot_json, note)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                $17, $18)
             RETURNING id",
        )
        .bind(number.to_owned())
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
        .bind(
            credit_note::state_of(Settled {
                gross: draft.totals.gross,
                paid: Decimal::ZERO,
                credited: Decimal::ZERO,
            })
            .as_str(),
        )
        .bind(now())
        .bind(draft.kind.as_str())
        .bind(draft.related_invoice_id)
        .bind(supplier)
        .bind(draft.note.clone())
        .fetch_one(&mut *conn)
        .await?;
        Ok(id)
    }

    /// The document's lines; a reversing line marks the line it reverses. `false` when that
    /// line was reversed meanwhile by another credit note.
    async fn insert_document_lines(
        conn: &mut AnyConnection,
        id: i64,
        draft: &InvoiceDraft,
    ) -> StoreResult<bool> {
        for (position, l) in draft.lines.iter().enumerate() {
            if let Some(original) = l.reverses {
                let marked = sqlx::query(
                    "UPDATE invoice_line SET reversed_by = $1
                     WHERE invoice_id = $2 AND position = $3 AND reversed_by IS NULL",
                )
                .bind(id)
                .bind(original.invoice_id)
                .bind(original.position)
                .execute(&mut *conn)
                .await?
                .rows_affected();
                if marked == 0 {
                    // Reversed meanwhile by another credit note.
                    return Ok(false);
                }
            }
            let mut values = line_values(id, position, l)?;
            // A reversal and the line it reverses cancel out: neither is in force any more.
            values.push(Value::from(l.reverses.map(|_| id)));
            Statements::execute(
                conn,
                "INSERT INTO invoice_line (invoice_id, position, description, quantity,
                    unit_price_minor, vat_rate, net_minor, vat_minor, gross_minor,
                    subscription_id, period_from, period_to, reversed_by)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                values,
            )
            .await?;
        }
        Ok(true)
    }

    /// Links the one-off charges to the document; `false` when one was billed meanwhile.
    async fn bill_charges(
        conn: &mut AnyConnection,
        id: i64,
        draft: &InvoiceDraft,
    ) -> StoreResult<bool> {
        for charge in &draft.charges {
            let billed = sqlx::query(
                "UPDATE one_off_charge SET invoice_id = $1 WHERE id = $2 AND invoice_id IS NULL",
            )
            .bind(id)
            .bind(*charge)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            if billed == 0 {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Takes the next number of the series of `number_format` (a series is its pattern: every
    /// group and kind numbering with it shares it; per year when the pattern names the year).
    /// Must run inside the transaction that stores the document, so a rollback returns the
    /// number and concurrent issuers queue on the series row: no gaps, no duplicates.
    pub(crate) async fn allocate_number(
        conn: &mut AnyConnection,
        year: i32,
        number_format: &str,
    ) -> StoreResult<String> {
        let invalid =
            |e: ispd_billing::invoice::NumberFormatError| StoreError::Precondition(e.to_string());
        let series_year =
            ispd_billing::invoice::series_year(number_format, year).map_err(invalid)?;
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO number_series (pattern, year, last_seq)
             VALUES ($1, $2, 1)
             ON CONFLICT (pattern, year)
             DO UPDATE SET last_seq = number_series.last_seq + 1
             RETURNING last_seq",
        )
        .bind(number_format.to_owned())
        .bind(i64::from(series_year))
        .fetch_one(&mut *conn)
        .await?;
        ispd_billing::invoice::format_number(number_format, year, u64::try_from(seq).unwrap_or(0))
            .map_err(invalid)
    }

    /// Document `number`, inside a use case's transaction.
    pub async fn document_by_number_in(
        &self,
        tx: &mut WriteTx,
        number: &str,
    ) -> StoreResult<InvoiceRecord> {
        let conn = tx.conn();
        let id = Self::document_id(conn, number).await?;
        Self::invoice_by_id(conn, id).await
    }

    async fn document_id(conn: &mut AnyConnection, number: &str) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT id FROM invoice WHERE number = $1")
            .bind(number.to_owned())
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| StoreError::not_found("invoice", number.to_owned()))
    }

    /// The number of the tax invoice that follows document `id` (a paid pro-forma's).
    pub async fn tax_invoice_of_in(
        &self,
        tx: &mut WriteTx,
        id: i64,
    ) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT number FROM invoice WHERE related_invoice_id = $1 AND kind = 'invoice'",
        )
        .bind(id)
        .fetch_optional(tx.conn())
        .await?)
    }

    /// The lines still in force on document `id` and on the credit notes correcting it —
    /// those nothing has reversed yet — each with where it is stored.
    pub async fn lines_in_force_in(
        &self,
        tx: &mut WriteTx,
        id: i64,
    ) -> StoreResult<Vec<(LineRef, InvoiceLineRecord)>> {
        let rows: Vec<LineRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {LINE_COLUMNS}
             FROM invoice_line l JOIN invoice i ON i.id = l.invoice_id
             WHERE l.reversed_by IS NULL
                AND (i.id = $1 OR (i.kind = 'credit_note' AND i.related_invoice_id = $1))
             ORDER BY l.invoice_id, l.position"
        )))
        .bind(id)
        .fetch_all(tx.conn())
        .await?;
        rows.into_iter().map(LineRow::into_record).collect()
    }

    /// Each of `subscriptions`' billed-until (`None`: never billed).
    pub async fn billed_until_in(
        &self,
        tx: &mut WriteTx,
        subscriptions: &[i64],
    ) -> StoreResult<HashMap<i64, Option<NaiveDate>>> {
        let conn = tx.conn();
        let mut billed = HashMap::with_capacity(subscriptions.len());
        for &sub in subscriptions {
            let until: Option<String> =
                sqlx::query_scalar("SELECT billed_until FROM subscription WHERE id = $1")
                    .bind(sub)
                    .fetch_one(&mut *conn)
                    .await?;
            billed.insert(sub, parse_opt_date("billed_until", until)?);
        }
        Ok(billed)
    }

    /// Sets each subscription's billed-until (a cancellation that bills the periods again).
    pub async fn set_billed_until_in(
        &self,
        tx: &mut WriteTx,
        billed: &[(i64, Option<NaiveDate>)],
    ) -> StoreResult<()> {
        let conn = tx.conn();
        for &(sub, until) in billed {
            sqlx::query("UPDATE subscription SET billed_until = $1 WHERE id = $2")
                .bind(until.map(date_text))
                .bind(sub)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    /// A subscription's live period lines charging days from `from` on.
    pub async fn live_period_lines(
        &self,
        subscription: i64,
        from: NaiveDate,
    ) -> StoreResult<Vec<LiveLine>> {
        // A document whose tax invoice exists is represented by that tax invoice.
        let followed = |doc: &str| {
            format!(
                "EXISTS (SELECT 1 FROM invoice t WHERE t.related_invoice_id = {doc}
                    AND t.kind = 'invoice')"
            )
        };
        let sql = format!(
            "SELECT {LINE_COLUMNS}, COALESCE(r.id, i.id) AS root_id,
                COALESCE(r.number, i.number) AS root_number, i.created_at AS invoiced_at
             FROM invoice_line l JOIN invoice i ON i.id = l.invoice_id
             LEFT JOIN invoice r ON r.id = i.related_invoice_id AND i.kind = 'credit_note'
             WHERE l.subscription_id = $1 AND l.reversed_by IS NULL AND l.period_to >= $2
                AND (i.kind = 'invoice'
                    OR (i.kind = 'proforma' AND NOT {})
                    OR (i.kind = 'credit_note' AND NOT (r.kind = 'proforma' AND {})))
             ORDER BY l.invoice_id, l.position",
            followed("i.id"),
            followed("r.id"),
        );
        let rows: Vec<LiveRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(subscription)
            .bind(date_text(from))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|row| {
                let (at, record) = row.line.into_record()?;
                let period = record
                    .period
                    .ok_or_else(|| corrupt(format!("invoice line {at:?}: no period")))?;
                Ok(LiveLine {
                    at,
                    invoiced_at: parse_timestamp("invoice.created_at", &row.invoiced_at)?,
                    root_invoice_id: row.root_id,
                    root_number: row.root_number,
                    line: record.line,
                    period,
                })
            })
            .collect()
    }

    /// The group's number pattern for a document kind, else the kind's default.
    pub(crate) async fn number_format(
        conn: &mut impl Statements,
        invoice_group: &str,
        kind: DocumentKind,
    ) -> StoreResult<String> {
        let column = match kind {
            DocumentKind::Invoice => "invoice_number_format",
            DocumentKind::CreditNote => "credit_note_number_format",
            DocumentKind::Proforma => "proforma_number_format",
            DocumentKind::DebitNote => "debit_note_number_format",
            DocumentKind::OpeningBalance => return Ok(kind.default_number_format().to_owned()),
        };
        let sql = format!("SELECT {column} FROM invoice_group WHERE code = $1");
        let rows = conn
            .rows(&sql, vec![Value::from(invoice_group)], &[Kind::Text])
            .await?;
        Ok(rows
            .into_iter()
            .next()
            .and_then(|row| row.into_iter().next()?.into_text())
            .unwrap_or_else(|| kind.default_number_format().to_owned()))
    }

    /// The supplier block of a document: the invoice group as of issuing.
    pub(super) async fn supplier_snapshot(
        conn: &mut impl Statements,
        invoice_group: &str,
    ) -> StoreResult<String> {
        const COLUMNS: [&str; 12] = [
            "name",
            "street",
            "postcode",
            "city",
            "country",
            "company_id",
            "vat_id",
            "bank_account",
            "iban",
            "bic",
            "email",
            "phone",
        ];
        let sql = format!(
            "SELECT {} FROM invoice_group WHERE code = $1",
            COLUMNS.join(", ")
        );
        let rows = conn
            .rows(&sql, vec![Value::from(invoice_group)], &[Kind::Text; 12])
            .await?;
        let Some(row) = rows.into_iter().next() else {
            return Ok("{}".to_owned());
        };
        let mut snapshot = serde_json::Map::new();
        snapshot.insert("code".to_owned(), invoice_group.into());
        for (column, value) in COLUMNS.into_iter().zip(row) {
            snapshot.insert(
                column.to_owned(),
                value.into_text().unwrap_or_default().into(),
            );
        }
        Ok(serde_json::Value::Object(snapshot).to_string())
    }

    pub(super) async fn client_snapshot(
        conn: &mut impl Statements,
        client_id: i64,
    ) -> StoreResult<String> {
        Ok(Self::client_snapshots(conn, &[client_id])
            .await?
            .remove(&client_id)
            .unwrap_or_else(|| "{}".to_owned()))
    }

    /// The client block of documents as of issuing, JSON per client id: who is billed and
    /// where (never the operators' internal notes).
    pub(super) async fn client_snapshots(
        conn: &mut impl Statements,
        ids: &[i64],
    ) -> StoreResult<HashMap<i64, String>> {
        const KINDS: [Kind; 14] = {
            let mut kinds = [Kind::Text; 14];
            kinds[0] = Kind::Int;
            kinds
        };
        let mut snapshots = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(super::rows_per_statement(1)) {
            let sql = format!(
                "SELECT id, number, kind, name, name2, street, postcode, city, country,
                    company_id, vat_id, email, invoice_email, phone
                 FROM client WHERE id IN ({})",
                conn.placeholders().list(chunk.len())
            );
            let params = chunk.iter().map(|&id| Value::from(id)).collect();
            for row in conn.rows(&sql, params, &KINDS).await? {
                let mut row = row.into_iter();
                let id = row.next().and_then(|v| v.int()).unwrap_or_default();
                let mut text = || row.next().and_then(Value::into_text).unwrap_or_default();
                let (number, kind, name, name2) = (text(), text(), text(), text());
                let (street, postcode, city, country) = (text(), text(), text(), text());
                let snapshot = ClientSnapshot {
                    number,
                    kind,
                    name,
                    name2,
                    address: AddressSnapshot {
                        street,
                        postcode,
                        city,
                        country,
                    },
                    company_id: text(),
                    vat_id: text(),
                    email: text(),
                    invoice_email: text(),
                    phone: text(),
                };
                snapshots.insert(
                    id,
                    serde_json::to_string(&snapshot)
                        .map_err(|e| StoreError::Precondition(e.to_string()))?,
                );
            }
        }
        Ok(snapshots)
    }

    /// A client's documents, newest first.
    pub async fn list_invoices(&self, client_number: &str) -> StoreResult<Vec<InvoiceRecord>> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT i.id FROM invoice i JOIN client c ON c.id = i.client_id
             WHERE c.number = $1 ORDER BY i.issue_date DESC, i.id DESC",
        )
        .bind(client_number.to_owned())
        .fetch_all(&self.pool)
        .await?;
        let mut conn = self.pool.acquire().await?;
        let mut invoices = Vec::with_capacity(ids.len());
        for id in ids {
            invoices.push(Self::invoice_by_id(&mut conn, id).await?);
        }
        Ok(invoices)
    }

    pub async fn get_invoice(&self, number: &str) -> StoreResult<InvoiceRecord> {
        let mut conn = self.pool.acquire().await?;
        let id = Self::document_id(&mut conn, number).await?;
        Self::invoice_by_id(&mut conn, id).await
    }

    /// The documents with these ids, in the order given, read on one connection.
    pub async fn invoices_by_id(&self, ids: &[i64]) -> StoreResult<Vec<InvoiceRecord>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.pool.acquire().await?;
        let mut invoices = Vec::with_capacity(ids.len());
        for &id in ids {
            invoices.push(Self::invoice_by_id(&mut conn, id).await?);
        }
        Ok(invoices)
    }

    pub(crate) async fn invoice_by_id(
        conn: &mut AnyConnection,
        id: i64,
    ) -> StoreResult<InvoiceRecord> {
        let head: DocumentRow = sqlx::query_as(
            "SELECT i.number, i.kind, i.invoice_group, i.client_id, c.number AS client_number,
                i.client_snapshot_json, i.supplier_snapshot_json, i.issue_date,
                i.taxable_supply_date, i.due_date, i.variable_symbol, i.currency, i.state,
                i.paid_minor, i.credited_minor, i.related_invoice_id, r.number AS related_number,
                i.note
             FROM invoice i JOIN client c ON c.id = i.client_id
             LEFT JOIN invoice r ON r.id = i.related_invoice_id
             WHERE i.id = $1",
        )
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
        let rows: Vec<LineRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {LINE_COLUMNS} FROM invoice_line l WHERE l.invoice_id = $1 ORDER BY l.position"
        )))
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        let lines = rows
            .into_iter()
            .map(|row| Ok(row.into_record()?.1))
            .collect::<StoreResult<Vec<_>>>()?;
        let client_name = serde_json::from_str::<serde_json::Value>(&head.client_snapshot_json)
            .ok()
            .and_then(|v| v["name"].as_str().map(str::to_owned))
            .unwrap_or_default();
        let kind = DocumentKind::parse(&head.kind)
            .ok_or_else(|| corrupt(format!("invoice {}: kind {:?}", head.number, head.kind)))?;
        let mut draft = InvoiceDraft {
            kind,
            related_invoice_id: head.related_invoice_id,
            related_number: head.related_number,
            note: head.note,
            client_id: head.client_id,
            client_number: head.client_number,
            client_name,
            invoice_group: head.invoice_group,
            issue_date: parse_date("issue_date", &head.issue_date)?,
            taxable_supply_date: parse_date("taxable_supply_date", &head.taxable_supply_date)?,
            due_date: parse_date("due_date", &head.due_date)?,
            variable_symbol: head.variable_symbol,
            currency: head.currency,
            totals: ispd_billing::invoice::totals(&[]),
            lines,
            billed_until: Vec::new(),
            charges: Vec::new(),
        };
        draft.total_up();
        Ok(InvoiceRecord {
            id,
            number: head.number,
            draft,
            state: head.state,
            paid: money::from_minor_units(head.paid_minor),
            credited: money::from_minor_units(head.credited_minor),
            supplier_json: head.supplier_snapshot_json,
        })
    }
}

/// The columns of a stored line, as `LINE_COLUMNS` selects them.
const LINE_COLUMNS: &str = "l.invoice_id, l.position, l.description, l.quantity,
    l.unit_price_minor, l.vat_rate, l.net_minor, l.vat_minor, l.gross_minor, l.subscription_id,
    l.period_from, l.period_to";

#[derive(sqlx::FromRow)]
struct LineRow {
    invoice_id: i64,
    position: i64,
    description: String,
    quantity: String,
    unit_price_minor: i64,
    vat_rate: String,
    net_minor: i64,
    vat_minor: i64,
    gross_minor: i64,
    subscription_id: Option<i64>,
    period_from: Option<String>,
    period_to: Option<String>,
}

impl LineRow {
    fn into_record(self) -> StoreResult<(LineRef, InvoiceLineRecord)> {
        let at = LineRef {
            invoice_id: self.invoice_id,
            position: self.position,
        };
        let decimal = |text: &str| {
            text.parse::<Decimal>().map_err(|_| {
                corrupt(format!(
                    "invoice line {}/{}: {text:?}",
                    at.invoice_id, at.position
                ))
            })
        };
        let period = match (self.period_from, self.period_to) {
            (Some(f), Some(t)) => {
                Some((parse_date("period_from", &f)?, parse_date("period_to", &t)?))
            }
            _ => None,
        };
        let line = Line {
            quantity: decimal(&self.quantity)?,
            vat_rate: decimal(&self.vat_rate)?,
            description: self.description,
            unit_price: money::from_minor_units(self.unit_price_minor),
            net: money::from_minor_units(self.net_minor),
            vat: money::from_minor_units(self.vat_minor),
            gross: money::from_minor_units(self.gross_minor),
        };
        let record = InvoiceLineRecord {
            line,
            subscription_id: self.subscription_id,
            period,
            reverses: None,
        };
        Ok((at, record))
    }
}

#[derive(sqlx::FromRow)]
struct LiveRow {
    #[sqlx(flatten)]
    line: LineRow,
    root_id: i64,
    root_number: String,
    invoiced_at: String,
}

#[derive(sqlx::FromRow)]
struct DocumentRow {
    number: String,
    kind: String,
    invoice_group: String,
    client_id: i64,
    client_number: String,
    client_snapshot_json: String,
    supplier_snapshot_json: String,
    issue_date: String,
    taxable_supply_date: String,
    due_date: String,
    variable_symbol: String,
    currency: String,
    state: String,
    paid_minor: i64,
    credited_minor: i64,
    related_invoice_id: Option<i64>,
    related_number: Option<String>,
    note: String,
}

/// The twelve columns of an invoice line, in the order both line inserts name them.
pub(crate) fn line_values(
    invoice_id: i64,
    position: usize,
    l: &InvoiceLineRecord,
) -> StoreResult<Vec<Value<'_>>> {
    let minor = |field: &str, amount: Decimal| money::to_minor_units(field, amount);
    Ok(vec![
        Value::from(invoice_id),
        Value::from(position as i64),
        Value::from(l.line.description.as_str()),
        Value::from(l.line.quantity.normalize().to_string()),
        Value::from(minor("invoice.line.unit_price", l.line.unit_price)?),
        Value::from(l.line.vat_rate.normalize().to_string()),
        Value::from(minor("invoice.line.net", l.line.net)?),
        Value::from(minor("invoice.line.vat", l.line.vat)?),
        Value::from(minor("invoice.line.gross", l.line.gross)?),
        Value::from(l.subscription_id),
        Value::from(l.period.map(|p| date_text(p.0))),
        Value::from(l.period.map(|p| date_text(p.1))),
    ])
}

/// A client as its documents keep it. The fields stand in alphabetical order, as a
/// `serde_json` map writes its keys: the stored text is the same whichever way it was made.
#[derive(serde::Serialize)]
struct ClientSnapshot {
    address: AddressSnapshot,
    company_id: String,
    email: String,
    invoice_email: String,
    kind: String,
    name: String,
    name2: String,
    number: String,
    phone: String,
    vat_id: String,
}

#[derive(serde::Serialize)]
struct AddressSnapshot {
    city: String,
    country: String,
    postcode: String,
    street: String,
}

/// What the audit record of an issued document says of it, the same for one document
/// ([`Store::issue_in`]) and a batch (`invoice_batch`). Fields in alphabetical order, as a
/// `serde_json` map writes its keys.
#[derive(serde::Serialize)]
pub(super) struct IssueSummary<'a> {
    currency: &'a str,
    gross: String,
    kind: &'static str,
    lines: usize,
    number: &'a str,
    related: Option<&'a str>,
}

impl<'a> IssueSummary<'a> {
    pub(super) fn of(draft: &'a InvoiceDraft, number: &'a str) -> Self {
        Self {
            currency: &draft.currency,
            gross: draft.totals.gross.to_string(),
            kind: draft.kind.as_str(),
            lines: draft.lines.len(),
            number,
            related: draft.related_number.as_deref(),
        }
    }
}

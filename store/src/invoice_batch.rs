//! Issuing many documents in one transaction: the billing run's fast path. A durable commit
//! costs a disk flush; one per invoice would make a 100,000-client run take minutes. A batch
//! moves the billed-until dates, takes a block of numbers per series, and stores the documents,
//! their lines and their audit records with a few multi-row statements; what they settle is
//! the use case's. The guarantees are those of one document at a time: numbers
//! gap-free (a rolled-back batch returns its block), a period never billed twice (billed-until
//! moves only forward, inside the same transaction), all of a batch or none of it.
//!
//! The statements go through [`Statements`], so that a batch with nothing to settle runs on a
//! SQLite file's own connection ([`Store::issue_batch_alone`]): a thousand documents return
//! a thousand rows of ids and read a thousand clients, which sqlx's worker would hand across
//! threads one by one.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::Datelike;
use ispd_billing::money;
use rust_decimal::Decimal;

use super::invoice::{IssueSummary, line_values};
use super::settlement::clients_holding_credit;
use super::statements::{Kind, Statements, Value};
use super::tx::sealed::Conn as _;
use super::{
    Actor, DocumentKind, InvoiceDraft, Issued, Store, StoreError, StoreResult, WriteTx, date_text,
    now, rows_per_statement,
};

/// Per draft, its number and id once issued; `None` when a concurrent run had already billed
/// those periods.
pub type IssuedBatch = Vec<Option<Issued>>;

impl Store {
    /// Closes the connection of the store's own that [`Store::issue_batch_alone`] and
    /// [`Store::write_alone`] write on (the next bulk call opens it again), once the log its
    /// call wrote is copied into the database file — on a thread of its own, so the caller
    /// does not wait (see `own_write`). For the end of a bulk call: the connection keeps
    /// the run's multi-row statements prepared, and with its page cache that is about 20 MB
    /// resident after a 100,000-client run (`ispd-bench billing`: 47–58 MB after the run
    /// with it open, 28–33 MB closed) — held for nothing until next month's run. Never
    /// waits: while another run is writing a batch on it, that run closes it when it ends.
    pub fn close_batch_connection(&self) {
        let mut connection = match self.batch_connection.try_lock() {
            Ok(connection) => connection,
            Err(std::sync::TryLockError::Poisoned(e)) => e.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return,
        };
        if let Some(own) = connection.take() {
            own.close_after_checkpoint();
        }
    }

    /// Issues `drafts` (one per client at most) in the use case's transaction. Documents that
    /// reverse lines or bill one-off charges, and credit notes, take the one-at-a-time path
    /// first. What they settle is the use case's (`app::settlement`).
    pub async fn issue_batch_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        drafts: &[InvoiceDraft],
    ) -> StoreResult<IssuedBatch> {
        let tx = tx.conn();
        let mut issued: IssuedBatch = vec![None; drafts.len()];
        let (plain, special): (Vec<usize>, Vec<usize>) =
            (0..drafts.len()).partition(|&i| is_plain(&drafts[i]));
        // Credit notes first: the credit they return settles the client's new invoice.
        for &i in &special {
            issued[i] = Self::issue_in(tx, actor, &drafts[i]).await?;
        }
        issue_plain(tx, actor, drafts, plain, &mut issued).await?;
        Ok(issued)
    }

    /// Issues `drafts` in a transaction of their own when issuing is all they need: every one
    /// a new invoice or pro-forma of periods only ([`is_plain`]), and none of their clients
    /// holding credit, which the use case would settle against them in the same transaction.
    /// On a SQLite file it runs on a connection of the store's own, on a blocking thread.
    /// Returns the drafts, and `None` (nothing written) when the batch needs the general way
    /// (`begin_write`, [`Store::issue_batch_in`], settlement) — always on PostgreSQL, where
    /// the pool's connection is no slower.
    pub async fn issue_batch_alone(
        &self,
        actor: &Actor,
        drafts: Vec<InvoiceDraft>,
    ) -> StoreResult<(Vec<InvoiceDraft>, Option<IssuedBatch>)> {
        if !self.writes_alone() || !drafts.iter().all(is_plain) {
            return Ok((drafts, None));
        }
        let actor = actor.clone();
        self.write_alone(
            async move |tx| -> StoreResult<(Vec<InvoiceDraft>, Option<IssuedBatch>)> {
                let conn = &mut tx.conn();
                let clients: Vec<i64> = drafts.iter().map(|d| d.client_id).collect();
                if !clients_holding_credit(conn, &clients).await?.is_empty() {
                    return Ok((drafts, None));
                }
                let mut issued: IssuedBatch = vec![None; drafts.len()];
                let all = (0..drafts.len()).collect();
                issue_plain(conn, &actor, &drafts, all, &mut issued).await?;
                Ok((drafts, Some(issued)))
            },
            |(_, issued)| issued.is_some(),
        )
        .await
    }
}

/// A new document that only bills periods: the batch path. Credit notes, reversals and one-off
/// charges go one at a time ([`Store::issue_in`]).
fn is_plain(d: &InvoiceDraft) -> bool {
    d.kind != DocumentKind::CreditNote
        && d.charges.is_empty()
        && d.lines.iter().all(|l| l.reverses.is_none())
        && !d.billed_until.is_empty()
}

/// Issues the `plain` drafts with a few multi-row statements; each one issued goes into
/// `issued` at its index in `drafts`.
async fn issue_plain<S: Statements>(
    conn: &mut S,
    actor: &Actor,
    drafts: &[InvoiceDraft],
    plain: Vec<usize>,
    issued: &mut IssuedBatch,
) -> StoreResult<()> {
    let plain = move_billed_until(conn, drafts, plain).await?;
    let numbers = number_block(conn, drafts, &plain).await?;
    let clients: Vec<i64> = plain.iter().map(|&i| drafts[i].client_id).collect();
    let snapshots = Store::client_snapshots(conn, &clients).await?;
    let mut suppliers: HashMap<String, String> = HashMap::new();
    for &i in &plain {
        let group = &drafts[i].invoice_group;
        if !suppliers.contains_key(group) {
            let snapshot = Store::supplier_snapshot(conn, group).await?;
            suppliers.insert(group.clone(), snapshot);
        }
    }
    let mut ids: HashMap<String, i64> = HashMap::with_capacity(plain.len());
    for chunk in plain.chunks(rows_per_statement(16)) {
        let heads = Heads {
            drafts,
            numbers: &numbers,
            clients: &snapshots,
            suppliers: &suppliers,
        };
        ids.extend(heads.insert(conn, chunk).await?);
    }
    let rows: Vec<(i64, usize, usize)> = plain
        .iter()
        .flat_map(|&i| {
            let id = ids[&numbers[&i]];
            (0..drafts[i].lines.len()).map(move |position| (id, i, position))
        })
        .collect();
    for chunk in rows.chunks(rows_per_statement(12)) {
        insert_lines(conn, drafts, chunk).await?;
    }
    let audit = issue_audit(drafts, &plain, &numbers)?;
    super::record_audit_rows(conn, actor, "invoice", &audit).await?;
    for i in plain {
        let number = numbers[&i].clone();
        let id = ids[&number];
        issued[i] = Some(Issued { id, number });
    }
    Ok(())
}

/// Moves billed-until for every subscription the drafts charge, where it is still as each
/// draft read it ([`crate::BilledPeriods`]); keeps the drafts whose subscriptions all moved
/// (the others were billed by a concurrent run or document meanwhile).
async fn move_billed_until<S: Statements>(
    conn: &mut S,
    drafts: &[InvoiceDraft],
    plain: Vec<usize>,
) -> StoreResult<Vec<usize>> {
    let moves: Vec<(i64, String, Option<String>)> = plain
        .iter()
        .flat_map(|&i| drafts[i].billed_until.iter())
        .map(|b| (b.subscription, date_text(b.until), b.from.map(date_text)))
        .collect();
    let mut moved: HashSet<i64> = HashSet::with_capacity(moves.len());
    for chunk in moves.chunks(rows_per_statement(3)) {
        let sql = format!(
            "UPDATE subscription SET billed_until = v.column2
             FROM (VALUES {}) AS v
             WHERE subscription.id = v.column1
                AND (subscription.billed_until = v.column3
                    OR (subscription.billed_until IS NULL AND v.column3 IS NULL))
             RETURNING subscription.id",
            conn.placeholders()
                .rows(chunk.len(), &["BIGINT", "TEXT", "TEXT"])
        );
        let params = chunk
            .iter()
            .flat_map(|(sub, until, from)| {
                [
                    Value::from(*sub),
                    Value::from(until.as_str()),
                    Value::from(from.as_deref()),
                ]
            })
            .collect();
        for row in conn.rows(&sql, params, &[Kind::Int]).await? {
            moved.extend(row[0].int());
        }
    }
    let mut kept = Vec::with_capacity(plain.len());
    for i in plain {
        let subs = &drafts[i].billed_until;
        let count = subs
            .iter()
            .filter(|b| moved.contains(&b.subscription))
            .count();
        if count == subs.len() {
            kept.push(i);
        } else if count > 0 {
            // Half of a client's services billed by someone else: give up the batch (it
            // rolls back) rather than leave a period marked billed without its invoice.
            return Err(StoreError::Precondition(format!(
                "client {} was billed concurrently; run the billing again",
                drafts[i].client_number
            )));
        }
    }
    Ok(kept)
}

/// One block of numbers per series (a number pattern, and the year when it names one: see
/// [`Store::allocate_number`]), in draft order.
async fn number_block<S: Statements>(
    conn: &mut S,
    drafts: &[InvoiceDraft],
    plain: &[usize],
) -> StoreResult<HashMap<usize, String>> {
    let invalid =
        |e: ispd_billing::invoice::NumberFormatError| StoreError::Precondition(e.to_string());
    let mut formats: HashMap<(String, DocumentKind), String> = HashMap::new();
    let mut series: BTreeMap<(String, i64), Vec<(usize, i32)>> = BTreeMap::new();
    for &i in plain {
        let d = &drafts[i];
        let key = (d.invoice_group.clone(), d.kind);
        let format = match formats.get(&key) {
            Some(format) => format.clone(),
            None => {
                let format = Store::number_format(conn, &d.invoice_group, d.kind).await?;
                formats.insert(key, format.clone());
                format
            }
        };
        let year = d.issue_date.year();
        let series_year = ispd_billing::invoice::series_year(&format, year).map_err(invalid)?;
        series
            .entry((format, i64::from(series_year)))
            .or_default()
            .push((i, year));
    }
    let mut numbers = HashMap::with_capacity(plain.len());
    for ((format, series_year), members) in series {
        let count = i64::try_from(members.len()).unwrap_or(i64::MAX);
        let rows = conn
            .rows(
                "INSERT INTO number_series (pattern, year, last_seq)
                 VALUES ($1, $2, $3)
                 ON CONFLICT (pattern, year)
                 DO UPDATE SET last_seq = number_series.last_seq + $3
                 RETURNING last_seq",
                vec![
                    Value::from(format.as_str()),
                    Value::from(series_year),
                    Value::from(count),
                ],
                &[Kind::Int],
            )
            .await?;
        let last = rows
            .first()
            .and_then(|row| row[0].int())
            .ok_or_else(|| StoreError::Precondition("no number series came back".to_owned()))?;
        for (k, (i, year)) in members.into_iter().enumerate() {
            let seq = u64::try_from(last - count + 1 + k as i64).unwrap_or(0);
            let number =
                ispd_billing::invoice::format_number(&format, year, seq).map_err(invalid)?;
            numbers.insert(i, number);
        }
    }
    Ok(numbers)
}

/// What the documents' rows are made of.
struct Heads<'a> {
    drafts: &'a [InvoiceDraft],
    numbers: &'a HashMap<usize, String>,
    clients: &'a HashMap<i64, String>,
    suppliers: &'a HashMap<String, String>,
}

impl Heads<'_> {
    /// The documents of `chunk`; returns each one's number and id.
    async fn insert<S: Statements>(
        &self,
        conn: &mut S,
        chunk: &[usize],
    ) -> StoreResult<Vec<(String, i64)>> {
        let sql = format!(
            "INSERT INTO invoice (number, invoice_group, client_id, client_snapshot_json,
                issue_date, taxable_supply_date, due_date, variable_symbol, currency, net_minor,
                vat_minor, gross_minor, state, created_at, kind, supplier_snapshot_json)
             VALUES {} RETURNING number, id",
            conn.placeholders().rows(chunk.len(), &[""; 16])
        );
        let created = now();
        let minor = |field: &str, amount: Decimal| money::to_minor_units(field, amount);
        let mut values = Vec::with_capacity(chunk.len() * 16);
        for &i in chunk {
            let d = &self.drafts[i];
            let state = if d.totals.gross <= Decimal::ZERO {
                "paid"
            } else {
                "unpaid"
            };
            values.extend([
                Value::from(self.numbers[&i].as_str()),
                Value::from(d.invoice_group.as_str()),
                Value::from(d.client_id),
                Value::from(self.clients.get(&d.client_id).map_or("", String::as_str)),
                Value::from(date_text(d.issue_date)),
                Value::from(date_text(d.taxable_supply_date)),
                Value::from(date_text(d.due_date)),
                Value::from(d.variable_symbol.as_str()),
                Value::from(d.currency.as_str()),
                Value::from(minor("invoice.net", d.totals.net)?),
                Value::from(minor("invoice.vat", d.totals.vat)?),
                Value::from(minor("invoice.gross", d.totals.gross)?),
                Value::from(state),
                Value::from(created.as_str()),
                Value::from(d.kind.as_str()),
                Value::from(
                    self.suppliers
                        .get(&d.invoice_group)
                        .map_or("", String::as_str),
                ),
            ]);
        }
        conn.rows(&sql, values, &[Kind::Text, Kind::Int])
            .await?
            .into_iter()
            .map(|row| {
                let mut row = row.into_iter();
                match (
                    row.next().and_then(Value::into_text),
                    row.next().and_then(|v| v.int()),
                ) {
                    (Some(number), Some(id)) => Ok((number, id)),
                    _ => Err(StoreError::Precondition(
                        "an issued document came back without its number or id".to_owned(),
                    )),
                }
            })
            .collect()
    }
}

async fn insert_lines<S: Statements>(
    conn: &mut S,
    drafts: &[InvoiceDraft],
    chunk: &[(i64, usize, usize)],
) -> StoreResult<()> {
    let sql = format!(
        "INSERT INTO invoice_line (invoice_id, position, description, quantity,
            unit_price_minor, vat_rate, net_minor, vat_minor, gross_minor, subscription_id,
            period_from, period_to)
         VALUES {}",
        conn.placeholders().rows(chunk.len(), &[""; 12])
    );
    let mut values = Vec::with_capacity(chunk.len() * 12);
    for &(id, i, position) in chunk {
        values.extend(line_values(id, position, &drafts[i].lines[position])?);
    }
    Statements::execute(conn, &sql, values).await?;
    Ok(())
}

/// One audit row per document of the batch, as [`Store::issue_in`] writes them one by one.
fn issue_audit(
    drafts: &[InvoiceDraft],
    plain: &[usize],
    numbers: &HashMap<usize, String>,
) -> StoreResult<Vec<super::AuditRow>> {
    plain
        .iter()
        .map(|&i| {
            let (d, number) = (&drafts[i], &numbers[&i]);
            let summary = serde_json::to_string(&IssueSummary::of(d, number))
                .map_err(|e| StoreError::Precondition(e.to_string()))?;
            Ok((
                format!("{}.issue", d.kind.as_str()),
                number.clone(),
                Some(d.client_number.clone()),
                summary,
            ))
        })
        .collect()
}

//! Issuing many documents in one transaction: the billing run's fast path. A durable commit
//! costs a disk flush; one per invoice would make a 100,000-client run take minutes. A batch
//! moves the billed-until dates, takes a block of numbers per series, and stores the documents,
//! their lines and their audit records with a few multi-row statements; what they settle is
//! the use case's. The guarantees are those of one document at a time: numbers
//! gap-free (a rolled-back batch returns its block), a period never billed twice (billed-until
//! moves only forward, inside the same transaction), all of a batch or none of it.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::Datelike;
use ispd_billing::money;
use rust_decimal::Decimal;
use sqlx::{AnyConnection, AssertSqlSafe};

use super::invoice::bind_line;
use super::{
    Actor, DocumentKind, InvoiceDraft, Issued, Placeholders, Store, StoreResult, WriteTx,
    date_text, now, rows_per_statement,
};

impl Store {
    /// Issues `drafts` (one per client at most) in the use case's transaction. Documents that
    /// reverse lines or bill one-off charges, and credit notes, take the one-at-a-time path
    /// first. What they settle is the use case's (`app::settlement`). Returns, per draft, its
    /// number, or `None` when a concurrent run had already billed those periods.
    pub async fn issue_batch_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        drafts: &[InvoiceDraft],
    ) -> StoreResult<Vec<Option<Issued>>> {
        let tx = tx.conn();
        let mut issued: Vec<Option<Issued>> = vec![None; drafts.len()];
        let (plain, special): (Vec<usize>, Vec<usize>) = (0..drafts.len()).partition(|&i| {
            let d = &drafts[i];
            d.kind != DocumentKind::CreditNote
                && d.charges.is_empty()
                && d.lines.iter().all(|l| l.reverses.is_none())
                && !d.billed_until.is_empty()
        });
        // Credit notes first: the credit they return settles the client's new invoice.
        for &i in &special {
            issued[i] = Self::issue_in(tx, actor, &drafts[i]).await?;
        }
        let plain = Self::move_billed_until(tx, drafts, plain).await?;
        let numbers = Self::number_block(tx, drafts, &plain).await?;
        let clients: Vec<i64> = plain.iter().map(|&i| drafts[i].client_id).collect();
        let snapshots = Self::client_snapshots(tx, &clients).await?;
        let mut suppliers: HashMap<String, String> = HashMap::new();
        for &i in &plain {
            let group = &drafts[i].invoice_group;
            if !suppliers.contains_key(group) {
                let snapshot = Self::supplier_snapshot(tx, group).await?;
                suppliers.insert(group.clone(), snapshot);
            }
        }
        let mut ids: HashMap<String, i64> = HashMap::with_capacity(plain.len());
        for chunk in plain.chunks(rows_per_statement(16)) {
            ids.extend(
                Self::insert_heads(tx, drafts, chunk, &numbers, &snapshots, &suppliers).await?,
            );
        }
        let rows: Vec<(i64, usize, usize)> = plain
            .iter()
            .flat_map(|&i| {
                let id = ids[&numbers[&i]];
                (0..drafts[i].lines.len()).map(move |position| (id, i, position))
            })
            .collect();
        for chunk in rows.chunks(rows_per_statement(12)) {
            Self::insert_lines(tx, drafts, chunk).await?;
        }
        let audit = issue_audit(drafts, &plain, &numbers);
        super::record_audit_rows(tx, actor, "invoice", &audit).await?;
        for &i in &plain {
            let number = numbers[&i].clone();
            issued[i] = Some(Issued {
                id: ids[&number],
                number,
            });
        }
        Ok(issued)
    }

    /// Moves billed-until for every subscription the drafts charge; keeps the drafts whose
    /// subscriptions all moved (the others were billed by a concurrent run meanwhile).
    async fn move_billed_until(
        conn: &mut AnyConnection,
        drafts: &[InvoiceDraft],
        plain: Vec<usize>,
    ) -> StoreResult<Vec<usize>> {
        let moves: Vec<(i64, String)> = plain
            .iter()
            .flat_map(|&i| drafts[i].billed_until.iter())
            .map(|&(sub, until)| (sub, date_text(until)))
            .collect();
        let mut moved: HashSet<i64> = HashSet::with_capacity(moves.len());
        for chunk in moves.chunks(rows_per_statement(2)) {
            let sql = format!(
                "UPDATE subscription SET billed_until = v.column2
                 FROM (VALUES {}) AS v
                 WHERE subscription.id = v.column1
                    AND (subscription.billed_until IS NULL OR subscription.billed_until < v.column2)
                 RETURNING subscription.id",
                Placeholders::for_conn(conn).rows(chunk.len(), &["BIGINT", "TEXT"])
            );
            let mut query = sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql));
            for (sub, until) in chunk {
                query = query.bind(*sub).bind(until.clone());
            }
            moved.extend(query.fetch_all(&mut *conn).await?);
        }
        let mut kept = Vec::with_capacity(plain.len());
        for i in plain {
            let subs = &drafts[i].billed_until;
            let count = subs.iter().filter(|(s, _)| moved.contains(s)).count();
            if count == subs.len() {
                kept.push(i);
            } else if count > 0 {
                // Half of a client's services billed by someone else: give up the batch (it
                // rolls back) rather than leave a period marked billed without its invoice.
                return Err(super::StoreError::Precondition(format!(
                    "client {} was billed concurrently; run the billing again",
                    drafts[i].client_number
                )));
            }
        }
        Ok(kept)
    }

    /// One block of numbers per (group, kind, year) series, in draft order.
    async fn number_block(
        conn: &mut AnyConnection,
        drafts: &[InvoiceDraft],
        plain: &[usize],
    ) -> StoreResult<HashMap<usize, String>> {
        let mut series: BTreeMap<(String, &'static str, i32), Vec<usize>> = BTreeMap::new();
        for &i in plain {
            let d = &drafts[i];
            let key = (
                d.invoice_group.clone(),
                d.kind.as_str(),
                d.issue_date.year(),
            );
            series.entry(key).or_default().push(i);
        }
        let mut numbers = HashMap::with_capacity(plain.len());
        for ((group, kind, year), members) in series {
            let count = i64::try_from(members.len()).unwrap_or(i64::MAX);
            let last: i64 = sqlx::query_scalar(
                "INSERT INTO document_series (invoice_group, kind, year, last_seq)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (invoice_group, kind, year)
                 DO UPDATE SET last_seq = document_series.last_seq + $4
                 RETURNING last_seq",
            )
            .bind(group.clone())
            .bind(kind)
            .bind(i64::from(year))
            .bind(count)
            .fetch_one(&mut *conn)
            .await?;
            let kind = drafts[members[0]].kind;
            let format = Self::number_format(conn, &group, kind).await?;
            for (k, i) in members.into_iter().enumerate() {
                let seq = u64::try_from(last - count + 1 + k as i64).unwrap_or(0);
                let number = ispd_billing::invoice::format_number(&format, year, seq)
                    .map_err(|e| super::StoreError::Precondition(e.to_string()))?;
                numbers.insert(i, number);
            }
        }
        Ok(numbers)
    }

    async fn insert_heads(
        conn: &mut AnyConnection,
        drafts: &[InvoiceDraft],
        chunk: &[usize],
        numbers: &HashMap<usize, String>,
        clients: &HashMap<i64, String>,
        suppliers: &HashMap<String, String>,
    ) -> StoreResult<Vec<(String, i64)>> {
        let sql = format!(
            "INSERT INTO invoice (number, invoice_group, client_id, client_snapshot_json,
                issue_date, taxable_supply_date, due_date, variable_symbol, currency, net_minor,
                vat_minor, gross_minor, state, created_at, kind, supplier_snapshot_json)
             VALUES {} RETURNING number, id",
            Placeholders::for_conn(conn).rows(chunk.len(), &[""; 16])
        );
        let created = now();
        let mut query = sqlx::query_as::<_, (String, i64)>(AssertSqlSafe(sql));
        for &i in chunk {
            let d = &drafts[i];
            let minor = |field: &str, amount: Decimal| money::to_minor_units(field, amount);
            let state = if d.totals.gross <= Decimal::ZERO {
                "paid"
            } else {
                "unpaid"
            };
            query = query
                .bind(numbers[&i].clone())
                .bind(d.invoice_group.clone())
                .bind(d.client_id)
                .bind(clients.get(&d.client_id).cloned().unwrap_or_default())
                .bind(date_text(d.issue_date))
                .bind(date_text(d.taxable_supply_date))
                .bind(date_text(d.due_date))
                .bind(d.variable_symbol.clone())
                .bind(d.currency.clone())
                .bind(minor("invoice.net", d.totals.net)?)
                .bind(minor("invoice.vat", d.totals.vat)?)
                .bind(minor("invoice.gross", d.totals.gross)?)
                .bind(state)
                .bind(created.clone())
                .bind(d.kind.as_str())
                .bind(suppliers.get(&d.invoice_group).cloned().unwrap_or_default());
        }
        Ok(query.fetch_all(&mut *conn).await?)
    }

    async fn insert_lines(
        conn: &mut AnyConnection,
        drafts: &[InvoiceDraft],
        chunk: &[(i64, usize, usize)],
    ) -> StoreResult<()> {
        let sql = format!(
            "INSERT INTO invoice_line (invoice_id, position, description, quantity,
                unit_price_minor, vat_rate, net_minor, vat_minor, gross_minor, subscription_id,
                period_from, period_to)
             VALUES {}",
            Placeholders::for_conn(conn).rows(chunk.len(), &[""; 12])
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for &(id, i, position) in chunk {
            query = bind_line(query, id, position, &drafts[i].lines[position])?;
        }
        query.execute(&mut *conn).await?;
        Ok(())
    }
}

/// One audit row per document of the batch, as [`Store::issue_in`] writes them one by one.
fn issue_audit(
    drafts: &[InvoiceDraft],
    plain: &[usize],
    numbers: &HashMap<usize, String>,
) -> Vec<super::AuditRow> {
    plain
        .iter()
        .map(|&i| {
            let d = &drafts[i];
            let summary = serde_json::json!({
                "number": numbers[&i],
                "kind": d.kind.as_str(),
                "gross": d.totals.gross.to_string(),
                "currency": d.currency,
                "lines": d.lines.len(),
            });
            (
                format!("{}.issue", d.kind.as_str()),
                numbers[&i].clone(),
                Some(d.client_number.clone()),
                summary.to_string(),
            )
        })
        .collect()
}

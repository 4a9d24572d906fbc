//! Writing a batch of received payments (a bank statement, or one typed in) with a handful of
//! statements: what the batch needs read once (the matching directory, the bank ids already
//! recorded, the accounts of the matched clients), and what the core decided
//! (`ispd_billing::payment::receipt`) written with multi-row statements — payments,
//! allocations, document states, credits and audit records. The use case runs both inside
//! one transaction: all of it or none of it.

use std::collections::{HashMap, HashSet};

use super::statements::{Cells, Kind, Statements, Value};
use super::{
    Actor, Arg, DocumentKind, NewPayment, Store, StoreResult, Tx, corrupt, date_text, now,
    rows_per_statement,
};
use ispd_billing::money;
use ispd_billing::payment::Directory;
use ispd_billing::payment::receipt::{Account, Receipt, Receipts, RecordedIds};

impl Store {
    /// Everything a variable symbol or account can name, and every client's number by id.
    pub async fn payment_directory_in(
        &self,
        tx: &mut impl Tx,
    ) -> StoreResult<(Directory, HashMap<i64, String>)> {
        Self::payment_directory(&mut tx.conn()).await
    }

    /// The id of client `number` (not found: an error naming it).
    pub async fn client_id_in(&self, tx: &mut impl Tx, number: &str) -> StoreResult<i64> {
        Self::client_id_of(&mut tx.conn(), number).await
    }

    /// Writes what the core decided of a batch of payments: each receipt's payment (`payments`
    /// are the arrivals it numbers), its allocations, the documents' paid amounts and states,
    /// the changed credits and one audit record per matched payment.
    pub async fn record_receipts_in(
        &self,
        tx: &mut impl Tx,
        actor: &Actor,
        payments: &[NewPayment],
        receipts: &Receipts,
        numbers: &HashMap<i64, String>,
    ) -> StoreResult<()> {
        let mut conn = tx.conn();
        let ids = insert_payments(&mut conn, payments, &receipts.receipts).await?;
        write_allocations(&mut conn, receipts, &ids).await?;
        audit_payments(
            &mut conn,
            actor,
            payments,
            &receipts.receipts,
            &ids,
            numbers,
        )
        .await
    }

    /// Which of the bank transaction ids `ids` are recorded already, and on which accounts.
    pub async fn recorded_bank_ids_in(
        &self,
        tx: &mut impl Tx,
        ids: &[&str],
    ) -> StoreResult<RecordedIds> {
        let mut conn = tx.conn();
        let mut seen = RecordedIds::default();
        for chunk in ids.chunks(rows_per_statement(1)) {
            let sql = format!(
                "SELECT bank_transaction_id, statement_account FROM payment
                 WHERE bank_transaction_id IN ({})",
                conn.placeholders().list(chunk.len())
            );
            let params = chunk.iter().map(|id| Value::from(*id)).collect();
            for row in conn.rows(&sql, params, &[Kind::Text, Kind::Text]).await? {
                let mut cells = Cells::new("payment", row);
                seen.insert(
                    cells.text("bank_transaction_id")?,
                    cells.opt_text("statement_account")?,
                );
            }
        }
        Ok(seen)
    }

    /// Each client's account as a batch of payments reads it: the currency it is invoiced
    /// in, its open documents in that currency and its credit, read in chunks.
    pub async fn payment_accounts_in(
        &self,
        tx: &mut impl Tx,
        clients: &[i64],
        default_currency: &str,
    ) -> StoreResult<HashMap<i64, Account>> {
        let mut conn = tx.conn();
        let mut accounts: HashMap<i64, Account> = HashMap::with_capacity(clients.len());
        for chunk in clients.chunks(rows_per_statement(1)) {
            let list = conn.placeholders().list(chunk.len());
            let sql = format!(
                "SELECT c.id, c.credit_minor, g.currency
                 FROM client c LEFT JOIN invoice_group g ON g.code = c.invoice_group
                 WHERE c.id IN ({list})"
            );
            let params = chunk.iter().map(|&id| Value::from(id)).collect();
            for row in conn
                .rows(&sql, params, &[Kind::Int, Kind::Int, Kind::Text])
                .await?
            {
                let mut c = Cells::new("client", row);
                let (id, credit) = (c.int("id")?, c.int("credit_minor")?);
                let currency = c.opt_text("currency")?;
                accounts.insert(
                    id,
                    Account {
                        currency: currency.unwrap_or_else(|| default_currency.to_owned()),
                        open: Vec::new(),
                        proformas: HashSet::new(),
                        services: HashMap::new(),
                        credit: money::from_minor_units(credit),
                    },
                );
            }
            let args: Vec<Arg> = chunk.iter().map(|&id| Arg::Int(id)).collect();
            let open = Self::open_documents_of(&mut conn, &format!("IN ({list})"), &args).await?;
            for (client, documents) in open {
                let Some(account) = accounts.get_mut(&client) else {
                    continue;
                };
                for (invoice, document) in documents {
                    if document.currency != account.currency {
                        continue;
                    }
                    if document.kind == DocumentKind::Proforma {
                        account.proformas.insert(invoice.id);
                    }
                    account.open.push(invoice);
                }
            }
        }
        Ok(accounts)
    }

    /// The clients with an open pro-forma, which a payment could complete (read through its
    /// own small index).
    pub async fn clients_with_open_proformas_in(
        &self,
        tx: &mut impl Tx,
    ) -> StoreResult<HashSet<i64>> {
        let sql = "SELECT DISTINCT client_id FROM invoice
                   WHERE kind = 'proforma' AND state IN ('unpaid', 'partially_paid')";
        tx.conn()
            .rows(sql, Vec::new(), &[Kind::Int])
            .await?
            .into_iter()
            .map(|row| Cells::new("invoice", row).int("client_id"))
            .collect()
    }

    /// Fills in, for `clients` (those a payment carrying a service's own symbol is for), which
    /// of their open documents bill each subscription (by a line of it). Read only for them:
    /// most payments name their client, and this reads invoice lines.
    pub async fn open_documents_by_service_in(
        &self,
        tx: &mut impl Tx,
        clients: &[i64],
        accounts: &mut HashMap<i64, Account>,
    ) -> StoreResult<()> {
        let mut conn = tx.conn();
        for chunk in clients.chunks(rows_per_statement(1)) {
            let sql = format!(
                "SELECT DISTINCT i.client_id, l.subscription_id, i.id
                 FROM invoice_line l JOIN invoice i ON i.id = l.invoice_id
                 WHERE i.client_id IN ({}) AND i.state IN ('unpaid', 'partially_paid')
                    AND l.subscription_id IS NOT NULL",
                conn.placeholders().list(chunk.len())
            );
            let params = chunk.iter().map(|&id| Value::from(id)).collect();
            for row in conn.rows(&sql, params, &[Kind::Int; 3]).await? {
                let mut c = Cells::new("invoice_line", row);
                let (client, service) = (c.int("client_id")?, c.int("subscription_id")?);
                let invoice = c.int("invoice_id")?;
                if let Some(account) = accounts.get_mut(&client)
                    && account.open.iter().any(|i| i.id == invoice)
                {
                    account.services.entry(service).or_default().insert(invoice);
                }
            }
        }
        Ok(())
    }
}

/// Inserts the receipts' payments; returns their ids in order.
async fn insert_payments(
    conn: &mut impl Statements,
    payments: &[NewPayment],
    receipts: &[Receipt],
) -> StoreResult<Vec<i64>> {
    let created = now();
    let mut ids = Vec::with_capacity(receipts.len());
    for chunk in receipts.chunks(rows_per_statement(15)) {
        let sql = format!(
            "INSERT INTO payment (client_id, amount_minor, currency, received_on,
                variable_symbol, payer_account, payer_name, message, bank_transaction_id,
                statement_account, source, matched_by, to_credit_minor, from_credit_minor,
                created_at)
             VALUES {} RETURNING id",
            conn.placeholders().rows(chunk.len(), &[""; 15])
        );
        let mut params = Vec::with_capacity(chunk.len() * 15);
        for receipt in chunk {
            let p = arrival(payments, receipt)?;
            params.extend([
                Value::from(receipt.client),
                Value::from(money::to_minor_units("payment.amount", p.amount)?),
                Value::from(p.currency.as_str()),
                Value::from(date_text(p.received_on)),
                Value::from(p.variable_symbol.as_deref()),
                Value::from(p.payer_account.as_deref()),
                Value::from(p.payer_name.as_deref()),
                Value::from(p.message.as_deref()),
                Value::from(p.bank_transaction_id.as_deref()),
                Value::from(p.statement_account.as_deref()),
                Value::from(p.source.as_str()),
                Value::from(receipt.found_by.map(|by| by.as_str())),
                Value::from(money::to_minor_units(
                    "payment.to_credit",
                    receipt.to_credit,
                )?),
                Value::from(money::to_minor_units(
                    "payment.from_credit",
                    receipt.from_credit,
                )?),
                Value::from(created.as_str()),
            ]);
        }
        let mut chunk_ids = conn
            .rows(&sql, params, &[Kind::Int])
            .await?
            .into_iter()
            .map(|row| Cells::new("payment", row).int("id"))
            .collect::<StoreResult<Vec<i64>>>()?;
        // Identity values are handed out in row order within one statement.
        chunk_ids.sort_unstable();
        ids.extend(chunk_ids);
    }
    Ok(ids)
}

/// Allocation rows, then each touched document's paid amount and state, then each changed
/// credit.
async fn write_allocations(
    conn: &mut impl Statements,
    receipts: &Receipts,
    ids: &[i64],
) -> StoreResult<()> {
    let rows: Vec<(i64, i64, i64)> = receipts
        .receipts
        .iter()
        .zip(ids)
        .flat_map(|(receipt, &payment)| {
            receipt
                .to_invoices
                .iter()
                .map(move |&(invoice, part)| (payment, invoice, part))
        })
        .map(|(payment, invoice, part)| {
            Ok((payment, invoice, money::to_minor_units("allocation", part)?))
        })
        .collect::<StoreResult<_>>()?;
    for chunk in rows.chunks(rows_per_statement(3)) {
        let sql = format!(
            "INSERT INTO payment_allocation (payment_id, invoice_id, amount_minor) VALUES {}",
            conn.placeholders().rows(chunk.len(), &["", "", ""])
        );
        let params = chunk
            .iter()
            .flat_map(|&(payment, invoice, amount)| {
                [
                    Value::from(payment),
                    Value::from(invoice),
                    Value::from(amount),
                ]
            })
            .collect();
        Statements::execute(conn, &sql, params).await?;
    }
    let documents: Vec<(i64, i64, &str)> = receipts
        .documents
        .iter()
        .map(|d| {
            let paid = money::to_minor_units("invoice.paid", d.paid)?;
            Ok((d.id, paid, d.state.as_str()))
        })
        .collect::<StoreResult<_>>()?;
    for chunk in documents.chunks(rows_per_statement(3)) {
        let sql = format!(
            "UPDATE invoice SET paid_minor = v.column2, state = v.column3
             FROM (VALUES {}) AS v WHERE invoice.id = v.column1",
            conn.placeholders()
                .rows(chunk.len(), &["BIGINT", "BIGINT", "TEXT"])
        );
        let params = chunk
            .iter()
            .flat_map(|&(id, paid, state)| [Value::from(id), Value::from(paid), Value::from(state)])
            .collect();
        Statements::execute(conn, &sql, params).await?;
    }
    let credits: Vec<(i64, i64)> = receipts
        .credits
        .iter()
        .map(|&(client, credit)| Ok((client, money::to_minor_units("client.credit", credit)?)))
        .collect::<StoreResult<_>>()?;
    for chunk in credits.chunks(rows_per_statement(2)) {
        let sql = format!(
            "UPDATE client SET credit_minor = v.column2
             FROM (VALUES {}) AS v WHERE client.id = v.column1",
            conn.placeholders().rows(chunk.len(), &["BIGINT", "BIGINT"])
        );
        let params = chunk
            .iter()
            .flat_map(|&(id, credit)| [Value::from(id), Value::from(credit)])
            .collect();
        Statements::execute(conn, &sql, params).await?;
    }
    Ok(())
}

/// One audit record per matched payment: how much, where it went.
async fn audit_payments(
    conn: &mut impl Statements,
    actor: &Actor,
    payments: &[NewPayment],
    receipts: &[Receipt],
    ids: &[i64],
    numbers: &HashMap<i64, String>,
) -> StoreResult<()> {
    let mut rows: Vec<super::AuditRow> = Vec::with_capacity(receipts.len());
    for (id, receipt) in ids.iter().zip(receipts) {
        let Some(client) = receipt.client else {
            continue;
        };
        let p = arrival(payments, receipt)?;
        let summary = serde_json::json!({
            "amount": p.amount.to_string(),
            "currency": p.currency,
            "allocated": receipt.allocated().to_string(),
            "to_credit": receipt.to_credit.to_string(),
            "matched_by": receipt.found_by.map(|by| by.as_str()),
        });
        rows.push((
            "payment.record".to_owned(),
            id.to_string(),
            numbers.get(&client).cloned(),
            summary.to_string(),
        ));
    }
    super::record_audit_rows(conn, actor, "payment", &rows).await
}

/// The payment a receipt records.
fn arrival<'a>(payments: &'a [NewPayment], receipt: &Receipt) -> StoreResult<&'a NewPayment> {
    payments.get(receipt.arrival).ok_or_else(|| {
        corrupt(format!(
            "receipt of payment {} out of step",
            receipt.arrival
        ))
    })
}

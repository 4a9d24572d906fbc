//! Writing a batch of received payments (a bank statement, or one typed in) with a handful of
//! statements: what the batch needs read once (the matching directory, the bank ids already
//! recorded, the accounts of the matched clients), and what the core decided
//! (`ispd_billing::payment::receipt`) written with multi-row statements — payments,
//! allocations, document states, credits and audit records. The use case runs both inside
//! one transaction: all of it or none of it.

use std::collections::{HashMap, HashSet};

use ispd_billing::money;
use ispd_billing::payment::Directory;
use ispd_billing::payment::receipt::{Account, Receipt, Receipts};
use sqlx::{AnyConnection, AssertSqlSafe};

use super::{
    Actor, Arg, DocumentKind, NewPayment, Placeholders, Store, StoreResult, WriteTx, corrupt,
    date_text, now, rows_per_statement,
};

impl Store {
    /// Everything a variable symbol or account can name, and every client's number by id.
    pub async fn payment_directory_in(
        &self,
        tx: &mut WriteTx,
    ) -> StoreResult<(Directory, HashMap<i64, String>)> {
        Self::payment_directory(tx.conn()).await
    }

    /// The id of client `number` (not found: an error naming it).
    pub async fn client_id_in(&self, tx: &mut WriteTx, number: &str) -> StoreResult<i64> {
        Self::client_id_of(tx.conn(), number).await
    }

    /// Writes what the core decided of a batch of payments: each receipt's payment (`payments`
    /// are the arrivals it numbers), its allocations, the documents' paid amounts and states,
    /// the changed credits and one audit record per matched payment.
    pub async fn record_receipts_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        payments: &[NewPayment],
        receipts: &Receipts,
        numbers: &HashMap<i64, String>,
    ) -> StoreResult<()> {
        let tx = tx.conn();
        let ids = Self::insert_payments(tx, payments, &receipts.receipts).await?;
        Self::write_allocations(tx, receipts, &ids).await?;
        Self::audit_payments(tx, actor, payments, &receipts.receipts, &ids, numbers).await
    }

    /// Which of the bank transaction ids `ids` are recorded already.
    pub async fn recorded_bank_ids_in(
        &self,
        tx: &mut WriteTx,
        ids: &[&str],
    ) -> StoreResult<HashSet<String>> {
        let conn = tx.conn();
        let mut seen = HashSet::new();
        for chunk in ids.chunks(rows_per_statement(1)) {
            let sql = format!(
                "SELECT bank_transaction_id FROM payment WHERE bank_transaction_id IN ({})",
                Placeholders::for_conn(conn).list(chunk.len())
            );
            let mut query = sqlx::query_scalar::<_, String>(AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(*id);
            }
            seen.extend(query.fetch_all(&mut *conn).await?);
        }
        Ok(seen)
    }

    /// Each client's account as a batch of payments reads it: the currency it is invoiced
    /// in, its open documents in that currency and its credit, read in chunks.
    pub async fn payment_accounts_in(
        &self,
        tx: &mut WriteTx,
        clients: &[i64],
        default_currency: &str,
    ) -> StoreResult<HashMap<i64, Account>> {
        let conn = tx.conn();
        let mut accounts: HashMap<i64, Account> = HashMap::with_capacity(clients.len());
        for chunk in clients.chunks(rows_per_statement(1)) {
            let list = Placeholders::for_conn(conn).list(chunk.len());
            let mut credits =
                sqlx::query_as::<_, (i64, i64, Option<String>)>(AssertSqlSafe(format!(
                    "SELECT c.id, c.credit_minor, g.currency
                     FROM client c LEFT JOIN invoice_group g ON g.code = c.invoice_group
                     WHERE c.id IN ({list})"
                )));
            for id in chunk {
                credits = credits.bind(*id);
            }
            for (id, credit, currency) in credits.fetch_all(&mut *conn).await? {
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
            let open = Self::open_documents_of(conn, &format!("IN ({list})"), &args).await?;
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

    /// Fills in, for `clients` (those a payment carrying a service's own symbol is for), which
    /// of their open documents bill each subscription (by a line of it). Read only for them:
    /// most payments name their client, and this reads invoice lines.
    pub async fn open_documents_by_service_in(
        &self,
        tx: &mut WriteTx,
        clients: &[i64],
        accounts: &mut HashMap<i64, Account>,
    ) -> StoreResult<()> {
        let conn = tx.conn();
        for chunk in clients.chunks(rows_per_statement(1)) {
            let list = Placeholders::for_conn(conn).list(chunk.len());
            let mut query = sqlx::query_as::<_, (i64, i64, i64)>(AssertSqlSafe(format!(
                "SELECT DISTINCT i.client_id, l.subscription_id, i.id
                 FROM invoice_line l JOIN invoice i ON i.id = l.invoice_id
                 WHERE i.client_id IN ({list}) AND i.state IN ('unpaid', 'partially_paid')
                    AND l.subscription_id IS NOT NULL"
            )));
            for id in chunk {
                query = query.bind(*id);
            }
            for (client, service, invoice) in query.fetch_all(&mut *conn).await? {
                if let Some(account) = accounts.get_mut(&client)
                    && account.open.iter().any(|i| i.id == invoice)
                {
                    account.services.entry(service).or_default().insert(invoice);
                }
            }
        }
        Ok(())
    }

    /// Inserts the receipts' payments; returns their ids in order.
    async fn insert_payments(
        conn: &mut AnyConnection,
        payments: &[NewPayment],
        receipts: &[Receipt],
    ) -> StoreResult<Vec<i64>> {
        let created = now();
        let mut ids = Vec::with_capacity(receipts.len());
        for chunk in receipts.chunks(rows_per_statement(14)) {
            let sql = format!(
                "INSERT INTO payment (client_id, amount_minor, currency, received_on,
                    variable_symbol, payer_account, payer_name, message, bank_transaction_id,
                    source, matched_by, to_credit_minor, from_credit_minor, created_at)
                 VALUES {} RETURNING id",
                Placeholders::for_conn(conn).rows(chunk.len(), &[""; 14])
            );
            let mut query = sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql));
            for receipt in chunk {
                let p = arrival(payments, receipt)?;
                query = query
                    .bind(receipt.client)
                    .bind(money::to_minor_units("payment.amount", p.amount)?)
                    .bind(p.currency.as_str())
                    .bind(date_text(p.received_on))
                    .bind(p.variable_symbol.as_deref())
                    .bind(p.payer_account.as_deref())
                    .bind(p.payer_name.as_deref())
                    .bind(p.message.as_deref())
                    .bind(p.bank_transaction_id.as_deref())
                    .bind(p.source.as_str())
                    .bind(receipt.found_by.map(|by| by.as_str()))
                    .bind(money::to_minor_units(
                        "payment.to_credit",
                        receipt.to_credit,
                    )?)
                    .bind(money::to_minor_units(
                        "payment.from_credit",
                        receipt.from_credit,
                    )?)
                    .bind(created.clone());
            }
            let mut chunk_ids = query.fetch_all(&mut *conn).await?;
            // Identity values are handed out in row order within one statement.
            chunk_ids.sort_unstable();
            ids.extend(chunk_ids);
        }
        Ok(ids)
    }

    /// Allocation rows, then each touched document's paid amount and state, then each
    /// changed credit.
    async fn write_allocations(
        conn: &mut AnyConnection,
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
                Placeholders::for_conn(conn).rows(chunk.len(), &["", "", ""])
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for &(payment, invoice, amount) in chunk {
                query = query.bind(payment).bind(invoice).bind(amount);
            }
            query.execute(&mut *conn).await?;
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
                Placeholders::for_conn(conn).rows(chunk.len(), &["BIGINT", "BIGINT", "TEXT"])
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for &(id, paid, state) in chunk {
                query = query.bind(id).bind(paid).bind(state);
            }
            query.execute(&mut *conn).await?;
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
                Placeholders::for_conn(conn).rows(chunk.len(), &["BIGINT", "BIGINT"])
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for &(id, credit) in chunk {
                query = query.bind(id).bind(credit);
            }
            query.execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// One audit record per matched payment: how much, where it went.
    async fn audit_payments(
        conn: &mut AnyConnection,
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
        super::record_audit_rows(conn, actor, "payment", &rows).await?;
        Ok(())
    }
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

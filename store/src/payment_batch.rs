//! Recording a whole bank statement in one transaction with a handful of statements: the
//! duplicates are found with one query per chunk, every payment is matched in memory
//! (`ispd_billing::payment::match_payment`), the open documents and credit of the matched
//! clients are read once, the allocations computed in memory in statement order (so two
//! payments of one client see each other), then payments, allocations, document states,
//! credits and audit records are written with multi-row statements. All of it or none of it.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use ispd_billing::invoice::state_for;
use ispd_billing::money;
use ispd_billing::payment::{IncomingPayment, Match, OpenInvoice, allocate};
use rust_decimal::Decimal;
use sqlx::{AnyConnection, AssertSqlSafe};

use super::payment::matched_by_name;
use super::{
    Actor, Arg, DocumentKind, NewPayment, PaymentOutcome, Placeholders, Store, StoreError,
    StoreResult, WriteTx, corrupt, date_text, now, rows_per_statement,
};

/// One payment to store, once matched and allocated.
struct Planned<'a> {
    payment: &'a NewPayment,
    client: Option<i64>,
    matched_by: Option<&'static str>,
    /// Why a payment that named a client is stored unmatched.
    unmatched_reason: Option<String>,
    to_invoices: Vec<(i64, Decimal)>,
    to_credit: Decimal,
    from_credit: Decimal,
}

/// A matched client's account while the statement is applied.
struct Account {
    /// The currency the client is invoiced in (its credit's too).
    currency: String,
    /// Its open documents in that currency: the only ones its payments may pay.
    open: Vec<OpenInvoice>,
    /// Document kinds by id (a completed pro-forma gets its tax invoice).
    proformas: HashSet<i64>,
    credit: Decimal,
    /// The credit as read, so only changed credits are written back.
    credit_before: Decimal,
}

impl Store {
    /// Records payments in one transaction: duplicates (by bank transaction id, in the
    /// database or earlier in the same statement) are skipped, the rest matched, stored and
    /// allocated oldest document first, with any excess as credit.
    ///
    /// Money is never taken for another currency: a statement payment matched to a client
    /// invoiced in another currency is stored unmatched with its own currency (and the reason),
    /// for an operator to deal with; a manual payment in another currency than its client's
    /// is refused.
    pub async fn record_payments(
        &self,
        actor: &Actor,
        payments: &[NewPayment],
        default_currency: &str,
    ) -> StoreResult<Vec<PaymentOutcome>> {
        let mut tx = self.begin_write().await?;
        let outcomes = self
            .record_payments_in(&mut tx, actor, payments, default_currency)
            .await?;
        tx.commit().await?;
        Ok(outcomes)
    }

    /// [`Store::record_payments`] inside a use case's transaction.
    pub async fn record_payments_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        payments: &[NewPayment],
        default_currency: &str,
    ) -> StoreResult<Vec<PaymentOutcome>> {
        check_amounts(payments)?;
        let tx = tx.conn();
        let (directory, numbers) = Self::payment_directory(tx).await?;
        let (duplicate, matched) = Self::match_payments(tx, payments, &directory).await?;
        let clients: Vec<i64> = {
            let set: HashSet<i64> = matched.iter().filter_map(|m| m.0).collect();
            set.into_iter().collect()
        };
        let mut accounts = Self::accounts(tx, &clients, default_currency).await?;
        let planned = plan_payments(payments, &duplicate, &matched, &mut accounts, &numbers)?;
        let ids = Self::insert_payments(tx, &planned).await?;
        Self::write_allocations(tx, &planned, &ids, &accounts).await?;
        Self::audit_payments(tx, actor, &planned, &ids, &numbers).await?;
        Self::follow_completed_proformas(tx, actor, &planned, &accounts).await?;
        accounts.clear();
        outcomes(payments, &duplicate, &planned, &numbers)
    }

    /// The bank transaction ids of `payments` already recorded.
    async fn recorded_bank_ids(
        conn: &mut AnyConnection,
        payments: &[NewPayment],
    ) -> StoreResult<HashSet<String>> {
        let ids: Vec<String> = payments
            .iter()
            .filter_map(|p| p.bank_transaction_id.clone())
            .collect();
        let mut seen = HashSet::new();
        for chunk in ids.chunks(rows_per_statement(1)) {
            let sql = format!(
                "SELECT bank_transaction_id FROM payment WHERE bank_transaction_id IN ({})",
                Placeholders::for_conn(conn).list(chunk.len())
            );
            let mut query = sqlx::query_scalar::<_, String>(AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(id.clone());
            }
            seen.extend(query.fetch_all(&mut *conn).await?);
        }
        Ok(seen)
    }

    /// Each payment's client: by the client number typed in, else by the core's matching
    /// (variable symbol, account); a bank transaction id already recorded marks a duplicate.
    #[allow(clippy::type_complexity)]
    async fn match_payments(
        tx: &mut AnyConnection,
        payments: &[NewPayment],
        directory: &ispd_billing::payment::Directory,
    ) -> StoreResult<(Vec<bool>, Vec<(Option<i64>, Option<&'static str>)>)> {
        let mut seen = Self::recorded_bank_ids(tx, payments).await?;
        let mut manual: HashMap<String, i64> = HashMap::new();
        let mut duplicate = vec![false; payments.len()];
        let mut matched: Vec<(Option<i64>, Option<&'static str>)> = Vec::new();
        for (i, p) in payments.iter().enumerate() {
            if let Some(id) = &p.bank_transaction_id
                && !seen.insert(id.clone())
            {
                duplicate[i] = true;
                matched.push((None, None));
                continue;
            }
            matched.push(match &p.client_number {
                Some(number) => {
                    let id = match manual.get(number) {
                        Some(id) => *id,
                        None => Self::client_id_of(tx, number).await?,
                    };
                    manual.insert(number.clone(), id);
                    (Some(id), Some("manual"))
                }
                None => {
                    let incoming = IncomingPayment {
                        id: 0,
                        amount: p.amount,
                        received_on: p.received_on,
                        variable_symbol: p.variable_symbol.clone(),
                        payer_account: p.payer_account.clone(),
                        bank_transaction_id: p.bank_transaction_id.clone(),
                    };
                    match ispd_billing::payment::match_payment(&incoming, directory) {
                        Match::Matched { target, by } => {
                            (Some(target.client()), Some(matched_by_name(by)))
                        }
                        Match::Unmatched(_) => (None, None),
                    }
                }
            });
        }
        Ok((duplicate, matched))
    }

    /// A pro-forma completed by this statement gets its tax invoice, dated by its payment.
    async fn follow_completed_proformas(
        tx: &mut AnyConnection,
        actor: &Actor,
        planned: &[Planned<'_>],
        accounts: &HashMap<i64, Account>,
    ) -> StoreResult<()> {
        let mut completed: BTreeMap<i64, NaiveDate> = BTreeMap::new();
        for plan in planned {
            let Some(account) = plan.client.and_then(|c| accounts.get(&c)) else {
                continue;
            };
            if plan
                .to_invoices
                .iter()
                .any(|(id, _)| account.proformas.contains(id))
            {
                completed.insert(plan.client.unwrap_or_default(), plan.payment.received_on);
            }
        }
        for (client, day) in completed {
            Self::follow_proformas(tx, actor, client, day).await?;
        }
        Ok(())
    }

    /// Currency, open documents in it and credit of each client, read in chunks.
    async fn accounts(
        conn: &mut AnyConnection,
        clients: &[i64],
        default_currency: &str,
    ) -> StoreResult<HashMap<i64, Account>> {
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
                        credit: money::from_minor_units(credit),
                        credit_before: money::from_minor_units(credit),
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

    /// Inserts the payments; returns their ids in order.
    async fn insert_payments(
        conn: &mut AnyConnection,
        planned: &[Planned<'_>],
    ) -> StoreResult<Vec<i64>> {
        let created = now();
        let mut ids = Vec::with_capacity(planned.len());
        for chunk in planned.chunks(rows_per_statement(14)) {
            let sql = format!(
                "INSERT INTO payment (client_id, amount_minor, currency, received_on,
                    variable_symbol, payer_account, payer_name, message, bank_transaction_id,
                    source, matched_by, to_credit_minor, from_credit_minor, created_at)
                 VALUES {} RETURNING id",
                Placeholders::for_conn(conn).rows(chunk.len(), &[""; 14])
            );
            let mut query = sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql));
            for plan in chunk {
                let p = plan.payment;
                query = query
                    .bind(plan.client)
                    .bind(money::to_minor_units("payment.amount", p.amount)?)
                    .bind(p.currency.clone())
                    .bind(date_text(p.received_on))
                    .bind(p.variable_symbol.clone())
                    .bind(p.payer_account.clone())
                    .bind(p.payer_name.clone())
                    .bind(p.message.clone())
                    .bind(p.bank_transaction_id.clone())
                    .bind(p.source.clone())
                    .bind(plan.matched_by.map(str::to_owned))
                    .bind(money::to_minor_units("payment.to_credit", plan.to_credit)?)
                    .bind(money::to_minor_units(
                        "payment.from_credit",
                        plan.from_credit,
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
    /// client's credit.
    async fn write_allocations(
        conn: &mut AnyConnection,
        planned: &[Planned<'_>],
        ids: &[i64],
        accounts: &HashMap<i64, Account>,
    ) -> StoreResult<()> {
        let rows: Vec<(i64, i64, i64)> = planned
            .iter()
            .zip(ids)
            .flat_map(|(plan, &payment)| {
                plan.to_invoices
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
        let touched: HashSet<i64> = rows.iter().map(|r| r.1).collect();
        let mut documents: Vec<(i64, i64, String)> = Vec::with_capacity(touched.len());
        let mut credits: Vec<(i64, i64)> = Vec::new();
        let mut seen = HashSet::new();
        for plan in planned {
            let Some(client) = plan.client else { continue };
            let Some(account) = accounts.get(&client) else {
                continue;
            };
            if seen.insert(client) {
                if account.credit != account.credit_before {
                    let credit = money::to_minor_units("client.credit", account.credit)?;
                    credits.push((client, credit));
                }
                for invoice in account.open.iter().filter(|i| touched.contains(&i.id)) {
                    let state = state_for(invoice.total, invoice.paid, false)
                        .as_str()
                        .to_owned();
                    let paid = money::to_minor_units("invoice.paid", invoice.paid)?;
                    documents.push((invoice.id, paid, state));
                }
            }
        }
        for chunk in documents.chunks(rows_per_statement(3)) {
            let sql = format!(
                "UPDATE invoice SET paid_minor = v.column2, state = v.column3
                 FROM (VALUES {}) AS v WHERE invoice.id = v.column1",
                Placeholders::for_conn(conn).rows(chunk.len(), &["BIGINT", "BIGINT", "TEXT"])
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for (id, paid, state) in chunk {
                query = query.bind(*id).bind(*paid).bind(state.clone());
            }
            query.execute(&mut *conn).await?;
        }
        for chunk in credits.chunks(rows_per_statement(2)) {
            let sql = format!(
                "UPDATE client SET credit_minor = v.column2
                 FROM (VALUES {}) AS v WHERE client.id = v.column1",
                Placeholders::for_conn(conn).rows(chunk.len(), &["BIGINT", "BIGINT"])
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for (id, credit) in chunk {
                query = query.bind(*id).bind(*credit);
            }
            query.execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// One audit record per matched payment: how much, where it went.
    async fn audit_payments(
        conn: &mut AnyConnection,
        actor: &Actor,
        planned: &[Planned<'_>],
        ids: &[i64],
        numbers: &HashMap<i64, String>,
    ) -> StoreResult<()> {
        let rows: Vec<super::AuditRow> = ids
            .iter()
            .zip(planned)
            .filter_map(|(id, plan)| {
                let client = plan.client?;
                let allocated: Decimal = plan.to_invoices.iter().map(|(_, a)| *a).sum();
                let summary = serde_json::json!({
                    "amount": plan.payment.amount.to_string(),
                    "currency": plan.payment.currency,
                    "allocated": (allocated - plan.from_credit).to_string(),
                    "to_credit": plan.to_credit.to_string(),
                    "matched_by": plan.matched_by,
                });
                Some((
                    "payment.record".to_owned(),
                    id.to_string(),
                    numbers.get(&client).cloned(),
                    summary.to_string(),
                ))
            })
            .collect();
        super::record_audit_rows(conn, actor, "payment", &rows).await?;
        Ok(())
    }
}

/// Amounts and currencies a payment must have before anything is matched.
fn check_amounts(payments: &[NewPayment]) -> StoreResult<()> {
    for p in payments {
        money::to_minor_units("payment.amount", p.amount)?;
        if p.amount <= Decimal::ZERO {
            return Err(StoreError::Invalid(ispd_billing::FieldError::new(
                "payment.amount",
                "must be positive",
            )));
        }
        if !(p.currency.len() == 3 && p.currency.bytes().all(|b| b.is_ascii_uppercase())) {
            return Err(StoreError::Invalid(ispd_billing::FieldError::new(
                "payment.currency",
                format!("an ISO 4217 code such as \"CZK\", not {:?}", p.currency),
            )));
        }
    }
    Ok(())
}

/// Each payment not a duplicate: its client confirmed (a currency other than the client's
/// leaves a matched payment unmatched, and refuses a typed-in one by name) and, for a
/// client, how the core allocates it to the open documents and credit, in statement order.
fn plan_payments<'a>(
    payments: &'a [NewPayment],
    duplicate: &[bool],
    matched: &[(Option<i64>, Option<&'static str>)],
    accounts: &mut HashMap<i64, Account>,
    numbers: &HashMap<i64, String>,
) -> StoreResult<Vec<Planned<'a>>> {
    let mut planned = Vec::new();
    for (i, p) in payments.iter().enumerate() {
        if duplicate[i] {
            continue;
        }
        let (mut client, mut matched_by) = matched[i];
        let mut unmatched_reason = None;
        if let Some(account) = client.and_then(|c| accounts.get(&c))
            && account.currency != p.currency
        {
            let number = client.and_then(|c| numbers.get(&c)).cloned();
            let number = number.unwrap_or_default();
            if p.client_number.is_some() {
                return Err(StoreError::Invalid(ispd_billing::FieldError::new(
                    "currency",
                    format!(
                        "client {number} is invoiced in {}, not {}",
                        account.currency, p.currency
                    ),
                )));
            }
            unmatched_reason = Some(format!(
                "in {}; matched client {number} by {} but it is invoiced in {}",
                p.currency,
                matched_by.unwrap_or_default(),
                account.currency
            ));
            client = None;
            matched_by = None;
        }
        let mut plan = Planned {
            payment: p,
            client,
            matched_by,
            unmatched_reason,
            to_invoices: Vec::new(),
            to_credit: Decimal::ZERO,
            from_credit: Decimal::ZERO,
        };
        if let Some(account) = client.and_then(|c| accounts.get_mut(&c)) {
            let allocation = allocate(p.amount, &account.open, account.credit)
                .map_err(|e| StoreError::Precondition(e.to_string()))?;
            for &(id, part) in &allocation.to_invoices {
                if let Some(invoice) = account.open.iter_mut().find(|i| i.id == id) {
                    invoice.paid += part;
                }
            }
            account.credit = allocation.credit_after(account.credit);
            plan.to_credit = allocation.to_credit;
            plan.from_credit = allocation.from_credit;
            plan.to_invoices = allocation.to_invoices;
        }
        planned.push(plan);
    }
    Ok(planned)
}

/// What each payment became, duplicates included, in the order they came.
fn outcomes(
    payments: &[NewPayment],
    duplicate: &[bool],
    planned: &[Planned<'_>],
    numbers: &HashMap<i64, String>,
) -> StoreResult<Vec<PaymentOutcome>> {
    let mut outcomes = Vec::with_capacity(payments.len());
    let mut plans = planned.iter();
    for (i, p) in payments.iter().enumerate() {
        if duplicate[i] {
            outcomes.push(PaymentOutcome {
                bank_transaction_id: p.bank_transaction_id.clone(),
                client_id: None,
                client_number: None,
                matched_by: None,
                amount: p.amount,
                currency: p.currency.clone(),
                allocated: Decimal::ZERO,
                to_credit: Decimal::ZERO,
                duplicate: true,
                unmatched_reason: None,
            });
            continue;
        }
        let plan = plans
            .next()
            .ok_or_else(|| corrupt("payment plan out of step".into()))?;
        let allocated: Decimal = plan.to_invoices.iter().map(|(_, a)| *a).sum();
        outcomes.push(PaymentOutcome {
            bank_transaction_id: p.bank_transaction_id.clone(),
            client_id: plan.client,
            client_number: plan.client.and_then(|c| numbers.get(&c).cloned()),
            matched_by: plan.matched_by,
            amount: p.amount,
            currency: p.currency.clone(),
            allocated: allocated - plan.from_credit,
            to_credit: plan.to_credit,
            duplicate: false,
            unmatched_reason: plan.unmatched_reason.clone(),
        });
    }
    Ok(outcomes)
}

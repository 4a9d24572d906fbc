//! Payments: recording, matching to clients (`ispd_billing::payment`), allocation to the
//! oldest open invoices, credit, and the inputs of the dunning decision. A statement import
//! is one transaction: all of it or none of it.

use std::collections::HashMap;

use chrono::NaiveDate;
use ispd_billing::client::BankAccount;
use ispd_billing::dunning::{ReminderDue, SentReminder};
use ispd_billing::invoice::state_for;
use ispd_billing::money;
use ispd_billing::payment::{
    Allocation, AssignMode, Directory, MatchedBy, OpenInvoice, StatementEntry, StatementRow,
    assign, statement, unassign,
};
use rust_decimal::Decimal;
use sqlx::{AnyConnection, AssertSqlSafe};

use super::{
    Actor, Arg, ClientHead, DocumentKind, InvoiceDraft, InvoiceLineRecord, Store, StoreError,
    StoreResult, WriteTx, corrupt, date_text, now, parse_date, parse_opt_date, record_audit,
};

/// A payment to record: from a statement line, or typed in for a known client.
#[derive(Debug, Clone)]
pub struct NewPayment {
    pub amount: Decimal,
    pub received_on: NaiveDate,
    pub variable_symbol: Option<String>,
    pub payer_account: Option<String>,
    pub payer_name: Option<String>,
    pub message: Option<String>,
    pub bank_transaction_id: Option<String>,
    /// ISO 4217. Only a payment in its client's currency (that of the client's invoice group)
    /// pays the client's documents or becomes credit; see [`Store::record_payments`].
    pub currency: String,
    /// "manual" or the statement format.
    pub source: String,
    /// Set for a manual payment: the client it is for, no matching needed.
    pub client_number: Option<String>,
}

/// What happened to one payment.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentOutcome {
    pub bank_transaction_id: Option<String>,
    pub client_id: Option<i64>,
    pub client_number: Option<String>,
    pub matched_by: Option<&'static str>,
    pub amount: Decimal,
    pub currency: String,
    pub allocated: Decimal,
    pub to_credit: Decimal,
    /// Already recorded by an earlier import: nothing new stored.
    pub duplicate: bool,
    /// Why a payment that named a client was recorded unmatched (its currency is not the
    /// client's).
    pub unmatched_reason: Option<String>,
}

/// A recorded payment no client could be found for.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct UnmatchedPayment {
    pub id: i64,
    pub amount_minor: i64,
    pub currency: String,
    pub received_on: String,
    pub variable_symbol: Option<String>,
    pub payer_account: Option<String>,
    pub payer_name: Option<String>,
    pub message: Option<String>,
}

/// What the dunning decision needs about one client.
#[derive(Debug, Clone)]
pub struct DunningInput {
    pub client_id: i64,
    pub client_number: String,
    pub never_suspend: bool,
    pub no_auto_reminders: bool,
    /// Client columns `dunning_stopped` / `dunning_paused_until` (Mango req_stop / pause).
    pub dunning_stopped: bool,
    pub dunning_paused_until: Option<NaiveDate>,
    /// The client card's own grace days; `None` = the global setting.
    pub suspend_after_days: Option<u32>,
    pub debt_suspended: bool,
    /// Every open document: invoices and debit notes (reminder fees) alike.
    pub open_invoices: Vec<OpenInvoice>,
    /// Kind and currency of each open document, by id.
    pub documents: HashMap<i64, OpenDocument>,
    /// The reminders already sent, with their deadlines.
    pub reminders_sent: Vec<SentReminder>,
    /// (invoice id, day) of each reminder sent, so a run never reminds twice on one day.
    pub reminded_on: Vec<(i64, NaiveDate)>,
}

/// What dunning needs beyond [`OpenInvoice`] about an open document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenDocument {
    pub kind: DocumentKind,
    pub currency: String,
}

/// A client's dunning controls: reminders force-stopped, or paused until a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct DunningHold {
    pub stopped: bool,
    pub paused_until: Option<NaiveDate>,
}

/// A change to a client's dunning controls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DunningControl {
    /// Stop automatic reminders until resumed (clears a pause).
    Stop,
    /// No automatic reminders before this date (clears a stop).
    PauseUntil(NaiveDate),
    /// Clear both.
    Resume,
}

/// A client's balance and dunning state (`ispctl payment balance`).
#[derive(Debug, Clone, PartialEq)]
pub struct ClientBalance {
    pub credit: Decimal,
    pub owed: Decimal,
    pub suspended: bool,
    pub dunning: DunningHold,
}

/// What recording a reminder stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedReminder {
    pub invoice_number: String,
    /// The debit note charging the reminder's fee; `None` without a fee, or when this level
    /// had been recorded before (nothing new is stored then).
    pub debit_note_number: Option<String>,
}

pub(super) fn matched_by_name(by: MatchedBy) -> &'static str {
    match by {
        MatchedBy::ClientNumber => "client_number",
        MatchedBy::AssignedVs => "assigned_vs",
        MatchedBy::SubscriptionVs => "subscription_vs",
        MatchedBy::BankAccount => "bank_account",
    }
}

impl Store {
    /// Everything a variable symbol or account can name, read once per import, and every
    /// client's number by id.
    pub(super) async fn payment_directory(
        conn: &mut AnyConnection,
    ) -> StoreResult<(Directory, HashMap<i64, String>)> {
        let mut directory = Directory::new();
        let clients: Vec<(i64, String)> = sqlx::query_as("SELECT id, number FROM client")
            .fetch_all(&mut *conn)
            .await?;
        for (id, number) in &clients {
            directory.add_client_number(*id, number);
        }
        let numbers: HashMap<i64, String> = clients.into_iter().collect();
        let assigned: Vec<(i64, String)> =
            sqlx::query_as("SELECT client_id, variable_symbol FROM client_variable_symbol")
                .fetch_all(&mut *conn)
                .await?;
        for (id, vs) in assigned {
            directory.add_assigned_vs(id, &vs);
        }
        let services: Vec<(i64, i64, String)> = sqlx::query_as(
            "SELECT client_id, id, variable_symbol FROM subscription WHERE variable_symbol IS NOT NULL",
        )
        .fetch_all(&mut *conn)
        .await?;
        for (client, id, vs) in services {
            directory.add_subscription_vs(client, id, &vs);
        }
        let accounts: Vec<(i64, String, String, String)> =
            sqlx::query_as("SELECT client_id, number, iban, bic FROM client_bank_account")
                .fetch_all(&mut *conn)
                .await?;
        for (id, number, iban, bic) in accounts {
            directory.add_bank_account(id, &BankAccount { number, iban, bic });
        }
        Ok((directory, numbers))
    }

    /// Every open document of the client, of any kind: a debit note (reminder fee) or an
    /// opening balance is paid and chased like an invoice. Its total is what it still asks
    /// once credit notes are taken off.
    pub(super) async fn open_invoices(
        conn: &mut AnyConnection,
        client: i64,
    ) -> StoreResult<Vec<OpenInvoice>> {
        Ok(Self::open_documents(conn, client)
            .await?
            .into_iter()
            .map(|(invoice, _)| invoice)
            .collect())
    }

    async fn open_documents(
        conn: &mut AnyConnection,
        client: i64,
    ) -> StoreResult<Vec<(OpenInvoice, OpenDocument)>> {
        let mut open = Self::open_documents_of(conn, "= $1", &[Arg::Int(client)]).await?;
        Ok(open.remove(&client).unwrap_or_default())
    }

    /// The open documents of the clients `client_id {clients}` selects (`clients` binds
    /// `args`), by client, oldest id first; each asks its gross less what credit notes took off.
    pub(super) async fn open_documents_of(
        conn: &mut AnyConnection,
        clients: &str,
        args: &[Arg],
    ) -> StoreResult<HashMap<i64, Vec<(OpenInvoice, OpenDocument)>>> {
        type Row = (i64, i64, String, String, String, i64, i64, String, String);
        let sql = format!(
            "SELECT id, client_id, number, issue_date, due_date, gross_minor - credited_minor,
                paid_minor, kind, currency
             FROM invoice
             WHERE state IN ('unpaid', 'partially_paid') AND client_id {clients}
             ORDER BY id"
        );
        let mut query = sqlx::query_as::<_, Row>(AssertSqlSafe(sql));
        for arg in args {
            query = match arg {
                Arg::Text(t) => query.bind(t.clone()),
                Arg::Int(i) => query.bind(*i),
            };
        }
        let mut open: HashMap<i64, Vec<(OpenInvoice, OpenDocument)>> = HashMap::new();
        for (id, client, number, issue, due, total, paid, kind, currency) in
            query.fetch_all(&mut *conn).await?
        {
            let kind = DocumentKind::parse(&kind)
                .ok_or_else(|| corrupt(format!("invoice {number}: kind {kind:?}")))?;
            open.entry(client).or_default().push((
                OpenInvoice {
                    id,
                    number,
                    issue_date: parse_date("issue_date", &issue)?,
                    due_date: parse_date("due_date", &due)?,
                    total: money::from_minor_units(total),
                    paid: money::from_minor_units(paid),
                },
                OpenDocument { kind, currency },
            ));
        }
        Ok(open)
    }

    /// Allocates a payment to a client's invoices in its `currency` by `mode` and records
    /// what it did to the client's credit; returns (paid to invoices from this payment, new
    /// credit). A pro-forma it completes gets its tax invoice dated `day`.
    #[allow(clippy::too_many_arguments)]
    async fn assign_to_client(
        conn: &mut AnyConnection,
        actor: &Actor,
        client: i64,
        payment_id: i64,
        amount: Decimal,
        currency: &str,
        mode: AssignMode,
        day: NaiveDate,
    ) -> StoreResult<(Decimal, Decimal)> {
        let open: Vec<OpenInvoice> = Self::open_documents(conn, client)
            .await?
            .into_iter()
            .filter(|(_, document)| document.currency == currency)
            .map(|(invoice, _)| invoice)
            .collect();
        let credit = Self::client_credit(conn, client).await?;
        let allocation = assign(amount, mode, &open, credit)
            .map_err(|e| StoreError::Precondition(e.to_string()))?;
        for (invoice_id, part) in &allocation.to_invoices {
            let invoice = open
                .iter()
                .find(|i| i.id == *invoice_id)
                .ok_or_else(|| corrupt(format!("allocation to invoice {invoice_id}, not open")))?;
            sqlx::query(
                "INSERT INTO payment_allocation (payment_id, invoice_id, amount_minor) VALUES ($1, $2, $3)",
            )
            .bind(payment_id)
            .bind(*invoice_id)
            .bind(money::to_minor_units("allocation", *part)?)
            .execute(&mut *conn)
            .await?;
            Self::set_invoice_paid(conn, *invoice_id, invoice.total, invoice.paid + *part).await?;
        }
        Self::set_client_credit(conn, client, allocation.credit_after(credit)).await?;
        sqlx::query(
            "UPDATE payment SET to_credit_minor = $1, from_credit_minor = $2 WHERE id = $3",
        )
        .bind(money::to_minor_units(
            "payment.to_credit",
            allocation.to_credit,
        )?)
        .bind(money::to_minor_units(
            "payment.from_credit",
            allocation.from_credit,
        )?)
        .bind(payment_id)
        .execute(&mut *conn)
        .await?;
        if !allocation.to_invoices.is_empty() {
            Self::follow_proformas(conn, actor, client, day).await?;
        }
        Ok((
            allocation.allocated() - allocation.from_credit,
            allocation.to_credit,
        ))
    }

    /// The currency client `number` is invoiced in (see [`Self::client_currency`]).
    /// `default_currency` is the `[billing] currency`, for a group that names none.
    pub async fn currency_of_client(
        &self,
        number: &str,
        default_currency: &str,
    ) -> StoreResult<String> {
        let mut conn = self.pool.acquire().await?;
        let client = Self::client_id_of(&mut conn, number).await?;
        Self::client_currency(&mut conn, client, default_currency).await
    }

    /// The currency a client is invoiced in: its invoice group's, else the `[billing]` one.
    /// Its credit is held in it, and only payments in it pay its documents.
    pub(super) async fn client_currency(
        conn: &mut AnyConnection,
        client: i64,
        default_currency: &str,
    ) -> StoreResult<String> {
        let currency: Option<String> = sqlx::query_scalar(
            "SELECT g.currency FROM client c JOIN invoice_group g ON g.code = c.invoice_group
             WHERE c.id = $1",
        )
        .bind(client)
        .fetch_optional(&mut *conn)
        .await?
        .flatten();
        Ok(currency.unwrap_or_else(|| default_currency.to_owned()))
    }

    pub(super) async fn client_credit(
        conn: &mut AnyConnection,
        client: i64,
    ) -> StoreResult<Decimal> {
        let minor: i64 = sqlx::query_scalar("SELECT credit_minor FROM client WHERE id = $1")
            .bind(client)
            .fetch_one(&mut *conn)
            .await?;
        Ok(money::from_minor_units(minor))
    }

    pub(super) async fn set_client_credit(
        conn: &mut AnyConnection,
        client: i64,
        credit: Decimal,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE client SET credit_minor = $1 WHERE id = $2")
            .bind(money::to_minor_units("client.credit", credit)?)
            .bind(client)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    pub(super) async fn set_invoice_paid(
        conn: &mut AnyConnection,
        invoice: i64,
        total: Decimal,
        paid: Decimal,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE invoice SET paid_minor = $1, state = $2 WHERE id = $3")
            .bind(money::to_minor_units("invoice.paid", paid)?)
            .bind(state_for(total, paid, false).as_str().to_owned())
            .bind(invoice)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    /// Assigns an unmatched payment by hand (Mango "Párovat platbu"): `invoice` = the whole
    /// payment to that invoice, else up to the client's debt with the rest as credit.
    pub async fn assign_payment(
        &self,
        actor: &Actor,
        payment_id: i64,
        client_number: &str,
        invoice: Option<&str>,
        default_currency: &str,
    ) -> StoreResult<PaymentOutcome> {
        let mut tx = self.begin_write().await?;
        let done = self
            .assign_payment_in(
                &mut tx,
                actor,
                (payment_id, client_number, invoice),
                default_currency,
            )
            .await?;
        tx.commit().await?;
        Ok(done)
    }

    /// [`Store::assign_payment`] inside a use case's transaction.
    pub async fn assign_payment_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        (payment_id, client_number, invoice): (i64, &str, Option<&str>),
        default_currency: &str,
    ) -> StoreResult<PaymentOutcome> {
        let tx = tx.conn();
        let (current, amount_minor, currency, received_on): (Option<i64>, i64, String, String) =
            sqlx::query_as(
                "SELECT client_id, amount_minor, COALESCE(currency, $2), received_on
                 FROM payment WHERE id = $1",
            )
            .bind(payment_id)
            .bind(default_currency.to_owned())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                entity: "payment",
                key: payment_id.to_string(),
            })?;
        if current.is_some() {
            return Err(StoreError::Precondition(format!(
                "payment {payment_id} is already assigned; unassign it first"
            )));
        }
        let client = Self::client_id_of(tx, client_number).await?;
        let client_currency = Self::client_currency(tx, client, default_currency).await?;
        if currency != client_currency {
            return Err(StoreError::Precondition(format!(
                "payment {payment_id} is in {currency}; client {client_number} is invoiced in \
                 {client_currency}"
            )));
        }
        let mode = match invoice {
            Some(number) => {
                let (id, invoice_currency): (i64, String) = sqlx::query_as(
                    "SELECT id, currency FROM invoice WHERE number = $1 AND client_id = $2",
                )
                .bind(number.to_owned())
                .bind(client)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::NotFound {
                    entity: "invoice of this client",
                    key: number.to_owned(),
                })?;
                if invoice_currency != currency {
                    return Err(StoreError::Precondition(format!(
                        "payment {payment_id} is in {currency}; invoice {number} is in \
                         {invoice_currency}"
                    )));
                }
                AssignMode::WholeToOneInvoice(id)
            }
            None => AssignMode::UpToDebt,
        };
        sqlx::query("UPDATE payment SET client_id = $1, matched_by = 'manual' WHERE id = $2")
            .bind(client)
            .bind(payment_id)
            .execute(&mut *tx)
            .await?;
        let amount = money::from_minor_units(amount_minor);
        let day = parse_date("received_on", &received_on)?;
        let (allocated, to_credit) =
            Self::assign_to_client(tx, actor, client, payment_id, amount, &currency, mode, day)
                .await?;
        record_audit(
            tx,
            actor,
            "payment.assign",
            "payment",
            &payment_id.to_string(),
            Some(client_number),
            None,
            Some(serde_json::json!({"allocated": allocated.to_string(), "to_credit": to_credit.to_string(), "invoice": invoice}).to_string()),
        )
        .await?;
        Ok(PaymentOutcome {
            bank_transaction_id: None,
            client_id: Some(client),
            client_number: Some(client_number.to_owned()),
            matched_by: Some("manual"),
            amount,
            currency,
            allocated,
            to_credit,
            duplicate: false,
            unmatched_reason: None,
        })
    }

    /// Undoes a payment's assignment: invoices get their amounts back, the credit it made
    /// goes and the credit it spent returns; the payment waits among the unmatched again.
    /// Refused when the credit it created has been spent since (undo that first).
    pub async fn unassign_payment(&self, actor: &Actor, payment_id: i64) -> StoreResult<String> {
        let mut tx = self.write_tx().await?;
        let (client, to_credit, from_credit): (Option<i64>, i64, i64) = sqlx::query_as(
            "SELECT client_id, to_credit_minor, from_credit_minor FROM payment WHERE id = $1",
        )
        .bind(payment_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            entity: "payment",
            key: payment_id.to_string(),
        })?;
        let client = client.ok_or_else(|| {
            StoreError::Precondition(format!("payment {payment_id} is not assigned"))
        })?;
        let parts: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT invoice_id, amount_minor FROM payment_allocation WHERE payment_id = $1",
        )
        .bind(payment_id)
        .fetch_all(&mut *tx)
        .await?;
        let previous = Allocation {
            to_invoices: parts
                .iter()
                .map(|(id, m)| (*id, money::from_minor_units(*m)))
                .collect(),
            to_credit: money::from_minor_units(to_credit),
            from_credit: money::from_minor_units(from_credit),
        };
        let credit = Self::client_credit(&mut tx, client).await?;
        let reversal =
            unassign(&previous, credit).map_err(|e| StoreError::Precondition(e.to_string()))?;
        for (invoice_id, part) in &reversal.from_invoices {
            let (total, paid): (i64, i64) =
                sqlx::query_as("SELECT gross_minor, paid_minor FROM invoice WHERE id = $1")
                    .bind(*invoice_id)
                    .fetch_one(&mut *tx)
                    .await?;
            let paid = money::from_minor_units(paid) - *part;
            Self::set_invoice_paid(&mut tx, *invoice_id, money::from_minor_units(total), paid)
                .await?;
        }
        Self::set_client_credit(&mut tx, client, reversal.credit_after).await?;
        sqlx::query("DELETE FROM payment_allocation WHERE payment_id = $1")
            .bind(payment_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE payment SET client_id = NULL, matched_by = NULL, to_credit_minor = 0,
                from_credit_minor = 0 WHERE id = $1",
        )
        .bind(payment_id)
        .execute(&mut *tx)
        .await?;
        let number: String = sqlx::query_scalar("SELECT number FROM client WHERE id = $1")
            .bind(client)
            .fetch_one(&mut *tx)
            .await?;
        record_audit(
            &mut tx,
            actor,
            "payment.unassign",
            "payment",
            &payment_id.to_string(),
            Some(&number),
            None,
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(number)
    }

    /// The client's account in date order: the opening balance (dated the day the client was
    /// created), invoices, pro-formas, debit and credit notes, payments and refunds, with the
    /// running balance (positive = credit).
    pub async fn client_statement(&self, number: &str) -> StoreResult<Vec<StatementRow>> {
        let mut conn = self.pool.acquire().await?;
        let client = Self::client_id_of(&mut conn, number).await?;
        let (opening, created): (i64, String) =
            sqlx::query_as("SELECT opening_balance_minor, created_at FROM client WHERE id = $1")
                .bind(client)
                .fetch_one(&mut *conn)
                .await?;
        let mut entries = Vec::new();
        if opening != 0 {
            entries.push(StatementEntry::OpeningBalance {
                date: parse_date("created_at", created.get(..10).unwrap_or_default())?,
                amount: money::from_minor_units(opening),
            });
        }
        let documents: Vec<(String, String, String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT issue_date, number, kind, gross_minor, related_invoice_id FROM invoice
             WHERE client_id = $1 ORDER BY id",
        )
        .bind(client)
        .fetch_all(&mut *conn)
        .await?;
        for (date, number, kind, gross, related) in documents {
            let date = parse_date("issue_date", &date)?;
            let total = money::from_minor_units(gross);
            entries.push(match kind.as_str() {
                // The tax invoice of a paid pro-forma: the pro-forma is already listed.
                "invoice" if related.is_some() => continue,
                "invoice" => StatementEntry::Invoice {
                    date,
                    number,
                    total,
                },
                "proforma" => StatementEntry::Proforma {
                    date,
                    number,
                    total,
                },
                "debit_note" => StatementEntry::DebitNote {
                    date,
                    number,
                    total,
                },
                "credit_note" => StatementEntry::CreditNote {
                    date,
                    number,
                    total: -total,
                },
                // Listed from the client card, as the first line.
                _ => continue,
            });
        }
        let payments: Vec<(String, Option<String>, Option<String>, i64)> = sqlx::query_as(
            "SELECT received_on, variable_symbol, bank_transaction_id, amount_minor FROM payment
             WHERE client_id = $1 ORDER BY id",
        )
        .bind(client)
        .fetch_all(&mut *conn)
        .await?;
        for (date, vs, bank_id, amount) in payments {
            entries.push(StatementEntry::Payment {
                date: parse_date("received_on", &date)?,
                reference: vs.or(bank_id).unwrap_or_else(|| "manual".into()),
                amount: money::from_minor_units(amount),
            });
        }
        let refunds: Vec<(String, i64)> = sqlx::query_as(
            "SELECT refunded_on, amount_minor FROM refund WHERE client_id = $1 ORDER BY id",
        )
        .bind(client)
        .fetch_all(&mut *conn)
        .await?;
        for (date, amount) in refunds {
            entries.push(StatementEntry::Refund {
                date: parse_date("refunded_on", &date)?,
                amount: money::from_minor_units(amount),
            });
        }
        Ok(statement(Decimal::ZERO, &entries))
    }

    /// Pays credit back to the client (recorded, not a bank order); refused beyond the credit.
    pub async fn refund_credit(
        &self,
        actor: &Actor,
        number: &str,
        amount: Decimal,
        refunded_on: NaiveDate,
        note: &str,
    ) -> StoreResult<Decimal> {
        let amount_minor = money::to_minor_units("amount", amount)?;
        let mut tx = self.write_tx().await?;
        let client = Self::client_id_of(&mut tx, number).await?;
        let credit = Self::client_credit(&mut tx, client).await?;
        let after = ispd_billing::payment::refund(credit, amount).map_err(|e| {
            StoreError::Invalid(ispd_billing::FieldError::new("amount", e.to_string()))
        })?;
        sqlx::query(
            "INSERT INTO refund (client_id, amount_minor, refunded_on, note, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(client)
        .bind(amount_minor)
        .bind(date_text(refunded_on))
        .bind(note.to_owned())
        .bind(now())
        .execute(&mut *tx)
        .await?;
        Self::set_client_credit(&mut tx, client, after).await?;
        record_audit(
            &mut tx,
            actor,
            "payment.refund",
            "client",
            number,
            Some(number),
            None,
            Some(serde_json::json!({"amount": amount.to_string(), "credit_after": after.to_string()}).to_string()),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// `default_currency` states the payments recorded without one.
    pub async fn unmatched_payments(
        &self,
        default_currency: &str,
    ) -> StoreResult<Vec<UnmatchedPayment>> {
        Ok(sqlx::query_as(
            "SELECT id, amount_minor, COALESCE(currency, $1) AS currency, received_on,
                variable_symbol, payer_account, payer_name, message
             FROM payment WHERE client_id IS NULL ORDER BY id",
        )
        .bind(default_currency.to_owned())
        .fetch_all(&self.pool)
        .await?)
    }

    /// A client's credit, what it owes, whether it is suspended for debt, and its dunning
    /// controls.
    pub async fn client_balance(&self, number: &str) -> StoreResult<ClientBalance> {
        let mut conn = self.pool.acquire().await?;
        let client = Self::client_id_of(&mut conn, number).await?;
        let (credit, suspended, stopped, paused_until): (i64, i64, i64, Option<String>) =
            sqlx::query_as(
                "SELECT credit_minor, debt_suspended, dunning_stopped, dunning_paused_until
                 FROM client WHERE id = $1",
            )
            .bind(client)
            .fetch_one(&mut *conn)
            .await?;
        let owed: Decimal = Self::open_invoices(&mut conn, client)
            .await?
            .iter()
            .map(OpenInvoice::open_amount)
            .sum();
        Ok(ClientBalance {
            credit: money::from_minor_units(credit),
            owed,
            suspended: suspended != 0,
            dunning: DunningHold {
                stopped: stopped != 0,
                paused_until: parse_opt_date("dunning_paused_until", paused_until)?,
            },
        })
    }

    /// Stops, pauses or resumes a client's automatic reminders, with its audit entry. Only
    /// letters are held: suspension still follows the debt rule (see `ispd_billing::dunning`).
    /// A pause date in the past is accepted and simply holds nothing.
    pub async fn set_dunning_control(
        &self,
        actor: &Actor,
        number: &str,
        control: DunningControl,
    ) -> StoreResult<DunningHold> {
        let mut tx = self.write_tx().await?;
        let (id, stopped, paused_until): (i64, i64, Option<String>) = sqlx::query_as(
            "SELECT id, dunning_stopped, dunning_paused_until FROM client WHERE number = $1",
        )
        .bind(number.to_owned())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            entity: "client",
            key: number.to_owned(),
        })?;
        let before = DunningHold {
            stopped: stopped != 0,
            paused_until: parse_opt_date("dunning_paused_until", paused_until)?,
        };
        let (after, action) = match control {
            DunningControl::Stop => (
                DunningHold {
                    stopped: true,
                    paused_until: None,
                },
                "client.dunning_stop",
            ),
            DunningControl::PauseUntil(until) => (
                DunningHold {
                    stopped: false,
                    paused_until: Some(until),
                },
                "client.dunning_pause",
            ),
            DunningControl::Resume => (DunningHold::default(), "client.dunning_resume"),
        };
        sqlx::query(
            "UPDATE client SET dunning_stopped = $1, dunning_paused_until = $2 WHERE id = $3",
        )
        .bind(i64::from(after.stopped))
        .bind(after.paused_until.map(date_text))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let json = |hold: &DunningHold| serde_json::to_string(hold).ok();
        record_audit(
            &mut tx,
            actor,
            action,
            "client",
            number,
            Some(number),
            json(&before),
            json(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Every client with open invoices or a suspension: the dunning run's input.
    pub async fn dunning_inputs(&self) -> StoreResult<Vec<DunningInput>> {
        let mut conn = self.pool.acquire().await?;
        Self::dunning_inputs_where(
            &mut conn,
            "debt_suspended <> 0 OR id IN
                (SELECT client_id FROM invoice WHERE state IN ('unpaid', 'partially_paid'))",
            None,
        )
        .await
    }

    /// The dunning input of one client if it is suspended for debt (what a payment may lift),
    /// inside a use case's transaction: what it reads includes what the transaction wrote
    /// (the money just allocated).
    pub async fn suspended_dunning_input_in(
        &self,
        tx: &mut WriteTx,
        number: &str,
    ) -> StoreResult<Option<DunningInput>> {
        let condition = "debt_suspended <> 0 AND number = $1";
        Ok(
            Self::dunning_inputs_where(tx.conn(), condition, Some(number))
                .await?
                .pop(),
        )
    }

    async fn dunning_inputs_where(
        conn: &mut AnyConnection,
        condition: &str,
        number: Option<&str>,
    ) -> StoreResult<Vec<DunningInput>> {
        let sql = format!(
            "SELECT id, number, never_suspend, no_auto_reminders, debt_suspended,
                dunning_stopped, dunning_paused_until, suspend_after_days
             FROM client WHERE {condition} ORDER BY id"
        );
        type Row = (i64, String, i64, i64, i64, i64, Option<String>, Option<i64>);
        let mut query = sqlx::query_as::<_, Row>(AssertSqlSafe(sql));
        if let Some(number) = number {
            query = query.bind(number.to_owned());
        }
        let clients = query.fetch_all(&mut *conn).await?;
        // Three queries whatever the number of clients: the clients, their open documents,
        // their reminders.
        let clients_sql = format!("IN (SELECT id FROM client WHERE {condition})");
        let args: Vec<Arg> = number
            .map(|n| Arg::Text(n.to_owned()))
            .into_iter()
            .collect();
        let mut open = Self::open_documents_of(&mut *conn, &clients_sql, &args).await?;
        let mut sent: HashMap<i64, Vec<(i64, i64, String, String)>> = HashMap::new();
        let sql = format!(
            "SELECT i.client_id, r.invoice_id, r.level, r.sent_on, r.deadline FROM reminder r
             JOIN invoice i ON i.id = r.invoice_id
             WHERE i.client_id IN (SELECT id FROM client WHERE {condition})"
        );
        let mut query = sqlx::query_as::<_, (i64, i64, i64, String, String)>(AssertSqlSafe(sql));
        if let Some(number) = number {
            query = query.bind(number.to_owned());
        }
        for (client, invoice, level, on, deadline) in query.fetch_all(&mut *conn).await? {
            sent.entry(client)
                .or_default()
                .push((invoice, level, on, deadline));
        }
        let mut inputs = Vec::with_capacity(clients.len());
        for (id, number, never, no_reminders, suspended, stopped, paused, own_days) in clients {
            let sent = sent.remove(&id).unwrap_or_default();
            let open = open.remove(&id).unwrap_or_default();
            inputs.push(DunningInput {
                client_id: id,
                client_number: number,
                never_suspend: never != 0,
                no_auto_reminders: no_reminders != 0,
                dunning_stopped: stopped != 0,
                dunning_paused_until: parse_opt_date("dunning_paused_until", paused)?,
                suspend_after_days: own_days.and_then(|d| u32::try_from(d).ok()),
                debt_suspended: suspended != 0,
                documents: open
                    .iter()
                    .map(|(invoice, document)| (invoice.id, document.clone()))
                    .collect(),
                open_invoices: open.into_iter().map(|(invoice, _)| invoice).collect(),
                reminders_sent: sent
                    .iter()
                    .map(|(invoice, level, _, deadline)| {
                        Ok(SentReminder {
                            invoice_id: *invoice,
                            level: u8::try_from(*level).unwrap_or(u8::MAX),
                            deadline: parse_date("deadline", deadline)?,
                        })
                    })
                    .collect::<StoreResult<_>>()?,
                reminded_on: sent
                    .iter()
                    .map(|(invoice, _, on, _)| Ok((*invoice, parse_date("sent_on", on)?)))
                    .collect::<StoreResult<_>>()?,
            });
        }
        Ok(inputs)
    }

    /// Records a reminder once per invoice and level, with its audit entry; a second call for
    /// the same level stores nothing. A reminder with a fee issues, in the same transaction, a
    /// debit note for it: an open document due on the reminder's deadline, paid and chased
    /// like an invoice (see [`Self::issue_fee_debit_note`]).
    pub async fn record_reminder(
        &self,
        actor: &Actor,
        client_number: &str,
        reminder: &ReminderDue,
        sent_on: NaiveDate,
    ) -> StoreResult<RecordedReminder> {
        let mut tx = self.write_tx().await?;
        let invoice: String = sqlx::query_scalar("SELECT number FROM invoice WHERE id = $1")
            .bind(reminder.invoice_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                entity: "invoice",
                key: reminder.invoice_id.to_string(),
            })?;
        let fee = reminder.fee.filter(|fee| *fee > Decimal::ZERO);
        let inserted = sqlx::query(
            "INSERT INTO reminder (invoice_id, level, sent_on, deadline, fee_minor)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (invoice_id, level) DO NOTHING",
        )
        .bind(reminder.invoice_id)
        .bind(i64::from(reminder.level))
        .bind(date_text(sent_on))
        .bind(date_text(reminder.deadline))
        .bind(fee.map(|f| money::to_minor_units("fee", f)).transpose()?)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Ok(RecordedReminder {
                invoice_number: invoice,
                debit_note_number: None,
            });
        }
        let debit_note = match fee {
            Some(_) => Some(
                Self::issue_fee_debit_note(&mut tx, actor, client_number, reminder, sent_on)
                    .await?,
            ),
            None => None,
        };
        record_audit(
            &mut tx,
            actor,
            "invoice.reminder",
            "invoice",
            &invoice,
            Some(client_number),
            None,
            Some(
                serde_json::json!({
                    "level": reminder.level,
                    "deadline": date_text(reminder.deadline),
                    "final_notice": reminder.final_notice,
                    "fee": fee.map(|f| f.to_string()),
                    "debit_note": debit_note,
                })
                .to_string(),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(RecordedReminder {
            invoice_number: invoice,
            debit_note_number: debit_note,
        })
    }

    /// The debit note charging a reminder's fee: the next number of the reminded invoice's
    /// group (DebitNote series), issued and taxable on `today`, due on the reminder's
    /// deadline, in the reminded invoice's currency, with the client's number as variable
    /// symbol and one line at VAT 0 (`ispd_billing::dunning::fee_line`).
    async fn issue_fee_debit_note(
        conn: &mut AnyConnection,
        actor: &Actor,
        client_number: &str,
        reminder: &ReminderDue,
        today: NaiveDate,
    ) -> StoreResult<String> {
        let (invoice_number, group, client_id, currency): (String, String, i64, String) =
            sqlx::query_as(
                "SELECT number, invoice_group, client_id, currency FROM invoice WHERE id = $1",
            )
            .bind(reminder.invoice_id)
            .fetch_one(&mut *conn)
            .await?;
        let line = ispd_billing::dunning::fee_line(reminder, &invoice_number)
            .ok_or_else(|| StoreError::Precondition("a debit note needs a fee".into()))?;
        let name: String = sqlx::query_scalar("SELECT name FROM client WHERE id = $1")
            .bind(client_id)
            .fetch_one(&mut *conn)
            .await?;
        let head = ClientHead {
            client_id,
            client_number: client_number.to_owned(),
            client_name: name,
            invoice_group: group,
        };
        let mut draft = InvoiceDraft::empty(DocumentKind::DebitNote, &head, today);
        draft.related_invoice_id = Some(reminder.invoice_id);
        draft.related_number = Some(invoice_number);
        draft.due_date = reminder.deadline;
        draft.currency = currency;
        draft.lines.push(InvoiceLineRecord {
            line,
            subscription_id: None,
            period: None,
            reverses: None,
        });
        draft.total_up();
        let issued = Self::issue_in(conn, actor, &draft)
            .await?
            .ok_or_else(|| StoreError::Precondition("the debit note was not issued".into()))?;
        Ok(issued.number)
    }

    /// The numbers of the clients suspended for debt.
    pub async fn debt_suspended_clients_in(
        &self,
        tx: &mut WriteTx,
    ) -> StoreResult<std::collections::HashSet<String>> {
        let numbers: Vec<String> =
            sqlx::query_scalar("SELECT number FROM client WHERE debt_suspended <> 0")
                .fetch_all(tx.conn())
                .await?;
        Ok(numbers.into_iter().collect())
    }

    /// Records the dunning decision for a client, with its audit entry.
    pub async fn set_debt_suspended(
        &self,
        actor: &Actor,
        client_number: &str,
        suspended: bool,
        overdue: Decimal,
        reason: serde_json::Value,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        self.set_debt_suspended_in(&mut tx, actor, client_number, suspended, overdue, reason)
            .await?;
        tx.commit().await
    }

    /// [`Store::set_debt_suspended`] inside a use case's transaction.
    pub async fn set_debt_suspended_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        client_number: &str,
        suspended: bool,
        overdue: Decimal,
        reason: serde_json::Value,
    ) -> StoreResult<()> {
        let tx = tx.conn();
        sqlx::query("UPDATE client SET debt_suspended = $1 WHERE number = $2")
            .bind(i64::from(suspended))
            .bind(client_number.to_owned())
            .execute(&mut *tx)
            .await?;
        record_audit(
            tx,
            actor,
            if suspended {
                "client.suspend"
            } else {
                "client.restore"
            },
            "client",
            client_number,
            Some(client_number),
            None,
            Some(
                serde_json::json!({"overdue": overdue.to_string(), "invoices": reason}).to_string(),
            ),
        )
        .await
    }
}

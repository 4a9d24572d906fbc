//! Payments once recorded: the matching directory and the open documents a batch reads
//! (`payment_batch.rs` writes what the core decided of it), a payment assigned or unassigned
//! by hand, credit, refunds, the balance and the statement.

use std::collections::HashMap;

use chrono::NaiveDate;
use ispd_billing::client::BankAccount;
use ispd_billing::money;
use ispd_billing::payment::assignment::{Assigned, Placed, Unassigned, Waiting};
use ispd_billing::payment::{Allocation, Directory, OpenInvoice, StatementEntry};
use rust_decimal::Decimal;
use sqlx::AnyConnection;

use super::dunning::{DunningHold, OpenDocument};
use super::statements::{Cells, Kind, Statements};

use super::{
    Actor, Arg, Audit, DocumentKind, Store, StoreError, StoreResult, WriteTx, corrupt, date_text,
    now, parse_date, parse_opt_date,
};

/// Moves `rest` of payment `id` into a payment of its own, unmatched, naming the one it came
/// from (the bank's transaction id stays on the first: re-importing the statement still
/// finds it). Returns the new payment's id.
async fn split_off(conn: &mut AnyConnection, id: i64, rest: Decimal) -> StoreResult<i64> {
    let rest = money::to_minor_units("payment.unpaired", rest)?;
    sqlx::query("UPDATE payment SET amount_minor = amount_minor - $1 WHERE id = $2")
        .bind(rest)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(sqlx::query_scalar(
        "INSERT INTO payment (client_id, amount_minor, currency, received_on, variable_symbol,
            payer_account, payer_name, message, source, split_from, created_at)
         SELECT NULL, $1, currency, received_on, variable_symbol, payer_account, payer_name,
            message, source, id, $2
         FROM payment WHERE id = $3
         RETURNING id",
    )
    .bind(rest)
    .bind(now())
    .bind(id)
    .fetch_one(&mut *conn)
    .await?)
}

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
    /// The ISP's account the statement is of, normalised: `bank_transaction_id` is unique
    /// on it (`ispd_billing::payment::receipt::RecordedIds`).
    pub statement_account: Option<String>,
    /// ISO 4217. Only a payment in its client's currency (that of the client's invoice group)
    /// pays the client's documents or becomes credit (`ispd_billing::payment::receipt`).
    pub currency: String,
    /// "manual" or the statement format.
    pub source: String,
    /// Set for a manual payment: the client it is for, no matching needed.
    pub client_number: Option<String>,
    /// Cash for a service: the client's subscription it pays, its documents first.
    pub for_subscription: Option<i64>,
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
    /// Paired only up to the debt: what was left, now a payment of its own among the
    /// unmatched (`amount` is then what was paired).
    pub unpaired: Decimal,
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

/// A client's balance and dunning state (`ispctl payment balance`).
#[derive(Debug, Clone, PartialEq)]
pub struct ClientBalance {
    pub credit: Decimal,
    pub owed: Decimal,
    pub suspended: bool,
    pub dunning: DunningHold,
}

impl Store {
    /// Everything a variable symbol or account can name, read once per import, and every
    /// client's number by id.
    pub(super) async fn payment_directory(
        conn: &mut impl Statements,
    ) -> StoreResult<(Directory, HashMap<i64, String>)> {
        let mut directory = Directory::new();
        let mut numbers = HashMap::new();
        let clients = conn
            .rows(
                "SELECT id, number FROM client",
                Vec::new(),
                &[Kind::Int, Kind::Text],
            )
            .await?;
        for row in clients {
            let mut c = Cells::new("client", row);
            let (id, number) = (c.int("id")?, c.text("number")?);
            directory.add_client_number(id, &number);
            numbers.insert(id, number);
        }
        let sql = "SELECT client_id, variable_symbol FROM client_variable_symbol";
        for row in conn.rows(sql, Vec::new(), &[Kind::Int, Kind::Text]).await? {
            let mut c = Cells::new("client_variable_symbol", row);
            directory.add_assigned_vs(c.int("client_id")?, &c.text("variable_symbol")?);
        }
        let sql = "SELECT client_id, id, variable_symbol FROM subscription
                   WHERE variable_symbol IS NOT NULL";
        let kinds = [Kind::Int, Kind::Int, Kind::Text];
        for row in conn.rows(sql, Vec::new(), &kinds).await? {
            let mut c = Cells::new("subscription", row);
            let (client, id) = (c.int("client_id")?, c.int("id")?);
            directory.add_subscription_vs(client, id, &c.text("variable_symbol")?);
        }
        let sql = "SELECT client_id, number, iban, bic FROM client_bank_account";
        let kinds = [Kind::Int, Kind::Text, Kind::Text, Kind::Text];
        for row in conn.rows(sql, Vec::new(), &kinds).await? {
            let mut c = Cells::new("client_bank_account", row);
            let id = c.int("client_id")?;
            let account = BankAccount {
                number: c.text("number")?,
                iban: c.text("iban")?,
                bic: c.text("bic")?,
            };
            directory.add_bank_account(id, &account);
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
        conn: &mut impl Statements,
        clients: &str,
        args: &[Arg],
    ) -> StoreResult<HashMap<i64, Vec<(OpenInvoice, OpenDocument)>>> {
        let sql = format!(
            "SELECT id, client_id, number, issue_date, due_date, gross_minor - credited_minor,
                paid_minor, kind, currency
             FROM invoice
             WHERE state IN ('unpaid', 'partially_paid') AND client_id {clients}
             ORDER BY id"
        );
        let params = args.iter().map(Arg::value).collect();
        use Kind::{Int, Text};
        let kinds = [Int, Int, Text, Text, Text, Int, Int, Text, Text];
        let mut open: HashMap<i64, Vec<(OpenInvoice, OpenDocument)>> = HashMap::new();
        for row in conn.rows(&sql, params, &kinds).await? {
            let mut c = Cells::new("invoice", row);
            let (id, client, number) = (c.int("id")?, c.int("client_id")?, c.text("number")?);
            let issue = c.text("issue_date")?;
            let due = c.text("due_date")?;
            let (total, paid) = (c.int("total")?, c.int("paid_minor")?);
            let (kind, currency) = (c.text("kind")?, c.text("currency")?);
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

    /// The currency client `number` is invoiced in (see [`Self::client_currency`]).
    /// `default_currency` is the `[billing] currency`, for a group that names none.
    pub async fn currency_of_client(
        &self,
        number: &str,
        default_currency: &str,
    ) -> StoreResult<String> {
        let mut conn = self.pool.acquire().await?;
        let client = Self::client_id_of(&mut *conn, number).await?;
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

    /// The day payment `id` was received.
    pub async fn payment_received_on_in(
        &self,
        tx: &mut WriteTx,
        id: i64,
    ) -> StoreResult<NaiveDate> {
        let text: String = sqlx::query_scalar("SELECT received_on FROM payment WHERE id = $1")
            .bind(id)
            .fetch_optional(tx.conn())
            .await?
            .ok_or_else(|| StoreError::not_found("payment", id.to_string()))?;
        parse_date("payment.received_on", &text)
    }

    /// The payment as an assignment by hand reads it, and the day it was received.
    pub async fn waiting_payment_in(
        &self,
        tx: &mut WriteTx,
        id: i64,
        default_currency: &str,
    ) -> StoreResult<(Waiting, NaiveDate)> {
        let (client, amount, currency, received_on): (Option<i64>, i64, String, String) =
            sqlx::query_as(
                "SELECT client_id, amount_minor, COALESCE(currency, $2), received_on
                 FROM payment WHERE id = $1",
            )
            .bind(id)
            .bind(default_currency.to_owned())
            .fetch_optional(tx.conn())
            .await?
            .ok_or_else(|| StoreError::not_found("payment", id.to_string()))?;
        let waiting = Waiting {
            id,
            amount: money::from_minor_units(amount),
            currency,
            assigned: client.is_some(),
        };
        Ok((waiting, parse_date("received_on", &received_on)?))
    }

    /// The id and currency of document `number` of client `client`.
    pub async fn client_document_in(
        &self,
        tx: &mut WriteTx,
        number: &str,
        client: i64,
    ) -> StoreResult<(i64, String)> {
        sqlx::query_as("SELECT id, currency FROM invoice WHERE number = $1 AND client_id = $2")
            .bind(number.to_owned())
            .bind(client)
            .fetch_optional(tx.conn())
            .await?
            .ok_or_else(|| StoreError::not_found("invoice of this client", number.to_owned()))
    }

    /// Writes what the core decided of an assignment by hand: the payment on the client, its
    /// allocations, the documents' paid amounts and states, the client's credit, and the
    /// audit record (`invoice`: the document the whole payment went on, if one was chosen).
    pub async fn record_assignment_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        (payment_id, client_id, client_number): (i64, i64, &str),
        assigned: &Assigned,
        invoice: Option<&str>,
    ) -> StoreResult<()> {
        let conn = tx.conn();
        let allocation = &assigned.allocation;
        sqlx::query(
            "UPDATE payment SET client_id = $1, matched_by = 'manual', to_credit_minor = $2,
                from_credit_minor = $3
             WHERE id = $4",
        )
        .bind(client_id)
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
        let rest = if assigned.unpaired > Decimal::ZERO {
            Some(split_off(conn, payment_id, assigned.unpaired).await?)
        } else {
            None
        };
        for (invoice_id, part) in &allocation.to_invoices {
            sqlx::query(
                "INSERT INTO payment_allocation (payment_id, invoice_id, amount_minor) VALUES ($1, $2, $3)",
            )
            .bind(payment_id)
            .bind(*invoice_id)
            .bind(money::to_minor_units("allocation", *part)?)
            .execute(&mut *conn)
            .await?;
        }
        super::settlement::write_documents_paid(conn, &assigned.documents).await?;
        Self::set_client_credit(conn, client_id, assigned.credit).await?;
        let summary = serde_json::json!({
            "allocated": assigned.allocated().to_string(),
            "to_credit": allocation.to_credit.to_string(),
            "invoice": invoice,
            "unpaired": assigned.unpaired.to_string(),
            "rest_payment": rest,
        });
        Audit::new("payment.assign", "payment", &payment_id.to_string())
            .client(client_number)
            .after(&summary)
            .record(conn, actor)
            .await
    }

    /// Payment `payment_id` as it stands on its client — the client (id and number) and where
    /// its money went, the client's credit and each document it paid as that stands now — or
    /// `None` when it is on no client.
    pub async fn placed_payment_in(
        &self,
        tx: &mut WriteTx,
        payment_id: i64,
    ) -> StoreResult<Option<(i64, String, Placed)>> {
        let conn = tx.conn();
        let (client, to_credit, from_credit): (Option<i64>, i64, i64) = sqlx::query_as(
            "SELECT client_id, to_credit_minor, from_credit_minor FROM payment WHERE id = $1",
        )
        .bind(payment_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::not_found("payment", payment_id.to_string()))?;
        let Some(client) = client else {
            return Ok(None);
        };
        let parts: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT invoice_id, amount_minor FROM payment_allocation WHERE payment_id = $1",
        )
        .bind(payment_id)
        .fetch_all(&mut *conn)
        .await?;
        let mut documents = Vec::with_capacity(parts.len());
        for (invoice, _) in &parts {
            documents.push(Self::document_as_open(conn, *invoice).await?);
        }
        let number: String = sqlx::query_scalar("SELECT number FROM client WHERE id = $1")
            .bind(client)
            .fetch_one(&mut *conn)
            .await?;
        let waiting_rest: Option<(i64, i64)> = sqlx::query_as(
            "SELECT id, amount_minor FROM payment WHERE split_from = $1 AND client_id IS NULL",
        )
        .bind(payment_id)
        .fetch_optional(&mut *conn)
        .await?;
        let placed = Placed {
            waiting_rest: waiting_rest.map(|(id, m)| (id, money::from_minor_units(m))),
            allocation: Allocation {
                to_invoices: parts
                    .iter()
                    .map(|(id, m)| (*id, money::from_minor_units(*m)))
                    .collect(),
                to_credit: money::from_minor_units(to_credit),
                from_credit: money::from_minor_units(from_credit),
            },
            credit: Self::client_credit(conn, client).await?,
            documents,
        };
        Ok(Some((client, number, placed)))
    }

    /// Document `id` with what it asks (its gross less what credit notes took off) and what
    /// is paid of it, whatever its state.
    async fn document_as_open(conn: &mut AnyConnection, id: i64) -> StoreResult<OpenInvoice> {
        let (number, issued, due, total, paid): (String, String, String, i64, i64) =
            sqlx::query_as(
                "SELECT number, issue_date, due_date, gross_minor - credited_minor, paid_minor
                 FROM invoice WHERE id = $1",
            )
            .bind(id)
            .fetch_one(&mut *conn)
            .await?;
        Ok(OpenInvoice {
            id,
            number,
            issue_date: parse_date("issue_date", &issued)?,
            due_date: parse_date("due_date", &due)?,
            total: money::from_minor_units(total),
            paid: money::from_minor_units(paid),
        })
    }

    /// Writes a payment taken back from its client (what the core decided of it): its
    /// documents' paid amounts and states, the client's credit, the payment unmatched again,
    /// and the audit record.
    pub async fn record_unassignment_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        (payment_id, client, client_number): (i64, i64, &str),
        undone: &Unassigned,
    ) -> StoreResult<()> {
        let conn = tx.conn();
        super::settlement::write_documents_paid(conn, &undone.documents).await?;
        Self::set_client_credit(conn, client, undone.credit).await?;
        sqlx::query("DELETE FROM payment_allocation WHERE payment_id = $1")
            .bind(payment_id)
            .execute(&mut *conn)
            .await?;
        sqlx::query(
            "UPDATE payment SET client_id = NULL, matched_by = NULL, to_credit_minor = 0,
                from_credit_minor = 0 WHERE id = $1",
        )
        .bind(payment_id)
        .execute(&mut *conn)
        .await?;
        if let Some((rest, amount)) = undone.rejoined {
            sqlx::query("DELETE FROM payment WHERE id = $1")
                .bind(rest)
                .execute(&mut *conn)
                .await?;
            sqlx::query("UPDATE payment SET amount_minor = amount_minor + $1 WHERE id = $2")
                .bind(money::to_minor_units("payment.amount", amount)?)
                .bind(payment_id)
                .execute(&mut *conn)
                .await?;
        }
        Audit::new("payment.unassign", "payment", &payment_id.to_string())
            .client(client_number)
            .record(conn, actor)
            .await
    }

    /// What the client's statement lists: the opening balance (dated the day the client was
    /// created), invoices, pro-formas, debit and credit notes, payments and refunds — in the
    /// order they were recorded; the statement's order and running balance are the core's.
    pub async fn client_statement_entries(&self, number: &str) -> StoreResult<Vec<StatementEntry>> {
        let mut conn = self.pool.acquire().await?;
        let client = Self::client_id_of(&mut *conn, number).await?;
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
        Ok(entries)
    }

    /// Writes credit paid back to client `client` (recorded, not a bank order): the refund,
    /// the client's credit after (what the core left of it), and the audit record.
    pub async fn record_refund_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        (client, number): (i64, &str),
        (amount, refunded_on, note): (Decimal, NaiveDate, &str),
        credit_after: Decimal,
    ) -> StoreResult<()> {
        let conn = tx.conn();
        sqlx::query(
            "INSERT INTO refund (client_id, amount_minor, refunded_on, note, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(client)
        .bind(money::to_minor_units("amount", amount)?)
        .bind(date_text(refunded_on))
        .bind(note.to_owned())
        .bind(now())
        .execute(&mut *conn)
        .await?;
        Self::set_client_credit(conn, client, credit_after).await?;
        let summary = serde_json::json!({
            "amount": amount.to_string(),
            "credit_after": credit_after.to_string(),
        });
        Audit::new("payment.refund", "client", number)
            .client(number)
            .after(&summary)
            .record(conn, actor)
            .await
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
        let client = Self::client_id_of(&mut *conn, number).await?;
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
}

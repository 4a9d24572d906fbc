//! Dunning: what the decision needs about each client (open documents, reminders sent, the
//! per-client controls), the reminders recorded, and the suspension flag with its audit entry.
//! The decisions — and the debit note charging a reminder's fee — are the use case's, by
//! `ispd_billing::dunning`'s rules.

use std::collections::HashMap;

use super::statements::{Cells, Kind, Statements, Value};
use super::{
    Actor, Arg, Audit, ClientHead, DocumentKind, Store, StoreError, StoreResult, Tx, WriteTx,
    date_text, parse_date, parse_opt_date,
};
use chrono::NaiveDate;
use ispd_billing::dunning::{ReminderDue, SentReminder};
use ispd_billing::money;
use ispd_billing::payment::OpenInvoice;
use rust_decimal::Decimal;

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

/// The invoice a reminder is about, as the debit note charging its fee copies it.
#[derive(Debug, Clone, PartialEq)]
pub struct RemindedInvoice {
    pub number: String,
    pub head: ClientHead,
    pub currency: String,
}

impl Store {
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
        .ok_or_else(|| StoreError::not_found("client", number.to_owned()))?;
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
        Audit::new(action, "client", number)
            .client(number)
            .before(&before)
            .after(&after)
            .commit(tx, actor)
            .await?;
        Ok(after)
    }

    /// Every client with open invoices or a suspension: the dunning run's input.
    pub async fn dunning_inputs(&self) -> StoreResult<Vec<DunningInput>> {
        let mut conn = self.pool.acquire().await?;
        Self::dunning_inputs_where(
            &mut *conn,
            "debt_suspended <> 0 OR id IN
                (SELECT client_id FROM invoice WHERE state IN ('unpaid', 'partially_paid'))",
            None,
        )
        .await
    }

    /// The dunning input of one client, inside a use case's transaction: what it reads
    /// includes what the transaction wrote (the money a payment just allocated), and the
    /// decision is written on it (the dunning run's per client, a payment's restore).
    pub async fn dunning_input_in(
        &self,
        tx: &mut impl Tx,
        number: &str,
    ) -> StoreResult<Option<DunningInput>> {
        let condition = "number = $1";
        Ok(
            Self::dunning_inputs_where(&mut tx.conn(), condition, Some(number))
                .await?
                .pop(),
        )
    }

    async fn dunning_inputs_where(
        conn: &mut impl Statements,
        condition: &str,
        number: Option<&str>,
    ) -> StoreResult<Vec<DunningInput>> {
        let sql = format!(
            "SELECT id, number, never_suspend, no_auto_reminders, debt_suspended,
                dunning_stopped, dunning_paused_until, suspend_after_days
             FROM client WHERE {condition} ORDER BY id"
        );
        let params = || number.map(Value::from).into_iter().collect::<Vec<_>>();
        use Kind::{Int, Text};
        let kinds = [Int, Text, Int, Int, Int, Int, Text, Int];
        let clients = conn
            .rows(&sql, params(), &kinds)
            .await?
            .into_iter()
            .map(|row| {
                let mut c = Cells::new("client", row);
                Ok((
                    c.int("id")?,
                    c.text("number")?,
                    c.int("never_suspend")?,
                    c.int("no_auto_reminders")?,
                    c.int("debt_suspended")?,
                    c.int("dunning_stopped")?,
                    c.opt_text("dunning_paused_until")?,
                    c.opt_int("suspend_after_days")?,
                ))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        // Three queries whatever the number of clients: the clients, their open documents,
        // their reminders.
        let clients_sql = format!("IN (SELECT id FROM client WHERE {condition})");
        let args: Vec<Arg> = number
            .map(|n| Arg::Text(n.to_owned()))
            .into_iter()
            .collect();
        let mut open = Self::open_documents_of(&mut *conn, &clients_sql, &args).await?;
        let mut sent = reminders_sent(&mut *conn, condition, params()).await?;
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

    /// Records that a reminder of `reminder.level` went out for its invoice on `sent_on`,
    /// once per invoice and level. Returns the invoice as its fee's debit note copies it, and
    /// whether the reminder is new (`false`: that level was recorded before, nothing stored).
    pub async fn insert_reminder_in(
        &self,
        tx: &mut WriteTx,
        reminder: &ReminderDue,
        sent_on: NaiveDate,
    ) -> StoreResult<(RemindedInvoice, bool)> {
        let conn = tx.conn();
        type Row = (String, String, i64, String, String, String);
        let (number, group, client_id, client_number, client_name, currency): Row = sqlx::query_as(
            "SELECT i.number, i.invoice_group, i.client_id, c.number, c.name, i.currency
                 FROM invoice i JOIN client c ON c.id = i.client_id WHERE i.id = $1",
        )
        .bind(reminder.invoice_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::not_found("invoice", reminder.invoice_id.to_string()))?;
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
        .execute(&mut *conn)
        .await?
        .rows_affected();
        let invoice = RemindedInvoice {
            number,
            head: ClientHead {
                client_id,
                client_number,
                client_name,
                invoice_group: group,
            },
            currency,
        };
        Ok((invoice, inserted > 0))
    }

    /// The audit record of a reminder sent (and the debit note charging its fee, if any).
    pub async fn audit_reminder_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        invoice: &RemindedInvoice,
        reminder: &ReminderDue,
        debit_note: Option<&str>,
    ) -> StoreResult<()> {
        Audit::new("invoice.reminder", "invoice", &invoice.number)
            .client(&invoice.head.client_number)
            .after(&serde_json::json!({
                "level": reminder.level,
                "deadline": date_text(reminder.deadline),
                "final_notice": reminder.final_notice,
                "fee": reminder.fee.filter(|fee| *fee > Decimal::ZERO).map(|f| f.to_string()),
                "debit_note": debit_note,
            }))
            .record(tx.conn(), actor)
            .await
    }

    /// The numbers of the clients suspended for debt.
    pub async fn debt_suspended_clients_in(
        &self,
        tx: &mut impl Tx,
    ) -> StoreResult<std::collections::HashSet<String>> {
        let sql = "SELECT number FROM client WHERE debt_suspended <> 0";
        tx.conn()
            .rows(sql, Vec::new(), &[Kind::Text])
            .await?
            .into_iter()
            .map(|row| Cells::new("client", row).text("number"))
            .collect()
    }

    /// Records the dunning decision for a client, with its audit entry, inside a use case's
    /// transaction.
    pub async fn set_debt_suspended_in(
        &self,
        tx: &mut impl Tx,
        actor: &Actor,
        client_number: &str,
        suspended: bool,
        overdue: Decimal,
        reason: serde_json::Value,
    ) -> StoreResult<()> {
        let mut conn = tx.conn();
        Statements::execute(
            &mut conn,
            "UPDATE client SET debt_suspended = $1 WHERE number = $2",
            vec![
                Value::from(i64::from(suspended)),
                Value::from(client_number),
            ],
        )
        .await?;
        let action = if suspended {
            "client.suspend"
        } else {
            "client.restore"
        };
        Audit::new(action, "client", client_number)
            .client(client_number)
            .after(&serde_json::json!({"overdue": overdue.to_string(), "invoices": reason}))
            .record(&mut conn, actor)
            .await
    }
}

/// The reminders sent for the documents of the clients `condition` selects (`params` binds
/// it), by client: (invoice, level, sent on, deadline).
async fn reminders_sent(
    conn: &mut impl Statements,
    condition: &str,
    params: Vec<Value<'_>>,
) -> StoreResult<HashMap<i64, Vec<(i64, i64, String, String)>>> {
    let sql = format!(
        "SELECT i.client_id, r.invoice_id, r.level, r.sent_on, r.deadline FROM reminder r
         JOIN invoice i ON i.id = r.invoice_id
         WHERE i.client_id IN (SELECT id FROM client WHERE {condition})"
    );
    let mut sent: HashMap<i64, Vec<(i64, i64, String, String)>> = HashMap::new();
    let kinds = [Kind::Int, Kind::Int, Kind::Int, Kind::Text, Kind::Text];
    for row in conn.rows(&sql, params, &kinds).await? {
        let mut c = Cells::new("reminder", row);
        let (client, invoice) = (c.int("client_id")?, c.int("invoice_id")?);
        let (level, on, deadline) = (c.int("level")?, c.text("sent_on")?, c.text("deadline")?);
        sent.entry(client)
            .or_default()
            .push((invoice, level, on, deadline));
    }
    Ok(sent)
}

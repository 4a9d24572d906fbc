//! What happens when money arrives or is put where it belongs: payments typed in or imported
//! from a bank statement, an unmatched payment assigned by hand. Each records the money and
//! restores every suspended client it paid enough — one transaction, so a payment never lands
//! without the restore it causes, nor the other way round — then publishes the restores.
//! Besides: unassigning, refunds, a client's balance and statement.

use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use chrono::NaiveDate;
use ispd_billing::bank::{CsvMapping, Statement, StatementLine, decode};
use ispd_billing::dunning::DunningSettings;
use ispd_billing::field::{Text, text};
use ispd_billing::payment::assignment::{self, AssignError, Chosen, Rest};
use ispd_billing::payment::cash;
use ispd_billing::payment::receipt::{self, Arrival, FoundBy, Receipts, Whose};
use ispd_billing::payment::{Directory, IncomingPayment, StatementRow, normalize_account};
use ispd_billing::price_change::ServicePrice;
use rust_decimal::Decimal;

use super::statement_upload::{self, Parts, Pieces, StatementUpload};
use super::{App, AppError, AppResult, InCurrency, books, field, settlement};
use crate::app::dunning_run::{DunningChange, decide};
use crate::changes::{Change, ChangeFeed};
use crate::storage::{
    AccessScope, Actor, ClientBalance, NewPayment, PaymentOutcome, Store, StoreResult, Tx,
    UnmatchedPayment, WriteTx,
};

/// The payments as recorded, and the clients whose access they restored.
#[derive(Debug, Default)]
pub struct Received {
    pub outcomes: Vec<PaymentOutcome>,
    pub restored: HashSet<String>,
    /// A statement's reversals (camt.053 `RvslInd`, GPC codes 4 and 5), in file order: never
    /// payments, but one may take back money a recorded payment brought, which only the
    /// operator can tell (`payment unassign`), so the import names them.
    pub reversals: Vec<StatementLine>,
}

/// A payment typed in by hand for a known client.
#[derive(Debug)]
pub struct ManualPayment {
    pub client_number: String,
    pub amount: Decimal,
    /// Today when left out.
    pub received_on: Option<NaiveDate>,
    /// The client's currency when left out.
    pub currency: Option<String>,
    pub note: String,
    /// Cash for one of the client's services (Mango): whole periods of its price, paying its
    /// documents first.
    pub for_subscription: Option<i64>,
}

/// A bank statement as exported by the bank.
#[derive(Debug)]
pub struct StatementFile<'a> {
    /// camt053, csv or gpc.
    pub format: &'a str,
    /// Owned, so the import lets it go once it is parsed: a statement of 100,000 payments is
    /// tens of megabytes the recording does not need. Shared bytes, so the request's own buffer
    /// is not copied.
    pub content: Bytes,
    /// The column mapping as TOML, for csv.
    pub mapping: &'a str,
}

/// Records a payment typed in by hand (see [`receive`]).
pub async fn add(app: &App<'_>, actor: &Actor, payment: ManualPayment) -> AppResult<Received> {
    text("note", &payment.note, Text::Note)?;
    if let Some(id) = payment.for_subscription {
        cash_for_service(app, &payment, id).await?;
    }
    let received_on = app.day_or_today(payment.received_on);
    let currency = match payment.currency {
        None => {
            app.store
                .currency_of_client(&payment.client_number, &app.currency())
                .await?
        }
        Some(given) => given.to_ascii_uppercase(),
    };
    let payment = NewPayment {
        amount: payment.amount,
        received_on,
        variable_symbol: None,
        payer_account: None,
        payer_name: None,
        message: (!payment.note.is_empty()).then_some(payment.note),
        bank_transaction_id: None,
        statement_account: None,
        currency,
        source: "manual".into(),
        client_number: Some(payment.client_number),
        for_subscription: payment.for_subscription,
    };
    receive(app, actor, vec![payment]).await
}

/// Cash for a service: the subscription is the client's, and the amount is whole periods of
/// its price (`cash::whole_periods`, gross, as its invoice line would charge one period).
async fn cash_for_service(app: &App<'_>, payment: &ManualPayment, id: i64) -> AppResult<()> {
    let record = app.store.get_subscription(id).await?;
    if record.client_number != payment.client_number {
        return Err(field(
            "for_subscription",
            format!(
                "subscription {id} is client {}'s, not {}'s",
                record.client_number, payment.client_number
            ),
        ));
    }
    let tariff = app.store.get_tariff(&record.tariff_name).await?;
    let price = ServicePrice::of(&tariff, record.subscription.price_override);
    cash::whole_periods(payment.amount, price.period_gross())?;
    Ok(())
}

/// Reads a bank statement (the billing core parses it) and records its incoming payments
/// (see [`receive`]).
pub async fn import(app: &App<'_>, actor: &Actor, file: StatementFile<'_>) -> AppResult<Received> {
    let Movements {
        payments,
        reversals,
    } = movements_in(file)?;
    let received = match receive_alone(app, actor, payments).await {
        Ok(Alone::Received(received)) => Ok(received),
        Ok(Alone::General(payments)) => receive(app, actor, payments).await,
        Err(e) => Err(e),
    };
    crate::heap::release_free_memory();
    let received = Received {
        reversals,
        ..received?
    };
    imported(&received, app.clock.now());
    Ok(received)
}

/// [`import`] for a statement that arrives in pieces. A camt.053 statement is read on a thread
/// of its own and its payments recorded part by part in one transaction
/// ([`statement_upload`]): neither the file nor its parsed lines are held whole in memory. A
/// refusal of the file at its end, of the upload, or of any part's recording records
/// nothing. CSV and GPC statements are read once whole.
pub async fn import_upload(
    app: &App<'_>,
    actor: &Actor,
    upload: StatementUpload<'_>,
) -> AppResult<Received> {
    let StatementUpload {
        format,
        mapping,
        pieces,
    } = upload;
    if format != "camt053" {
        let content = statement_upload::gather(pieces).await?;
        let file = StatementFile {
            format,
            content,
            mapping,
        };
        return import(app, actor, file).await;
    }
    let received = if app.store.writes_alone() {
        import_spooled(app, actor, pieces).await
    } else {
        import_arriving(app, actor, pieces).await
    };
    crate::heap::release_free_memory();
    let received = received?;
    imported(&received, app.clock.now());
    Ok(received)
}

/// On a SQLite file, whose write lock every writer waits for: the upload held on disk until
/// its last piece is in, then read beside its recording on the store's own connection. A
/// statement that may complete a pro-forma goes as [`import`] does, the file read again whole.
async fn import_spooled(
    app: &App<'_>,
    actor: &Actor,
    pieces: tokio::sync::mpsc::Receiver<AppResult<bytes::Bytes>>,
) -> AppResult<Received> {
    let state_dir = app.config.load().state_dir.clone();
    let file = statement_upload::spool(pieces, &state_dir).await?;
    let (parts, reader) = statement_upload::start_reading(file, PAYMENTS_PER_PART);
    let written = record_parts(app, actor, parts).await;
    let (file, reversals) = reader.end().await?;
    match written? {
        Some(received) => Ok(Received {
            reversals,
            ..received
        }),
        None => {
            let file = StatementFile {
                format: "camt053",
                content: statement_upload::whole(file).await?,
                mapping: "",
            };
            let Movements {
                payments,
                reversals,
            } = movements_in(file)?;
            let received = receive(app, actor, payments).await?;
            Ok(Received {
                reversals,
                ..received
            })
        }
    }
}

/// Elsewhere (PostgreSQL, SQLite in memory): the upload read as it arrives, its parts
/// recorded in the pool's transaction as they come.
async fn import_arriving(
    app: &App<'_>,
    actor: &Actor,
    pieces: tokio::sync::mpsc::Receiver<AppResult<bytes::Bytes>>,
) -> AppResult<Received> {
    let (parts, reader) = statement_upload::start_reading(Pieces::new(pieces), PAYMENTS_PER_PART);
    let written = receive_parts(app, actor, parts).await;
    let (mut pieces, reversals) = reader.end().await?;
    match (written, pieces.failed.take()) {
        // What broke the upload is what to say, not what the reader made of its end.
        (Err(_), Some(failed)) => Err(failed),
        (written, _) => Ok(Received {
            reversals,
            ..written?
        }),
    }
}

/// [`import_spooled`]'s one transaction on the store's own connection: the parts as they come,
/// then the restores, which are published once committed; `None`, with nothing written, when
/// a part may complete a pro-forma.
async fn record_parts(
    app: &App<'_>,
    actor: &Actor,
    mut parts: Parts,
) -> AppResult<Option<Received>> {
    let import = OwnImport::of(app, actor);
    let written = app
        .store
        .write_alone(
            async move |tx| -> AppResult<Option<Received>> {
                let (mut batch, owing) = import.begin(tx).await?;
                let mut outcomes = Vec::new();
                while let Some(part) = parts.next() {
                    let part = part?;
                    if batch.may_complete_proformas(&owing, &part) {
                        return Ok(None);
                    }
                    match batch.record_part(tx, part).await {
                        Ok(recorded) => outcomes.extend(recorded),
                        Err(failed) => return Err(parts.blocking_verdict(failed)),
                    }
                    crate::heap::release_free_memory();
                }
                Ok(Some(import.restore(tx, outcomes).await?))
            },
            Option::is_some,
        )
        .await;
    // The connection keeps the import's statements prepared and its page cache: let go.
    app.store.close_batch_connection();
    if let Ok(Some(received)) = &written {
        publish(app.changes, &received.restored).await;
    }
    written
}

/// [`import_arriving`]'s one transaction in the pool's: the parts as they come, then the
/// restores, committed and published (as [`receive`] does for a statement read whole).
async fn receive_parts(app: &App<'_>, actor: &Actor, mut parts: Parts) -> AppResult<Received> {
    let (store, today, currency) = (app.store, app.clock.today(), app.currency());
    let mut tx = store.begin_money_write().await?;
    let mut batch = Batch::read(store, &mut tx, actor, &currency).await?;
    let mut outcomes = Vec::new();
    while let Some(part) = parts.next_part().await {
        match batch.record_part(&mut tx, part?).await {
            Ok(recorded) => outcomes.extend(recorded),
            Err(failed) => return Err(parts.verdict(failed).await),
        }
        crate::heap::release_free_memory();
    }
    let paid = paid_clients(&outcomes);
    let restored = commit_restoring(app, tx, actor, &paid, today).await?;
    Ok(Received {
        outcomes,
        restored,
        reversals: Vec::new(),
    })
}

/// A statement's incoming payments and reversals, parsed whole; the file goes once parsed,
/// and the lines become the payments moved, not copied (a statement can hold 100,000).
fn movements_in(file: StatementFile<'_>) -> AppResult<Movements> {
    let statement = parse_statement(&file)?;
    drop(file.content);
    Ok(movements_of(statement, file.format))
}

/// What a statement (or a part of one) brings: the payments its incoming lines record, and
/// its reversals, to name (see [`Received::reversals`]). Other money out is not the books'.
#[derive(Debug, Default)]
pub(super) struct Movements {
    pub payments: Vec<NewPayment>,
    pub reversals: Vec<StatementLine>,
}

/// The movements of a statement's lines; `source` is its format.
pub(super) fn movements_of(statement: Statement, source: &str) -> Movements {
    let account = statement.account.as_deref().and_then(normalize_account);
    let mut movements = Movements::default();
    for line in statement.lines {
        if line.reversal {
            movements.reversals.push(line);
        } else if line.is_incoming_payment() {
            movements
                .payments
                .push(payment_of(line, account.as_ref(), source));
        }
    }
    movements
}

/// The payment an incoming statement line of `account` records.
fn payment_of(line: StatementLine, account: Option<&String>, source: &str) -> NewPayment {
    NewPayment {
        amount: line.amount,
        received_on: line.booked_on,
        variable_symbol: line.variable_symbol,
        payer_account: line.payer_account,
        payer_name: line.payer_name,
        message: line.message,
        bank_transaction_id: Some(line.bank_transaction_id),
        statement_account: account.cloned(),
        currency: line.currency,
        source: source.to_owned(),
        client_number: None,
        for_subscription: None,
    }
}

/// What the last statement import did, for the metrics endpoint (the alert on a statement
/// whose payments mostly went unmatched, the dashboard's import history).
fn imported(received: &Received, at: chrono::DateTime<chrono::Utc>) {
    let outcomes = &received.outcomes;
    let duplicates = outcomes.iter().filter(|o| o.duplicate).count();
    let matched = outcomes
        .iter()
        .filter(|o| !o.duplicate && o.client_number.is_some())
        .count();
    let unmatched = outcomes.len() - duplicates - matched;
    for (result, count) in [
        ("matched", matched),
        ("unmatched", unmatched),
        ("duplicate", duplicates),
        ("reversal", received.reversals.len()),
    ] {
        metrics::gauge!("ispd_payments_last_import", "result" => result).set(count as f64);
        metrics::counter!("ispd_payments_imported_total", "result" => result)
            .increment(count as u64);
    }
    metrics::gauge!("ispd_payments_last_import_timestamp_seconds").set(at.timestamp() as f64);
}

fn parse_statement(file: &StatementFile<'_>) -> AppResult<Statement> {
    let text = |encoding: Option<&str>| {
        decode(&file.content, encoding).map_err(|e| field("content", e.to_string()))
    };
    let parsed = match file.format {
        "camt053" => ispd_billing::bank::parse_camt053(&file.content),
        "gpc" => ispd_billing::bank::parse_gpc(&text(None)?),
        "csv" => {
            if file.mapping.trim().is_empty() {
                return Err(field(
                    "mapping",
                    "required for csv: the column mapping as TOML",
                ));
            }
            let mapping: CsvMapping = toml::from_str(file.mapping)
                .map_err(|e| field("mapping", crate::config::toml_error(file.mapping, e)))?;
            ispd_billing::bank::parse_csv(&text(mapping.encoding.as_deref())?, &mapping)
        }
        other => {
            return Err(field(
                "format",
                format!("camt053, csv or gpc, not {other:?}"),
            ));
        }
    };
    parsed.map_err(|e| field("content", e.to_string()))
}

/// Records the payments (duplicates skipped, matched, allocated oldest document first, the
/// rest as credit) and restores the suspended clients they paid. RADIUS answers those clients
/// at full speed before this returns.
async fn receive(app: &App<'_>, actor: &Actor, payments: Vec<NewPayment>) -> AppResult<Received> {
    let (store, today) = (app.store, app.clock.today());
    let mut tx = store.begin_money_write().await?;
    let outcomes = record_in(store, &mut tx, actor, payments, &app.currency()).await?;
    let paid = paid_clients(&outcomes);
    let restored = commit_restoring(app, tx, actor, &paid, today).await?;
    Ok(Received {
        outcomes,
        restored,
        reversals: Vec::new(),
    })
}

/// What [`receive_alone`] did: all of [`receive`], or nothing, the payments handed back.
enum Alone {
    Received(Received),
    /// Not on this store (PostgreSQL, a database in memory), or the statement pays a client
    /// with an open pro-forma, whose completion issues a tax invoice that only the pool's
    /// transaction writes.
    General(Vec<NewPayment>),
}

/// [`receive`] for a bank statement on a SQLite file: the same records and restores in one
/// transaction, on the store's own connection ([`Store::write_alone`]), since sqlx's SQLite
/// worker would hand every statement and row of a 100,000-payment import across threads.
async fn receive_alone(
    app: &App<'_>,
    actor: &Actor,
    payments: Vec<NewPayment>,
) -> AppResult<Alone> {
    if !app.store.writes_alone() {
        return Ok(Alone::General(payments));
    }
    let import = OwnImport::of(app, actor);
    let written = app
        .store
        .write_alone(
            async move |tx| -> AppResult<Alone> {
                let (mut batch, owing) = import.begin(tx).await?;
                if payments
                    .chunks(PAYMENTS_PER_PART)
                    .any(|part| batch.may_complete_proformas(&owing, part))
                {
                    return Ok(Alone::General(payments));
                }
                let outcomes = batch.record(tx, payments, PAYMENTS_PER_PART).await?;
                Ok(Alone::Received(import.restore(tx, outcomes).await?))
            },
            |alone| matches!(alone, Alone::Received(_)),
        )
        .await;
    // The connection keeps the import's statements prepared and its page cache: let go.
    app.store.close_batch_connection();
    let alone = written?;
    if let Alone::Received(received) = &alone {
        publish(app.changes, &received.restored).await;
    }
    Ok(alone)
}

/// A statement's import on the store's own connection ([`receive_alone`], [`record_parts`]):
/// what it takes from the use case, owned, since it runs on a thread of its own.
struct OwnImport {
    store: Store,
    actor: Actor,
    currency: String,
    settings: DunningSettings,
    today: NaiveDate,
}

impl OwnImport {
    fn of(app: &App<'_>, actor: &Actor) -> OwnImport {
        OwnImport {
            store: app.store.clone(),
            actor: actor.clone(),
            currency: app.currency(),
            settings: app.dunning_settings(),
            today: app.clock.today(),
        }
    }

    /// The batch the payments are matched by, and the clients with an open pro-forma (none
    /// can be issued while this transaction holds the write lock).
    async fn begin(&self, tx: &mut impl Tx) -> AppResult<(Batch<'_>, HashSet<i64>)> {
        let batch = Batch::read(&self.store, tx, &self.actor, &self.currency).await?;
        let owing = self.store.clients_with_open_proformas_in(tx).await?;
        Ok((batch, owing))
    }

    /// In the same transaction, the restores the recorded payments cause.
    async fn restore(
        &self,
        tx: &mut impl Tx,
        outcomes: Vec<PaymentOutcome>,
    ) -> AppResult<Received> {
        let paid = paid_clients(&outcomes);
        let restored = restore_paid_in(
            &self.store,
            tx,
            &self.settings,
            &self.actor,
            &paid,
            self.today,
        )
        .await?;
        Ok(Received {
            outcomes,
            restored,
            reversals: Vec::new(),
        })
    }
}

/// The clients the recorded payments paid (duplicates and unmatched ones left out).
fn paid_clients(outcomes: &[PaymentOutcome]) -> Vec<&str> {
    outcomes
        .iter()
        .filter(|o| !o.duplicate)
        .filter_map(|o| o.client_number.as_deref())
        .collect()
}

/// How many payments [`record_in`] matches, allocates and writes at a time. What a part reads
/// (the bank ids already recorded, the accounts of the clients it pays) and decides lives only
/// while it is written, so an import of 100,000 payments never holds 100,000 accounts; its
/// statements still carry thousands of rows each. 5,000 rather than 10,000: the import's peak
/// 135–138 MB instead of 144–146 MB, its time the same within the machine's noise
/// (`ispd-bench billing --clients 100000`, alternated pairs; docs/PERFORMANCE.md).
const PAYMENTS_PER_PART: usize = 5_000;

/// Records payments inside the caller's transaction: a repeat of a bank transaction already
/// recorded (or earlier in the batch) is skipped; the rest are matched to clients and their
/// money placed on the clients' open documents oldest first, the excess as credit — in
/// arrival order, decided by the core (`ispd_billing::payment::receipt`); a pro-forma they
/// complete is followed by its tax invoice. Money is never taken for another currency: a
/// matched payment in another currency than its client's is recorded unmatched with the
/// reason; one typed in for a client is refused by its field.
///
/// The payments go in parts of [`PAYMENTS_PER_PART`], one after the other in the one
/// transaction: a part reads what the parts before it wrote (a client paid twice, a bank
/// transaction repeated), so the outcome is the one of a single part, and an error in any part
/// records nothing. A part's payments are let go once written (what the outcomes keep of them
/// is moved, not copied), and the list of those still to come shrinks as each part is cut.
pub(crate) async fn record_in(
    store: &Store,
    tx: &mut impl Tx,
    actor: &Actor,
    payments: Vec<NewPayment>,
    default_currency: &str,
) -> AppResult<Vec<PaymentOutcome>> {
    record_in_parts(
        store,
        tx,
        actor,
        payments,
        default_currency,
        PAYMENTS_PER_PART,
    )
    .await
}

/// [`record_in`] with the size of a part chosen (the conformance suite checks that it does not
/// change the outcome).
pub(crate) async fn record_in_parts(
    store: &Store,
    tx: &mut impl Tx,
    actor: &Actor,
    payments: Vec<NewPayment>,
    default_currency: &str,
    per_part: usize,
) -> AppResult<Vec<PaymentOutcome>> {
    let mut batch = Batch::read(store, tx, actor, default_currency).await?;
    batch.record(tx, payments, per_part).await
}

/// What every part of a batch of payments shares: who records it, the directory that
/// matches them (every variable symbol and account), every client's number by id, and the
/// ids of the clients payments named so far.
struct Batch<'a> {
    store: &'a Store,
    actor: &'a Actor,
    default_currency: &'a str,
    directory: Directory,
    numbers: HashMap<i64, String>,
    named: HashMap<String, i64>,
}

impl<'a> Batch<'a> {
    /// Reads the directory the batch matches by.
    async fn read(
        store: &'a Store,
        tx: &mut impl Tx,
        actor: &'a Actor,
        default_currency: &'a str,
    ) -> AppResult<Batch<'a>> {
        let (directory, numbers) = store.payment_directory_in(tx).await?;
        Ok(Batch {
            store,
            actor,
            default_currency,
            directory,
            numbers,
            named: HashMap::new(),
        })
    }

    /// Whether a payment of `part` of a statement (none names its client) could go to a client
    /// of `owing` (those with an open pro-forma), as matching would find them — bank ids
    /// already recorded counted too, so it errs towards yes. Most statements are told by
    /// `owing` alone, one read of a small index.
    fn may_complete_proformas(&self, owing: &HashSet<i64>, part: &[NewPayment]) -> bool {
        if owing.is_empty() {
            return false;
        }
        let arrivals: Vec<Arrival> = part.iter().map(arrival).collect();
        receipt::identify(&arrivals, &receipt::RecordedIds::default(), &self.directory)
            .iter()
            .filter_map(|w| w.client())
            .any(|c| owing.contains(&c))
    }

    /// Records `payments` in parts of `per_part`, in the caller's transaction (see
    /// [`record_in`]).
    async fn record(
        &mut self,
        tx: &mut impl Tx,
        payments: Vec<NewPayment>,
        per_part: usize,
    ) -> AppResult<Vec<PaymentOutcome>> {
        let mut outcomes = Vec::with_capacity(payments.len());
        // The payments not yet recorded, last first: each part is cut from the end, so what
        // is left shrinks and its memory goes back to the system as the parts go (a statement
        // of 100,000 payments holds 31 MB in this list alone).
        let mut rest = payments;
        rest.reverse();
        while !rest.is_empty() {
            let mut part = rest.split_off(rest.len().saturating_sub(per_part.max(1)));
            part.reverse();
            rest.shrink_to_fit();
            crate::heap::release_free_memory();
            outcomes.extend(self.record_part(tx, part).await?);
        }
        Ok(outcomes)
    }

    /// One part of the batch, recorded in the caller's transaction (see [`record_in`]).
    async fn record_part(
        &mut self,
        tx: &mut impl Tx,
        payments: Vec<NewPayment>,
    ) -> AppResult<Vec<PaymentOutcome>> {
        let (store, directory, numbers) = (self.store, &self.directory, &self.numbers);
        let mut arrivals: Vec<Arrival> = payments.iter().map(arrival).collect();
        receipt::check(&arrivals)?;
        for (a, p) in arrivals.iter_mut().zip(&payments) {
            if let Some(number) = p.client_number.as_deref() {
                let id = match self.named.get(number) {
                    Some(id) => *id,
                    None => {
                        let id = store.client_id_in(tx, number).await?;
                        self.named.insert(number.to_owned(), id);
                        id
                    }
                };
                a.named_client = Some(id);
            }
        }
        let bank_ids: Vec<&str> = payments
            .iter()
            .filter_map(|p| p.bank_transaction_id.as_deref())
            .collect();
        let recorded = store.recorded_bank_ids_in(tx, &bank_ids).await?;
        let whose = receipt::identify(&arrivals, &recorded, directory);
        let new = arrivals
            .iter()
            .zip(&whose)
            .filter(|(_, w)| **w != Whose::Duplicate);
        books::check_open_in(
            store,
            tx,
            new.map(|(a, _)| ("the payment", a.payment.received_on)),
        )
        .await?;
        let mut accounts = store
            .payment_accounts_in(tx, &receipt::clients(&whose), self.default_currency)
            .await?;
        let for_services = receipt::service_clients(&whose);
        if !for_services.is_empty() {
            store
                .open_documents_by_service_in(tx, &for_services, &mut accounts)
                .await?;
        }
        let receipts = receipt::settle(&arrivals, &whose, accounts, numbers)?;
        store
            .record_receipts_in(tx, self.actor, &payments, &receipts, numbers)
            .await?;
        if !receipts.completed_proformas.is_empty() {
            // A tax invoice follows each completed pro-forma; only the pool's transaction
            // issues one ([`receive_alone`] leaves such a statement to it).
            let tx = tx.pool().ok_or_else(|| {
                AppError::Precondition(
                    "a completed pro-forma outside the pool's transaction".to_owned(),
                )
            })?;
            for (&client, &day) in &receipts.completed_proformas {
                settlement::follow_proformas(store, tx, self.actor, client, day).await?;
            }
        }
        Ok(outcomes(payments, &receipts, numbers))
    }
}

/// A payment as the core's matching reads it (the client it names is filled in by id).
fn arrival(p: &NewPayment) -> Arrival {
    Arrival {
        payment: IncomingPayment {
            id: 0,
            amount: p.amount,
            received_on: p.received_on,
            variable_symbol: p.variable_symbol.clone(),
            payer_account: p.payer_account.clone(),
            bank_transaction_id: p.bank_transaction_id.clone(),
            statement_account: p.statement_account.clone(),
        },
        currency: p.currency.clone(),
        named_client: None,
        named_service: p.for_subscription,
    }
}

/// What each payment became, duplicates included, in the order they came.
fn outcomes(
    payments: Vec<NewPayment>,
    receipts: &Receipts,
    numbers: &HashMap<i64, String>,
) -> Vec<PaymentOutcome> {
    let mut recorded = receipts.receipts.iter().peekable();
    payments
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let receipt = recorded.next_if(|r| r.arrival == i);
            PaymentOutcome {
                bank_transaction_id: p.bank_transaction_id,
                client_id: receipt.and_then(|r| r.client),
                client_number: receipt
                    .and_then(|r| r.client)
                    .and_then(|c| numbers.get(&c).cloned()),
                matched_by: receipt.and_then(|r| r.found_by).map(FoundBy::as_str),
                amount: p.amount,
                currency: p.currency,
                allocated: receipt.map_or(Decimal::ZERO, |r| r.allocated()),
                to_credit: receipt.map_or(Decimal::ZERO, |r| r.to_credit),
                duplicate: receipts.duplicate.get(i).copied().unwrap_or(false),
                unmatched_reason: receipt.and_then(|r| r.unmatched_reason.clone()),
                unpaired: Decimal::ZERO,
            }
        })
        .collect()
}

/// A payment assigned by hand, as the operator asks for it.
#[derive(Debug, Clone, Copy)]
pub struct Assignment<'a> {
    pub payment_id: i64,
    pub client_number: &'a str,
    /// The document paid first, then the rest of the debt; none: the debt, oldest first.
    pub invoice: Option<&'a str>,
    /// What becomes of the payment beyond the debt (no document chosen).
    pub rest: Rest,
}

/// Assigns an unmatched payment to a client (and optionally one of its documents), and
/// restores the client if that pays its debt — one transaction.
pub async fn assign(app: &App<'_>, actor: &Actor, order: Assignment<'_>) -> AppResult<Received> {
    let (store, today) = (app.store, app.clock.today());
    let mut tx = store.begin_money_write().await?;
    let outcome = assign_in(store, &mut tx, actor, order, &app.currency()).await?;
    let restored = commit_restoring(app, tx, actor, &[order.client_number], today).await?;
    Ok(Received {
        outcomes: vec![outcome],
        restored,
        reversals: Vec::new(),
    })
}

/// The assignment itself: load the payment, the client's account and the chosen document;
/// the core guards and places the money (`assignment::assign_by_hand`); storage writes it; a
/// pro-forma it completed gets its tax invoice.
pub(crate) async fn assign_in(
    store: &Store,
    tx: &mut WriteTx,
    actor: &Actor,
    order: Assignment<'_>,
    default_currency: &str,
) -> AppResult<PaymentOutcome> {
    let Assignment {
        payment_id,
        client_number,
        invoice,
        rest,
    } = order;
    let (payment, received_on) = store
        .waiting_payment_in(tx, payment_id, default_currency)
        .await?;
    books::check_open_in(store, tx, [("the payment", received_on)]).await?;
    let client = store.client_id_in(tx, client_number).await?;
    let account = store
        .payment_accounts_in(tx, &[client], default_currency)
        .await?
        .remove(&client)
        .ok_or_else(|| AppError::Precondition(format!("client {client_number} has no account")))?;
    let chosen = match invoice {
        Some(number) => Some((number, store.client_document_in(tx, number, client).await?)),
        None => None,
    };
    let chosen = chosen.as_ref().map(|(number, (id, currency))| Chosen {
        id: *id,
        number,
        currency,
    });
    let assigned = assignment::assign_by_hand(&payment, (client_number, &account), chosen, rest)?;
    store
        .record_assignment_in(
            tx,
            actor,
            (payment_id, client, client_number),
            &assigned,
            invoice,
        )
        .await?;
    if !assigned.allocation.to_invoices.is_empty() {
        settlement::follow_proformas(store, tx, actor, client, received_on).await?;
    }
    Ok(PaymentOutcome {
        bank_transaction_id: None,
        client_id: Some(client),
        client_number: Some(client_number.to_owned()),
        matched_by: Some(FoundBy::Named.as_str()),
        amount: payment.amount - assigned.unpaired,
        currency: payment.currency,
        allocated: assigned.allocated(),
        to_credit: assigned.allocation.to_credit,
        duplicate: false,
        unmatched_reason: None,
        unpaired: assigned.unpaired,
    })
}

/// Takes a payment back from its client: it becomes unmatched again — loaded, undone by the
/// core (`assignment::unassign_by_hand`), written with its audit in one transaction. Returns
/// the client.
pub async fn unassign(app: &App<'_>, actor: &Actor, payment_id: i64) -> AppResult<String> {
    let store = app.store;
    let mut tx = store.begin_money_write().await?;
    let received_on = store.payment_received_on_in(&mut tx, payment_id).await?;
    books::check_open_in(store, &mut tx, [("the payment", received_on)]).await?;
    let (client, number, placed) = store
        .placed_payment_in(&mut tx, payment_id)
        .await?
        .ok_or(AssignError::NotAssigned(payment_id))?;
    // The tax invoice of a pro-forma it paid is a tax document of this money: it goes first
    // (found probing from outside: it stayed paid with no money behind it).
    let taxed = store.tax_invoices_paid_by_in(&mut tx, payment_id).await?;
    if !taxed.is_empty() {
        return Err(AppError::Precondition(format!(
            "payment {payment_id} paid a pro-forma whose tax invoice {} is issued: cancel it \
             first (ispctl invoice cancel {} --reason …), which returns the money to the \
             client's credit, then unassign the payment",
            taxed.join(", "),
            taxed[0]
        )));
    }
    let undone = assignment::unassign_by_hand(&placed)?;
    store
        .record_unassignment_in(&mut tx, actor, (payment_id, client, &number), &undone)
        .await?;
    // The documents it paid are open again: the client's credit settles them now, so it
    // never holds credit and an unpaid document at once (found probing from outside).
    let today = app.clock.today();
    settlement::settle_account(store, &mut tx, actor, client, today).await?;
    tx.commit().await?;
    Ok(number)
}

/// The payments no client was found for.
pub async fn unmatched(app: &App<'_>) -> AppResult<Vec<UnmatchedPayment>> {
    Ok(app.store.unmatched_payments(&app.currency()).await?)
}

/// A client's credit, debt, suspension and dunning controls.
pub async fn balance(app: &App<'_>, client_number: &str) -> AppResult<InCurrency<ClientBalance>> {
    let balance = app.store.client_balance(client_number).await?;
    app.in_client_currency(client_number, balance).await
}

/// Pays out `amount` of the client's credit; returns the credit left.
pub async fn refund(
    app: &App<'_>,
    actor: &Actor,
    (client_number, amount, note): (&str, Decimal, &str),
    refunded_on: Option<NaiveDate>,
) -> AppResult<InCurrency<Decimal>> {
    text("note", note, Text::Note)?;
    // Checked before the gate, so a malformed request is refused by its field whether or not
    // refunds are on.
    ispd_billing::money::to_minor_units("amount", amount)?;
    if !app.config.load().billing.refunds {
        return Err(AppError::Precondition(
            "refunds are off: a client's credit settles its next documents; set [billing] \
             refunds = true to pay credit back"
                .into(),
        ));
    }
    let on = app.day_or_today(refunded_on);
    let store = app.store;
    let mut tx = store.begin_money_write().await?;
    books::check_open_in(store, &mut tx, [("the refund", on)]).await?;
    let client = store.client_id_in(&mut tx, client_number).await?;
    let credit = store.client_credit_in(&mut tx, client).await?;
    let after = ispd_billing::payment::refund(credit, amount)
        .map_err(|e| field("amount", e.to_string()))?;
    store
        .record_refund_in(
            &mut tx,
            actor,
            (client, client_number),
            (amount, on, note),
            after,
        )
        .await?;
    tx.commit().await?;
    app.in_client_currency(client_number, after).await
}

/// The client's account in date order with the running balance.
pub async fn statement(
    app: &App<'_>,
    client_number: &str,
) -> AppResult<InCurrency<Vec<StatementRow>>> {
    let entries = app.store.client_statement_entries(client_number).await?;
    let rows = ispd_billing::payment::statement(Decimal::ZERO, &entries);
    app.in_client_currency(client_number, rows).await
}

/// Ends a transaction that brought money in: the clients it paid whose debt suspension the
/// dunning rule now lifts are restored in it, it commits, and their access is published —
/// RADIUS answers them at full speed before the use case returns.
pub(super) async fn commit_restoring(
    app: &App<'_>,
    mut tx: WriteTx,
    actor: &Actor,
    paid: &[&str],
    day: NaiveDate,
) -> AppResult<HashSet<String>> {
    let settings = app.dunning_settings();
    let restored = restore_paid_in(app.store, &mut tx, &settings, actor, paid, day).await?;
    tx.commit().await?;
    publish(app.changes, &restored).await;
    Ok(restored)
}

/// Inside the caller's transaction: every client of `paid` that is suspended for debt and
/// whose debt no longer justifies it (the pure core's `access_decision`) is restored, with its
/// audit record. Reads see what the transaction wrote (the money just allocated); the
/// transaction began with `begin_money_write`, so no other decides on these clients meanwhile.
async fn restore_paid_in(
    store: &Store,
    tx: &mut impl Tx,
    settings: &DunningSettings,
    actor: &Actor,
    paid: &[&str],
    today: NaiveDate,
) -> StoreResult<HashSet<String>> {
    // Only suspended clients can be restored: one query, not one per payment.
    let suspended = store.debt_suspended_clients_in(tx).await?;
    let mut restored = HashSet::new();
    for &number in paid {
        if !suspended.contains(number) || restored.contains(number) {
            continue;
        }
        let Some(input) = store.dunning_input_in(tx, number).await? else {
            continue;
        };
        if let Some(DunningChange::Restore { .. }) = decide(settings, &input, today) {
            store
                .set_debt_suspended_in(
                    tx,
                    actor,
                    number,
                    false,
                    Decimal::ZERO,
                    serde_json::json!([]),
                )
                .await?;
            restored.insert(number.to_owned());
        }
    }
    Ok(restored)
}

/// After the commit: RADIUS and every other consumer learn of the restores.
async fn publish(feed: &ChangeFeed, restored: &HashSet<String>) {
    for number in restored {
        feed.publish(Change::Access(AccessScope::Client(number.clone())))
            .await;
    }
}

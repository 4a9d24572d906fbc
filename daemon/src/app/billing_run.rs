//! The billing run: the shell around `ispd_billing`. It loads what can be charged, asks the
//! pure core which periods are due, which invoiced periods must be corrected and what the
//! lines are, and issues per client first the credit notes (corrections of periods invoiced in
//! advance: a service ended early, a pause with billing suspended), then one invoice (or, for
//! pro-forma clients, one pro-forma) with the new charges and one-off charges. Documents are
//! issued in batches of [`BATCH`] per transaction (`Store::issue_batch_in`, then what they
//! settle, `settlement`), so a failure leaves every committed batch whole and the next run
//! picks up the rest. A batch is stored while the next one is drafted ([`Storing`]): memory
//! holds two batches whatever the number of clients.
//! Running twice for the same date issues nothing new.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::NaiveDate;
use ispd_billing::client::Client;
use ispd_billing::credit_note::{needs_correction, reversal};
use ispd_billing::invoice::{
    Discount, PriceBasis, TaxableDateRule, charge_lines, compute_line, due_date,
    taxable_supply_date,
};
use ispd_billing::price_change::{RecordedChange, ServicePrice, price_on, repriced};
use ispd_billing::schedule::{
    Alignment, Charge, ChargeTerms, Proration, due_charges, recharge, split_at_price_changes,
};
use ispd_billing::subscription::line_name;
use rust_decimal::Decimal;

use super::{AppError, AppResult, Stopping, field, settlement};
use crate::config::BillingConfig;
use crate::storage::{
    Actor, BilledPeriods, BillingCandidate, ChargeRecord, ClientHead, DocumentKind, InvoiceDraft,
    InvoiceLineRecord, InvoiceRecord, Issued, IssuedBatch, LiveLine, Store, StoreResult, WriteTx,
};

/// A document of the run: issued (with its number) or, in a dry run, proposed.
#[derive(Debug, Clone)]
pub struct RunInvoice {
    pub number: Option<String>,
    pub draft: InvoiceDraft,
    /// The document as stored once its batch committed, for the documents the summary keeps:
    /// what issuing did besides the draft (client credit settling it, the supplier snapshot)
    /// is reported as `invoice show` reports it. `None` in a dry run.
    pub stored: Option<InvoiceRecord>,
}

/// What a run did: every document counted and totalled per currency, the first `keep` of
/// them in full. Memory stays at one batch whatever the number of clients.
#[derive(Debug, Clone, Default)]
pub struct RunSummary {
    pub documents: Vec<RunInvoice>,
    pub count: usize,
    /// (currency, documents, gross total), by currency.
    pub totals: BTreeMap<String, (usize, Decimal)>,
    /// Time spent storing documents.
    pub issue_time: std::time::Duration,
    /// Clients whose documents were not issued, and why: amounts past what ispd keeps. The
    /// others are billed; one client's absurd price must not stop every client's run.
    pub refused: Vec<RefusedClient>,
    /// Clients issued a credit note: one may have cleared a suspended client's debt.
    pub credited: BTreeSet<String>,
    /// The daemon's stop ended the run before every client was billed (see [`Batches`]).
    pub cut_short: bool,
}

/// A client the run could not bill (see [`RunSummary::refused`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedClient {
    pub client_number: String,
    pub problem: String,
}

impl RunSummary {
    fn add(&mut self, document: RunInvoice, keep: usize) {
        self.count += 1;
        if document.draft.kind == DocumentKind::CreditNote {
            self.credited.insert(document.draft.client_number.clone());
        }
        let total = self
            .totals
            .entry(document.draft.currency.clone())
            .or_insert((0, Decimal::ZERO));
        total.0 += 1;
        total.1 += document.draft.totals.gross;
        if self.documents.len() < keep {
            self.documents.push(document);
        }
    }
}

/// What an invoice group decides for the documents issued in its name.
#[derive(Debug, Clone)]
pub struct GroupTerms {
    pub currency: String,
    pub due_days: u32,
    pub taxable_date: TaxableDateRule,
}

/// Everything besides the subscriptions that decides a run's documents.
#[derive(Debug, Default)]
pub struct RunInputs {
    pub groups: HashMap<String, GroupTerms>,
    /// Inclusive unbilled ranges per subscription (open ranges run to `NaiveDate::MAX`).
    pub unbilled: HashMap<i64, Vec<(NaiveDate, NaiveDate)>>,
    pub discounts: HashMap<i64, Vec<Discount>>,
    /// Dated tariff changes per subscription: the prices of the days before each.
    pub price_changes: HashMap<i64, Vec<RecordedChange>>,
    /// One-off charges due by the run's date, per client (by id, to page through them).
    pub charges: BTreeMap<i64, Vec<ChargeRecord>>,
}

/// Who a client's documents are for and how they are issued.
#[derive(Debug, Clone)]
struct ClientTerms {
    head: ClientHead,
    due_days: Option<u32>,
    proforma: bool,
}

impl ClientTerms {
    fn of(s: &BillingCandidate) -> Self {
        Self {
            head: head(s),
            due_days: s.due_days,
            proforma: s.proforma,
        }
    }
}

/// Issues (or with `dry_run` only computes) every document due by `as_of`; the summary keeps
/// the first `keep` documents in full. Once `stopping` is set the run ends after the batch in
/// hand, its batches committed, and the summary says it was cut short (see [`Batches`]).
pub async fn run(
    store: &Store,
    config: &BillingConfig,
    actor: &Actor,
    as_of: NaiveDate,
    (dry_run, keep): (bool, usize),
    stopping: &Stopping,
) -> AppResult<RunSummary> {
    let batches = Batches {
        size: BATCH,
        stopping,
    };
    run_in_batches(store, config, actor, as_of, dry_run, keep, batches).await
}

/// How a run is cut into transactions: `size` documents each (the tests' small batches), and
/// none begun once `stopping` is set — the daemon's stop waits for no run of 350,000 clients,
/// and the next run issues the rest.
pub(crate) struct Batches<'a> {
    pub size: usize,
    pub stopping: &'a Stopping,
}

/// [`run`] in `batches`.
pub(crate) async fn run_in_batches(
    store: &Store,
    config: &BillingConfig,
    actor: &Actor,
    as_of: NaiveDate,
    dry_run: bool,
    keep: usize,
    batches: Batches<'_>,
) -> AppResult<RunSummary> {
    let started = std::time::Instant::now();
    let inputs = load_inputs(store, config, as_of).await?;
    let mut loaded = started.elapsed();
    let mut storing = Storing::new(store, actor, dry_run, keep, batches);
    let drafted = draft(store, config, &inputs, as_of, &mut storing, &mut loaded).await;
    // The batch still being stored is waited for whatever stopped the drafting: the run
    // returns only once nothing of it is being written.
    let stored = storing.finish().await;
    // Nothing more is written on the batches' connection until the next run.
    store.close_batch_connection();
    drafted.and(stored)?;
    let mut summary = storing.summary;
    summary.cut_short = storing.cut_short;
    if storing.cut_short {
        tracing::warn!(%as_of, dry_run, documents = summary.count, "billing run cut short by the stop; the next run issues the rest");
    }
    tracing::info!(
        %as_of,
        dry_run,
        documents = summary.count,
        load_ms = loaded.as_millis() as u64,
        issue_ms = summary.issue_time.as_millis() as u64,
        total_ms = started.elapsed().as_millis() as u64,
        "billing run"
    );
    crate::heap::release_free_memory();
    Ok(summary)
}

/// Drafts every client's documents page by page and hands them to `storing` a batch at a
/// time; adds the time spent reading candidates to `loaded`.
async fn draft(
    store: &Store,
    config: &BillingConfig,
    inputs: &RunInputs,
    as_of: NaiveDate,
    storing: &mut Storing<'_>,
    loaded: &mut std::time::Duration,
) -> AppResult<()> {
    let mut pending = Vec::new();
    let mut after = i64::MIN;
    loop {
        let page_started = std::time::Instant::now();
        let (candidates, last) = store.billing_candidates_page(after, PAGE).await?;
        *loaded += page_started.elapsed();
        // Clients billed only for one-off charges fall in the page by their id, too.
        let upto = last.unwrap_or(i64::MAX);
        let mut by_client: BTreeMap<i64, Vec<BillingCandidate>> = BTreeMap::new();
        for candidate in candidates {
            by_client
                .entry(candidate.client_id)
                .or_default()
                .push(candidate);
        }
        let clients: BTreeSet<i64> = by_client
            .keys()
            .copied()
            .chain(
                inputs
                    .charges
                    .range(after.saturating_add(1)..=upto)
                    .map(|(k, _)| *k),
            )
            .collect();
        for client in clients {
            // The stop drops the drafts in hand at once: the batch being stored is the last.
            if storing.cut_short() {
                return Ok(());
            }
            let subscriptions = by_client.get(&client).map_or(&[][..], Vec::as_slice);
            let documents =
                client_documents(store, config, inputs, client, subscriptions, as_of).await?;
            match storable(&documents) {
                Ok(()) => pending.extend(documents),
                Err(refused) => {
                    tracing::warn!(client = %refused.client_number, problem = %refused.problem, "billing run: the client's documents cannot be stored; not issued");
                    storing.summary.refused.push(refused);
                }
            }
            if pending.len() >= storing.size {
                storing.next(std::mem::take(&mut pending)).await?;
            }
        }
        match last {
            Some(last) => after = last,
            None => break,
        }
    }
    storing.next(pending).await
}

/// The documents of one client: credit notes correcting periods invoiced in advance, then
/// the invoice (or pro-forma) of what is due.
async fn client_documents(
    store: &Store,
    config: &BillingConfig,
    inputs: &RunInputs,
    client: i64,
    subscriptions: &[BillingCandidate],
    as_of: NaiveDate,
) -> StoreResult<Vec<InvoiceDraft>> {
    let terms = match subscriptions.first() {
        Some(first) => ClientTerms::of(first),
        None => client_terms(store, inputs, client).await?,
    };
    let mut corrections = Vec::new();
    for s in subscriptions {
        let charge_terms = terms_of(s, inputs);
        let Some(cutoff) = correction_cutoff(s, &charge_terms) else {
            continue;
        };
        let live = store.live_period_lines(s.subscription_id, cutoff).await?;
        corrections.extend(corrections_for(
            s,
            &charge_terms,
            inputs,
            config.proration,
            &live,
        ));
    }
    let repriced: Vec<InvoiceLineRecord> = corrections
        .iter_mut()
        .flat_map(|c| std::mem::take(&mut c.charges))
        .collect();
    let mut documents = credit_notes(&terms, corrections, inputs, as_of);
    documents.extend(draft_for_client(
        &terms,
        subscriptions,
        repriced,
        inputs,
        config,
        Dated {
            issue: as_of,
            through: as_of,
        },
    ));
    Ok(documents)
}

/// Whether a client's documents can be stored: every amount within what ispd keeps
/// (`money::to_minor_units`), as storage will check it when the batch is written — where one
/// client's refusal would fail the batch and, every day again, the run.
fn storable(documents: &[InvoiceDraft]) -> Result<(), RefusedClient> {
    use ispd_billing::money::to_minor_units;
    for d in documents {
        let lines = d.lines.iter().flat_map(|l| {
            [
                ("invoice.line.unit_price", l.line.unit_price),
                ("invoice.line.net", l.line.net),
                ("invoice.line.vat", l.line.vat),
                ("invoice.line.gross", l.line.gross),
            ]
        });
        let totals = [
            ("invoice.net", d.totals.net),
            ("invoice.vat", d.totals.vat),
            ("invoice.gross", d.totals.gross),
        ];
        for (field, amount) in totals.into_iter().chain(lines) {
            to_minor_units(field, amount).map_err(|e| RefusedClient {
                client_number: d.client_number.clone(),
                problem: e.to_string(),
            })?;
        }
    }
    Ok(())
}

/// Clients read per page of candidates.
const PAGE: usize = 5000;

/// Documents per transaction: large enough that the durable commit and the per-batch reads
/// (number blocks, credit) are cheap per document, small enough that memory stays flat and a
/// failure loses little work. At 100,000 clients on SQLite (`ispd-bench billing --clients
/// 100000 --ispd OLD|NEW`, alternated; docs/PERFORMANCE.md) 5,000 ran in 2.3–2.6 s against
/// 3.0–3.3 s for 1,000, peak 73–79 MB against 56–60 MB; 10,000 gained nothing more and peaked
/// at 105 MB.
const BATCH: usize = 5000;

/// The batch being stored while the run drafts the next one: storing a batch (on SQLite, on a
/// blocking thread of its own) takes about twice as long as drafting it, so the two overlap on
/// two cores. One batch is stored at a time and in the order drafted; batches hold disjoint
/// clients (a client's documents go in one batch), so drafting the next reads nothing the
/// batch being stored writes.
struct Storing<'a> {
    store: Store,
    actor: Actor,
    dry_run: bool,
    /// Documents the summary keeps in full.
    keep: usize,
    /// Documents a batch.
    size: usize,
    stopping: &'a Stopping,
    /// Set once `stopping` kept a batch from being begun: the drafts in hand are dropped.
    cut_short: bool,
    batch: Option<tokio::task::JoinHandle<AppResult<StoredBatch>>>,
    summary: RunSummary,
}

/// A batch's drafts, what became of each, and how long storing it took.
type StoredBatch = (Vec<InvoiceDraft>, IssuedBatch, std::time::Duration);

impl<'a> Storing<'a> {
    fn new(store: &Store, actor: &Actor, dry_run: bool, keep: usize, batches: Batches<'a>) -> Self {
        Self {
            store: store.clone(),
            actor: actor.clone(),
            dry_run,
            keep,
            size: batches.size,
            stopping: batches.stopping,
            cut_short: false,
            batch: None,
            summary: RunSummary::default(),
        }
    }

    /// Waits for the batch being stored, then starts storing `drafts` (in a dry run, only
    /// counts them).
    async fn next(&mut self, drafts: Vec<InvoiceDraft>) -> AppResult<()> {
        self.finish().await?;
        if drafts.is_empty() || self.cut_short() {
            return Ok(());
        }
        if self.dry_run {
            for draft in drafts {
                let document = RunInvoice {
                    number: None,
                    draft,
                    stored: None,
                };
                self.summary.add(document, self.keep);
            }
            return Ok(());
        }
        let (store, actor) = (self.store.clone(), self.actor.clone());
        self.batch = Some(tokio::spawn(async move {
            let started = std::time::Instant::now();
            let (drafts, issued) = issue(&store, &actor, drafts).await?;
            Ok((drafts, issued, started.elapsed()))
        }));
        Ok(())
    }

    /// Whether the daemon's stop ended the run: no batch is begun after it (see [`Batches`]).
    fn cut_short(&mut self) -> bool {
        self.cut_short |= self.stopping.is_stopping();
        self.cut_short
    }

    /// Waits for the batch being stored, if any, and adds its documents to the summary; only
    /// the documents the summary keeps are read back.
    async fn finish(&mut self) -> AppResult<()> {
        let Some(batch) = self.batch.take() else {
            return Ok(());
        };
        let (drafts, issued, took) = batch
            .await
            .map_err(|e| AppError::Precondition(format!("a billing batch stopped: {e}")))??;
        self.summary.issue_time += took;
        let issued: Vec<_> = drafts
            .into_iter()
            .zip(issued)
            .filter_map(|(draft, issued)| Some((draft, issued?)))
            .collect();
        let room = self.keep.saturating_sub(self.summary.documents.len());
        let ids: Vec<i64> = issued.iter().take(room).map(|(_, i)| i.id).collect();
        let mut stored = self.store.invoices_by_id(&ids).await?.into_iter();
        for (draft, issued) in issued {
            let document = RunInvoice {
                number: Some(issued.number),
                draft,
                stored: stored.next(),
            };
            self.summary.add(document, self.keep);
        }
        Ok(())
    }
}

/// Issues `drafts` in one transaction; a draft a concurrent run got to first comes back
/// `None`. Most batches have nothing to settle and are issued on their own; the others in one
/// transaction with what they settle.
async fn issue(
    store: &Store,
    actor: &Actor,
    drafts: Vec<InvoiceDraft>,
) -> AppResult<(Vec<InvoiceDraft>, IssuedBatch)> {
    match store.issue_batch_alone(actor, drafts).await? {
        (drafts, Some(issued)) => Ok((drafts, issued)),
        (drafts, None) => {
            let mut tx = store.begin_money_write().await?;
            let issued = store.issue_batch_in(&mut tx, actor, &drafts).await?;
            settle_batch(store, &mut tx, actor, &drafts, &issued).await?;
            tx.commit().await?;
            Ok((drafts, issued))
        }
    }
}

/// The document a client is issued on demand (Mango's invoice or payment request made now):
/// what the run would bill `subscriptions` (every service of the client when empty) for the
/// periods that start by `through`, with their one-off charges, dated `issue`; a pro-forma
/// when `proforma`. No corrections: those stay the run's. `None` when nothing is due.
pub(crate) async fn on_demand_draft(
    store: &Store,
    config: &BillingConfig,
    client: &Client,
    subscriptions: &[i64],
    proforma: bool,
    (issue, through): (NaiveDate, NaiveDate),
) -> AppResult<Option<InvoiceDraft>> {
    let mut inputs = load_inputs(store, config, through).await?;
    let mut candidates = store.billing_candidates_of(client.id).await?;
    if let Some(missing) = subscriptions
        .iter()
        .find(|id| !candidates.iter().any(|c| c.subscription_id == **id))
    {
        return Err(field(
            "subscription_ids",
            format!(
                "{missing} is no service of client {} that can be billed",
                client.number
            ),
        ));
    }
    if !subscriptions.is_empty() {
        candidates.retain(|c| subscriptions.contains(&c.subscription_id));
        if let Some(charges) = inputs.charges.get_mut(&client.id) {
            charges.retain(|c| {
                c.subscription_id
                    .is_some_and(|s| subscriptions.contains(&s))
            });
        }
    }
    let terms = ClientTerms {
        head: ClientHead::of(client),
        due_days: client.invoicing.due_days,
        proforma,
    };
    let dated = Dated { issue, through };
    Ok(draft_for_client(
        &terms,
        &candidates,
        Vec::new(),
        &inputs,
        config,
        dated,
    ))
}

/// The terms of a client billed only for one-off charges (no subscription to read them from).
/// What a batch's documents settle, in its transaction: its credit notes first (the credit
/// they return pays the client's new invoice), then the accounts of the clients who hold
/// credit or got a credit note (`settlement`).
async fn settle_batch(
    store: &Store,
    tx: &mut WriteTx,
    actor: &Actor,
    drafts: &[InvoiceDraft],
    issued: &[Option<Issued>],
) -> AppResult<()> {
    let mut credited = Vec::new();
    for (draft, issued) in drafts.iter().zip(issued) {
        if let Some(issued) = issued
            && draft.kind == DocumentKind::CreditNote
        {
            settlement::settle_credit_note(store, tx, issued, draft).await?;
            credited.push(draft.client_id);
        }
    }
    let clients: Vec<i64> = drafts.iter().map(|d| d.client_id).collect();
    let mut settle = store.clients_holding_credit_in(tx, &clients).await?;
    settle.extend(credited);
    let mut settled = HashSet::new();
    for draft in drafts {
        if settle.contains(&draft.client_id) && settled.insert(draft.client_id) {
            settlement::settle_account(store, tx, actor, draft.client_id, draft.issue_date).await?;
        }
    }
    Ok(())
}

async fn client_terms(store: &Store, inputs: &RunInputs, client: i64) -> StoreResult<ClientTerms> {
    let number = inputs
        .charges
        .get(&client)
        .and_then(|c| c.first())
        .map(|c| c.client_number.clone())
        .unwrap_or_default();
    let c = store.get_client(&number).await?;
    Ok(ClientTerms {
        head: ClientHead::of(&c),
        due_days: c.invoicing.due_days,
        proforma: c.invoicing.proforma,
    })
}

async fn load_inputs(
    store: &Store,
    config: &BillingConfig,
    as_of: NaiveDate,
) -> StoreResult<RunInputs> {
    let mut inputs = RunInputs::default();
    // Under "" the configured defaults, for a group that no longer exists.
    inputs.groups.insert(
        String::new(),
        GroupTerms {
            currency: config.currency.clone(),
            due_days: config.default_due_days,
            taxable_date: TaxableDateRule::IssueDate,
        },
    );
    for group in store.invoice_groups().await? {
        let terms = GroupTerms {
            currency: group.currency.unwrap_or_else(|| config.currency.clone()),
            due_days: group.due_days.unwrap_or(config.default_due_days),
            taxable_date: group.taxable_date_rule,
        };
        inputs.groups.insert(group.code, terms);
    }
    for (subscription, ranges) in store.unbilled_ranges().await? {
        let closed = ranges
            .into_iter()
            .map(|(from, to)| (from, to.unwrap_or(NaiveDate::MAX)))
            .collect();
        inputs.unbilled.insert(subscription, closed);
    }
    inputs.discounts = store.discounts_by_subscription().await?;
    inputs.price_changes = store.price_changes().await?;
    for charge in store.unbilled_charges(as_of).await? {
        inputs
            .charges
            .entry(charge.client_id)
            .or_default()
            .push(charge);
    }
    Ok(inputs)
}

#[allow(
    clippy::expect_used,
    reason = "load_inputs always stores the configured defaults under \"\""
)]
fn group_terms<'a>(inputs: &'a RunInputs, group: &str) -> &'a GroupTerms {
    inputs
        .groups
        .get(group)
        .or_else(|| inputs.groups.get(""))
        .expect("the configured defaults are always present")
}

fn terms_of(s: &BillingCandidate, inputs: &RunInputs) -> ChargeTerms {
    ChargeTerms {
        billing_from: s.billing_from,
        end: s.end_date,
        period: s.period,
        alignment: if s.floating {
            Alignment::Floating
        } else {
            Alignment::BillingDay(s.billing_day)
        },
        unbilled: inputs
            .unbilled
            .get(&s.subscription_id)
            .cloned()
            .unwrap_or_default(),
        price_changes: changes_of(s, inputs)
            .iter()
            .map(|c| c.change.from)
            .collect(),
        periods_before: changes_of(s, inputs)
            .iter()
            .map(|c| (c.change.from, c.change.before.period))
            .collect(),
        commitment_until: s.commitment_until,
        restarts: s.restarts.clone(),
    }
}

fn changes_of<'a>(s: &BillingCandidate, inputs: &'a RunInputs) -> &'a [RecordedChange] {
    inputs
        .price_changes
        .get(&s.subscription_id)
        .map_or(&[], Vec::as_slice)
}

/// What the subscription is charged at now (its tariff's price or its override).
fn current_price(s: &BillingCandidate) -> ServicePrice {
    ServicePrice {
        name: s.tariff_name.clone(),
        price: s.price,
        includes_vat: s.price_includes_vat,
        vat_rate: s.vat_rate,
        period: s.period,
    }
}

/// The invoice lines of `charge` at `price`, with the subscription's discounts.
fn priced_lines(
    s: &BillingCandidate,
    price: &ServicePrice,
    (charge, unbilled): (&Charge, &[(NaiveDate, NaiveDate)]),
    discounts: &[Discount],
) -> Vec<InvoiceLineRecord> {
    let basis = PriceBasis::from_includes_vat(price.includes_vat);
    charge_lines(
        line_name(&s.invoice_note, &price.name),
        price.price,
        basis,
        price.vat_rate,
        (charge, unbilled),
        discounts,
    )
    .into_iter()
    .map(|input| InvoiceLineRecord {
        line: compute_line(&input),
        subscription_id: Some(s.subscription_id),
        period: Some((charge.from, charge.to)),
        reverses: None,
    })
    .collect()
}

/// The first day whose invoiced charge may have changed since it was invoiced (the day after
/// an early end, the start of a pause with billing suspended, the first day at another
/// tariff), if any day already invoiced is affected.
fn correction_cutoff(s: &BillingCandidate, terms: &ChargeTerms) -> Option<NaiveDate> {
    let billed_until = s.billed_until?;
    let after_end = s
        .end_date
        .filter(|end| *end < billed_until)
        .and_then(|end| end.succ_opt());
    let paused = terms
        .unbilled
        .iter()
        .map(|&(from, _)| from)
        .filter(|from| *from <= billed_until)
        .min();
    let repriced = terms
        .price_changes
        .iter()
        .copied()
        .filter(|from| *from <= billed_until)
        .min();
    after_end.into_iter().chain(paused).chain(repriced).min()
}

/// One invoiced period to correct: its live lines reversed, then charged again as due now —
/// at the invoiced price on the credit note, and the part at a new tariff's price (which can
/// cost more) on the client's next invoice.
struct Correction {
    root_invoice_id: i64,
    root_number: String,
    lines: Vec<InvoiceLineRecord>,
    charges: Vec<InvoiceLineRecord>,
    /// A tariff change, rather than an end or a pause, is why.
    repriced: bool,
}

/// Groups a subscription's live lines by the period they charge and corrects every period now
/// due less than invoiced.
fn corrections_for(
    s: &BillingCandidate,
    terms: &ChargeTerms,
    inputs: &RunInputs,
    proration: Proration,
    live: &[LiveLine],
) -> Vec<Correction> {
    let mut periods: BTreeMap<(NaiveDate, NaiveDate), Vec<&LiveLine>> = BTreeMap::new();
    for line in live {
        periods.entry(line.period).or_default().push(line);
    }
    let no_discounts = Vec::new();
    let discounts = inputs
        .discounts
        .get(&s.subscription_id)
        .unwrap_or(&no_discounts);
    let mut corrections = Vec::new();
    for ((from, to), lines) in periods {
        // Service lines charge a positive price; discount lines carry negative ones.
        let service = lines
            .iter()
            .filter(|l| l.line.unit_price > Decimal::ZERO)
            .max_by_key(|l| l.line.quantity);
        let Some(service) = service else { continue };
        let invoiced: Decimal = lines
            .iter()
            .filter(|l| l.line.unit_price > Decimal::ZERO)
            .map(|l| l.line.quantity)
            .sum();
        if invoiced.is_zero() {
            // Reversed already: corrected by an earlier run.
            continue;
        }
        let due = recharge(terms, from, to, proration);
        let current = current_price(s);
        let changes = changes_of(s, inputs);
        let invoiced_at = service.invoiced_at;
        // The price as invoiced, under the name of the tariff of its first day.
        let invoiced_price = ServicePrice {
            price: service.line.unit_price,
            vat_rate: service.line.vat_rate,
            ..price_on(from, changes, &current).clone()
        };
        // Each part of what is due now, with the new price where a tariff change reprices it.
        let parts: Vec<(Charge, Option<&ServicePrice>)> = due
            .iter()
            .flat_map(|c| split_at_price_changes(c.clone(), terms, proration))
            .map(|part| {
                let price = repriced(part.from, invoiced_at, changes, &current).filter(|p| {
                    (p.price, p.vat_rate, p.period)
                        != (
                            invoiced_price.price,
                            invoiced_price.vat_rate,
                            invoiced_price.period,
                        )
                });
                (part, price)
            })
            .collect();
        let repricing = parts.iter().any(|(_, price)| price.is_some());
        if !needs_correction(invoiced, due.as_ref()) && !repricing {
            continue;
        }
        let mut out = reversals(s, &lines);
        let priced = |price, charge| priced_lines(s, price, (charge, &terms.unbilled), discounts);
        let mut charges = Vec::new();
        if !repricing {
            // Ended or paused: the shortened period, whole, at the price it was invoiced at.
            if let Some(charge) = &due {
                out.extend(priced(&invoiced_price, charge));
            }
        }
        for (part, price) in parts.iter().filter(|_| repricing) {
            match price {
                Some(price) => charges.extend(priced(price, part)),
                None => out.extend(priced(&invoiced_price, part)),
            }
        }
        corrections.push(Correction {
            root_invoice_id: service.root_invoice_id,
            root_number: service.root_number.clone(),
            lines: out,
            charges,
            repriced: repricing,
        });
    }
    corrections
}

/// The lines reversing a period's invoiced `lines`, each naming the line it reverses.
fn reversals(s: &BillingCandidate, lines: &[&LiveLine]) -> Vec<InvoiceLineRecord> {
    lines
        .iter()
        .map(|l| InvoiceLineRecord {
            line: reversal(&l.line),
            subscription_id: Some(s.subscription_id),
            period: Some(l.period),
            reverses: Some(l.at),
        })
        .collect()
}

/// One credit note per corrected invoice.
fn credit_notes(
    client: &ClientTerms,
    corrections: Vec<Correction>,
    inputs: &RunInputs,
    as_of: NaiveDate,
) -> Vec<InvoiceDraft> {
    let mut by_invoice: BTreeMap<i64, (String, Vec<InvoiceLineRecord>, bool)> = BTreeMap::new();
    for c in corrections {
        let entry = by_invoice
            .entry(c.root_invoice_id)
            .or_insert_with(|| (c.root_number, Vec::new(), false));
        entry.1.extend(c.lines);
        entry.2 |= c.repriced;
    }
    let terms = group_terms(inputs, &client.head.invoice_group);
    by_invoice
        .into_iter()
        .map(|(invoice, (number, lines, repriced))| {
            let mut draft = InvoiceDraft::empty(DocumentKind::CreditNote, &client.head, as_of);
            draft.related_invoice_id = Some(invoice);
            draft.related_number = Some(number.clone());
            draft.note = if repriced {
                format!("Correction of {number}: tariff changed")
            } else {
                format!("Correction of {number}: service ended or paused")
            };
            draft.currency = terms.currency.clone();
            draft.lines = lines;
            draft.total_up();
            draft
        })
        .collect()
}

fn head(s: &BillingCandidate) -> ClientHead {
    ClientHead {
        client_id: s.client_id,
        client_number: s.client_number.clone(),
        client_name: s.client_name.clone(),
        invoice_group: s.invoice_group.clone(),
    }
}

/// A document's dates: the day it is issued, and the last day whose periods it bills (the
/// run's `as_of` is both; an invoice issued on demand may bill periods ahead).
#[derive(Debug, Clone, Copy)]
struct Dated {
    issue: NaiveDate,
    through: NaiveDate,
}

/// One client's invoice (pro-forma for pro-forma clients) for everything due by `through`:
/// the parts of invoiced periods repriced by a tariff change, the subscriptions' charges with
/// their discounts (each part at the price of its days), then the one-off charges. `None`
/// when nothing is due.
fn draft_for_client(
    client: &ClientTerms,
    subscriptions: &[BillingCandidate],
    repriced: Vec<InvoiceLineRecord>,
    inputs: &RunInputs,
    config: &BillingConfig,
    Dated { issue, through }: Dated,
) -> Option<InvoiceDraft> {
    let kind = if client.proforma {
        DocumentKind::Proforma
    } else {
        DocumentKind::Invoice
    };
    let mut draft = InvoiceDraft::empty(kind, &client.head, issue);
    draft.lines = repriced;
    let no_discounts = Vec::new();
    for s in subscriptions {
        let terms = terms_of(s, inputs);
        let charges = due_charges(&terms, s.billed_until, through, config.proration);
        let discounts = inputs
            .discounts
            .get(&s.subscription_id)
            .unwrap_or(&no_discounts);
        let current = current_price(s);
        for charge in &charges {
            let price = price_on(charge.from, changes_of(s, inputs), &current);
            draft
                .lines
                .extend(priced_lines(s, price, (charge, &terms.unbilled), discounts));
        }
        if let Some(last) = charges.last() {
            draft.billed_until.push(BilledPeriods {
                subscription: s.subscription_id,
                from: s.billed_until,
                until: last.to,
            });
        }
    }
    for c in inputs
        .charges
        .get(&client.head.client_id)
        .into_iter()
        .flatten()
    {
        draft.lines.push(InvoiceLineRecord {
            line: compute_line(&c.charge.line_input()),
            subscription_id: c.subscription_id,
            period: None,
            reverses: None,
        });
        draft.charges.push(c.id);
    }
    // A wholly suspended period has no lines; it is simply looked at again next time.
    if draft.lines.is_empty() {
        return None;
    }
    let terms = group_terms(inputs, &client.head.invoice_group);
    let period_end = draft
        .lines
        .iter()
        .filter_map(|l| l.period.map(|p| p.1))
        .max()
        .unwrap_or(through);
    draft.taxable_supply_date = if kind == DocumentKind::Proforma {
        // A payment request is not a tax document; its tax invoice is dated by the payment.
        issue
    } else {
        taxable_supply_date(terms.taxable_date, issue, period_end)
    };
    draft.due_date = due_date(issue, client.due_days, terms.due_days);
    draft.currency = terms.currency.clone();
    draft.total_up();
    Some(draft)
}

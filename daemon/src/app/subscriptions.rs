//! Subscriptions: a client's service on a tariff, and its lifecycle (activate, pause, block,
//! resume, end). Every change that can alter a login's answer is published after commit.

use chrono::NaiveDate;
use ispd_billing::price_change::{RepriceError, check_after_last, move_tariff, reprice};
use ispd_billing::subscription::expiration::{self, ExpirationError};
use ispd_billing::subscription::transfer;
use ispd_billing::subscription::{
    Action, Commitment, DatedTransition, LifecycleError, ScheduledChange, Subscription,
    SubscriptionState, TariffChangeError, Transition, apply, check_tariff_change,
    check_total_price,
};
use ispd_billing::unit::{self, Unit};
use rust_decimal::Decimal;

use super::error::field;
use super::{App, AppResult};
use crate::app::AppError;
use crate::storage::{
    AccessScope, ActionState, Actor, CodeList, HistoryEntry, Page, PageRequest, ScheduledAction,
    StoreError, SubscriptionFilter, SubscriptionRecord, WriteTx,
};

/// A tariff change with its day resolved.
#[derive(Debug, Clone)]
struct TariffChangeRequest<'a> {
    /// The tariff to move to.
    tariff: &'a str,
    /// Its first day at the new tariff.
    from: NaiveDate,
    note: &'a str,
}

/// A lifecycle change as the operator asks for it (storage takes it with the date resolved).
#[derive(Debug)]
pub struct TransitionRequest<'a> {
    pub id: i64,
    pub transition: Transition,
    /// The day it takes effect, today when left out; for [`Transition::End`] the last charged
    /// day, which the edge requires.
    pub date: Option<NaiveDate>,
    /// End only: the day access stops, today when left out.
    pub end_date: Option<NaiveDate>,
    /// Pause and Block only: the days from `date` until the resume are not charged.
    pub billing_suspended: bool,
    /// Pause and Block only: the first day of full service again; a resume is scheduled for
    /// it (or made at once when it is not after today).
    pub resume_date: Option<NaiveDate>,
    pub note: &'a str,
    /// End only: a code of the cancellation-reason list; empty: none given.
    pub reason: &'a str,
}

/// A subscription with the changes scheduled for it.
#[derive(Debug)]
pub struct WithSchedule {
    pub record: SubscriptionRecord,
    pub scheduled: Vec<ScheduledAction>,
}

/// Applies one lifecycle transition now (the state machine of the billing core decides
/// whether it may happen; the logins get their new answer before this returns), or, when it
/// takes effect after today, schedules it for the daily job of its day.
pub async fn transition(
    app: &App<'_>,
    actor: &Actor,
    request: TransitionRequest<'_>,
) -> AppResult<WithSchedule> {
    let today = app.clock.today();
    check_reason_code(app, request.reason.trim()).await?;
    let date = request.date.unwrap_or(today);
    let effective = match request.transition {
        Transition::End => request.end_date.unwrap_or(today),
        _ => date,
    };
    let resume = match (request.transition, request.resume_date) {
        (_, None) => None,
        (Transition::Pause | Transition::Block, Some(day)) if day > date => Some(day),
        (Transition::Pause | Transition::Block, Some(_)) => {
            return Err(super::error::field(
                "resume_date",
                "after the first paused or blocked day",
            ));
        }
        (_, Some(_)) => {
            return Err(super::error::field(
                "resume_date",
                "only a pause or a block has a resume date",
            ));
        }
    };
    if effective > today {
        let change = ScheduledChange {
            reason: request.reason.trim().to_owned(),
            action: Action::Lifecycle(request.transition),
            effective,
            date,
            billing_suspended: request.billing_suspended,
            note: request.note.trim().to_owned(),
        };
        change.validate(today)?;
        check_schedule(app, request.id, &change).await?;
        app.store
            .schedule_action(actor, request.id, &change, None)
            .await?;
    } else {
        let dated = DatedTransition {
            reason: request.reason.trim().to_owned(),
            transition: request.transition,
            date,
            billing_suspended: request.billing_suspended,
            note: request.note.trim().to_owned(),
        };
        transition_now(app, actor, request.id, &dated, today).await?;
        app.publish(AccessScope::Subscription(request.id)).await;
    }
    if let Some(day) = resume {
        let resume = TransitionRequest {
            id: request.id,
            transition: Transition::Resume,
            date: Some(day),
            end_date: None,
            billing_suspended: false,
            resume_date: None,
            note: request.note,
            reason: "",
        };
        return Box::pin(transition(app, actor, resume)).await;
    }
    get(app, request.id).await
}

/// Applies every scheduled change whose day has come (as of `day`), each as the transition it
/// asks for on its own day, and publishes each change; one the state machine refuses then is
/// recorded as failed with the reason. Returns the changes with what became of them.
pub async fn apply_due(
    app: &App<'_>,
    actor: &Actor,
    day: NaiveDate,
) -> AppResult<Vec<ScheduledAction>> {
    let mut applied = Vec::new();
    for mut action in app.store.due_actions(day).await? {
        let change = &action.change;
        let outcome = match &change.action {
            Action::Lifecycle(transition) => {
                let dated = DatedTransition {
                    reason: change.reason.clone(),
                    transition: *transition,
                    date: change.date,
                    billing_suspended: change.billing_suspended,
                    note: change.note.clone(),
                };
                let id = action.subscription_id;
                transition_claiming(app, actor, id, &dated, (day, Some(action.id))).await
            }
            Action::ChangeTariff { tariff } => {
                let request = TariffChangeRequest {
                    tariff,
                    from: change.date,
                    note: &change.note,
                };
                // As of its own day: a day the jobs missed is made late, from that day.
                let (id, claim) = (action.subscription_id, Some(action.id));
                change_tariff_now(app, actor, id, &request, (change.date, claim)).await
            }
            Action::Transfer { client, tariff } => {
                let request = TransferRequest {
                    id: action.subscription_id,
                    client_number: Some(client.as_str()).filter(|c| !c.is_empty()),
                    tariff: Some(tariff.as_str()).filter(|t| !t.is_empty()),
                    date: Some(change.date),
                    note: &change.note,
                };
                transfer_now(app, actor, &request, (day, Some(action.id)))
                    .await
                    .map(|(old, _)| old)
            }
        };
        // Made: marked done in the transaction that made it.
        (action.state, action.result) = match outcome {
            Ok(_) => (ActionState::Done, String::new()),
            Err(AppError::Store(e @ (StoreError::Database(_) | StoreError::Seal(_)))) => {
                return Err(e.into());
            }
            Err(refused) => (ActionState::Failed, refused.to_string()),
        };
        if action.state == ActionState::Failed
            && !app
                .store
                .finish_action(action.id, action.state, &action.result)
                .await?
        {
            // Pending no longer: withdrawn meanwhile, or made by another run. That stands.
            let stored = app
                .store
                .scheduled_actions(Some(action.subscription_id), true)
                .await?
                .into_iter()
                .find(|a| a.id == action.id);
            applied.extend(stored);
            continue;
        }
        if action.state == ActionState::Done {
            app.publish(AccessScope::Subscription(action.subscription_id))
                .await;
        }
        applied.push(action);
    }
    Ok(applied)
}

/// One lifecycle transition as of `today`: read the subscription and its running range of
/// days not charged, let the billing core apply the transition
/// ([`ispd_billing::subscription::apply`]), and write what it returns with its history and
/// audit in one transaction. A concurrent change between the read and the write is met by
/// reading again and deciding anew, as if this request had come after it.
pub async fn transition_now(
    app: &App<'_>,
    actor: &Actor,
    id: i64,
    change: &DatedTransition,
    today: NaiveDate,
) -> AppResult<SubscriptionRecord> {
    transition_claiming(app, actor, id, change, (today, None)).await
}

/// [`transition_now`], making scheduled action `claim` (when given) in the same transaction.
async fn transition_claiming(
    app: &App<'_>,
    actor: &Actor,
    id: i64,
    change: &DatedTransition,
    (today, claim): (NaiveDate, Option<i64>),
) -> AppResult<SubscriptionRecord> {
    change.check(today)?;
    let mut attempts = 0;
    loop {
        let before = app.store.get_subscription(id).await?;
        let running_since = app.store.running_uncharged_since(id).await?;
        let applied = apply(&before.subscription, change, running_since, today)
            .map_err(|e| lifecycle_refusal(id, e))?;
        let mut tx = app.store.begin_write().await?;
        match app
            .store
            .write_transition_in(&mut tx, actor, &before, &applied)
            .await
        {
            Err(StoreError::Stale { .. }) if attempts < STALE_RETRIES => attempts += 1,
            written => {
                let written = written?;
                claim_in(app, &mut tx, claim).await?;
                tx.commit().await?;
                return Ok(written);
            }
        }
    }
}

/// Marks the scheduled action a change makes (when it is one) done in the change's
/// transaction; refused when the action is pending no longer (withdrawn, or made by another
/// run), so the change is not committed.
async fn claim_in(app: &App<'_>, tx: &mut WriteTx, claim: Option<i64>) -> AppResult<()> {
    match claim {
        Some(id) if !app.store.claim_action_in(tx, id).await? => {
            Err(AppError::Precondition(format!(
                "scheduled change {id} is pending no longer: withdrawn, or made by another run"
            )))
        }
        _ => Ok(()),
    }
}

/// Ending every service of a client at once (Mango: cancel all).
#[derive(Debug)]
pub struct EndAll<'a> {
    pub client_number: &'a str,
    /// The last charged day of each.
    pub last_day: NaiveDate,
    /// The day access stops, today when left out; a later day schedules each end.
    pub end_date: Option<NaiveDate>,
    pub note: &'a str,
    pub reason: &'a str,
}

/// Ends every service of a client that has not ended, each as [`transition`] ends one. All
/// or nothing: each end is decided first (the core's `apply`, or a scheduled end's checks),
/// and one the rules refuse refuses them all, naming it; then each is written.
pub async fn end_all(
    app: &App<'_>,
    actor: &Actor,
    order: EndAll<'_>,
) -> AppResult<Vec<WithSchedule>> {
    let today = app.clock.today();
    check_reason_code(app, order.reason.trim()).await?;
    let open = client_subscriptions(app, order.client_number, None).await?;
    if open.is_empty() {
        return Err(AppError::Precondition(format!(
            "client {} has no service that has not ended",
            order.client_number
        )));
    }
    let effective = order.end_date.unwrap_or(today);
    for record in &open {
        let id = record.subscription.id;
        if effective > today {
            ScheduledChange {
                action: Action::Lifecycle(Transition::End),
                effective,
                date: order.last_day,
                billing_suspended: false,
                note: order.note.trim().to_owned(),
                reason: order.reason.trim().to_owned(),
            }
            .validate(today)?;
            continue;
        }
        let dated = DatedTransition {
            transition: Transition::End,
            date: order.last_day,
            billing_suspended: false,
            note: order.note.trim().to_owned(),
            reason: order.reason.trim().to_owned(),
        };
        let running_since = app.store.running_uncharged_since(id).await?;
        apply(&record.subscription, &dated, running_since, today)
            .map_err(|e| lifecycle_refusal(id, e))?;
    }
    let mut ended = Vec::with_capacity(open.len());
    for record in open {
        let request = TransitionRequest {
            id: record.subscription.id,
            transition: Transition::End,
            date: Some(order.last_day),
            end_date: order.end_date,
            billing_suspended: false,
            resume_date: None,
            note: order.note,
            reason: order.reason,
        };
        ended.push(transition(app, actor, request).await?);
    }
    Ok(ended)
}

/// The client's subscriptions, every page of them: in `state`, or (`None`) every one that has
/// not ended.
pub(crate) async fn client_subscriptions(
    app: &App<'_>,
    client: &str,
    state: Option<SubscriptionState>,
) -> AppResult<Vec<SubscriptionRecord>> {
    let filter = SubscriptionFilter {
        client_number: client.to_owned(),
        state,
        ..SubscriptionFilter::default()
    };
    let mut found = Vec::new();
    let mut page = PageRequest {
        size: crate::storage::MAX_PAGE_SIZE,
        after: None,
    };
    loop {
        let one = app.store.list_subscriptions(&filter, page).await?;
        found.extend(
            one.items
                .into_iter()
                .filter(|r| r.subscription.state != SubscriptionState::Ended),
        );
        match one.next_page_token.parse() {
            Ok(after) => page.after = Some(after),
            Err(_) => return Ok(found),
        }
    }
}

/// A cancellation reason given is a code of its list.
async fn check_reason_code(app: &App<'_>, reason: &str) -> AppResult<()> {
    if reason.is_empty() {
        return Ok(());
    }
    let codes = app.store.list_codes(CodeList::CancellationReason).await?;
    if codes.iter().any(|(code, _)| code == reason) {
        return Ok(());
    }
    Err(super::error::field(
        "reason",
        format!("{reason:?} is not in the cancellation_reason code list"),
    ))
}

/// What the state machine refused of subscription `id`, as the use case's error.
fn lifecycle_refusal(id: i64, e: LifecycleError) -> AppError {
    match e {
        LifecycleError::Refused(refused) => {
            AppError::Precondition(format!("subscription {id}: {refused}"))
        }
        LifecycleError::Invalid(field) => AppError::Invalid(field),
    }
}

/// How often a transition is decided anew after losing a race with another change.
const STALE_RETRIES: u32 = 3;

/// The daily activation: every subscription not yet active whose activation date has come by
/// `today` becomes active on that date (history and audit by the actor "schedule"), and its
/// logins are answered anew. One activated or ended by an operator meanwhile is left as it is.
/// Returns the ids activated.
pub async fn activate_due(app: &App<'_>, today: NaiveDate) -> AppResult<Vec<i64>> {
    let actor = Actor("schedule".into());
    let mut activated = Vec::new();
    for (id, activation_date) in app.store.due_activations(today).await? {
        let change = DatedTransition {
            transition: Transition::Activate,
            date: activation_date,
            billing_suspended: false,
            note: "activation date reached".into(),
            reason: String::new(),
        };
        match transition_now(app, &actor, id, &change, today).await {
            Ok(_) => {
                app.publish(AccessScope::Subscription(id)).await;
                activated.push(id);
            }
            Err(AppError::Precondition(_) | AppError::Store(StoreError::NotFound { .. })) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(activated)
}

/// A tariff change as the operator asks for it.
#[derive(Debug)]
pub struct TariffChange<'a> {
    pub id: i64,
    pub tariff: &'a str,
    /// The first day at the new tariff, today when left out.
    pub from: Option<chrono::NaiveDate>,
    pub note: &'a str,
}

/// Moves a subscription to another tariff from a day: today (or no day given) at once — its
/// logins get the new speed before this returns, and the days from today are charged at the
/// new price, the current period included — or a later day, scheduled for that day's job.
pub async fn change_tariff(
    app: &App<'_>,
    actor: &Actor,
    change: TariffChange<'_>,
) -> AppResult<WithSchedule> {
    let today = app.clock.today();
    let request = TariffChangeRequest {
        tariff: change.tariff.trim(),
        from: app.day_or_today(change.from),
        note: change.note.trim(),
    };
    // Read before the last price change: a price change committed between the two reads
    // makes the scheduling below stale instead of slipping past it.
    let read_at = app
        .store
        .get_subscription(change.id)
        .await?
        .subscription
        .version;
    let last = app.store.last_price_change(change.id).await?;
    check_after_last(request.from, last).map_err(|e| field("date", e.to_string()))?;
    if request.from > today {
        let scheduled = ScheduledChange {
            action: Action::ChangeTariff {
                tariff: request.tariff.to_owned(),
            },
            effective: request.from,
            date: request.from,
            billing_suspended: false,
            note: request.note.to_owned(),
            reason: String::new(),
        };
        scheduled.validate(today)?;
        app.store.get_tariff(request.tariff).await?;
        check_schedule(app, change.id, &scheduled).await?;
        app.store
            .schedule_action(actor, change.id, &scheduled, Some(read_at))
            .await?;
    } else {
        change_tariff_now(app, actor, change.id, &request, (today, None)).await?;
        app.publish(AccessScope::Subscription(change.id)).await;
    }
    get(app, change.id).await
}

/// The tariff change itself, as of `today`: refused by the billing core's rules when the
/// subscription has ended, the day lies before `today` or it is on that tariff already; the
/// core says what the days before keep (`price_change::move_tariff`), storage writes it.
async fn change_tariff_now(
    app: &App<'_>,
    actor: &Actor,
    id: i64,
    request: &TariffChangeRequest<'_>,
    (today, claim): (NaiveDate, Option<i64>),
) -> AppResult<SubscriptionRecord> {
    let before = app.store.get_subscription(id).await?;
    check_tariff_change(before.subscription.state, request.from, today).map_err(|e| match e {
        TariffChangeError::Backdated => super::error::field("date", e.to_string()),
        TariffChangeError::Ended => AppError::Precondition(format!("subscription {id}: {e}")),
    })?;
    let current = app.store.get_tariff(&before.tariff_name).await?;
    let next = app.store.get_tariff(request.tariff).await?;
    let moved = move_tariff(
        &before.subscription,
        &current,
        &next,
        request.from,
        request.note,
    )
    .map_err(|e| AppError::Precondition(e.to_string()))?;
    let mut tx = app.store.begin_unit_write().await?;
    let on_unit = (before.subscription.unit, id);
    check_unit_in(app, &mut tx, on_unit, &next.name).await?;
    let changed = app
        .store
        .change_tariff_in(&mut tx, actor, &before, (next.id, None), &moved)
        .await?;
    claim_in(app, &mut tx, claim).await?;
    tx.commit().await?;
    Ok(changed)
}

/// A change of a service's own price as the operator asks for it.
#[derive(Debug)]
pub struct PriceChangeOrder<'a> {
    pub id: i64,
    /// Its new own price; `None`: its tariff's from then on.
    pub price: Option<Decimal>,
    /// The first day at the new price, today when left out.
    pub from: Option<chrono::NaiveDate>,
    pub note: &'a str,
}

/// Changes a service's own price from a day (Mango's parameters "valid from"): recorded at
/// once, also for a later day — nothing the NAS is told depends on it — and the billing run
/// charges each part of a period at its day's price, re-pricing an invoiced period the change
/// falls in. Refused for an ended service, a day before today or before the last change, and
/// while a tariff change is scheduled (its day would split the history out of order).
pub async fn change_price(
    app: &App<'_>,
    actor: &Actor,
    order: PriceChangeOrder<'_>,
) -> AppResult<SubscriptionRecord> {
    let today = app.clock.today();
    let from = app.day_or_today(order.from);
    if let Some(price) = order.price {
        ispd_billing::money::to_minor_units("price", price)?;
        if price < Decimal::ZERO {
            return Err(field("price", "must not be negative"));
        }
    }
    let before = app.store.get_subscription(order.id).await?;
    check_tariff_change(before.subscription.state, from, today).map_err(|e| match e {
        TariffChangeError::Backdated => field("date", "a price change takes effect today or later"),
        TariffChangeError::Ended => {
            AppError::Precondition(format!("subscription {}: {e}", order.id))
        }
    })?;
    let pending = app.store.scheduled_actions(Some(order.id), false).await?;
    if let Some(scheduled) = pending
        .iter()
        .find(|a| matches!(a.change.action, Action::ChangeTariff { .. }))
    {
        return Err(AppError::Precondition(format!(
            "subscription {}: a tariff change is scheduled for {}; withdraw it, or change the \
             price once it has been made",
            order.id, scheduled.change.effective
        )));
    }
    let tariff = app.store.get_tariff(&before.tariff_name).await?;
    let last = app.store.last_price_change(order.id).await?;
    let moved = reprice(
        &before.subscription,
        &tariff,
        order.price,
        from,
        last,
        order.note,
    )
    .map_err(|e| match e {
        RepriceError::BeforeLastChange(_) => field("date", e.to_string()),
        RepriceError::Unchanged(_) => field("price", e.to_string()),
    })?;
    Ok(app
        .store
        .change_tariff(actor, &before, (tariff.id, order.price), &moved)
        .await?)
}

/// Moves a service's expiration later as goodwill (Mango "Posun expirace"): the days until
/// `to` are given, the service counts as paid until the day before, and its floating periods
/// begin anew on `to`. The rule and its refusals are `subscription::expiration`'s.
pub async fn move_expiration(
    app: &App<'_>,
    actor: &Actor,
    id: i64,
    to: NaiveDate,
    note: &str,
) -> AppResult<SubscriptionRecord> {
    let before = app.store.get_subscription(id).await?;
    let moved = expiration::move_expiration(
        &before.subscription,
        before.billed_until,
        before.expiration,
        to,
        note,
    )
    .map_err(|e| match e {
        ExpirationError::NotLater(_) => field("date", e.to_string()),
        _ => AppError::Precondition(format!("subscription {id}: {e}")),
    })?;
    Ok(app.store.move_expiration(actor, &before, &moved).await?)
}

/// Shifts the end of a fixed-length service (Mango list_size) — one whose end is scheduled
/// ahead — to `to`, its last charged day moved by as many days (`subscription::shift_end`).
/// A service without a scheduled end has no fixed length and is refused.
pub async fn shift_end(
    app: &App<'_>,
    actor: &Actor,
    id: i64,
    to: NaiveDate,
) -> AppResult<WithSchedule> {
    let pending = app.store.scheduled_actions(Some(id), false).await?;
    let Some(end) = pending
        .iter()
        .find(|a| a.change.action == Action::Lifecycle(Transition::End))
    else {
        app.store.get_subscription(id).await?;
        return Err(AppError::Precondition(format!(
            "subscription {id} has no fixed length: no end is scheduled for it \
             (`subscription end --date` sets one)"
        )));
    };
    let shifted = ispd_billing::subscription::shift_end(&end.change, to, app.clock.today())?;
    app.store.reschedule_action(actor, end.id, &shifted).await?;
    get(app, id).await
}

/// The changes scheduled for one subscription or for all: pending ones, or every one.
pub async fn scheduled(
    app: &App<'_>,
    subscription_id: Option<i64>,
    all_states: bool,
) -> AppResult<Vec<ScheduledAction>> {
    Ok(app
        .store
        .scheduled_actions(subscription_id, all_states)
        .await?)
}

/// Refuses a scheduled change that adds nothing to those pending for the subscription
/// (`ScheduledChange::check_against`).
async fn check_schedule(app: &App<'_>, id: i64, change: &ScheduledChange) -> AppResult<()> {
    let tariff = app.store.get_subscription(id).await?.tariff_name;
    let pending: Vec<ScheduledChange> = app
        .store
        .scheduled_actions(Some(id), false)
        .await?
        .into_iter()
        .map(|a| a.change)
        .collect();
    Ok(change.check_against(&pending, &tariff)?)
}

/// Withdraws a pending scheduled change.
pub async fn withdraw(app: &App<'_>, actor: &Actor, id: i64) -> AppResult<ScheduledAction> {
    Ok(app.store.withdraw_action(actor, id).await?)
}

/// Creates a subscription of the client on the tariff; its logins (none yet, or moved to it)
/// are answered anew.
pub async fn create(
    app: &App<'_>,
    actor: &Actor,
    (client_number, tariff): (&str, &str),
    mut subscription: Subscription,
    commitment: Option<Commitment>,
) -> AppResult<SubscriptionRecord> {
    if let Some(commitment) = commitment {
        subscription.commit(commitment)?;
    }
    subscription.validate()?;
    check_price_kind(app, &subscription, tariff).await?;
    let today = app.clock.today();
    let mut tx = app.store.begin_unit_write().await?;
    check_unit_in(app, &mut tx, (subscription.unit, 0), tariff).await?;
    let stored = app
        .store
        .create_subscription_in(&mut tx, actor, (client_number, tariff), subscription, today)
        .await?;
    tx.commit().await?;
    app.publish(AccessScope::Subscription(stored.subscription.id))
        .await;
    Ok(stored)
}

/// A service charged a total price (its own period, else its tariff's) needs its term.
async fn check_price_kind(
    app: &App<'_>,
    subscription: &Subscription,
    tariff: &str,
) -> AppResult<()> {
    let period = match subscription.period {
        Some(period) => period,
        None => app.store.get_tariff(tariff).await?.period,
    };
    Ok(check_total_price(period, subscription.commitment_until)?)
}

/// A transfer of a service as the operator asks for it.
#[derive(Debug)]
pub struct TransferRequest<'a> {
    pub id: i64,
    /// The client it goes to; the same one when left out.
    pub client_number: Option<&'a str>,
    /// The tariff it goes on; the same one when left out.
    pub tariff: Option<&'a str>,
    /// The new service's first day; today when left out.
    pub date: Option<NaiveDate>,
    pub note: &'a str,
}

/// What a transfer did: made now, or scheduled for its day.
#[derive(Debug)]
pub enum Transferred {
    /// The original as it ended, and the new service.
    Now(Box<(SubscriptionRecord, SubscriptionRecord)>),
    /// The original with the transfer among its scheduled changes.
    Scheduled(Box<WithSchedule>),
}

/// Transfers a service to another client or tariff (Mango "Změna služby na jinou"): today or
/// an earlier day at once ([`transfer_now`]); a later day is scheduled, checked now as far as
/// it can be, and made by the daily job on its day.
pub async fn transfer(
    app: &App<'_>,
    actor: &Actor,
    request: TransferRequest<'_>,
) -> AppResult<Transferred> {
    let today = app.clock.today();
    let date = request.date.unwrap_or(today);
    if date <= today {
        let both = transfer_now(app, actor, &request, (today, None)).await?;
        return Ok(Transferred::Now(Box::new(both)));
    }
    // What can be said before the day: the client and tariff exist, it moves somewhere.
    let (before, client, tariff) = transfer_target(app, &request).await?;
    transfer::plan(
        &before.subscription,
        (&[], &[]),
        (client, tariff.id),
        (date, date),
        request.note,
    )?;
    let change = ScheduledChange {
        action: Action::Transfer {
            client: request.client_number.unwrap_or_default().to_owned(),
            tariff: request.tariff.unwrap_or_default().to_owned(),
        },
        effective: date,
        date,
        billing_suspended: false,
        note: request.note.to_owned(),
        reason: String::new(),
    };
    change.validate(today)?;
    check_schedule(app, request.id, &change).await?;
    app.store
        .schedule_action(actor, request.id, &change, None)
        .await?;
    Ok(Transferred::Scheduled(Box::new(
        get(app, request.id).await?,
    )))
}

/// The subscription read now, and the client's id and the tariff it goes to.
async fn transfer_target(
    app: &App<'_>,
    request: &TransferRequest<'_>,
) -> AppResult<(SubscriptionRecord, i64, ispd_billing::tariff::Tariff)> {
    let before = app.store.get_subscription(request.id).await?;
    let client = match request.client_number {
        Some(number) => app.store.get_client(number).await?.id,
        None => before.subscription.client_id,
    };
    let tariff_name = request.tariff.unwrap_or(&before.tariff_name);
    let tariff = app.store.get_tariff(tariff_name).await?;
    Ok((before, client, tariff))
}

/// The transfer made as of `today`: the core plans it (`transfer::plan`), the state machine
/// ends the original the day before, storage writes the end, the new service, the logins
/// moved and the discounts carried in one transaction with one audit record; both services'
/// logins get their answers anew.
async fn transfer_now(
    app: &App<'_>,
    actor: &Actor,
    request: &TransferRequest<'_>,
    (today, claim): (NaiveDate, Option<i64>),
) -> AppResult<(SubscriptionRecord, SubscriptionRecord)> {
    let (before, client, tariff) = transfer_target(app, request).await?;
    let discounts: Vec<_> = app
        .store
        .list_discounts(request.id)
        .await?
        .into_iter()
        .map(|d| d.discount)
        .collect();
    let changes = app.store.price_changes_of(request.id).await?;
    let date = request.date.unwrap_or(today);
    let plan = transfer::plan(
        &before.subscription,
        (&discounts, &changes),
        (client, tariff.id),
        (date, today),
        request.note,
    )?;
    let running_since = app.store.running_uncharged_since(request.id).await?;
    // The end's last charged day is the day before the transfer: a refusal names the day
    // the operator gave.
    let ended = apply(&before.subscription, &plan.end, running_since, today).map_err(|e| {
        match lifecycle_refusal(request.id, e) {
            AppError::Invalid(mut f) if f.field == "last_day" => {
                "date".clone_into(&mut f.field);
                AppError::Invalid(f)
            }
            other => other,
        }
    })?;
    let mut tx = app.store.begin_unit_write().await?;
    let on_unit = (plan.next.unit, before.subscription.id);
    let carried = (plan.next, &plan.carried[..], &plan.price_changes[..]);
    check_unit_in(app, &mut tx, on_unit, &tariff.name).await?;
    let written = app
        .store
        .record_transfer_in(&mut tx, actor, &before, &ended, carried)
        .await?;
    claim_in(app, &mut tx, claim).await?;
    tx.commit().await?;
    app.publish(AccessScope::Subscription(written.0.subscription.id))
        .await;
    app.publish(AccessScope::Subscription(written.1.subscription.id))
        .await;
    Ok(written)
}

/// The unit a service is to be on holds no other service of the class of `tariff`
/// (`unit::check_one_per_class`), as `tx` reads it — begun by [`Store::begin_unit_write`], so
/// that no other service can reach the unit before it commits. `subscription` is the service
/// that stays or is replaced (0 for a new one): it never counts against itself.
async fn check_unit_in(
    app: &App<'_>,
    tx: &mut WriteTx,
    (unit, subscription): (Option<i64>, i64),
    tariff: &str,
) -> AppResult<()> {
    let Some(unit) = unit else {
        return Ok(());
    };
    let others = match app.store.services_on_unit_in(tx, unit).await {
        Err(StoreError::NotFound { .. }) => {
            return Err(super::error::field(
                "subscription.unit",
                format!("no unit {unit}"),
            ));
        }
        found => found?,
    };
    let class = app.store.tariff_in(tx, tariff).await?.service_class;
    unit::check_one_per_class((unit, subscription), &class, &others)?;
    Ok(())
}

/// The units services are delivered to.
pub async fn units(app: &App<'_>) -> AppResult<Vec<Unit>> {
    Ok(app.store.list_units().await?)
}

/// Records a unit.
pub async fn add_unit(app: &App<'_>, actor: &Actor, unit: Unit) -> AppResult<Unit> {
    unit.validate()?;
    Ok(app.store.create_unit(actor, &unit).await?)
}

/// Deletes a unit no subscription names.
pub async fn delete_unit(app: &App<'_>, actor: &Actor, id: i64) -> AppResult<()> {
    Ok(app.store.delete_unit(actor, id).await?)
}

/// Updates a subscription (its tariff among the rest); its logins get the new answer.
pub async fn update(
    app: &App<'_>,
    actor: &Actor,
    tariff: &str,
    mut subscription: Subscription,
    commitment: Option<Commitment>,
) -> AppResult<SubscriptionRecord> {
    if let Some(commitment) = commitment {
        subscription.commit(commitment)?;
    }
    subscription.validate()?;
    check_price_kind(app, &subscription, tariff).await?;
    let mut tx = app.store.begin_unit_write().await?;
    let on_unit = (subscription.unit, subscription.id);
    check_unit_in(app, &mut tx, on_unit, tariff).await?;
    let stored = app
        .store
        .update_subscription_in(&mut tx, actor, tariff, subscription)
        .await?;
    tx.commit().await?;
    app.publish(AccessScope::Subscription(stored.subscription.id))
        .await;
    Ok(stored)
}

/// A subscription and the changes pending for it.
pub async fn get(app: &App<'_>, id: i64) -> AppResult<WithSchedule> {
    Ok(WithSchedule {
        record: app.store.get_subscription(id).await?,
        scheduled: app.store.scheduled_actions(Some(id), false).await?,
    })
}

pub async fn list(
    app: &App<'_>,
    filter: &SubscriptionFilter,
    page: PageRequest,
) -> AppResult<Page<SubscriptionRecord>> {
    // A client that is not there is said so, as `invoice list` says it, not an empty list.
    if !filter.client_number.is_empty() {
        app.store.get_client(&filter.client_number).await?;
    }
    Ok(app.store.list_subscriptions(filter, page).await?)
}

/// Deletes a subscription and its history, once the caller `confirmed` it.
pub async fn delete(app: &App<'_>, actor: &Actor, id: i64, confirmed: bool) -> AppResult<()> {
    if !confirmed {
        return Err(super::clients::unconfirmed(&format!(
            "deleting subscription {id}"
        )));
    }
    Ok(app.store.delete_subscription(actor, id).await?)
}

/// The subscription's state changes, oldest first.
pub async fn history(app: &App<'_>, id: i64) -> AppResult<Vec<HistoryEntry>> {
    Ok(app.store.subscription_history(id).await?)
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::{Arc, Mutex};

    use ispd_billing::subscription::SubscriptionState;
    use ispd_store::testkit::fixtures::{actor, minimal_client, subscription, tariff};

    use super::*;
    use crate::app::tests::Harness;
    use crate::changes::{Change, Consumer};
    use crate::storage::Store;

    /// Records what was published, and whether the change was committed by then.
    struct Recorder {
        store: Store,
        seen: Mutex<Vec<(Change, Option<SubscriptionState>)>>,
    }

    impl Consumer for Recorder {
        fn apply<'a>(
            &'a self,
            change: &'a Change,
        ) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
            Box::pin(async move {
                let committed = match change {
                    Change::Access(AccessScope::Subscription(id)) => self
                        .store
                        .get_subscription(*id)
                        .await
                        .ok()
                        .map(|r| r.subscription.state),
                    _ => None,
                };
                self.seen.lock().unwrap().push((change.clone(), committed));
            })
        }
    }

    #[tokio::test]
    async fn a_transition_without_a_date_happens_on_the_clocks_today_and_is_published_after_commit()
    {
        let h = Harness::new("subscriptions").await;
        let recorder = Arc::new(Recorder {
            store: h.store.clone(),
            seen: Mutex::default(),
        });
        h.changes.subscribe(recorder.clone());
        // Noon UTC is the same date in every time zone the host may be in but ±12 h ones.
        let app = h.app();
        let clock = app.clock;
        let actor = actor();
        h.store
            .create_client(&actor, minimal_client("1", "Alice"))
            .await
            .unwrap();
        h.store
            .create_tariff(&actor, tariff("Basic", "300"))
            .await
            .unwrap();
        let activation = clock.today() + chrono::Days::new(10);
        let subscription = Subscription {
            state: SubscriptionState::NotYetActive,
            ..subscription(activation)
        };
        let created = create(&app, &actor, ("1", "Basic"), subscription, None)
            .await
            .unwrap();
        let id = created.subscription.id;
        recorder.seen.lock().unwrap().clear();

        assert_eq!(created.subscription.state, SubscriptionState::NotYetActive);
        let activated = transition(
            &app,
            &actor,
            TransitionRequest {
                id,
                transition: Transition::Activate,
                date: None,
                end_date: None,
                billing_suspended: false,
                resume_date: None,
                note: "  holiday  ",
                reason: "",
            },
        )
        .await
        .unwrap();

        assert_eq!(
            activated.record.subscription.state,
            SubscriptionState::Active
        );
        assert_eq!(
            activated.record.subscription.activation_date,
            clock.today(),
            "no date: the clock's today"
        );
        assert_eq!(
            *recorder.seen.lock().unwrap(),
            [(
                Change::Access(AccessScope::Subscription(id)),
                Some(SubscriptionState::Active)
            )],
            "published once, after the commit"
        );
        let last = history(&app, id).await.unwrap().pop().unwrap();
        assert_eq!(
            last.note, "activated on 2026-11-15; holiday",
            "the note trimmed"
        );
        h.close().await;
    }
}

//! Violation notices (BILLmanager "Нарушение"): issued, listed with the client's penalty
//! points, resolved — giving back the services the notice blocked — and enforced by the daily
//! jobs: an open notice that stops services blocks every active service of its client the
//! day after its deadline (the rule is `ispd_billing::violation::due`).

use chrono::NaiveDate;
use ispd_billing::subscription::{SubscriptionState, Transition};
use ispd_billing::violation::{self, AlreadyResolved, NewNotice, Notice, NoticeState};

use super::subscriptions::{TransitionRequest, client_subscriptions, transition};
use super::{App, AppError, AppResult};
use crate::storage::Actor;

impl From<AlreadyResolved> for AppError {
    fn from(e: AlreadyResolved) -> Self {
        AppError::Precondition(e.to_string())
    }
}

/// Issues a notice to a client today.
pub async fn add(
    app: &App<'_>,
    actor: &Actor,
    client_number: &str,
    new: NewNotice,
) -> AppResult<Notice> {
    let today = app.clock.today();
    new.check(today)?;
    let mut tx = app.store.begin_write().await?;
    let notice = app
        .store
        .add_violation_in(&mut tx, actor, client_number, &new, today)
        .await?;
    tx.commit().await?;
    Ok(notice)
}

/// A client's notices, oldest first, with its penalty points.
pub async fn list(app: &App<'_>, client_number: &str) -> AppResult<(Vec<Notice>, u32)> {
    let notices = app.store.client_violations(client_number).await?;
    let points = violation::points(&notices);
    Ok((notices, points))
}

/// Resolves a notice (the client put it right, or the operator withdraws it); services its
/// enforcement blocked are resumed, each as `subscription resume` would.
pub async fn resolve(app: &App<'_>, actor: &Actor, id: i64, note: &str) -> AppResult<Notice> {
    ispd_billing::field::text("note", note, ispd_billing::field::Text::Note)?;
    let today = app.clock.today();
    let mut tx = app.store.begin_write().await?;
    let mut notice = app.store.violation_by_id_in(&mut tx, id).await?;
    let read = notice.state;
    notice.state = violation::resolve(&notice, today)?;
    note.trim().clone_into(&mut notice.resolution);
    let recorded = app
        .store
        .record_violation_state_in(&mut tx, actor, &notice, &read)
        .await?;
    if !recorded {
        return Err(AppError::Precondition(format!(
            "violation notice {id} changed meanwhile (enforced?): resolve it again"
        )));
    }
    tx.commit().await?;
    let note = format!("violation notice {id} resolved");
    for &subscription in &notice.blocked {
        let resume = lifecycle(subscription, Transition::Resume, &note);
        if let Err(e) = transition(app, actor, resume).await {
            tracing::warn!(subscription, violation = id, error = %e, "not resumed after the violation was resolved");
        }
    }
    Ok(notice)
}

/// Enforces every notice due on `day` (the daily job passes today): each active service of
/// its client is blocked (today), the notice records which. Returns the notices enforced.
pub async fn enforce_due(app: &App<'_>, actor: &Actor, day: NaiveDate) -> AppResult<Vec<Notice>> {
    let mut enforced = Vec::new();
    for notice in app.store.overdue_violations(day).await? {
        if violation::due(&notice, day)
            && let Some(notice) = enforce(app, actor, notice).await?
        {
            enforced.push(notice);
        }
    }
    Ok(enforced)
}

/// Blocks the active services of an open `notice`, as read, and records which — unless
/// another enforcer (a second instance, the daily job beside an operator) recorded the notice
/// first: then what this one blocked is added to the notice's list (so resolving it gives
/// every one back), never written over it, and `None` is returned.
pub(crate) async fn enforce(
    app: &App<'_>,
    actor: &Actor,
    mut notice: Notice,
) -> AppResult<Option<Notice>> {
    let active =
        client_subscriptions(app, &notice.client_number, Some(SubscriptionState::Active)).await?;
    // The notice holds the reason; the history names the notice.
    let note = format!("violation notice {}", notice.id);
    for record in active {
        let id = record.subscription.id;
        let block = lifecycle(id, Transition::Block, &note);
        match transition(app, actor, block).await {
            Ok(_) => notice.blocked.push(id),
            Err(e) => {
                tracing::warn!(subscription = id, violation = notice.id, error = %e, "not blocked for the violation")
            }
        }
    }
    notice.state = NoticeState::Enforced(app.clock.today());
    let mut tx = app.store.begin_write().await?;
    let store = app.store;
    if store
        .record_violation_state_in(&mut tx, actor, &notice, &NoticeState::Open)
        .await?
    {
        tx.commit().await?;
        return Ok(Some(notice));
    }
    let mut stored = store.violation_by_id_in(&mut tx, notice.id).await?;
    let read = stored.state;
    let ours: Vec<i64> = notice
        .blocked
        .into_iter()
        .filter(|id| !stored.blocked.contains(id))
        .collect();
    if ours.is_empty() {
        return Ok(None);
    }
    if matches!(read, NoticeState::Resolved(_)) {
        // Resolved meanwhile: what this enforcer blocked is given back at once.
        drop(tx);
        let note = format!("violation notice {} resolved", notice.id);
        for subscription in ours {
            transition(
                app,
                actor,
                lifecycle(subscription, Transition::Resume, &note),
            )
            .await?;
        }
        return Ok(None);
    }
    stored.blocked.extend(ours);
    store
        .record_violation_state_in(&mut tx, actor, &stored, &read)
        .await?;
    tx.commit().await?;
    Ok(None)
}

/// A lifecycle change made now (the notice's own record says why).
fn lifecycle(id: i64, transition: Transition, note: &str) -> TransitionRequest<'_> {
    TransitionRequest {
        id,
        transition,
        date: None,
        end_date: None,
        billing_suspended: false,
        resume_date: None,
        note,
        reason: "",
    }
}

//! SubscriptionService.

use ispd_admin_proto::v1;
use ispd_billing::money;
use ispd_billing::subscription::{
    Action, Commitment, PeriodAlignment, Subscription, SubscriptionState, Transition,
};
use ispd_billing::unit::Unit;
use tonic::{Request, Response, Status};

use super::{
    AdminState, Reply, date, date_text, field, invalid, page, paged, period_from, period_to,
    required, written,
};
use crate::app::subscriptions;
use crate::storage::{ScheduledAction, SubscriptionFilter, SubscriptionRecord};

fn state_to(s: SubscriptionState) -> i32 {
    (match s {
        SubscriptionState::NotYetActive => v1::SubscriptionState::NotYetActive,
        SubscriptionState::Active => v1::SubscriptionState::Active,
        SubscriptionState::Paused => v1::SubscriptionState::Paused,
        SubscriptionState::Blocked => v1::SubscriptionState::Blocked,
        SubscriptionState::Ended => v1::SubscriptionState::Ended,
    }) as i32
}

fn state_from(s: i32) -> Result<Option<SubscriptionState>, Status> {
    Ok(match v1::SubscriptionState::try_from(s) {
        Ok(v1::SubscriptionState::Unspecified) => None,
        Ok(v1::SubscriptionState::NotYetActive) => Some(SubscriptionState::NotYetActive),
        Ok(v1::SubscriptionState::Active) => Some(SubscriptionState::Active),
        Ok(v1::SubscriptionState::Paused) => Some(SubscriptionState::Paused),
        Ok(v1::SubscriptionState::Blocked) => Some(SubscriptionState::Blocked),
        Ok(v1::SubscriptionState::Ended) => Some(SubscriptionState::Ended),
        Err(_) => return Err(field("state", format!("unknown state {s}"))),
    })
}

fn alignment_from(a: i32) -> Result<PeriodAlignment, Status> {
    match v1::PeriodAlignment::try_from(a) {
        Ok(v1::PeriodAlignment::Unspecified | v1::PeriodAlignment::BillingDay) => {
            Ok(PeriodAlignment::BillingDay)
        }
        Ok(v1::PeriodAlignment::Floating) => Ok(PeriodAlignment::Floating),
        Err(_) => Err(field(
            "subscription.alignment",
            format!("unknown alignment {a}"),
        )),
    }
}

fn alignment_to(a: PeriodAlignment) -> i32 {
    (match a {
        PeriodAlignment::BillingDay => v1::PeriodAlignment::BillingDay,
        PeriodAlignment::Floating => v1::PeriodAlignment::Floating,
    }) as i32
}

fn subscription_from(s: &v1::Subscription) -> Result<Subscription, Status> {
    let activation_date = date("subscription.activation_date", &s.activation_date)?
        .ok_or_else(|| field("subscription.activation_date", "required"))?;
    Ok(Subscription {
        id: s.id,
        client_id: 0,
        tariff_id: 0,
        activation_date,
        billing_from: date("subscription.billing_from", &s.billing_from)?
            .unwrap_or(activation_date),
        price_override: if s.price_override.trim().is_empty() {
            None
        } else {
            Some(money::parse("subscription.price_override", &s.price_override).map_err(invalid)?)
        },
        period: period_from(s.period)
            .map_err(|_| field("subscription.period", "unknown period"))?,
        commitment_until: date("subscription.commitment_until", &s.commitment_until)?,
        variable_symbol: s.variable_symbol.trim().to_owned(),
        note: s.note.clone(),
        invoice_note: s.invoice_note.clone(),
        state: SubscriptionState::NotYetActive,
        alignment: alignment_from(s.alignment)?,
        unit: (s.unit_id != 0).then_some(s.unit_id),
        // Output only: set by EndSubscription.
        end_date: None,
        end_reason: String::new(),
        version: s.version,
    })
}

fn unit_to(u: &Unit) -> v1::Unit {
    v1::Unit {
        id: u.id,
        name: u.name.clone(),
        note: u.note.clone(),
    }
}

/// The commitment period the request names, if any.
fn commitment_from(s: &v1::Subscription) -> Result<Option<Commitment>, Status> {
    if s.commitment.trim().is_empty() {
        return Ok(None);
    }
    Ok(Some(Commitment::parse(&s.commitment).map_err(invalid)?))
}

fn subscription_to(r: &SubscriptionRecord) -> v1::Subscription {
    let s = &r.subscription;
    v1::Subscription {
        id: s.id,
        client_number: r.client_number.clone(),
        tariff: r.tariff_name.clone(),
        activation_date: date_text(Some(s.activation_date)),
        billing_from: date_text(Some(s.billing_from)),
        price_override: s.price_override.map(|p| p.to_string()).unwrap_or_default(),
        period: period_to(s.period),
        commitment_until: date_text(s.commitment_until),
        variable_symbol: s.variable_symbol.clone(),
        note: s.note.clone(),
        state: state_to(s.state),
        version: s.version,
        alignment: alignment_to(s.alignment),
        end_date: date_text(s.end_date),
        billed_until: date_text(r.billed_until),
        expiration: date_text(r.expiration),
        paid_until: date_text(r.paid_until),
        scheduled: Vec::new(),
        commitment: String::new(),
        invoice_note: s.invoice_note.clone(),
        end_reason: s.end_reason.clone(),
        unit_id: s.unit.unwrap_or_default(),
    }
}

/// The subscription with its pending scheduled changes, as Get and the lifecycle calls answer.
fn scheduled_to(s: subscriptions::WithSchedule) -> Response<v1::Subscription> {
    Response::new(v1::Subscription {
        scheduled: s.scheduled.iter().map(action_to).collect(),
        ..subscription_to(&s.record)
    })
}

fn action_to(a: &ScheduledAction) -> v1::ScheduledAction {
    v1::ScheduledAction {
        id: a.id,
        subscription_id: a.subscription_id,
        transition: a.change.action.as_str().to_owned(),
        tariff: match &a.change.action {
            Action::ChangeTariff { tariff } | Action::Transfer { tariff, .. } => tariff.clone(),
            Action::Lifecycle(_) => String::new(),
        },
        client_number: match &a.change.action {
            Action::Transfer { client, .. } => client.clone(),
            _ => String::new(),
        },
        effective: a.change.effective.to_string(),
        date: a.change.date.to_string(),
        billing_suspended: a.change.billing_suspended,
        note: a.change.note.clone(),
        reason: a.change.reason.clone(),
        state: a.state.as_str().to_owned(),
        result: a.result.clone(),
        created_at: a.created_at.clone(),
        created_by: a.created_by.clone(),
    }
}

fn actions_to(actions: &[ScheduledAction]) -> Response<v1::ListScheduledActionsResponse> {
    Response::new(v1::ListScheduledActionsResponse {
        actions: actions.iter().map(action_to).collect(),
    })
}

/// The five lifecycle RPCs' messages: which transition each asks for and where its date is.
trait TransitionMessage {
    const TRANSITION: Transition;
    /// The date's field: "date", or "last_day" for End.
    const DATE_FIELD: &'static str;
    fn id(&self) -> i64;
    /// The request's day ("date", or "last_day" for End).
    fn day(&self) -> &str;
    fn billing_suspended(&self) -> bool {
        false
    }
    fn note(&self) -> &str;
    /// End only: the day access stops ("" = now).
    fn end_date(&self) -> &str {
        ""
    }
    /// Pause and Block only: the day full service comes back ("" = not planned).
    fn resume_date(&self) -> &str {
        ""
    }
    /// End only: the cancellation-reason code ("" = none given).
    fn reason(&self) -> &str {
        ""
    }
}

macro_rules! transition_message {
    ($message:ty, $transition:ident, $date:ident $(, $suspended:ident, $resume:ident)?) => {
        impl TransitionMessage for $message {
            const TRANSITION: Transition = Transition::$transition;
            const DATE_FIELD: &'static str = stringify!($date);
            fn id(&self) -> i64 {
                self.id
            }
            fn day(&self) -> &str {
                &self.$date
            }
            $(fn billing_suspended(&self) -> bool {
                self.$suspended
            }
            fn resume_date(&self) -> &str {
                &self.$resume
            })?
            fn note(&self) -> &str {
                &self.note
            }
        }
    };
}

transition_message!(v1::ActivateSubscriptionRequest, Activate, date);
transition_message!(
    v1::PauseSubscriptionRequest,
    Pause,
    date,
    billing_suspended,
    resume_date
);
transition_message!(
    v1::BlockSubscriptionRequest,
    Block,
    date,
    billing_suspended,
    resume_date
);
transition_message!(v1::ResumeSubscriptionRequest, Resume, date);
/// End names its last charged day, and the day access stops beside it.
impl TransitionMessage for v1::EndSubscriptionRequest {
    const TRANSITION: Transition = Transition::End;
    const DATE_FIELD: &'static str = "last_day";
    fn id(&self) -> i64 {
        self.id
    }
    fn day(&self) -> &str {
        &self.last_day
    }
    fn note(&self) -> &str {
        &self.note
    }
    fn end_date(&self) -> &str {
        &self.date
    }
    fn reason(&self) -> &str {
        &self.reason
    }
}

impl AdminState {
    /// Every lifecycle RPC: one transition through the use case. An empty date is today,
    /// except for End, which requires its last day.
    async fn transition<M: TransitionMessage>(
        &self,
        request: Request<M>,
    ) -> Reply<v1::Subscription> {
        let (actor, r) = written(request)?;
        which(r.id())?;
        let date = date(M::DATE_FIELD, r.day())?;
        if date.is_none() && M::TRANSITION == Transition::End {
            return Err(field(M::DATE_FIELD, "required"));
        }
        let transition = subscriptions::TransitionRequest {
            id: r.id(),
            transition: M::TRANSITION,
            date,
            end_date: super::date("date", r.end_date())?,
            billing_suspended: r.billing_suspended(),
            resume_date: super::date("resume_date", r.resume_date())?,
            note: r.note(),
            reason: r.reason(),
        };
        let stored = subscriptions::transition(&self.app(), &actor, transition).await?;
        Ok(scheduled_to(stored))
    }
}

#[tonic::async_trait]
impl v1::subscription_service_server::SubscriptionService for AdminState {
    async fn create_subscription(
        &self,
        request: Request<v1::CreateSubscriptionRequest>,
    ) -> Reply<v1::Subscription> {
        let (actor, r) = written(request)?;
        let s = required(r.subscription, "subscription")?;
        if s.client_number.is_empty() {
            return Err(field("subscription.client_number", "required"));
        }
        if s.tariff.is_empty() {
            return Err(field("subscription.tariff", "required"));
        }
        let stored = subscriptions::create(
            &self.app(),
            &actor,
            (&s.client_number, &s.tariff),
            subscription_from(&s)?,
            commitment_from(&s)?,
        )
        .await?;
        Ok(Response::new(subscription_to(&stored)))
    }

    async fn get_subscription(
        &self,
        request: Request<v1::GetSubscriptionRequest>,
    ) -> Reply<v1::Subscription> {
        let r = subscriptions::get(&self.app(), request.into_inner().id).await?;
        Ok(scheduled_to(r))
    }

    async fn update_subscription(
        &self,
        request: Request<v1::UpdateSubscriptionRequest>,
    ) -> Reply<v1::Subscription> {
        let (actor, r) = written(request)?;
        let s = required(r.subscription, "subscription")?;
        if s.id == 0 {
            return Err(field(
                "subscription.id",
                "required: it says which subscription to update",
            ));
        }
        if s.tariff.is_empty() {
            return Err(field("subscription.tariff", "required"));
        }
        let stored = subscriptions::update(
            &self.app(),
            &actor,
            &s.tariff,
            subscription_from(&s)?,
            commitment_from(&s)?,
        )
        .await?;
        Ok(Response::new(subscription_to(&stored)))
    }

    async fn list_subscriptions(
        &self,
        request: Request<v1::ListSubscriptionsRequest>,
    ) -> Reply<v1::ListSubscriptionsResponse> {
        let r = request.into_inner();
        let filter = SubscriptionFilter {
            client_number: r.client_number,
            tariff: r.tariff,
            state: state_from(r.state)?,
        };
        let page = subscriptions::list(&self.app(), &filter, page(r.page)?).await?;
        let (subscriptions, next_page_token) = paged(page, |s| subscription_to(&s));
        Ok(Response::new(v1::ListSubscriptionsResponse {
            subscriptions,
            next_page_token,
        }))
    }

    async fn delete_subscription(
        &self,
        request: Request<v1::DeleteSubscriptionRequest>,
    ) -> Reply<v1::DeleteSubscriptionResponse> {
        let (actor, r) = written(request)?;
        subscriptions::delete(&self.app(), &actor, r.id, r.confirm).await?;
        Ok(Response::new(v1::DeleteSubscriptionResponse {}))
    }

    async fn subscription_history(
        &self,
        request: Request<v1::SubscriptionHistoryRequest>,
    ) -> Reply<v1::SubscriptionHistoryResponse> {
        let entries = subscriptions::history(&self.app(), request.into_inner().id).await?;
        Ok(Response::new(v1::SubscriptionHistoryResponse {
            entries: entries
                .into_iter()
                .map(|e| v1::SubscriptionHistoryEntry {
                    at: e.at,
                    from_state: e.from_state.map_or(0, state_to),
                    to_state: state_to(e.to_state),
                    actor: e.actor,
                    note: e.note,
                })
                .collect(),
        }))
    }

    async fn change_price(
        &self,
        request: Request<v1::ChangePriceRequest>,
    ) -> Reply<v1::Subscription> {
        let (actor, r) = written(request)?;
        which(r.id)?;
        let price = match r.price.trim() {
            "" => None,
            text => Some(money::parse("price", text).map_err(invalid)?),
        };
        let order = subscriptions::PriceChangeOrder {
            id: r.id,
            price,
            from: date("date", &r.date)?,
            note: &r.note,
        };
        let stored = subscriptions::change_price(&self.app(), &actor, order).await?;
        Ok(Response::new(subscription_to(&stored)))
    }

    async fn shift_end(&self, request: Request<v1::ShiftEndRequest>) -> Reply<v1::Subscription> {
        let (actor, r) = written(request)?;
        which(r.id)?;
        let to = date("date", &r.date)?.ok_or_else(|| field("date", "required"))?;
        Ok(scheduled_to(
            subscriptions::shift_end(&self.app(), &actor, r.id, to).await?,
        ))
    }

    async fn move_expiration(
        &self,
        request: Request<v1::MoveExpirationRequest>,
    ) -> Reply<v1::Subscription> {
        let (actor, r) = written(request)?;
        which(r.id)?;
        let to = date("date", &r.date)?.ok_or_else(|| field("date", "required"))?;
        let stored = subscriptions::move_expiration(&self.app(), &actor, r.id, to, &r.note).await?;
        Ok(Response::new(subscription_to(&stored)))
    }

    async fn change_tariff(
        &self,
        request: Request<v1::ChangeTariffRequest>,
    ) -> Reply<v1::Subscription> {
        let (actor, r) = written(request)?;
        which(r.id)?;
        if r.tariff.trim().is_empty() {
            return Err(field("tariff", "required"));
        }
        let change = subscriptions::TariffChange {
            id: r.id,
            tariff: &r.tariff,
            from: date("date", &r.date)?,
            note: &r.note,
        };
        let stored = subscriptions::change_tariff(&self.app(), &actor, change).await?;
        Ok(scheduled_to(stored))
    }

    async fn list_scheduled_actions(
        &self,
        request: Request<v1::ListScheduledActionsRequest>,
    ) -> Reply<v1::ListScheduledActionsResponse> {
        let r = request.into_inner();
        let id = (r.subscription_id != 0).then_some(r.subscription_id);
        Ok(actions_to(
            &subscriptions::scheduled(&self.app(), id, r.all).await?,
        ))
    }

    async fn withdraw_scheduled_action(
        &self,
        request: Request<v1::WithdrawScheduledActionRequest>,
    ) -> Reply<v1::ScheduledAction> {
        let (actor, r) = written(request)?;
        let withdrawn = subscriptions::withdraw(&self.app(), &actor, r.id).await?;
        Ok(Response::new(action_to(&withdrawn)))
    }

    async fn apply_scheduled_actions(
        &self,
        request: Request<v1::ApplyScheduledActionsRequest>,
    ) -> Reply<v1::ListScheduledActionsResponse> {
        let (actor, r) = written(request)?;
        let day = date("as_of", &r.as_of)?.unwrap_or_else(|| self.clock.today());
        Ok(actions_to(
            &subscriptions::apply_due(&self.app(), &actor, day).await?,
        ))
    }

    async fn activate_subscription(
        &self,
        request: Request<v1::ActivateSubscriptionRequest>,
    ) -> Reply<v1::Subscription> {
        self.transition(request).await
    }

    async fn pause_subscription(
        &self,
        request: Request<v1::PauseSubscriptionRequest>,
    ) -> Reply<v1::Subscription> {
        self.transition(request).await
    }

    async fn block_subscription(
        &self,
        request: Request<v1::BlockSubscriptionRequest>,
    ) -> Reply<v1::Subscription> {
        self.transition(request).await
    }

    async fn resume_subscription(
        &self,
        request: Request<v1::ResumeSubscriptionRequest>,
    ) -> Reply<v1::Subscription> {
        self.transition(request).await
    }

    async fn end_subscription(
        &self,
        request: Request<v1::EndSubscriptionRequest>,
    ) -> Reply<v1::Subscription> {
        self.transition(request).await
    }

    async fn transfer_subscription(
        &self,
        request: Request<v1::TransferSubscriptionRequest>,
    ) -> Reply<v1::TransferSubscriptionResponse> {
        let (actor, r) = written(request)?;
        fn some(t: &str) -> Option<&str> {
            Some(t.trim()).filter(|t| !t.is_empty())
        }
        let transfer = subscriptions::TransferRequest {
            id: r.id,
            client_number: some(&r.client_number),
            tariff: some(&r.tariff),
            date: date("date", &r.date)?,
            note: r.note.trim(),
        };
        let answer = match subscriptions::transfer(&self.app(), &actor, transfer).await? {
            subscriptions::Transferred::Now(both) => v1::TransferSubscriptionResponse {
                ended: Some(subscription_to(&both.0)),
                started: Some(subscription_to(&both.1)),
            },
            subscriptions::Transferred::Scheduled(original) => v1::TransferSubscriptionResponse {
                ended: Some(scheduled_to(*original).into_inner()),
                started: None,
            },
        };
        Ok(Response::new(answer))
    }

    async fn create_unit(&self, request: Request<v1::CreateUnitRequest>) -> Reply<v1::Unit> {
        let (actor, r) = written(request)?;
        let u = required(r.unit, "unit")?;
        let unit = Unit {
            id: 0,
            name: u.name.trim().to_owned(),
            note: u.note,
        };
        let stored = subscriptions::add_unit(&self.app(), &actor, unit).await?;
        Ok(Response::new(unit_to(&stored)))
    }

    async fn list_units(&self, _: Request<v1::ListUnitsRequest>) -> Reply<v1::ListUnitsResponse> {
        let units = subscriptions::units(&self.app()).await?;
        Ok(Response::new(v1::ListUnitsResponse {
            units: units.iter().map(unit_to).collect(),
        }))
    }

    async fn delete_unit(
        &self,
        request: Request<v1::DeleteUnitRequest>,
    ) -> Reply<v1::DeleteUnitResponse> {
        let (actor, r) = written(request)?;
        subscriptions::delete_unit(&self.app(), &actor, r.id).await?;
        Ok(Response::new(v1::DeleteUnitResponse {}))
    }

    async fn end_client_subscriptions(
        &self,
        request: Request<v1::EndClientSubscriptionsRequest>,
    ) -> Reply<v1::EndClientSubscriptionsResponse> {
        let (actor, r) = written(request)?;
        if r.client_number.trim().is_empty() {
            return Err(field("client_number", "required"));
        }
        let order = subscriptions::EndAll {
            client_number: r.client_number.trim(),
            last_day: date("last_day", &r.last_day)?
                .ok_or_else(|| field("last_day", "required"))?,
            end_date: date("date", &r.date)?,
            note: &r.note,
            reason: &r.reason,
        };
        let ended = subscriptions::end_all(&self.app(), &actor, order).await?;
        Ok(Response::new(v1::EndClientSubscriptionsResponse {
            subscriptions: ended
                .into_iter()
                .map(|s| scheduled_to(s).into_inner())
                .collect(),
        }))
    }
}

/// The subscription a change names: refused without one.
fn which(id: i64) -> Result<i64, Status> {
    if id == 0 {
        return Err(field(
            "id",
            "required: it says which subscription to change",
        ));
    }
    Ok(id)
}

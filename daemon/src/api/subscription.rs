//! SubscriptionService.

use ispd_admin_proto::v1;
use ispd_billing::money;
use ispd_billing::subscription::{PeriodAlignment, Subscription, SubscriptionState, Transition};
use tonic::{Request, Response, Status};

use super::{AdminState, date, date_text, field, invalid, page, period_from, period_to, writer};
use crate::storage::{AccessScope, SubscriptionFilter, SubscriptionRecord, TransitionRequest};

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
        state: SubscriptionState::NotYetActive,
        alignment: alignment_from(s.alignment)?,
        // Output only: set by EndSubscription.
        end_date: None,
        version: s.version,
    })
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
    }
}

impl AdminState {
    /// Runs one lifecycle transition for the caller and refreshes RADIUS for the
    /// subscription's logins. `date` is the request's text (empty = today, except for End,
    /// which requires it).
    async fn apply_transition<T>(
        &self,
        request: &Request<T>,
        id: i64,
        transition: Transition,
        (date_field, date_value): (&str, &str),
        billing_suspended: bool,
        note: &str,
    ) -> Result<Response<v1::Subscription>, Status> {
        let actor = writer(request)?;
        if id == 0 {
            return Err(field(
                "id",
                "required: it says which subscription to change",
            ));
        }
        let today = self.clock.today();
        let date = match date(date_field, date_value)? {
            Some(d) => d,
            None if transition == Transition::End => return Err(field(date_field, "required")),
            None => today,
        };
        let request = TransitionRequest {
            transition,
            date,
            billing_suspended,
            note: note.trim().to_owned(),
        };
        let stored = self
            .store
            .transition_subscription(&actor, id, &request, today)
            .await?;
        self.refresh(AccessScope::Subscription(id)).await;
        Ok(Response::new(subscription_to(&stored)))
    }
}

#[tonic::async_trait]
impl v1::subscription_service_server::SubscriptionService for AdminState {
    async fn create_subscription(
        &self,
        request: Request<v1::CreateSubscriptionRequest>,
    ) -> Result<Response<v1::Subscription>, Status> {
        let actor = writer(&request)?;
        let s = request
            .into_inner()
            .subscription
            .ok_or_else(|| field("subscription", "required"))?;
        if s.client_number.is_empty() {
            return Err(field("subscription.client_number", "required"));
        }
        if s.tariff.is_empty() {
            return Err(field("subscription.tariff", "required"));
        }
        let today = self.clock.today();
        let stored = self
            .store
            .create_subscription(
                &actor,
                &s.client_number,
                &s.tariff,
                subscription_from(&s)?,
                today,
            )
            .await?;
        self.refresh(AccessScope::Subscription(stored.subscription.id))
            .await;
        Ok(Response::new(subscription_to(&stored)))
    }

    async fn get_subscription(
        &self,
        request: Request<v1::GetSubscriptionRequest>,
    ) -> Result<Response<v1::Subscription>, Status> {
        let r = self.store.get_subscription(request.into_inner().id).await?;
        Ok(Response::new(subscription_to(&r)))
    }

    async fn update_subscription(
        &self,
        request: Request<v1::UpdateSubscriptionRequest>,
    ) -> Result<Response<v1::Subscription>, Status> {
        let actor = writer(&request)?;
        let s = request
            .into_inner()
            .subscription
            .ok_or_else(|| field("subscription", "required"))?;
        if s.id == 0 {
            return Err(field(
                "subscription.id",
                "required: it says which subscription to update",
            ));
        }
        if s.tariff.is_empty() {
            return Err(field("subscription.tariff", "required"));
        }
        let stored = self
            .store
            .update_subscription(&actor, &s.tariff, subscription_from(&s)?)
            .await?;
        self.refresh(AccessScope::Subscription(stored.subscription.id))
            .await;
        Ok(Response::new(subscription_to(&stored)))
    }

    async fn list_subscriptions(
        &self,
        request: Request<v1::ListSubscriptionsRequest>,
    ) -> Result<Response<v1::ListSubscriptionsResponse>, Status> {
        let r = request.into_inner();
        let filter = SubscriptionFilter {
            client_number: r.client_number,
            tariff: r.tariff,
            state: state_from(r.state)?,
        };
        let page = self
            .store
            .list_subscriptions(&filter, page(r.page)?)
            .await?;
        Ok(Response::new(v1::ListSubscriptionsResponse {
            subscriptions: page.items.iter().map(subscription_to).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn delete_subscription(
        &self,
        request: Request<v1::DeleteSubscriptionRequest>,
    ) -> Result<Response<v1::DeleteSubscriptionResponse>, Status> {
        let actor = writer(&request)?;
        self.store
            .delete_subscription(&actor, request.into_inner().id)
            .await?;
        Ok(Response::new(v1::DeleteSubscriptionResponse {}))
    }

    async fn subscription_history(
        &self,
        request: Request<v1::SubscriptionHistoryRequest>,
    ) -> Result<Response<v1::SubscriptionHistoryResponse>, Status> {
        let entries = self
            .store
            .subscription_history(request.into_inner().id)
            .await?;
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

    async fn activate_subscription(
        &self,
        request: Request<v1::ActivateSubscriptionRequest>,
    ) -> Result<Response<v1::Subscription>, Status> {
        let r = request.get_ref();
        self.apply_transition(
            &request,
            r.id,
            Transition::Activate,
            ("date", &r.date),
            false,
            &r.note,
        )
        .await
    }

    async fn pause_subscription(
        &self,
        request: Request<v1::PauseSubscriptionRequest>,
    ) -> Result<Response<v1::Subscription>, Status> {
        let r = request.get_ref();
        self.apply_transition(
            &request,
            r.id,
            Transition::Pause,
            ("date", &r.date),
            r.billing_suspended,
            &r.note,
        )
        .await
    }

    async fn block_subscription(
        &self,
        request: Request<v1::BlockSubscriptionRequest>,
    ) -> Result<Response<v1::Subscription>, Status> {
        let r = request.get_ref();
        self.apply_transition(
            &request,
            r.id,
            Transition::Block,
            ("date", &r.date),
            r.billing_suspended,
            &r.note,
        )
        .await
    }

    async fn resume_subscription(
        &self,
        request: Request<v1::ResumeSubscriptionRequest>,
    ) -> Result<Response<v1::Subscription>, Status> {
        let r = request.get_ref();
        self.apply_transition(
            &request,
            r.id,
            Transition::Resume,
            ("date", &r.date),
            false,
            &r.note,
        )
        .await
    }

    async fn end_subscription(
        &self,
        request: Request<v1::EndSubscriptionRequest>,
    ) -> Result<Response<v1::Subscription>, Status> {
        let r = request.get_ref();
        self.apply_transition(
            &request,
            r.id,
            Transition::End,
            ("last_day", &r.last_day),
            false,
            &r.note,
        )
        .await
    }
}

//! DunningService: the dunning run (reminders, fees, final notice, suspension and restore)
//! and a client's dunning controls (stop, pause, resume).

use ispd_admin_proto::v1;
use tonic::{Request, Response};

use super::{AdminState, Reply, caller, date, date_text, field, writer, written};
use crate::app::{InCurrency, dunning};
use crate::storage::{Actor, DunningControl, DunningHold};

fn hold_to(client_number: String, hold: DunningHold) -> v1::DunningHold {
    v1::DunningHold {
        client_number,
        stopped: hold.stopped,
        paused_until: date_text(hold.paused_until),
    }
}

/// `currency` is the billing currency, that of a suspension's overdue sum.
fn change_to(change: crate::app::dunning_run::DunningChange, currency: &str) -> v1::DunningChange {
    use crate::app::dunning_run::DunningChange as C;
    match change {
        C::Suspend {
            client_number,
            overdue,
            reason,
        } => v1::DunningChange {
            client_number,
            action: "suspend".into(),
            overdue: format!("{overdue:.2}"),
            currency: currency.to_owned(),
            reason: reason
                .into_iter()
                .map(|r| v1::OverdueInvoice {
                    number: r.number,
                    due_date: r.due_date.to_string(),
                    open: format!("{:.2}", r.open),
                    days_overdue: r.days_overdue,
                })
                .collect(),
            ..Default::default()
        },
        C::Restore { client_number } => v1::DunningChange {
            client_number,
            action: "restore".into(),
            ..Default::default()
        },
        C::Reminder {
            client_number,
            invoice_number,
            level,
            deadline,
            final_notice,
            fee,
            debit_note_number,
            currency,
            ..
        } => v1::DunningChange {
            client_number,
            action: "reminder".into(),
            invoice_number,
            level: u32::from(level),
            deadline: date_text(Some(deadline)),
            fee: fee.map(|f| format!("{f:.2}")).unwrap_or_default(),
            debit_note_number: debit_note_number.unwrap_or_default(),
            currency,
            final_notice,
            ..Default::default()
        },
    }
}

#[tonic::async_trait]
impl v1::dunning_service_server::DunningService for AdminState {
    async fn run_dunning(
        &self,
        request: Request<v1::RunDunningRequest>,
    ) -> Reply<v1::RunDunningResponse> {
        let dry_run = request.get_ref().dry_run;
        let actor = if dry_run {
            Actor(caller(&request)?.name.clone())
        } else {
            writer(&request)?
        };
        let r = request.into_inner();
        let today = date("as_of", &r.as_of)?.ok_or_else(|| field("as_of", "required"))?;
        let InCurrency { value, currency } =
            dunning::run(&self.app(), &actor, today, r.dry_run).await?;
        Ok(Response::new(v1::RunDunningResponse {
            changes: value.into_iter().map(|c| change_to(c, &currency)).collect(),
            dry_run: r.dry_run,
        }))
    }

    async fn stop_dunning(
        &self,
        request: Request<v1::StopDunningRequest>,
    ) -> Reply<v1::DunningHold> {
        let (actor, r) = written(request)?;
        self.dunning_control(&actor, r.client_number, DunningControl::Stop)
            .await
    }

    async fn pause_dunning(
        &self,
        request: Request<v1::PauseDunningRequest>,
    ) -> Reply<v1::DunningHold> {
        let (actor, r) = written(request)?;
        let until = date("until", &r.until)?.ok_or_else(|| field("until", "required"))?;
        self.dunning_control(&actor, r.client_number, DunningControl::PauseUntil(until))
            .await
    }

    async fn resume_dunning(
        &self,
        request: Request<v1::ResumeDunningRequest>,
    ) -> Reply<v1::DunningHold> {
        let (actor, r) = written(request)?;
        self.dunning_control(&actor, r.client_number, DunningControl::Resume)
            .await
    }
}

impl AdminState {
    /// The three dunning controls: one use case, the client's controls after it.
    async fn dunning_control(
        &self,
        actor: &Actor,
        client_number: String,
        control: DunningControl,
    ) -> Reply<v1::DunningHold> {
        let hold = dunning::control(&self.app(), actor, &client_number, control).await?;
        Ok(Response::new(hold_to(client_number, hold)))
    }
}

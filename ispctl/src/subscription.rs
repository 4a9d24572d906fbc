//! `ispctl subscription …`: a client's service on a tariff.
//!
//! The state is not a field to edit: the server derives it from the activation date, and
//! `activate`, `pause`, `block`, `resume` and `end` move it along the lifecycle (each as of
//! `--date`, default today, backdating allowed); `history` shows how it got where it is.

use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use ispd_admin_proto::v1::subscription_service_client::SubscriptionServiceClient;
use ispd_admin_proto::v1::{
    ActivateSubscriptionRequest, BlockSubscriptionRequest, ChangePriceRequest, ChangeTariffRequest,
    CreateSubscriptionRequest, DeleteSubscriptionRequest, EndClientSubscriptionsRequest,
    EndSubscriptionRequest, GetSubscriptionRequest, ListSubscriptionsRequest,
    MoveExpirationRequest, PauseSubscriptionRequest, Period, PeriodAlignment,
    ResumeSubscriptionRequest, ShiftEndRequest, Subscription, SubscriptionHistoryEntry,
    SubscriptionHistoryRequest, SubscriptionState, TransferSubscriptionRequest,
    UpdateSubscriptionRequest,
};

use crate::args::{self, PeriodArg, ProtoEnum, assign, ensure_changed, enum_name};
use crate::connect::{Api, Svc};
use crate::message;
use crate::output::{Out, Record, Table};
use crate::paging::{self, PageArgs};

pub(crate) type Subscriptions = SubscriptionServiceClient<Svc>;

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Subscribe a client to a tariff.
    Add(Box<AddArgs>),
    /// Print one subscription.
    Show {
        /// Subscription ID.
        id: i64,
    },
    /// List subscriptions, optionally filtered.
    List {
        /// Only this client's subscriptions (client number).
        #[arg(long, value_name = "NUMBER")]
        client: Option<String>,
        /// Only subscriptions on this tariff.
        #[arg(long, value_name = "NAME")]
        tariff: Option<String>,
        /// Only subscriptions in this state.
        #[arg(long)]
        state: Option<StateArg>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Change the given fields of a subscription and leave the rest untouched.
    Edit(Box<EditArgs>),
    /// Delete a subscription and its history completely (refused while logins belong to it).
    Delete {
        /// Subscription ID.
        id: i64,
        /// Confirm the deletion: it cannot be undone.
        #[arg(long)]
        yes: bool,
    },
    /// Show the state changes of a subscription.
    History {
        /// Subscription ID.
        id: i64,
    },
    /// Move a subscription to another tariff from a day (today by default; a later day
    /// schedules it). Its days from then on are charged at the new price, also inside a period
    /// already invoiced; its online sessions get the new speed by CoA.
    ChangeTariff {
        /// Subscription ID.
        id: i64,
        /// The tariff to move to.
        tariff: String,
        /// First day at the new tariff, YYYY-MM-DD [default: today].
        #[arg(long, value_parser = args::date, value_name = "DATE")]
        date: Option<String>,
        /// Note for the history.
        #[arg(long)]
        note: Option<String>,
    },
    /// Change its own price from a day (today or later; recorded at once).
    ///
    /// The days before keep the price they had, the days from it are charged at the new one,
    /// also inside a period already invoiced. The history lists every change.
    ChangePrice(ChangePriceArgs),
    /// Shift the end of a fixed-length service (one whose end is scheduled) to another day.
    ///
    /// Its last charged day moves by as many days. A service with no end scheduled has no
    /// fixed length: `subscription end ID --date DAY` gives it one.
    ShiftEnd {
        /// Subscription ID.
        id: i64,
        /// The new day access stops, YYYY-MM-DD (after today).
        #[arg(long, value_parser = args::required_date, value_name = "DATE")]
        date: String,
    },
    /// Move a floating service's expiration later as goodwill (Mango "Posun expirace").
    ///
    /// The days until --date are given: the service counts as paid until the day before and
    /// its periods begin anew on --date. Refused for a service on the client's billing day,
    /// an ended one, or one with unpaid charges.
    MoveExpiration {
        /// Subscription ID.
        id: i64,
        /// The new expiration: the first day charged again, YYYY-MM-DD.
        #[arg(long, value_parser = args::required_date, value_name = "DATE")]
        date: String,
        /// Note for the history.
        #[arg(long)]
        note: Option<String>,
    },
    /// The changes scheduled for a later day (a pause, block, resume, activation, end or
    /// tariff change given a date after today), by day.
    Pending {
        /// Only this subscription's.
        id: Option<i64>,
        /// Also those applied, failed or withdrawn.
        #[arg(long)]
        all: bool,
    },
    /// Withdraw a scheduled change before its day.
    Withdraw {
        /// The scheduled change's ID (as `pending` shows it).
        action: i64,
    },
    /// Apply the scheduled changes due now (the daily job does this on its own).
    ApplyDue {
        /// Apply what is due on or before this day [default: today].
        #[arg(long, value_parser = args::date, value_name = "DATE")]
        as_of: Option<String>,
    },
    /// Move a service to another client or tariff from a day (Mango: transfer): the original
    /// ends the day before, a new service starts with its logins and running discounts; a
    /// later day is scheduled (`pending` lists it).
    Transfer(TransferArgs),
    /// End every service of a client that has not ended (Mango: cancel all), with one last
    /// charged day and reason; all or nothing — one the rules refuse refuses them all.
    EndAll(EndAllArgs),
    #[command(flatten)]
    Lifecycle(Transition),
}

/// The lifecycle moves: each one call, answered with the subscription in its new state.
#[derive(Subcommand, Debug)]
pub enum Transition {
    /// Start a not-yet-active subscription (done daily on the activation date by itself);
    /// the date becomes its activation date.
    Activate(ChangeArgs),
    /// Pause at the client's request (Mango: Přerušení); RADIUS serves the paused answer.
    Pause(RestrictArgs),
    /// Block by the operator (Mango: Blokování); RADIUS serves the blocked answer.
    Block(RestrictArgs),
    /// Back to full service after a pause or block.
    Resume(ChangeArgs),
    /// End the subscription for good (Mango: Ukončení); access stops now.
    End(EndArgs),
}

/// A transition as of a day.
#[derive(Args, Debug)]
pub struct ChangeArgs {
    /// Subscription ID.
    id: i64,
    /// Day it takes effect, YYYY-MM-DD [default: today]; a later day schedules the change.
    #[arg(long, value_parser = args::date, value_name = "DATE")]
    date: Option<String>,
    /// Note for the history.
    #[arg(long)]
    note: Option<String>,
}

impl ChangeArgs {
    /// Id, day ("" = today) and note ("" = none), as every transition request has them.
    fn into_parts(self) -> (i64, String, String) {
        (
            self.id,
            self.date.unwrap_or_default(),
            self.note.unwrap_or_default(),
        )
    }
}

/// A pause or block.
#[derive(Args, Debug)]
pub struct RestrictArgs {
    #[command(flatten)]
    change: ChangeArgs,
    /// Do not charge the days from --date until the resume (otherwise charged in full).
    #[arg(long)]
    billing_suspended: bool,
    /// First day of full service again, YYYY-MM-DD: the resume is scheduled for it.
    #[arg(long, value_parser = args::date, value_name = "DATE")]
    resume: Option<String>,
}

impl RestrictArgs {
    /// Id, day, whether billing is suspended, note and resume day, as pause and block
    /// requests have them.
    fn into_parts(self) -> (i64, String, bool, String, String) {
        let (id, date, note) = self.change.into_parts();
        let resume = self.resume.unwrap_or_default();
        (id, date, self.billing_suspended, note, resume)
    }
}

#[derive(Args, Debug)]
pub struct EndArgs {
    /// Subscription ID.
    id: i64,
    #[command(flatten)]
    terms: EndTerms,
}

/// A service moved to another client or tariff.
#[derive(Args, Debug)]
pub struct TransferArgs {
    /// Subscription ID.
    id: i64,
    /// The client it goes to [default: the same one].
    #[arg(long, value_name = "NUMBER")]
    client: Option<String>,
    /// The tariff it goes on [default: the same one].
    #[arg(long, value_name = "NAME")]
    tariff: Option<String>,
    /// The new service's first day, YYYY-MM-DD [default: today]; a later day schedules it.
    #[arg(long, value_parser = args::date, value_name = "DATE")]
    date: Option<String>,
    /// Note for the history.
    #[arg(long, default_value = "")]
    note: String,
}

/// Ending all of a client's services.
#[derive(Args, Debug)]
pub struct EndAllArgs {
    /// The client's number.
    #[arg(long)]
    client: String,
    #[command(flatten)]
    terms: EndTerms,
}

/// How a service ends: one or all of a client's.
#[derive(Args, Debug)]
pub struct EndTerms {
    /// Last charged day (Mango: Platba do), YYYY-MM-DD, on or before the end. Before the end
    /// of an invoiced period, the billing run credits the rest.
    #[arg(long, value_parser = args::date, value_name = "DATE")]
    last_day: String,
    /// Day access stops, YYYY-MM-DD [default: now]; a later day schedules the end.
    #[arg(long, value_parser = args::date, value_name = "DATE")]
    date: Option<String>,
    /// Note for the history.
    #[arg(long)]
    note: Option<String>,
    /// Why: a code of the cancellation-reason list (`ispctl code list cancellation-reason`).
    #[arg(long, value_name = "CODE")]
    reason: Option<String>,
}

/// Where billing periods start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AlignmentArg {
    /// On the client's billing day.
    #[value(alias = "billing_day")]
    BillingDay,
    /// On the subscription's own billing-from date (Mango: plovoucí perioda).
    Floating,
}

impl ProtoEnum for AlignmentArg {
    fn to_proto(self) -> i32 {
        (match self {
            Self::BillingDay => PeriodAlignment::BillingDay,
            Self::Floating => PeriodAlignment::Floating,
        }) as i32
    }
}

/// Lifecycle state of a subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StateArg {
    #[value(alias = "not_yet_active")]
    NotYetActive,
    Active,
    Paused,
    Blocked,
    Ended,
}

impl ProtoEnum for StateArg {
    fn to_proto(self) -> i32 {
        (match self {
            Self::NotYetActive => SubscriptionState::NotYetActive,
            Self::Active => SubscriptionState::Active,
            Self::Paused => SubscriptionState::Paused,
            Self::Blocked => SubscriptionState::Blocked,
            Self::Ended => SubscriptionState::Ended,
        }) as i32
    }
}

#[derive(Args, Debug)]
pub struct AddArgs {
    /// Client number.
    #[arg(long, value_name = "NUMBER")]
    client: String,
    /// Tariff name.
    #[arg(long, value_name = "NAME")]
    tariff: String,
    /// Date the service starts working, YYYY-MM-DD.
    #[arg(long, value_parser = args::date, value_name = "DATE")]
    activation: String,
    #[command(flatten)]
    fields: Fields,
}

#[derive(Args, Debug)]
pub struct EditArgs {
    /// Subscription ID.
    id: i64,
    /// Move the subscription to another client (client number).
    #[arg(long, value_name = "NUMBER")]
    client: Option<String>,
    /// Change the tariff.
    #[arg(long, value_name = "NAME")]
    tariff: Option<String>,
    /// Activation date, YYYY-MM-DD.
    #[arg(long, value_parser = args::date, value_name = "DATE")]
    activation: Option<String>,
    #[command(flatten)]
    fields: Fields,
    /// Go back to the tariff's billing period.
    #[arg(long)]
    clear_period: bool,
}

/// Optional fields shared by `add` and `edit`; an empty value ("") clears a field.
#[derive(Args, Debug)]
struct Fields {
    /// First charged day, YYYY-MM-DD [default: the activation date].
    #[arg(long, value_parser = args::date, value_name = "DATE")]
    billing_from: Option<String>,
    /// Price overriding the tariff's ("" = the tariff's price).
    #[arg(long, value_parser = args::money, value_name = "AMOUNT")]
    price: Option<String>,
    /// Billing period [default: the tariff's].
    #[arg(long)]
    period: Option<PeriodArg>,
    /// Where periods start [default: billing-day].
    #[arg(long)]
    alignment: Option<AlignmentArg>,
    /// End of the minimum commitment, YYYY-MM-DD.
    #[arg(long, value_parser = args::date, value_name = "DATE")]
    commitment_until: Option<String>,
    /// Minimum commitment counted from billing start: 6, 12, 18, 24, 24+1 … 24+6, 36 or 48
    /// (months); the server sets the end from it.
    #[arg(long, value_name = "MONTHS", conflicts_with = "commitment_until")]
    commitment: Option<String>,
    /// Variable symbol for payments meant for this service.
    #[arg(long, value_name = "VS")]
    vs: Option<String>,
    /// Free-text note.
    #[arg(long)]
    note: Option<String>,
    /// What the invoice lines say instead of the tariff's name (at most 50 characters; ""
    /// clears it).
    #[arg(long, value_name = "TEXT")]
    invoice_note: Option<String>,
    /// The unit (place) it is delivered to, as `ispctl unit list` shows it; 0 clears it.
    #[arg(long, value_name = "ID")]
    unit: Option<i64>,
}

fn apply(s: &mut Subscription, f: &Fields) {
    assign(&mut s.billing_from, &f.billing_from);
    assign(&mut s.price_override, &f.price);
    if let Some(p) = f.period {
        s.period = p.to_proto();
    }
    if let Some(a) = f.alignment {
        s.alignment = a.to_proto();
    }
    assign(&mut s.commitment_until, &f.commitment_until);
    if let Some(c) = &f.commitment {
        s.commitment.clone_from(c);
        // On an edit the end read back would contradict the new period: let the server set it.
        s.commitment_until.clear();
    }
    assign(&mut s.variable_symbol, &f.vs);
    assign(&mut s.note, &f.note);
    assign(&mut s.invoice_note, &f.invoice_note);
    if let Some(unit) = f.unit {
        s.unit_id = unit;
    }
}

#[derive(clap::Args, Debug)]
pub struct ChangePriceArgs {
    /// Subscription ID.
    id: i64,
    /// Its own price from then on; --tariff-price to go back to its tariff's.
    #[arg(long, value_parser = args::required_money, required_unless_present = "tariff_price")]
    price: Option<String>,
    /// Charge its tariff's price from then on.
    #[arg(long, conflicts_with = "price")]
    tariff_price: bool,
    /// First day at the new price, YYYY-MM-DD [default: today].
    #[arg(long, value_parser = args::date, value_name = "DATE")]
    date: Option<String>,
    /// Note for the history.
    #[arg(long)]
    note: Option<String>,
}

pub async fn run(cmd: Cmd, api: &mut Api<'_>, out: Out) -> Result<()> {
    let mut svc = api.subscriptions().await?;
    match cmd {
        Cmd::Pending { id, all } => crate::scheduled::list(&mut svc, id, all, out).await,
        Cmd::Withdraw { action } => crate::scheduled::withdraw(&mut svc, action, out).await,
        Cmd::ApplyDue { as_of } => crate::scheduled::apply_due(&mut svc, as_of, out).await,
        Cmd::ChangeTariff {
            id,
            tariff,
            date,
            note,
        } => {
            let (date, note) = (date.unwrap_or_default(), note.unwrap_or_default());
            let request = ChangeTariffRequest {
                id,
                tariff,
                date,
                note,
            };
            out.reply(svc.change_tariff(request).await?, record)
        }
        Cmd::ChangePrice(c) => change_price(&mut svc, c, out).await,
        Cmd::ShiftEnd { id, date } => {
            out.reply(svc.shift_end(ShiftEndRequest { id, date }).await?, record)
        }
        Cmd::MoveExpiration { id, date, note } => {
            let note = note.unwrap_or_default();
            let request = MoveExpirationRequest { id, date, note };
            out.reply(svc.move_expiration(request).await?, record)
        }
        Cmd::Add(a) => {
            let mut sub = Subscription {
                client_number: a.client,
                tariff: a.tariff,
                activation_date: a.activation,
                ..Subscription::default()
            };
            apply(&mut sub, &a.fields);
            let request = CreateSubscriptionRequest {
                subscription: Some(sub),
            };
            out.reply(svc.create_subscription(request).await?, record)
        }
        Cmd::Show { id } => {
            let request = GetSubscriptionRequest { id };
            out.reply(svc.get_subscription(request).await?, record)
        }
        Cmd::List {
            client,
            tariff,
            state,
            page,
        } => {
            let filter = ListSubscriptionsRequest {
                page: None,
                client_number: client.unwrap_or_default(),
                tariff: tariff.unwrap_or_default(),
                state: state.map_or(0, StateArg::to_proto),
            };
            list(&mut svc, filter, &page, out).await
        }
        Cmd::Edit(e) => edit(&mut svc, &e, out).await,
        Cmd::Delete { id, yes } => {
            svc.delete_subscription(DeleteSubscriptionRequest { id, confirm: yes })
                .await?;
            out.deleted("subscription", &id.to_string())
        }
        Cmd::History { id } => history(&mut svc, id, out).await,
        Cmd::EndAll(e) => end_all(&mut svc, e, out).await,
        Cmd::Transfer(t) => transfer(&mut svc, t, out).await,
        Cmd::Lifecycle(move_to) => transition(&mut svc, move_to, out).await,
    }
}

async fn history(svc: &mut Subscriptions, id: i64, out: Out) -> Result<()> {
    let request = SubscriptionHistoryRequest { id };
    let entries = svc
        .subscription_history(request)
        .await?
        .into_inner()
        .entries;
    out.list(&entries, "", message::record, history_table)
}

/// Every page `page` asks for of the subscriptions `filter` selects.
async fn list(
    svc: &mut Subscriptions,
    filter: ListSubscriptionsRequest,
    page: &PageArgs,
    out: Out,
) -> Result<()> {
    let page = paging::collect(page, async |page| {
        let request = ListSubscriptionsRequest {
            page: Some(page),
            ..filter.clone()
        };
        let resp = svc.list_subscriptions(request).await?.into_inner();
        Ok((resp.subscriptions, resp.next_page_token))
    })
    .await?;
    out.pages(&page, record, table)
}

async fn change_price(svc: &mut Subscriptions, c: ChangePriceArgs, out: Out) -> Result<()> {
    let request = ChangePriceRequest {
        id: c.id,
        price: c.price.unwrap_or_default(),
        date: c.date.unwrap_or_default(),
        note: c.note.unwrap_or_default(),
    };
    out.reply(svc.change_price(request).await?, record)
}

async fn transfer(svc: &mut Subscriptions, t: TransferArgs, out: Out) -> Result<()> {
    let request = TransferSubscriptionRequest {
        id: t.id,
        client_number: t.client.unwrap_or_default(),
        tariff: t.tariff.unwrap_or_default(),
        date: t.date.unwrap_or_default(),
        note: t.note,
    };
    let moved = svc.transfer_subscription(request).await?.into_inner();
    let both: Vec<Subscription> = moved.ended.into_iter().chain(moved.started).collect();
    out.list(&both, "", record, table)
}

async fn end_all(svc: &mut Subscriptions, e: EndAllArgs, out: Out) -> Result<()> {
    let t = e.terms;
    let request = EndClientSubscriptionsRequest {
        client_number: e.client,
        last_day: t.last_day,
        note: t.note.unwrap_or_default(),
        date: t.date.unwrap_or_default(),
        reason: t.reason.unwrap_or_default(),
    };
    let ended = svc
        .end_client_subscriptions(request)
        .await?
        .into_inner()
        .subscriptions;
    out.list(&ended, "", record, table)
}

async fn edit(svc: &mut Subscriptions, e: &EditArgs, out: Out) -> Result<()> {
    let request = GetSubscriptionRequest { id: e.id };
    let read = svc.get_subscription(request).await?.into_inner();
    let mut sub = read.clone();
    assign(&mut sub.client_number, &e.client);
    assign(&mut sub.tariff, &e.tariff);
    assign(&mut sub.activation_date, &e.activation);
    if e.clear_period {
        sub.period = Period::Unspecified as i32;
    }
    apply(&mut sub, &e.fields);
    ensure_changed(sub != read, "subscription edit")?;
    let request = UpdateSubscriptionRequest {
        subscription: Some(sub),
    };
    out.reply(svc.update_subscription(request).await?, record)
}

async fn transition(svc: &mut Subscriptions, cmd: Transition, out: Out) -> Result<()> {
    let sub = match cmd {
        Transition::Activate(c) => {
            let (id, date, note) = c.into_parts();
            let request = ActivateSubscriptionRequest { id, date, note };
            svc.activate_subscription(request).await?
        }
        Transition::Pause(r) => {
            let (id, date, billing_suspended, note, resume_date) = r.into_parts();
            let request = PauseSubscriptionRequest {
                id,
                date,
                billing_suspended,
                note,
                resume_date,
            };
            svc.pause_subscription(request).await?
        }
        Transition::Block(r) => {
            let (id, date, billing_suspended, note, resume_date) = r.into_parts();
            let request = BlockSubscriptionRequest {
                id,
                date,
                billing_suspended,
                note,
                resume_date,
            };
            svc.block_subscription(request).await?
        }
        Transition::Resume(c) => {
            let (id, date, note) = c.into_parts();
            let request = ResumeSubscriptionRequest { id, date, note };
            svc.resume_subscription(request).await?
        }
        Transition::End(e) => {
            let t = e.terms;
            let request = EndSubscriptionRequest {
                id: e.id,
                last_day: t.last_day,
                note: t.note.unwrap_or_default(),
                date: t.date.unwrap_or_default(),
                reason: t.reason.unwrap_or_default(),
            };
            svc.end_subscription(request).await?
        }
    };
    out.reply(sub, record)
}

/// The subscription as JSON / `show` lines. `price_override` is "" when the tariff's price
/// applies and `period` is "unspecified" when the tariff's period does.
pub fn record(s: &Subscription) -> Record {
    // `commitment` is input only: the server answers with commitment_until.
    message::record(s).without("commitment")
}

fn table(subs: &[Subscription]) -> Table {
    Table::of(
        [
            "ID",
            "CLIENT",
            "TARIFF",
            "STATE",
            "ACTIVATION",
            "PRICE",
            "PERIOD",
            "VS",
            "PAID_UNTIL",
        ],
        subs.iter().map(|s| {
            let period = if s.period == Period::Unspecified as i32 {
                String::new()
            } else {
                enum_name::<PeriodArg>(s.period)
            };
            [
                s.id.to_string(),
                s.client_number.clone(),
                s.tariff.clone(),
                enum_name::<StateArg>(s.state),
                s.activation_date.clone(),
                s.price_override.clone(),
                period,
                s.variable_symbol.clone(),
                s.paid_until.clone(),
            ]
        }),
    )
}

fn history_table(entries: &[SubscriptionHistoryEntry]) -> Table {
    Table::of(
        ["AT", "FROM", "TO", "ACTOR", "NOTE"],
        entries.iter().map(|h| {
            [
                h.at.clone(),
                enum_name::<StateArg>(h.from_state),
                enum_name::<StateArg>(h.to_state),
                h.actor.clone(),
                h.note.clone(),
            ]
        }),
    )
}

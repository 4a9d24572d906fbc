//! Suspension: whether a client keeps access today, decided by debt alone (and a final notice,
//! when one is configured). The rule is one function, [`access_decision`]; its table of cases
//! is `access_decision_table` in `dunning/tests.rs`.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::{ClientDunningState, DunningSettings, days_overdue};
use crate::payment::OpenInvoice;

/// What to do with the client's access today. A change, not a state: `Keep` leaves access as
/// it is (connected or suspended).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessDecision {
    Keep,
    /// Suspend for debt: `overdue` is the sum that crossed the minimum, `oldest_due` the due
    /// date of the oldest invoice in it (for the walled garden's explanation).
    Suspend {
        overdue: Decimal,
        oldest_due: NaiveDate,
    },
    /// The debt no longer justifies suspension: reconnect.
    Restore,
}

/// The debt that counts towards suspension today.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SuspensionDebt {
    /// Sum of the open amounts of invoices overdue more than `suspend_days_after_due` days.
    pub overdue: Decimal,
    pub oldest_due: NaiveDate,
}

/// The invoices that count towards suspension: those with an open amount overdue **more
/// than** the client's grace days (with 14: an invoice due on the 1st counts from the 16th).
fn counted<'a>(
    settings: &DunningSettings,
    state: &ClientDunningState,
    open_invoices: &'a [OpenInvoice],
    today: NaiveDate,
) -> impl Iterator<Item = &'a OpenInvoice> {
    let grace = i64::from(state.grace_days(settings));
    open_invoices.iter().filter(move |invoice| {
        invoice.open_amount() > Decimal::ZERO && days_overdue(invoice, today) > grace
    })
}

/// The open amounts of the invoices overdue more than the client's grace days
/// (`state.suspend_days_after_due`, else the global `suspend_days_after_due`); `None` when
/// there are none.
pub fn suspension_debt(
    settings: &DunningSettings,
    state: &ClientDunningState,
    open_invoices: &[OpenInvoice],
    today: NaiveDate,
) -> Option<SuspensionDebt> {
    counted(settings, state, open_invoices, today).fold(
        None,
        |debt: Option<SuspensionDebt>, invoice| {
            Some(match debt {
                None => SuspensionDebt {
                    overdue: invoice.open_amount(),
                    oldest_due: invoice.due_date,
                },
                Some(debt) => SuspensionDebt {
                    overdue: debt.overdue + invoice.open_amount(),
                    oldest_due: debt.oldest_due.min(invoice.due_date),
                },
            })
        },
    )
}

/// One invoice behind a suspension.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OverdueInvoice {
    pub number: String,
    pub due_date: NaiveDate,
    pub open: Decimal,
    pub days_overdue: i64,
}

/// Why a client is (or would be) suspended: the invoices counted, oldest due first, with how
/// many days each is overdue and how much is open. It is what the operator and the client are
/// told, and what the audit record keeps.
pub fn suspension_reason(
    settings: &DunningSettings,
    state: &ClientDunningState,
    open_invoices: &[OpenInvoice],
    today: NaiveDate,
) -> Vec<OverdueInvoice> {
    let mut reason: Vec<OverdueInvoice> = counted(settings, state, open_invoices, today)
        .map(|invoice| OverdueInvoice {
            number: invoice.number.clone(),
            due_date: invoice.due_date,
            open: invoice.open_amount(),
            days_overdue: days_overdue(invoice, today),
        })
        .collect();
    reason.sort_by(|a, b| (a.due_date, &a.number).cmp(&(b.due_date, &b.number)));
    reason
}

/// The suspension decision, all of it in one place.
///
/// A client **should be suspended** when: suspension is enabled, the client is not
/// `never_suspend`, the open amounts of invoices overdue more than the client's grace days
/// (its own `suspend_days_after_due`, else the global one) sum to at least
/// `suspend_min_amount` (and to more than zero), and — only when the last level is a final
/// notice — a final notice for one of those invoices has a deadline before today. Dunning
/// pause, stop and `no_auto_reminders` do not enter otherwise (see the module notes).
///
/// `currently_suspended` means suspended **for debt** by this rule, not blocked by an operator
/// for another reason (the caller must not feed operator blocks here, or they would be lifted).
///
/// - should be suspended, is not → `Suspend`;
/// - is suspended, should not be → `Restore`, the moment the condition fails: a matched
///   payment (or a partial one dropping the overdue sum below the minimum), `never_suspend`
///   being set, or suspension being switched off;
/// - otherwise → `Keep`.
///
/// Pure: the same inputs give the same decision, and once the decision is carried out
/// (`currently_suspended` updated) the same day gives `Keep`.
pub fn access_decision(
    settings: &DunningSettings,
    state: &ClientDunningState,
    open_invoices: &[OpenInvoice],
    currently_suspended: bool,
    today: NaiveDate,
) -> AccessDecision {
    let noticed = |final_level: u8| {
        counted(settings, state, open_invoices, today)
            .any(|invoice| state.final_notice_expired(invoice.id, final_level, today))
    };
    let debt = suspension_debt(settings, state, open_invoices, today).filter(|debt| {
        settings.suspend_enabled
            && !state.never_suspend
            && debt.overdue >= settings.suspend_min_amount
            && settings.final_notice_level().is_none_or(noticed)
    });
    match (debt, currently_suspended) {
        (Some(debt), false) => AccessDecision::Suspend {
            overdue: debt.overdue,
            oldest_due: debt.oldest_due,
        },
        (None, true) => AccessDecision::Restore,
        (Some(_), true) | (None, false) => AccessDecision::Keep,
    }
}

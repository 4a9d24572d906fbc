//! Reminders and the suspension decision (ISPadmin "Pozastavit služby", "Neposílat upomínky
//! automaticky", "Nepozastavovat"; Mango reminders with a deadline, force-stop and pause of the
//! dunning process).
//!
//! # Days overdue
//! An invoice is `today - due_date` days overdue; on its due date it is 0 days overdue (still
//! on time). Only the invoice's open amount (`total - paid`) counts, so a fully paid invoice
//! is never chased and a partly paid one is chased for the rest.
//!
//! # Reminders and suspension are independent, unless there is a final notice
//! Reminders are letters; suspension is decided by debt alone. ISPadmin suspends when an
//! invoice is overdue the set number of days (globally, or the client card's own number) and
//! the amount reaches the minimum, and exempts only "Nepozastavovat" clients; its reminder
//! switches do not enter that rule. So pausing or stopping dunning, or `no_auto_reminders`,
//! stops letters but **not** suspension: the one switch that keeps a debtor connected is
//! `never_suspend`.
//!
//! The exception is a final notice (BILLmanager's violation notice with a deadline after which
//! services stop): when the last level is one, nobody is suspended before a final notice for
//! one of the counted invoices has been sent and its deadline has passed. A client whose
//! letters are held therefore gets no final notice and stays connected until the hold ends.
//!
//! # Where things are
//! - this module: what dunning knows about one client ([`ClientDunningState`]);
//! - `settings`: the operator's reminder ladder and suspension rule ([`DunningSettings`]);
//! - `reminders`: which letters go out today ([`reminders_due`]) and their fees;
//! - `suspension`: whether the client keeps access today ([`access_decision`]).

use chrono::{Days, NaiveDate};

use crate::client::Invoicing;
use crate::payment::OpenInvoice;

mod reminders;
mod settings;
mod suspension;
#[cfg(test)]
mod tests;

pub use reminders::{ReminderDue, fee_line, reminders_due};
pub use settings::{DunningSettings, ReminderLevel};
pub use suspension::{
    AccessDecision, OverdueInvoice, SuspensionDebt, access_decision, suspension_debt,
    suspension_reason,
};

/// A reminder already sent, automatic or by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct SentReminder {
    pub invoice_id: i64,
    pub level: u8,
    /// The date it asked payment by.
    pub deadline: NaiveDate,
}

/// What dunning needs to know about one client.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct ClientDunningState {
    /// Client card "Neposílat upomínky automaticky" (VIP, staff).
    pub no_auto_reminders: bool,
    /// Client card "Nepozastavovat".
    pub never_suspend: bool,
    /// Dunning force-stopped (Mango req_stop); a reminder issued by hand restarts it, so the
    /// caller clears this flag when an operator sends one.
    pub stopped: bool,
    /// Dunning paused until this date (no maximum): no automatic reminders before it; they
    /// resume on the date itself.
    pub paused_until: Option<NaiveDate>,
    /// The client card's own `suspend_days_after_due` (ISPadmin per-client
    /// `pozastavit_po_splatnosti`); `None` = the global setting.
    pub suspend_days_after_due: Option<u32>,
    /// Every reminder already sent for the client's invoices.
    pub reminders_sent: Vec<SentReminder>,
}

impl ClientDunningState {
    /// The client card's switches, with no dunning history.
    pub fn for_client(invoicing: &Invoicing) -> Self {
        Self {
            no_auto_reminders: invoicing.no_auto_reminders,
            never_suspend: invoicing.never_suspend,
            suspend_days_after_due: invoicing.suspend_after_days,
            ..Self::default()
        }
    }

    /// Whether automatic reminders are held back today.
    pub fn reminders_held(&self, today: NaiveDate) -> bool {
        self.no_auto_reminders || self.stopped || self.paused_until.is_some_and(|d| today < d)
    }

    /// Only invoices overdue more than this many days count towards suspension.
    pub fn grace_days(&self, settings: &DunningSettings) -> u32 {
        self.suspend_days_after_due
            .unwrap_or(settings.suspend_days_after_due)
    }

    fn highest_sent(&self, invoice: i64) -> Option<u8> {
        self.reminders_sent
            .iter()
            .filter(|sent| sent.invoice_id == invoice)
            .map(|sent| sent.level)
            .max()
    }

    /// Whether a final notice (level `final_level` or, sent under an earlier configuration,
    /// higher) for the invoice asked for payment by a day before `today`.
    fn final_notice_expired(&self, invoice: i64, final_level: u8, today: NaiveDate) -> bool {
        self.reminders_sent.iter().any(|sent| {
            sent.invoice_id == invoice && sent.level >= final_level && sent.deadline < today
        })
    }
}

fn days_overdue(invoice: &OpenInvoice, today: NaiveDate) -> i64 {
    (today - invoice.due_date).num_days()
}

fn add_days(date: NaiveDate, days: u32) -> NaiveDate {
    date.checked_add_days(Days::new(days.into()))
        .unwrap_or(NaiveDate::MAX)
}

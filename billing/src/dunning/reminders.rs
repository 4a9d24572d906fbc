//! Reminders: which letter each overdue invoice gets today, and the fee charged with it.
//! Letters never decide access: see `suspension`.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::{ClientDunningState, DunningSettings, ReminderLevel, add_days, days_overdue};
use crate::invoice::{Line, untaxed_line};
use crate::payment::{OpenInvoice, oldest_first};

/// A reminder to send today.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReminderDue {
    pub invoice_id: i64,
    pub level: u8,
    /// Pay by this date: today + the level's deadline days.
    pub deadline: NaiveDate,
    /// The fee to charge with it (a debit note); never zero.
    pub fee: Option<Decimal>,
    pub final_notice: bool,
}

/// The reminders to send today, oldest invoice first.
///
/// Rules: none while reminders are held (`no_auto_reminders`, `stopped`, or `paused_until`
/// still ahead). Per invoice with an open amount, the next level is the lowest one above the
/// highest level already sent for it (so each level is sent once, in order, and a higher level
/// sent by hand is not followed by a lower one); it is due once the invoice is at least that
/// level's `days_after_due` (and at least 1) days overdue. At most one reminder per invoice per
/// day: a sweep that runs late sends level 1 today and level 2 on the next run, never both in
/// one letter run.
///
/// `overdue` holds the documents that may be reminded: the caller leaves out debit notes, so a
/// reminder fee is never itself charged a fee.
pub fn reminders_due(
    settings: &DunningSettings,
    state: &ClientDunningState,
    overdue: &[OpenInvoice],
    today: NaiveDate,
) -> Vec<ReminderDue> {
    if state.reminders_held(today) {
        return Vec::new();
    }
    let mut levels: Vec<&ReminderLevel> = settings.levels.iter().collect();
    levels.sort_by_key(|level| level.level);
    let mut due = Vec::new();
    for invoice in oldest_first(overdue) {
        if invoice.open_amount() <= Decimal::ZERO {
            continue;
        }
        let highest = state.highest_sent(invoice.id);
        let Some(next) = levels
            .iter()
            .find(|level| highest.is_none_or(|sent| level.level > sent))
        else {
            continue;
        };
        if days_overdue(invoice, today) >= i64::from(next.days_after_due.max(1)) {
            due.push(ReminderDue {
                invoice_id: invoice.id,
                level: next.level,
                deadline: add_days(today, next.deadline_days),
                fee: next.fee.filter(|fee| *fee > Decimal::ZERO),
                final_notice: next.final_notice,
            });
        }
    }
    due
}

/// The one line of the debit note charging a reminder's fee, `None` without a fee. VAT rate
/// 0: a late-payment fee is compensation for the delay, not a taxable supply.
pub fn fee_line(reminder: &ReminderDue, invoice_number: &str) -> Option<Line> {
    let fee = reminder.fee.filter(|fee| *fee > Decimal::ZERO)?;
    let description = format!(
        "Reminder fee (level {}, invoice {invoice_number})",
        reminder.level
    );
    Some(untaxed_line(description, fee))
}

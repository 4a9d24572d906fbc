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

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;

use crate::FieldError;
use crate::client::Invoicing;
use crate::invoice::{Line, LineInput, PriceBasis, compute_line};
use crate::payment::{OpenInvoice, oldest_first};

/// One step of the reminder ladder.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReminderLevel {
    /// 1 = first reminder; levels are sent in ascending order.
    pub level: u8,
    /// Sent once the invoice is at least this many days overdue (at least 1).
    pub days_after_due: u32,
    /// The reminder asks for payment within this many days of being sent (Mango "Datum lhůty").
    pub deadline_days: u32,
    /// A reminder fee to charge, if any; zero charges none.
    pub fee: Option<Decimal>,
    /// The last level may be a final notice: with one configured, suspension waits until its
    /// deadline has passed (see the module notes).
    pub final_notice: bool,
}

/// The operator's dunning settings (ISPadmin invoicing settings, general).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DunningSettings {
    pub levels: Vec<ReminderLevel>,
    /// `pozastavit_neplatice`: suspend debtors automatically.
    pub suspend_enabled: bool,
    /// `pozastavit_neplatice_min_castka`: suspend only when at least this much is overdue.
    pub suspend_min_amount: Decimal,
    /// `pozastavit_po_splatnosti`: only invoices overdue **more than** this many days count.
    pub suspend_days_after_due: u32,
}

/// Default: first reminder 7 days after the due date, second after 14, each asking for payment
/// within 7 days and without a fee; suspension on, for at least 1.00 overdue more than 21
/// days. The 21 days are the second reminder's deadline (14 + 7): nobody is cut off before the
/// date a reminder gave them. Operators who want the manuals' shorter grace set it lower.
impl Default for DunningSettings {
    fn default() -> Self {
        Self {
            levels: vec![
                ReminderLevel {
                    level: 1,
                    days_after_due: 7,
                    deadline_days: 7,
                    fee: None,
                    final_notice: false,
                },
                ReminderLevel {
                    level: 2,
                    days_after_due: 14,
                    deadline_days: 7,
                    fee: None,
                    final_notice: false,
                },
            ],
            suspend_enabled: true,
            suspend_min_amount: Decimal::ONE,
            suspend_days_after_due: 21,
        }
    }
}

impl DunningSettings {
    /// Levels are numbered from 1, each number once, and a higher level comes later
    /// (strictly more days after the due date); amounts are non-negative and storable; only
    /// the last level may be a final notice. Fields are named as in the config file
    /// (`dunning.level[0].fee`).
    pub fn validate(&self) -> Result<(), FieldError> {
        let mut levels: Vec<(usize, &ReminderLevel)> = self.levels.iter().enumerate().collect();
        levels.sort_by_key(|(_, level)| level.level);
        let last = levels.last().map(|(_, level)| level.level);
        let mut previous: Option<&ReminderLevel> = None;
        for (i, level) in levels {
            let field = |name: &str| format!("dunning.level[{i}].{name}");
            if level.level == 0 {
                return Err(FieldError::new(field("level"), "levels start at 1"));
            }
            if level.days_after_due == 0 {
                return Err(FieldError::new(
                    field("days_after_due"),
                    "at least 1: nothing is overdue on its due date",
                ));
            }
            if let Some(previous) = previous {
                if previous.level == level.level {
                    return Err(FieldError::new(
                        field("level"),
                        format!("level {} is listed twice", level.level),
                    ));
                }
                if level.days_after_due <= previous.days_after_due {
                    return Err(FieldError::new(
                        field("days_after_due"),
                        format!(
                            "must be later than level {} ({} days)",
                            previous.level, previous.days_after_due
                        ),
                    ));
                }
            }
            if let Some(fee) = level.fee {
                if fee.is_sign_negative() && !fee.is_zero() {
                    return Err(FieldError::new(field("fee"), "must not be negative"));
                }
                crate::money::to_minor_units(&field("fee"), fee)?;
            }
            if level.final_notice && Some(level.level) != last {
                return Err(FieldError::new(
                    field("final_notice"),
                    "only the last level may be a final notice",
                ));
            }
            previous = Some(level);
        }
        if self.suspend_min_amount.is_sign_negative() && !self.suspend_min_amount.is_zero() {
            return Err(FieldError::new(
                "dunning.suspend_min_amount",
                "must not be negative",
            ));
        }
        crate::money::to_minor_units("dunning.suspend_min_amount", self.suspend_min_amount)?;
        Ok(())
    }

    /// The level of the final notice, when the last level is one.
    pub fn final_notice_level(&self) -> Option<u8> {
        self.levels
            .iter()
            .max_by_key(|level| level.level)
            .filter(|level| level.final_notice)
            .map(|level| level.level)
    }
}

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

fn days_overdue(invoice: &OpenInvoice, today: NaiveDate) -> i64 {
    (today - invoice.due_date).num_days()
}

fn add_days(date: NaiveDate, days: u32) -> NaiveDate {
    date.checked_add_days(Days::new(days.into()))
        .unwrap_or(NaiveDate::MAX)
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
    Some(compute_line(&LineInput {
        description: format!(
            "Reminder fee (level {}, invoice {invoice_number})",
            reminder.level
        ),
        quantity: Decimal::ONE,
        unit_price: fee,
        basis: PriceBasis::Gross,
        vat_rate: Decimal::ZERO,
    }))
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Days of 2026, March 1 = day 1, so "due + N" reads as `day(1 + N)`.
    fn day(n: u32) -> NaiveDate {
        add_days(NaiveDate::from_ymd_opt(2026, 2, 28).unwrap(), n)
    }

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn invoice(id: i64, due: u32, total: &str, paid: &str) -> OpenInvoice {
        OpenInvoice {
            id,
            number: format!("F{id}"),
            issue_date: day(1),
            due_date: day(due),
            total: dec(total),
            paid: dec(paid),
        }
    }

    /// The manuals' example: suspend after 14 days when at least 1.00 is overdue.
    fn settings() -> DunningSettings {
        DunningSettings {
            suspend_days_after_due: 14,
            ..DunningSettings::default()
        }
    }

    // --- suspension: the table -----------------------------------------------------------------

    struct Case {
        name: &'static str,
        settings: fn(&mut DunningSettings),
        state: ClientDunningState,
        invoices: Vec<OpenInvoice>,
        suspended: bool,
        today: u32,
        want: AccessDecision,
    }

    fn case(name: &'static str) -> Case {
        Case {
            name,
            settings: |_| {},
            state: ClientDunningState::default(),
            invoices: vec![invoice(1, 1, "500", "0")],
            suspended: false,
            today: 16,
            want: AccessDecision::Keep,
        }
    }

    fn suspend(overdue: &str, oldest_due: u32) -> AccessDecision {
        AccessDecision::Suspend {
            overdue: dec(overdue),
            oldest_due: day(oldest_due),
        }
    }

    #[test]
    fn the_reason_names_each_counted_invoice() {
        let settings = DunningSettings::default();
        let invoices = [
            invoice(2, 10, "300", "0"),
            invoice(1, 1, "500", "200"),
            invoice(3, 30, "100", "0"),
        ];
        // Day 33: invoice 1 is 32 days overdue, invoice 2 is 23; invoice 3 only 3.
        let reason = suspension_reason(
            &settings,
            &ClientDunningState::default(),
            &invoices,
            day(33),
        );
        let summary: Vec<_> = reason
            .iter()
            .map(|r| (r.number.as_str(), r.open, r.days_overdue))
            .collect();
        assert_eq!(summary, [("F1", dec("300"), 32), ("F2", dec("300"), 23)]);
    }

    fn own_grace(days: u32) -> ClientDunningState {
        ClientDunningState {
            suspend_days_after_due: Some(days),
            ..ClientDunningState::default()
        }
    }

    fn with_sent(reminders_sent: Vec<SentReminder>) -> ClientDunningState {
        ClientDunningState {
            reminders_sent,
            ..ClientDunningState::default()
        }
    }

    fn final_notice_on(s: &mut DunningSettings) {
        s.levels.last_mut().unwrap().final_notice = true;
    }

    #[test]
    fn access_decision_table() {
        use AccessDecision::{Keep, Restore};
        let paused = ClientDunningState {
            paused_until: Some(day(200)),
            ..ClientDunningState::default()
        };
        let stopped_no_letters = ClientDunningState {
            stopped: true,
            no_auto_reminders: true,
            ..ClientDunningState::default()
        };
        let never = ClientDunningState {
            never_suspend: true,
            ..ClientDunningState::default()
        };
        let cases = [
            // Grace boundary: due on day 1, grace 14.
            Case {
                today: 15,
                want: Keep,
                ..case("exactly N days overdue: still within grace")
            },
            Case {
                today: 16,
                want: suspend("500", 1),
                ..case("N + 1 days overdue: suspend")
            },
            Case {
                today: 1,
                want: Keep,
                ..case("on the due date")
            },
            Case {
                settings: |s| s.suspend_days_after_due = 0,
                today: 1,
                want: Keep,
                ..case("grace 0: not on the due date")
            },
            Case {
                settings: |s| s.suspend_days_after_due = 0,
                today: 2,
                want: suspend("500", 1),
                ..case("grace 0: the day after")
            },
            Case {
                suspended: true,
                want: Keep,
                ..case("already suspended: keep")
            },
            Case {
                suspended: true,
                today: 15,
                want: Restore,
                ..case("suspended but within grace (due date moved): restore")
            },
            // Minimum amount.
            Case {
                invoices: vec![invoice(1, 1, "0.99", "0")],
                want: Keep,
                ..case("0.99 overdue, minimum 1.00")
            },
            Case {
                invoices: vec![invoice(1, 1, "1.00", "0")],
                want: suspend("1.00", 1),
                ..case("exactly the minimum")
            },
            Case {
                invoices: vec![invoice(1, 1, "0.99", "0")],
                suspended: true,
                want: Restore,
                ..case("suspended, below the minimum")
            },
            Case {
                settings: |s| s.suspend_min_amount = Decimal::ZERO,
                invoices: vec![],
                want: Keep,
                ..case("minimum 0 and no debt: nothing to suspend for")
            },
            Case {
                settings: |s| s.suspend_min_amount = Decimal::ZERO,
                invoices: vec![invoice(1, 1, "0.01", "0")],
                want: suspend("0.01", 1),
                ..case("minimum 0: any overdue amount")
            },
            // Client and global switches.
            Case {
                state: never.clone(),
                want: Keep,
                ..case("never_suspend")
            },
            Case {
                state: never,
                suspended: true,
                want: Restore,
                ..case("never_suspend set while suspended")
            },
            Case {
                settings: |s| s.suspend_enabled = false,
                want: Keep,
                ..case("suspension disabled")
            },
            Case {
                settings: |s| s.suspend_enabled = false,
                suspended: true,
                want: Restore,
                ..case("suspension disabled while suspended")
            },
            // Payments.
            Case {
                invoices: vec![invoice(1, 1, "500", "499.50")],
                suspended: true,
                want: Restore,
                ..case("partial payment drops below the minimum")
            },
            Case {
                invoices: vec![invoice(1, 1, "500", "400")],
                suspended: true,
                want: Keep,
                ..case("partial payment still above the minimum")
            },
            Case {
                invoices: vec![invoice(1, 1, "500", "400")],
                want: suspend("100", 1),
                ..case("the open rest counts, not the total")
            },
            Case {
                invoices: vec![invoice(1, 1, "500", "500")],
                suspended: true,
                want: Restore,
                ..case("paid in full")
            },
            Case {
                invoices: vec![invoice(1, 1, "500", "600")],
                want: Keep,
                ..case("overpaid invoice")
            },
            Case {
                invoices: vec![],
                suspended: true,
                want: Restore,
                ..case("no invoices")
            },
            // Dunning switches do not stop suspension.
            Case {
                state: paused,
                want: suspend("500", 1),
                ..case("paused dunning")
            },
            Case {
                state: stopped_no_letters,
                want: suspend("500", 1),
                ..case("stopped dunning, no automatic reminders")
            },
            // Several invoices.
            Case {
                invoices: vec![invoice(2, 3, "0.60", "0"), invoice(1, 1, "0.60", "0")],
                today: 18,
                want: suspend("1.20", 1),
                ..case("several small invoices summed")
            },
            Case {
                invoices: vec![invoice(1, 1, "0.60", "0"), invoice(2, 3, "5000", "0")],
                want: Keep,
                ..case("only invoices past the grace count")
            },
            Case {
                invoices: vec![
                    invoice(1, 1, "300", "0"),
                    invoice(2, 2, "300", "300"),
                    invoice(3, 0, "200", "150"),
                    invoice(4, 10, "999", "0"),
                ],
                today: 16,
                want: suspend("350", 0),
                ..case("paid and not-yet-counted invoices are left out")
            },
            // The client card's own grace days (global 14 here).
            Case {
                state: own_grace(60),
                today: 31,
                want: Keep,
                ..case("own 60 days: kept at day 30")
            },
            Case {
                state: own_grace(60),
                today: 62,
                want: suspend("500", 1),
                ..case("own 60 days: suspended the day after day 60")
            },
            Case {
                state: own_grace(0),
                today: 2,
                want: suspend("500", 1),
                ..case("own 0 days: the day after the due date")
            },
            Case {
                state: own_grace(60),
                suspended: true,
                today: 31,
                want: Restore,
                ..case("own days raised while suspended")
            },
            // Final notice (level 2, the last one): suspension waits for its deadline.
            Case {
                settings: final_notice_on,
                today: 30,
                want: Keep,
                ..case("final notice configured, none sent")
            },
            Case {
                settings: final_notice_on,
                state: with_sent(vec![sent(1, 1, 15)]),
                today: 30,
                want: Keep,
                ..case("only the first reminder sent")
            },
            Case {
                settings: final_notice_on,
                state: with_sent(vec![sent(1, 1, 15), sent(1, 2, 22)]),
                today: 22,
                want: Keep,
                ..case("final notice: on its deadline")
            },
            Case {
                settings: final_notice_on,
                state: with_sent(vec![sent(1, 1, 15), sent(1, 2, 22)]),
                today: 23,
                want: suspend("500", 1),
                ..case("final notice: the day after its deadline")
            },
            Case {
                settings: final_notice_on,
                state: with_sent(vec![sent(1, 2, 10)]),
                today: 15,
                want: Keep,
                ..case("final notice expired, still within the grace days")
            },
            Case {
                settings: final_notice_on,
                state: with_sent(vec![sent(1, 2, 22)]),
                invoices: vec![invoice(1, 1, "500", "500")],
                suspended: true,
                today: 30,
                want: Restore,
                ..case("paid after the final notice")
            },
            Case {
                settings: final_notice_on,
                state: with_sent(vec![sent(1, 2, 22)]),
                invoices: vec![invoice(1, 1, "500", "500"), invoice(2, 5, "500", "0")],
                today: 30,
                want: Keep,
                ..case("the noticed invoice is paid, the newer one had no final notice")
            },
            Case {
                settings: final_notice_on,
                state: with_sent(vec![sent(2, 2, 22)]),
                invoices: vec![invoice(1, 1, "500", "0"), invoice(2, 5, "500", "0")],
                today: 30,
                want: suspend("1000", 1),
                ..case("a final notice for one counted invoice suspends for all of them")
            },
            Case {
                settings: final_notice_on,
                suspended: true,
                today: 30,
                want: Restore,
                ..case("suspended, then a final notice configured: none sent")
            },
            Case {
                settings: final_notice_on,
                state: ClientDunningState {
                    never_suspend: true,
                    ..with_sent(vec![sent(1, 2, 22)])
                },
                today: 30,
                want: Keep,
                ..case("final notice expired, never_suspend")
            },
            Case {
                settings: final_notice_on,
                state: ClientDunningState {
                    suspend_days_after_due: Some(60),
                    ..with_sent(vec![sent(1, 2, 22)])
                },
                today: 31,
                want: Keep,
                ..case("final notice expired, own 60 days not yet")
            },
            Case {
                settings: final_notice_on,
                state: ClientDunningState {
                    stopped: true,
                    ..with_sent(vec![sent(1, 2, 22)])
                },
                today: 30,
                want: suspend("500", 1),
                ..case("dunning stopped after the final notice: suspension goes ahead")
            },
            Case {
                settings: final_notice_on,
                state: with_sent(vec![sent(1, 2, 22)]),
                invoices: vec![invoice(1, 1, "500", "499.50")],
                suspended: true,
                today: 30,
                want: Restore,
                ..case("final notice expired, a payment drops below the minimum")
            },
        ];
        for c in cases {
            let mut settings = settings();
            (c.settings)(&mut settings);
            let got = access_decision(&settings, &c.state, &c.invoices, c.suspended, day(c.today));
            assert_eq!(got, c.want, "{}", c.name);
            // Idempotent: the same inputs, the same answer.
            let again =
                access_decision(&settings, &c.state, &c.invoices, c.suspended, day(c.today));
            assert_eq!(again, got, "{} (again)", c.name);
        }
    }

    #[test]
    fn a_payment_restores_the_moment_it_is_matched() {
        let s = settings();
        let state = ClientDunningState::default();
        let mut invoices = vec![invoice(1, 1, "500", "0")];
        assert_eq!(
            access_decision(&s, &state, &invoices, false, day(16)),
            suspend("500", 1)
        );
        assert_eq!(
            access_decision(&s, &state, &invoices, true, day(17)),
            AccessDecision::Keep
        );
        let allocation = crate::payment::allocate(dec("500"), &invoices, Decimal::ZERO).unwrap();
        for (id, part) in allocation.to_invoices {
            invoices.iter_mut().find(|i| i.id == id).unwrap().paid += part;
        }
        assert_eq!(
            access_decision(&s, &state, &invoices, true, day(17)),
            AccessDecision::Restore
        );
        assert_eq!(
            access_decision(&s, &state, &invoices, false, day(17)),
            AccessDecision::Keep
        );
    }

    // --- reminders -----------------------------------------------------------------------------

    fn reminder(invoice_id: i64, level: u8, today: u32) -> ReminderDue {
        ReminderDue {
            invoice_id,
            level,
            deadline: day(today + 7),
            fee: None,
            final_notice: false,
        }
    }

    /// A reminder of `level` for `invoice` that asked for payment by `deadline`.
    fn sent(invoice_id: i64, level: u8, deadline: u32) -> SentReminder {
        SentReminder {
            invoice_id,
            level,
            deadline: day(deadline),
        }
    }

    fn record(state: &mut ClientDunningState, due: &[ReminderDue]) {
        state
            .reminders_sent
            .extend(due.iter().map(|r| SentReminder {
                invoice_id: r.invoice_id,
                level: r.level,
                deadline: r.deadline,
            }));
    }

    #[test]
    fn first_reminder_on_day_seven() {
        let s = settings();
        let state = ClientDunningState::default();
        let invoices = [invoice(1, 1, "500", "0")];
        assert!(reminders_due(&s, &state, &invoices, day(7)).is_empty());
        assert_eq!(
            reminders_due(&s, &state, &invoices, day(8)),
            vec![reminder(1, 1, 8)]
        );
    }

    #[test]
    fn levels_in_order_once_each() {
        let s = settings();
        let mut state = ClientDunningState::default();
        let invoices = [invoice(1, 1, "500", "0"), invoice(2, 5, "100", "0")];
        let mut sent = Vec::new();
        for today in 1..=80 {
            let due = reminders_due(&s, &state, &invoices, day(today));
            for r in &due {
                assert_eq!(r.deadline, day(today + 7));
                sent.push((today, r.invoice_id, r.level));
            }
            record(&mut state, &due);
        }
        assert_eq!(sent, vec![(8, 1, 1), (12, 2, 1), (15, 1, 2), (19, 2, 2)]);
    }

    #[test]
    fn a_late_sweep_sends_one_level_per_run() {
        let s = settings();
        let mut state = ClientDunningState::default();
        let invoices = [invoice(1, 1, "500", "0")];
        assert_eq!(
            reminders_due(&s, &state, &invoices, day(40)),
            vec![reminder(1, 1, 40)]
        );
        state.reminders_sent.push(sent(1, 1, 47));
        assert_eq!(
            reminders_due(&s, &state, &invoices, day(41)),
            vec![reminder(1, 2, 41)]
        );
        state.reminders_sent.push(sent(1, 2, 48));
        assert!(reminders_due(&s, &state, &invoices, day(42)).is_empty());
    }

    #[test]
    fn a_higher_level_sent_by_hand_is_not_followed_by_a_lower_one() {
        let s = settings();
        let state = ClientDunningState {
            reminders_sent: vec![sent(1, 2, 37)],
            ..ClientDunningState::default()
        };
        assert!(reminders_due(&s, &state, &[invoice(1, 1, "500", "0")], day(30)).is_empty());
        // Another invoice's history does not count.
        assert_eq!(
            reminders_due(&s, &state, &[invoice(3, 1, "500", "0")], day(30)),
            vec![reminder(3, 1, 30)]
        );
    }

    #[test]
    fn held_reminders() {
        let s = settings();
        let invoices = [invoice(1, 1, "500", "0")];
        let due = |state: ClientDunningState, today: u32| {
            reminders_due(&s, &state, &invoices, day(today))
        };
        let none = ClientDunningState::default;
        assert!(
            due(
                ClientDunningState {
                    no_auto_reminders: true,
                    ..none()
                },
                20
            )
            .is_empty()
        );
        assert!(
            due(
                ClientDunningState {
                    stopped: true,
                    ..none()
                },
                20
            )
            .is_empty()
        );
        let paused = ClientDunningState {
            paused_until: Some(day(25)),
            ..none()
        };
        assert!(due(paused.clone(), 24).is_empty());
        assert_eq!(due(paused, 25), vec![reminder(1, 1, 25)]);
        // never_suspend is about access, not letters.
        assert_eq!(
            due(
                ClientDunningState {
                    never_suspend: true,
                    ..none()
                },
                20
            ),
            vec![reminder(1, 1, 20)]
        );
    }

    #[test]
    fn paid_invoices_get_no_reminder() {
        let s = settings();
        let state = ClientDunningState::default();
        let invoices = [
            invoice(1, 1, "500", "500"),
            invoice(2, 1, "500", "700"),
            invoice(3, 1, "500", "499"),
        ];
        assert_eq!(
            reminders_due(&s, &state, &invoices, day(10)),
            vec![reminder(3, 1, 10)]
        );
    }

    #[test]
    fn level_settings_are_honoured() {
        let s = DunningSettings {
            levels: vec![
                ReminderLevel {
                    level: 2,
                    days_after_due: 30,
                    deadline_days: 3,
                    fee: Some(dec("100")),
                    final_notice: true,
                },
                ReminderLevel {
                    level: 1,
                    days_after_due: 3,
                    deadline_days: 10,
                    fee: Some(dec("50")),
                    final_notice: false,
                },
            ],
            ..settings()
        };
        let mut state = ClientDunningState::default();
        let invoices = [invoice(1, 1, "500", "0")];
        assert_eq!(
            reminders_due(&s, &state, &invoices, day(4)),
            vec![ReminderDue {
                invoice_id: 1,
                level: 1,
                deadline: day(14),
                fee: Some(dec("50")),
                final_notice: false,
            }]
        );
        state.reminders_sent.push(sent(1, 1, 14));
        assert!(reminders_due(&s, &state, &invoices, day(30)).is_empty());
        assert_eq!(
            reminders_due(&s, &state, &invoices, day(31)),
            vec![ReminderDue {
                invoice_id: 1,
                level: 2,
                deadline: day(34),
                fee: Some(dec("100")),
                final_notice: true,
            }]
        );
        // No levels configured: no reminders.
        let silent = DunningSettings {
            levels: vec![],
            ..settings()
        };
        assert!(
            reminders_due(&silent, &ClientDunningState::default(), &invoices, day(60)).is_empty()
        );
    }

    #[test]
    fn fees_and_final_notices_travel_with_the_reminder() {
        let mut s = settings();
        s.levels[0].fee = Some(Decimal::ZERO);
        s.levels[1].fee = Some(dec("50.00"));
        final_notice_on(&mut s);
        let mut state = ClientDunningState::default();
        let invoices = [invoice(1, 1, "500", "0")];
        let first = reminders_due(&s, &state, &invoices, day(8));
        assert_eq!(first, vec![reminder(1, 1, 8)], "a zero fee charges none");
        assert_eq!(fee_line(&first[0], "F1"), None);
        record(&mut state, &first);
        let last = reminders_due(&s, &state, &invoices, day(15));
        assert_eq!(
            last,
            vec![ReminderDue {
                fee: Some(dec("50.00")),
                final_notice: true,
                ..reminder(1, 2, 15)
            }]
        );
        let line = fee_line(&last[0], "202600001").unwrap();
        assert_eq!(
            line.description,
            "Reminder fee (level 2, invoice 202600001)"
        );
        assert_eq!(
            (line.quantity, line.unit_price, line.vat_rate),
            (Decimal::ONE, dec("50.00"), Decimal::ZERO)
        );
        assert_eq!(
            (line.net, line.vat, line.gross),
            (dec("50.00"), dec("0"), dec("50.00"))
        );
        // The notice's deadline passed and the debt is past the grace: suspended.
        record(&mut state, &last);
        assert_eq!(
            access_decision(&s, &state, &invoices, false, day(22)),
            AccessDecision::Keep
        );
        assert_eq!(
            access_decision(&s, &state, &invoices, false, day(23)),
            suspend("500", 1)
        );
    }

    #[test]
    fn a_level_of_zero_days_waits_until_the_invoice_is_overdue() {
        let s = DunningSettings {
            levels: vec![ReminderLevel {
                level: 1,
                days_after_due: 0,
                deadline_days: 0,
                fee: None,
                final_notice: false,
            }],
            ..settings()
        };
        let state = ClientDunningState::default();
        let invoices = [invoice(1, 5, "1", "0")];
        assert!(reminders_due(&s, &state, &invoices, day(5)).is_empty());
        assert_eq!(reminders_due(&s, &state, &invoices, day(6)).len(), 1);
    }

    // --- settings ------------------------------------------------------------------------------

    #[test]
    fn defaults_are_consistent() {
        let s = DunningSettings::default();
        assert_eq!(s.validate(), Ok(()));
        assert!(s.suspend_enabled);
        assert_eq!(s.suspend_min_amount, dec("1.00"));
        let last = s.levels.iter().max_by_key(|l| l.level).unwrap();
        // Nobody is suspended before the last reminder's deadline has passed.
        assert_eq!(
            s.suspend_days_after_due,
            last.days_after_due + last.deadline_days
        );
    }

    #[test]
    fn settings_rules() {
        let refused = |edit: fn(&mut DunningSettings)| {
            let mut s = DunningSettings::default();
            edit(&mut s);
            s.validate().unwrap_err().field
        };
        assert_eq!(refused(|s| s.levels[0].level = 0), "dunning.level[0].level");
        assert_eq!(refused(|s| s.levels[1].level = 1), "dunning.level[1].level");
        assert_eq!(
            refused(|s| s.levels[1].days_after_due = 7),
            "dunning.level[1].days_after_due"
        );
        assert_eq!(
            refused(|s| s.levels[0].days_after_due = 0),
            "dunning.level[0].days_after_due"
        );
        assert_eq!(
            refused(|s| s.levels[0].fee = Some(Decimal::NEGATIVE_ONE)),
            "dunning.level[0].fee"
        );
        assert_eq!(
            refused(|s| s.levels[0].fee = Some(dec("0.001"))),
            "dunning.level[0].fee"
        );
        assert_eq!(
            refused(|s| s.suspend_min_amount = dec("-1")),
            "dunning.suspend_min_amount"
        );
        assert_eq!(
            refused(|s| s.levels[0].final_notice = true),
            "dunning.level[0].final_notice"
        );
        let mut s = DunningSettings::default();
        s.levels.reverse();
        assert_eq!(s.validate(), Ok(()));
        assert_eq!(s.final_notice_level(), None);
        // Listed first but numbered last: the final notice is allowed there.
        s.levels[0].final_notice = true;
        assert_eq!(s.validate(), Ok(()));
        assert_eq!(s.final_notice_level(), Some(2));
    }

    #[test]
    fn state_from_the_client_card() {
        let invoicing = Invoicing {
            no_auto_reminders: true,
            never_suspend: true,
            suspend_after_days: Some(45),
            ..Invoicing::default()
        };
        let state = ClientDunningState::for_client(&invoicing);
        assert!(state.no_auto_reminders && state.never_suspend && !state.stopped);
        assert_eq!(state.grace_days(&DunningSettings::default()), 45);
        assert_eq!(
            ClientDunningState::default().grace_days(&DunningSettings::default()),
            21
        );
        assert!(
            ClientDunningState::for_client(&Invoicing::default()) == ClientDunningState::default()
        );
    }

    // --- properties ----------------------------------------------------------------------------

    fn invoices() -> impl Strategy<Value = Vec<OpenInvoice>> {
        proptest::collection::vec((1u32..60, 0i64..2_000, 0i64..2_500), 0..6).prop_map(|rows| {
            rows.into_iter()
                .enumerate()
                .map(|(i, (due, total, paid))| OpenInvoice {
                    id: i as i64 + 1,
                    number: String::new(),
                    issue_date: day(1),
                    due_date: day(due),
                    total: Decimal::new(total, 2),
                    paid: Decimal::new(paid.min(total + 100), 2),
                })
                .collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn carrying_out_a_decision_leaves_nothing_to_do(
            invoices in invoices(),
            suspended: bool,
            enabled: bool,
            never_suspend: bool,
            paused: bool,
            grace in 0u32..30,
            own_grace in proptest::option::of(0u32..30),
            final_notice: bool,
            noticed in proptest::collection::vec((1i64..7, 1u32..90), 0..4),
            min in 0i64..1_500,
            today in 1u32..90,
        ) {
            let mut settings = DunningSettings {
                suspend_enabled: enabled,
                suspend_min_amount: Decimal::new(min, 2),
                suspend_days_after_due: grace,
                ..DunningSettings::default()
            };
            settings.levels[1].final_notice = final_notice;
            let state = ClientDunningState {
                never_suspend,
                paused_until: paused.then(|| day(today + 1)),
                suspend_days_after_due: own_grace,
                reminders_sent: noticed.iter().map(|&(id, deadline)| sent(id, 2, deadline)).collect(),
                ..ClientDunningState::default()
            };
            let grace = own_grace.unwrap_or(grace);
            let decision = access_decision(&settings, &state, &invoices, suspended, day(today));
            let now_suspended = match &decision {
                AccessDecision::Suspend { overdue, oldest_due } => {
                    prop_assert!(!suspended && enabled && !never_suspend);
                    prop_assert!(*overdue >= settings.suspend_min_amount);
                    prop_assert!(*overdue > Decimal::ZERO);
                    prop_assert!((day(today) - *oldest_due).num_days() > i64::from(grace));
                    if final_notice {
                        let expired_notice_on_counted_invoice =
                            noticed.iter().any(|&(id, deadline)| {
                                day(deadline) < day(today)
                                    && invoices.iter().any(|i| {
                                        i.id == id
                                            && i.open_amount() > Decimal::ZERO
                                            && (day(today) - i.due_date).num_days()
                                                > i64::from(grace)
                                    })
                            });
                        prop_assert!(expired_notice_on_counted_invoice);
                    }
                    true
                }
                AccessDecision::Restore => {
                    prop_assert!(suspended);
                    false
                }
                AccessDecision::Keep => suspended,
            };
            prop_assert_eq!(
                access_decision(&settings, &state, &invoices, now_suspended, day(today)),
                AccessDecision::Keep
            );
            // Pausing dunning never changes the decision.
            let unpaused = ClientDunningState { paused_until: None, ..state.clone() };
            prop_assert_eq!(
                access_decision(&settings, &unpaused, &invoices, suspended, day(today)),
                decision
            );
        }

        #[test]
        fn each_level_once_and_in_order(invoices in invoices(), start in 1u32..40) {
            let settings = DunningSettings::default();
            let mut state = ClientDunningState::default();
            for today in start..start + 80 {
                let due = reminders_due(&settings, &state, &invoices, day(today));
                for r in &due {
                    let invoice = invoices.iter().find(|i| i.id == r.invoice_id).unwrap();
                    prop_assert!(invoice.open_amount() > Decimal::ZERO);
                    let level = settings.levels.iter().find(|l| l.level == r.level).unwrap();
                    prop_assert!(
                        (day(today) - invoice.due_date).num_days()
                            >= i64::from(level.days_after_due)
                    );
                    prop_assert_eq!(due.iter().filter(|o| o.invoice_id == r.invoice_id).count(), 1);
                }
                record(&mut state, &due);
            }
            for invoice in &invoices {
                let levels: Vec<u8> = state
                    .reminders_sent
                    .iter()
                    .filter(|sent| sent.invoice_id == invoice.id)
                    .map(|sent| sent.level)
                    .collect();
                let want: Vec<u8> = if invoice.open_amount() > Decimal::ZERO { vec![1, 2] } else { vec![] };
                prop_assert_eq!(levels, want);
            }
        }
    }
}

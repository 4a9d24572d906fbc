//! The operator's dunning settings: the reminder ladder and the suspension rule's thresholds,
//! validated once when the configuration is loaded so the decisions never meet a bad ladder.

use rust_decimal::Decimal;

use crate::FieldError;

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

/// The most days any dunning period may be: ten years (and dates made of it stay in range).
pub const MAX_DAYS: u32 = 3_650;

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
            for (name, days) in [
                ("days_after_due", level.days_after_due),
                ("deadline_days", level.deadline_days),
            ] {
                if days > MAX_DAYS {
                    return Err(FieldError::new(
                        field(name),
                        format!("at most {MAX_DAYS} days"),
                    ));
                }
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
        if self.suspend_days_after_due > MAX_DAYS {
            return Err(FieldError::new(
                "dunning.suspend_days_after_due",
                format!("at most {MAX_DAYS} days"),
            ));
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

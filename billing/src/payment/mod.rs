//! Payments: matching an incoming bank payment to a client, placing money on invoices, credit,
//! refunds and the client's statement (ISPadmin "Přiřazené VS", net47 "Historia transakcji",
//! Mango gattach_payment / gdeattach_payment / gmake_returned_money).
//!
//! # Balance convention
//! A client's **balance** is positive when the client has credit (paid more than invoiced) and
//! negative when the client owes. Debt lives on invoices (their open amounts); **credit** is
//! money the client holds with us that is on no invoice, and is never negative.
//!
//! # Money is conserved
//! For one client, at every moment:
//! `sum of allocations on invoices + credit + refunded = sum of payments placed on the client`.
//! Every function here keeps that equation (property-tested in `tests.rs`): [`allocate`],
//! [`apply_credit`] and [`assign`] only move money between the payment, the credit and the
//! invoices; [`refund`] moves credit out; [`unassign`] takes a payment back off the client.
//!
//! # Where things are
//! - this module: the records a payment is made of ([`IncomingPayment`], [`OpenInvoice`]) and
//!   the errors;
//! - `matching`: whose money an incoming payment is ([`match_payment`] over a [`Directory`]);
//! - `allocation`: where the money goes once it is the client's (invoices, credit, refunds,
//!   undo);
//! - `assignment`: a payment assigned by hand (its guards, then `assign`);
//! - `receipt`: what a batch of received payments does to the books, in arrival order
//!   (duplicates, whose each is, where its money goes);
//! - `statement`: the client's account statement and balance.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::FieldError;

mod allocation;
pub mod assignment;
pub mod cash;
mod matching;
pub mod receipt;
mod statement;
#[cfg(test)]
mod tests;

pub use allocation::{
    Allocation, AssignMode, Reversal, allocate, allocate_preferring, apply_credit, assign, refund,
    unassign,
};
pub use matching::{
    Directory, Match, MatchTarget, MatchedBy, Symbol, UnmatchedReason, match_payment,
    normalize_account, normalize_variable_symbol,
};
pub use statement::{StatementEntry, StatementKind, StatementRow, balance, standing, statement};

/// A payment as read from a bank statement (or typed in for cash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingPayment {
    pub id: i64,
    /// Always positive: outgoing bank movements are not payments.
    pub amount: Decimal,
    pub received_on: NaiveDate,
    /// As the bank reports it; banks often pad it with zeros to 10 digits.
    pub variable_symbol: Option<String>,
    /// The payer's account, "19-2000145399/0800" or an IBAN, in any spacing or case.
    pub payer_account: Option<String>,
    /// The bank's own id of the movement, for de-duplicating repeated imports.
    pub bank_transaction_id: Option<String>,
    /// The ISP's account the statement is of ([`normalize_account`]'s form), on which
    /// `bank_transaction_id` is unique; `None` when the statement does not say.
    pub statement_account: Option<String>,
}

impl IncomingPayment {
    /// A payment must be positive and storable (at most two decimal places).
    pub fn validate(&self) -> Result<(), FieldError> {
        if self.amount <= Decimal::ZERO {
            return Err(FieldError::new("payment.amount", "must be positive"));
        }
        crate::money::to_minor_units("payment.amount", self.amount)?;
        Ok(())
    }
}

/// The part of an invoice that payments care about. `paid` is everything already allocated to
/// it; `total` is what it charges (credit notes are not open invoices: they appear in the
/// statement and, when refunded to credit, as credit).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OpenInvoice {
    pub id: i64,
    pub number: String,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub total: Decimal,
    pub paid: Decimal,
}

impl OpenInvoice {
    /// What is still to pay: `total - paid`, never below zero.
    pub fn open_amount(&self) -> Decimal {
        (self.total - self.paid).max(Decimal::ZERO)
    }

    /// Oldest first: by due date, then issue date, then id (net47 "linked to the oldest
    /// unsettled invoice").
    fn age_key(&self) -> (NaiveDate, NaiveDate, i64) {
        (self.due_date, self.issue_date, self.id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    #[error("{what} must not be negative: {amount}")]
    Negative { what: &'static str, amount: Decimal },
    #[error("invoice {0} is not among the client's invoices")]
    UnknownInvoice(i64),
    /// Undoing an assignment would take back credit that has since been spent or refunded:
    /// undo the later use first.
    #[error(
        "taking the payment back needs {needed} of the client's credit (what it left as \
         credit, or what a credit note made of what it paid) but only {available} remains: \
         the rest was spent on later documents or refunded; cancel those or the refund first"
    )]
    CreditAlreadySpent { needed: Decimal, available: Decimal },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefundError {
    #[error("a refund must be positive: {0}")]
    NotPositive(Decimal),
    #[error("cannot refund {requested}: the client's credit is {credit}")]
    ExceedsCredit { credit: Decimal, requested: Decimal },
}

fn non_negative(what: &'static str, amount: Decimal) -> Result<(), PaymentError> {
    if amount.is_sign_negative() && !amount.is_zero() {
        Err(PaymentError::Negative { what, amount })
    } else {
        Ok(())
    }
}

/// The open invoices sorted oldest first, as [`allocate`] visits them.
pub fn oldest_first(open_invoices: &[OpenInvoice]) -> Vec<&OpenInvoice> {
    let mut invoices: Vec<&OpenInvoice> = open_invoices.iter().collect();
    invoices.sort_by_key(|invoice| invoice.age_key());
    invoices
}

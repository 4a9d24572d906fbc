//! The client's statement: every movement on the account in a fixed order, with a running
//! balance that ends where [`balance`] says.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::document::DocumentKind;

/// What a statement line is: a document, or money in or out of the account. Lines of one
/// day are listed opening balance, invoices, pro-formas, debit notes, credit notes,
/// payments, refunds ([`StatementKind::rank`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatementKind {
    Document(DocumentKind),
    Payment,
    Refund,
}

impl StatementKind {
    /// The name the API and exports use: the document kind's own, or `payment` / `refund`.
    pub fn as_str(self) -> &'static str {
        match self {
            StatementKind::Document(kind) => kind.as_str(),
            StatementKind::Payment => "payment",
            StatementKind::Refund => "refund",
        }
    }

    /// The place of this kind among the lines of one day.
    fn rank(self) -> u8 {
        match self {
            StatementKind::Document(DocumentKind::OpeningBalance) => 0,
            StatementKind::Document(DocumentKind::Invoice) => 1,
            StatementKind::Document(DocumentKind::Proforma) => 2,
            StatementKind::Document(DocumentKind::DebitNote) => 3,
            StatementKind::Document(DocumentKind::CreditNote) => 4,
            StatementKind::Payment => 5,
            StatementKind::Refund => 6,
        }
    }
}

impl Ord for StatementKind {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.rank().cmp(&other.rank())
    }
}

impl PartialOrd for StatementKind {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl serde::Serialize for StatementKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A movement on the client's account. Amounts are given as on the document (an invoice's
/// total, a payment's amount); the kind decides the sign in the statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementEntry {
    /// Carried over on migration (client card `opening_balance`): signed, positive = credit.
    OpeningBalance { date: NaiveDate, amount: Decimal },
    /// Lowers the balance by `total`.
    Invoice {
        date: NaiveDate,
        number: String,
        total: Decimal,
    },
    /// A payment request (pro-forma client): lowers the balance like an invoice; the tax
    /// invoice issued once it is paid is not listed again.
    Proforma {
        date: NaiveDate,
        number: String,
        total: Decimal,
    },
    /// A fee such as a reminder fee: lowers the balance by `total`.
    DebitNote {
        date: NaiveDate,
        number: String,
        total: Decimal,
    },
    /// Raises the balance by `total`.
    CreditNote {
        date: NaiveDate,
        number: String,
        total: Decimal,
    },
    /// Raises the balance by `amount`; `reference` is e.g. the VS or bank transaction.
    Payment {
        date: NaiveDate,
        reference: String,
        amount: Decimal,
    },
    /// Credit paid back: lowers the balance by `amount`.
    Refund { date: NaiveDate, amount: Decimal },
}

impl StatementEntry {
    pub fn date(&self) -> NaiveDate {
        match self {
            StatementEntry::OpeningBalance { date, .. }
            | StatementEntry::Invoice { date, .. }
            | StatementEntry::Proforma { date, .. }
            | StatementEntry::DebitNote { date, .. }
            | StatementEntry::CreditNote { date, .. }
            | StatementEntry::Payment { date, .. }
            | StatementEntry::Refund { date, .. } => *date,
        }
    }

    pub fn kind(&self) -> StatementKind {
        match self {
            StatementEntry::OpeningBalance { .. } => {
                StatementKind::Document(DocumentKind::OpeningBalance)
            }
            StatementEntry::Invoice { .. } => StatementKind::Document(DocumentKind::Invoice),
            StatementEntry::Proforma { .. } => StatementKind::Document(DocumentKind::Proforma),
            StatementEntry::DebitNote { .. } => StatementKind::Document(DocumentKind::DebitNote),
            StatementEntry::CreditNote { .. } => StatementKind::Document(DocumentKind::CreditNote),
            StatementEntry::Payment { .. } => StatementKind::Payment,
            StatementEntry::Refund { .. } => StatementKind::Refund,
        }
    }

    /// The effect on the balance (positive = in the client's favour).
    pub fn signed_amount(&self) -> Decimal {
        match self {
            StatementEntry::OpeningBalance { amount, .. }
            | StatementEntry::Payment { amount, .. } => *amount,
            StatementEntry::CreditNote { total, .. } => *total,
            StatementEntry::Invoice { total, .. }
            | StatementEntry::Proforma { total, .. }
            | StatementEntry::DebitNote { total, .. } => -*total,
            StatementEntry::Refund { amount, .. } => -*amount,
        }
    }

    pub fn description(&self) -> String {
        match self {
            StatementEntry::OpeningBalance { .. } => "Opening balance".to_owned(),
            StatementEntry::Invoice { number, .. } => format!("Invoice {number}"),
            StatementEntry::Proforma { number, .. } => format!("Pro-forma {number}"),
            StatementEntry::DebitNote { number, .. } => format!("Debit note {number}"),
            StatementEntry::CreditNote { number, .. } => format!("Credit note {number}"),
            StatementEntry::Payment { reference, .. } if reference.is_empty() => {
                "Payment".to_owned()
            }
            StatementEntry::Payment { reference, .. } => format!("Payment {reference}"),
            StatementEntry::Refund { .. } => "Refund".to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StatementRow {
    pub date: NaiveDate,
    pub kind: StatementKind,
    pub description: String,
    /// Signed: positive raises the balance (payment, credit note), negative lowers it.
    pub amount: Decimal,
    /// Positive = the client has credit, negative = the client owes.
    pub running_balance: Decimal,
}

/// The client's statement: entries in date order; within a day opening balance, invoices,
/// credit notes, payments, refunds; entries equal in both keep their given order.
/// `brought_forward` is the balance before the first entry (zero for a whole history, the
/// previous closing balance for a period statement).
pub fn statement(brought_forward: Decimal, entries: &[StatementEntry]) -> Vec<StatementRow> {
    let mut ordered: Vec<&StatementEntry> = entries.iter().collect();
    ordered.sort_by_key(|entry| (entry.date(), entry.kind()));
    let mut balance = brought_forward;
    ordered
        .into_iter()
        .map(|entry| {
            let amount = entry.signed_amount();
            balance += amount;
            StatementRow {
                date: entry.date(),
                kind: entry.kind(),
                description: entry.description(),
                amount,
                running_balance: balance,
            }
        })
        .collect()
}

/// Where a client stands, from its documents: its credit less what its documents still ask.
/// The same figure as the statement's closing balance, from the other side of the books;
/// positive is in the client's favour.
pub fn standing(credit: Decimal, owed: Decimal) -> Decimal {
    credit - owed
}

/// The closing balance: `brought_forward` plus every entry's signed amount.
pub fn balance(brought_forward: Decimal, entries: &[StatementEntry]) -> Decimal {
    brought_forward
        + entries
            .iter()
            .map(StatementEntry::signed_amount)
            .sum::<Decimal>()
}

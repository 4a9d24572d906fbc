//! The values of one statement as written, gathered while its elements go by: the statement,
//! entry, transaction and remittance reference being read.

use super::grammar::{Field, Node, Side};
use crate::bank::non_empty;

/// An `Amt` as written: its trimmed text and its `Ccy` attribute. Present even when empty, so
/// "missing" and "empty" stay two different problems.
#[derive(Debug, Clone, Default)]
pub(super) struct WrittenAmount {
    pub(super) text: String,
    pub(super) currency: Option<String>,
}

/// The account of one `Stmt`.
#[derive(Debug, Default)]
pub(super) struct StatementData {
    pub(super) iban: Option<String>,
    pub(super) other_id: Option<String>,
    pub(super) currency: Option<String>,
}

/// What an end tag completed.
#[derive(Debug)]
pub(super) enum Finished {
    /// The statement's account (its first `Acct`).
    Account,
    /// An entry, left in [`Building::entry`] for the taking.
    Entry,
    Statement,
}

/// `BookgDt`: present or not, and the date or date-time inside.
#[derive(Debug, Default)]
pub(super) struct Booking {
    pub(super) date: Option<String>,
    pub(super) date_time: Option<String>,
}

/// One `Ntry`.
#[derive(Debug, Default)]
pub(super) struct EntryData {
    pub(super) status: Option<String>,
    pub(super) status_code: Option<String>,
    pub(super) amount: Option<WrittenAmount>,
    pub(super) indicator: Option<String>,
    pub(super) reversal: Option<String>,
    pub(super) booking: Option<Booking>,
    pub(super) reference: Option<String>,
    pub(super) information: Option<String>,
    pub(super) transactions: Vec<TransactionData>,
}

/// A party of a transaction (`Dbtr` or `Cdtr` with its account) and its bank.
#[derive(Debug, Default)]
pub(super) struct PartyData {
    pub(super) name: Option<String>,
    pub(super) identity_name: Option<String>,
    pub(super) iban: Option<String>,
    pub(super) other_id: Option<String>,
    pub(super) agent_member_id: Option<String>,
    pub(super) agent_other_id: Option<String>,
}

/// One `RmtInf/Strd/CdtrRefInf`.
#[derive(Debug, Default)]
pub(super) struct ReferenceData {
    pub(super) proprietary: Option<String>,
    pub(super) code: Option<String>,
    pub(super) value: Option<String>,
}

/// One `NtryDtls/TxDtls`.
#[derive(Debug, Default)]
pub(super) struct TransactionData {
    pub(super) amount: Option<WrittenAmount>,
    pub(super) detail_amount: Option<WrittenAmount>,
    pub(super) indicator: Option<String>,
    pub(super) servicer_reference: Option<String>,
    pub(super) id: Option<String>,
    pub(super) end_to_end: Option<String>,
    pub(super) information: Option<String>,
    pub(super) unstructured: Vec<String>,
    pub(super) references: Vec<ReferenceData>,
    pub(super) debtor: PartyData,
    pub(super) creditor: PartyData,
}

impl TransactionData {
    pub(super) fn party(&self, side: Side) -> &PartyData {
        match side {
            Side::Debtor => &self.debtor,
            Side::Creditor => &self.creditor,
        }
    }

    fn party_mut(&mut self, side: Side) -> &mut PartyData {
        match side {
            Side::Debtor => &mut self.debtor,
            Side::Creditor => &mut self.creditor,
        }
    }
}

/// The statement, entry, transaction and reference being read. The grammar only reaches an
/// entry inside a statement, a transaction inside an entry and so on, so each is started and
/// finished inside the one above it.
#[derive(Debug, Default)]
pub(super) struct Building {
    pub(super) statement: StatementData,
    pub(super) entry: EntryData,
    pub(super) transaction: TransactionData,
    pub(super) reference: ReferenceData,
}

impl Building {
    /// Starts what an element begins: a statement, an entry, its booking date, a transaction
    /// or a remittance reference.
    pub(super) fn begin(&mut self, node: Node) {
        match node {
            Node::Statement => self.statement = StatementData::default(),
            Node::Entry => self.entry = EntryData::default(),
            Node::Booking => self.entry.booking = Some(Booking::default()),
            Node::Transaction => self.transaction = TransactionData::default(),
            Node::CreditorReference => self.reference = ReferenceData::default(),
            _ => {}
        }
    }

    /// Finishes what an element ends: a reference joins its transaction, a transaction its
    /// entry; an account, an entry or a statement is reported.
    pub(super) fn end(&mut self, node: Node) -> Option<Finished> {
        match node {
            Node::CreditorReference => {
                let reference = std::mem::take(&mut self.reference);
                self.transaction.references.push(reference);
                None
            }
            Node::Transaction => {
                let transaction = std::mem::take(&mut self.transaction);
                self.entry.transactions.push(transaction);
                None
            }
            Node::Account => Some(Finished::Account),
            Node::Entry => Some(Finished::Entry),
            Node::Statement => Some(Finished::Statement),
            _ => None,
        }
    }

    /// Keeps the text of a value element where it belongs.
    pub(super) fn store(&mut self, field: Field, text: &str, currency: Option<String>) {
        let amount = || {
            Some(WrittenAmount {
                text: text.trim().to_owned(),
                currency,
            })
        };
        let value = non_empty(text);
        let (statement, entry, tx) = (&mut self.statement, &mut self.entry, &mut self.transaction);
        match field {
            Field::AccountIban => statement.iban = value,
            Field::AccountOtherId => statement.other_id = value,
            Field::AccountCurrency => statement.currency = value,
            Field::Status => entry.status = value,
            Field::StatusCode => entry.status_code = value,
            Field::EntryAmount => entry.amount = amount(),
            Field::EntryIndicator => entry.indicator = value,
            Field::ReversalIndicator => entry.reversal = value,
            Field::BookingDate => entry.booking.get_or_insert_default().date = value,
            Field::BookingDateTime => entry.booking.get_or_insert_default().date_time = value,
            Field::EntryReference => entry.reference = value,
            Field::EntryInformation => entry.information = value,
            Field::TransactionAmount => tx.amount = amount(),
            Field::DetailAmount => tx.detail_amount = amount(),
            Field::TransactionIndicator => tx.indicator = value,
            Field::ServicerReference => tx.servicer_reference = value,
            Field::TransactionId => tx.id = value,
            Field::EndToEndId => tx.end_to_end = value,
            Field::TransactionInformation => tx.information = value,
            Field::Unstructured => tx.unstructured.extend(value),
            Field::PartyName(s) => tx.party_mut(s).name = value,
            Field::PartyIdentityName(s) => tx.party_mut(s).identity_name = value,
            Field::PartyIban(s) => tx.party_mut(s).iban = value,
            Field::PartyOtherId(s) => tx.party_mut(s).other_id = value,
            Field::AgentMemberId(s) => tx.party_mut(s).agent_member_id = value,
            Field::AgentOtherId(s) => tx.party_mut(s).agent_other_id = value,
            Field::ReferenceProprietary => self.reference.proprietary = value,
            Field::ReferenceCode => self.reference.code = value,
            Field::Reference => self.reference.value = value,
        }
    }
}

//! The part of camt.053 that is read: for each element, what its children are. Everything
//! not listed here is skipped with its subtree.

/// Which side of a transaction a party or its bank is on. Both are kept: which one is the
/// counterparty depends on the direction, known once the whole entry is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    Debtor,
    Creditor,
}

/// An element whose text is kept, named for what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    AccountIban,
    AccountOtherId,
    AccountCurrency,
    /// `Sts`: the status as text (camt.053.001.02), or around `Sts/Cd` in later versions.
    Status,
    StatusCode,
    EntryAmount,
    EntryIndicator,
    ReversalIndicator,
    BookingDate,
    BookingDateTime,
    EntryReference,
    EntryInformation,
    TransactionAmount,
    /// `AmtDtls/TxAmt/Amt`, where a batch transaction has no `Amt` of its own.
    DetailAmount,
    TransactionIndicator,
    ServicerReference,
    TransactionId,
    EndToEndId,
    TransactionInformation,
    Unstructured,
    PartyName(Side),
    /// `Pty/Nm`, the later versions' place for the name.
    PartyIdentityName(Side),
    PartyIban(Side),
    PartyOtherId(Side),
    AgentMemberId(Side),
    AgentOtherId(Side),
    ReferenceProprietary,
    ReferenceCode,
    Reference,
}

/// What an open element is within the read part of camt.053.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Node {
    Document,
    Report,
    Statement,
    Account,
    AccountId,
    AccountOther,
    Entry,
    Booking,
    EntryDetails,
    Transaction,
    References,
    AmountDetails,
    TransactionAmount,
    Parties,
    Party(Side),
    PartyIdentity(Side),
    PartyAccount(Side),
    PartyAccountId(Side),
    PartyAccountOther(Side),
    Agents,
    Agent(Side),
    Institution(Side),
    ClearingMember(Side),
    InstitutionOther(Side),
    Remittance,
    Structured,
    CreditorReference,
    ReferenceType,
    ReferenceKind,
    Value(Field),
}

/// Whether every child element of a name is read, or only the first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Which {
    First,
    Each,
}

fn side(name: &str) -> Side {
    if name.starts_with("Dbtr") {
        Side::Debtor
    } else {
        Side::Creditor
    }
}

impl Node {
    /// What the child element `name` (without prefix) is, `None` when it is not read.
    pub(super) fn child(self, name: &str) -> Option<(Node, Which)> {
        use Field as F;
        use Node as N;
        let first = |node| Some((node, Which::First));
        let each = |node| Some((node, Which::Each));
        match (self, name) {
            (N::Document, "BkToCstmrStmt") => first(N::Report),
            (N::Report, "Stmt") => each(N::Statement),
            (N::Statement, "Acct") => first(N::Account),
            (N::Statement, "Ntry") => each(N::Entry),
            (N::Account, "Id") => first(N::AccountId),
            (N::Account, "Ccy") => first(N::Value(F::AccountCurrency)),
            (N::AccountId, "IBAN") => first(N::Value(F::AccountIban)),
            (N::AccountId, "Othr") => first(N::AccountOther),
            (N::AccountOther, "Id") => first(N::Value(F::AccountOtherId)),
            (N::Entry, "Amt") => first(N::Value(F::EntryAmount)),
            (N::Entry, "CdtDbtInd") => first(N::Value(F::EntryIndicator)),
            (N::Entry, "RvslInd") => first(N::Value(F::ReversalIndicator)),
            (N::Entry, "Sts") => first(N::Value(F::Status)),
            (N::Value(F::Status), "Cd") => first(N::Value(F::StatusCode)),
            (N::Entry, "BookgDt") => first(N::Booking),
            (N::Booking, "Dt") => first(N::Value(F::BookingDate)),
            (N::Booking, "DtTm") => first(N::Value(F::BookingDateTime)),
            (N::Entry, "AcctSvcrRef") => first(N::Value(F::EntryReference)),
            (N::Entry, "AddtlNtryInf") => first(N::Value(F::EntryInformation)),
            (N::Entry, "NtryDtls") => each(N::EntryDetails),
            (N::EntryDetails, "TxDtls") => each(N::Transaction),
            (N::Transaction, "Amt") => first(N::Value(F::TransactionAmount)),
            (N::Transaction, "AmtDtls") => first(N::AmountDetails),
            (N::AmountDetails, "TxAmt") => first(N::TransactionAmount),
            (N::TransactionAmount, "Amt") => first(N::Value(F::DetailAmount)),
            (N::Transaction, "CdtDbtInd") => first(N::Value(F::TransactionIndicator)),
            (N::Transaction, "Refs") => first(N::References),
            (N::References, "AcctSvcrRef") => first(N::Value(F::ServicerReference)),
            (N::References, "TxId") => first(N::Value(F::TransactionId)),
            (N::References, "EndToEndId") => first(N::Value(F::EndToEndId)),
            (N::Transaction, "AddtlTxInf") => first(N::Value(F::TransactionInformation)),
            (N::Transaction, "RltdPties") => first(N::Parties),
            (N::Parties, "Dbtr" | "Cdtr") => first(N::Party(side(name))),
            (N::Parties, "DbtrAcct" | "CdtrAcct") => first(N::PartyAccount(side(name))),
            (N::Party(s), "Nm") => first(N::Value(F::PartyName(s))),
            (N::Party(s), "Pty") => first(N::PartyIdentity(s)),
            (N::PartyIdentity(s), "Nm") => first(N::Value(F::PartyIdentityName(s))),
            (N::PartyAccount(s), "Id") => first(N::PartyAccountId(s)),
            (N::PartyAccountId(s), "IBAN") => first(N::Value(F::PartyIban(s))),
            (N::PartyAccountId(s), "Othr") => first(N::PartyAccountOther(s)),
            (N::PartyAccountOther(s), "Id") => first(N::Value(F::PartyOtherId(s))),
            (N::Transaction, "RltdAgts") => first(N::Agents),
            (N::Agents, "DbtrAgt" | "CdtrAgt") => first(N::Agent(side(name))),
            (N::Agent(s), "FinInstnId") => first(N::Institution(s)),
            (N::Institution(s), "ClrSysMmbId") => first(N::ClearingMember(s)),
            (N::ClearingMember(s), "MmbId") => first(N::Value(F::AgentMemberId(s))),
            (N::Institution(s), "Othr") => first(N::InstitutionOther(s)),
            (N::InstitutionOther(s), "Id") => first(N::Value(F::AgentOtherId(s))),
            (N::Transaction, "RmtInf") => first(N::Remittance),
            (N::Remittance, "Ustrd") => each(N::Value(F::Unstructured)),
            (N::Remittance, "Strd") => each(N::Structured),
            (N::Structured, "CdtrRefInf") => each(N::CreditorReference),
            (N::CreditorReference, "Tp") => first(N::ReferenceType),
            (N::ReferenceType, "CdOrPrtry") => first(N::ReferenceKind),
            (N::ReferenceKind, "Prtry") => first(N::Value(F::ReferenceProprietary)),
            (N::ReferenceKind, "Cd") => first(N::Value(F::ReferenceCode)),
            (N::CreditorReference, "Ref") => first(N::Value(F::Reference)),
            _ => None,
        }
    }
}

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
//! Every function here keeps that equation (property-tested below): [`allocate`],
//! [`apply_credit`] and [`assign`] only move money between the payment, the credit and the
//! invoices; [`refund`] moves credit out; [`unassign`] takes a payment back off the client.

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::FieldError;
use crate::client::{BankAccount, Client};
use crate::subscription::Subscription;

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

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
    /// What is still to pay: `total - paid`, never below zero (an overpaid invoice owes nothing).
    pub fn open_amount(&self) -> Decimal {
        (self.total - self.paid).max(Decimal::ZERO)
    }

    /// What was paid beyond the total (only [`AssignMode::WholeToOneInvoice`] does that).
    pub fn overpaid(&self) -> Decimal {
        (self.paid - self.total).max(Decimal::ZERO)
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
    #[error("the assignment left {needed} as credit but only {available} credit remains")]
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

// ---------------------------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------------------------

/// Whose money a matched payment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchTarget {
    Client(i64),
    /// The payment carried a service's own variable symbol: it pays that service's invoices.
    Subscription {
        client: i64,
        subscription: i64,
    },
}

impl MatchTarget {
    pub fn client(self) -> i64 {
        match self {
            MatchTarget::Client(client) | MatchTarget::Subscription { client, .. } => client,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// VS = client number (ISPadmin: the client number is the VS on invoices).
    ClientNumber,
    /// One of the client's up to 3 assigned variable symbols.
    AssignedVs,
    /// A subscription's own variable symbol.
    SubscriptionVs,
    /// No usable VS, but the payer's account is on exactly one client card.
    BankAccount,
}

/// Why a payment waits for manual assignment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnmatchedReason {
    /// Neither a variable symbol nor a payer account.
    NoIdentifiers,
    /// The VS (as normalised, or as given when it is not a VS at all) belongs to nobody, and
    /// the payer account did not help either.
    UnknownVariableSymbol(String),
    /// No VS, and the payer account is on no client card.
    UnknownAccount(String),
    /// The VS belongs to several clients: a person decides.
    AmbiguousVariableSymbol { symbol: String, clients: Vec<i64> },
    /// No usable VS, and the payer account is on several client cards (a shared family account).
    AmbiguousAccount { account: String, clients: Vec<i64> },
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Match {
    Matched { target: MatchTarget, by: MatchedBy },
    Unmatched(UnmatchedReason),
}

/// A variable symbol as read from a bank statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Symbol {
    /// Empty, or all zeros (banks write "0000000000" for "none").
    Missing,
    /// Digits without leading zeros, 1-10 of them.
    Valid(String),
    /// Present but not a variable symbol (letters, more than 10 significant digits).
    Invalid(String),
}

/// Normalises a variable symbol: whitespace removed, leading zeros stripped (Czech banks pad
/// the VS to 10 digits, so "0000001001" is VS 1001).
pub fn normalize_variable_symbol(text: &str) -> Symbol {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return Symbol::Missing;
    }
    if !compact.bytes().all(|b| b.is_ascii_digit()) {
        return Symbol::Invalid(compact);
    }
    let significant = compact.trim_start_matches('0');
    if significant.is_empty() {
        Symbol::Missing
    } else if significant.len() > 10 {
        Symbol::Invalid(compact)
    } else {
        Symbol::Valid(significant.to_owned())
    }
}

fn valid_symbol(text: &str) -> Option<String> {
    match normalize_variable_symbol(text) {
        Symbol::Valid(vs) => Some(vs),
        Symbol::Missing | Symbol::Invalid(_) => None,
    }
}

/// Normalises an account number so that the same account written differently compares equal:
/// whitespace removed, upper case; Czech domestic numbers ("000019-0002000145399/0800") lose
/// their leading zeros ("19-2000145399/0800"); a Czech IBAN ("CZ65 0800 0000 1920 0014 5399")
/// becomes the same domestic form, since Czech statements report domestic numbers while cards
/// often carry the IBAN. Other IBANs and formats stay as compact upper-case text.
/// `None` for empty text.
pub fn normalize_account(text: &str) -> Option<String> {
    let compact: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    if compact.is_empty() {
        return None;
    }
    Some(
        czech_iban_to_domestic(&compact)
            .or_else(|| czech_domestic(&compact))
            .unwrap_or(compact),
    )
}

fn all_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

fn domestic(prefix: &str, number: &str, bank: &str) -> Option<String> {
    let prefix = prefix.trim_start_matches('0');
    let number = number.trim_start_matches('0');
    if number.is_empty() {
        return None;
    }
    Some(if prefix.is_empty() {
        format!("{number}/{bank}")
    } else {
        format!("{prefix}-{number}/{bank}")
    })
}

/// CZkk BBBB PPPPPP NNNNNNNNNN: bank code, prefix, number.
fn czech_iban_to_domestic(compact: &str) -> Option<String> {
    let digits = compact.strip_prefix("CZ")?;
    if digits.len() != 22 || !all_digits(digits) {
        return None;
    }
    domestic(&digits[6..12], &digits[12..], &digits[2..6])
}

/// [prefix-]number/bank with a 1-6 digit prefix, 1-10 digit number and 4 digit bank code.
fn czech_domestic(compact: &str) -> Option<String> {
    let (account, bank) = compact.split_once('/')?;
    if bank.len() != 4 || !all_digits(bank) {
        return None;
    }
    let (prefix, number) = account.split_once('-').unwrap_or(("", account));
    let prefix_ok = prefix.is_empty() || (prefix.len() <= 6 && all_digits(prefix));
    if !prefix_ok || number.len() > 10 || !all_digits(number) {
        return None;
    }
    domestic(prefix, number, bank)
}

/// What a bank import needs to know to match payments: built from the stored clients and
/// subscriptions. Symbols and accounts are kept normalised; a symbol or account registered for
/// several clients is not an error here (data may be inconsistent) but makes matching by it
/// ambiguous.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    client_numbers: HashMap<String, Vec<i64>>,
    assigned: HashMap<String, Vec<i64>>,
    subscriptions: HashMap<String, Vec<(i64, i64)>>,
    accounts: HashMap<String, Vec<i64>>,
}

fn register<T: PartialEq>(map: &mut HashMap<String, Vec<T>>, key: String, value: T) {
    let entries = map.entry(key).or_default();
    if !entries.contains(&value) {
        entries.push(value);
    }
}

impl Directory {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every client with its number, assigned symbols and bank accounts, and every subscription
    /// with a variable symbol. The caller chooses which subscriptions to include (ended ones may
    /// still have invoices to pay, so including them is usually right).
    pub fn from_records<'a>(
        clients: impl IntoIterator<Item = &'a Client>,
        subscriptions: impl IntoIterator<Item = &'a Subscription>,
    ) -> Self {
        let mut directory = Self::new();
        for client in clients {
            directory.add_client(client);
        }
        for subscription in subscriptions {
            directory.add_subscription_vs(
                subscription.client_id,
                subscription.id,
                &subscription.variable_symbol,
            );
        }
        directory
    }

    pub fn add_client(&mut self, client: &Client) {
        self.add_client_number(client.id, &client.number);
        for vs in &client.invoicing.variable_symbols {
            self.add_assigned_vs(client.id, vs);
        }
        for account in &client.bank_accounts {
            self.add_bank_account(client.id, account);
        }
    }

    /// A client number serves as VS only when it is numeric ("A-17" cannot be paid by VS).
    pub fn add_client_number(&mut self, client: i64, number: &str) {
        if let Some(vs) = valid_symbol(number) {
            register(&mut self.client_numbers, vs, client);
        }
    }

    pub fn add_assigned_vs(&mut self, client: i64, vs: &str) {
        if let Some(vs) = valid_symbol(vs) {
            register(&mut self.assigned, vs, client);
        }
    }

    pub fn add_subscription_vs(&mut self, client: i64, subscription: i64, vs: &str) {
        if let Some(vs) = valid_symbol(vs) {
            register(&mut self.subscriptions, vs, (client, subscription));
        }
    }

    /// Both the domestic number and the IBAN of a card's account are registered.
    pub fn add_bank_account(&mut self, client: i64, account: &BankAccount) {
        for text in [&account.number, &account.iban] {
            if let Some(key) = normalize_account(text) {
                register(&mut self.accounts, key, client);
            }
        }
    }

    fn by_symbol(&self, vs: &str) -> Result<Option<(MatchTarget, MatchedBy)>, Vec<i64>> {
        let numbers = self.client_numbers.get(vs).map_or(&[][..], Vec::as_slice);
        let assigned = self.assigned.get(vs).map_or(&[][..], Vec::as_slice);
        let subscriptions = self.subscriptions.get(vs).map_or(&[][..], Vec::as_slice);
        let mut clients: Vec<i64> = numbers
            .iter()
            .chain(assigned)
            .copied()
            .chain(subscriptions.iter().map(|&(client, _)| client))
            .collect();
        clients.sort_unstable();
        clients.dedup();
        match clients.as_slice() {
            [] => Ok(None),
            [client] => {
                let client = *client;
                Ok(Some(match subscriptions {
                    [(_, subscription)] => (
                        MatchTarget::Subscription {
                            client,
                            subscription: *subscription,
                        },
                        MatchedBy::SubscriptionVs,
                    ),
                    _ if !numbers.is_empty() => {
                        (MatchTarget::Client(client), MatchedBy::ClientNumber)
                    }
                    [] => (MatchTarget::Client(client), MatchedBy::AssignedVs),
                    // Two services of one client share the symbol: the client's money, not one
                    // service's.
                    _ => (MatchTarget::Client(client), MatchedBy::SubscriptionVs),
                }))
            }
            _ => Err(clients),
        }
    }
}

/// Matches a payment to a client or a subscription.
///
/// Rules:
/// 1. The variable symbol decides first, normalised (leading zeros stripped). All its owners
///    are looked up at once: client numbers, subscriptions' own symbols and assigned symbols.
///    - owners among **several clients** → unmatched, ambiguous (money is never guessed across
///      clients, and the account is not used to break the tie);
///    - one client: a **single subscription** with that symbol → that subscription (the most
///      specific owner); otherwise the client, `by` = client number, else assigned VS.
/// 2. The payer's bank account is consulted only when the VS is missing (none, all zeros) or
///    unknown (not a VS, or owned by nobody): it must be on exactly one client card.
pub fn match_payment(payment: &IncomingPayment, directory: &Directory) -> Match {
    let symbol = payment
        .variable_symbol
        .as_deref()
        .map_or(Symbol::Missing, normalize_variable_symbol);
    let unknown_symbol = match symbol {
        Symbol::Missing => None,
        Symbol::Invalid(text) => Some(text),
        Symbol::Valid(vs) => match directory.by_symbol(&vs) {
            Ok(Some((target, by))) => return Match::Matched { target, by },
            Ok(None) => Some(vs),
            Err(clients) => {
                return Match::Unmatched(UnmatchedReason::AmbiguousVariableSymbol {
                    symbol: vs,
                    clients,
                });
            }
        },
    };
    let account = payment.payer_account.as_deref().and_then(normalize_account);
    let unmatched = |account: Option<String>| {
        Match::Unmatched(match (unknown_symbol.clone(), account) {
            (Some(vs), _) => UnmatchedReason::UnknownVariableSymbol(vs),
            (None, Some(account)) => UnmatchedReason::UnknownAccount(account),
            (None, None) => UnmatchedReason::NoIdentifiers,
        })
    };
    let Some(account) = account else {
        return unmatched(None);
    };
    match directory.accounts.get(&account).map(Vec::as_slice) {
        Some([client]) => Match::Matched {
            target: MatchTarget::Client(*client),
            by: MatchedBy::BankAccount,
        },
        Some(clients) if clients.len() > 1 => {
            let mut clients = clients.to_vec();
            clients.sort_unstable();
            Match::Unmatched(UnmatchedReason::AmbiguousAccount { account, clients })
        }
        _ => unmatched(Some(account)),
    }
}

// ---------------------------------------------------------------------------------------------
// Allocation
// ---------------------------------------------------------------------------------------------

/// Where money went. For one operation:
/// `sum(to_invoices) + to_credit = amount placed + from_credit`.
///
/// The client's credit changes by `to_credit - from_credit`; at most one of the two is non-zero.
/// Every entry in `to_invoices` is positive.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Allocation {
    /// (invoice id, amount put on it), oldest invoice first.
    pub to_invoices: Vec<(i64, Decimal)>,
    /// New money that became credit (an overpayment).
    pub to_credit: Decimal,
    /// Credit the client already held that this operation spent on invoices.
    pub from_credit: Decimal,
}

impl Allocation {
    /// Everything put on invoices.
    pub fn allocated(&self) -> Decimal {
        self.to_invoices.iter().map(|&(_, amount)| amount).sum()
    }

    /// The client's credit after this allocation, given the credit before it.
    pub fn credit_after(&self, credit_before: Decimal) -> Decimal {
        credit_before - self.from_credit + self.to_credit
    }
}

/// Places `amount` (a new payment) on the client's open invoices, oldest first (by due date,
/// then issue date, then id). The credit the client already holds (`credit_before`) joins the
/// payment and is spent first, so a client never has credit and an unpaid invoice at once.
/// The last invoice reached may be left partially paid; what no invoice needs is credit.
/// No invoice receives more than its open amount; fully paid invoices receive nothing.
pub fn allocate(
    amount: Decimal,
    open_invoices: &[OpenInvoice],
    credit_before: Decimal,
) -> Result<Allocation, PaymentError> {
    non_negative("payment amount", amount)?;
    non_negative("credit", credit_before)?;
    let mut available = amount + credit_before;
    let mut to_invoices = Vec::new();
    for invoice in oldest_first(open_invoices) {
        if available.is_zero() {
            break;
        }
        let part = invoice.open_amount().min(available);
        if part > Decimal::ZERO {
            to_invoices.push((invoice.id, part));
            available -= part;
        }
    }
    // The unspent money is the credit after; whichever side it moved is the change.
    Ok(Allocation {
        to_invoices,
        to_credit: (available - credit_before).max(Decimal::ZERO),
        from_credit: (credit_before - available).max(Decimal::ZERO),
    })
}

/// Spends existing credit on open invoices, oldest first (run when new invoices are issued).
pub fn apply_credit(
    credit: Decimal,
    open_invoices: &[OpenInvoice],
) -> Result<Allocation, PaymentError> {
    allocate(Decimal::ZERO, open_invoices, credit)
}

/// How an unmatched payment is placed by hand (Mango gattach_payment, "Více než předpis").
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignMode {
    /// "jen do výše dluhu": settle the given invoices oldest first, the rest becomes credit
    /// (exactly [`allocate`]).
    UpToDebt,
    /// "celou platbu k jednomu předpisu": the whole payment goes on this one invoice, even
    /// beyond its open amount. The excess stays **on the invoice** (its `paid` exceeds `total`,
    /// see [`OpenInvoice::overpaid`]), as Mango keeps it on the charge; it is not credit, so
    /// [`apply_credit`] does not spend it. Existing credit is not touched.
    WholeToOneInvoice(i64),
}

/// Places an unmatched payment on a client chosen by the operator. `open_invoices` are the
/// invoices the operator selected (or all the client's open invoices).
pub fn assign(
    amount: Decimal,
    mode: AssignMode,
    open_invoices: &[OpenInvoice],
    credit_before: Decimal,
) -> Result<Allocation, PaymentError> {
    match mode {
        AssignMode::UpToDebt => allocate(amount, open_invoices, credit_before),
        AssignMode::WholeToOneInvoice(id) => {
            non_negative("payment amount", amount)?;
            non_negative("credit", credit_before)?;
            if !open_invoices.iter().any(|invoice| invoice.id == id) {
                return Err(PaymentError::UnknownInvoice(id));
            }
            let to_invoices = if amount.is_zero() {
                Vec::new()
            } else {
                vec![(id, amount)]
            };
            Ok(Allocation {
                to_invoices,
                ..Allocation::default()
            })
        }
    }
}

/// Undoing an assignment (Mango gdeattach_payment): what to take back.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reversal {
    /// (invoice id, amount to subtract from its `paid`).
    pub from_invoices: Vec<(i64, Decimal)>,
    /// The client's credit once undone.
    pub credit_after: Decimal,
    /// The payment's money that leaves the client and is unmatched again.
    pub released: Decimal,
}

/// Undoes a stored allocation: its invoice amounts are taken back, the credit it created is
/// removed and the credit it spent is given back; the payment itself becomes unmatched again.
///
/// Undo is a computed reversal rather than a silent deletion, so the caller can check and
/// record it; the caller deletes (or negates) the allocation rows accordingly. It is refused
/// when the credit it created has since been spent or refunded (`credit_now < to_credit`):
/// the later use must be undone first, or money would be taken from nowhere.
pub fn unassign(previous: &Allocation, credit_now: Decimal) -> Result<Reversal, PaymentError> {
    non_negative("credit", credit_now)?;
    if credit_now < previous.to_credit {
        return Err(PaymentError::CreditAlreadySpent {
            needed: previous.to_credit,
            available: credit_now,
        });
    }
    Ok(Reversal {
        from_invoices: previous.to_invoices.clone(),
        credit_after: credit_now - previous.to_credit + previous.from_credit,
        released: previous.allocated() + previous.to_credit - previous.from_credit,
    })
}

/// Pays `amount` of the client's credit back (Mango "vratka"). Returns the credit left.
pub fn refund(credit: Decimal, amount: Decimal) -> Result<Decimal, RefundError> {
    if amount <= Decimal::ZERO {
        return Err(RefundError::NotPositive(amount));
    }
    if amount > credit {
        return Err(RefundError::ExceedsCredit {
            credit,
            requested: amount,
        });
    }
    Ok(credit - amount)
}

// ---------------------------------------------------------------------------------------------
// Statement
// ---------------------------------------------------------------------------------------------

/// Kinds of statement lines, in the order they are listed within one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatementKind {
    OpeningBalance,
    Invoice,
    Proforma,
    DebitNote,
    CreditNote,
    Payment,
    Refund,
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
            StatementEntry::OpeningBalance { .. } => StatementKind::OpeningBalance,
            StatementEntry::Invoice { .. } => StatementKind::Invoice,
            StatementEntry::Proforma { .. } => StatementKind::Proforma,
            StatementEntry::DebitNote { .. } => StatementKind::DebitNote,
            StatementEntry::CreditNote { .. } => StatementKind::CreditNote,
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

/// The closing balance: `brought_forward` plus every entry's signed amount.
pub fn balance(brought_forward: Decimal, entries: &[StatementEntry]) -> Decimal {
    brought_forward
        + entries
            .iter()
            .map(StatementEntry::signed_amount)
            .sum::<Decimal>()
}

/// The open invoices sorted oldest first, as [`allocate`] visits them.
pub fn oldest_first(open_invoices: &[OpenInvoice]) -> Vec<&OpenInvoice> {
    let mut invoices: Vec<&OpenInvoice> = open_invoices.iter().collect();
    invoices.sort_by_key(|invoice| invoice.age_key());
    invoices
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
    }

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn invoice(id: i64, due: u32, total: &str, paid: &str) -> OpenInvoice {
        OpenInvoice {
            id,
            number: format!("2026{id:04}"),
            issue_date: day(1),
            due_date: day(due),
            total: dec(total),
            paid: dec(paid),
        }
    }

    fn payment(vs: Option<&str>, account: Option<&str>) -> IncomingPayment {
        IncomingPayment {
            id: 1,
            amount: dec("500"),
            received_on: day(10),
            variable_symbol: vs.map(str::to_owned),
            payer_account: account.map(str::to_owned),
            bank_transaction_id: None,
        }
    }

    // --- matching ----------------------------------------------------------------------------

    fn directory() -> Directory {
        let mut novak = Client {
            id: 1,
            number: "1001".into(),
            ..Client::default()
        };
        novak.invoicing.variable_symbols = vec!["777".into(), "0000888".into()];
        novak.bank_accounts.push(BankAccount {
            number: "19-2000145399/0800".into(),
            ..BankAccount::default()
        });
        let mut svoboda = Client {
            id: 2,
            number: "1002".into(),
            ..Client::default()
        };
        svoboda.bank_accounts.push(BankAccount {
            iban: "cz65 0800 0000 0012 3456 7890".into(),
            ..BankAccount::default()
        });
        let lettered = Client {
            id: 3,
            number: "A-17".into(),
            ..Client::default()
        };
        let mut directory = Directory::new();
        for client in [&novak, &svoboda, &lettered] {
            directory.add_client(client);
        }
        directory.add_subscription_vs(2, 20, "5550001");
        // Shared by two clients: ambiguous.
        directory.add_assigned_vs(1, "4242");
        directory.add_assigned_vs(2, "4242");
        // A family account on two cards.
        directory.add_bank_account(
            1,
            &BankAccount {
                number: "555/0100".into(),
                ..BankAccount::default()
            },
        );
        directory.add_bank_account(
            2,
            &BankAccount {
                number: "000000-0000000555/0100".into(),
                ..BankAccount::default()
            },
        );
        directory
    }

    fn matched(target: MatchTarget, by: MatchedBy) -> Match {
        Match::Matched { target, by }
    }

    #[test]
    fn variable_symbols_are_normalised() {
        assert_eq!(
            normalize_variable_symbol("0000001001"),
            Symbol::Valid("1001".into())
        );
        assert_eq!(
            normalize_variable_symbol(" 10 01 "),
            Symbol::Valid("1001".into())
        );
        assert_eq!(normalize_variable_symbol("0000000000"), Symbol::Missing);
        assert_eq!(normalize_variable_symbol(""), Symbol::Missing);
        assert_eq!(
            normalize_variable_symbol("12A"),
            Symbol::Invalid("12A".into())
        );
        assert_eq!(
            normalize_variable_symbol("12345678901"),
            Symbol::Invalid("12345678901".into())
        );
        assert_eq!(
            normalize_variable_symbol("00001234567890"),
            Symbol::Valid("1234567890".into())
        );
    }

    #[test]
    fn accounts_are_normalised() {
        for (text, want) in [
            ("19-2000145399/0800", "19-2000145399/0800"),
            ("000019-2000145399/0800", "19-2000145399/0800"),
            ("0000123456/0800", "123456/0800"),
            ("CZ65 0800 0000 1920 0014 5399", "19-2000145399/0800"),
            ("cz6508000000192000145399", "19-2000145399/0800"),
            ("123/0800", "123/0800"),
            ("0-123/0800", "123/0800"),
            ("de89 3704 0044 0532 0130 00", "DE89370400440532013000"),
            ("12 3", "123"),
        ] {
            assert_eq!(normalize_account(text).as_deref(), Some(want), "{text}");
        }
        assert_eq!(normalize_account("  "), None);
    }

    #[test]
    fn matching_rules() {
        let d = directory();
        let cases = [
            // VS = client number, bank padding stripped.
            (
                payment(Some("0000001001"), None),
                matched(MatchTarget::Client(1), MatchedBy::ClientNumber),
            ),
            // Assigned VS, itself stored with zeros.
            (
                payment(Some("888"), None),
                matched(MatchTarget::Client(1), MatchedBy::AssignedVs),
            ),
            (
                payment(Some("777"), Some("1/0100")),
                matched(MatchTarget::Client(1), MatchedBy::AssignedVs),
            ),
            // A service's own VS sends the money to the service.
            (
                payment(Some("5550001"), None),
                matched(
                    MatchTarget::Subscription {
                        client: 2,
                        subscription: 20,
                    },
                    MatchedBy::SubscriptionVs,
                ),
            ),
            // VS wins over the account, even when the account is another client's.
            (
                payment(Some("1002"), Some("19-2000145399/0800")),
                matched(MatchTarget::Client(2), MatchedBy::ClientNumber),
            ),
            // Missing VS: the account decides; IBAN on the card, domestic on the statement.
            (
                payment(None, Some("123 4567890/0800")),
                matched(MatchTarget::Client(2), MatchedBy::BankAccount),
            ),
            (
                payment(Some("0000000000"), Some("CZ65 0800 0000 1920 0014 5399")),
                matched(MatchTarget::Client(1), MatchedBy::BankAccount),
            ),
            // Unknown VS: the account still helps.
            (
                payment(Some("999"), Some("19-2000145399/0800")),
                matched(MatchTarget::Client(1), MatchedBy::BankAccount),
            ),
            // Letters in the VS: treated as unknown, the account helps.
            (
                payment(Some("INV1001"), Some("19-2000145399/0800")),
                matched(MatchTarget::Client(1), MatchedBy::BankAccount),
            ),
            (
                payment(Some("999"), None),
                Match::Unmatched(UnmatchedReason::UnknownVariableSymbol("999".into())),
            ),
            (
                payment(Some("0999"), Some("1/0100")),
                Match::Unmatched(UnmatchedReason::UnknownVariableSymbol("999".into())),
            ),
            (
                payment(None, Some("1/0100")),
                Match::Unmatched(UnmatchedReason::UnknownAccount("1/0100".into())),
            ),
            (
                payment(None, None),
                Match::Unmatched(UnmatchedReason::NoIdentifiers),
            ),
            (
                payment(Some(""), Some(" ")),
                Match::Unmatched(UnmatchedReason::NoIdentifiers),
            ),
            // A lettered client number is no VS.
            (
                payment(Some("A-17"), None),
                Match::Unmatched(UnmatchedReason::UnknownVariableSymbol("A-17".into())),
            ),
            // Ambiguity is never resolved by guessing, not even by the account.
            (
                payment(Some("4242"), Some("19-2000145399/0800")),
                Match::Unmatched(UnmatchedReason::AmbiguousVariableSymbol {
                    symbol: "4242".into(),
                    clients: vec![1, 2],
                }),
            ),
            (
                payment(None, Some("555/0100")),
                Match::Unmatched(UnmatchedReason::AmbiguousAccount {
                    account: "555/0100".into(),
                    clients: vec![1, 2],
                }),
            ),
        ];
        for (payment, want) in cases {
            assert_eq!(match_payment(&payment, &d), want, "{payment:?}");
        }
    }

    #[test]
    fn symbol_owned_twice_by_one_client() {
        let mut d = Directory::new();
        d.add_client_number(1, "1001");
        d.add_subscription_vs(1, 10, "1001");
        // The service is the more specific owner.
        assert_eq!(
            match_payment(&payment(Some("1001"), None), &d),
            matched(
                MatchTarget::Subscription {
                    client: 1,
                    subscription: 10
                },
                MatchedBy::SubscriptionVs
            )
        );
        // Two services of the same client with one symbol: the client's money.
        d.add_subscription_vs(1, 11, "1001");
        assert_eq!(
            match_payment(&payment(Some("1001"), None), &d),
            matched(MatchTarget::Client(1), MatchedBy::ClientNumber)
        );
        let mut d = Directory::new();
        d.add_subscription_vs(1, 10, "9");
        d.add_subscription_vs(1, 11, "9");
        d.add_assigned_vs(1, "9");
        assert_eq!(
            match_payment(&payment(Some("9"), None), &d),
            matched(MatchTarget::Client(1), MatchedBy::SubscriptionVs)
        );
        // Client number of one, service of another: ambiguous.
        d.add_client_number(2, "0009");
        assert_eq!(
            match_payment(&payment(Some("9"), None), &d),
            Match::Unmatched(UnmatchedReason::AmbiguousVariableSymbol {
                symbol: "9".into(),
                clients: vec![1, 2]
            })
        );
    }

    #[test]
    fn directory_from_records() {
        let client = Client {
            id: 7,
            number: "2007".into(),
            ..Client::default()
        };
        let subscription = Subscription {
            id: 70,
            client_id: 7,
            tariff_id: 1,
            activation_date: day(1),
            billing_from: day(1),
            price_override: None,
            period: None,
            commitment_until: None,
            variable_symbol: "207001".into(),
            note: String::new(),
            state: crate::subscription::SubscriptionState::Active,
            alignment: crate::subscription::PeriodAlignment::BillingDay,
            end_date: None,
            version: 0,
        };
        let d = Directory::from_records([&client], [&subscription]);
        assert_eq!(
            match_payment(&payment(Some("2007"), None), &d),
            matched(MatchTarget::Client(7), MatchedBy::ClientNumber)
        );
        assert_eq!(
            match_payment(&payment(Some("207001"), None), &d).clone(),
            matched(
                MatchTarget::Subscription {
                    client: 7,
                    subscription: 70
                },
                MatchedBy::SubscriptionVs
            )
        );
        assert_eq!(
            MatchTarget::Subscription {
                client: 7,
                subscription: 70
            }
            .client(),
            7
        );
    }

    #[test]
    fn payment_validation() {
        let mut p = payment(None, None);
        assert_eq!(p.validate(), Ok(()));
        p.amount = Decimal::ZERO;
        assert_eq!(p.validate().unwrap_err().field, "payment.amount");
        p.amount = dec("-1");
        assert!(p.validate().is_err());
        p.amount = dec("1.005");
        assert!(p.validate().is_err());
    }

    // --- allocation --------------------------------------------------------------------------

    #[test]
    fn oldest_unpaid_first_then_credit() {
        let invoices = [
            invoice(3, 20, "300", "0"),
            invoice(1, 10, "100", "0"),
            invoice(2, 15, "200", "50"),
            invoice(4, 5, "80", "80"), // fully paid: nothing
        ];
        let a = allocate(dec("500"), &invoices, Decimal::ZERO).unwrap();
        assert_eq!(
            a,
            Allocation {
                to_invoices: vec![(1, dec("100")), (2, dec("150")), (3, dec("250"))],
                to_credit: Decimal::ZERO,
                from_credit: Decimal::ZERO,
            }
        );
        // Overpayment becomes credit.
        let a = allocate(dec("600"), &invoices, Decimal::ZERO).unwrap();
        assert_eq!(a.allocated(), dec("550"));
        assert_eq!(a.to_credit, dec("50"));
        assert_eq!(a.credit_after(Decimal::ZERO), dec("50"));
        // Partial payment leaves the oldest partially paid.
        let a = allocate(dec("40"), &invoices, Decimal::ZERO).unwrap();
        assert_eq!(a.to_invoices, vec![(1, dec("40"))]);
        // No invoices: all credit.
        let a = allocate(dec("40"), &[], dec("10")).unwrap();
        assert_eq!(
            (a.to_credit, a.credit_after(dec("10"))),
            (dec("40"), dec("50"))
        );
    }

    #[test]
    fn equal_due_dates_order_by_issue_date_then_id() {
        let mut older = invoice(9, 10, "100", "0");
        older.issue_date = NaiveDate::from_ymd_opt(2026, 2, 1).unwrap();
        let invoices = [
            invoice(5, 10, "100", "0"),
            invoice(4, 10, "100", "0"),
            older,
        ];
        let a = allocate(dec("250"), &invoices, Decimal::ZERO).unwrap();
        assert_eq!(
            a.to_invoices,
            vec![(9, dec("100")), (4, dec("100")), (5, dec("50"))]
        );
    }

    #[test]
    fn credit_joins_the_payment() {
        let invoices = [invoice(1, 10, "500", "0")];
        // 100 credit + 400 payment settle the 500 invoice.
        let a = allocate(dec("400"), &invoices, dec("100")).unwrap();
        assert_eq!(a.to_invoices, vec![(1, dec("500"))]);
        assert_eq!((a.to_credit, a.from_credit), (Decimal::ZERO, dec("100")));
        assert_eq!(a.credit_after(dec("100")), Decimal::ZERO);
        // Credit on a new invoice.
        let a = apply_credit(dec("120"), &[invoice(2, 20, "100", "0")]).unwrap();
        assert_eq!(a.to_invoices, vec![(2, dec("100"))]);
        assert_eq!(a.credit_after(dec("120")), dec("20"));
        let a = apply_credit(Decimal::ZERO, &[invoice(2, 20, "100", "0")]).unwrap();
        assert_eq!(a, Allocation::default());
    }

    #[test]
    fn negative_inputs_are_refused() {
        assert!(matches!(
            allocate(dec("-1"), &[], Decimal::ZERO),
            Err(PaymentError::Negative { .. })
        ));
        assert!(apply_credit(dec("-1"), &[]).is_err());
        assert!(
            assign(
                dec("-1"),
                AssignMode::WholeToOneInvoice(1),
                &[],
                Decimal::ZERO
            )
            .is_err()
        );
        assert!(unassign(&Allocation::default(), dec("-1")).is_err());
    }

    #[test]
    fn manual_assignment_modes() {
        let invoices = [invoice(1, 10, "100", "0"), invoice(2, 20, "200", "0")];
        let up_to_debt = assign(dec("350"), AssignMode::UpToDebt, &invoices, Decimal::ZERO);
        assert_eq!(
            up_to_debt.unwrap(),
            Allocation {
                to_invoices: vec![(1, dec("100")), (2, dec("200"))],
                to_credit: dec("50"),
                from_credit: Decimal::ZERO,
            }
        );
        // The whole payment on the newer invoice, overpaying it by 150; credit untouched.
        let whole = assign(
            dec("350"),
            AssignMode::WholeToOneInvoice(2),
            &invoices,
            dec("30"),
        )
        .unwrap();
        assert_eq!(whole.to_invoices, vec![(2, dec("350"))]);
        assert_eq!(whole.credit_after(dec("30")), dec("30"));
        let mut after = invoices[1].clone();
        after.paid += dec("350");
        assert_eq!(
            (after.open_amount(), after.overpaid()),
            (Decimal::ZERO, dec("150"))
        );
        assert_eq!(
            assign(
                dec("1"),
                AssignMode::WholeToOneInvoice(99),
                &invoices,
                Decimal::ZERO
            ),
            Err(PaymentError::UnknownInvoice(99))
        );
    }

    #[test]
    fn undo_gives_back_what_was_placed() {
        let invoices = [invoice(1, 10, "100", "0")];
        let a = allocate(dec("150"), &invoices, Decimal::ZERO).unwrap();
        assert_eq!(
            unassign(&a, dec("50")).unwrap(),
            Reversal {
                from_invoices: vec![(1, dec("100"))],
                credit_after: Decimal::ZERO,
                released: dec("150"),
            }
        );
        // The 50 credit was refunded meanwhile: undo the refund first.
        assert_eq!(
            unassign(&a, dec("20")),
            Err(PaymentError::CreditAlreadySpent {
                needed: dec("50"),
                available: dec("20")
            })
        );
        // Undoing a payment that spent old credit gives the credit back.
        let b = allocate(dec("60"), &invoices, dec("40")).unwrap();
        let r = unassign(&b, Decimal::ZERO).unwrap();
        assert_eq!((r.credit_after, r.released), (dec("40"), dec("60")));
    }

    #[test]
    fn refunds_never_exceed_credit() {
        assert_eq!(refund(dec("100"), dec("30")), Ok(dec("70")));
        assert_eq!(refund(dec("100"), dec("100")), Ok(Decimal::ZERO));
        assert_eq!(
            refund(dec("100"), dec("100.01")),
            Err(RefundError::ExceedsCredit {
                credit: dec("100"),
                requested: dec("100.01")
            })
        );
        assert_eq!(
            refund(dec("100"), Decimal::ZERO),
            Err(RefundError::NotPositive(Decimal::ZERO))
        );
        assert!(refund(dec("100"), dec("-5")).is_err());
    }

    // --- statement ---------------------------------------------------------------------------

    #[test]
    fn statement_in_date_then_kind_order() {
        let entries = [
            StatementEntry::Refund {
                date: day(5),
                amount: dec("20"),
            },
            StatementEntry::Payment {
                date: day(5),
                reference: "VS 1001".into(),
                amount: dec("400"),
            },
            StatementEntry::Invoice {
                date: day(5),
                number: "20260002".into(),
                total: dec("300"),
            },
            StatementEntry::CreditNote {
                date: day(5),
                number: "D1".into(),
                total: dec("50"),
            },
            StatementEntry::Invoice {
                date: day(1),
                number: "20260001".into(),
                total: dec("300"),
            },
            StatementEntry::OpeningBalance {
                date: day(1),
                amount: dec("-100"),
            },
            StatementEntry::Payment {
                date: day(7),
                reference: String::new(),
                amount: dec("300"),
            },
        ];
        let rows = statement(Decimal::ZERO, &entries);
        let got: Vec<(u32, StatementKind, &str, Decimal, Decimal)> = rows
            .iter()
            .map(|r| {
                use chrono::Datelike;
                (
                    r.date.day(),
                    r.kind,
                    r.description.as_str(),
                    r.amount,
                    r.running_balance,
                )
            })
            .collect();
        use StatementKind::*;
        assert_eq!(
            got,
            vec![
                (
                    1,
                    OpeningBalance,
                    "Opening balance",
                    dec("-100"),
                    dec("-100")
                ),
                (1, Invoice, "Invoice 20260001", dec("-300"), dec("-400")),
                (5, Invoice, "Invoice 20260002", dec("-300"), dec("-700")),
                (5, CreditNote, "Credit note D1", dec("50"), dec("-650")),
                (5, Payment, "Payment VS 1001", dec("400"), dec("-250")),
                (5, Refund, "Refund", dec("-20"), dec("-270")),
                (7, Payment, "Payment", dec("300"), dec("30")),
            ]
        );
        assert_eq!(balance(Decimal::ZERO, &entries), dec("30"));
        // Brought forward from the previous statement.
        let rows = statement(dec("10"), &entries[..1]);
        assert_eq!(rows[0].running_balance, dec("-10"));
        assert!(statement(Decimal::ZERO, &[]).is_empty());
    }

    #[test]
    fn statement_keeps_input_order_for_equal_entries() {
        let entries: Vec<StatementEntry> = (1..=3)
            .map(|n| StatementEntry::Payment {
                date: day(2),
                reference: n.to_string(),
                amount: dec("1"),
            })
            .collect();
        let rows = statement(Decimal::ZERO, &entries);
        let refs: Vec<&str> = rows.iter().map(|r| r.description.as_str()).collect();
        assert_eq!(refs, ["Payment 1", "Payment 2", "Payment 3"]);
    }

    // --- properties --------------------------------------------------------------------------

    fn cents(minor: i64) -> Decimal {
        Decimal::new(minor, 2)
    }

    #[derive(Debug, Clone)]
    enum Op {
        Invoice { total: i64, due: u32 },
        Pay { amount: i64 },
        ApplyCredit,
        Refund { amount: i64 },
        AssignUpToDebt { amount: i64 },
        AssignWhole { pick: usize, amount: i64 },
        Undo { pick: usize },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (1i64..50_000, 1u32..28).prop_map(|(total, due)| Op::Invoice { total, due }),
            (1i64..80_000).prop_map(|amount| Op::Pay { amount }),
            Just(Op::ApplyCredit),
            (1i64..30_000).prop_map(|amount| Op::Refund { amount }),
            (1i64..80_000).prop_map(|amount| Op::AssignUpToDebt { amount }),
            (any::<usize>(), 1i64..80_000)
                .prop_map(|(pick, amount)| Op::AssignWhole { pick, amount }),
            any::<usize>().prop_map(|pick| Op::Undo { pick }),
        ]
    }

    #[derive(Default)]
    struct Ledger {
        invoices: Vec<OpenInvoice>,
        credit: Decimal,
        paid_in: Decimal,
        refunded: Decimal,
        placed: Vec<Allocation>,
    }

    impl Ledger {
        /// Checks the allocation's own rules, then stores it.
        fn record(&mut self, a: Allocation, amount: Decimal, capped: bool) {
            let before = self.invoices.clone();
            assert!(a.to_credit >= Decimal::ZERO && a.from_credit >= Decimal::ZERO);
            assert!(a.to_credit.is_zero() || a.from_credit.is_zero());
            assert_eq!(a.allocated() + a.to_credit, amount + a.from_credit);
            for &(id, part) in &a.to_invoices {
                assert!(part > Decimal::ZERO, "allocation {part} is not positive");
                let invoice = self.invoices.iter_mut().find(|i| i.id == id).unwrap();
                if capped {
                    assert!(part <= invoice.open_amount(), "{part} exceeds {invoice:?}");
                }
                invoice.paid += part;
            }
            if capped {
                // Oldest first: an invoice is reached only when every older one is settled,
                // and money left over means every invoice is settled.
                let order = oldest_first(&before);
                let reached: Vec<i64> = a.to_invoices.iter().map(|&(id, _)| id).collect();
                let expected: Vec<i64> = order
                    .iter()
                    .filter(|i| i.open_amount() > Decimal::ZERO)
                    .take(reached.len())
                    .map(|i| i.id)
                    .collect();
                assert_eq!(reached, expected);
                if let Some((_, rest)) = reached.split_last() {
                    for id in rest {
                        let invoice = self.invoices.iter().find(|i| i.id == *id).unwrap();
                        assert!(invoice.open_amount().is_zero(), "skipped past {invoice:?}");
                    }
                }
                let settled_all = self.invoices.iter().all(|i| i.open_amount().is_zero());
                if a.credit_after(self.credit) > Decimal::ZERO {
                    assert!(settled_all, "credit left while an invoice is open");
                }
            }
            self.credit = a.credit_after(self.credit);
            self.paid_in += amount;
            self.placed.push(a);
        }

        fn conserved(&self) {
            let on_invoices: Decimal = self.invoices.iter().map(|i| i.paid).sum();
            assert!(self.credit >= Decimal::ZERO);
            assert_eq!(on_invoices + self.credit + self.refunded, self.paid_in);
            assert!(self.invoices.iter().all(|i| i.paid >= Decimal::ZERO));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn money_is_conserved(ops in proptest::collection::vec(op(), 1..40)) {
            let mut ledger = Ledger::default();
            for op in ops {
                match op {
                    Op::Invoice { total, due } => {
                        let id = ledger.invoices.len() as i64 + 1;
                        ledger.invoices.push(OpenInvoice {
                            id,
                            number: id.to_string(),
                            issue_date: day(1),
                            due_date: day(due),
                            total: cents(total),
                            paid: Decimal::ZERO,
                        });
                    }
                    Op::Pay { amount } | Op::AssignUpToDebt { amount } => {
                        let amount = cents(amount);
                        let a = if matches!(op, Op::Pay { .. }) {
                            allocate(amount, &ledger.invoices, ledger.credit)
                        } else {
                            assign(amount, AssignMode::UpToDebt, &ledger.invoices, ledger.credit)
                        };
                        ledger.record(a.unwrap(), amount, true);
                    }
                    Op::ApplyCredit => {
                        let a = apply_credit(ledger.credit, &ledger.invoices).unwrap();
                        ledger.record(a, Decimal::ZERO, true);
                    }
                    Op::AssignWhole { pick, amount } => {
                        let amount = cents(amount);
                        let Some(id) = (!ledger.invoices.is_empty())
                            .then(|| ledger.invoices[pick % ledger.invoices.len()].id)
                        else {
                            continue;
                        };
                        let a = assign(
                            amount,
                            AssignMode::WholeToOneInvoice(id),
                            &ledger.invoices,
                            ledger.credit,
                        )
                        .unwrap();
                        prop_assert_eq!(&a.to_invoices, &vec![(id, amount)]);
                        ledger.record(a, amount, false);
                    }
                    Op::Refund { amount } => {
                        let amount = cents(amount);
                        match refund(ledger.credit, amount) {
                            Ok(left) => {
                                prop_assert_eq!(left, ledger.credit - amount);
                                ledger.credit = left;
                                ledger.refunded += amount;
                            }
                            Err(_) => prop_assert!(amount > ledger.credit),
                        }
                    }
                    Op::Undo { pick } => {
                        if ledger.placed.is_empty() {
                            continue;
                        }
                        let index = pick % ledger.placed.len();
                        match unassign(&ledger.placed[index], ledger.credit) {
                            Ok(r) => {
                                let a = ledger.placed.remove(index);
                                prop_assert_eq!(&r.from_invoices, &a.to_invoices);
                                for (id, part) in r.from_invoices {
                                    let invoice =
                                        ledger.invoices.iter_mut().find(|i| i.id == id).unwrap();
                                    invoice.paid -= part;
                                }
                                ledger.credit = r.credit_after;
                                ledger.paid_in -= r.released;
                            }
                            Err(PaymentError::CreditAlreadySpent { needed, available }) => {
                                prop_assert!(needed > available);
                            }
                            Err(e) => prop_assert!(false, "unexpected {e}"),
                        }
                    }
                }
                ledger.conserved();
            }
        }

        #[test]
        fn statement_ends_at_the_balance(
            entries in proptest::collection::vec((0u8..5, 1u32..28, 0i64..100_000), 0..30),
            forward in -100_000i64..100_000,
        ) {
            let entries: Vec<StatementEntry> = entries
                .into_iter()
                .map(|(kind, d, minor)| {
                    let (date, amount) = (day(d), cents(minor));
                    match kind {
                        0 => StatementEntry::OpeningBalance { date, amount: -amount },
                        1 => StatementEntry::Invoice { date, number: "F".into(), total: amount },
                        2 => StatementEntry::CreditNote { date, number: "D".into(), total: amount },
                        3 => StatementEntry::Payment { date, reference: String::new(), amount },
                        _ => StatementEntry::Refund { date, amount },
                    }
                })
                .collect();
            let rows = statement(cents(forward), &entries);
            prop_assert_eq!(rows.len(), entries.len());
            let closing = rows.last().map_or(cents(forward), |r| r.running_balance);
            prop_assert_eq!(closing, balance(cents(forward), &entries));
            for pair in rows.windows(2) {
                prop_assert!((pair[0].date, pair[0].kind) <= (pair[1].date, pair[1].kind));
                prop_assert_eq!(pair[1].running_balance, pair[0].running_balance + pair[1].amount);
            }
        }
    }
}

//! Matching: whose money an incoming bank payment is, decided by its variable symbol and,
//! failing that, the payer's account. Money is never guessed across clients: an ambiguous
//! symbol or account leaves the payment for a person to assign.

use std::collections::HashMap;

use super::IncomingPayment;
use crate::client::{BankAccount, Client};
use crate::subscription::Subscription;

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

/// [prefix-]number/bank with a 1-6 digit prefix, 1-10 digit number and 4 digit bank code; or
/// the 16 digits of prefix and number run together, as GPC and many exports write them
/// ("0000192000145399/0800").
fn czech_domestic(compact: &str) -> Option<String> {
    let (account, bank) = compact.split_once('/')?;
    if bank.len() != 4 || !all_digits(bank) {
        return None;
    }
    let (prefix, number) = match account.split_once('-') {
        Some(parts) => parts,
        None if account.len() == 16 && all_digits(account) => account.split_at(6),
        None => ("", account),
    };
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

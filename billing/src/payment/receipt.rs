//! What a batch of received payments does to the books, decided in one place: which repeat a
//! payment already recorded, whose each one is, and how each pays its client's open documents
//! or becomes credit — in the order the bank lists them, so two payments of one client see
//! each other. Storage loads what this reads and writes what it returns; the use case
//! (`app::payments` in the daemon) runs both in one transaction.
//!
//! Two steps, because the accounts to read depend on the first: [`identify`] says whose each
//! payment is, then [`settle`] places the money on the accounts of those clients.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::{
    Directory, IncomingPayment, Match, MatchTarget, MatchedBy, OpenInvoice, PaymentError,
    allocate_preferring, match_payment,
};
use crate::invoice::{InvoiceState, state_for};
use crate::{FieldError, money};

/// A payment as it arrives: a bank statement's line, or one typed in for a named client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrival {
    pub payment: IncomingPayment,
    /// ISO 4217, as the bank or the operator states it.
    pub currency: String,
    /// The client the operator named (its id): taken as given, never matched.
    pub named_client: Option<i64>,
    /// The client's service the operator named (cash for a service): its documents first.
    pub named_service: Option<i64>,
}

/// How a payment's client was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoundBy {
    /// The operator named the client.
    Named,
    Matched(MatchedBy),
}

impl FoundBy {
    /// As the payment record keeps it.
    pub fn as_str(self) -> &'static str {
        match self {
            FoundBy::Named => "manual",
            FoundBy::Matched(MatchedBy::ClientNumber) => "client_number",
            FoundBy::Matched(MatchedBy::AssignedVs) => "assigned_vs",
            FoundBy::Matched(MatchedBy::SubscriptionVs) => "subscription_vs",
            FoundBy::Matched(MatchedBy::BankAccount) => "bank_account",
        }
    }
}

/// Whose a payment is, before its currency is checked against the client's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whose {
    /// Its bank transaction is recorded already, or came earlier in the same batch.
    Duplicate,
    Client {
        id: i64,
        by: FoundBy,
        /// The subscription whose own variable symbol the payment carried: its documents
        /// are paid first.
        service: Option<i64>,
    },
    /// Nobody's that matching could tell: it waits for a person.
    Unknown,
}

impl Whose {
    pub fn client(self) -> Option<i64> {
        match self {
            Whose::Client { id, .. } => Some(id),
            Whose::Duplicate | Whose::Unknown => None,
        }
    }
}

/// The clients the payments are for, each once: the accounts [`settle`] reads.
pub fn clients(whose: &[Whose]) -> Vec<i64> {
    let mut seen = HashSet::new();
    whose
        .iter()
        .filter_map(|w| w.client())
        .filter(|c| seen.insert(*c))
        .collect()
}

/// The clients a payment carrying a service's own symbol is for, each once: only their
/// accounts need [`Account::services`].
pub fn service_clients(whose: &[Whose]) -> Vec<i64> {
    let mut seen = HashSet::new();
    whose
        .iter()
        .filter_map(|w| match *w {
            Whose::Client {
                id,
                service: Some(_),
                ..
            } => Some(id),
            _ => None,
        })
        .filter(|c| seen.insert(*c))
        .collect()
}

/// A matched client's account as the batch finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The currency the client is invoiced in (its credit's too).
    pub currency: String,
    /// Its open documents in that currency: the only ones its payments may pay.
    pub open: Vec<OpenInvoice>,
    /// Which of them are pro-formas: one a payment completes is followed by its tax invoice.
    pub proformas: HashSet<i64>,
    /// Which of them bill each subscription (by a line of it), for a payment that names one.
    pub services: HashMap<i64, HashSet<i64>>,
    pub credit: Decimal,
}

/// One payment to record, in arrival order (a duplicate is not recorded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// Its place among the arrivals.
    pub arrival: usize,
    pub client: Option<i64>,
    pub found_by: Option<FoundBy>,
    /// Why a payment matched to a client is recorded without one.
    pub unmatched_reason: Option<String>,
    pub to_invoices: Vec<(i64, Decimal)>,
    pub to_credit: Decimal,
    pub from_credit: Decimal,
}

impl Receipt {
    /// What this payment itself paid on documents (credit it drew on is not its money).
    pub fn allocated(&self) -> Decimal {
        self.to_invoices
            .iter()
            .map(|(_, part)| *part)
            .sum::<Decimal>()
            - self.from_credit
    }
}

/// A document a payment touched, as it stands after the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentPaid {
    pub id: i64,
    pub paid: Decimal,
    pub state: InvoiceState,
}

impl DocumentPaid {
    /// Each of `open` that `parts` (invoice id, amount put on it) paid, as it stands after.
    pub fn after(open: &[OpenInvoice], parts: &[(i64, Decimal)]) -> Vec<DocumentPaid> {
        parts
            .iter()
            .filter_map(|&(id, part)| {
                let invoice = open.iter().find(|i| i.id == id)?;
                let paid = invoice.paid + part;
                Some(DocumentPaid {
                    id,
                    paid,
                    state: state_for(invoice.total, paid, false),
                })
            })
            .collect()
    }
}

/// Everything the batch changes in the books.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipts {
    /// Per arrival: whether it repeats a payment recorded before.
    pub duplicate: Vec<bool>,
    pub receipts: Vec<Receipt>,
    pub documents: Vec<DocumentPaid>,
    /// Each client whose credit changed, with its credit now.
    pub credits: Vec<(i64, Decimal)>,
    /// Each client a payment of which completed a pro-forma, with that payment's day (the
    /// tax invoice's date).
    pub completed_proformas: BTreeMap<i64, NaiveDate>,
}

/// Why a batch is refused as a whole (nothing of it is recorded).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error(transparent)]
    Payment(#[from] PaymentError),
}

/// Amounts and currencies every payment must have before anything is matched.
pub fn check(arrivals: &[Arrival]) -> Result<(), FieldError> {
    for a in arrivals {
        crate::money::to_minor_units("payment.amount", a.payment.amount)?;
        if a.payment.amount <= Decimal::ZERO {
            return Err(FieldError::new("payment.amount", "must be positive"));
        }
        if !money::is_currency(&a.currency) {
            return Err(FieldError::new(
                "payment.currency",
                format!("an ISO 4217 code such as \"CZK\", not {:?}", a.currency),
            ));
        }
    }
    Ok(())
}

/// The bank transaction ids recorded already, each with the statement accounts it was
/// recorded on, as [`identify`] asks them.
///
/// A bank numbers movements per account (or per bank), so two of the ISP's accounts may use
/// one id for two payments: a movement repeats a recorded one only when its id was recorded on
/// the same account, or where either account is not known (a CSV export mapped without its
/// account, a payment recorded before the account was kept), where the id alone decides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordedIds(HashMap<String, Vec<Option<String>>>);

impl RecordedIds {
    /// `id` recorded on `account`.
    pub fn insert(&mut self, id: String, account: Option<String>) {
        self.0.entry(id).or_default().push(account);
    }

    /// Whether a movement with bank id `id` on `account` repeats one recorded.
    pub fn repeats(&self, id: &str, account: Option<&str>) -> bool {
        self.0.get(id).is_some_and(|accounts| {
            accounts
                .iter()
                .any(|recorded| match (recorded.as_deref(), account) {
                    (Some(recorded), Some(account)) => same_account(recorded, account),
                    _ => true,
                })
        })
    }
}

/// Whether two of the ISP's own accounts, as statements name them (normalised), are one: a
/// GPC header names a Czech account without its bank code, a camt.053 statement by its IBAN
/// (with it) — one account whichever way it was exported (found probing from outside: a
/// movement imported from both was recorded twice). The ISP's own accounts differ in their
/// numbers, not only their banks.
fn same_account(a: &str, b: &str) -> bool {
    fn number(account: &str) -> &str {
        match account.split_once('/') {
            Some((number, bank)) if bank.len() == 4 && bank.bytes().all(|c| c.is_ascii_digit()) => {
                number
            }
            _ => account,
        }
    }
    a == b || number(a) == number(b)
}

/// Whose each arrival is: one whose bank transaction repeats one in `recorded` (or one earlier
/// in the batch) is a duplicate; a named client is taken as given; the rest is matched by
/// variable symbol or account ([`match_payment`]).
pub fn identify(arrivals: &[Arrival], recorded: &RecordedIds, directory: &Directory) -> Vec<Whose> {
    let mut seen = RecordedIds::default();
    arrivals
        .iter()
        .map(|a| {
            if let Some(id) = &a.payment.bank_transaction_id {
                let account = a.payment.statement_account.as_deref();
                if recorded.repeats(id, account) || seen.repeats(id, account) {
                    return Whose::Duplicate;
                }
                seen.insert(id.clone(), account.map(str::to_owned));
            }
            match a.named_client {
                Some(id) => Whose::Client {
                    id,
                    by: FoundBy::Named,
                    service: a.named_service,
                },
                None => match match_payment(&a.payment, directory) {
                    Match::Matched { target, by } => Whose::Client {
                        id: target.client(),
                        by: FoundBy::Matched(by),
                        service: match target {
                            MatchTarget::Subscription { subscription, .. } => Some(subscription),
                            MatchTarget::Client(_) => None,
                        },
                    },
                    Match::Unmatched(_) => Whose::Unknown,
                },
            }
        })
        .collect()
}

/// Whether `arrival`, placed on `account`, leaves its credit within what ispd keeps
/// ([`money::to_minor_units`]). Tried on a copy only when the whole amount on top of the
/// credit would not fit: almost never.
fn fits_credit(
    receipt: &Receipt,
    arrival: &Arrival,
    service: Option<i64>,
    account: &Account,
) -> Result<bool, ReceiptError> {
    let fits = |credit: Decimal| money::to_minor_units("credit", credit).is_ok();
    if fits(account.credit + arrival.payment.amount) {
        return Ok(true);
    }
    let (mut trial, mut on) = (receipt.clone(), account.clone());
    place(&mut trial, arrival.payment.amount, service, &mut on)?;
    Ok(fits(on.credit))
}

/// Places each payment on its client's account in arrival order: a payment in another
/// currency than its client's is recorded unmatched with the reason (one the operator named
/// the client of is refused), the rest pay the client's open documents oldest first
/// ([`allocate`]) with any excess as credit. `numbers` names clients in the reasons.
pub fn settle(
    arrivals: &[Arrival],
    whose: &[Whose],
    mut accounts: HashMap<i64, Account>,
    numbers: &HashMap<i64, String>,
) -> Result<Receipts, ReceiptError> {
    let credit_before: HashMap<i64, Decimal> =
        accounts.iter().map(|(id, a)| (*id, a.credit)).collect();
    let mut receipts = Vec::with_capacity(arrivals.len());
    let mut completed_proformas = BTreeMap::new();
    let mut touched = HashSet::new();
    for (i, (arrival, whose)) in arrivals.iter().zip(whose).enumerate() {
        let (client, found_by, service) = match *whose {
            Whose::Duplicate => continue,
            Whose::Client { id, by, service } => (Some(id), Some(by), service),
            Whose::Unknown => (None, None, None),
        };
        let mut receipt = Receipt {
            arrival: i,
            client,
            found_by,
            unmatched_reason: None,
            to_invoices: Vec::new(),
            to_credit: Decimal::ZERO,
            from_credit: Decimal::ZERO,
        };
        if let Some((id, account)) = client.and_then(|c| accounts.get_mut(&c).map(|a| (c, a))) {
            let number = numbers.get(&id).map_or("", String::as_str);
            if account.currency == arrival.currency
                && !fits_credit(&receipt, arrival, service, account)?
            {
                if found_by == Some(FoundBy::Named) {
                    return Err(FieldError::new(
                        "amount",
                        format!("client {number}'s credit would pass {}", money::MAX_AMOUNT),
                    )
                    .into());
                }
                receipt.unmatched_reason = Some(format!(
                    "matched client {number} by {}, but its credit would pass {}",
                    found_by.map_or("", FoundBy::as_str),
                    money::MAX_AMOUNT
                ));
                receipt.client = None;
                receipt.found_by = None;
            } else if account.currency == arrival.currency {
                place(&mut receipt, arrival.payment.amount, service, account)?;
                touched.extend(receipt.to_invoices.iter().map(|(invoice, _)| *invoice));
                if receipt
                    .to_invoices
                    .iter()
                    .any(|(invoice, _)| account.proformas.contains(invoice))
                {
                    completed_proformas.insert(id, arrival.payment.received_on);
                }
            } else {
                if found_by == Some(FoundBy::Named) {
                    return Err(FieldError::new(
                        "currency",
                        format!(
                            "client {number} is invoiced in {}, not {}",
                            account.currency, arrival.currency
                        ),
                    )
                    .into());
                }
                receipt.unmatched_reason = Some(format!(
                    "in {}; matched client {number} by {} but it is invoiced in {}",
                    arrival.currency,
                    found_by.map_or("", FoundBy::as_str),
                    account.currency
                ));
                receipt.client = None;
                receipt.found_by = None;
            }
        }
        receipts.push(receipt);
    }
    Ok(Receipts {
        duplicate: whose.iter().map(|w| *w == Whose::Duplicate).collect(),
        documents: documents_paid(&accounts, &receipts, &touched),
        credits: changed_credits(&accounts, &credit_before, &receipts),
        receipts,
        completed_proformas,
    })
}

/// The core's allocation of one payment, applied to the account so the next payment of the
/// client sees it.
fn place(
    receipt: &mut Receipt,
    amount: Decimal,
    service: Option<i64>,
    account: &mut Account,
) -> Result<(), PaymentError> {
    let none = HashSet::new();
    let first = service
        .and_then(|s| account.services.get(&s))
        .unwrap_or(&none);
    let allocation = allocate_preferring(amount, &account.open, account.credit, first)?;
    for &(id, part) in &allocation.to_invoices {
        if let Some(invoice) = account.open.iter_mut().find(|i| i.id == id) {
            invoice.paid += part;
        }
    }
    account.credit = allocation.credit_after(account.credit);
    receipt.to_credit = allocation.to_credit;
    receipt.from_credit = allocation.from_credit;
    receipt.to_invoices = allocation.to_invoices;
    Ok(())
}

/// The touched documents with what is paid on them now and the state that gives, client by
/// client in the order the receipts name them.
fn documents_paid(
    accounts: &HashMap<i64, Account>,
    receipts: &[Receipt],
    touched: &HashSet<i64>,
) -> Vec<DocumentPaid> {
    clients_in_order(receipts)
        .filter_map(|c| accounts.get(&c))
        .flat_map(|account| account.open.iter().filter(|i| touched.contains(&i.id)))
        .map(|invoice| DocumentPaid {
            id: invoice.id,
            paid: invoice.paid,
            state: state_for(invoice.total, invoice.paid, false),
        })
        .collect()
}

fn changed_credits(
    accounts: &HashMap<i64, Account>,
    before: &HashMap<i64, Decimal>,
    receipts: &[Receipt],
) -> Vec<(i64, Decimal)> {
    clients_in_order(receipts)
        .filter_map(|c| accounts.get(&c).map(|a| (c, a.credit)))
        .filter(|(c, credit)| before.get(c) != Some(credit))
        .collect()
}

/// Each client with a receipt once, in the order of their first.
fn clients_in_order(receipts: &[Receipt]) -> impl Iterator<Item = i64> + '_ {
    let mut seen = HashSet::new();
    receipts
        .iter()
        .filter_map(|r| r.client)
        .filter(move |c| seen.insert(*c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
    }

    /// A bank line with variable symbol `vs`.
    fn line(bank_id: &str, amount: &str, vs: &str) -> Arrival {
        Arrival {
            payment: IncomingPayment {
                id: 0,
                amount: dec(amount),
                received_on: day(10),
                variable_symbol: Some(vs.into()),
                payer_account: None,
                bank_transaction_id: Some(bank_id.into()),
                statement_account: None,
            },
            currency: "CZK".into(),
            named_client: None,
            named_service: None,
        }
    }

    fn invoice(id: i64, total: &str) -> OpenInvoice {
        OpenInvoice {
            id,
            number: format!("2026{id:05}"),
            issue_date: day(1),
            due_date: day(15),
            total: dec(total),
            paid: Decimal::ZERO,
        }
    }

    /// Client 1 is number 1001 and owes invoice 11 (100.00) and pro-forma 12 (50.00).
    fn books() -> (Directory, HashMap<i64, Account>, HashMap<i64, String>) {
        let mut directory = Directory::new();
        directory.add_client_number(1, "1001");
        directory.add_client_number(2, "1002");
        let accounts = HashMap::from([(
            1,
            Account {
                currency: "CZK".into(),
                open: vec![invoice(11, "100.00"), invoice(12, "50.00")],
                proformas: HashSet::from([12]),
                services: HashMap::from([(5, HashSet::from([12]))]),
                credit: Decimal::ZERO,
            },
        )]);
        let numbers = HashMap::from([(1, "1001".to_owned()), (2, "1002".to_owned())]);
        (directory, accounts, numbers)
    }

    #[test]
    fn whose_each_payment_is() {
        let (directory, ..) = books();
        let mut named = line("N1", "5.00", "1002");
        named.named_client = Some(1);
        named.payment.bank_transaction_id = None;
        let arrivals = [
            line("OLD", "1.00", "1001"),
            line("T1", "1.00", "1001"),
            line("T1", "1.00", "1001"),
            line("T2", "1.00", "7777"),
            named,
        ];
        let mut recorded = RecordedIds::default();
        recorded.insert("OLD".to_owned(), None);
        let by_number = Whose::Client {
            id: 1,
            by: FoundBy::Matched(MatchedBy::ClientNumber),
            service: None,
        };
        assert_eq!(
            identify(&arrivals, &recorded, &directory),
            [
                Whose::Duplicate,
                by_number,
                Whose::Duplicate,
                Whose::Unknown,
                Whose::Client {
                    id: 1,
                    by: FoundBy::Named,
                    service: None,
                },
            ],
            "recorded before, first, repeated in the batch, nobody's, named (not matched)"
        );
        let whose = identify(&arrivals, &recorded, &directory);
        assert_eq!(clients(&whose), [1], "each client once");
        assert!(
            service_clients(&whose).is_empty(),
            "no service's symbol among them"
        );
    }

    /// A bank's id is unique on its account: it repeats a recorded one on the same account,
    /// or where either account is not known; never one of another account.
    #[test]
    fn a_bank_id_repeats_only_on_its_own_account() {
        let (directory, ..) = books();
        let mut recorded = RecordedIds::default();
        recorded.insert("ON-A".to_owned(), Some("A".to_owned()));
        recorded.insert("UNKNOWN".to_owned(), None);
        recorded.insert("GPC".to_owned(), Some("19-2000145399".to_owned()));
        for (id, account, repeat, case) in [
            ("ON-A", Some("A"), true, "the same id on the same account"),
            ("ON-A", Some("B"), false, "the same id on another account"),
            (
                "ON-A",
                None,
                true,
                "the same id, the new one's account not known",
            ),
            (
                "UNKNOWN",
                Some("B"),
                true,
                "the same id, the recorded one's account not known",
            ),
            ("NEW", Some("A"), false, "an id never recorded"),
            // A GPC header names the account without its bank, camt.053 by its IBAN.
            (
                "GPC",
                Some("19-2000145399/0800"),
                true,
                "the same account named with its bank code",
            ),
            (
                "GPC",
                Some("29-2000145399/0800"),
                false,
                "another account at that bank",
            ),
        ] {
            let mut arrival = line(id, "1.00", "1001");
            arrival.payment.statement_account = account.map(str::to_owned);
            let whose = identify(std::slice::from_ref(&arrival), &recorded, &directory);
            assert_eq!(whose[0] == Whose::Duplicate, repeat, "{case}");
        }
        // In one batch likewise: two accounts' statements read together.
        let mut on_b = line("T1", "1.00", "1001");
        on_b.payment.statement_account = Some("B".to_owned());
        let mut on_a = on_b.clone();
        on_a.payment.statement_account = Some("A".to_owned());
        let whose = identify(
            &[on_a.clone(), on_b, on_a],
            &RecordedIds::default(),
            &directory,
        );
        let duplicates: Vec<bool> = whose.iter().map(|w| *w == Whose::Duplicate).collect();
        assert_eq!(duplicates, [false, false, true]);
    }

    /// A payment whose excess would take its client's credit past what ispd keeps refused the
    /// whole statement, naming neither client nor entry (found by probing from outside): it
    /// is recorded unmatched with the reason, as one in another currency is, and the other
    /// payments are placed; one the operator typed in for the client is refused by its field.
    /// What first pays open documents still fits.
    #[test]
    fn a_payment_past_the_credit_limit_is_recorded_unmatched() {
        let (directory, mut accounts, numbers) = books();
        accounts.get_mut(&1).unwrap().credit = dec("9999999900.00");
        let arrivals = [
            line("T1", "150.00", "1001"),
            line("T2", "100.00", "1001"),
            line("T3", "99.99", "1001"),
        ];
        let whose = identify(&arrivals, &RecordedIds::default(), &directory);
        let done = settle(&arrivals, &whose, accounts.clone(), &numbers).unwrap();
        let placed: Vec<(Option<i64>, Option<&str>)> = done
            .receipts
            .iter()
            .map(|r| (r.client, r.unmatched_reason.as_deref()))
            .collect();
        assert_eq!(placed[0], (Some(1), None), "pays the open documents");
        assert_eq!(placed[1].0, None);
        assert!(
            placed[1]
                .1
                .is_some_and(|r| r.contains("client 1001") && r.contains("9999999999.99")),
            "{placed:?}"
        );
        assert_eq!(placed[2], (Some(1), None), "still fits");
        assert_eq!(done.credits, [(1, dec("9999999999.99"))]);

        let mut named = line("N1", "100.00", "1001");
        named.named_client = Some(1);
        let whose = identify(
            std::slice::from_ref(&named),
            &RecordedIds::default(),
            &directory,
        );
        let mut full = accounts;
        full.get_mut(&1).unwrap().open.clear();
        let err = settle(&[named], &whose, full, &numbers).unwrap_err();
        assert!(err.to_string().starts_with("amount: "), "{err}");
    }

    #[test]
    fn payments_of_one_client_see_each_other_in_arrival_order() {
        let (directory, accounts, numbers) = books();
        let arrivals = [line("T1", "120.00", "1001"), line("T2", "40.00", "1001")];
        let whose = identify(&arrivals, &RecordedIds::default(), &directory);
        let done = settle(&arrivals, &whose, accounts, &numbers).unwrap();
        let placed: Vec<_> = done
            .receipts
            .iter()
            .map(|r| (r.to_invoices.clone(), r.to_credit, r.allocated()))
            .collect();
        assert_eq!(
            placed,
            [
                (
                    vec![(11, dec("100.00")), (12, dec("20.00"))],
                    dec("0"),
                    dec("120.00")
                ),
                (vec![(12, dec("30.00"))], dec("10.00"), dec("30.00")),
            ]
        );
        assert_eq!(
            done.documents,
            [
                DocumentPaid {
                    id: 11,
                    paid: dec("100.00"),
                    state: InvoiceState::Paid
                },
                DocumentPaid {
                    id: 12,
                    paid: dec("50.00"),
                    state: InvoiceState::Paid
                },
            ]
        );
        assert_eq!(done.credits, [(1, dec("10.00"))]);
        assert_eq!(
            done.completed_proformas,
            BTreeMap::from([(1, day(10))]),
            "the pro-forma's tax invoice follows, dated by the payment"
        );
        assert_eq!(done.duplicate, [false, false]);
    }

    #[test]
    fn a_services_own_symbol_pays_its_documents_first() {
        let (mut directory, accounts, numbers) = books();
        directory.add_subscription_vs(1, 5, "5005");
        let arrivals = [line("T1", "30.00", "5005")];
        let whose = identify(&arrivals, &RecordedIds::default(), &directory);
        assert_eq!(
            whose,
            [Whose::Client {
                id: 1,
                by: FoundBy::Matched(MatchedBy::SubscriptionVs),
                service: Some(5),
            }]
        );
        assert_eq!(
            (clients(&whose), service_clients(&whose)),
            (vec![1], vec![1])
        );
        let done = settle(&arrivals, &whose, accounts, &numbers).unwrap();
        assert_eq!(
            done.receipts[0].to_invoices,
            [(12, dec("30.00"))],
            "the service's pro-forma first, though invoice 11 is as old"
        );
    }

    #[test]
    fn a_partial_payment_leaves_the_document_partly_paid_and_no_pro_forma_completed() {
        let (directory, accounts, numbers) = books();
        let arrivals = [line("T1", "30.00", "1001")];
        let whose = identify(&arrivals, &RecordedIds::default(), &directory);
        let done = settle(&arrivals, &whose, accounts, &numbers).unwrap();
        assert_eq!(
            done.documents,
            [DocumentPaid {
                id: 11,
                paid: dec("30.00"),
                state: InvoiceState::PartiallyPaid
            }]
        );
        assert!(done.credits.is_empty(), "credit did not change");
        assert!(done.completed_proformas.is_empty());
    }

    #[test]
    fn money_in_another_currency_is_never_taken_for_the_client() {
        let (directory, accounts, numbers) = books();
        let euros = Arrival {
            currency: "EUR".into(),
            ..line("T1", "20.00", "1001")
        };
        let whose = identify(
            std::slice::from_ref(&euros),
            &RecordedIds::default(),
            &directory,
        );
        let done = settle(
            std::slice::from_ref(&euros),
            &whose,
            accounts.clone(),
            &numbers,
        )
        .unwrap();
        let r = &done.receipts[0];
        assert_eq!(
            (r.client, r.found_by, r.allocated()),
            (None, None, dec("0"))
        );
        assert_eq!(
            r.unmatched_reason.as_deref(),
            Some("in EUR; matched client 1001 by client_number but it is invoiced in CZK")
        );
        assert!(done.documents.is_empty() && done.credits.is_empty());
        // Typed in for that client: refused, naming the field.
        let named = Arrival {
            named_client: Some(1),
            named_service: None,
            ..euros
        };
        let whose = identify(
            std::slice::from_ref(&named),
            &RecordedIds::default(),
            &directory,
        );
        match settle(&[named], &whose, accounts, &numbers) {
            Err(ReceiptError::Field(e)) => {
                assert_eq!(
                    e.to_string(),
                    "currency: client 1001 is invoiced in CZK, not EUR"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn amounts_and_currencies_are_checked_first() {
        let cases = [
            ("-1.00", "CZK", Some("payment.amount")),
            ("0", "CZK", Some("payment.amount")),
            ("1.005", "CZK", Some("payment.amount")),
            ("1.00", "czk", Some("payment.currency")),
            ("1.00", "CZKK", Some("payment.currency")),
            ("1.00", "CZK", None),
        ];
        for (amount, currency, refused) in cases {
            let arrival = Arrival {
                currency: currency.into(),
                ..line("T", amount, "1001")
            };
            let got = check(&[arrival]).err().map(|e| e.field);
            assert_eq!(got.as_deref(), refused, "{amount} {currency}");
        }
    }
}

//! A payment assigned by hand to a client (Mango "Párovat platbu"): the guards — a payment is
//! assigned once, and money is never taken for another currency — then where the money goes
//! (`assign`: the client's debt oldest first, or one document first), and the
//! documents and credit as they stand after it; and the same taken back (`unassign_by_hand`).
//! Storage loads what these read and writes what they return; the use cases
//! (`app::payments::assign`, `unassign`) run both in one transaction.

use rust_decimal::Decimal;

use super::receipt::{Account, DocumentPaid};
use super::{Allocation, AssignMode, OpenInvoice, PaymentError, assign, unassign};

/// The payment as it waits among the unmatched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub id: i64,
    pub amount: Decimal,
    pub currency: String,
    /// Already on a client: it must be unassigned first.
    pub assigned: bool,
}

/// The document the operator chose to pay first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen<'a> {
    pub id: i64,
    pub number: &'a str,
    pub currency: &'a str,
}

/// What becomes of what a payment brings beyond the client's debt (no document chosen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rest {
    /// It becomes the client's credit (ISPadmin, net47).
    #[default]
    Credit,
    /// Mango's "only up to the debt": it stays unpaired, a payment of its own waiting among
    /// the unmatched for the operator to pair or refund.
    Unpaired,
}

/// What the assignment does to the books.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assigned {
    pub allocation: Allocation,
    /// Each document it paid, as it stands after.
    pub documents: Vec<DocumentPaid>,
    /// The client's credit after.
    pub credit: Decimal,
    /// What was left unpaired ([`Rest::Unpaired`]); zero otherwise.
    pub unpaired: Decimal,
}

impl Assigned {
    /// What the payment itself put on documents (credit it drew on is not its money).
    pub fn allocated(&self) -> Decimal {
        self.allocation.allocated() - self.allocation.from_credit
    }
}

/// A payment as it stands on its client: where its money went, the client's credit now, and
/// each document it paid as that document stands now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    pub allocation: Allocation,
    pub credit: Decimal,
    pub documents: Vec<OpenInvoice>,
    /// The rest it left unpaired (id, amount), still waiting among the unmatched.
    pub waiting_rest: Option<(i64, Decimal)>,
}

/// What taking a payment back does to the books.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unassigned {
    /// Each document the payment had paid, as it stands after.
    pub documents: Vec<DocumentPaid>,
    /// The client's credit after.
    pub credit: Decimal,
    /// The unpaired rest (id, amount) the payment takes back: one payment again, as the
    /// bank sent it. A rest paired meanwhile stays where it went.
    pub rejoined: Option<(i64, Decimal)>,
}

/// Why an assignment (or taking one back) is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssignError {
    #[error("payment {0} is already assigned; unassign it first")]
    AlreadyAssigned(i64),
    #[error("payment {0} is not assigned")]
    NotAssigned(i64),
    #[error("client {0} owes nothing: a payment paired only up to the debt would pair nothing")]
    NothingOwed(String),
    #[error("payment {payment} is in {currency}; client {client} is invoiced in {client_currency}")]
    ClientCurrency {
        payment: i64,
        currency: String,
        client: String,
        client_currency: String,
    },
    #[error("payment {payment} is in {currency}; invoice {invoice} is in {invoice_currency}")]
    InvoiceCurrency {
        payment: i64,
        currency: String,
        invoice: String,
        invoice_currency: String,
    },
    #[error(
        "invoice {0} asks nothing (paid, or cancelled): assign the payment without an invoice, \
         or name an open one"
    )]
    NothingAsked(String),
    #[error(transparent)]
    Payment(#[from] PaymentError),
}

/// Assigns `payment` to the client whose `account` it is (`client` names it in refusals):
/// with a `chosen` document, that one first, then the client's other debt oldest first and
/// credit ([`AssignMode::InvoiceFirst`]); otherwise the debt oldest first, and what is left
/// as `rest` says.
pub fn assign_by_hand(
    payment: &Waiting,
    (client, account): (&str, &Account),
    chosen: Option<Chosen<'_>>,
    rest: Rest,
) -> Result<Assigned, AssignError> {
    if payment.assigned {
        return Err(AssignError::AlreadyAssigned(payment.id));
    }
    if payment.currency != account.currency {
        return Err(AssignError::ClientCurrency {
            payment: payment.id,
            currency: payment.currency.clone(),
            client: client.to_owned(),
            client_currency: account.currency.clone(),
        });
    }
    let mode = match chosen {
        Some(doc) if doc.currency != payment.currency => {
            return Err(AssignError::InvoiceCurrency {
                payment: payment.id,
                currency: payment.currency.clone(),
                invoice: doc.number.to_owned(),
                invoice_currency: doc.currency.to_owned(),
            });
        }
        // Found probing from outside: a cancelled invoice was refused as "invoice 401 is
        // not among the client's invoices", naming its row, not its number.
        Some(doc) if !account.open.iter().any(|i| i.id == doc.id) => {
            return Err(AssignError::NothingAsked(doc.number.to_owned()));
        }
        Some(doc) => AssignMode::InvoiceFirst(doc.id),
        None => AssignMode::UpToDebt,
    };
    let paired = match (mode, rest) {
        (AssignMode::UpToDebt, Rest::Unpaired) => {
            let debt: Decimal = account.open.iter().map(OpenInvoice::open_amount).sum();
            if debt <= Decimal::ZERO {
                return Err(AssignError::NothingOwed(client.to_owned()));
            }
            payment.amount.min(debt)
        }
        _ => payment.amount,
    };
    let allocation = assign(paired, mode, &account.open, account.credit)?;
    let documents = DocumentPaid::after(&account.open, &allocation.to_invoices);
    Ok(Assigned {
        credit: allocation.credit_after(account.credit),
        documents,
        allocation,
        unpaired: payment.amount - paired,
    })
}

/// Takes a payment back from its client (`placed`; one on no client is refused as
/// [`AssignError::NotAssigned`] by whoever finds it there): its documents get their amounts
/// back, the credit it made goes and the credit it spent returns. Refused when the credit it
/// made — or that a credit note made of what it paid — has been spent since (undo that
/// first).
pub fn unassign_by_hand(placed: &Placed) -> Result<Unassigned, AssignError> {
    let paid_now = |id: i64| {
        placed
            .documents
            .iter()
            .find(|d| d.id == id)
            .map_or(Decimal::ZERO, |d| d.paid)
    };
    let reversal = unassign(&placed.allocation, paid_now, placed.credit)?;
    let taken_back: Vec<(i64, Decimal)> = reversal
        .from_invoices
        .iter()
        .map(|&(id, part)| (id, -part))
        .collect();
    Ok(Unassigned {
        documents: DocumentPaid::after(&placed.documents, &taken_back),
        credit: reversal.credit_after,
        rejoined: placed.waiting_rest,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use chrono::NaiveDate;

    use super::*;
    use crate::invoice::InvoiceState;
    use crate::payment::OpenInvoice;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn account(credit: &str) -> Account {
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let invoice = |id: i64, total: &str| OpenInvoice {
            id,
            number: format!("2026{id:05}"),
            issue_date: day,
            due_date: day,
            total: dec(total),
            paid: Decimal::ZERO,
        };
        Account {
            currency: "CZK".into(),
            open: vec![invoice(1, "100.00"), invoice(2, "499.00")],
            proformas: HashSet::new(),
            services: HashMap::new(),
            credit: dec(credit),
        }
    }

    fn waiting(amount: &str) -> Waiting {
        Waiting {
            id: 7,
            amount: dec(amount),
            currency: "CZK".into(),
            assigned: false,
        }
    }

    #[test]
    fn up_to_the_debt_oldest_first_the_rest_as_credit() {
        let done = assign_by_hand(
            &waiting("650.00"),
            ("3001", &account("0")),
            None,
            Rest::Credit,
        )
        .unwrap();
        assert_eq!(
            done.documents,
            [
                DocumentPaid {
                    id: 1,
                    paid: dec("100.00"),
                    state: InvoiceState::Paid
                },
                DocumentPaid {
                    id: 2,
                    paid: dec("499.00"),
                    state: InvoiceState::Paid
                },
            ]
        );
        assert_eq!(
            (done.allocated(), done.credit),
            (dec("599.00"), dec("51.00"))
        );
    }

    #[test]
    fn the_chosen_document_first_then_the_debt_then_credit() {
        let chosen = Chosen {
            id: 2,
            number: "202600002",
            currency: "CZK",
        };
        let done = assign_by_hand(
            &waiting("600.00"),
            ("3001", &account("10")),
            Some(chosen),
            Rest::Credit,
        )
        .unwrap();
        assert_eq!(
            done.documents,
            [
                DocumentPaid {
                    id: 2,
                    paid: dec("499.00"),
                    state: InvoiceState::Paid
                },
                DocumentPaid {
                    id: 1,
                    paid: dec("100.00"),
                    state: InvoiceState::Paid
                }
            ]
        );
        assert_eq!(
            done.credit,
            dec("11.00"),
            "no document is paid beyond what it asks: the rest is credit"
        );
    }

    #[test]
    fn a_document_that_asks_nothing_cannot_be_chosen() {
        let cancelled = Chosen {
            id: 99,
            number: "202600394",
            currency: "CZK",
        };
        let refused = assign_by_hand(
            &waiting("100.00"),
            ("3001", &account("0")),
            Some(cancelled),
            Rest::Credit,
        )
        .unwrap_err();
        assert_eq!(refused, AssignError::NothingAsked("202600394".into()));
        assert!(refused.to_string().contains("202600394"), "{refused}");
    }

    #[test]
    fn the_guards() {
        let assigned = Waiting {
            assigned: true,
            ..waiting("1")
        };
        let euros = Waiting {
            currency: "EUR".into(),
            ..waiting("1")
        };
        let in_euros = Chosen {
            id: 2,
            number: "E1",
            currency: "EUR",
        };
        let cases: [(Waiting, Option<Chosen<'_>>, &str); 3] = [
            (
                assigned,
                None,
                "payment 7 is already assigned; unassign it first",
            ),
            (
                euros,
                None,
                "payment 7 is in EUR; client 3001 is invoiced in CZK",
            ),
            (
                waiting("1"),
                Some(in_euros),
                "payment 7 is in CZK; invoice E1 is in EUR",
            ),
        ];
        for (payment, chosen, refusal) in cases {
            let e = assign_by_hand(&payment, ("3001", &account("0")), chosen, Rest::Credit)
                .unwrap_err();
            assert_eq!(e.to_string(), refusal);
        }
    }

    /// The account as `assign_by_hand` left it, with `spent` of the credit used since.
    fn placed(done: &Assigned, spent: &str) -> Placed {
        let mut documents = account("0").open;
        for doc in &mut documents {
            if let Some(after) = done.documents.iter().find(|d| d.id == doc.id) {
                doc.paid = after.paid;
            }
        }
        Placed {
            allocation: done.allocation.clone(),
            credit: done.credit - dec(spent),
            documents,
            waiting_rest: None,
        }
    }

    #[test]
    fn taking_a_payment_back() {
        let state = |id, paid: &str, state| DocumentPaid {
            id,
            paid: dec(paid),
            state,
        };
        let spread = assign_by_hand(
            &waiting("650.00"),
            ("3001", &account("20")),
            None,
            Rest::Credit,
        )
        .unwrap();
        let cases: [(Placed, Result<Unassigned, &str>); 3] = [
            (
                placed(&spread, "0"),
                Ok(Unassigned {
                    documents: vec![
                        state(1, "0.00", InvoiceState::Unpaid),
                        state(2, "0.00", InvoiceState::Unpaid),
                    ],
                    credit: dec("20"),
                    rejoined: None,
                }),
            ),
            (
                placed(&spread, "51.00"),
                Err(
                    "taking the payment back needs 51.00 of the client's credit (what it left \
                     as credit, or what a credit note made of what it paid) but only 20.00 \
                     remains: the rest was spent on later documents or refunded; cancel those \
                     or the refund first",
                ),
            ),
            (
                Placed {
                    allocation: Allocation {
                        to_invoices: vec![(2, dec("200.00"))],
                        to_credit: Decimal::ZERO,
                        from_credit: dec("50.00"),
                    },
                    credit: dec("5"),
                    documents: vec![OpenInvoice {
                        paid: dec("299.00"),
                        ..account("0").open[1].clone()
                    }],
                    waiting_rest: Some((9, dec("100.00"))),
                },
                Ok(Unassigned {
                    documents: vec![state(2, "99.00", InvoiceState::PartiallyPaid)],
                    credit: dec("55.00"),
                    rejoined: Some((9, dec("100.00"))),
                }),
            ),
        ];
        for (placed, expected) in cases {
            let got = unassign_by_hand(&placed).map_err(|e| e.to_string());
            assert_eq!(got, expected.map_err(str::to_owned));
        }
    }

    #[test]
    fn only_up_to_the_debt_leaves_the_rest_unpaired() {
        let only = |amount: &str, credit: &str| {
            assign_by_hand(
                &waiting(amount),
                ("3001", &account(credit)),
                None,
                Rest::Unpaired,
            )
        };
        let done = only("650.00", "0").unwrap();
        assert_eq!(
            (done.allocated(), done.unpaired, done.credit),
            (dec("599.00"), dec("51.00"), dec("0")),
            "the debt is paid, nothing becomes credit"
        );
        let short = only("300.00", "0").unwrap();
        assert_eq!(
            (short.allocated(), short.unpaired),
            (dec("300.00"), dec("0"))
        );
        let mut paid_up = account("0");
        paid_up.open.clear();
        let refused = assign_by_hand(&waiting("10"), ("3001", &paid_up), None, Rest::Unpaired);
        assert_eq!(
            refused.unwrap_err().to_string(),
            "client 3001 owes nothing: a payment paired only up to the debt would pair nothing"
        );
    }
}

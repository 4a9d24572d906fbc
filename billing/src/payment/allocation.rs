//! Allocation: placing a client's money on open invoices (oldest first), into credit, back out
//! as a refund, and undoing it. Each function only moves money, so the conservation equation of
//! the module notes of `payment` holds after every call.

use std::collections::HashSet;

use rust_decimal::Decimal;

use super::{OpenInvoice, PaymentError, RefundError, non_negative, oldest_first};

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
    allocate_preferring(amount, open_invoices, credit_before, &HashSet::new())
}

/// [`allocate`], but the invoices in `first` are paid before the others (each group oldest
/// first): a payment carrying a service's own variable symbol pays that service's documents
/// first (Mango), then the client's other debt, then becomes credit.
pub fn allocate_preferring(
    amount: Decimal,
    open_invoices: &[OpenInvoice],
    credit_before: Decimal,
    first: &HashSet<i64>,
) -> Result<Allocation, PaymentError> {
    non_negative("payment amount", amount)?;
    non_negative("credit", credit_before)?;
    let mut available = amount + credit_before;
    let mut to_invoices = Vec::new();
    let oldest = oldest_first(open_invoices);
    let (preferred, rest): (Vec<&OpenInvoice>, Vec<&OpenInvoice>) =
        oldest.into_iter().partition(|i| first.contains(&i.id));
    for invoice in preferred.into_iter().chain(rest) {
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
    /// "celou platbu k jednomu předpisu": the whole payment is paired, this invoice first.
    /// What the invoice does not ask is the client's overpayment, which ispd holds as credit
    /// — refundable, and settling the client's other debt oldest first at once, so a client
    /// never holds credit and an unpaid invoice together (Mango keeps it on the charge; an
    /// invoice paid beyond its total made refunds, `--owing` and "up to the debt" disagree
    /// with the balance).
    InvoiceFirst(i64),
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
        AssignMode::InvoiceFirst(id) => {
            if !open_invoices.iter().any(|invoice| invoice.id == id) {
                return Err(PaymentError::UnknownInvoice(id));
            }
            allocate_preferring(amount, open_invoices, credit_before, &HashSet::from([id]))
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

/// Undoes a stored allocation: what it put on each document is taken back as far as it
/// still lies there (`paid_now`), the credit it created is removed and the credit it spent is
/// given back; the payment itself becomes unmatched again. What a credit note moved off a
/// document since (a cancellation, a correction) became credit: it is taken back from there.
///
/// Undo is a computed reversal rather than a silent deletion, so the caller can check and
/// record it; the caller deletes (or negates) the allocation rows accordingly. It is refused
/// when the credit to take back has since been spent or refunded: the later use must be
/// undone first, or money would be taken from nowhere — and a document would be left paid
/// below zero.
pub fn unassign(
    previous: &Allocation,
    paid_now: impl Fn(i64) -> Decimal,
    credit_now: Decimal,
) -> Result<Reversal, PaymentError> {
    non_negative("credit", credit_now)?;
    let from_invoices: Vec<(i64, Decimal)> = previous
        .to_invoices
        .iter()
        .map(|&(id, part)| (id, part.min(paid_now(id).max(Decimal::ZERO))))
        .filter(|(_, part)| *part > Decimal::ZERO)
        .collect();
    let taken: Decimal = from_invoices.iter().map(|&(_, part)| part).sum();
    let from_credit_now = previous.to_credit + previous.allocated() - taken;
    if credit_now < from_credit_now {
        return Err(PaymentError::CreditAlreadySpent {
            needed: from_credit_now,
            available: credit_now,
        });
    }
    Ok(Reversal {
        from_invoices,
        credit_after: credit_now - from_credit_now + previous.from_credit,
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

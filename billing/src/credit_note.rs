//! Credit notes: cancelling an invoice, or correcting the periods it charged when a service
//! ended early or was paused with billing suspended after the invoice was issued.
//!
//! A correction never edits an issued document. It is a credit note that reverses the lines
//! still in force for a period (the original lines, negated) and charges the period again as it
//! should have been (the recharge lines), so original + reversal + recharge = the corrected
//! charge, to the cent, line by line.
//!
//! What a credit note does to the invoice it corrects ([`apply`]): the credited amount lowers
//! what the invoice asks for; if the client had already paid more than the invoice now asks, the
//! difference goes back to the client's credit (to settle the next invoices or be refunded).

use rust_decimal::Decimal;

use crate::invoice::{InvoiceState, Line, state_for};
use crate::schedule::Charge;

/// The line that cancels `line`: quantity and amounts negated, the unit price kept as printed
/// on the original, so `line` + its reversal is exactly zero.
pub fn reversal(line: &Line) -> Line {
    Line {
        description: line.description.clone(),
        quantity: -line.quantity,
        unit_price: line.unit_price,
        net: -line.net,
        vat: -line.vat,
        gross: -line.gross,
        vat_rate: line.vat_rate,
    }
}

/// Whether an invoiced period must be corrected: the share of the period now due (`recharge`,
/// `None` when the service had ended before the period) is below the share still invoiced.
/// Only the client's favour is corrected: a share that grew (a pause shortened afterwards)
/// is not charged again, the operator issues a one-off charge if wanted.
pub fn needs_correction(invoiced_fraction: Decimal, recharge: Option<&Charge>) -> bool {
    recharge.map_or(Decimal::ZERO, |c| c.fraction) < invoiced_fraction
}

/// An invoice's amounts, as far as a credit note is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settled {
    pub gross: Decimal,
    pub paid: Decimal,
    /// Credited by earlier credit notes.
    pub credited: Decimal,
}

/// The invoice after a credit note, and the money it returns to the client's credit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CreditNoteEffect {
    pub credited: Decimal,
    pub paid: Decimal,
    pub to_credit: Decimal,
    pub state: InvoiceState,
}

/// A credit note would take an invoice below zero.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("credit of {amount} exceeds the {remaining} the invoice still charges")]
pub struct ExceedsInvoice {
    pub amount: Decimal,
    pub remaining: Decimal,
}

/// Applies a credit note of `amount` (positive: how much it credits) to the invoice it
/// corrects. The invoice then asks for `gross - credited`; paid money above that moves to the
/// client's credit. Fully credited = cancelled.
pub fn apply(invoice: Settled, amount: Decimal) -> Result<CreditNoteEffect, ExceedsInvoice> {
    let remaining = invoice.gross - invoice.credited;
    if amount > remaining || amount.is_sign_negative() {
        return Err(ExceedsInvoice { amount, remaining });
    }
    let credited = invoice.credited + amount;
    let asks = invoice.gross - credited;
    let to_credit = (invoice.paid - asks).max(Decimal::ZERO);
    let paid = invoice.paid - to_credit;
    let state = if asks.is_zero() && !invoice.gross.is_zero() {
        InvoiceState::Cancelled
    } else {
        state_for(asks, paid, false)
    };
    Ok(CreditNoteEffect {
        credited,
        paid,
        to_credit,
        state,
    })
}

/// An invoice's state from its stored amounts (credit notes included).
pub fn state_of(invoice: Settled) -> InvoiceState {
    let asks = invoice.gross - invoice.credited;
    if asks.is_zero() && !invoice.credited.is_zero() {
        InvoiceState::Cancelled
    } else {
        state_for(asks, invoice.paid, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invoice::{LineInput, PriceBasis, compute_line};
    use proptest::prelude::*;

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn settled(gross: &str, paid: &str, credited: &str) -> Settled {
        Settled {
            gross: dec(gross),
            paid: dec(paid),
            credited: dec(credited),
        }
    }

    #[test]
    fn credit_note_effects() {
        use InvoiceState::*;
        // (gross, paid, credited before, credit note) -> (credited, paid, to credit, state)
        let cases = [
            // Cancelling an unpaid invoice: nothing is owed, nothing returned.
            (
                ("499.00", "0", "0"),
                "499.00",
                ("499.00", "0", "0", Cancelled),
            ),
            // Cancelling a paid invoice: the payment becomes credit.
            (
                ("499.00", "499.00", "0"),
                "499.00",
                ("499.00", "0", "499.00", Cancelled),
            ),
            // Half credited, unpaid: half still owed.
            (("500.00", "0", "0"), "250.00", ("250.00", "0", "0", Unpaid)),
            // Half credited, fully paid: the overpaid half goes to credit, invoice paid.
            (
                ("500.00", "500.00", "0"),
                "250.00",
                ("250.00", "250.00", "250.00", Paid),
            ),
            // Partly paid below what is still asked: stays partly paid, nothing returned.
            (
                ("500.00", "100.00", "0"),
                "250.00",
                ("250.00", "100.00", "0", PartiallyPaid),
            ),
            // Partly paid above what is still asked: paid, the excess returned.
            (
                ("500.00", "300.00", "0"),
                "250.00",
                ("250.00", "250.00", "50.00", Paid),
            ),
            // A second credit note finishing the cancellation.
            (
                ("500.00", "0", "250.00"),
                "250.00",
                ("500.00", "0", "0", Cancelled),
            ),
        ];
        for ((gross, paid, credited), amount, (c, p, t, state)) in cases {
            let effect = apply(settled(gross, paid, credited), dec(amount)).unwrap();
            assert_eq!(
                effect,
                CreditNoteEffect {
                    credited: dec(c),
                    paid: dec(p),
                    to_credit: dec(t),
                    state
                },
                "{gross} paid {paid} credited {credited} + credit note {amount}"
            );
        }
    }

    #[test]
    fn credit_beyond_the_invoice_is_refused() {
        assert_eq!(
            apply(settled("500.00", "0", "300.00"), dec("200.01")),
            Err(ExceedsInvoice {
                amount: dec("200.01"),
                remaining: dec("200.00")
            })
        );
        assert!(apply(settled("500.00", "0", "0"), dec("-1")).is_err());
    }

    #[test]
    fn stored_state() {
        assert_eq!(
            state_of(settled("499.00", "0", "499.00")),
            InvoiceState::Cancelled
        );
        assert_eq!(state_of(settled("499.00", "0", "0")), InvoiceState::Unpaid);
        assert_eq!(
            state_of(settled("499.00", "199.00", "300.00")),
            InvoiceState::Paid
        );
        assert_eq!(state_of(settled("0", "0", "0")), InvoiceState::Paid);
    }

    #[test]
    fn correction_only_in_the_clients_favour() {
        let charge = |fraction: &str| Charge {
            from: chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            to: chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
            charged_days: 15,
            period_days: 30,
            fraction: dec(fraction),
        };
        assert!(needs_correction(Decimal::ONE, Some(&charge("0.5"))));
        assert!(needs_correction(Decimal::ONE, None));
        assert!(!needs_correction(Decimal::ONE, Some(&charge("1"))));
        assert!(!needs_correction(dec("0.5"), Some(&charge("1"))));
    }

    proptest! {
        /// A line and its reversal cancel exactly, whatever the rounding.
        #[test]
        fn reversal_cancels(quantity in 1u32..=1_000_000, price in -100_000i64..=1_000_000,
                            rate in prop::sample::select(vec![0u32, 10, 12, 15, 21]),
                            gross_basis: bool) {
            let line = compute_line(&LineInput {
                description: "Internet".into(),
                quantity: Decimal::new(quantity.into(), 6),
                unit_price: Decimal::new(price, 2),
                basis: PriceBasis::from_includes_vat(gross_basis),
                vat_rate: Decimal::from(rate),
            });
            let back = reversal(&line);
            prop_assert!((line.net + back.net).is_zero());
            prop_assert!((line.vat + back.vat).is_zero());
            prop_assert!((line.gross + back.gross).is_zero());
            prop_assert_eq!(back.unit_price, line.unit_price);
        }

        /// Credit notes conserve money: what the invoice stops being paid goes to credit.
        #[test]
        fn credit_notes_conserve_money(gross in 0i64..=100_000, paid_share in 0i64..=100,
                                       credit_share in 0i64..=100) {
            let gross = Decimal::new(gross, 2);
            let paid = (gross * Decimal::new(paid_share, 2)).round_dp(2);
            let amount = (gross * Decimal::new(credit_share, 2)).round_dp(2);
            let effect = apply(Settled { gross, paid, credited: Decimal::ZERO }, amount).unwrap();
            prop_assert_eq!(effect.paid + effect.to_credit, paid);
            prop_assert!(effect.paid <= gross - effect.credited);
        }
    }
}

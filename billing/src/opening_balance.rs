//! The client card's opening balance (ISPadmin "Počáteční fin. stav"), carried over when a
//! client is migrated from another system: a credit becomes client credit, a debt becomes an
//! opening-balance document that payments settle first (it is the oldest) and that counts as
//! overdue debt from the day it was entered. It can change only while nothing else happened
//! on the account.

use rust_decimal::Decimal;

use crate::invoice::{Line, untaxed_line};

/// What the opening balance puts on the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OnAccount {
    /// The client's credit after.
    pub credit: Decimal,
    /// The opening-balance document's amount, for a debt.
    pub debt: Option<Decimal>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "client.invoicing.opening_balance can change only before the client's first invoice, \
     payment or refund"
)]
pub struct AccountStarted;

/// The account after the card's opening balance changes from `before` to `after`, given the
/// client's `credit` now and whether its books have started: `None` when it did not change
/// (the previous opening-balance document, if any, is replaced otherwise).
pub fn put(
    credit: Decimal,
    before: Decimal,
    after: Decimal,
    books_started: bool,
) -> Result<Option<OnAccount>, AccountStarted> {
    if before == after {
        return Ok(None);
    }
    if books_started {
        return Err(AccountStarted);
    }
    Ok(Some(OnAccount {
        credit: credit - before.max(Decimal::ZERO) + after.max(Decimal::ZERO),
        debt: (after < Decimal::ZERO).then_some(-after),
    }))
}

/// The opening-balance document's one line: not a supply, so no VAT.
pub fn line(debt: Decimal) -> Line {
    untaxed_line("Opening balance".into(), debt)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn what_an_opening_balance_puts_on_the_account() {
        let on = |credit: &str, debt: Option<&str>| {
            Ok(Some(OnAccount {
                credit: dec(credit),
                debt: debt.map(dec),
            }))
        };
        let cases = [
            // (credit now, before, after, books started) → result
            (("0", "0", "0", false), Ok(None)),
            (("0", "0", "100.00", false), on("100.00", None)),
            (("0", "0", "-150.00", false), on("0", Some("150.00"))),
            (
                ("100.00", "100.00", "-50.00", false),
                on("0", Some("50.00")),
            ),
            (("0", "-150.00", "25.00", false), on("25.00", None)),
            (("0", "-150.00", "-100.00", false), on("0", Some("100.00"))),
            (("0", "-150.00", "-100.00", true), Err(AccountStarted)),
            // Unchanged is never refused, books or not.
            (("40.00", "-150.00", "-150.00", true), Ok(None)),
        ];
        for ((credit, before, after, started), expected) in cases {
            assert_eq!(
                put(dec(credit), dec(before), dec(after), started),
                expected,
                "{credit} {before} → {after} (books started: {started})"
            );
        }
    }

    #[test]
    fn the_document_line_carries_no_vat() {
        let l = line(dec("150.00"));
        assert_eq!((l.gross, l.vat), (dec("150.00"), dec("0")));
    }
}

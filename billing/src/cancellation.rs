//! Cancelling a document (Mango "storno"): which documents may be cancelled, and — when the
//! cancelled periods are to be billed again — where each subscription's billed-until goes
//! back to. The credit note itself carries every line still in force on the document (and on
//! credit notes correcting it) reversed (`credit_note::reversal`); what it settles is
//! `credit_note::apply`'s.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::document::DocumentKind;

/// A document as a cancellation finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found<'a> {
    pub number: &'a str,
    pub kind: DocumentKind,
    /// Cancelled already (fully credited).
    pub cancelled: bool,
    /// The tax invoice that follows it (a paid pro-forma's).
    pub tax_invoice: Option<&'a str>,
}

/// A period a line still in force on the document charges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charged {
    pub subscription: i64,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// Why a cancellation is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CancelError {
    #[error("{number} is a {kind}; only invoices, pro-formas and debit notes are cancelled")]
    NotCancellable { number: String, kind: &'static str },
    #[error("{0} is already cancelled")]
    AlreadyCancelled(String),
    #[error("pro-forma {number} is paid and settled by tax invoice {tax}; cancel {tax}")]
    SettledByTaxInvoice { number: String, tax: String },
    #[error("{0} charges nothing any more")]
    NothingInForce(String),
    #[error(
        "subscription {subscription} was billed after {number}; cancel the later invoices \
         first or cancel without rebilling"
    )]
    BilledSince { subscription: i64, number: String },
}

/// Only an invoice, pro-forma or debit note still in force is cancelled; a paid pro-forma is
/// settled by its tax invoice, which is the one to cancel. `lines_in_force`: how many of its
/// lines nothing has reversed yet (a document with none charges nothing to cancel).
pub fn check(found: &Found<'_>, lines_in_force: usize) -> Result<(), CancelError> {
    let number = found.number.to_owned();
    match found.kind {
        DocumentKind::Invoice | DocumentKind::Proforma | DocumentKind::DebitNote => {}
        other => {
            return Err(CancelError::NotCancellable {
                number,
                kind: other.as_str(),
            });
        }
    }
    if found.cancelled {
        return Err(CancelError::AlreadyCancelled(number));
    }
    if let Some(tax) = found.tax_invoice {
        return Err(CancelError::SettledByTaxInvoice {
            number,
            tax: tax.to_owned(),
        });
    }
    if lines_in_force == 0 {
        return Err(CancelError::NothingInForce(number));
    }
    Ok(())
}

/// Where each subscription the cancelled lines charge goes back to so the billing run charges
/// those periods again: the day before the earliest cancelled period (`None`: never billed).
/// Refused unless the cancelled periods are the latest billed (`billed`: each subscription's
/// billed-until now), so no later invoice is charged twice.
pub fn billed_until_back(
    number: &str,
    charged: &[Charged],
    billed: &HashMap<i64, Option<NaiveDate>>,
) -> Result<Vec<(i64, Option<NaiveDate>)>, CancelError> {
    let mut subscriptions: Vec<i64> = charged.iter().map(|c| c.subscription).collect();
    subscriptions.sort_unstable();
    subscriptions.dedup();
    subscriptions
        .into_iter()
        .filter_map(|subscription| {
            let periods = charged.iter().filter(|c| c.subscription == subscription);
            let from = periods.clone().map(|c| c.from).min()?;
            let to = periods.map(|c| c.to).max()?;
            if billed.get(&subscription).copied().flatten() != Some(to) {
                return Some(Err(CancelError::BilledSince {
                    subscription,
                    number: number.to_owned(),
                }));
            }
            Some(Ok((subscription, from.pred_opt())))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).unwrap()
    }

    #[test]
    fn what_may_be_cancelled() {
        let invoice = Found {
            number: "202600001",
            kind: DocumentKind::Invoice,
            cancelled: false,
            tax_invoice: None,
        };
        let cases: [(Found<'_>, usize, Result<(), &str>); 7] = [
            (invoice, 1, Ok(())),
            (
                Found {
                    kind: DocumentKind::DebitNote,
                    ..invoice
                },
                1,
                Ok(()),
            ),
            (
                Found {
                    kind: DocumentKind::CreditNote,
                    ..invoice
                },
                1,
                Err(
                    "202600001 is a credit_note; only invoices, pro-formas and debit notes are \
                     cancelled",
                ),
            ),
            (
                Found {
                    kind: DocumentKind::OpeningBalance,
                    ..invoice
                },
                1,
                Err(
                    "202600001 is a opening_balance; only invoices, pro-formas and debit notes \
                     are cancelled",
                ),
            ),
            (
                Found {
                    cancelled: true,
                    ..invoice
                },
                1,
                Err("202600001 is already cancelled"),
            ),
            (
                Found {
                    kind: DocumentKind::Proforma,
                    tax_invoice: Some("202600007"),
                    ..invoice
                },
                1,
                Err(
                    "pro-forma 202600001 is paid and settled by tax invoice 202600007; cancel \
                     202600007",
                ),
            ),
            (invoice, 0, Err("202600001 charges nothing any more")),
        ];
        for (found, lines, expected) in cases {
            let got = check(&found, lines).map_err(|e| e.to_string());
            assert_eq!(got, expected.map_err(str::to_owned), "{found:?}");
        }
    }

    #[test]
    fn billed_until_goes_back_only_from_the_latest_periods() {
        let charged = [
            Charged {
                subscription: 2,
                from: date(2, 1),
                to: date(2, 28),
            },
            Charged {
                subscription: 1,
                from: date(3, 1),
                to: date(3, 31),
            },
            Charged {
                subscription: 2,
                from: date(3, 1),
                to: date(3, 31),
            },
        ];
        let billed =
            |one: Option<NaiveDate>, two: Option<NaiveDate>| HashMap::from([(1, one), (2, two)]);
        let cases = [
            (
                billed(Some(date(3, 31)), Some(date(3, 31))),
                Ok(vec![(1, Some(date(2, 28))), (2, Some(date(1, 31)))]),
            ),
            (
                billed(Some(date(3, 31)), Some(date(4, 30))),
                Err(CancelError::BilledSince {
                    subscription: 2,
                    number: "202600001".into(),
                }),
            ),
            (
                billed(None, Some(date(3, 31))),
                Err(CancelError::BilledSince {
                    subscription: 1,
                    number: "202600001".into(),
                }),
            ),
        ];
        for (billed, expected) in cases {
            assert_eq!(billed_until_back("202600001", &charged, &billed), expected);
        }
        assert_eq!(
            billed_until_back("202600001", &[], &HashMap::new()),
            Ok(vec![]),
            "a document of one-off charges moves nothing back"
        );
    }
}

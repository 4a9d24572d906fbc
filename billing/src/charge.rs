//! One-off charges (installation fee, equipment, a one-time credit): entered on a client or
//! one of its subscriptions, billed once by the first billing run on or after their date.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::FieldError;
use crate::field::{max_len, require};
use crate::invoice::{LineInput, PriceBasis, round_money};
use crate::schedule::FRACTION_SCALE;

/// A charge as entered. The unit price may be negative: a one-off refund or discount that
/// the next invoice deducts (a goodwill credit for an outage, a returned router). The
/// quantity must be positive, so the sign of a line always lives in its price.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OneOffCharge {
    pub description: String,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub price_includes_vat: bool,
    /// Percent, e.g. 21.
    pub vat_rate: Decimal,
    /// Billed by the first run on or after this day.
    pub charge_on: NaiveDate,
}

impl OneOffCharge {
    pub fn validate(&self) -> Result<(), FieldError> {
        require("charge.description", &self.description)?;
        max_len("charge.description", &self.description, 200)?;
        if self.quantity <= Decimal::ZERO {
            return Err(FieldError::new("charge.quantity", "must be positive"));
        }
        if self.quantity.normalize().scale() > FRACTION_SCALE {
            return Err(FieldError::new(
                "charge.quantity",
                format!("at most {FRACTION_SCALE} decimal places"),
            ));
        }
        crate::money::to_minor_units("charge.unit_price", self.unit_price)?;
        if self.vat_rate.is_sign_negative() || self.vat_rate > Decimal::ONE_HUNDRED {
            return Err(FieldError::new("charge.vat_rate", "percent, 0-100"));
        }
        // The line's amount (with VAT added to a net price) must fit an invoice; checked here
        // so that one absurd entry cannot fail a whole billing run later.
        let too_big = || FieldError::new("charge.unit_price", "quantity × price is too large");
        let amount = self
            .quantity
            .checked_mul(self.unit_price)
            .map(round_money)
            .ok_or_else(too_big)?;
        let with_vat = amount
            .checked_mul(Decimal::ONE_HUNDRED + self.vat_rate)
            .map(|a| a / Decimal::ONE_HUNDRED)
            .ok_or_else(too_big)?;
        crate::money::to_minor_units("charge.unit_price", round_money(with_vat))
            .map_err(|_| too_big())?;
        Ok(())
    }

    /// The invoice line this charge becomes: its description as entered, quantity and price
    /// as entered, on the basis its price was given.
    pub fn line_input(&self) -> LineInput {
        LineInput {
            description: self.description.clone(),
            quantity: self.quantity,
            unit_price: self.unit_price,
            basis: PriceBasis::from_includes_vat(self.price_includes_vat),
            vat_rate: self.vat_rate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invoice::compute_line;

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn installation() -> OneOffCharge {
        OneOffCharge {
            description: "Installation".into(),
            quantity: Decimal::ONE,
            unit_price: dec("1500.00"),
            price_includes_vat: true,
            vat_rate: dec("21"),
            charge_on: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        }
    }

    #[test]
    fn rules_name_the_field() {
        assert_eq!(installation().validate(), Ok(()));
        type Edit = fn(&mut OneOffCharge);
        let cases: &[(Edit, &str)] = &[
            (|c| c.description = " ".into(), "charge.description"),
            (|c| c.description = "x".repeat(201), "charge.description"),
            (|c| c.quantity = Decimal::ZERO, "charge.quantity"),
            (|c| c.quantity = dec("-1"), "charge.quantity"),
            (|c| c.quantity = dec("0.0000001"), "charge.quantity"),
            (|c| c.unit_price = dec("1.005"), "charge.unit_price"),
            (
                |c| c.unit_price = dec("92233720368547758.07"),
                "charge.unit_price",
            ),
            (|c| c.quantity = dec("100000000000000"), "charge.unit_price"),
            (|c| c.vat_rate = dec("-1"), "charge.vat_rate"),
            (|c| c.vat_rate = dec("100.01"), "charge.vat_rate"),
        ];
        for (edit, field) in cases {
            let mut c = installation();
            edit(&mut c);
            let err = c.validate().expect_err(field);
            assert_eq!(err.field, *field, "{c:?}");
        }
    }

    #[test]
    fn refunds_and_fractions_are_allowed() {
        let edits: [fn(&mut OneOffCharge); 7] = [
            |c| c.unit_price = dec("-200.00"),
            |c| c.unit_price = Decimal::ZERO,
            |c| c.quantity = dec("2.5"),
            |c| c.quantity = dec("0.000001"),
            |c| c.vat_rate = Decimal::ZERO,
            |c| c.vat_rate = Decimal::ONE_HUNDRED,
            |c| c.description = "x".repeat(200),
        ];
        for edit in edits {
            let mut c = installation();
            edit(&mut c);
            assert_eq!(c.validate(), Ok(()), "{c:?}");
        }
    }

    #[test]
    fn line_input_keeps_the_entry_and_its_basis() {
        for (includes_vat, price, quantity, basis, net, vat, gross) in [
            (
                true,
                "1500.00",
                "1",
                PriceBasis::Gross,
                "1239.67",
                "260.33",
                "1500.00",
            ),
            (
                false,
                "1500.00",
                "1",
                PriceBasis::Net,
                "1500.00",
                "315.00",
                "1815.00",
            ),
            (
                false,
                "249.90",
                "2",
                PriceBasis::Net,
                "499.80",
                "104.96",
                "604.76",
            ),
            // A refund: the same rule, symmetric.
            (
                true,
                "-200.00",
                "1",
                PriceBasis::Gross,
                "-165.29",
                "-34.71",
                "-200.00",
            ),
        ] {
            let charge = OneOffCharge {
                description: "Router Mikrotik hAP ax2".into(),
                quantity: dec(quantity),
                unit_price: dec(price),
                price_includes_vat: includes_vat,
                ..installation()
            };
            let input = charge.line_input();
            assert_eq!(
                input,
                LineInput {
                    description: "Router Mikrotik hAP ax2".into(),
                    quantity: dec(quantity),
                    unit_price: dec(price),
                    basis,
                    vat_rate: dec("21"),
                }
            );
            let line = compute_line(&input);
            assert_eq!(
                (line.net, line.vat, line.gross),
                (dec(net), dec(vat), dec(gross)),
                "{price} incl. VAT {includes_vat}"
            );
        }
    }
}

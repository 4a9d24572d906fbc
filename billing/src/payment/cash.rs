//! Cash taken for a service (Mango's cash payment "respecting the payment period"): the
//! cashier takes whole periods of the service's price, never a part of one, so the receipt
//! and the service's paid-until agree. What the money then pays is the service's documents
//! first, as for any payment carrying the service's own variable symbol.

use rust_decimal::Decimal;

use crate::FieldError;

/// How many whole periods `amount` pays at `period_price` (gross, one period of the service,
/// before discounts); refused naming `amount` when it is not a positive whole number of them.
pub fn whole_periods(amount: Decimal, period_price: Decimal) -> Result<u32, FieldError> {
    if period_price <= Decimal::ZERO {
        return Err(FieldError::new(
            "subscription",
            "the service costs nothing a period: there is nothing to pay by periods",
        ));
    }
    let periods = amount / period_price;
    if amount <= Decimal::ZERO || !periods.fract().is_zero() {
        return Err(FieldError::new(
            "amount",
            format!("cash for a service covers whole periods of {period_price}, not {amount}"),
        ));
    }
    u32::try_from(periods).map_err(|_| {
        FieldError::new(
            "amount",
            format!("more periods of {period_price} than anyone pays"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn cash_covers_whole_periods() {
        let cases = [
            // (amount, period price) → periods, or the field refused
            (("499.00", "499.00"), Ok(1)),
            (("1497.00", "499.00"), Ok(3)),
            (("604.99", "604.99"), Ok(1)),
            (("500.00", "499.00"), Err("amount")),
            (("249.50", "499.00"), Err("amount")),
            (("0", "499.00"), Err("amount")),
            (("-499.00", "499.00"), Err("amount")),
            (("100.00", "0"), Err("subscription")),
        ];
        for ((amount, price), expected) in cases {
            let got = whole_periods(dec(amount), dec(price)).map_err(|e| e.field);
            assert_eq!(got, expected.map_err(str::to_owned), "{amount} at {price}");
        }
    }
}

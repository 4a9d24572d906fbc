//! Billing periods (the Mango manual's "Perioda").

/// How often a service is charged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Period {
    Monthly,
    Quarterly,
    HalfYearly,
    Yearly,
    /// Charged once, at activation (installation fees, equipment).
    OneOff,
    /// One price for the whole commitment term, charged once in advance for it (Mango's price
    /// kind "total"): a service that needs a commitment, whose end closes the term.
    Total,
}

impl Period {
    pub const ALL: [Period; 6] = [
        Period::Monthly,
        Period::Quarterly,
        Period::HalfYearly,
        Period::Yearly,
        Period::OneOff,
        Period::Total,
    ];

    /// Stable name used in storage, the CLI and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Monthly => "monthly",
            Period::Quarterly => "quarterly",
            Period::HalfYearly => "half-yearly",
            Period::Yearly => "yearly",
            Period::OneOff => "one-off",
            Period::Total => "total",
        }
    }

    pub fn parse(text: &str) -> Option<Period> {
        Period::ALL.into_iter().find(|p| p.as_str() == text)
    }

    /// Calendar months in one period; `None` for a one-off charge and a total price (whose
    /// one period is the commitment term).
    pub fn months(self) -> Option<u32> {
        match self {
            Period::Monthly => Some(1),
            Period::Quarterly => Some(3),
            Period::HalfYearly => Some(6),
            Period::Yearly => Some(12),
            Period::OneOff | Period::Total => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Period::ALL {
            assert_eq!(Period::parse(p.as_str()), Some(p));
        }
        assert_eq!(Period::parse("weekly"), None);
        assert_eq!(Period::HalfYearly.months(), Some(6));
        assert_eq!(Period::OneOff.months(), None);
        assert_eq!(Period::Total.months(), None);
    }
}

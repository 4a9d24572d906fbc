//! Invoice groups: the provider's companies (ISPadmin "Fakturační skupina"). Every client
//! belongs to one; the supplier block of its documents, the bank details customers pay to,
//! and the number series all come from its group. Each group numbers its documents on its
//! own, never sharing a series with another.

use crate::FieldError;
use crate::field::{Text, email, require, text};
use crate::invoice::{TaxableDateRule, check_pattern};

/// Longest code: codes are keys in URLs, file names and invoice records.
pub const MAX_CODE_LEN: usize = 32;
/// Due days beyond a year are a typing mistake (same limit as the client card).
pub const MAX_DUE_DAYS: u32 = 365;
/// "N days before issue" is meant for dating a month's supply back into that month.
pub const MAX_TAXABLE_DAYS_BEFORE: u32 = 31;

/// Number patterns per document kind (see [`crate::invoice::format_number`]); `None` = the
/// built-in default of the kind.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct NumberFormats {
    pub invoice: Option<String>,
    pub credit_note: Option<String>,
    pub proforma: Option<String>,
    pub debit_note: Option<String>,
}

impl NumberFormats {
    /// Each pattern with the field name the API and the CLI use for it.
    fn named(&self) -> [(&'static str, &Option<String>); 4] {
        [
            ("invoice_group.invoice_number_format", &self.invoice),
            ("invoice_group.credit_note_number_format", &self.credit_note),
            ("invoice_group.proforma_number_format", &self.proforma),
            ("invoice_group.debit_note_number_format", &self.debit_note),
        ]
    }
}

/// One of the provider's companies, with the settings its documents are issued under.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InvoiceGroup {
    pub code: String,
    pub name: String,
    pub street: String,
    pub postcode: String,
    pub city: String,
    pub country: String,
    pub company_id: String,
    pub vat_id: String,
    /// The domestic account number as printed (e.g. "123456789/0800").
    pub bank_account: String,
    pub iban: String,
    pub bic: String,
    pub email: String,
    pub phone: String,
    /// ISO 4217; `None` = `[billing] currency`.
    pub currency: Option<String>,
    /// `None` = `[billing] default_due_days`; a client's own due days win over both.
    pub due_days: Option<u32>,
    pub number_formats: NumberFormats,
    pub taxable_date_rule: TaxableDateRule,
    pub version: i64,
}

impl InvoiceGroup {
    /// A group with only a code and a name: what the old code list held.
    pub fn new(code: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            name: name.into(),
            street: String::new(),
            postcode: String::new(),
            city: String::new(),
            country: String::new(),
            company_id: String::new(),
            vat_id: String::new(),
            bank_account: String::new(),
            iban: String::new(),
            bic: String::new(),
            email: String::new(),
            phone: String::new(),
            currency: None,
            due_days: None,
            number_formats: NumberFormats::default(),
            taxable_date_rule: TaxableDateRule::IssueDate,
            version: 0,
        }
    }

    /// Tidies what operators type: surrounding spaces go; the IBAN loses its spaces (it is
    /// printed in groups of four but machine-read whole) and, like the BIC and the currency,
    /// is upper-cased; an empty pattern or currency means "the default".
    pub fn normalize(&mut self) {
        for text in [
            &mut self.code,
            &mut self.name,
            &mut self.street,
            &mut self.postcode,
            &mut self.city,
            &mut self.country,
            &mut self.company_id,
            &mut self.vat_id,
            &mut self.bank_account,
            &mut self.email,
            &mut self.phone,
        ] {
            *text = text.trim().to_owned();
        }
        self.iban = self
            .iban
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        self.bic = self.bic.trim().to_ascii_uppercase();
        let blank_is_none = |value: &mut Option<String>| {
            *value = value
                .take()
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty());
        };
        blank_is_none(&mut self.currency);
        if let Some(currency) = &mut self.currency {
            *currency = currency.to_ascii_uppercase();
        }
        let f = &mut self.number_formats;
        for pattern in [
            &mut f.invoice,
            &mut f.credit_note,
            &mut f.proforma,
            &mut f.debit_note,
        ] {
            blank_is_none(pattern);
        }
    }

    /// The rules a group must satisfy before it is stored. Number patterns are checked here,
    /// when they are saved, so that a billing run never meets a pattern it cannot use.
    pub fn validate(&self) -> Result<(), FieldError> {
        validate_code(&self.code)?;
        require("invoice_group.name", &self.name)?;
        for (field, value, kind) in [
            ("invoice_group.name", &self.name, Text::Name),
            ("invoice_group.street", &self.street, Text::Street),
            ("invoice_group.postcode", &self.postcode, Text::Postcode),
            ("invoice_group.city", &self.city, Text::Location),
            ("invoice_group.country", &self.country, Text::Location),
            (
                "invoice_group.company_id",
                &self.company_id,
                Text::Identifier,
            ),
            ("invoice_group.vat_id", &self.vat_id, Text::Identifier),
            (
                "invoice_group.bank_account",
                &self.bank_account,
                Text::BankAccount,
            ),
            ("invoice_group.email", &self.email, Text::Email),
            ("invoice_group.phone", &self.phone, Text::Phone),
        ] {
            text(field, value, kind)?;
        }
        email("invoice_group.email", &self.email)?;
        if !self.iban.is_empty() {
            check_iban(&self.iban)
                .map_err(|problem| FieldError::new("invoice_group.iban", problem))?;
        }
        let bic_ok = |bic: &str| {
            [8, 11].contains(&bic.len()) && bic.bytes().all(|b| b.is_ascii_alphanumeric())
        };
        if !self.bic.is_empty() && !bic_ok(&self.bic) {
            return Err(FieldError::new(
                "invoice_group.bic",
                "a BIC has 8 or 11 letters and digits",
            ));
        }
        if let Some(currency) = &self.currency
            && !crate::money::is_currency(currency)
        {
            return Err(FieldError::new(
                "invoice_group.currency",
                format!("an ISO 4217 code such as \"CZK\" or \"EUR\", not {currency:?}"),
            ));
        }
        if self.due_days.is_some_and(|d| d > MAX_DUE_DAYS) {
            return Err(FieldError::new(
                "invoice_group.due_days",
                format!("at most {MAX_DUE_DAYS} days"),
            ));
        }
        for (field, pattern) in self.number_formats.named() {
            if let Some(pattern) = pattern {
                check_pattern(pattern).map_err(|e| FieldError::new(field, e.to_string()))?;
            }
        }
        if let TaxableDateRule::DaysBeforeIssue(n) = self.taxable_date_rule
            && n > MAX_TAXABLE_DAYS_BEFORE
        {
            return Err(FieldError::new(
                "invoice_group.taxable_days_before",
                format!("at most {MAX_TAXABLE_DAYS_BEFORE} days"),
            ));
        }
        Ok(())
    }
}

/// Codes are the key clients and invoices refer to, so they keep to a safe alphabet.
fn validate_code(code: &str) -> Result<(), FieldError> {
    let ok = !code.is_empty()
        && code.len() <= MAX_CODE_LEN
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            "invoice_group.code",
            format!("1-{MAX_CODE_LEN} characters: lowercase letters, digits, '_' or '-'"),
        ))
    }
}

/// An IBAN's shape (country letters, check digits, 11-30 letters or digits: Norway's are the
/// shortest at 15 characters in all) and its ISO 7064 mod-97 check digits, which catch every
/// single typo and nearly every swap. Lengths per country are not checked.
fn check_iban(iban: &str) -> Result<(), String> {
    let bytes = iban.as_bytes();
    let shaped = (15..=34).contains(&bytes.len())
        && bytes[..2].iter().all(u8::is_ascii_uppercase)
        && bytes[2..4].iter().all(u8::is_ascii_digit)
        && bytes[4..]
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if !shaped {
        return Err(format!(
            "not an IBAN: {iban:?} (2 letters, 2 check digits, then 11-30 letters or digits)"
        ));
    }
    // Move the first four to the end, letters become 10-35, the number mod 97 must be 1.
    let remainder = bytes[4..]
        .iter()
        .chain(&bytes[..4])
        .fold(0u32, |acc, &b| match b {
            b'0'..=b'9' => (acc * 10 + u32::from(b - b'0')) % 97,
            _ => (acc * 100 + u32::from(b - b'A') + 10) % 97,
        });
    if remainder == 1 {
        Ok(())
    } else {
        Err(format!("IBAN {iban:?} has wrong check digits (a typo?)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group() -> InvoiceGroup {
        InvoiceGroup {
            street: "Dlouhá 12".into(),
            postcode: "110 00".into(),
            city: "Praha".into(),
            country: "CZ".into(),
            company_id: "12345678".into(),
            vat_id: "CZ12345678".into(),
            bank_account: "19-2000145399/0800".into(),
            iban: "CZ6508000000192000145399".into(),
            bic: "GIBACZPX".into(),
            email: "fakturace@isp.example.cz".into(),
            phone: "+420 222 333 444".into(),
            currency: Some("CZK".into()),
            due_days: Some(14),
            number_formats: NumberFormats {
                invoice: Some("FV{year}{seq:05}".into()),
                credit_note: Some("DD{yy}-{seq:04}".into()),
                proforma: None,
                debit_note: None,
            },
            taxable_date_rule: TaxableDateRule::DaysBeforeIssue(14),
            ..InvoiceGroup::new("corporate", "ISP Corporate s.r.o.")
        }
    }

    #[test]
    fn a_full_group_and_a_bare_one_are_valid() {
        assert_eq!(group().validate(), Ok(()));
        assert_eq!(InvoiceGroup::new("default", "Default").validate(), Ok(()));
    }

    #[test]
    fn rules_name_the_field() {
        type Edit = fn(&mut InvoiceGroup);
        let cases: &[(Edit, &str)] = &[
            (|g| g.code.clear(), "invoice_group.code"),
            (|g| g.code = "Corporate".into(), "invoice_group.code"),
            (|g| g.code = "a b".into(), "invoice_group.code"),
            (|g| g.code = "x".repeat(33), "invoice_group.code"),
            (|g| g.name = "  ".into(), "invoice_group.name"),
            (|g| g.name = "n".repeat(201), "invoice_group.name"),
            (|g| g.email = "fakturace".into(), "invoice_group.email"),
            (|g| g.currency = Some("Kč".into()), "invoice_group.currency"),
            (
                |g| g.currency = Some("czk".into()),
                "invoice_group.currency",
            ),
            (
                |g| g.currency = Some("CZKK".into()),
                "invoice_group.currency",
            ),
            // The shape of a code, but no currency ISO 4217 knows.
            (
                |g| g.currency = Some("ABC".into()),
                "invoice_group.currency",
            ),
            (|g| g.due_days = Some(366), "invoice_group.due_days"),
            (
                |g| g.number_formats.invoice = Some("{year}".into()),
                "invoice_group.invoice_number_format",
            ),
            (
                |g| g.number_formats.credit_note = Some("{seq}{seq}".into()),
                "invoice_group.credit_note_number_format",
            ),
            (
                |g| g.number_formats.proforma = Some("PF{month}{seq}".into()),
                "invoice_group.proforma_number_format",
            ),
            (
                |g| g.number_formats.debit_note = Some("{seq".into()),
                "invoice_group.debit_note_number_format",
            ),
            (
                |g| g.taxable_date_rule = TaxableDateRule::DaysBeforeIssue(32),
                "invoice_group.taxable_days_before",
            ),
            (|g| g.bic = "GIBA".into(), "invoice_group.bic"),
            (|g| g.bic = "GIBACZ-X".into(), "invoice_group.bic"),
            (
                |g| g.iban = "CZ6508000000192000145398".into(),
                "invoice_group.iban",
            ),
            (
                |g| g.iban = "6508000000192000145399".into(),
                "invoice_group.iban",
            ),
            (|g| g.iban = "CZ65 0800 0000".into(), "invoice_group.iban"),
        ];
        for (edit, field) in cases {
            let mut g = group();
            edit(&mut g);
            let err = g.validate().expect_err(field);
            assert_eq!(err.field, *field, "{g:?}");
        }
    }

    #[test]
    fn limits_are_inclusive() {
        let mut g = group();
        g.due_days = Some(MAX_DUE_DAYS);
        g.taxable_date_rule = TaxableDateRule::DaysBeforeIssue(MAX_TAXABLE_DAYS_BEFORE);
        g.code = "a".repeat(MAX_CODE_LEN);
        assert_eq!(g.validate(), Ok(()));
    }

    #[test]
    fn iban_check_digits() {
        for ok in [
            "CZ6508000000192000145399",
            "DE89370400440532013000",
            "GB82WEST12345698765432",
            "NO9386011117947",
            "SK3112000000198742637541",
        ] {
            assert_eq!(check_iban(ok), Ok(()), "{ok}");
        }
        for bad in [
            // One digit typed wrong, two digits swapped, check digits wrong.
            "CZ6508000000192000145390",
            "CZ6508000000192000143599",
            "CZ6608000000192000145399",
            // Shape: too short, too long, lowercase, punctuation.
            "NO938601111794",
            "GB82WEST1234569876543200000000000",
            "gb82WEST12345698765432",
            "GB82-WEST-1234-5698",
        ] {
            assert!(check_iban(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn normalize_tidies_what_operators_type() {
        let mut g = InvoiceGroup {
            iban: " cz65 0800 0000 1920 0014 5399 ".into(),
            bic: "gibaczpx ".into(),
            currency: Some(" eur".into()),
            number_formats: NumberFormats {
                invoice: Some(" ".into()),
                credit_note: Some("CN{seq}".into()),
                proforma: None,
                debit_note: Some(String::new()),
            },
            ..InvoiceGroup::new(" main ", " Main s.r.o. ")
        };
        g.normalize();
        assert_eq!(g.code, "main");
        assert_eq!(g.name, "Main s.r.o.");
        assert_eq!(g.iban, "CZ6508000000192000145399");
        assert_eq!(g.bic, "GIBACZPX");
        assert_eq!(g.currency.as_deref(), Some("EUR"));
        assert_eq!(
            g.number_formats,
            NumberFormats {
                invoice: None,
                credit_note: Some("CN{seq}".into()),
                proforma: None,
                debit_note: None,
            }
        );
        assert_eq!(g.validate(), Ok(()));
        let mut empty = InvoiceGroup::new("x", "X");
        empty.currency = Some("  ".into());
        empty.normalize();
        assert_eq!(empty.currency, None);
    }
}

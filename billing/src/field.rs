//! Validation errors that name the offending field, so every edge can report them precisely.

/// A record was refused: `field` is the dotted path of the field (`client.address.city`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct FieldError {
    pub field: String,
    pub problem: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            problem: problem.into(),
        }
    }

    pub fn required(field: impl Into<String>) -> Self {
        Self::new(field, "required")
    }
}

/// The years an ISP's records hold. A payment "received" in the year 0 or 9999 is a typo
/// (or a hostile statement), and would sit outside every closed period and every report.
pub const RECORD_YEARS: std::ops::RangeInclusive<i32> = 1900..=2199;

/// Refuses a date outside [`RECORD_YEARS`], wherever a record's date comes from: typed in,
/// or read from a bank statement.
pub fn record_date(field: &str, date: chrono::NaiveDate) -> Result<chrono::NaiveDate, FieldError> {
    if RECORD_YEARS.contains(&chrono::Datelike::year(&date)) {
        Ok(date)
    } else {
        Err(FieldError::new(
            field,
            format!(
                "{date} is outside the years {}-{}",
                RECORD_YEARS.start(),
                RECORD_YEARS.end()
            ),
        ))
    }
}

/// Refuses an empty (or whitespace-only) required text field.
pub fn require(field: &str, value: &str) -> Result<(), FieldError> {
    if value.trim().is_empty() {
        Err(FieldError::required(field))
    } else {
        Ok(())
    }
}

/// Refuses text longer than `max` characters (the manuals' ≤N limits).
pub fn max_len(field: &str, value: &str, max: usize) -> Result<(), FieldError> {
    if value.chars().count() > max {
        Err(FieldError::new(field, format!("at most {max} characters")))
    } else {
        Ok(())
    }
}

/// The kinds of free text a record holds, each with one limit (README "Field limits"), so
/// that the same sort of field is limited alike on every record. Without a limit one request
/// could store megabytes in a field that every list and document then carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    /// A person's or company's name, a contact's role, a portal login.
    Name,
    /// Street and house number.
    Street,
    /// City, country, floor, flat (Mango: a location is at most 100 characters).
    Location,
    Postcode,
    /// ID card number, company ID, VAT ID, SIPO number.
    Identifier,
    /// A domestic account number or an IBAN.
    BankAccount,
    /// An e-mail address (RFC 5321: a path is at most 256 octets with its brackets).
    Email,
    /// A phone, mobile or fax number.
    Phone,
    /// A web address.
    Url,
    /// A short note: payments, refunds, subscriptions, contact persons, the highlight reason
    /// (Mango: notes are at most 255 characters).
    Note,
    /// A longer remark kept on a card: a client's note and internal notes, a login's note.
    Remark,
    /// What an operator searches for or filters a list by.
    Search,
}

impl Text {
    /// The most characters (not bytes) a field of this kind takes.
    pub const fn max(self) -> usize {
        match self {
            Text::Name | Text::Street | Text::Search => 200,
            Text::Location => 100,
            Text::Postcode => 20,
            Text::Identifier => 32,
            Text::BankAccount => 64,
            Text::Email => 254,
            Text::Phone => 50,
            Text::Url | Text::Note => 255,
            Text::Remark => 1000,
        }
    }
}

/// Refuses `value` when it is longer than its kind allows.
pub fn text(field: &str, value: &str, kind: Text) -> Result<(), FieldError> {
    max_len(field, value, kind.max())
}

/// A character an identifier must not hold: a control character, or one that prints as
/// nothing (zero-width spaces and joiners, a soft hyphen, direction marks and overrides, the
/// byte-order mark) — "1001" followed by a zero-width space prints as client 1001 but is
/// another key, and an escape sequence rewrites the operator's terminal.
pub fn unseen(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

/// A key an operator types and a NAS or a bank echoes (a client number, a login name): no
/// spaces, nothing [`unseen`].
pub fn key(field: &str, value: &str) -> Result<(), FieldError> {
    if value.chars().any(|c| c.is_whitespace() || unseen(c)) {
        return Err(FieldError::new(
            field,
            "must not contain spaces, control or invisible characters",
        ));
    }
    Ok(())
}

/// A deliberately simple e-mail check: one `@`, a non-empty local part, a dotted domain and
/// no whitespace. Mail servers are the real judges; this catches typing mistakes.
pub fn email(field: &str, value: &str) -> Result<(), FieldError> {
    if value.is_empty() {
        return Ok(());
    }
    let bad = || FieldError::new(field, format!("not an e-mail address: {value:?}"));
    let (local, domain) = value.split_once('@').ok_or_else(bad)?;
    let well_formed = !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && !value.chars().any(char::is_whitespace);
    if well_formed { Ok(()) } else { Err(bad()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_rules() {
        for ok in ["", "a@b.cz", "jan.novak+isp@mail.example.com"] {
            assert!(email("e", ok).is_ok(), "{ok}");
        }
        for bad in [
            "novak", "@b.cz", "a@b", "a@@b.cz", "a@.cz", "a@b.", "a b@c.cz", "a@b..cz",
        ] {
            let err = email("client.email", bad).unwrap_err();
            assert_eq!(err.field, "client.email", "{bad}");
        }
    }

    #[test]
    fn each_kind_takes_its_limit_and_not_a_character_more() {
        for (kind, max) in [
            (Text::Name, 200),
            (Text::Street, 200),
            (Text::Location, 100),
            (Text::Postcode, 20),
            (Text::Identifier, 32),
            (Text::BankAccount, 64),
            (Text::Email, 254),
            (Text::Phone, 50),
            (Text::Url, 255),
            (Text::Note, 255),
            (Text::Remark, 1000),
            (Text::Search, 200),
        ] {
            assert_eq!(kind.max(), max, "{kind:?}");
            // Characters, not bytes: "ž" is two bytes in UTF-8.
            assert_eq!(text("f", &"ž".repeat(max), kind), Ok(()), "{kind:?}");
            let err = text("client.f", &"ž".repeat(max + 1), kind).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("client.f: at most {max} characters"),
                "{kind:?}"
            );
        }
    }

    #[test]
    fn required_and_length() {
        assert_eq!(
            require("client.name", "  ").unwrap_err().to_string(),
            "client.name: required"
        );
        assert!(require("client.name", "Novák").is_ok());
        assert!(max_len("n", "žluťoučký", 9).is_ok());
        assert!(max_len("n", "žluťoučký", 8).is_err());
    }
}

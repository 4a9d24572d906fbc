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

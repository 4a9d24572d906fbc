//! The one error of the use-case layer. The gRPC edge maps it to a status in one place
//! (`api::status`); a refused field stays named on the way.

use ispd_billing::FieldError;

use crate::storage::StoreError;

pub type AppResult<T> = Result<T, AppError>;

/// What a use case refused, or what failed underneath it.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A field the rules refuse; `field` is the request's dotted path.
    #[error(transparent)]
    Invalid(#[from] FieldError),
    /// A name or address already taken by something the API may not change (a NAS declared
    /// in the config file).
    #[error("{field}: {message}")]
    Taken { field: String, message: String },
    /// Refused in the record's current situation (a NAS owned by the config file).
    #[error("{0}")]
    Precondition(String),
    /// The operating system gave no random bytes (a generated password).
    #[error("no random numbers: {0}")]
    Random(String),
    /// A resource underneath (the disk of the state directory) could not do what was asked;
    /// the message says what and where.
    #[error("{0}")]
    Unavailable(String),
    /// What storage refused or could not do.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ispd_billing::payment::receipt::ReceiptError> for AppError {
    fn from(e: ispd_billing::payment::receipt::ReceiptError) -> Self {
        use ispd_billing::payment::receipt::ReceiptError;
        match e {
            ReceiptError::Field(e) => AppError::Invalid(e),
            ReceiptError::Payment(e) => AppError::Precondition(e.to_string()),
        }
    }
}

impl From<ispd_billing::payment::assignment::AssignError> for AppError {
    fn from(e: ispd_billing::payment::assignment::AssignError) -> Self {
        AppError::Precondition(e.to_string())
    }
}

impl From<ispd_billing::cancellation::CancelError> for AppError {
    fn from(e: ispd_billing::cancellation::CancelError) -> Self {
        AppError::Precondition(e.to_string())
    }
}

/// A [`FieldError`] as an [`AppError`], for `ok_or_else` and `Err(..)`.
pub fn field(name: &str, problem: impl Into<String>) -> AppError {
    AppError::Invalid(FieldError::new(name, problem))
}

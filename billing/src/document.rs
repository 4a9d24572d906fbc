//! The kinds of document a client's account holds. One type for the whole workspace: the
//! billing rules, storage (its `kind` column holds [`DocumentKind::as_str`]), the API and
//! the client statement all name a document's kind with it.

/// What a stored document is. Each kind has its own number series per invoice group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentKind {
    /// A tax invoice: charges for services, or the tax document following a paid pro-forma.
    Invoice,
    /// Corrects an invoice (negative amounts); settles it or becomes client credit.
    CreditNote,
    /// A fee outside the service charges, e.g. a reminder fee.
    DebitNote,
    /// A payment request for pro-forma clients; not a tax document.
    Proforma,
    /// Debt carried over when a client is migrated (client card opening balance).
    OpeningBalance,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 5] = [
        DocumentKind::Invoice,
        DocumentKind::CreditNote,
        DocumentKind::DebitNote,
        DocumentKind::Proforma,
        DocumentKind::OpeningBalance,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Invoice => "invoice",
            DocumentKind::CreditNote => "credit_note",
            DocumentKind::DebitNote => "debit_note",
            DocumentKind::Proforma => "proforma",
            DocumentKind::OpeningBalance => "opening_balance",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// The number pattern used when the invoice group sets none.
    pub fn default_number_format(self) -> &'static str {
        match self {
            DocumentKind::Invoice => "{year}{seq:05}",
            DocumentKind::CreditNote => "CN{year}{seq:05}",
            DocumentKind::DebitNote => "DN{year}{seq:05}",
            DocumentKind::Proforma => "PF{year}{seq:05}",
            DocumentKind::OpeningBalance => "OB-{client}",
        }
    }
}

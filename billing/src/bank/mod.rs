//! Bank statements: turning the files operators download from their bank into
//! [`StatementLine`]s that become [`IncomingPayment`]s.
//!
//! Pure like the rest of the crate: text or bytes come in, records come out; the daemon reads
//! the file. CSV and GPC exports of Czech banks are often Windows-1250: [`decode`] turns them
//! into text first (camt.053 is XML in UTF-8).
//!
//! Three formats:
//! - [`parse_camt053`]: ISO 20022 camt.053 (`.001.02`, and the later versions such as `.08`,
//!   which use the same element names for what is read here).
//! - [`parse_csv`]: a CSV export with an operator-supplied [`CsvMapping`].
//! - [`parse_gpc`]: the Czech ABO/GPC fixed-width format (records `074`, `075`, `076`, `078`,
//!   `079`).
//!
//! # All or nothing
//! A bad file is refused whole: every parser returns the first problem as a
//! [`StatementError`] naming the entry or line, and never a partial list, so an import is never
//! half done. [`read_camt053`] hands a large camt.053 file's lines on in parts as it reads it
//! (the daemon records them while the rest of the file is still arriving); a refusal then
//! comes after some parts, and its caller undoes them (the import's one transaction rolls
//! back).
//!
//! # Debits, reversals and what becomes a payment
//! The parsers keep **every** booked movement, money out too: `amount` is signed (positive =
//! money in), and `reversal` marks a bank's reversal of an earlier movement (camt `RvslInd`,
//! GPC accounting codes 4 and 5). Only [`StatementLine::is_incoming_payment`] lines (positive
//! and not a reversal) are payments; [`StatementLine::to_incoming`] returns `None` for the
//! rest, and [`Statement::incoming`] iterates just those. Pending camt entries (`Sts` other than
//! `BOOK`) are skipped: they may never be booked, or be booked later under another id.
//!
//! For a credit, `payer_account` and `payer_name` are the debtor's; for a debit they hold the
//! counterparty (the creditor) so an operator can still see where money went.
//!
//! # Variable, specific and constant symbols
//! Czech and Slovak payments carry a variable symbol (VS, up to 10 digits), and optionally a
//! specific (SS) and constant (KS) symbol. CSV and GPC have them in their own columns/fields.
//! In camt.053 banks put them in different places; for each transaction the first of these
//! that yields a symbol wins:
//! 1. a typed structured reference: `RmtInf/Strd/CdtrRefInf` whose `Tp/CdOrPrtry/(Prtry|Cd)`
//!    is `VS`, `SS` or `KS`, with the digits in `Ref`;
//! 2. `NtryDtls/TxDtls/Refs/EndToEndId` with tags: `VS1001`, `/VS1001/SS/KS0308` (the Czech
//!    banking association's form), `/VS/1001/SS//KS/0308`, `VS:1001`, `VS 1001`;
//! 3. `RmtInf/Strd/CdtrRefInf/Ref`: the same tagged forms (`VS:1001`, several `Strd` blocks
//!    each with one symbol are fine), or plain digits (`0000001001`), which are taken as the VS;
//! 4. the unstructured message `RmtInf/Ustrd`: tagged forms only (`/VS/1002/SS//KS/0308`,
//!    `VS 1002`, `vs:1002`), never bare numbers, which are as likely an invoice number;
//! 5. `AddtlTxInf`, then the entry's `AddtlNtryInf`: tagged forms only.
//!
//! A tag is `VS`, `SS` or `KS` in any case, not preceded by a letter or digit, optionally
//! followed by one of `/ : = . -` and spaces, then 1-10 digits not followed by a letter or
//! digit. Untagged digits in `EndToEndId` are not taken (a foreign payer's end-to-end id is
//! often numeric). Everywhere, a symbol that is empty or all zeros (banks write `0000000000`
//! for "none") is `None`; otherwise it is kept as written (with its padding zeros: matching
//! normalises them, see [`crate::payment::normalize_variable_symbol`]).
//!
//! # Bank transaction ids and repeated imports
//! The daemon records `bank_transaction_id` to refuse importing the same movement twice, so it
//! must be stable for the same statement. Sources:
//! - camt.053: the transaction's `Refs/AcctSvcrRef`, else `Refs/TxId`, else the entry's
//!   `AcctSvcrRef` (for one line per entry), or the entry's `AcctSvcrRef` with `/k` appended
//!   for the k-th transaction of a batch. `EndToEndId` is **not** used: the payer chooses it,
//!   Czech banks put the VS there, and `NOTPROVIDED` is common, so it is not unique.
//! - CSV: the mapped `transaction_id` column.
//! - GPC: the 13-digit document number of the `075` record.
//!
//! An id is the bank's on one account: two of the ISP's accounts (at two banks, or a bank
//! that numbers per account) may use the same id for different movements. So a payment
//! repeats a recorded one only when its id was recorded on the same account — the statement's
//! own (camt.053's `Acct`, the GPC header's), or for CSV the mapping's `account` — or where
//! either account is not known (a CSV mapping without `account`, a payment recorded before
//! ispd kept the account): then the id alone decides, as it did before.
//!
//! When a movement has none, a deterministic id is derived:
//! `derived:<128-bit FNV-1a hash, hex>:<n>`, hashing the booking date, amount, currency, the
//! three symbols, the payer account and the statement's account (for CSV, never the mapping's
//! `account`, so adding it to a mapping keeps the ids), where `n` counts identical
//! movements within the file (1 for the first). Such ids survive reordered rows and
//! overlapping exports, but cannot tell two identical movements apart other than by their order
//! in the file: if an export drops or adds one of several identical payments of a day, which
//! one is "new" may be misjudged. Map a real id column whenever the bank provides one.
//! A statement that uses the same id twice is refused (it would make the daemon drop a
//! payment as a duplicate).
//!
//! # CSV mapping
//! Operators' banks all export differently, so the columns are configured; `ispctl payment
//! import FILE --format csv --mapping FILE` reads a [`CsvMapping`] from TOML (over gRPC it is
//! a message of its own). Columns are given by header name (matched trimmed and
//! case-insensitively) or by 0-based index.
//! Unknown keys are refused. Example for a Czech export:
//!
//! ```toml
//! delimiter = ";"              # one character; default ";"
//! has_header = true            # default true
//! skip_lines = 0               # lines before the header (account info some banks print)
//! date_format = "%d.%m.%Y"     # chrono format; default "%d.%m.%Y"
//! decimal_comma = true         # "1 234,50"; false for "1,234.50"; default true
//! default_currency = "CZK"     # needed when no currency column is mapped
//! account = "CZ6508000000192000145399"  # the ISP's account the export is of; see below
//! encoding = "windows-1250"    # default: UTF-8 if the file is valid UTF-8, else windows-1250
//!
//! [columns]
//! transaction_id = "ID pohybu"
//! date = "Datum"
//! amount = "Objem"
//! currency = "Měna"
//! variable_symbol = "VS"
//! specific_symbol = "SS"
//! constant_symbol = "KS"
//! payer_account = "Protiúčet"
//! payer_bank_code = "Kód banky"  # appended as "/0800" to the account
//! payer_name = "Název protiúčtu"
//! message = "Zpráva pro příjemce"
//! # or by index: date = 0, amount = 1, ...
//! ```
//!
//! Only `date` and `amount` are required. Rows whose cells are all empty are skipped; every
//! other row must parse. An empty file (nothing but whitespace, or only the preamble and the
//! header) is an empty statement, not an error.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::payment::{IncomingPayment, normalize_account};

mod camt053;
mod csv;
mod gpc;
#[cfg(test)]
mod tests;

pub use camt053::{parse_camt053, read_camt053};
pub use csv::{Column, CsvColumns, CsvMapping, parse_csv};
pub use gpc::parse_gpc;

// Records

/// One booked movement on the statement.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StatementLine {
    /// Where it is in the file, 1-based: the entry index (`Ntry`, counting every entry of the
    /// document) for camt.053, whose batch entries give several lines with the same number;
    /// the physical line number (the header is line 1) for CSV and GPC.
    pub line: usize,
    /// Never empty; see the module documentation for where it comes from.
    pub bank_transaction_id: String,
    pub booked_on: NaiveDate,
    /// Positive = money in. Always exactly two decimal places.
    pub amount: Decimal,
    /// ISO 4217, upper case ("CZK").
    pub currency: String,
    pub variable_symbol: Option<String>,
    pub specific_symbol: Option<String>,
    pub constant_symbol: Option<String>,
    /// The counterparty's account as the bank writes it ("19-2000145399/0800", an IBAN).
    pub payer_account: Option<String>,
    pub payer_name: Option<String>,
    /// The message for the recipient.
    pub message: Option<String>,
    /// The bank reverses an earlier movement (camt `RvslInd`, GPC codes 4 and 5): never a
    /// payment, whatever its sign.
    pub reversal: bool,
}

impl StatementLine {
    /// Money in that is not a reversal: what the daemon imports as a payment.
    pub fn is_incoming_payment(&self) -> bool {
        self.amount > Decimal::ZERO && !self.reversal
    }

    /// The payment to store, with the id the daemon assigned, of a statement of
    /// `statement_account`; `None` unless [`is_incoming_payment`](Self::is_incoming_payment).
    pub fn to_incoming(&self, id: i64, statement_account: Option<&str>) -> Option<IncomingPayment> {
        self.is_incoming_payment().then(|| IncomingPayment {
            id,
            amount: self.amount,
            received_on: self.booked_on,
            variable_symbol: self.variable_symbol.clone(),
            payer_account: self.payer_account.clone(),
            bank_transaction_id: Some(self.bank_transaction_id.clone()),
            statement_account: statement_account.and_then(normalize_account),
        })
    }
}

/// A parsed statement: its account (when the format names it) and its movements in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Statement {
    /// The statement's own account: the IBAN or other id for camt.053, the account number of
    /// the GPC header; `None` for CSV.
    pub account: Option<String>,
    pub lines: Vec<StatementLine>,
}

impl Statement {
    /// The lines that are payments (see [`StatementLine::is_incoming_payment`]).
    pub fn incoming(&self) -> impl Iterator<Item = &StatementLine> {
        self.lines.iter().filter(|line| line.is_incoming_payment())
    }
}

/// Why a statement was refused. The message names the entry or line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    /// Not a document of that format at all, or its frame is broken (XML syntax, no header).
    #[error("not a valid {format} statement: {problem}")]
    Format {
        format: &'static str,
        problem: String,
    },
    /// A camt.053 entry (`Ntry`, 1-based in document order).
    #[error("entry {entry}: {problem}")]
    Entry { entry: usize, problem: String },
    /// A line of a CSV or GPC file (1-based, physical).
    #[error("line {line}: {problem}")]
    Line { line: usize, problem: String },
    /// The CSV mapping does not fit the file (or is inconsistent in itself).
    #[error("CSV mapping: {0}")]
    Mapping(String),
    /// The bytes are not text in the encoding taken ([`decode`]).
    #[error("{0}")]
    Encoding(String),
}

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

/// `None` for empty text, trimmed text otherwise.
fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// A symbol as written, or `None` when empty or all zeros.
fn symbol(text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() || text.bytes().all(|b| b == b'0') {
        None
    } else {
        Some(text.to_owned())
    }
}

/// Checks precision and range, and returns the amount with exactly two decimal places.
fn storable(amount: Decimal, written: &str) -> Result<Decimal, String> {
    if amount.normalize().scale() > crate::money::SCALE {
        return Err(format!("amount {written:?} has more than 2 decimal places"));
    }
    crate::money::to_minor_units("amount", amount)
        .map(crate::money::from_minor_units)
        .map_err(|_| {
            format!(
                "amount {written:?} is out of range (at most {} either way)",
                crate::money::MAX_AMOUNT
            )
        })
}

/// `amount` with the direction's sign; zero stays zero (never "-0.00").
fn signed(amount: Decimal, direction: Decimal) -> Decimal {
    if amount.is_zero() {
        amount
    } else {
        amount * direction
    }
}

fn currency(code: &str) -> Result<String, String> {
    let upper = code.trim().to_ascii_uppercase();
    if crate::money::is_currency(&upper) {
        Ok(upper)
    } else {
        Err(format!(
            "currency {:?} is not an ISO 4217 code",
            code.trim()
        ))
    }
}

/// Appends a Czech bank code to a domestic account number ("19-2000145399" + "0800"); an
/// account that already has one, or looks like an IBAN, is left alone.
fn with_bank_code(account: Option<String>, bank_code: Option<String>) -> Option<String> {
    let account = account?;
    let Some(code) = bank_code else {
        return Some(account);
    };
    let looks_like_iban =
        account.len() > 2 && account.as_bytes()[..2].iter().all(u8::is_ascii_alphabetic);
    if account.contains('/') || looks_like_iban {
        Some(account)
    } else {
        Some(format!("{account}/{code}"))
    }
}

/// VS, SS and KS of one movement, filled from several sources: the first source to yield a
/// symbol wins.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Symbols {
    variable: Option<String>,
    specific: Option<String>,
    constant: Option<String>,
}

impl Symbols {
    fn slot(&mut self, tag: &str) -> Option<&mut Option<String>> {
        match tag.trim().to_ascii_uppercase().as_str() {
            "VS" => Some(&mut self.variable),
            "SS" => Some(&mut self.specific),
            "KS" => Some(&mut self.constant),
            _ => None,
        }
    }

    /// Fills whatever is still missing from tagged text ("/VS1001/SS/KS0308").
    fn fill_tagged(&mut self, text: &str) {
        for tag in ["VS", "SS", "KS"] {
            if let Some(slot) = self.slot(tag)
                && slot.is_none()
            {
                *slot = tagged_symbol(text, tag);
            }
        }
    }
}

/// The digits after `tag` in `text` (see the module documentation for the accepted forms), the
/// first occurrence that yields a non-zero symbol.
fn tagged_symbol(text: &str, tag: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let tag = tag.as_bytes();
    let mut start = 0;
    while start + tag.len() <= bytes.len() {
        let at = start;
        start += 1;
        if !bytes[at..at + tag.len()].eq_ignore_ascii_case(tag) {
            continue;
        }
        if at > 0 && bytes[at - 1].is_ascii_alphanumeric() {
            continue;
        }
        let mut i = at + tag.len();
        if i < bytes.len() && matches!(bytes[i], b'/' | b':' | b'=' | b'.' | b'-') {
            i += 1;
        }
        while i < bytes.len() && bytes[i] == b' ' {
            i += 1;
        }
        let digits_start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let digits = &text[digits_start..i];
        let ends_cleanly = i == bytes.len() || !bytes[i].is_ascii_alphanumeric();
        if (1..=10).contains(&digits.len())
            && ends_cleanly
            && let Some(symbol) = symbol(digits)
        {
            return Some(symbol);
        }
    }
    None
}

/// 128-bit FNV-1a: tiny, and stable across Rust versions and platforms (unlike `std`'s hasher).
fn fnv1a_128(data: &[u8]) -> u128 {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    data.iter().fold(OFFSET, |hash, &byte| {
        (hash ^ u128::from(byte)).wrapping_mul(PRIME)
    })
}

/// Where an error is reported: camt entries or file lines.
#[derive(Debug, Clone, Copy)]
enum Place {
    Entry,
    Line,
}

impl Place {
    fn error(self, at: usize, problem: impl Into<String>) -> StatementError {
        let problem = problem.into();
        match self {
            Place::Entry => StatementError::Entry { entry: at, problem },
            Place::Line => StatementError::Line { line: at, problem },
        }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Place::Entry => "entry",
            Place::Line => "line",
        })
    }
}

/// The text of a CSV or GPC export as the bank wrote it.
///
/// Czech banks write these in Windows-1250 as often as in UTF-8. `encoding` names it (a WHATWG
/// label such as `"windows-1250"`, `"iso-8859-2"`, `"utf-8"`, as a CSV mapping's `encoding`
/// gives it); without one, text that is valid UTF-8 is UTF-8 — unless read as Windows-1250
/// it has more Czech letters: Windows-1250 bytes can happen to form UTF-8 ("ŮŽ"
/// is D9 8E, an Arabic vowel sign), and such a file is Windows-1250 (found probing from
/// outside: a GPC file with "RŮŽEK" lost a character of its fixed-width record and was
/// refused, a CSV stored the name garbled). Anything else is read as Windows-1250. Amounts,
/// symbols and ids are ASCII in every one of them: only names and messages depend on the
/// choice. A file that is not in the encoding named is refused. camt.053 is XML, which names
/// its own encoding (UTF-8): it is not decoded here.
pub fn decode<'a>(bytes: &'a [u8], encoding: Option<&str>) -> Result<Cow<'a, str>, StatementError> {
    let named = match encoding {
        Some(label) => Some(
            encoding_rs::Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
                StatementError::Mapping(format!(
                    "encoding {label:?} is not one ispd knows (e.g. \"windows-1250\", \"utf-8\")"
                ))
            })?,
        ),
        None => None,
    };
    let encoding = match (named, std::str::from_utf8(bytes)) {
        (Some(named), _) => named,
        (None, Ok(utf8)) if !more_czech_in_windows_1250(utf8, bytes) => encoding_rs::UTF_8,
        (None, _) => encoding_rs::WINDOWS_1250,
    };
    let (text, malformed) = encoding.decode_without_bom_handling(bytes);
    if malformed {
        return Err(StatementError::Encoding(format!(
            "the file is not {} text (a CSV mapping's `encoding` names another)",
            encoding.name()
        )));
    }
    Ok(text)
}

/// Whether `bytes`, valid UTF-8 (`utf8`), read as Windows-1250 have more Czech letters than
/// read as UTF-8 (and read cleanly). A heuristic: a UTF-8 file whose only text outside ASCII
/// is in another script could read as Windows-1250 — a CSV mapping's `encoding` then says.
fn more_czech_in_windows_1250(utf8: &str, bytes: &[u8]) -> bool {
    const LETTERS: &str = "áčďéěíňóřšťúůýžÁČĎÉĚÍŇÓŘŠŤÚŮÝŽ";
    let czech = |text: &str| text.chars().filter(|c| LETTERS.contains(*c)).count();
    if utf8.is_ascii() {
        return false;
    }
    match encoding_rs::WINDOWS_1250.decode_without_bom_handling_and_without_replacement(bytes) {
        Some(cp1250) => czech(&cp1250) > czech(utf8),
        None => false,
    }
}

/// Gives id-less lines (empty `bank_transaction_id`) their derived id and refuses a statement
/// that uses an id twice.
fn finish(
    account: Option<String>,
    mut lines: Vec<StatementLine>,
    place: Place,
) -> Result<Statement, StatementError> {
    let mut identities = Identities::default();
    for line in &mut lines {
        identities.identify(line, account.as_deref(), place)?;
    }
    Ok(Statement { account, lines })
}

/// The bank transaction ids of a statement's lines, given line by line in file order, so a
/// reader that hands its lines on in parts gives each its final id before it goes: an id-less
/// line gets its derived id (counting the identical movements before it), and the first line
/// whose id an earlier line already used refuses the statement.
#[derive(Debug, Default)]
struct Identities {
    occurrences: HashMap<u128, usize>,
    /// Each id used so far, with the line (or entry) that used it first.
    seen: HashMap<String, usize>,
}

impl Identities {
    fn identify(
        &mut self,
        line: &mut StatementLine,
        account: Option<&str>,
        place: Place,
    ) -> Result<(), StatementError> {
        if line.bank_transaction_id.is_empty() {
            let minor = crate::money::to_minor_units("amount", line.amount).unwrap_or_default();
            let key = [
                line.booked_on.to_string(),
                minor.to_string(),
                line.currency.clone(),
                line.variable_symbol.clone().unwrap_or_default(),
                line.specific_symbol.clone().unwrap_or_default(),
                line.constant_symbol.clone().unwrap_or_default(),
                line.payer_account.clone().unwrap_or_default(),
                account.unwrap_or_default().to_owned(),
            ]
            .join("\u{1f}");
            let hash = fnv1a_128(key.as_bytes());
            let n = self.occurrences.entry(hash).or_default();
            *n += 1;
            line.bank_transaction_id = format!("derived:{hash:032x}:{n}");
        }
        if let Some(first) = self.seen.get(&line.bank_transaction_id) {
            return Err(place.error(
                line.line,
                format!(
                    "bank transaction id {:?} is also used by {place} {first}",
                    line.bank_transaction_id
                ),
            ));
        }
        self.seen
            .insert(line.bank_transaction_id.clone(), line.line);
        Ok(())
    }
}

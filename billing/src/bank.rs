//! Bank statements: turning the files operators download from their bank into
//! [`StatementLine`]s that become [`IncomingPayment`]s.
//!
//! Pure like the rest of the crate: text or bytes come in, records come out; the daemon reads
//! the file (and decodes it: CSV and GPC exports of Czech banks are often Windows-1250, which
//! the daemon must turn into a `&str` first; camt.053 must be UTF-8).
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
//! half done.
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
//! When a movement has none, a deterministic id is derived:
//! `derived:<128-bit FNV-1a hash, hex>:<n>`, hashing the booking date, amount, currency, the
//! three symbols, the payer account and the statement's account, where `n` counts identical
//! movements within the file (1 for the first). Such ids survive reordered rows and
//! overlapping exports, but cannot tell two identical movements apart other than by their order
//! in the file: if an export drops or adds one of several identical payments of a day, which
//! one is "new" may be misjudged. Map a real id column whenever the bank provides one.
//! A statement that uses the same id twice is refused (it would make the daemon drop a
//! payment as a duplicate).
//!
//! # CSV mapping
//! Operators' banks all export differently, so the columns are configured; `ispctl payment
//! import FILE --format csv --mapping FILE` reads a [`CsvMapping`] from TOML or JSON. Columns
//! are given by header name (matched trimmed and case-insensitively) or by 0-based index.
//! Unknown keys are refused. Example for a Czech export:
//!
//! ```toml
//! delimiter = ";"              # one character; default ";"
//! has_header = true            # default true
//! skip_lines = 0               # lines before the header (account info some banks print)
//! date_format = "%d.%m.%Y"     # chrono format; default "%d.%m.%Y"
//! decimal_comma = true         # "1 234,50"; false for "1,234.50"; default true
//! default_currency = "CZK"     # needed when no currency column is mapped
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

use std::collections::HashMap;
use std::fmt;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::payment::IncomingPayment;

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

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

    /// The payment to store, with the id the daemon assigned; `None` unless
    /// [`is_incoming_payment`](Self::is_incoming_payment).
    pub fn to_incoming(&self, id: i64) -> Option<IncomingPayment> {
        self.is_incoming_payment().then(|| IncomingPayment {
            id,
            amount: self.amount,
            received_on: self.booked_on,
            variable_symbol: self.variable_symbol.clone(),
            payer_account: self.payer_account.clone(),
            bank_transaction_id: Some(self.bank_transaction_id.clone()),
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

fn is_currency_code(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_alphabetic())
}

fn currency(code: &str) -> Result<String, String> {
    let code = code.trim();
    if is_currency_code(code) {
        Ok(code.to_ascii_uppercase())
    } else {
        Err(format!("currency {code:?} is not an ISO 4217 code"))
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

/// Gives id-less lines (empty `bank_transaction_id`) their derived id and refuses a statement
/// that uses an id twice.
fn finish(
    account: Option<String>,
    mut lines: Vec<StatementLine>,
    place: Place,
) -> Result<Statement, StatementError> {
    let mut occurrences: HashMap<u128, usize> = HashMap::new();
    for line in lines
        .iter_mut()
        .filter(|l| l.bank_transaction_id.is_empty())
    {
        let minor = crate::money::to_minor_units("amount", line.amount).unwrap_or_default();
        let key = [
            line.booked_on.to_string(),
            minor.to_string(),
            line.currency.clone(),
            line.variable_symbol.clone().unwrap_or_default(),
            line.specific_symbol.clone().unwrap_or_default(),
            line.constant_symbol.clone().unwrap_or_default(),
            line.payer_account.clone().unwrap_or_default(),
            account.clone().unwrap_or_default(),
        ]
        .join("\u{1f}");
        let hash = fnv1a_128(key.as_bytes());
        let n = occurrences.entry(hash).or_default();
        *n += 1;
        line.bank_transaction_id = format!("derived:{hash:032x}:{n}");
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for line in &lines {
        if let Some(first) = seen.insert(&line.bank_transaction_id, line.line) {
            return Err(place.error(
                line.line,
                format!(
                    "bank transaction id {:?} is also used by {place} {first}",
                    line.bank_transaction_id
                ),
            ));
        }
    }
    Ok(Statement { account, lines })
}

// ---------------------------------------------------------------------------------------------
// camt.053
// ---------------------------------------------------------------------------------------------

const CAMT: &str = "camt.053";

/// Nesting deeper than this is refused: camt.053 needs about 12 levels, and a bounded tree
/// cannot exhaust the stack when it is dropped.
const MAX_XML_DEPTH: usize = 64;

/// A minimal element tree: local names (namespace prefixes dropped), attributes, the text
/// directly inside, children in order.
#[derive(Debug, Default)]
struct Element {
    name: String,
    attributes: Vec<(String, String)>,
    text: String,
    children: Vec<Element>,
}

impl Element {
    fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The first element along the path.
    fn at(&self, path: &[&str]) -> Option<&Element> {
        path.iter()
            .try_fold(self, |element, name| element.child(name))
    }

    /// The trimmed text at the path, if any.
    fn text_at(&self, path: &[&str]) -> Option<&str> {
        self.at(path)
            .map(|e| e.text.trim())
            .filter(|t| !t.is_empty())
    }

    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.trim())
    }
}

fn xml_error(problem: impl Into<String>) -> StatementError {
    StatementError::Format {
        format: CAMT,
        problem: problem.into(),
    }
}

fn local_name(raw: &[u8]) -> Result<String, StatementError> {
    std::str::from_utf8(raw)
        .map(str::to_owned)
        .map_err(|_| xml_error("an element name is not valid UTF-8"))
}

fn new_element(
    start: &quick_xml::events::BytesStart<'_>,
    decoder: quick_xml::encoding::Decoder,
) -> Result<Element, StatementError> {
    let mut element = Element {
        name: local_name(start.local_name().as_ref())?,
        ..Element::default()
    };
    for attribute in start.attributes() {
        let attribute = attribute
            .map_err(|e| xml_error(format!("bad attribute in <{}>: {e}", element.name)))?;
        let key = local_name(attribute.key.local_name().as_ref())?;
        let value = attribute
            .decode_and_unescape_value(decoder)
            .map_err(|e| xml_error(format!("bad attribute value in <{}>: {e}", element.name)))?;
        element.attributes.push((key, value.into_owned()));
    }
    Ok(element)
}

/// Parses the bytes into an element tree (the root element).
fn parse_xml(xml: &[u8]) -> Result<Element, StatementError> {
    use quick_xml::events::Event;

    let mut reader = quick_xml::Reader::from_reader(xml);
    reader.config_mut().check_end_names = true;
    let mut declared_encoding: Option<String> = None;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;

    let encoding_hint = |declared: &Option<String>| match declared {
        Some(encoding) if !encoding.eq_ignore_ascii_case("utf-8") => {
            format!(" (the document declares {encoding}; convert it to UTF-8)")
        }
        _ => String::new(),
    };

    loop {
        let event = reader.read_event().map_err(|e| {
            xml_error(format!(
                "XML error at byte {}: {e}{}",
                reader.error_position(),
                encoding_hint(&declared_encoding)
            ))
        })?;
        let position = reader.buffer_position();
        let text_error = |what: &str| {
            xml_error(format!(
                "{what} near byte {position} is not valid UTF-8{}",
                encoding_hint(&declared_encoding)
            ))
        };
        let text: Option<String> = match event {
            Event::Decl(decl) => {
                if let Some(Ok(encoding)) = decl.encoding() {
                    declared_encoding = Some(String::from_utf8_lossy(&encoding).into_owned());
                }
                None
            }
            Event::Start(start) => {
                if stack.len() >= MAX_XML_DEPTH {
                    return Err(xml_error(format!(
                        "elements nested deeper than {MAX_XML_DEPTH} levels"
                    )));
                }
                let element = new_element(&start, reader.decoder())?;
                if root.is_some() && stack.is_empty() {
                    return Err(xml_error("more than one root element"));
                }
                stack.push(element);
                None
            }
            Event::Empty(start) => {
                let element = new_element(&start, reader.decoder())?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None if root.is_none() => root = Some(element),
                    None => return Err(xml_error("more than one root element")),
                }
                None
            }
            Event::End(_) => {
                let element = stack
                    .pop()
                    .ok_or_else(|| xml_error("an end tag without a start tag"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
                None
            }
            Event::Text(text) => Some(
                text.xml10_content()
                    .map_err(|_| text_error("text"))?
                    .into_owned(),
            ),
            Event::CData(data) => {
                Some(data.decode().map_err(|_| text_error("CDATA"))?.into_owned())
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    Ok(None) => {
                        let name = reference.decode().map_err(|_| text_error("an entity"))?;
                        match name.as_ref() {
                            "amp" => '&',
                            "lt" => '<',
                            "gt" => '>',
                            "quot" => '"',
                            "apos" => '\'',
                            other => {
                                return Err(xml_error(format!(
                                    "unknown entity &{other}; near byte {position}"
                                )));
                            }
                        }
                    }
                    Err(e) => return Err(xml_error(format!("bad character reference: {e}"))),
                };
                Some(resolved.to_string())
            }
            Event::Eof => break,
            Event::Comment(_) | Event::PI(_) | Event::DocType(_) => None,
        };
        if let Some(text) = text {
            match stack.last_mut() {
                Some(element) => element.text.push_str(&text),
                None if text.trim().is_empty() => {}
                None => return Err(xml_error("text outside the root element")),
            }
        }
    }
    if let Some(open) = stack.last() {
        return Err(xml_error(format!("<{}> is never closed", open.name)));
    }
    root.ok_or_else(|| xml_error("no root element"))
}

/// An account id: `IBAN` or `Othr/Id` under an `Id` element.
fn account_id(id: Option<&Element>) -> Option<String> {
    let id = id?;
    id.text_at(&["IBAN"])
        .or_else(|| id.text_at(&["Othr", "Id"]))
        .map(str::to_owned)
}

/// Parses an ISO 20022 camt.053 bank-to-customer statement (UTF-8).
///
/// Every `Stmt` of the document is read; they must all be for the same account (a file
/// covering several accounts is refused: import them separately). Per booked entry (`Ntry`):
/// - the amount is `Amt` with its `Ccy` (or the account's `Acct/Ccy`), signed by `CdtDbtInd`
///   (`CRDT` positive, `DBIT` negative); `RvslInd` true marks a reversal;
/// - the booking date is `BookgDt/Dt` or the date part of `BookgDt/DtTm` (required);
/// - an entry with no or one `TxDtls` gives one line with the entry amount; a batch entry with
///   several `TxDtls` gives one line per transaction, each with its own amount (`TxDtls/Amt`
///   or `AmtDtls/TxAmt/Amt`, required) and direction (`TxDtls/CdtDbtInd` or the entry's),
///   and the transactions must add up to the entry amount when they are in its currency;
/// - payer: `RltdPties/DbtrAcct/Id/(IBAN|Othr/Id)` and `RltdPties/Dbtr/(Nm|Pty/Nm)` for
///   credits (the `Cdtr` side for debits); a domestic `Othr/Id` without a bank code gets the
///   4-digit code of `RltdAgts/DbtrAgt/FinInstnId/(ClrSysMmbId/MmbId|Othr/Id)` appended;
/// - message: the `RmtInf/Ustrd` lines joined with spaces, else `AddtlTxInf`, else
///   `AddtlNtryInf`;
/// - symbols and transaction ids: see the module documentation.
pub fn parse_camt053(xml: &[u8]) -> Result<Statement, StatementError> {
    let document = parse_xml(xml)?;
    if document.name != "Document" {
        return Err(xml_error(format!(
            "the root element is <{}>, not <Document>",
            document.name
        )));
    }
    let report = document.child("BkToCstmrStmt").ok_or_else(|| {
        xml_error("no <BkToCstmrStmt> in <Document> (is this a camt.052 or camt.054?)")
    })?;
    let mut account: Option<String> = None;
    let mut lines = Vec::new();
    let mut entry_index = 0;
    for (n, statement) in report.children("Stmt").enumerate() {
        let this_account = account_id(statement.at(&["Acct", "Id"]));
        if n > 0 && this_account != account {
            return Err(xml_error(format!(
                "statements for several accounts ({} and {}): import them separately",
                account.as_deref().unwrap_or("unnamed"),
                this_account.as_deref().unwrap_or("unnamed")
            )));
        }
        account = this_account;
        let account_currency = statement.text_at(&["Acct", "Ccy"]);
        for entry in statement.children("Ntry") {
            entry_index += 1;
            camt_entry(entry_index, entry, account_currency, &mut lines).map_err(|problem| {
                StatementError::Entry {
                    entry: entry_index,
                    problem,
                }
            })?;
        }
    }
    finish(account, lines, Place::Entry)
}

fn camt_amount(
    element: Option<&Element>,
    fallback_currency: Option<&str>,
) -> Result<(Decimal, String), String> {
    let element = element.ok_or("amount (Amt) is missing")?;
    let text = element.text.trim();
    if text.is_empty() {
        return Err("amount (Amt) is empty".into());
    }
    let (whole, fraction) = text.split_once('.').unwrap_or((text, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(fraction) {
        return Err(format!("amount {text:?} is not a number"));
    }
    let amount: Decimal = text
        .parse()
        .map_err(|_| format!("amount {text:?} is out of range"))?;
    let amount = storable(amount, text)?;
    let code = element
        .attribute("Ccy")
        .or(fallback_currency)
        .ok_or_else(|| format!("amount {text:?} has no currency (Ccy)"))?;
    Ok((amount, currency(code)?))
}

fn camt_direction(indicator: Option<&str>) -> Result<Decimal, String> {
    match indicator {
        Some("CRDT") => Ok(Decimal::ONE),
        Some("DBIT") => Ok(Decimal::NEGATIVE_ONE),
        Some(other) => Err(format!(
            "credit/debit indicator {other:?} is neither CRDT nor DBIT"
        )),
        None => Err("credit/debit indicator (CdtDbtInd) is missing".into()),
    }
}

/// `2026-03-05`, `2026-03-05+01:00`, `2026-03-05T10:15:00.000+01:00`: the date as written.
fn camt_date(text: &str) -> Option<NaiveDate> {
    let date = text.get(..10)?;
    let rest = &text[10..];
    let rest_ok = rest.is_empty() || rest.starts_with(['T', 'Z', '+', '-']);
    rest_ok
        .then(|| NaiveDate::parse_from_str(date, "%Y-%m-%d").ok())
        .flatten()
}

/// Appends one line per transaction of the entry (none for pending entries).
fn camt_entry(
    index: usize,
    entry: &Element,
    account_currency: Option<&str>,
    lines: &mut Vec<StatementLine>,
) -> Result<(), String> {
    let status = entry
        .text_at(&["Sts", "Cd"])
        .or_else(|| entry.text_at(&["Sts"]));
    if status.is_some_and(|s| s != "BOOK") {
        return Ok(());
    }
    let (amount, entry_currency) = camt_amount(entry.child("Amt"), account_currency)?;
    let direction = camt_direction(entry.text_at(&["CdtDbtInd"]))?;
    let reversal = matches!(entry.text_at(&["RvslInd"]), Some("true" | "1"));
    let booked = entry
        .child("BookgDt")
        .ok_or("booking date (BookgDt) is missing")?;
    let booked_text = booked
        .text_at(&["Dt"])
        .or_else(|| booked.text_at(&["DtTm"]))
        .ok_or("booking date (BookgDt/Dt or DtTm) is missing")?;
    let booked_on = camt_date(booked_text)
        .ok_or_else(|| format!("booking date {booked_text:?} is not a date"))?;
    let entry_ref = entry.text_at(&["AcctSvcrRef"]);
    let transactions: Vec<&Element> = entry
        .children("NtryDtls")
        .flat_map(|details| details.children("TxDtls"))
        .collect();

    let base = StatementLine {
        line: index,
        bank_transaction_id: String::new(),
        booked_on,
        amount: signed(amount, direction),
        currency: entry_currency.clone(),
        variable_symbol: None,
        specific_symbol: None,
        constant_symbol: None,
        payer_account: None,
        payer_name: None,
        message: None,
        reversal,
    };

    if transactions.len() <= 1 {
        let tx = transactions.first().copied();
        let mut line = camt_details(base, tx, entry);
        line.bank_transaction_id = entry_ref
            .or_else(|| tx.and_then(transaction_ref))
            .map(str::to_owned)
            .unwrap_or_default();
        lines.push(line);
        return Ok(());
    }

    let mut sum = Decimal::ZERO;
    let mut comparable = true;
    for (k, tx) in transactions.iter().enumerate() {
        let k = k + 1;
        let amount_element = tx
            .child("Amt")
            .or_else(|| tx.at(&["AmtDtls", "TxAmt", "Amt"]))
            .ok_or_else(|| {
                format!("transaction {k} of the batch has no amount (AmtDtls/TxAmt/Amt)")
            })?;
        let (tx_amount, tx_currency) = camt_amount(Some(amount_element), Some(&entry_currency))
            .map_err(|problem| format!("transaction {k}: {problem}"))?;
        let tx_direction = match tx.text_at(&["CdtDbtInd"]) {
            Some(indicator) => camt_direction(Some(indicator))
                .map_err(|problem| format!("transaction {k}: {problem}"))?,
            None => direction,
        };
        let tx_signed = signed(tx_amount, tx_direction);
        comparable &= tx_currency == entry_currency;
        sum += tx_signed;
        let mut line = camt_details(
            StatementLine {
                amount: tx_signed,
                currency: tx_currency,
                ..base.clone()
            },
            Some(tx),
            entry,
        );
        line.bank_transaction_id = transaction_ref(tx)
            .map(str::to_owned)
            .or_else(|| entry_ref.map(|r| format!("{r}/{k}")))
            .unwrap_or_default();
        lines.push(line);
    }
    if comparable && sum != signed(amount, direction) {
        return Err(format!(
            "the batch's transactions add up to {sum} but the entry is {}",
            signed(amount, direction)
        ));
    }
    Ok(())
}

/// The bank's own reference of a transaction.
fn transaction_ref(tx: &Element) -> Option<&str> {
    tx.text_at(&["Refs", "AcctSvcrRef"])
        .or_else(|| tx.text_at(&["Refs", "TxId"]))
}

/// Fills symbols, payer and message from the transaction details (if any) and the entry.
fn camt_details(mut line: StatementLine, tx: Option<&Element>, entry: &Element) -> StatementLine {
    let mut symbols = Symbols::default();
    let remittance = tx.and_then(|tx| tx.child("RmtInf"));
    let references: Vec<&Element> = remittance
        .into_iter()
        .flat_map(|r| r.children("Strd"))
        .flat_map(|s| s.children("CdtrRefInf"))
        .collect();
    // 1. Typed structured references.
    for reference in &references {
        let kind = reference
            .text_at(&["Tp", "CdOrPrtry", "Prtry"])
            .or_else(|| reference.text_at(&["Tp", "CdOrPrtry", "Cd"]));
        if let (Some(kind), Some(value)) = (kind, reference.text_at(&["Ref"]))
            && let Some(slot) = symbols.slot(kind)
            && slot.is_none()
        {
            let digits: String = value.chars().filter(|c| !c.is_whitespace()).collect();
            *slot =
                if (1..=10).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
                    symbol(&digits)
                } else {
                    tagged_symbol(value, kind.trim())
                };
        }
    }
    // 2. EndToEndId, tagged.
    if let Some(end_to_end) = tx.and_then(|tx| tx.text_at(&["Refs", "EndToEndId"])) {
        symbols.fill_tagged(end_to_end);
    }
    // 3. Structured references: tagged, or plain digits as the VS.
    for reference in &references {
        if let Some(value) = reference.text_at(&["Ref"]) {
            symbols.fill_tagged(value);
            let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
            if symbols.variable.is_none()
                && (1..=10).contains(&compact.len())
                && compact.bytes().all(|b| b.is_ascii_digit())
            {
                symbols.variable = symbol(&compact);
            }
        }
    }
    // 4. Unstructured message, 5. additional information: tagged only.
    let unstructured: Vec<&str> = remittance
        .into_iter()
        .flat_map(|r| r.children("Ustrd"))
        .map(|u| u.text.trim())
        .filter(|t| !t.is_empty())
        .collect();
    for text in &unstructured {
        symbols.fill_tagged(text);
    }
    let additional_tx = tx.and_then(|tx| tx.text_at(&["AddtlTxInf"]));
    let additional_entry = entry.text_at(&["AddtlNtryInf"]);
    for text in [additional_tx, additional_entry].into_iter().flatten() {
        symbols.fill_tagged(text);
    }

    // The counterparty of the underlying transaction: the debtor of a credit, the creditor of
    // a debit; a reversal turns the direction, its parties are the original transaction's.
    let credit = !line.amount.is_sign_negative();
    let (party, party_account, agent) = if credit != line.reversal {
        ("Dbtr", "DbtrAcct", "DbtrAgt")
    } else {
        ("Cdtr", "CdtrAcct", "CdtrAgt")
    };
    let parties = tx.and_then(|tx| tx.child("RltdPties"));
    let account = account_id(parties.and_then(|p| p.at(&[party_account, "Id"])));
    let bank_code = tx
        .and_then(|tx| tx.at(&["RltdAgts", agent, "FinInstnId"]))
        .and_then(|institution| {
            institution
                .text_at(&["ClrSysMmbId", "MmbId"])
                .or_else(|| institution.text_at(&["Othr", "Id"]))
        })
        .filter(|code| code.len() == 4 && code.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_owned);
    let name = parties.and_then(|p| {
        p.text_at(&[party, "Nm"])
            .or_else(|| p.text_at(&[party, "Pty", "Nm"]))
    });
    let message = if unstructured.is_empty() {
        additional_tx.or(additional_entry).map(str::to_owned)
    } else {
        Some(unstructured.join(" "))
    };

    line.variable_symbol = symbols.variable;
    line.specific_symbol = symbols.specific;
    line.constant_symbol = symbols.constant;
    line.payer_account = with_bank_code(account, bank_code);
    line.payer_name = name.map(str::to_owned);
    line.message = message;
    line
}

// ---------------------------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------------------------

/// A column of the CSV: by header name or by 0-based index. In TOML/JSON a string is a name and
/// a non-negative integer an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    Index(usize),
    Name(String),
}

impl From<usize> for Column {
    fn from(index: usize) -> Self {
        Column::Index(index)
    }
}

impl From<&str> for Column {
    fn from(name: &str) -> Self {
        Column::Name(name.to_owned())
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Column::Index(index) => write!(f, "column {index}"),
            Column::Name(name) => write!(f, "column {name:?}"),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Column {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ColumnVisitor;

        impl serde::de::Visitor<'_> for ColumnVisitor {
            type Value = Column;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a header name or a 0-based column index")
            }

            fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<Column, E> {
                usize::try_from(value)
                    .map(Column::Index)
                    .map_err(|_| E::custom(format!("column index {value} is too large")))
            }

            fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<Column, E> {
                u64::try_from(value)
                    .map_err(|_| E::custom(format!("column index {value} is negative")))
                    .and_then(|value| self.visit_u64(value))
            }

            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Column, E> {
                if value.trim().is_empty() {
                    Err(E::custom("a column name must not be empty"))
                } else {
                    Ok(Column::Name(value.to_owned()))
                }
            }
        }

        deserializer.deserialize_any(ColumnVisitor)
    }
}

/// Which column holds what. Only `date` and `amount` are required.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvColumns {
    #[serde(default)]
    pub transaction_id: Option<Column>,
    pub date: Column,
    /// Signed: negative amounts are money out.
    pub amount: Column,
    #[serde(default)]
    pub currency: Option<Column>,
    #[serde(default)]
    pub variable_symbol: Option<Column>,
    #[serde(default)]
    pub specific_symbol: Option<Column>,
    #[serde(default)]
    pub constant_symbol: Option<Column>,
    #[serde(default)]
    pub payer_account: Option<Column>,
    /// Appended as "/code" to the payer account (Czech exports split them), unless the account
    /// already has a bank code or is an IBAN.
    #[serde(default)]
    pub payer_bank_code: Option<Column>,
    #[serde(default)]
    pub payer_name: Option<Column>,
    #[serde(default)]
    pub message: Option<Column>,
}

impl CsvColumns {
    /// Just the required columns; set the others as needed.
    pub fn new(date: impl Into<Column>, amount: impl Into<Column>) -> Self {
        Self {
            transaction_id: None,
            date: date.into(),
            amount: amount.into(),
            currency: None,
            variable_symbol: None,
            specific_symbol: None,
            constant_symbol: None,
            payer_account: None,
            payer_bank_code: None,
            payer_name: None,
            message: None,
        }
    }
}

/// How to read an operator's CSV export; see the module documentation for a TOML example.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvMapping {
    /// The field separator, one ASCII character (in TOML/JSON a one-character string such as
    /// `";"` or `"\t"`, or its code). Default `;`.
    #[serde(
        default = "default_delimiter",
        deserialize_with = "deserialize_delimiter"
    )]
    pub delimiter: u8,
    /// The first row (after `skip_lines`) names the columns. Default true.
    #[serde(default = "default_true")]
    pub has_header: bool,
    /// Lines to ignore before the header or the data (account details some banks print first).
    #[serde(default)]
    pub skip_lines: usize,
    /// A chrono format for the booking date. Default `%d.%m.%Y`.
    #[serde(default = "default_date_format")]
    pub date_format: String,
    /// Amounts are written "1 234,50" (comma decimal, space/no-break space/dot groups);
    /// false for "1,234.50" (dot decimal, space/no-break space/comma/apostrophe groups).
    /// Default true.
    #[serde(default = "default_true")]
    pub decimal_comma: bool,
    /// The currency of rows without a currency column or with an empty currency cell.
    #[serde(default)]
    pub default_currency: Option<String>,
    pub columns: CsvColumns,
}

fn default_delimiter() -> u8 {
    b';'
}

fn default_true() -> bool {
    true
}

fn default_date_format() -> String {
    "%d.%m.%Y".to_owned()
}

fn deserialize_delimiter<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<u8, D::Error> {
    struct DelimiterVisitor;

    impl serde::de::Visitor<'_> for DelimiterVisitor {
        type Value = u8;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("one ASCII character such as \";\" or \"\\t\"")
        }

        fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<u8, E> {
            match value.as_bytes() {
                [byte] if byte.is_ascii() => Ok(*byte),
                _ => Err(E::custom(format!(
                    "the delimiter must be one ASCII character, not {value:?}"
                ))),
            }
        }

        fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<u8, E> {
            u8::try_from(value)
                .ok()
                .filter(u8::is_ascii)
                .ok_or_else(|| E::custom(format!("delimiter code {value} is not ASCII")))
        }

        fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<u8, E> {
            u64::try_from(value)
                .map_err(|_| E::custom(format!("delimiter code {value} is not ASCII")))
                .and_then(|value| self.visit_u64(value))
        }
    }

    deserializer.deserialize_any(DelimiterVisitor)
}

impl CsvMapping {
    /// The defaults (`;`, a header, `%d.%m.%Y`, decimal comma, no default currency).
    pub fn new(columns: CsvColumns) -> Self {
        Self {
            delimiter: default_delimiter(),
            has_header: true,
            skip_lines: 0,
            date_format: default_date_format(),
            decimal_comma: true,
            default_currency: None,
            columns,
        }
    }
}

/// Column indices after looking the names up in the header.
struct Resolved {
    transaction_id: Option<usize>,
    date: usize,
    amount: usize,
    currency: Option<usize>,
    variable_symbol: Option<usize>,
    specific_symbol: Option<usize>,
    constant_symbol: Option<usize>,
    payer_account: Option<usize>,
    payer_bank_code: Option<usize>,
    payer_name: Option<usize>,
    message: Option<usize>,
}

fn resolve_column(column: &Column, header: Option<&[String]>) -> Result<usize, StatementError> {
    match (column, header) {
        (Column::Index(index), Some(header)) if *index >= header.len() => {
            Err(StatementError::Mapping(format!(
                "column {index} does not exist: the header has {} columns",
                header.len()
            )))
        }
        (Column::Index(index), _) => Ok(*index),
        (Column::Name(name), None) => Err(StatementError::Mapping(format!(
            "column {name:?} is given by name but the file has no header (has_header = false): use its index"
        ))),
        (Column::Name(name), Some(header)) => {
            let wanted = name.trim().to_lowercase();
            let mut found = header
                .iter()
                .enumerate()
                .filter(|(_, h)| h.trim().to_lowercase() == wanted)
                .map(|(i, _)| i);
            match (found.next(), found.next()) {
                (Some(index), None) => Ok(index),
                (Some(first), Some(second)) => Err(StatementError::Mapping(format!(
                    "column {name:?} appears more than once in the header (columns {first} and {second}): map it by index"
                ))),
                (None, _) => Err(StatementError::Mapping(format!(
                    "column {name:?} is not in the header (it has: {})",
                    header
                        .iter()
                        .map(|h| format!("{:?}", h.trim()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))),
            }
        }
    }
}

impl Resolved {
    fn new(columns: &CsvColumns, header: Option<&[String]>) -> Result<Self, StatementError> {
        let optional = |column: &Option<Column>| {
            column
                .as_ref()
                .map(|c| resolve_column(c, header))
                .transpose()
        };
        Ok(Self {
            transaction_id: optional(&columns.transaction_id)?,
            date: resolve_column(&columns.date, header)?,
            amount: resolve_column(&columns.amount, header)?,
            currency: optional(&columns.currency)?,
            variable_symbol: optional(&columns.variable_symbol)?,
            specific_symbol: optional(&columns.specific_symbol)?,
            constant_symbol: optional(&columns.constant_symbol)?,
            payer_account: optional(&columns.payer_account)?,
            payer_bank_code: optional(&columns.payer_bank_code)?,
            payer_name: optional(&columns.payer_name)?,
            message: optional(&columns.message)?,
        })
    }
}

/// Checks what can be checked without the file.
fn check_mapping(mapping: &CsvMapping) -> Result<(), StatementError> {
    use chrono::format::{Item, StrftimeItems};

    if matches!(mapping.delimiter, b'"' | b'\n' | b'\r') || !mapping.delimiter.is_ascii() {
        return Err(StatementError::Mapping(format!(
            "{:?} cannot be the delimiter",
            char::from(mapping.delimiter)
        )));
    }
    if mapping.date_format.trim().is_empty()
        || StrftimeItems::new(&mapping.date_format).any(|item| matches!(item, Item::Error))
    {
        return Err(StatementError::Mapping(format!(
            "date_format {:?} is not a valid chrono format",
            mapping.date_format
        )));
    }
    if let Some(code) = &mapping.default_currency {
        currency(code)
            .map_err(|problem| StatementError::Mapping(format!("default_currency: {problem}")))?;
    }
    if mapping.columns.currency.is_none() && mapping.default_currency.is_none() {
        return Err(StatementError::Mapping(
            "no currency column and no default_currency".into(),
        ));
    }
    Ok(())
}

/// Parses a CSV amount: optional sign, digits with optional thousands groups, and at most two
/// decimals ("-1 234,50", "1.234,5", "+500" with `decimal_comma`; "1,234.50" without).
/// The problem is returned without the line.
fn parse_amount(text: &str, decimal_comma: bool) -> Result<Decimal, String> {
    let written = text.trim();
    if written.is_empty() {
        return Err("amount is missing".into());
    }
    let not_a_number = || format!("amount {written:?} is not a number");
    let (negative, unsigned) = match written.as_bytes()[0] {
        b'-' => (true, written[1..].trim_start()),
        b'+' => (false, written[1..].trim_start()),
        _ => (false, written),
    };
    let (decimal_point, groups): (char, &[char]) = if decimal_comma {
        (',', &[' ', '\u{a0}', '\u{202f}', '.'])
    } else {
        ('.', &[' ', '\u{a0}', '\u{202f}', ',', '\''])
    };
    let (whole, fraction) = match unsigned.split_once(decimal_point) {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let is_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if let Some(fraction) = fraction {
        if !is_digits(fraction) {
            return Err(not_a_number());
        }
        if fraction.len() > 2 {
            return Err(format!("amount {written:?} has more than 2 decimal places"));
        }
    }
    let mut digits = String::with_capacity(unsigned.len());
    for (i, group) in whole.split(groups).enumerate() {
        let grouped = whole.contains(groups);
        let size_ok = !grouped
            || if i == 0 {
                group.len() <= 3
            } else {
                group.len() == 3
            };
        if !is_digits(group) || !size_ok {
            return Err(not_a_number());
        }
        digits.push_str(group);
    }
    let fraction = fraction.unwrap_or("0");
    let amount: Decimal = format!("{digits}.{fraction}")
        .parse()
        .map_err(|_| format!("amount {written:?} is out of range"))?;
    storable(if negative { -amount } else { amount }, written)
}

/// Byte offset after the first `n` lines.
fn skip_lines(text: &str, n: usize) -> &str {
    let mut rest = text;
    for _ in 0..n {
        match rest.find('\n') {
            Some(end) => rest = &rest[end + 1..],
            None => return "",
        }
    }
    rest
}

/// Physical line numbers of record starts. The csv crate's own line count lags by one after a
/// CRLF terminator, so lines are counted here from the records' byte offsets, incrementally
/// (records come in file order).
struct LineCounter<'a> {
    text: &'a [u8],
    counted_to: usize,
    newlines: usize,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text: text.as_bytes(),
            counted_to: 0,
            newlines: 0,
        }
    }

    /// The 1-based line of the record starting at `byte` (line terminators and blank lines
    /// in front of it are skipped).
    fn line_at(&mut self, byte: usize) -> usize {
        let mut start = byte.min(self.text.len());
        while start < self.text.len() && matches!(self.text[start], b'\r' | b'\n') {
            start += 1;
        }
        if start > self.counted_to {
            self.newlines += self.text[self.counted_to..start]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            self.counted_to = start;
        }
        self.newlines + 1
    }
}

/// Parses a CSV export with the operator's mapping. Every row with data must parse, or the
/// whole file is refused naming its line. Lines are the physical line numbers of the file
/// (counting `skip_lines` and the header). See the module documentation for ids and the
/// empty-file rule.
pub fn parse_csv(text: &str, mapping: &CsvMapping) -> Result<Statement, StatementError> {
    check_mapping(mapping)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let body = skip_lines(text, mapping.skip_lines);
    if body.trim().is_empty() {
        return Ok(Statement::default());
    }
    let skipped = mapping.skip_lines;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(mapping.delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(body.as_bytes());
    let mut records = reader.records();
    let mut lines_before = LineCounter::new(body);
    let mut record_line = |record: &csv::StringRecord| {
        let byte = record
            .position()
            .map_or(0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX));
        lines_before.line_at(byte).saturating_add(skipped)
    };
    let csv_error = |error: csv::Error| {
        let line = error
            .position()
            .map_or(0, |p| usize::try_from(p.line()).unwrap_or(usize::MAX))
            .saturating_add(skipped);
        StatementError::Line {
            line,
            problem: format!("unreadable CSV: {error}"),
        }
    };

    let header: Option<Vec<String>> = if mapping.has_header {
        match records.next() {
            Some(record) => Some(
                record
                    .map_err(csv_error)?
                    .iter()
                    .map(str::to_owned)
                    .collect(),
            ),
            None => return Ok(Statement::default()),
        }
    } else {
        None
    };
    let columns = Resolved::new(&mapping.columns, header.as_deref())?;
    let default_currency = mapping
        .default_currency
        .as_deref()
        .map(currency)
        .transpose()
        .map_err(StatementError::Mapping)?;

    let mut lines = Vec::new();
    for record in records {
        let record = record.map_err(csv_error)?;
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        let line = record_line(&record);
        let row = csv_row(
            &record,
            line,
            &columns,
            mapping,
            default_currency.as_deref(),
        )
        .map_err(|problem| StatementError::Line { line, problem })?;
        lines.push(row);
    }
    finish(None, lines, Place::Line)
}

fn csv_row(
    record: &csv::StringRecord,
    line: usize,
    columns: &Resolved,
    mapping: &CsvMapping,
    default_currency: Option<&str>,
) -> Result<StatementLine, String> {
    let required = |index: usize, what: &str| {
        record.get(index).ok_or_else(|| {
            format!(
                "the row has {} columns, so it has no {what} (column {index})",
                record.len()
            )
        })
    };
    let optional = |index: Option<usize>| index.and_then(|i| record.get(i)).unwrap_or("");

    let date_text = required(columns.date, "date")?.trim();
    if date_text.is_empty() {
        return Err("date is missing".into());
    }
    let booked_on = NaiveDate::parse_from_str(date_text, &mapping.date_format).map_err(|_| {
        format!(
            "date {date_text:?} does not match the format {:?}",
            mapping.date_format
        )
    })?;
    let amount = parse_amount(required(columns.amount, "amount")?, mapping.decimal_comma)?;
    let currency = match non_empty(optional(columns.currency)) {
        Some(code) => currency(&code)?,
        None => default_currency
            .map(str::to_owned)
            .ok_or("currency is missing and the mapping has no default_currency")?,
    };
    Ok(StatementLine {
        line,
        bank_transaction_id: non_empty(optional(columns.transaction_id)).unwrap_or_default(),
        booked_on,
        amount,
        currency,
        variable_symbol: symbol(optional(columns.variable_symbol)),
        specific_symbol: symbol(optional(columns.specific_symbol)),
        constant_symbol: symbol(optional(columns.constant_symbol)),
        payer_account: with_bank_code(
            non_empty(optional(columns.payer_account)),
            non_empty(optional(columns.payer_bank_code)),
        ),
        payer_name: non_empty(optional(columns.payer_name)),
        message: non_empty(optional(columns.message)),
        reversal: false,
    })
}

// ---------------------------------------------------------------------------------------------
// GPC (ABO)
// ---------------------------------------------------------------------------------------------

const GPC: &str = "GPC";

/// ISO 4217 numeric codes used in GPC's `075` record.
const GPC_CURRENCIES: &[(u16, &str)] = &[
    (36, "AUD"),
    (124, "CAD"),
    (156, "CNY"),
    (191, "HRK"),
    (203, "CZK"),
    (208, "DKK"),
    (348, "HUF"),
    (392, "JPY"),
    (578, "NOK"),
    (643, "RUB"),
    (752, "SEK"),
    (756, "CHF"),
    (826, "GBP"),
    (840, "USD"),
    (946, "RON"),
    (949, "TRY"),
    (975, "BGN"),
    (978, "EUR"),
    (985, "PLN"),
];

/// Characters `from..to` of a record (0-based, by character, so a decoded Windows-1250 name
/// keeps the fixed positions); missing characters read as spaces.
fn field(chars: &[char], from: usize, to: usize) -> String {
    (from..to)
        .map(|i| chars.get(i).copied().unwrap_or(' '))
        .collect()
}

fn gpc_digits(chars: &[char], from: usize, to: usize, what: &str) -> Result<String, String> {
    let text = field(chars, from, to);
    if text.bytes().all(|b| b.is_ascii_digit()) {
        Ok(text)
    } else {
        Err(format!("{what} {:?} is not a number", text.trim()))
    }
}

/// A symbol field: digits, or spaces for "none".
fn gpc_symbol(
    chars: &[char],
    from: usize,
    to: usize,
    what: &str,
) -> Result<Option<String>, String> {
    let text = field(chars, from, to);
    let trimmed = text.trim();
    if trimmed.bytes().all(|b| b.is_ascii_digit()) {
        Ok(symbol(trimmed))
    } else {
        Err(format!("{what} {trimmed:?} is not a number"))
    }
}

/// DDMMYY, 21st century.
fn gpc_date(chars: &[char], from: usize, what: &str) -> Result<NaiveDate, String> {
    let text = field(chars, from, from + 6);
    let parsed = text
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| {
            let number = |i: usize| text[i..i + 2].parse::<u32>().ok();
            let (day, month, year) = (number(0)?, number(2)?, number(4)?);
            NaiveDate::from_ymd_opt(2000 + i32::try_from(year).ok()?, month, day)
        })
        .flatten();
    parsed.ok_or_else(|| format!("{what} {text:?} is not a DDMMYY date"))
}

/// "prefix-number" from 16 digits (6 + 10), leading zeros dropped; `None` for all zeros.
fn gpc_account(digits: &str) -> Option<String> {
    let (prefix, number) = digits.split_at(6);
    let prefix = prefix.trim_start_matches('0');
    let number = number.trim_start_matches('0');
    match (prefix.is_empty(), number.is_empty()) {
        (true, true) => None,
        (true, false) => Some(number.to_owned()),
        (false, _) => Some(format!(
            "{prefix}-{}",
            if number.is_empty() { "0" } else { number }
        )),
    }
}

/// Parses a Czech ABO/GPC statement (the text already decoded, usually from Windows-1250).
///
/// Layout (1-based character positions), as documented by banks and implemented by
/// independent parsers:
/// - `074` header: 4-19 the account (16 digits), 20-39 its name, 40-45 previous date,
///   46-60 previous balance and sign, 61-75 new balance and sign, 76-90 debits, 91-105
///   credits, 106-108 statement number, 109-114 date, then spaces.
/// - `075` movement: 4-19 own account, 20-35 counter-account (6-digit prefix + 10-digit
///   number), 36-48 document number (the transaction id), 49-60 amount in hundredths,
///   61 accounting code (1 debit, 2 credit, 4 reversal of a debit, 5 reversal of a credit),
///   62-71 VS, 72-73 `00`, 74-77 counter-account bank code, 78-81 KS, 82-91 SS, 92-97 value
///   date, 98-117 counter-account name, 118 `0`, 119-122 currency (ISO 4217 numeric, `0203`
///   CZK), 123-128 booking date DDMMYY.
/// - `076` (comment in 36-128), `078` and `079` (message for the recipient in 35-character
///   pieces) add to the preceding `075`.
///
/// Signs: codes 1 and 5 take money out (negative), 2 and 4 bring it in (positive); 4 and 5
/// are reversals and never payments. The message is the `078`/`079` text, else the `076`
/// comment. Several `074` headers are fine when they name the same account. Blank lines are
/// skipped; any other record type is refused.
pub fn parse_gpc(text: &str) -> Result<Statement, StatementError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut account: Option<Option<String>> = None;
    let mut lines: Vec<StatementLine> = Vec::new();
    // Message pieces (078/079) and comment (076) of the last 075.
    let mut message: Vec<String> = Vec::new();
    let mut comment: Option<String> = None;

    let flush = |lines: &mut Vec<StatementLine>,
                 message: &mut Vec<String>,
                 comment: &mut Option<String>| {
        if let Some(last) = lines.last_mut()
            && last.message.is_none()
        {
            last.message = if message.is_empty() {
                comment.take()
            } else {
                Some(message.join(" "))
            };
        }
        message.clear();
        *comment = None;
    };

    for (index, raw) in text.split('\n').enumerate() {
        let number = index + 1;
        let record = raw.trim_end_matches(['\r', '\u{1a}']);
        if record.trim().is_empty() {
            continue;
        }
        let chars: Vec<char> = record.chars().collect();
        let kind = field(&chars, 0, 3);
        let error = |problem: String| StatementError::Line {
            line: number,
            problem,
        };
        if account.is_none() && kind != "074" {
            return Err(StatementError::Format {
                format: GPC,
                problem: format!("line {number} is not a 074 header record"),
            });
        }
        match kind.as_str() {
            "074" => {
                if chars.len() < 114 {
                    return Err(error(format!(
                        "a 074 header has at least 114 characters, this one {}",
                        chars.len()
                    )));
                }
                let own = gpc_account(&gpc_digits(&chars, 3, 19, "account").map_err(error)?);
                if let Some(previous) = &account
                    && *previous != own
                {
                    return Err(error(format!(
                        "a statement for another account ({}, the file began with {}): import them separately",
                        own.as_deref().unwrap_or("none"),
                        previous.as_deref().unwrap_or("none")
                    )));
                }
                account = Some(own);
            }
            "075" => {
                flush(&mut lines, &mut message, &mut comment);
                let line = gpc_movement(&chars, number).map_err(error)?;
                lines.push(line);
            }
            "076" | "078" | "079" => {
                if lines.is_empty() {
                    return Err(error(format!("a {kind} record before any 075 movement")));
                }
                if kind == "076" {
                    comment = non_empty(&field(&chars, 35, chars.len().max(35)));
                } else {
                    let pieces: &[(usize, usize)] = if kind == "078" {
                        &[(3, 38), (38, 73), (73, 128)]
                    } else {
                        &[(3, 38), (38, 73), (73, 108)]
                    };
                    message.extend(
                        pieces
                            .iter()
                            .filter_map(|&(from, to)| non_empty(&field(&chars, from, to))),
                    );
                }
            }
            other => return Err(error(format!("unknown record type {other:?}"))),
        }
    }
    if account.is_none() {
        return Err(StatementError::Format {
            format: GPC,
            problem: "no 074 header record".into(),
        });
    }
    flush(&mut lines, &mut message, &mut comment);
    finish(account.flatten(), lines, Place::Line)
}

fn gpc_movement(chars: &[char], number: usize) -> Result<StatementLine, String> {
    let length = chars.len();
    if length < 128 || chars[128..].iter().any(|c| !c.is_whitespace()) {
        return Err(format!(
            "a 075 record has 128 characters, this one {length}"
        ));
    }
    let counter = gpc_digits(chars, 19, 35, "counter-account")?;
    let bank_code = gpc_digits(chars, 73, 77, "bank code")?;
    let document = gpc_digits(chars, 35, 48, "document number")?;
    let digits = gpc_digits(chars, 48, 60, "amount")?;
    let hundredths: i64 = digits
        .parse()
        .map_err(|_| "amount is out of range".to_owned())?;
    // Twelve digits always fit; checked like every other amount all the same.
    let amount = storable(crate::money::from_minor_units(hundredths), &digits)?;
    let (sign, reversal) = match chars[60] {
        '1' => (Decimal::NEGATIVE_ONE, false),
        '2' => (Decimal::ONE, false),
        '4' => (Decimal::ONE, true),
        '5' => (Decimal::NEGATIVE_ONE, true),
        other => {
            return Err(format!("accounting code {other:?} is not 1, 2, 4 or 5"));
        }
    };
    let currency_digits = gpc_digits(chars, 118, 122, "currency")?;
    let currency_number: u16 = currency_digits.parse().unwrap_or(0);
    let currency = GPC_CURRENCIES
        .iter()
        .find(|(code, _)| *code == currency_number)
        .map(|(_, alpha)| (*alpha).to_owned())
        .ok_or_else(|| format!("currency code {currency_digits:?} is not known"))?;
    let bank_code = (!bank_code.bytes().all(|b| b == b'0')).then_some(bank_code);
    let id = document.trim_start_matches('0');
    Ok(StatementLine {
        line: number,
        bank_transaction_id: id.to_owned(),
        booked_on: gpc_date(chars, 122, "booking date")?,
        amount: signed(amount, sign),
        currency,
        variable_symbol: gpc_symbol(chars, 61, 71, "variable symbol")?,
        specific_symbol: gpc_symbol(chars, 81, 91, "specific symbol")?,
        constant_symbol: gpc_symbol(chars, 77, 81, "constant symbol")?,
        payer_account: with_bank_code(gpc_account(&counter), bank_code),
        payer_name: non_empty(&field(chars, 97, 117)),
        message: None,
        reversal,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn tagged_symbols() {
        for (text, vs) in [
            ("VS1001", Some("1001")),
            ("/VS1001/SS/KS0308", Some("1001")),
            ("/VS/1002/SS//KS/0308", Some("1002")),
            ("VS:7777777777", Some("7777777777")),
            ("platba vs 1003 za internet", Some("1003")),
            ("VS: 0000001004", Some("0000001004")),
            ("/VS0000000000/SS1", None),
            ("VS12345678901", None),
            ("VS1001A", None),
            ("ADVS1001", None),
            ("NOTPROVIDED", None),
            ("faktura 2026001", None),
            ("", None),
        ] {
            assert_eq!(tagged_symbol(text, "VS").as_deref(), vs, "{text}");
        }
        let mut symbols = Symbols::default();
        symbols.fill_tagged("/VS/1002/SS//KS/0308");
        assert_eq!(
            symbols,
            Symbols {
                variable: Some("1002".into()),
                specific: None,
                constant: Some("0308".into()),
            }
        );
        // The first source wins.
        symbols.fill_tagged("/VS9/SS5/KS1");
        assert_eq!(symbols.variable.as_deref(), Some("1002"));
        assert_eq!(symbols.specific.as_deref(), Some("5"));
    }

    #[test]
    fn amounts() {
        for (text, comma, expected) in [
            ("1 234,50", true, "1234.50"),
            ("1\u{a0}234,5", true, "1234.50"),
            ("1.234.567,89", true, "1234567.89"),
            ("-12,50", true, "-12.50"),
            ("- 12", true, "-12.00"),
            ("+500", true, "500.00"),
            ("0,01", true, "0.01"),
            ("1234", true, "1234.00"),
            ("1,234.50", false, "1234.50"),
            ("1,234", false, "1234.00"),
            ("-1234.5", false, "-1234.50"),
        ] {
            let amount = parse_amount(text, comma).unwrap();
            assert_eq!(amount, dec(expected), "{text}");
            assert_eq!(amount.to_string(), expected, "{text}: two decimal places");
        }
        for (text, comma, problem) in [
            ("12,5x", true, "amount \"12,5x\" is not a number"),
            (
                "1,505",
                true,
                "amount \"1,505\" has more than 2 decimal places",
            ),
            ("1.5", true, "amount \"1.5\" is not a number"),
            ("1234.50", true, "amount \"1234.50\" is not a number"),
            ("12 34,00", true, "amount \"12 34,00\" is not a number"),
            ("", true, "amount is missing"),
            ("-", true, "amount \"-\" is not a number"),
            ("1,", true, "amount \"1,\" is not a number"),
            (",5", true, "amount \",5\" is not a number"),
            ("1e3", true, "amount \"1e3\" is not a number"),
            (
                "1 234,50 Kč",
                true,
                "amount \"1 234,50 Kč\" is not a number",
            ),
            ("1,23", false, "amount \"1,23\" is not a number"),
            (
                "1.005",
                false,
                "amount \"1.005\" has more than 2 decimal places",
            ),
            (
                "99999999999999999999",
                true,
                "amount \"99999999999999999999\" is out of range (at most 9999999999.99 either way)",
            ),
            (
                "79228162514264337593543950335",
                false,
                "amount \"79228162514264337593543950335\" is out of range (at most 9999999999.99 either way)",
            ),
            (
                "-10000000000,00",
                true,
                "amount \"-10000000000,00\" is out of range (at most 9999999999.99 either way)",
            ),
        ] {
            assert_eq!(parse_amount(text, comma).unwrap_err(), problem, "{text}");
        }
    }

    #[test]
    fn derived_ids_are_stable_and_count_repeats() {
        let line = |n: usize, amount: &str| StatementLine {
            line: n,
            bank_transaction_id: String::new(),
            booked_on: NaiveDate::from_ymd_opt(2026, 3, 5).unwrap(),
            amount: dec(amount),
            currency: "CZK".into(),
            variable_symbol: Some("1001".into()),
            specific_symbol: None,
            constant_symbol: None,
            payer_account: None,
            payer_name: None,
            message: None,
            reversal: false,
        };
        let ids = |lines: Vec<StatementLine>| -> Vec<String> {
            finish(None, lines, Place::Line)
                .unwrap()
                .lines
                .into_iter()
                .map(|l| l.bank_transaction_id)
                .collect()
        };
        let first = ids(vec![
            line(2, "100.00"),
            line(3, "200.00"),
            line(4, "100.00"),
        ]);
        assert!(first.iter().all(|id| id.starts_with("derived:")));
        assert!(first[0].ends_with(":1") && first[2].ends_with(":2"));
        assert_eq!(
            first[0][..first[0].len() - 2],
            first[2][..first[2].len() - 2]
        );
        // Reordered (and renumbered) rows keep their ids.
        let reordered = ids(vec![
            line(2, "200.00"),
            line(3, "100.00"),
            line(4, "100.00"),
        ]);
        assert_eq!(
            reordered,
            vec![first[1].clone(), first[0].clone(), first[2].clone()]
        );
        // The value is pinned: a change of the hash would re-import old statements.
        assert_eq!(ids(vec![line(1, "100.00")])[0], first[0]);
        assert_eq!(fnv1a_128(b""), 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d);
        assert_eq!(fnv1a_128(b"a"), 0xd228_cb69_6f1a_8caf_7891_2b70_4e4a_8964);
    }

    #[test]
    fn repeated_ids_are_refused() {
        let mut a = StatementLine {
            line: 2,
            bank_transaction_id: "X1".into(),
            booked_on: NaiveDate::from_ymd_opt(2026, 3, 5).unwrap(),
            amount: dec("1.00"),
            currency: "CZK".into(),
            variable_symbol: None,
            specific_symbol: None,
            constant_symbol: None,
            payer_account: None,
            payer_name: None,
            message: None,
            reversal: false,
        };
        let b = StatementLine {
            line: 5,
            ..a.clone()
        };
        assert_eq!(
            finish(None, vec![a.clone(), b], Place::Line)
                .unwrap_err()
                .to_string(),
            "line 5: bank transaction id \"X1\" is also used by line 2"
        );
        a.amount = dec("-1.00");
        assert!(!a.is_incoming_payment());
        assert_eq!(a.to_incoming(1), None);
    }

    // --- CsvMapping deserialisation, through a tiny self-describing format that behaves like
    // TOML/JSON (the crate has no TOML or JSON parser) ----------------------------------------

    #[derive(Debug, Clone)]
    enum V {
        Str(&'static str),
        Int(i64),
        Bool(bool),
        Map(Vec<(&'static str, V)>),
    }

    impl<'de> serde::Deserializer<'de> for V {
        type Error = serde::de::value::Error;

        fn deserialize_any<W: serde::de::Visitor<'de>>(
            self,
            visitor: W,
        ) -> Result<W::Value, Self::Error> {
            match self {
                V::Str(s) => visitor.visit_borrowed_str(s),
                V::Int(i) => visitor.visit_i64(i),
                V::Bool(b) => visitor.visit_bool(b),
                V::Map(entries) => {
                    visitor.visit_map(serde::de::value::MapDeserializer::new(entries.into_iter()))
                }
            }
        }

        fn deserialize_option<W: serde::de::Visitor<'de>>(
            self,
            visitor: W,
        ) -> Result<W::Value, Self::Error> {
            visitor.visit_some(self)
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier
            ignored_any
        }
    }

    impl serde::de::IntoDeserializer<'_, serde::de::value::Error> for V {
        type Deserializer = Self;

        fn into_deserializer(self) -> Self {
            self
        }
    }

    fn mapping_from(value: V) -> Result<CsvMapping, String> {
        <CsvMapping as serde::Deserialize>::deserialize(value).map_err(|e| e.to_string())
    }

    #[test]
    fn mapping_deserialises_with_defaults() {
        let mapping = mapping_from(V::Map(vec![
            ("default_currency", V::Str("CZK")),
            (
                "columns",
                V::Map(vec![
                    ("date", V::Str("Datum")),
                    ("amount", V::Int(3)),
                    ("payer_bank_code", V::Str("Kód banky")),
                ]),
            ),
        ]))
        .unwrap();
        let mut columns = CsvColumns::new("Datum", 3);
        columns.payer_bank_code = Some("Kód banky".into());
        let mut expected = CsvMapping::new(columns);
        expected.default_currency = Some("CZK".into());
        assert_eq!(mapping, expected);

        let mapping = mapping_from(V::Map(vec![
            ("delimiter", V::Str("\t")),
            ("has_header", V::Bool(false)),
            ("skip_lines", V::Int(2)),
            ("decimal_comma", V::Bool(false)),
            ("date_format", V::Str("%Y-%m-%d")),
            (
                "columns",
                V::Map(vec![
                    ("date", V::Int(0)),
                    ("amount", V::Int(1)),
                    ("currency", V::Int(2)),
                ]),
            ),
        ]))
        .unwrap();
        assert_eq!(mapping.delimiter, b'\t');
        assert!(!mapping.has_header && !mapping.decimal_comma);
        assert_eq!(mapping.skip_lines, 2);
        assert_eq!(mapping.columns.currency, Some(Column::Index(2)));
    }

    #[test]
    fn mapping_refuses_unknown_and_bad_keys() {
        let columns = || V::Map(vec![("date", V::Int(0)), ("amount", V::Int(1))]);
        let unknown = mapping_from(V::Map(vec![
            ("delimeter", V::Str(";")),
            ("columns", columns()),
        ]));
        assert!(unknown.unwrap_err().contains("unknown field `delimeter`"));
        let unknown_column = mapping_from(V::Map(vec![(
            "columns",
            V::Map(vec![
                ("date", V::Int(0)),
                ("amount", V::Int(1)),
                ("vs", V::Int(2)),
            ]),
        )]));
        assert!(unknown_column.unwrap_err().contains("unknown field `vs`"));
        let missing = mapping_from(V::Map(vec![("columns", V::Map(vec![("date", V::Int(0))]))]));
        assert!(missing.unwrap_err().contains("missing field `amount`"));
        let delimiter = mapping_from(V::Map(vec![
            ("delimiter", V::Str(";;")),
            ("columns", columns()),
        ]));
        assert!(delimiter.unwrap_err().contains("one ASCII character"));
        let negative = mapping_from(V::Map(vec![(
            "columns",
            V::Map(vec![("date", V::Int(-1)), ("amount", V::Int(1))]),
        )]));
        assert!(negative.unwrap_err().contains("negative"));
    }

    // --- properties ----------------------------------------------------------------------------

    /// Formats hundredths Czech-style: groups of three separated by `group`, decimal comma.
    fn czech(minor: i64, group: &str, sign_plus: bool) -> String {
        let sign = if minor < 0 {
            "-"
        } else if sign_plus {
            "+"
        } else {
            ""
        };
        let whole = (minor.unsigned_abs() / 100).to_string();
        let fraction = minor.unsigned_abs() % 100;
        let mut grouped = String::new();
        for (i, c) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i).is_multiple_of(3) {
                grouped.push_str(group);
            }
            grouped.push(c);
        }
        format!("{sign}{grouped},{fraction:02}")
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        #[test]
        fn czech_amounts_round_trip(
            minor in -1_000_000_000_000i64..1_000_000_000_000,
            group in prop::sample::select(vec!["", " ", "\u{a0}", "."]),
            sign_plus in any::<bool>(),
        ) {
            let text = czech(minor, group, sign_plus);
            let parsed = parse_amount(&text, true).unwrap();
            prop_assert_eq!(parsed, Decimal::new(minor, 2), "{}", text);
            prop_assert_eq!(parsed.scale(), 2);
            // Written back the way a bank would, the line of a CSV carries the same amount.
            let mapping = {
                let mut m = CsvMapping::new(CsvColumns::new(0, 1));
                m.has_header = false;
                m.default_currency = Some("CZK".into());
                m
            };
            let csv = format!("05.03.2026;\"{text}\"\n");
            let statement = parse_csv(&csv, &mapping).unwrap();
            prop_assert_eq!(statement.lines[0].amount, Decimal::new(minor, 2));
        }

        #[test]
        fn amount_parser_never_panics(text in "\\PC{0,24}", comma in any::<bool>()) {
            let _ = parse_amount(&text, comma);
        }

        #[test]
        fn amount_parser_never_panics_on_amount_like_text(text in "[-+ 0-9.,\u{a0}]{0,24}", comma in any::<bool>()) {
            if let Ok(amount) = parse_amount(&text, comma) {
                prop_assert!(amount.scale() == 2);
            }
        }

        #[test]
        fn parsers_never_panic(text in "\\PC{0,300}") {
            let mapping = {
                let mut m = CsvMapping::new(CsvColumns::new(0, 1));
                m.has_header = false;
                m.default_currency = Some("CZK".into());
                m
            };
            let _ = parse_csv(&text, &mapping);
            let _ = parse_camt053(text.as_bytes());
            let _ = parse_gpc(&text);
        }

        #[test]
        fn gpc_never_panics_on_record_like_text(
            body in "[0-9 A-Z+-]{0,140}",
            kind in prop::sample::select(vec!["074", "075", "076", "078", "079"]),
        ) {
            let header = format!("074{}", "0".repeat(125));
            let _ = parse_gpc(&format!("{header}\r\n{kind}{body}\r\n"));
        }
    }
}

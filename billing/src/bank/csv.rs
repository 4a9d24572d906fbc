//! CSV exports, read through an operator-supplied [`CsvMapping`] (see the module doc of
//! `bank` for the mapping).

use std::fmt;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::*;

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
    /// The field separator, one ASCII character (in TOML a one-character string such as
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
    /// The ISP's own account the export is of (an IBAN or a local number): a CSV row does not
    /// say it, and banks number their movements per account, so two accounts' exports may use
    /// the same transaction id for different payments. Set it whenever the ISP imports from
    /// more than one account; without it, an id is taken to be unique across all accounts.
    #[serde(default)]
    pub account: Option<String>,
    /// The file's encoding, a WHATWG label (`"windows-1250"`, `"iso-8859-2"`, `"utf-8"`);
    /// unset: UTF-8 when the file is valid UTF-8, Windows-1250 otherwise (see
    /// [`decode`](super::decode)).
    #[serde(default)]
    pub encoding: Option<String>,
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
            account: None,
            encoding: None,
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
    /// How many cells a row needs to hold every mapped column.
    fn width(&self) -> usize {
        [
            self.transaction_id,
            Some(self.date),
            Some(self.amount),
            self.currency,
            self.variable_symbol,
            self.specific_symbol,
            self.constant_symbol,
            self.payer_account,
            self.payer_bank_code,
            self.payer_name,
            self.message,
        ]
        .into_iter()
        .flatten()
        .max()
        .map_or(0, |last| last + 1)
    }

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
    if let Some(label) = &mapping.encoding {
        super::decode(b"", Some(label))?;
    }
    if mapping
        .account
        .as_deref()
        .is_some_and(|a| a.trim().is_empty())
    {
        return Err(StatementError::Mapping(
            "account is empty: name the account or leave the key out".into(),
        ));
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
pub(super) fn parse_amount(text: &str, decimal_comma: bool) -> Result<Decimal, String> {
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
    if let Some(line) = unclosed_quote(body, mapping.delimiter) {
        return Err(StatementError::Line {
            line: line.saturating_add(skipped),
            problem: "a quoted field is never closed: the rows after it would be read as its text"
                .into(),
        });
    }
    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(mapping.delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(body.as_bytes());
    let mut records = reader.records();
    let mut lines_before = LineCounter::new(body);
    let mut record_line = |record: &::csv::StringRecord| {
        let byte = record
            .position()
            .map_or(0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX));
        lines_before.line_at(byte).saturating_add(skipped)
    };
    let csv_error = |error: ::csv::Error| {
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

    let mut width = header.as_ref().map(Vec::len);
    let mut lines = Vec::new();
    for record in records {
        let record = record.map_err(csv_error)?;
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        let line = record_line(&record);
        let width = *width.get_or_insert(record.len());
        let row = csv_row(
            &record,
            (line, width),
            &columns,
            mapping,
            default_currency.as_deref(),
        )
        .map_err(|problem| StatementError::Line { line, problem })?;
        lines.push(row);
    }
    // Derived ids are hashed without the mapping's account, so adding it to a mapping later
    // keeps the ids of the movements recorded before.
    let mut statement = finish(None, lines, Place::Line)?;
    statement.account.clone_from(&mapping.account);
    Ok(statement)
}

/// Every row has the header's cells (without a header, the first row's, and at least the
/// mapped columns'): a row cut short — a file cut off, a line broken — would otherwise read
/// "1500,00" cut to "15" as 15.00, or a symbol cut to another client's, and its bank id,
/// recorded, would make the whole row a duplicate when the file is imported again. More cells
/// (a trailing delimiter) are fine.
fn whole_row(cells: usize, expected: usize, needed: usize, header: bool) -> Result<(), String> {
    if cells >= expected.max(needed) {
        return Ok(());
    }
    let of = if header {
        format!("the header's {expected}")
    } else if expected >= needed {
        format!("the first row's {expected}")
    } else {
        format!("the {needed} the mapped columns need")
    };
    Err(format!(
        "{cells} cells where there should be {of}: is the row cut short?"
    ))
}

/// The line (1-based, of `body`) where a quoted field opens that the file never closes.
///
/// The `csv` crate ends such a field at the end of the file without a word, so the rows
/// after the quote become its text and their payments vanish. Read by RFC 4180's rule, as
/// the crate reads it: a quote opens a field only at its start, and inside one a doubled
/// quote is a quote; anywhere else a quote is a character.
fn unclosed_quote(body: &str, delimiter: u8) -> Option<usize> {
    let mut line = 1;
    let mut opened = None;
    let mut at_field_start = true;
    let mut bytes = body.bytes().peekable();
    while let Some(b) = bytes.next() {
        if opened.is_some() {
            if b == b'"' {
                if bytes.peek() == Some(&b'"') {
                    bytes.next();
                } else {
                    opened = None;
                }
            }
        } else if b == b'"' && at_field_start {
            opened = Some(line);
        }
        if b == b'\n' {
            line += 1;
        }
        at_field_start = opened.is_none() && (b == delimiter || b == b'\n' || b == b'\r');
    }
    opened
}

/// One row with data: at `line` of the file, in a file whose rows have `width` cells.
fn csv_row(
    record: &::csv::StringRecord,
    (line, width): (usize, usize),
    columns: &Resolved,
    mapping: &CsvMapping,
    default_currency: Option<&str>,
) -> Result<StatementLine, String> {
    whole_row(record.len(), width, columns.width(), mapping.has_header)?;
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
    let booked_on = crate::field::record_date("date", booked_on).map_err(|e| e.to_string())?;
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

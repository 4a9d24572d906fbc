//! The Czech ABO/GPC fixed-width format (records `074`, `075`, `076`, `078`, `079`).

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::*;

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
/// comment. Several `074` headers are fine when they name the same account. Records end
/// with CR LF, LF or a lone CR (found probing from outside: a file of CR-ended records was
/// one header line, its movements dropped without a word). Blank lines are skipped; any
/// other record type is refused.
pub fn parse_gpc(text: &str) -> Result<Statement, StatementError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut statement = GpcStatement::default();
    let records = text
        .split('\n')
        .flat_map(|line| line.strip_suffix('\r').unwrap_or(line).split('\r'));
    for (index, raw) in records.enumerate() {
        let number = index + 1;
        let record = raw.trim_end_matches('\u{1a}');
        if record.trim().is_empty() {
            continue;
        }
        let chars: Vec<char> = record.chars().collect();
        let kind = field(&chars, 0, 3);
        if statement.account.is_none() && kind != "074" {
            return Err(StatementError::Format {
                format: GPC,
                problem: format!("line {number} is not a 074 header record"),
            });
        }
        statement
            .record(&kind, &chars, number)
            .map_err(|problem| StatementError::Line {
                line: number,
                problem,
            })?;
    }
    statement.finish()
}

/// A GPC file as read so far. The records after a `075` movement (`076`, `078`, `079`) belong
/// to it, so its message is only known when the next movement or the end of the file comes.
#[derive(Debug, Default)]
struct GpcStatement {
    /// `None` before the first `074` header; then the account it names (possibly none).
    account: Option<Option<String>>,
    lines: Vec<StatementLine>,
    /// Message pieces (`078`/`079`) of the last movement.
    message: Vec<String>,
    /// Comment (`076`) of the last movement.
    comment: Option<String>,
}

impl GpcStatement {
    /// Reads one record (the header is known to have come first).
    fn record(&mut self, kind: &str, chars: &[char], number: usize) -> Result<(), String> {
        match kind {
            "074" => self.header(chars),
            "075" => {
                self.attach_message();
                self.lines.push(gpc_movement(chars, number)?);
                Ok(())
            }
            "076" | "078" | "079" => self.addendum(kind, chars),
            other => Err(format!("unknown record type {other:?}")),
        }
    }

    /// A `074` header: the first names the account; a later one must name the same account.
    fn header(&mut self, chars: &[char]) -> Result<(), String> {
        // Some banks trim the trailing spaces after the date (position 114).
        if !(114..=128).contains(&chars.len()) {
            return Err(format!(
                "a 074 header has 114 to 128 characters, this one {}",
                chars.len()
            ));
        }
        let own = gpc_account(&gpc_digits(chars, 3, 19, "account")?);
        if let Some(previous) = &self.account
            && *previous != own
        {
            return Err(format!(
                "a statement for another account ({}, the file began with {}): import them separately",
                own.as_deref().unwrap_or("none"),
                previous.as_deref().unwrap_or("none")
            ));
        }
        self.account = Some(own);
        Ok(())
    }

    /// A `076` comment or a `078`/`079` message piece for the last movement.
    fn addendum(&mut self, kind: &str, chars: &[char]) -> Result<(), String> {
        if self.lines.is_empty() {
            return Err(format!("a {kind} record before any 075 movement"));
        }
        if kind == "076" {
            self.comment = non_empty(&field(chars, 35, chars.len().max(35)));
        } else {
            let pieces: &[(usize, usize)] = if kind == "078" {
                &[(3, 38), (38, 73), (73, 128)]
            } else {
                &[(3, 38), (38, 73), (73, 108)]
            };
            self.message.extend(
                pieces
                    .iter()
                    .filter_map(|&(from, to)| non_empty(&field(chars, from, to))),
            );
        }
        Ok(())
    }

    /// Gives the last movement its message (the `078`/`079` text, else the `076` comment) and
    /// starts afresh for the next one.
    fn attach_message(&mut self) {
        let message = std::mem::take(&mut self.message);
        let comment = self.comment.take();
        if let Some(last) = self.lines.last_mut()
            && last.message.is_none()
        {
            last.message = if message.is_empty() {
                comment
            } else {
                Some(message.join(" "))
            };
        }
    }

    fn finish(mut self) -> Result<Statement, StatementError> {
        let Some(account) = self.account.take() else {
            return Err(StatementError::Format {
                format: GPC,
                problem: "no 074 header record".into(),
            });
        };
        self.attach_message();
        finish(account, self.lines, Place::Line)
    }
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

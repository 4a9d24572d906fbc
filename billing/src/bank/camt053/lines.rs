//! From gathered entries to statement lines: amounts, directions, dates, batches, symbols and
//! the counterparty.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::grammar::Side;
use super::values::{Booking, EntryData, StatementData, TransactionData, WrittenAmount};
use super::xml_error;
use crate::bank::{
    Identities, Place, Statement, StatementError, StatementLine, Symbols, currency, signed,
    storable, symbol, tagged_symbol, with_bank_code,
};

/// The lines of the statements read so far, and the account they are for.
///
/// An entry becomes lines as soon as its statement's account is known (its `Acct` comes first
/// in camt.053), so a statement is never held whole; entries before a late `Acct` wait for it.
/// Each line gets its final bank transaction id as it is made, so the lines read so far can be
/// handed on ([`Self::take`]) before the file ends. After the first problem nothing more is
/// kept: the XML is still read to its end, but only to know whether it is whole. An id used
/// twice refuses the statement too, but an entry's own problem anywhere in the file is named
/// first, so the entries after such a line are still checked.
#[derive(Debug, Default)]
pub(super) struct CamtLines {
    account: Option<String>,
    statements: usize,
    /// Entries so far, in every statement: the number that names an entry in errors.
    entries: usize,
    /// The lines not yet handed on.
    lines: Vec<StatementLine>,
    identities: Identities,
    /// Whether the current statement's account has been read, and its currency.
    account_read: bool,
    currency: Option<String>,
    /// The current statement's entries that came before its account.
    waiting: Vec<EntryData>,
    problem: Option<StatementError>,
    /// The first line whose bank transaction id an earlier line used.
    used_twice: Option<StatementError>,
}

impl CamtLines {
    /// The statement's account is read (its first `Acct` has ended): it must be the file's
    /// account, and its currency applies to the statement's entries from now on.
    pub(super) fn account(&mut self, statement: &StatementData) {
        if self.problem.is_some() || self.account_read {
            return;
        }
        let account = statement
            .iban
            .clone()
            .or_else(|| statement.other_id.clone());
        if self.statements > 0 && account != self.account {
            self.problem = Some(xml_error(format!(
                "statements for several accounts ({} and {}): import them separately",
                self.account.as_deref().unwrap_or("unnamed"),
                account.as_deref().unwrap_or("unnamed")
            )));
            return;
        }
        self.statements += 1;
        self.account = account;
        self.account_read = true;
        self.currency.clone_from(&statement.currency);
        for entry in std::mem::take(&mut self.waiting) {
            self.entry(entry);
        }
    }

    /// An entry has ended: its lines, or it waits for the statement's account.
    pub(super) fn entry(&mut self, entry: EntryData) {
        if self.problem.is_some() {
            return;
        }
        if !self.account_read {
            self.waiting.push(entry);
            return;
        }
        self.entries += 1;
        let index = self.entries;
        let made = self.lines.len();
        if let Err(problem) = camt_entry(index, &entry, self.currency.as_deref(), &mut self.lines) {
            self.problem = Some(StatementError::Entry {
                entry: index,
                problem,
            });
            return;
        }
        if self.used_twice.is_some() {
            self.lines.truncate(made);
            return;
        }
        for line in &mut self.lines[made..] {
            if let Err(twice) =
                self.identities
                    .identify(line, self.account.as_deref(), Place::Entry)
            {
                self.used_twice = Some(twice);
                self.lines.truncate(made);
                return;
            }
        }
    }

    /// The first `count` lines not yet handed on, with their account, once there are that
    /// many and nothing is wrong so far.
    pub(super) fn take(&mut self, count: usize) -> Option<Statement> {
        if self.lines.len() < count.max(1) || self.problem.is_some() || self.used_twice.is_some() {
            return None;
        }
        let rest = self.lines.split_off(count);
        Some(Statement {
            account: self.account.clone(),
            lines: std::mem::replace(&mut self.lines, rest),
        })
    }

    /// The statement has ended; one without an `Acct` is for no named account.
    pub(super) fn end_statement(&mut self) {
        self.account(&StatementData::default());
        self.account_read = false;
        self.currency = None;
    }

    /// The statement: the first problem, or the lines with derived ids for those without one
    /// and no id used twice.
    /// The file's account and the lines not yet handed on, unless an entry was refused or an
    /// id used twice (in that order).
    pub(super) fn finish(self) -> Result<Statement, StatementError> {
        if let Some(problem) = self.problem.or(self.used_twice) {
            return Err(problem);
        }
        Ok(Statement {
            account: self.account,
            lines: self.lines,
        })
    }
}

fn camt_amount(
    written: Option<&WrittenAmount>,
    fallback_currency: Option<&str>,
) -> Result<(Decimal, String), String> {
    let written = written.ok_or("amount (Amt) is missing")?;
    let text = written.text.as_str();
    if text.is_empty() {
        return Err("amount (Amt) is empty".into());
    }
    // xs:decimal, never negative (ISO 20022 ActiveOrHistoricCurrencyAndAmount): an optional
    // "+", and digits on at least one side of the point ("100.", ".50", "+100.00" are all
    // written so; found probing from outside: they were refused).
    let unsigned = text.strip_prefix('+').unwrap_or(text);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(fraction) || (whole.is_empty() && fraction.is_empty()) {
        return Err(format!("amount {text:?} is not a number"));
    }
    let or_zero = |s: &'static str, part: &str| {
        if part.is_empty() {
            s.to_owned()
        } else {
            part.to_owned()
        }
    };
    let canonical = format!("{}.{}", or_zero("0", whole), or_zero("0", fraction));
    let amount = crate::money::exact(&canonical).map_err(|problem| format!("amount: {problem}"))?;
    let amount = storable(amount, text)?;
    let code = written
        .currency
        .as_deref()
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

fn booking_date(booking: Option<&Booking>) -> Result<NaiveDate, String> {
    let booking = booking.ok_or("booking date (BookgDt) is missing")?;
    let text = booking
        .date
        .as_deref()
        .or(booking.date_time.as_deref())
        .ok_or("booking date (BookgDt/Dt or DtTm) is missing")?;
    let date = camt_date(text).ok_or_else(|| format!("booking date {text:?} is not a date"))?;
    crate::field::record_date("booking date", date).map_err(|e| e.to_string())
}

/// Appends one line per transaction of the entry (none for pending entries).
fn camt_entry(
    index: usize,
    entry: &EntryData,
    account_currency: Option<&str>,
    lines: &mut Vec<StatementLine>,
) -> Result<(), String> {
    let status = entry.status_code.as_deref().or(entry.status.as_deref());
    if status.is_some_and(|s| s != "BOOK") {
        return Ok(());
    }
    let (amount, currency) = camt_amount(entry.amount.as_ref(), account_currency)?;
    let direction = camt_direction(entry.indicator.as_deref())?;
    let reversal = matches!(entry.reversal.as_deref(), Some("true" | "1"));
    let base = StatementLine {
        line: index,
        bank_transaction_id: String::new(),
        booked_on: booking_date(entry.booking.as_ref())?,
        amount: signed(amount, direction),
        currency,
        variable_symbol: None,
        specific_symbol: None,
        constant_symbol: None,
        payer_account: None,
        payer_name: None,
        message: None,
        reversal,
    };
    if let [] | [_] = entry.transactions.as_slice() {
        let tx = entry.transactions.first();
        let mut line = camt_details(base, tx, entry);
        line.bank_transaction_id = entry
            .reference
            .as_deref()
            .or_else(|| tx.and_then(transaction_ref))
            .map(str::to_owned)
            .unwrap_or_default();
        lines.push(line);
        Ok(())
    } else {
        batch_lines(&base, direction, entry, lines)
    }
}

/// One line per transaction of a batch entry; in the entry's currency they must add up to it.
fn batch_lines(
    base: &StatementLine,
    direction: Decimal,
    entry: &EntryData,
    lines: &mut Vec<StatementLine>,
) -> Result<(), String> {
    let mut sum = Decimal::ZERO;
    let mut comparable = true;
    for (k, tx) in entry.transactions.iter().enumerate() {
        let k = k + 1;
        let written = tx
            .amount
            .as_ref()
            .or(tx.detail_amount.as_ref())
            .ok_or_else(|| {
                format!("transaction {k} of the batch has no amount (AmtDtls/TxAmt/Amt)")
            })?;
        let (tx_amount, tx_currency) = camt_amount(Some(written), Some(&base.currency))
            .map_err(|problem| format!("transaction {k}: {problem}"))?;
        let tx_direction = match tx.indicator.as_deref() {
            Some(indicator) => camt_direction(Some(indicator))
                .map_err(|problem| format!("transaction {k}: {problem}"))?,
            None => direction,
        };
        let tx_signed = signed(tx_amount, tx_direction);
        comparable &= tx_currency == base.currency;
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
            .or_else(|| entry.reference.as_ref().map(|r| format!("{r}/{k}")))
            .unwrap_or_default();
        lines.push(line);
    }
    if comparable && sum != base.amount {
        return Err(format!(
            "the batch's transactions add up to {sum} but the entry is {}",
            base.amount
        ));
    }
    Ok(())
}

/// The bank's own reference of a transaction.
fn transaction_ref(tx: &TransactionData) -> Option<&str> {
    tx.servicer_reference.as_deref().or(tx.id.as_deref())
}

/// Fills symbols, payer and message from the transaction details (if any) and the entry.
fn camt_details(
    mut line: StatementLine,
    tx: Option<&TransactionData>,
    entry: &EntryData,
) -> StatementLine {
    let unstructured = tx.map_or(&[][..], |tx| tx.unstructured.as_slice());
    let additional_tx = tx.and_then(|tx| tx.information.as_deref());
    let additional_entry = entry.information.as_deref();
    let symbols = camt_symbols(tx, [additional_tx, additional_entry]);

    // The counterparty of the underlying transaction: the debtor of a credit, the creditor of
    // a debit; a reversal turns the direction, its parties are the original transaction's.
    let credit = !line.amount.is_sign_negative();
    let side = if credit != line.reversal {
        Side::Debtor
    } else {
        Side::Creditor
    };
    let party = tx.map(|tx| tx.party(side));
    let account = party.and_then(|p| p.iban.clone().or_else(|| p.other_id.clone()));
    let bank_code = party
        .and_then(|p| p.agent_member_id.as_deref().or(p.agent_other_id.as_deref()))
        .filter(|code| code.len() == 4 && code.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_owned);
    let name = party.and_then(|p| p.name.as_deref().or(p.identity_name.as_deref()));

    line.variable_symbol = symbols.variable;
    line.specific_symbol = symbols.specific;
    line.constant_symbol = symbols.constant;
    line.payer_account = with_bank_code(account, bank_code);
    line.payer_name = name.map(str::to_owned);
    line.message = if unstructured.is_empty() {
        additional_tx.or(additional_entry).map(str::to_owned)
    } else {
        Some(unstructured.join(" "))
    };
    line
}

/// VS, SS and KS from the places of the module documentation, in its order of preference;
/// `additional` is the transaction's, then the entry's additional information.
fn camt_symbols(tx: Option<&TransactionData>, additional: [Option<&str>; 2]) -> Symbols {
    let mut symbols = Symbols::default();
    let references = tx.map_or(&[][..], |tx| tx.references.as_slice());
    // 1. Typed structured references.
    for reference in references {
        let kind = reference
            .proprietary
            .as_deref()
            .or(reference.code.as_deref());
        if let (Some(kind), Some(value)) = (kind, reference.value.as_deref())
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
    if let Some(end_to_end) = tx.and_then(|tx| tx.end_to_end.as_deref()) {
        symbols.fill_tagged(end_to_end);
    }
    // 3. Structured references: tagged, or plain digits as the VS.
    for value in references.iter().filter_map(|r| r.value.as_deref()) {
        symbols.fill_tagged(value);
        let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
        if symbols.variable.is_none()
            && (1..=10).contains(&compact.len())
            && compact.bytes().all(|b| b.is_ascii_digit())
        {
            symbols.variable = symbol(&compact);
        }
    }
    // 4. Unstructured message, 5. additional information: tagged only.
    let unstructured = tx.map_or(&[][..], |tx| tx.unstructured.as_slice());
    for text in unstructured.iter().map(String::as_str) {
        symbols.fill_tagged(text);
    }
    for text in additional.into_iter().flatten() {
        symbols.fill_tagged(text);
    }
    symbols
}

//! ISO 20022 camt.053 bank-to-customer statements (`.001.02` and later versions that use
//! the same element names), read into a bounded element tree.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::*;

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

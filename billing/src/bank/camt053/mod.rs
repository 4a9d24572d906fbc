//! ISO 20022 camt.053 bank-to-customer statements (`.001.02` and later versions that use
//! the same element names), read as one pass over quick-xml's events.
//!
//! # How it reads
//! The reader keeps the path of open elements and knows, for each, what it is in the small
//! part of camt.053 that matters here (`grammar.rs`); any other element is skipped with
//! everything inside it. Names are compared without their namespace prefix, so `<Ntry>`,
//! `<ns2:Ntry>` and `<c:Ntry>` are the same element. Text is collected only for the elements
//! whose value is kept: character data, CDATA sections and entity or character references are
//! joined, comments are skipped. Where camt.053 may repeat an element but one value is wanted,
//! the first one counts (`Which::First`).
//!
//! Values are gathered into the record being built (`values.rs`: the statement's account, the
//! entry with its transactions and remittance references). An entry becomes lines at its end
//! tag (`lines.rs`) once its statement's `Acct` has been read, which camt.053 puts first; the
//! entries before a late `Acct` wait for it, so the account's currency applies to every entry
//! wherever `Acct` stands. The event loop and the open path are in `reader.rs`.
//!
//! # XML first, then the entries
//! The whole document is read even after an entry was refused, and a broken XML frame wins
//! over a bad entry: the error names the first thing wrong with the file as a whole.
//!
//! # Why by hand over quick-xml, not serde
//! - The rules are not a mapping: a value comes from the first of several places
//!   (`Sts/Cd` or `Sts`, `BookgDt/Dt` or `DtTm`, `Amt` or `AmtDtls/TxAmt/Amt`), a batch entry
//!   gives one line per transaction, and a problem is reported in the operator's terms with
//!   the entry it is in ("entry 2: booking date (BookgDt) is missing"). With serde every field
//!   would be an `Option` checked by hand anyway, and its errors name neither the entry nor
//!   the element path.
//! - Banks interleave repeated elements (`Ustrd`, `Strd`, `Ustrd` in one `RmtInf`); quick-xml's
//!   serde support reads those only with its `overlapped-lists` feature, which buffers the
//!   skipped events. Neither that nor the `serialize` feature is built here.
//! - Memory stays small, for big and hostile files alike: the reader holds the open path (at
//!   most `MAX_XML_DEPTH` elements), the entry being read and the lines, never a document
//!   tree. A 36 MB statement of 100,000 entries is read in about a second with a peak of about
//!   80 MB, input included, against 550 MB for the element tree this replaced.

use std::convert::Infallible;
use std::io::BufRead;
use std::ops::ControlFlow;

use quick_xml::events::Event;

use super::{Statement, StatementError};

mod grammar;
mod lines;
mod reader;
mod values;

const CAMT: &str = "camt.053";

/// Nesting deeper than this is refused: camt.053 needs about 12 levels, and the open path is
/// the one part of the reader's memory that the document's shape, not its values, could grow.
const MAX_XML_DEPTH: usize = 64;

fn xml_error(problem: impl Into<String>) -> StatementError {
    StatementError::Format {
        format: CAMT,
        problem: problem.into(),
    }
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
    let mut lines = Vec::new();
    let read = read_camt053(xml, usize::MAX, |part| {
        lines.extend(part.lines);
        ControlFlow::<Infallible>::Continue(())
    })?;
    let ControlFlow::Continue(account) = read;
    Ok(Statement { account, lines })
}

/// [`parse_camt053`] from a reader, handing the lines on in parts of `per_part` as the file is
/// read (the last part may be smaller), so what uses them need not wait for the whole file,
/// nor hold it: the daemon records a 100,000-entry statement while it is still arriving.
///
/// The parts are provisional: a file refused at its end (a bad entry, an id used twice, XML
/// that breaks off) returns the error after some parts were handed on, so their user must be
/// all or nothing, as the daemon's import is (its transaction rolls back). Each line handed on
/// is final: its bank transaction id is given. `part` may stop the reading
/// ([`ControlFlow::Break`], returned as it is); else the file's account is returned. An error
/// of `xml` itself is reported as the file breaking off where it happened.
pub fn read_camt053<B>(
    xml: impl BufRead,
    per_part: usize,
    mut part: impl FnMut(Statement) -> ControlFlow<B>,
) -> Result<ControlFlow<B, Option<String>>, StatementError> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    reader.config_mut().check_end_names = true;
    let mut document = reader::Document::default();
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        let event = reader.read_event_into(&mut buffer).map_err(|e| {
            xml_error(format!(
                "XML error at byte {}: {e}{}",
                reader.error_position(),
                document.encoding_hint()
            ))
        })?;
        if matches!(event, Event::Eof) {
            break;
        }
        document.event(event, reader.decoder(), reader.buffer_position())?;
        if let Some(lines) = document.take_lines(per_part)
            && let ControlFlow::Break(stop) = part(lines)
        {
            return Ok(ControlFlow::Break(stop));
        }
    }
    let rest = document.finish()?;
    let account = rest.account.clone();
    if !rest.lines.is_empty()
        && let ControlFlow::Break(stop) = part(rest)
    {
        return Ok(ControlFlow::Break(stop));
    }
    Ok(ControlFlow::Continue(account))
}

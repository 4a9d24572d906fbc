//! The event loop's state: the open path, what each open element is, and where its text goes.

use quick_xml::encoding::Decoder;
use quick_xml::events::{BytesRef, BytesStart, Event};

use super::grammar::{Node, Which};
use super::lines::CamtLines;
use super::values::{Building, Finished};
use super::{MAX_XML_DEPTH, xml_error};
use crate::bank::{Statement, StatementError};

/// An open element.
#[derive(Debug)]
struct Open {
    /// Where its local name starts in [`Document::names`].
    name_start: usize,
    /// `None` for an element that is skipped, and everything inside it.
    node: Option<Node>,
    /// The children already met that only count once ([`Which::First`]).
    seen: Vec<Node>,
    /// The text directly inside, kept only for a [`Node::Value`].
    text: String,
    /// The `Ccy` attribute, for amounts.
    currency: Option<String>,
}

/// The reader's state between events.
#[derive(Debug, Default)]
pub(super) struct Document {
    /// The encoding named by the XML declaration, to explain bytes that are not UTF-8.
    declared_encoding: Option<String>,
    open: Vec<Open>,
    /// The local names of the open elements, one after the other: one buffer for the whole
    /// path rather than a string per element.
    names: String,
    /// The root element's name, once it has started.
    root: Option<String>,
    /// Whether the `BkToCstmrStmt` was found.
    report: bool,
    building: Building,
    lines: CamtLines,
}

impl Document {
    pub(super) fn encoding_hint(&self) -> String {
        match &self.declared_encoding {
            Some(encoding) if !encoding.eq_ignore_ascii_case("utf-8") => {
                format!(" (the document declares {encoding}; convert it to UTF-8)")
            }
            _ => String::new(),
        }
    }

    fn not_utf8(&self, what: &str, position: u64) -> StatementError {
        xml_error(format!(
            "{what} near byte {position} is not valid UTF-8{}",
            self.encoding_hint()
        ))
    }

    /// Takes one event (not the end of the input); `position` is where the event ended.
    pub(super) fn event(
        &mut self,
        event: Event<'_>,
        decoder: Decoder,
        position: u64,
    ) -> Result<(), StatementError> {
        match event {
            Event::Decl(decl) => {
                if let Some(Ok(encoding)) = decl.encoding() {
                    self.declared_encoding = Some(String::from_utf8_lossy(&encoding).into_owned());
                }
                Ok(())
            }
            Event::Start(start) => {
                if self.open.len() >= MAX_XML_DEPTH {
                    return Err(xml_error(format!(
                        "elements nested deeper than {MAX_XML_DEPTH} levels"
                    )));
                }
                self.start(&start, decoder)
            }
            Event::Empty(start) => {
                self.start(&start, decoder)?;
                self.end()
            }
            Event::End(_) => self.end(),
            Event::Text(text) => {
                let text = text
                    .xml10_content()
                    .map_err(|_| self.not_utf8("text", position))?;
                self.text(&text)
            }
            Event::CData(data) => {
                let text = data
                    .decode()
                    .map_err(|_| self.not_utf8("CDATA", position))?;
                self.text(&text)
            }
            Event::GeneralRef(reference) => {
                let c = self.resolve(&reference, position)?;
                self.text(c.encode_utf8(&mut [0; 4]))
            }
            Event::Comment(_) | Event::PI(_) | Event::DocType(_) | Event::Eof => Ok(()),
        }
    }

    /// A character or predefined entity reference; XML 1.0 predefines five entities and a
    /// statement has no DTD of its own, so any other is refused.
    fn resolve(&self, reference: &BytesRef<'_>, position: u64) -> Result<char, StatementError> {
        match reference.resolve_char_ref() {
            Ok(Some(c)) => Ok(c),
            Ok(None) => {
                let name = reference
                    .decode()
                    .map_err(|_| self.not_utf8("an entity", position))?;
                match name.as_ref() {
                    "amp" => Ok('&'),
                    "lt" => Ok('<'),
                    "gt" => Ok('>'),
                    "quot" => Ok('"'),
                    "apos" => Ok('\''),
                    other => Err(xml_error(format!(
                        "unknown entity &{other}; near byte {position}"
                    ))),
                }
            }
            Err(e) => Err(xml_error(format!("bad character reference: {e}"))),
        }
    }

    /// Opens an element: works out what it is from its parent, and starts what it begins.
    fn start(&mut self, start: &BytesStart<'_>, decoder: Decoder) -> Result<(), StatementError> {
        let (name, currency) = read_start(start, decoder)?;
        let node = match self.open.last_mut() {
            Some(parent) => parent.child(name),
            None if self.root.is_some() => return Err(xml_error("more than one root element")),
            None => {
                self.root = Some(name.to_owned());
                (name == "Document").then_some(Node::Document)
            }
        };
        if let Some(node) = node {
            self.report |= node == Node::Report;
            self.building.begin(node);
        }
        self.open.push(Open {
            name_start: self.names.len(),
            node,
            seen: Vec::new(),
            text: String::new(),
            currency,
        });
        self.names.push_str(name);
        Ok(())
    }

    fn text(&mut self, text: &str) -> Result<(), StatementError> {
        match self.open.last_mut() {
            Some(element) => {
                if matches!(element.node, Some(Node::Value(_))) {
                    element.text.push_str(text);
                }
                Ok(())
            }
            None if text.trim().is_empty() => Ok(()),
            None => Err(xml_error("text outside the root element")),
        }
    }

    /// Closes the innermost element: keeps its value, or finishes what it began.
    fn end(&mut self) -> Result<(), StatementError> {
        let element = self
            .open
            .pop()
            .ok_or_else(|| xml_error("an end tag without a start tag"))?;
        self.names.truncate(element.name_start);
        let Some(node) = element.node else {
            return Ok(());
        };
        if let Node::Value(field) = node {
            self.building.store(field, &element.text, element.currency);
        }
        match self.building.end(node) {
            Some(Finished::Account) => self.lines.account(&self.building.statement),
            Some(Finished::Entry) => self.lines.entry(std::mem::take(&mut self.building.entry)),
            Some(Finished::Statement) => self.lines.end_statement(),
            None => {}
        }
        Ok(())
    }

    /// The first `count` lines read and not yet handed on, once there are that many (see
    /// [`CamtLines::take`]).
    pub(super) fn take_lines(&mut self, count: usize) -> Option<Statement> {
        self.lines.take(count)
    }

    /// The file's account and the lines not yet handed on, once the input has ended: an
    /// unfinished or foreign document is refused before any problem in its entries.
    pub(super) fn finish(self) -> Result<Statement, StatementError> {
        if let Some(open) = self.open.last() {
            let name = &self.names[open.name_start..];
            return Err(xml_error(format!("<{name}> is never closed")));
        }
        let root = self.root.ok_or_else(|| xml_error("no root element"))?;
        if root != "Document" {
            return Err(xml_error(format!(
                "the root element is <{root}>, not <Document>"
            )));
        }
        if !self.report {
            return Err(xml_error(
                "no <BkToCstmrStmt> in <Document> (is this a camt.052 or camt.054?)",
            ));
        }
        self.lines.finish()
    }
}

impl Open {
    /// What the child `name` is; a [`Which::First`] child of a name already met is skipped.
    fn child(&mut self, name: &str) -> Option<Node> {
        let (node, which) = self.node?.child(name)?;
        if which == Which::First {
            if self.seen.contains(&node) {
                return None;
            }
            self.seen.push(node);
        }
        Some(node)
    }
}

fn utf8_name(raw: &[u8]) -> Result<&str, StatementError> {
    std::str::from_utf8(raw).map_err(|_| xml_error("an element name is not valid UTF-8"))
}

/// The element's local name (prefix dropped) and its `Ccy` attribute. Every attribute is
/// checked, skipped element or not: a malformed one makes the whole document malformed.
fn read_start<'a>(
    start: &'a BytesStart<'_>,
    decoder: Decoder,
) -> Result<(&'a str, Option<String>), StatementError> {
    let name = utf8_name(start.local_name().into_inner())?;
    let mut currency = None;
    for attribute in start.attributes() {
        let attribute =
            attribute.map_err(|e| xml_error(format!("bad attribute in <{name}>: {e}")))?;
        let key = utf8_name(attribute.key.local_name().into_inner())?;
        let value = attribute
            .decode_and_unescape_value(decoder)
            .map_err(|e| xml_error(format!("bad attribute value in <{name}>: {e}")))?;
        if key == "Ccy" && currency.is_none() {
            currency = Some(value.trim().to_owned());
        }
    }
    Ok((name, currency))
}

//! Human and machine output.
//!
//! Each resource turns its protobuf message into a [`Record`]: an ordered list of fields in
//! proto order. The same record gives both the `--json` object (every field present, so
//! scripts never need to guess) and the `key: value` lines of `show` (only fields that say
//! something), so the two views cannot drift apart. Lists are aligned-column [`Table`]s.
//!
//! Everything human output shows comes from the server and, behind it, from clients' forms
//! and banks' statements, so text passes [`escape`] on its way to the terminal: a payer name
//! cannot clear the screen or fake a field. JSON carries the text exactly.

use std::borrow::Cow;
use std::io::{ErrorKind, Write};

use anyhow::Result;
use serde_json::{Map, Value, json};

use crate::paging::Page;

/// How to print: chosen once by the global `--json` flag.
#[derive(Clone, Copy, Debug)]
pub struct Out {
    pub json: bool,
}

impl Out {
    /// One record (`show`, `add`, `edit`).
    pub fn record(self, record: &Record) -> Result<()> {
        if self.json {
            emit_json(&record.to_json())
        } else {
            let mut lines = Vec::new();
            record.kv_lines("", &mut lines);
            let text: String = lines
                .iter()
                .map(|(k, v)| format!("{}: {}\n", escape(k), escape(v)))
                .collect();
            emit(&text)
        }
    }

    /// The record a call answered with (`show`, `add`, `edit`, a transition).
    pub fn reply<T>(
        self,
        response: tonic::Response<T>,
        record: impl Fn(&T) -> Record,
    ) -> Result<()> {
        self.record(&record(&response.into_inner()))
    }

    /// The pages a listing fetched, as [`Out::list`] prints them.
    pub fn pages<T>(
        self,
        page: &Page<T>,
        record: impl Fn(&T) -> Record,
        table: impl FnOnce(&[T]) -> Table,
    ) -> Result<()> {
        self.list(&page.items, &page.next_page_token, record, table)
    }

    /// A listing: `{"items": [...], "next_page_token": ...}` (the token is null on the last
    /// page) or a table followed by [`more_hint`].
    pub fn list<T>(
        self,
        items: &[T],
        next_page_token: &str,
        record: impl Fn(&T) -> Record,
        table: impl FnOnce(&[T]) -> Table,
    ) -> Result<()> {
        if self.json {
            let items: Vec<Value> = items.iter().map(|i| record(i).to_json()).collect();
            let next = if next_page_token.is_empty() {
                Value::Null
            } else {
                Value::from(next_page_token)
            };
            emit_json(&json!({ "items": items, "next_page_token": next }))
        } else {
            emit(&table(items).render())?;
            more_hint(next_page_token);
            Ok(())
        }
    }

    /// Confirmation of a delete.
    pub fn deleted(self, kind: &str, key: &str) -> Result<()> {
        if self.json {
            emit_json(&json!({ "deleted": true, "kind": kind, "key": key }))
        } else {
            emit(&format!("deleted {kind} {}\n", escape(key)))
        }
    }

    /// A line of human output that has no JSON counterpart of its own. It may span lines:
    /// its line breaks are kept, every other control character is escaped.
    pub fn line(self, text: &str) -> Result<()> {
        emit(&format!("{}\n", escape_lines(text)))
    }

    /// A single answer that is not a record (next free number, a new password); line breaks
    /// are kept as in [`Out::line`].
    pub fn value(self, human: &str, json: Value) -> Result<()> {
        if self.json {
            emit_json(&json)
        } else {
            emit(&format!("{}\n", escape_lines(human)))
        }
    }
}

/// An amount with its currency, `1210.00 CZK`; empty stays empty.
pub fn money(amount: &str, currency: &str) -> String {
    if amount.is_empty() || currency.is_empty() {
        amount.to_owned()
    } else {
        format!("{amount} {currency}")
    }
}

/// Tells a human reader (on stderr, so a piped table stays clean) that a listing stopped at a
/// page boundary and how to go on.
pub fn more_hint(next_page_token: &str) {
    if !next_page_token.is_empty() {
        eprintln!(
            "(more results: add --all, or --page-token {})",
            escape(next_page_token)
        );
    }
}

/// Non-fatal findings from the server, always on stderr so they are seen even with `--json`.
pub fn warn_all(warnings: &[String]) {
    for w in warnings {
        eprintln!("warning: {}", escape(w));
    }
}

/// Text as a terminal may safely show it: ESC becomes `\e`, line feed, carriage return and
/// tab become `\n`, `\r`, `\t`, and every other control character (C0, DEL, C1) and the
/// bidirectional overrides that reorder what follows them become `\u{..}`. Backslashes are
/// left alone: the exact text is one `--json` away. Escaped text has nothing left to
/// escape, so escaping twice changes nothing.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\x1b' => out.push_str("\\e"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// [`escape`] for text that is several lines by design: each line is escaped, the line
/// breaks between them are kept.
pub fn escape_lines(text: &str) -> String {
    text.split('\n').map(escape).collect::<Vec<_>>().join("\n")
}

fn needs_escape(c: char) -> bool {
    // Bidi embeddings, overrides and isolates (U+202A-202E, U+2066-2069).
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn emit_json(value: &Value) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    emit(&text)
}

/// Writes to stdout; a closed pipe (`ispctl client list | head`) is not an error.
fn emit(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// One field of a [`Record`].
enum Field {
    /// Shown by `show` only when it says something: not "", 0, false, [] or null.
    Plain(Value),
    /// Shown whenever set, even as 0 or false (enums, optional numbers and flags, where an
    /// explicit "no" differs from "default").
    Always(Value),
    /// Shown by `show` even when empty, and as `(default)` when null: for records whose
    /// every field an operator checks (the supplier block of an invoice group).
    Every(Value),
    Nested(Record),
    Records(Vec<Record>),
}

/// An ordered set of named fields: see the module documentation.
#[derive(Default)]
pub struct Record(Vec<(&'static str, Field)>);

impl Record {
    pub fn new() -> Self {
        Self::default()
    }

    fn push(mut self, key: &'static str, field: Field) -> Self {
        self.0.push((key, field));
        self
    }

    pub fn str(self, key: &'static str, value: &str) -> Self {
        self.push(key, Field::Plain(Value::from(value)))
    }

    pub fn num(self, key: &'static str, value: impl Into<Value>) -> Self {
        self.push(key, Field::Plain(value.into()))
    }

    /// An optional scalar: `null` when unset, shown even when 0/false when set.
    pub fn opt<T: Into<Value>>(self, key: &'static str, value: Option<T>) -> Self {
        self.push(key, Field::Always(value.map_or(Value::Null, Into::into)))
    }

    /// A field `show` always prints (see [`Field::Every`]); `null` in JSON when `None`.
    pub fn every<T: Into<Value>>(self, key: &'static str, value: Option<T>) -> Self {
        self.push(key, Field::Every(value.map_or(Value::Null, Into::into)))
    }

    /// An enum value, already turned into its CLI name.
    pub fn name(self, key: &'static str, value: String) -> Self {
        self.push(key, Field::Always(Value::from(value)))
    }

    pub fn strs(self, key: &'static str, values: &[String]) -> Self {
        self.push(key, Field::Plain(Value::from(values.to_vec())))
    }

    /// Any JSON value, shown by `show` when it says something (audit snapshots, fields read
    /// from a message).
    pub fn raw(self, key: &'static str, value: Value) -> Self {
        self.push(key, Field::Plain(value))
    }

    pub fn nested(self, key: &'static str, value: Record) -> Self {
        self.push(key, Field::Nested(value))
    }

    /// An optional sub-message: `null` when absent.
    pub fn opt_nested(self, key: &'static str, value: Option<Record>) -> Self {
        match value {
            Some(r) => self.push(key, Field::Nested(r)),
            None => self.push(key, Field::Plain(Value::Null)),
        }
    }

    pub fn records(self, key: &'static str, values: Vec<Record>) -> Self {
        self.push(key, Field::Records(values))
    }

    /// This record with the fields of `other` put in place of its fields of the same name
    /// (added at the end when it has none): for the few fields a command prints its own way.
    pub fn replacing(mut self, other: Record) -> Self {
        for (key, field) in other.0 {
            match self.0.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = field,
                None => self.0.push((key, field)),
            }
        }
        self
    }

    /// This record without the field `key`.
    pub fn without(mut self, key: &str) -> Self {
        self.0.retain(|(k, _)| *k != key);
        self
    }

    /// The `key: value` pairs `show` prints.
    #[cfg(test)]
    pub fn lines(&self) -> Vec<(String, String)> {
        let mut lines = Vec::new();
        self.kv_lines("", &mut lines);
        lines
    }

    pub fn to_json(&self) -> Value {
        let map: Map<String, Value> = self
            .0
            .iter()
            .map(|(k, f)| {
                let v = match f {
                    Field::Plain(v) | Field::Always(v) | Field::Every(v) => v.clone(),
                    Field::Nested(r) => r.to_json(),
                    Field::Records(rs) => Value::Array(rs.iter().map(Record::to_json).collect()),
                };
                ((*k).to_owned(), v)
            })
            .collect();
        Value::Object(map)
    }

    /// `key: value` pairs for `show`; nested records use dotted keys (`address.city`), each
    /// element of a list of records becomes one `key: a=…, b=…` line.
    fn kv_lines(&self, prefix: &str, out: &mut Vec<(String, String)>) {
        for (key, field) in &self.0 {
            let key = format!("{prefix}{key}");
            match field {
                Field::Plain(v) => plain_lines(&key, v, out),
                Field::Always(Value::Null) => {}
                Field::Always(Value::Bool(b)) => out.push((key, yes_no(*b).to_owned())),
                Field::Always(v) => out.push((key, scalar_text(v))),
                Field::Every(Value::Null) => out.push((key, "(default)".to_owned())),
                Field::Every(v) => out.push((key, scalar_text(v))),
                Field::Nested(r) => r.kv_lines(&format!("{key}."), out),
                Field::Records(rs) => {
                    for r in rs {
                        let mut inner = Vec::new();
                        r.kv_lines("", &mut inner);
                        if !inner.is_empty() {
                            let joined: Vec<String> =
                                inner.iter().map(|(k, v)| format!("{k}={v}")).collect();
                            out.push((key.clone(), joined.join(", ")));
                        }
                    }
                }
            }
        }
    }
}

fn plain_lines(key: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Null | Value::Bool(false) => {}
        Value::String(s) if s.is_empty() => {}
        Value::Number(n) if n.as_u64() == Some(0) || n.as_i64() == Some(0) => {}
        Value::Array(items) if items.is_empty() => {}
        Value::Array(items) if items.iter().all(Value::is_string) => {
            let texts: Vec<String> = items.iter().map(scalar_text).collect();
            out.push((key.to_owned(), texts.join(", ")));
        }
        Value::Object(map) => {
            for (k, v) in map {
                plain_lines(&format!("{key}.{k}"), v, out);
            }
        }
        Value::Bool(true) => out.push((key.to_owned(), "yes".to_owned())),
        other => out.push((key.to_owned(), scalar_text(other))),
    }
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// How tables and `show` print a boolean.
pub fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// A plain aligned-column table: header row, two spaces between columns, no borders, so it
/// survives `grep`, `sort` and narrow terminals alike.
pub struct Table {
    head: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table whose every row has a cell under each of `head`'s columns: the compiler counts
    /// them, so a column added to the head and not to the rows (or the other way round) does
    /// not build.
    pub fn of<const N: usize>(
        head: [&'static str; N],
        rows: impl IntoIterator<Item = [String; N]>,
    ) -> Self {
        Self {
            head: head.to_vec(),
            rows: rows.into_iter().map(Vec::from).collect(),
        }
    }

    pub fn render(&self) -> String {
        // Escaped, a line break in a note cannot start a row of its own.
        let head: Vec<String> = self.head.iter().map(|h| (*h).to_owned()).collect();
        let rows: Vec<Vec<String>> = std::iter::once(head)
            .chain(
                self.rows
                    .iter()
                    .map(|r| r.iter().map(|c| escape(c).into_owned()).collect()),
            )
            .collect();
        let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|i| {
                rows.iter()
                    .filter_map(|r| r.get(i))
                    .map(|c| c.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut text = String::new();
        for row in &rows {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                line.push_str(cell);
                if i + 1 < row.len() {
                    let pad = widths[i] - cell.chars().count() + 2;
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            text.push_str(line.trim_end());
            text.push('\n');
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Moved with `money` from billing.rs.
    #[test]
    fn amounts_carry_their_currency() {
        assert_eq!(money("1210.00", "CZK"), "1210.00 CZK");
        assert_eq!(money("", "CZK"), "");
        assert_eq!(money("5", ""), "5");
    }

    #[test]
    fn table_aligns_by_characters() {
        let t = Table::of(
            ["NUMBER", "NAME", "CITY"],
            [
                ["1".into(), "Žofie Nováková".into(), "Brno".into()],
                ["1002".into(), "ACME".into(), String::new()],
            ],
        );
        assert_eq!(
            t.render(),
            "NUMBER  NAME            CITY\n\
             1       Žofie Nováková  Brno\n\
             1002    ACME\n"
        );
    }

    #[test]
    fn control_characters_are_escaped_once_and_plain_text_is_untouched() {
        for (raw, shown) in [
            ("Novák Jan", "Novák Jan"),
            ("C:\\dir\\n", "C:\\dir\\n"),
            ("Evil\x1b[2J", "Evil\\e[2J"),
            ("a\nstatus: paid", "a\\nstatus: paid"),
            ("a\r\tb", "a\\r\\tb"),
            ("\0\x07\x7f\u{9b}", "\\u{0}\\u{7}\\u{7f}\\u{9b}"),
            ("abc\u{202e}fed", "abc\\u{202e}fed"),
        ] {
            assert_eq!(escape(raw), shown, "{raw:?}");
            assert_eq!(escape(shown), shown, "escaping twice changes nothing");
        }
        assert_eq!(escape_lines("a\x1b\nb\r"), "a\\e\nb\\r");
    }

    #[test]
    fn a_line_break_in_a_cell_stays_in_its_row() {
        let t = Table::of(
            ["ID", "NAME"],
            [["1".into(), "Evil\x1b[2J\n2  Fake".into()]],
        );
        assert_eq!(t.render(), "ID  NAME\n1   Evil\\e[2J\\n2  Fake\n");
    }

    #[test]
    fn record_json_has_every_field_and_show_only_meaningful_ones() {
        let r = Record::new()
            .num("id", 7)
            .str("name", "x")
            .str("empty", "")
            .raw("off", Value::from(false))
            .opt::<u32>("due_days", None)
            .opt("send", Some(false))
            .nested("address", Record::new().str("city", "Praha"))
            .opt_nested("installation_address", None)
            .every("street", Some(""))
            .every::<String>("currency", None)
            .records(
                "accounts",
                vec![Record::new().str("number", "1/0800").str("bic", "")],
            );
        let v = r.to_json();
        assert_eq!(v["empty"], "");
        assert_eq!(v["off"], false);
        assert!(v["due_days"].is_null());
        assert!(v["installation_address"].is_null());
        assert_eq!(v["street"], "");
        assert!(v["currency"].is_null());
        assert_eq!(v["address"]["city"], "Praha");
        let mut lines = Vec::new();
        r.kv_lines("", &mut lines);
        let text: Vec<String> = lines.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        assert_eq!(
            text,
            [
                "id: 7",
                "name: x",
                "send: no",
                "address.city: Praha",
                "street: ",
                "currency: (default)",
                "accounts: number=1/0800"
            ]
        );
    }
}

use super::csv::parse_amount;
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
    assert_eq!(a.to_incoming(1, None), None);
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

// --- camt.053 reader ------------------------------------------------------------------------

/// A one-statement camt.053 document for account CZ65… in CZK around the given entries.
fn camt_doc(entries: &str) -> Vec<u8> {
    format!(
        "<Document><BkToCstmrStmt><Stmt><Acct><Id><IBAN>CZ6508000000192000145399</IBAN></Id>\
         <Ccy>CZK</Ccy></Acct>{entries}</Stmt></BkToCstmrStmt></Document>"
    )
    .into_bytes()
}

const CAMT_BOOKED: &str =
    "<CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2026-03-05</Dt></BookgDt>";

fn camt_line(xml: &[u8]) -> StatementLine {
    let statement = parse_camt053(xml).unwrap();
    assert_eq!(statement.lines.len(), 1, "{:#?}", statement.lines);
    statement.lines.into_iter().next().unwrap()
}

#[test]
fn camt_prefixes_are_dropped_wherever_they_are() {
    // Each element with its own prefix (or none), the attribute too.
    let xml = b"<ns2:Document xmlns:ns2=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.04\" xmlns:x=\"x\">\
        <ns2:BkToCstmrStmt><Stmt><ns2:Acct><x:Id><IBAN>CZ6508000000192000145399</IBAN></x:Id></ns2:Acct>\
        <ns2:Ntry><ns2:Amt x:Ccy=\"EUR\">12.50</ns2:Amt><CdtDbtInd>CRDT</CdtDbtInd>\
        <x:BookgDt><ns2:Dt>2026-03-05</ns2:Dt></x:BookgDt><AcctSvcrRef>P1</AcctSvcrRef>\
        <ns2:NtryDtls><x:TxDtls><ns2:RmtInf><x:Ustrd>VS 1001</x:Ustrd></ns2:RmtInf></x:TxDtls></ns2:NtryDtls>\
        </ns2:Ntry></Stmt></ns2:BkToCstmrStmt></ns2:Document>";
    let statement = parse_camt053(xml).unwrap();
    assert_eq!(
        statement.account.as_deref(),
        Some("CZ6508000000192000145399")
    );
    let line = &statement.lines[0];
    assert_eq!(
        (
            line.amount,
            line.currency.as_str(),
            line.variable_symbol.as_deref()
        ),
        (dec("12.50"), "EUR", Some("1001"))
    );
    assert_eq!(line.bank_transaction_id, "P1");
}

#[test]
fn camt_text_joins_cdata_references_and_pieces_around_comments() {
    let line = camt_line(&camt_doc(&format!(
        "<Ntry><Amt Ccy=\"&#67;Z&#x4B;\">4<!-- thousands -->99.00</Amt>{CAMT_BOOKED}\
         <NtryDtls><TxDtls><RltdPties><Dbtr><Nm>Dvo&#x159;&#225;k &amp; syn</Nm></Dbtr></RltdPties>\
         <RmtInf><Ustrd><![CDATA[VS 1001 <b>&amp;</b>]]></Ustrd><Ustrd> &lt;3 </Ustrd></RmtInf>\
         </TxDtls></NtryDtls></Ntry>"
    )));
    assert_eq!(
        (line.amount, line.currency.as_str()),
        (dec("499.00"), "CZK")
    );
    assert_eq!(line.payer_name.as_deref(), Some("Dvořák & syn"));
    // CDATA is taken as written: its "&amp;" is not an entity.
    assert_eq!(line.message.as_deref(), Some("VS 1001 <b>&amp;</b> <3"));
    assert_eq!(line.variable_symbol.as_deref(), Some("1001"));
}

#[test]
fn camt_the_first_of_a_repeated_element_counts() {
    // Two amounts, indicators and dates: the first of each.
    let line = camt_line(&camt_doc(
        "<Ntry><Amt Ccy=\"CZK\">10.00</Amt><Amt Ccy=\"EUR\">99.00</Amt>\
         <CdtDbtInd>DBIT</CdtDbtInd><CdtDbtInd>CRDT</CdtDbtInd>\
         <BookgDt><Dt>2026-03-05</Dt><Dt>2026-04-01</Dt></BookgDt><BookgDt><Dt>2026-05-01</Dt></BookgDt>\
         <NtryDtls><TxDtls><RltdPties><Cdtr><Nm>First</Nm></Cdtr><Cdtr><Nm>Second</Nm></Cdtr>\
         </RltdPties></TxDtls></NtryDtls></Ntry>",
    ));
    assert_eq!(
        (line.amount, line.currency.as_str()),
        (dec("-10.00"), "CZK")
    );
    assert_eq!(line.booked_on, NaiveDate::from_ymd_opt(2026, 3, 5).unwrap());
    assert_eq!(line.payer_name.as_deref(), Some("First"));
    // The first status decides, even when a later one says booked.
    let pending = camt_doc(&format!(
        "<Ntry><Amt Ccy=\"CZK\">1</Amt><Sts><Cd>PDNG</Cd></Sts>{CAMT_BOOKED}</Ntry>"
    ));
    assert!(parse_camt053(&pending).unwrap().lines.is_empty());
    // Repeated statements, entries, transactions and references are each read.
    let batch = camt_doc(&format!(
        "<Ntry><Amt Ccy=\"CZK\">3.00</Amt>{CAMT_BOOKED}<AcctSvcrRef>B</AcctSvcrRef>\
         <NtryDtls><TxDtls><Amt>1.00</Amt></TxDtls></NtryDtls>\
         <NtryDtls><TxDtls><Amt>2.00</Amt><RmtInf><Strd><CdtrRefInf><Ref>VS:5</Ref></CdtrRefInf>\
         </Strd><Strd><CdtrRefInf><Ref>KS:0308</Ref></CdtrRefInf></Strd></RmtInf></TxDtls></NtryDtls></Ntry>"
    ));
    let lines = parse_camt053(&batch).unwrap().lines;
    let got: Vec<_> = lines
        .iter()
        .map(|l| {
            (
                l.bank_transaction_id.as_str(),
                l.amount,
                l.variable_symbol.as_deref(),
                l.constant_symbol.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("B/1", dec("1.00"), None, None),
            ("B/2", dec("2.00"), Some("5"), Some("0308"))
        ]
    );
}

#[test]
fn camt_elements_off_the_read_paths_are_skipped() {
    let xml = format!(
        "<Document><BkToCstmrStmt><GrpHdr><Ntry><Amt>x</Amt></Ntry></GrpHdr><Stmt>\
         <Bal><Amt Ccy=\"CZK\">15000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd></Bal>\
         <Acct><Id><IBAN>CZ6508000000192000145399</IBAN></Id><Ccy>CZK</Ccy></Acct>\
         <Ntry><Amt Ccy=\"CZK\">5.00</Amt>{CAMT_BOOKED}<AcctSvcrRef>E1</AcctSvcrRef>\
         <TxDtls><Amt>9.00</Amt></TxDtls>\
         <NtryDtls><Ntry><Amt>bad</Amt></Ntry><TxDtls><Refs><Prtry><TxId>no</TxId></Prtry></Refs>\
         <Amt Ccy=\"CZK\">5.00</Amt></TxDtls></NtryDtls></Ntry></Stmt></BkToCstmrStmt>\
         <BkToCstmrStmt><Stmt><Ntry><Amt>bad</Amt></Ntry></Stmt></BkToCstmrStmt></Document>"
    );
    // The group header's, the balance's and the nested entries are not entries, a TxDtls
    // outside NtryDtls is no transaction, and only the first report is read.
    let lines = parse_camt053(xml.as_bytes()).unwrap().lines;
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert_eq!((lines[0].line, lines[0].amount), (1, dec("5.00")));
    assert_eq!(lines[0].bank_transaction_id, "E1");
}

#[test]
fn camt_the_account_may_follow_the_entries() {
    let xml = format!(
        "<Document><BkToCstmrStmt><Stmt><Ntry><Amt>7.00</Amt>{CAMT_BOOKED}</Ntry>\
         <Acct><Id><Othr><Id>2000145399/0800</Id></Othr></Id><Ccy>eur</Ccy></Acct></Stmt>\
         </BkToCstmrStmt></Document>"
    );
    let statement = parse_camt053(xml.as_bytes()).unwrap();
    assert_eq!(statement.account.as_deref(), Some("2000145399/0800"));
    assert_eq!(statement.lines[0].currency, "EUR");
}

#[test]
fn camt_a_broken_document_is_reported_before_a_bad_entry() {
    let bad_entry = format!("<Ntry><Amt Ccy=\"CZK\">1,5</Amt>{CAMT_BOOKED}</Ntry>");
    let entry_problem = parse_camt053(&camt_doc(&bad_entry)).unwrap_err();
    assert!(matches!(
        entry_problem,
        StatementError::Entry { entry: 1, .. }
    ));
    let mut broken = camt_doc(&bad_entry);
    broken.truncate(broken.len() - "</Document>".len());
    assert!(
        parse_camt053(&broken)
            .unwrap_err()
            .to_string()
            .contains("<Document> is never closed")
    );
    let mut unknown_entity = camt_doc(&bad_entry);
    unknown_entity.extend_from_slice(b"&nbsp;");
    assert!(matches!(
        parse_camt053(&unknown_entity),
        Err(StatementError::Format { .. })
    ));
}

/// A booking date outside the years a record may hold (the year 9999, or 0001) refuses the
/// statement, naming the entry, as any bad entry does: nothing of it is recorded.
#[test]
fn camt_a_booking_date_outside_the_record_years_refuses_the_statement() {
    for date in ["9999-12-31", "0001-01-01"] {
        let entry = format!(
            "<Ntry><Amt Ccy=\"CZK\">100</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>\
             <BookgDt><Dt>{date}</Dt></BookgDt></Ntry>"
        );
        let problem = parse_camt053(&camt_doc(&entry)).unwrap_err();
        assert!(
            matches!(problem, StatementError::Entry { entry: 1, .. }),
            "{problem}"
        );
        assert!(
            problem.to_string().contains("outside the years 1900-2199"),
            "{problem}"
        );
    }
    let good = format!("<Ntry><Amt Ccy=\"CZK\">100</Amt>{CAMT_BOOKED}</Ntry>");
    assert_eq!(
        camt_line(&camt_doc(&good)).booked_on.to_string(),
        "2026-03-05"
    );
}

/// Every part [`read_camt053`] hands on, in order, with what it returned.
fn camt_parts(
    xml: &[u8],
    per_part: usize,
) -> (
    Vec<Vec<StatementLine>>,
    Result<Option<String>, StatementError>,
) {
    let mut parts = Vec::new();
    let read = read_camt053(xml, per_part, |part| {
        parts.push(part.lines);
        std::ops::ControlFlow::<std::convert::Infallible>::Continue(())
    });
    let read = read.map(|read| match read {
        std::ops::ControlFlow::Continue(account) => account,
    });
    (parts, read)
}

/// Entries with their own ids, id-less ones that repeat (derived ids count them), a batch
/// entry of two transactions and a pending one: the parts, put together, are the lines of the
/// whole statement with the same ids; each part is full but the last.
#[test]
fn camt_read_in_parts_gives_the_lines_of_the_whole() {
    let mut entries = String::new();
    for i in 1..=9 {
        let reference = if i % 3 == 0 {
            String::new()
        } else {
            format!("<AcctSvcrRef>REF-{i}</AcctSvcrRef>")
        };
        entries.push_str(&format!(
            "<Ntry><Amt Ccy=\"CZK\">5.00</Amt>{CAMT_BOOKED}{reference}</Ntry>"
        ));
    }
    entries.push_str(&format!(
        "<Ntry><Amt Ccy=\"CZK\">3.00</Amt>{CAMT_BOOKED}<AcctSvcrRef>B</AcctSvcrRef>\
         <NtryDtls><TxDtls><Amt>1.00</Amt></TxDtls><TxDtls><Amt>2.00</Amt></TxDtls></NtryDtls></Ntry>\
         <Ntry><Amt Ccy=\"CZK\">1</Amt><Sts><Cd>PDNG</Cd></Sts></Ntry>"
    ));
    let xml = camt_doc(&entries);
    let whole = parse_camt053(&xml).unwrap();
    assert_eq!(whole.lines.len(), 11);
    assert!(whole.lines[2].bank_transaction_id.ends_with(":1"));
    assert!(whole.lines[5].bank_transaction_id.ends_with(":2"));
    for per_part in [1, 2, 4, 11, 12, 1000] {
        let (parts, read) = camt_parts(&xml, per_part);
        assert_eq!(read.unwrap(), whole.account, "per part {per_part}");
        let sizes: Vec<usize> = parts.iter().map(Vec::len).collect();
        let (last, full) = sizes.split_last().unwrap();
        assert!(
            full.iter().all(|&n| n == per_part) && (1..=per_part).contains(last),
            "per part {per_part}: {sizes:?}"
        );
        assert_eq!(parts.concat(), whole.lines, "per part {per_part}");
    }
}

/// Read in parts, a statement is refused with the error of the whole file, whatever was
/// handed on before it: a bad entry after an id used twice, the id used twice, broken XML.
#[test]
fn camt_read_in_parts_is_refused_as_the_whole_is() {
    let entry = |amount: &str, reference: &str| {
        format!(
            "<Ntry><Amt Ccy=\"CZK\">{amount}</Amt>{CAMT_BOOKED}<AcctSvcrRef>{reference}</AcctSvcrRef></Ntry>"
        )
    };
    let twice = [
        entry("1.00", "A"),
        entry("2.00", "B"),
        entry("3.00", "A"),
        entry("4.00", "C"),
    ];
    let bad_after_twice = [twice.as_slice(), &[entry("1,5", "D")]].concat();
    let mut broken = camt_doc(&bad_after_twice.concat());
    broken.truncate(broken.len() - "</Document>".len());
    for (xml, expected) in [
        (
            camt_doc(&twice.concat()),
            "entry 3: bank transaction id \"A\" is also used by entry 1",
        ),
        (
            camt_doc(&bad_after_twice.concat()),
            "entry 5: amount \"1,5\"",
        ),
        (broken, "<Document> is never closed"),
    ] {
        let whole = parse_camt053(&xml).unwrap_err();
        assert!(whole.to_string().contains(expected), "{whole}");
        for per_part in [1, 2, 100] {
            let (parts, read) = camt_parts(&xml, per_part);
            assert_eq!(read.unwrap_err(), whole, "per part {per_part}");
            assert!(
                parts.concat().iter().all(|l| l.line < 3),
                "per part {per_part}"
            );
        }
    }
}

/// A part may stop the reading: nothing more is read or handed on.
#[test]
fn camt_a_part_may_stop_the_reading() {
    let entries: String = (1..=5)
        .map(|i| format!("<Ntry><Amt Ccy=\"CZK\">1.00</Amt>{CAMT_BOOKED}<AcctSvcrRef>R{i}</AcctSvcrRef></Ntry>"))
        .collect();
    let mut parts = 0;
    let read = read_camt053(&camt_doc(&entries)[..], 2, |part| {
        parts += 1;
        std::ops::ControlFlow::Break((part.account, part.lines.len()))
    });
    // The part names its statement's account: the bank's ids are unique only on it.
    let account = Some("CZ6508000000192000145399".to_owned());
    assert_eq!(read, Ok(std::ops::ControlFlow::Break((account, 2))));
    assert_eq!(parts, 1);
}

#[test]
fn camt_nesting_is_bounded_at_64_levels() {
    // Document, BkToCstmrStmt, Stmt and 61 more: 64 levels are read, 65 are refused.
    let nested = |extra: usize| {
        format!(
            "<Document><BkToCstmrStmt><Stmt>{}{}</Stmt></BkToCstmrStmt></Document>",
            "<a>".repeat(extra),
            "</a>".repeat(extra)
        )
    };
    assert_eq!(parse_camt053(nested(61).as_bytes()).unwrap().lines, vec![]);
    let refused = parse_camt053(nested(62).as_bytes()).unwrap_err();
    assert!(
        refused.to_string().contains("nested deeper than 64"),
        "{refused}"
    );
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

//! Any message of the admin API as a [`Record`], field by field from the API's own descriptor.
//!
//! `show` and `--json` print the message the server answered with. Reading its fields from the
//! descriptor compiled into `ispd-admin-proto`, instead of a hand-written list per message,
//! means that a field the API gains is printed by the next build with nothing to change here,
//! and that a JSON key is always the field's proto name. prost has no reflection of its own
//! and prost-reflect would bring a second message model for what is a short walk: the four
//! wire encodings and the descriptor's field list, in declaration order (the order `show`
//! prints).
//!
//! How a field is printed follows from its declaration: a proto3 `optional` scalar is `null`
//! when unset and shown even when 0 or false; an enum by its value's name without the enum's
//! prefix, lower case with dashes (`PERIOD_HALF_YEARLY` is `half-yearly`, the spelling of the
//! CLI's flags); a message as a nested record (`null` when absent); a repeated message as a
//! list of records. A command that prints a field its own way replaces it with
//! [`Record::replacing`].

use std::collections::HashMap;
use std::sync::OnceLock;

use prost::{Message, Name};
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, EnumDescriptorProto, FieldDescriptorProto, FileDescriptorSet};
use serde_json::Value;

use crate::output::Record;

/// The record of `message`: every field its descriptor declares, in declaration order.
pub fn record<M: Message + Name>(message: &M) -> Record {
    let name = format!(".{}", M::full_name());
    read(index(), &name, &message.encode_to_vec())
}

/// The API's messages and enums by fully qualified name (`.ispd.admin.v1.Tariff`).
#[derive(Default)]
struct Index {
    messages: HashMap<String, DescriptorProto>,
    enums: HashMap<String, EnumDescriptorProto>,
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        // Compiled into the proto crate by its build script; a unit test below reads it.
        let set =
            FileDescriptorSet::decode(ispd_admin_proto::FILE_DESCRIPTOR_SET).unwrap_or_default();
        let mut index = Index::default();
        for file in set.file {
            let scope = format!(".{}", file.package());
            index.add(&scope, file.message_type, file.enum_type);
        }
        index
    })
}

impl Index {
    fn add(
        &mut self,
        scope: &str,
        messages: Vec<DescriptorProto>,
        enums: Vec<EnumDescriptorProto>,
    ) {
        for e in enums {
            self.enums.insert(format!("{scope}.{}", e.name()), e);
        }
        for mut m in messages {
            let name = format!("{scope}.{}", m.name());
            let nested = std::mem::take(&mut m.nested_type);
            let nested_enums = std::mem::take(&mut m.enum_type);
            self.add(&name, nested, nested_enums);
            self.messages.insert(name, m);
        }
    }
}

/// One field's value as it stands on the wire.
#[derive(Clone, Copy)]
enum Wire<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

/// The (field number, value) pairs of an encoded message; stops at the first thing it cannot
/// read (prost encoded the bytes a moment ago, so there is none).
fn wire_fields(mut buf: &[u8]) -> Vec<(u64, Wire<'_>)> {
    let mut fields = Vec::new();
    while let Some(key) = varint(&mut buf) {
        let value = match key & 7 {
            0 => varint(&mut buf).map(Wire::Varint),
            1 => fixed64(&mut buf).map(Wire::Fixed64),
            2 => varint(&mut buf)
                .and_then(|len| usize::try_from(len).ok())
                .and_then(|len| take(&mut buf, len))
                .map(Wire::Bytes),
            5 => fixed32(&mut buf).map(Wire::Fixed32),
            _ => None,
        };
        match value {
            Some(value) => fields.push((key >> 3, value)),
            None => break,
        }
    }
    fields
}

fn varint(buf: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for (i, byte) in buf.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            *buf = &buf[i + 1..];
            return Some(value);
        }
    }
    None
}

fn take<'a>(buf: &mut &'a [u8], len: usize) -> Option<&'a [u8]> {
    let (head, rest) = buf.split_at_checked(len)?;
    *buf = rest;
    Some(head)
}

fn fixed32(buf: &mut &[u8]) -> Option<u32> {
    Some(u32::from_le_bytes(take(buf, 4)?.try_into().ok()?))
}

fn fixed64(buf: &mut &[u8]) -> Option<u64> {
    Some(u64::from_le_bytes(take(buf, 8)?.try_into().ok()?))
}

fn read(index: &'static Index, message: &str, bytes: &[u8]) -> Record {
    let Some(descriptor) = index.messages.get(message) else {
        return Record::new();
    };
    let wire = wire_fields(bytes);
    descriptor
        .field
        .iter()
        .fold(Record::new(), |record, field| {
            let values: Vec<Wire<'_>> = wire
                .iter()
                .filter(|(number, _)| i64::try_from(*number).ok() == field.number.map(i64::from))
                .map(|(_, value)| *value)
                .collect();
            add(index, record, field, &values)
        })
}

/// Adds one declared field to `record`, from the values the wire held for it (the last one
/// counts for a singular field, as in any protobuf reader).
fn add(
    index: &'static Index,
    record: Record,
    field: &'static FieldDescriptorProto,
    values: &[Wire<'_>],
) -> Record {
    let key = field.name();
    let kind = field.r#type();
    let last = values.last().copied();
    if field.label() == Label::Repeated {
        return match kind {
            Type::Message => record.records(
                key,
                values
                    .iter()
                    .filter_map(|v| bytes(*v))
                    .map(|b| read(index, field.type_name(), b))
                    .collect(),
            ),
            Type::String => record.strs(key, &values.iter().map(|v| text(*v)).collect::<Vec<_>>()),
            _ => record.raw(key, Value::Array(scalars(index, field, values))),
        };
    }
    match kind {
        Type::Message => record.opt_nested(
            key,
            last.and_then(bytes)
                .map(|b| read(index, field.type_name(), b)),
        ),
        _ if field.proto3_optional() => record.opt(key, last.map(|v| scalar(index, field, v))),
        Type::Enum => record.name(key, enum_name(index, field, last.map_or(0, number))),
        _ => record.raw(
            key,
            last.map_or_else(|| default(kind), |v| scalar(index, field, v)),
        ),
    }
}

/// The values of a repeated scalar field, packed (one length-delimited run) or not.
fn scalars(index: &Index, field: &FieldDescriptorProto, values: &[Wire<'_>]) -> Vec<Value> {
    let kind = field.r#type();
    let mut out = Vec::new();
    for value in values {
        match *value {
            Wire::Bytes(mut run) if !matches!(kind, Type::String | Type::Bytes) => {
                while let Some(element) = packed(&mut run, kind) {
                    out.push(scalar(index, field, element));
                }
            }
            value => out.push(scalar(index, field, value)),
        }
    }
    out
}

/// The next element of a packed run, read as its type is encoded.
fn packed<'a>(run: &mut &'a [u8], kind: Type) -> Option<Wire<'a>> {
    match kind {
        Type::Fixed32 | Type::Sfixed32 | Type::Float => fixed32(run).map(Wire::Fixed32),
        Type::Fixed64 | Type::Sfixed64 | Type::Double => fixed64(run).map(Wire::Fixed64),
        _ => varint(run).map(Wire::Varint),
    }
}

/// A scalar as JSON, by its declared type: integers keep their sign and width, 64-bit ones
/// stay numbers (not the strings of protobuf's canonical JSON) since scripts compare them.
/// The wire carries every integer in 64 bits; `as` takes the declared width back, as every
/// protobuf reader does.
fn scalar(index: &Index, field: &FieldDescriptorProto, value: Wire<'_>) -> Value {
    let n = number(value);
    match field.r#type() {
        Type::String | Type::Bytes => Value::from(text(value)),
        Type::Bool => Value::from(n != 0),
        Type::Enum => Value::from(enum_name(index, field, n)),
        Type::Int32 | Type::Sfixed32 => Value::from(n as i32),
        Type::Int64 | Type::Sfixed64 => Value::from(n as i64),
        Type::Uint32 | Type::Fixed32 => Value::from(n as u32),
        Type::Sint32 => Value::from(((n as u32) >> 1) as i32 ^ -((n & 1) as i32)),
        Type::Sint64 => Value::from((n >> 1) as i64 ^ -((n & 1) as i64)),
        Type::Float => Value::from(f32::from_bits(n as u32)),
        Type::Double => Value::from(f64::from_bits(n)),
        Type::Uint64 | Type::Fixed64 | Type::Group | Type::Message => Value::from(n),
    }
}

fn default(kind: Type) -> Value {
    match kind {
        Type::String | Type::Bytes => Value::from(""),
        Type::Bool => Value::from(false),
        _ => Value::from(0),
    }
}

fn number(value: Wire<'_>) -> u64 {
    match value {
        Wire::Varint(n) | Wire::Fixed64(n) => n,
        Wire::Fixed32(n) => u64::from(n),
        Wire::Bytes(_) => 0,
    }
}

fn bytes(value: Wire<'_>) -> Option<&[u8]> {
    match value {
        Wire::Bytes(b) => Some(b),
        _ => None,
    }
}

fn text(value: Wire<'_>) -> String {
    bytes(value).map_or_else(String::new, |b| String::from_utf8_lossy(b).into_owned())
}

/// An enum value as the CLI spells it: `PERIOD_HALF_YEARLY` of `Period` is `half-yearly`;
/// a value this ispctl does not know (a newer server) is its number. Enums are int32.
fn enum_name(index: &Index, field: &FieldDescriptorProto, raw: u64) -> String {
    let raw = raw as i32;
    let Some(e) = index.enums.get(field.type_name()) else {
        return raw.to_string();
    };
    let Some(value) = e.value.iter().find(|v| v.number() == raw) else {
        return raw.to_string();
    };
    let prefix = screaming_snake(e.name());
    let name = value.name();
    let bare = name
        .strip_prefix(&prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .unwrap_or(name);
    bare.to_ascii_lowercase().replace('_', "-")
}

/// `TaxableDateRule` → `TAXABLE_DATE_RULE`, the prefix protobuf's style guide puts on values.
fn screaming_snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use ispd_admin_proto::v1::{
        Burst, Login, Nas, Period, RadiusAttribute, SubscriptionState, Tariff,
    };
    use serde_json::json;

    use super::*;

    #[test]
    fn the_descriptor_knows_every_message_ispctl_prints() {
        for name in [
            "Client",
            "Tariff",
            "Subscription",
            "Invoice",
            "Session",
            "Attempt",
        ] {
            assert!(
                index()
                    .messages
                    .contains_key(&format!(".ispd.admin.v1.{name}")),
                "{name}"
            );
        }
    }

    #[test]
    fn every_field_is_in_json_and_show_keeps_those_that_say_something() {
        let tariff = Tariff {
            id: 3,
            name: "Home 100".into(),
            download_kbps: 100_000,
            period: Period::HalfYearly as i32,
            burst: Some(Burst {
                download_kbps: 200_000,
                ..Burst::default()
            }),
            ..Tariff::default()
        };
        let json = record(&tariff).to_json();
        assert_eq!(json["id"], 3);
        assert_eq!(json["name"], "Home 100");
        assert_eq!(json["upload_kbps"], 0, "a zero is still in the JSON");
        assert_eq!(json["price_includes_vat"], false);
        assert_eq!(json["period"], "half-yearly");
        assert_eq!(json["burst"]["download_kbps"], 200_000);
        assert!(json["window"].is_null(), "an absent message is null");
        assert!(json["cap"].is_null());
    }

    #[test]
    fn optional_scalars_are_null_when_unset_and_shown_when_zero() {
        let mut nas = Nas {
            name: "edge".into(),
            ..Nas::default()
        };
        assert!(record(&nas).to_json()["require_message_authenticator"].is_null());
        nas.require_message_authenticator = Some(false);
        assert_eq!(
            record(&nas).to_json()["require_message_authenticator"],
            false
        );
        assert!(
            record(&nas)
                .lines()
                .contains(&("require_message_authenticator".to_owned(), "no".to_owned()))
        );
    }

    #[test]
    fn repeated_fields_keep_their_order() {
        let login = Login {
            username: "jan".into(),
            nas: vec!["a".into(), "b".into()],
            attributes: vec![
                RadiusAttribute {
                    name: "Filter-Id".into(),
                    value: "x".into(),
                },
                RadiusAttribute {
                    name: "Class".into(),
                    value: "y".into(),
                },
            ],
            ..Login::default()
        };
        let json = record(&login).to_json();
        assert_eq!(json["nas"], json!(["a", "b"]));
        assert_eq!(json["attributes"][1]["name"], "Class");
        assert_eq!(json["auth_type"], "unspecified");
    }

    #[test]
    fn enum_names_are_the_cli_spelling_and_unknown_values_their_number() {
        let field = |type_name: &str| FieldDescriptorProto {
            type_name: Some(type_name.into()),
            ..FieldDescriptorProto::default()
        };
        let state = field(".ispd.admin.v1.SubscriptionState");
        let raw = |s: SubscriptionState| u64::try_from(s as i32).unwrap_or_default();
        assert_eq!(
            enum_name(index(), &state, raw(SubscriptionState::NotYetActive)),
            "not-yet-active"
        );
        assert_eq!(enum_name(index(), &state, 42), "42");
        assert_eq!(screaming_snake("TaxableDateRule"), "TAXABLE_DATE_RULE");
    }

    #[test]
    fn signed_and_packed_values_decode() {
        let mut buf = Vec::new();
        prost::encoding::int64::encode(1, &-5, &mut buf);
        prost::encoding::uint64::encode_packed(2, &[1, 300], &mut buf);
        let fields = wire_fields(&buf);
        assert_eq!(fields.len(), 2);
        let first = number(fields[0].1) as i64;
        assert_eq!(first, -5);
        let Wire::Bytes(mut run) = fields[1].1 else {
            panic!("packed values are one run");
        };
        assert_eq!(varint(&mut run), Some(1));
        assert_eq!(varint(&mut run), Some(300));
    }
}

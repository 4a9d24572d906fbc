//! Attribute data types as FreeRADIUS's `share/dictionary.*` files give them, and the value
//! octets of an operator's text written as one (RFC 2865 §5, RFC 2868 §3, RFC 3162 §2,
//! RFC 8044 §3). No attribute of the tables is `integer64`, `tlv`, `evs` or `extended`, so
//! those types are not here.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::{Ipv6Prefix, TextValueError};

/// How an attribute's value is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataType {
    /// `string`: UTF-8 text (RFC 8044 §3.4).
    Text,
    /// `octets`: any bytes (RFC 8044 §3.5).
    Octets,
    /// `integer`: 32 bits, network order (RFC 8044 §3.1).
    Integer,
    /// `ipaddr`: an IPv4 address (RFC 8044 §3.8).
    Ipv4Addr,
    /// `date`: seconds since 1970 in 32 bits (RFC 8044 §3.6).
    Date,
    /// `ipv6addr`: an IPv6 address (RFC 8044 §3.9).
    Ipv6Addr,
    /// `ipv6prefix`: reserved octet, length, the prefix's octets (RFC 8044 §3.10).
    Ipv6Prefix,
    /// `ifid`: an 8-octet interface identifier (RFC 8044 §3.7).
    InterfaceId,
    /// `integer has_tag`: a tag octet and 24 bits of value (RFC 2868 §3.1).
    TaggedInteger,
    /// `string has_tag`: text an optional tag octet precedes (RFC 2868 §3.3).
    TaggedText,
    /// `encrypt=1/2`: sent only hidden with the shared secret (RFC 2865 §5.2, RFC 2868 §3.5,
    /// RFC 2548 §2.4.2).
    Encrypted,
    /// `vsa`: a container of vendor attributes (RFC 2865 §5.26).
    Vsa,
}

impl DataType {
    /// The value octets of `text` written as this type: a number for an integer or date, an
    /// address, `addr/len` for a prefix, `0x` and hex for octets, four hex groups
    /// (`0:0:0:1`) for an interface id. Text goes as it is.
    pub fn from_text(self, text: &str) -> Result<Vec<u8>, TextValueError> {
        use DataType as T;
        let trimmed = text.trim();
        let invalid = || TextValueError::Invalid(self.expected());
        match self {
            T::Text => Ok(text.as_bytes().to_vec()),
            // RFC 2868 §3.3: a first octet of 0x01-0x1F is read as the tag.
            T::TaggedText if text.bytes().next().is_some_and(|b| b < 0x20) => Err(invalid()),
            T::TaggedText => Ok(text.as_bytes().to_vec()),
            T::Integer | T::Date => Ok(trimmed
                .parse::<u32>()
                .map_err(|_| invalid())?
                .to_be_bytes()
                .to_vec()),
            T::TaggedInteger => {
                match trimmed.parse::<u32>().map_err(|_| invalid())?.to_be_bytes() {
                    [0, high, middle, low] => Ok(vec![0, high, middle, low]),
                    _ => Err(invalid()),
                }
            }
            T::Ipv4Addr => Ok(trimmed
                .parse::<Ipv4Addr>()
                .map_err(|_| invalid())?
                .octets()
                .to_vec()),
            T::Ipv6Addr => Ok(trimmed
                .parse::<Ipv6Addr>()
                .map_err(|_| invalid())?
                .octets()
                .to_vec()),
            T::Ipv6Prefix => prefix(trimmed).ok_or_else(invalid),
            T::InterfaceId => interface_id(trimmed).ok_or_else(invalid),
            T::Octets => hex(trimmed).ok_or_else(invalid),
            T::Encrypted => Err(TextValueError::Unsendable(
                "it is sent only encrypted with the shared secret",
            )),
            T::Vsa => Err(TextValueError::Unsendable(
                "it carries vendor attributes; name the vendor's attribute",
            )),
        }
    }

    /// What a value of this type is written as, for the error that refuses one.
    const fn expected(self) -> &'static str {
        match self {
            DataType::Text | DataType::Encrypted | DataType::Vsa => "text",
            DataType::TaggedText => "text not starting with a control character",
            DataType::Integer => "an integer: a number 0-4294967295",
            DataType::Date => "a date: seconds since 1970 (Unix time), 0-4294967295",
            DataType::TaggedInteger => "a tagged integer: a number 0-16777215",
            DataType::Ipv4Addr => "an IPv4 address",
            DataType::Ipv6Addr => "an IPv6 address",
            DataType::Ipv6Prefix => "an IPv6 prefix: address/length, no host bits set",
            DataType::InterfaceId => "an interface id: four hex groups, 0:0:0:1",
            DataType::Octets => "octets: 0x and hex digits",
        }
    }
}

/// `addr/len` with no bits set past `len`, minimal form (RFC 8044 §3.10).
fn prefix(text: &str) -> Option<Vec<u8>> {
    let (addr, len) = text.split_once('/')?;
    let addr: Ipv6Addr = addr.parse().ok()?;
    let prefix = Ipv6Prefix::new(addr, len.parse().ok()?).ok()?;
    (prefix.addr() == addr).then(|| prefix.encode())
}

/// Four groups of up to four hex digits, as FreeRADIUS writes an `ifid`.
fn interface_id(text: &str) -> Option<Vec<u8>> {
    let groups: Vec<u16> = text
        .split(':')
        .map(|g| (!g.is_empty() && g.len() <= 4).then(|| u16::from_str_radix(g, 16).ok())?)
        .collect::<Option<_>>()?;
    (groups.len() == 4).then(|| groups.iter().flat_map(|g| g.to_be_bytes()).collect())
}

/// `0x` and an even number of hex digits, at least one octet.
fn hex(text: &str) -> Option<Vec<u8>> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))?;
    if digits.is_empty() || digits.len() % 2 != 0 || !digits.is_ascii() {
        return None;
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::DataType as T;

    /// Each type, a value written as an operator would, and the exact octets it goes as;
    /// `None` where the text is refused.
    #[test]
    fn text_values_encode_as_their_type() {
        let cases: &[(T, &str, Option<&[u8]>)] = &[
            (T::Text, "vip", Some(b"vip")),
            (T::Text, " a b ", Some(b" a b ")),
            (T::TaggedText, "100", Some(b"100")),
            (T::TaggedText, "\x01100", None),
            (T::Integer, "1", Some(&[0, 0, 0, 1])),
            (T::Integer, " 3600 ", Some(&[0, 0, 0x0e, 0x10])),
            (T::Integer, "4294967295", Some(&[0xff; 4])),
            (T::Integer, "4294967296", None),
            (T::Integer, "-1", None),
            (T::Integer, "soon", None),
            (T::Integer, "0x10", None),
            (T::Date, "5", Some(&[0, 0, 0, 5])),
            (T::Date, "1700000000", Some(&[0x65, 0x53, 0xf1, 0x00])),
            (T::Date, "2024-01-01", None),
            (T::TaggedInteger, "13", Some(&[0, 0, 0, 13])),
            (T::TaggedInteger, "16777215", Some(&[0, 0xff, 0xff, 0xff])),
            (T::TaggedInteger, "16777216", None),
            (T::Ipv4Addr, "8.8.8.8", Some(&[8, 8, 8, 8])),
            (T::Ipv4Addr, "1.2.3.4 ", Some(&[1, 2, 3, 4])),
            (T::Ipv4Addr, "1.2.3", None),
            (T::Ipv4Addr, "::1", None),
            (
                T::Ipv6Addr,
                "2001:db8::5",
                Some(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5]),
            ),
            (T::Ipv6Addr, "8.8.8.8", None),
            (
                T::Ipv6Prefix,
                "2001:db8:9::/64",
                Some(&[0, 64, 0x20, 0x01, 0x0d, 0xb8, 0, 9, 0, 0]),
            ),
            (
                T::Ipv6Prefix,
                "2001:db8::/32",
                Some(&[0, 32, 0x20, 0x01, 0x0d, 0xb8]),
            ),
            (T::Ipv6Prefix, "::/0", Some(&[0, 0])),
            (T::Ipv6Prefix, "2001:db8::1/64", None),
            (T::Ipv6Prefix, "2001:db8::", None),
            (T::Ipv6Prefix, "2001:db8::/129", None),
            (T::InterfaceId, "0:0:0:1", Some(&[0, 0, 0, 0, 0, 0, 0, 1])),
            (
                T::InterfaceId,
                "0211:22ff:fe33:4455",
                Some(&[0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55]),
            ),
            (T::InterfaceId, "0:0:1", None),
            (T::InterfaceId, "0:0:0:10000", None),
            (T::Octets, "0x01", Some(&[1])),
            (T::Octets, "0xDEADbeef", Some(&[0xde, 0xad, 0xbe, 0xef])),
            (T::Octets, "0x", None),
            (T::Octets, "0x123", None),
            (T::Octets, "0xzz", None),
            (T::Octets, "plain", None),
            (T::Encrypted, "secret", None),
            (T::Vsa, "0x01", None),
        ];
        for &(data_type, text, want) in cases {
            assert_eq!(
                data_type.from_text(text).ok().as_deref(),
                want,
                "{data_type:?} {text:?}"
            );
        }
    }

    #[test]
    fn a_refusal_says_what_the_type_wants() {
        let why = |t: T, text| T::from_text(t, text).unwrap_err().to_string();
        assert_eq!(
            why(T::Integer, "x"),
            "not an integer: a number 0-4294967295"
        );
        assert!(why(T::Encrypted, "x").contains("encrypted"));
        assert!(why(T::Vsa, "x").contains("vendor's attribute"));
    }
}

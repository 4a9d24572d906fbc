//! Attributes: the raw Type/Value pairs of a packet, borrowed or owned, with
//! typed accessors and constructors for the RFC 2865 data types.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::SystemTime;

use crate::value;
use crate::{Ipv6Prefix, ValueError, VendorSpecific, VsaError};

/// An attribute inside a received packet (or a vendor sub-attribute inside a
/// Vendor-Specific attribute, where `typ` is the vendor type). Borrowing keeps
/// decoding allocation-free; call [`AttributeRef::to_attribute`] to keep one.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AttributeRef<'a> {
    /// Attribute type (or vendor type for sub-attributes).
    pub typ: u8,
    /// Raw value octets, without the Type and Length octets.
    pub value: &'a [u8],
}

/// An owned attribute, for building packets. Values are raw octets, so any
/// attribute (including Vendor-Specific, 26) round-trips unchanged.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Attribute {
    /// Attribute type.
    pub typ: u8,
    /// Raw value octets, at most 253 (checked when encoding).
    pub value: Vec<u8>,
}

impl<'a> AttributeRef<'a> {
    /// The raw value.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.value
    }

    /// The value as UTF-8 text (RFC 2865 "text"; RFC 8044 §3.4).
    pub fn as_str(&self) -> Result<&'a str, ValueError> {
        value::text(self.value)
    }

    /// The value as a 32-bit unsigned "integer" (RFC 2865 §5).
    pub fn as_u32(&self) -> Result<u32, ValueError> {
        value::integer(self.value)
    }

    /// The value as an IPv4 "address".
    pub fn as_ipv4(&self) -> Result<Ipv4Addr, ValueError> {
        value::ipv4(self.value)
    }

    /// The value as an IPv6 address (RFC 3162 NAS-IPv6-Address, RFC 6911).
    pub fn as_ipv6(&self) -> Result<Ipv6Addr, ValueError> {
        value::ipv6(self.value)
    }

    /// The value as an IPv6 prefix (RFC 3162 §2.3, RFC 4818).
    pub fn as_ipv6_prefix(&self) -> Result<Ipv6Prefix, ValueError> {
        Ipv6Prefix::decode(self.value)
    }

    /// The value as a "time": seconds since 1970-01-01 UTC (RFC 2865 §5).
    pub fn as_date(&self) -> Result<SystemTime, ValueError> {
        value::date(self.value)
    }

    /// The value as a Vendor-Specific attribute (RFC 2865 §5.26).
    pub fn as_vendor_specific(&self) -> Result<VendorSpecific<'a>, VsaError> {
        VendorSpecific::parse(self.value)
    }

    /// An owned copy.
    pub fn to_attribute(&self) -> Attribute {
        Attribute {
            typ: self.typ,
            value: self.value.to_vec(),
        }
    }
}

impl Attribute {
    /// An attribute with raw value octets.
    pub fn new(typ: u8, value: impl Into<Vec<u8>>) -> Self {
        Attribute {
            typ,
            value: value.into(),
        }
    }

    /// A "text" attribute.
    pub fn string(typ: u8, text: &str) -> Self {
        Attribute::new(typ, text.as_bytes())
    }

    /// An "integer" attribute (also used for enumerated values).
    pub fn integer(typ: u8, value: u32) -> Self {
        Attribute::new(typ, value.to_be_bytes())
    }

    /// An IPv4 "address" attribute.
    pub fn ipv4(typ: u8, addr: Ipv4Addr) -> Self {
        Attribute::new(typ, addr.octets())
    }

    /// An IPv6 address attribute.
    pub fn ipv6(typ: u8, addr: Ipv6Addr) -> Self {
        Attribute::new(typ, addr.octets())
    }

    /// An IPv6 prefix attribute, in the minimal RFC 8044 §3.10 form.
    pub fn ipv6_prefix(typ: u8, prefix: Ipv6Prefix) -> Self {
        Attribute::new(typ, prefix.encode())
    }

    /// A "time" attribute; fails outside 1970..=2106.
    pub fn date(typ: u8, time: SystemTime) -> Result<Self, ValueError> {
        value::date_octets(time).map(|octets| Attribute::new(typ, octets))
    }

    /// A borrowed view, to reach the typed accessors.
    pub fn view(&self) -> AttributeRef<'_> {
        AttributeRef {
            typ: self.typ,
            value: &self.value,
        }
    }
}

impl<'a> From<AttributeRef<'a>> for Attribute {
    fn from(attr: AttributeRef<'a>) -> Self {
        attr.to_attribute()
    }
}

/// Writes `typ=hex` so packet dumps stay readable and never print raw
/// control characters into logs.
fn debug(typ: u8, value: &[u8], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(f, "{typ}=")?;
    if value.is_empty() {
        return f.write_str("\"\"");
    }
    for b in value {
        write!(f, "{b:02x}")?;
    }
    Ok(())
}

impl fmt::Debug for AttributeRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug(self.typ, self.value, f)
    }
}

impl fmt::Debug for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug(self.typ, &self.value, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn constructors_round_trip_through_accessors() {
        let a = Attribute::string(1, "nemo");
        assert_eq!(a.view().as_str(), Ok("nemo"));
        let a = Attribute::integer(5, 3);
        assert_eq!(a.value, [0, 0, 0, 3]);
        assert_eq!(a.view().as_u32(), Ok(3));
        let ip = Ipv4Addr::new(192, 168, 1, 16);
        assert_eq!(Attribute::ipv4(4, ip).view().as_ipv4(), Ok(ip));
        let ip6: Ipv6Addr = "2001:db8::1".parse().unwrap();
        assert_eq!(Attribute::ipv6(95, ip6).view().as_ipv6(), Ok(ip6));
        let p = Ipv6Prefix::new("2001:db8:abcd::".parse().unwrap(), 48).unwrap();
        let a = Attribute::ipv6_prefix(123, p);
        assert_eq!(a.value, [0, 48, 0x20, 0x01, 0x0d, 0xb8, 0xab, 0xcd]);
        assert_eq!(a.view().as_ipv6_prefix(), Ok(p));
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(Attribute::date(55, t).unwrap().view().as_date(), Ok(t));
    }

    #[test]
    fn wrong_types_are_errors_not_panics() {
        let a = AttributeRef {
            typ: 5,
            value: &[0, 0],
        };
        assert!(a.as_u32().is_err());
        assert!(a.as_ipv4().is_err());
        assert!(a.as_ipv6().is_err());
        assert!(a.as_date().is_err());
        assert_eq!(a.as_ipv6_prefix().unwrap().to_string(), "::/0");
        assert!(a.as_vendor_specific().is_err());
    }

    #[test]
    fn debug_is_hex() {
        assert_eq!(format!("{:?}", Attribute::string(1, "a\n")), "1=610a");
        assert_eq!(format!("{:?}", Attribute::new(24, [])), "24=\"\"");
        let owned = Attribute::string(1, "x");
        assert_eq!(Attribute::from(owned.view()), owned);
    }
}

//! Vendor-Specific attributes (type 26, RFC 2865 §5.26) in the recommended
//! layout: `Vendor-Id(4) { Vendor-Type(1) Vendor-Length(1) Value }+`, with
//! several sub-attributes allowed in one attribute. Microsoft, MikroTik,
//! Cisco, Juniper/ERX, WISPr and the DSL Forum all use this layout.

use crate::dict::rfc::VENDOR_SPECIFIC;
use crate::packet::{TlvFault, check_tlvs};
use crate::{Attribute, AttributeRef, Attributes, EncodeError, MAX_ATTRIBUTE_VALUE_LEN, VsaError};

/// A validated Vendor-Specific value. Its sub-attributes come out as
/// [`AttributeRef`]s whose `typ` is the vendor type, so the typed accessors
/// work on them too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VendorSpecific<'a> {
    vendor_id: u32,
    subs: &'a [u8],
}

impl<'a> VendorSpecific<'a> {
    /// Parses the value of a type-26 attribute.
    pub fn parse(value: &'a [u8]) -> Result<Self, VsaError> {
        let Some((id, subs)) = value.split_first_chunk::<4>() else {
            return Err(VsaError::TooShort(value.len()));
        };
        if subs.len() < 2 {
            return Err(VsaError::TooShort(value.len()));
        }
        check_tlvs(subs).map_err(|fault| match fault {
            TlvFault::TooShort { offset, length } => VsaError::SubAttributeTooShort {
                offset: 4 + offset,
                length,
            },
            TlvFault::Overrun { offset } => VsaError::SubAttributeOverrun { offset: 4 + offset },
        })?;
        Ok(VendorSpecific {
            vendor_id: u32::from_be_bytes(*id),
            subs,
        })
    }

    /// The SMI Private Enterprise Code of the vendor.
    pub fn vendor_id(&self) -> u32 {
        self.vendor_id
    }

    /// The sub-attributes, in order.
    pub fn iter(&self) -> Attributes<'a> {
        Attributes::new(self.subs)
    }

    /// The first sub-attribute of `vendor_type`.
    pub fn first(&self, vendor_type: u8) -> Option<AttributeRef<'a>> {
        self.iter().find(|a| a.typ == vendor_type)
    }
}

impl<'a> IntoIterator for VendorSpecific<'a> {
    type Item = AttributeRef<'a>;
    type IntoIter = Attributes<'a>;

    fn into_iter(self) -> Attributes<'a> {
        self.iter()
    }
}

/// Builds one Vendor-Specific attribute holding `subs` (vendor type, value)
/// in order. Fails when the whole does not fit 253 octets.
pub fn encode(vendor_id: u32, subs: &[(u8, &[u8])]) -> Result<Attribute, EncodeError> {
    let len = 4 + subs.iter().map(|(_, v)| 2 + v.len()).sum::<usize>();
    if len > MAX_ATTRIBUTE_VALUE_LEN {
        return Err(EncodeError::AttributeTooLong {
            typ: VENDOR_SPECIFIC,
            len,
        });
    }
    let mut value = Vec::with_capacity(len);
    value.extend_from_slice(&vendor_id.to_be_bytes());
    for (typ, v) in subs {
        // Each sub-value is at most 253 - 4 - 2 here, so the length fits.
        value.push(*typ);
        value.push((2 + v.len()) as u8);
        value.extend_from_slice(v);
    }
    Ok(Attribute::new(VENDOR_SPECIFIC, value))
}

impl Attribute {
    /// A Vendor-Specific attribute with a single sub-attribute, the common
    /// case (Mikrotik-Rate-Limit, Cisco-AVPair, ...).
    pub fn vendor(vendor_id: u32, vendor_type: u8, value: &[u8]) -> Result<Self, EncodeError> {
        encode(vendor_id, &[(vendor_type, value)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_sub_attributes() {
        let attr = encode(311, &[(7, &[0, 0, 0, 1]), (8, &[0, 0, 0, 6])]).unwrap();
        assert_eq!(
            attr.value,
            [0, 0, 1, 0x37, 7, 6, 0, 0, 0, 1, 8, 6, 0, 0, 0, 6]
        );
        let vsa = attr.view().as_vendor_specific().unwrap();
        assert_eq!(vsa.vendor_id(), 311);
        let subs: Vec<_> = vsa
            .into_iter()
            .map(|s| (s.typ, s.as_u32().unwrap()))
            .collect();
        assert_eq!(subs, [(7, 1), (8, 6)]);
        assert_eq!(vsa.first(8).unwrap().as_u32(), Ok(6));
        assert!(vsa.first(9).is_none());
    }

    #[test]
    fn malformed() {
        assert_eq!(VendorSpecific::parse(&[]), Err(VsaError::TooShort(0)));
        assert_eq!(
            VendorSpecific::parse(&[0, 0, 0, 9]),
            Err(VsaError::TooShort(4))
        );
        assert_eq!(
            VendorSpecific::parse(&[0, 0, 0, 9, 1]),
            Err(VsaError::TooShort(5))
        );
        assert_eq!(
            VendorSpecific::parse(&[0, 0, 0, 9, 1, 1]),
            Err(VsaError::SubAttributeTooShort {
                offset: 4,
                length: 1
            })
        );
        assert_eq!(
            VendorSpecific::parse(&[0, 0, 0, 9, 1, 0, 0]),
            Err(VsaError::SubAttributeTooShort {
                offset: 4,
                length: 0
            })
        );
        assert_eq!(
            VendorSpecific::parse(&[0, 0, 0, 9, 1, 4, b'x']),
            Err(VsaError::SubAttributeOverrun { offset: 4 })
        );
        assert_eq!(
            VendorSpecific::parse(&[0, 0, 0, 9, 1, 3, b'x', 2]),
            Err(VsaError::SubAttributeOverrun { offset: 7 })
        );
        // An empty sub-value is well-formed.
        let vsa = VendorSpecific::parse(&[0, 0, 0, 9, 1, 2]).unwrap();
        assert_eq!(vsa.first(1).unwrap().value, b"");
    }

    #[test]
    fn size_limit() {
        assert!(Attribute::vendor(14988, 8, &[b'x'; 247]).is_ok());
        assert_eq!(
            Attribute::vendor(14988, 8, &[b'x'; 248]),
            Err(EncodeError::AttributeTooLong { typ: 26, len: 254 })
        );
    }
}

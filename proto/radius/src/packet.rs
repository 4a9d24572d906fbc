//! Packets: a validated zero-copy view of a received datagram, and the owned
//! form used to build replies and requests.

use std::fmt;

use crate::dict::rfc::{MESSAGE_AUTHENTICATOR, PROXY_STATE, VENDOR_SPECIFIC};
use crate::{
    Attribute, AttributeRef, Code, DecodeError, EncodeError, HEADER_LEN, MAX_ATTRIBUTE_VALUE_LEN,
    MAX_PACKET_LEN,
};

/// A fault in a Type-Length-Value run (packet attributes or vendor
/// sub-attributes), with offsets relative to the run.
pub(crate) enum TlvFault {
    TooShort { offset: usize, length: u8 },
    Overrun { offset: usize },
}

/// Checks that `data` is a sequence of well-formed `Type Length Value`
/// items (Length >= 2, covering Type and Length) ending exactly at the end.
pub(crate) fn check_tlvs(data: &[u8]) -> Result<(), TlvFault> {
    let mut offset = 0;
    while offset < data.len() {
        let Some(&length) = data.get(offset + 1) else {
            return Err(TlvFault::Overrun { offset });
        };
        if length < 2 {
            return Err(TlvFault::TooShort { offset, length });
        }
        let end = offset + usize::from(length);
        if end > data.len() {
            return Err(TlvFault::Overrun { offset });
        }
        offset = end;
    }
    Ok(())
}

/// Iterator over the attributes of a packet (or the sub-attributes of a
/// Vendor-Specific attribute). The run was validated when the packet was
/// decoded, so iteration cannot fail.
#[derive(Clone)]
pub struct Attributes<'a> {
    rest: &'a [u8],
}

impl<'a> Attributes<'a> {
    /// Walks an already validated TLV run. Defensive anyway: a malformed
    /// run ends the iteration instead of panicking.
    pub(crate) fn new(run: &'a [u8]) -> Self {
        Attributes { rest: run }
    }
}

impl<'a> Iterator for Attributes<'a> {
    type Item = AttributeRef<'a>;

    fn next(&mut self) -> Option<AttributeRef<'a>> {
        let &[typ, length, ..] = self.rest else {
            self.rest = &[];
            return None;
        };
        let length = usize::from(length);
        if length < 2 || length > self.rest.len() {
            self.rest = &[];
            return None;
        }
        let (attr, rest) = self.rest.split_at(length);
        self.rest = rest;
        Some(AttributeRef {
            typ,
            value: &attr[2..],
        })
    }
}

impl fmt::Debug for Attributes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

/// A received packet, validated but not copied: the code is known, the
/// Length field is sane and every attribute lies inside the packet. Octets
/// beyond the Length field are dropped (RFC 2865 §3).
#[derive(Clone, Copy)]
pub struct PacketRef<'a> {
    code: Code,
    authenticator: &'a [u8; 16],
    bytes: &'a [u8],
}

impl<'a> PacketRef<'a> {
    /// Validates a datagram. Never panics and never allocates; every
    /// rejection names its reason so drops can be counted.
    pub fn decode(datagram: &'a [u8]) -> Result<Self, DecodeError> {
        let n = datagram.len();
        let Some((header, _)) = datagram.split_first_chunk::<HEADER_LEN>() else {
            return Err(DecodeError::TooShort(n));
        };
        if n > MAX_PACKET_LEN {
            return Err(DecodeError::TooLong(n));
        }
        let code = Code::try_from(header[0])?;
        let length = u16::from_be_bytes([header[2], header[3]]);
        if usize::from(length) < HEADER_LEN {
            return Err(DecodeError::LengthFieldTooSmall(length));
        }
        let Some(bytes) = datagram.get(..usize::from(length)) else {
            return Err(DecodeError::LengthFieldExceedsDatagram {
                length,
                datagram: n,
            });
        };
        check_tlvs(&bytes[HEADER_LEN..]).map_err(|fault| match fault {
            TlvFault::TooShort { offset, length } => DecodeError::AttributeTooShort {
                offset: HEADER_LEN + offset,
                length,
            },
            TlvFault::Overrun { offset } => DecodeError::AttributeOverrun {
                offset: HEADER_LEN + offset,
            },
        })?;
        let Some((_, authenticator)) = header.split_last_chunk::<16>() else {
            return Err(DecodeError::TooShort(n));
        };
        Ok(PacketRef {
            code,
            authenticator,
            bytes,
        })
    }

    /// Packet type.
    pub fn code(&self) -> Code {
        self.code
    }

    /// Identifier, for matching replies and detecting duplicates.
    pub fn identifier(&self) -> u8 {
        self.bytes[1]
    }

    /// The Authenticator field as received.
    pub fn authenticator(&self) -> &'a [u8; 16] {
        self.authenticator
    }

    /// The packet octets, trimmed to the Length field: exactly what the
    /// authenticators cover.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// All attributes, in wire order.
    pub fn attributes(&self) -> Attributes<'a> {
        Attributes::new(&self.bytes[HEADER_LEN..])
    }

    /// The first attribute of type `typ`.
    pub fn first(&self, typ: u8) -> Option<AttributeRef<'a>> {
        self.attributes().find(|a| a.typ == typ)
    }

    /// Every attribute of type `typ`, in wire order (order matters for
    /// Proxy-State, Class and EAP-Message).
    pub fn all(&self, typ: u8) -> impl Iterator<Item = AttributeRef<'a>> + use<'a> {
        self.attributes().filter(move |a| a.typ == typ)
    }

    /// The first vendor sub-attribute `vendor_type` of `vendor_id`
    /// (its `typ` is the vendor type). Vendor-Specific attributes that do
    /// not follow the RFC 2865 §5.26 layout are skipped.
    pub fn vendor_first(&self, vendor_id: u32, vendor_type: u8) -> Option<AttributeRef<'a>> {
        self.vendor_all(vendor_id, vendor_type).next()
    }

    /// Every vendor sub-attribute `vendor_type` of `vendor_id`, across all
    /// Vendor-Specific attributes, in wire order.
    pub fn vendor_all(
        &self,
        vendor_id: u32,
        vendor_type: u8,
    ) -> impl Iterator<Item = AttributeRef<'a>> + use<'a> {
        vendor_subattributes(self.all(VENDOR_SPECIFIC), vendor_id, vendor_type)
    }

    /// An owned copy.
    pub fn to_packet(&self) -> Packet {
        Packet {
            code: self.code,
            identifier: self.identifier(),
            authenticator: *self.authenticator,
            attributes: self.attributes().map(|a| a.to_attribute()).collect(),
        }
    }

    /// Starts a reply to this request: same Identifier, the request's
    /// authenticator as placeholder, and every Proxy-State copied in order,
    /// as RFC 2865 §5.33 requires of a server.
    pub fn reply(&self, code: Code) -> Packet {
        let mut reply = Packet::new(code, self.identifier(), *self.authenticator);
        reply
            .attributes
            .extend(self.all(PROXY_STATE).map(|a| a.to_attribute()));
        reply
    }
}

impl fmt::Debug for PacketRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PacketRef")
            .field("code", &self.code)
            .field("identifier", &self.identifier())
            .field("length", &self.bytes.len())
            .field("attributes", &self.attributes())
            .finish()
    }
}

fn vendor_subattributes<'a>(
    vsas: impl Iterator<Item = AttributeRef<'a>>,
    vendor_id: u32,
    vendor_type: u8,
) -> impl Iterator<Item = AttributeRef<'a>> {
    vsas.filter_map(|a| a.as_vendor_specific().ok())
        .filter(move |v| v.vendor_id() == vendor_id)
        .flat_map(|v| v.iter())
        .filter(move |s| s.typ == vendor_type)
}

/// An owned packet, for building requests and replies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// Packet type.
    pub code: Code,
    /// Identifier.
    pub identifier: u8,
    /// Authenticator field. For Access-Request and Status-Server the caller
    /// fills it with 16 random octets; for other codes the signing encoders
    /// overwrite it.
    pub authenticator: [u8; 16],
    /// Attributes, in wire order.
    pub attributes: Vec<Attribute>,
}

impl Packet {
    /// An empty packet.
    pub fn new(code: Code, identifier: u8, authenticator: [u8; 16]) -> Self {
        Packet {
            code,
            identifier,
            authenticator,
            attributes: Vec::new(),
        }
    }

    /// Decodes and copies a datagram; see [`PacketRef::decode`] for the
    /// allocation-free form.
    pub fn decode(datagram: &[u8]) -> Result<Self, DecodeError> {
        PacketRef::decode(datagram).map(|p| p.to_packet())
    }

    /// Appends an attribute.
    pub fn push(&mut self, attr: Attribute) {
        self.attributes.push(attr);
    }

    /// Removes every attribute of type `typ`.
    pub fn remove_all(&mut self, typ: u8) {
        self.attributes.retain(|a| a.typ != typ);
    }

    /// Puts a zeroed Message-Authenticator FIRST, replacing any other. The
    /// signing encoders fill it in. Putting it first is the BlastRADIUS
    /// (CVE-2024-3596) hardening: a forged prefix cannot precede it.
    pub fn insert_message_authenticator(&mut self) {
        self.remove_all(MESSAGE_AUTHENTICATOR);
        self.attributes
            .insert(0, Attribute::new(MESSAGE_AUTHENTICATOR, [0u8; 16]));
    }

    /// The first attribute of type `typ`.
    pub fn first(&self, typ: u8) -> Option<AttributeRef<'_>> {
        self.all(typ).next()
    }

    /// Every attribute of type `typ`, in order.
    pub fn all(&self, typ: u8) -> impl Iterator<Item = AttributeRef<'_>> {
        self.attributes
            .iter()
            .filter(move |a| a.typ == typ)
            .map(Attribute::view)
    }

    /// The first vendor sub-attribute `vendor_type` of `vendor_id`.
    pub fn vendor_first(&self, vendor_id: u32, vendor_type: u8) -> Option<AttributeRef<'_>> {
        self.vendor_all(vendor_id, vendor_type).next()
    }

    /// Every vendor sub-attribute `vendor_type` of `vendor_id`, in order.
    pub fn vendor_all(
        &self,
        vendor_id: u32,
        vendor_type: u8,
    ) -> impl Iterator<Item = AttributeRef<'_>> {
        vendor_subattributes(self.all(VENDOR_SPECIFIC), vendor_id, vendor_type)
    }

    /// Starts a reply to this request; see [`PacketRef::reply`].
    pub fn reply(&self, code: Code) -> Packet {
        let mut reply = Packet::new(code, self.identifier, self.authenticator);
        reply
            .attributes
            .extend(self.all(PROXY_STATE).map(|a| a.to_attribute()));
        reply
    }

    /// Encoded size in octets (unchecked against the limits).
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN
            + self
                .attributes
                .iter()
                .map(|a| 2 + a.value.len())
                .sum::<usize>()
    }

    /// Encodes the packet exactly as it stands, authenticator included.
    /// Nothing is signed; see `encode_request` and `encode_response`.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::new();
        self.encode_into(&mut out)?;
        Ok(out)
    }

    /// Like [`Packet::encode`], reusing `out` (which is cleared first) so a
    /// server can keep one buffer per worker.
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        if let Some(a) = self
            .attributes
            .iter()
            .find(|a| a.value.len() > MAX_ATTRIBUTE_VALUE_LEN)
        {
            return Err(EncodeError::AttributeTooLong {
                typ: a.typ,
                len: a.value.len(),
            });
        }
        let len = self.encoded_len();
        if len > MAX_PACKET_LEN {
            return Err(EncodeError::PacketTooLong(len));
        }
        out.clear();
        out.reserve(len);
        out.push(self.code.as_u8());
        out.push(self.identifier);
        // At most 4096, so it fits the 16-bit Length field.
        out.extend_from_slice(&(len as u16).to_be_bytes());
        out.extend_from_slice(&self.authenticator);
        for a in &self.attributes {
            // Lengths were checked above: 2 + value <= 255.
            out.push(a.typ);
            out.push((2 + a.value.len()) as u8);
            out.extend_from_slice(&a.value);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(code: u8, length: u16) -> Vec<u8> {
        let mut p = vec![code, 7];
        p.extend_from_slice(&length.to_be_bytes());
        p.extend_from_slice(&[0xaa; 16]);
        p
    }

    #[test]
    fn minimal_packet() {
        let bytes = header(2, 20);
        let p = PacketRef::decode(&bytes).unwrap();
        assert_eq!(p.code(), Code::AccessAccept);
        assert_eq!(p.identifier(), 7);
        assert_eq!(p.authenticator(), &[0xaa; 16]);
        assert_eq!(p.attributes().count(), 0);
        assert_eq!(p.to_packet().encode().unwrap(), header(2, 20));
    }

    #[test]
    fn header_faults() {
        assert_eq!(
            PacketRef::decode(&[]).unwrap_err(),
            DecodeError::TooShort(0)
        );
        assert_eq!(
            PacketRef::decode(&header(2, 20)[..19]).unwrap_err(),
            DecodeError::TooShort(19)
        );
        assert_eq!(
            PacketRef::decode(&header(6, 20)).unwrap_err(),
            DecodeError::UnknownCode(6)
        );
        assert_eq!(
            PacketRef::decode(&header(2, 19)).unwrap_err(),
            DecodeError::LengthFieldTooSmall(19)
        );
        assert_eq!(
            PacketRef::decode(&header(2, 21)).unwrap_err(),
            DecodeError::LengthFieldExceedsDatagram {
                length: 21,
                datagram: 20
            }
        );
    }

    #[test]
    fn attribute_faults() {
        for (attrs, err) in [
            (
                &[1u8, 0][..],
                DecodeError::AttributeTooShort {
                    offset: 20,
                    length: 0,
                },
            ),
            (
                &[1, 1],
                DecodeError::AttributeTooShort {
                    offset: 20,
                    length: 1,
                },
            ),
            (&[1, 3], DecodeError::AttributeOverrun { offset: 20 }),
            (&[1], DecodeError::AttributeOverrun { offset: 20 }),
            (&[1, 2, 5], DecodeError::AttributeOverrun { offset: 22 }),
            (
                &[1, 3, b'a', 4, 9, 0],
                DecodeError::AttributeOverrun { offset: 23 },
            ),
        ] {
            let mut p = header(1, (20 + attrs.len()) as u16);
            p.extend_from_slice(attrs);
            assert_eq!(PacketRef::decode(&p).unwrap_err(), err, "{attrs:?}");
        }
        // An empty value (length 2) is well-formed.
        let mut p = header(1, 22);
        p.extend_from_slice(&[24, 2]);
        let p = PacketRef::decode(&p).unwrap();
        assert_eq!(p.first(24).unwrap().value, b"");
    }

    #[test]
    fn trailing_octets_are_ignored() {
        let mut p = header(2, 26);
        p.extend_from_slice(&[18, 6, b'h', b'e', b'y', b'!']);
        p.extend_from_slice(b"padding that is not ours");
        let r = PacketRef::decode(&p).unwrap();
        assert_eq!(r.as_bytes().len(), 26);
        assert_eq!(r.first(18).unwrap().as_str(), Ok("hey!"));
        assert_eq!(r.to_packet().encode().unwrap(), p[..26]);
    }

    #[test]
    fn encode_limits() {
        let mut p = Packet::new(Code::AccessAccept, 1, [0; 16]);
        p.push(Attribute::new(18, vec![b'x'; 253]));
        assert!(p.encode().is_ok());
        p.push(Attribute::new(18, vec![b'x'; 254]));
        assert_eq!(
            p.encode().unwrap_err(),
            EncodeError::AttributeTooLong { typ: 18, len: 254 }
        );
        // 4096 fits exactly, 4097 does not.
        let mut p = Packet::new(Code::AccessAccept, 1, [0; 16]);
        for _ in 0..16 {
            p.push(Attribute::new(18, vec![b'x'; 253]));
        }
        // 20 + 16 * 255 = 4100; shrink the last one by 4 to reach 4096.
        p.attributes[15].value.truncate(249);
        let bytes = p.encode().unwrap();
        assert_eq!(bytes.len(), MAX_PACKET_LEN);
        assert_eq!(PacketRef::decode(&bytes).unwrap().to_packet(), p);
        p.attributes[15].value.push(b'x');
        assert_eq!(p.encode().unwrap_err(), EncodeError::PacketTooLong(4097));
    }

    #[test]
    fn reply_copies_proxy_state_in_order() {
        let mut req = Packet::new(Code::AccessRequest, 9, [3; 16]);
        req.push(Attribute::new(PROXY_STATE, *b"one"));
        req.push(Attribute::string(1, "bob"));
        req.push(Attribute::new(PROXY_STATE, *b"two"));
        let bytes = req.encode().unwrap();
        for reply in [
            req.reply(Code::AccessReject),
            PacketRef::decode(&bytes).unwrap().reply(Code::AccessReject),
        ] {
            assert_eq!(reply.identifier, 9);
            assert_eq!(reply.authenticator, [3; 16]);
            let states: Vec<_> = reply.all(PROXY_STATE).map(|a| a.value).collect();
            assert_eq!(states, [b"one", b"two"]);
            assert_eq!(reply.attributes.len(), 2);
        }
    }

    #[test]
    fn message_authenticator_goes_first_and_is_unique() {
        let mut p = Packet::new(Code::AccessAccept, 1, [0; 16]);
        p.push(Attribute::string(18, "hi"));
        p.push(Attribute::new(MESSAGE_AUTHENTICATOR, [9; 16]));
        p.insert_message_authenticator();
        assert_eq!(
            p.attributes[0],
            Attribute::new(MESSAGE_AUTHENTICATOR, [0; 16])
        );
        assert_eq!(p.all(MESSAGE_AUTHENTICATOR).count(), 1);
        assert_eq!(p.attributes.len(), 2);
    }
}

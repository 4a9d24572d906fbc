//! Attribute data types (RFC 2865 §5, RFC 3162, RFC 8044): parsing and
//! building the value octets of integers, addresses, dates, text and IPv6
//! prefixes.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::ValueError;

fn fixed<const N: usize>(value: &[u8]) -> Result<[u8; N], ValueError> {
    value.try_into().map_err(|_| ValueError::WrongLength {
        expected: N,
        found: value.len(),
    })
}

pub(crate) fn text(value: &[u8]) -> Result<&str, ValueError> {
    std::str::from_utf8(value).map_err(|_| ValueError::NotUtf8)
}

pub(crate) fn integer(value: &[u8]) -> Result<u32, ValueError> {
    fixed::<4>(value).map(u32::from_be_bytes)
}

pub(crate) fn ipv4(value: &[u8]) -> Result<Ipv4Addr, ValueError> {
    fixed::<4>(value).map(Ipv4Addr::from)
}

pub(crate) fn ipv6(value: &[u8]) -> Result<Ipv6Addr, ValueError> {
    fixed::<16>(value).map(Ipv6Addr::from)
}

pub(crate) fn date(value: &[u8]) -> Result<SystemTime, ValueError> {
    integer(value).map(|secs| UNIX_EPOCH + Duration::from_secs(u64::from(secs)))
}

pub(crate) fn date_octets(time: SystemTime) -> Result<[u8; 4], ValueError> {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map_err(|_| ValueError::DateOutOfRange)?
        .as_secs();
    u32::try_from(secs)
        .map(u32::to_be_bytes)
        .map_err(|_| ValueError::DateOutOfRange)
}

/// An IPv6 prefix as carried by Framed-IPv6-Prefix (RFC 3162 §2.3),
/// Delegated-IPv6-Prefix (RFC 4818) and Route-IPv6-Information (RFC 6911).
///
/// The constructor clears the bits past the prefix length, so two prefixes
/// compare equal exactly when they denote the same network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ipv6Prefix {
    addr: Ipv6Addr,
    bits: u8,
}

impl Ipv6Prefix {
    /// A prefix of `bits` (0..=128) leading bits of `addr`.
    pub fn new(addr: Ipv6Addr, bits: u8) -> Result<Self, ValueError> {
        if bits > 128 {
            return Err(ValueError::PrefixTooLong(bits));
        }
        let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
        Ok(Ipv6Prefix {
            addr: Ipv6Addr::from(u128::from(addr) & mask),
            bits,
        })
    }

    /// The network address (host bits zero).
    pub fn addr(&self) -> Ipv6Addr {
        self.addr
    }

    /// The prefix length in bits.
    pub fn prefix_len(&self) -> u8 {
        self.bits
    }

    /// Parses `Reserved(1) Prefix-Length(1) Prefix(0..=16)`.
    ///
    /// Accepts both the minimal form (only the octets the length needs) and
    /// the full 16-octet form that some NASes send; the reserved octet and
    /// any bits past the prefix length are ignored, as RFC 8044 §3.10 asks
    /// of receivers.
    pub(crate) fn decode(value: &[u8]) -> Result<Self, ValueError> {
        if !(2..=18).contains(&value.len()) {
            return Err(ValueError::PrefixValueLength(value.len()));
        }
        let bits = value[1];
        if bits > 128 {
            return Err(ValueError::PrefixTooLong(bits));
        }
        let prefix = &value[2..];
        if prefix.len() < usize::from(bits).div_ceil(8) {
            return Err(ValueError::PrefixTruncated {
                bits,
                octets: prefix.len(),
            });
        }
        let mut octets = [0u8; 16];
        octets[..prefix.len()].copy_from_slice(prefix);
        Ipv6Prefix::new(Ipv6Addr::from(octets), bits)
    }

    /// Encodes in the minimal form: only the octets the length covers
    /// (as FreeRADIUS does; RFC 8044 §3.10 allows it).
    pub(crate) fn encode(&self) -> Vec<u8> {
        let used = usize::from(self.bits).div_ceil(8);
        let mut out = Vec::with_capacity(2 + used);
        out.push(0);
        out.push(self.bits);
        out.extend_from_slice(&self.addr.octets()[..used]);
        out
    }
}

impl fmt::Display for Ipv6Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_need_exactly_four_octets() {
        assert_eq!(integer(&[0, 0, 5, 0xdc]), Ok(1500));
        for bad in [&[][..], &[1, 2, 3], &[1, 2, 3, 4, 5]] {
            assert_eq!(
                integer(bad),
                Err(ValueError::WrongLength {
                    expected: 4,
                    found: bad.len()
                })
            );
        }
    }

    #[test]
    fn addresses_and_text() {
        assert_eq!(ipv4(&[192, 168, 1, 16]), Ok(Ipv4Addr::new(192, 168, 1, 16)));
        assert!(ipv4(&[1, 2, 3]).is_err());
        assert_eq!(ipv6(&[0; 16]), Ok(Ipv6Addr::UNSPECIFIED));
        assert!(ipv6(&[0; 15]).is_err());
        assert_eq!(text(b"nemo"), Ok("nemo"));
        assert_eq!(text(&[0xff, 0xfe]), Err(ValueError::NotUtf8));
    }

    #[test]
    fn dates_cover_the_unsigned_32_bit_range() {
        let t = date(&[0x65, 0x53, 0xf1, 0x00]).unwrap();
        assert_eq!(t, UNIX_EPOCH + Duration::from_secs(0x6553_f100));
        assert_eq!(date_octets(t), Ok([0x65, 0x53, 0xf1, 0x00]));
        let last = UNIX_EPOCH + Duration::from_secs(u64::from(u32::MAX));
        assert_eq!(date_octets(last), Ok([0xff; 4]));
        assert_eq!(
            date_octets(last + Duration::from_secs(1)),
            Err(ValueError::DateOutOfRange)
        );
        assert_eq!(
            date_octets(UNIX_EPOCH - Duration::from_secs(1)),
            Err(ValueError::DateOutOfRange)
        );
    }

    #[test]
    fn prefix_minimal_and_full_forms_decode_alike() {
        let minimal = [0, 56, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 1];
        let mut full = [0u8; 18];
        full[..9].copy_from_slice(&minimal);
        let a = Ipv6Prefix::decode(&minimal).unwrap();
        let b = Ipv6Prefix::decode(&full).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "2001:db8:0:100::/56");
        assert_eq!(a.encode(), minimal);
    }

    #[test]
    fn prefix_edges() {
        let zero = Ipv6Prefix::decode(&[0, 0]).unwrap();
        assert_eq!(zero.to_string(), "::/0");
        assert_eq!(zero.encode(), [0, 0]);
        let host = Ipv6Prefix::new("2001:db8::1".parse().unwrap(), 128).unwrap();
        assert_eq!(host.encode().len(), 18);
        assert_eq!(Ipv6Prefix::decode(&host.encode()), Ok(host));
        // Bits past the length are cleared on decode and by the constructor.
        let p = Ipv6Prefix::decode(&[0, 4, 0xff]).unwrap();
        assert_eq!(p.addr(), "f000::".parse::<Ipv6Addr>().unwrap());
        assert_eq!(p.prefix_len(), 4);
        assert_eq!(
            Ipv6Prefix::decode(&[0]),
            Err(ValueError::PrefixValueLength(1))
        );
        assert_eq!(
            Ipv6Prefix::decode(&[0; 19]),
            Err(ValueError::PrefixValueLength(19))
        );
        assert_eq!(
            Ipv6Prefix::decode(&[0, 129]),
            Err(ValueError::PrefixTooLong(129))
        );
        assert_eq!(
            Ipv6Prefix::decode(&[0, 64, 0x20, 0x01]),
            Err(ValueError::PrefixTruncated {
                bits: 64,
                octets: 2
            })
        );
        assert_eq!(
            Ipv6Prefix::new(Ipv6Addr::UNSPECIFIED, 129),
            Err(ValueError::PrefixTooLong(129))
        );
    }
}

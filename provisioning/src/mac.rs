//! MAC addresses as NAS devices send them: in any common notation, stored canonical.

use std::fmt;
use std::str::FromStr;

/// A 48-bit MAC address; displays as `aa:bb:cc:dd:ee:ff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacAddress(pub [u8; 6]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a MAC address: {0:?}")]
pub struct MacParseError(String);

impl FromStr for MacAddress {
    type Err = MacParseError;

    /// Accepts `aa:bb:cc:dd:ee:ff`, `AA-BB-CC-DD-EE-FF`, `aabb.ccdd.eeff` (Cisco) and
    /// `aabbccddeeff`, in either case. The separators must be consistent and in their places:
    /// anything else is more likely a typo than a MAC.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = || MacParseError(text.to_owned());
        let hex: Vec<u8> = match text.len() {
            17 => {
                let sep = text.as_bytes()[2];
                if sep != b':' && sep != b'-' {
                    return Err(err());
                }
                let parts: Vec<&str> = text.split(sep as char).collect();
                if parts.len() != 6 || parts.iter().any(|p| p.len() != 2) {
                    return Err(err());
                }
                parts.concat().into_bytes()
            }
            14 => {
                let parts: Vec<&str> = text.split('.').collect();
                if parts.len() != 3 || parts.iter().any(|p| p.len() != 4) {
                    return Err(err());
                }
                parts.concat().into_bytes()
            }
            12 => text.as_bytes().to_vec(),
            _ => return Err(err()),
        };
        let mut mac = [0u8; 6];
        for (byte, pair) in mac.iter_mut().zip(hex.chunks_exact(2)) {
            let pair = std::str::from_utf8(pair).map_err(|_| err())?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| err())?;
            if pair.starts_with(['+', '-']) {
                return Err(err());
            }
        }
        Ok(MacAddress(mac))
    }
}

impl serde::Serialize for MacAddress {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl fmt::Display for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_common_notation_parses_to_the_same_address() {
        let expected = MacAddress([0xaa, 0xbb, 0xcc, 0x0d, 0xee, 0xff]);
        for text in [
            "aa:bb:cc:0d:ee:ff",
            "AA:BB:CC:0D:EE:FF",
            "aa-bb-cc-0d-ee-ff",
            "AA-BB-CC-0D-EE-FF",
            "aabb.cc0d.eeff",
            "AABB.CC0D.EEFF",
            "aabbcc0deeff",
            "AABBCC0DEEFF",
        ] {
            assert_eq!(text.parse::<MacAddress>(), Ok(expected), "{text}");
        }
        assert_eq!(expected.to_string(), "aa:bb:cc:0d:ee:ff");
    }

    #[test]
    fn near_misses_are_refused() {
        for text in [
            "",
            "aa:bb:cc:dd:ee",
            "aa:bb:cc:dd:ee:ff:00",
            "aa:bb-cc:dd:ee:ff",
            "aabb:ccdd:eeff",
            "aa:bb:cc:dd:ee:fg",
            "aabbccddeef",
            "aab.bccd.deeff",
            "+a:bb:cc:dd:ee:ff",
            "a:bbb:cc:dd:ee:ff",
            "žžžžžž",
        ] {
            assert!(text.parse::<MacAddress>().is_err(), "{text}");
        }
    }
}

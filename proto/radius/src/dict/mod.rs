//! Attribute numbers and names for the standard and vendor dictionaries
//! ispd uses. Numbers were checked against FreeRADIUS' `share/dictionary.*`
//! files and the defining RFCs.
//!
//! Each module exposes `const`s for its attribute numbers, a `name()` lookup
//! for logs and an `ALL` table; vendor modules also export `VENDOR_ID`.
//! Enumerated values live in sub-modules named after their attribute.

/// Declares attribute-number constants together with the `name()` and `data_type()` lookups
/// and the `ALL` table, so they can never disagree. A number declared twice makes the `match`
/// in `name()` unreachable, which the build denies.
macro_rules! attributes {
    ($($ident:ident = $num:literal => $name:literal: $data:ident,)*) => {
        $(
            #[doc = concat!("`", $name, "` (", stringify!($num), ", ", stringify!($data), ").")]
            pub const $ident: u8 = $num;
        )*

        /// The dictionary name of an attribute number, for logs.
        pub const fn name(typ: u8) -> Option<&'static str> {
            match typ {
                $($num => Some($name),)*
                _ => None,
            }
        }

        /// The data type of an attribute number.
        pub const fn data_type(typ: u8) -> Option<super::DataType> {
            match typ {
                $($num => Some(super::DataType::$data),)*
                _ => None,
            }
        }

        /// Every attribute of this dictionary as `(number, name, data type)`.
        pub const ALL: super::Table = &[$(($num, $name, super::DataType::$data),)*];
    };
}

mod data_type;

pub use data_type::DataType;

pub mod cisco;
pub mod dsl_forum;
pub mod erx;
pub mod juniper;
pub mod microsoft;
pub mod mikrotik;
pub mod rfc;
pub mod wispr;

/// An attribute as a dictionary defines it: standard (`vendor_id` none) or a vendor's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Definition {
    /// The vendor of a vendor attribute, carried in a Vendor-Specific (RFC 2865 §5.26).
    pub vendor_id: Option<u32>,
    /// The attribute number (the vendor's type for a vendor attribute).
    pub typ: u8,
    /// The dictionary name, as FreeRADIUS spells it.
    pub name: &'static str,
    /// How its value is encoded.
    pub data_type: DataType,
}

impl Definition {
    /// The attribute carrying `value`: itself, or a Vendor-Specific wrapping it.
    pub fn attribute(&self, value: &[u8]) -> Result<crate::Attribute, crate::EncodeError> {
        match self.vendor_id {
            None => Ok(crate::Attribute::new(self.typ, value.to_vec())),
            Some(id) => crate::Attribute::vendor(id, self.typ, value),
        }
    }
}

/// A dictionary's attributes as `(number, name, data type)`.
pub type Table = &'static [(u8, &'static str, DataType)];

/// Every vendor dictionary with its vendor id.
const VENDORS: [(u32, Table); 7] = [
    (cisco::VENDOR_ID, cisco::ALL),
    (microsoft::VENDOR_ID, microsoft::ALL),
    (juniper::VENDOR_ID, juniper::ALL),
    (dsl_forum::VENDOR_ID, dsl_forum::ALL),
    (erx::VENDOR_ID, erx::ALL),
    (wispr::VENDOR_ID, wispr::ALL),
    (mikrotik::VENDOR_ID, mikrotik::ALL),
];

/// The attribute a dictionary name (exact, as FreeRADIUS spells it) stands for.
pub fn find(name: &str) -> Option<Definition> {
    let standard = rfc::ALL.iter().map(|entry| (None, entry));
    let vendors = VENDORS
        .iter()
        .flat_map(|(id, table)| table.iter().map(move |entry| (Some(*id), entry)));
    standard
        .chain(vendors)
        .find(|(_, (_, n, _))| *n == name)
        .map(|(vendor_id, &(typ, name, data_type))| Definition {
            vendor_id,
            typ,
            name,
            data_type,
        })
}

/// Name of a standard attribute, for logs.
pub fn attribute_name(typ: u8) -> Option<&'static str> {
    rfc::name(typ)
}

/// Name of a vendor, for logs.
pub fn vendor_name(vendor_id: u32) -> Option<&'static str> {
    Some(match vendor_id {
        cisco::VENDOR_ID => "Cisco",
        microsoft::VENDOR_ID => "Microsoft",
        juniper::VENDOR_ID => "Juniper",
        dsl_forum::VENDOR_ID => "ADSL-Forum",
        erx::VENDOR_ID => "ERX",
        wispr::VENDOR_ID => "WISPr",
        mikrotik::VENDOR_ID => "Mikrotik",
        _ => return None,
    })
}

/// Name of a vendor sub-attribute, for logs.
pub fn vendor_attribute_name(vendor_id: u32, vendor_type: u8) -> Option<&'static str> {
    match vendor_id {
        cisco::VENDOR_ID => cisco::name(vendor_type),
        microsoft::VENDOR_ID => microsoft::name(vendor_type),
        juniper::VENDOR_ID => juniper::name(vendor_type),
        dsl_forum::VENDOR_ID => dsl_forum::name(vendor_type),
        erx::VENDOR_ID => erx::name(vendor_type),
        wispr::VENDOR_ID => wispr::name(vendor_type),
        mikrotik::VENDOR_ID => mikrotik::name(vendor_type),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn check(table: Table, name: fn(u8) -> Option<&'static str>) {
        let mut numbers = HashSet::new();
        let mut names = HashSet::new();
        for &(num, text, _) in table {
            assert!(numbers.insert(num), "duplicate number {num}");
            assert!(names.insert(text), "duplicate name {text}");
            assert_eq!(name(num), Some(text));
        }
    }

    #[test]
    fn tables_are_consistent() {
        check(rfc::ALL, rfc::name);
        check(microsoft::ALL, microsoft::name);
        check(mikrotik::ALL, mikrotik::name);
        check(cisco::ALL, cisco::name);
        check(juniper::ALL, juniper::name);
        check(erx::ALL, erx::name);
        check(wispr::ALL, wispr::name);
        check(dsl_forum::ALL, dsl_forum::name);
    }

    #[test]
    fn numbers_ispd_relies_on() {
        use rfc::*;
        let expected = [
            (USER_NAME, 1),
            (USER_PASSWORD, 2),
            (CHAP_PASSWORD, 3),
            (NAS_IP_ADDRESS, 4),
            (NAS_PORT, 5),
            (SERVICE_TYPE, 6),
            (FRAMED_PROTOCOL, 7),
            (FRAMED_IP_ADDRESS, 8),
            (FILTER_ID, 11),
            (REPLY_MESSAGE, 18),
            (STATE, 24),
            (CLASS, 25),
            (VENDOR_SPECIFIC, 26),
            (SESSION_TIMEOUT, 27),
            (IDLE_TIMEOUT, 28),
            (CALLED_STATION_ID, 30),
            (CALLING_STATION_ID, 31),
            (NAS_IDENTIFIER, 32),
            (PROXY_STATE, 33),
            (ACCT_STATUS_TYPE, 40),
            (ACCT_OUTPUT_GIGAWORDS, 53),
            (EVENT_TIMESTAMP, 55),
            (CHAP_CHALLENGE, 60),
            (NAS_PORT_TYPE, 61),
            (EAP_MESSAGE, 79),
            (MESSAGE_AUTHENTICATOR, 80),
            (ACCT_INTERIM_INTERVAL, 85),
            (FRAMED_POOL, 88),
            (NAS_IPV6_ADDRESS, 95),
            (FRAMED_IPV6_PREFIX, 97),
            (FRAMED_IPV6_POOL, 100),
            (ERROR_CAUSE, 101),
            (DELEGATED_IPV6_PREFIX, 123),
        ];
        for (got, want) in expected {
            assert_eq!(got, want);
        }
        assert_eq!(microsoft::VENDOR_ID, 311);
        assert_eq!(microsoft::MS_CHAP2_RESPONSE, 25);
        assert_eq!(microsoft::MS_MPPE_RECV_KEY, 17);
        assert_eq!(mikrotik::VENDOR_ID, 14988);
        assert_eq!(mikrotik::MIKROTIK_RATE_LIMIT, 8);
        assert_eq!(mikrotik::MIKROTIK_ADDRESS_LIST, 19);
        assert_eq!(cisco::VENDOR_ID, 9);
        assert_eq!(cisco::CISCO_AVPAIR, 1);
        assert_eq!(juniper::VENDOR_ID, 2636);
        assert_eq!(erx::VENDOR_ID, 4874);
        assert_eq!(erx::ERX_INGRESS_POLICY_NAME, 10);
        assert_eq!(erx::ERX_EGRESS_POLICY_NAME, 11);
        assert_eq!(wispr::VENDOR_ID, 14122);
        assert_eq!(wispr::WISPR_BANDWIDTH_MAX_DOWN, 8);
    }

    /// The FreeRADIUS type of each attribute, as `share/dictionary.*` gives it with its flags.
    fn freeradius_type(data_type: DataType) -> &'static str {
        match data_type {
            DataType::Text => "string",
            DataType::Octets => "octets",
            DataType::Integer => "integer",
            DataType::Ipv4Addr => "ipaddr",
            DataType::Date => "date",
            DataType::Ipv6Addr => "ipv6addr",
            DataType::Ipv6Prefix => "ipv6prefix",
            DataType::InterfaceId => "ifid",
            DataType::TaggedInteger => "integer has_tag",
            DataType::TaggedText => "string has_tag",
            DataType::Encrypted => "encrypt",
            DataType::Vsa => "vsa",
        }
    }

    /// Each type against the Debian FreeRADIUS dictionaries, where they are installed
    /// (`freeradius-common`); the tables were written from them.
    #[test]
    fn types_agree_with_freeradius() {
        let dir = std::path::Path::new("/usr/share/freeradius");
        if !dir.is_dir() {
            return;
        }
        let mut attributes: Vec<Vec<String>> = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read(entry.unwrap().path()).unwrap();
            let text = String::from_utf8_lossy(&text);
            attributes.extend(
                text.lines()
                    .map(|l| l.split('#').next().unwrap_or_default())
                    .map(|l| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
                    .filter(|w| w.len() >= 4 && w[0] == "ATTRIBUTE"),
            );
        }
        let tables = std::iter::once(rfc::ALL).chain(VENDORS.iter().map(|(_, t)| *t));
        for &(num, name, data_type) in tables.flatten() {
            let line = attributes.iter().find(|w| w[1].eq_ignore_ascii_case(name));
            // FreeRADIUS spells one "Mikrotik-DHCP-Option-ParamSTR2".
            let Some(words) = line else { continue };
            assert_eq!(words[2], num.to_string(), "{name}");
            let flags = words.get(4).map_or("", String::as_str);
            let base = words[3].split('[').next().unwrap();
            let theirs = if flags.contains("encrypt") {
                "encrypt".to_owned()
            } else if flags.contains("has_tag") {
                format!("{base} has_tag")
            } else {
                base.to_owned()
            };
            assert_eq!(freeradius_type(data_type), theirs, "{name}");
        }
    }

    #[test]
    fn names_find_their_definitions() {
        let find = |name| find(name).map(|d| (d.vendor_id, d.typ, d.data_type));
        assert_eq!(
            find("Termination-Action"),
            Some((None, 29, DataType::Integer))
        );
        assert_eq!(
            find("MS-Primary-DNS-Server"),
            Some((Some(311), 28, DataType::Ipv4Addr))
        );
        assert_eq!(find("Vendor-Specific"), Some((None, 26, DataType::Vsa)));
        assert_eq!(
            find("Tunnel-Password"),
            Some((None, 69, DataType::Encrypted))
        );
        assert_eq!(
            find("ERX-Service-Volume"),
            Some((Some(4874), 67, DataType::TaggedInteger))
        );
        assert_eq!(find("termination-action"), None);
        assert_eq!(find("No-Such-Attribute"), None);
    }

    #[test]
    fn lookups() {
        assert_eq!(attribute_name(80), Some("Message-Authenticator"));
        assert_eq!(attribute_name(17), None);
        assert_eq!(vendor_name(14988), Some("Mikrotik"));
        assert_eq!(vendor_name(1), None);
        assert_eq!(vendor_attribute_name(311, 26), Some("MS-CHAP2-Success"));
        assert_eq!(vendor_attribute_name(9, 1), Some("Cisco-AVPair"));
        assert_eq!(
            vendor_attribute_name(4874, 1),
            Some("ERX-Virtual-Router-Name")
        );
        assert_eq!(vendor_attribute_name(12345, 1), None);
    }
}

//! Logins: the network credentials RADIUS answers for (net47's "computers").

use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use ispd_billing::FieldError;
use ispd_billing::field::{Text, require, text};

use crate::mac::MacAddress;

/// How a login proves who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthType {
    /// PPPoE / L2TP / hotspot with username and password (PAP, CHAP, MS-CHAPv2).
    #[default]
    Ppp,
    /// DHCP or hotspot MAC authentication: the MAC is the identity.
    Mac,
}

impl AuthType {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthType::Ppp => "ppp",
            AuthType::Mac => "mac",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "ppp" => Some(AuthType::Ppp),
            "mac" => Some(AuthType::Mac),
            _ => None,
        }
    }
}

/// An IPv6 prefix such as `2001:db8:100::/56`, as RADIUS Framed-IPv6-Prefix carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv6Prefix {
    pub addr: Ipv6Addr,
    pub len: u8,
}

impl FromStr for Ipv6Prefix {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (addr, len) = text
            .split_once('/')
            .ok_or_else(|| format!("not an IPv6 prefix (addr/len): {text:?}"))?;
        let addr: Ipv6Addr = addr
            .parse()
            .map_err(|_| format!("not an IPv6 address: {addr:?}"))?;
        let len: u8 = len
            .parse()
            .ok()
            .filter(|l| *l <= 128)
            .ok_or_else(|| format!("prefix length is 0-128: {len:?}"))?;
        let host_bits = u128::from(addr) & (u128::MAX.checked_shr(u32::from(len)).unwrap_or(0));
        if host_bits != 0 {
            return Err(format!("host bits set beyond /{len}: {text}"));
        }
        Ok(Ipv6Prefix { addr, len })
    }
}

impl serde::Serialize for Ipv6Prefix {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Ipv6Prefix {
    /// The mask of its `len` network bits.
    pub fn mask(&self) -> u128 {
        u128::MAX
            .checked_shl(128 - u32::from(self.len))
            .unwrap_or(0)
    }

    /// Whether the two share an address: they agree on the shorter one's network bits.
    pub fn overlaps(&self, other: &Ipv6Prefix) -> bool {
        let shorter = if self.len <= other.len { self } else { other };
        (u128::from(self.addr) ^ u128::from(other.addr)) & shorter.mask() == 0
    }
}

impl<'de> serde::Deserialize<'de> for Ipv6Prefix {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl std::fmt::Display for Ipv6Prefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// An extra reply attribute configured on a login, by dictionary name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExtraAttribute {
    pub name: String,
    pub value: String,
}

/// The address an extra Framed-IP-Address gives a login: its own, as a static one is.
pub fn extra_ipv4(extras: &[ExtraAttribute]) -> Option<(usize, Ipv4Addr)> {
    extras
        .iter()
        .enumerate()
        .find(|(_, a)| a.name == "Framed-IP-Address")
        .and_then(|(i, a)| Some((i, a.value.trim().parse().ok()?)))
}

/// The attributes an Access-Accept holds at most once (RFC 2865 §5.44, RFC 2869 §5.19,
/// RFC 3162 §3): a login may name each in one extra only.
pub const AT_MOST_ONCE: [&str; 24] = [
    "Service-Type",
    "Framed-Protocol",
    "Framed-IP-Address",
    "Framed-IP-Netmask",
    "Framed-Routing",
    "Framed-MTU",
    "Login-Service",
    "Login-TCP-Port",
    "Callback-Number",
    "Callback-Id",
    "Framed-IPX-Network",
    "Session-Timeout",
    "Idle-Timeout",
    "Termination-Action",
    "Login-LAT-Service",
    "Login-LAT-Node",
    "Login-LAT-Group",
    "Framed-AppleTalk-Link",
    "Framed-AppleTalk-Zone",
    "Port-Limit",
    "Login-LAT-Port",
    "Acct-Interim-Interval",
    "Framed-Pool",
    "Framed-IPv6-Pool",
];

/// The rules of a login's extras beyond their dictionary: an attribute an Accept holds at
/// most once named once, and a Framed-MTU of 64–65535 (RFC 2865 §5.12). Found probing from
/// outside: two Session-Timeouts, two Service-Types and an MTU of 0 went out in one Accept.
pub fn check_extras(extras: &[ExtraAttribute]) -> Result<(), FieldError> {
    for (i, extra) in extras.iter().enumerate() {
        let field = || format!("login.attributes[{i}]");
        if AT_MOST_ONCE.contains(&extra.name.as_str())
            && extras[..i].iter().any(|e| e.name == extra.name)
        {
            return Err(FieldError::new(
                field(),
                format!("{} is sent at most once; give it once", extra.name),
            ));
        }
        if extra.name == "Framed-MTU"
            && !extra
                .value
                .trim()
                .parse::<u32>()
                .is_ok_and(|mtu| (64..=65_535).contains(&mtu))
        {
            return Err(FieldError::new(field(), "Framed-MTU is 64-65535"));
        }
    }
    Ok(())
}

/// A login as stored. The password lives encrypted in storage and never in this record.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Login {
    pub id: i64,
    pub username: String,
    pub auth_type: AuthType,
    pub mac: Option<MacAddress>,
    pub ipv4: Option<Ipv4Addr>,
    pub ipv6_prefix: Option<Ipv6Prefix>,
    /// NAS names the login may use; empty = any.
    pub nas: Vec<String>,
    pub attributes: Vec<ExtraAttribute>,
    pub subscription_id: i64,
    pub disabled: bool,
    pub note: String,
    pub version: i64,
}

/// Longest password RADIUS can carry in User-Password (RFC 2865 §5.2).
pub const MAX_PASSWORD_LEN: usize = 128;

impl Login {
    /// A MAC login without a username is known by its canonical MAC.
    pub fn apply_defaults(&mut self) {
        if self.username.is_empty()
            && self.auth_type == AuthType::Mac
            && let Some(mac) = self.mac
        {
            self.username = mac.to_string();
        }
        self.nas.sort();
        self.nas.dedup();
    }

    pub fn validate(&self) -> Result<(), FieldError> {
        // For a MAC login the missing MAC is the real problem, not the username it implies.
        if self.auth_type == AuthType::Mac && self.mac.is_none() {
            return Err(FieldError::new(
                "login.mac",
                "required for a DHCP/MAC login",
            ));
        }
        require("login.username", &self.username)?;
        max_octets("login.username", &self.username)?;
        ispd_billing::field::key("login.username", &self.username)?;
        if self.subscription_id <= 0 {
            return Err(FieldError::required("login.subscription_id"));
        }
        if let Some(ip) = self.ipv4
            && !assignable_ipv4(ip)
        {
            return Err(FieldError::new(
                "login.ipv4",
                format!("{ip} is no address a subscriber can be given"),
            ));
        }
        if let Some(prefix) = self.ipv6_prefix
            && !assignable_ipv6(prefix)
        {
            return Err(FieldError::new(
                "login.ipv6_prefix",
                format!("{prefix} is no prefix a subscriber can be given"),
            ));
        }
        for (i, attr) in self.attributes.iter().enumerate() {
            let name = format!("login.attributes[{i}].name");
            require(&name, &attr.name)?;
            if let Some(why) = reserved(&attr.name) {
                return Err(FieldError::new(name, format!("{} is {why}", attr.name)));
            }
            let value = format!("login.attributes[{i}].value");
            // RFC 2865 §5: no string of length zero is sent.
            require(&value, &attr.value)?;
            max_octets(&value, &attr.value)?;
        }
        text("login.note", &self.note, Text::Remark)
    }
}

/// An IPv4 address a subscriber can be given: not unspecified, loopback, link-local,
/// multicast or reserved (240/4, the broadcast among them), nor 255.255.255.254, which in a
/// Framed-IP-Address asks the NAS to choose (RFC 2865 §5.8).
fn assignable_ipv4(ip: std::net::Ipv4Addr) -> bool {
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.octets()[0] >= 240)
}

/// An IPv6 prefix a subscriber can be given: some length, and not multicast, link-local,
/// loopback or unspecified space.
fn assignable_ipv6(prefix: Ipv6Prefix) -> bool {
    let first = prefix.addr.segments()[0];
    prefix.len > 0
        && first & 0xff00 != 0xff00
        && first & 0xffc0 != 0xfe80
        && !prefix.addr.is_loopback()
        && !prefix.addr.is_unspecified()
}

/// Why a login's extras may not name an attribute: ispd sends it itself, or the RFCs' tables
/// of which attribute may be in which packet put it at 0 in an Access-Accept.
const ISPDS: &str = "ispd's to send (it sends or reads it back itself)";
/// RFC 2865 §5.44: the request's, never in an Access-Accept.
const REQUEST_ONLY: &str =
    "never in an Access-Accept (RFC 2865 §5.44): the NAS sends it in the request";
/// RFC 2866 §5.13, RFC 2867 §4, RFC 2869 §5.19: accounting's, never in an Access-Accept.
const ACCOUNTING_ONLY: &str = "never in an Access-Accept (RFC 2866 §5.13, RFC 2867 §4, RFC 2869 §5.19): it belongs to accounting";
/// RFC 2869 §5.19: the request's, never in an Access-Accept.
const REQUEST_ONLY_2869: &str =
    "never in an Access-Accept (RFC 2869 §5.19): the NAS sends it in the request";
/// RFC 3162 §3: the request's, never in an Access-Accept.
const REQUEST_ONLY_3162: &str =
    "never in an Access-Accept (RFC 3162 §3): the NAS sends it in the request";
/// RFC 5176 §3.5, §3.6: only in the answers to CoA and Disconnect requests.
const COA_ONLY: &str =
    "never in an Access-Accept (RFC 5176 §3.5): only in CoA and Disconnect answers";

/// Attributes a login's extras may not name, each with why: the proof and the exchange
/// (never in an Access-Accept, or only as the request had them), what ispd itself sends and
/// reads back — its Class tag, the answers of MS-CHAPv2 — and what the RFCs' tables put at 0
/// in an Access-Accept: RFC 2865 §5.44 (the NAS's identity and port, the station ids, the
/// credentials), RFC 2866 §5.13 and RFC 2867 §4 (accounting's), RFC 2869 §5.19 (accounting's
/// Gigawords and Event-Timestamp, the request's Connect-Info, NAS-Port-Id, ARAP-Password),
/// RFC 3162 §3 (NAS-IPv6-Address), RFC 5176 §3.5 (Error-Cause). Found probing from outside:
/// NAS-IP-Address, Calling-Station-Id, Acct-* and Event-Timestamp were taken and sent.
pub const RESERVED_ATTRIBUTES: &[(&str, &str)] = &[
    ("User-Name", ISPDS),
    ("State", ISPDS),
    ("Class", ISPDS),
    ("Proxy-State", ISPDS),
    ("EAP-Message", ISPDS),
    ("Message-Authenticator", ISPDS),
    ("MS-CHAP-Challenge", ISPDS),
    ("MS-CHAP2-Response", ISPDS),
    ("MS-CHAP2-Success", ISPDS),
    ("MS-CHAP-Error", ISPDS),
    ("MS-MPPE-Send-Key", ISPDS),
    ("MS-MPPE-Recv-Key", ISPDS),
    ("MS-MPPE-Encryption-Policy", ISPDS),
    ("MS-MPPE-Encryption-Types", ISPDS),
    ("User-Password", REQUEST_ONLY),
    ("CHAP-Password", REQUEST_ONLY),
    ("CHAP-Challenge", REQUEST_ONLY),
    ("NAS-IP-Address", REQUEST_ONLY),
    ("NAS-Port", REQUEST_ONLY),
    ("Called-Station-Id", REQUEST_ONLY),
    ("Calling-Station-Id", REQUEST_ONLY),
    ("NAS-Identifier", REQUEST_ONLY),
    ("NAS-Port-Type", REQUEST_ONLY),
    ("Acct-Status-Type", ACCOUNTING_ONLY),
    ("Acct-Delay-Time", ACCOUNTING_ONLY),
    ("Acct-Input-Octets", ACCOUNTING_ONLY),
    ("Acct-Output-Octets", ACCOUNTING_ONLY),
    ("Acct-Session-Id", ACCOUNTING_ONLY),
    ("Acct-Authentic", ACCOUNTING_ONLY),
    ("Acct-Session-Time", ACCOUNTING_ONLY),
    ("Acct-Input-Packets", ACCOUNTING_ONLY),
    ("Acct-Output-Packets", ACCOUNTING_ONLY),
    ("Acct-Terminate-Cause", ACCOUNTING_ONLY),
    ("Acct-Multi-Session-Id", ACCOUNTING_ONLY),
    ("Acct-Link-Count", ACCOUNTING_ONLY),
    ("Acct-Input-Gigawords", ACCOUNTING_ONLY),
    ("Acct-Output-Gigawords", ACCOUNTING_ONLY),
    ("Acct-Tunnel-Connection", ACCOUNTING_ONLY),
    ("Acct-Tunnel-Packets-Lost", ACCOUNTING_ONLY),
    ("Event-Timestamp", ACCOUNTING_ONLY),
    ("ARAP-Password", REQUEST_ONLY_2869),
    ("Connect-Info", REQUEST_ONLY_2869),
    ("NAS-Port-Id", REQUEST_ONLY_2869),
    ("NAS-IPv6-Address", REQUEST_ONLY_3162),
    ("Error-Cause", COA_ONLY),
];

/// Why an extra may not name `name`, if it may not.
pub fn reserved(name: &str) -> Option<&'static str> {
    RESERVED_ATTRIBUTES
        .iter()
        .find(|(reserved, _)| *reserved == name)
        .map(|(_, why)| *why)
}

/// A RADIUS value holds 253 octets (RFC 2865 §5): counted in UTF-8 octets, not characters.
fn max_octets(field: &str, value: &str) -> Result<(), FieldError> {
    if value.len() > 253 {
        return Err(FieldError::new(
            field,
            format!("at most 253 octets in UTF-8, got {}", value.len()),
        ));
    }
    Ok(())
}

/// Checks an operator-chosen password: RADIUS must be able to carry it.
pub fn validate_password(password: &str) -> Result<(), FieldError> {
    if password.is_empty() {
        return Err(FieldError::required("password"));
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(FieldError::new(
            "password",
            format!("at most {MAX_PASSWORD_LEN} bytes (RADIUS User-Password limit)"),
        ));
    }
    if password.chars().any(char::is_control) {
        return Err(FieldError::new(
            "password",
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// Letters and digits that survive being read over the phone: no 0/O, 1/l/I.
const PASSWORD_ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
pub const GENERATED_PASSWORD_LEN: usize = 12;

/// Turns random bytes (from the daemon's OS random source) into a password of the default
/// shape (see [`Generation::password_from_random`]).
pub fn password_from_random(random: &[u8]) -> Option<String> {
    Generation::default().password_from_random(random)
}

/// How the daemon names a login created without a username and makes a password when none is
/// given (`[logins]`; net47 generates both from patterns). The username pattern's placeholders:
/// `{client}` the client number, `{subscription}` the subscription id, `{n}` the lowest number
/// from 1 that gives a name not taken yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generation {
    pub username_pattern: String,
    pub password_length: usize,
    pub password_alphabet: Vec<u8>,
}

impl Default for Generation {
    fn default() -> Self {
        Generation {
            username_pattern: "{client}-{n}".into(),
            password_length: GENERATED_PASSWORD_LEN,
            password_alphabet: PASSWORD_ALPHABET.to_vec(),
        }
    }
}

/// Why a `[logins]` setting is refused; names the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("logins.{key}: {problem}")]
pub struct GenerationError {
    pub key: &'static str,
    pub problem: String,
}

impl Generation {
    const PLACEHOLDERS: [&'static str; 3] = ["{client}", "{subscription}", "{n}"];

    /// A pattern must tell two logins apart (`{n}` or `{subscription}`) and make a username
    /// RADIUS accepts; a password at least 8 characters from at least 10 distinct printable
    /// ASCII characters.
    pub fn check(&self) -> Result<(), GenerationError> {
        let refuse = |key, problem: &str| {
            Err(GenerationError {
                key,
                problem: problem.to_owned(),
            })
        };
        let mut rest = self.username_pattern.clone();
        for placeholder in Self::PLACEHOLDERS {
            rest = rest.replace(placeholder, "");
        }
        if rest.contains(['{', '}']) {
            return refuse(
                "username_pattern",
                "only {client}, {subscription} and {n} can be filled in",
            );
        }
        if !self.username_pattern.contains("{n}")
            && !self.username_pattern.contains("{subscription}")
        {
            return refuse(
                "username_pattern",
                "needs {n} or {subscription}, so two logins get two names",
            );
        }
        if rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return refuse("username_pattern", "no spaces or control characters");
        }
        if !(8..=64).contains(&self.password_length) {
            return refuse("password_length", "8-64 characters");
        }
        let mut distinct = self.password_alphabet.clone();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() != self.password_alphabet.len()
            || distinct.len() < 10
            || !distinct.iter().all(|b| b.is_ascii_graphic())
        {
            return refuse(
                "password_alphabet",
                "at least 10 distinct printable ASCII characters, none twice, no spaces",
            );
        }
        Ok(())
    }

    /// The `n`th candidate username for a login of `client`'s `subscription`.
    pub fn username(&self, client: &str, subscription: i64, n: u32) -> String {
        self.username_pattern
            .replace("{client}", client)
            .replace("{subscription}", &subscription.to_string())
            .replace("{n}", &n.to_string())
    }

    /// Whether the pattern gives more than one candidate (it has `{n}`).
    pub fn numbered(&self) -> bool {
        self.username_pattern.contains("{n}")
    }

    /// Turns random bytes into a password of the configured length and alphabet. Rejection
    /// sampling keeps every character equally likely; `None` when the bytes run out, so the
    /// caller passes more.
    pub fn password_from_random(&self, random: &[u8]) -> Option<String> {
        let n = self.password_alphabet.len();
        let limit = 256 - 256 % n;
        let password: String = random
            .iter()
            .filter(|&&b| usize::from(b) < limit)
            .take(self.password_length)
            .map(|&b| char::from(self.password_alphabet[usize::from(b) % n]))
            .collect();
        (password.len() == self.password_length).then_some(password)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_extra_sent_at_most_once_is_named_once_and_an_mtu_fits() {
        let extra = |name: &str, value: &str| ExtraAttribute {
            name: name.into(),
            value: value.into(),
        };
        let fine = [
            extra("Session-Timeout", "100"),
            extra("Framed-Route", "10.0.0.0/24 0.0.0.0 1"),
            extra("Framed-Route", "10.0.1.0/24 0.0.0.0 1"),
            extra("Framed-MTU", "1492"),
        ];
        assert_eq!(check_extras(&fine), Ok(()));
        let twice = [
            extra("Session-Timeout", "100"),
            extra("Session-Timeout", "200"),
        ];
        assert_eq!(
            check_extras(&twice).unwrap_err().field,
            "login.attributes[1]"
        );
        for mtu in ["0", "63", "70000", "x"] {
            assert!(check_extras(&[extra("Framed-MTU", mtu)]).is_err(), "{mtu}");
        }
    }

    #[test]
    fn generated_usernames_follow_the_pattern() {
        let g = Generation::default();
        assert_eq!(g.username("1001", 7, 1), "1001-1");
        assert_eq!(g.username("1001", 7, 12), "1001-12");
        let by_service = Generation {
            username_pattern: "net{subscription}@isp".into(),
            ..Generation::default()
        };
        assert_eq!(by_service.username("1001", 7, 3), "net7@isp");
        assert!(!by_service.numbered() && g.numbered());
    }

    #[test]
    fn generation_settings_are_checked_by_key() {
        let refused = |change: fn(&mut Generation)| {
            let mut g = Generation::default();
            change(&mut g);
            g.check().err().map(|e| e.key)
        };
        assert_eq!(refused(|_| {}), None);
        assert_eq!(
            refused(|g| g.username_pattern = "{client}".into()),
            Some("username_pattern")
        );
        assert_eq!(
            refused(|g| g.username_pattern = "{name}-{n}".into()),
            Some("username_pattern")
        );
        assert_eq!(
            refused(|g| g.username_pattern = "a b{n}".into()),
            Some("username_pattern")
        );
        assert_eq!(refused(|g| g.password_length = 7), Some("password_length"));
        assert_eq!(refused(|g| g.password_length = 65), Some("password_length"));
        assert_eq!(
            refused(|g| g.password_alphabet = b"abc".to_vec()),
            Some("password_alphabet")
        );
        assert_eq!(
            refused(|g| g.password_alphabet = b"aabcdefghijk".to_vec()),
            Some("password_alphabet")
        );
        assert_eq!(
            refused(|g| g.password_alphabet = b"abcdefghij k".to_vec()),
            Some("password_alphabet")
        );
    }

    #[test]
    fn passwords_take_the_configured_length_and_alphabet() {
        let g = Generation {
            password_length: 20,
            password_alphabet: b"0123456789".to_vec(),
            ..Generation::default()
        };
        // 250-255 are rejected (256 % 10 = 6): every digit stays equally likely.
        let random: Vec<u8> = (0u8..=255).cycle().skip(240).take(40).collect();
        assert_eq!(
            g.password_from_random(&random).as_deref(),
            Some("01234567890123456789"),
            "240-249, then 250-255 skipped, then 0-9"
        );
        assert_eq!(g.password_from_random(&random[..10]), None, "too few bytes");
    }

    fn login() -> Login {
        Login {
            id: 0,
            username: "novak".into(),
            auth_type: AuthType::Ppp,
            mac: None,
            ipv4: None,
            ipv6_prefix: None,
            nas: vec![],
            attributes: vec![],
            subscription_id: 1,
            disabled: false,
            note: String::new(),
            version: 0,
        }
    }

    /// Found probing from outside: attributes RFC 2865 §5.44 and the accounting RFCs keep out
    /// of an Access-Accept were taken as extras and sent. Refused, naming the attribute and why.
    #[test]
    fn an_extra_the_rfcs_keep_out_of_an_accept_is_refused_with_why() {
        let refusal = |name: &str| {
            let mut l = login();
            l.attributes = vec![
                ExtraAttribute {
                    name: "Idle-Timeout".into(),
                    value: "60".into(),
                },
                ExtraAttribute {
                    name: name.into(),
                    value: "1".into(),
                },
            ];
            l.validate().err().map(|e| (e.field, e.problem))
        };
        for (name, rfc) in [
            ("NAS-IP-Address", "RFC 2865 §5.44"),
            ("NAS-Port", "RFC 2865 §5.44"),
            ("Called-Station-Id", "RFC 2865 §5.44"),
            ("Calling-Station-Id", "RFC 2865 §5.44"),
            ("NAS-Identifier", "RFC 2865 §5.44"),
            ("NAS-Port-Type", "RFC 2865 §5.44"),
            ("CHAP-Password", "RFC 2865 §5.44"),
            ("CHAP-Challenge", "RFC 2865 §5.44"),
            ("User-Password", "RFC 2865 §5.44"),
            ("Acct-Session-Id", "RFC 2866 §5.13"),
            ("Acct-Status-Type", "RFC 2866 §5.13"),
            ("Acct-Input-Gigawords", "RFC 2869 §5.19"),
            ("Event-Timestamp", "RFC 2869 §5.19"),
            ("NAS-Port-Id", "RFC 2869 §5.19"),
            ("NAS-IPv6-Address", "RFC 3162 §3"),
            ("Error-Cause", "RFC 5176"),
            ("Class", "ispd's to send"),
            ("State", "ispd's to send"),
        ] {
            let (field, problem) = refusal(name).unwrap_or_default();
            assert_eq!(field, "login.attributes[1].name", "{name}");
            assert!(
                problem.starts_with(name) && problem.contains(rfc),
                "{name}: {problem}"
            );
        }
        // What an Accept may carry stays allowed, Acct-Interim-Interval among them.
        for name in [
            "Acct-Interim-Interval",
            "Termination-Action",
            "Login-IP-Host",
        ] {
            assert_eq!(refusal(name), None, "{name}");
        }
    }

    #[test]
    fn mac_login_needs_a_mac_and_defaults_its_username() {
        let mut l = login();
        l.auth_type = AuthType::Mac;
        assert_eq!(l.validate().unwrap_err().field, "login.mac");
        l.username.clear();
        l.mac = Some("AA-BB-CC-DD-EE-FF".parse().unwrap());
        l.apply_defaults();
        assert_eq!(l.username, "aa:bb:cc:dd:ee:ff");
        assert_eq!(l.validate(), Ok(()));
    }

    #[test]
    fn rules() {
        let field = |edit: fn(&mut Login)| {
            let mut l = login();
            edit(&mut l);
            l.validate().unwrap_err().field
        };
        assert_eq!(field(|l| l.username.clear()), "login.username");
        assert_eq!(field(|l| l.username = "a b".into()), "login.username");
        assert_eq!(
            field(|l| l.username = "novak\u{200B}".into()),
            "login.username",
            "prints as novak, but is another login"
        );
        assert_eq!(field(|l| l.subscription_id = 0), "login.subscription_id");
        assert_eq!(
            field(|l| l.attributes.push(ExtraAttribute {
                name: String::new(),
                value: "x".into()
            })),
            "login.attributes[0].name"
        );
        // A subscriber's address is a unicast host address.
        for bad in ["0.0.0.0", "255.255.255.255", "224.0.0.1", "127.0.0.1"] {
            let mut l = login();
            l.ipv4 = Some(bad.parse().unwrap());
            assert_eq!(l.validate().unwrap_err().field, "login.ipv4", "{bad}");
        }
        let mut l = login();
        l.ipv4 = Some("100.64.0.7".parse().unwrap());
        assert_eq!(l.validate(), Ok(()));
    }

    #[test]
    fn passwords() {
        assert!(validate_password(&"x".repeat(128)).is_ok());
        assert!(validate_password(&"x".repeat(129)).is_err());
        assert!(validate_password("").is_err());
        assert!(validate_password("a\0b").is_err());
        let generated = password_from_random(&(0..=255).collect::<Vec<u8>>()).unwrap();
        assert_eq!(generated.len(), GENERATED_PASSWORD_LEN);
        assert!(generated.bytes().all(|b| PASSWORD_ALPHABET.contains(&b)));
        // Bytes at or above the rejection limit are skipped, not folded into a bias.
        assert_eq!(password_from_random(&[255; 64]), None);
    }

    #[test]
    fn ipv6_prefixes() {
        let p: Ipv6Prefix = "2001:db8:100::/56".parse().unwrap();
        assert_eq!(p.len, 56);
        assert_eq!(p.to_string(), "2001:db8:100::/56");
        assert!("2001:db8::1/64".parse::<Ipv6Prefix>().is_err());
        assert!("2001:db8::/129".parse::<Ipv6Prefix>().is_err());
        assert!("2001:db8::".parse::<Ipv6Prefix>().is_err());
        assert!("::/0".parse::<Ipv6Prefix>().is_ok());
    }

    /// Found probing from outside: 255.255.255.254, 240.0.0.1, 169.254.1.1, ::/0 and
    /// ff02::/64 were accepted as a subscriber's own address or prefix.
    #[test]
    fn only_assignable_addresses_and_prefixes() {
        for ip in ["100.64.0.10", "192.0.2.7", "8.8.8.8"] {
            assert!(assignable_ipv4(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "0.0.0.0",
            "127.0.0.1",
            "169.254.1.1",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.254",
            "255.255.255.255",
        ] {
            assert!(!assignable_ipv4(ip.parse().unwrap()), "{ip}");
        }
        let prefix = |p: &str| assignable_ipv6(p.parse().unwrap());
        assert!(prefix("2001:db8:100::/56"));
        for p in ["::/0", "ff02::/64", "fe80::/64", "::/128", "::1/128"] {
            assert!(!prefix(p), "{p}");
        }
    }
}

//! The RADIUS domain end to end: published vectors for every authentication method, the
//! access policy as tables, and the per-vendor rate rendering pinned to vendor documentation.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::num::NonZeroU32;

use ispd_billing::subscription::SubscriptionState;
use ispd_billing::tariff::{Burst, Rate};
use ispd_provisioning::auth::{self, Credential, Proof, chap, mschapv2, pap};
use ispd_provisioning::login::{AuthType, ExtraAttribute};
use ispd_provisioning::mac::MacAddress;
use ispd_provisioning::nas::NasVendor;
use ispd_provisioning::policy::{
    AccessRequest, AccessState, ClassTag, DEFAULT_SIMULTANEOUS_USE, Decision, InForce, LoginAccess,
    NasContext, PolicyConfig, RejectReason, Restricted, WalledGarden, access_state, class, decide,
    in_force, ipv6_attribute, parse_class,
};
use ispd_provisioning::rate::{
    CiscoShaping, accel_ppp_filter_id, cisco_av_pairs, mikrotik_rate_limit, mikrotik_speed,
    rate_attributes, wispr,
};
use ispd_provisioning::reply::{MppeKey, ReplyAttribute};

// ---------------------------------------------------------------------------------------------
// Vector files

fn vector_text(name: &str) -> String {
    let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `key = value` lines; `#` starts a comment line.
fn vectors(name: &str) -> HashMap<String, String> {
    let text = vector_text(name);
    assert!(
        text.starts_with("# RFC") || text.starts_with("# CHAP"),
        "{name}: the header names its source"
    );
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (k, v) = l.split_once(" = ").unwrap_or_else(|| panic!("{name}: {l}"));
            (k.trim().to_owned(), v.trim().to_owned())
        })
        .collect()
}

fn hex(map: &HashMap<String, String>, key: &str) -> Vec<u8> {
    let text: String = map[key].split_whitespace().collect();
    hex::decode(text).unwrap_or_else(|e| panic!("{key}: {e}"))
}

fn arr<const N: usize>(bytes: &[u8]) -> [u8; N] {
    bytes.try_into().expect("length")
}

// ---------------------------------------------------------------------------------------------
// RFC vectors

#[test]
fn rfc2759_9_2_hash_example() {
    let v = vectors("rfc2759_9_2.txt");
    let user = &v["UserName"];
    let password = &v["Password"];
    let auth_challenge: [u8; 16] = arr(&hex(&v, "AuthenticatorChallenge"));
    let peer_challenge: [u8; 16] = arr(&hex(&v, "PeerChallenge"));
    let nt_response: [u8; 24] = arr(&hex(&v, "NT-Response"));

    let challenge = mschapv2::challenge_hash(&peer_challenge, &auth_challenge, user);
    assert_eq!(challenge.to_vec(), hex(&v, "Challenge"));
    let password_hash = mschapv2::nt_password_hash(password);
    assert_eq!(password_hash.to_vec(), hex(&v, "PasswordHash"));
    assert_eq!(
        mschapv2::challenge_response(&challenge, &password_hash),
        nt_response
    );
    assert_eq!(
        mschapv2::generate_nt_response(&auth_challenge, &peer_challenge, user, password),
        nt_response
    );
    let password_hash_hash = mschapv2::hash_nt_password_hash(&password_hash);
    assert_eq!(password_hash_hash.to_vec(), hex(&v, "PasswordHashHash"));
    assert_eq!(
        mschapv2::authenticator_response(&password_hash_hash, &nt_response, &challenge),
        v["AuthenticatorResponse"]
    );

    // The server path: parse the attribute, verify, and build MS-CHAP2-Success.
    let response = ms_chap2_response(0x2a, &peer_challenge, &nt_response);
    let success = mschapv2::verify(&auth_challenge, &response, user, password).unwrap();
    assert_eq!(success.ident, 0x2a);
    assert_eq!(success.authenticator_response, v["AuthenticatorResponse"]);
    let value = success.attribute_value();
    assert_eq!(value.len(), 43, "ident + 42-byte authenticator response");
    assert_eq!(value[0], 0x2a);
    assert_eq!(&value[1..], v["AuthenticatorResponse"].as_bytes());

    // A Windows peer in a domain: User-Name "CORP\User" hashes as "User" (RFC 2759 §8.2).
    assert!(mschapv2::verify(&auth_challenge, &response, r"CORP\User", password).is_ok());
    assert_eq!(
        mschapv2::verify(&auth_challenge, &response, user, "clientPasS"),
        Err(mschapv2::Error::Mismatch { ident: 0x2a })
    );
}

#[test]
fn rfc2759_9_3_des_key_generation() {
    let v = vectors("rfc2759_9_3.txt");
    let hash = mschapv2::nt_password_hash(&v["Password"]);
    assert_eq!(hash.to_vec(), hex(&v, "PasswordHash"));
    assert_eq!(hash[..7].to_vec(), hex(&v, "RawKey1"));
    assert_eq!(hash[7..14].to_vec(), hex(&v, "RawKey2"));
    assert_eq!(
        mschapv2::des_key(&arr(&hex(&v, "RawKey1"))).to_vec(),
        hex(&v, "DesKey1")
    );
    assert_eq!(
        mschapv2::des_key(&arr(&hex(&v, "RawKey2"))).to_vec(),
        hex(&v, "DesKey2")
    );
}

#[test]
fn rfc3079_3_5_3_mppe_128_bit_keys() {
    let v = vectors("rfc3079_3_5_3.txt");
    let nt_response: [u8; 24] = arr(&hex(&v, "NT-Response"));
    let phh: [u8; 16] = arr(&hex(&v, "PasswordHashHash"));
    assert_eq!(
        mschapv2::hash_nt_password_hash(&mschapv2::nt_password_hash(&v["Password"])),
        phh
    );
    let master = mschapv2::master_key(&phh, &nt_response);
    assert_eq!(master.to_vec(), hex(&v, "MasterKey"));
    // RFC 3079 §3.3: the authenticator calls GetAsymmetricStartKey(.., TRUE, TRUE) for its
    // send key; §3.5.3 prints that key as SendStartKey128.
    assert_eq!(
        mschapv2::asymmetric_start_key(&master, true, true).to_vec(),
        hex(&v, "SendStartKey128")
    );
    assert_eq!(
        mschapv2::asymmetric_start_key(&master, false, true).to_vec(),
        hex(&v, "MasterReceiveKey128")
    );

    // And the keys verify() hands to the policy are the server's send / receive keys.
    let response = ms_chap2_response(1, &arr(&hex(&v, "PeerChallenge")), &nt_response);
    let success = mschapv2::verify(
        &hex(&v, "AuthenticatorChallenge"),
        &response,
        &v["UserName"],
        &v["Password"],
    )
    .unwrap();
    assert_eq!(success.mppe.send.to_vec(), hex(&v, "SendStartKey128"));
    assert_eq!(success.mppe.recv.to_vec(), hex(&v, "MasterReceiveKey128"));
}

/// Walks RFC 2865 attributes: (type, value) pairs after the 20-byte header.
fn attributes(packet: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    let mut rest = &packet[20..];
    while let [kind, len, ..] = *rest {
        let len = usize::from(len);
        out.push((kind, &rest[2..len]));
        rest = &rest[len..];
    }
    out
}

#[test]
fn rfc2865_7_2_chap_with_the_request_authenticator() {
    let v = vectors("rfc2865_7_2.txt");
    let packet = hex(&v, "Packet");
    assert_eq!(
        packet.len(),
        usize::from(u16::from_be_bytes([packet[2], packet[3]]))
    );
    let authenticator = &packet[4..20];
    let attrs = attributes(&packet);
    let user_name = attrs.iter().find(|(k, _)| *k == 1).unwrap().1;
    assert_eq!(user_name, v["UserName"].as_bytes());
    let chap_password = attrs.iter().find(|(k, _)| *k == 3).unwrap().1;
    assert!(
        attrs.iter().all(|(k, _)| *k != 60),
        "no CHAP-Challenge: the authenticator is the challenge"
    );
    assert!(chap::verify(
        chap_password,
        authenticator,
        v["Password"].as_bytes()
    ));
    assert!(!chap::verify(chap_password, authenticator, b"arctangenT"));

    // Through the policy, as the daemon would call it.
    let mut login = login();
    login.username = v["UserName"].clone();
    login.password = v["Password"].clone();
    let request = AccessRequest {
        user_name: &v["UserName"],
        credential: Credential::Chap {
            chap_password,
            challenge: authenticator,
        },
        calling_station: None,
        at: EPOCH,
    };
    let decision = decide(
        Some(&login),
        &request,
        &mikrotik(),
        0,
        &PolicyConfig::default(),
    );
    assert!(decision.is_accept(), "{decision:?}");
}

#[test]
fn chap_md5_constructed_vectors() {
    let text = vector_text("chap_md5.txt");
    let mut cases = 0;
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let fields: Vec<Vec<u8>> = line
            .split_whitespace()
            .map(|f| hex::decode(f).unwrap())
            .collect();
        let [ident, password, challenge, response] = &fields[..] else {
            panic!("{line}");
        };
        assert_eq!(
            chap::response(ident[0], password, challenge).to_vec(),
            *response
        );
        let chap_password = [&ident[..], response].concat();
        assert!(chap::verify(&chap_password, challenge, password), "{line}");
        cases += 1;
    }
    assert_eq!(cases, 4);
}

// ---------------------------------------------------------------------------------------------
// Property-style loops over a deterministic generator

/// Knuth's MMIX LCG: deterministic, so a failure reproduces; good enough to vary inputs.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
    /// A printable password of 1-40 characters, sometimes with non-ASCII letters.
    fn password(&mut self) -> String {
        const CHARS: &[char] = &['a', 'Z', '7', '-', 'ž', 'ř', '€', ' ', '!', 'q'];
        let len = 1 + self.below(40);
        (0..len).map(|_| CHARS[self.below(CHARS.len())]).collect()
    }
}

#[test]
fn chap_right_response_verifies_and_any_flipped_bit_does_not() {
    let mut rng = Lcg(0x15bd_2026);
    for _ in 0..500 {
        let password = rng.password();
        let challenge_len = 1 + rng.below(32);
        let challenge = rng.bytes(challenge_len);
        let ident = rng.next() as u8;
        let mut value = vec![ident];
        value.extend_from_slice(&chap::response(ident, password.as_bytes(), &challenge));
        assert!(chap::verify(&value, &challenge, password.as_bytes()));

        let bit = rng.below(value.len() * 8);
        let mut flipped = value.clone();
        flipped[bit / 8] ^= 1 << (bit % 8);
        assert!(!chap::verify(&flipped, &challenge, password.as_bytes()));

        let bit = rng.below(challenge.len() * 8);
        let mut other_challenge = challenge.clone();
        other_challenge[bit / 8] ^= 1 << (bit % 8);
        assert!(!chap::verify(&value, &other_challenge, password.as_bytes()));
    }
}

#[test]
fn mschapv2_right_response_verifies_and_any_flipped_bit_does_not() {
    let mut rng = Lcg(0x2759);
    for _ in 0..200 {
        let password = rng.password();
        let user = format!("user{}", rng.below(1000));
        let auth: [u8; 16] = arr(&rng.bytes(16));
        let peer: [u8; 16] = arr(&rng.bytes(16));
        let nt = mschapv2::generate_nt_response(&auth, &peer, &user, &password);
        let response = ms_chap2_response(rng.next() as u8, &peer, &nt);
        assert!(mschapv2::verify(&auth, &response, &user, &password).is_ok());

        // Any bit of the peer challenge or the NT-Response (not flags / reserved) matters.
        let field_bits: Vec<usize> = (2 * 8..18 * 8).chain(26 * 8..50 * 8).collect();
        let bit = field_bits[rng.below(field_bits.len())];
        let mut flipped = response.clone();
        flipped[bit / 8] ^= 1 << (bit % 8);
        assert!(mschapv2::verify(&auth, &flipped, &user, &password).is_err());

        let bit = rng.below(128);
        let mut other_auth = auth;
        other_auth[bit / 8] ^= 1 << (bit % 8);
        assert!(mschapv2::verify(&other_auth, &response, &user, &password).is_err());
    }
}

#[test]
fn pap_equal_passwords_verify_and_any_change_does_not() {
    let mut rng = Lcg(1334);
    for _ in 0..500 {
        let password = rng.password();
        let stored = password.as_bytes();
        assert!(pap::verify(stored, stored));
        // RFC 2865 §5.2 padding left in place by a codec.
        let padded_len = stored.len().div_ceil(16) * 16;
        let mut padded = stored.to_vec();
        padded.resize(padded_len, 0);
        assert!(pap::verify(&padded, stored));

        let bit = rng.below(stored.len() * 8);
        let mut flipped = stored.to_vec();
        flipped[bit / 8] ^= 1 << (bit % 8);
        if flipped.last() != Some(&0) {
            assert!(!pap::verify(&flipped, stored));
        }
        assert!(!pap::verify(&stored[..stored.len() - 1], stored));
    }
}

// ---------------------------------------------------------------------------------------------
// Policy

/// The moment of the requests: the speed rules of these logins do not depend on it.
const EPOCH: ispd_provisioning::speed::At = ispd_provisioning::speed::At {
    utc: chrono::DateTime::UNIX_EPOCH,
    local: chrono::NaiveTime::MIN,
};

fn login() -> LoginAccess {
    LoginAccess {
        login_id: 42,
        client_number: "10042".into(),
        username: "novak".into(),
        password: "tajne-heslo".into(),
        auth_type: AuthType::Ppp,
        mac: None,
        disabled: false,
        allowed_nas: vec![],
        state: AccessState::Active,
        rate: Rate {
            download_kbps: 50_000,
            upload_kbps: 10_000,
        },
        burst: None,
        framed_pool: Some("pool-fiber".into()),
        ipv4: None,
        ipv6_prefix: None,
        attributes: vec![],
        simultaneous_use: Some(DEFAULT_SIMULTANEOUS_USE),
        window: None,
        temporary: None,
        cap: None,
        capped: false,
    }
}

fn mikrotik() -> NasContext<'static> {
    NasContext {
        name: "core-1",
        vendor: NasVendor::Mikrotik,
    }
}

fn pap_request(password: &str) -> AccessRequest<'_> {
    AccessRequest {
        user_name: "novak",
        credential: Credential::Pap {
            password: password.as_bytes(),
        },
        calling_station: None,
        at: EPOCH,
    }
}

fn reason(decision: &Decision) -> Option<RejectReason> {
    match decision {
        Decision::Reject { reason, .. } => Some(*reason),
        Decision::Accept { .. } => None,
    }
}

fn ms_chap2_response(ident: u8, peer: &[u8; 16], nt: &[u8; 24]) -> Vec<u8> {
    let mut v = vec![ident, 0];
    v.extend_from_slice(peer);
    v.extend_from_slice(&[0; 8]);
    v.extend_from_slice(nt);
    assert_eq!(v.len(), mschapv2::RESPONSE_LEN);
    v
}

#[test]
fn access_state_table() {
    use AccessState as A;
    use SubscriptionState as S;
    // (subscription, debt_suspended, never_suspend) -> access state
    let table = [
        (S::Active, false, false, A::Active),
        (S::Active, true, false, A::SuspendedForDebt),
        (S::Active, true, true, A::Active),
        (S::Active, false, true, A::Active),
        (S::Paused, true, false, A::Paused),
        (S::Blocked, true, false, A::Blocked),
        (S::Ended, true, false, A::Ended),
        (S::NotYetActive, true, false, A::NotYetActive),
        (S::Paused, false, false, A::Paused),
        (S::Blocked, false, true, A::Blocked),
        (S::Ended, false, false, A::Ended),
        (S::NotYetActive, false, false, A::NotYetActive),
    ];
    for (sub, debt, never, expected) in table {
        assert_eq!(
            access_state(sub, debt, never),
            expected,
            "{sub:?} debt={debt} never_suspend={never}"
        );
    }
}

#[test]
fn every_access_state_under_every_restricted_action() {
    let garden = WalledGarden::default();
    for state in AccessState::ALL {
        for action in [Restricted::Reject, Restricted::WalledGarden(garden.clone())] {
            let config = PolicyConfig {
                suspended_for_debt: action.clone(),
                blocked: action.clone(),
                paused: action.clone(),
                ..PolicyConfig::default()
            };
            let mut l = login();
            l.state = state;
            let decision = decide(
                Some(&l),
                &pap_request("tajne-heslo"),
                &mikrotik(),
                0,
                &config,
            );
            let restricted = matches!(
                state,
                AccessState::SuspendedForDebt | AccessState::Blocked | AccessState::Paused
            );
            let expected = match (state, &action) {
                (AccessState::Active, _) => None,
                (AccessState::Ended, _) => Some(RejectReason::Ended),
                (AccessState::NotYetActive, _) => Some(RejectReason::NotYetActive),
                (_, Restricted::Reject) => Some(RejectReason::Restricted(state)),
                (_, Restricted::WalledGarden(_)) => None,
            };
            assert_eq!(reason(&decision), expected, "{state:?} {action:?}");
            match &decision {
                Decision::Accept {
                    attributes,
                    state: accepted,
                } => {
                    assert_eq!(*accepted, state);
                    let limited = attributes.contains(&ReplyAttribute::MikrotikRateLimit(
                        if restricted { "256k/256k" } else { "10M/50M" }.into(),
                    ));
                    assert!(limited, "{state:?}: {attributes:?}");
                    assert_eq!(
                        attributes.contains(&ReplyAttribute::MikrotikAddressList(
                            "ispd-suspended".into()
                        )),
                        restricted
                    );
                }
                Decision::Reject {
                    reason,
                    reply_message,
                    attributes,
                } => {
                    assert_eq!(reply_message, reason.reply_message());
                    assert!(
                        attributes.is_empty(),
                        "PAP rejects carry no method attributes"
                    );
                }
            }
        }
    }
    // The three restricted states are configured independently.
    let config = PolicyConfig {
        paused: Restricted::Reject,
        ..PolicyConfig::default()
    };
    let mut l = login();
    l.state = AccessState::Paused;
    let paused = decide(
        Some(&l),
        &pap_request("tajne-heslo"),
        &mikrotik(),
        0,
        &config,
    );
    assert_eq!(
        reason(&paused),
        Some(RejectReason::Restricted(AccessState::Paused))
    );
    l.state = AccessState::SuspendedForDebt;
    assert!(
        decide(
            Some(&l),
            &pap_request("tajne-heslo"),
            &mikrotik(),
            0,
            &config
        )
        .is_accept()
    );
}

#[test]
fn reject_table() {
    let config = PolicyConfig::default();
    let nas = mikrotik();
    type Edit = fn(&mut LoginAccess);
    let cases: &[(&str, Edit, &str, u32, Option<RejectReason>)] = &[
        ("plain accept", |_| {}, "tajne-heslo", 0, None),
        (
            "wrong password",
            |_| {},
            "tajne",
            0,
            Some(RejectReason::BadCredential),
        ),
        (
            "disabled",
            |l| l.disabled = true,
            "tajne-heslo",
            0,
            Some(RejectReason::Disabled),
        ),
        (
            // The credential comes first: a guesser never learns the account is disabled.
            "disabled, wrong password",
            |l| l.disabled = true,
            "guess",
            0,
            Some(RejectReason::BadCredential),
        ),
        (
            "NAS not in the allowed list",
            |l| l.allowed_nas = vec!["edge-2".into(), "edge-3".into()],
            "tajne-heslo",
            0,
            Some(RejectReason::NasNotAllowed),
        ),
        (
            "NAS in the allowed list",
            |l| l.allowed_nas = vec!["core-1".into(), "edge-2".into()],
            "tajne-heslo",
            0,
            None,
        ),
        (
            "one session open, limit 1",
            |_| {},
            "tajne-heslo",
            1,
            Some(RejectReason::SimultaneousUse),
        ),
        (
            "two open, limit 3",
            |l| l.simultaneous_use = NonZeroU32::new(3),
            "tajne-heslo",
            2,
            None,
        ),
        (
            "three open, limit 3",
            |l| l.simultaneous_use = NonZeroU32::new(3),
            "tajne-heslo",
            3,
            Some(RejectReason::SimultaneousUse),
        ),
        (
            "no limit",
            |l| l.simultaneous_use = None,
            "tajne-heslo",
            1000,
            None,
        ),
        (
            // Ended outranks the session limit.
            "ended with a session open",
            |l| l.state = AccessState::Ended,
            "tajne-heslo",
            5,
            Some(RejectReason::Ended),
        ),
        (
            "walled garden still counts sessions",
            |l| l.state = AccessState::SuspendedForDebt,
            "tajne-heslo",
            1,
            Some(RejectReason::SimultaneousUse),
        ),
        (
            "empty stored password",
            |l| l.password.clear(),
            "",
            0,
            Some(RejectReason::BadCredential),
        ),
    ];
    for (name, edit, password, open, expected) in cases {
        let mut l = login();
        edit(&mut l);
        let decision = decide(Some(&l), &pap_request(password), &nas, *open, &config);
        assert_eq!(reason(&decision), *expected, "{name}");
    }
}

#[test]
fn unknown_user_and_bad_password_look_the_same() {
    let config = PolicyConfig::default();
    let unknown = decide(None, &pap_request("x"), &mikrotik(), 0, &config);
    let bad = decide(Some(&login()), &pap_request("x"), &mikrotik(), 0, &config);
    assert_eq!(reason(&unknown), Some(RejectReason::UnknownUser));
    assert_eq!(reason(&bad), Some(RejectReason::BadCredential));
    let message = |d: &Decision| match d {
        Decision::Reject { reply_message, .. } => reply_message.clone(),
        Decision::Accept { .. } => unreachable!(),
    };
    assert_eq!(message(&unknown), message(&bad));
    assert_eq!(message(&unknown), "Authentication failed");
}

#[test]
fn mac_logins() {
    let mac: MacAddress = "aa:bb:cc:dd:ee:ff".parse().unwrap();
    let mut l = login();
    l.auth_type = AuthType::Mac;
    l.mac = Some(mac);
    l.username = mac.to_string();
    l.password.clear();
    let config = PolicyConfig::default();
    let request = |credential, calling_station| AccessRequest {
        user_name: "aa:bb:cc:dd:ee:ff",
        credential,
        calling_station,
        at: EPOCH,
    };
    // DHCP / hotspot MAC auth: no password, or the MAC as password; the NAS saw the MAC.
    for credential in [
        Credential::None,
        Credential::Pap {
            password: b"aa:bb:cc:dd:ee:ff",
        },
        Credential::Pap { password: b"" },
    ] {
        let d = decide(
            Some(&l),
            &request(credential, Some(mac)),
            &mikrotik(),
            0,
            &config,
        );
        assert!(d.is_accept(), "{credential:?}: {d:?}");
    }
    // An MS-CHAPv2 or EAP peer on the device the MAC login is bound to: refused, since no
    // MS-CHAP2-Success or EAP answer can come back (found probing from outside: accepted,
    // the PPP credential never checked and the NAS left unable to finish).
    let response = ms_chap2_response(1, &[7; 16], &[9; 24]);
    for credential in [
        Credential::MsChapV2 {
            challenge: &[3; 16],
            response: &response,
        },
        Credential::Unsupported,
    ] {
        let d = decide(
            Some(&l),
            &request(credential, Some(mac)),
            &mikrotik(),
            0,
            &config,
        );
        assert_eq!(
            reason(&d),
            Some(RejectReason::BadCredential),
            "{credential:?}"
        );
    }
    // Someone typing the MAC login's name into a PPPoE client from another device.
    let other: MacAddress = "02:00:00:00:00:01".parse().unwrap();
    for calling_station in [Some(other), None] {
        let d = decide(
            Some(&l),
            &request(
                Credential::Pap {
                    password: b"anything",
                },
                calling_station,
            ),
            &mikrotik(),
            0,
            &config,
        );
        // The support desk reads the exact reason in the auth log; the device hears only
        // what a wrong password hears.
        assert_eq!(reason(&d), Some(RejectReason::MacMismatch));
        assert_eq!(
            RejectReason::MacMismatch.reply_message(),
            RejectReason::BadCredential.reply_message()
        );
    }
    // A MAC login without a bound MAC never authenticates.
    l.mac = None;
    let d = decide(
        Some(&l),
        &request(Credential::None, Some(mac)),
        &mikrotik(),
        0,
        &config,
    );
    assert_eq!(reason(&d), Some(RejectReason::MacMismatch));
    // And a PPP login is never authenticated by its MAC.
    let mut ppp = login();
    ppp.mac = Some(mac);
    let d = decide(
        Some(&ppp),
        &request(Credential::None, Some(mac)),
        &mikrotik(),
        0,
        &config,
    );
    assert_eq!(reason(&d), Some(RejectReason::BadCredential));
}

/// An extra naming an attribute ispd sends at most once takes its place (found probing from
/// outside: Session-Timeout, Framed-IP-Address and the rate went out twice); those a reply
/// may repeat stay beside ispd's.
#[test]
fn an_extra_replaces_the_attribute_of_its_name() {
    let mut l = login();
    l.ipv4 = Some(Ipv4Addr::new(192, 0, 2, 10));
    l.attributes = [
        "Session-Timeout=60",
        "Framed-IP-Address=10.1.1.1",
        "Mikrotik-Rate-Limit=1M/1M",
    ]
    .iter()
    .map(|a| {
        let (name, value) = a.split_once('=').unwrap();
        ExtraAttribute {
            name: name.into(),
            value: value.into(),
        }
    })
    .collect();
    let config = PolicyConfig {
        session_timeout: Some(86_400),
        ..PolicyConfig::default()
    };
    let Decision::Accept { attributes, .. } = decide(
        Some(&l),
        &pap_request("tajne-heslo"),
        &mikrotik(),
        0,
        &config,
    ) else {
        panic!("accepted");
    };
    let sent: Vec<&str> = attributes
        .iter()
        .filter_map(|a| match a {
            ReplyAttribute::Extra { name, .. } => Some(name.as_str()),
            other => other.single_name(),
        })
        .collect();
    for name in [
        "Session-Timeout",
        "Framed-IP-Address",
        "Mikrotik-Rate-Limit",
    ] {
        assert_eq!(
            sent.iter().filter(|n| **n == name).count(),
            1,
            "{name}: {attributes:?}"
        );
    }
    assert!(!attributes.contains(&ReplyAttribute::SessionTimeout(86_400)));
}

#[test]
fn accept_attributes_come_in_the_documented_order() {
    let mut l = login();
    l.ipv4 = Some(Ipv4Addr::new(192, 0, 2, 10));
    l.ipv6_prefix = Some("2001:db8:100::/56".parse().unwrap());
    l.burst = Some(Burst {
        rate: Rate {
            download_kbps: 60_000,
            upload_kbps: 12_000,
        },
        threshold: Rate {
            download_kbps: 40_000,
            upload_kbps: 8_000,
        },
        time_seconds: 16,
    });
    l.attributes = vec![ExtraAttribute {
        name: "Framed-Route".into(),
        value: "198.51.100.0/29 192.0.2.10 1".into(),
    }];
    let config = PolicyConfig {
        session_timeout: Some(86_400),
        idle_timeout: Some(600),
        ..PolicyConfig::default()
    };

    // MS-CHAPv2 from the RFC 2759 §9.2 exchange, for a login with that password.
    let v = vectors("rfc2759_9_2.txt");
    l.password = v["Password"].clone();
    let auth_challenge = hex(&v, "AuthenticatorChallenge");
    let response = ms_chap2_response(
        0x2a,
        &arr(&hex(&v, "PeerChallenge")),
        &arr(&hex(&v, "NT-Response")),
    );
    let request = AccessRequest {
        user_name: &v["UserName"],
        credential: Credential::MsChapV2 {
            challenge: &auth_challenge,
            response: &response,
        },
        calling_station: None,
        at: EPOCH,
    };
    let decision = decide(Some(&l), &request, &mikrotik(), 0, &config);
    let keys = vectors("rfc3079_3_5_3.txt");
    let mut success = vec![0x2a];
    success.extend_from_slice(v["AuthenticatorResponse"].as_bytes());
    assert_eq!(
        decision,
        Decision::Accept {
            state: AccessState::Active,
            attributes: vec![
                ReplyAttribute::FramedIpAddress(Ipv4Addr::new(192, 0, 2, 10)),
                ReplyAttribute::DelegatedIpv6Prefix("2001:db8:100::/56".parse().unwrap()),
                ReplyAttribute::SessionTimeout(86_400),
                ReplyAttribute::IdleTimeout(600),
                ReplyAttribute::AcctInterimInterval(300),
                ReplyAttribute::MikrotikRateLimit("10M/50M 12M/60M 8M/40M 16/16".into()),
                ReplyAttribute::Extra {
                    name: "Framed-Route".into(),
                    value: "198.51.100.0/29 192.0.2.10 1".into(),
                },
                ReplyAttribute::Class(class(42, EPOCH.utc)),
                ReplyAttribute::MsChap2Success(success),
                ReplyAttribute::MsMppeRecvKey(MppeKey(arr(&hex(&keys, "MasterReceiveKey128")))),
                ReplyAttribute::MsMppeSendKey(MppeKey(arr(&hex(&keys, "SendStartKey128")))),
                ReplyAttribute::MsMppeEncryptionPolicy(1),
                ReplyAttribute::MsMppeEncryptionTypes(6),
            ],
        }
    );
}

#[test]
fn pool_is_used_without_a_static_address() {
    let l = login();
    let Decision::Accept { attributes, .. } = decide(
        Some(&l),
        &pap_request("tajne-heslo"),
        &mikrotik(),
        0,
        &PolicyConfig::default(),
    ) else {
        panic!("accept expected");
    };
    assert_eq!(
        attributes,
        vec![
            ReplyAttribute::FramedPool("pool-fiber".into()),
            ReplyAttribute::AcctInterimInterval(300),
            ReplyAttribute::MikrotikRateLimit("10M/50M".into()),
            ReplyAttribute::Class(class(42, EPOCH.utc)),
        ]
    );
}

#[test]
fn walled_garden_replies_per_vendor() {
    let mut l = login();
    l.state = AccessState::SuspendedForDebt;
    l.ipv4 = Some(Ipv4Addr::new(192, 0, 2, 10));
    l.ipv6_prefix = Some("2001:db8:100::/56".parse().unwrap());
    l.attributes = vec![ExtraAttribute {
        name: "Mikrotik-Rate-Limit".into(),
        value: "1G/1G".into(),
    }];
    let accept = |vendor, config: &PolicyConfig| {
        let nas = NasContext {
            name: "core-1",
            vendor,
        };
        match decide(Some(&l), &pap_request("tajne-heslo"), &nas, 0, config) {
            Decision::Accept { attributes, state } => {
                assert_eq!(state, AccessState::SuspendedForDebt);
                attributes
            }
            d => panic!("{d:?}"),
        }
    };

    // Default garden on MikroTik: usual static address (the list marks it), garden speed,
    // the address list, no IPv6, no per-login extras.
    let config = PolicyConfig::default();
    assert_eq!(
        accept(NasVendor::Mikrotik, &config),
        vec![
            ReplyAttribute::FramedIpAddress(Ipv4Addr::new(192, 0, 2, 10)),
            ReplyAttribute::AcctInterimInterval(300),
            ReplyAttribute::MikrotikRateLimit("256k/256k".into()),
            ReplyAttribute::MikrotikAddressList("ispd-suspended".into()),
            ReplyAttribute::Class(class(42, EPOCH.utc)),
        ]
    );

    // A garden pool replaces the static address; accel-ppp gets no address list.
    let config = PolicyConfig {
        suspended_for_debt: Restricted::WalledGarden(WalledGarden {
            address_list: "dluznici".into(),
            framed_pool: Some("pool-garden".into()),
            rate: Rate {
                download_kbps: 512,
                upload_kbps: 128,
            },
        }),
        ..PolicyConfig::default()
    };
    assert_eq!(
        accept(NasVendor::AccelPpp, &config),
        vec![
            ReplyAttribute::FramedPool("pool-garden".into()),
            ReplyAttribute::AcctInterimInterval(300),
            ReplyAttribute::FilterId("512/128".into()),
            ReplyAttribute::Class(class(42, EPOCH.utc)),
        ]
    );
    assert_eq!(
        accept(NasVendor::Mikrotik, &config),
        vec![
            ReplyAttribute::FramedPool("pool-garden".into()),
            ReplyAttribute::AcctInterimInterval(300),
            ReplyAttribute::MikrotikRateLimit("128k/512k".into()),
            ReplyAttribute::MikrotikAddressList("dluznici".into()),
            ReplyAttribute::Class(class(42, EPOCH.utc)),
        ]
    );
}

#[test]
fn mschapv2_rejects_carry_ms_chap_error() {
    let v = vectors("rfc2759_9_2.txt");
    let auth_challenge = hex(&v, "AuthenticatorChallenge");
    let response = ms_chap2_response(
        0x2a,
        &arr(&hex(&v, "PeerChallenge")),
        &arr(&hex(&v, "NT-Response")),
    );
    let request = AccessRequest {
        user_name: &v["UserName"],
        credential: Credential::MsChapV2 {
            challenge: &auth_challenge,
            response: &response,
        },
        calling_station: None,
        at: EPOCH,
    };
    let error_text = |d: &Decision| match d {
        Decision::Reject { attributes, .. } => match &attributes[..] {
            [ReplyAttribute::MsChapError(value)] => {
                assert_eq!(value[0], 0x2a, "echoes the response's ident");
                String::from_utf8(value[1..].to_vec()).unwrap()
            }
            other => panic!("{other:?}"),
        },
        Decision::Accept { .. } => panic!("reject expected"),
    };
    let config = PolicyConfig::default();
    let mut l = login();
    // Wrong password: 691.
    let d = decide(Some(&l), &request, &mikrotik(), 0, &config);
    assert_eq!(
        error_text(&d),
        "E=691 R=0 C=5B5D7C7D7B3F2F3E3C2C602132262628 V=3 M=Authentication failed"
    );
    // Right password, disabled account: 647.
    l.password = v["Password"].clone();
    l.disabled = true;
    let d = decide(Some(&l), &request, &mikrotik(), 0, &config);
    assert!(error_text(&d).starts_with("E=647 R=0 "));
    // Right password, suspended and configured to reject: 649 with the debt message.
    l.disabled = false;
    l.state = AccessState::SuspendedForDebt;
    let config = PolicyConfig {
        suspended_for_debt: Restricted::Reject,
        ..PolicyConfig::default()
    };
    let d = decide(Some(&l), &request, &mikrotik(), 0, &config);
    assert!(error_text(&d).starts_with("E=649 R=0 "));
    assert!(error_text(&d).ends_with("M=Service suspended for unpaid invoices"));
    // Unknown user: 691, indistinguishable from a wrong password.
    let d = decide(None, &request, &mikrotik(), 0, &config);
    assert!(error_text(&d).starts_with("E=691 "));
}

#[test]
fn verify_password_returns_the_mschapv2_proof() {
    let v = vectors("rfc2759_9_2.txt");
    let auth_challenge = hex(&v, "AuthenticatorChallenge");
    let response = ms_chap2_response(
        7,
        &arr(&hex(&v, "PeerChallenge")),
        &arr(&hex(&v, "NT-Response")),
    );
    let credential = Credential::MsChapV2 {
        challenge: &auth_challenge,
        response: &response,
    };
    match auth::verify_password(&credential, &v["UserName"], &v["Password"]) {
        Some(Proof::MsChapV2(success)) => assert_eq!(success.ident, 7),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        auth::verify_password(&credential, &v["UserName"], "x"),
        None
    );
}

#[test]
fn the_password_never_reaches_debug_output() {
    let l = login();
    let text = format!("{l:?}");
    assert!(!text.contains("tajne-heslo"), "{text}");
    assert!(text.contains("<redacted>"));
    let decision = decide(
        Some(&l),
        &pap_request("tajne-heslo"),
        &mikrotik(),
        1,
        &PolicyConfig::default(),
    );
    assert!(!format!("{decision:?}").contains("tajne-heslo"));
    assert!(!format!("{:?}", pap_request("tajne-heslo")).contains("tajne-heslo"));
}

#[test]
fn ipv6_prefix_attribute_by_length() {
    let cases = [
        ("2001:db8::/32", false),
        ("2001:db8:100::/48", false),
        ("2001:db8:100::/56", false),
        ("2001:db8:100:10::/60", false),
        ("2001:db8:100:1::/64", true),
        ("2001:db8:100:1::/80", true),
        ("2001:db8:100:1::1/128", true),
    ];
    for (text, framed) in cases {
        let prefix = text.parse().unwrap();
        let expected = if framed {
            ReplyAttribute::FramedIpv6Prefix(prefix)
        } else {
            ReplyAttribute::DelegatedIpv6Prefix(prefix)
        };
        assert_eq!(ipv6_attribute(prefix), expected, "{text}");
    }
}

#[test]
fn class_round_trips() {
    let at = chrono::DateTime::from_timestamp_millis(1_796_000_000_123).unwrap();
    assert_eq!(class(42, at), b"ispd:42:1796000000123");
    let tag = |login_id, accepted_at| {
        Some(ClassTag {
            login_id,
            accepted_at,
        })
    };
    assert_eq!(parse_class(&class(42, at)), tag(42, Some(at)));
    assert_eq!(parse_class(&class(i64::MAX, at)), tag(i64::MAX, Some(at)));
    // Sessions accepted by an older ispd still name their login.
    assert_eq!(parse_class(b"ispd:42"), tag(42, None));
    for foreign in [
        &b"ispd:+42"[..],
        b"other:42",
        b"ispd:",
        b"ispd:42:",
        b"ispd:42:-5",
        b"ispd:42:1:2",
        b"ispd:x:1",
        &[0xff, 0xfe],
    ] {
        assert_eq!(parse_class(foreign), None, "{foreign:?}");
    }
}

#[test]
fn reject_reason_labels_are_distinct() {
    let reasons = RejectReason::ALL;
    let labels: std::collections::HashSet<_> = reasons.iter().map(|r| r.as_str()).collect();
    assert_eq!(labels.len(), reasons.len());
    for r in reasons {
        assert_eq!(r.to_string(), r.as_str());
        assert!(!r.reply_message().is_empty());
    }
}

// ---------------------------------------------------------------------------------------------
// Rate rendering

fn rate(download_kbps: u64, upload_kbps: u64) -> Rate {
    Rate {
        download_kbps,
        upload_kbps,
    }
}

#[test]
fn mikrotik_rate_limit_is_upload_first() {
    // Tariff: 50 Mbit/s down, 10 up; burst 60/12 M, threshold 40/8 M, 16 s. MikroTik's
    // rx/tx are the router's view: rx = the subscriber's upload.
    let burst = Burst {
        rate: rate(60_000, 12_000),
        threshold: rate(40_000, 8_000),
        time_seconds: 16,
    };
    assert_eq!(
        mikrotik_rate_limit(rate(50_000, 10_000), Some(&burst)),
        "10M/50M 12M/60M 8M/40M 16/16"
    );
    // The direction trap: an asymmetric tariff must not come out swapped.
    assert_eq!(
        mikrotik_rate_limit(rate(100_000, 1_500), None),
        "1500k/100M"
    );
    assert_ne!(
        mikrotik_rate_limit(rate(100_000, 1_500), None),
        "100M/1500k"
    );
}

#[test]
fn mikrotik_suffixes() {
    let cases = [
        (0, "0"),
        (1, "1k"),
        (256, "256k"),
        (999, "999k"),
        (1_000, "1M"),
        (1_500, "1500k"),
        (2_048, "2048k"),
        (10_000, "10M"),
        (100_000, "100M"),
        (100_500, "100500k"),
        (1_000_000, "1000M"),
        (100_000_000, "100000M"),
    ];
    for (kbps, text) in cases {
        assert_eq!(mikrotik_speed(kbps), text, "{kbps} kbit/s");
    }
}

#[test]
fn accel_ppp_is_download_first_in_kbits() {
    assert_eq!(accel_ppp_filter_id(rate(50_000, 10_000)), "50000/10000");
    assert_eq!(accel_ppp_filter_id(rate(1_500, 256)), "1500/256");
}

#[test]
fn cisco_forms() {
    assert_eq!(
        cisco_av_pairs(rate(50_000, 10_000), CiscoShaping::PolicyNames),
        [
            "ip:sub-qos-policy-in=ispd-10000k",
            "ip:sub-qos-policy-out=ispd-50000k",
        ]
    );
    assert_eq!(
        cisco_av_pairs(rate(50_000, 10_000), CiscoShaping::RateLimit),
        [
            "lcp:interface-config#1=rate-limit input 10000000 1875000 3750000 \
             conform-action transmit exceed-action drop",
            "lcp:interface-config#2=rate-limit output 50000000 9375000 18750000 \
             conform-action transmit exceed-action drop",
        ]
    );
    // IOS CAR's steps and ranges (found probing from outside: 1,500,000 and 10 Gbit/s were
    // sent as they are): down to a step of 8 kbit/s, at most 2 Gbit/s, bursts in range.
    assert_eq!(
        cisco_av_pairs(rate(10_000_000, 1_500), CiscoShaping::RateLimit),
        [
            "lcp:interface-config#1=rate-limit input 1496000 280500 561000 \
             conform-action transmit exceed-action drop",
            "lcp:interface-config#2=rate-limit output 2000000000 375000000 750000000 \
             conform-action transmit exceed-action drop",
        ]
    );
}

#[test]
fn wispr_is_bits_per_second_and_saturates() {
    assert_eq!(
        wispr(rate(50_000, 10_000)),
        [
            ReplyAttribute::WisprBandwidthMaxUp(10_000_000),
            ReplyAttribute::WisprBandwidthMaxDown(50_000_000),
        ]
    );
    assert_eq!(
        wispr(rate(10_000_000, 4_294_967)),
        [
            ReplyAttribute::WisprBandwidthMaxUp(4_294_967_000),
            ReplyAttribute::WisprBandwidthMaxDown(u32::MAX),
        ]
    );
}

#[test]
fn rate_attributes_per_vendor() {
    let r = rate(50_000, 10_000);
    let burst = Burst {
        rate: rate(60_000, 12_000),
        threshold: rate(40_000, 8_000),
        time_seconds: 16,
    };
    let cases: Vec<(NasVendor, Vec<ReplyAttribute>)> = vec![
        (
            NasVendor::Mikrotik,
            vec![ReplyAttribute::MikrotikRateLimit(
                "10M/50M 12M/60M 8M/40M 16/16".into(),
            )],
        ),
        (
            NasVendor::AccelPpp,
            vec![ReplyAttribute::FilterId("50000/10000".into())],
        ),
        (
            NasVendor::Cisco,
            vec![
                ReplyAttribute::CiscoAvPair("ip:sub-qos-policy-in=ispd-10000k".into()),
                ReplyAttribute::CiscoAvPair("ip:sub-qos-policy-out=ispd-50000k".into()),
            ],
        ),
        (
            NasVendor::Generic,
            vec![
                ReplyAttribute::WisprBandwidthMaxUp(10_000_000),
                ReplyAttribute::WisprBandwidthMaxDown(50_000_000),
            ],
        ),
        (
            NasVendor::Juniper,
            vec![ReplyAttribute::ErxServiceActivate {
                tag: 1,
                value: "ispd-rate(50000k,10000k)".into(),
            }],
        ),
    ];
    assert_eq!(cases.len(), NasVendor::ALL.len(), "every vendor pinned");
    let service = Some("ispd-rate");
    for (vendor, expected) in cases {
        assert_eq!(
            rate_attributes(vendor, r, Some(&burst), CiscoShaping::PolicyNames, service),
            expected,
            "{vendor:?}"
        );
        // Zero both ways is "unlimited": nothing for any vendor.
        assert!(
            rate_attributes(
                vendor,
                Rate::default(),
                None,
                CiscoShaping::RateLimit,
                service
            )
            .is_empty()
        );
    }
    // Without a configured service profile Juniper gets no rate: a guessed name would fail
    // silently on the router.
    let none = rate_attributes(NasVendor::Juniper, r, None, CiscoShaping::PolicyNames, None);
    assert!(none.is_empty());
    // One direction unlimited: Junos has no unlimited shaping rate, so the largest a tariff
    // may have.
    let down_only = Rate {
        download_kbps: 50_000,
        upload_kbps: 0,
    };
    assert_eq!(
        ispd_provisioning::rate::juniper_service("svc", down_only),
        "svc(50000k,100000000k)"
    );
}

/// RFC 2865 §5.2/§5.3: one credential per request. Every combination of the four proof
/// attributes, with and without an MS-CHAP-Challenge: exactly one kind is that method,
/// two or more are never checked at all.
#[test]
fn credential_selection_table() {
    use auth::ProofAttributes;
    let challenge = [0x5Bu8; 16];
    // Kinds present (a bit each), with or without MS-CHAP-Challenge, and with a credential
    // attribute repeated (two User-Passwords are two credentials, whichever came first).
    for mask in 0u8..32 {
        for with_ms_challenge in [false, true] {
            let attrs = ProofAttributes {
                user_password: (mask & 1 != 0).then_some(&b"arctangent"[..]),
                chap_password: (mask & 2 != 0).then_some(&[7u8; 17][..]),
                chap_challenge: &challenge,
                ms_chap_challenge: with_ms_challenge.then_some(&challenge[..]),
                ms_chap2_response: (mask & 4 != 0).then_some(&[1u8; 50][..]),
                eap_message: mask & 8 != 0,
                repeated: mask & 16 != 0,
            };
            // An EAP-Message alone, or an MS-CHAP2-Response without its challenge, is a
            // proof ispd does not check: never taken for no proof at all (a MAC login's).
            let expected = match mask {
                0 => "none",
                1 => "pap",
                2 => "chap",
                4 if with_ms_challenge => "mschapv2",
                4 | 8 => "unsupported",
                _ => "conflicting",
            };
            assert_eq!(
                attrs.credential().method(),
                expected,
                "kinds {mask:05b}, MS-CHAP-Challenge {with_ms_challenge}"
            );
        }
    }
}

#[test]
fn two_credentials_are_rejected_before_anything_else() {
    let config = PolicyConfig::default();
    let request = AccessRequest {
        user_name: "novak",
        credential: Credential::Conflicting,
        calling_station: None,
        at: EPOCH,
    };
    // The right password would verify, and even a MAC login that needs none is refused.
    let mac: MacAddress = "aa:bb:cc:dd:ee:ff".parse().unwrap();
    let mut mac_login = login();
    mac_login.auth_type = AuthType::Mac;
    mac_login.mac = Some(mac);
    for (name, l, calling_station) in [
        ("password login", Some(login()), None),
        ("MAC login", Some(mac_login), Some(mac)),
        ("unknown user", None, None),
    ] {
        let request = AccessRequest {
            calling_station,
            ..request
        };
        let d = decide(l.as_ref(), &request, &mikrotik(), 0, &config);
        assert_eq!(
            reason(&d),
            Some(RejectReason::MultipleCredentials),
            "{name}"
        );
    }
    assert_eq!(
        RejectReason::MultipleCredentials.as_str(),
        "multiple_credentials"
    );
    assert_eq!(
        RejectReason::MultipleCredentials.reply_message(),
        "Authentication failed"
    );
}

#[test]
fn what_a_login_has_now() {
    let garden = WalledGarden::default().rate;
    let rejecting = PolicyConfig {
        paused: Restricted::Reject,
        ..PolicyConfig::default()
    };
    let tariff = login().rate;
    let temporary = Rate {
        download_kbps: 100_000,
        upload_kbps: 100_000,
    };
    type Edit = fn(&mut LoginAccess);
    let cases: &[(&str, Edit, &PolicyConfig, InForce)] = &[
        (
            "active: the tariff",
            |_| {},
            &PolicyConfig::default(),
            InForce::Full(tariff),
        ),
        (
            "a temporary speed outranks the tariff",
            |l| {
                l.temporary = Some(ispd_provisioning::speed::TemporarySpeed {
                    rate: Rate {
                        download_kbps: 100_000,
                        upload_kbps: 100_000,
                    },
                    until: chrono::DateTime::<chrono::Utc>::MAX_UTC,
                })
            },
            &PolicyConfig::default(),
            InForce::Full(temporary),
        ),
        (
            "suspended: the walled garden",
            |l| l.state = AccessState::SuspendedForDebt,
            &PolicyConfig::default(),
            InForce::WalledGarden(garden),
        ),
        (
            "paused where paused rejects",
            |l| l.state = AccessState::Paused,
            &rejecting,
            InForce::Refused(RejectReason::Restricted(AccessState::Paused)),
        ),
        (
            "disabled, whatever its state",
            |l| {
                l.disabled = true;
                l.state = AccessState::SuspendedForDebt;
            },
            &PolicyConfig::default(),
            InForce::Refused(RejectReason::Disabled),
        ),
        (
            "ended",
            |l| l.state = AccessState::Ended,
            &PolicyConfig::default(),
            InForce::Refused(RejectReason::Ended),
        ),
    ];
    for (name, edit, config, expected) in cases {
        let mut l = login();
        edit(&mut l);
        assert_eq!(in_force(&l, config, &EPOCH), *expected, "{name}");
    }
}

//! MS-CHAPv2 (RFC 2759) verified by a RADIUS server (RFC 2548), and the MPPE master keys the
//! NAS needs afterwards (RFC 3079 §3.3-§3.4).
//!
//! The NAS relays the exchange: MS-CHAP-Challenge is the 16-byte authenticator challenge it
//! sent, MS-CHAP2-Response is `Ident(1) Flags(1) Peer-Challenge(16) Reserved(8) Response(24)`
//! (RFC 2548 §2.3.2). On success the server answers with MS-CHAP2-Success, `Ident` followed by
//! the 42-byte `S=<40 hex>` authenticator response (RFC 2548 §2.3.3, RFC 2759 §5), so that
//! the peer can check the server knew the password too, and with MS-MPPE-Send-Key /
//! MS-MPPE-Recv-Key (RFC 2548 §2.4.2-§2.4.3) so the NAS can encrypt the link.

use des::Des;
use des::cipher::generic_array::GenericArray;
use des::cipher::{BlockEncrypt, KeyInit};
use md4::Md4;
use sha1::{Digest, Sha1};

use super::constant_time_eq;

/// Length of the MS-CHAP2-Response value (RFC 2548 §2.3.2).
pub const RESPONSE_LEN: usize = 50;
/// Length of the MS-CHAP-Challenge value for MS-CHAPv2 (RFC 2548 §2.3.2).
pub const CHALLENGE_LEN: usize = 16;

/// RFC 2759 §8.7 Magic1: "Magic server to client signing constant".
const MAGIC1: &[u8; 39] = b"Magic server to client signing constant";
/// RFC 2759 §8.7 Magic2: "Pad to make it do more than one iteration".
const MAGIC2: &[u8; 41] = b"Pad to make it do more than one iteration";
/// RFC 3079 §3.4 Magic1 of GetMasterKey.
const MPPE_MASTER_MAGIC: &[u8; 27] = b"This is the MPPE Master Key";
/// RFC 3079 §3.4 Magic2: the server's *receive* key (and the client's send key).
const MPPE_MAGIC2: &[u8; 84] =
    b"On the client side, this is the send key; on the server side, it is the receive key.";
/// RFC 3079 §3.4 Magic3: the server's *send* key (and the client's receive key).
const MPPE_MAGIC3: &[u8; 84] =
    b"On the client side, this is the receive key; on the server side, it is the send key.";
/// RFC 3079 §3.4 SHSpad1 and SHSpad2.
const SHS_PAD1: [u8; 40] = [0x00; 40];
const SHS_PAD2: [u8; 40] = [0xf2; 40];

/// The MS-CHAP2-Response attribute, split into its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response {
    /// Copied from the PPP packet; the success and error replies must echo it.
    pub ident: u8,
    pub flags: u8,
    pub peer_challenge: [u8; 16],
    pub nt_response: [u8; 24],
}

impl Response {
    /// Splits a 50-byte MS-CHAP2-Response. Flags and the reserved octets are not checked:
    /// RFC 2759 §4 says they are zero, but rejecting a peer over padding gains nothing.
    pub fn parse(value: &[u8]) -> Option<Response> {
        let value: &[u8; RESPONSE_LEN] = value.try_into().ok()?;
        Some(Response {
            ident: value[0],
            flags: value[1],
            peer_challenge: value[2..18].try_into().ok()?,
            nt_response: value[26..50].try_into().ok()?,
        })
    }
}

/// Why an MS-CHAPv2 response was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("MS-CHAP-Challenge is not 16 bytes")]
    BadChallenge,
    #[error("MS-CHAP2-Response is not 50 bytes")]
    BadResponse,
    /// The NT-Response does not match the password. Carries the ident for MS-CHAP-Error.
    #[error("NT-Response does not match")]
    Mismatch { ident: u8 },
}

impl Error {
    /// The PPP identifier to echo in an MS-CHAP-Error, when the response could be read.
    pub fn ident(&self) -> Option<u8> {
        match self {
            Error::Mismatch { ident } => Some(*ident),
            _ => None,
        }
    }
}

/// The MPPE master keys from the server's (authenticator's) point of view: `send` encrypts
/// what the NAS sends to the peer, `recv` decrypts what it receives. They go out unencrypted
/// here; the codec salts and hides them with the shared secret (RFC 2548 §2.4.2).
#[derive(Clone, PartialEq, Eq)]
pub struct MppeKeys {
    pub send: [u8; 16],
    pub recv: [u8; 16],
}

/// Key material stays out of logs.
impl std::fmt::Debug for MppeKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MppeKeys { .. }")
    }
}

/// What a verified MS-CHAPv2 exchange contributes to the Access-Accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Success {
    pub ident: u8,
    /// `S=` and 40 upper-case hex digits (RFC 2759 §8.7).
    pub authenticator_response: String,
    pub mppe: MppeKeys,
}

impl Success {
    /// The MS-CHAP2-Success attribute value: Ident then the 42-byte authenticator response.
    pub fn attribute_value(&self) -> Vec<u8> {
        let mut value = Vec::with_capacity(43);
        value.push(self.ident);
        value.extend_from_slice(self.authenticator_response.as_bytes());
        value
    }
}

/// Verifies an MS-CHAPv2 response for `user_name` (as the peer presented it) and `password`.
pub fn verify(
    authenticator_challenge: &[u8],
    response: &[u8],
    user_name: &str,
    password: &str,
) -> Result<Success, Error> {
    let authenticator_challenge: &[u8; CHALLENGE_LEN] = authenticator_challenge
        .try_into()
        .map_err(|_| Error::BadChallenge)?;
    let response = Response::parse(response).ok_or(Error::BadResponse)?;
    let password_hash = nt_password_hash(password);
    let challenge = challenge_hash(&response.peer_challenge, authenticator_challenge, user_name);
    let expected = challenge_response(&challenge, &password_hash);
    if password.is_empty() || !constant_time_eq(&expected, &response.nt_response) {
        return Err(Error::Mismatch {
            ident: response.ident,
        });
    }
    let password_hash_hash = hash_nt_password_hash(&password_hash);
    let master = master_key(&password_hash_hash, &response.nt_response);
    Ok(Success {
        ident: response.ident,
        authenticator_response: authenticator_response(
            &password_hash_hash,
            &response.nt_response,
            &challenge,
        ),
        mppe: MppeKeys {
            send: asymmetric_start_key(&master, true, true),
            recv: asymmetric_start_key(&master, false, true),
        },
    })
}

/// The user name that enters ChallengeHash: RFC 2759 §8.2 uses it "excluding any prepended
/// domain name", so `DOMAIN\user` hashes as `user`. Realms written `user@realm` are part of
/// the name the peer typed and stay.
pub fn challenge_user_name(user_name: &str) -> &str {
    user_name
        .split_once('\\')
        .map_or(user_name, |(_domain, user)| user)
}

/// RFC 2759 §8.2 ChallengeHash: the first 8 bytes of
/// `SHA1(PeerChallenge || AuthenticatorChallenge || UserName)`.
pub fn challenge_hash(
    peer_challenge: &[u8; 16],
    authenticator_challenge: &[u8; 16],
    user_name: &str,
) -> [u8; 8] {
    let mut sha = Sha1::new();
    sha.update(peer_challenge);
    sha.update(authenticator_challenge);
    sha.update(challenge_user_name(user_name).as_bytes());
    let digest = sha.finalize();
    let mut challenge = [0u8; 8];
    challenge.copy_from_slice(&digest[..8]);
    challenge
}

/// RFC 2759 §8.3 NtPasswordHash: MD4 of the password in UTF-16LE, no terminator.
pub fn nt_password_hash(password: &str) -> [u8; 16] {
    let mut md4 = Md4::new();
    for unit in password.encode_utf16() {
        md4.update(unit.to_le_bytes());
    }
    md4.finalize().into()
}

/// RFC 2759 §8.4 HashNtPasswordHash: MD4 of the password hash.
pub fn hash_nt_password_hash(password_hash: &[u8; 16]) -> [u8; 16] {
    Md4::digest(password_hash).into()
}

/// RFC 2759 §8.5 ChallengeResponse: the challenge DES-encrypted under three 7-byte slices of
/// the zero-padded password hash.
pub fn challenge_response(challenge: &[u8; 8], password_hash: &[u8; 16]) -> [u8; 24] {
    let mut z = [0u8; 21];
    z[..16].copy_from_slice(password_hash);
    let mut response = [0u8; 24];
    for (out, key) in response.chunks_exact_mut(8).zip(z.chunks_exact(7)) {
        #[allow(clippy::expect_used, reason = "chunks_exact(7) yields 7 bytes")]
        let key: &[u8; 7] = key.try_into().expect("chunks_exact(7)");
        out.copy_from_slice(&des_encrypt(challenge, key));
    }
    response
}

/// RFC 2759 §8.5 GenerateNTResponse, the peer's side: what a client with `password` sends.
pub fn generate_nt_response(
    authenticator_challenge: &[u8; 16],
    peer_challenge: &[u8; 16],
    user_name: &str,
    password: &str,
) -> [u8; 24] {
    let challenge = challenge_hash(peer_challenge, authenticator_challenge, user_name);
    challenge_response(&challenge, &nt_password_hash(password))
}

/// RFC 2759 §8.6 DesEncrypt: DES-ECB with a 56-bit key spread over 8 bytes (parity bits set
/// odd, as RFC 2759 §9.3 shows; DES ignores them either way).
fn des_encrypt(clear: &[u8; 8], key: &[u8; 7]) -> [u8; 8] {
    let cipher = Des::new(GenericArray::from_slice(&des_key(key)));
    let mut block = GenericArray::clone_from_slice(clear);
    cipher.encrypt_block(&mut block);
    block.into()
}

/// Spreads 56 key bits over 8 bytes, 7 bits each in the high bits, low bit odd parity.
pub fn des_key(key: &[u8; 7]) -> [u8; 8] {
    let mut bits = [0u8; 8];
    bits[1..].copy_from_slice(key);
    let bits = u64::from_be_bytes(bits);
    let mut out = [0u8; 8];
    for (i, byte) in out.iter_mut().enumerate() {
        let seven = ((bits >> (49 - 7 * i)) & 0x7f) as u8;
        let high = seven << 1;
        *byte = high | u8::from(high.count_ones().is_multiple_of(2));
    }
    out
}

/// RFC 2759 §8.7 GenerateAuthenticatorResponse, from the password hash hash and the already
/// computed ChallengeHash.
pub fn authenticator_response(
    password_hash_hash: &[u8; 16],
    nt_response: &[u8; 24],
    challenge: &[u8; 8],
) -> String {
    let mut sha = Sha1::new();
    sha.update(password_hash_hash);
    sha.update(nt_response);
    sha.update(MAGIC1);
    let digest = sha.finalize();
    let mut sha = Sha1::new();
    sha.update(digest);
    sha.update(challenge);
    sha.update(MAGIC2);
    let digest = sha.finalize();
    let mut text = String::with_capacity(42);
    text.push_str("S=");
    for byte in digest {
        text.push_str(&format!("{byte:02X}"));
    }
    text
}

/// RFC 3079 §3.4 GetMasterKey.
pub fn master_key(password_hash_hash: &[u8; 16], nt_response: &[u8; 24]) -> [u8; 16] {
    let mut sha = Sha1::new();
    sha.update(password_hash_hash);
    sha.update(nt_response);
    sha.update(MPPE_MASTER_MAGIC);
    let digest = sha.finalize();
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

/// RFC 3079 §3.4 GetAsymmetricStartKey for 128-bit keys (SessionKeyLength 16).
///
/// The magic string depends on both flags: Magic3 for (send, server) and (receive, client),
/// Magic2 for the other two, so a server's send key is the client's receive key. RFC 3079
/// §3.3 has the authenticator call it with `IsServer = TRUE` for both keys. A 40- or 56-bit
/// key is a prefix of this one (reduced later by the NAS), so 16 bytes serve every strength.
pub fn asymmetric_start_key(master_key: &[u8; 16], is_send: bool, is_server: bool) -> [u8; 16] {
    let magic = if is_send == is_server {
        MPPE_MAGIC3
    } else {
        MPPE_MAGIC2
    };
    let mut sha = Sha1::new();
    sha.update(master_key);
    sha.update(SHS_PAD1);
    sha.update(magic);
    sha.update(SHS_PAD2);
    let digest = sha.finalize();
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

/// RFC 2759 §6 failure codes that the MS-CHAP-Error value can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureCode {
    /// 646 ERROR_RESTRICTED_LOGON_HOURS
    RestrictedLogonHours = 646,
    /// 647 ERROR_ACCT_DISABLED
    AccountDisabled = 647,
    /// 648 ERROR_PASSWD_EXPIRED
    PasswordExpired = 648,
    /// 649 ERROR_NO_DIALIN_PERMISSION
    NoDialinPermission = 649,
    /// 691 ERROR_AUTHENTICATION_FAILURE
    AuthenticationFailure = 691,
}

/// The MS-CHAP-Error attribute value (RFC 2548 §2.1.5): Ident then the RFC 2759 §6 failure
/// text `E=<code> R=0 C=<32 hex> V=3 M=<message>`.
///
/// `R=0` because ispd never offers a retry within the same exchange (the NAS would have to
/// send a new Access-Request anyway). `C=` is required by the format even without a retry;
/// callers pass the exchange's authenticator challenge or fresh random bytes.
pub fn error_value(ident: u8, code: FailureCode, challenge: &[u8; 16], message: &str) -> Vec<u8> {
    let mut hex = String::with_capacity(32);
    for byte in challenge {
        hex.push_str(&format!("{byte:02X}"));
    }
    let text = format!("E={} R=0 C={hex} V=3 M={message}", code as u16);
    let mut value = Vec::with_capacity(1 + text.len());
    value.push(ident);
    value.extend_from_slice(text.as_bytes());
    value
}

/// The usual reject: error 691 with the text Windows and pppd show.
pub fn authentication_failed(ident: u8, challenge: &[u8; 16]) -> Vec<u8> {
    error_value(
        ident,
        FailureCode::AuthenticationFailure,
        challenge,
        "Authentication failed",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response_value(ident: u8, peer: &[u8; 16], nt: &[u8; 24]) -> Vec<u8> {
        let mut v = vec![ident, 0];
        v.extend_from_slice(peer);
        v.extend_from_slice(&[0; 8]);
        v.extend_from_slice(nt);
        v
    }

    #[test]
    fn round_trip_with_the_peer_side() {
        let auth = [0x11; 16];
        let peer = [0x22; 16];
        let nt = generate_nt_response(&auth, &peer, "novak", "heslo123");
        let success = verify(&auth, &response_value(7, &peer, &nt), "novak", "heslo123").unwrap();
        assert_eq!(success.ident, 7);
        assert_eq!(success.authenticator_response.len(), 42);
        assert_eq!(success.attribute_value().len(), 43);
        assert_ne!(success.mppe.send, success.mppe.recv);
        assert_eq!(
            verify(&auth, &response_value(7, &peer, &nt), "novak", "heslo124"),
            Err(Error::Mismatch { ident: 7 })
        );
        assert_eq!(
            verify(
                &auth[..15],
                &response_value(7, &peer, &nt),
                "novak",
                "heslo123"
            ),
            Err(Error::BadChallenge)
        );
        assert_eq!(
            verify(
                &auth,
                &response_value(7, &peer, &nt)[..49],
                "novak",
                "heslo123"
            ),
            Err(Error::BadResponse)
        );
    }

    #[test]
    fn the_domain_is_not_hashed() {
        assert_eq!(challenge_user_name(r"CORP\novak"), "novak");
        assert_eq!(challenge_user_name("novak@isp.cz"), "novak@isp.cz");
        assert_eq!(challenge_user_name("novak"), "novak");
        let auth = [0x33; 16];
        let peer = [0x44; 16];
        // The peer hashes only "novak"; the NAS forwards "CORP\novak" as User-Name.
        let nt = generate_nt_response(&auth, &peer, "novak", "pw");
        assert!(verify(&auth, &response_value(1, &peer, &nt), r"CORP\novak", "pw").is_ok());
    }

    #[test]
    fn server_send_key_is_client_receive_key() {
        let master = [0x5a; 16];
        assert_eq!(
            asymmetric_start_key(&master, true, true),
            asymmetric_start_key(&master, false, false)
        );
        assert_eq!(
            asymmetric_start_key(&master, false, true),
            asymmetric_start_key(&master, true, false)
        );
    }

    #[test]
    fn error_text() {
        let value = authentication_failed(9, &[0xab; 16]);
        assert_eq!(value[0], 9);
        assert_eq!(
            std::str::from_utf8(&value[1..]).unwrap(),
            "E=691 R=0 C=ABABABABABABABABABABABABABABABAB V=3 M=Authentication failed"
        );
    }

    #[test]
    fn keys_stay_out_of_debug() {
        let keys = MppeKeys {
            send: [1; 16],
            recv: [2; 16],
        };
        assert_eq!(format!("{keys:?}"), "MppeKeys { .. }");
    }
}

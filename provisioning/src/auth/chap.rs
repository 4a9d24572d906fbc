//! CHAP-MD5 (RFC 1994 §4.1) as RADIUS carries it (RFC 2865 §5.3, §2.2).
//!
//! The NAS forwards the peer's answer in CHAP-Password: one byte CHAP Identifier followed by
//! the 16-byte MD5 response. The challenge is CHAP-Challenge, or the Request Authenticator when
//! the NAS used that as the challenge and sent no CHAP-Challenge.

use md5::{Digest, Md5};

use super::constant_time_eq;

/// Length of the CHAP-Password value: identifier + MD5 digest.
pub const CHAP_PASSWORD_LEN: usize = 17;

/// `MD5(ident || password || challenge)`, the response a peer that knows `password` sends.
pub fn response(ident: u8, password: &[u8], challenge: &[u8]) -> [u8; 16] {
    let mut md5 = Md5::new();
    md5.update([ident]);
    md5.update(password);
    md5.update(challenge);
    md5.finalize().into()
}

/// True when `chap_password` (the 17-byte attribute value) answers `challenge` with `password`.
///
/// A wrong-length value or an empty challenge is refused outright: without a challenge the
/// response is a replayable function of the password alone.
pub fn verify(chap_password: &[u8], challenge: &[u8], password: &[u8]) -> bool {
    let [ident, presented @ ..] = chap_password else {
        return false;
    };
    if chap_password.len() != CHAP_PASSWORD_LEN || challenge.is_empty() || password.is_empty() {
        return false;
    }
    constant_time_eq(&response(*ident, password, challenge), presented)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_input_is_refused() {
        let challenge = [1u8; 16];
        let mut good = vec![9u8];
        good.extend_from_slice(&response(9, b"pw", &challenge));
        assert!(verify(&good, &challenge, b"pw"));
        assert!(!verify(&good[..16], &challenge, b"pw"));
        assert!(!verify(&[], &challenge, b"pw"));
        assert!(!verify(
            &[good.clone(), vec![0]].concat(),
            &challenge,
            b"pw"
        ));
        assert!(!verify(&good, &[], b"pw"));
        // The identifier is part of the hash: the same digest under another ident fails.
        let mut other_ident = good.clone();
        other_ident[0] = 10;
        assert!(!verify(&other_ident, &challenge, b"pw"));
    }
}

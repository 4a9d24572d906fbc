//! CHAP (RFC 1994) as carried by RADIUS (RFC 2865 §5.3, §5.40): the server
//! recomputes MD5(CHAP Ident + password + challenge) from the stored
//! clear-text password and compares.

use md5::{Digest, Md5};

use crate::PacketRef;
use crate::dict::rfc::CHAP_CHALLENGE;

/// The CHAP response a peer with `password` gives to `challenge`.
pub fn response(ident: u8, password: &[u8], challenge: &[u8]) -> [u8; 16] {
    Md5::new()
        .chain_update([ident])
        .chain_update(password)
        .chain_update(challenge)
        .finalize()
        .into()
}

/// Checks a CHAP-Password value (`Ident(1) || Response(16)`) against the
/// clear-text `password`, in constant time. A malformed value is simply
/// not a match.
pub fn verify(chap_password: &[u8], challenge: &[u8], password: &[u8]) -> bool {
    let Some((&ident, received)) = chap_password.split_first() else {
        return false;
    };
    if received.len() != 16 {
        return false;
    }
    let expected = response(ident, password, challenge);
    let diff = expected
        .iter()
        .zip(received)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    std::hint::black_box(diff) == 0
}

/// The challenge a CHAP-Password answers: the CHAP-Challenge attribute when
/// present, else the Request Authenticator (RFC 2865 §2.2).
pub fn challenge<'a>(request: &PacketRef<'a>) -> &'a [u8] {
    match request.first(CHAP_CHALLENGE) {
        Some(attr) => attr.value,
        None => request.authenticator(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_accepts_only_the_right_password() {
        let challenge = [0x11; 16];
        let mut value = vec![0x42];
        value.extend_from_slice(&response(0x42, b"pw", &challenge));
        assert!(verify(&value, &challenge, b"pw"));
        assert!(!verify(&value, &challenge, b"pW"));
        assert!(!verify(&value, &[0x12; 16], b"pw"));
        assert!(!verify(&value[..16], &challenge, b"pw"));
        assert!(!verify(&[], &challenge, b"pw"));
    }
}

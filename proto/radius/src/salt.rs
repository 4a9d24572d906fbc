//! Salt encryption of RFC 2548 §2.4.2/§2.4.3 (MS-MPPE-Send-Key and
//! MS-MPPE-Recv-Key), also used by Tunnel-Password (RFC 2868 §3.5).
//!
//! The value is `Salt(2) || String`, where String encrypts
//! `Key-Length(1) || Key || zero padding` to a multiple of 16 octets with
//! `b(1) = MD5(Secret + Request-Authenticator + Salt)`,
//! `b(i) = MD5(Secret + c(i-1))`, `c(i) = p(i) xor b(i)`.
//! Tunnel-Password prefixes this with a Tag octet, which callers add or
//! strip themselves.

use md5::{Digest, Md5};

use crate::SaltError;

/// Largest key that still fits one attribute once encrypted: 1 + 239
/// rounds up to 240 octets, plus the salt and a vendor header stays under
/// 253.
pub const MAX_KEY_LEN: usize = 239;

/// Encrypts `key` for a reply to a request whose authenticator was
/// `request_authenticator`, returning `Salt || String`.
///
/// `salt` must have its high bit set and, per RFC 2548, be unique among the
/// salt-encrypted attributes of one packet; the codec has no randomness, so
/// the caller picks it.
pub fn encrypt(
    key: &[u8],
    secret: &[u8],
    request_authenticator: &[u8; 16],
    salt: [u8; 2],
) -> Result<Vec<u8>, SaltError> {
    if salt[0] & 0x80 == 0 {
        return Err(SaltError::SaltHighBitClear);
    }
    if key.len() > MAX_KEY_LEN {
        return Err(SaltError::KeyTooLong(key.len()));
    }
    let padded = (1 + key.len()).div_ceil(16) * 16;
    let mut out = Vec::with_capacity(2 + padded);
    out.extend_from_slice(&salt);
    out.push(key.len() as u8);
    out.extend_from_slice(key);
    out.resize(2 + padded, 0);

    let keyed = Md5::new_with_prefix(secret);
    let mut pad: [u8; 16] = keyed
        .clone()
        .chain_update(request_authenticator)
        .chain_update(salt)
        .finalize()
        .into();
    for block in out[2..].chunks_exact_mut(16) {
        for (b, p) in block.iter_mut().zip(pad) {
            *b ^= p;
        }
        pad = keyed.clone().chain_update(&*block).finalize().into();
    }
    Ok(out)
}

/// Recovers the key from `Salt || String`. The padding after the key is
/// not checked: some encoders (FreeRADIUS among them) leave it non-zero.
pub fn decrypt(
    value: &[u8],
    secret: &[u8],
    request_authenticator: &[u8; 16],
) -> Result<Vec<u8>, SaltError> {
    let Some((salt, cipher)) = value.split_first_chunk::<2>() else {
        return Err(SaltError::InvalidLength(value.len()));
    };
    if cipher.is_empty() || !cipher.len().is_multiple_of(16) {
        return Err(SaltError::InvalidLength(value.len()));
    }
    let keyed = Md5::new_with_prefix(secret);
    let mut pad: [u8; 16] = keyed
        .clone()
        .chain_update(request_authenticator)
        .chain_update(salt)
        .finalize()
        .into();
    let mut plain = Vec::with_capacity(cipher.len());
    for block in cipher.chunks_exact(16) {
        plain.extend(block.iter().zip(pad).map(|(c, p)| c ^ p));
        pad = keyed.clone().chain_update(block).finalize().into();
    }
    let key_len = plain[0];
    let Some(key) = plain.get(1..1 + usize::from(key_len)) else {
        return Err(SaltError::KeyLengthMismatch(key_len));
    };
    Ok(key.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"secret";
    const AUTH: [u8; 16] = [9; 16];

    #[test]
    fn round_trips_and_pads() {
        for len in [0, 1, 15, 16, 32, MAX_KEY_LEN] {
            let key: Vec<u8> = (0..len as u8).collect();
            let value = encrypt(&key, SECRET, &AUTH, [0x80, 0x01]).unwrap();
            assert_eq!(value.len(), 2 + (1 + len).div_ceil(16) * 16);
            assert_eq!(&value[..2], &[0x80, 0x01]);
            assert_eq!(decrypt(&value, SECRET, &AUTH).unwrap(), key);
        }
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(
            encrypt(b"k", SECRET, &AUTH, [0x7f, 0xff]),
            Err(SaltError::SaltHighBitClear)
        );
        assert_eq!(
            encrypt(&[0; MAX_KEY_LEN + 1], SECRET, &AUTH, [0x80, 0]),
            Err(SaltError::KeyTooLong(MAX_KEY_LEN + 1))
        );
        for n in [0, 1, 2, 3, 17, 19, 33] {
            assert_eq!(
                decrypt(&vec![0x80; n], SECRET, &AUTH),
                Err(SaltError::InvalidLength(n))
            );
        }
    }

    #[test]
    fn wrong_secret_is_detected_or_garbled() {
        let value = encrypt(&[0xab; 32], SECRET, &AUTH, [0x81, 0x02]).unwrap();
        match decrypt(&value, b"other", &AUTH) {
            Err(SaltError::KeyLengthMismatch(_)) => {}
            Ok(key) => assert_ne!(key, [0xab; 32]),
            Err(e) => panic!("unexpected {e}"),
        }
    }

    #[test]
    fn salt_changes_the_ciphertext() {
        let a = encrypt(b"same key", SECRET, &AUTH, [0x80, 0x01]).unwrap();
        let b = encrypt(b"same key", SECRET, &AUTH, [0x80, 0x02]).unwrap();
        assert_ne!(a[2..], b[2..]);
    }
}

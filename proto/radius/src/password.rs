//! User-Password hiding (RFC 2865 §5.2): the clear text, NUL-padded to a
//! multiple of 16, XORed with an MD5 chain keyed by the shared secret and
//! seeded with the Request Authenticator.

use std::fmt;
use std::ops::Deref;

use md5::{Digest, Md5};

use crate::PasswordError;

/// Longest password RFC 2865 §5.2 allows.
pub const MAX_LEN: usize = 128;

/// Applies the §5.2 chain to `buf` in place. `encrypting` selects which
/// side of the XOR feeds the next block: the ciphertext either way.
fn chain(buf: &mut [u8], secret: &[u8], authenticator: &[u8; 16], encrypting: bool) {
    let keyed = Md5::new_with_prefix(secret);
    let mut prev = *authenticator;
    for block in buf.chunks_exact_mut(16) {
        let pad: [u8; 16] = keyed.clone().chain_update(prev).finalize().into();
        if !encrypting {
            prev.copy_from_slice(block);
        }
        for (b, p) in block.iter_mut().zip(pad) {
            *b ^= p;
        }
        if encrypting {
            prev.copy_from_slice(block);
        }
    }
}

/// Hides `password` for the User-Password attribute of a request whose
/// authenticator is `authenticator`. An empty password becomes one block.
pub fn hide(
    password: &[u8],
    secret: &[u8],
    authenticator: &[u8; 16],
) -> Result<Vec<u8>, PasswordError> {
    if password.len() > MAX_LEN {
        return Err(PasswordError::TooLong(password.len()));
    }
    let mut out = password.to_vec();
    out.resize(password.len().div_ceil(16).max(1) * 16, 0);
    chain(&mut out, secret, authenticator, true);
    Ok(out)
}

/// Recovers the password from a User-Password value, dropping the NUL
/// padding. The result lives on the stack and never prints its content.
pub fn unhide(
    hidden: &[u8],
    secret: &[u8],
    authenticator: &[u8; 16],
) -> Result<Password, PasswordError> {
    let n = hidden.len();
    if n == 0 || !n.is_multiple_of(16) || n > MAX_LEN {
        return Err(PasswordError::InvalidLength(n));
    }
    let mut buf = [0u8; MAX_LEN];
    buf[..n].copy_from_slice(hidden);
    chain(&mut buf[..n], secret, authenticator, false);
    let len = buf[..n].iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    Ok(Password { buf, len })
}

/// A recovered clear-text password. Dereferences to its octets; `Debug`
/// redacts it so it cannot leak into logs by accident.
pub struct Password {
    buf: [u8; MAX_LEN],
    len: usize,
}

impl Password {
    /// The password octets (no padding).
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Deref for Password {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl Drop for Password {
    /// Best effort: clears the stack copy when the password is dropped.
    fn drop(&mut self) {
        self.buf.fill(0);
        std::hint::black_box(&mut self.buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"xyzzy5461";
    const AUTH: [u8; 16] = [
        0x0f, 0x40, 0x3f, 0x94, 0x73, 0x97, 0x80, 0x57, 0xbd, 0x83, 0xd5, 0xcb, 0x98, 0xf4, 0x22,
        0x7a,
    ];

    #[test]
    fn round_trips_every_length() {
        for len in 0..=MAX_LEN {
            let pw: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            let hidden = hide(&pw, SECRET, &AUTH).unwrap();
            assert_eq!(hidden.len(), len.div_ceil(16).max(1) * 16, "len {len}");
            assert_eq!(unhide(&hidden, SECRET, &AUTH).unwrap().as_bytes(), &pw[..]);
        }
    }

    #[test]
    fn rejects_bad_lengths() {
        assert_eq!(
            hide(&[b'x'; 129], SECRET, &AUTH).unwrap_err(),
            PasswordError::TooLong(129)
        );
        for n in [0, 1, 15, 17, 31, 144] {
            assert_eq!(
                unhide(&vec![0; n], SECRET, &AUTH).unwrap_err(),
                PasswordError::InvalidLength(n)
            );
        }
    }

    #[test]
    fn debug_is_redacted() {
        let hidden = hide(b"hunter2", SECRET, &AUTH).unwrap();
        let pw = unhide(&hidden, SECRET, &AUTH).unwrap();
        assert_eq!(&*pw, b"hunter2");
        assert_eq!(format!("{pw:?}"), "Password(<redacted>)");
    }

    #[test]
    fn later_blocks_chain_on_ciphertext() {
        // Changing the first block of ciphertext must garble the second
        // block of plain text (the chain uses c(i-1), not p(i-1)).
        let pw = [b'p'; 32];
        let mut hidden = hide(&pw, SECRET, &AUTH).unwrap();
        hidden[0] ^= 0x80;
        let back = unhide(&hidden, SECRET, &AUTH).unwrap();
        assert_eq!(back[0], b'p' ^ 0x80);
        assert_eq!(&back[1..16], &pw[1..16]);
        assert_ne!(&back[16..], &pw[16..]);
    }
}

//! Encryption at rest for the secrets RADIUS needs in clear (login passwords for CHAP and
//! MS-CHAPv2, NAS shared secrets): a database dump alone reveals none of them.
//!
//! The store seals on write and opens on read; where the key comes from (`secret.key` in the
//! daemon's state directory) is the daemon's business, not the store's.

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};

const PREFIX: &str = "v1:";

/// Seals and opens secrets with XChaCha20-Poly1305 (random 192-bit nonces are safe).
#[derive(Clone)]
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(<key redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("sealed value is malformed")]
    Malformed,
    #[error(
        "sealed value does not open with this key (is secret.key the one the data was written with?)"
    )]
    WrongKey,
    #[error("no random numbers from the operating system: {0}")]
    Random(String),
}

impl Sealer {
    pub fn from_key(key: [u8; 32]) -> Sealer {
        Sealer {
            cipher: XChaCha20Poly1305::new(Key::from_slice(&key)),
        }
    }

    pub fn seal(&self, plaintext: &str) -> Result<String, SealError> {
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce).map_err(|e| SealError::Random(e.to_string()))?;
        let ciphertext = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), plaintext.as_bytes())
            .map_err(|_| SealError::Malformed)?;
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ciphertext);
        Ok(format!("{PREFIX}{}", hex::encode(blob)))
    }

    pub fn open(&self, sealed: &str) -> Result<String, SealError> {
        let blob = sealed
            .strip_prefix(PREFIX)
            .and_then(|h| hex::decode(h).ok())
            .filter(|b| b.len() >= 24 + 16)
            .ok_or(SealError::Malformed)?;
        let (nonce, ciphertext) = blob.split_at(24);
        let plaintext = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), ciphertext)
            .map_err(|_| SealError::WrongKey)?;
        String::from_utf8(plaintext).map_err(|_| SealError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_hides_the_secret() {
        let sealer = Sealer::from_key([7; 32]);
        let sealed = sealer.seal("arctangent").unwrap();
        assert!(!sealed.contains("arctangent"));
        assert_ne!(sealed, sealer.seal("arctangent").unwrap(), "nonces differ");
        assert_eq!(sealer.open(&sealed).unwrap(), "arctangent");
        assert!(matches!(
            Sealer::from_key([8; 32]).open(&sealed),
            Err(SealError::WrongKey)
        ));
        assert!(matches!(sealer.open("v1:00"), Err(SealError::Malformed)));
        assert!(!format!("{sealer:?}").contains('7'));
    }
}

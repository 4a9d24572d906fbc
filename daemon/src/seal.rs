//! Encryption at rest for the secrets RADIUS needs in clear (login passwords for CHAP and
//! MS-CHAPv2, NAS shared secrets): a database dump alone reveals none of them.
//!
//! The key is 32 random bytes in `<state_dir>/secret.key` (mode 0600), created on first start;
//! a missing key beside a database that holds sealed secrets stops ispd instead.
//! Several ispd instances sharing one PostgreSQL must share this file.

use std::path::Path;

use anyhow::{Context, bail};
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

    /// Loads `<state_dir>/secret.key`, creating it when missing: for a state directory
    /// known to be new (the benchmark's seed). The daemon uses [`Sealer::load`] and writes a
    /// new key only after checking the database holds nothing sealed.
    pub fn load_or_create(state_dir: &Path) -> anyhow::Result<Sealer> {
        if let Some(sealer) = Sealer::load(state_dir)? {
            return Ok(sealer);
        }
        let (sealer, key) = Sealer::generate()?;
        key.write(state_dir)?;
        Ok(sealer)
    }

    /// `<state_dir>/secret.key`, or `None` when there is no such file.
    pub fn load(state_dir: &Path) -> anyhow::Result<Option<Sealer>> {
        let path = key_path(state_dir);
        if !path.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read key file {}", path.display()))?;
        let mut key = [0u8; 32];
        if hex::decode_to_slice(text.trim(), &mut key).is_err() {
            bail!("key file {} must hold 64 hex digits", path.display());
        }
        Ok(Some(Sealer::from_key(key)))
    }

    /// A sealer with a new random key, kept in memory until [`NewKey::write`].
    pub fn generate() -> anyhow::Result<(Sealer, NewKey)> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("random: {e}"))?;
        Ok((Sealer::from_key(key), NewKey(key)))
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

/// Where the key lives in the state directory.
pub fn key_path(state_dir: &Path) -> std::path::PathBuf {
    state_dir.join("secret.key")
}

/// A key from [`Sealer::generate`] not yet on disk.
pub struct NewKey([u8; 32]);

impl std::fmt::Debug for NewKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewKey(<redacted>)")
    }
}

impl NewKey {
    /// Writes `<state_dir>/secret.key` (mode 0600); fails if one exists.
    pub fn write(self, state_dir: &Path) -> anyhow::Result<()> {
        let path = key_path(state_dir);
        crate::token::write_private_file(&path, &hex::encode(self.0))
            .with_context(|| format!("cannot create key file {}", path.display()))?;
        tracing::info!(path = %path.display(), "created the key that encrypts stored secrets; back it up with the database");
        Ok(())
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

    #[test]
    fn key_file_is_created_private_and_reused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("ispd-seal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = Sealer::load_or_create(&dir).unwrap();
        let sealed = a.seal("pw").unwrap();
        let b = Sealer::load_or_create(&dir).unwrap();
        assert_eq!(b.open(&sealed).unwrap(), "pw");
        let mode = std::fs::metadata(dir.join("secret.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! The key that seals stored secrets: 32 random bytes in `<state_dir>/secret.key` (mode
//! 0600), created on first start; a missing key beside a database that holds sealed secrets
//! stops ispd instead. Several ispd instances sharing one PostgreSQL must share this file.
//!
//! The cipher itself ([`Sealer`]) lives with the store, which seals on write and opens on
//! read; this module only finds, makes and writes its key.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
pub use ispd_store::seal::{SealError, Sealer};

/// Loads `<state_dir>/secret.key`, creating it when missing: for a state directory known to
/// be new (the benchmark's seed). The daemon uses [`load`] and writes a new key only after
/// checking the database holds nothing sealed.
pub fn load_or_create(state_dir: &Path) -> anyhow::Result<Sealer> {
    if let Some(sealer) = load(state_dir)? {
        return Ok(sealer);
    }
    let (sealer, key) = generate()?;
    key.write(state_dir)?;
    Ok(sealer)
}

/// `<state_dir>/secret.key`, or `None` when there is no such file.
pub fn load(state_dir: &Path) -> anyhow::Result<Option<Sealer>> {
    let path = key_path(state_dir);
    if !path.exists() {
        return Ok(None);
    }
    let bytes =
        std::fs::read(&path).with_context(|| format!("cannot read key file {}", path.display()))?;
    // Read as bytes: a binary file is a key of the wrong form, not an encoding problem.
    let mut key = [0u8; 32];
    if hex::decode_to_slice(bytes.trim_ascii(), &mut key).is_err() {
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

/// Where the key lives in the state directory.
pub fn key_path(state_dir: &Path) -> PathBuf {
    state_dir.join("secret.key")
}

/// A key from [`generate`] not yet on disk.
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
    fn key_file_is_created_private_and_reused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("ispd-seal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = load_or_create(&dir).unwrap();
        let sealed = a.seal("pw").unwrap();
        let b = load_or_create(&dir).unwrap();
        assert_eq!(b.open(&sealed).unwrap(), "pw");
        let mode = std::fs::metadata(dir.join("secret.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A key file of another form — text too short, or binary — is named as such. Found
    /// probing from outside: a binary file said "stream did not contain valid UTF-8".
    #[test]
    fn a_key_file_of_another_form_says_what_it_must_hold() {
        let dir = std::env::temp_dir().join(format!("ispd-seal-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for content in [&b"abc"[..], &[0xff, 0xfe, 0x00, 0x9c][..]] {
            std::fs::write(dir.join("secret.key"), content).unwrap();
            let err = load(&dir).unwrap_err().to_string();
            assert!(err.ends_with("must hold 64 hex digits"), "{err}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

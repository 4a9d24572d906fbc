//! Bearer tokens for the admin API: random, shown once, stored only as a SHA-256 hash.
//!
//! Tokens are 256 random bits, so a plain SHA-256 is as good as a slow password hash here and
//! lets every request be checked with one hash and one map lookup.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub use ispd_store::token::{Role, TokenHash};

/// A new random token. The prefix makes a leaked token easy to recognise in a scanner.
pub fn generate() -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(std::io::Error::other)?;
    Ok(format!("ispd_{}", hex::encode(bytes)))
}

/// The shortest token `ispd hash-token` accepts: a plain SHA-256 is only as good as a
/// slow hash for tokens that cannot be guessed (see the module doc).
pub const MIN_TOKEN_CHARS: usize = 32;

/// Refuses tokens that could be guessed: shorter than [`MIN_TOKEN_CHARS`] or made of a
/// handful of distinct characters.
pub fn check_strength(token: &str) -> Result<(), String> {
    let token = token.trim();
    if token.chars().count() < MIN_TOKEN_CHARS {
        return Err(format!(
            "the token has {} characters; use at least {MIN_TOKEN_CHARS} random ones (for example `openssl rand -hex 32`)",
            token.chars().count()
        ));
    }
    let distinct: std::collections::HashSet<char> = token.chars().collect();
    if distinct.len() < 8 {
        return Err("the token repeats a few characters; use random ones (for example `openssl rand -hex 32`)".into());
    }
    Ok(())
}

/// Who is calling, once the token is checked; recorded as the actor in the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub name: String,
    pub role: Role,
}

/// The set of accepted tokens, from the config file and the database.
#[derive(Debug, Default, Clone)]
pub struct TokenSet {
    by_hash: HashMap<TokenHash, Caller>,
}

impl TokenSet {
    pub fn insert(&mut self, hash: TokenHash, caller: Caller) {
        self.by_hash.insert(hash, caller);
    }

    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    pub fn authenticate(&self, token: &str) -> Option<&Caller> {
        self.by_hash.get(&TokenHash::of(token))
    }
}

/// Where the first-start admin token is written, readable only by the daemon's user.
pub fn admin_token_path(state_dir: &Path) -> PathBuf {
    state_dir.join("admin.token")
}

/// Writes a secret file with mode 0600 from the start, never briefly world-readable.
pub fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_or_uniform_tokens_are_refused() {
        assert!(check_strength("abcde").is_err());
        assert!(check_strength(&"a".repeat(40)).is_err());
        assert!(check_strength("ispd_readonly_test_token_0123456789").is_ok());
        assert!(check_strength(&generate().unwrap()).is_ok());
    }

    #[test]
    fn hashes_round_trip_and_authenticate() {
        let token = generate().unwrap();
        assert!(token.starts_with("ispd_") && token.len() == 69);
        let hash = TokenHash::of(&token);
        assert_eq!(TokenHash::parse(&hash.to_string()), Ok(hash));
        let mut set = TokenSet::default();
        set.insert(
            hash,
            Caller {
                name: "ops".into(),
                role: Role::Operator,
            },
        );
        assert_eq!(set.authenticate(&token).unwrap().name, "ops");
        assert_eq!(set.authenticate(&format!("{token}\n")).unwrap().name, "ops");
        assert!(set.authenticate("ispd_wrong").is_none());
        assert!(TokenHash::parse("sha256:abcd").is_err());
        assert!(TokenHash::parse(&"0".repeat(64)).is_err());
    }

    #[test]
    fn known_vector() {
        // printf 'abc' | sha256sum
        assert_eq!(
            TokenHash::of("abc").to_string(),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn roles() {
        assert!(Role::Admin.can_write());
        assert!(Role::Operator.can_write());
        assert!(!Role::Readonly.can_write());
        assert_eq!(Role::parse("readonly"), Some(Role::Readonly));
    }
}

//! API tokens kept in the database (the first-start admin token); config tokens live in
//! the config file. A token is stored only as its hash, with its role.

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{Store, StoreResult, now};

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything.
    Admin,
    /// Day-to-day changes to clients, services, logins and NAS entries.
    Operator,
    /// Reads only.
    Readonly,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Readonly => "readonly",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "admin" => Some(Role::Admin),
            "operator" => Some(Role::Operator),
            "readonly" => Some(Role::Readonly),
            _ => None,
        }
    }

    pub fn can_write(self) -> bool {
        !matches!(self, Role::Readonly)
    }
}

/// `sha256:<64 hex>`: the only form in which a token is ever stored or configured.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash([u8; 32]);

impl std::fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenHash({})", self)
    }
}

impl std::fmt::Display for TokenHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "sha256:{}", hex::encode(self.0))
    }
}

impl TokenHash {
    pub fn of(token: &str) -> TokenHash {
        TokenHash(Sha256::digest(token.trim().as_bytes()).into())
    }

    pub fn parse(text: &str) -> Result<TokenHash, String> {
        let hex_part = text
            .strip_prefix("sha256:")
            .ok_or("expected \"sha256:<64 hex digits>\" as printed by `ispd hash-token`")?;
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(hex_part, &mut bytes)
            .map_err(|_| "expected 64 hex digits after \"sha256:\"")?;
        Ok(TokenHash(bytes))
    }
}

impl Store {
    pub async fn list_tokens(&self) -> StoreResult<Vec<(String, Role, TokenHash)>> {
        let rows: Vec<(String, String, String)> =
            sqlx::query_as("SELECT name, role, hash FROM api_token ORDER BY name")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(name, role, hash)| {
                Some((name, Role::parse(&role)?, TokenHash::parse(&hash).ok()?))
            })
            .collect())
    }

    pub async fn insert_token(&self, name: &str, role: Role, hash: TokenHash) -> StoreResult<()> {
        sqlx::query("INSERT INTO api_token (name, role, hash, created_at) VALUES ($1, $2, $3, $4)")
            .bind(name.to_owned())
            .bind(role.as_str().to_owned())
            .bind(hash.to_string())
            .bind(now())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

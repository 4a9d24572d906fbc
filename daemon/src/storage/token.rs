//! API tokens kept in the database (the first-start admin token); config tokens live in
//! the config file.

use super::{Store, StoreResult, now};
use crate::token::{Role, TokenHash};

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

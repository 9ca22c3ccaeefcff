//! API tokens of machines, stored by their digest. Revoked, never deleted: a revoked token's row
//! still says whose it was and when it was last used. Every machine request reads its live token
//! with the account in one round trip.

use super::AccountRow;
use super::accounts::JOINED_ACCOUNT_COLUMNS;
use crate::{StoreError, on_db};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::FromRow;
use uuid::Uuid;

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct TokenRow {
    pub id: Uuid,
    pub account_id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A live token with its account, read in one round trip (every machine request does this).
#[derive(Debug, Clone, FromRow)]
pub struct TokenWithAccount {
    pub token_id: Uuid,
    pub token_last_used: Option<DateTime<Utc>>,
    #[sqlx(flatten)]
    pub account: AccountRow,
}

impl crate::Store {
    pub async fn create_token(
        &self,
        account: Uuid,
        name: &str,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Uuid, StoreError> {
        let id = Uuid::now_v7();
        on_db!(self, |p| {
            sqlx::query(
            "INSERT INTO api_tokens (id, account_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(id)
        .bind(account)
        .bind(name)
        .bind(token_hash)
        .bind(now)
        .execute(p)
        .await
        .map(|_| ())
        })?;
        Ok(id)
    }

    /// A live (unrevoked) token by its digest.
    pub async fn token_by_hash(&self, token_hash: &str) -> Result<Option<TokenRow>, StoreError> {
        Ok(on_db!(self, |p| {
            sqlx::query_as(
            "SELECT id, account_id, name, created_at, last_used_at, revoked_at FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL"
        )
        .bind(token_hash)
        .fetch_optional(p)
        .await
        })?)
    }

    pub async fn token_with_account(
        &self,
        token_hash: &str,
    ) -> Result<Option<TokenWithAccount>, StoreError> {
        Ok(on_db!(self, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT t.id AS token_id, t.last_used_at AS token_last_used, {JOINED_ACCOUNT_COLUMNS} FROM api_tokens t \
             JOIN accounts a ON a.id = t.account_id WHERE t.token_hash = $1 AND t.revoked_at IS NULL"
        )))
        .bind(token_hash)
        .fetch_optional(p)
        .await
        })?)
    }

    /// Whether a token has not been revoked.
    pub async fn token_is_live(&self, id: Uuid) -> Result<bool, StoreError> {
        let row: Option<(Uuid,)> = on_db!(self, |p| sqlx::query_as(
            "SELECT id FROM api_tokens WHERE id = $1 AND revoked_at IS NULL"
        )
        .bind(id)
        .fetch_optional(p)
        .await)?;
        Ok(row.is_some())
    }

    pub async fn touch_token(&self, id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
        on_db!(self, |p| sqlx::query(
            "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1"
        )
        .bind(id)
        .bind(now)
        .execute(p)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    pub async fn revoke_token(&self, id: Uuid, now: DateTime<Utc>) -> Result<bool, StoreError> {
        Ok(on_db!(self, |p| sqlx::query(
            "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL"
        )
        .bind(id)
        .bind(now)
        .execute(p)
        .await
        .map(|r| r.rows_affected() > 0))?)
    }

    pub async fn tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        Ok(on_db!(self, |p| {
            sqlx::query_as(
            "SELECT id, account_id, name, created_at, last_used_at, revoked_at FROM api_tokens ORDER BY created_at"
        )
        .fetch_all(p)
        .await
        })?)
    }
}

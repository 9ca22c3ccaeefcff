//! Browser sessions, stored by the digest of their id. Every browser request reads its session
//! with the account in one round trip; expiry is decided by the caller from the times kept here.

use super::AccountRow;
use super::accounts::JOINED_ACCOUNT_COLUMNS;
use crate::{StoreError, on_db};
use chrono::{DateTime, Utc};
use sqlx::FromRow;
use uuid::Uuid;

#[derive(Debug, Clone, FromRow)]
pub struct SessionRow {
    pub account_id: Uuid,
    pub csrf_token: String,
    pub second_factor_done: i64,
    pub created_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A session with its account, read in one round trip (every browser request does this).
#[derive(Debug, Clone, FromRow)]
pub struct SessionWithAccount {
    pub csrf_token: String,
    pub second_factor_done: i64,
    pub last_seen: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    #[sqlx(flatten)]
    pub account: AccountRow,
}

impl crate::Store {
    #[allow(clippy::too_many_arguments)]
    pub async fn create_session(
        &self,
        id_hash: &str,
        account: Uuid,
        csrf: &str,
        second_factor_done: bool,
        ip: Option<&str>,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_db!(self, |p| {
            sqlx::query(
            "INSERT INTO sessions (id_hash, account_id, csrf_token, second_factor_done, ip, created_at, last_seen, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6, $7)"
        )
        .bind(id_hash)
        .bind(account)
        .bind(csrf)
        .bind(second_factor_done as i64)
        .bind(ip)
        .bind(now)
        .bind(expires_at)
        .execute(p)
        .await
        .map(|_| ())
        })?;
        Ok(())
    }

    pub async fn session(&self, id_hash: &str) -> Result<Option<SessionRow>, StoreError> {
        Ok(on_db!(self, |p| {
            sqlx::query_as(
            "SELECT account_id, csrf_token, second_factor_done, created_at, last_seen, expires_at FROM sessions WHERE id_hash = $1"
        )
        .bind(id_hash)
        .fetch_optional(p)
        .await
        })?)
    }

    pub async fn session_with_account(
        &self,
        id_hash: &str,
    ) -> Result<Option<SessionWithAccount>, StoreError> {
        Ok(on_db!(self, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT s.csrf_token, s.second_factor_done, s.last_seen, s.expires_at, {JOINED_ACCOUNT_COLUMNS} FROM sessions s \
             JOIN accounts a ON a.id = s.account_id WHERE s.id_hash = $1"
        )))
        .bind(id_hash)
        .fetch_optional(p)
        .await
        })?)
    }

    pub async fn touch_session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        on_db!(self, |p| sqlx::query(
            "UPDATE sessions SET last_seen = $2 WHERE id_hash = $1"
        )
        .bind(id_hash)
        .bind(now)
        .execute(p)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    pub async fn complete_second_factor(&self, id_hash: &str) -> Result<(), StoreError> {
        on_db!(self, |p| sqlx::query(
            "UPDATE sessions SET second_factor_done = 1 WHERE id_hash = $1"
        )
        .bind(id_hash)
        .execute(p)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    pub async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        on_db!(self, |p| sqlx::query(
            "DELETE FROM sessions WHERE id_hash = $1"
        )
        .bind(id_hash)
        .execute(p)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Ends every session of an account but one (after a password change).
    pub async fn end_other_sessions(&self, account: Uuid, keep: &str) -> Result<(), StoreError> {
        on_db!(self, |p| sqlx::query(
            "DELETE FROM sessions WHERE account_id = $1 AND id_hash <> $2"
        )
        .bind(account)
        .bind(keep)
        .execute(p)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Removes sessions past their absolute expiry (housekeeping; expiry is enforced on read).
    pub async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(on_db!(self, |p| sqlx::query(
            "DELETE FROM sessions WHERE expires_at < $1"
        )
        .bind(now)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?)
    }
}

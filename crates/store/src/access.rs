//! Accounts, sessions, API tokens and login throttling. Secrets never reach this layer in clear:
//! passwords arrive hashed (Argon2id), session ids and tokens as SHA-256 digests, TOTP secrets
//! encrypted. Time is passed in, so expiry rules live in the caller and are testable.

use crate::{StoreError, on_db};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::FromRow;
use uuid::Uuid;

/// A new account. With `proposed_by`, the role and scope are only proposed (三员分立: the system
/// administrator proposes, the security administrator approves) and the account has neither until
/// approved; without it (the operator on the server) they are granted at once.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub scope_kind: String,
    pub scope_code: String,
    pub scope_serves: Option<String>,
    pub password_hash: String,
    pub proposed_by: Option<String>,
}

/// A role and scope being granted.
#[derive(Debug, Clone, Copy)]
pub struct GrantedScope<'a> {
    pub role: &'a str,
    pub kind: &'a str,
    pub code: &'a str,
    pub serves: Option<&'a str>,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct AccountRow {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    /// `None` while the account awaits the security administrator's approval.
    pub role: Option<String>,
    pub scope_kind: Option<String>,
    pub scope_code: Option<String>,
    pub scope_serves: Option<String>,
    /// What the system administrator proposed, until approved.
    pub proposed_role: Option<String>,
    pub proposed_scope_kind: Option<String>,
    pub proposed_scope_code: Option<String>,
    pub proposed_scope_serves: Option<String>,
    pub proposed_by: Option<String>,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
    #[serde(skip)]
    pub password_hash: String,
    #[serde(skip)]
    pub totp_secret: Option<String>,
    pub totp_enabled: i64,
    #[serde(skip)]
    pub recovery_codes: Option<String>,
    pub failed_logins: i64,
    pub locked_until: Option<DateTime<Utc>>,
    pub active: i64,
    pub created_at: DateTime<Utc>,
}

const ACCOUNT_COLUMNS: &str = "SELECT id, username, display_name, role, scope_kind, scope_code, scope_serves, \
     proposed_role, proposed_scope_kind, proposed_scope_code, proposed_scope_serves, proposed_by, approved_by, approved_at, \
     password_hash, totp_secret, totp_enabled, recovery_codes, failed_logins, locked_until, active, created_at FROM accounts";

#[derive(Debug, Clone, FromRow)]
pub struct SessionRow {
    pub account_id: Uuid,
    pub csrf_token: String,
    pub second_factor_done: i64,
    pub created_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct TokenRow {
    pub id: Uuid,
    pub account_id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

impl crate::Store {
    pub async fn create_account(
        &self,
        a: &NewAccount,
        now: DateTime<Utc>,
    ) -> Result<Uuid, StoreError> {
        let id = Uuid::now_v7();
        // A proposal goes into the proposed_* columns; a grant into role and scope.
        let sql = if a.proposed_by.is_some() {
            "INSERT INTO accounts (id, username, display_name, proposed_role, proposed_scope_kind, proposed_scope_code, \
             proposed_scope_serves, password_hash, proposed_by, totp_enabled, failed_logins, active, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $10, 0, 0, 1, $9, $9)"
        } else {
            "INSERT INTO accounts (id, username, display_name, role, scope_kind, scope_code, scope_serves, password_hash, \
             approved_by, approved_at, totp_enabled, failed_logins, active, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $10, $9, 0, 0, 1, $9, $9)"
        };
        let granted_by = a.proposed_by.clone().unwrap_or_else(|| "cli".into());
        let r = on_db!(self, |p| {
            sqlx::query(sql)
                .bind(id)
                .bind(&a.username)
                .bind(&a.display_name)
                .bind(&a.role)
                .bind(&a.scope_kind)
                .bind(&a.scope_code)
                .bind(&a.scope_serves)
                .bind(&a.password_hash)
                .bind(now)
                .bind(&granted_by)
                .execute(p)
                .await
                .map(|_| ())
        });
        match r {
            Ok(()) => Ok(id),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict(format!(
                "用户名 {} 已存在",
                a.username
            ))),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn account_by_username(
        &self,
        username: &str,
    ) -> Result<Option<AccountRow>, StoreError> {
        Ok(on_db!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            format!("{ACCOUNT_COLUMNS} WHERE username = $1")
        ))
        .bind(username)
        .fetch_optional(p)
        .await)?)
    }

    pub async fn account(&self, id: Uuid) -> Result<Option<AccountRow>, StoreError> {
        Ok(on_db!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            format!("{ACCOUNT_COLUMNS} WHERE id = $1")
        ))
        .bind(id)
        .fetch_optional(p)
        .await)?)
    }

    pub async fn accounts(&self) -> Result<Vec<AccountRow>, StoreError> {
        Ok(on_db!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            format!("{ACCOUNT_COLUMNS} ORDER BY username")
        ))
        .fetch_all(p)
        .await)?)
    }

    /// Counts a failed login; locks the account for `lock_for` when the run reaches `max`.
    /// Returns the new count and the lock's end, if locked.
    pub async fn record_login_failure(
        &self,
        id: Uuid,
        max: i64,
        lock_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(i64, Option<DateTime<Utc>>), StoreError> {
        let (n,): (i64,) = on_db!(self, |p| {
            sqlx::query_as(
            "UPDATE accounts SET failed_logins = failed_logins + 1, updated_at = $2 WHERE id = $1 RETURNING failed_logins"
        )
        .bind(id)
        .bind(now)
        .fetch_one(p)
        .await
        })?;
        if n >= max {
            self.set_lock(id, Some(lock_until), now).await?;
            return Ok((n, Some(lock_until)));
        }
        Ok((n, None))
    }

    pub async fn record_login_success(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_db!(self, |p| {
            sqlx::query("UPDATE accounts SET failed_logins = 0, locked_until = NULL, updated_at = $2 WHERE id = $1")
            .bind(id)
            .bind(now)
            .execute(p)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// Locks an account by an administrator's or the operator's decision: like a deactivation for
    /// the time being, its sessions end and its tokens are revoked in the same transaction (a
    /// machine gets a new token when it is unlocked).
    pub async fn lock_account(
        &self,
        id: Uuid,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_db!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("UPDATE accounts SET locked_until = $2, updated_at = $3 WHERE id = $1")
                .bind(id)
                .bind(until)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM sessions WHERE account_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL")
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        })?;
        Ok(())
    }

    /// Grants an account the role and scope proposed for it; `false` when nothing was proposed.
    pub async fn approve_account(
        &self,
        id: Uuid,
        approved_by: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        Ok(on_db!(self, |p| {
            sqlx::query(
            "UPDATE accounts SET role = proposed_role, scope_kind = proposed_scope_kind, scope_code = proposed_scope_code, \
             scope_serves = proposed_scope_serves, proposed_role = NULL, proposed_scope_kind = NULL, \
             proposed_scope_code = NULL, proposed_scope_serves = NULL, approved_by = $2, approved_at = $3, updated_at = $3 \
             WHERE id = $1 AND proposed_role IS NOT NULL"
        )
        .bind(id)
        .bind(approved_by)
        .bind(now)
        .execute(p)
        .await
        .map(|r| r.rows_affected() == 1)
        })?)
    }

    /// Replaces the unused recovery codes only if they are still `before`: a code is used once
    /// even by two requests at the same moment.
    pub async fn use_recovery_code(
        &self,
        id: Uuid,
        before: &str,
        after: &str,
    ) -> Result<bool, StoreError> {
        Ok(on_db!(self, |p| sqlx::query(
            "UPDATE accounts SET recovery_codes = $3 WHERE id = $1 AND recovery_codes = $2"
        )
        .bind(id)
        .bind(before)
        .bind(after)
        .execute(p)
        .await
        .map(|r| r.rows_affected() == 1))?)
    }

    /// Takes a TOTP step as used: `true` once per account and step, and only for a step later than
    /// the last one taken, so a code is never accepted twice (nor an older one after a newer).
    pub async fn claim_totp_step(&self, id: Uuid, step: i64) -> Result<bool, StoreError> {
        Ok(on_db!(self, |p| {
            sqlx::query(
            "UPDATE accounts SET totp_last_step = $2 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)"
        )
        .bind(id)
        .bind(step)
        .execute(p)
        .await
        .map(|r| r.rows_affected() == 1)
        })?)
    }

    /// Locks until a time, or unlocks (`None`, which also clears the failure count).
    pub async fn set_lock(
        &self,
        id: Uuid,
        until: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_db!(self, |p| {
            sqlx::query(
            "UPDATE accounts SET locked_until = $2, failed_logins = CASE WHEN $2 IS NULL THEN 0 ELSE failed_logins END, updated_at = $3 WHERE id = $1"
        )
        .bind(id)
        .bind(until)
        .bind(now)
        .execute(p)
        .await
        .map(|_| ())
        })?;
        Ok(())
    }

    /// Deactivates an account: it cannot log in, its sessions end and its tokens stop working.
    /// Nothing is deleted, so its history stays readable.
    pub async fn deactivate_account(&self, id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
        on_db!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("UPDATE accounts SET active = 0, updated_at = $2 WHERE id = $1")
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM sessions WHERE account_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL")
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        })?;
        Ok(())
    }

    pub async fn set_role(
        &self,
        id: Uuid,
        role: &str,
        scope_kind: &str,
        scope_code: &str,
        scope_serves: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_db!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("UPDATE accounts SET role = $2, scope_kind = $3, scope_code = $4, scope_serves = $5, updated_at = $6 WHERE id = $1")
                .bind(id)
                .bind(role)
                .bind(scope_kind)
                .bind(scope_code)
                .bind(scope_serves)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            // A change of role or place takes effect at once: end the sessions granted under the old one.
            sqlx::query("DELETE FROM sessions WHERE account_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        })?;
        Ok(())
    }

    /// Stores a (not yet confirmed) TOTP secret and the digests of fresh recovery codes.
    pub async fn set_totp(
        &self,
        id: Uuid,
        secret_enc: &str,
        recovery_json: &str,
        enabled: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_db!(self, |p| {
            sqlx::query(
            "UPDATE accounts SET totp_secret = $2, recovery_codes = $3, totp_enabled = $4, updated_at = $5 WHERE id = $1"
        )
        .bind(id)
        .bind(secret_enc)
        .bind(recovery_json)
        .bind(enabled as i64)
        .bind(now)
        .execute(p)
        .await
        .map(|_| ())
        })?;
        Ok(())
    }

    pub async fn enable_totp(&self, id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
        on_db!(self, |p| sqlx::query(
            "UPDATE accounts SET totp_enabled = 1, updated_at = $2 WHERE id = $1"
        )
        .bind(id)
        .bind(now)
        .execute(p)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    pub async fn set_recovery_codes(
        &self,
        id: Uuid,
        recovery_json: &str,
    ) -> Result<(), StoreError> {
        on_db!(self, |p| sqlx::query(
            "UPDATE accounts SET recovery_codes = $2 WHERE id = $1"
        )
        .bind(id)
        .bind(recovery_json)
        .execute(p)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    // Sessions.

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

    // API tokens.

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

    // Per-address throttling of failed logins, shared by every server through the database.

    /// Failures from an address within the current window (a new window starts when the old one
    /// is older than `window_start_before`).
    pub async fn ip_failures(
        &self,
        ip: &str,
        window_start_before: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let row: Option<(DateTime<Utc>, i64)> = on_db!(self, |p| sqlx::query_as(
            "SELECT window_start, failures FROM login_attempts WHERE ip = $1"
        )
        .bind(ip)
        .fetch_optional(p)
        .await)?;
        Ok(match row {
            Some((start, n)) if start >= window_start_before => n,
            _ => 0,
        })
    }

    pub async fn record_ip_failure(
        &self,
        ip: &str,
        window_start_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let row: Option<(DateTime<Utc>, i64)> = on_db!(self, |p| sqlx::query_as(
            "SELECT window_start, failures FROM login_attempts WHERE ip = $1"
        )
        .bind(ip)
        .fetch_optional(p)
        .await)?;
        let (start, n) = match row {
            Some((start, n)) if start >= window_start_before => (start, n + 1),
            _ => (now, 1),
        };
        on_db!(self, |p| {
            sqlx::query(
            "INSERT INTO login_attempts (ip, window_start, failures) VALUES ($1, $2, $3) \
             ON CONFLICT (ip) DO UPDATE SET window_start = excluded.window_start, failures = excluded.failures"
        )
        .bind(ip)
        .bind(start)
        .bind(n)
        .execute(p)
        .await
        .map(|_| ())
        })?;
        Ok(())
    }
}

/// A live token with its account, read in one round trip (every machine request does this).
#[derive(Debug, Clone, FromRow)]
pub struct TokenWithAccount {
    pub token_id: Uuid,
    pub token_last_used: Option<DateTime<Utc>>,
    #[sqlx(flatten)]
    pub account: AccountRow,
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

const JOINED_ACCOUNT_COLUMNS: &str = "a.id, a.username, a.display_name, a.role, a.scope_kind, a.scope_code, a.scope_serves, \
     a.proposed_role, a.proposed_scope_kind, a.proposed_scope_code, a.proposed_scope_serves, a.proposed_by, a.approved_by, \
     a.approved_at, a.password_hash, a.totp_secret, a.totp_enabled, a.recovery_codes, a.failed_logins, a.locked_until, a.active, a.created_at";

impl crate::Store {
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
}

//! Accounts and what an administrator does to them: propose, approve, change the role, lock,
//! deactivate. A change that takes rights away ends the account's sessions (a lock or a
//! deactivation its tokens too) in the same transaction, so no request is served under rights
//! already withdrawn.

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
    /// The person in the people register whose account this is, if any.
    pub person_id: Option<Uuid>,
    /// The bulk import that proposed it, if any.
    pub batch: Option<String>,
    /// The next login must change the password before anything else (an initial password).
    pub must_change_password: i64,
}

const ACCOUNT_COLUMNS: &str = "SELECT id, username, display_name, role, scope_kind, scope_code, scope_serves, \
     proposed_role, proposed_scope_kind, proposed_scope_code, proposed_scope_serves, proposed_by, approved_by, approved_at, \
     password_hash, totp_secret, totp_enabled, recovery_codes, failed_logins, locked_until, active, created_at, \
     person_id, batch, must_change_password FROM accounts";

pub(super) const JOINED_ACCOUNT_COLUMNS: &str = "a.id, a.username, a.display_name, a.role, a.scope_kind, a.scope_code, a.scope_serves, \
     a.proposed_role, a.proposed_scope_kind, a.proposed_scope_code, a.proposed_scope_serves, a.proposed_by, a.approved_by, \
     a.approved_at, a.password_hash, a.totp_secret, a.totp_enabled, a.recovery_codes, a.failed_logins, a.locked_until, a.active, a.created_at, \
     a.person_id, a.batch, a.must_change_password";

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

    /// Where an account comes from: the person it belongs to, the batch that proposed it, and
    /// whether its first login must change the password.
    pub async fn set_account_origin(
        &self,
        id: Uuid,
        person_id: Option<Uuid>,
        batch: Option<&str>,
        must_change_password: bool,
    ) -> Result<(), StoreError> {
        on_db!(self, |p| {
            sqlx::query(
            "UPDATE accounts SET person_id = $2, batch = $3, must_change_password = $4 WHERE id = $1"
        )
        .bind(id)
        .bind(person_id)
        .bind(batch)
        .bind(i64::from(must_change_password))
        .execute(p)
        .await
        .map(|_| ())
        })?;
        Ok(())
    }

    /// A new password hash, and whether it must be changed again at the next login.
    pub async fn set_password(
        &self,
        id: Uuid,
        hash: &str,
        must_change_password: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_db!(self, |p| {
            sqlx::query(
            "UPDATE accounts SET password_hash = $2, must_change_password = $3, updated_at = $4 WHERE id = $1"
        )
        .bind(id)
        .bind(hash)
        .bind(i64::from(must_change_password))
        .bind(now)
        .execute(p)
        .await
        .map(|_| ())
        })?;
        Ok(())
    }

    /// The accounts a batch proposed, by username.
    pub async fn accounts_in_batch(&self, batch: &str) -> Result<Vec<AccountRow>, StoreError> {
        Ok(on_db!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            format!("{ACCOUNT_COLUMNS} WHERE batch = $1 ORDER BY username")
        ))
        .bind(batch)
        .fetch_all(p)
        .await)?)
    }

    /// The active accounts of people.
    pub async fn accounts_of_person(&self, person: Uuid) -> Result<Vec<AccountRow>, StoreError> {
        Ok(on_db!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            format!("{ACCOUNT_COLUMNS} WHERE person_id = $1 AND active = 1")
        ))
        .bind(person)
        .fetch_all(p)
        .await)?)
    }
}

//! Throttling of failed logins, per account and per address. In the database rather than in
//! memory so every server counts the same failures: an attacker gains nothing by spreading the
//! guesses over servers.

use crate::{StoreError, on_db};
use chrono::{DateTime, Utc};
use uuid::Uuid;

impl crate::Store {
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

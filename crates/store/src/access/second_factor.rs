//! The second factor: TOTP secrets and recovery codes. Apart from the accounts because each use is
//! a claim that must succeed once only — a TOTP step or a recovery code is taken by a conditional
//! update, so two requests at the same moment cannot both pass with the same code.

use crate::{StoreError, on_db};
use chrono::{DateTime, Utc};
use uuid::Uuid;

impl crate::Store {
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
}

//! The administrator's settings document (catalogue changes, routing, notification rules, office
//! hours, yellow share), stored whole as JSON beside a revision number that every server's cache
//! watches. The document is validated by the domain before it gets here; who changed what is in
//! the audit trail.

use crate::{StoreError, on_db};

impl crate::Store {
    /// The stored document and its revision; `None` until an administrator first saves one.
    pub async fn settings(&self) -> Result<(i64, Option<String>), StoreError> {
        let revision = self
            .meta("settings_revision")
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        Ok((revision, self.meta("settings").await?))
    }

    /// Replaces the document and moves the revision on, together.
    pub async fn save_settings(&self, body: &str) -> Result<(), StoreError> {
        on_db!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO meta (key, value) VALUES ('settings', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(body)
            .execute(&mut *tx)
            .await?;
            crate::db::bump_revision!(tx, "settings")?;
            tx.commit().await
        })?;
        Ok(())
    }
}

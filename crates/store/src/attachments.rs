//! Which photo belongs to which event. The bytes live on disk, named by their SHA-256.

use crate::{EventRow, StoreError, on_db};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::FromRow;
use uuid::Uuid;

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct AttachmentRow {
    pub id: Uuid,
    pub sha256: String,
    pub mime: String,
    pub size: i64,
    pub kind: String,
    pub uploaded_by: String,
    pub uploaded_at: DateTime<Utc>,
}

impl crate::Store {
    /// Stores a photo's record if the event has fewer than `max` photos; `false` when it has
    /// them already. The event's row is locked first (a write lock on SQLite, a row lock on
    /// PostgreSQL), so concurrent uploads are counted one after another and never pass the limit.
    pub async fn insert_attachment(
        &self,
        e: &EventRow,
        a: &AttachmentRow,
        max: i64,
    ) -> Result<bool, StoreError> {
        // PostgreSQL locks the row for the transaction; SQLite's first write takes the database's
        // write lock, which serves the same end.
        let lock = match self.backend() {
            crate::Backend::Postgres => {
                "SELECT version FROM events WHERE region_code = $1 AND id = $2 FOR UPDATE"
            }
            crate::Backend::Sqlite => {
                "UPDATE events SET version = version WHERE region_code = $1 AND id = $2"
            }
        };
        Ok(on_db!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(lock)
                .bind(&e.region_code)
                .bind(e.id)
                .execute(&mut *tx)
                .await?;
            let (n,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM attachments WHERE region_code = $1 AND event_id = $2",
            )
            .bind(&e.region_code)
            .bind(e.id)
            .fetch_one(&mut *tx)
            .await?;
            if n >= max {
                tx.rollback().await?;
                return Ok(false);
            }
            sqlx::query(
                "INSERT INTO attachments (region_code, event_id, id, sha256, mime, size, kind, uploaded_by, uploaded_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&e.region_code)
            .bind(e.id)
            .bind(a.id)
            .bind(&a.sha256)
            .bind(&a.mime)
            .bind(a.size)
            .bind(&a.kind)
            .bind(&a.uploaded_by)
            .bind(a.uploaded_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            true
        }))
    }

    pub async fn attachments(&self, e: &EventRow) -> Result<Vec<AttachmentRow>, StoreError> {
        Ok(on_db!(self, |p| {
            sqlx::query_as(
            "SELECT id, sha256, mime, size, kind, uploaded_by, uploaded_at FROM attachments WHERE region_code = $1 AND event_id = $2 ORDER BY uploaded_at, id"
        )
        .bind(&e.region_code)
        .bind(e.id)
        .fetch_all(p)
        .await
        })?)
    }
}

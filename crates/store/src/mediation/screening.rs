//! Screening rounds (排查) of the grids and the screenings done in them. A file of its own because
//! it shares nothing with the cases but the grid: a round is set per grid, and moves on only in
//! the same transaction as the screening that completes it.

use crate::{StoreError, on_db};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::FromRow;
use uuid::Uuid;
use wangge_domain::access::Visibility;

/// A grid's screening round (排查): how often, when next, when last done.
#[derive(Debug, Clone, PartialEq, Serialize, FromRow)]
pub struct ScreeningSchedule {
    pub grid_code: String,
    pub every_days: i64,
    pub next_due_at: DateTime<Utc>,
    pub last_done_at: Option<DateTime<Utc>>,
    pub set_by: String,
    pub updated_at: DateTime<Utc>,
}

/// One screening done in a grid.
#[derive(Debug, Clone, PartialEq, Serialize, FromRow)]
pub struct ScreeningRow {
    pub id: Uuid,
    pub grid_code: String,
    pub done_at: DateTime<Utc>,
    pub done_by: String,
    pub findings: i64,
    pub notes: String,
}

impl crate::Store {
    /// Sets (or replaces) a grid's screening round.
    pub async fn set_screening(&self, s: &ScreeningSchedule) -> Result<(), StoreError> {
        on_db!(self, |p| {
            sqlx::query(
            "INSERT INTO screening_schedules (grid_code, every_days, next_due_at, last_done_at, set_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (grid_code) DO UPDATE SET every_days = excluded.every_days, \
             next_due_at = excluded.next_due_at, set_by = excluded.set_by, updated_at = excluded.updated_at"
        )
        .bind(&s.grid_code)
        .bind(s.every_days)
        .bind(s.next_due_at)
        .bind(s.last_done_at)
        .bind(&s.set_by)
        .bind(s.updated_at)
        .execute(p)
        .await
        .map(|_| ())
        })?;
        Ok(())
    }

    /// The rounds of the grids in sight, the most overdue first.
    pub async fn screenings_due(
        &self,
        vis: &Visibility,
    ) -> Result<Vec<ScreeningSchedule>, StoreError> {
        let (lo, hi) = vis.range();
        Ok(on_db!(self, |p| {
            sqlx::query_as(
            "SELECT grid_code, every_days, next_due_at, last_done_at, set_by, updated_at FROM screening_schedules \
             WHERE grid_code >= $1 AND grid_code < $2 ORDER BY next_due_at LIMIT 2000"
        )
        .bind(&lo)
        .bind(&hi)
        .fetch_all(p)
        .await
        })?)
    }

    /// Records a screening and moves the grid's round on from it, in one transaction. `Ok(false)`
    /// when the grid has no round.
    pub async fn record_screening(&self, r: &ScreeningRow) -> Result<bool, StoreError> {
        let round: Option<(i64,)> = on_db!(self, |p| sqlx::query_as(
            "SELECT every_days FROM screening_schedules WHERE grid_code = $1"
        )
        .bind(&r.grid_code)
        .fetch_optional(p)
        .await)?;
        // Rounds are set and changed, never removed: the one read here is the one moved on.
        let Some((every,)) = round else {
            return Ok(false);
        };
        on_db!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO screenings (id, grid_code, done_at, done_by, findings, notes) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(r.id)
            .bind(&r.grid_code)
            .bind(r.done_at)
            .bind(&r.done_by)
            .bind(r.findings)
            .bind(&r.notes)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE screening_schedules SET last_done_at = $2, next_due_at = $3 WHERE grid_code = $1",
            )
            .bind(&r.grid_code)
            .bind(r.done_at)
            .bind(r.done_at + chrono::Duration::days(every))
            .execute(&mut *tx)
            .await?;
            tx.commit().await
        })?;
        Ok(true)
    }
}

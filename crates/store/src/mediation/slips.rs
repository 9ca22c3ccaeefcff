//! Transfer slips between organisations and departments. Their own area because a slip is read
//! and answered by whoever it was sent to, by organisation or department rather than through the
//! case's sight, and its receipt and its reply are each recorded once.

use crate::{StoreError, on_db};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::FromRow;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize, FromRow)]
pub struct SlipRow {
    pub id: Uuid,
    pub region_code: String,
    pub case_id: Option<Uuid>,
    pub from_org: Uuid,
    pub to_org: Option<Uuid>,
    pub to_department: Option<Uuid>,
    pub reason: String,
    pub receipt_due_at: DateTime<Utc>,
    pub reply_due_at: DateTime<Utc>,
    pub received_at: Option<DateTime<Utc>>,
    pub received_by: Option<String>,
    pub replied_at: Option<DateTime<Utc>>,
    pub reply: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

const SLIP_COLUMNS: &str = "SELECT id, region_code, case_id, from_org, to_org, to_department, reason, \
    receipt_due_at, reply_due_at, received_at, received_by, replied_at, reply, created_by, created_at FROM transfer_slips";

impl crate::Store {
    pub async fn insert_slip(&self, s: &SlipRow) -> Result<(), StoreError> {
        on_db!(self, |p| {
            sqlx::query(
            "INSERT INTO transfer_slips (id, region_code, case_id, from_org, to_org, to_department, reason, \
             receipt_due_at, reply_due_at, received_at, received_by, replied_at, reply, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        )
        .bind(s.id)
        .bind(&s.region_code)
        .bind(s.case_id)
        .bind(s.from_org)
        .bind(s.to_org)
        .bind(s.to_department)
        .bind(&s.reason)
        .bind(s.receipt_due_at)
        .bind(s.reply_due_at)
        .bind(s.received_at)
        .bind(&s.received_by)
        .bind(s.replied_at)
        .bind(&s.reply)
        .bind(&s.created_by)
        .bind(s.created_at)
        .execute(p)
        .await
        .map(|_| ())
        })?;
        Ok(())
    }

    pub async fn slip(&self, id: Uuid) -> Result<Option<SlipRow>, StoreError> {
        Ok(on_db!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            format!("{SLIP_COLUMNS} WHERE id = $1")
        ))
        .bind(id)
        .fetch_optional(p)
        .await)?)
    }

    pub async fn slips_of_case(&self, case: Uuid) -> Result<Vec<SlipRow>, StoreError> {
        Ok(on_db!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            format!("{SLIP_COLUMNS} WHERE case_id = $1 ORDER BY created_at")
        ))
        .bind(case)
        .fetch_all(p)
        .await)?)
    }

    /// Slips sent to an organisation or a department, newest first.
    pub async fn slips_to(
        &self,
        org: Option<Uuid>,
        department: Option<Uuid>,
    ) -> Result<Vec<SlipRow>, StoreError> {
        Ok(on_db!(self, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SLIP_COLUMNS} WHERE to_org = $1 OR to_department = $2 ORDER BY created_at DESC LIMIT 500"
        )))
        .bind(org)
        .bind(department)
        .fetch_all(p)
        .await
        })?)
    }

    /// Records a slip's receipt (once) or its reply (once): `Ok(false)` when already done.
    pub async fn answer_slip(
        &self,
        id: Uuid,
        received: Option<(&str, DateTime<Utc>)>,
        reply: Option<(&str, DateTime<Utc>)>,
    ) -> Result<bool, StoreError> {
        let (sql, at, text) = match (received, reply) {
            (Some((by, at)), _) => (
                "UPDATE transfer_slips SET received_at = $2, received_by = $3 WHERE id = $1 AND received_at IS NULL",
                at,
                by,
            ),
            (None, Some((text, at))) => (
                "UPDATE transfer_slips SET replied_at = $2, reply = $3 WHERE id = $1 AND replied_at IS NULL AND received_at IS NOT NULL",
                at,
                text,
            ),
            (None, None) => return Ok(false),
        };
        let done = on_db!(self, |p| sqlx::query(sql)
            .bind(id)
            .bind(at)
            .bind(text)
            .execute(p)
            .await
            .map(|r| r.rows_affected() == 1))?;
        Ok(done)
    }
}

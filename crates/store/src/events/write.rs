//! Event writes outside the group commit: the demo's bulk load, single moves, light claims,
//! notices and the street's ratings. Together because each is its own short transaction whose
//! conflicts (a version moved on, a rating given twice) are answered here, not by the caller.

use super::rows::insert_move;
use super::{
    EventRow, EventWithHistory, NewMove, NewNotification, WhistleRating, insert_event_rows,
    insert_move_rows, insert_notification_rows, update_event_row,
};
use crate::{StoreError, on_db};
use chrono::{DateTime, Utc};

impl crate::Store {
    /// The next number of a county's day, atomically (unique under concurrent intake).
    pub async fn next_event_seq(&self, county: &str, day: &str) -> Result<i64, StoreError> {
        let (n,): (i64,) = on_db!(self, |p| sqlx::query_as(
            "INSERT INTO event_sequences (county, day, seq) VALUES ($1, $2, 1) \
             ON CONFLICT (county, day) DO UPDATE SET seq = event_sequences.seq + 1 RETURNING seq"
        )
        .bind(county)
        .bind(day)
        .fetch_one(p)
        .await)?;
        Ok(n)
    }

    /// Writes a new event and its first history entry. A repeated idempotency key is a conflict
    /// the caller answers with the first event.
    pub async fn insert_event(&self, e: &EventRow, first: &NewMove) -> Result<(), StoreError> {
        match self
            .insert_events_bulk(&[(e.clone(), vec![(first.clone(), e.created_at)])])
            .await
        {
            Err(StoreError::Database(sqlx::Error::Database(d))) if d.is_unique_violation() => {
                Err(StoreError::Conflict("idempotency".into()))
            }
            other => other,
        }
    }

    /// Writes many events with their histories at once (the demo's year of events), and moves each
    /// county's daily numbering past the codes used.
    pub async fn insert_events_bulk(&self, events: &[EventWithHistory]) -> Result<(), StoreError> {
        let mut last: std::collections::BTreeMap<(String, String), i64> =
            std::collections::BTreeMap::new();
        for (e, _) in events {
            let key = (e.region_code.clone(), e.code[6..14].to_string());
            let seq: i64 = e.code[14..].parse().unwrap_or(0);
            let entry = last.entry(key).or_insert(0);
            *entry = (*entry).max(seq);
        }
        on_db!(self, |pool| {
            let mut tx = pool.begin().await?;
            for chunk in events.chunks(400) {
                let rows: Vec<&EventRow> = chunk.iter().map(|(e, _)| e).collect();
                insert_event_rows!(tx, &rows)?;
            }
            let moves: Vec<(&EventRow, i64, &NewMove, DateTime<Utc>)> = events
                .iter()
                .flat_map(|(e, ms)| {
                    ms.iter()
                        .enumerate()
                        .map(move |(i, (m, at))| (e, i as i64 + 1, m, *at))
                })
                .collect();
            for chunk in moves.chunks(2000) {
                insert_move_rows!(tx, chunk)?;
            }
            for ((county, day), seq) in &last {
                sqlx::query(
                    "INSERT INTO event_sequences (county, day, seq) VALUES ($1, $2, $3) \
                     ON CONFLICT (county, day) DO UPDATE SET seq = CASE WHEN event_sequences.seq > excluded.seq THEN event_sequences.seq ELSE excluded.seq END",
                )
                .bind(county)
                .bind(day)
                .bind(*seq)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await
        })?;
        Ok(())
    }

    /// Writes a move: the event's new state if its version is still `expected_version`, and the
    /// history entry, together. `Ok(false)` when someone else moved the event first.
    pub async fn apply_event_move(
        &self,
        e: &EventRow,
        expected_version: i64,
        m: &NewMove,
    ) -> Result<bool, StoreError> {
        let done = on_db!(self, |pool| {
            let mut tx = pool.begin().await?;
            if !update_event_row!(tx, e, expected_version)? {
                tx.rollback().await?;
                return Ok::<bool, StoreError>(false);
            }
            insert_move(&mut tx, e, e.version, m).await?;
            tx.commit().await?;
            true
        });
        Ok(done)
    }

    /// Claims the announcement of a light for an event's running step: true for exactly one caller
    /// even when several servers scan at once (not a workflow move: no version).
    pub async fn claim_light(&self, e: &EventRow, light: &str) -> Result<bool, StoreError> {
        Ok(on_db!(self, |p| {
            sqlx::query(
            "UPDATE events SET light_notified = $3 WHERE region_code = $1 AND id = $2 AND light_notified = $4"
        )
        .bind(&e.region_code)
        .bind(e.id)
        .bind(light)
        .bind(&e.light_notified)
        .execute(p)
        .await
        .map(|r| r.rows_affected() == 1)
        })?)
    }

    pub async fn insert_notifications(&self, batch: &[NewNotification]) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let at = crate::registry::now();
        let rows: Vec<&NewNotification> = batch.iter().collect();
        on_db!(self, |p| {
            let mut conn = p.acquire().await?;
            insert_notification_rows!(conn, rows, at).map(|_| ())
        })?;
        Ok(())
    }

    /// Stores the street's rating of each summoned department; all or none, once per department.
    pub async fn insert_whistle_ratings(
        &self,
        e: &EventRow,
        ratings: &[WhistleRating],
        rated_by: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        // The errors stay inside the block so a unique violation can be told apart below.
        let r: Result<(), sqlx::Error> = on_db!(self, |pool| {
            async {
            let mut tx = pool.begin().await?;
            for w in ratings {
                sqlx::query(
                    "INSERT INTO whistle_ratings (region_code, event_id, department, speed, cooperation, result, comment, rated_by, rated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(&e.region_code)
                .bind(e.id)
                .bind(&w.department)
                .bind(w.speed)
                .bind(w.cooperation)
                .bind(w.result)
                .bind(&w.comment)
                .bind(rated_by)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await
        }
        .await
        });
        match r {
            Ok(()) => Ok(()),
            Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                Err(StoreError::Conflict("已评价过该部门".into()))
            }
            Err(e) => Err(e.into()),
        }
    }
}

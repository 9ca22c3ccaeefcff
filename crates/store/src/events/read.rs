//! Event reads: single events, the filtered lists, the likely-duplicate search, the events whose
//! light turns, and an event's history, notices and ratings. Each read takes the caller's sight
//! (or is keyed by something only its owner holds), so no handler can read past it.

use super::{
    EVENT_COLUMNS, EventQuery, EventRow, MoveRow, NEAR_LIMIT, NearBox, NearbyEvent, WhistleRating,
    like_literal, nearby_fields,
};
use crate::{StoreError, on_db};
use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;
use uuid::Uuid;
use wangge_domain::access::Visibility;
use wangge_domain::calendar::Light;

impl crate::Store {
    /// The event a citizen's tracking code names (the code is random; it is the citizen's key).
    pub async fn event_by_tracking_code(&self, code: &str) -> Result<Option<EventRow>, StoreError> {
        Ok(on_db!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            format!("{EVENT_COLUMNS} WHERE tracking_code = $1")
        ))
        .bind(code)
        .fetch_optional(p)
        .await)?)
    }

    pub async fn event_by_idempotency(&self, key: &str) -> Result<Option<EventRow>, StoreError> {
        Ok(on_db!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            format!("{EVENT_COLUMNS} WHERE idempotency_key = $1")
        ))
        .bind(key)
        .fetch_optional(p)
        .await)?)
    }

    /// An event the caller sees: its grid lies in sight, or (a department) it was sent to them.
    pub async fn event(
        &self,
        vis: &Visibility,
        department: Option<&str>,
        id: Uuid,
    ) -> Result<Option<EventRow>, StoreError> {
        let row: Option<EventRow> = on_db!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            format!("{EVENT_COLUMNS} WHERE id = $1")
        ))
        .bind(id)
        .fetch_optional(p)
        .await)?;
        Ok(row.filter(|e| match department {
            Some(d) => e.departments.split(' ').any(|x| x == d),
            None => vis.sees(&e.grid_code),
        }))
    }

    /// Events in sight, newest first.
    pub async fn events(
        &self,
        vis: &Visibility,
        department: Option<&str>,
        q: &EventQuery,
    ) -> Result<Vec<EventRow>, StoreError> {
        let (lo, hi) = vis.range();
        // Over a county or more, SQLite should walk the time index and stop at the page's end;
        // left to itself it takes the place index and sorts the whole area (0.1 s at 100,000
        // events). A unary plus keeps it off the place index; PostgreSQL's planner has the
        // statistics to choose by itself.
        let place = if vis.is_wide() && self.backend() == crate::Backend::Sqlite {
            "+grid_code"
        } else {
            "grid_code"
        };
        Ok(on_db!(self, |p| {
            let mut b = QueryBuilder::new(EVENT_COLUMNS);
            b.push(" WHERE 1 = 1");
            push_sight(&mut b, department, place, &lo, &hi);
            push_filters(&mut b, q);
            if let Some((light, at)) = q.light {
                push_light(&mut b, light, at);
            }
            b.push(" ORDER BY created_at DESC, id DESC LIMIT ")
                .push_bind(q.limit.clamp(1, 500))
                .push(" OFFSET ")
                .push_bind(q.offset.max(0));
            b.build_query_as::<EventRow>().fetch_all(p).await
        })?)
    }

    /// Open events of a category reported since a time whose point lies in a box around a point
    /// (the caller measures the exact distance), within sight, newest first.
    pub async fn open_events_near(
        &self,
        vis: &Visibility,
        category: &str,
        since: DateTime<Utc>,
        (lon, lat): (f64, f64),
        half_box_deg: f64,
    ) -> Result<Vec<NearbyEvent>, StoreError> {
        let (lo, hi) = vis.range();
        let b = NearBox::around(lon, lat, half_box_deg);
        // The WHERE repeats the partial index's condition word for word (SQLite uses a partial
        // index only then) and leaves the time to the filter below: given a time range, SQLite
        // preferred a time index and read every recent event of the category.
        let mut near: Vec<NearbyEvent> = on_db!(self, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {} FROM events WHERE category_code = $1 AND state NOT IN ('closed', 'rejected', 'merged') \
                 AND lat BETWEEN $2 AND $3 AND lon BETWEEN $4 AND $5 AND grid_code >= $6 AND grid_code < $7 LIMIT 1000",
                nearby_fields!()
            )))
            .bind(category)
            .bind(b.lat_lo)
            .bind(b.lat_hi)
            .bind(b.lon_lo)
            .bind(b.lon_hi)
            .bind(&lo)
            .bind(&hi)
            .fetch_all(p)
            .await
        })?;
        near.retain(|e| e.created_at >= since);
        near.sort_by_key(|e| std::cmp::Reverse(e.created_at));
        near.truncate(NEAR_LIMIT);
        Ok(near)
    }

    /// Open, running steps whose light changed since it was last announced: turned yellow, or
    /// overdue (oldest first, at most `limit` of each kind). Three index ranges, each read in
    /// index order, never a scan of every open event. Written as three ordered, limited parts on
    /// purpose: as one `OR`, PostgreSQL's generic plan for the prepared statement (used after a
    /// few runs) guesses a third of the table matches and reads all of it — 0.3 s at a million
    /// open events instead of 5 ms.
    pub async fn events_turning(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<EventRow>, StoreError> {
        let columns = EVENT_COLUMNS
            .strip_prefix("SELECT ")
            .and_then(|c| c.strip_suffix(" FROM events"))
            .unwrap_or("*");
        let part = |condition: &str, order: &str| {
            format!(
                "SELECT * FROM (SELECT {columns} FROM events WHERE {condition} AND suspended_at IS NULL \
                 ORDER BY {order} LIMIT $2) t_{order}"
            )
        };
        let sql = [
            part("light_notified = 'green' AND yellow_at <= $1", "yellow_at"),
            part(
                "light_notified = 'green' AND step_due_at < $1",
                "step_due_at",
            ),
            part(
                "light_notified = 'yellow' AND step_due_at < $1",
                "step_due_at",
            ),
        ]
        .join(" UNION ALL ");
        let rows: Vec<EventRow> = on_db!(self, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(now)
                .bind(limit)
                .fetch_all(p)
                .await
        })?;
        // A green step already overdue is found by two parts: keep it once.
        let mut seen = std::collections::HashSet::new();
        Ok(rows.into_iter().filter(|e| seen.insert(e.id)).collect())
    }

    pub async fn notifications_for_event(
        &self,
        event: Uuid,
    ) -> Result<Vec<(String, String)>, StoreError> {
        Ok(on_db!(self, |p| {
            sqlx::query_as("SELECT recipient, kind FROM notifications WHERE event_id = $1 ORDER BY created_at, recipient")
            .bind(event)
            .fetch_all(p)
            .await
        })?)
    }

    pub async fn whistle_ratings(&self, e: &EventRow) -> Result<Vec<WhistleRating>, StoreError> {
        Ok(on_db!(self, |p| {
            sqlx::query_as(
            "SELECT department, speed, cooperation, result, comment FROM whistle_ratings WHERE region_code = $1 AND event_id = $2 ORDER BY department"
        )
        .bind(&e.region_code)
        .bind(e.id)
        .fetch_all(p)
        .await
        })?)
    }

    pub async fn event_history(&self, e: &EventRow) -> Result<Vec<MoveRow>, StoreError> {
        Ok(on_db!(self, |p| {
            sqlx::query_as(
            "SELECT seq, move AS move_name, body, from_state, to_state, actor, actor_role, department, ip, at FROM event_moves \
             WHERE region_code = $1 AND event_id = $2 ORDER BY seq"
        )
        .bind(&e.region_code)
        .bind(e.id)
        .fetch_all(p)
        .await
        })?)
    }
}

/// Keeps a list to what its caller sees: a department the events sent to it, anyone else the
/// events of the grids in sight (`lo`..`hi`, `place` the column as SQLite should see it).
/// Generic, like the two below, so the conditions are written once for both backends.
fn push_sight<DB>(
    b: &mut QueryBuilder<DB>,
    department: Option<&str>,
    place: &str,
    lo: &str,
    hi: &str,
) where
    DB: sqlx::Database,
    String: sqlx::Type<DB> + for<'q> sqlx::Encode<'q, DB>,
{
    match department {
        Some(d) => {
            b.push(" AND departments LIKE ")
                .push_bind(format!("% {d} %"));
        }
        None => {
            b.push(format!(" AND {place} >= "))
                .push_bind(lo.to_string())
                .push(format!(" AND {place} < "))
                .push_bind(hi.to_string());
        }
    }
}

/// The list query's own filters, each only when asked for; typed text is matched literally.
fn push_filters<DB>(b: &mut QueryBuilder<DB>, q: &EventQuery)
where
    DB: sqlx::Database,
    String: sqlx::Type<DB> + for<'q> sqlx::Encode<'q, DB>,
    Uuid: sqlx::Type<DB> + for<'q> sqlx::Encode<'q, DB>,
    DateTime<Utc>: sqlx::Type<DB> + for<'q> sqlx::Encode<'q, DB>,
{
    if let Some((at, id)) = q.before {
        b.push(" AND (created_at < ")
            .push_bind(at)
            .push(" OR (created_at = ")
            .push_bind(at)
            .push(" AND id < ")
            .push_bind(id)
            .push("))");
    }
    if let Some(v) = &q.grid_prefix {
        let (l, h) = wangge_domain::region::code_range(v);
        b.push(" AND grid_code >= ")
            .push_bind(l)
            .push(" AND grid_code < ")
            .push_bind(h);
    }
    if let Some(v) = &q.state {
        b.push(" AND state = ").push_bind(v.clone());
    }
    if let Some(v) = &q.category {
        b.push(" AND category_code LIKE ")
            .push_bind(format!("{}%", like_literal(v)))
            .push(" ESCAPE '!'");
    }
    if let Some(v) = &q.urgency {
        b.push(" AND urgency = ").push_bind(v.clone());
    }
    if let Some(v) = &q.department {
        b.push(" AND departments LIKE ")
            .push_bind(format!("% {} %", like_literal(v)))
            .push(" ESCAPE '!'");
    }
    if let Some(v) = &q.text {
        b.push(" AND description LIKE ")
            .push_bind(format!("%{}%", like_literal(v)))
            .push(" ESCAPE '!'");
    }
    if let Some(v) = q.from {
        b.push(" AND created_at >= ").push_bind(v);
    }
    if let Some(v) = q.to {
        b.push(" AND created_at < ").push_bind(v);
    }
}

/// Only the events whose running step shows `light` at `at`, by the counters' rule
/// (calendar::step_light): a suspended step is neither yellow nor red; red past its due time,
/// yellow from its yellow time.
fn push_light<DB>(b: &mut QueryBuilder<DB>, light: Light, at: DateTime<Utc>)
where
    DB: sqlx::Database,
    DateTime<Utc>: sqlx::Type<DB> + for<'q> sqlx::Encode<'q, DB>,
{
    match light {
        Light::Red => {
            b.push(" AND suspended_at IS NULL AND step_due_at < ")
                .push_bind(at);
        }
        Light::Yellow => {
            b.push(" AND suspended_at IS NULL AND yellow_at <= ")
                .push_bind(at)
                .push(" AND step_due_at >= ")
                .push_bind(at);
        }
        Light::Green => {
            b.push(" AND step_due_at IS NOT NULL AND (suspended_at IS NOT NULL OR yellow_at > ")
                .push_bind(at)
                .push(" OR yellow_at IS NULL)");
        }
    }
}

//! The command centre's numbers: counters, map points and breakdowns of the events in sight.
//! Apart from the event reads because these are counted in the database, and each is written to
//! read one index range, not the area's whole history: their cost is in the queries' shape.

use super::{EventBreakdown, EventCounts, EventPoint, closed_today_sql};
use crate::{StoreError, on_db};
use chrono::{DateTime, Utc};
use wangge_domain::access::Visibility;

impl crate::Store {
    /// Counters over the events in sight: reported and closed since `day_start`, open now, and of
    /// the open ones how many are yellow or red at `now` and how many are whistled. Three index
    /// reads (open events by state, today's by time, today's closures by state and time), never
    /// a pass over the area's whole history.
    pub async fn event_counts(
        &self,
        vis: &Visibility,
        day_start: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<EventCounts, StoreError> {
        let (lo, hi) = vis.range();
        // As in `events`: over a wide area SQLite must not prefer the place index.
        let place = if vis.is_wide() && self.backend() == crate::Backend::Sqlite {
            "+grid_code"
        } else {
            "grid_code"
        };
        let open_sql = String::from(
            "SELECT COUNT(*) AS open, \
               COALESCE(SUM(CASE WHEN suspended_at IS NULL AND yellow_at <= $1 AND step_due_at >= $1 THEN 1 ELSE 0 END), 0) AS yellow, \
               COALESCE(SUM(CASE WHEN suspended_at IS NULL AND step_due_at < $1 THEN 1 ELSE 0 END), 0) AS red, \
               COALESCE(SUM(CASE WHEN state IN ('dispatched', 'handling') AND flow LIKE '%\"whistled\":true%' THEN 1 ELSE 0 END), 0) AS whistles_open \
             FROM events WHERE state IN ('reported', 'accepted', 'dispatched', 'handling', 'handled') \
               AND grid_code >= $2 AND grid_code < $3",
        );
        let today_sql = format!(
            "SELECT COUNT(*) FROM events WHERE created_at >= $1 AND {place} >= $2 AND {place} < $3"
        );
        let closed_sql = closed_today_sql(place);
        let ((open, yellow, red, whistles_open), (reported_today,), (closed_today,)): (
            (i64, i64, i64, i64),
            (i64,),
            (i64,),
        ) = on_db!(self, |p| {
            let open = sqlx::query_as(sqlx::AssertSqlSafe(open_sql.clone()))
                .bind(now)
                .bind(&lo)
                .bind(&hi)
                .fetch_one(p)
                .await?;
            let today = sqlx::query_as(sqlx::AssertSqlSafe(today_sql.clone()))
                .bind(day_start)
                .bind(&lo)
                .bind(&hi)
                .fetch_one(p)
                .await?;
            let closed = sqlx::query_as(sqlx::AssertSqlSafe(closed_sql.clone()))
                .bind(day_start)
                .bind(&lo)
                .bind(&hi)
                .fetch_one(p)
                .await?;
            Ok::<_, sqlx::Error>((open, today, closed))
        })?;
        Ok(EventCounts {
            reported_today,
            open,
            yellow,
            red,
            whistles_open,
            closed_today,
        })
    }

    /// The open events in sight as map points, most urgent step first, at most `limit` of them
    /// (one read of the open events by state; the map of a county or a city shows them all).
    pub async fn open_event_points(
        &self,
        vis: &Visibility,
        limit: i64,
    ) -> Result<Vec<EventPoint>, StoreError> {
        let (lo, hi) = vis.range();
        let sql = "SELECT id, code, category_code, state, urgency, grid_code, lon, lat, \
                     step_due_at, yellow_at, suspended_at \
                   FROM events WHERE state IN ('reported', 'accepted', 'dispatched', 'handling', 'handled') \
                     AND grid_code >= $1 AND grid_code < $2 \
                   ORDER BY step_due_at IS NULL, step_due_at, id LIMIT $3";
        Ok(on_db!(self, |p| sqlx::query_as(sql)
            .bind(&lo)
            .bind(&hi)
            .bind(limit)
            .fetch_all(p)
            .await)?)
    }

    /// Each grid's open events in sight, and how many of them are yellow or red at `now` (the
    /// counters' rule: a suspended step is neither): one grouped read of the open events.
    pub async fn open_counts_by_grid(
        &self,
        vis: &Visibility,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, i64, i64, i64)>, StoreError> {
        let (lo, hi) = vis.range();
        let sql = "SELECT grid_code, COUNT(*), \
               COALESCE(SUM(CASE WHEN suspended_at IS NULL AND yellow_at <= $1 AND step_due_at >= $1 THEN 1 ELSE 0 END), 0), \
               COALESCE(SUM(CASE WHEN suspended_at IS NULL AND step_due_at < $1 THEN 1 ELSE 0 END), 0) \
             FROM events WHERE state IN ('reported', 'accepted', 'dispatched', 'handling', 'handled') \
               AND grid_code >= $2 AND grid_code < $3 GROUP BY grid_code";
        Ok(on_db!(self, |p| sqlx::query_as(sql)
            .bind(now)
            .bind(&lo)
            .bind(&hi)
            .fetch_all(p)
            .await)?)
    }

    /// The events in sight reported since `since`, counted by category, domain, township and
    /// Beijing day: four grouped reads of one time range of the index.
    pub async fn event_breakdown(
        &self,
        vis: &Visibility,
        since: DateTime<Utc>,
    ) -> Result<EventBreakdown, StoreError> {
        let (lo, hi) = vis.range();
        let sqlite = self.backend() == crate::Backend::Sqlite;
        // As in `events`: over a wide area SQLite must not prefer the place index.
        let place = if vis.is_wide() && sqlite {
            "+grid_code"
        } else {
            "grid_code"
        };
        // China keeps no summer time: the Beijing day is the UTC time moved on eight hours.
        let day = if sqlite {
            "date(created_at, '+8 hours')"
        } else {
            "to_char((created_at AT TIME ZONE 'UTC') + INTERVAL '8 hours', 'YYYY-MM-DD')"
        };
        let grouped = |key: &str| {
            format!(
                "SELECT {key} AS k, COUNT(*) AS n FROM events \
                 WHERE created_at >= $1 AND {place} >= $2 AND {place} < $3 \
                 GROUP BY {key} ORDER BY {key}"
            )
        };
        let sqls = [
            grouped("category_code"),
            grouped("domain"),
            grouped("substr(grid_code, 1, 9)"),
            grouped(day),
        ];
        let mut lists: Vec<Vec<(String, i64)>> = Vec::with_capacity(4);
        for sql in sqls {
            let rows: Vec<(String, i64)> =
                on_db!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                    .bind(since)
                    .bind(&lo)
                    .bind(&hi)
                    .fetch_all(p)
                    .await)?;
            lists.push(rows);
        }
        let by_day = lists.pop().unwrap_or_default();
        let by_township = lists.pop().unwrap_or_default();
        let by_domain = lists.pop().unwrap_or_default();
        let by_category = lists.pop().unwrap_or_default();
        Ok(EventBreakdown {
            by_category,
            by_domain,
            by_township,
            by_day,
        })
    }
}

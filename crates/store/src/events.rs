//! Events: intake with idempotency and daily codes, reads within sight, and moves written with an
//! optimistic version check so two dispatchers cannot both accept.

use crate::{StoreError, on_db};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, QueryBuilder};
use uuid::Uuid;
use wangge_domain::access::Visibility;

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct EventRow {
    pub region_code: String,
    pub id: Uuid,
    pub code: String,
    #[serde(skip)]
    pub tracking_code: String,
    pub category_code: String,
    pub domain: String,
    pub urgency: String,
    pub state: String,
    #[serde(skip)]
    pub flow: String,
    pub version: i64,
    pub source: String,
    pub description: String,
    pub address: Option<String>,
    pub lon: f64,
    pub lat: f64,
    pub grid_code: String,
    pub reporter_account: Option<Uuid>,
    #[serde(skip)]
    pub reporter_phone_enc: Option<String>,
    #[serde(skip)]
    pub reporter_phone_idx: Option<String>,
    #[serde(skip)]
    pub idempotency_key: Option<String>,
    pub lead_department: Option<String>,
    #[serde(skip)]
    pub departments: String,
    pub step: Option<String>,
    pub step_started_at: Option<DateTime<Utc>>,
    pub step_due_at: Option<DateTime<Utc>>,
    pub step_due_provisional: i64,
    pub suspended_at: Option<DateTime<Utc>>,
    pub extension_minutes: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the running step's light turns yellow.
    pub yellow_at: Option<DateTime<Utc>>,
    /// The last light announced for the running step.
    pub light_notified: String,
}

pub(crate) const EVENT_COLUMNS: &str = "SELECT region_code, id, code, tracking_code, category_code, domain, urgency, state, flow, version, source, \
     description, address, lon, lat, grid_code, reporter_account, reporter_phone_enc, reporter_phone_idx, idempotency_key, \
     lead_department, departments, step, step_started_at, step_due_at, step_due_provisional, suspended_at, extension_minutes, \
     created_at, updated_at, yellow_at, light_notified FROM events";

/// Events of an area closed since `$1` (`$2`..`$3` a range of grid codes, `place` the column as
/// the caller wants SQLite to see it): the counters' "closed today".
pub(crate) fn closed_today_sql(place: &str) -> String {
    format!(
        "SELECT COUNT(*) FROM events WHERE state = 'closed' AND updated_at >= $1 AND {place} >= $2 AND {place} < $3"
    )
}

/// At most this many open events near a point are read for the likely-duplicate hint, the most
/// recent first: a hint for a dispatcher, not a search, and a spot reported a thousand times
/// must not cost a thousand rows per report (measured: with a dozen repeats of every spot, full
/// rows of up to fifty candidates cost intake more than half its rate).
pub(crate) const NEAR_LIMIT: usize = 10;

/// What the likely-duplicate hint needs of an open event near a new one.
#[derive(Debug, Clone, FromRow)]
pub struct NearbyEvent {
    pub id: Uuid,
    pub code: String,
    pub category_code: String,
    pub state: String,
    pub description: String,
    pub lon: f64,
    pub lat: f64,
    pub grid_code: String,
    /// The departments it was sent to: a department's staff see only those.
    pub departments: String,
    pub created_at: DateTime<Utc>,
}

/// The columns of [`NearbyEvent`], as a literal for `concat!`.
macro_rules! nearby_fields {
    () => {
        "id, code, category_code, state, description, lon, lat, grid_code, departments, created_at"
    };
}
pub(crate) use nearby_fields;

/// The box around a point in which open events are candidates for the likely-duplicate hint:
/// `half` degrees of latitude each way and the same ground distance in longitude. Callers trim
/// the corners by the exact distance.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NearBox {
    pub lat_lo: f64,
    pub lat_hi: f64,
    pub lon_lo: f64,
    pub lon_hi: f64,
}

impl NearBox {
    pub(crate) fn around(lon: f64, lat: f64, half: f64) -> NearBox {
        let half_lon = half / lat.to_radians().cos().max(0.1);
        NearBox {
            lat_lo: lat - half,
            lat_hi: lat + half,
            lon_lo: lon - half_lon,
            lon_hi: lon + half_lon,
        }
    }
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct MoveRow {
    pub seq: i64,
    #[serde(rename = "move")]
    pub move_name: String,
    pub body: String,
    pub from_state: String,
    pub to_state: String,
    pub actor: String,
    pub actor_role: String,
    pub department: Option<String>,
    #[serde(skip)]
    pub ip: Option<String>,
    pub at: DateTime<Utc>,
}

/// The street's rating of one department's response to a whistle, 1–5 on each count.
#[derive(Debug, Clone, FromRow, Serialize, serde::Deserialize)]
pub struct WhistleRating {
    pub department: String,
    pub speed: i64,
    pub cooperation: i64,
    pub result: i64,
    #[serde(default)]
    pub comment: String,
}

/// An event with its history, each move with the time it was made.
pub type EventWithHistory = (EventRow, Vec<(NewMove, DateTime<Utc>)>);

/// A notice to someone about an event (its light changed, it was escalated).
#[derive(Debug, Clone)]
pub struct NewNotification {
    pub region_code: String,
    pub event_id: Option<Uuid>,
    pub recipient: String,
    pub kind: String,
    pub message: String,
    pub channel: String,
}

/// A move to record beside the event's new state.
#[derive(Debug, Clone)]
pub struct NewMove {
    pub move_name: String,
    pub body: String,
    pub from_state: String,
    pub to_state: String,
    pub actor: String,
    pub actor_role: String,
    pub department: Option<String>,
    pub ip: Option<String>,
}

/// The command centre's counters for the events in sight.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EventCounts {
    pub reported_today: i64,
    pub open: i64,
    pub yellow: i64,
    pub red: i64,
    pub whistles_open: i64,
    pub closed_today: i64,
}

/// An open event as a point on the command centre's map: where it is, what it is, and the
/// times its light is computed from.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct EventPoint {
    pub id: Uuid,
    pub code: String,
    pub category_code: String,
    pub state: String,
    pub urgency: String,
    pub grid_code: String,
    pub lon: f64,
    pub lat: f64,
    pub step_due_at: Option<DateTime<Utc>>,
    pub yellow_at: Option<DateTime<Utc>>,
    pub suspended_at: Option<DateTime<Utc>>,
}

/// Events reported since a time, counted four ways for the command centre's charts. Each list
/// is (key, count); the day is the Beijing calendar day `YYYY-MM-DD`, the township the first nine
/// digits of the grid code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EventBreakdown {
    pub by_category: Vec<(String, i64)>,
    pub by_domain: Vec<(String, i64)>,
    pub by_township: Vec<(String, i64)>,
    pub by_day: Vec<(String, i64)>,
}

/// What a list query filters on; every field optional.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    pub state: Option<String>,
    pub category: Option<String>,
    pub urgency: Option<String>,
    pub grid_prefix: Option<String>,
    pub department: Option<String>,
    pub text: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Only events whose running step shows this light at this time (a suspended step's light
    /// stands at the moment it was suspended), so that paging counts only them.
    pub light: Option<(wangge_domain::calendar::Light, DateTime<Utc>)>,
    /// Only events older than this one (time, id): paging by the last row seen, which stays
    /// fast however deep the page.
    pub before: Option<(DateTime<Utc>, Uuid)>,
    pub limit: i64,
    pub offset: i64,
}

/// A text matched literally inside a LIKE pattern (with `ESCAPE '!'`, which reads the same
/// whatever PostgreSQL's `standard_conforming_strings`): `%` and `_` typed by a person are
/// characters, not wildcards.
pub(crate) fn like_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '!' | '%' | '_') {
            out.push('!');
        }
        out.push(c);
    }
    out
}

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
            match department {
                Some(d) => {
                    b.push(" AND departments LIKE ")
                        .push_bind(format!("% {d} %"));
                }
                None => {
                    b.push(format!(" AND {place} >= "))
                        .push_bind(lo.clone())
                        .push(format!(" AND {place} < "))
                        .push_bind(hi.clone());
                }
            }
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
            if let Some((light, at)) = q.light {
                use wangge_domain::calendar::Light;
                // The counters' rule (calendar::step_light): a suspended step is neither yellow
                // nor red; red past its due time, yellow from its yellow time.
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
            b.push(" ORDER BY created_at DESC, id DESC LIMIT ")
                .push_bind(q.limit.clamp(1, 500))
                .push(" OFFSET ")
                .push_bind(q.offset.max(0));
            b.build_query_as::<EventRow>().fetch_all(p).await
        })?)
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

/// A move's UPDATE, guarded by the version the mover saw: `Ok(true)` when it applied. A macro, so
/// each backend's arm of [`on_db!`] binds its own types.
macro_rules! update_event_row {
    ($tx:expr, $e:expr, $expected:expr) => {
        sqlx::query(
                "UPDATE events SET state = $3, flow = $4, version = $5, lead_department = $6, departments = $7, step = $8, \
                 step_started_at = $9, step_due_at = $10, step_due_provisional = $11, suspended_at = $12, extension_minutes = $13, \
                 category_code = $14, domain = $15, updated_at = $16, yellow_at = $18, light_notified = $19 \
                 WHERE region_code = $1 AND id = $2 AND version = $17",
            )
            .bind(&$e.region_code)
            .bind($e.id)
            .bind(&$e.state)
            .bind(&$e.flow)
            .bind($e.version)
            .bind(&$e.lead_department)
            .bind(&$e.departments)
            .bind(&$e.step)
            .bind($e.step_started_at)
            .bind($e.step_due_at)
            .bind($e.step_due_provisional)
            .bind($e.suspended_at)
            .bind($e.extension_minutes)
            .bind(&$e.category_code)
            .bind(&$e.domain)
            .bind($e.updated_at)
            .bind($expected)
            .bind($e.yellow_at)
            .bind(&$e.light_notified)
            .execute(&mut *$tx)
            .await
            .map(|r| r.rows_affected() == 1)
    };
}
pub(crate) use update_event_row;

/// A multi-row INSERT of events (`&[&EventRow]`); see [`update_event_row`] for why a macro.
macro_rules! insert_event_rows {
    ($tx:expr, $rows:expr) => {{
        let mut q = sqlx::QueryBuilder::new(
            "INSERT INTO events (region_code, id, code, tracking_code, category_code, domain, urgency, state, flow, version, source, \
             description, address, lon, lat, grid_code, reporter_account, reporter_phone_enc, reporter_phone_idx, idempotency_key, \
             lead_department, departments, step, step_started_at, step_due_at, step_due_provisional, suspended_at, extension_minutes, \
             created_at, updated_at, yellow_at, light_notified) ",
        );
        q.push_values($rows.iter(), |mut b, e| {
            b.push_bind(e.region_code.clone())
                .push_bind(e.id)
                .push_bind(e.code.clone())
                .push_bind(e.tracking_code.clone())
                .push_bind(e.category_code.clone())
                .push_bind(e.domain.clone())
                .push_bind(e.urgency.clone())
                .push_bind(e.state.clone())
                .push_bind(e.flow.clone())
                .push_bind(e.version)
                .push_bind(e.source.clone())
                .push_bind(e.description.clone())
                .push_bind(e.address.clone())
                .push_bind(e.lon)
                .push_bind(e.lat)
                .push_bind(e.grid_code.clone())
                .push_bind(e.reporter_account)
                .push_bind(e.reporter_phone_enc.clone())
                .push_bind(e.reporter_phone_idx.clone())
                .push_bind(e.idempotency_key.clone())
                .push_bind(e.lead_department.clone())
                .push_bind(e.departments.clone())
                .push_bind(e.step.clone())
                .push_bind(e.step_started_at)
                .push_bind(e.step_due_at)
                .push_bind(e.step_due_provisional)
                .push_bind(e.suspended_at)
                .push_bind(e.extension_minutes)
                .push_bind(e.created_at)
                .push_bind(e.updated_at)
                .push_bind(e.yellow_at)
                .push_bind(e.light_notified.clone());
        });
        q.build().execute(&mut *$tx).await
    }};
}
pub(crate) use insert_event_rows;

/// A multi-row INSERT of history entries (`&[(&EventRow, seq, &NewMove, at)]`).
macro_rules! insert_move_rows {
    ($tx:expr, $rows:expr) => {{
        let mut q = sqlx::QueryBuilder::new(
            "INSERT INTO event_moves (region_code, event_id, seq, move, body, from_state, to_state, actor, actor_role, department, ip, at) ",
        );
        q.push_values($rows.iter(), |mut b, (e, seq, m, at)| {
            b.push_bind(e.region_code.clone())
                .push_bind(e.id)
                .push_bind(*seq)
                .push_bind(m.move_name.clone())
                .push_bind(m.body.clone())
                .push_bind(m.from_state.clone())
                .push_bind(m.to_state.clone())
                .push_bind(m.actor.clone())
                .push_bind(m.actor_role.clone())
                .push_bind(m.department.clone())
                .push_bind(m.ip.clone())
                .push_bind(*at);
        });
        q.build().execute(&mut *$tx).await
    }};
}
pub(crate) use insert_move_rows;

/// The history entry numbered `seq` (the event's version after the move).
pub(crate) async fn insert_move<'c, DB>(
    tx: &mut sqlx::Transaction<'c, DB>,
    e: &EventRow,
    seq: i64,
    m: &NewMove,
) -> Result<(), sqlx::Error>
where
    DB: sqlx::Database,
    for<'a> &'a mut DB::Connection: sqlx::Executor<'a, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    String: sqlx::Type<DB> + for<'q> sqlx::Encode<'q, DB>,
    Uuid: sqlx::Type<DB> + for<'q> sqlx::Encode<'q, DB>,
    i64: sqlx::Type<DB> + for<'q> sqlx::Encode<'q, DB>,
    Option<String>: sqlx::Type<DB> + for<'q> sqlx::Encode<'q, DB>,
    DateTime<Utc>: sqlx::Type<DB> + for<'q> sqlx::Encode<'q, DB>,
{
    sqlx::query(
        "INSERT INTO event_moves (region_code, event_id, seq, move, body, from_state, to_state, actor, actor_role, department, ip, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(e.region_code.clone())
    .bind(e.id)
    .bind(seq)
    .bind(m.move_name.clone())
    .bind(m.body.clone())
    .bind(m.from_state.clone())
    .bind(m.to_state.clone())
    .bind(m.actor.clone())
    .bind(m.actor_role.clone())
    .bind(m.department.clone())
    .bind(m.ip.clone())
    .bind(e.updated_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A multi-row INSERT of notices (`&[&NewNotification]`) stamped `$at`, on a transaction or a
/// connection; a macro so each backend's arm of [`on_db!`] binds its own types.
macro_rules! insert_notification_rows {
    ($tx:expr, $rows:expr, $at:expr) => {{
        let mut q = sqlx::QueryBuilder::new(
            "INSERT INTO notifications (region_code, id, event_id, recipient, kind, message, channel, created_at) ",
        );
        q.push_values($rows.iter(), |mut b, n| {
            b.push_bind(n.region_code.clone())
                .push_bind(uuid::Uuid::now_v7())
                .push_bind(n.event_id)
                .push_bind(n.recipient.clone())
                .push_bind(n.kind.clone())
                .push_bind(n.message.clone())
                .push_bind(n.channel.clone())
                .push_bind($at);
        });
        q.build().execute(&mut *$tx).await
    }};
}
pub(crate) use insert_notification_rows;

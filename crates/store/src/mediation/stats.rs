//! The mediation statistics, counted in the database so that a city's year is one grouped read,
//! not a transfer of every case. Apart from the case reads because the optional filters and the
//! two backends' date arithmetic make SQL text of their own here.

use crate::{StoreError, on_db};
use chrono::{DateTime, Utc};
use uuid::Uuid;
use wangge_domain::access::Visibility;

/// What the statistics count over: a region (by prefix, through the visibility), and optionally
/// one organisation, one mediator (lead or not), one type; a period on the end of mediation.
#[derive(Debug, Clone, Default)]
pub struct StatsQuery {
    pub org: Option<Uuid>,
    pub mediator: Option<Uuid>,
    pub dispute_type: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// The counts as the database returns them; the domain's `Stats` is made from them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatsCounts {
    pub received: i64,
    pub handled: i64,
    pub successful: i64,
    pub failed: i64,
    pub ended: i64,
    pub referred: i64,
    pub performed: i64,
    pub total_days: f64,
}

/// `$n` placeholders for the optional filters, in order, after `first` fixed ones.
fn filters(q: &StatsQuery, first: usize) -> (String, usize) {
    let mut sql = String::new();
    let mut n = first;
    if q.org.is_some() {
        n += 1;
        sql.push_str(&format!(" AND org_id = ${n}"));
    }
    if q.mediator.is_some() {
        n += 1;
        sql.push_str(&format!(" AND (' ' || mediators || ' ') LIKE ${n}"));
    }
    if q.dispute_type.is_some() {
        n += 1;
        sql.push_str(&format!(" AND dispute_type = ${n}"));
    }
    (sql, n)
}

impl crate::Store {
    /// The statistics of the cases in sight: received (opened in the period) and, of those whose
    /// mediation ended in the period, how each ended, how many agreements were performed and the
    /// summed days from opening to the end. Two grouped reads.
    pub async fn mediation_counts(
        &self,
        vis: &Visibility,
        q: &StatsQuery,
    ) -> Result<StatsCounts, StoreError> {
        let (lo, hi) = vis.range();
        let days = match self.backend() {
            crate::Backend::Sqlite => "julianday(ended_at) - julianday(opened_at)",
            crate::Backend::Postgres => "EXTRACT(EPOCH FROM (ended_at - opened_at)) / 86400.0",
        };
        // Open ends as far-off dates both databases store and compare like any other (SQLite
        // compares the text: four-digit years keep the order).
        let from = q.from.unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
        let to = q.to.unwrap_or_else(|| {
            DateTime::parse_from_rfc3339("9999-12-31T00:00:00Z").map_or(Utc::now(), |t| t.to_utc())
        });
        let (extra, _) = filters(q, 4);
        let ended_sql = format!(
            "SELECT COUNT(*) AS handled, \
               COALESCE(SUM(CASE WHEN outcome IN ('agreed_written', 'agreed_oral') THEN 1 ELSE 0 END), 0) AS successful, \
               COALESCE(SUM(CASE WHEN outcome = 'failed' THEN 1 ELSE 0 END), 0) AS failed, \
               COALESCE(SUM(CASE WHEN outcome = 'ended' THEN 1 ELSE 0 END), 0) AS ended, \
               COALESCE(SUM(CASE WHEN outcome = 'referred' THEN 1 ELSE 0 END), 0) AS referred, \
               COALESCE(SUM(CASE WHEN outcome IN ('agreed_written', 'agreed_oral') AND performed_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS performed, \
               CAST(COALESCE(SUM({days}), 0) AS DOUBLE PRECISION) AS total_days \
             FROM mediation_cases WHERE ended_at >= $1 AND ended_at < $2 AND outcome IS NOT NULL \
               AND grid_code >= $3 AND grid_code < $4{extra}"
        );
        let ended_sql = if self.backend() == crate::Backend::Sqlite {
            ended_sql.replace("DOUBLE PRECISION", "REAL")
        } else {
            ended_sql
        };
        let received_sql = format!(
            "SELECT COUNT(*) FROM mediation_cases WHERE opened_at >= $1 AND opened_at < $2 \
               AND grid_code >= $3 AND grid_code < $4{extra}"
        );
        let mediator = q.mediator.map(|m| format!("% {m} %"));
        type Ended = (i64, i64, i64, i64, i64, i64, f64);
        let (ended, (received,)): (Ended, (i64,)) = on_db!(self, |p| {
            let mut e = sqlx::query_as(sqlx::AssertSqlSafe(ended_sql.clone()))
                .bind(from)
                .bind(to)
                .bind(&lo)
                .bind(&hi);
            let mut r = sqlx::query_as(sqlx::AssertSqlSafe(received_sql.clone()))
                .bind(from)
                .bind(to)
                .bind(&lo)
                .bind(&hi);
            if let Some(o) = q.org {
                e = e.bind(o);
                r = r.bind(o);
            }
            if let Some(m) = &mediator {
                e = e.bind(m.clone());
                r = r.bind(m.clone());
            }
            if let Some(t) = &q.dispute_type {
                e = e.bind(t.clone());
                r = r.bind(t.clone());
            }
            let ended = e.fetch_one(p).await?;
            let received = r.fetch_one(p).await?;
            Ok::<_, sqlx::Error>((ended, received))
        })?;
        let (handled, successful, failed, ended_n, referred, performed, total_days) = ended;
        Ok(StatsCounts {
            received,
            handled,
            successful,
            failed,
            ended: ended_n,
            referred,
            performed,
            total_days,
        })
    }
}

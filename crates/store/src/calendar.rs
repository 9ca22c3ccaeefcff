//! The working calendar's days and published years. The rules live in the domain's `Calendar`;
//! this keeps its data, so every server computes the same deadlines.

use crate::{StoreError, on_db};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::QueryBuilder;
use wangge_domain::calendar::{ScheduledDay, YearSchedule};

impl crate::Store {
    /// Loads the shipped notices when the calendar is still empty (first start).
    pub async fn seed_calendar(
        &self,
        shipped: &[YearSchedule],
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let (n,): (i64,) = on_db!(self, |p| sqlx::query_as(
            "SELECT COUNT(*) FROM calendar_years"
        )
        .fetch_one(p)
        .await)?;
        if n > 0 {
            return Ok(false);
        }
        for y in shipped {
            self.load_calendar_year(y, "shipped", now).await?;
        }
        Ok(true)
    }

    /// Replaces one year's notice (its listed days) in one transaction and marks the year loaded.
    pub async fn load_calendar_year(
        &self,
        y: &YearSchedule,
        source: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_db!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM calendar_days WHERE source_year = $1")
                .bind(i64::from(y.year))
                .execute(&mut *tx)
                .await?;
            for chunk in y.days.chunks(500) {
                let mut q =
                    QueryBuilder::new("INSERT INTO calendar_days (day, off, name, source_year) ");
                q.push_values(chunk, |mut b, d: &ScheduledDay| {
                    b.push_bind(d.date.format("%Y-%m-%d").to_string())
                        .push_bind(i64::from(d.off))
                        .push_bind(d.name.clone())
                        .push_bind(i64::from(y.year));
                });
                q.push(" ON CONFLICT (day) DO UPDATE SET off = excluded.off, name = excluded.name, source_year = excluded.source_year");
                q.build().execute(&mut *tx).await?;
            }
            sqlx::query(
                "INSERT INTO calendar_years (year, source, loaded_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (year) DO UPDATE SET source = excluded.source, loaded_at = excluded.loaded_at",
            )
            .bind(i64::from(y.year))
            .bind(source)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            crate::db::bump_revision!(tx, "calendar")?;
            tx.commit().await
        })?;
        Ok(())
    }

    /// Every listed day (date, off) and the loaded years.
    pub async fn calendar_data(&self) -> Result<(Vec<(NaiveDate, bool)>, Vec<i32>), StoreError> {
        let days: Vec<(String, i64)> = on_db!(self, |p| sqlx::query_as(
            "SELECT day, off FROM calendar_days ORDER BY day"
        )
        .fetch_all(p)
        .await)?;
        let years: Vec<(i64,)> = on_db!(self, |p| sqlx::query_as(
            "SELECT year FROM calendar_years ORDER BY year"
        )
        .fetch_all(p)
        .await)?;
        let days = days
            .into_iter()
            .map(|(d, off)| {
                NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                    .map(|d| (d, off != 0))
                    .map_err(|e| StoreError::corrupt(format!("calendar day {d}: {e}")))
            })
            .collect::<Result<_, _>>()?;
        Ok((days, years.into_iter().map(|(y,)| y as i32).collect()))
    }

    pub async fn calendar_revision(&self) -> Result<i64, StoreError> {
        Ok(self
            .meta("calendar_revision")
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }
}

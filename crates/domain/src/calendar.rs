//! The working calendar (工作日历) and deadlines on it.
//!
//! A day is a working day by the weekday rule unless the State Council's notice for its year says
//! otherwise: a public holiday is off, an adjusted working day (调休) on a weekend is worked. The
//! notices of 2018–2026 ship with the product (`data/calendar-cn.tsv`); an administrator loads a new
//! year's when it is published. A deadline that touches a year without a published notice is still
//! computed, on the weekday rule, and marked provisional: intake never stops for want of a calendar.
//!
//! Three kinds of time limit: natural minutes (the clock), working minutes (office hours of working
//! days only) and working days. Working days follow the Civil Code's rule for periods (arts.
//! 201–203): the start day is not counted, and the period ends when office hours end on the last
//! working day. All of this is Beijing time (UTC+8, no daylight saving); no clock is read here.

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc, Weekday,
};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The shipped notices, converted from the public holiday-cn data by scripts/convert-holidays.py.
pub const SHIPPED: &str = include_str!("../data/calendar-cn.tsv");

/// Beijing time.
pub fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8")
}

/// Office hours as minute-of-day periods, in order, e.g. 08:30–12:00 and 14:30–18:00.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeHours {
    periods: Vec<(u32, u32)>,
}

impl Default for OfficeHours {
    fn default() -> Self {
        OfficeHours {
            periods: vec![(8 * 60 + 30, 12 * 60), (14 * 60 + 30, 18 * 60)],
        }
    }
}

impl OfficeHours {
    /// Periods as `HH:MM-HH:MM`, comma-separated: `08:30-12:00,14:30-18:00`.
    pub fn parse(s: &str) -> Result<OfficeHours, CalendarError> {
        let bad = || CalendarError::OfficeHours(s.to_string());
        let minute = |t: &str| -> Result<u32, CalendarError> {
            let time = NaiveTime::parse_from_str(t.trim(), "%H:%M").map_err(|_| bad())?;
            Ok(time
                .format("%H")
                .to_string()
                .parse::<u32>()
                .map_err(|_| bad())?
                * 60
                + time
                    .format("%M")
                    .to_string()
                    .parse::<u32>()
                    .map_err(|_| bad())?)
        };
        let mut periods = Vec::new();
        for part in s.split(',') {
            let (a, b) = part.split_once('-').ok_or_else(bad)?;
            let (a, b) = (minute(a)?, minute(b)?);
            if a >= b || periods.last().is_some_and(|&(_, end)| end > a) {
                return Err(bad());
            }
            periods.push((a, b));
        }
        if periods.is_empty() {
            return Err(bad());
        }
        Ok(OfficeHours { periods })
    }

    fn close(&self) -> u32 {
        self.periods.last().map_or(18 * 60, |p| p.1)
    }

    /// The periods written as [`OfficeHours::parse`] reads them.
    pub fn to_text(&self) -> String {
        self.periods
            .iter()
            .map(|(a, b)| format!("{:02}:{:02}-{:02}:{:02}", a / 60, a % 60, b / 60, b % 60))
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn minutes_per_day(&self) -> u32 {
        self.periods.iter().map(|(a, b)| b - a).sum()
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CalendarError {
    #[error("办公时间格式不正确：\"{0}\"（例如 08:30-12:00,14:30-18:00）")]
    OfficeHours(String),
    #[error("节假日文件不是有效的 JSON：{0}")]
    Json(String),
    #[error("节假日文件缺少年份 year")]
    NoYear,
    #[error("第 {index} 项：{reason}")]
    Day { index: usize, reason: String },
    #[error("节假日文件没有任何日期（{0} 年的安排尚未发布？）")]
    Empty(i32),
}

/// One year's notice: its listed days (off or worked) with their names.
#[derive(Debug, Clone, PartialEq)]
pub struct YearSchedule {
    pub year: i32,
    pub days: Vec<ScheduledDay>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScheduledDay {
    pub date: NaiveDate,
    pub off: bool,
    pub name: String,
}

/// Reads a notice in the holiday-cn JSON format (`{"year", "days": [{"name", "date", "isOffDay"}]}`),
/// checking every entry.
pub fn parse_holiday_cn(text: &str) -> Result<YearSchedule, Vec<CalendarError>> {
    let doc: serde_json::Value =
        serde_json::from_str(text).map_err(|e| vec![CalendarError::Json(e.to_string())])?;
    let year = doc
        .get("year")
        .and_then(serde_json::Value::as_i64)
        .ok_or_else(|| vec![CalendarError::NoYear])? as i32;
    let entries = doc
        .get("days")
        .and_then(serde_json::Value::as_array)
        .cloned()
        .unwrap_or_default();
    if entries.is_empty() {
        return Err(vec![CalendarError::Empty(year)]);
    }
    let mut problems = Vec::new();
    let mut seen: BTreeMap<NaiveDate, bool> = BTreeMap::new();
    let mut days = Vec::new();
    for (index, e) in entries.iter().enumerate() {
        let mut fail = |reason: String| problems.push(CalendarError::Day { index, reason });
        let date = e
            .get("date")
            .and_then(serde_json::Value::as_str)
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
        let off = e.get("isOffDay").and_then(serde_json::Value::as_bool);
        let name = e
            .get("name")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
            .trim()
            .to_string();
        match (date, off) {
            (None, _) => fail(format!(
                "日期无效：{}",
                e.get("date").unwrap_or(&serde_json::Value::Null)
            )),
            (_, None) => fail("isOffDay 应为 true 或 false".into()),
            (Some(d), Some(off)) => {
                if (d.year() - year).abs() > 1 {
                    fail(format!("日期 {d} 不在 {year} 年前后"));
                } else if seen.insert(d, off).is_some_and(|prev| prev != off) {
                    fail(format!("日期 {d} 重复且前后矛盾"));
                } else if !off && !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
                    fail(format!("调休上班日 {d} 不是周末"));
                } else {
                    days.push(ScheduledDay { date: d, off, name });
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(YearSchedule { year, days })
    } else {
        Err(problems)
    }
}

/// Bits of a day in the dense table.
const WORK: u8 = 1;
const LISTED: u8 = 2;

/// The calendar: listed days over the weekday rule, the published years, and office hours.
#[derive(Debug, Clone)]
pub struct Calendar {
    /// Day flags from `base` on, dense for fast deadline arithmetic.
    base: NaiveDate,
    flags: Vec<u8>,
    published: BTreeSet<i32>,
    office: OfficeHours,
}

/// A computed due time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Due {
    pub at: DateTime<Utc>,
    /// True when a day counted lies in a year with no published notice.
    pub provisional: bool,
}

/// A time limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(tag = "unit", content = "value", rename_all = "snake_case")]
pub enum Limit {
    /// Natural minutes, for urgent steps that do not wait for office hours.
    Minutes(i64),
    /// Minutes of office time.
    WorkingMinutes(i64),
    /// Working days, Civil Code style.
    WorkingDays(u32),
}

impl Limit {
    pub fn working_hours(h: i64) -> Limit {
        Limit::WorkingMinutes(h * 60)
    }
}

fn weekday_rule(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

impl Calendar {
    const SPAN_DAYS: i64 = 366 * 120;

    /// A calendar from listed days and published years.
    pub fn new(
        days: impl IntoIterator<Item = (NaiveDate, bool)>,
        published: impl IntoIterator<Item = i32>,
        office: OfficeHours,
    ) -> Calendar {
        let base = NaiveDate::from_ymd_opt(1990, 1, 1).expect("date");
        let mut flags: Vec<u8> = (0..Calendar::SPAN_DAYS)
            .map(|i| {
                if weekday_rule(base + Duration::days(i)) {
                    WORK
                } else {
                    0
                }
            })
            .collect();
        for (d, off) in days {
            let i = (d - base).num_days();
            if (0..Calendar::SPAN_DAYS).contains(&i) {
                flags[i as usize] = LISTED | if off { 0 } else { WORK };
            }
        }
        Calendar {
            base,
            flags,
            published: published.into_iter().collect(),
            office,
        }
    }

    /// The notices that ship with the product.
    pub fn shipped(office: OfficeHours) -> Calendar {
        let (days, years) = parse_shipped(SHIPPED);
        Calendar::new(days, years, office)
    }

    pub fn office_hours(&self) -> &OfficeHours {
        &self.office
    }

    pub fn published_years(&self) -> impl Iterator<Item = i32> + '_ {
        self.published.iter().copied()
    }

    pub fn is_published(&self, year: i32) -> bool {
        self.published.contains(&year)
    }

    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        let i = (d - self.base).num_days();
        if (0..Calendar::SPAN_DAYS).contains(&i) {
            self.flags[i as usize] & WORK != 0
        } else {
            weekday_rule(d)
        }
    }

    fn local(t: DateTime<Utc>) -> DateTime<FixedOffset> {
        t.with_timezone(&beijing())
    }

    fn at(d: NaiveDate, minute: u32) -> DateTime<Utc> {
        let naive = d
            .and_hms_opt(minute / 60, minute % 60, 0)
            .expect("valid time");
        beijing()
            .from_local_datetime(&naive)
            .single()
            .expect("fixed offset")
            .with_timezone(&Utc)
    }

    /// When a step that starts at `from` with `limit` falls due, on the default office hours.
    pub fn due(&self, from: DateTime<Utc>, limit: Limit) -> Due {
        self.due_in(&self.office, from, limit)
    }

    /// When a step falls due in a place with its own office hours (a county may keep other hours
    /// than the default; the days off are the same nationwide).
    pub fn due_in(&self, office: &OfficeHours, from: DateTime<Utc>, limit: Limit) -> Due {
        match limit {
            Limit::Minutes(m) => Due {
                at: from + Duration::minutes(m),
                provisional: false,
            },
            Limit::WorkingDays(n) => self.due_working_days(office, from, n),
            Limit::WorkingMinutes(m) => self.due_working_minutes(office, from, m),
        }
    }

    fn due_working_days(&self, office: &OfficeHours, from: DateTime<Utc>, n: u32) -> Due {
        let mut d = Calendar::local(from).date_naive();
        let mut provisional = false;
        let mut counted = 0;
        // n = 0: by the close of the start day, if it is a working day not yet closed.
        if n == 0 && self.is_working_day(d) && Calendar::at(d, office.close()) >= from {
            provisional |= !self.is_published(d.year());
            return Due {
                at: Calendar::at(d, office.close()),
                provisional,
            };
        }
        loop {
            d = d.succ_opt().expect("date in range");
            provisional |= !self.is_published(d.year());
            if self.is_working_day(d) {
                counted += 1;
                if counted >= n.max(1) {
                    return Due {
                        at: Calendar::at(d, office.close()),
                        provisional,
                    };
                }
            }
        }
    }

    fn due_working_minutes(&self, office: &OfficeHours, from: DateTime<Utc>, minutes: i64) -> Due {
        use chrono::Timelike;
        let local = Calendar::local(from);
        let mut d = local.date_naive();
        // Seconds of the day from which office time may be used: the start time on the first day.
        let mut cursor = local.num_seconds_from_midnight();
        let mut left = minutes.max(0) as u32 * 60;
        let mut provisional = !self.is_published(d.year());
        loop {
            if self.is_working_day(d) {
                for &(a, b) in &office.periods {
                    let (a, b) = (a * 60, b * 60);
                    let begin = a.max(cursor);
                    if begin >= b {
                        continue;
                    }
                    if left <= b - begin {
                        let midnight = Calendar::at(d, 0);
                        return Due {
                            at: midnight + Duration::seconds(i64::from(begin + left)),
                            provisional,
                        };
                    }
                    left -= b - begin;
                }
            }
            d = d.succ_opt().expect("date in range");
            cursor = 0;
            provisional |= !self.is_published(d.year());
        }
    }
}

/// The shipped notices as one schedule per published year (a day goes with the notice it is listed
/// in: late-December days of the next year's notice belong to that year's notice).
pub fn shipped_schedules() -> Vec<YearSchedule> {
    let mut by_year: BTreeMap<i32, Vec<ScheduledDay>> = BTreeMap::new();
    let (_, years) = parse_shipped(SHIPPED);
    for y in &years {
        by_year.insert(*y, Vec::new());
    }
    for line in SHIPPED.lines().filter(|l| !l.starts_with('#')) {
        let mut parts = line.split('\t');
        if let (Some(d), Some(kind), Some(name)) = (parts.next(), parts.next(), parts.next())
            && let Ok(date) = NaiveDate::parse_from_str(d, "%Y-%m-%d")
        {
            // A date belongs to its own year's notice unless only the next year lists it.
            let year = if by_year.contains_key(&date.year()) {
                date.year()
            } else {
                date.year() + 1
            };
            by_year.entry(year).or_default().push(ScheduledDay {
                date,
                off: kind == "off",
                name: name.to_string(),
            });
        }
    }
    by_year
        .into_iter()
        .map(|(year, days)| YearSchedule { year, days })
        .collect()
}

/// Reads the shipped TSV: listed days, and the `# published YEAR` lines.
pub fn parse_shipped(text: &str) -> (Vec<(NaiveDate, bool)>, Vec<i32>) {
    let mut days = Vec::new();
    let mut years = Vec::new();
    for line in text.lines() {
        if let Some(y) = line.strip_prefix("# published ") {
            if let Ok(y) = y.trim().parse() {
                years.push(y);
            }
            continue;
        }
        let mut parts = line.split('\t');
        if let (Some(d), Some(kind)) = (parts.next(), parts.next())
            && let Ok(d) = NaiveDate::parse_from_str(d, "%Y-%m-%d")
        {
            days.push((d, kind == "off"));
        }
    }
    (days, years)
}

/// 绿/黄/红: how much of a step's time is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Light {
    Green,
    Yellow,
    Red,
}

/// The default share of a step's time left below which its light turns yellow.
pub const YELLOW_SHARE: f64 = 0.2;

/// When a step's light turns yellow: once less than `yellow_share` of its time is left.
pub fn yellow_at(started: DateTime<Utc>, due: DateTime<Utc>, yellow_share: f64) -> DateTime<Utc> {
    let total = (due - started).num_seconds().max(0) as f64;
    due - Duration::seconds((total * yellow_share) as i64)
}

/// The light of a running step as every view, list and counter reads it: red once past its due
/// time, yellow from its yellow time (fixed when the step started), green before; a suspended
/// step's clock is stopped, so it is neither yellow nor red while it waits.
pub fn step_light(
    now: DateTime<Utc>,
    suspended: bool,
    yellow_at: Option<DateTime<Utc>>,
    due: DateTime<Utc>,
) -> Light {
    if suspended {
        Light::Green
    } else if due < now {
        Light::Red
    } else if yellow_at.is_some_and(|y| y <= now) {
        Light::Yellow
    } else {
        Light::Green
    }
}

/// Red when overdue; yellow when less than `yellow_share` of the time between start and due is left.
pub fn light(
    now: DateTime<Utc>,
    started: DateTime<Utc>,
    due: DateTime<Utc>,
    yellow_share: f64,
) -> Light {
    if now > due {
        return Light::Red;
    }
    let total = (due - started).num_seconds().max(1) as f64;
    let left = (due - now).num_seconds() as f64;
    if left < total * yellow_share {
        Light::Yellow
    } else {
        Light::Green
    }
}

#[cfg(test)]
mod tests;

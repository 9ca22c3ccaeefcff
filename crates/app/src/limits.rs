//! The limits every input path applies, so that no field grows without bound, no control
//! character (a NUL, an escape) reaches storage or a page, and no number or date a person sends
//! can overflow a deadline: names at most 100 characters, addresses 200, free texts 2,000; dates
//! from 2000-01-01 to five years ahead; extensions at most 30 days; whistle check-ins 5 minutes
//! to a day; pages at most 500 rows. A use case may narrow them, never widen them.

use crate::error::{AppError, AppResult};
use chrono::{DateTime, Duration, NaiveDate, Utc};

pub const NAME_MAX: usize = 100;
pub const ADDRESS_MAX: usize = 200;
pub const TEXT_MAX: usize = 2000;
/// 30 days.
pub const EXTENSION_MAX_MINUTES: i64 = 43_200;
pub const CHECK_IN_MINUTES: std::ops::RangeInclusive<i64> = 5..=1440;
pub const PER_PAGE_MAX: i64 = 500;

/// Whether a text holds a control character other than a line break or a tab.
fn has_control(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

/// A required text: trimmed, not empty, at most `max` characters, no control characters.
pub fn text(field: &str, s: &str, max: usize) -> AppResult<String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(AppError::invalid("input.required", format!("请填写 {field}")).at(field));
    }
    bounded(field, t, max)
}

/// An optional text: `None` or blank gives `None`; otherwise as [`text`].
pub fn optional_text(field: &str, s: Option<&str>, max: usize) -> AppResult<Option<String>> {
    match s.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => bounded(field, t, max).map(Some),
    }
}

/// A text that may be empty (a comment), at most `max` characters, no control characters.
pub fn free_text(field: &str, s: &str, max: usize) -> AppResult<String> {
    bounded(field, s.trim(), max)
}

fn bounded(field: &str, t: &str, max: usize) -> AppResult<String> {
    let n = t.chars().count();
    if n > max {
        return Err(AppError::invalid(
            "input.too_long",
            format!("{field} 不能超过 {max} 个字（收到 {n} 个）"),
        )
        .at(field));
    }
    if has_control(t) {
        return Err(AppError::invalid(
            "input.control_character",
            format!("{field} 含有不可见的控制字符"),
        )
        .at(field));
    }
    Ok(t.to_string())
}

/// A name (of a person, a place, an organisation).
pub fn name(field: &str, s: &str) -> AppResult<String> {
    text(field, s, NAME_MAX)
}

/// An integer within `range`, or 400 naming the field and the range.
pub fn int_in(field: &str, v: i64, range: std::ops::RangeInclusive<i64>) -> AppResult<i64> {
    if range.contains(&v) {
        Ok(v)
    } else {
        Err(AppError::invalid(
            "input.out_of_range",
            format!(
                "{field} 应在 {}–{} 之间（收到 {v}）",
                range.start(),
                range.end()
            ),
        )
        .at(field))
    }
}

/// The earliest date anyone may send.
pub fn earliest() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// A time from 2000-01-01 to five years after `now`.
pub fn time(field: &str, t: DateTime<Utc>, now: DateTime<Utc>) -> AppResult<DateTime<Utc>> {
    let latest = now + Duration::days(5 * 366);
    if t < earliest() || t > latest {
        return Err(AppError::invalid(
            "input.bad_date",
            format!(
                "{field} 应在 2000-01-01 至 {} 之间",
                latest.format("%Y-%m-%d")
            ),
        )
        .at(field));
    }
    Ok(t)
}

/// An RFC 3339 time parameter (`2026-11-27T08:00:00+08:00`), in range.
pub fn time_param(field: &str, raw: &str, now: DateTime<Utc>) -> AppResult<DateTime<Utc>> {
    let t = DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            AppError::invalid(
                "input.bad_time",
                format!("参数 {field} 应为 RFC 3339 时间，例如 2026-11-27T08:00:00+08:00"),
            )
            .at(field)
        })?;
    time(field, t, now)
}

/// A page size: 1 to 500.
pub fn per_page(v: Option<i64>, default: i64) -> AppResult<i64> {
    int_in("per_page", v.unwrap_or(default), 1..=PER_PAGE_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_trimmed_bounded_and_free_of_control_characters() {
        assert_eq!(
            text("address", "  东街 1 号 ", ADDRESS_MAX).unwrap(),
            "东街 1 号"
        );
        let long = "路".repeat(201);
        let e = text("address", &long, ADDRESS_MAX).unwrap_err();
        assert_eq!(e.code, "input.too_long");
        assert_eq!(e.details.unwrap()["field"], "address");
        assert_eq!(
            text("x", "a\0b", 10).unwrap_err().code,
            "input.control_character"
        );
        assert_eq!(
            text("x", "a\u{1b}[31m", 10).unwrap_err().code,
            "input.control_character"
        );
        assert!(text("x", "第一行\n第二行\t缩进", 100).is_ok());
        assert_eq!(text("x", "   ", 10).unwrap_err().code, "input.required");
        assert_eq!(optional_text("x", Some("  "), 10).unwrap(), None);
        assert_eq!(free_text("x", "", 10).unwrap(), "");
    }

    #[test]
    fn dates_stay_within_this_century_and_five_years_ahead() {
        let now = "2026-12-03T00:00:00Z".parse().unwrap();
        assert!(time_param("from", "2026-01-01T00:00:00+08:00", now).is_ok());
        assert!(time_param("from", "0001-01-01T00:00:00Z", now).is_err());
        assert!(time_param("from", "1999-12-31T23:59:59Z", now).is_err());
        assert!(time_param("from", "2031-12-01T00:00:00Z", now).is_ok());
        assert!(time_param("from", "2032-12-31T00:00:00Z", now).is_err());
        assert_eq!(
            time_param("from", "昨天", now).unwrap_err().code,
            "input.bad_time"
        );
    }

    #[test]
    fn numbers_have_ranges() {
        assert!(int_in("minutes", EXTENSION_MAX_MINUTES, 1..=EXTENSION_MAX_MINUTES).is_ok());
        assert!(int_in("minutes", i64::MAX, 1..=EXTENSION_MAX_MINUTES).is_err());
        assert!(per_page(Some(501), 50).is_err());
        assert_eq!(per_page(None, 50).unwrap(), 50);
    }
}

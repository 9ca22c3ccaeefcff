//! The working calendar over HTTP: when a time limit started at a moment falls due, which years
//! have a published notice, and loading a new year's notice (system administrator).

use crate::auth::{Caller, now};
use crate::{ApiError, ApiResult, AppState};
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use wangge_domain::calendar::{Limit, beijing, parse_holiday_cn};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/calendar/due", get(due))
        .route("/api/v1/calendar/years", get(years).post(load_year))
}

/// Loads a year's holiday notice (the State Council publishes next year's each autumn) in the
/// holiday-cn JSON format, checked whole: one bad entry and nothing is written. In force at once.
async fn load_year(
    State(state): State<AppState>,
    caller: Caller,
    body: String,
) -> ApiResult<Json<Value>> {
    caller.require(wangge_domain::access::Permission::Configure)?;
    let schedule = parse_holiday_cn(&body).map_err(|problems| {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        ApiError::bad_request(
            "calendar.invalid",
            format!(
                "节假日安排有 {} 处问题，未导入：{}",
                list.len(),
                list.join("；")
            ),
        )
        .with_details(json!({"problems": list}))
    })?;
    let t = now();
    state.store.load_calendar_year(&schedule, "web", t).await?;
    state
        .store
        .append_audit(
            &caller.audit(
                "calendar.load",
                Some("calendar_year"),
                Some(schedule.year.to_string()),
                json!({"days": schedule.days.len()}),
            ),
            t,
        )
        .await?;
    state.calendar.reload(&state.store).await?;
    Ok(Json(json!({
        "year": schedule.year,
        "days": schedule.days.len(),
        "published": state.calendar.get().published_years().collect::<Vec<_>>(),
    })))
}

/// Reads the one limit given as `working_days`, `working_hours` or `minutes`.
pub fn limit_from(q: &HashMap<String, String>) -> Result<Limit, String> {
    let given: Vec<(&str, &String)> = ["working_days", "working_hours", "minutes"]
        .into_iter()
        .filter_map(|k| q.get(k).map(|v| (k, v)))
        .collect();
    let [(name, raw)] = given.as_slice() else {
        return Err("请给出且只给出一个期限：working_days、working_hours 或 minutes".into());
    };
    let n: i64 = raw
        .trim()
        .parse()
        .ok()
        .filter(|n| (0..=100_000).contains(n))
        .ok_or_else(|| format!("{name} 应为 0–100000 的整数，收到 \"{raw}\""))?;
    Ok(match *name {
        "working_days" => Limit::WorkingDays(n.min(3650) as u32),
        "working_hours" => Limit::working_hours(n),
        _ => Limit::Minutes(n),
    })
}

async fn due(
    State(state): State<AppState>,
    _caller: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let from = q.get("from").ok_or_else(|| {
        ApiError::bad_request(
            "calendar.from_required",
            "缺少 from（RFC 3339 时间，例如 2025-09-30T10:00:00+08:00）",
        )
    })?;
    let from: DateTime<Utc> = DateTime::parse_from_rfc3339(from)
        .map_err(|_| {
            ApiError::bad_request(
                "calendar.bad_from",
                format!("from 不是 RFC 3339 时间：\"{from}\""),
            )
        })?
        .with_timezone(&Utc);
    let limit = limit_from(&q).map_err(|m| ApiError::bad_request("calendar.bad_limit", m))?;
    // `county=` (12 digits) uses that county's office hours when it keeps its own.
    let due = match q.get("county") {
        None => state.calendar.get().due(from, limit),
        Some(c) if c.len() == 12 && c.bytes().all(|b| b.is_ascii_digit()) => {
            state.due(&c[..6], from, limit)
        }
        Some(c) => {
            return Err(ApiError::bad_request(
                "calendar.bad_county",
                format!("county 应为12位区县代码，收到 \"{c}\""),
            ));
        }
    };
    let mut body = json!({
        "from": from.with_timezone(&beijing()).to_rfc3339(),
        "limit": limit,
        "due": due.at.with_timezone(&beijing()).to_rfc3339(),
        "provisional": due.provisional,
    });
    if due.provisional {
        body["warning"] = json!(
            "期限涉及尚未发布节假日安排的年份，暂按周一至周五工作计算；请管理员导入该年度安排"
        );
    }
    Ok(Json(body))
}

async fn years(State(state): State<AppState>, _caller: Caller) -> Json<Value> {
    Json(json!({"published": state.calendar.get().published_years().collect::<Vec<_>>()}))
}

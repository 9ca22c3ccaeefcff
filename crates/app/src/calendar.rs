//! The working calendar: when a time limit started at a moment falls due (on a county's office
//! hours when it keeps its own), which years have a published holiday notice, and loading a new
//! year's notice (system administrator), checked whole: one bad entry and nothing is written.

use crate::context::Context;
use crate::error::{AppError, AppResult};
use crate::events::views::local;
use crate::limits;
use crate::principal::Principal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use wangge_domain::access::Permission;
use wangge_domain::calendar::{Limit, parse_holiday_cn};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Loaded {
    pub year: i32,
    pub days: usize,
    pub published: Vec<i32>,
}

/// Loads a year's holiday notice (the State Council publishes next year's each autumn) in the
/// holiday-cn JSON format. In force at once.
pub async fn load_year(ctx: &Context, who: &Principal, body: &str) -> AppResult<Loaded> {
    who.require(Permission::Configure)?;
    let schedule = parse_holiday_cn(body).map_err(|problems| {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        AppError::invalid(
            "calendar.invalid",
            format!(
                "节假日安排有 {} 处问题，未导入：{}",
                list.len(),
                list.join("；")
            ),
        )
        .with_details(json!({"problems": list}))
    })?;
    let t = ctx.now();
    ctx.store
        .load_calendar_year(&schedule, &who.actor_name(), t)
        .await?;
    ctx.store
        .append_audit(
            &who.audit(
                "calendar.load",
                Some("calendar_year"),
                Some(schedule.year.to_string()),
                json!({"days": schedule.days.len()}),
            ),
            t,
        )
        .await?;
    ctx.calendar.reload(&ctx.store).await?;
    Ok(Loaded {
        year: schedule.year,
        days: schedule.days.len(),
        published: ctx.calendar.get().published_years().collect(),
    })
}

/// The question of `GET /api/v1/calendar/due`: a start and one limit.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DueQuery {
    /// RFC 3339, e.g. `2025-09-30T10:00:00+08:00`.
    pub from: Option<String>,
    pub working_days: Option<String>,
    pub working_hours: Option<String>,
    pub minutes: Option<String>,
    /// A county's 12-digit code: its own office hours, when it keeps them.
    pub county: Option<String>,
}

/// Reads the one limit given as working days, working hours or minutes.
pub fn limit_of(q: &DueQuery) -> Result<Limit, String> {
    let given: Vec<(&str, &String)> = [
        ("working_days", &q.working_days),
        ("working_hours", &q.working_hours),
        ("minutes", &q.minutes),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
    .collect();
    let [(name, raw)] = given.as_slice() else {
        return Err("请给出且只给出一个期限：working_days、working_hours 或 minutes".into());
    };
    let n: i64 = raw
        .trim()
        .parse()
        .ok()
        .filter(|n| (0..=100_000).contains(n))
        .ok_or_else(|| {
            format!(
                "{name} 应为 0–100000 的整数，收到 \"{}\"",
                raw.chars().take(20).collect::<String>()
            )
        })?;
    Ok(match *name {
        "working_days" => Limit::WorkingDays(n.min(3650) as u32),
        "working_hours" => Limit::working_hours(n),
        _ => Limit::Minutes(n),
    })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DueAnswer {
    pub from: chrono::DateTime<chrono::FixedOffset>,
    pub limit: Limit,
    pub due: chrono::DateTime<chrono::FixedOffset>,
    pub provisional: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<&'static str>,
}

pub fn due(ctx: &Context, who: &Principal, q: &DueQuery) -> AppResult<DueAnswer> {
    who.person()?;
    let raw = q.from.as_deref().ok_or_else(|| {
        AppError::invalid(
            "calendar.from_required",
            "缺少 from（RFC 3339 时间，例如 2025-09-30T10:00:00+08:00）",
        )
        .at("from")
    })?;
    let from = limits::time_param("from", raw, ctx.now()).map_err(|e| AppError {
        code: "calendar.bad_from",
        ..e
    })?;
    let limit = limit_of(q).map_err(|m| AppError::invalid("calendar.bad_limit", m))?;
    let due = match q.county.as_deref() {
        None => ctx.calendar.get().due(from, limit),
        Some(c) if c.len() == 12 && c.bytes().all(|b| b.is_ascii_digit()) => {
            ctx.due(c, from, limit)
        }
        Some(c) => {
            return Err(AppError::invalid(
                "calendar.bad_county",
                format!(
                    "county 应为12位区县代码，收到 \"{}\"",
                    c.chars().take(20).collect::<String>()
                ),
            )
            .at("county"));
        }
    };
    Ok(DueAnswer {
        from: local(from),
        limit,
        due: local(due.at),
        provisional: due.provisional,
        warning: due.provisional.then_some(
            "期限涉及尚未发布节假日安排的年份，暂按周一至周五工作计算；请管理员导入该年度安排",
        ),
    })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Years {
    pub published: Vec<i32>,
}

pub fn years(ctx: &Context, who: &Principal) -> AppResult<Years> {
    who.person()?;
    Ok(Years {
        published: ctx.calendar.get().published_years().collect(),
    })
}

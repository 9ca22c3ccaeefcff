//! `wangge calendar`: due times from the shell, the loaded years, and loading a new year's notice
//! (the State Council publishes next year's holidays each autumn).

use crate::CalendarCommand;
use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use serde_json::json;
use std::path::Path;
use std::process::ExitCode;
use wangge_domain::calendar::{
    Calendar, Limit, OfficeHours, beijing, parse_holiday_cn, shipped_schedules,
};
use wangge_store::Store;

async fn calendar(store: &Store) -> Result<Calendar> {
    store
        .seed_calendar(&shipped_schedules(), Utc::now())
        .await?;
    let (days, years) = store.calendar_data().await?;
    Ok(Calendar::new(days, years, OfficeHours::default()))
}

pub async fn run(store: &Store, command: CalendarCommand) -> Result<ExitCode> {
    match command {
        CalendarCommand::Due {
            from,
            working_days,
            working_hours,
            minutes,
        } => due(store, &from, working_days, working_hours, minutes).await?,
        CalendarCommand::Years => years(store).await?,
        CalendarCommand::Load { file } => return load(store, &file).await,
    }
    Ok(ExitCode::SUCCESS)
}

async fn due(
    store: &Store,
    from: &str,
    working_days: Option<u32>,
    working_hours: Option<i64>,
    minutes: Option<i64>,
) -> Result<()> {
    let start: DateTime<Utc> = DateTime::parse_from_rfc3339(from)
        .with_context(|| {
            format!("--from 不是 RFC 3339 时间：\"{from}\"（例如 2025-09-30T10:00:00+08:00）")
        })?
        .with_timezone(&Utc);
    let limit = match (working_days, working_hours, minutes) {
        (Some(d), None, None) => Limit::WorkingDays(d),
        (None, Some(h), None) if h >= 0 => Limit::working_hours(h),
        (None, None, Some(m)) if m >= 0 => Limit::Minutes(m),
        _ => anyhow::bail!(
            "请给出且只给出一个非负期限：--working-days、--working-hours 或 --minutes"
        ),
    };
    let due = calendar(store).await?.due(start, limit);
    println!("{}", due.at.with_timezone(&beijing()).to_rfc3339());
    if due.provisional {
        eprintln!(
            "注意：期限涉及尚未发布节假日安排的年份，暂按周一至周五工作计算（用 wangge calendar load 导入该年度安排）。"
        );
    }
    Ok(())
}

async fn years(store: &Store) -> Result<()> {
    let (_, years) = store.calendar_data().await?;
    let years: Vec<String> = years.iter().map(i32::to_string).collect();
    println!(
        "已导入节假日安排的年份：{}",
        if years.is_empty() {
            "（无）".into()
        } else {
            years.join(" ")
        }
    );
    Ok(())
}

/// Nothing is written unless the whole file reads. The shipped years are seeded first: seeding
/// only fills an empty calendar, so a year loaded into it first would shut the others out.
async fn load(store: &Store, file: &Path) -> Result<ExitCode> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("无法读取文件 {}", file.display()))?;
    let schedule = match parse_holiday_cn(&text) {
        Ok(s) => s,
        Err(problems) => {
            eprintln!("{} 无法导入，未写入任何数据：", file.display());
            for p in problems {
                eprintln!("  {p}");
            }
            return Ok(ExitCode::FAILURE);
        }
    };
    store
        .seed_calendar(&shipped_schedules(), Utc::now())
        .await?;
    store
        .load_calendar_year(&schedule, &file.display().to_string(), Utc::now())
        .await?;
    store
        .append_audit(
            &crate::accounts::cli_audit(
                "calendar.load",
                "calendar_year",
                Some(schedule.year.to_string()),
                json!({"days": schedule.days.len()}),
            ),
            Utc::now(),
        )
        .await?;
    println!(
        "已导入 {} 年节假日安排：{} 个日期。",
        schedule.year,
        schedule.days.len()
    );
    Ok(ExitCode::SUCCESS)
}

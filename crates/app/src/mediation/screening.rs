//! 排查: a grid's recurring dispute-screening round (every 1 to 90 days), the rounds in sight
//! with the overdue ones marked, and a round done with what it found (the disputes themselves are
//! opened as cases with origin `screening`, or reported as events); the next falls due from then.

use super::{bad, conflict, may_work, sight, text};
use crate::context::Context;
use crate::error::{AppError, AppResult};
use crate::events::views::local;
use crate::principal::Principal;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;
use wangge_store::{ScreeningRow, ScreeningSchedule};

/// A grid in sight, by its code, or 404 as for one that does not exist.
fn grid_in_sight(ctx: &Context, who: &Principal, grid: &str) -> AppResult<String> {
    let vis = sight(who)?;
    let atlas = ctx.atlas.get();
    let grid = grid.trim();
    let known = atlas.grids_under(grid).next().map(|(c, _)| c) == Some(grid);
    if known && vis.sees(grid) {
        Ok(grid.to_string())
    } else {
        Err(AppError::not_found(
            "mediation.grid_not_found",
            format!("网格 {} 不存在", grid.chars().take(20).collect::<String>()),
        ))
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoundInput {
    pub every_days: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RoundView {
    pub grid_code: String,
    pub every_days: i64,
    pub next_due_at: DateTime<Utc>,
    pub last_done_at: Option<DateTime<Utc>>,
    pub set_by: String,
    pub updated_at: DateTime<Utc>,
}

/// Sets a grid's round; the first is due one round from now.
pub async fn set_round(
    ctx: &Context,
    who: &Principal,
    grid: &str,
    b: RoundInput,
) -> AppResult<RoundView> {
    may_work(who)?;
    let grid = grid_in_sight(ctx, who, grid)?;
    if !(1..=90).contains(&b.every_days) {
        return Err(bad(
            "mediation.bad_round",
            format!("排查周期应为1–90天，收到 {}", b.every_days),
        )
        .at("every_days"));
    }
    let t = ctx.now();
    let round = ScreeningSchedule {
        grid_code: grid.clone(),
        every_days: b.every_days,
        next_due_at: t + Duration::days(b.every_days),
        last_done_at: None,
        set_by: who.actor_name(),
        updated_at: t,
    };
    ctx.store.set_screening(&round).await?;
    ctx.store
        .append_audit(
            &who.audit(
                "mediation.screening_round",
                Some("grid"),
                Some(grid),
                json!({"every_days": b.every_days}),
            ),
            t,
        )
        .await?;
    Ok(RoundView {
        grid_code: round.grid_code,
        every_days: round.every_days,
        next_due_at: round.next_due_at,
        last_done_at: round.last_done_at,
        set_by: round.set_by,
        updated_at: round.updated_at,
    })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RoundDue {
    pub grid: String,
    pub every_days: i64,
    pub next_due_at: chrono::DateTime<chrono::FixedOffset>,
    pub last_done_at: Option<chrono::DateTime<chrono::FixedOffset>>,
    pub overdue: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Rounds {
    pub rounds: Vec<RoundDue>,
}

pub async fn rounds(ctx: &Context, who: &Principal) -> AppResult<Rounds> {
    let vis = sight(who)?;
    let t = ctx.now();
    Ok(Rounds {
        rounds: ctx
            .store
            .screenings_due(&vis)
            .await?
            .iter()
            .map(|r| RoundDue {
                grid: r.grid_code.clone(),
                every_days: r.every_days,
                next_due_at: local(r.next_due_at),
                last_done_at: r.last_done_at.map(local),
                overdue: r.next_due_at < t,
            })
            .collect(),
    })
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DoneInput {
    pub findings: i64,
    pub notes: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RoundDone {
    pub id: Uuid,
    pub grid_code: String,
    pub done_at: DateTime<Utc>,
    pub done_by: String,
    pub findings: i64,
    pub notes: String,
}

pub async fn record_round(
    ctx: &Context,
    who: &Principal,
    grid: &str,
    b: DoneInput,
) -> AppResult<RoundDone> {
    may_work(who)?;
    let grid = grid_in_sight(ctx, who, grid)?;
    if !(0..=10_000).contains(&b.findings) {
        return Err(bad("mediation.bad_findings", "发现数量应为0–10000").at("findings"));
    }
    let notes = text("notes", &b.notes, 5000)?;
    let t = ctx.now();
    let row = ScreeningRow {
        id: Uuid::now_v7(),
        grid_code: grid.clone(),
        done_at: t,
        done_by: who.actor_name(),
        findings: b.findings,
        notes,
    };
    if !ctx.store.record_screening(&row).await? {
        return Err(conflict(
            "mediation.no_round",
            format!("网格 {grid} 尚未设置排查周期"),
        ));
    }
    ctx.store
        .append_audit(
            &who.audit(
                "mediation.screening_done",
                Some("grid"),
                Some(grid),
                json!({"findings": b.findings}),
            ),
            t,
        )
        .await?;
    Ok(RoundDone {
        id: row.id,
        grid_code: row.grid_code,
        done_at: row.done_at,
        done_by: row.done_by,
        findings: row.findings,
        notes: row.notes,
    })
}

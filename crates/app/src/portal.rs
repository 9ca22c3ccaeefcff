//! The public portal (石好办-style), for citizens without an account: report a problem, receive a
//! random tracking code (never the internal event code, so nobody can walk through other people's
//! cases), follow the progress in plain words, and rate the result once the case is closed.
//!
//! What a citizen sees is chosen here, not filtered from the staff view: the stage of the case and
//! when it was reached, never names of people or departments, internal codes or personal data.
//! Every public use case is rate-limited per address and in total, so a script cannot flood the
//! queue or hammer the lookups.

use crate::context::Context;
use crate::error::{AppError, AppResult, ErrorKind};
use crate::events::intake::{self, ReportInput};
use crate::events::moves::{Along, commit};
use crate::events::views::local;
use crate::limits;
use crate::principal::Principal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use wangge_domain::parse_wire;
use wangge_domain::workflow::{Move, Rating, State as EventState};

/// Sliding-window limits: per address, and for everyone together.
pub struct PublicLimits {
    hits: Mutex<HashMap<(String, &'static str), VecDeque<Instant>>>,
    total: Mutex<VecDeque<Instant>>,
}

impl Default for PublicLimits {
    fn default() -> Self {
        PublicLimits {
            hits: Mutex::new(HashMap::new()),
            total: Mutex::new(VecDeque::new()),
        }
    }
}

/// Reports per address per ten minutes; lookups and ratings per address per minute; public
/// reports from everyone per minute (a flood from many addresses still stops there).
const REPORTS_PER_ADDRESS: usize = 5;
const LOOKUPS_PER_ADDRESS: usize = 30;
const REPORTS_PER_MINUTE_TOTAL: usize = 300;

impl PublicLimits {
    fn allow(&self, ip: &str, what: &'static str, max: usize, window: Duration) -> bool {
        let mut hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        if hits.len() > 100_000 {
            hits.retain(|_, q| q.back().is_some_and(|t| t.elapsed() < window));
        }
        let q = hits.entry((ip.to_string(), what)).or_default();
        while q.front().is_some_and(|t| t.elapsed() >= window) {
            q.pop_front();
        }
        if q.len() >= max {
            return false;
        }
        q.push_back(Instant::now());
        true
    }

    fn allow_total(&self) -> bool {
        let mut q = self.total.lock().unwrap_or_else(|p| p.into_inner());
        while q
            .front()
            .is_some_and(|t| t.elapsed() >= Duration::from_secs(60))
        {
            q.pop_front();
        }
        if q.len() >= REPORTS_PER_MINUTE_TOTAL {
            return false;
        }
        q.push_back(Instant::now());
        true
    }
}

fn too_many() -> AppError {
    AppError::new(
        ErrorKind::RateLimited,
        "public.rate_limited",
        "提交过于频繁，请稍后再试",
    )
}

fn address(ip: &Option<String>) -> String {
    ip.clone().unwrap_or_else(|| "unknown".into())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicReceipt {
    pub tracking_code: String,
    /// The category's name.
    pub category: String,
    pub reported_at: chrono::DateTime<chrono::FixedOffset>,
    pub message: &'static str,
}

/// A citizen's report. Returns the receipt and whether it was stored now (a retry of the same
/// idempotency key answers with the first, without counting against the limits).
pub async fn report(
    ctx: &Context,
    ip: Option<String>,
    b: ReportInput,
) -> AppResult<(PublicReceipt, bool)> {
    if b.idempotency_key
        .as_ref()
        .is_some_and(|k| k.len() < 32 || k.len() > 128)
    {
        return Err(AppError::invalid(
            "event.bad_idempotency_key",
            "公众上报的幂等键应为32–128个字符的随机串",
        ));
    }
    let retry = match &b.idempotency_key {
        Some(k) => ctx
            .store
            .event_by_idempotency(&format!("public:{k}"))
            .await?
            .is_some(),
        None => false,
    };
    if !retry
        && (!ctx.public_limits.allow(
            &address(&ip),
            "report",
            REPORTS_PER_ADDRESS,
            Duration::from_secs(600),
        ) || !ctx.public_limits.allow_total())
    {
        return Err(too_many());
    }
    // Citizens are not shown others' reports: no likely-duplicate hint here.
    let done = intake::report(ctx, &Principal::Citizen { ip }, b, false).await?;
    let e = done.event;
    let category = ctx
        .config
        .get()
        .category(&e.category_code)
        .map(|c| c.name)
        .unwrap_or_default();
    Ok((
        PublicReceipt {
            tracking_code: e.tracking_code,
            category,
            reported_at: local(e.created_at),
            message: "已收到您的反映，请保存查询码，凭码查询办理进度",
        },
        done.created,
    ))
}

/// A stage of the case, in plain words.
fn stage(move_name: &str) -> Option<&'static str> {
    Some(match move_name {
        "report" => "已收到您的反映",
        "accept" => "已受理",
        "reject" => "经核实不予受理",
        "merge" => "与同一问题的其他反映合并办理",
        "handle_here" | "escalate" | "dispatch" | "whistle" => "已转交相关单位办理",
        "check_in" => "承办单位已接单",
        "submit_result" => "承办单位已处置，等待核查",
        "verify" => "已核查",
        "rate" => "已评价",
        "reopen" => "重新办理",
        _ => return None,
    })
}

async fn load_public(
    ctx: &Context,
    ip: &Option<String>,
    code: &str,
) -> AppResult<wangge_store::EventRow> {
    if !ctx.public_limits.allow(
        &address(ip),
        "lookup",
        LOOKUPS_PER_ADDRESS,
        Duration::from_secs(60),
    ) {
        return Err(too_many());
    }
    let code = code.trim().to_ascii_uppercase();
    let missing = || AppError::not_found("public.not_found", "查询码不存在，请核对后重试");
    if code.len() != 16 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(missing());
    }
    ctx.store
        .event_by_tracking_code(&code)
        .await?
        .ok_or_else(missing)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Stage {
    pub at: chrono::DateTime<chrono::FixedOffset>,
    pub what: &'static str,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Progress {
    pub tracking_code: String,
    /// The case's state in words.
    pub state: Option<&'static str>,
    pub category: Option<String>,
    pub steps: Vec<Stage>,
    pub can_rate: bool,
    pub rating: Option<Rating>,
}

pub async fn track(ctx: &Context, ip: Option<String>, code: &str) -> AppResult<Progress> {
    let e = load_public(ctx, &ip, code).await?;
    let history = ctx.store.event_history(&e).await?;
    let mut steps: Vec<Stage> = Vec::new();
    for h in &history {
        if let Some(what) = stage(&h.move_name)
            && steps.last().is_none_or(|s| s.what != what)
        {
            steps.push(Stage {
                at: local(h.at),
                what,
            });
        }
    }
    let st: Option<EventState> = parse_wire(&e.state);
    let rating = crate::events::flow_of(&e).ok().and_then(|f| f.rating);
    Ok(Progress {
        tracking_code: e.tracking_code,
        state: st.map(EventState::label_zh),
        category: ctx.config.get().category(&e.category_code).map(|c| c.name),
        steps,
        can_rate: st == Some(EventState::Closed) && rating.is_none(),
        rating,
    })
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicRatingInput {
    /// `satisfied`, `basically_satisfied` or `dissatisfied`.
    pub rating: String,
    #[serde(default)]
    pub comment: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Rated {
    pub rating: Rating,
    pub message: &'static str,
}

/// The citizen's rating: a move by the holder of the tracking code, through the one path.
pub async fn rate(
    ctx: &Context,
    ip: Option<String>,
    code: &str,
    b: PublicRatingInput,
) -> AppResult<Rated> {
    let e = load_public(ctx, &ip, code).await?;
    let rating: Rating = parse_wire(&b.rating).ok_or_else(|| {
        AppError::invalid(
            "public.bad_rating",
            "评价应为 satisfied、basically_satisfied 或 dissatisfied",
        )
        .at("rating")
    })?;
    let comment = limits::free_text("comment", &b.comment, 500)?;
    let mv = Move::Rate {
        rating,
        comment: comment.clone(),
    };
    let recorded = json!({"move": "rate", "rating": b.rating, "comment": comment});
    let who = Principal::Citizen { ip };
    match commit(ctx, &who, &e, e.version, &mv, recorded, Along::default()).await {
        Ok(_) => Ok(Rated {
            rating,
            message: "感谢您的评价",
        }),
        Err(err) if err.kind == ErrorKind::Stale => Err(AppError::conflict(
            "public.busy",
            "案件刚刚有更新，请刷新后重试",
        )),
        Err(err) if matches!(err.kind, ErrorKind::Conflict | ErrorKind::Forbidden) => {
            Err(AppError::conflict(
                "public.cannot_rate",
                format!("办结后方可评价，且只能评价一次（{}）", err.message),
            ))
        }
        Err(err) => Err(err),
    }
}

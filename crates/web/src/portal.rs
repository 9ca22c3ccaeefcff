//! The public portal (石好办-style), for citizens without an account: report a problem, receive a
//! random tracking code (never the internal event code, so nobody can walk through other people's
//! cases), follow the progress in plain words, and rate the result once the case is closed.
//!
//! What a citizen sees is chosen here, not filtered from the staff view: the stage of the case and
//! when it was reached, never names of people or departments, internal codes or personal data.
//! Every public endpoint is rate-limited per address and in total, so a script cannot flood the
//! queue or hammer the lookups.

use crate::auth::{ClientIp, now};
use crate::events::{ReportBody, Reporter, intake, parse_flow};
use crate::params::json_body;
use crate::{ApiError, ApiResult, AppState};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use wangge_domain::access::{Role, Visibility};
use wangge_domain::calendar::beijing;
use wangge_domain::workflow::{Actor, Move, Rating, State as EventState, apply};
use wangge_domain::{parse_wire, wire};
use wangge_store::{AuditEntry, NewEventMove, NewMove, Reported};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/public/reports", post(report))
        .route("/api/v1/public/track/{code}", get(track))
        .route("/api/v1/public/track/{code}/rating", post(rate))
}

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

fn too_many() -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "public.rate_limited",
        "提交过于频繁，请稍后再试",
    )
}

fn address(ip: &Option<String>) -> String {
    ip.clone().unwrap_or_else(|| "unknown".into())
}

async fn report(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    body: Result<Json<ReportBody>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let b = json_body(body)?;
    if b.idempotency_key
        .as_ref()
        .is_some_and(|k| k.len() < 32 || k.len() > 128)
    {
        return Err(ApiError::bad_request(
            "event.bad_idempotency_key",
            "公众上报的幂等键应为32–128个字符的随机串",
        ));
    }
    let who = Reporter {
        vis: Visibility::system(),
        source: "citizen",
        account: None,
        actor: "public".into(),
        role: "citizen".into(),
        department: None,
        ip: ip.clone(),
    };
    // A retry of a report already made is answered without counting against the limits.
    let retry = match &b.idempotency_key {
        Some(k) => state
            .store
            .event_by_idempotency(&format!("public:{k}"))
            .await?
            .is_some(),
        None => false,
    };
    if !retry
        && (!state.public_limits.allow(
            &address(&ip),
            "report",
            REPORTS_PER_ADDRESS,
            Duration::from_secs(600),
        ) || !state.public_limits.allow_total())
    {
        return Err(too_many());
    }
    // Citizens are not shown others' reports: no likely-duplicate hint here.
    let (e, created) = match intake(&state, &who, b, false).await? {
        Reported::Created { event, .. } => (event, true),
        Reported::Existing(first) => (first, false),
    };
    let category = state
        .config
        .get()
        .category(&e.category_code)
        .map(|c| c.name)
        .unwrap_or_default();
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(json!({
            "tracking_code": e.tracking_code,
            "category": category,
            "reported_at": e.created_at.with_timezone(&beijing()).to_rfc3339(),
            "message": "已收到您的反映，请保存查询码，凭码查询办理进度",
        })),
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

fn normalise(code: &str) -> String {
    code.trim().to_ascii_uppercase()
}

async fn load_public(
    state: &AppState,
    ip: &Option<String>,
    code: &str,
) -> ApiResult<wangge_store::EventRow> {
    if !state.public_limits.allow(
        &address(ip),
        "lookup",
        LOOKUPS_PER_ADDRESS,
        Duration::from_secs(60),
    ) {
        return Err(too_many());
    }
    let code = normalise(code);
    let missing = || ApiError::not_found("public.not_found", "查询码不存在，请核对后重试");
    if code.len() != 16 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(missing());
    }
    state
        .store
        .event_by_tracking_code(&code)
        .await?
        .ok_or_else(missing)
}

async fn track(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(code): Path<String>,
) -> ApiResult<Json<Value>> {
    let e = load_public(&state, &ip, &code).await?;
    let history = state.store.event_history(&e).await?;
    let mut steps: Vec<Value> = Vec::new();
    for h in &history {
        if let Some(what) = stage(&h.move_name)
            && steps.last().is_none_or(|s| s["what"] != what)
        {
            steps.push(json!({"at": h.at.with_timezone(&beijing()).to_rfc3339(), "what": what}));
        }
    }
    let st: Option<EventState> = parse_wire(&e.state);
    let flow = parse_flow(&e.flow).ok();
    let rating = flow.as_ref().and_then(|f| f.rating).map(|r| wire(&r));
    Ok(Json(json!({
        "tracking_code": e.tracking_code,
        "state": st.map(EventState::label_zh),
        "category": state.config.get().category(&e.category_code).map(|c| c.name),
        "steps": steps,
        "can_rate": st == Some(EventState::Closed) && rating.is_none(),
        "rating": rating,
    })))
}

#[derive(Deserialize)]
struct RatingBody {
    rating: String,
    #[serde(default)]
    comment: String,
}

async fn rate(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(code): Path<String>,
    body: Result<Json<RatingBody>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let b = json_body(body)?;
    let e = load_public(&state, &ip, &code).await?;
    let rating: Rating = parse_wire(&b.rating).ok_or_else(|| {
        ApiError::bad_request(
            "public.bad_rating",
            "评价应为 satisfied、basically_satisfied 或 dissatisfied",
        )
    })?;
    let comment: String = b.comment.trim().chars().take(500).collect();
    let flow = parse_flow(&e.flow)
        .map_err(|_| ApiError::new(StatusCode::CONFLICT, "public.cannot_rate", "暂不能评价"))?;
    // Holding the tracking code is what makes a citizen the reporter of the case.
    let citizen = Actor {
        role: Role::GridWorker,
        department: None,
        is_reporter: true,
        is_event_grid_worker: false,
    };
    let mv = Move::Rate {
        rating,
        comment: comment.clone(),
    };
    let after = apply(&flow, &citizen, &mv).map_err(|err| {
        ApiError::new(
            StatusCode::CONFLICT,
            "public.cannot_rate",
            format!("办结后方可评价，且只能评价一次（{err}）"),
        )
    })?;
    let t = now();
    let mut next = e.clone();
    next.flow = serde_json::to_string(&after).unwrap_or_default();
    next.version = after.version;
    next.state = wire(&after.state);
    next.updated_at = t;
    let record = NewMove {
        move_name: "rate".into(),
        body: json!({"rating": b.rating, "comment": comment}).to_string(),
        from_state: e.state.clone(),
        to_state: next.state.clone(),
        actor: "public".into(),
        actor_role: "citizen".into(),
        department: None,
        ip: ip.clone(),
    };
    let audit = AuditEntry {
        actor: "public".into(),
        actor_role: Some("citizen".into()),
        ip,
        action: "event.move".into(),
        record_type: Some("event".into()),
        record_id: Some(e.id.to_string()),
        detail: json!({"move": "rate", "from": e.state, "to": next.state}),
    };
    let moved = state
        .writer
        .apply_move(NewEventMove {
            next,
            expected_version: e.version,
            record,
            audit,
        })
        .await?;
    if !moved {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "public.busy",
            "案件刚刚有更新，请刷新后重试",
        ));
    }
    Ok(Json(json!({"rating": b.rating, "message": "感谢您的评价"})))
}

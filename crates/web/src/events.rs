//! Events over HTTP: intake (`POST /api/v1/events`), lists and details within the caller's sight,
//! the category catalogue, and moves (`POST /api/v1/events/{id}/moves`) checked by the domain's
//! workflow rules and written with an optimistic version check.

use crate::auth::{Caller, Via, now};
use crate::params::{json_body, time_param};
use crate::{ApiError, ApiResult, AppState};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use uuid::Uuid;
use wangge_domain::access::{Node, Role, Scope, Visibility};
use wangge_domain::calendar::{beijing, light, yellow_at};
use wangge_domain::catalog::{Category, Step};
use wangge_domain::crs::Crs;
use wangge_domain::region::{RegionCode, RegionKind};
use wangge_domain::workflow::{
    Actor, Flow, Move, MoveError, State as EventState, StepChange, Urgency, apply, step_change,
};
use wangge_domain::{parse_wire, wire};
use wangge_security::pii;
use wangge_store::{
    EventQuery, EventRow, NearbyEvent, NewEventMove, NewMove, NewReport, Reported, StoreError,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/categories", get(categories))
        .route("/api/v1/events", get(list).post(report))
        .route("/api/v1/events/{id}", get(detail))
        .route("/api/v1/events/{id}/moves", post(make_move))
        .route(
            "/api/v1/events/{id}/whistle-ratings",
            post(rate_departments),
        )
}

async fn categories(State(state): State<AppState>, _caller: Caller) -> Json<Value> {
    Json(json!({"categories": state.config.get().catalogue}))
}

fn is_rural(grid_code: &str) -> bool {
    RegionCode::parse(&grid_code[..12.min(grid_code.len())])
        .is_ok_and(|c| c.kind() == RegionKind::Village)
}

pub(crate) fn department_of(caller: &Caller) -> Option<String> {
    match &caller.scope {
        Scope::Department { id, .. } => Some(id.clone()),
        Scope::Place(_) => None,
    }
}

/// Reads an event the caller may see, or answers as if it did not exist.
pub(crate) async fn load(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> ApiResult<(EventRow, Visibility)> {
    let vis = caller.visibility()?;
    let missing = || ApiError::not_found("event.not_found", "事件不存在");
    let id: Uuid = id.parse().map_err(|_| missing())?;
    let e = state
        .store
        .event(&vis, department_of(caller).as_deref(), id)
        .await?
        .ok_or_else(missing)?;
    Ok((e, vis))
}

pub fn parse_flow(text: &str) -> Result<Flow, serde_json::Error> {
    serde_json::from_str(text)
}

fn flow_of(e: &EventRow) -> ApiResult<Flow> {
    parse_flow(&e.flow).map_err(|err| {
        tracing::error!(event = %e.id, error = %err, "unreadable workflow state");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "event.broken",
            "事件数据损坏，请联系管理员",
        )
    })
}

fn render(state: &AppState, e: &EventRow, history: Option<Value>) -> Value {
    let at = now();
    let light = match (e.step_started_at, e.step_due_at) {
        (Some(s), Some(d)) => Some(light(
            e.suspended_at.unwrap_or(at),
            s,
            d,
            state.yellow_share(),
        )),
        _ => None,
    };
    let location = state.atlas.get().locate(e.lon, e.lat);
    let phone = e
        .reporter_phone_enc
        .as_deref()
        .and_then(|c| state.keys.decrypt(c).ok())
        .map(|p| pii::mask_phone(&p));
    let mut v = json!({
        "id": e.id,
        "code": e.code,
        "category": e.category_code,
        "domain": e.domain,
        "urgency": e.urgency,
        "state": e.state,
        "suspended": e.suspended_at.is_some(),
        "version": e.version,
        "source": e.source,
        "description": e.description,
        "address": e.address,
        "location": {"lon": e.lon, "lat": e.lat},
        "grid": location.as_ref().map(|l| json!(l.grid)),
        "path": location.as_ref().map(|l| json!(l.path)),
        "lead_department": e.lead_department,
        "departments": e.departments.split_whitespace().collect::<Vec<_>>(),
        "reporter_phone": phone,
        "deadlines": e.step.as_ref().map(|s| json!([{
            "step": s,
            "started_at": e.step_started_at.map(|t| t.with_timezone(&beijing()).to_rfc3339()),
            "due_at": e.step_due_at.map(|t| t.with_timezone(&beijing()).to_rfc3339()),
            "provisional": e.step_due_provisional != 0,
            "light": light,
        }])).unwrap_or(json!([])),
        "light": light,
        "created_at": e.created_at.with_timezone(&beijing()).to_rfc3339(),
    });
    if let Some(h) = history {
        v["history"] = h;
    }
    if let Ok(flow) = serde_json::from_str::<Value>(&e.flow) {
        for k in [
            "holder",
            "checked_in",
            "whistled",
            "extension_pending",
            "reworks",
            "returns",
            "rating",
        ] {
            v[k] = flow[k].clone();
        }
    }
    v
}

#[derive(Deserialize)]
pub(crate) struct ReportBody {
    pub(crate) category: String,
    pub(crate) lon: f64,
    pub(crate) lat: f64,
    pub(crate) crs: Option<String>,
    pub(crate) address: Option<String>,
    pub(crate) description: String,
    pub(crate) urgency: Option<String>,
    pub(crate) reporter_phone: Option<String>,
    pub(crate) idempotency_key: Option<String>,
}

/// Who reports: a signed-in user (its scope bounds where it may report) or a citizen on the
/// public portal (anywhere in the city, no account).
pub(crate) struct Reporter {
    pub vis: Visibility,
    /// `grid_worker`, `staff`, `department`, `machine` or `citizen`.
    pub source: &'static str,
    pub account: Option<Uuid>,
    pub actor: String,
    pub role: String,
    pub department: Option<String>,
    pub ip: Option<String>,
}

impl Reporter {
    fn of(caller: &Caller) -> ApiResult<Reporter> {
        Ok(Reporter {
            vis: caller.visibility()?,
            source: match (&caller.via, caller.role) {
                (Via::Token { .. }, _) => "machine",
                (_, Role::GridWorker) => "grid_worker",
                (_, Role::DepartmentStaff) => "department",
                _ => "staff",
            },
            account: Some(caller.account.id),
            actor: caller.account.username.clone(),
            role: caller.role.as_str().into(),
            department: department_of(caller),
            ip: caller.ip.clone(),
        })
    }

    fn audit(&self, e: &EventRow) -> wangge_store::AuditEntry {
        wangge_store::AuditEntry {
            actor: self.actor.clone(),
            actor_role: Some(self.role.clone()),
            ip: self.ip.clone(),
            action: "event.report".into(),
            record_type: Some("event".into()),
            record_id: Some(e.id.to_string()),
            detail: json!({"category": e.category_code, "source": self.source}),
        }
    }
}

async fn report(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<ReportBody>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let who = Reporter::of(&caller)?;
    let b = json_body(body)?;
    let (e, nearby) = match intake(&state, &who, b, true).await? {
        Reported::Created { event, nearby } => (event, nearby),
        Reported::Existing(first) => {
            return Ok((StatusCode::OK, Json(render(&state, &first, None))));
        }
    };
    let mut body = render(&state, &e, None);
    body["tracking_code"] = json!(e.tracking_code);
    body["likely_duplicates"] = json!(rank_duplicates(&who.vis, &e, &nearby));
    Ok((StatusCode::CREATED, Json(body)))
}

/// Checks a report, locates it, numbers and stores it, or finds the event its idempotency key
/// stored first. With `nearby`, a new event comes back with the open events of its category
/// around it, for [`rank_duplicates`].
pub(crate) async fn intake(
    state: &AppState,
    who: &Reporter,
    b: ReportBody,
    nearby: bool,
) -> ApiResult<Reported> {
    let vis = &who.vis;
    let bad = |code: &'static str, m: String| ApiError::bad_request(code, m);
    let category: Category = state
        .config
        .get()
        .category(b.category.trim())
        .ok_or_else(|| {
            bad(
                "event.unknown_category",
                format!(
                    "未知事件类别 \"{}\"（见 GET /api/v1/categories）",
                    b.category
                ),
            )
        })?;
    let urgency: Urgency = match b.urgency.as_deref() {
        None => category.urgency,
        Some(u) => parse_wire(u).ok_or_else(|| {
            bad(
                "event.bad_urgency",
                format!("紧急程度应为 normal、urgent 或 very_urgent，收到 \"{u}\""),
            )
        })?,
    };
    let description = b.description.trim().to_string();
    if description.is_empty() || description.chars().count() > 2000 {
        return Err(bad(
            "event.bad_description",
            "请填写事件描述（不超过2000字）".into(),
        ));
    }
    if !b.lon.is_finite()
        || !b.lat.is_finite()
        || !(-180.0..=180.0).contains(&b.lon)
        || !(-90.0..=90.0).contains(&b.lat)
    {
        return Err(bad(
            "event.bad_coordinate",
            format!("坐标超出经纬度范围：[{}, {}]", b.lon, b.lat),
        ));
    }
    let crs: Crs = match &b.crs {
        Some(c) => c.parse().map_err(|m: String| bad("event.bad_crs", m))?,
        None => Crs::Wgs84,
    };
    let phone = match &b.reporter_phone {
        Some(p) => {
            Some(pii::validate_mobile(p).map_err(|e| bad("event.bad_phone", e.to_string()))?)
        }
        None => None,
    };
    if let Some(key) = &b.idempotency_key
        && (key.len() > 128 || key.trim().is_empty())
    {
        return Err(bad(
            "event.bad_idempotency_key",
            "幂等键应为1–128个字符".into(),
        ));
    }
    let (lon, lat) = crs.to_wgs84(b.lon, b.lat);
    let atlas = state.atlas.get();
    let location = atlas.locate(lon, lat).ok_or_else(|| {
        bad("event.outside_grids", "该位置不在任何网格内".into()).with_details(
            json!({"nearest": atlas.nearest(lon, lat).filter(|n| vis.sees(&n.grid.code))}),
        )
    })?;
    if !vis.sees(&location.grid.code) {
        return Err(bad(
            "event.outside_scope",
            "该位置不在您的管辖范围内".into(),
        ));
    }
    let t = now();
    let county = format!("{}000000", &location.grid.code[..6]);
    let day = t.with_timezone(&beijing()).format("%Y%m%d").to_string();
    // The writer appends the day's next number to the county prefix and the day.
    let code = format!("{}{day}", &location.grid.code[..6]);
    let due = state.due(
        &location.grid.code,
        t,
        category.limit(Step::Accept, urgency, is_rural(&location.grid.code)),
    );
    let flow = Flow::reported();
    let tracking: [u8; 10] = wangge_security::random_bytes();
    let e = EventRow {
        region_code: county,
        id: Uuid::now_v7(),
        code,
        tracking_code: wangge_security::totp::base32(&tracking),
        category_code: category.code.clone(),
        domain: wire(&category.domain),
        urgency: wire(&urgency),
        state: wire(&flow.state),
        flow: serde_json::to_string(&flow).unwrap_or_default(),
        version: flow.version,
        source: who.source.into(),
        description,
        address: b.address.map(|a| a.trim().chars().take(200).collect()),
        lon,
        lat,
        grid_code: location.grid.code.clone(),
        reporter_account: who.account,
        reporter_phone_enc: phone.as_ref().map(|p| state.keys.encrypt(p)),
        reporter_phone_idx: phone.as_ref().map(|p| state.keys.blind_index("phone", p)),
        // Keys are the caller's own: another account's key never finds this event. The public
        // portal's keys are long random strings (checked by the portal), unguessable by others.
        idempotency_key: b.idempotency_key.as_ref().map(|k| match who.account {
            Some(a) => format!("{a}:{k}"),
            None => format!("public:{k}"),
        }),
        lead_department: None,
        departments: " ".into(),
        step: Some(wire(&Step::Accept)),
        step_started_at: Some(t),
        step_due_at: Some(due.at),
        step_due_provisional: i64::from(due.provisional),
        suspended_at: None,
        extension_minutes: None,
        created_at: t,
        updated_at: t,
        yellow_at: Some(yellow_at(t, due.at, state.yellow_share())),
        light_notified: "green".into(),
    };
    let first = NewMove {
        move_name: "report".into(),
        body: json!({"category": e.category_code, "urgency": e.urgency}).to_string(),
        from_state: "".into(),
        to_state: e.state.clone(),
        actor: who.actor.clone(),
        actor_role: who.role.clone(),
        department: who.department.clone(),
        ip: who.ip.clone(),
    };
    let audit = who.audit(&e);
    Ok(state
        .writer
        .report(NewReport {
            event: e,
            first,
            audit,
            nearby_within: nearby.then_some(DUPLICATE_BOX_DEG),
        })
        .await?)
}

/// How near and how recent an open event of the same category must be to be offered as a
/// likely duplicate of a new report.
const DUPLICATE_RADIUS_M: f64 = 250.0;
const DUPLICATE_WINDOW_HOURS: i64 = 72;
/// The box read around a point: 250 m is about 0.00225° of latitude; the box is trimmed by the
/// exact distance in [`rank_duplicates`].
const DUPLICATE_BOX_DEG: f64 = 0.0025;

/// Open events of the same category within 250 m and 72 hours, nearest first.
pub(crate) async fn likely_duplicates(
    state: &AppState,
    vis: &Visibility,
    e: &EventRow,
) -> ApiResult<Vec<Value>> {
    let since = e.created_at - Duration::hours(DUPLICATE_WINDOW_HOURS);
    let near = state
        .store
        .open_events_near(
            vis,
            &e.category_code,
            since,
            (e.lon, e.lat),
            DUPLICATE_BOX_DEG,
        )
        .await?;
    Ok(rank_duplicates(vis, e, &near))
}

/// Of the open events read around `e`, the likely duplicates the caller may see: the same
/// category, within 250 m and the 72 hours before it, nearest first.
pub(crate) fn rank_duplicates(vis: &Visibility, e: &EventRow, near: &[NearbyEvent]) -> Vec<Value> {
    use geo::{Distance, Haversine, Point};
    let since = e.created_at - Duration::hours(DUPLICATE_WINDOW_HOURS);
    let here = Point::new(e.lon, e.lat);
    let mut found: Vec<(f64, &NearbyEvent)> = near
        .iter()
        .filter(|o| {
            o.id != e.id
                && o.category_code == e.category_code
                && o.created_at >= since
                && vis.sees(&o.grid_code)
        })
        .map(|o| (Haversine.distance(here, Point::new(o.lon, o.lat)), o))
        .filter(|(d, _)| *d <= DUPLICATE_RADIUS_M)
        .collect();
    found.sort_by(|a, b| a.0.total_cmp(&b.0));
    found
        .into_iter()
        .map(|(d, o)| json!({"id": o.id, "code": o.code, "state": o.state, "distance_m": d.round(), "description": o.description}))
        .collect()
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let vis = caller.visibility()?;
    let int = |name: &str, default: i64, max: i64| -> ApiResult<i64> {
        match q.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    ApiError::bad_request("event.bad_paging", format!("{name} 应为1–{max}的整数"))
                }),
        }
    };
    let per_page = int("per_page", 50, 500)?;
    let page = int("page", 1, 1_000_000)?;
    if let Some(s) = q.get("state")
        && parse_wire::<EventState>(s).is_none()
    {
        return Err(ApiError::bad_request(
            "event.bad_state",
            format!("未知状态 \"{s}\""),
        ));
    }
    let light_filter = q.get("light").map(String::as_str);
    if light_filter.is_some_and(|l| !matches!(l, "green" | "yellow" | "red")) {
        return Err(ApiError::bad_request(
            "event.bad_light",
            "light 应为 green、yellow 或 red",
        ));
    }
    let query = EventQuery {
        state: q.get("state").cloned(),
        category: q.get("category").cloned(),
        urgency: q.get("urgency").cloned(),
        grid_prefix: q.get("region").or(q.get("grid")).cloned(),
        department: q.get("department").cloned(),
        text: q.get("text").cloned(),
        from: time_param(&q, "from", "event.bad_time")?,
        to: time_param(&q, "to", "event.bad_time")?,
        overdue_at: (light_filter == Some("red")).then(now),
        before: None,
        limit: per_page,
        offset: (page - 1) * per_page,
    };
    let rows = state
        .store
        .events(&vis, department_of(&caller).as_deref(), &query)
        .await?;
    let events: Vec<Value> = rows
        .iter()
        .map(|e| render(&state, e, None))
        .filter(|v| light_filter.is_none_or(|l| v["light"] == l))
        .collect();
    Ok(Json(
        json!({"events": events, "page": page, "per_page": per_page}),
    ))
}

async fn detail(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (e, _) = load(&state, &caller, &id).await?;
    let moves = state.store.event_history(&e).await?;
    let history: Vec<Value> = moves
        .iter()
        .map(|h| {
            json!({"seq": h.seq, "move": h.move_name, "from": h.from_state, "to": h.to_state, "actor": h.actor, "role": h.actor_role,
                   "department": h.department, "at": h.at.with_timezone(&beijing()).to_rfc3339(),
                   "body": serde_json::from_str::<Value>(&h.body).unwrap_or(Value::Null)})
        })
        .collect();
    let mut body = render(&state, &e, Some(json!(history)));
    body["check_ins"] = json!(check_ins(&moves, now()));
    body["whistle_ratings"] = json!(state.store.whistle_ratings(&e).await?);
    body["routed_department"] = json!(routed_department(&state, &e).await?);
    body["attachments"] = json!(
        state
            .store
            .attachments(&e)
            .await?
            .iter()
            .map(|a| crate::attachments::describe(&e, a))
            .collect::<Vec<_>>()
    );
    Ok(Json(body))
}

/// The department a dispatcher would send this event to: the administrator's routing rule for
/// its township, else its county; else the department of the category's kind serving its
/// township, else its county. A suggestion shown with the event; the dispatcher decides.
async fn routed_department(state: &AppState, e: &EventRow) -> ApiResult<Option<Value>> {
    let config = state.config.get();
    let describe =
        |d: wangge_store::DepartmentRow| json!({"id": d.id, "name": d.name, "kind": d.kind});
    if let Some(id) = config.settings.route(&e.category_code, &e.grid_code)
        && let Ok(id) = id.parse::<Uuid>()
        && let Some(d) = state.store.department(id).await?
    {
        return Ok(Some(describe(d)));
    }
    let Some(category) = config.category(&e.category_code) else {
        return Ok(None);
    };
    let places = [
        wangge_domain::workflow::region_of(
            &e.grid_code,
            wangge_domain::workflow::HolderLevel::Township,
        ),
        wangge_domain::workflow::region_of(
            &e.grid_code,
            wangge_domain::workflow::HolderLevel::County,
        ),
    ];
    for place in places {
        let serving = state.store.departments_serving(&[place]).await?;
        if let Some(d) = serving
            .into_iter()
            .find(|d| d.kind == category.department.as_str())
        {
            return Ok(Some(describe(d)));
        }
    }
    Ok(None)
}

/// 报到: for the latest whistle, each summoned department's check-in time, and whether it was late
/// or is still missing after the deadline.
fn check_ins(history: &[wangge_store::MoveRow], at: DateTime<Utc>) -> Vec<Value> {
    let Some((i, w)) = history
        .iter()
        .enumerate()
        .rev()
        .find(|(_, h)| h.move_name == "whistle")
    else {
        return Vec::new();
    };
    let Ok(Move::Whistle {
        lead,
        others,
        check_in_minutes,
        ..
    }) = serde_json::from_str::<Move>(&w.body)
    else {
        return Vec::new();
    };
    let deadline = w.at + Duration::minutes(check_in_minutes);
    std::iter::once(lead)
        .chain(others)
        .map(|d| {
            let done = history[i..]
                .iter()
                .find(|h| h.move_name == "check_in" && h.department.as_deref() == Some(d.as_str()));
            json!({
                "department": d,
                "deadline": deadline.with_timezone(&beijing()).to_rfc3339(),
                "checked_in_at": done.map(|h| h.at.with_timezone(&beijing()).to_rfc3339()),
                "late": done.map_or(at > deadline, |h| h.at > deadline),
                "missing": done.is_none(),
            })
        })
        .collect()
}

#[derive(Deserialize)]
struct RatingsBody {
    ratings: Vec<wangge_store::WhistleRating>,
}

/// After a whistled event closes, the street rates each summoned department's response; the
/// ratings feed the departments' assessment.
async fn rate_departments(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<RatingsBody>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    if !matches!(caller.role, Role::StreetDispatcher | Role::CommandCentre) {
        return Err(crate::auth::forbidden());
    }
    let (e, _) = load(&state, &caller, &id).await?;
    let b = json_body(body)?;
    let flow = flow_of(&e)?;
    if !flow.whistled || flow.state != EventState::Closed {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "event.not_rateable",
            "只有吹哨且已结案的事件可以评价部门",
        ));
    }
    let summoned: Vec<&str> = e.departments.split_whitespace().collect();
    if b.ratings.is_empty() {
        return Err(ApiError::bad_request(
            "event.bad_rating",
            "请至少评价一个部门",
        ));
    }
    for r in &b.ratings {
        if !summoned.contains(&r.department.as_str()) {
            return Err(ApiError::bad_request(
                "event.bad_rating",
                format!("部门 {} 未参与此事件", r.department),
            ));
        }
        if [r.speed, r.cooperation, r.result]
            .iter()
            .any(|v| !(1..=5).contains(v))
        {
            return Err(ApiError::bad_request(
                "event.bad_rating",
                "响应速度、配合力度、落实程度应为1–5分",
            ));
        }
    }
    let t = now();
    state
        .store
        .insert_whistle_ratings(&e, &b.ratings, &caller.account.username, t)
        .await
        .map_err(|err| match err {
            StoreError::Conflict(m) => {
                ApiError::new(StatusCode::CONFLICT, "event.already_rated", m)
            }
            other => other.into(),
        })?;
    state
        .store
        .append_audit(
            &caller.audit(
                "event.whistle_rating",
                Some("event"),
                Some(e.id.to_string()),
                json!({"departments": b.ratings.len()}),
            ),
            t,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"whistle_ratings": state.store.whistle_ratings(&e).await?})),
    ))
}

#[derive(Deserialize)]
struct MoveBody {
    version: i64,
    #[serde(flatten)]
    mv: Move,
}

async fn make_move(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<Value>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let (e, vis) = load(&state, &caller, &id).await?;
    let raw = json_body(body)?;
    if raw.get("version").and_then(Value::as_i64).is_none() {
        return Err(ApiError::bad_request(
            "event.version_required",
            "请带上事件的当前版本号 version",
        ));
    }
    let MoveBody { version, mv } = serde_json::from_value(raw.clone())
        .map_err(|err| ApiError::bad_request("event.bad_move", format!("动作格式不正确：{err}")))?;
    // Taking an event to mediation and ending it go through the mediation case, which names it.
    if matches!(mv, Move::Mediate { .. } | Move::MediationEnded { .. }) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "event.through_mediation",
            "转入调解和调解结束由调解案件记录（POST /api/v1/mediation/cases）",
        ));
    }
    let next = move_event(&state, &caller, &e, &vis, version, &mv, raw).await?;
    Ok(Json(render(&state, &next, None)))
}

/// Makes a move on an event the caller can see, as the caller: the rules, the deadlines, the
/// history and the audit, committed through the writer. `raw` is the move as sent (recorded
/// without its version). Returns the event after it.
pub(crate) async fn move_event(
    state: &AppState,
    caller: &Caller,
    e: &EventRow,
    vis: &Visibility,
    version: i64,
    mv: &Move,
    raw: Value,
) -> ApiResult<EventRow> {
    if version != e.version {
        return Err(stale(e.version));
    }
    let department = department_of(caller);
    let actor = Actor {
        role: caller.role,
        department: department.clone(),
        is_reporter: e.reporter_account == Some(caller.account.id),
        is_event_grid_worker: caller.role == Role::GridWorker
            && matches!(&caller.scope, Scope::Place(Node::Grid(g)) if g.as_str() == e.grid_code),
    };
    // Departments named in a move must exist.
    let named: Vec<&String> = match &mv {
        Move::Dispatch { lead, co } => std::iter::once(lead).chain(co).collect(),
        Move::Whistle { lead, others, .. } => std::iter::once(lead).chain(others).collect(),
        _ => Vec::new(),
    };
    for d in named {
        let ok = match d.parse::<Uuid>() {
            Ok(id) => state.store.department(id).await?.is_some(),
            Err(_) => false,
        };
        if !ok {
            return Err(ApiError::bad_request(
                "event.unknown_department",
                format!("部门 {d} 不存在"),
            ));
        }
    }
    if let Move::Merge { into } = &mv {
        let target = match into.parse::<Uuid>() {
            Ok(t) if t != e.id => {
                state
                    .store
                    .event(vis, department_of(caller).as_deref(), t)
                    .await?
            }
            _ => None,
        };
        if !target.is_some_and(|t| parse_wire::<EventState>(&t.state).is_some_and(|s| s.is_open()))
        {
            return Err(ApiError::bad_request(
                "event.bad_merge_target",
                format!("合并目标 {into} 不存在或已办结"),
            ));
        }
    }
    if let Move::Reclassify { category } = &mv
        && state.config.get().category(category).is_none()
    {
        return Err(ApiError::bad_request(
            "event.unknown_category",
            format!("未知事件类别 \"{category}\""),
        ));
    }
    let before = flow_of(e)?;
    let after = apply(&before, &actor, mv).map_err(|err| match err {
        MoveError::Forbidden(_) => ApiError::new(
            StatusCode::FORBIDDEN,
            "event.forbidden_move",
            err.to_string(),
        ),
        MoveError::NotNow(_) => {
            ApiError::new(StatusCode::CONFLICT, "event.illegal_move", err.to_string())
                .with_details(json!({"state": e.state}))
        }
        MoveError::Invalid(_) => ApiError::bad_request("event.invalid_move", err.to_string()),
    })?;
    let t = now();
    let mut next = e.clone();
    next.state = wire(&after.state);
    next.flow = serde_json::to_string(&after).unwrap_or_default();
    next.version = after.version;
    next.updated_at = t;
    next.lead_department = after.lead.clone();
    next.departments = format!(
        " {} ",
        after
            .lead
            .iter()
            .chain(after.co.iter())
            .cloned()
            .collect::<Vec<_>>()
            .join(" ")
    );
    // Deadlines: a new step starts its clock; suspension stops it; an approved extension moves it.
    let config = state.config.get();
    let category = config
        .category(&next.category_code)
        .unwrap_or_else(|| config.catalogue[0].clone());
    let urgency: Urgency = parse_wire(&next.urgency).unwrap_or(Urgency::Normal);
    match &mv {
        Move::Suspend { .. } => next.suspended_at = Some(t),
        Move::Resume => {
            if let (Some(since), Some(due)) = (e.suspended_at, e.step_due_at) {
                next.step_due_at = Some(due + (t - since));
                next.yellow_at = e.yellow_at.map(|y| y + (t - since));
            }
            next.suspended_at = None;
        }
        Move::RequestExtension { minutes, .. } => next.extension_minutes = Some(*minutes),
        Move::DecideExtension { approve } => {
            if *approve
                && let (Some(m), Some(due), Some(started)) =
                    (e.extension_minutes, e.step_due_at, e.step_started_at)
            {
                next.step_due_at = Some(due + Duration::minutes(m));
                next.yellow_at = Some(yellow_at(
                    started,
                    due + Duration::minutes(m),
                    state.yellow_share(),
                ));
                next.light_notified = "green".into();
            }
            next.extension_minutes = None;
        }
        Move::Reclassify { category } => {
            if let Some(c) = config.category(category) {
                next.category_code = c.code.clone();
                next.domain = wire(&c.domain);
            }
        }
        _ => {}
    }
    match step_change(&before, &after, mv) {
        StepChange::Keep => {}
        StepChange::Start { step, limit } => {
            let limit =
                limit.unwrap_or_else(|| category.limit(step, urgency, is_rural(&e.grid_code)));
            let due = state.due(&next.grid_code, t, limit);
            next.step = Some(wire(&step));
            next.step_started_at = Some(t);
            next.step_due_at = Some(due.at);
            next.step_due_provisional = i64::from(due.provisional);
            next.yellow_at = Some(yellow_at(t, due.at, state.yellow_share()));
            next.light_notified = "green".into();
        }
        StepChange::Stop => {
            next.step = None;
            next.step_started_at = None;
            next.step_due_at = None;
            next.step_due_provisional = 0;
            next.yellow_at = None;
        }
    }
    let mut recorded = raw;
    if let Some(o) = recorded.as_object_mut() {
        o.remove("version");
    }
    let m = NewMove {
        move_name: mv.name().into(),
        body: recorded.to_string(),
        from_state: e.state.clone(),
        to_state: next.state.clone(),
        actor: caller.account.username.clone(),
        actor_role: caller.role.as_str().into(),
        department,
        ip: caller.ip.clone(),
    };
    let audit = caller.audit(
        "event.move",
        Some("event"),
        Some(e.id.to_string()),
        json!({"move": mv.name(), "from": e.state, "to": next.state}),
    );
    let moved = state
        .writer
        .apply_move(NewEventMove {
            next: next.clone(),
            expected_version: version,
            record: m,
            audit,
        })
        .await?;
    if !moved {
        let current = state
            .store
            .event(&Visibility::system(), None, e.id)
            .await?
            .map_or(e.version, |c| c.version);
        return Err(stale(current));
    }
    Ok(next)
}

fn stale(current: i64) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "event.stale_version",
        "事件已被他人更新，请刷新后重试",
    )
    .with_details(json!({"version": current}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wangge_domain::region::RegionCode;

    fn event_at(lon: f64, lat: f64) -> EventRow {
        EventRow {
            lon,
            lat,
            ..wangge_store::testing::sample_event(Utc::now())
        }
    }

    fn near(
        code: &str,
        category: &str,
        grid: &str,
        (lon, lat): (f64, f64),
        hours_ago: i64,
    ) -> NearbyEvent {
        NearbyEvent {
            id: Uuid::now_v7(),
            code: code.into(),
            category_code: category.into(),
            state: "reported".into(),
            description: code.into(),
            lon,
            lat,
            grid_code: grid.into(),
            created_at: Utc::now() - Duration::hours(hours_ago),
        }
    }

    /// Of what was read around a report, only the same category, within 250 m, within the 72
    /// hours before it and inside the caller's sight is offered, nearest first, never itself.
    #[test]
    fn duplicates_are_ranked_and_trimmed() {
        let e = event_at(106.4, 39.0);
        let mine = "640202001001001";
        let neighbour = "640202002001001";
        let read = vec![
            near("far", "0401", mine, (106.4 + 0.003, 39.0), 1),
            near("second", "0401", mine, (106.4, 39.0 + 0.001), 1),
            near("first", "0401", mine, (106.4 + 0.0002, 39.0), 2),
            near("old", "0401", mine, (106.4, 39.0), 73),
            near("other-class", "0501", mine, (106.4, 39.0), 1),
            near("out-of-sight", "0401", neighbour, (106.4, 39.0), 1),
            NearbyEvent {
                id: e.id,
                ..near("itself", "0401", mine, (106.4, 39.0), 0)
            },
        ];
        let community = Visibility::system()
            .narrowed_to(&RegionCode::parse("640202001001").unwrap())
            .unwrap();
        let codes = |v: Vec<Value>| -> Vec<String> {
            v.iter()
                .map(|d| d["code"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(
            codes(rank_duplicates(&community, &e, &read)),
            ["first", "second"]
        );
        let city = Visibility::system();
        assert_eq!(
            codes(rank_duplicates(&city, &e, &read)),
            ["out-of-sight", "first", "second"]
        );
        let d = rank_duplicates(&community, &e, &read);
        assert!(
            (15.0..20.0).contains(&d[0]["distance_m"].as_f64().unwrap()),
            "{d:?}"
        );
    }
}

//! The web pages: server-rendered HTML (askama templates under `templates/`) for people at a desk
//! or on a phone, and the static files they need, embedded in the binary (`assets/`, with the
//! vendored libraries listed in `assets/vendor/VENDOR.md`) so the product works on an intranet
//! with no internet. Pages read through the same store calls, with the same `Visibility`, as the
//! API; their forms post to the JSON API from `assets/app.js`, so there is one path for every
//! change. Every page is sent with a strict Content-Security-Policy: no inline scripts or styles.

use crate::auth::{Caller, Via, now};
use crate::events::{department_of, load, parse_flow};
use crate::{ApiError, AppState};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use rust_embed::RustEmbed;
use std::collections::HashMap;
use wangge_domain::access::{Node, Role, Scope};
use wangge_domain::calendar::{beijing, light};
use wangge_domain::workflow::{Actor, State as EventState, Urgency, open_moves};
use wangge_domain::{parse_wire, wire};
use wangge_store::EventQuery;

#[derive(RustEmbed)]
#[folder = "assets/"]
struct Assets;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_page))
        .route("/desk", get(desk))
        .route("/centre", get(centre))
        .route("/admin", get(admin))
        .route("/report", get(report_page))
        .route("/tasks", get(tasks_page))
        .route("/sw.js", get(service_worker))
        .route("/events/{id}", get(event_page))
        .route("/assets/{*path}", get(asset))
        .route("/portal", get(portal))
        .route("/portal/track", get(portal_track))
}

/// No inline scripts or styles, nothing from elsewhere; map tiles, when configured, will be the
/// one addition.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

pub(crate) fn page(html: String) -> Response {
    let mut res = Html(html).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

pub(crate) fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => page(html),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "页面生成失败").into_response()
        }
    }
}

/// A page's caller, or the way to the login page.
pub(crate) fn signed_in(caller: Result<Caller, ApiError>) -> Result<Caller, Box<Response>> {
    caller.map_err(|e| {
        Box::new(if e.status == StatusCode::UNAUTHORIZED {
            Redirect::to("/login").into_response()
        } else {
            e.into_response()
        })
    })
}

/// The session's CSRF token, for the page's forms.
pub(crate) async fn csrf_of(state: &AppState, caller: &Caller) -> String {
    match &caller.via {
        Via::Session { id_hash } => state
            .store
            .session_with_account(id_hash)
            .await
            .ok()
            .flatten()
            .map(|s| s.csrf_token)
            .unwrap_or_default(),
        Via::Token { .. } => String::new(),
    }
}

async fn asset(Path(path): Path<String>, headers: axum::http::HeaderMap) -> Response {
    let Some(file) = Assets::get(&path) else {
        return (StatusCode::NOT_FOUND, "没有这个文件").into_response();
    };
    let etag = format!(
        "\"{}\"",
        file.metadata
            .sha256_hash()
            .iter()
            .take(12)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let mime = match path.rsplit('.').next().unwrap_or("") {
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "json" => "application/json",
        _ => "application/octet-stream",
    };
    let mut res = file.data.into_owned().into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

/// Each role lands on its own page: leaders and the command centre on the command centre,
/// mediators on the mediation desk, the three administrators on administration, grid workers on
/// their tasks, everyone else on the queue of their work (a department's is its inbox).
async fn home(caller: Result<Caller, ApiError>) -> Response {
    match signed_in(caller) {
        Ok(c) if matches!(c.role, Role::CommandCentre | Role::Leader) => {
            Redirect::to("/centre").into_response()
        }
        Ok(c) if c.role == Role::Mediator => Redirect::to("/mediation").into_response(),
        Ok(c) if c.role.is_administrator() => Redirect::to("/admin").into_response(),
        Ok(c) if c.role == Role::GridWorker => Redirect::to("/tasks").into_response(),
        Ok(_) => Redirect::to("/desk").into_response(),
        Err(to_login) => *to_login,
    }
}

#[derive(Template)]
#[template(path = "centre.html")]
struct Centre {
    csrf: String,
    user: String,
    role: String,
    area: String,
    /// The region code the map and charts are drawn for.
    area_code: String,
    counts: wangge_store::EventCounts,
    /// 大屏: the wall display's layout (`?screen=big`).
    big_screen: bool,
}

async fn centre(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let caller = match signed_in(caller) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let vis = match crate::centre::area_of(&caller) {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let counts = match crate::centre::counts(&state, &vis).await {
        Ok(c) => c,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let area = match &caller.scope {
        // A grid worker's scope is a grid: its community names the area.
        Scope::Place(node) => state
            .store
            .region(&node.code()[..12])
            .await
            .ok()
            .flatten()
            .map(|r| r.name)
            .unwrap_or_default(),
        Scope::Department { .. } => String::new(),
    };
    render(&Centre {
        csrf: csrf_of(&state, &caller).await,
        user: caller.account.display_name.clone(),
        role: caller.role.label_zh().into(),
        area,
        area_code: crate::centre::area_code(&caller),
        counts,
        big_screen: q.get("screen").is_some_and(|s| s == "big"),
    })
}

#[derive(Template)]
#[template(path = "login.html")]
struct Login {
    csrf: String,
    user: String,
    role: String,
}

async fn login_page() -> Response {
    render(&Login {
        csrf: String::new(),
        user: String::new(),
        role: String::new(),
    })
}

#[derive(Template)]
#[template(path = "portal.html")]
struct Portal {
    csrf: String,
    user: String,
    role: String,
    categories: Vec<(String, String)>,
}

/// The citizen's report form (no account).
async fn portal(State(state): State<AppState>) -> Response {
    let config = state.config.get();
    render(&Portal {
        csrf: String::new(),
        user: String::new(),
        role: String::new(),
        categories: config
            .catalogue
            .iter()
            .map(|c| (c.code.clone(), format!("{} · {}", c.major_name, c.name)))
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "track.html")]
struct Track {
    csrf: String,
    user: String,
    role: String,
    code: String,
}

/// The citizen's progress page; the code may come in the address from the report page.
async fn portal_track(Query(q): Query<HashMap<String, String>>) -> Response {
    render(&Track {
        csrf: String::new(),
        user: String::new(),
        role: String::new(),
        code: q
            .get("code")
            .map(|c| {
                c.chars()
                    .filter(char::is_ascii_alphanumeric)
                    .take(16)
                    .collect()
            })
            .unwrap_or_default(),
    })
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    csrf: String,
    user: String,
    role: String,
    categories: Vec<(String, String)>,
    /// A grid worker's own grid, drawn under the position marker.
    grid: String,
}

/// The grid worker's report page (any role that may report can use it): position from the phone,
/// a photo from its camera, and reports kept on the phone while there is no signal.
async fn report_page(State(state): State<AppState>, caller: Result<Caller, ApiError>) -> Response {
    let caller = match signed_in(caller) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let config = state.config.get();
    render(&ReportPage {
        csrf: csrf_of(&state, &caller).await,
        user: caller.account.display_name.clone(),
        role: caller.role.label_zh().into(),
        categories: config
            .catalogue
            .iter()
            .map(|c| (c.code.clone(), format!("{} · {}", c.major_name, c.name)))
            .collect(),
        grid: own_grid(&caller),
    })
}

struct Task {
    id: String,
    code: String,
    category: String,
    description: String,
    due: String,
    light: String,
}

#[derive(Template)]
#[template(path = "tasks.html")]
struct TasksPage {
    csrf: String,
    user: String,
    role: String,
    /// 待核查: handled events the user may verify.
    to_verify: Vec<Task>,
    /// 就地处置: small matters kept in the community (小事不出网格), still being handled.
    to_handle: Vec<Task>,
    grid: String,
}

/// How many of each kind of task the phone page lists (the oldest first would hide the urgent:
/// the queue's order is the store's, newest first, and the lights show what is late).
const TASKS_LISTED: i64 = 100;

/// The grid worker's "my tasks" (我的任务) and "my grid" (我的网格): what is waiting for their
/// verification, the matters being handled here, and the grid's open events on its map.
async fn tasks_page(State(state): State<AppState>, caller: Result<Caller, ApiError>) -> Response {
    let caller = match signed_in(caller) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let vis = match caller.visibility() {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let department = department_of(&caller);
    let config = state.config.get();
    let mut lists: [Vec<Task>; 2] = [Vec::new(), Vec::new()];
    for (i, (st, mv)) in [("handled", "verify"), ("handling", "submit_result")]
        .into_iter()
        .enumerate()
    {
        let query = EventQuery {
            state: Some(st.into()),
            limit: TASKS_LISTED,
            ..EventQuery::default()
        };
        let events = match state
            .store
            .events(&vis, department.as_deref(), &query)
            .await
        {
            Ok(e) => e,
            Err(e) => return ApiError::from(e).into_response(),
        };
        for e in events {
            let Ok(flow) = parse_flow(&e.flow) else {
                continue;
            };
            let actor = Actor {
                role: caller.role,
                department: department.clone(),
                is_reporter: e.reporter_account == Some(caller.account.id),
                is_event_grid_worker: caller.role == Role::GridWorker
                    && matches!(&caller.scope, Scope::Place(Node::Grid(g)) if g.as_str() == e.grid_code),
            };
            // Verifying is the worker's own move; a matter handled here is theirs to see through
            // even when the community records the result.
            let mine = if mv == "verify" {
                open_moves(&flow, &actor).contains(&"verify")
            } else {
                flow.handled_here
            };
            if !mine {
                continue;
            }
            lists[i].push(Task {
                id: e.id.to_string(),
                code: e.code.clone(),
                category: config
                    .category(&e.category_code)
                    .map_or(e.category_code.clone(), |c| c.name),
                description: e.description.chars().take(60).collect(),
                due: local(e.step_due_at),
                light: light_of(&state, &e),
            });
        }
    }
    let [to_verify, to_handle] = lists;
    render(&TasksPage {
        csrf: csrf_of(&state, &caller).await,
        user: caller.account.display_name.clone(),
        role: caller.role.label_zh().into(),
        to_verify,
        to_handle,
        grid: own_grid(&caller),
    })
}

/// A grid worker's grid code (empty for other roles).
fn own_grid(caller: &Caller) -> String {
    match &caller.scope {
        Scope::Place(Node::Grid(g)) if caller.role == Role::GridWorker => g.as_str().to_string(),
        _ => String::new(),
    }
}

/// The service worker, at the root so it may keep the report page for offline use.
async fn service_worker(headers: axum::http::HeaderMap) -> Response {
    asset(Path("sw.js".to_string()), headers).await
}

fn urgency_zh(u: &str) -> &'static str {
    match parse_wire::<Urgency>(u) {
        Some(Urgency::Urgent) => "紧急",
        Some(Urgency::VeryUrgent) => "特急",
        _ => "一般",
    }
}

fn light_zh(l: &str) -> &'static str {
    match l {
        "red" => "红灯（超时）",
        "yellow" => "黄灯（临期）",
        "green" => "绿灯",
        _ => "—",
    }
}

fn state_zh(s: &str) -> &'static str {
    parse_wire::<EventState>(s).map_or("—", EventState::label_zh)
}

pub(crate) fn local(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| {
        t.with_timezone(&beijing())
            .format("%m-%d %H:%M")
            .to_string()
    })
    .unwrap_or_else(|| "—".into())
}

fn light_of(state: &AppState, e: &wangge_store::EventRow) -> String {
    match (e.step_started_at, e.step_due_at) {
        (Some(s), Some(d)) => wire(&light(
            e.suspended_at.unwrap_or_else(now),
            s,
            d,
            state.yellow_share(),
        )),
        _ => String::new(),
    }
}

struct Row {
    id: String,
    code: String,
    category: String,
    urgency: &'static str,
    state: &'static str,
    description: String,
    due: String,
    light: String,
    light_label: &'static str,
    version: i64,
    /// For a department's inbox: whether it leads (主办) or helps (协办), whether it has
    /// reported for duty (报到), and whether it may check in now.
    part: &'static str,
    checked_in: &'static str,
    can_check_in: bool,
}

#[derive(Template)]
#[template(path = "desk.html")]
struct Desk {
    csrf: String,
    user: String,
    role: String,
    states: Vec<(String, &'static str)>,
    state: String,
    light: String,
    text: String,
    rows: Vec<Row>,
    /// Showing older events than the newest page.
    paged: bool,
    has_next: bool,
    first_link: String,
    next_link: String,
    /// 部门收件箱: the page of a department's staff, the work sent to it.
    inbox: bool,
    /// Transfer slips (转办单) sent to the department: (id, case code, reason, receipt due,
    /// received, replied).
    slips: Vec<SlipLine>,
}

struct SlipLine {
    id: String,
    reason: String,
    receipt_due: String,
    late: bool,
    received: bool,
    replied: bool,
}

const PER_PAGE: i64 = 50;

/// The queue of work in the caller's sight: open work first, red before yellow before green,
/// the most urgent first within a light; filters and paging in the address.
async fn desk(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let caller = match signed_in(caller) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let vis = match caller.visibility() {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    let (state_filter, light_filter, text) = (get("state"), get("light"), get("text"));
    // Paging by the last row seen (older than it), so a deep page costs what the first does.
    let before = q
        .get("before")
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
        .zip(
            q.get("before_id")
                .and_then(|i| i.parse::<uuid::Uuid>().ok()),
        );
    let query = EventQuery {
        state: Some(state_filter.clone()).filter(|s| parse_wire::<EventState>(s).is_some()),
        text: Some(text.trim().to_string()).filter(|t| !t.is_empty()),
        overdue_at: (light_filter == "red").then(now),
        before,
        limit: PER_PAGE + 1,
        offset: 0,
        ..EventQuery::default()
    };
    let mut events = match state
        .store
        .events(&vis, department_of(&caller).as_deref(), &query)
        .await
    {
        Ok(e) => e,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let has_next = events.len() as i64 > PER_PAGE;
    events.truncate(PER_PAGE as usize);
    let last = events.last().map(|e| (e.created_at, e.id));
    let config = state.config.get();
    let rank = |l: &str| match l {
        "red" => 0,
        "yellow" => 1,
        "green" => 2,
        _ => 3,
    };
    let urgency_rank = |u: &str| match u {
        "very_urgent" => 0,
        "urgent" => 1,
        _ => 2,
    };
    let department = department_of(&caller);
    let mut rows: Vec<(u8, u8, Row)> = events
        .iter()
        .map(|e| {
            let l = light_of(&state, e);
            let (part, checked_in, can_check_in) = match (&department, parse_flow(&e.flow)) {
                (Some(d), Ok(flow)) => {
                    let actor = Actor {
                        role: caller.role,
                        department: Some(d.clone()),
                        is_reporter: false,
                        is_event_grid_worker: false,
                    };
                    let part = if flow.lead.as_ref() == Some(d) {
                        "主办"
                    } else if flow.co.contains(d) {
                        "协办"
                    } else {
                        ""
                    };
                    let checked_in = if flow.checked_in.contains(d) {
                        "已报到"
                    } else if part.is_empty() {
                        ""
                    } else {
                        "待报到"
                    };
                    (
                        part,
                        checked_in,
                        open_moves(&flow, &actor).contains(&"check_in"),
                    )
                }
                _ => ("", "", false),
            };
            (
                rank(&l),
                urgency_rank(&e.urgency),
                Row {
                    id: e.id.to_string(),
                    code: e.code.clone(),
                    category: config
                        .category(&e.category_code)
                        .map_or(e.category_code.clone(), |c| c.name),
                    urgency: urgency_zh(&e.urgency),
                    state: state_zh(&e.state),
                    description: e.description.chars().take(60).collect(),
                    due: local(e.step_due_at),
                    light_label: light_zh(&l),
                    light: l,
                    version: e.version,
                    part,
                    checked_in,
                    can_check_in,
                },
            )
        })
        .filter(|(_, _, r)| light_filter.is_empty() || r.light == light_filter)
        .collect();
    rows.sort_by_key(|(l, u, _)| (*l, *u));
    let filters = format!(
        "/desk?state={}&light={}&text={}",
        encode(&state_filter),
        encode(&light_filter),
        encode(&text)
    );
    let older = last.map_or_else(String::new, |(at, id)| {
        format!(
            "{filters}&before={}&before_id={id}",
            encode(&at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        )
    });
    let slips = match department
        .as_deref()
        .and_then(|d| d.parse::<uuid::Uuid>().ok())
    {
        Some(d) => state
            .store
            .slips_to(None, Some(d))
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|x| SlipLine {
                id: x.id.to_string(),
                reason: x.reason,
                receipt_due: local(Some(x.receipt_due_at)),
                late: x
                    .received_at
                    .map_or(now() > x.receipt_due_at, |r| r > x.receipt_due_at),
                received: x.received_at.is_some(),
                replied: x.replied_at.is_some(),
            })
            .collect(),
        None => Vec::new(),
    };
    render(&Desk {
        csrf: csrf_of(&state, &caller).await,
        user: caller.account.display_name.clone(),
        role: caller.role.label_zh().into(),
        states: [
            EventState::Reported,
            EventState::Accepted,
            EventState::Dispatched,
            EventState::Handling,
            EventState::Handled,
            EventState::Closed,
        ]
        .iter()
        .map(|s| (wire(s), s.label_zh()))
        .collect(),
        state: state_filter.clone(),
        light: light_filter.clone(),
        text: text.clone(),
        rows: rows.into_iter().map(|(_, _, r)| r).collect(),
        paged: before.is_some(),
        has_next,
        first_link: filters.clone(),
        next_link: older,
        inbox: department.is_some(),
        slips,
    })
}

/// Percent-encodes a query value (the filters echo what the user typed).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

struct Field {
    name: &'static str,
    label: &'static str,
    /// text, line, number, bool, choice, many or photo.
    kind: &'static str,
    default: &'static str,
    options: Vec<(String, String)>,
}

struct MoveForm {
    name: &'static str,
    label: &'static str,
    fields: Vec<Field>,
}

struct HistoryLine {
    at: String,
    label: &'static str,
    actor: String,
    note: String,
}

#[derive(Template)]
#[template(path = "event.html")]
struct EventPage {
    csrf: String,
    user: String,
    role: String,
    id: String,
    code: String,
    version: i64,
    state: &'static str,
    state_wire: String,
    suspended: bool,
    category: String,
    urgency: &'static str,
    grid: String,
    address: String,
    description: String,
    step: String,
    light: String,
    due: String,
    routed: String,
    lon: f64,
    lat: f64,
    moves: Vec<MoveForm>,
    history: Vec<HistoryLine>,
    /// 疑似重复: open events of the same class nearby, each with a form to merge into it.
    duplicates: Vec<Duplicate>,
    /// A dispute the user may take to mediation (矛盾纠纷 → 调解案件).
    mediate: bool,
}

struct Duplicate {
    id: String,
    code: String,
    state: &'static str,
    distance_m: f64,
    description: String,
}

#[derive(Template)]
#[template(path = "not_found.html")]
pub(crate) struct NotFound {
    pub(crate) csrf: String,
    pub(crate) user: String,
    pub(crate) role: String,
    pub(crate) message: &'static str,
}

fn move_label(name: &str) -> &'static str {
    match name {
        "report" => "上报",
        "accept" => "受理",
        "reject" => "不予受理",
        "merge" => "合并",
        "handle_here" => "网格内自行处置",
        "escalate" => "上报上级",
        "dispatch" => "派遣",
        "whistle" => "吹哨",
        "check_in" => "签收报到",
        "return" => "退回",
        "request_extension" => "申请延期",
        "decide_extension" => "审批延期",
        "suspend" => "挂起",
        "resume" => "恢复",
        "submit_result" => "提交处置结果",
        "verify" => "核查",
        "rate" => "评价",
        "urge" => "催办",
        "supervise" => "督办",
        "reclassify" => "改类",
        "recall" => "撤回派遣",
        "reopen" => "重新办理",
        "reassign" => "转交",
        "mediate" => "转入调解",
        "mediation_ended" => "调解结束",
        _ => "操作",
    }
}

fn field(name: &'static str, label: &'static str, kind: &'static str) -> Field {
    Field {
        name,
        label,
        kind,
        default: "",
        options: Vec::new(),
    }
}

/// The form of each move: what it carries, in the shape the API takes.
fn form_of(
    name: &'static str,
    departments: &[(String, String)],
    categories: &[(String, String)],
) -> MoveForm {
    let many = |n, l| Field {
        options: departments.to_vec(),
        ..field(n, l, "many")
    };
    let one = |n, l, options: &[(String, String)]| Field {
        options: options.to_vec(),
        ..field(n, l, "choice")
    };
    let fields = match name {
        "reject" | "return" | "suspend" => vec![field("reason", "理由", "text")],
        "merge" => vec![field("into", "并入事件（编号 ID）", "line")],
        "dispatch" => vec![
            one("lead", "主办部门", departments),
            many("co", "协办部门（可多选）"),
        ],
        "whistle" => vec![
            one("lead", "牵头部门", departments),
            many("others", "其他报到部门（可多选）"),
            Field {
                default: "30",
                ..field("check_in_minutes", "报到时限（分钟）", "number")
            },
            field("task", "任务", "text"),
        ],
        "request_extension" => vec![
            Field {
                default: "480",
                ..field("minutes", "延期（分钟）", "number")
            },
            field("reason", "理由", "text"),
        ],
        "decide_extension" => vec![field("approve", "同意延期", "bool")],
        "submit_result" => vec![
            field("text", "处置结果", "text"),
            field("photo", "处置后照片（选填）", "photo"),
        ],
        "verify" => vec![
            field("pass", "核查通过", "bool"),
            field("note", "核查意见", "text"),
            field("photo", "现场照片（选填）", "photo"),
        ],
        "rate" => vec![
            one(
                "rating",
                "评价",
                &[
                    ("satisfied".into(), "满意".into()),
                    ("basically_satisfied".into(), "基本满意".into()),
                    ("dissatisfied".into(), "不满意".into()),
                ],
            ),
            field("comment", "意见", "text"),
        ],
        "urge" | "supervise" => vec![field("note", "说明", "text")],
        "reclassify" => vec![one("category", "新类别", categories)],
        "reassign" => vec![field("to", "转交给（用户名）", "line")],
        _ => Vec::new(),
    };
    MoveForm {
        name,
        label: move_label(name),
        fields,
    }
}

async fn event_page(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Path(id): Path<String>,
) -> Response {
    let caller = match signed_in(caller) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let csrf = csrf_of(&state, &caller).await;
    let (user, role) = (
        caller.account.display_name.clone(),
        caller.role.label_zh().to_string(),
    );
    let e = match load(&state, &caller, &id).await {
        Ok((e, _)) => e,
        Err(err) if err.status == StatusCode::NOT_FOUND => {
            let mut res = render(&NotFound {
                csrf,
                user,
                role,
                message: "事件不存在，或不在您的管辖范围内。",
            });
            *res.status_mut() = StatusCode::NOT_FOUND;
            return res;
        }
        Err(err) => return err.into_response(),
    };
    let history = match state.store.event_history(&e).await {
        Ok(h) => h,
        Err(err) => return ApiError::from(err).into_response(),
    };
    let config = state.config.get();
    let flow = parse_flow(&e.flow).ok();
    let actor = Actor {
        role: caller.role,
        department: department_of(&caller),
        is_reporter: e.reporter_account == Some(caller.account.id),
        is_event_grid_worker: caller.role == Role::GridWorker
            && matches!(&caller.scope, Scope::Place(Node::Grid(g)) if g.as_str() == e.grid_code),
    };
    let mut names = flow
        .as_ref()
        .map(|f| open_moves(f, &actor))
        .unwrap_or_default();
    // Mediation is entered and left through its case, not a form here.
    names.retain(|n| !matches!(*n, "mediate" | "mediation_ended"));
    let places = [
        format!("{}000", &e.grid_code[..9]),
        format!("{}000000", &e.grid_code[..6]),
    ];
    let serving = state
        .store
        .departments_serving(&places)
        .await
        .unwrap_or_default();
    let departments: Vec<(String, String)> = serving
        .iter()
        .map(|d| (d.id.to_string(), d.name.clone()))
        .collect();
    let categories: Vec<(String, String)> = config
        .catalogue
        .iter()
        .map(|c| (c.code.clone(), format!("{} {}", c.code, c.name)))
        .collect();
    let routed = config
        .settings
        .route(&e.category_code, &e.grid_code)
        .and_then(|id| departments.iter().find(|(d, _)| d == id))
        .map(|(_, n)| n.clone())
        .or_else(|| {
            // The township's department of the category's kind, else the county's.
            let kind = config.category(&e.category_code)?.department;
            serving
                .iter()
                .find(|d| d.kind == kind.as_str())
                .map(|d| d.name.clone())
        })
        .unwrap_or_else(|| "—".into());
    let light = light_of(&state, &e);
    // Likely duplicates (same class, 250 m, 72 h) while the event may still be merged into one.
    let duplicates = match caller.visibility() {
        Ok(vis) if names.contains(&"merge") => crate::events::likely_duplicates(&state, &vis, &e)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|d| Duplicate {
                id: d["id"].as_str().unwrap_or_default().to_string(),
                code: d["code"].as_str().unwrap_or_default().to_string(),
                state: state_zh(d["state"].as_str().unwrap_or_default()),
                distance_m: d["distance_m"].as_f64().unwrap_or_default(),
                description: d["description"]
                    .as_str()
                    .unwrap_or_default()
                    .chars()
                    .take(60)
                    .collect(),
            })
            .collect(),
        _ => Vec::new(),
    };
    // A dispute (class 01) may be taken to mediation by those who work cases.
    let mediate = e.category_code.starts_with("01")
        && matches!(
            caller.role,
            Role::Mediator | Role::CommunityStaff | Role::StreetDispatcher | Role::CommandCentre
        );
    render(&EventPage {
        csrf,
        user,
        role,
        id: e.id.to_string(),
        code: e.code.clone(),
        version: e.version,
        state: state_zh(&e.state),
        state_wire: e.state.clone(),
        suspended: e.suspended_at.is_some(),
        category: config
            .category(&e.category_code)
            .map_or(e.category_code.clone(), |c| {
                format!("{} {}", c.code, c.name)
            }),
        urgency: urgency_zh(&e.urgency),
        grid: e.grid_code.clone(),
        address: e.address.clone().unwrap_or_else(|| "—".into()),
        description: e.description.clone(),
        step: e
            .step
            .as_deref()
            .map(|s| match s {
                "accept" => "受理派遣",
                "check_in" => "签收报到",
                "handle" => "处置",
                "verify" => "核查",
                _ => "—",
            })
            .unwrap_or("—")
            .to_string(),
        due: local(e.step_due_at),
        light,
        routed,
        lon: e.lon,
        lat: e.lat,
        duplicates,
        mediate,
        moves: names
            .into_iter()
            .map(|n| form_of(n, &departments, &categories))
            .collect(),
        history: history
            .iter()
            .map(|h| {
                let body: serde_json::Value =
                    serde_json::from_str(&h.body).unwrap_or(serde_json::Value::Null);
                let note = ["reason", "note", "text", "comment", "task"]
                    .iter()
                    .find_map(|k| body[k].as_str().map(str::to_string))
                    .unwrap_or_default();
                HistoryLine {
                    at: h
                        .at
                        .with_timezone(&beijing())
                        .format("%Y-%m-%d %H:%M")
                        .to_string(),
                    label: move_label(&h.move_name),
                    actor: h.actor.clone(),
                    note,
                }
            })
            .collect(),
    })
}

type Cells6 = (i64, String, String, String, String, String);

struct AccountLine {
    id: String,
    username: String,
    name: String,
    role: String,
    /// The role's wire name, for the security administrator's role form.
    role_wire: String,
    administrator: bool,
    scope: String,
    status: &'static str,
    locked: bool,
    active: bool,
}

impl AccountLine {
    fn is_role(&self, wire: &str) -> bool {
        self.role_wire == wire
    }
}

#[derive(Template)]
#[template(path = "admin.html")]
struct Admin {
    csrf: String,
    user: String,
    role: String,
    title: &'static str,
    show_settings: bool,
    show_policy: bool,
    show_audit: bool,
    settings: String,
    /// (id, username, name, role, scope, status, whether it can be unlocked / deactivated)
    accounts: Vec<AccountLine>,
    /// The roles an account may be created with here (administrators are made on the server).
    roles: Vec<(&'static str, &'static str)>,
    /// The years with a published holiday notice.
    years: String,
    policy: Vec<(&'static str, String)>,
    actor: String,
    action: String,
    audit: Vec<Cells6>,
    /// The catalogue in force, for the category form and its table.
    categories: Vec<CategoryLine>,
    department_kinds: Vec<(&'static str, &'static str)>,
    /// The routing rules in force: (category, region, department).
    routes: Vec<(String, String, String)>,
}

struct CategoryLine {
    code: String,
    name: String,
    major: String,
    urgency: &'static str,
    department: &'static str,
    accept: String,
    check_in: String,
    handle: String,
    verify: String,
}

/// A time limit in words: 30分钟, 4工作小时, 10个工作日.
fn limit_zh(l: wangge_domain::calendar::Limit) -> String {
    use wangge_domain::calendar::Limit;
    match l {
        Limit::Minutes(m) if m % 60 == 0 && m >= 60 => format!("{}小时", m / 60),
        Limit::Minutes(m) => format!("{m}分钟"),
        Limit::WorkingMinutes(m) if m % 60 == 0 => format!("{}工作小时", m / 60),
        Limit::WorkingMinutes(m) => format!("{m}工作分钟"),
        Limit::WorkingDays(d) => format!("{d}个工作日"),
    }
}

/// Administration, one duty per administrator (三员分立): the system administrator sees the
/// settings and the accounts, the security administrator the policy, the audit administrator the
/// audit trail. Anyone else is refused, as by the API.
async fn admin(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    use wangge_domain::access::Permission;
    let caller = match signed_in(caller) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let (settings_ok, policy_ok, audit_ok) = (
        caller.role.can(Permission::Configure),
        caller.role.can(Permission::ManageSecurity),
        caller.role.can(Permission::ReadAudit),
    );
    if !(settings_ok || policy_ok || audit_ok) {
        return crate::auth::forbidden().into_response();
    }
    let mut page = Admin {
        csrf: csrf_of(&state, &caller).await,
        user: caller.account.display_name.clone(),
        role: caller.role.label_zh().into(),
        title: caller.role.label_zh(),
        show_settings: settings_ok,
        show_policy: policy_ok,
        show_audit: audit_ok,
        settings: String::new(),
        accounts: Vec::new(),
        roles: Role::ALL
            .iter()
            .filter(|r| !r.is_administrator())
            .map(|r| (r.as_str(), r.label_zh()))
            .collect(),
        years: state
            .calendar
            .get()
            .published_years()
            .map(|y| y.to_string())
            .collect::<Vec<_>>()
            .join("、"),
        policy: Vec::new(),
        actor: q.get("actor").cloned().unwrap_or_default(),
        action: q.get("action").cloned().unwrap_or_default(),
        audit: Vec::new(),
        categories: Vec::new(),
        department_kinds: wangge_domain::org::DepartmentKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.label_zh()))
            .collect(),
        routes: Vec::new(),
    };
    if settings_ok {
        let config = state.config.get();
        page.settings = serde_json::to_string_pretty(&config.settings).unwrap_or_default();
        page.categories = config
            .catalogue
            .iter()
            .map(|c| CategoryLine {
                code: c.code.clone(),
                name: c.name.clone(),
                major: c.major_name.clone(),
                urgency: urgency_zh(&wire(&c.urgency)),
                department: c.department.label_zh(),
                accept: limit_zh(c.limits.accept),
                check_in: limit_zh(c.limits.check_in),
                handle: limit_zh(c.limits.handle),
                verify: limit_zh(c.limits.verify),
            })
            .collect();
        page.routes = config
            .settings
            .routing
            .iter()
            .map(|r| (r.category.clone(), r.region.clone(), r.department.clone()))
            .collect();
    }
    if settings_ok || policy_ok {
        page.accounts = match state.store.accounts().await {
            Ok(a) => a
                .into_iter()
                .map(|a| {
                    let role = a
                        .role
                        .parse::<Role>()
                        .map_or(a.role.clone(), |r| r.label_zh().to_string());
                    let locked = a.locked_until.is_some_and(|u| u > now());
                    let status = if a.active == 0 {
                        "已停用"
                    } else if locked {
                        "已锁定"
                    } else {
                        "正常"
                    };
                    let parsed = a.role.parse::<Role>().ok();
                    AccountLine {
                        id: a.id.to_string(),
                        username: a.username,
                        name: a.display_name,
                        role,
                        role_wire: a.role.clone(),
                        administrator: parsed.is_none_or(|r| r.is_administrator()),
                        scope: a.scope_code,
                        status,
                        locked,
                        active: a.active != 0,
                    }
                })
                .collect(),
            Err(e) => return ApiError::from(e).into_response(),
        };
    }
    if policy_ok {
        let s = &state.auth;
        page.policy = vec![
            ("连续失败锁定", format!("{} 次", s.max_failures)),
            ("锁定时长", format!("{} 分钟", s.lock_for.num_minutes())),
            (
                "会话空闲超时",
                format!("{} 分钟", s.idle_timeout.num_minutes()),
            ),
            (
                "会话最长时间",
                format!("{} 小时", s.absolute_timeout.num_hours()),
            ),
        ];
    }
    if audit_ok {
        let query = wangge_store::AuditQuery {
            actor: Some(page.actor.trim().to_string()).filter(|a| !a.is_empty()),
            action: Some(page.action.trim().to_string()).filter(|a| !a.is_empty()),
            limit: 100,
            ..Default::default()
        };
        page.audit = match state.store.search_audit(&query).await {
            Ok(rows) => rows
                .into_iter()
                .map(|r| {
                    (
                        r.seq,
                        r.at.with_timezone(&beijing())
                            .format("%Y-%m-%d %H:%M:%S")
                            .to_string(),
                        r.actor,
                        r.actor_role.unwrap_or_default(),
                        r.action,
                        r.record_id.unwrap_or_default(),
                    )
                })
                .collect(),
            Err(e) => return ApiError::from(e).into_response(),
        };
    }
    render(&page)
}

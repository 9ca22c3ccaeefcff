//! The desk (工作台): the queue of work in sight — for a department's staff its inbox, with its
//! part in each event, check-in from the list and the transfer slips sent to it — filtered by
//! state, light and text, paged by the last row seen.

use super::{
    encode, header_of, light_wire, light_zh, render, short, short_utc, signed_in, urgency_zh,
};
use crate::error::ApiError;
use crate::extract::{Caller, Query};
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use wangge_app::events::desk::{self, Part, QueueFilter, QueueRow};
use wangge_app::{Configured, Context};
use wangge_domain::calendar::Light;
use wangge_domain::workflow::State as EventState;
use wangge_domain::{parse_wire, wire};
use wangge_store::SlipRow;

pub fn router() -> Router<Context> {
    Router::new().route("/desk", get(desk))
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

struct SlipLine {
    id: String,
    reason: String,
    receipt_due: String,
    late: bool,
    received: bool,
    replied: bool,
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
    slips: Vec<SlipLine>,
}

#[derive(Debug, Default, Deserialize)]
struct DeskQuery {
    state: Option<String>,
    light: Option<String>,
    text: Option<String>,
    before: Option<String>,
    before_id: Option<String>,
}

async fn desk(
    State(ctx): State<Context>,
    caller: Result<Caller, ApiError>,
    Query(q): Query<DeskQuery>,
) -> Response {
    let who = match signed_in(caller) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let state_filter = q.state.clone().unwrap_or_default();
    let light_filter = q.light.clone().unwrap_or_default();
    let text = q.text.clone().unwrap_or_default();
    let before = before_of(&q);
    let filter = QueueFilter {
        state: parse_wire::<EventState>(&state_filter),
        light: parse_wire::<Light>(&light_filter),
        text: Some(text.trim().to_string()).filter(|t| !t.is_empty()),
        before,
    };
    let queue = match desk::queue(&ctx, &who, &filter).await {
        Ok(q) => q,
        Err(e) => return ApiError(e).into_response(),
    };
    let config = ctx.config.get();
    let rows = queue.rows.iter().map(|r| row_of(&config, r)).collect();
    let filters = format!(
        "/desk?state={}&light={}&text={}",
        encode(&state_filter),
        encode(&light_filter),
        encode(&text)
    );
    let older = older_link(&filters, queue.last);
    let slips = slip_lines(queue.slips, ctx.now());
    let h = header_of(&ctx, &who).await;
    render(&Desk {
        csrf: h.csrf,
        user: h.user,
        role: h.role,
        states: state_choices(),
        state: state_filter,
        light: light_filter,
        text,
        rows,
        paged: before.is_some(),
        has_next: queue.has_next,
        first_link: filters,
        next_link: older,
        inbox: queue.inbox,
        slips,
    })
}

/// Where the page starts: after the last row of the page before, when the link carries both its
/// time and its id (either alone is ignored, and the newest page shown).
fn before_of(q: &DeskQuery) -> Option<(chrono::DateTime<chrono::Utc>, uuid::Uuid)> {
    q.before
        .as_deref()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
        .zip(
            q.before_id
                .as_deref()
                .and_then(|i| i.parse::<uuid::Uuid>().ok()),
        )
}

/// The link to the next, older page: the same filters, starting after the last row shown.
fn older_link(filters: &str, last: Option<(chrono::DateTime<chrono::Utc>, uuid::Uuid)>) -> String {
    last.map_or_else(String::new, |(at, id)| {
        format!(
            "{filters}&before={}&before_id={id}",
            encode(&at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        )
    })
}

/// The states the filter offers, in the order of the workflow.
fn state_choices() -> Vec<(String, &'static str)> {
    [
        EventState::Reported,
        EventState::Accepted,
        EventState::Dispatched,
        EventState::Handling,
        EventState::Handled,
        EventState::Closed,
    ]
    .iter()
    .map(|s| (wire(s), s.label_zh()))
    .collect()
}

fn row_of(config: &Configured, r: &QueueRow) -> Row {
    let e = &r.event;
    Row {
        id: e.id.to_string(),
        code: e.code.clone(),
        category: config
            .category(&e.category)
            .map_or(e.category.clone(), |c| c.name),
        urgency: urgency_zh(e.urgency),
        state: e.state.label_zh(),
        description: e.description.chars().take(60).collect(),
        due: short(e.deadlines.first().and_then(|d| d.due_at)),
        light: light_wire(e.light),
        light_label: light_zh(e.light),
        version: e.version,
        part: match r.part {
            Some(Part::Lead) => "主办",
            Some(Part::Co) => "协办",
            None => "",
        },
        checked_in: match (r.part, r.checked_in) {
            (_, true) => "已报到",
            (Some(_), false) => "待报到",
            (None, false) => "",
        },
        can_check_in: r.can_check_in,
    }
}

/// The transfer slips sent to a department; a receipt is late once past its due time, whether
/// still awaited or given after it.
fn slip_lines(slips: Vec<SlipRow>, now: chrono::DateTime<chrono::Utc>) -> Vec<SlipLine> {
    slips
        .into_iter()
        .map(|x| SlipLine {
            id: x.id.to_string(),
            reason: x.reason,
            receipt_due: short_utc(Some(x.receipt_due_at)),
            late: x
                .received_at
                .map_or(now > x.receipt_due_at, |r| r > x.receipt_due_at),
            received: x.received_at.is_some(),
            replied: x.replied_at.is_some(),
        })
        .collect()
}

//! The mediator's desk (调解工作台): open and closed cases with their deadlines, the coming
//! sessions, the risk list, the screening rounds due, and a form to open a case — from an event
//! when one is named.

use super::outcome_zh;
use crate::error::ApiError;
use crate::extract::{Caller, Query};
use crate::pages::{header_of, render, short, signed_in};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use wangge_app::Context;
use wangge_app::mediation::risks::RiskCase;
use wangge_app::mediation::screening::RoundDue;
use wangge_app::mediation::views::{CaseSummary, MediatorView, OrgView};
use wangge_app::mediation::{cases, may_work, network, risks, screening};
use wangge_domain::mediation::{CaseSource, DisputeType};

struct CaseLine {
    id: String,
    code: String,
    kind: String,
    facts: String,
    opened: String,
    deadline: String,
    overdue: bool,
    risk: &'static str,
    outcome: String,
}

fn line(c: &CaseSummary) -> CaseLine {
    CaseLine {
        id: c.id.to_string(),
        code: c.code.clone(),
        kind: c.type_name.to_string(),
        facts: c.facts.chars().take(50).collect(),
        opened: short(Some(c.opened_at)),
        deadline: short(Some(c.deadline_at)),
        overdue: c.overdue,
        risk: c.risk_level.label_zh(),
        outcome: outcome_zh(&c.outcome),
    }
}

#[derive(Template)]
#[template(path = "mediation_desk.html")]
struct Desk {
    csrf: String,
    user: String,
    role: String,
    open: Vec<CaseLine>,
    closed: Vec<CaseLine>,
    types: Vec<(&'static str, &'static str)>,
    sources: Vec<(&'static str, &'static str)>,
    orgs: Vec<(String, String)>,
    mediators: Vec<(String, String)>,
    grids: Vec<(String, String)>,
    /// 近期调解安排: (case id, code, when, where), soonest first.
    sessions: Vec<(String, String, String, String)>,
    /// 研判清单: (case id, code, reasons).
    risks: Vec<(String, String, String)>,
    /// 排查: (grid, next due, overdue).
    rounds: Vec<(String, String, bool)>,
    /// Whether the user opens and works cases (others, such as leaders, only read).
    can_work: bool,
    /// Opening from an event: its id and code.
    event_id: String,
    event_code: String,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct DeskQuery {
    event: Option<String>,
}

/// 调解工作台.
pub(super) async fn desk(
    State(ctx): State<Context>,
    caller: Result<Caller, ApiError>,
    Query(q): Query<DeskQuery>,
) -> Response {
    let who = match signed_in(caller) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let loaded = async {
        let vis = wangge_app::mediation::sight(&who)?;
        let desk = cases::desk(&ctx, &who).await?;
        let orgs = network::orgs(&ctx, &who).await?.orgs;
        let mediators = network::mediators(&ctx, &who, None).await?.mediators;
        let risks = risks::list(&ctx, &who).await?.cases;
        let rounds = screening::rounds(&ctx, &who).await?.rounds;
        Ok::<_, wangge_app::AppError>((vis, desk, orgs, mediators, risks, rounds))
    };
    let (vis, desk, orgs, mediators, risks, rounds) = match loaded.await {
        Ok(x) => x,
        Err(e) => return ApiError(e).into_response(),
    };
    let sessions = session_lines(&desk.open);
    let (event_id, event_code) = event_named(&ctx, &who, q.event.as_deref()).await;
    let grids = grid_choices(&ctx, vis.prefix());
    let h = header_of(&ctx, &who).await;
    render(&Desk {
        csrf: h.csrf,
        user: h.user,
        role: h.role,
        open: desk.open.iter().map(line).collect(),
        closed: desk.closed.iter().map(line).collect(),
        types: DisputeType::ALL
            .iter()
            .map(|d| (d.as_str(), d.label_zh()))
            .collect(),
        sources: CaseSource::ALL
            .iter()
            .map(|d| (d.as_str(), d.label_zh()))
            .collect(),
        orgs: orgs
            .iter()
            .map(|o| (o.id.to_string(), o.name.clone()))
            .collect(),
        mediators: mediator_choices(&mediators, &orgs),
        grids,
        sessions,
        risks: risk_lines(&risks),
        rounds: round_lines(&rounds),
        can_work: may_work(&who).is_ok(),
        event_id,
        event_code,
    })
}

/// 近期调解安排: the open cases with a session fixed, soonest first.
fn session_lines(open: &[CaseSummary]) -> Vec<(String, String, String, String)> {
    let mut upcoming: Vec<&CaseSummary> =
        open.iter().filter(|c| c.next_session.is_some()).collect();
    upcoming.sort_by_key(|c| c.next_session.as_ref().map(|n| n.at));
    upcoming
        .iter()
        .take(30)
        .map(|c| {
            let n = c.next_session.as_ref();
            (
                c.id.to_string(),
                c.code.clone(),
                short(n.map(|n| n.at)),
                n.and_then(|n| n.place.clone()).unwrap_or_default(),
            )
        })
        .collect()
}

/// The mediators to pick from, each named with their title and organisation.
fn mediator_choices(mediators: &[MediatorView], orgs: &[OrgView]) -> Vec<(String, String)> {
    let org_name = |id: uuid::Uuid| {
        orgs.iter()
            .find(|o| o.id == id)
            .map_or("", |o| o.name.as_str())
    };
    mediators
        .iter()
        .take(1000)
        .map(|m| {
            let title = if m.title.is_empty() {
                String::new()
            } else {
                format!("（{}）", m.title)
            };
            (
                m.id.to_string(),
                format!("{}{title} · {}", m.name, org_name(m.org_id)),
            )
        })
        .collect()
}

/// The event a case is opened from, when the link names one the user may see: its id and code.
/// One out of sight is left out rather than refused, so the desk still opens.
async fn event_named(ctx: &Context, who: &Caller, id: Option<&str>) -> (String, String) {
    match id {
        Some(id) => match wangge_app::events::load(ctx, who, id).await {
            Ok(e) => (e.id.to_string(), e.code),
            Err(_) => (String::new(), String::new()),
        },
        None => (String::new(), String::new()),
    }
}

/// The grids a case may be opened in. A township's grids fit a list; a wider area picks by code.
fn grid_choices(ctx: &Context, prefix: &str) -> Vec<(String, String)> {
    ctx.atlas
        .get()
        .grids_under(prefix)
        .take(400)
        .map(|(c, n)| (c.to_string(), n.to_string()))
        .collect()
}

/// 研判清单: each case at risk with its reasons.
fn risk_lines(risks: &[RiskCase]) -> Vec<(String, String, String)> {
    risks
        .iter()
        .map(|r| (r.id.to_string(), r.code.clone(), r.reasons_zh.join("；")))
        .collect()
}

/// 排查: the screening rounds due, with whether each is late.
fn round_lines(rounds: &[RoundDue]) -> Vec<(String, String, bool)> {
    rounds
        .iter()
        .take(50)
        .map(|r| (r.grid.clone(), short(Some(r.next_due_at)), r.overdue))
        .collect()
}

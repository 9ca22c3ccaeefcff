//! What the desks show: the queue of work in sight (a department's inbox with its part in each
//! event and whether it may check in now), a grid worker's tasks, and the workbench of one event —
//! the moves the principal may make now, the departments that may take it, its likely
//! duplicates.

use super::duplicates;
use super::queries::detail_of;
use super::routing;
use super::views::{DepartmentRef, Duplicate, EventDetail, EventView, flow_or_reported};
use super::{is_rural, load};
use crate::context::Context;
use crate::error::AppResult;
use crate::limits;
use crate::principal::Principal;
use chrono::{DateTime, Utc};
use uuid::Uuid;
use wangge_domain::access::Role;
use wangge_domain::calendar::Light;
use wangge_domain::workflow::{State, Urgency, open_moves};
use wangge_domain::{parse_wire, wire};
use wangge_store::{EventQuery, SlipRow};

/// The queue's filters and where its page starts.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    pub state: Option<State>,
    pub light: Option<Light>,
    pub text: Option<String>,
    /// Only events older than this one: paging by the last row seen.
    pub before: Option<(DateTime<Utc>, Uuid)>,
}

/// A department's part in an event of its inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// 主办
    Lead,
    /// 协办
    Co,
}

#[derive(Debug, Clone)]
pub struct QueueRow {
    pub event: EventView,
    pub part: Option<Part>,
    pub checked_in: bool,
    pub can_check_in: bool,
}

#[derive(Debug, Clone)]
pub struct Queue {
    pub rows: Vec<QueueRow>,
    pub has_next: bool,
    /// The last row's time and id, where the next page starts.
    pub last: Option<(DateTime<Utc>, Uuid)>,
    /// A department's inbox rather than a place's queue.
    pub inbox: bool,
    /// Transfer slips sent to the department.
    pub slips: Vec<SlipRow>,
}

pub const QUEUE_PAGE: i64 = 50;

/// The work in sight, newest first by page, then red before yellow before green and the most
/// urgent first within a light.
pub async fn queue(ctx: &Context, who: &Principal, f: &QueueFilter) -> AppResult<Queue> {
    let sight = who.sight()?;
    let text = limits::optional_text("text", f.text.as_deref(), limits::NAME_MAX)?;
    let query = EventQuery {
        state: f.state.map(|s| wire(&s)),
        text,
        light: f.light.map(|l| (l, ctx.now())),
        before: f.before,
        limit: QUEUE_PAGE + 1,
        offset: 0,
        ..EventQuery::default()
    };
    let mut events = ctx
        .store
        .events(&sight.vis, sight.department.as_deref(), &query)
        .await?;
    let has_next = events.len() as i64 > QUEUE_PAGE;
    events.truncate(QUEUE_PAGE as usize);
    let last = events.last().map(|e| (e.created_at, e.id));
    let department = sight.department.clone();
    let mut rows: Vec<QueueRow> = events
        .iter()
        .map(|e| {
            let event = EventView::of(ctx, e);
            let (part, checked_in, can_check_in) = match &department {
                Some(d) => {
                    let flow = flow_or_reported(e);
                    let actor = who.workflow_actor(e);
                    let part = if flow.lead.as_ref() == Some(d) {
                        Some(Part::Lead)
                    } else if flow.co.contains(d) {
                        Some(Part::Co)
                    } else {
                        None
                    };
                    (
                        part,
                        flow.checked_in.contains(d),
                        open_moves(&flow, &actor).contains(&"check_in"),
                    )
                }
                None => (None, false, false),
            };
            QueueRow {
                event,
                part,
                checked_in,
                can_check_in,
            }
        })
        .collect();
    let light_rank = |l: Option<Light>| match l {
        Some(Light::Red) => 0,
        Some(Light::Yellow) => 1,
        Some(Light::Green) => 2,
        None => 3,
    };
    let urgency_rank = |u: Urgency| match u {
        Urgency::VeryUrgent => 0,
        Urgency::Urgent => 1,
        Urgency::Normal => 2,
    };
    rows.sort_by_key(|r| (light_rank(r.event.light), urgency_rank(r.event.urgency)));
    let slips = crate::mediation::slips::to_my_department(ctx, who).await?;
    Ok(Queue {
        rows,
        has_next,
        last,
        inbox: department.is_some(),
        slips,
    })
}

#[derive(Debug, Clone)]
pub struct Tasks {
    /// 待核查: handled events the grid worker may verify.
    pub to_verify: Vec<EventView>,
    /// 就地处置: small matters kept in the community (小事不出网格), still being handled.
    pub to_handle: Vec<EventView>,
}

/// How many of each kind of task the phone page lists.
const TASKS_LISTED: i64 = 100;

/// A grid worker's tasks (我的任务).
pub async fn tasks(ctx: &Context, who: &Principal) -> AppResult<Tasks> {
    let sight = who.sight()?;
    let mut lists: [Vec<EventView>; 2] = [Vec::new(), Vec::new()];
    for (i, st) in [State::Handled, State::Handling].into_iter().enumerate() {
        let query = EventQuery {
            state: Some(wire(&st)),
            limit: TASKS_LISTED,
            ..EventQuery::default()
        };
        let events = ctx
            .store
            .events(&sight.vis, sight.department.as_deref(), &query)
            .await?;
        for e in events {
            let flow = flow_or_reported(&e);
            // Verifying is the worker's own move; a matter handled here is theirs to see through
            // even when the community records the result.
            let mine = if st == State::Handled {
                open_moves(&flow, &who.workflow_actor(&e)).contains(&"verify")
            } else {
                flow.handled_here
            };
            if mine {
                lists[i].push(EventView::of(ctx, &e));
            }
        }
    }
    let [to_verify, to_handle] = lists;
    Ok(Tasks {
        to_verify,
        to_handle,
    })
}

/// One event as its page shows it to the principal.
#[derive(Debug, Clone)]
pub struct Workbench {
    pub detail: EventDetail,
    /// The moves the principal may make now (those through a mediation case left out).
    pub moves: Vec<&'static str>,
    /// The departments that may take it: those serving its place, nearest first.
    pub departments: Vec<DepartmentRef>,
    /// Likely duplicates, while it may still be merged into one.
    pub duplicates: Vec<Duplicate>,
    /// A dispute the principal may take to mediation.
    pub can_mediate: bool,
    pub rural: bool,
}

pub async fn workbench(ctx: &Context, who: &Principal, id: &str) -> AppResult<Workbench> {
    let e = load(ctx, who, id).await?;
    let detail = detail_of(ctx, &e).await?;
    let flow = flow_or_reported(&e);
    let mut moves = open_moves(&flow, &who.workflow_actor(&e));
    // Mediation is entered and left through its case, not a move here.
    moves.retain(|n| !matches!(*n, "mediate" | "mediation_ended"));
    let departments = routing::serving(ctx, &e)
        .await?
        .into_iter()
        .map(|d| DepartmentRef {
            id: d.id,
            name: d.name,
            kind: d.kind,
        })
        .collect();
    let duplicates = if moves.contains(&"merge") {
        duplicates::of(ctx, &who.sight()?, &e).await?
    } else {
        Vec::new()
    };
    // A dispute (class 01) may be taken to mediation by those who work cases.
    let can_mediate = e.category_code.starts_with("01")
        && matches!(
            who.role(),
            Some(
                Role::Mediator
                    | Role::CommunityStaff
                    | Role::StreetDispatcher
                    | Role::CommandCentre
            )
        )
        && parse_wire::<State>(&e.state)
            .is_some_and(|s| matches!(s, State::Reported | State::Accepted));
    Ok(Workbench {
        rural: is_rural(&e.grid_code),
        detail,
        moves,
        departments,
        duplicates,
        can_mediate,
    })
}

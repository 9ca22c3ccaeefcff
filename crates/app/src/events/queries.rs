//! Reading events within sight: the filtered list (every filter in SQL, so a page is always
//! full while more exist), one event with its history, its check-ins, its ratings, its photos and
//! the suggested department, and the category catalogue.

use super::views::{
    AttachmentView, CheckIn, EventDetail, EventPage, EventView, HistoryEntry, local,
};
use super::{load, routing};
use crate::context::Context;
use crate::error::{AppError, AppResult};
use crate::events::views::wire_or;
use crate::limits;
use crate::principal::Principal;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use wangge_domain::calendar::Light;
use wangge_domain::catalog::Category;
use wangge_domain::region::{GridCode, RegionCode};
use wangge_domain::workflow::{Move, State, Urgency};
use wangge_domain::{parse_wire, wire};
use wangge_store::{AttachmentRow, EventQuery, EventRow, MoveRow};

/// The filters of the event list, as the query string gives them.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListFilter {
    pub state: Option<String>,
    /// A category code or the code of its major class (`04`).
    pub category: Option<String>,
    pub urgency: Option<String>,
    /// A region (12-digit code: a county, a township, a community) or a grid (15 digits).
    pub region: Option<String>,
    /// The same as `region`, kept for older clients.
    pub grid: Option<String>,
    /// Events sent to a department (its id).
    pub department: Option<String>,
    /// Words in the description, matched literally.
    pub text: Option<String>,
    /// Reported from (RFC 3339).
    pub from: Option<String>,
    /// Reported before (RFC 3339).
    pub to: Option<String>,
    /// The running step's light: `green`, `yellow` or `red`.
    pub light: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

fn bad(code: &'static str, m: impl Into<String>) -> AppError {
    AppError::invalid(code, m)
}

/// The code prefix a region or grid filter stands for.
fn place_prefix(raw: &str) -> AppResult<String> {
    let raw = raw.trim();
    match raw.len() {
        12 => RegionCode::parse(raw)
            .map(|r| r.prefix().to_string())
            .map_err(|e| bad("event.bad_region", e.to_string()).at("region")),
        15 => GridCode::parse(raw)
            .map(|g| g.as_str().to_string())
            .map_err(|e| bad("event.bad_region", e.to_string()).at("region")),
        _ => Err(bad(
            "event.bad_region",
            format!(
                "region 应为12位区划代码或15位网格编码，收到 \"{}\"",
                raw.chars().take(20).collect::<String>()
            ),
        )
        .at("region")),
    }
}

/// A light to filter by, read at a time.
type LightAt = Option<(Light, DateTime<Utc>)>;

impl ListFilter {
    /// The store's query for these filters, checked; `now` reads the lights.
    pub fn query(&self, now: DateTime<Utc>) -> AppResult<(EventQuery, i64, i64)> {
        let per_page = limits::per_page(self.per_page, 50)?;
        let page = limits::int_in("page", self.page.unwrap_or(1), 1..=1_000_000)?;
        let (state, urgency, light) = self.wire_filters(now)?;
        let (category, department) = self.codes()?;
        let text = limits::optional_text("text", self.text.as_deref(), limits::NAME_MAX)?;
        let place = self
            .region
            .as_deref()
            .or(self.grid.as_deref())
            .filter(|s| !s.is_empty())
            .map(place_prefix)
            .transpose()?;
        let time = |field: &str, v: &Option<String>| {
            v.as_deref()
                .filter(|s| !s.is_empty())
                .map(|raw| {
                    limits::time_param(field, raw, now).map_err(|e| AppError {
                        code: "event.bad_time",
                        ..e
                    })
                })
                .transpose()
        };
        Ok((
            EventQuery {
                state,
                category,
                urgency,
                grid_prefix: place,
                department,
                text,
                from: time("from", &self.from)?,
                to: time("to", &self.to)?,
                light,
                before: None,
                limit: per_page,
                offset: (page - 1) * per_page,
            },
            page,
            per_page,
        ))
    }

    /// State, urgency and light, each one of its wire values.
    fn wire_filters(
        &self,
        now: DateTime<Utc>,
    ) -> AppResult<(Option<String>, Option<String>, LightAt)> {
        let given = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
        let state = match given(&self.state).as_deref() {
            Some(s) => Some(wire(&parse_wire::<State>(s).ok_or_else(|| {
                bad(
                    "event.bad_state",
                    format!("未知状态 \"{}\"", s.chars().take(20).collect::<String>()),
                )
                .at("state")
            })?)),
            None => None,
        };
        let urgency = match given(&self.urgency).as_deref() {
            Some(u) => Some(wire(&parse_wire::<Urgency>(u).ok_or_else(|| {
                bad(
                    "event.bad_urgency",
                    "urgency 应为 normal、urgent 或 very_urgent",
                )
                .at("urgency")
            })?)),
            None => None,
        };
        let light = match given(&self.light).as_deref() {
            Some("green") => Some((Light::Green, now)),
            Some("yellow") => Some((Light::Yellow, now)),
            Some("red") => Some((Light::Red, now)),
            Some(_) => {
                return Err(bad("event.bad_light", "light 应为 green、yellow 或 red").at("light"));
            }
            None => None,
        };
        Ok((state, urgency, light))
    }

    /// The category code and the department id, checked for their form.
    fn codes(&self) -> AppResult<(Option<String>, Option<String>)> {
        let category = match self.category.as_deref().filter(|s| !s.is_empty()) {
            Some(c) if c.len() <= 8 && c.bytes().all(|b| b.is_ascii_digit()) => Some(c.to_string()),
            Some(_) => {
                return Err(
                    bad("event.bad_category", "category 应为类别代码（数字）").at("category")
                );
            }
            None => None,
        };
        let department = match self.department.as_deref().filter(|s| !s.is_empty()) {
            Some(d) => Some(
                d.trim()
                    .parse::<uuid::Uuid>()
                    .map_err(|_| {
                        bad("event.bad_department", "department 应为部门编号").at("department")
                    })?
                    .to_string(),
            ),
            None => None,
        };
        Ok((category, department))
    }
}

/// The events in sight that pass the filters, newest first.
pub async fn list(ctx: &Context, who: &Principal, f: &ListFilter) -> AppResult<EventPage> {
    let sight = who.sight()?;
    let (query, page, per_page) = f.query(ctx.now())?;
    let rows = ctx
        .store
        .events(&sight.vis, sight.department.as_deref(), &query)
        .await?;
    Ok(EventPage {
        events: rows.iter().map(|e| EventView::of(ctx, e)).collect(),
        page,
        per_page,
    })
}

pub fn history_entry(h: &MoveRow) -> HistoryEntry {
    HistoryEntry {
        seq: h.seq,
        move_name: h.move_name.clone(),
        from: Some(h.from_state.as_str())
            .filter(|s| !s.is_empty())
            .map(|s| wire_or(s, "state", State::Reported)),
        to: wire_or(&h.to_state, "state", State::Reported),
        actor: h.actor.clone(),
        role: h.actor_role.clone(),
        department: h.department.clone(),
        at: local(h.at),
        body: serde_json::from_str::<Value>(&h.body).unwrap_or(Value::Null),
    }
}

pub fn attachment_view(e: &EventRow, a: &AttachmentRow) -> AttachmentView {
    AttachmentView {
        id: a.id,
        kind: a.kind.clone(),
        mime: a.mime.clone(),
        size: a.size,
        url: format!("/api/v1/events/{}/attachments/{}", e.id, a.id),
    }
}

/// 报到: for the latest whistle, each summoned department's check-in time, and whether it was late
/// or is still missing after the deadline.
pub fn check_ins(history: &[MoveRow], at: DateTime<Utc>) -> Vec<CheckIn> {
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
    let deadline =
        w.at + Duration::try_minutes(check_in_minutes.clamp(0, 24 * 60)).unwrap_or_default();
    std::iter::once(lead)
        .chain(others)
        .map(|d| {
            let done = history[i..]
                .iter()
                .find(|h| h.move_name == "check_in" && h.department.as_deref() == Some(d.as_str()));
            CheckIn {
                department: d,
                deadline: local(deadline),
                checked_in_at: done.map(|h| local(h.at)),
                late: done.map_or(at > deadline, |h| h.at > deadline),
                missing: done.is_none(),
            }
        })
        .collect()
}

/// One event with everything its page shows.
pub async fn detail(ctx: &Context, who: &Principal, id: &str) -> AppResult<EventDetail> {
    let e = load(ctx, who, id).await?;
    detail_of(ctx, &e).await
}

pub async fn detail_of(ctx: &Context, e: &EventRow) -> AppResult<EventDetail> {
    let moves = ctx.store.event_history(e).await?;
    Ok(EventDetail {
        event: EventView::of(ctx, e),
        history: moves.iter().map(history_entry).collect(),
        check_ins: check_ins(&moves, ctx.now()),
        whistle_ratings: ctx
            .store
            .whistle_ratings(e)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
        routed_department: routing::routed(ctx, e).await?,
        attachments: ctx
            .store
            .attachments(e)
            .await?
            .iter()
            .map(|a| attachment_view(e, a))
            .collect(),
    })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Catalogue {
    pub categories: Vec<Category>,
}

/// The category catalogue in force (anyone signed in may read it).
pub fn categories(ctx: &Context, who: &Principal) -> AppResult<Catalogue> {
    who.person()?;
    Ok(Catalogue {
        categories: ctx.config.get().catalogue.clone(),
    })
}

//! The one path every move of an event takes, whoever makes it — a person at a desk or on a phone,
//! a citizen rating on the portal, a mediation case, the deadline watch: the workflow's rules,
//! the step clocks, the history entry, the audit records, the notices and anything the move brings
//! with it (a mediation case) are written together by the writer, or nothing is.
//!
//! [`advance`] is the pure part — the next row of an event after a move at a time, given the
//! category and the calendar — so the demo's generator moves its events exactly as the server
//! does. [`commit`] adds the version check and the write; [`request`] is the API's move with
//! every check of what a person sent.

use super::{flow_of, is_rural, load};
use crate::context::Context;
use crate::error::{AppError, AppResult, ErrorKind};
use crate::limits::{self, CHECK_IN_MINUTES, EXTENSION_MAX_MINUTES, TEXT_MAX};
use crate::principal::Principal;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use uuid::Uuid;
use wangge_domain::calendar::{Due, Limit, yellow_at};
use wangge_domain::catalog::Category;
use wangge_domain::workflow::{
    Actor, Flow, Move, MoveError, State, StepChange, Urgency, apply, step_change,
};
use wangge_domain::{parse_wire, wire};
use wangge_store::{AuditEntry, EventRow, NewCase, NewEventMove, NewMove, NewNotification};

/// What a move needs besides the event: its category (and the new one, for a reclassification),
/// when a step started at a time falls due in a place, and the yellow share.
pub struct Rules<'a> {
    pub category: Option<&'a Category>,
    pub reclassified_to: Option<&'a Category>,
    pub due: &'a (dyn Fn(&str, DateTime<Utc>, Limit) -> Due + Sync),
    pub yellow_share: f64,
}

/// An event after a move.
#[derive(Debug, Clone)]
pub struct Advanced {
    pub next: EventRow,
    pub before: Flow,
    pub after: Flow,
}

fn later(t: DateTime<Utc>, by: Duration) -> Result<DateTime<Utc>, MoveError> {
    t.checked_add_signed(by)
        .ok_or_else(|| MoveError::Invalid("时限超出可计算的范围".into()))
}

fn minutes(m: i64) -> Result<Duration, MoveError> {
    Duration::try_minutes(m).ok_or_else(|| MoveError::Invalid("时限超出可计算的范围".into()))
}

/// The event after `mv` by `actor` at `at`: the workflow's next state, and the step clocks — a new
/// step starts its clock, suspension stops it, resuming moves the due time on by the pause, an
/// approved extension moves it on. Never panics.
pub fn advance(
    rules: &Rules,
    e: &EventRow,
    before: &Flow,
    actor: &Actor,
    mv: &Move,
    at: DateTime<Utc>,
) -> Result<Advanced, MoveError> {
    let after = apply(before, actor, mv)?;
    let mut next = e.clone();
    next.state = wire(&after.state);
    next.flow = serde_json::to_string(&after).map_err(|err| MoveError::Invalid(err.to_string()))?;
    next.version = after.version;
    next.updated_at = at;
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
    move_own_clocks(rules, e, &mut next, mv, at)?;
    restart_step(rules, e, &mut next, step_change(before, &after, mv), at)?;
    Ok(Advanced {
        next,
        before: before.clone(),
        after,
    })
}

/// What a move does to the clocks by itself: suspension stops the step's, resuming moves its
/// due time on by the pause, an approved extension moves it on; a new class changes the domain.
fn move_own_clocks(
    rules: &Rules,
    e: &EventRow,
    next: &mut EventRow,
    mv: &Move,
    at: DateTime<Utc>,
) -> Result<(), MoveError> {
    match mv {
        Move::Suspend { .. } => next.suspended_at = Some(at),
        Move::Resume => {
            if let (Some(since), Some(due)) = (e.suspended_at, e.step_due_at) {
                let paused = at - since;
                next.step_due_at = Some(later(due, paused)?);
                next.yellow_at = e.yellow_at.map(|y| later(y, paused)).transpose()?;
            }
            next.suspended_at = None;
        }
        Move::RequestExtension { minutes, .. } => next.extension_minutes = Some(*minutes),
        Move::DecideExtension { approve } => {
            if *approve
                && let (Some(m), Some(due), Some(started)) =
                    (e.extension_minutes, e.step_due_at, e.step_started_at)
            {
                let due = later(due, minutes(m)?)?;
                next.step_due_at = Some(due);
                next.yellow_at = Some(yellow_at(started, due, rules.yellow_share));
                next.light_notified = "green".into();
            }
            next.extension_minutes = None;
        }
        Move::Reclassify { .. } => {
            let c = rules
                .reclassified_to
                .ok_or_else(|| MoveError::Invalid("未知的事件类别".into()))?;
            next.category_code = c.code.clone();
            next.domain = wire(&c.domain);
        }
        _ => {}
    }
    Ok(())
}

/// A step that starts gets its clock from the category's limit (or the move's own) on the
/// working calendar; a step that stops loses it.
fn restart_step(
    rules: &Rules,
    e: &EventRow,
    next: &mut EventRow,
    change: StepChange,
    at: DateTime<Utc>,
) -> Result<(), MoveError> {
    match change {
        StepChange::Keep => {}
        StepChange::Start { step, limit } => {
            let limit = match limit {
                Some(l) => l,
                None => {
                    let category = rules.category.ok_or_else(|| {
                        MoveError::NotNow("事件的类别已不在目录中，请先改类".into())
                    })?;
                    let urgency: Urgency = parse_wire(&next.urgency).unwrap_or(Urgency::Normal);
                    category.limit(step, urgency, is_rural(&e.grid_code))
                }
            };
            let due = (rules.due)(&next.grid_code, at, limit);
            next.step = Some(wire(&step));
            next.step_started_at = Some(at);
            next.step_due_at = Some(due.at);
            next.step_due_provisional = i64::from(due.provisional);
            next.yellow_at = Some(yellow_at(at, due.at, rules.yellow_share));
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
    Ok(())
}

/// What a move brings with it into its transaction.
#[derive(Debug, Default)]
pub struct Along {
    /// Audit records besides the move's own (a case opened with it).
    pub audit: Vec<AuditEntry>,
    pub notifications: Vec<NewNotification>,
    /// A mediation case opened by the move (转入调解).
    pub cases: Vec<NewCase>,
}

fn move_error(e: &EventRow, err: MoveError) -> AppError {
    match err {
        MoveError::Forbidden(_) => AppError::new(
            ErrorKind::Forbidden,
            "event.forbidden_move",
            err.to_string(),
        ),
        MoveError::NotNow(_) => AppError::conflict("event.illegal_move", err.to_string())
            .with_details(json!({"state": e.state})),
        MoveError::Invalid(_) => AppError::invalid("event.invalid_move", err.to_string()),
    }
}

fn stale(current: i64) -> AppError {
    let mut e = AppError::stale("event.stale_version", current);
    e.message = "事件已被他人更新，请刷新后重试".into();
    e
}

/// Makes `mv` on `e` as `who`, at the context's time, if `e` is still at `version`: the one path.
/// `recorded` is the move as it goes into the history. Returns the event after it.
pub async fn commit(
    ctx: &Context,
    who: &Principal,
    e: &EventRow,
    version: i64,
    mv: &Move,
    recorded: Value,
    along: Along,
) -> AppResult<EventRow> {
    commit_at(ctx, who, e, version, mv, recorded, along, ctx.now()).await
}

/// [`commit`] at a given time (the deadline watch moves at the time it scans for).
#[allow(clippy::too_many_arguments)]
pub async fn commit_at(
    ctx: &Context,
    who: &Principal,
    e: &EventRow,
    version: i64,
    mv: &Move,
    recorded: Value,
    along: Along,
    at: DateTime<Utc>,
) -> AppResult<EventRow> {
    if version != e.version {
        return Err(stale(e.version));
    }
    let config = ctx.config.get();
    let category = config.category(&e.category_code);
    let reclassified_to = match mv {
        Move::Reclassify { category } => config.category(category),
        _ => None,
    };
    let due = |grid: &str, from: DateTime<Utc>, limit: Limit| ctx.due(grid, from, limit);
    let rules = Rules {
        category: category.as_ref(),
        reclassified_to: reclassified_to.as_ref(),
        due: &due,
        yellow_share: config.settings.yellow_share,
    };
    let before = flow_of(e)?;
    let actor = who.workflow_actor(e);
    let Advanced { next, .. } =
        advance(&rules, e, &before, &actor, mv, at).map_err(|err| move_error(e, err))?;
    let record = NewMove {
        move_name: mv.name().into(),
        body: recorded.to_string(),
        from_state: e.state.clone(),
        to_state: next.state.clone(),
        actor: who.actor_name(),
        actor_role: who.role_name(),
        department: who.department(),
        ip: who.ip(),
    };
    let mut audit = vec![who.audit(
        "event.move",
        Some("event"),
        Some(e.id.to_string()),
        json!({"move": mv.name(), "from": e.state, "to": next.state}),
    )];
    audit.extend(along.audit);
    let moved = ctx
        .writer
        .apply_move(NewEventMove {
            next: next.clone(),
            expected_version: version,
            record,
            audit,
            notifications: along.notifications,
            cases: along.cases,
        })
        .await?;
    if !moved {
        let current = ctx
            .store
            .event(&wangge_domain::access::Visibility::system(), None, e.id)
            .await?
            .map_or(e.version, |c| c.version);
        return Err(stale(current));
    }
    Ok(next)
}

/// A move as the API takes it: the version the sender saw and the move with its fields.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct MoveBody {
    /// The event's version when the sender read it; a stale one answers 409.
    pub version: i64,
    #[serde(flatten)]
    pub mv: Move,
}

/// Reads a move as a person sent it: `version` and `move` with the move's own fields, nothing
/// else (an unknown field is refused by name). Returns the version, the move, and the move as it
/// goes into the history (without the version).
pub fn parse_request(body: Value) -> AppResult<(i64, Move, Value)> {
    let Value::Object(mut fields) = body else {
        return Err(AppError::invalid(
            "event.bad_move",
            "动作应为 JSON 对象，例如 {\"move\": \"accept\", \"version\": 1}",
        ));
    };
    let version = match fields.remove("version") {
        Some(v) => v.as_i64().ok_or_else(|| {
            AppError::invalid("event.version_required", "version 应为整数").at("version")
        })?,
        None => {
            return Err(AppError::invalid(
                "event.version_required",
                "请带上事件的当前版本号 version",
            )
            .at("version"));
        }
    };
    let recorded = Value::Object(fields);
    let mv: Move = serde_json::from_value(recorded.clone())
        .map_err(|err| AppError::invalid("event.bad_move", format!("动作格式不正确：{err}")))?;
    // What serde took: the tag and the move's own fields. Anything else was not understood.
    let known = serde_json::to_value(&mv).unwrap_or(Value::Null);
    if let (Value::Object(sent), Value::Object(known)) = (&recorded, &known)
        && let Some(extra) = sent.keys().find(|k| !known.contains_key(*k))
    {
        return Err(AppError::invalid(
            "request.unknown_field",
            format!("动作“{}”没有字段 {extra}", mv.name()),
        )
        .at(extra.clone()));
    }
    Ok((version, mv, recorded))
}

/// Checks what a person put into a move: texts within their limits, numbers within their ranges.
fn check_contents(mv: &Move) -> AppResult<()> {
    let text = |field: &str, s: &str| limits::free_text(field, s, TEXT_MAX).map(|_| ());
    match mv {
        Move::Reject { reason } | Move::Return { reason } | Move::Suspend { reason } => {
            text("reason", reason)
        }
        Move::RequestExtension { minutes, reason } => {
            limits::int_in("minutes", *minutes, 1..=EXTENSION_MAX_MINUTES)?;
            text("reason", reason)
        }
        Move::Whistle {
            check_in_minutes,
            task,
            others,
            ..
        } => {
            limits::int_in("check_in_minutes", *check_in_minutes, CHECK_IN_MINUTES)?;
            if others.len() > 20 {
                return Err(
                    AppError::invalid("event.bad_move", "一次吹哨最多召集20个部门").at("others"),
                );
            }
            text("task", task)
        }
        Move::Dispatch { co, .. } if co.len() > 20 => {
            Err(AppError::invalid("event.bad_move", "协办部门最多20个").at("co"))
        }
        Move::SubmitResult { text: t } => text("text", t),
        Move::Verify { note, .. } | Move::Urge { note } | Move::Supervise { note } => {
            text("note", note)
        }
        Move::Rate { comment, .. } => limits::free_text("comment", comment, 500).map(|_| ()),
        Move::Reassign { to } => limits::free_text("to", to, 64).map(|_| ()),
        _ => Ok(()),
    }
}

/// Departments named by a dispatch or a whistle must exist, be in service and serve the event's
/// place: one of the areas it serves (the city, a county, townships) must contain the grid.
async fn check_departments(ctx: &Context, e: &EventRow, mv: &Move) -> AppResult<()> {
    let named: Vec<&String> = match mv {
        Move::Dispatch { lead, co } => std::iter::once(lead).chain(co).collect(),
        Move::Whistle { lead, others, .. } => std::iter::once(lead).chain(others).collect(),
        _ => return Ok(()),
    };
    for d in named {
        let found = match d.trim().parse::<Uuid>() {
            Ok(id) => ctx.store.department_entry(id).await?,
            Err(_) => None,
        };
        let Some(dept) = found else {
            return Err(AppError::invalid(
                "event.unknown_department",
                format!("部门 {d} 不存在"),
            ));
        };
        if !dept.serves(&e.grid_code) {
            return Err(AppError::invalid(
                "event.department_out_of_area",
                format!("{}不负责事件所在地，不能派给它", dept.name),
            ));
        }
    }
    Ok(())
}

/// A move as a person sends it (`POST /api/v1/events/{id}/moves`), with every check: the event in
/// sight, the body's shape, its contents, the departments it names, the event it merges into, the
/// category it moves to. Taking an event to mediation and ending it go through the case.
pub async fn request(ctx: &Context, who: &Principal, id: &str, body: Value) -> AppResult<EventRow> {
    let e = load(ctx, who, id).await?;
    let (version, mv, recorded) = parse_request(body)?;
    if matches!(mv, Move::Mediate { .. } | Move::MediationEnded { .. }) {
        return Err(AppError::conflict(
            "event.through_mediation",
            "转入调解和调解结束由调解案件记录（POST /api/v1/mediation/cases）",
        ));
    }
    check_contents(&mv)?;
    check_departments(ctx, &e, &mv).await?;
    if let Move::Merge { into } = &mv {
        let vis = who.visibility()?;
        let target = match into.trim().parse::<Uuid>() {
            Ok(t) if t != e.id => {
                ctx.store
                    .event(&vis, who.department().as_deref(), t)
                    .await?
            }
            _ => None,
        };
        if !target.is_some_and(|t| parse_wire::<State>(&t.state).is_some_and(|s| s.is_open())) {
            return Err(AppError::invalid(
                "event.bad_merge_target",
                format!("合并目标 {into} 不存在或已办结"),
            ));
        }
    }
    if let Move::Reclassify { category } = &mv
        && ctx.config.get().category(category).is_none()
    {
        return Err(AppError::invalid(
            "event.unknown_category",
            format!("未知事件类别 \"{category}\""),
        ));
    }
    if let Move::Reassign { to } = &mv
        && ctx
            .store
            .account_by_username(to.trim())
            .await?
            .is_none_or(|a| a.active == 0)
    {
        return Err(AppError::invalid(
            "event.unknown_account",
            format!("用户 {to} 不存在或已停用"),
        ));
    }
    commit(ctx, who, &e, version, &mv, recorded, Along::default()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use wangge_domain::access::Role;
    use wangge_domain::calendar::Calendar;
    use wangge_domain::catalog::default_catalogue;

    fn rules<'a>(
        category: Option<&'a Category>,
        due: &'a (dyn Fn(&str, DateTime<Utc>, Limit) -> Due + Sync),
    ) -> Rules<'a> {
        Rules {
            category,
            reclassified_to: None,
            due,
            yellow_share: 0.2,
        }
    }

    /// A category missing from the catalogue (an old event's, say) refuses the move that needs
    /// its limit, and never panics; an extension stored too large refuses its approval.
    #[test]
    fn no_move_can_panic_on_its_inputs() {
        let calendar = Calendar::shipped(Default::default());
        let due = |_: &str, from: DateTime<Utc>, limit| calendar.due(from, limit);
        let at = Utc::now();
        let e = wangge_store::testing::sample_event(at);
        let community = Actor::new(Role::CommunityStaff);
        let accepted = apply(&Flow::reported(), &community, &Move::Accept).unwrap();
        let missing = advance(
            &rules(None, &due),
            &e,
            &accepted,
            &community,
            &Move::HandleHere,
            at,
        );
        assert!(matches!(missing, Err(MoveError::NotNow(_))), "{missing:?}");
        let catalogue = default_catalogue();
        let ok = advance(
            &rules(catalogue.first(), &due),
            &e,
            &accepted,
            &community,
            &Move::HandleHere,
            at,
        )
        .unwrap();
        assert_eq!(ok.next.state, "handling");
        // An extension of i64::MAX minutes written by an older release: refused, not a panic.
        let mut pending = ok.after.clone();
        pending.extension_pending = true;
        let huge = EventRow {
            extension_minutes: Some(i64::MAX),
            step_due_at: Some(at),
            step_started_at: Some(at),
            ..ok.next.clone()
        };
        let street = Actor::new(Role::StreetDispatcher);
        let r = advance(
            &rules(catalogue.first(), &due),
            &huge,
            &pending,
            &street,
            &Move::DecideExtension { approve: true },
            at,
        );
        assert!(matches!(r, Err(MoveError::Invalid(_))), "{r:?}");
    }
}

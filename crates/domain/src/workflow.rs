//! The event workflow (事件处置闭环): states, moves and who may make which move from which state.
//!
//! Pure and total: [`apply`] takes an event's workflow state, the actor and the move, and returns
//! the next state or the reason it is refused — [`MoveError::Forbidden`] when the actor's role may
//! never make the move (403), [`MoveError::NotNow`] when the event's state does not allow it (409).
//! Storage keeps the history of accepted moves; replaying it reproduces the state.
//!
//! 上报 reported → 受理 accept → 自办 handle here | 上报 escalate | 派遣 dispatch | 吹哨 whistle →
//! 签收/报到 check in → 办结 submit → 核查 verify → 结案 closed → 评价 rate.

use crate::access::Role;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Wire values of the states. Suspension is a flag, not a state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Reported,
    Accepted,
    Handling,
    Dispatched,
    Handled,
    Closed,
    Rejected,
    Merged,
}

impl State {
    pub fn is_open(self) -> bool {
        !matches!(self, State::Closed | State::Rejected | State::Merged)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            State::Reported => "已上报",
            State::Accepted => "已受理",
            State::Handling => "处置中",
            State::Dispatched => "已派遣",
            State::Handled => "已处置",
            State::Closed => "已结案",
            State::Rejected => "不予受理",
            State::Merged => "已合并",
        }
    }
}

/// The channel an event came in by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A grid worker on patrol.
    GridWorker,
    /// Community, township or command-centre staff at a desk.
    Staff,
    /// A department's staff.
    Department,
    /// A machine client with an API token (a sensor, another system).
    Machine,
    /// A citizen on the public portal.
    Citizen,
}

impl Source {
    pub fn label_zh(self) -> &'static str {
        match self {
            Source::GridWorker => "网格员上报",
            Source::Staff => "工作人员登记",
            Source::Department => "部门上报",
            Source::Machine => "系统接入",
            Source::Citizen => "群众反映",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Normal,
    Urgent,
    VeryUrgent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    Satisfied,
    BasicallySatisfied,
    Dissatisfied,
}

/// Which level of the tree holds an accepted event that no department has yet.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum HolderLevel {
    Community,
    Township,
    County,
    City,
}

impl HolderLevel {
    pub fn above(self) -> Option<HolderLevel> {
        match self {
            HolderLevel::Community => Some(HolderLevel::Township),
            HolderLevel::Township => Some(HolderLevel::County),
            HolderLevel::County => Some(HolderLevel::City),
            HolderLevel::City => None,
        }
    }
}

pub type DepartmentId = String;

fn case_days() -> i64 {
    crate::mediation::DEFAULT_CASE_DAYS
}

/// A move, with what it carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "move", rename_all = "snake_case")]
pub enum Move {
    Accept,
    Reject {
        reason: String,
    },
    Merge {
        into: String,
    },
    HandleHere,
    Escalate,
    Dispatch {
        lead: DepartmentId,
        co: Vec<DepartmentId>,
    },
    /// 吹哨: summon departments, one leading, with a check-in deadline in minutes.
    Whistle {
        lead: DepartmentId,
        others: Vec<DepartmentId>,
        check_in_minutes: i64,
        task: String,
    },
    /// 签收/报到 by one of the summoned or dispatched departments.
    CheckIn,
    Return {
        reason: String,
    },
    RequestExtension {
        minutes: i64,
        reason: String,
    },
    DecideExtension {
        approve: bool,
    },
    Suspend {
        reason: String,
    },
    Resume,
    SubmitResult {
        text: String,
    },
    Verify {
        pass: bool,
        note: String,
    },
    Rate {
        rating: Rating,
        comment: String,
    },
    Urge {
        note: String,
    },
    Supervise {
        note: String,
    },
    Reclassify {
        category: String,
    },
    Recall,
    Reopen,
    Reassign {
        to: String,
    },
    /// 转入调解: a dispute taken to a people's mediation case (named by its code); the event is
    /// handled by the mediation from then on.
    Mediate {
        case: String,
        /// The case's days, which become the event's handling limit.
        #[serde(default = "case_days")]
        days: i64,
    },
    /// The mediation case ended (whatever its outcome): the event closes with it.
    MediationEnded {
        outcome: String,
    },
}

impl Move {
    pub fn name(&self) -> &'static str {
        match self {
            Move::Accept => "accept",
            Move::Reject { .. } => "reject",
            Move::Merge { .. } => "merge",
            Move::HandleHere => "handle_here",
            Move::Escalate => "escalate",
            Move::Dispatch { .. } => "dispatch",
            Move::Whistle { .. } => "whistle",
            Move::CheckIn => "check_in",
            Move::Return { .. } => "return",
            Move::RequestExtension { .. } => "request_extension",
            Move::DecideExtension { .. } => "decide_extension",
            Move::Suspend { .. } => "suspend",
            Move::Resume => "resume",
            Move::SubmitResult { .. } => "submit_result",
            Move::Verify { .. } => "verify",
            Move::Rate { .. } => "rate",
            Move::Urge { .. } => "urge",
            Move::Supervise { .. } => "supervise",
            Move::Reclassify { .. } => "reclassify",
            Move::Recall => "recall",
            Move::Reopen => "reopen",
            Move::Reassign { .. } => "reassign",
            Move::Mediate { .. } => "mediate",
            Move::MediationEnded { .. } => "mediation_ended",
        }
    }
}

impl Move {
    /// One of each move, with placeholder contents: what the pages probe to offer only the moves
    /// a user may make now.
    pub fn samples() -> Vec<Move> {
        let text = || "-".to_string();
        vec![
            Move::Accept,
            Move::Reject { reason: text() },
            Move::Merge { into: text() },
            Move::HandleHere,
            Move::Escalate,
            Move::Dispatch {
                lead: text(),
                co: vec![],
            },
            Move::Whistle {
                lead: text(),
                others: vec![],
                check_in_minutes: 30,
                task: text(),
            },
            Move::CheckIn,
            Move::Return { reason: text() },
            Move::RequestExtension {
                minutes: 60,
                reason: text(),
            },
            Move::DecideExtension { approve: true },
            Move::Suspend { reason: text() },
            Move::Resume,
            Move::SubmitResult { text: text() },
            Move::Verify {
                pass: true,
                note: text(),
            },
            Move::Rate {
                rating: Rating::Satisfied,
                comment: text(),
            },
            Move::Urge { note: text() },
            Move::Supervise { note: text() },
            Move::Reclassify { category: text() },
            Move::Recall,
            Move::Reopen,
            Move::Reassign { to: text() },
            Move::Mediate {
                case: text(),
                days: case_days(),
            },
            Move::MediationEnded { outcome: text() },
        ]
    }
}

/// The moves an actor may make on an event in its present state: the rules allow the move itself
/// (its contents are checked when it is made).
pub fn open_moves(f: &Flow, a: &Actor) -> Vec<&'static str> {
    Move::samples()
        .iter()
        .filter(|m| matches!(apply(f, a, m), Ok(_) | Err(MoveError::Invalid(_))))
        .map(Move::name)
        .collect()
}

/// Who makes a move, as far as the rules care. Scope (whether the actor sees the event at all) is
/// checked before: an event out of scope is not found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub role: Role,
    /// For department staff: their department.
    pub department: Option<DepartmentId>,
    /// The person who reported the event (rates it).
    pub is_reporter: bool,
    /// A grid worker of the event's own grid (verifies it).
    pub is_event_grid_worker: bool,
}

impl Actor {
    pub fn new(role: Role) -> Actor {
        Actor {
            role,
            department: None,
            is_reporter: false,
            is_event_grid_worker: false,
        }
    }
}

/// The workflow part of an event: everything the rules look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flow {
    pub state: State,
    pub suspended: bool,
    /// The level holding an accepted event not yet with a department.
    pub holder: HolderLevel,
    /// Handled in the grid's own community (小事不出网格) rather than by a department.
    pub handled_here: bool,
    pub lead: Option<DepartmentId>,
    pub co: BTreeSet<DepartmentId>,
    pub checked_in: BTreeSet<DepartmentId>,
    pub whistled: bool,
    pub extension_pending: bool,
    pub reworks: u32,
    pub returns: u32,
    pub rating: Option<Rating>,
    pub version: i64,
    /// Being settled by a people's mediation case (转入调解).
    #[serde(default)]
    pub mediation: bool,
}

impl Flow {
    pub fn reported() -> Flow {
        Flow {
            state: State::Reported,
            suspended: false,
            holder: HolderLevel::Community,
            handled_here: false,
            lead: None,
            co: BTreeSet::new(),
            checked_in: BTreeSet::new(),
            whistled: false,
            extension_pending: false,
            reworks: 0,
            returns: 0,
            rating: None,
            version: 1,
            mediation: false,
        }
    }

    fn assigned(&self, d: &DepartmentId) -> bool {
        self.lead.as_ref() == Some(d) || self.co.contains(d)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoveError {
    /// The actor's role may never make this move (HTTP 403).
    #[error("您的角色不能执行“{0}”")]
    Forbidden(&'static str),
    /// The event's state does not allow the move now (HTTP 409), with the reason.
    #[error("{0}")]
    NotNow(String),
    /// The move's own fields are wrong (HTTP 400).
    #[error("{0}")]
    Invalid(String),
}

fn not_now(m: &Move, why: impl std::fmt::Display) -> MoveError {
    MoveError::NotNow(format!("现在不能执行“{}”：{why}", m.name()))
}

fn dispatcher(r: Role) -> bool {
    matches!(r, Role::StreetDispatcher | Role::CommandCentre)
}

fn intake(r: Role) -> bool {
    matches!(
        r,
        Role::CommunityStaff | Role::StreetDispatcher | Role::CommandCentre
    )
}

fn above(r: Role) -> bool {
    matches!(
        r,
        Role::StreetDispatcher | Role::CommandCentre | Role::Leader
    )
}

fn needs_text(s: &str, what: &str) -> Result<(), MoveError> {
    if s.trim().is_empty() {
        Err(MoveError::Invalid(format!("请填写{what}")))
    } else {
        Ok(())
    }
}

/// The next state after `m` by `a`, or why not. Never panics; the input is untouched.
pub fn apply(f: &Flow, a: &Actor, m: &Move) -> Result<Flow, MoveError> {
    use State::*;
    let role = a.role;
    let forbid = || MoveError::Forbidden(m.name());
    let mut n = f.clone();
    // Who may ever make the move, whatever the state.
    let allowed = match m {
        Move::Accept | Move::Reject { .. } | Move::Merge { .. } | Move::Escalate => intake(role),
        Move::HandleHere => matches!(role, Role::CommunityStaff | Role::StreetDispatcher),
        Move::Dispatch { .. }
        | Move::DecideExtension { .. }
        | Move::Reclassify { .. }
        | Move::Recall
        | Move::Reopen
        | Move::Reassign { .. } => dispatcher(role),
        Move::Whistle { .. } => dispatcher(role) || role == Role::DepartmentStaff,
        Move::CheckIn | Move::Return { .. } => role == Role::DepartmentStaff,
        Move::RequestExtension { .. } | Move::SubmitResult { .. } => {
            matches!(role, Role::DepartmentStaff | Role::CommunityStaff)
        }
        Move::Suspend { .. } | Move::Resume => dispatcher(role),
        Move::Verify { .. } => a.is_event_grid_worker || intake(role),
        Move::Rate { .. } => a.is_reporter,
        Move::Urge { .. } | Move::Supervise { .. } => above(role),
        Move::Mediate { .. } | Move::MediationEnded { .. } => {
            intake(role) || role == Role::Mediator
        }
    };
    if !allowed {
        return Err(forbid());
    }
    if !f.state.is_open() {
        let ok = match m {
            Move::Rate { .. } => f.state == Closed,
            Move::Reopen => f.state == Closed && f.rating == Some(Rating::Dissatisfied),
            _ => false,
        };
        if !ok {
            return Err(not_now(m, format!("事件{}", f.state.label_zh())));
        }
    }
    if f.suspended
        && !matches!(
            m,
            Move::Resume
                | Move::Urge { .. }
                | Move::Supervise { .. }
                | Move::Reclassify { .. }
                | Move::Reassign { .. }
        )
    {
        return Err(not_now(m, "事件已挂起，请先恢复"));
    }
    let dept_is_lead = a.department.is_some() && a.department == f.lead;
    match m {
        Move::Accept | Move::Reject { .. } | Move::Merge { .. } => {
            if f.state != Reported {
                return Err(not_now(m, format!("事件{}", f.state.label_zh())));
            }
            n.state = match m {
                Move::Accept => Accepted,
                Move::Reject { reason } => {
                    needs_text(reason, "不予受理的理由")?;
                    Rejected
                }
                _ => Merged,
            };
        }
        Move::HandleHere => {
            if f.state != Accepted {
                return Err(not_now(m, "只有已受理的事件可以自办"));
            }
            n.state = Handling;
            n.handled_here = true;
        }
        Move::Escalate => {
            if f.state != Accepted {
                return Err(not_now(m, "只有已受理、尚未派遣的事件可以上报"));
            }
            n.holder = f
                .holder
                .above()
                .ok_or_else(|| not_now(m, "已在市级，无法再上报"))?;
        }
        Move::Dispatch { lead, co } => {
            if f.state != Accepted {
                return Err(not_now(m, "只有已受理的事件可以派遣"));
            }
            needs_text(lead, "主办部门")?;
            if co.contains(lead) {
                return Err(MoveError::Invalid("主办部门不能同时是协办部门".into()));
            }
            n.state = Dispatched;
            n.lead = Some(lead.clone());
            n.co = co.iter().cloned().collect();
            n.checked_in.clear();
        }
        Move::Whistle {
            lead,
            others,
            check_in_minutes,
            task,
        } => {
            needs_text(task, "吹哨任务")?;
            if !(1..=24 * 60).contains(check_in_minutes) {
                return Err(MoveError::Invalid("报到时限应为1–1440分钟".into()));
            }
            if role == Role::DepartmentStaff {
                // A leading department summons others to join its work.
                if !(dept_is_lead && f.state == Handling) {
                    return Err(not_now(m, "只有正在主办此事件的部门可以吹哨召集其他部门"));
                }
                n.co.extend(
                    others
                        .iter()
                        .filter(|d| Some(*d) != f.lead.as_ref())
                        .cloned(),
                );
            } else {
                if f.state != Accepted {
                    return Err(not_now(m, "只有已受理的事件可以吹哨"));
                }
                needs_text(lead, "牵头部门")?;
                n.state = Dispatched;
                n.lead = Some(lead.clone());
                n.co = others.iter().filter(|d| *d != lead).cloned().collect();
                n.checked_in.clear();
            }
            n.whistled = true;
        }
        Move::CheckIn => {
            let d = a.department.as_ref().ok_or_else(forbid)?;
            if !matches!(f.state, Dispatched | Handling) || !f.assigned(d) {
                return Err(not_now(m, "此事件没有派给您的部门"));
            }
            if f.checked_in.contains(d) {
                return Err(not_now(m, "已经签收"));
            }
            n.checked_in.insert(d.clone());
            if dept_is_lead {
                n.state = Handling;
            }
        }
        Move::Return { reason } => {
            needs_text(reason, "退回理由")?;
            if f.state != Dispatched || !dept_is_lead {
                return Err(not_now(m, "只有主办部门在签收前可以退回"));
            }
            n.state = Accepted;
            n.lead = None;
            n.co.clear();
            n.checked_in.clear();
            n.returns += 1;
        }
        Move::RequestExtension { minutes, reason } => {
            needs_text(reason, "延期理由")?;
            if *minutes <= 0 {
                return Err(MoveError::Invalid("延期时长应为正数".into()));
            }
            if f.state != Handling
                || !(dept_is_lead || (f.handled_here && role == Role::CommunityStaff))
            {
                return Err(not_now(m, "只有处置中的承办方可以申请延期"));
            }
            if f.extension_pending {
                return Err(not_now(m, "已有待审批的延期申请"));
            }
            n.extension_pending = true;
        }
        Move::DecideExtension { .. } => {
            if !f.extension_pending {
                return Err(not_now(m, "没有待审批的延期申请"));
            }
            n.extension_pending = false;
        }
        Move::Suspend { reason } => {
            needs_text(reason, "挂起理由")?;
            if !matches!(f.state, Handling | Dispatched) {
                return Err(not_now(m, "只有派遣或处置中的事件可以挂起"));
            }
            // Its clock is the mediation case's; it ends with the case.
            if f.mediation {
                return Err(not_now(m, "调解中的事件随调解案件办理，不能挂起"));
            }
            n.suspended = true;
        }
        Move::Resume => {
            if !f.suspended {
                return Err(not_now(m, "事件未挂起"));
            }
            n.suspended = false;
        }
        Move::SubmitResult { text } => {
            needs_text(text, "处置结果")?;
            let handler = if f.handled_here {
                role == Role::CommunityStaff
            } else {
                dept_is_lead
            };
            if f.state != Handling || !handler {
                return Err(not_now(m, "只有处置中的承办方可以办结"));
            }
            n.state = Handled;
            n.extension_pending = false;
        }
        Move::Verify { pass, .. } => {
            if f.state != Handled {
                return Err(not_now(m, "只有已处置的事件可以核查"));
            }
            if *pass {
                n.state = Closed;
            } else {
                n.state = Handling;
                n.reworks += 1;
            }
        }
        Move::Rate { rating, .. } => {
            if f.state != Closed || f.rating.is_some() {
                return Err(not_now(m, "只有已结案且未评价的事件可以评价"));
            }
            n.rating = Some(*rating);
        }
        Move::Reopen => {
            if !(f.state == Closed && f.rating == Some(Rating::Dissatisfied)) {
                return Err(not_now(m, "只有评价为不满意的已结案事件可以重新办理"));
            }
            n.state = Handling;
            n.rating = None;
            n.reworks += 1;
        }
        Move::Urge { note } | Move::Supervise { note } => needs_text(note, "督办意见")?,
        Move::Reclassify { category } => needs_text(category, "新的类别")?,
        Move::Reassign { to } => needs_text(to, "接手人员")?,
        Move::Mediate { case, days } => {
            needs_text(case, "调解案件")?;
            if !(1..=365).contains(days) {
                return Err(MoveError::Invalid("调解期限应为1–365天".into()));
            }
            if !matches!(f.state, Reported | Accepted) {
                return Err(not_now(m, "只有已上报或已受理、尚未派遣的事件可以转入调解"));
            }
            n.state = Handling;
            n.mediation = true;
            n.holder = f.holder;
        }
        Move::MediationEnded { outcome } => {
            needs_text(outcome, "调解结果")?;
            if f.state != Handling || !f.mediation {
                return Err(not_now(m, "此事件不在调解中"));
            }
            n.state = Closed;
            n.mediation = false;
        }
        Move::Recall => {
            if f.state != Dispatched || !f.checked_in.is_empty() {
                return Err(not_now(m, "只有尚未签收的派遣可以撤回"));
            }
            n.state = Accepted;
            n.lead = None;
            n.co.clear();
        }
    }
    n.version += 1;
    Ok(n)
}

/// Replays a history of accepted moves from the reported state.
pub fn replay<'a>(
    history: impl IntoIterator<Item = (&'a Actor, &'a Move)>,
) -> Result<Flow, MoveError> {
    history
        .into_iter()
        .try_fold(Flow::reported(), |f, (a, m)| apply(&f, a, m))
}

/// What must hold of every state the rules can reach.
pub fn invariants(f: &Flow) -> Result<(), String> {
    use State::*;
    if matches!(f.state, Dispatched) && f.lead.is_none() {
        return Err("dispatched without a lead department".into());
    }
    if f.state == Handling
        && !f.handled_here
        && f.lead.as_ref().is_some_and(|l| !f.checked_in.contains(l))
    {
        return Err("handling by a department that has not checked in".into());
    }
    if f.rating.is_some() && f.state != Closed {
        return Err("rated but not closed".into());
    }
    if f.suspended && !matches!(f.state, Handling | Dispatched) {
        return Err("suspended outside dispatch or handling".into());
    }
    if f.extension_pending && f.state != Handling {
        return Err("extension pending outside handling".into());
    }
    if f.lead.as_ref().is_some_and(|l| f.co.contains(l)) {
        return Err("lead is also a co-handler".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests;

/// Who hears about an event whose step turned yellow or red.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Recipient {
    Department(DepartmentId),
    /// A level of the tree: the office at that region code.
    Region(String),
}

/// The region code of a level on the path of a grid.
pub fn region_of(grid_code: &str, level: HolderLevel) -> String {
    let g = grid_code;
    match level {
        HolderLevel::Community => g[..12].to_string(),
        HolderLevel::Township => format!("{}000", &g[..9]),
        HolderLevel::County => format!("{}000000", &g[..6]),
        HolderLevel::City => format!("{}00000000", &g[..4]),
    }
}

/// Whether an overdue step moves the event one level up: an accepted event still held by a level
/// of the tree that has one above it (who is told is data: see [`crate::settings`]).
pub fn escalates_when_overdue(f: &Flow) -> bool {
    f.state == State::Accepted && f.holder.above().is_some()
}

/// The step whose clock runs while an event is in a state: accepting (and dispatching) while
/// reported or accepted, checking in while dispatched, handling, then verifying.
pub fn step_of(s: State) -> Option<crate::catalog::Step> {
    use crate::catalog::Step;
    match s {
        State::Reported | State::Accepted => Some(Step::Accept),
        State::Dispatched => Some(Step::CheckIn),
        State::Handling => Some(Step::Handle),
        State::Handled => Some(Step::Verify),
        _ => None,
    }
}

/// What a move does to the step clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepChange {
    /// The running step goes on.
    Keep,
    /// A step starts now, with the catalogue's limit or the move's own (a whistle's check-in time).
    Start {
        step: crate::catalog::Step,
        limit: Option<crate::calendar::Limit>,
    },
    /// No step runs any more (closed, rejected, merged).
    Stop,
}

pub fn step_change(before: &Flow, after: &Flow, m: &Move) -> StepChange {
    let whistled = matches!(m, Move::Whistle { .. }) && after.state == State::Dispatched;
    // The level above that takes an escalated event gets its own time to accept and dispatch it.
    let escalated = matches!(m, Move::Escalate) && after.holder != before.holder;
    if before.state == after.state && before.reworks == after.reworks && !whistled && !escalated {
        return StepChange::Keep;
    }
    match step_of(after.state) {
        // Acceptance and dispatch share one limit (受理派遣时限), counted from the report.
        Some(crate::catalog::Step::Accept) if before.state == State::Reported => StepChange::Keep,
        Some(step) => StepChange::Start {
            step,
            limit: match m {
                Move::Whistle {
                    check_in_minutes, ..
                } => Some(crate::calendar::Limit::Minutes(*check_in_minutes)),
                // A mediation has its month (人民调解工作若干规定 第33条), not the category's
                // handling limit.
                Move::Mediate { days, .. } => Some(crate::calendar::Limit::Minutes(days * 24 * 60)),
                _ => None,
            },
        },
        None => StepChange::Stop,
    }
}

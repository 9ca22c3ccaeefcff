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

mod moves;
mod steps;

pub use steps::{Recipient, StepChange, escalates_when_overdue, region_of, step_change, step_of};

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
        /// Co-handlers, if any.
        #[serde(default)]
        co: Vec<DepartmentId>,
    },
    /// 吹哨: summon departments, one leading, with a check-in deadline in minutes.
    Whistle {
        lead: DepartmentId,
        /// The other departments summoned, if any: one department may be whistled alone.
        #[serde(default)]
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

/// The next state after `m` by `a`, or why not. Never panics; the input is untouched.
pub fn apply(f: &Flow, a: &Actor, m: &Move) -> Result<Flow, MoveError> {
    if !moves::may_make(a, m) {
        return Err(MoveError::Forbidden(m.name()));
    }
    moves::state_admits(f, m)?;
    let mut n = f.clone();
    moves::make(f, a, m, &mut n)?;
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

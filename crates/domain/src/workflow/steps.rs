//! The step clock and who hears when it runs late: which step runs in which state, what a move
//! does to it, and where an overdue event goes. Kept apart from the moves: the deadline and notice
//! code needs these, and none of the rules of who may move.

use super::{DepartmentId, Flow, HolderLevel, Move, State};

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

//! The rules of each move, apart from the types they act on: who may ever make it, whether the
//! event's state lets it through now, and what it changes. Each move has its own function so its
//! checks read in the order the user is told about them, and a change to one move cannot slip
//! into another's.

use super::{Actor, DepartmentId, Flow, Move, MoveError, Rating, State};
use crate::access::Role;

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

/// Who may ever make the move, whatever the state.
pub(super) fn may_make(a: &Actor, m: &Move) -> bool {
    let role = a.role;
    match m {
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
    }
}

/// The refusals that do not depend on the move's contents: a finished event takes only a rating
/// (and a reopen after a dissatisfied one), a suspended one only what leaves its work alone.
pub(super) fn state_admits(f: &Flow, m: &Move) -> Result<(), MoveError> {
    if !f.state.is_open() {
        let ok = match m {
            Move::Rate { .. } => f.state == State::Closed,
            Move::Reopen => f.state == State::Closed && f.rating == Some(Rating::Dissatisfied),
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
    Ok(())
}

/// One move being made: what every move's rule may look at.
struct Turn<'a> {
    f: &'a Flow,
    a: &'a Actor,
    m: &'a Move,
    /// The actor is staff of the event's lead department.
    dept_is_lead: bool,
}

impl Turn<'_> {
    fn not_now(&self, why: impl std::fmt::Display) -> MoveError {
        not_now(self.m, why)
    }
}

/// Checks the move's own rule and writes its effect into `n` (a copy of `f`), once the role and
/// the state's gates have let it through.
pub(super) fn make(f: &Flow, a: &Actor, m: &Move, n: &mut Flow) -> Result<(), MoveError> {
    let t = Turn {
        f,
        a,
        m,
        dept_is_lead: a.department.is_some() && a.department == f.lead,
    };
    match m {
        Move::Accept | Move::Reject { .. } | Move::Merge { .. } => take_in(&t, n),
        Move::HandleHere => handle_here(&t, n),
        Move::Escalate => escalate(&t, n),
        Move::Dispatch { lead, co } => dispatch(&t, lead, co, n),
        Move::Whistle {
            lead,
            others,
            check_in_minutes,
            task,
        } => whistle(&t, lead, others, *check_in_minutes, task, n),
        Move::CheckIn => check_in(&t, n),
        Move::Return { reason } => give_back(&t, reason, n),
        Move::RequestExtension { minutes, reason } => request_extension(&t, *minutes, reason, n),
        Move::DecideExtension { .. } => decide_extension(&t, n),
        Move::Suspend { reason } => suspend(&t, reason, n),
        Move::Resume => resume(&t, n),
        Move::SubmitResult { text } => submit_result(&t, text, n),
        Move::Verify { pass, .. } => verify(&t, *pass, n),
        Move::Rate { rating, .. } => rate(&t, *rating, n),
        Move::Reopen => reopen(&t, n),
        Move::Urge { note } | Move::Supervise { note } => needs_text(note, "督办意见"),
        Move::Reclassify { category } => needs_text(category, "新的类别"),
        Move::Reassign { to } => needs_text(to, "接手人员"),
        Move::Mediate { case, days } => mediate(&t, case, *days, n),
        Move::MediationEnded { outcome } => end_mediation(&t, outcome, n),
        Move::Recall => recall(&t, n),
    }
}

// Intake: what the level holding a reported or accepted event does with it.

/// Accept, reject and merge share one gate: each settles a report that nobody has taken yet.
fn take_in(t: &Turn, n: &mut Flow) -> Result<(), MoveError> {
    if t.f.state != State::Reported {
        return Err(t.not_now(format!("事件{}", t.f.state.label_zh())));
    }
    n.state = match t.m {
        Move::Accept => State::Accepted,
        Move::Reject { reason } => {
            needs_text(reason, "不予受理的理由")?;
            State::Rejected
        }
        _ => State::Merged,
    };
    Ok(())
}

fn handle_here(t: &Turn, n: &mut Flow) -> Result<(), MoveError> {
    if t.f.state != State::Accepted {
        return Err(t.not_now("只有已受理的事件可以自办"));
    }
    n.state = State::Handling;
    n.handled_here = true;
    Ok(())
}

fn escalate(t: &Turn, n: &mut Flow) -> Result<(), MoveError> {
    if t.f.state != State::Accepted {
        return Err(t.not_now("只有已受理、尚未派遣的事件可以上报"));
    }
    n.holder =
        t.f.holder
            .above()
            .ok_or_else(|| t.not_now("已在市级，无法再上报"))?;
    Ok(())
}

// Dispatch and whistle: handing the event to departments, and the departments taking it or not.

fn dispatch(
    t: &Turn,
    lead: &DepartmentId,
    co: &[DepartmentId],
    n: &mut Flow,
) -> Result<(), MoveError> {
    if t.f.state != State::Accepted {
        return Err(t.not_now("只有已受理的事件可以派遣"));
    }
    needs_text(lead, "主办部门")?;
    if co.contains(lead) {
        return Err(MoveError::Invalid("主办部门不能同时是协办部门".into()));
    }
    n.state = State::Dispatched;
    n.lead = Some(lead.clone());
    n.co = co.iter().cloned().collect();
    n.checked_in.clear();
    Ok(())
}

fn whistle(
    t: &Turn,
    lead: &DepartmentId,
    others: &[DepartmentId],
    check_in_minutes: i64,
    task: &str,
    n: &mut Flow,
) -> Result<(), MoveError> {
    needs_text(task, "吹哨任务")?;
    if !(1..=24 * 60).contains(&check_in_minutes) {
        return Err(MoveError::Invalid("报到时限应为1–1440分钟".into()));
    }
    if t.a.role == Role::DepartmentStaff {
        summon_more(t, others, n)?;
    } else {
        whistle_in(t, lead, others, n)?;
    }
    n.whistled = true;
    Ok(())
}

/// A leading department summons others to join its work.
fn summon_more(t: &Turn, others: &[DepartmentId], n: &mut Flow) -> Result<(), MoveError> {
    if !(t.dept_is_lead && t.f.state == State::Handling) {
        return Err(t.not_now("只有正在主办此事件的部门可以吹哨召集其他部门"));
    }
    n.co.extend(
        others
            .iter()
            .filter(|d| Some(*d) != t.f.lead.as_ref())
            .cloned(),
    );
    Ok(())
}

/// A dispatcher summons departments to an accepted event, one of them leading.
fn whistle_in(
    t: &Turn,
    lead: &DepartmentId,
    others: &[DepartmentId],
    n: &mut Flow,
) -> Result<(), MoveError> {
    if t.f.state != State::Accepted {
        return Err(t.not_now("只有已受理的事件可以吹哨"));
    }
    needs_text(lead, "牵头部门")?;
    n.state = State::Dispatched;
    n.lead = Some(lead.clone());
    n.co = others.iter().filter(|d| *d != lead).cloned().collect();
    n.checked_in.clear();
    Ok(())
}

fn check_in(t: &Turn, n: &mut Flow) -> Result<(), MoveError> {
    let d =
        t.a.department
            .as_ref()
            .ok_or_else(|| MoveError::Forbidden(t.m.name()))?;
    if !matches!(t.f.state, State::Dispatched | State::Handling) || !t.f.assigned(d) {
        return Err(t.not_now("此事件没有派给您的部门"));
    }
    if t.f.checked_in.contains(d) {
        return Err(t.not_now("已经签收"));
    }
    n.checked_in.insert(d.clone());
    if t.dept_is_lead {
        n.state = State::Handling;
    }
    Ok(())
}

/// 退回: the lead department sends a dispatch it has not checked in back to the dispatcher.
fn give_back(t: &Turn, reason: &str, n: &mut Flow) -> Result<(), MoveError> {
    needs_text(reason, "退回理由")?;
    if t.f.state != State::Dispatched || !t.dept_is_lead {
        return Err(t.not_now("只有主办部门在签收前可以退回"));
    }
    n.state = State::Accepted;
    n.lead = None;
    n.co.clear();
    n.checked_in.clear();
    n.returns += 1;
    Ok(())
}

fn recall(t: &Turn, n: &mut Flow) -> Result<(), MoveError> {
    if t.f.state != State::Dispatched || !t.f.checked_in.is_empty() {
        return Err(t.not_now("只有尚未签收的派遣可以撤回"));
    }
    n.state = State::Accepted;
    n.lead = None;
    n.co.clear();
    Ok(())
}

// Handling: the handler's time and the pauses of its work.

fn request_extension(t: &Turn, minutes: i64, reason: &str, n: &mut Flow) -> Result<(), MoveError> {
    needs_text(reason, "延期理由")?;
    if minutes <= 0 {
        return Err(MoveError::Invalid("延期时长应为正数".into()));
    }
    if t.f.state != State::Handling
        || !(t.dept_is_lead || (t.f.handled_here && t.a.role == Role::CommunityStaff))
    {
        return Err(t.not_now("只有处置中的承办方可以申请延期"));
    }
    if t.f.extension_pending {
        return Err(t.not_now("已有待审批的延期申请"));
    }
    n.extension_pending = true;
    Ok(())
}

fn decide_extension(t: &Turn, n: &mut Flow) -> Result<(), MoveError> {
    if !t.f.extension_pending {
        return Err(t.not_now("没有待审批的延期申请"));
    }
    n.extension_pending = false;
    Ok(())
}

fn suspend(t: &Turn, reason: &str, n: &mut Flow) -> Result<(), MoveError> {
    needs_text(reason, "挂起理由")?;
    if !matches!(t.f.state, State::Handling | State::Dispatched) {
        return Err(t.not_now("只有派遣或处置中的事件可以挂起"));
    }
    // Its clock is the mediation case's; it ends with the case.
    if t.f.mediation {
        return Err(t.not_now("调解中的事件随调解案件办理，不能挂起"));
    }
    n.suspended = true;
    Ok(())
}

fn resume(t: &Turn, n: &mut Flow) -> Result<(), MoveError> {
    if !t.f.suspended {
        return Err(t.not_now("事件未挂起"));
    }
    n.suspended = false;
    Ok(())
}

// Closing: the result, its check, the reporter's rating and a reopen after a bad one.

fn submit_result(t: &Turn, text: &str, n: &mut Flow) -> Result<(), MoveError> {
    needs_text(text, "处置结果")?;
    let handler = if t.f.handled_here {
        t.a.role == Role::CommunityStaff
    } else {
        t.dept_is_lead
    };
    if t.f.state != State::Handling || !handler {
        return Err(t.not_now("只有处置中的承办方可以办结"));
    }
    n.state = State::Handled;
    n.extension_pending = false;
    Ok(())
}

fn verify(t: &Turn, pass: bool, n: &mut Flow) -> Result<(), MoveError> {
    if t.f.state != State::Handled {
        return Err(t.not_now("只有已处置的事件可以核查"));
    }
    if pass {
        n.state = State::Closed;
    } else {
        n.state = State::Handling;
        n.reworks += 1;
    }
    Ok(())
}

fn rate(t: &Turn, rating: Rating, n: &mut Flow) -> Result<(), MoveError> {
    if t.f.state != State::Closed || t.f.rating.is_some() {
        return Err(t.not_now("只有已结案且未评价的事件可以评价"));
    }
    n.rating = Some(rating);
    Ok(())
}

fn reopen(t: &Turn, n: &mut Flow) -> Result<(), MoveError> {
    if !(t.f.state == State::Closed && t.f.rating == Some(Rating::Dissatisfied)) {
        return Err(t.not_now("只有评价为不满意的已结案事件可以重新办理"));
    }
    n.state = State::Handling;
    n.rating = None;
    n.reworks += 1;
    Ok(())
}

// Mediation: a dispute handed to a people's mediation case, and closed by it.

fn mediate(t: &Turn, case: &str, days: i64, n: &mut Flow) -> Result<(), MoveError> {
    needs_text(case, "调解案件")?;
    if !(1..=365).contains(&days) {
        return Err(MoveError::Invalid("调解期限应为1–365天".into()));
    }
    if !matches!(t.f.state, State::Reported | State::Accepted) {
        return Err(t.not_now("只有已上报或已受理、尚未派遣的事件可以转入调解"));
    }
    n.state = State::Handling;
    n.mediation = true;
    n.holder = t.f.holder;
    Ok(())
}

fn end_mediation(t: &Turn, outcome: &str, n: &mut Flow) -> Result<(), MoveError> {
    needs_text(outcome, "调解结果")?;
    if t.f.state != State::Handling || !t.f.mediation {
        return Err(t.not_now("此事件不在调解中"));
    }
    n.state = State::Closed;
    n.mediation = false;
    Ok(())
}

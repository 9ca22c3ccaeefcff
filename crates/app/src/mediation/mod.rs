//! People's mediation (矛盾纠纷调处化解): the organisations and mediators in sight, dispute cases
//! (opened from an event, a walk-in, a transfer slip or a screening), the steps of a case —
//! sessions, the written or oral agreement, signatures and the seal, the outcome, judicial
//! confirmation, performance, follow-up visits, risk — transfer slips with their receipt and reply
//! deadlines, screening rounds, the risk list and the statistics the city publishes. The rules are
//! the domain's (`wangge_domain::mediation`); this module checks who acts and what they may see.
//! Parties' identifiers are encrypted at rest and only ever shown masked, except through the
//! audited unmasking of one field.

pub mod cases;
pub mod network;
pub mod risks;
pub mod screening;
pub mod slips;
pub mod stats;
pub mod steps;
pub mod views;

use crate::context::Context;
use crate::error::{AppError, AppResult};
use crate::principal::Principal;
use serde_json::json;
use uuid::Uuid;
use wangge_domain::access::{Role, Visibility};
use wangge_store::CaseRow;

pub(crate) fn bad(code: &'static str, m: impl Into<String>) -> AppError {
    AppError::invalid(code, m)
}

pub(crate) fn conflict(code: &'static str, m: impl Into<String>) -> AppError {
    AppError::conflict(code, m)
}

/// Cases belong to places: a department's staff see no case list (they answer slips sent to it).
pub fn sight(who: &Principal) -> AppResult<Visibility> {
    who.area()
}

/// Who may open and work cases: mediators, and the staff who take in disputes at each level.
pub fn may_work(who: &Principal) -> AppResult<()> {
    if matches!(
        who.role(),
        Some(Role::Mediator | Role::CommunityStaff | Role::StreetDispatcher | Role::CommandCentre)
    ) {
        Ok(())
    } else {
        Err(AppError::forbidden())
    }
}

pub(crate) fn parse_id(id: &str, code: &'static str, what: &str) -> AppResult<Uuid> {
    id.trim().parse().map_err(|_| {
        bad(
            code,
            format!(
                "{what}编号应为 UUID，收到 \"{}\"",
                id.chars().take(40).collect::<String>()
            ),
        )
    })
}

pub(crate) fn vocab<T: std::str::FromStr<Err = String>>(
    value: &str,
    code: &'static str,
    field: &str,
) -> AppResult<T> {
    value
        .trim()
        .parse()
        .map_err(|m: String| bad(code, m).with_details(json!({"field": field})))
}

/// A required text of a case, at most `max` characters, no control characters.
pub(crate) fn text(field: &'static str, s: &str, max: usize) -> AppResult<String> {
    crate::limits::text(field, s, max).map_err(|e| AppError {
        code: "mediation.bad_text",
        message: format!("{field} 不能为空，且不超过{max}字（不含控制字符）"),
        ..e
    })
}

/// A case in the principal's sight, or 404 exactly as for one that does not exist.
pub async fn load_case(ctx: &Context, who: &Principal, id: &str) -> AppResult<CaseRow> {
    let vis = sight(who)?;
    let missing = || AppError::not_found("mediation.case_not_found", "调解案件不存在");
    let id: Uuid = id.trim().parse().map_err(|_| missing())?;
    ctx.store.case(&vis, id).await?.ok_or_else(missing)
}

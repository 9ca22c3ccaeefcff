//! Events (事件): intake, the one path every move takes, likely duplicates, routing, reading
//! within sight, the street's ratings of summoned departments, and the deadline watch. An event
//! outside the principal's sight is answered exactly as one that does not exist.

pub mod desk;
pub mod duplicates;
pub mod intake;
pub mod moves;
pub mod queries;
pub mod ratings;
pub mod routing;
pub mod views;
pub mod watch;

use crate::context::Context;
use crate::error::{AppError, AppResult};
use crate::principal::Principal;
use uuid::Uuid;
use wangge_domain::region::{RegionCode, RegionKind};
use wangge_domain::workflow::Flow;
use wangge_store::EventRow;

fn missing() -> AppError {
    AppError::not_found("event.not_found", "事件不存在")
}

/// An event the principal may see, or 404 as for one that does not exist.
pub async fn load(ctx: &Context, who: &Principal, id: &str) -> AppResult<EventRow> {
    let vis = who.visibility()?;
    let id: Uuid = id.trim().parse().map_err(|_| missing())?;
    ctx.store
        .event(&vis, who.department().as_deref(), id)
        .await?
        .ok_or_else(missing)
}

/// The workflow state stored with an event.
pub fn flow_of(e: &EventRow) -> AppResult<Flow> {
    serde_json::from_str(&e.flow).map_err(|err| {
        tracing::error!(event = %e.id, error = %err, "unreadable workflow state");
        AppError::internal("event.broken", "事件数据损坏，请联系管理员")
    })
}

/// Whether a grid lies in a village (rural limits are longer for verifying).
pub fn is_rural(grid_code: &str) -> bool {
    grid_code
        .get(..12)
        .and_then(|c| RegionCode::parse(c).ok())
        .is_some_and(|c| c.kind() == RegionKind::Village)
}

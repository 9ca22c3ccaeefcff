//! 研判清单: open cases in sight with a sign of risk — many parties, the same parties again within
//! the year, three or more disputes in one grid within 180 days, a raised or high level. The
//! parties and the level changes of every case compared are read in one go each, not per case.

use super::sight;
use crate::context::Context;
use crate::error::AppResult;
use crate::principal::Principal;
use chrono::Duration;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;
use wangge_domain::mediation::{RiskFacts, RiskLevel, RiskReason, risk_reasons};
use wangge_store::CaseQuery;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RiskCase {
    pub id: Uuid,
    pub code: String,
    pub grid: String,
    pub risk_level: String,
    pub reasons: Vec<RiskReason>,
    pub reasons_zh: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RiskList {
    pub cases: Vec<RiskCase>,
}

pub async fn list(ctx: &Context, who: &Principal) -> AppResult<RiskList> {
    let vis = sight(who)?;
    let t = ctx.now();
    // Every open case, and the year's others to compare them with.
    let read = |state: &str| CaseQuery {
        state: Some(state.into()),
        limit: 1000,
        ..Default::default()
    };
    let mut recent = ctx.store.cases(&vis, &read("open")).await?;
    let closed = ctx.store.cases(&vis, &read("closed")).await?;
    recent.extend(
        closed
            .into_iter()
            .filter(|c| t - c.opened_at < Duration::days(365)),
    );
    let mut parties = ctx.store.party_names_of_cases(&recent).await?;
    let changes = ctx.store.last_risk_changes(&recent).await?;
    let rank = |v: &Value| match v.as_str() {
        Some("high") => 2,
        Some("medium") => 1,
        _ => 0,
    };
    let facts: Vec<RiskFacts> = recent
        .iter()
        .map(|c| RiskFacts {
            id: c.id.to_string(),
            grid: c.grid_code.clone(),
            opened_at: c.opened_at,
            parties: parties.remove(&c.id).unwrap_or_default(),
            level: c.risk_level.parse().unwrap_or(RiskLevel::Low),
            // Rising: the latest change of level raised it.
            raised: changes
                .get(&c.id)
                .and_then(|b| serde_json::from_str::<Value>(b).ok())
                .is_some_and(|b| rank(&b["to"]) > rank(&b["from"])),
        })
        .collect();
    let cases = recent
        .iter()
        .zip(&facts)
        .filter(|(c, _)| c.state == "open")
        .filter_map(|(c, f)| {
            let reasons = risk_reasons(f, &facts);
            (!reasons.is_empty()).then(|| RiskCase {
                id: c.id,
                code: c.code.clone(),
                grid: c.grid_code.clone(),
                risk_level: c.risk_level.clone(),
                reasons_zh: reasons.iter().map(|r| r.label_zh()).collect(),
                reasons,
            })
        })
        .collect();
    Ok(RiskList { cases })
}

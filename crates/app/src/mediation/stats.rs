//! The statistics the city publishes: cases received, handled (mediation ended, whatever the
//! outcome), successful, failed, ended, referred and performed, the success rate and its display
//! by the administrator's rule (truncated to 96.8% by default, as the published figures are),
//! for any region, organisation, mediator, type and period (on the end of mediation).

use super::{bad, parse_id, sight, vocab};
use crate::context::Context;
use crate::error::{AppError, AppResult};
use crate::limits;
use crate::principal::Principal;
use serde::{Deserialize, Serialize};
use wangge_domain::mediation::{DisputeType, RateDisplay, Stats};
use wangge_store::StatsQuery;

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsFilter {
    pub region: Option<String>,
    pub organisation: Option<String>,
    pub mediator: Option<String>,
    #[serde(rename = "type")]
    pub dispute_type: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

pub const DEFINITION: &str =
    "调解成功率 = 调解成功件数（达成书面或口头协议）÷ 调解件数（期间内调解结束的案件，不论结果）";

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatsView {
    #[serde(flatten)]
    pub stats: Stats,
    pub success_rate_display: String,
    pub display_rule: RateDisplay,
    pub definition: &'static str,
}

/// The figures for a region (default: the principal's whole area) and the filters given.
pub async fn stats(ctx: &Context, who: &Principal, q: &StatsFilter) -> AppResult<StatsView> {
    let vis = sight(who)?;
    let vis = match q.region.as_deref().filter(|r| !r.is_empty()) {
        None => vis,
        Some(code) => {
            let code = wangge_domain::RegionCode::parse(code.trim())
                .map_err(|e| bad("mediation.bad_region", e.to_string()).at("region"))?;
            vis.narrowed_to(&code).ok_or_else(AppError::forbidden)?
        }
    };
    let now = ctx.now();
    let time = |field: &str, v: &Option<String>| {
        v.as_deref()
            .filter(|s| !s.is_empty())
            .map(|raw| {
                limits::time_param(field, raw, now).map_err(|e| AppError {
                    code: "mediation.bad_time",
                    ..e
                })
            })
            .transpose()
    };
    let query = StatsQuery {
        org: q
            .organisation
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|o| parse_id(o, "mediation.bad_org", "调解组织"))
            .transpose()?,
        mediator: q
            .mediator
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|m| parse_id(m, "mediation.bad_mediator", "调解员"))
            .transpose()?,
        dispute_type: q
            .dispute_type
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|t| {
                vocab::<DisputeType>(t, "mediation.bad_type", "type")
                    .map(|t| t.as_str().to_string())
            })
            .transpose()?,
        from: time("from", &q.from)?,
        to: time("to", &q.to)?,
    };
    let n = ctx.store.mediation_counts(&vis, &query).await?;
    let mut s = Stats {
        received: n.received as u64,
        handled: n.handled as u64,
        successful: n.successful as u64,
        failed: n.failed as u64,
        ended: n.ended as u64,
        referred: n.referred as u64,
        performed: n.performed as u64,
        ..Default::default()
    };
    s.finish(n.total_days);
    let rule = ctx.config.get().settings.mediation.rate_display;
    Ok(StatsView {
        success_rate_display: rule.show(s.successful, s.handled),
        stats: s,
        display_rule: rule,
        definition: DEFINITION,
    })
}

/// One type's figures.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TypeFigures {
    pub dispute_type: DisputeType,
    pub handled: u64,
    pub successful: u64,
    pub rate: String,
}

/// The figures of each dispute type with cases handled, most handled first.
pub async fn by_type(
    ctx: &Context,
    who: &Principal,
    q: &StatsFilter,
) -> AppResult<Vec<TypeFigures>> {
    let mut out = Vec::new();
    for t in DisputeType::ALL {
        let one = StatsFilter {
            dispute_type: Some(t.as_str().into()),
            ..q.clone()
        };
        let s = stats(ctx, who, &one).await?;
        if s.stats.handled > 0 {
            out.push(TypeFigures {
                dispute_type: *t,
                handled: s.stats.handled,
                successful: s.stats.successful,
                rate: s.success_rate_display,
            });
        }
    }
    out.sort_by_key(|t| std::cmp::Reverse(t.handled));
    Ok(out)
}

/// A download of the figures: allowed to roles that may export, and audited.
pub async fn audit_export(
    ctx: &Context,
    who: &Principal,
    q: &StatsFilter,
    format: &str,
) -> AppResult<()> {
    who.require(wangge_domain::access::Permission::Export)?;
    ctx.store
        .append_audit(
            &who.audit(
                "mediation.stats_export",
                Some("mediation_stats"),
                None,
                serde_json::json!({"format": format, "region": q.region, "from": q.from, "to": q.to}),
            ),
            ctx.now(),
        )
        .await?;
    Ok(())
}

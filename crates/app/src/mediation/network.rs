//! The mediation network on the region tree: organisations (village/community and township
//! committees, rooms of the governance centres, industry committees, court-linked rooms) and their
//! mediators, read within sight and kept by the system administrator.

use super::views::{MediatorView, Mediators, OrgView, Orgs};
use super::{bad, parse_id, sight, text, vocab};
use crate::context::Context;
use crate::error::AppResult;
use crate::principal::Principal;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;
use wangge_domain::access::Permission;
use wangge_domain::mediation::{DisputeType, OrgKind};
use wangge_store::{MediationOrgRow, MediatorRow};

pub async fn orgs(ctx: &Context, who: &Principal) -> AppResult<Orgs> {
    let vis = sight(who)?;
    Ok(Orgs {
        orgs: ctx
            .store
            .mediation_orgs(&vis)
            .await?
            .iter()
            .map(OrgView::from)
            .collect(),
    })
}

pub async fn mediators(ctx: &Context, who: &Principal, org: Option<&str>) -> AppResult<Mediators> {
    let vis = sight(who)?;
    let org = match org.filter(|o| !o.is_empty()) {
        Some(o) => Some(parse_id(o, "mediation.bad_org", "调解组织")?),
        None => None,
    };
    Ok(Mediators {
        mediators: ctx
            .store
            .mediators(&vis, org)
            .await?
            .iter()
            .map(MediatorView::from)
            .collect(),
    })
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgInput {
    pub name: String,
    pub kind: String,
    pub region: String,
}

/// A mediation organisation on the region tree (system administrator).
pub async fn create_org(ctx: &Context, who: &Principal, b: OrgInput) -> AppResult<OrgView> {
    who.require(Permission::Configure)?;
    let kind: OrgKind = vocab(&b.kind, "mediation.bad_org_kind", "kind")?;
    let name = text("name", &b.name, 100)?;
    let region = wangge_domain::RegionCode::parse(b.region.trim())
        .map_err(|e| bad("mediation.bad_region", e.to_string()).at("region"))?;
    if ctx.store.region(region.as_str()).await?.is_none() {
        return Err(bad("mediation.bad_region", format!("区划 {region} 不存在")).at("region"));
    }
    let org = MediationOrgRow {
        id: Uuid::now_v7(),
        region_code: region.as_str().to_string(),
        kind: kind.as_str().into(),
        name,
    };
    ctx.store
        .insert_mediation_network(std::slice::from_ref(&org), &[])
        .await?;
    ctx.store
        .append_audit(
            &who.audit(
                "mediation.org_create",
                Some("mediation_org"),
                Some(org.id.to_string()),
                json!({"name": org.name, "region": org.region_code}),
            ),
            ctx.now(),
        )
        .await?;
    Ok(OrgView::from(&org))
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MediatorInput {
    pub org: String,
    pub name: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub specialities: Vec<String>,
    #[serde(default)]
    pub legal_adviser: bool,
}

/// A mediator of an organisation (system administrator).
pub async fn create_mediator(
    ctx: &Context,
    who: &Principal,
    b: MediatorInput,
) -> AppResult<MediatorView> {
    who.require(Permission::Configure)?;
    let org_id = parse_id(&b.org, "mediation.bad_org", "调解组织")?;
    let org =
        ctx.store.mediation_org(org_id).await?.ok_or_else(|| {
            bad("mediation.bad_org", format!("调解组织 {org_id} 不存在")).at("org")
        })?;
    let name = text("name", &b.name, 50)?;
    let title = crate::limits::free_text("title", &b.title, 50)
        .map_err(|_| bad("mediation.bad_text", "称号不超过50字").at("title"))?;
    if b.specialities.len() > 20 {
        return Err(bad("mediation.bad_type", "专长不超过20项").at("specialities"));
    }
    let mut specialities = Vec::new();
    for t in &b.specialities {
        let t: DisputeType = vocab(t, "mediation.bad_type", "specialities")?;
        specialities.push(t.as_str());
    }
    let m = MediatorRow {
        id: Uuid::now_v7(),
        org_id: org.id,
        region_code: org.region_code.clone(),
        name,
        title,
        specialities: specialities.join(" "),
        legal_adviser: i64::from(b.legal_adviser),
        account_id: None,
    };
    ctx.store
        .insert_mediation_network(&[], std::slice::from_ref(&m))
        .await?;
    ctx.store
        .append_audit(
            &who.audit(
                "mediation.mediator_create",
                Some("mediator"),
                Some(m.id.to_string()),
                json!({"org": org.name}),
            ),
            ctx.now(),
        )
        .await?;
    Ok(MediatorView::from(&m))
}

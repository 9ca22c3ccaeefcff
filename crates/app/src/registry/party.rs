//! The party organisation register as use cases: the import (the five levels checked against the
//! places and the organisations already stored), the export and the search by name.

use super::{ImportReport, PlaceName, county_of, label, place, query_text, row_problem};
use crate::context::Context;
use crate::error::AppResult;
use crate::principal::Principal;
use serde::Serialize;
use std::collections::HashMap;
use uuid::Uuid;
use wangge_domain::access::{Permission, Visibility};
use wangge_domain::atlas::Atlas;
use wangge_domain::org::PartyLevel;
use wangge_domain::region::{Level, RegionCode};
use wangge_domain::registers::party::{self as sheet, KnownOrgs, NodeKind, PartyRecord, StoredOrg};
use wangge_domain::registers::{Problem, RegisterKind, Sheet};
use wangge_store::{NewPartyOrg, NewUnit};

struct Known<'a> {
    atlas: &'a Atlas,
    area: &'a Visibility,
    stored: &'a HashMap<String, NewPartyOrg>,
    units: &'a HashMap<String, NewUnit>,
}

impl KnownOrgs for Known<'_> {
    fn node_kind(&self, code: &str) -> Option<NodeKind> {
        if self.atlas.grid_name(code).is_some() {
            return Some(NodeKind::Grid);
        }
        Some(
            match self.atlas.region_level(&RegionCode::parse(code).ok()?)? {
                Level::Township => NodeKind::Township,
                Level::Community => NodeKind::Community,
                _ => NodeKind::Other,
            },
        )
    }
    fn in_scope(&self, code: &str) -> bool {
        self.area.sees(code)
    }
    fn stored(&self, code: &str) -> Option<StoredOrg> {
        let o = self.stored.get(code)?;
        Some(StoredOrg {
            level: o.level.parse().ok()?,
            place: o.node_code.clone(),
        })
    }
    fn unit_grid(&self, code: &str) -> Option<String> {
        self.units.get(code).and_then(|u| u.grid_code.clone())
    }
}

pub(super) async fn import(
    ctx: &Context,
    area: &Visibility,
    sheet: &Sheet,
    dry_run: bool,
) -> AppResult<ImportReport> {
    let stored: HashMap<String, NewPartyOrg> = ctx
        .store
        .party_register()
        .await?
        .into_iter()
        .map(|o| (o.code.clone(), o))
        .collect();
    let units: HashMap<String, NewUnit> = ctx
        .store
        .unit_register()
        .await?
        .into_iter()
        .map(|u| (u.code.clone(), u))
        .collect();
    let atlas = ctx.atlas.get();
    let records = sheet::read(
        sheet,
        &Known {
            atlas: &atlas,
            area,
            stored: &stored,
            units: &units,
        },
    )
    .map_err(super::refused)?;
    let foreign: Vec<Problem> = records
        .iter()
        .filter(|r| {
            stored
                .get(&r.code)
                .is_some_and(|o| !area.sees(&o.node_code))
        })
        .map(|r| {
            row_problem(
                &sheet.name,
                r.row,
                sheet::CODE,
                format!("编码 {} 已被辖区外党组织使用，请换一个编码", r.code),
            )
        })
        .collect();
    if !foreign.is_empty() {
        return Err(super::refused(foreign));
    }
    let mut ids: HashMap<&str, Uuid> = stored.iter().map(|(c, o)| (c.as_str(), o.id)).collect();
    for r in &records {
        ids.entry(&r.code).or_insert_with(Uuid::now_v7);
    }
    let mut report = ImportReport::new(RegisterKind::PartyOrgs, dry_run, records.len());
    let (created, updated) = super::sort_out(
        &mut report,
        records
            .iter()
            .map(|r| (stored.get(&r.code), entry(r, &ids, &units))),
    );
    if !dry_run && (!created.is_empty() || !updated.is_empty()) {
        ctx.store
            .write_party_orgs(&created, &updated, ctx.now())
            .await?;
    }
    Ok(report)
}

fn entry(
    r: &PartyRecord,
    ids: &HashMap<&str, Uuid>,
    units: &HashMap<String, NewUnit>,
) -> NewPartyOrg {
    NewPartyOrg {
        region_code: county_of(&r.place),
        id: ids[r.code.as_str()],
        code: r.code.clone(),
        level: r.level.as_str().into(),
        name: r.name.clone(),
        parent_id: r.parent.as_deref().and_then(|p| ids.get(p).copied()),
        node_code: r.place.clone(),
        unit_id: r.unit.as_ref().and_then(|u| units.get(u)).map(|u| u.id),
        active: r.active,
    }
}

pub(super) async fn export_rows(ctx: &Context, area: &Visibility) -> AppResult<Vec<Vec<String>>> {
    let all = ctx.store.party_register().await?;
    let codes: HashMap<Uuid, &str> = all.iter().map(|o| (o.id, o.code.as_str())).collect();
    let units: HashMap<Uuid, String> = ctx
        .store
        .unit_register()
        .await?
        .into_iter()
        .map(|u| (u.id, u.code))
        .collect();
    Ok(all
        .iter()
        .filter(|o| area.sees(&o.node_code))
        .map(|o| {
            vec![
                o.code.clone(),
                o.name.clone(),
                label::<PartyLevel>(&o.level),
                o.parent_id
                    .and_then(|p| codes.get(&p))
                    .map(|c| c.to_string())
                    .unwrap_or_default(),
                o.node_code.clone(),
                o.unit_id
                    .and_then(|u| units.get(&u).cloned())
                    .unwrap_or_default(),
                if o.active { "启用" } else { "撤销" }.into(),
            ]
        })
        .collect())
}

/// A party organisation as the register's page shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PartyOrgItem {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub level_name: String,
    pub parent: Option<String>,
    pub place: PlaceName,
    pub active: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PartyOrgs {
    /// How many match, of which at most `limit` are listed.
    pub total: usize,
    pub party_orgs: Vec<PartyOrgItem>,
}

/// The party organisations in the caller's sight whose name or code contains `q`.
pub async fn search(
    ctx: &Context,
    who: &Principal,
    q: Option<&str>,
    limit: usize,
) -> AppResult<PartyOrgs> {
    who.require(Permission::ReadRegistry)?;
    let vis = who.visibility()?;
    let q = query_text(q);
    let atlas = ctx.atlas.get();
    let all = ctx.store.party_register().await?;
    let names: HashMap<Uuid, &str> = all.iter().map(|o| (o.id, o.name.as_str())).collect();
    let matching: Vec<&NewPartyOrg> = all
        .iter()
        .filter(|o| vis.sees(&o.node_code))
        .filter(|o| q.is_none_or(|q| o.name.contains(q) || o.code.contains(q)))
        .collect();
    Ok(PartyOrgs {
        total: matching.len(),
        party_orgs: matching
            .iter()
            .take(limit)
            .map(|o| PartyOrgItem {
                id: o.id,
                code: o.code.clone(),
                name: o.name.clone(),
                level_name: label::<PartyLevel>(&o.level),
                parent: o
                    .parent_id
                    .and_then(|p| names.get(&p))
                    .map(|n| n.to_string()),
                place: place(&atlas, &o.node_code),
                active: o.active,
            })
            .collect(),
    })
}

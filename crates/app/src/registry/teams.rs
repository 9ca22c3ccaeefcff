//! The team register as use cases: the import (members named by ID-card number, found through the
//! blind index among the people already imported), the export and the search.

use super::{ImportReport, PlaceName, Shown, county_of, label, place, query_text};
use crate::context::Context;
use crate::error::AppResult;
use crate::principal::Principal;
use serde::Serialize;
use std::collections::HashMap;
use uuid::Uuid;
use wangge_domain::access::{Permission, Visibility};
use wangge_domain::atlas::Atlas;
use wangge_domain::org::{TeamKind, TeamRole};
use wangge_domain::region::{Level, RegionCode};
use wangge_domain::registers::teams::{self as sheet, KnownMembers, PlaceKind};
use wangge_domain::registers::{RegisterKind, Sheet};
use wangge_store::{NewPerson, NewTeamMember, TeamChanges};

struct Known<'a> {
    ctx: &'a Context,
    atlas: &'a Atlas,
    area: &'a Visibility,
    people: &'a HashMap<String, &'a NewPerson>,
}

impl KnownMembers for Known<'_> {
    fn place_kind(&self, code: &str) -> Option<PlaceKind> {
        if self.atlas.grid_name(code).is_some() {
            return Some(PlaceKind::Grid);
        }
        let level = self.atlas.region_level(&RegionCode::parse(code).ok()?)?;
        Some(if level == Level::Community {
            PlaceKind::Community
        } else {
            PlaceKind::Other
        })
    }
    fn in_scope(&self, code: &str) -> bool {
        self.area.sees(code)
    }
    fn person_name(&self, id_number: &str) -> Option<String> {
        let idx = self.ctx.keys.blind_index("id_number", id_number);
        self.people.get(&idx).map(|p| p.name.clone())
    }
}

pub(super) async fn import(
    ctx: &Context,
    area: &Visibility,
    sheet: &Sheet,
    dry_run: bool,
) -> AppResult<ImportReport> {
    let people = ctx.store.people_register().await?;
    let by_idx: HashMap<String, &NewPerson> = people
        .iter()
        .filter_map(|p| Some((p.id_number_idx.clone()?, p)))
        .collect();
    let atlas = ctx.atlas.get();
    let records = sheet::read(
        sheet,
        &Known {
            ctx,
            atlas: &atlas,
            area,
            people: &by_idx,
        },
    )
    .map_err(super::refused)?;
    let stored: HashMap<(String, String, Uuid), NewTeamMember> = ctx
        .store
        .team_register()
        .await?
        .into_iter()
        .map(|m| ((m.team.clone(), m.grid_code.clone(), m.person_id), m))
        .collect();
    let mut report = ImportReport::new(RegisterKind::Teams, dry_run, records.len());
    let mut changes = TeamChanges::default();
    for r in &records {
        // Checked by the sheet: every member is in the register.
        let Some(person) = by_idx.get(&ctx.keys.blind_index("id_number", &r.id_number)) else {
            continue;
        };
        let key = (r.team.as_str().to_string(), r.place.clone(), person.id);
        let member = NewTeamMember {
            region_code: county_of(&r.place),
            grid_code: r.place.clone(),
            person_id: person.id,
            role: r.role.as_str().into(),
            team: key.0.clone(),
        };
        match (stored.get(&key), r.active) {
            (None, true) => {
                report.created += 1;
                changes.put.push(member);
            }
            (None, false) => report.unchanged += 1,
            (Some(old), true) if *old == member => report.unchanged += 1,
            (Some(_), active) => {
                report.updated += 1;
                changes.remove.push(key);
                if active {
                    changes.put.push(member);
                }
            }
        }
    }
    if !dry_run && (!changes.put.is_empty() || !changes.remove.is_empty()) {
        ctx.store.write_team(&changes).await?;
    }
    Ok(report)
}

pub(super) async fn export_rows(
    ctx: &Context,
    area: &Visibility,
    shown: Shown,
) -> AppResult<Vec<Vec<String>>> {
    let people: HashMap<Uuid, NewPerson> = ctx
        .store
        .people_register()
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let members = ctx.store.team_register().await?;
    members
        .iter()
        .filter(|m| area.sees(&m.grid_code))
        .map(|m| {
            let p = people.get(&m.person_id);
            Ok(vec![
                label::<TeamKind>(&m.team),
                m.grid_code.clone(),
                match p {
                    Some(p) => shown.id_number(ctx, &p.id_number_enc)?,
                    None => String::new(),
                },
                p.map(|p| p.name.clone()).unwrap_or_default(),
                label::<TeamRole>(&m.role),
                match p {
                    Some(p) if !p.active => "离职",
                    _ => "在职",
                }
                .into(),
            ])
        })
        .collect()
}

/// A team member as the register's page shows them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MemberItem {
    pub team_name: String,
    /// The grid or community, by name.
    pub place: PlaceName,
    pub person_id: Uuid,
    pub name: String,
    pub role_name: String,
    pub active: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Teams {
    /// How many match, of which at most `limit` are listed.
    pub total: usize,
    pub members: Vec<MemberItem>,
}

/// The team members in the caller's sight whose name, or whose grid's or community's name or
/// code, contains `q`.
pub async fn search(
    ctx: &Context,
    who: &Principal,
    q: Option<&str>,
    limit: usize,
) -> AppResult<Teams> {
    who.require(Permission::ReadRegistry)?;
    let vis = who.visibility()?;
    let q = query_text(q);
    let atlas = ctx.atlas.get();
    let people: HashMap<Uuid, NewPerson> = ctx
        .store
        .people_register()
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let members = ctx.store.team_register().await?;
    let matching: Vec<MemberItem> = members
        .iter()
        .filter(|m| vis.sees(&m.grid_code))
        .filter_map(|m| {
            let p = people.get(&m.person_id)?;
            let at = place(&atlas, &m.grid_code);
            let hit =
                q.is_none_or(|q| p.name.contains(q) || at.name.contains(q) || at.code.contains(q));
            hit.then(|| MemberItem {
                team_name: label::<TeamKind>(&m.team),
                place: at,
                person_id: p.id,
                name: p.name.clone(),
                role_name: label::<TeamRole>(&m.role),
                active: p.active,
            })
        })
        .collect();
    Ok(Teams {
        total: matching.len(),
        members: matching.into_iter().take(limit).collect(),
    })
}

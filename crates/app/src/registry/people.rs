//! The people register as use cases: the import (each person found again by the blind index of
//! their ID-card number, identifiers encrypted before they are stored), the export (identifiers in
//! clear only for those who may see them) and the search by name, which shows them masked.

use super::{
    ImportReport, PlaceName, Shown, county_of, label, place, query_text, row_problem, seal,
};
use crate::context::Context;
use crate::error::AppResult;
use crate::principal::Principal;
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;
use wangge_domain::access::{Permission, Visibility};
use wangge_domain::atlas::Atlas;
use wangge_domain::org::PersonKind;
use wangge_domain::region::{Level, RegionCode};
use wangge_domain::registers::people::{self as sheet, KnownPeople, PersonRecord};
use wangge_domain::registers::{Problem, RegisterKind, Sheet, mask_personal};
use wangge_security::pii;
use wangge_store::NewPerson;

struct Known<'a> {
    atlas: &'a Atlas,
    area: &'a Visibility,
    departments: &'a HashMap<String, Uuid>,
}

impl KnownPeople for Known<'_> {
    fn region_level(&self, code: &RegionCode) -> Option<Level> {
        self.atlas.region_level(code)
    }
    fn grid_exists(&self, code: &str) -> bool {
        self.atlas.grid_name(code).is_some()
    }
    fn department_exists(&self, code: &str) -> bool {
        self.departments.contains_key(code)
    }
    fn in_scope(&self, code: &str) -> bool {
        self.area.sees(code)
    }
}

pub(super) async fn import(
    ctx: &Context,
    who: &Principal,
    area: &Visibility,
    sheet: &Sheet,
    dry_run: bool,
) -> AppResult<ImportReport> {
    let departments: HashMap<String, Uuid> = ctx
        .store
        .department_register()
        .await?
        .into_iter()
        .map(|d| (d.code, d.id))
        .collect();
    let atlas = ctx.atlas.get();
    let records = sheet::read(
        sheet,
        &Known {
            atlas: &atlas,
            area,
            departments: &departments,
        },
    )
    .map_err(super::refused)?;
    let stored: HashMap<String, NewPerson> = ctx
        .store
        .people_register()
        .await?
        .into_iter()
        .filter_map(|p| Some((p.id_number_idx.clone()?, p)))
        .collect();
    let keyed: Vec<(&PersonRecord, String)> = records
        .iter()
        .map(|r| (r, ctx.keys.blind_index("id_number", &r.id_number)))
        .collect();
    // The ID number is the key: a row may not take over a person another area keeps, and the
    // refusal does not say who they are.
    let foreign: Vec<Problem> = keyed
        .iter()
        .filter(|(_, idx)| stored.get(idx).is_some_and(|p| !area.sees(&p.home_code)))
        .map(|(r, _)| {
            row_problem(
                &sheet.name,
                r.row,
                sheet::ID_NUMBER,
                format!(
                    "身份证号 {} 的人员属于辖区外，请由其所在辖区维护",
                    mask_personal(&r.id_number)
                ),
            )
        })
        .collect();
    if !foreign.is_empty() {
        return Err(super::refused(foreign));
    }
    let mut report = ImportReport::new(RegisterKind::People, dry_run, records.len());
    let (created, updated) = super::sort_out(
        &mut report,
        keyed.into_iter().map(|(r, idx)| {
            let old = stored.get(&idx);
            (old, entry(ctx, r, idx, old, &departments))
        }),
    );
    // A leaver's account goes with them, as a deactivation by hand would: sessions and tokens end.
    let mut leavers = Vec::new();
    for p in updated.iter().filter(|p| !p.active) {
        leavers.extend(ctx.store.accounts_of_person(p.id).await?);
    }
    report.accounts_deactivated = leavers.len();
    if !dry_run && (!created.is_empty() || !updated.is_empty()) {
        let t = ctx.now();
        ctx.store.write_people(&created, &updated, t).await?;
        for a in &leavers {
            ctx.store.deactivate_account(a.id, t).await?;
            ctx.store
                .append_audit(
                    &who.audit(
                        "account.deactivate",
                        Some("account"),
                        Some(a.id.to_string()),
                        json!({"reason": "registry.leaver", "username": a.username}),
                    ),
                    t,
                )
                .await?;
        }
        if !leavers.is_empty() {
            ctx.tokens.clear();
        }
    }
    Ok(report)
}

fn entry(
    ctx: &Context,
    r: &PersonRecord,
    idx: String,
    old: Option<&NewPerson>,
    departments: &HashMap<String, Uuid>,
) -> NewPerson {
    let id_number_enc = match old {
        Some(o) if o.id_number_enc.is_some() => o.id_number_enc.clone(),
        _ => Some(ctx.keys.encrypt(&r.id_number)),
    };
    let (phone_enc, phone_idx) = seal(
        ctx,
        "phone",
        r.phone.as_deref(),
        old.map(|o| (&o.phone_enc, &o.phone_idx)),
    );
    NewPerson {
        region_code: county_of(r.home.as_str()),
        id: old.map_or_else(Uuid::now_v7, |o| o.id),
        name: r.name.clone(),
        employment: r.kind.employment().as_str().into(),
        home_code: r.home.as_str().into(),
        id_number_enc,
        id_number_idx: Some(idx),
        phone_enc,
        phone_idx,
        kind: r.kind.as_str().into(),
        grid_code: r.grid.clone(),
        department_id: r
            .department
            .as_ref()
            .and_then(|d| departments.get(d).copied()),
        hired_on: r.hired.map(|d| d.format("%Y-%m-%d").to_string()),
        active: r.active,
    }
}

pub(super) async fn export_rows(
    ctx: &Context,
    area: &Visibility,
    shown: Shown,
) -> AppResult<Vec<Vec<String>>> {
    let codes: HashMap<Uuid, String> = ctx
        .store
        .department_register()
        .await?
        .into_iter()
        .map(|d| (d.id, d.code))
        .collect();
    let all = ctx.store.people_register().await?;
    all.iter()
        .filter(|p| area.sees(&p.home_code))
        .map(|p| {
            Ok(vec![
                shown.id_number(ctx, &p.id_number_enc)?,
                p.name.clone(),
                label::<PersonKind>(&p.kind),
                p.home_code.clone(),
                p.grid_code.clone().unwrap_or_default(),
                p.department_id
                    .and_then(|d| codes.get(&d).cloned())
                    .unwrap_or_default(),
                shown.phone(ctx, &p.phone_enc)?,
                p.hired_on.clone().unwrap_or_default(),
                if p.active { "在职" } else { "离职" }.into(),
            ])
        })
        .collect()
}

/// A person as the pickers and the register's page show them: identifiers masked.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PersonItem {
    pub id: Uuid,
    pub name: String,
    pub kind_name: String,
    pub home: PlaceName,
    pub grid: Option<PlaceName>,
    /// `640202********1234`.
    pub id_number: Option<String>,
    pub hired_on: Option<String>,
    pub active: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PeopleList {
    /// How many match, of which at most `limit` are listed.
    pub total: usize,
    pub people: Vec<PersonItem>,
}

/// The people in the caller's sight whose name contains `q`. (Finding someone by an ID-card or
/// phone number is the audited search of `people::search`.)
pub async fn search(
    ctx: &Context,
    who: &Principal,
    q: Option<&str>,
    limit: usize,
) -> AppResult<PeopleList> {
    who.require(Permission::ReadRegistry)?;
    let vis = who.visibility()?;
    let q = query_text(q);
    let atlas = ctx.atlas.get();
    let all = ctx.store.people_register().await?;
    let matching: Vec<&NewPerson> = all
        .iter()
        .filter(|p| vis.sees(&p.home_code))
        .filter(|p| q.is_none_or(|q| p.name.contains(q)))
        .collect();
    let people = matching
        .iter()
        .take(limit)
        .map(|p| {
            Ok(PersonItem {
                id: p.id,
                name: p.name.clone(),
                kind_name: label::<PersonKind>(&p.kind),
                home: place(&atlas, &p.home_code),
                grid: p.grid_code.as_deref().map(|g| place(&atlas, g)),
                id_number: crate::people::decrypt(ctx, &p.id_number_enc)?
                    .map(|v| pii::mask_id_number(&v)),
                hired_on: p.hired_on.clone(),
                active: p.active,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok(PeopleList {
        total: matching.len(),
        people,
    })
}

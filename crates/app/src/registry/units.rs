//! The unit register as use cases: the import (each unit's grid found from its point by the same
//! atlas that places events), the export, and the search by name.

use super::{
    ImportReport, PlaceName, Shown, county_of, label, place, query_text, row_problem, seal,
    unit_place,
};
use crate::context::Context;
use crate::error::AppResult;
use crate::principal::Principal;
use serde::Serialize;
use std::collections::HashMap;
use uuid::Uuid;
use wangge_domain::access::{Permission, Visibility};
use wangge_domain::atlas::Atlas;
use wangge_domain::org::{Domain, UnitKind};
use wangge_domain::registers::units::{self as sheet, KnownGrids, UnitRecord};
use wangge_domain::registers::{Problem, RegisterKind, Sheet};
use wangge_store::NewUnit;

struct Known<'a> {
    atlas: &'a Atlas,
    area: &'a Visibility,
}

impl KnownGrids for Known<'_> {
    fn grid_at(&self, lon: f64, lat: f64) -> Option<String> {
        self.atlas
            .grid_code_at(lon, lat)
            .map(|g| g.as_str().to_string())
    }
    fn grid_exists(&self, code: &str) -> bool {
        self.atlas.grid_name(code).is_some()
    }
    fn in_scope(&self, code: &str) -> bool {
        self.area.sees(code)
    }
}

pub(super) async fn import(
    ctx: &Context,
    area: &Visibility,
    sheet: &Sheet,
    dry_run: bool,
) -> AppResult<ImportReport> {
    let stored: HashMap<String, NewUnit> = ctx
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
        },
    )
    .map_err(super::refused)?;
    let foreign: Vec<Problem> = records
        .iter()
        .filter(|r| {
            stored
                .get(&r.code)
                .is_some_and(|u| !area.sees(unit_place(u)))
        })
        .map(|r| {
            row_problem(
                &sheet.name,
                r.row,
                sheet::CODE,
                format!("编码 {} 已被辖区外单位使用，请换一个编码", r.code),
            )
        })
        .collect();
    if !foreign.is_empty() {
        return Err(super::refused(foreign));
    }
    let mut report = ImportReport::new(RegisterKind::Units, dry_run, records.len());
    let (created, updated) = super::sort_out(
        &mut report,
        records.iter().map(|r| {
            let old = stored.get(&r.code);
            (old, entry(ctx, r, old))
        }),
    );
    if !dry_run && (!created.is_empty() || !updated.is_empty()) {
        ctx.store.write_units(&created, &updated, ctx.now()).await?;
    }
    Ok(report)
}

fn entry(ctx: &Context, r: &UnitRecord, old: Option<&NewUnit>) -> NewUnit {
    let (contact_phone_enc, contact_phone_idx) = seal(
        ctx,
        "phone",
        r.phone.as_deref(),
        old.map(|o| (&o.contact_phone_enc, &o.contact_phone_idx)),
    );
    NewUnit {
        region_code: county_of(&r.grid),
        id: old.map_or_else(Uuid::now_v7, |o| o.id),
        code: r.code.clone(),
        kind: r.kind.as_str().into(),
        domain: r.domain.as_str().into(),
        name: r.name.clone(),
        township_code: Some(format!("{}000", &r.grid[..9])),
        grid_code: Some(r.grid.clone()),
        lon: r.point.map(|p| p.0),
        lat: r.point.map(|p| p.1),
        address: r.address.clone(),
        contact_name: r.contact.clone(),
        contact_phone_enc,
        contact_phone_idx,
        active: r.active,
    }
}

pub(super) async fn export_rows(
    ctx: &Context,
    area: &Visibility,
    shown: Shown,
) -> AppResult<Vec<Vec<String>>> {
    let all = ctx.store.unit_register().await?;
    all.iter()
        .filter(|u| area.sees(unit_place(u)))
        .map(|u| {
            let number = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
            Ok(vec![
                u.code.clone(),
                u.name.clone(),
                label::<UnitKind>(&u.kind),
                label::<Domain>(&u.domain),
                u.address.clone().unwrap_or_default(),
                number(u.lon),
                number(u.lat),
                u.grid_code.clone().unwrap_or_default(),
                u.contact_name.clone().unwrap_or_default(),
                shown.phone(ctx, &u.contact_phone_enc)?,
                if u.active { "启用" } else { "停用" }.into(),
            ])
        })
        .collect()
}

/// A unit as the pickers and the register's page show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UnitItem {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub kind_name: String,
    pub domain_name: String,
    /// Its grid (or township) by name.
    pub place: PlaceName,
    pub address: Option<String>,
    pub active: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Units {
    /// How many match, of which at most `limit` are listed.
    pub total: usize,
    pub units: Vec<UnitItem>,
}

/// The units in the caller's sight whose name, code or address contains `q`.
pub async fn search(
    ctx: &Context,
    who: &Principal,
    q: Option<&str>,
    limit: usize,
) -> AppResult<Units> {
    who.require(Permission::ReadRegistry)?;
    let vis = who.visibility()?;
    let q = query_text(q);
    let atlas = ctx.atlas.get();
    let all = ctx.store.unit_register().await?;
    let matching: Vec<&NewUnit> = all
        .iter()
        .filter(|u| vis.sees(unit_place(u)))
        .filter(|u| {
            q.is_none_or(|q| {
                u.name.contains(q)
                    || u.code.contains(q)
                    || u.address.as_deref().is_some_and(|a| a.contains(q))
            })
        })
        .collect();
    Ok(Units {
        total: matching.len(),
        units: matching
            .iter()
            .take(limit)
            .map(|u| UnitItem {
                id: u.id,
                code: u.code.clone(),
                name: u.name.clone(),
                kind_name: label::<UnitKind>(&u.kind),
                domain_name: label::<Domain>(&u.domain),
                place: place(&atlas, unit_place(u)),
                address: u.address.clone(),
                active: u.active,
            })
            .collect(),
    })
}

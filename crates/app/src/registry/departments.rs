//! The department register as use cases: the import's plan (which codes are new, changed or the
//! same), its checks against the city as stored, the export, the search for pickers, and finding
//! a department by the code a person or a file gives (or, as the API's moves do, by its id).

use super::{ImportReport, PlaceName};
use crate::context::Context;
use crate::error::{AppError, AppResult};
use crate::principal::Principal;
use serde::Serialize;
use std::collections::HashMap;
use uuid::Uuid;
use wangge_domain::access::{Permission, Visibility};
use wangge_domain::atlas::Atlas;
use wangge_domain::org::{DepartmentKind, Vocabulary};
use wangge_domain::region::{Level, RegionCode};
use wangge_domain::registers::departments::{self as sheet, DepartmentRecord, KnownDepartments};
use wangge_domain::registers::{Problem, RegisterKind, Sheet};
use wangge_store::{DepartmentEntry, Store};

struct Known<'a> {
    atlas: &'a Atlas,
    area: &'a Visibility,
    stored: &'a HashMap<String, DepartmentEntry>,
}

impl KnownDepartments for Known<'_> {
    fn region_level(&self, code: &RegionCode) -> Option<Level> {
        self.atlas.region_level(code)
    }
    fn in_scope(&self, code: &RegionCode) -> bool {
        self.area.sees(code.as_str())
    }
    fn department_exists(&self, code: &str) -> bool {
        self.stored.contains_key(code)
    }
}

pub(super) async fn import(
    ctx: &Context,
    area: &Visibility,
    sheet: &Sheet,
    dry_run: bool,
) -> AppResult<ImportReport> {
    let stored: HashMap<String, DepartmentEntry> = ctx
        .store
        .department_register()
        .await?
        .into_iter()
        .map(|d| (d.code.clone(), d))
        .collect();
    let atlas = ctx.atlas.get();
    let known = Known {
        atlas: &atlas,
        area,
        stored: &stored,
    };
    let records = sheet::read(sheet, &known).map_err(super::refused)?;
    // A code is the key: a row may not take over a department another area keeps.
    let foreign: Vec<Problem> = records
        .iter()
        .filter_map(|r| {
            let d = stored.get(&r.code)?;
            (!area.sees(&d.region_code)).then(|| Problem {
                sheet: sheet.name.clone(),
                row: r.row,
                column: None,
                header: Some(sheet::CODE.into()),
                // Not its name: the department is outside the importer's area.
                reason: format!("编码 {} 已被辖区外部门使用，请换一个编码", r.code),
            })
        })
        .collect();
    if !foreign.is_empty() {
        return Err(super::refused(foreign));
    }
    let entries = plan(&records, &stored);
    let mut report = ImportReport::new(RegisterKind::Departments, dry_run, records.len());
    let mut changed = Vec::new();
    for e in entries {
        match stored.get(&e.code) {
            None => report.created += 1,
            Some(old) if *old == e => {
                report.unchanged += 1;
                continue;
            }
            Some(_) => report.updated += 1,
        }
        changed.push(e);
    }
    if !dry_run && !changed.is_empty() {
        ctx.store.write_departments(&changed, ctx.now()).await?;
    }
    Ok(report)
}

/// The records as stored entries, parents before children: a stored department keeps its id,
/// a new one gets one.
fn plan(
    records: &[DepartmentRecord],
    stored: &HashMap<String, DepartmentEntry>,
) -> Vec<DepartmentEntry> {
    let mut ids: HashMap<&str, Uuid> = stored.iter().map(|(c, d)| (c.as_str(), d.id)).collect();
    for r in records {
        ids.entry(&r.code).or_insert_with(Uuid::now_v7);
    }
    let in_file: HashMap<&str, &DepartmentRecord> =
        records.iter().map(|r| (r.code.as_str(), r)).collect();
    let mut done: std::collections::HashSet<&str> = Default::default();
    let mut out = Vec::with_capacity(records.len());
    // Checked acyclic already, so each pass places at least one record.
    while out.len() < records.len() {
        for r in records {
            if done.contains(r.code.as_str()) {
                continue;
            }
            let waiting = r
                .parent
                .as_deref()
                .is_some_and(|p| in_file.contains_key(p) && !done.contains(p));
            if waiting {
                continue;
            }
            let mut areas: Vec<String> = r.areas.iter().map(|a| a.as_str().to_string()).collect();
            areas.sort();
            out.push(DepartmentEntry {
                id: ids[r.code.as_str()],
                code: r.code.clone(),
                name: r.name.clone(),
                kind: r.kind.as_str().into(),
                region_code: r.region.as_str().into(),
                parent_id: r.parent.as_deref().map(|p| ids[p]),
                areas,
                active: r.active,
            });
            done.insert(&r.code);
        }
    }
    out
}

/// Whether a keeper or reader of `area` deals with the department: it belongs there, or serves
/// (part of) it.
fn concerns(area: &Visibility, d: &DepartmentEntry) -> bool {
    area.sees(&d.region_code) || d.areas.iter().any(|a| area.sees(a)) || d.serves(area.prefix())
}

pub(super) async fn export_rows(ctx: &Context, area: &Visibility) -> AppResult<Vec<Vec<String>>> {
    let all = ctx.store.department_register().await?;
    let codes: HashMap<Uuid, &str> = all.iter().map(|d| (d.id, d.code.as_str())).collect();
    Ok(all
        .iter()
        .filter(|d| area.sees(&d.region_code))
        .map(|d| {
            let kind = d
                .kind
                .parse::<DepartmentKind>()
                .map(|k| k.label().to_string())
                .unwrap_or_else(|_| d.kind.clone());
            let areas = if d.areas == [d.region_code.clone()] {
                String::new()
            } else {
                d.areas.join("、")
            };
            vec![
                d.code.clone(),
                d.name.clone(),
                kind,
                d.region_code.clone(),
                d.parent_id
                    .and_then(|p| codes.get(&p))
                    .map(|c| c.to_string())
                    .unwrap_or_default(),
                areas,
                if d.active { "启用" } else { "停用" }.into(),
            ]
        })
        .collect())
}

/// A department as a picker and the register's page show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DepartmentItem {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub kind: DepartmentKind,
    pub kind_name: String,
    pub region: PlaceName,
    pub parent: Option<String>,
    /// The places it serves.
    pub areas: Vec<PlaceName>,
    pub active: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Departments {
    /// How many match, of which at most `limit` are listed.
    pub total: usize,
    pub departments: Vec<DepartmentItem>,
}

/// The departments the caller deals with whose name or code contains `q`, by code: what every
/// department picker searches.
pub async fn search(
    ctx: &Context,
    who: &Principal,
    q: Option<&str>,
    limit: usize,
) -> AppResult<Departments> {
    // Department names are no secret: the administrators who write routing rules and scopes
    // pick from all of them; business roles from those they deal with.
    let admin = [
        Permission::Configure,
        Permission::ManageAccounts,
        Permission::ManageSecurity,
    ];
    let area = if admin.iter().any(|p| who.require(*p).is_ok()) {
        Visibility::system()
    } else {
        who.require(Permission::ReadRegistry)?;
        who.visibility()?
    };
    let q = q.map(str::trim).filter(|q| !q.is_empty());
    let all = ctx.store.department_register().await?;
    let names: HashMap<Uuid, &str> = all.iter().map(|d| (d.id, d.name.as_str())).collect();
    let atlas = ctx.atlas.get();
    let place = |code: &str| super::place(&atlas, code);
    let matching: Vec<&DepartmentEntry> = all
        .iter()
        .filter(|d| concerns(&area, d))
        .filter(|d| q.is_none_or(|q| d.name.contains(q) || d.code.contains(q)))
        .collect();
    let departments = matching
        .iter()
        .take(limit)
        .map(|d| {
            let kind: DepartmentKind = d.kind.parse().map_err(|e: String| {
                AppError::internal("store.corrupt", format!("department {}: {e}", d.code))
            })?;
            Ok(DepartmentItem {
                id: d.id,
                code: d.code.clone(),
                name: d.name.clone(),
                kind,
                kind_name: kind.label_zh().into(),
                region: place(&d.region_code),
                parent: d
                    .parent_id
                    .and_then(|p| names.get(&p))
                    .map(|n| n.to_string()),
                areas: d.areas.iter().map(|a| place(a)).collect(),
                active: d.active,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok(Departments {
        total: matching.len(),
        departments,
    })
}

/// The department a person, a file or a setting names: by its code, or by its id.
pub async fn find(ctx: &Context, named: &str) -> AppResult<Option<DepartmentEntry>> {
    find_in(&ctx.store, named).await
}

/// [`find`], for callers that hold only the store (the CLI's account checks).
pub async fn find_in(store: &Store, named: &str) -> AppResult<Option<DepartmentEntry>> {
    let named = named.trim();
    let id = match named.parse::<Uuid>() {
        Ok(id) => Some(id),
        Err(_) => store.department_id_by_code(named).await?,
    };
    Ok(match id {
        Some(id) => store.department_entry(id).await?,
        None => None,
    })
}

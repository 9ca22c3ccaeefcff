//! The registers as use cases (台账): a template to fill, an import that checks the whole file
//! and changes nothing unless all of it is good (or only reports, as a dry run), an export that
//! imports again, and a search by name for the pickers. The same functions serve the API, the
//! pages and `wangge registry`. Registers are business data: the command centre keeps them for
//! its area, township and community staff for their own place; every import is audited.

pub mod centres;
pub mod departments;
pub mod party;
pub mod people;
pub mod teams;
pub mod units;

use crate::context::Context;
use crate::error::{AppError, AppResult};
use crate::principal::Principal;
use serde::Serialize;
use serde_json::json;
use wangge_domain::access::{Permission, Visibility};
use wangge_domain::atlas::Atlas;
use wangge_domain::region::RegionCode;
use wangge_domain::registers::{Problem, RegisterKind};
use wangge_security::pii;

/// A file to download.
#[derive(Debug)]
pub struct Download {
    pub filename: String,
    pub bytes: Vec<u8>,
}

pub const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// What an import did, or would do as a dry run.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub register: RegisterKind,
    pub dry_run: bool,
    /// Data rows read (blank rows skipped).
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Accounts of people the file marks 离职, deactivated (or, in a dry run, to be).
    pub accounts_deactivated: usize,
}

impl ImportReport {
    fn new(register: RegisterKind, dry_run: bool, rows: usize) -> ImportReport {
        ImportReport {
            register,
            dry_run,
            rows,
            created: 0,
            updated: 0,
            unchanged: 0,
            accounts_deactivated: 0,
        }
    }
}

/// A register whose sheet is defined, from its wire id (`departments`, `party-orgs`, …).
pub fn kind(s: &str) -> AppResult<RegisterKind> {
    let kind: RegisterKind = s
        .parse()
        .map_err(|e: String| AppError::not_found("registry.unknown_kind", e))?;
    if kind.columns().is_none() {
        return Err(kind_missing(kind));
    }
    Ok(kind)
}

/// Who keeps registers, and where: a place-scoped account with the permission (its area), or the
/// operator (everywhere).
fn keeper(who: &Principal) -> AppResult<Visibility> {
    who.require(Permission::KeepRegisters)?;
    who.area()
}

/// The empty template of a register: the sheet to fill, the guide, the drop-downs.
pub fn template(who: &Principal, kind: RegisterKind) -> AppResult<Download> {
    keeper(who)?;
    let columns = kind.columns().unwrap_or_default();
    Ok(Download {
        filename: format!("{}-template.xlsx", kind.as_str()),
        bytes: crate::workbook::register(kind.label_zh(), columns, &[])?,
    })
}

/// Imports a file (`.xlsx` or `.csv`) into a register, all or nothing.
pub async fn import(
    ctx: &Context,
    who: &Principal,
    kind: RegisterKind,
    bytes: &[u8],
    dry_run: bool,
) -> AppResult<ImportReport> {
    let area = keeper(who)?;
    let sheet = crate::workbook::read(bytes, kind.label_zh()).map_err(|p| refused(vec![p]))?;
    let report = match kind {
        RegisterKind::Departments => departments::import(ctx, &area, &sheet, dry_run).await?,
        RegisterKind::Units => units::import(ctx, &area, &sheet, dry_run).await?,
        RegisterKind::People => people::import(ctx, who, &area, &sheet, dry_run).await?,
        RegisterKind::Teams => teams::import(ctx, &area, &sheet, dry_run).await?,
        RegisterKind::PartyOrgs => party::import(ctx, &area, &sheet, dry_run).await?,
        RegisterKind::Centres => centres::import(ctx, &area, &sheet, dry_run).await?,
    };
    if !dry_run {
        ctx.store
            .append_audit(
                &who.audit(
                    "registry.import",
                    Some("register"),
                    Some(kind.as_str().into()),
                    json!({"rows": report.rows, "created": report.created,
                           "updated": report.updated, "unchanged": report.unchanged}),
                ),
                ctx.now(),
            )
            .await?;
    }
    Ok(report)
}

/// The register within the keeper's area as a workbook that imports again.
pub async fn export(ctx: &Context, who: &Principal, kind: RegisterKind) -> AppResult<Download> {
    let area = keeper(who)?;
    let columns = kind.columns().unwrap_or_default();
    // Identifiers go out in clear (so the file imports again) only to those who may see them.
    let shown = Shown {
        clear: who.require(Permission::UnmaskPersonalData).is_ok(),
    };
    let rows = match kind {
        RegisterKind::Departments => departments::export_rows(ctx, &area).await?,
        RegisterKind::Units => units::export_rows(ctx, &area, shown).await?,
        RegisterKind::People => people::export_rows(ctx, &area, shown).await?,
        RegisterKind::Teams => teams::export_rows(ctx, &area, shown).await?,
        RegisterKind::PartyOrgs => party::export_rows(ctx, &area).await?,
        RegisterKind::Centres => centres::export_rows(ctx, &area, shown).await?,
    };
    ctx.store
        .append_audit(
            &who.audit(
                "registry.export",
                Some("register"),
                Some(kind.as_str().into()),
                json!({"rows": rows.len(),
                       "identifiers": if shown.clear { "clear" } else { "masked" }}),
            ),
            ctx.now(),
        )
        .await?;
    Ok(Download {
        filename: format!("{}.xlsx", kind.as_str()),
        bytes: crate::workbook::register(kind.label_zh(), columns, &rows)?,
    })
}

fn kind_missing(kind: RegisterKind) -> AppError {
    AppError::not_found(
        "registry.unknown_kind",
        format!("台账「{}」暂不支持导入导出", kind.label_zh()),
    )
}

/// The error of a refused file: how many problems, and every one in the details.
pub fn refused(problems: Vec<Problem>) -> AppError {
    AppError::invalid(
        "registry.invalid",
        format!("文件有 {} 处问题，未导入任何数据", problems.len()),
    )
    .with_details(json!({
        "problems": problems.iter().map(|p| json!({
            "sheet": p.sheet, "row": p.row, "column": p.column, "header": p.header,
            "reason": p.reason, "message": p.to_string(),
        })).collect::<Vec<_>>()
    }))
}

/// A place as people read it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlaceName {
    pub code: String,
    pub name: String,
}

/// A region or grid code with its name (the code itself if the atlas does not know it).
pub fn place(atlas: &Atlas, code: &str) -> PlaceName {
    let name = match RegionCode::parse(code) {
        Ok(r) => atlas.region_name(&r).map(str::to_string),
        Err(_) => atlas.grid_name(code).map(str::to_string),
    };
    PlaceName {
        code: code.into(),
        name: name.unwrap_or_else(|| code.into()),
    }
}

/// The county (区县) a region or grid code lies in: the first six digits.
fn county_of(code: &str) -> String {
    format!("{}000000", &code[..code.len().min(6)])
}

/// How an export writes ID and phone numbers: in clear for those who may see them, else masked.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shown {
    clear: bool,
}

impl Shown {
    fn id_number(self, ctx: &Context, enc: &Option<String>) -> AppResult<String> {
        let v = crate::people::decrypt(ctx, enc)?.unwrap_or_default();
        Ok(if self.clear || v.is_empty() {
            v
        } else {
            pii::mask_id_number(&v)
        })
    }

    fn phone(self, ctx: &Context, enc: &Option<String>) -> AppResult<String> {
        let v = crate::people::decrypt(ctx, enc)?.unwrap_or_default();
        Ok(if self.clear || v.is_empty() {
            v
        } else {
            pii::mask_phone(&v)
        })
    }
}

/// An identifier sealed for storage: its ciphertext and blind index. A stored one with the same
/// index keeps its ciphertext, so that an unchanged row compares equal.
fn seal(
    ctx: &Context,
    kind: &str,
    value: Option<&str>,
    stored: Option<(&Option<String>, &Option<String>)>,
) -> (Option<String>, Option<String>) {
    let Some(v) = value else { return (None, None) };
    let idx = ctx.keys.blind_index(kind, v);
    if let Some((enc, Some(old))) = stored
        && *old == idx
    {
        return (enc.clone(), Some(idx));
    }
    (Some(ctx.keys.encrypt(v)), Some(idx))
}

/// A problem about a whole row, under one column.
fn row_problem(sheet: &str, row: u32, header: &str, reason: String) -> Problem {
    Problem {
        sheet: sheet.into(),
        row,
        column: None,
        header: Some(header.into()),
        reason,
    }
}

/// The searches' `limit` and `q`, checked once.
fn query_text(q: Option<&str>) -> Option<&str> {
    q.map(str::trim).filter(|q| !q.is_empty())
}

/// A vocabulary's label for a stored wire id (the id itself if it is not one).
fn label<V: wangge_domain::org::Vocabulary + std::str::FromStr>(id: &str) -> String {
    id.parse::<V>()
        .map(|v| v.label().to_string())
        .unwrap_or_else(|_| id.to_string())
}

/// Where a stored unit is: its grid, else its township or county.
fn unit_place(u: &wangge_store::NewUnit) -> &str {
    u.grid_code
        .as_deref()
        .or(u.township_code.as_deref())
        .unwrap_or(&u.region_code)
}

/// Sorts an import's records, each beside what is stored under its key, into those to create
/// and those to update, counting them and the unchanged in the report.
fn sort_out<'a, T: PartialEq + 'a>(
    report: &mut ImportReport,
    records: impl IntoIterator<Item = (Option<&'a T>, T)>,
) -> (Vec<T>, Vec<T>) {
    let (mut created, mut updated) = (Vec::new(), Vec::new());
    for (old, new) in records {
        match old {
            None => {
                report.created += 1;
                created.push(new);
            }
            Some(o) if *o == new => report.unchanged += 1,
            Some(_) => {
                report.updated += 1;
                updated.push(new);
            }
        }
    }
    (created, updated)
}

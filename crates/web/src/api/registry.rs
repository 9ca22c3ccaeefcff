//! The registers over HTTP: search (the pickers), template, import (a workbook or CSV as the
//! request body, up to 20 MB, checked whole), export.

use crate::error::ApiResult;
use crate::extract::{Caller, Path, Query, bytes_of};
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use wangge_app::registry::centres::{self, Centres};
use wangge_app::registry::departments::{self, Departments};
use wangge_app::registry::party::{self, PartyOrgs};
use wangge_app::registry::people::{self, PeopleList};
use wangge_app::registry::teams::{self, Teams};
use wangge_app::registry::units::{self, Units};
use wangge_app::registry::{self, Download, ImportReport};
use wangge_app::{AppError, Context, ErrorKind};
use wangge_domain::registers::RegisterKind;

/// An import's body may be this large; the CLI has no limit.
pub const IMPORT_LIMIT: usize = 20 * 1024 * 1024;

pub fn router() -> Router<Context> {
    Router::new()
        .route("/api/v1/registry/{kind}", get(list))
        .route("/api/v1/registry/{kind}/template.xlsx", get(template))
        .route("/api/v1/registry/{kind}/export.xlsx", get(export))
}

/// The import reads its own body up to [`IMPORT_LIMIT`].
pub fn uploads() -> Router<Context> {
    Router::new().route("/api/v1/registry/{kind}/import", post(import))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// Part of a name or a code.
    q: Option<String>,
    /// At most this many (default 50, at most 500).
    limit: Option<usize>,
}

/// A register's search result: `departments`, `units`, `people` (identifiers masked),
/// `members` (teams), `party_orgs` or `links` (centres), each with the `total` found.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
enum Found {
    Departments(Departments),
    Units(Units),
    People(PeopleList),
    Teams(Teams),
    PartyOrgs(PartyOrgs),
    Centres(Centres),
}

const KINDS: &str = "`departments`, `units`, `people`, `teams`, `party-orgs` or `centres`";

#[utoipa::path(get, path = "/api/v1/registry/{kind}", tag = "registry",
    summary = "Search a register by name or code (what the pickers ask)",
    params(("kind" = String, Path, description = KINDS), ListQuery),
    responses((status = 200, body = Found)))]
async fn list(
    State(ctx): State<Context>,
    who: Caller,
    Path(kind): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Found>> {
    let limit = match q.limit {
        None => 50,
        Some(n @ 1..=500) => n,
        Some(_) => {
            return Err(
                AppError::invalid("registry.bad_limit", "limit 应在 1 至 500 之间")
                    .at("limit")
                    .into(),
            );
        }
    };
    let text = q.q.as_deref();
    match registry::kind(&kind)? {
        RegisterKind::Departments => Ok(Json(Found::Departments(
            departments::search(&ctx, &who, text, limit).await?,
        ))),
        RegisterKind::Units => Ok(Json(Found::Units(
            units::search(&ctx, &who, text, limit).await?,
        ))),
        RegisterKind::People => Ok(Json(Found::People(
            people::search(&ctx, &who, text, limit).await?,
        ))),
        RegisterKind::Teams => Ok(Json(Found::Teams(
            teams::search(&ctx, &who, text, limit).await?,
        ))),
        RegisterKind::PartyOrgs => Ok(Json(Found::PartyOrgs(
            party::search(&ctx, &who, text, limit).await?,
        ))),
        RegisterKind::Centres => Ok(Json(Found::Centres(
            centres::search(&ctx, &who, text, limit).await?,
        ))),
    }
}

pub(crate) fn xlsx(d: Download) -> Response {
    let mut res = d.bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(registry::XLSX_TYPE),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", d.filename)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

#[utoipa::path(get, path = "/api/v1/registry/{kind}/template.xlsx", tag = "registry",
    summary = "The register's empty template: the sheet, a guide to each column, drop-downs",
    params(("kind" = String, Path, description = KINDS)),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>)))]
async fn template(who: Caller, Path(kind): Path<String>) -> ApiResult<Response> {
    Ok(xlsx(registry::template(&who, registry::kind(&kind)?)?))
}

#[utoipa::path(get, path = "/api/v1/registry/{kind}/export.xlsx", tag = "registry",
    summary = "The register within the caller's area, as a workbook that imports again (audited)",
    params(("kind" = String, Path, description = KINDS)),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>)))]
async fn export(
    State(ctx): State<Context>,
    who: Caller,
    Path(kind): Path<String>,
) -> ApiResult<Response> {
    Ok(xlsx(
        registry::export(&ctx, &who, registry::kind(&kind)?).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct ImportQuery {
    /// Check and report only; change nothing.
    dry_run: Option<bool>,
}

#[utoipa::path(post, path = "/api/v1/registry/{kind}/import", tag = "registry",
    summary = "Import a workbook (.xlsx) or CSV (UTF-8 or GB18030) into a register, all or nothing",
    description = "The whole file is checked first; any problem refuses it (400 `registry.invalid`, every problem with its sheet, row and column in `details.problems`) and nothing changes. Rows are matched by code: new codes are created, changed rows updated, identical rows left, records absent from the file untouched. Over 20 MB: 413.",
    params(("kind" = String, Path, description = KINDS), ImportQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = ImportReport)))]
async fn import(
    State(ctx): State<Context>,
    who: Caller,
    Path(kind): Path<String>,
    Query(q): Query<ImportQuery>,
    body: axum::body::Body,
) -> ApiResult<Json<ImportReport>> {
    let kind = registry::kind(&kind)?;
    let bytes = bytes_of(body, IMPORT_LIMIT, "20 MB").await.map_err(|_| {
        AppError::new(
            ErrorKind::TooLarge,
            "registry.too_large",
            "导入文件不能超过 20 MB；更大的文件请在服务器上用 wangge registry import 导入",
        )
    })?;
    Ok(Json(
        registry::import(&ctx, &who, kind, &bytes, q.dry_run.unwrap_or(false)).await?,
    ))
}

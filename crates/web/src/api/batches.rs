//! Accounts in bulk over HTTP: the sheet's template, the import (the system administrator's
//! proposals, answered once with the initial passwords' workbook), the batches awaiting approval
//! and their approval by the security administrator in one action; and anyone's own password
//! change, which an initial password requires before anything else.

use crate::api::registry::{IMPORT_LIMIT, xlsx};
use crate::error::ApiResult;
use crate::extract::{Body, Caller, Path, Pending, Query, bytes_of};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use wangge_app::accounts::bulk::{self, AccountImportReport, BatchApproved, PendingBatch};
use wangge_app::auth::{self, PasswordChange};
use wangge_app::{AppError, Context, ErrorKind};

pub fn router() -> Router<Context> {
    Router::new()
        .route("/api/v1/auth/password", post(change_password))
        .route("/api/v1/accounts/template.xlsx", get(template))
        .route("/api/v1/accounts/batches", get(batches))
        .route("/api/v1/accounts/batches/{batch}/approve", post(approve))
}

/// The import reads its own body up to the registers' limit.
pub fn uploads() -> Router<Context> {
    Router::new().route("/api/v1/accounts/import", post(import))
}

#[utoipa::path(post, path = "/api/v1/auth/password", tag = "session",
    summary = "Change one's own password (required first after an initial password)",
    description = "Session only. The current password is checked again; the new one must meet the policy and differ from it. The account's other sessions end.",
    request_body = PasswordChange,
    responses((status = 204, description = "Changed")))]
async fn change_password(
    State(ctx): State<Context>,
    Pending(s): Pending,
    Body(b): Body<PasswordChange>,
) -> ApiResult<StatusCode> {
    auth::change_password(&ctx, &s, b).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/accounts/template.xlsx", tag = "administration",
    summary = "The sheet for opening accounts in bulk (system administrator)",
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>)))]
async fn template(who: Caller) -> ApiResult<Response> {
    Ok(xlsx(bulk::template(&who)?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct ImportQuery {
    /// Check and report only; create nothing.
    dry_run: Option<bool>,
}

#[utoipa::path(post, path = "/api/v1/accounts/import", tag = "administration",
    summary = "Propose accounts in bulk from a sheet of people (system administrator)",
    description = "Checked whole (400 `registry.invalid` with every problem); a dry run answers the report. Otherwise the accounts are created awaiting the security administrator's approval, as one batch (header `X-Wangge-Batch`), and the answer is the workbook of one-time initial passwords: it is never stored and cannot be fetched again. Each account must change its password at its first login.",
    params(ImportQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = AccountImportReport),
              (status = 201, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>)))]
async fn import(
    State(ctx): State<Context>,
    who: Caller,
    Query(q): Query<ImportQuery>,
    body: axum::body::Body,
) -> ApiResult<Response> {
    let bytes = bytes_of(body, IMPORT_LIMIT, "20 MB").await.map_err(|_| {
        AppError::new(
            ErrorKind::TooLarge,
            "registry.too_large",
            "导入文件不能超过 20 MB",
        )
    })?;
    let done = bulk::import(&ctx, &who, &bytes, q.dry_run.unwrap_or(false)).await?;
    Ok(match (done.passwords, done.report.batch.clone()) {
        (Some(book), Some(batch)) => {
            let mut res = xlsx(book);
            *res.status_mut() = StatusCode::CREATED;
            if let Ok(v) = HeaderValue::from_str(&batch) {
                res.headers_mut().insert("x-wangge-batch", v);
            }
            res
        }
        _ => Json(done.report).into_response(),
    })
}

#[utoipa::path(get, path = "/api/v1/accounts/batches", tag = "administration",
    summary = "Batches of accounts awaiting approval",
    responses((status = 200, body = Vec<PendingBatch>)))]
async fn batches(State(ctx): State<Context>, who: Caller) -> ApiResult<Json<Vec<PendingBatch>>> {
    Ok(Json(bulk::pending_batches(&ctx, &who).await?))
}

#[utoipa::path(post, path = "/api/v1/accounts/batches/{batch}/approve", tag = "administration",
    summary = "Approve every account of a batch in one action (security administrator)",
    params(("batch" = String, Path, description = "The batch, as the import answered it")),
    responses((status = 200, body = BatchApproved)))]
async fn approve(
    State(ctx): State<Context>,
    who: Caller,
    Path(batch): Path<String>,
) -> ApiResult<Json<BatchApproved>> {
    Ok(Json(bulk::approve_batch(&ctx, &who, &batch).await?))
}

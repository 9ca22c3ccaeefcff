//! The three separated administrator duties (三员分立) over HTTP: accounts (the system
//! administrator proposes, locks, unlocks, deactivates; the security administrator approves and
//! changes roles), the security policy, the audit trail, the settings document and the working
//! calendar's yearly notices.

use crate::error::ApiResult;
use crate::extract::{Body, Caller, Path, Query, bytes_of};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;
use wangge_app::accounts::{self, AccountList, AccountView, Policy};
use wangge_app::audit::{self, AuditFilter, AuditRecords};
use wangge_app::calendar::{self, DueAnswer, DueQuery, Loaded, Years};
use wangge_app::{AppError, Context, settings};
use wangge_domain::settings::Settings;

pub fn router() -> Router<Context> {
    Router::new()
        .route("/api/v1/accounts", get(list).post(create))
        .route("/api/v1/accounts/{id}/approve", post(approve))
        .route("/api/v1/accounts/{id}/lock", post(lock))
        .route("/api/v1/accounts/{id}/unlock", post(unlock))
        .route("/api/v1/accounts/{id}/deactivate", post(deactivate))
        .route("/api/v1/accounts/{id}/role", put(change_role))
        .route("/api/v1/security/policy", get(policy))
        .route("/api/v1/audit", get(audit_search))
        .route("/api/v1/settings", get(read_settings).put(replace_settings))
        .route("/api/v1/calendar/due", get(due))
        .route("/api/v1/calendar/years", get(years).post(load_year))
}

#[utoipa::path(get, path = "/api/v1/accounts", tag = "administration",
    summary = "Every account (system and security administrators)",
    responses((status = 200, body = AccountList)))]
async fn list(State(ctx): State<Context>, who: Caller) -> ApiResult<Json<AccountList>> {
    Ok(Json(accounts::list(&ctx, &who).await?))
}

#[utoipa::path(post, path = "/api/v1/accounts", tag = "administration",
    summary = "Propose an account (system administrator): it signs in once the security administrator approves",
    request_body = accounts::NewAccountInput,
    responses((status = 201, body = AccountView)))]
async fn create(
    State(ctx): State<Context>,
    who: Caller,
    Body(b): Body<accounts::NewAccountInput>,
) -> ApiResult<(StatusCode, Json<AccountView>)> {
    Ok((
        StatusCode::CREATED,
        Json(accounts::create(&ctx, &who, b).await?),
    ))
}

#[utoipa::path(post, path = "/api/v1/accounts/{id}/approve", tag = "administration",
    summary = "Approve the role and scope proposed for an account (security administrator)",
    params(("id" = String, Path, description = "The account's id")),
    responses((status = 200, body = AccountView)))]
async fn approve(
    State(ctx): State<Context>,
    who: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<AccountView>> {
    Ok(Json(accounts::approve(&ctx, &who, &id).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LockFor {
    /// Minutes (1 to a year); until unlocked when left out.
    minutes: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/accounts/{id}/lock", tag = "administration",
    summary = "Lock an account: its sessions end and its tokens are revoked",
    params(("id" = String, Path, description = "The account's id"), LockFor),
    responses((status = 200, body = AccountView)))]
async fn lock(
    State(ctx): State<Context>,
    who: Caller,
    Path(id): Path<String>,
    Query(b): Query<LockFor>,
) -> ApiResult<Json<AccountView>> {
    who.require(wangge_domain::access::Permission::ManageAccounts)?;
    let a = accounts::target(&ctx, &id).await?;
    Ok(Json(accounts::lock(&ctx, &who, a, b.minutes).await?))
}

#[utoipa::path(post, path = "/api/v1/accounts/{id}/unlock", tag = "administration",
    summary = "Lift a lock and clear the failed-login count",
    params(("id" = String, Path, description = "The account's id")),
    responses((status = 200, body = AccountView)))]
async fn unlock(
    State(ctx): State<Context>,
    who: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<AccountView>> {
    who.require(wangge_domain::access::Permission::ManageAccounts)?;
    let a = accounts::target(&ctx, &id).await?;
    Ok(Json(accounts::unlock(&ctx, &who, a).await?))
}

#[utoipa::path(post, path = "/api/v1/accounts/{id}/deactivate", tag = "administration",
    summary = "Deactivate a leaver's account (kept with its history)",
    params(("id" = String, Path, description = "The account's id")),
    responses((status = 200, body = AccountView)))]
async fn deactivate(
    State(ctx): State<Context>,
    who: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<AccountView>> {
    who.require(wangge_domain::access::Permission::ManageAccounts)?;
    let a = accounts::target(&ctx, &id).await?;
    Ok(Json(accounts::deactivate(&ctx, &who, a).await?))
}

#[utoipa::path(put, path = "/api/v1/accounts/{id}/role", tag = "administration",
    summary = "Change an account's role and scope (security administrator)",
    params(("id" = String, Path, description = "The account's id")),
    request_body = accounts::RoleInput,
    responses((status = 200, body = AccountView)))]
async fn change_role(
    State(ctx): State<Context>,
    who: Caller,
    Path(id): Path<String>,
    Body(b): Body<accounts::RoleInput>,
) -> ApiResult<Json<AccountView>> {
    Ok(Json(accounts::change_role(&ctx, &who, &id, b).await?))
}

#[utoipa::path(get, path = "/api/v1/security/policy", tag = "administration",
    summary = "The security policy (security administrator)",
    responses((status = 200, body = Policy)))]
async fn policy(State(ctx): State<Context>, who: Caller) -> ApiResult<Json<Policy>> {
    Ok(Json(accounts::policy(&ctx, &who)?))
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "administration",
    summary = "The audit trail, newest first (audit administrator)",
    params(AuditFilter),
    responses((status = 200, body = AuditRecords)))]
async fn audit_search(
    State(ctx): State<Context>,
    who: Caller,
    Query(f): Query<AuditFilter>,
) -> ApiResult<Json<AuditRecords>> {
    Ok(Json(audit::search(&ctx, &who, &f).await?))
}

#[utoipa::path(get, path = "/api/v1/settings", tag = "administration",
    summary = "The settings document (system administrator)",
    responses((status = 200, body = Settings)))]
async fn read_settings(State(ctx): State<Context>, who: Caller) -> ApiResult<Json<Settings>> {
    Ok(Json(settings::read(&ctx, &who)?))
}

#[utoipa::path(put, path = "/api/v1/settings", tag = "administration",
    summary = "Replace the settings document whole, checked whole",
    request_body = Settings,
    responses((status = 200, body = Settings)))]
async fn replace_settings(
    State(ctx): State<Context>,
    who: Caller,
    Body(raw): Body<Value>,
) -> ApiResult<Json<Settings>> {
    Ok(Json(settings::replace(&ctx, &who, raw).await?))
}

#[utoipa::path(get, path = "/api/v1/calendar/due", tag = "calendar",
    summary = "When a time limit started at a moment falls due on the working calendar",
    params(DueQuery),
    responses((status = 200, body = DueAnswer)))]
async fn due(
    State(ctx): State<Context>,
    who: Caller,
    Query(q): Query<DueQuery>,
) -> ApiResult<Json<DueAnswer>> {
    Ok(Json(calendar::due(&ctx, &who, &q)?))
}

#[utoipa::path(get, path = "/api/v1/calendar/years", tag = "calendar",
    summary = "The years with a published holiday notice",
    responses((status = 200, body = Years)))]
async fn years(State(ctx): State<Context>, who: Caller) -> ApiResult<Json<Years>> {
    Ok(Json(calendar::years(&ctx, &who)?))
}

#[utoipa::path(post, path = "/api/v1/calendar/years", tag = "calendar",
    summary = "Load a year's holiday notice (holiday-cn JSON), checked whole (system administrator)",
    request_body(content = serde_json::Value, description = "holiday-cn JSON: {\"year\": 2027, \"days\": [{\"name\", \"date\", \"isOffDay\"}]}"),
    responses((status = 200, body = Loaded)))]
async fn load_year(
    State(ctx): State<Context>,
    who: Caller,
    body: axum::body::Body,
) -> ApiResult<Json<Loaded>> {
    let bytes = bytes_of(body, crate::extract::BODY_LIMIT, "1 MB").await?;
    let text = String::from_utf8(bytes)
        .map_err(|_| AppError::invalid("calendar.invalid", "节假日安排应为 UTF-8 编码的 JSON"))?;
    Ok(Json(calendar::load_year(&ctx, &who, &text).await?))
}

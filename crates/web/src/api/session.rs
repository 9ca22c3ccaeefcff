//! Signing in and out, the second factor (TOTP and recovery codes), and `GET /api/v1/me`. The
//! session's secret travels only in its HttpOnly cookie.

use crate::error::ApiResult;
use crate::extract::{Body, Caller, ClientIp, Pending, SESSION_COOKIE};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use wangge_app::Context;
use wangge_app::auth::{self, Confirmed, Enrolment, Me, SecondFactorPassed};

pub fn router() -> Router<Context> {
    Router::new()
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/auth/second-factor", post(second_factor))
        .route("/api/v1/auth/second-factor/enroll", post(enroll))
        .route("/api/v1/auth/second-factor/confirm", post(confirm))
        .route("/api/v1/me", get(whoami))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    username: String,
    password: String,
}

fn session_cookie(value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("wangge_session=; Path=/; Max-Age=0"))
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "session",
    summary = "Sign in: a session cookie, its CSRF token, and whether a second factor follows",
    request_body = LoginBody,
    responses((status = 200, body = auth::LoginView,
        headers(("set-cookie" = String, description = "The HttpOnly session cookie")))))]
async fn login(
    State(ctx): State<Context>,
    ClientIp(ip): ClientIp,
    Body(b): Body<LoginBody>,
) -> ApiResult<Response> {
    let signed = auth::login(&ctx, &b.username, &b.password, ip).await?;
    let mut res = Json(signed.view).into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(
            &signed.session_secret,
            signed.max_age_seconds,
            ctx.security.secure_cookies,
        ),
    );
    Ok(res)
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "session",
    summary = "End the session",
    responses((status = 204, description = "Signed out; the cookie is cleared")))]
async fn logout(State(ctx): State<Context>, Pending(s): Pending) -> ApiResult<Response> {
    auth::logout(&ctx, &s).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie("", 0, ctx.security.secure_cookies),
    );
    Ok(res)
}

#[utoipa::path(get, path = "/api/v1/me", tag = "session",
    summary = "Who I am: role, permissions, scope",
    responses((status = 200, body = Me)))]
async fn whoami(who: Caller) -> ApiResult<Json<Me>> {
    Ok(Json(auth::whoami(&who)?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    code: String,
}

#[utoipa::path(post, path = "/api/v1/auth/second-factor", tag = "session",
    summary = "The second factor: a TOTP code (each once) or a recovery code",
    request_body = CodeBody,
    responses((status = 200, body = SecondFactorPassed)))]
async fn second_factor(
    State(ctx): State<Context>,
    Pending(s): Pending,
    Body(b): Body<CodeBody>,
) -> ApiResult<Json<SecondFactorPassed>> {
    Ok(Json(auth::second_factor(&ctx, &s, &b.code).await?))
}

#[utoipa::path(post, path = "/api/v1/auth/second-factor/enroll", tag = "session",
    summary = "A new authenticator secret and recovery codes, in force once confirmed",
    responses((status = 200, body = Enrolment)))]
async fn enroll(State(ctx): State<Context>, Pending(s): Pending) -> ApiResult<Json<Enrolment>> {
    Ok(Json(auth::enroll(&ctx, &s).await?))
}

#[utoipa::path(post, path = "/api/v1/auth/second-factor/confirm", tag = "session",
    summary = "Confirm the authenticator with a code from it",
    request_body = CodeBody,
    responses((status = 200, body = Confirmed)))]
async fn confirm(
    State(ctx): State<Context>,
    Pending(s): Pending,
    Body(b): Body<CodeBody>,
) -> ApiResult<Json<Confirmed>> {
    Ok(Json(auth::confirm(&ctx, &s, &b.code).await?))
}

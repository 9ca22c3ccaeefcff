//! What a request carries, read with our error shape: who is asking (a session cookie or an API
//! token, with the CSRF and second-factor checks), the client's address, JSON bodies (unknown
//! fields refused by name, a body over the limit answered 413), query strings and plain bodies.

use crate::error::{ApiError, ApiResult};
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use serde::de::DeserializeOwned;
use std::net::SocketAddr;
use wangge_app::auth::{self, PendingSession, Presented};
use wangge_app::{AppError, Context, ErrorKind, Principal};
use wangge_security::token;

pub const SESSION_COOKIE: &str = "wangge_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The largest JSON body anyone sends (photos and imports have their own limits).
pub const BODY_LIMIT: usize = 1024 * 1024;

pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

pub fn client_ip(parts: &Parts) -> Option<String> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
}

fn csrf_refused() -> ApiError {
    ApiError(AppError::new(
        ErrorKind::Forbidden,
        "auth.csrf",
        "请求缺少有效的防跨站令牌，请刷新页面后重试",
    ))
}

/// Unsafe methods on a cookie session must carry the session's CSRF token and must not come from
/// another site.
fn check_csrf(parts: &Parts, expected: &str) -> ApiResult<()> {
    if matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let header_of =
        |name: header::HeaderName| parts.headers.get(name).and_then(|v| v.to_str().ok());
    if parts
        .headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        == Some("cross-site")
    {
        return Err(csrf_refused());
    }
    if let (Some(origin), Some(host)) = (header_of(header::ORIGIN), header_of(header::HOST)) {
        let origin_host = origin.split("://").nth(1).unwrap_or(origin);
        if origin_host != host {
            return Err(csrf_refused());
        }
    }
    let sent = parts
        .headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if token::constant_time_eq(sent, expected) {
        Ok(())
    } else {
        Err(csrf_refused())
    }
}

/// The bearer token or the session cookie, checked; CSRF for unsafe methods on a session.
async fn presented(parts: &Parts, ctx: &Context) -> ApiResult<Presented> {
    if let Some(authorization) = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let secret = authorization
            .strip_prefix("Bearer ")
            .ok_or_else(|| AppError::unauthorized("auth.required", "请先登录"))?;
        return Ok(auth::by_token(ctx, secret).await?);
    }
    let cookie = cookie_value(&parts.headers, SESSION_COOKIE)
        .ok_or_else(|| AppError::unauthorized("auth.required", "请先登录"))?;
    let p = auth::by_session(ctx, &cookie).await?;
    check_csrf(parts, p.csrf.as_deref().unwrap_or(""))?;
    Ok(p)
}

/// Who is asking: a signed-in account (second factor done, role approved).
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl std::ops::Deref for Caller {
    type Target = Principal;
    fn deref(&self) -> &Principal {
        &self.0
    }
}

impl FromRequestParts<Context> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &Context) -> ApiResult<Caller> {
        // A principal already established in-process (a layer of ours put it there; clients
        // cannot set request extensions): benchmarks measure a request without its sign-in.
        if let Some(p) = parts.extensions.get::<Principal>() {
            return Ok(Caller(p.clone()));
        }
        let p = presented(parts, ctx).await?;
        Ok(Caller(auth::principal(p, client_ip(parts))?))
    }
}

/// A session that may still lack its second factor: only the second-factor steps take it.
pub struct Pending(pub PendingSession);

impl FromRequestParts<Context> for Pending {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &Context) -> ApiResult<Pending> {
        let p = presented(parts, ctx).await?;
        Ok(Pending(auth::pending(p, client_ip(parts))?))
    }
}

/// The client's address as the socket saw it, if the server recorded it.
pub struct ClientIp(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<ClientIp, Self::Rejection> {
        Ok(ClientIp(client_ip(parts)))
    }
}

fn too_large(limit: &str) -> ApiError {
    ApiError(AppError::new(
        ErrorKind::TooLarge,
        "request.too_large",
        format!("请求体超过大小限制（{limit}）"),
    ))
}

/// A JSON body: bad JSON, a missing field, a field of the wrong type or an unknown one answer 400
/// saying which; a body over the limit 413.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> ApiResult<Body<T>> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Body(v)),
            Err(e) => Err(json_rejection(e)),
        }
    }
}

fn json_rejection(e: JsonRejection) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return too_large("1 MB");
    }
    let text = e.body_text();
    // serde says "unknown field `x`, expected one of …": name the field in the answer.
    if let Some(rest) = text.split("unknown field `").nth(1)
        && let Some(field) = rest.split('`').next()
    {
        return ApiError(
            AppError::invalid("request.unknown_field", format!("请求中有未知字段 {field}"))
                .at(field.to_string()),
        );
    }
    ApiError(AppError::invalid(
        "request.bad_json",
        format!("请求体不是有效的 JSON 或缺少字段：{text}"),
    ))
}

/// A query string read into `T`; a value of the wrong type answers 400.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<Query<T>> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(e) => Err(ApiError(AppError::invalid(
                "request.bad_query",
                format!("查询参数有误：{}", e.body_text()),
            ))),
        }
    }
}

/// Path parameters; an undecodable one answers 400.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<Path<T>> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(e) => Err(ApiError(AppError::invalid(
                "request.bad_path",
                format!("地址中的参数有误：{}", e.body_text()),
            ))),
        }
    }
}

/// A body read whole up to `limit` bytes; more answers 413.
pub async fn bytes_of(body: axum::body::Body, limit: usize, shown: &str) -> ApiResult<Vec<u8>> {
    axum::body::to_bytes(body, limit)
        .await
        .map(|b| b.to_vec())
        .map_err(|_| too_large(shown))
}

//! Who is asking: sessions (cookie) for people, API tokens (bearer) for machines, and the checks
//! every request passes before a handler runs — expiry, second factor, CSRF, an active account.
//!
//! A handler receives a [`Caller`]; to read business data it asks the caller for a
//! [`Visibility`], which the storage layer requires on every read. A role that may never read
//! business data (the three administrators) gets 403; a record outside the caller's scope is
//! simply not found (404), so its existence is not revealed.

use crate::{ApiError, ApiResult, AppState};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde::Serialize;
use std::net::SocketAddr;
use uuid::Uuid;
use wangge_domain::RegionCode;
use wangge_domain::access::{Node, Permission, Role, Scope, Visibility};
use wangge_security::token;
use wangge_store::{AccountRow, AuditEntry, TokenWithAccount};

pub const SESSION_COOKIE: &str = "wangge_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Security policy; the defaults follow common MLPS level-3 practice.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    pub max_failures: i64,
    pub lock_for: Duration,
    pub idle_timeout: Duration,
    pub absolute_timeout: Duration,
    pub ip_max_failures: i64,
    pub ip_window: Duration,
    /// Mark cookies Secure (when served over TLS).
    pub secure_cookies: bool,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            max_failures: 5,
            lock_for: Duration::minutes(15),
            idle_timeout: Duration::minutes(30),
            absolute_timeout: Duration::hours(12),
            ip_max_failures: 30,
            ip_window: Duration::minutes(15),
            secure_cookies: false,
        }
    }
}

pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

#[derive(Debug, Clone)]
pub enum Via {
    Session { id_hash: String },
    Token { id: Uuid },
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account: AccountRow,
    pub role: Role,
    pub scope: Scope,
    pub via: Via,
    pub ip: Option<String>,
}

/// What `/api/v1/me` and the login answer show of an account.
#[derive(Debug, Serialize)]
pub struct Me {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub role_name: &'static str,
    pub permissions: &'static [Permission],
    pub scope: ScopeView,
    pub second_factor_enabled: bool,
}

#[derive(Debug, Serialize)]
pub struct ScopeView {
    pub kind: String,
    pub code: String,
    pub serves: Option<String>,
}

pub fn me(account: &AccountRow, role: Role) -> Me {
    Me {
        id: account.id,
        username: account.username.clone(),
        display_name: account.display_name.clone(),
        role,
        role_name: role.label_zh(),
        permissions: role.permissions(),
        scope: ScopeView {
            kind: account.scope_kind.clone(),
            code: account.scope_code.clone(),
            serves: account.scope_serves.clone(),
        },
        second_factor_enabled: account.totp_enabled != 0,
    }
}

/// Reads an account's role and scope as stored.
pub fn role_and_scope(a: &AccountRow) -> ApiResult<(Role, Scope)> {
    let broken = |what: String| {
        tracing::error!(account = %a.id, "{what}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "account.broken",
            "账户配置有误，请联系系统管理员",
        )
    };
    let role: Role = a.role.parse().map_err(broken)?;
    let scope = match a.scope_kind.as_str() {
        "place" => Scope::Place(Node::parse(&a.scope_code).map_err(broken)?),
        "department" => Scope::Department {
            id: a.scope_code.clone(),
            serves: RegionCode::parse(a.scope_serves.as_deref().unwrap_or(""))
                .map_err(|e| broken(e.to_string()))?,
        },
        other => return Err(broken(format!("unknown scope kind {other}"))),
    };
    Ok((role, scope))
}

impl Caller {
    /// The part of the tree this caller may read; 403 for roles that read no business data.
    pub fn visibility(&self) -> ApiResult<Visibility> {
        Visibility::for_account(self.role, &self.scope).ok_or_else(forbidden)
    }

    pub fn require(&self, p: Permission) -> ApiResult<()> {
        if self.role.can(p) {
            Ok(())
        } else {
            Err(forbidden())
        }
    }

    pub fn audit(
        &self,
        action: &str,
        record_type: Option<&str>,
        record_id: Option<String>,
        detail: serde_json::Value,
    ) -> AuditEntry {
        AuditEntry {
            actor: self.account.username.clone(),
            actor_role: Some(self.role.as_str().to_string()),
            ip: self.ip.clone(),
            action: action.to_string(),
            record_type: record_type.map(str::to_string),
            record_id,
            detail,
        }
    }
}

pub fn forbidden() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "auth.forbidden",
        "您的角色无权进行此操作",
    )
}

fn unauthorized(code: &'static str, message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, code, message)
}

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

/// Unsafe methods on a cookie session must carry the session's CSRF token and must not come from
/// another site.
fn check_csrf(parts: &Parts, expected: &str) -> ApiResult<()> {
    if matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let reject = || {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "auth.csrf",
            "请求缺少有效的防跨站令牌，请刷新页面后重试",
        )
    };
    let site = parts
        .headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok());
    if site == Some("cross-site") {
        return Err(reject());
    }
    if let (Some(origin), Some(host)) = (
        parts
            .headers
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok()),
        parts
            .headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok()),
    ) {
        let origin_host = origin.split("://").nth(1).unwrap_or(origin);
        if origin_host != host {
            return Err(reject());
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
        Err(reject())
    }
}

/// A session that may still lack its second factor: only the second-factor endpoints take it.
pub struct PendingCaller {
    pub account: AccountRow,
    pub role: Role,
    pub id_hash: String,
    pub ip: Option<String>,
}

struct Resolved {
    account: AccountRow,
    via: Via,
    second_factor_done: bool,
}

async fn resolve(parts: &Parts, state: &AppState) -> ApiResult<Resolved> {
    let now = now();
    let store = &state.store;
    if let Some(auth) = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let secret = auth
            .strip_prefix("Bearer ")
            .ok_or_else(|| unauthorized("auth.required", "请先登录"))?;
        let bad = || unauthorized("auth.bad_token", "访问令牌无效或已吊销");
        let digest = token::digest(secret.trim());
        let mut t = match state.tokens.get(&digest) {
            Some(t) => t,
            None => store.token_with_account(&digest).await?.ok_or_else(bad)?,
        };
        if t.account.active == 0 {
            return Err(bad());
        }
        // Last use is kept to the minute, so a busy client does not write on every request.
        if t.token_last_used
            .is_none_or(|u| now - u > Duration::minutes(1))
        {
            store.touch_token(t.token_id, now).await?;
            t.token_last_used = Some(now);
        }
        state.tokens.put(digest, &t);
        return Ok(Resolved {
            account: t.account,
            via: Via::Token { id: t.token_id },
            second_factor_done: true,
        });
    }
    let cookie = cookie_value(&parts.headers, SESSION_COOKIE)
        .ok_or_else(|| unauthorized("auth.required", "请先登录"))?;
    let id_hash = token::digest(&cookie);
    let expired = || unauthorized("auth.session_expired", "会话已失效，请重新登录");
    let s = store
        .session_with_account(&id_hash)
        .await?
        .ok_or_else(expired)?;
    let settings = &state.auth;
    if now >= s.expires_at || now - s.last_seen > settings.idle_timeout {
        store.delete_session(&id_hash).await?;
        return Err(unauthorized(
            "auth.session_expired",
            "会话已超时，请重新登录",
        ));
    }
    check_csrf(parts, &s.csrf_token)?;
    if s.account.active == 0 {
        return Err(expired());
    }
    // Sliding idle timeout, written at most once a minute per session.
    if now - s.last_seen > Duration::minutes(1) {
        store.touch_session(&id_hash, now).await?;
    }
    Ok(Resolved {
        account: s.account,
        via: Via::Session { id_hash },
        second_factor_done: s.second_factor_done != 0,
    })
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Caller> {
        // A caller already established in-process (a layer of ours put it there; clients cannot
        // set request extensions): used by benchmarks to measure a request without its auth.
        if let Some(c) = parts.extensions.get::<Caller>() {
            return Ok(c.clone());
        }
        let r = resolve(parts, state).await?;
        if !r.second_factor_done {
            return Err(unauthorized(
                "auth.second_factor_required",
                "请先完成第二重身份验证（动态口令）",
            ));
        }
        let (role, scope) = role_and_scope(&r.account)?;
        Ok(Caller {
            account: r.account,
            role,
            scope,
            via: r.via,
            ip: client_ip(parts),
        })
    }
}

impl FromRequestParts<AppState> for PendingCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<PendingCaller> {
        let r = resolve(parts, state).await?;
        let Via::Session { id_hash } = r.via else {
            return Err(ApiError::bad_request(
                "auth.session_only",
                "此操作需要登录会话，不能使用访问令牌",
            ));
        };
        let (role, _) = role_and_scope(&r.account)?;
        Ok(PendingCaller {
            account: r.account,
            role,
            id_hash,
            ip: client_ip(parts),
        })
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

/// Recently verified API tokens with their accounts, so a busy client (an integration, a phone
/// app's gateway) does not cost a database read on every request. An entry is trusted for
/// [`TokenCache::TTL`]; changes to accounts made through this server clear the cache at once,
/// changes made elsewhere (the CLI, another server) take effect within the TTL.
#[derive(Default)]
pub struct TokenCache {
    entries:
        std::sync::Mutex<std::collections::HashMap<String, (TokenWithAccount, std::time::Instant)>>,
}

impl TokenCache {
    pub const TTL: std::time::Duration = std::time::Duration::from_secs(5);
    /// More live tokens than this and the cache starts over rather than grow without bound.
    const MAX: usize = 10_000;

    fn get(&self, digest: &str) -> Option<TokenWithAccount> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(digest)
            .filter(|(_, at)| at.elapsed() < Self::TTL)
            .map(|(t, _)| t.clone())
    }

    fn put(&self, digest: String, t: &TokenWithAccount) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= Self::MAX {
            entries.clear();
        }
        let at = match entries.get(&digest) {
            // A hit keeps its original time: the TTL bounds how stale an entry can be.
            Some((_, at)) if at.elapsed() < Self::TTL => *at,
            _ => std::time::Instant::now(),
        };
        entries.insert(digest, (t.clone(), at));
    }

    /// Forgets every token: an account was changed, locked or deactivated.
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

//! Signing in and proving who one is: sessions for people (with the second factor where the role
//! needs it), API tokens for machines, and the checks every request passes before a use case runs
//! — expiry, an active account, an approved role. The HTTP surface reads the cookie or the bearer
//! token and the CSRF header; everything else about authentication is decided here.
//!
//! Failures never tell an unknown username from a wrong password: the answer is the same, and an
//! unknown username costs the same Argon2 verification (against a dummy hash) as a known one. A
//! locked account says so only to someone who gave its right password.

mod login;
mod password;
mod second_factor;

pub use login::{LoginView, SecondFactor, SignedIn, login, logout};
pub use password::{PasswordChange, change_password};
pub use second_factor::{Confirmed, Enrolment, SecondFactorPassed, confirm, enroll, second_factor};

pub(crate) use login::login_audit;

use crate::context::Context;
use crate::error::{AppError, AppResult, ErrorKind};
use crate::principal::{Person, Principal, Via};
use chrono::Duration;
use serde::Serialize;
use uuid::Uuid;
use wangge_domain::RegionCode;
use wangge_domain::access::{Node, Permission, Role, Scope};
use wangge_security::token;
use wangge_store::{AccountRow, TokenWithAccount};

/// Security policy; the defaults follow common MLPS level-3 practice.
#[derive(Debug, Clone)]
pub struct SecurityPolicy {
    pub max_failures: i64,
    pub lock_for: Duration,
    pub idle_timeout: Duration,
    pub absolute_timeout: Duration,
    pub ip_max_failures: i64,
    pub ip_window: Duration,
    /// Mark cookies Secure (when served over TLS).
    pub secure_cookies: bool,
}

impl Default for SecurityPolicy {
    fn default() -> Self {
        SecurityPolicy {
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

/// An account as a request presented it, before the checks that make it a [`Principal`].
pub struct Presented {
    pub account: AccountRow,
    pub via: Via,
    pub second_factor_done: bool,
    /// The session's CSRF token, which unsafe requests must echo.
    pub csrf: Option<String>,
}

/// A signed-in session that may still lack its second factor: only the second-factor steps and
/// logging out take it.
pub struct PendingSession {
    pub account: AccountRow,
    pub role: Role,
    pub id_hash: String,
    pub ip: Option<String>,
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

pub fn required() -> AppError {
    AppError::unauthorized("auth.required", "请先登录")
}

/// An API token, as sent after `Bearer `.
pub async fn by_token(ctx: &Context, secret: &str) -> AppResult<Presented> {
    let now = ctx.now();
    let bad = || AppError::unauthorized("auth.bad_token", "访问令牌无效或已吊销");
    let digest = token::digest(secret.trim());
    let mut t = match ctx.tokens.get(&digest) {
        Some(t) => t,
        None => ctx
            .store
            .token_with_account(&digest)
            .await?
            .ok_or_else(bad)?,
    };
    if t.account.active == 0 {
        return Err(bad());
    }
    // Last use is kept to the minute, so a busy client does not write on every request.
    if t.token_last_used
        .is_none_or(|u| now - u > Duration::minutes(1))
    {
        ctx.store.touch_token(t.token_id, now).await?;
        t.token_last_used = Some(now);
    }
    ctx.tokens.put(digest, &t);
    Ok(Presented {
        account: t.account,
        via: Via::Token { id: t.token_id },
        second_factor_done: true,
        csrf: None,
    })
}

/// A session, by its cookie's value: within its idle and absolute limits, of an active account.
pub async fn by_session(ctx: &Context, cookie: &str) -> AppResult<Presented> {
    let now = ctx.now();
    let id_hash = token::digest(cookie);
    let expired = || AppError::unauthorized("auth.session_expired", "会话已失效，请重新登录");
    let s = ctx
        .store
        .session_with_account(&id_hash)
        .await?
        .ok_or_else(expired)?;
    if now >= s.expires_at || now - s.last_seen > ctx.security.idle_timeout {
        ctx.store.delete_session(&id_hash).await?;
        return Err(AppError::unauthorized(
            "auth.session_expired",
            "会话已超时，请重新登录",
        ));
    }
    if s.account.active == 0 {
        return Err(expired());
    }
    // Sliding idle timeout, written at most once a minute per session.
    if now - s.last_seen > Duration::minutes(1) {
        ctx.store.touch_session(&id_hash, now).await?;
    }
    Ok(Presented {
        account: s.account,
        via: Via::Session { id_hash },
        second_factor_done: s.second_factor_done != 0,
        csrf: Some(s.csrf_token),
    })
}

/// The CSRF token of a principal's session, for the forms of its pages (empty for tokens).
pub async fn csrf_of(ctx: &Context, who: &Principal) -> String {
    match who {
        Principal::Account(p) => match &p.via {
            Via::Session { id_hash } => ctx
                .store
                .session_with_account(id_hash)
                .await
                .ok()
                .flatten()
                .map(|s| s.csrf_token)
                .unwrap_or_default(),
            Via::Token { .. } => String::new(),
        },
        _ => String::new(),
    }
}

/// Whether a principal established earlier still holds: its account active and not locked, its
/// session or token not ended. A long-lived answer (the live counters) asks before each update.
pub async fn still_valid(ctx: &Context, who: &Principal) -> AppResult<bool> {
    let Principal::Account(p) = who else {
        return Ok(true);
    };
    let now = ctx.now();
    let account_ok = ctx
        .store
        .account(p.account.id)
        .await?
        .is_some_and(|a| a.active != 0 && a.locked_until.is_none_or(|u| u <= now));
    if !account_ok {
        return Ok(false);
    }
    Ok(match &p.via {
        Via::Session { id_hash } => ctx
            .store
            .session(id_hash)
            .await?
            .is_some_and(|s| s.expires_at > now),
        Via::Token { id } => ctx.store.token_is_live(*id).await?,
    })
}

/// What was presented, as a principal: the second factor done, the role approved and readable.
pub fn principal(p: Presented, ip: Option<String>) -> AppResult<Principal> {
    if !p.second_factor_done {
        return Err(AppError::unauthorized(
            "auth.second_factor_required",
            "请先完成第二重身份验证（动态口令）",
        ));
    }
    if p.account.must_change_password != 0 {
        return Err(password_change_required());
    }
    let (role, scope) = role_and_scope(&p.account)?;
    Ok(Principal::account(Person {
        account: p.account,
        role,
        scope,
        via: p.via,
        ip,
    }))
}

/// What was presented, for the second-factor steps: a session, whatever its second factor.
pub fn pending(p: Presented, ip: Option<String>) -> AppResult<PendingSession> {
    let Via::Session { id_hash } = p.via else {
        return Err(AppError::invalid(
            "auth.session_only",
            "此操作需要登录会话，不能使用访问令牌",
        ));
    };
    let (role, _) = role_and_scope(&p.account)?;
    Ok(PendingSession {
        account: p.account,
        role,
        id_hash,
        ip,
    })
}

/// The answer to everything but the password change while the password is an initial one.
pub fn password_change_required() -> AppError {
    AppError::new(
        ErrorKind::Forbidden,
        "auth.password_change_required",
        "请先修改初始密码，然后才能使用系统",
    )
}

fn awaiting_approval() -> AppError {
    AppError::new(
        ErrorKind::Forbidden,
        "auth.awaiting_approval",
        "账户的角色和范围尚待安全管理员审批，审批后方可登录",
    )
}

/// An account's role and scope as stored; an account still awaiting approval has neither.
pub fn role_and_scope(a: &AccountRow) -> AppResult<(Role, Scope)> {
    let (Some(role), Some(kind), Some(code)) = (&a.role, &a.scope_kind, &a.scope_code) else {
        return Err(awaiting_approval());
    };
    let broken = |what: String| {
        tracing::error!(account = %a.id, "{what}");
        AppError::internal("account.broken", "账户配置有误，请联系系统管理员")
    };
    let role: Role = role.parse().map_err(broken)?;
    let scope = match kind.as_str() {
        "place" => Scope::Place(Node::parse(code).map_err(broken)?),
        "department" => Scope::Department {
            id: code.clone(),
            serves: RegionCode::parse(a.scope_serves.as_deref().unwrap_or(""))
                .map_err(|e| broken(e.to_string()))?,
        },
        other => return Err(broken(format!("unknown scope kind {other}"))),
    };
    Ok((role, scope))
}

/// What `/api/v1/me` and the login answer show of an account.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
            kind: account.scope_kind.clone().unwrap_or_default(),
            code: account.scope_code.clone().unwrap_or_default(),
            serves: account.scope_serves.clone(),
        },
        second_factor_enabled: account.totp_enabled != 0,
    }
}

/// The signed-in account of a principal.
pub fn whoami(who: &Principal) -> AppResult<Me> {
    let p = who.person()?;
    Ok(me(&p.account, p.role))
}

//! Signing in and proving who one is: sessions for people (with the second factor where the role
//! needs it), API tokens for machines, and the checks every request passes before a use case runs
//! — expiry, an active account, an approved role. The HTTP surface reads the cookie or the bearer
//! token and the CSRF header; everything else about authentication is decided here.
//!
//! Failures never tell an unknown username from a wrong password: the answer is the same, and an
//! unknown username costs the same Argon2 verification (against a dummy hash) as a known one. A
//! locked account says so only to someone who gave its right password.

use crate::context::Context;
use crate::error::{AppError, AppResult, ErrorKind};
use crate::principal::{Person, Principal, Via};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;
use wangge_domain::RegionCode;
use wangge_domain::access::{Node, Permission, Role, Scope};
use wangge_security::{password, token, totp};
use wangge_store::{AccountRow, AuditEntry, TokenWithAccount};

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

fn login_audit(username: &str, ip: &Option<String>, action: &str, detail: Value) -> AuditEntry {
    AuditEntry {
        actor: username.chars().take(64).collect(),
        actor_role: None,
        ip: ip.clone(),
        action: action.to_string(),
        record_type: Some("account".into()),
        record_id: None,
        detail,
    }
}

fn bad_credentials() -> AppError {
    AppError::unauthorized("auth.bad_credentials", "用户名或密码错误")
}

/// A hash to verify against when the user does not exist, so timing does not reveal it.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| password::hash("no-such-user-Aa1!"))
}

async fn verify_password(hash: String, pw: String) -> bool {
    tokio::task::spawn_blocking(move || password::verify(&hash, &pw))
        .await
        .unwrap_or(false)
}

/// Whether the second factor is still to come after the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SecondFactor {
    /// Not needed: the session is complete.
    None,
    /// Enter a code from the authenticator.
    Required,
    /// The role needs one and none is set up yet: enrol first.
    Enroll,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LoginView {
    pub account: Me,
    pub csrf_token: String,
    pub second_factor: SecondFactor,
}

/// A session just opened: what to answer, and the cookie's secret and lifetime.
pub struct SignedIn {
    pub view: LoginView,
    pub session_secret: String,
    pub max_age_seconds: i64,
}

pub async fn login(
    ctx: &Context,
    username: &str,
    password_given: &str,
    ip: Option<String>,
) -> AppResult<SignedIn> {
    let ip_key = ip.clone().unwrap_or_else(|| "unknown".into());
    let t = ctx.now();
    let store = &ctx.store;
    let policy = &ctx.security;
    let window_start = t - policy.ip_window;
    let username = username.trim();
    if store.ip_failures(&ip_key, window_start).await? >= policy.ip_max_failures {
        store
            .append_audit(&login_audit(username, &ip, "login.throttled", json!({})), t)
            .await?;
        return Err(AppError::new(
            ErrorKind::RateLimited,
            "auth.rate_limited",
            "登录失败次数过多，请稍后再试",
        ));
    }
    let account = if username.is_empty() || username.chars().count() > 64 {
        None
    } else {
        store.account_by_username(username).await?
    };
    let Some(account) = account.filter(|a| a.active != 0) else {
        verify_password(dummy_hash().to_string(), password_given.to_string()).await;
        store.record_ip_failure(&ip_key, window_start, t).await?;
        store
            .append_audit(
                &login_audit(
                    username,
                    &ip,
                    "login.failed",
                    json!({"reason": "unknown_or_inactive"}),
                ),
                t,
            )
            .await?;
        return Err(bad_credentials());
    };
    let ok = verify_password(account.password_hash.clone(), password_given.to_string()).await;
    if let Some(until) = account.locked_until.filter(|u| *u > t) {
        store
            .append_audit(
                &login_audit(&account.username, &ip, "login.locked", json!({})),
                t,
            )
            .await?;
        if !ok {
            store.record_ip_failure(&ip_key, window_start, t).await?;
            return Err(bad_credentials());
        }
        let minutes = ((until - t).num_seconds() + 59) / 60;
        return Err(AppError::new(
            ErrorKind::Locked,
            "auth.locked",
            format!("账户已锁定，请在 {minutes} 分钟后重试，或联系系统管理员解锁"),
        )
        .with_details(json!({"locked_until": until})));
    }
    if !ok {
        store.record_ip_failure(&ip_key, window_start, t).await?;
        let (n, _) = store
            .record_login_failure(account.id, policy.max_failures, t + policy.lock_for, t)
            .await?;
        store
            .append_audit(
                &login_audit(
                    &account.username,
                    &ip,
                    "login.failed",
                    json!({"reason": "bad_password", "failures": n}),
                ),
                t,
            )
            .await?;
        return Err(bad_credentials());
    }
    let role = match role_and_scope(&account) {
        Ok((role, _)) => role,
        Err(e) => {
            store
                .append_audit(
                    &login_audit(
                        &account.username,
                        &ip,
                        "login.refused",
                        json!({"reason": e.code}),
                    ),
                    t,
                )
                .await?;
            return Err(e);
        }
    };
    store.record_login_success(account.id, t).await?;
    let needs_second = role.requires_second_factor() || account.totp_enabled != 0;
    let secret = token::generate("wgs_");
    let csrf = token::generate("");
    store
        .create_session(
            &token::digest(&secret),
            account.id,
            &csrf,
            !needs_second,
            ip.as_deref(),
            t,
            t + policy.absolute_timeout,
        )
        .await?;
    store
        .append_audit(
            &AuditEntry {
                actor_role: Some(role.as_str().into()),
                record_id: Some(account.id.to_string()),
                ..login_audit(
                    &account.username,
                    &ip,
                    "login.success",
                    json!({"second_factor_pending": needs_second}),
                )
            },
            t,
        )
        .await?;
    let second_factor = match (needs_second, account.totp_enabled != 0) {
        (false, _) => SecondFactor::None,
        (true, true) => SecondFactor::Required,
        (true, false) => SecondFactor::Enroll,
    };
    Ok(SignedIn {
        view: LoginView {
            account: me(&account, role),
            csrf_token: csrf,
            second_factor,
        },
        session_secret: secret,
        max_age_seconds: policy.absolute_timeout.num_seconds(),
    })
}

pub async fn logout(ctx: &Context, s: &PendingSession) -> AppResult<()> {
    ctx.store.delete_session(&s.id_hash).await?;
    ctx.store
        .append_audit(
            &AuditEntry {
                actor_role: Some(s.role.as_str().into()),
                record_id: Some(s.account.id.to_string()),
                ..login_audit(&s.account.username, &s.ip, "logout", json!({}))
            },
            ctx.now(),
        )
        .await?;
    Ok(())
}

fn recovery_digests(a: &AccountRow) -> Vec<String> {
    a.recovery_codes
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_default()
}

fn no_second_factor() -> AppError {
    AppError::conflict("auth.no_second_factor", "尚未设置动态口令，请先绑定")
}

fn totp_secret(ctx: &Context, a: &AccountRow) -> AppResult<String> {
    let enc = a.totp_secret.as_deref().ok_or_else(no_second_factor)?;
    ctx.keys.decrypt(enc).map_err(|e| {
        tracing::error!(error = %e, "cannot decrypt a TOTP secret");
        AppError::internal("auth.key_error", "无法读取动态口令密钥，请联系安全管理员")
    })
}

fn bad_code() -> AppError {
    AppError::unauthorized(
        "auth.bad_second_factor",
        "动态口令不正确或已使用过，请输入新的口令",
    )
}

/// A TOTP code valid now and not used before by this account (each 30-second code once).
async fn fresh_code(
    ctx: &Context,
    a: &AccountRow,
    code: &str,
    at: DateTime<Utc>,
) -> AppResult<bool> {
    let secret = totp_secret(ctx, a)?;
    match totp::verify_step(&secret, code, at.timestamp().max(0) as u64) {
        Some(step) => Ok(ctx.store.claim_totp_step(a.id, step as i64).await?),
        None => Ok(false),
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SecondFactorPassed {
    pub account: Me,
    pub recovery_codes_left: usize,
}

/// The second factor after the password: a fresh TOTP code, or one of the recovery codes (each
/// once). Repeated failures lock the account and end the session.
pub async fn second_factor(
    ctx: &Context,
    s: &PendingSession,
    code: &str,
) -> AppResult<SecondFactorPassed> {
    let t = ctx.now();
    let a = &s.account;
    if a.totp_enabled == 0 {
        return Err(no_second_factor());
    }
    let mut ok = fresh_code(ctx, a, code, t).await?;
    let mut used_recovery = false;
    if !ok {
        let digest = token::digest(code.trim());
        let mut codes = recovery_digests(a);
        if let Some(pos) = codes
            .iter()
            .position(|c| token::constant_time_eq(c, &digest))
        {
            codes.remove(pos);
            let after = serde_json::to_string(&codes)
                .map_err(|e| AppError::internal("auth.broken", e.to_string()))?;
            let before = a.recovery_codes.clone().unwrap_or_default();
            // Used once, even by two requests at the same moment: the first one's write wins.
            ok = ctx.store.use_recovery_code(a.id, &before, &after).await?;
            used_recovery = ok;
        }
    }
    let audit = |action: &str, detail: Value| AuditEntry {
        actor_role: Some(s.role.as_str().into()),
        record_id: Some(a.id.to_string()),
        ..login_audit(&a.username, &s.ip, action, detail)
    };
    if !ok {
        let policy = &ctx.security;
        let (n, locked) = ctx
            .store
            .record_login_failure(a.id, policy.max_failures, t + policy.lock_for, t)
            .await?;
        ctx.store
            .append_audit(&audit("second_factor.failed", json!({"failures": n})), t)
            .await?;
        if locked.is_some() {
            ctx.store.delete_session(&s.id_hash).await?;
            return Err(AppError::new(
                ErrorKind::Locked,
                "auth.locked",
                "连续验证失败，账户已锁定",
            ));
        }
        return Err(bad_code());
    }
    ctx.store.record_login_success(a.id, t).await?;
    ctx.store.complete_second_factor(&s.id_hash).await?;
    ctx.store
        .append_audit(
            &audit(
                "second_factor.passed",
                json!({"recovery_code": used_recovery}),
            ),
            t,
        )
        .await?;
    Ok(SecondFactorPassed {
        account: me(a, s.role),
        recovery_codes_left: recovery_digests(a)
            .len()
            .saturating_sub(used_recovery as usize),
    })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Enrolment {
    pub secret: String,
    pub otpauth_uri: String,
    pub recovery_codes: Vec<String>,
    pub message: &'static str,
}

/// A new TOTP secret and recovery codes, not in force until a code from them is confirmed.
pub async fn enroll(ctx: &Context, s: &PendingSession) -> AppResult<Enrolment> {
    let a = &s.account;
    if a.totp_enabled != 0 {
        return Err(AppError::conflict(
            "auth.second_factor_exists",
            "已绑定动态口令；如需更换请联系安全管理员",
        ));
    }
    let secret = totp::generate_secret();
    let codes = totp::recovery_codes();
    let digests: Vec<String> = codes.iter().map(|c| token::digest(c)).collect();
    ctx.store
        .set_totp(
            a.id,
            &ctx.keys.encrypt(&secret),
            &serde_json::to_string(&digests)
                .map_err(|e| AppError::internal("auth.broken", e.to_string()))?,
            false,
            ctx.now(),
        )
        .await?;
    Ok(Enrolment {
        otpauth_uri: totp::uri(&secret, &a.username),
        secret,
        recovery_codes: codes,
        message: "请用身份验证器应用扫描或输入密钥，然后提交一个动态口令完成绑定；恢复码只显示这一次，请妥善保存。",
    })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Confirmed {
    pub account: Me,
}

/// Confirms an enrolment with a code from the new secret; the session's second factor is done.
pub async fn confirm(ctx: &Context, s: &PendingSession, code: &str) -> AppResult<Confirmed> {
    let t = ctx.now();
    let a = &s.account;
    if a.totp_enabled != 0 {
        return Err(AppError::conflict(
            "auth.second_factor_exists",
            "已绑定动态口令",
        ));
    }
    if !fresh_code(ctx, a, code, t).await? {
        return Err(bad_code());
    }
    ctx.store.enable_totp(a.id, t).await?;
    ctx.store.complete_second_factor(&s.id_hash).await?;
    ctx.store
        .append_audit(
            &AuditEntry {
                actor_role: Some(s.role.as_str().into()),
                record_id: Some(a.id.to_string()),
                ..login_audit(&a.username, &s.ip, "second_factor.enabled", json!({}))
            },
            t,
        )
        .await?;
    let mut account = a.clone();
    account.totp_enabled = 1;
    Ok(Confirmed {
        account: me(&account, s.role),
    })
}

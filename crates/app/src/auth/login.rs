//! Signing in with a username and a password, and out. A failure never tells an unknown username
//! from a wrong password — the same answer, the same Argon2 work against a dummy hash — and a
//! locked account says so only to someone who gave its right password.

use super::{Me, PendingSession, me, role_and_scope};
use crate::context::Context;
use crate::error::{AppError, AppResult, ErrorKind};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use wangge_domain::access::Role;
use wangge_security::{password, token};
use wangge_store::{AccountRow, AuditEntry};

pub(crate) fn login_audit(
    username: &str,
    ip: &Option<String>,
    action: &str,
    detail: Value,
) -> AuditEntry {
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
    /// The password is an initial one: change it (`POST /api/v1/auth/password`) before anything
    /// else.
    pub password_change_required: bool,
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
    let t = ctx.now();
    let attempt = Attempt {
        ctx,
        ip_key: ip.clone().unwrap_or_else(|| "unknown".into()),
        ip,
        t,
        window_start: t - ctx.security.ip_window,
    };
    let username = username.trim();
    attempt.refuse_if_throttled(username).await?;
    let account = if username.is_empty() || username.chars().count() > 64 {
        None
    } else {
        ctx.store.account_by_username(username).await?
    };
    let Some(account) = account.filter(|a| a.active != 0) else {
        verify_password(dummy_hash().to_string(), password_given.to_string()).await;
        attempt
            .fail(username, json!({"reason": "unknown_or_inactive"}))
            .await?;
        return Err(bad_credentials());
    };
    let ok = verify_password(account.password_hash.clone(), password_given.to_string()).await;
    if let Some(until) = account.locked_until.filter(|u| *u > attempt.t) {
        return Err(attempt.locked(&account, ok, until).await?);
    }
    if !ok {
        attempt.count_ip_failure().await?;
        let (n, _) = ctx
            .store
            .record_login_failure(
                account.id,
                ctx.security.max_failures,
                attempt.t + ctx.security.lock_for,
                attempt.t,
            )
            .await?;
        attempt
            .audit(
                &account.username,
                "login.failed",
                json!({"reason": "bad_password", "failures": n}),
            )
            .await?;
        return Err(bad_credentials());
    }
    let role = match role_and_scope(&account) {
        Ok((role, _)) => role,
        Err(e) => {
            attempt
                .audit(
                    &account.username,
                    "login.refused",
                    json!({"reason": e.code}),
                )
                .await?;
            return Err(e);
        }
    };
    attempt.open_session(&account, role).await
}

/// One sign-in attempt: who asked from where and when, so each outcome writes its own trail.
struct Attempt<'a> {
    ctx: &'a Context,
    ip: Option<String>,
    ip_key: String,
    t: DateTime<Utc>,
    window_start: DateTime<Utc>,
}

impl Attempt<'_> {
    async fn audit(&self, username: &str, action: &str, detail: Value) -> AppResult<()> {
        self.ctx
            .store
            .append_audit(&login_audit(username, &self.ip, action, detail), self.t)
            .await?;
        Ok(())
    }

    async fn refuse_if_throttled(&self, username: &str) -> AppResult<()> {
        let failures = self
            .ctx
            .store
            .ip_failures(&self.ip_key, self.window_start)
            .await?;
        if failures < self.ctx.security.ip_max_failures {
            return Ok(());
        }
        self.audit(username, "login.throttled", json!({})).await?;
        Err(AppError::new(
            ErrorKind::RateLimited,
            "auth.rate_limited",
            "登录失败次数过多，请稍后再试",
        ))
    }

    async fn count_ip_failure(&self) -> AppResult<()> {
        self.ctx
            .store
            .record_ip_failure(&self.ip_key, self.window_start, self.t)
            .await?;
        Ok(())
    }

    /// Counts a failure against the address and writes it down.
    async fn fail(&self, username: &str, detail: Value) -> AppResult<()> {
        self.count_ip_failure().await?;
        self.audit(username, "login.failed", detail).await
    }

    /// The answer for a locked account: only the right password learns that it is locked.
    async fn locked(
        &self,
        account: &AccountRow,
        password_ok: bool,
        until: DateTime<Utc>,
    ) -> AppResult<AppError> {
        self.audit(&account.username, "login.locked", json!({}))
            .await?;
        if !password_ok {
            self.count_ip_failure().await?;
            return Ok(bad_credentials());
        }
        let minutes = ((until - self.t).num_seconds() + 59) / 60;
        Ok(AppError::new(
            ErrorKind::Locked,
            "auth.locked",
            format!("账户已锁定，请在 {minutes} 分钟后重试，或联系系统管理员解锁"),
        )
        .with_details(json!({"locked_until": until})))
    }

    async fn open_session(&self, account: &AccountRow, role: Role) -> AppResult<SignedIn> {
        let (store, policy, t) = (&self.ctx.store, &self.ctx.security, self.t);
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
                self.ip.as_deref(),
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
                        &self.ip,
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
                account: me(account, role),
                csrf_token: csrf,
                second_factor,
                password_change_required: account.must_change_password != 0,
            },
            session_secret: secret,
            max_age_seconds: policy.absolute_timeout.num_seconds(),
        })
    }
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

//! The second factor (TOTP, RFC 6238, and single-use recovery codes): enrolling an authenticator,
//! confirming it, and passing it after the password. Each 30-second code is accepted once; each
//! recovery code once, even under concurrent requests.

use super::{Me, PendingSession, login_audit, me};
use crate::context::Context;
use crate::error::{AppError, AppResult, ErrorKind};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use wangge_security::{token, totp};
use wangge_store::{AccountRow, AuditEntry};

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

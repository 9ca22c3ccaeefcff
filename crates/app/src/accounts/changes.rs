//! Changing an account that exists: locking, unlocking, deactivating (system administrator),
//! changing its role and scope and reading the policy (security administrator). Each ends the
//! account's sessions where its rights shrink.

use super::{AccountView, invalid, reread, resolve_scope, target};
use crate::auth::role_and_scope;
use crate::context::Context;
use crate::error::{AppError, AppResult};
use crate::limits;
use crate::principal::Principal;
use chrono::Duration;
use serde::{Deserialize, Serialize};
use serde_json::json;
use wangge_domain::access::{Permission, Role};
use wangge_store::AccountRow;

/// Administrator accounts are changed only on the server: over the network one administrator
/// could otherwise lock the other two out (三员分立).
fn not_an_administrator(who: &Principal, a: &AccountRow) -> AppResult<()> {
    let admin = a
        .role
        .as_deref()
        .and_then(|r| r.parse::<Role>().ok())
        .is_some_and(Role::is_administrator);
    if admin && !matches!(who, Principal::Operator) {
        return Err(AppError::forbidden());
    }
    Ok(())
}

pub async fn unlock(ctx: &Context, who: &Principal, a: AccountRow) -> AppResult<AccountView> {
    who.require(Permission::ManageAccounts)?;
    not_an_administrator(who, &a)?;
    let t = ctx.now();
    ctx.store.set_lock(a.id, None, t).await?;
    ctx.tokens.clear();
    ctx.store
        .append_audit(
            &who.audit(
                "account.unlock",
                Some("account"),
                Some(a.id.to_string()),
                json!({"before": {"locked_until": a.locked_until}}),
            ),
            t,
        )
        .await?;
    reread(ctx, a).await
}

/// Locks an account (until unlocked, or for `minutes`): its sessions end and its tokens are
/// revoked at once, as for a deactivation.
pub async fn lock(
    ctx: &Context,
    who: &Principal,
    a: AccountRow,
    minutes: Option<i64>,
) -> AppResult<AccountView> {
    who.require(Permission::ManageAccounts)?;
    not_an_administrator(who, &a)?;
    let t = ctx.now();
    let minutes = match minutes {
        Some(m) => limits::int_in("minutes", m, 1..=60 * 24 * 366)?,
        // Without a duration the lock holds until an operator lifts it.
        None => 60 * 24 * 365 * 100,
    };
    let until = t + Duration::minutes(minutes);
    ctx.store.lock_account(a.id, until, t).await?;
    ctx.tokens.clear();
    ctx.store
        .append_audit(
            &who.audit(
                "account.lock",
                Some("account"),
                Some(a.id.to_string()),
                json!({"after": {"locked_until": until}}),
            ),
            t,
        )
        .await?;
    reread(ctx, a).await
}

/// A leaver: kept with its history, never deleted; sessions end and tokens stop.
pub async fn deactivate(ctx: &Context, who: &Principal, a: AccountRow) -> AppResult<AccountView> {
    who.require(Permission::ManageAccounts)?;
    not_an_administrator(who, &a)?;
    if a.active == 0 {
        return Err(AppError::conflict("account.inactive", "账户已停用"));
    }
    let t = ctx.now();
    ctx.store.deactivate_account(a.id, t).await?;
    ctx.tokens.clear();
    ctx.store
        .append_audit(
            &who.audit(
                "account.deactivate",
                Some("account"),
                Some(a.id.to_string()),
                json!({"before": {"active": true}, "after": {"active": false}}),
            ),
            t,
        )
        .await?;
    reread(ctx, a).await
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleInput {
    pub role: String,
    /// Keeps the current scope when left out.
    pub scope: Option<String>,
}

/// The security administrator changes an approved account's role and scope. No account moves
/// into or out of an administrator duty over the network: that is how one person would come to
/// hold two of them.
pub async fn change_role(
    ctx: &Context,
    who: &Principal,
    id: &str,
    b: RoleInput,
) -> AppResult<AccountView> {
    who.require(Permission::ManageSecurity)?;
    let a = target(ctx, id).await?;
    let role: Role = b
        .role
        .trim()
        .parse()
        .map_err(|m: String| AppError::invalid("account.invalid", m).at("role"))?;
    let (current, _) = role_and_scope(&a).map_err(|_| {
        AppError::conflict(
            "account.awaiting_approval",
            "该账户尚待审批，请先审批其提议的角色",
        )
    })?;
    if role.is_administrator() || current.is_administrator() {
        return Err(AppError::forbidden());
    }
    let scope = b
        .scope
        .unwrap_or_else(|| a.scope_code.clone().unwrap_or_default());
    let s = resolve_scope(&ctx.store, role, &scope)
        .await
        .map_err(|m| invalid("scope", m))?;
    let t = ctx.now();
    ctx.store
        .set_role(
            a.id,
            role.as_str(),
            &s.kind,
            &s.code,
            s.serves.as_deref(),
            t,
        )
        .await?;
    ctx.tokens.clear();
    ctx.store
        .append_audit(
            &who.audit(
                "account.role",
                Some("account"),
                Some(a.id.to_string()),
                json!({"before": {"role": a.role, "scope": a.scope_code}, "after": {"role": role.as_str(), "scope": s.code}}),
            ),
            t,
        )
        .await?;
    reread(ctx, a).await
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Policy {
    pub lockout_after_failures: i64,
    pub lockout_minutes: i64,
    pub idle_timeout_minutes: i64,
    pub absolute_timeout_hours: i64,
    pub ip_failures_per_window: i64,
    pub ip_window_minutes: i64,
    pub second_factor_roles: Vec<Role>,
    pub password_policy: &'static str,
}

pub fn policy(ctx: &Context, who: &Principal) -> AppResult<Policy> {
    who.require(Permission::ManageSecurity)?;
    let s = &ctx.security;
    Ok(Policy {
        lockout_after_failures: s.max_failures,
        lockout_minutes: s.lock_for.num_minutes(),
        idle_timeout_minutes: s.idle_timeout.num_minutes(),
        absolute_timeout_hours: s.absolute_timeout.num_hours(),
        ip_failures_per_window: s.ip_max_failures,
        ip_window_minutes: s.ip_window.num_minutes(),
        second_factor_roles: Role::ALL
            .iter()
            .copied()
            .filter(|r| r.requires_second_factor())
            .collect(),
        password_policy: "至少8个字符，包含大写字母、小写字母、数字、符号中的至少三类，且不同于用户名",
    })
}

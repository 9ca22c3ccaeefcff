//! Making an account: the one rule for usernames, the proposal over the network and its
//! approval by the security administrator, the grant at once by the operator.

use super::{AccountView, invalid, reread, resolve_scope, target, view};
use crate::context::Context;
use crate::error::{AppError, AppResult};
use crate::limits;
use crate::principal::Principal;
use serde::Deserialize;
use serde_json::json;
use wangge_domain::access::{Permission, Role};
use wangge_security::password;
use wangge_store::NewAccount;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccountInput {
    /// 1–64 characters, no spaces.
    pub username: String,
    pub display_name: String,
    pub role: String,
    /// A 12-digit region code, a 15-digit grid code (grid workers) or a department id.
    pub scope: String,
    pub password: String,
}

/// The names histories and the audit trail give the operator, the platform and citizens.
const RESERVED: &[&str] = &["cli", "system", "public", "operator", "citizen"];

/// The one rule for usernames, whoever creates the account.
pub fn check_username(raw: &str) -> AppResult<String> {
    let u = raw.trim();
    if u.is_empty()
        || u.chars().count() > 64
        || u.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(invalid("username", "用户名应为1–64个字符且不含空格"));
    }
    if RESERVED.contains(&u.to_ascii_lowercase().as_str()) {
        return Err(invalid(
            "username",
            format!("用户名 {u} 为系统保留，请换一个"),
        ));
    }
    Ok(u.to_string())
}

/// Creates an account. Over the network (the system administrator) the role and scope are only
/// proposed and the account waits for the security administrator; the operator on the server
/// grants them at once, and only the operator may create administrator accounts.
pub async fn create(ctx: &Context, who: &Principal, b: NewAccountInput) -> AppResult<AccountView> {
    who.require(Permission::ManageAccounts)?;
    let username = check_username(&b.username)?;
    let display_name = match b.display_name.trim() {
        "" => username.clone(),
        n => limits::name("display_name", n)?,
    };
    let role: Role = b
        .role
        .trim()
        .parse()
        .map_err(|m: String| invalid("role", m))?;
    let operator = matches!(who, Principal::Operator);
    if role.is_administrator() && !operator {
        // Administrator accounts are created on the server with `wangge user add`, never by
        // another administrator over the network.
        return Err(AppError::forbidden());
    }
    password::check_policy(&username, &b.password)
        .map_err(|e| invalid("password", e.to_string()))?;
    let scope = resolve_scope(&ctx.store, role, &b.scope)
        .await
        .map_err(|m| invalid("scope", m))?;
    let pw = b.password;
    let hash = tokio::task::spawn_blocking(move || password::hash(&pw))
        .await
        .map_err(|_| AppError::internal("internal", "服务器内部错误"))?;
    let new = NewAccount {
        username,
        display_name,
        role: role.as_str().into(),
        scope_kind: scope.kind,
        scope_code: scope.code,
        scope_serves: scope.serves,
        password_hash: hash,
        proposed_by: (!operator).then(|| who.actor_name()),
    };
    let t = ctx.now();
    let id = ctx
        .store
        .create_account(&new, t)
        .await
        .map_err(|e| match e {
            wangge_store::StoreError::Conflict(m) => AppError::conflict("account.exists", m),
            other => other.into(),
        })?;
    let action = if operator {
        "account.create"
    } else {
        "account.propose"
    };
    ctx.store
        .append_audit(
            &who.audit(
                action,
                Some("account"),
                Some(id.to_string()),
                json!({"after": {"username": new.username, "role": new.role, "scope": new.scope_code}}),
            ),
            t,
        )
        .await?;
    let created = ctx
        .store
        .account(id)
        .await?
        .ok_or_else(|| AppError::internal("internal", "服务器内部错误"))?;
    Ok(view(&created, t))
}

/// 审批: the security administrator grants the role and scope the system administrator proposed.
pub async fn approve(ctx: &Context, who: &Principal, id: &str) -> AppResult<AccountView> {
    who.require(Permission::ManageSecurity)?;
    let a = target(ctx, id).await?;
    if a.proposed_role.is_none() {
        return Err(AppError::conflict(
            "account.nothing_to_approve",
            "该账户没有待审批的角色",
        ));
    }
    let me = who.actor_name();
    if a.proposed_by.as_deref() == Some(me.as_str()) && !matches!(who, Principal::Operator) {
        return Err(AppError::forbidden());
    }
    // The proposal is checked again: a department or a region may have gone meanwhile.
    let role: Role = a
        .proposed_role
        .as_deref()
        .unwrap_or_default()
        .parse()
        .map_err(|m: String| invalid("role", m))?;
    if role.is_administrator() {
        return Err(AppError::forbidden());
    }
    resolve_scope(
        &ctx.store,
        role,
        a.proposed_scope_code.as_deref().unwrap_or(""),
    )
    .await
    .map_err(|m| invalid("scope", m))?;
    let t = ctx.now();
    if !ctx.store.approve_account(a.id, &me, t).await? {
        return Err(AppError::conflict(
            "account.nothing_to_approve",
            "该账户没有待审批的角色",
        ));
    }
    ctx.store
        .append_audit(
            &who.audit(
                "account.approve",
                Some("account"),
                Some(a.id.to_string()),
                json!({"after": {"role": a.proposed_role, "scope": a.proposed_scope_code}, "proposed_by": a.proposed_by}),
            ),
            t,
        )
        .await?;
    reread(ctx, a).await
}

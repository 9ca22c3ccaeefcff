//! Accounts and their three administrators (三员分立). The system administrator creates accounts
//! with a *proposed* role and scope; such an account cannot sign in until the security
//! administrator approves the proposal, and neither of them can do both. The security
//! administrator changes roles and scopes and reads the policy; the system administrator locks,
//! unlocks and deactivates. Administrator accounts, and accounts granted at once, are made only by
//! the operator on the server (`wangge user add`), who holds both duties there. Every change is
//! audited and takes effect at once: sessions of a locked, deactivated or re-scoped account end,
//! its tokens stop working.

use crate::auth::role_and_scope;
use crate::context::Context;
use crate::error::{AppError, AppResult};
use crate::limits;
use crate::principal::Principal;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;
use wangge_domain::access::{Node, Permission, Role};
use wangge_security::{password, token};
use wangge_store::{AccountRow, NewAccount, Store};

/// A scope as stored: `(kind, code, serves)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredScope {
    pub kind: String,
    pub code: String,
    pub serves: Option<String>,
}

/// Resolves a scope given as a region code, a grid code or a department id into its stored form,
/// checking that it exists and suits the role.
pub async fn resolve_scope(store: &Store, role: Role, scope: &str) -> Result<StoredScope, String> {
    let scope = scope.trim();
    if role.scoped_to_department() {
        let id: Uuid = scope.parse().map_err(|_| {
            format!(
                "部门工作人员的范围应为部门编号（UUID），收到 \"{}\"",
                scope.chars().take(40).collect::<String>()
            )
        })?;
        let d = store
            .department(id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("部门 {id} 不存在"))?;
        return Ok(StoredScope {
            kind: "department".into(),
            code: id.to_string(),
            serves: Some(d.region_code),
        });
    }
    let node = Node::parse(scope)?;
    let exists = match &node {
        Node::Region(r) => store
            .region(r.as_str())
            .await
            .map_err(|e| e.to_string())?
            .is_some(),
        Node::Grid(g) => store
            .grid_exists(g.as_str())
            .await
            .map_err(|e| e.to_string())?,
    };
    if !exists {
        return Err(format!("范围 {} 不存在", node.code()));
    }
    if matches!(node, Node::Grid(_)) && role != Role::GridWorker {
        return Err("只有网格员的范围可以是单个网格".into());
    }
    Ok(StoredScope {
        kind: "place".into(),
        code: node.code().to_string(),
        serves: None,
    })
}

/// Where an account stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    /// Created with a proposed role; cannot sign in until approved.
    AwaitingApproval,
    Active,
    Locked,
    /// A leaver: kept with its history, never deleted.
    Inactive,
}

impl AccountStatus {
    pub fn label_zh(self) -> &'static str {
        match self {
            AccountStatus::AwaitingApproval => "待审批",
            AccountStatus::Active => "正常",
            AccountStatus::Locked => "已锁定",
            AccountStatus::Inactive => "已停用",
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScopeOf {
    pub kind: Option<String>,
    pub code: Option<String>,
    pub serves: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Proposal {
    pub role: Option<String>,
    pub scope: ScopeOf,
    pub proposed_by: Option<String>,
}

/// An account as the administrators see it (no secrets, no personal data).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccountView {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    /// `None` until approved.
    pub role: Option<String>,
    pub role_name: Option<&'static str>,
    pub scope: ScopeOf,
    /// What awaits the security administrator's approval.
    pub proposed: Option<Proposal>,
    pub approved_by: Option<String>,
    pub status: AccountStatus,
    pub second_factor_enabled: bool,
    pub failed_logins: i64,
    pub locked_until: Option<DateTime<Utc>>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

pub fn status_of(a: &AccountRow, now: DateTime<Utc>) -> AccountStatus {
    if a.active == 0 {
        AccountStatus::Inactive
    } else if a.role.is_none() {
        AccountStatus::AwaitingApproval
    } else if a.locked_until.is_some_and(|u| u > now) {
        AccountStatus::Locked
    } else {
        AccountStatus::Active
    }
}

pub fn view(a: &AccountRow, now: DateTime<Utc>) -> AccountView {
    let label = |r: &Option<String>| {
        r.as_deref()
            .and_then(|r| r.parse::<Role>().ok())
            .map(Role::label_zh)
    };
    AccountView {
        id: a.id,
        username: a.username.clone(),
        display_name: a.display_name.clone(),
        role: a.role.clone(),
        role_name: label(&a.role),
        scope: ScopeOf {
            kind: a.scope_kind.clone(),
            code: a.scope_code.clone(),
            serves: a.scope_serves.clone(),
        },
        proposed: a.proposed_role.as_ref().map(|_| Proposal {
            role: a.proposed_role.clone(),
            scope: ScopeOf {
                kind: a.proposed_scope_kind.clone(),
                code: a.proposed_scope_code.clone(),
                serves: a.proposed_scope_serves.clone(),
            },
            proposed_by: a.proposed_by.clone(),
        }),
        approved_by: a.approved_by.clone(),
        status: status_of(a, now),
        second_factor_enabled: a.totp_enabled != 0,
        failed_logins: a.failed_logins,
        locked_until: a.locked_until,
        active: a.active != 0,
        created_at: a.created_at,
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccountList {
    pub accounts: Vec<AccountView>,
}

/// Every account, for the system and the security administrator.
pub async fn list(ctx: &Context, who: &Principal) -> AppResult<AccountList> {
    if who.require(Permission::ManageAccounts).is_err() {
        who.require(Permission::ManageSecurity)?;
    }
    let now = ctx.now();
    Ok(AccountList {
        accounts: ctx
            .store
            .accounts()
            .await?
            .iter()
            .map(|a| view(a, now))
            .collect(),
    })
}

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

fn invalid(field: &str, m: impl Into<String>) -> AppError {
    AppError::invalid("account.invalid", m).at(field)
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

/// An account by id.
pub async fn target(ctx: &Context, id: &str) -> AppResult<AccountRow> {
    let id: Uuid = id.trim().parse().map_err(|_| {
        AppError::invalid(
            "account.bad_id",
            format!(
                "账户编号无效：\"{}\"",
                id.chars().take(40).collect::<String>()
            ),
        )
    })?;
    ctx.store
        .account(id)
        .await?
        .ok_or_else(|| AppError::not_found("account.not_found", "账户不存在"))
}

/// An account by username (the operator's commands).
pub async fn by_username(ctx: &Context, username: &str) -> AppResult<AccountRow> {
    ctx.store
        .account_by_username(username.trim())
        .await?
        .ok_or_else(|| AppError::not_found("account.not_found", format!("用户 {username} 不存在")))
}

async fn reread(ctx: &Context, a: AccountRow) -> AppResult<AccountView> {
    let now = ctx.now();
    Ok(view(&ctx.store.account(a.id).await?.unwrap_or(a), now))
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

/// A new API token for a machine client of an account (the operator on the server): its id and
/// the secret, shown once and stored only as a digest.
pub async fn create_token(
    ctx: &Context,
    who: &Principal,
    a: &AccountRow,
    name: &str,
) -> AppResult<(Uuid, String)> {
    who.require(Permission::ManageAccounts)?;
    if a.active == 0 {
        return Err(AppError::conflict("account.inactive", "账户已停用"));
    }
    role_and_scope(a)?;
    let name = limits::name("name", name)?;
    let secret = token::generate("wgt_");
    let t = ctx.now();
    let id = ctx
        .store
        .create_token(a.id, &name, &token::digest(&secret), t)
        .await?;
    ctx.store
        .append_audit(
            &who.audit(
                "token.create",
                Some("api_token"),
                Some(id.to_string()),
                json!({"account": a.username, "name": name}),
            ),
            t,
        )
        .await?;
    Ok((id, secret))
}

pub async fn revoke_token(ctx: &Context, who: &Principal, id: &str) -> AppResult<()> {
    who.require(Permission::ManageAccounts)?;
    let id: Uuid = id
        .trim()
        .parse()
        .map_err(|_| AppError::invalid("token.bad_id", format!("令牌编号无效：{id}")))?;
    let t = ctx.now();
    if !ctx.store.revoke_token(id, t).await? {
        return Err(AppError::not_found(
            "token.not_found",
            format!("令牌 {id} 不存在或已吊销"),
        ));
    }
    ctx.tokens.clear();
    ctx.store
        .append_audit(
            &who.audit(
                "token.revoke",
                Some("api_token"),
                Some(id.to_string()),
                json!({}),
            ),
            t,
        )
        .await?;
    Ok(())
}

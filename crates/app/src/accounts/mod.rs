//! Accounts and their three administrators (三员分立). The system administrator creates accounts
//! with a *proposed* role and scope; such an account cannot sign in until the security
//! administrator approves the proposal, and neither of them can do both. The security
//! administrator changes roles and scopes and reads the policy; the system administrator locks,
//! unlocks and deactivates. Administrator accounts, and accounts granted at once, are made only by
//! the operator on the server (`wangge user add`), who holds both duties there. Every change is
//! audited and takes effect at once: sessions of a locked, deactivated or re-scoped account end,
//! its tokens stop working.

use crate::context::Context;
use crate::error::{AppError, AppResult};
use crate::principal::Principal;
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;
use wangge_domain::access::{Node, Permission, Role};
use wangge_store::{AccountRow, Store};

pub mod bulk;
mod changes;
mod create;
mod tokens;

pub use changes::{Policy, RoleInput, change_role, deactivate, lock, policy, unlock};
pub use create::{NewAccountInput, approve, check_username, create};
pub use tokens::{create_token, revoke_token};

/// A scope as stored: `(kind, code, serves)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredScope {
    pub kind: String,
    pub code: String,
    pub serves: Option<String>,
}

/// Resolves a scope given as a region code, a grid code or a department's code (or id) into its stored form,
/// checking that it exists and suits the role.
pub async fn resolve_scope(store: &Store, role: Role, scope: &str) -> Result<StoredScope, String> {
    let scope = scope.trim();
    if role.scoped_to_department() {
        let d = crate::registry::departments::find_in(store, scope)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| {
                format!(
                    "部门工作人员的范围应为部门编码，没有编码为 \"{}\" 的部门",
                    scope.chars().take(40).collect::<String>()
                )
            })?;
        let id = d.id;
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
    pub role: Option<Role>,
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
    pub role: Option<Role>,
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
    // An unreadable stored role is shown as none: such an account cannot sign in either.
    let role_of = |r: &Option<String>| r.as_deref().and_then(|r| r.parse::<Role>().ok());
    AccountView {
        id: a.id,
        username: a.username.clone(),
        display_name: a.display_name.clone(),
        role: role_of(&a.role),
        role_name: role_of(&a.role).map(Role::label_zh),
        scope: ScopeOf {
            kind: a.scope_kind.clone(),
            code: a.scope_code.clone(),
            serves: a.scope_serves.clone(),
        },
        proposed: a.proposed_role.as_ref().map(|_| Proposal {
            role: role_of(&a.proposed_role),
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

fn invalid(field: &str, m: impl Into<String>) -> AppError {
    AppError::invalid("account.invalid", m).at(field)
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

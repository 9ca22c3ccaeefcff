//! The three separated administrator duties (三员分立): the system administrator manages
//! accounts, the security administrator roles and policy, the audit administrator reads the
//! audit trail. Each endpoint checks its one permission; none of them reads business data.

use crate::auth::{Caller, now};
use crate::params::{json_body, time_param};
use crate::{ApiError, ApiResult, AppState};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use uuid::Uuid;
use wangge_domain::access::{Node, Permission, Role};
use wangge_security::password;
use wangge_store::{AccountRow, AuditQuery, NewAccount, Store};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/accounts", get(list_accounts).post(create_account))
        .route("/api/v1/accounts/{id}/unlock", post(unlock))
        .route("/api/v1/accounts/{id}/deactivate", post(deactivate))
        .route("/api/v1/accounts/{id}/role", put(change_role))
        .route("/api/v1/security/policy", get(policy))
        .route("/api/v1/audit", get(audit))
}

fn account_json(a: &AccountRow) -> Value {
    json!({
        "id": a.id, "username": a.username, "display_name": a.display_name, "role": a.role,
        "scope": {"kind": a.scope_kind, "code": a.scope_code, "serves": a.scope_serves},
        "second_factor_enabled": a.totp_enabled != 0, "failed_logins": a.failed_logins,
        "locked_until": a.locked_until, "active": a.active != 0, "created_at": a.created_at,
    })
}

async fn list_accounts(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require(Permission::ManageAccounts)?;
    let accounts = state.store.accounts().await?;
    Ok(Json(
        json!({"accounts": accounts.iter().map(account_json).collect::<Vec<_>>()}),
    ))
}

/// Resolves a scope given as a region code, a grid code or a department id into the stored form
/// `(kind, code, serves)`, checking that it exists and suits the role.
pub async fn resolve_scope(
    store: &Store,
    role: Role,
    scope: &str,
) -> Result<(String, String, Option<String>), String> {
    if role.scoped_to_department() {
        let id: Uuid = scope
            .trim()
            .parse()
            .map_err(|_| format!("部门工作人员的范围应为部门编号（UUID），收到 \"{scope}\""))?;
        let d = store
            .department(id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("部门 {id} 不存在"))?;
        return Ok(("department".into(), id.to_string(), Some(d.region_code)));
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
    Ok(("place".into(), node.code().to_string(), None))
}

#[derive(Deserialize)]
struct CreateBody {
    username: String,
    display_name: String,
    role: String,
    scope: String,
    password: String,
}

async fn create_account(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<CreateBody>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require(Permission::ManageAccounts)?;
    let b = json_body(body)?;
    let invalid = |field: &str, m: String| {
        ApiError::bad_request("account.invalid", m).with_details(json!({"field": field}))
    };
    let username = b.username.trim().to_string();
    if username.is_empty() || username.len() > 64 || username.chars().any(char::is_whitespace) {
        return Err(invalid("username", "用户名应为1–64个字符且不含空格".into()));
    }
    let role: Role = b.role.parse().map_err(|m| invalid("role", m))?;
    if role.is_administrator() {
        // Administrator accounts are created on the server with `wangge user add`, never by
        // another administrator over the network.
        return Err(crate::auth::forbidden());
    }
    password::check_policy(&username, &b.password)
        .map_err(|e| invalid("password", e.to_string()))?;
    let (kind, code, serves) = resolve_scope(&state.store, role, &b.scope)
        .await
        .map_err(|m| invalid("scope", m))?;
    let hash = tokio::task::spawn_blocking(move || password::hash(&b.password))
        .await
        .map_err(|_| forbidden_internal())?;
    let new = NewAccount {
        username,
        display_name: b.display_name,
        role: role.as_str().into(),
        scope_kind: kind,
        scope_code: code,
        scope_serves: serves,
        password_hash: hash,
    };
    let t = now();
    let id = state
        .store
        .create_account(&new, t)
        .await
        .map_err(|e| match e {
            wangge_store::StoreError::Conflict(m) => {
                ApiError::new(StatusCode::CONFLICT, "account.exists", m)
            }
            other => other.into(),
        })?;
    state
        .store
        .append_audit(&caller.audit("account.create", Some("account"), Some(id.to_string()), json!({"after": {"username": new.username, "role": new.role, "scope": new.scope_code}})), t)
        .await?;
    let created = state
        .store
        .account(id)
        .await?
        .ok_or_else(forbidden_internal)?;
    Ok((StatusCode::CREATED, Json(account_json(&created))))
}

fn forbidden_internal() -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "服务器内部错误",
    )
}

async fn target(state: &AppState, id: &str) -> ApiResult<AccountRow> {
    let id: Uuid = id
        .parse()
        .map_err(|_| ApiError::bad_request("account.bad_id", format!("账户编号无效：\"{id}\"")))?;
    state
        .store
        .account(id)
        .await?
        .ok_or_else(|| ApiError::not_found("account.not_found", "账户不存在"))
}

async fn unlock(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require(Permission::ManageAccounts)?;
    let a = target(&state, &id).await?;
    let t = now();
    state.store.set_lock(a.id, None, t).await?;
    state.tokens.clear();
    state
        .store
        .append_audit(
            &caller.audit(
                "account.unlock",
                Some("account"),
                Some(a.id.to_string()),
                json!({"before": {"locked_until": a.locked_until}}),
            ),
            t,
        )
        .await?;
    Ok(Json(account_json(
        &state.store.account(a.id).await?.unwrap_or(a),
    )))
}

async fn deactivate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require(Permission::ManageAccounts)?;
    let a = target(&state, &id).await?;
    if a.active == 0 {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "account.inactive",
            "账户已停用",
        ));
    }
    let t = now();
    state.store.deactivate_account(a.id, t).await?;
    state.tokens.clear();
    state
        .store
        .append_audit(
            &caller.audit(
                "account.deactivate",
                Some("account"),
                Some(a.id.to_string()),
                json!({"before": {"active": true}, "after": {"active": false}}),
            ),
            t,
        )
        .await?;
    Ok(Json(account_json(
        &state.store.account(a.id).await?.unwrap_or(a),
    )))
}

#[derive(Deserialize)]
struct RoleBody {
    role: String,
    scope: Option<String>,
}

async fn change_role(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<RoleBody>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    caller.require(Permission::ManageSecurity)?;
    let b = json_body(body)?;
    let a = target(&state, &id).await?;
    let role: Role = b
        .role
        .parse()
        .map_err(|m| ApiError::bad_request("account.invalid", m))?;
    let current: Role = a.role.parse().map_err(|_| forbidden_internal())?;
    // No account may move into or out of an administrator duty over the network: that is how one
    // person would come to hold two of them.
    if role.is_administrator() || current.is_administrator() {
        return Err(crate::auth::forbidden());
    }
    let scope = b.scope.unwrap_or_else(|| a.scope_code.clone());
    let (kind, code, serves) = resolve_scope(&state.store, role, &scope)
        .await
        .map_err(|m| {
            ApiError::bad_request("account.invalid", m).with_details(json!({"field": "scope"}))
        })?;
    let t = now();
    state
        .store
        .set_role(a.id, role.as_str(), &kind, &code, serves.as_deref(), t)
        .await?;
    state.tokens.clear();
    state
        .store
        .append_audit(
            &caller.audit(
                "account.role",
                Some("account"),
                Some(a.id.to_string()),
                json!({"before": {"role": a.role, "scope": a.scope_code}, "after": {"role": role.as_str(), "scope": code}}),
            ),
            t,
        )
        .await?;
    Ok(Json(account_json(
        &state.store.account(a.id).await?.unwrap_or(a),
    )))
}

async fn policy(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require(Permission::ManageSecurity)?;
    let s = &state.auth;
    Ok(Json(json!({
        "lockout_after_failures": s.max_failures,
        "lockout_minutes": s.lock_for.num_minutes(),
        "idle_timeout_minutes": s.idle_timeout.num_minutes(),
        "absolute_timeout_hours": s.absolute_timeout.num_hours(),
        "ip_failures_per_window": s.ip_max_failures,
        "ip_window_minutes": s.ip_window.num_minutes(),
        "second_factor_roles": Role::ALL.iter().filter(|r| r.requires_second_factor()).map(|r| r.as_str()).collect::<Vec<_>>(),
        "password_policy": "至少8个字符，包含大写字母、小写字母、数字、符号中的至少三类，且不同于用户名",
    })))
}

async fn audit(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    caller.require(Permission::ReadAudit)?;
    let limit = match q.get("limit") {
        Some(l) => l
            .parse()
            .map_err(|_| ApiError::bad_request("audit.bad_limit", "limit 应为1–1000的整数"))?,
        None => 100,
    };
    let query = AuditQuery {
        actor: q.get("actor").cloned(),
        action: q.get("action").cloned(),
        record_type: q.get("record_type").cloned(),
        record_id: q.get("record_id").cloned(),
        from: time_param(&q, "from", "audit.bad_time")?,
        to: time_param(&q, "to", "audit.bad_time")?,
        limit,
    };
    let rows = state.store.search_audit(&query).await?;
    Ok(Json(json!({"records": rows})))
}

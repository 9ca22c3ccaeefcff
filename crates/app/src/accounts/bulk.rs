//! Accounts in bulk (批量开通账号), within 三员分立: the system administrator imports a sheet of
//! people (by ID-card number) with the role and scope proposed for each; the accounts are created
//! awaiting approval, in one batch, each with a one-time initial password that is returned once
//! as a workbook to hand out and never stored; the security administrator approves the batch in
//! one action. The operator on the server (`wangge user import`) grants at once. Every account
//! must change its initial password at its first login.

use super::{approve, check_username, resolve_scope};
use crate::context::Context;
use crate::error::{AppError, AppResult};
use crate::principal::Principal;
use crate::registry::{Download, refused};
use crate::workbook::{self, Value};
use serde::Serialize;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;
use wangge_domain::access::{Permission, Role};
use wangge_domain::registers::accounts::{self as sheet, AccountRecord};
use wangge_domain::registers::{Problem, mask_personal};
use wangge_security::password;
use wangge_store::{NewAccount, NewPerson};

/// What an import of accounts did, or would do as a dry run.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccountImportReport {
    /// The batch the security administrator approves; none for a dry run.
    pub batch: Option<String>,
    pub dry_run: bool,
    pub rows: usize,
    pub created: usize,
    /// Whether the roles were granted at once (the operator) or await approval.
    pub awaiting_approval: bool,
}

/// The report, and for a real import the initial passwords' workbook, delivered this once.
#[derive(Debug)]
pub struct AccountImport {
    pub report: AccountImportReport,
    pub passwords: Option<Download>,
}

/// The empty sheet to fill.
pub fn template(who: &Principal) -> AppResult<Download> {
    who.require(Permission::ManageAccounts)?;
    Ok(Download {
        filename: "accounts-template.xlsx".into(),
        bytes: workbook::register(sheet::SHEET, sheet::COLUMNS, &[])?,
    })
}

fn problem(r: &AccountRecord, header: &str, reason: String) -> Problem {
    Problem {
        sheet: sheet::SHEET.into(),
        row: r.row,
        column: None,
        header: Some(header.into()),
        reason,
    }
}

/// One account to make, checked against the city as stored.
struct Planned {
    record: AccountRecord,
    person: Uuid,
    display_name: String,
    scope: super::StoredScope,
}

pub async fn import(
    ctx: &Context,
    who: &Principal,
    bytes: &[u8],
    dry_run: bool,
) -> AppResult<AccountImport> {
    who.require(Permission::ManageAccounts)?;
    let operator = matches!(who, Principal::Operator);
    let read = workbook::read(bytes, sheet::SHEET).map_err(|p| refused(vec![p]))?;
    let records = sheet::read(&read).map_err(refused)?;
    let people: HashMap<String, NewPerson> = ctx
        .store
        .people_register()
        .await?
        .into_iter()
        .filter_map(|p| Some((p.id_number_idx.clone()?, p)))
        .collect();
    let accounts = ctx.store.accounts().await?;
    let taken: HashSet<String> = accounts.iter().map(|a| a.username.to_lowercase()).collect();
    let held: HashMap<Uuid, &str> = accounts
        .iter()
        .filter(|a| a.active != 0)
        .filter_map(|a| Some((a.person_id?, a.username.as_str())))
        .collect();
    let mut problems = Vec::new();
    let mut planned = Vec::new();
    for r in records {
        let before = problems.len();
        if let Err(e) = check_username(&r.username) {
            problems.push(problem(&r, sheet::USERNAME, e.message.to_string()));
        } else if taken.contains(&r.username.to_lowercase()) {
            problems.push(problem(
                &r,
                sheet::USERNAME,
                format!("用户名 {} 已被使用", r.username),
            ));
        }
        let person = people.get(&ctx.keys.blind_index("id_number", &r.id_number));
        match person {
            None => problems.push(problem(
                &r,
                sheet::ID_NUMBER,
                format!(
                    "身份证号 {} 不在人员台账中（请先导入人员）",
                    mask_personal(&r.id_number)
                ),
            )),
            // The administrator keeps accounts, not the people register: the person is named by
            // the masked number they typed, never by the register's name.
            Some(p) if !p.active => problems.push(problem(
                &r,
                sheet::ID_NUMBER,
                format!(
                    "身份证号 {} 的人员已离职，不能开通账号",
                    mask_personal(&r.id_number)
                ),
            )),
            Some(p) => {
                if let Some(u) = held.get(&p.id) {
                    problems.push(problem(
                        &r,
                        sheet::ID_NUMBER,
                        format!(
                            "身份证号 {} 的人员已有账号 {u}",
                            mask_personal(&r.id_number)
                        ),
                    ));
                }
            }
        }
        let scope = match resolve_scope(&ctx.store, r.role, &r.scope).await {
            Ok(s) => Some(s),
            Err(m) => {
                problems.push(problem(&r, sheet::SCOPE, m));
                None
            }
        };
        if problems.len() > before {
            continue;
        }
        let (Some(p), Some(scope)) = (person, scope) else {
            continue;
        };
        planned.push(Planned {
            display_name: r.display_name.clone().unwrap_or_else(|| p.name.clone()),
            person: p.id,
            scope,
            record: r,
        });
    }
    if !problems.is_empty() {
        return Err(refused(problems));
    }
    let mut report = AccountImportReport {
        batch: None,
        dry_run,
        rows: planned.len(),
        created: 0,
        awaiting_approval: !operator,
    };
    if dry_run {
        return Ok(AccountImport {
            report,
            passwords: None,
        });
    }
    let t = ctx.now();
    let batch = format!(
        "{}-{}",
        (t + chrono::Duration::hours(8)).format("%Y%m%d%H%M"),
        &wangge_security::crypto::hex(&wangge_security::random_bytes::<3>())
    );
    // Argon2id is slow by design: hash the batch's passwords on the blocking pool, together.
    let passwords: Vec<String> = planned
        .iter()
        .map(|_| password::generate_initial())
        .collect();
    let hashes = {
        let pws = passwords.clone();
        tokio::task::spawn_blocking(move || {
            pws.iter().map(|p| password::hash(p)).collect::<Vec<_>>()
        })
        .await
        .map_err(|_| AppError::internal("internal", "服务器内部错误"))?
    };
    let mut sheet_rows = vec![
        ["用户名", "姓名", "角色", "范围代码", "初始密码"]
            .iter()
            .map(|h| Value::Text(h.to_string()))
            .collect::<Vec<_>>(),
    ];
    for ((p, pw), hash) in planned.iter().zip(&passwords).zip(hashes) {
        let id = ctx
            .store
            .create_account(
                &NewAccount {
                    username: p.record.username.clone(),
                    display_name: p.display_name.clone(),
                    role: p.record.role.as_str().into(),
                    scope_kind: p.scope.kind.clone(),
                    scope_code: p.scope.code.clone(),
                    scope_serves: p.scope.serves.clone(),
                    password_hash: hash,
                    proposed_by: (!operator).then(|| who.actor_name()),
                },
                t,
            )
            .await
            .map_err(|e| match e {
                wangge_store::StoreError::Conflict(m) => AppError::conflict("account.exists", m),
                other => other.into(),
            })?;
        ctx.store
            .set_account_origin(id, Some(p.person), Some(&batch), true)
            .await?;
        report.created += 1;
        sheet_rows.push(vec![
            Value::Text(p.record.username.clone()),
            Value::Text(p.display_name.clone()),
            Value::Text(p.record.role.label_zh().into()),
            Value::Text(p.record.scope.clone()),
            Value::Text(pw.clone()),
        ]);
    }
    // The trail names the batch and its accounts, never a password.
    ctx.store
        .append_audit(
            &who.audit(
                if operator {
                    "account.import"
                } else {
                    "account.propose_batch"
                },
                Some("account_batch"),
                Some(batch.clone()),
                json!({"accounts": planned.iter().map(|p| json!({"username": p.record.username,
                    "role": p.record.role.as_str(), "scope": p.scope.code})).collect::<Vec<_>>()}),
            ),
            t,
        )
        .await?;
    report.batch = Some(batch.clone());
    Ok(AccountImport {
        report,
        passwords: Some(Download {
            filename: format!("initial-passwords-{batch}.xlsx"),
            bytes: workbook::table("初始密码", &sheet_rows)?,
        }),
    })
}

/// A batch approved.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BatchApproved {
    pub batch: String,
    pub approved: usize,
}

/// 审批: the security administrator grants every proposal of a batch in one action; each is
/// checked again, as one approval is.
pub async fn approve_batch(
    ctx: &Context,
    who: &Principal,
    batch: &str,
) -> AppResult<BatchApproved> {
    who.require(Permission::ManageSecurity)?;
    let accounts = ctx.store.accounts_in_batch(batch.trim()).await?;
    if accounts.is_empty() {
        return Err(AppError::not_found("account.no_batch", "没有这一批账号"));
    }
    let pending: Vec<_> = accounts
        .iter()
        .filter(|a| a.proposed_role.is_some())
        .collect();
    if pending.is_empty() {
        return Err(AppError::conflict(
            "account.nothing_to_approve",
            "这一批账号已全部审批",
        ));
    }
    for a in &pending {
        approve(ctx, who, &a.id.to_string()).await?;
    }
    Ok(BatchApproved {
        batch: batch.trim().into(),
        approved: pending.len(),
    })
}

/// A batch with accounts still awaiting approval.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PendingBatch {
    pub batch: String,
    pub proposed_by: Option<String>,
    pub pending: usize,
    /// The roles proposed, by name, with how many of each.
    pub roles: Vec<RoleCount>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RoleCount {
    pub role: String,
    pub count: usize,
}

/// The batches awaiting the security administrator.
pub async fn pending_batches(ctx: &Context, who: &Principal) -> AppResult<Vec<PendingBatch>> {
    if who.require(Permission::ManageSecurity).is_err() {
        who.require(Permission::ManageAccounts)?;
    }
    let mut by: std::collections::BTreeMap<String, PendingBatch> = Default::default();
    for a in ctx.store.accounts().await? {
        let (Some(batch), Some(role)) = (&a.batch, &a.proposed_role) else {
            continue;
        };
        let b = by.entry(batch.clone()).or_insert_with(|| PendingBatch {
            batch: batch.clone(),
            proposed_by: a.proposed_by.clone(),
            pending: 0,
            roles: Vec::new(),
        });
        b.pending += 1;
        let name = role
            .parse::<Role>()
            .map(|r| r.label_zh().to_string())
            .unwrap_or_else(|_| role.clone());
        match b.roles.iter_mut().find(|c| c.role == name) {
            Some(c) => c.count += 1,
            None => b.roles.push(RoleCount {
                role: name,
                count: 1,
            }),
        }
    }
    Ok(by.into_values().rev().collect())
}

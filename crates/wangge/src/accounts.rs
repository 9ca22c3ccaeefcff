//! `wangge user`, `wangge token` and `wangge audit`: the operator's account and audit commands.
//! They run on the server with the operator's own authority, and each change they make is
//! written to the audit trail under the actor `cli`.

use anyhow::{Context, Result, bail};
use chrono::{Duration, SubsecRound, Utc};
use serde_json::json;
use std::io::BufRead;
use std::process::ExitCode;
use wangge_domain::access::Role;
use wangge_security::{password, token};
use wangge_store::{AccountRow, AuditEntry, AuditQuery, NewAccount, Store};

fn now() -> chrono::DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

pub fn cli_audit(
    action: &str,
    record_type: &str,
    record_id: Option<String>,
    detail: serde_json::Value,
) -> AuditEntry {
    AuditEntry {
        actor: "cli".into(),
        actor_role: None,
        ip: None,
        action: action.into(),
        record_type: Some(record_type.into()),
        record_id,
        detail,
    }
}

async fn account(store: &Store, username: &str) -> Result<AccountRow> {
    store
        .account_by_username(username)
        .await?
        .with_context(|| format!("用户 {username} 不存在"))
}

pub struct AddUser<'a> {
    pub username: &'a str,
    pub display_name: Option<&'a str>,
    pub role: &'a str,
    pub scope: &'a str,
    pub password: &'a str,
}

/// Creates an account after checking the role, the scope and the password policy.
pub async fn add_user(store: &Store, u: AddUser<'_>) -> Result<AccountRow> {
    let role: Role = u
        .role
        .parse()
        .map_err(|m: String| anyhow::anyhow!("--role：{m}"))?;
    let username = u.username.trim();
    if username.is_empty() || username.chars().any(char::is_whitespace) {
        bail!("--username 不能为空或含空格");
    }
    password::check_policy(username, u.password)
        .map_err(|e| anyhow::anyhow!("密码不符合策略：{e}"))?;
    let (kind, code, serves) = wangge_web::resolve_scope(store, role, u.scope)
        .await
        .map_err(|m| anyhow::anyhow!("--scope：{m}"))?;
    let hash = password::hash(u.password);
    let new = NewAccount {
        username: username.into(),
        display_name: u.display_name.unwrap_or(username).into(),
        role: role.as_str().into(),
        scope_kind: kind,
        scope_code: code,
        scope_serves: serves,
        password_hash: hash,
    };
    let id = store.create_account(&new, now()).await?;
    store
        .append_audit(&cli_audit("account.create", "account", Some(id.to_string()), json!({"after": {"username": new.username, "role": new.role, "scope": new.scope_code}})), now())
        .await?;
    account(store, username).await
}

pub fn read_password_stdin() -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("无法从标准输入读取密码")?;
    let pw = line.trim_end_matches(['\r', '\n']).to_string();
    if pw.is_empty() {
        bail!("标准输入中没有密码（用 --password-stdin 时请通过管道传入一行密码）");
    }
    Ok(pw)
}

pub async fn lock(store: &Store, username: &str, minutes: Option<i64>) -> Result<()> {
    let a = account(store, username).await?;
    // Without a duration the lock holds until an operator lifts it.
    let until = now() + minutes.map_or(Duration::days(365 * 100), Duration::minutes);
    store.set_lock(a.id, Some(until), now()).await?;
    store
        .append_audit(
            &cli_audit(
                "account.lock",
                "account",
                Some(a.id.to_string()),
                json!({"after": {"locked_until": until}}),
            ),
            now(),
        )
        .await?;
    println!(
        "已锁定 {username}，直到 {}",
        until.format("%Y-%m-%d %H:%M UTC")
    );
    Ok(())
}

pub async fn unlock(store: &Store, username: &str) -> Result<()> {
    let a = account(store, username).await?;
    store.set_lock(a.id, None, now()).await?;
    store
        .append_audit(
            &cli_audit(
                "account.unlock",
                "account",
                Some(a.id.to_string()),
                json!({"before": {"locked_until": a.locked_until}}),
            ),
            now(),
        )
        .await?;
    println!("已解锁 {username}");
    Ok(())
}

pub async fn deactivate(store: &Store, username: &str) -> Result<()> {
    let a = account(store, username).await?;
    store.deactivate_account(a.id, now()).await?;
    store
        .append_audit(
            &cli_audit(
                "account.deactivate",
                "account",
                Some(a.id.to_string()),
                json!({"after": {"active": false}}),
            ),
            now(),
        )
        .await?;
    println!("已停用 {username}（账户保留，历史记录可查；会话和令牌已失效）");
    Ok(())
}

pub async fn list(store: &Store) -> Result<()> {
    let t = now();
    println!(
        "{:<16} {:<18} {:<20} {:<6} 姓名",
        "用户名", "角色", "范围", "状态"
    );
    for a in store.accounts().await? {
        let state = if a.active == 0 {
            "停用"
        } else if a.locked_until.is_some_and(|u| u > t) {
            "锁定"
        } else {
            "正常"
        };
        println!(
            "{:<16} {:<18} {:<20} {:<6} {}",
            a.username, a.role, a.scope_code, state, a.display_name
        );
    }
    Ok(())
}

pub async fn token_create(store: &Store, username: &str, name: &str) -> Result<()> {
    let a = account(store, username).await?;
    if a.active == 0 {
        bail!("用户 {username} 已停用");
    }
    let secret = token::generate("wgt_");
    let id = store
        .create_token(a.id, name, &token::digest(&secret), now())
        .await?;
    store
        .append_audit(
            &cli_audit(
                "token.create",
                "api_token",
                Some(id.to_string()),
                json!({"account": a.username, "name": name}),
            ),
            now(),
        )
        .await?;
    eprintln!("访问令牌已创建（编号 {id}）。令牌只显示这一次，请妥善保存：");
    println!("{secret}");
    Ok(())
}

pub async fn token_revoke(store: &Store, id: &str) -> Result<()> {
    let id: uuid::Uuid = id.parse().with_context(|| format!("令牌编号无效：{id}"))?;
    if !store.revoke_token(id, now()).await? {
        bail!("令牌 {id} 不存在或已吊销");
    }
    store
        .append_audit(
            &cli_audit("token.revoke", "api_token", Some(id.to_string()), json!({})),
            now(),
        )
        .await?;
    println!("已吊销令牌 {id}");
    Ok(())
}

pub async fn token_list(store: &Store) -> Result<()> {
    let names: std::collections::HashMap<_, _> = store
        .accounts()
        .await?
        .into_iter()
        .map(|a| (a.id, a.username))
        .collect();
    for t in store.tokens().await? {
        println!(
            "{} {:<16} {:<20} {}",
            t.id,
            names.get(&t.account_id).map_or("?", String::as_str),
            t.name,
            if t.revoked_at.is_some() {
                "已吊销".to_string()
            } else {
                t.last_used_at.map_or("未使用".into(), |u| {
                    format!("最近使用 {}", u.format("%Y-%m-%d %H:%M"))
                })
            }
        );
    }
    Ok(())
}

pub async fn audit_verify(store: &Store) -> Result<ExitCode> {
    let check = store.verify_audit().await?;
    match check.problem {
        None => {
            println!("审计链完整：共 {} 条记录，全部校验通过。", check.records);
            Ok(ExitCode::SUCCESS)
        }
        Some((seq, why)) => {
            println!(
                "审计链被破坏：第一个问题在第 {seq} 条记录：{why}（此前 {} 条记录校验通过）",
                check.records
            );
            Ok(ExitCode::from(2))
        }
    }
}

pub async fn audit_search(
    store: &Store,
    actor: Option<String>,
    record: Option<String>,
    limit: i64,
) -> Result<()> {
    let rows = store
        .search_audit(&AuditQuery {
            actor,
            record_id: record,
            limit,
            ..Default::default()
        })
        .await?;
    for r in rows {
        println!(
            "{:>6} {} {:<12} {:<24} {} {}",
            r.seq,
            r.at.format("%Y-%m-%d %H:%M:%S"),
            r.actor,
            r.action,
            r.record_id.unwrap_or_default(),
            r.detail
        );
    }
    Ok(())
}

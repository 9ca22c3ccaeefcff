//! `wangge user`, `wangge token` and `wangge audit`: the operator's account and audit commands.
//! They run on the server with the operator's own authority ([`Principal::Operator`], who holds
//! both administrators' duties there: an account added here is granted its role at once), through
//! the same use cases as the API, and each change is audited under the actor `cli`.

use crate::{AuditCommand, TokenCommand, UserCommand};
use anyhow::{Context as _, Result, bail};
use std::io::BufRead;
use std::process::ExitCode;
use wangge_app::accounts::{self, AccountView, NewAccountInput};
use wangge_app::{AppError, Context, Principal};
use wangge_store::AuditEntry;

pub async fn run_user(ctx: &Context, command: UserCommand) -> Result<()> {
    match command {
        UserCommand::Add {
            username,
            role,
            scope,
            display_name,
            password_stdin: _,
        } => {
            let password = read_password_stdin()?;
            let a = add_user(
                ctx,
                AddUser {
                    username: &username,
                    display_name: display_name.as_deref(),
                    role: &role,
                    scope: &scope,
                    password: &password,
                },
            )
            .await?;
            print_added(&a);
        }
        UserCommand::Lock { username, minutes } => lock(ctx, &username, minutes).await?,
        UserCommand::Unlock { username } => unlock(ctx, &username).await?,
        UserCommand::Deactivate { username } => deactivate(ctx, &username).await?,
        UserCommand::Approve { username } => approve(ctx, &username).await?,
        UserCommand::List => list(ctx).await?,
        UserCommand::Template { file } => {
            let d = accounts::bulk::template(&Principal::Operator).map_err(shown)?;
            std::fs::write(&file, d.bytes)
                .with_context(|| format!("无法写入 {}", file.display()))?;
            println!("已写出账号表模板 {}", file.display());
        }
        UserCommand::Import {
            file,
            passwords,
            dry_run,
        } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("无法读取 {}", file.display()))?;
            let done = accounts::bulk::import(ctx, &Principal::Operator, &bytes, dry_run)
                .await
                .map_err(|e| {
                    let problems = e
                        .details
                        .as_ref()
                        .and_then(|d| d["problems"].as_array().cloned())
                        .unwrap_or_default();
                    let lines: Vec<String> = problems
                        .iter()
                        .map(|p| format!("  {}", p["message"].as_str().unwrap_or_default()))
                        .collect();
                    anyhow::anyhow!("导入被拒绝：{}\n{}", e.message, lines.join("\n"))
                })?;
            match (done.passwords, passwords) {
                (Some(book), Some(out)) => {
                    std::fs::write(&out, book.bytes)
                        .with_context(|| format!("无法写入 {}", out.display()))?;
                    println!(
                        "已开通 {} 个账号（批次 {}），初始密码已写入 {}：请当面或密封交给本人，首次登录须修改密码",
                        done.report.created,
                        done.report.batch.unwrap_or_default(),
                        out.display()
                    );
                }
                _ => println!(
                    "试导入（未创建）：共 {} 个账号，全部可以开通",
                    done.report.rows
                ),
            }
        }
        UserCommand::ApproveBatch { batch } => {
            let done = accounts::bulk::approve_batch(ctx, &Principal::Operator, &batch)
                .await
                .map_err(shown)?;
            println!("已审批批次 {} 的 {} 个账号", done.batch, done.approved);
        }
    }
    Ok(())
}

pub async fn run_token(ctx: &Context, command: TokenCommand) -> Result<()> {
    match command {
        TokenCommand::Create { username, name } => token_create(ctx, &username, &name).await,
        TokenCommand::Revoke { id } => token_revoke(ctx, &id).await,
        TokenCommand::List => token_list(ctx).await,
    }
}

/// `anchors` is the data directory, where every server keeps its anchor of the chain.
pub async fn run_audit(
    ctx: &Context,
    anchors: &std::path::Path,
    command: AuditCommand,
) -> Result<ExitCode> {
    match command {
        AuditCommand::Verify => audit_verify(ctx, anchors).await,
        AuditCommand::Search {
            actor,
            record,
            limit,
        } => {
            audit_search(ctx, actor, record, limit).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// An error of the application layer as the shell shows it: its message, and the field.
fn shown(e: AppError) -> anyhow::Error {
    match e.details.as_ref().and_then(|d| d["field"].as_str()) {
        Some(field) => anyhow::anyhow!("{}（--{field}）", e.message),
        None => anyhow::anyhow!("{}", e.message),
    }
}

pub fn cli_audit(
    action: &str,
    record_type: &str,
    record_id: Option<String>,
    detail: serde_json::Value,
) -> AuditEntry {
    Principal::Operator.audit(action, Some(record_type), record_id, detail)
}

pub struct AddUser<'a> {
    pub username: &'a str,
    pub display_name: Option<&'a str>,
    pub role: &'a str,
    pub scope: &'a str,
    pub password: &'a str,
}

/// Creates an account with its role granted (the operator on the server).
pub async fn add_user(ctx: &Context, u: AddUser<'_>) -> Result<AccountView> {
    accounts::create(
        ctx,
        &Principal::Operator,
        NewAccountInput {
            username: u.username.into(),
            display_name: u.display_name.unwrap_or_default().into(),
            role: u.role.into(),
            scope: u.scope.into(),
            password: u.password.into(),
        },
    )
    .await
    .map_err(shown)
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

async fn account(ctx: &Context, username: &str) -> Result<wangge_store::AccountRow> {
    accounts::by_username(ctx, username).await.map_err(shown)
}

/// Locks an account until unlocked (or for `minutes`); its sessions end and its tokens stop.
pub async fn lock(ctx: &Context, username: &str, minutes: Option<i64>) -> Result<()> {
    let a = account(ctx, username).await?;
    let v = accounts::lock(ctx, &Principal::Operator, a, minutes)
        .await
        .map_err(shown)?;
    println!(
        "已锁定 {username}，直到 {}（会话和令牌已失效）",
        v.locked_until
            .map(|u| u.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default()
    );
    Ok(())
}

pub async fn unlock(ctx: &Context, username: &str) -> Result<()> {
    let a = account(ctx, username).await?;
    accounts::unlock(ctx, &Principal::Operator, a)
        .await
        .map_err(shown)?;
    println!("已解锁 {username}");
    Ok(())
}

pub async fn deactivate(ctx: &Context, username: &str) -> Result<()> {
    let a = account(ctx, username).await?;
    accounts::deactivate(ctx, &Principal::Operator, a)
        .await
        .map_err(shown)?;
    println!("已停用 {username}（账户保留，历史记录可查；会话和令牌已失效）");
    Ok(())
}

/// Grants an account the role the system administrator proposed (the operator may approve).
pub async fn approve(ctx: &Context, username: &str) -> Result<()> {
    let a = account(ctx, username).await?;
    let v = accounts::approve(ctx, &Principal::Operator, &a.id.to_string())
        .await
        .map_err(shown)?;
    println!(
        "已批准 {username}：角色 {}，范围 {}",
        v.role_name.unwrap_or_default(),
        v.scope.code.unwrap_or_default()
    );
    Ok(())
}

pub async fn list(ctx: &Context) -> Result<()> {
    println!(
        "{:<16} {:<18} {:<20} {:<6} 姓名",
        "用户名", "角色", "范围", "状态"
    );
    for a in accounts::list(ctx, &Principal::Operator)
        .await
        .map_err(shown)?
        .accounts
    {
        let (role, scope) = match &a.proposed {
            Some(p) => (
                format!("{}（待审批）", p.role.map_or("", |r| r.as_str())),
                p.scope.code.clone().unwrap_or_default(),
            ),
            None => (
                a.role.map_or("", |r| r.as_str()).to_string(),
                a.scope.code.clone().unwrap_or_default(),
            ),
        };
        println!(
            "{:<16} {:<18} {:<20} {:<6} {}",
            a.username,
            role,
            scope,
            a.status.label_zh(),
            a.display_name
        );
    }
    Ok(())
}

pub async fn token_create(ctx: &Context, username: &str, name: &str) -> Result<()> {
    let a = account(ctx, username).await?;
    let (id, secret) = accounts::create_token(ctx, &Principal::Operator, &a, name)
        .await
        .map_err(shown)?;
    eprintln!("访问令牌已创建（编号 {id}）。令牌只显示这一次，请妥善保存：");
    println!("{secret}");
    Ok(())
}

pub async fn token_revoke(ctx: &Context, id: &str) -> Result<()> {
    accounts::revoke_token(ctx, &Principal::Operator, id)
        .await
        .map_err(shown)?;
    println!("已吊销令牌 {id}");
    Ok(())
}

pub async fn token_list(ctx: &Context) -> Result<()> {
    let store = &ctx.store;
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

/// Checks the chain with the key file and every server's anchor in the data directory: exit code 2
/// and the first bad record when it is broken.
pub async fn audit_verify(ctx: &Context, anchors: &std::path::Path) -> Result<ExitCode> {
    let check = wangge_app::audit::verify(ctx, &Principal::Operator, anchors)
        .await
        .map_err(shown)?;
    match check.problem {
        None => {
            println!(
                "审计链完整：共 {} 条记录，全部校验通过（其中 {} 条带密钥签名；核对锚点文件 {} 个）。",
                check.records, check.keyed, check.anchors
            );
            if check.anchors == 0 {
                println!(
                    "注意：数据目录 {} 中没有本数据库的锚点文件，无法排除末尾记录被删除或整条链被重写；请在服务器的数据目录中运行。",
                    anchors.display()
                );
            }
            if check.foreign_anchors > 0 {
                println!(
                    "另有 {} 个锚点文件属于其他数据库，未参与核对。",
                    check.foreign_anchors
                );
            }
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
    ctx: &Context,
    actor: Option<String>,
    record: Option<String>,
    limit: i64,
) -> Result<()> {
    let filter = wangge_app::audit::AuditFilter {
        actor,
        record_id: record,
        limit: Some(limit),
        ..Default::default()
    };
    let rows = wangge_app::audit::search(ctx, &Principal::Operator, &filter)
        .await
        .map_err(shown)?
        .records;
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

pub fn print_added(a: &AccountView) {
    println!(
        "已创建用户 {}（角色 {}，范围 {}，编号 {}）",
        a.username,
        a.role.map_or("", |r| r.as_str()),
        a.scope.code.clone().unwrap_or_default(),
        a.id
    );
}

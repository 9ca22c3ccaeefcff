//! `wangge registry`: the registers' templates, imports and exports as files on the server, by
//! the operator (no size limit, every check of the API, audited as `cli`).

use anyhow::{Context as _, Result};
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;
use wangge_app::{Context, Principal, registry};

#[derive(Subcommand, Debug)]
pub enum RegistryCommand {
    /// Write the empty template of a register (.xlsx: the sheet, a guide, drop-downs)
    Template { kind: String, file: PathBuf },
    /// Import a register from .xlsx or .csv (UTF-8 or GB18030), all or nothing, matched by code
    Import {
        kind: String,
        file: PathBuf,
        /// Check and report only; change nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Export a register as .xlsx (imports again)
    Export { kind: String, file: PathBuf },
}

pub async fn run(ctx: &Context, command: RegistryCommand) -> Result<ExitCode> {
    let who = Principal::Operator;
    match command {
        RegistryCommand::Template { kind, file } => {
            let d =
                registry::template(&who, registry::kind(&kind).map_err(shown)?).map_err(shown)?;
            write(&file, &d.bytes)?;
            println!("已写出模板 {}", file.display());
        }
        RegistryCommand::Export { kind, file } => {
            let kind = registry::kind(&kind).map_err(shown)?;
            let d = registry::export(ctx, &who, kind).await.map_err(shown)?;
            write(&file, &d.bytes)?;
            println!("已导出「{}」台账到 {}", kind.label_zh(), file.display());
        }
        RegistryCommand::Import {
            kind,
            file,
            dry_run,
        } => {
            let kind = registry::kind(&kind).map_err(shown)?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("无法读取 {}", file.display()))?;
            match registry::import(ctx, &who, kind, &bytes, dry_run).await {
                Ok(r) => {
                    let verb = if dry_run {
                        "试导入（未写入）"
                    } else {
                        "导入完成"
                    };
                    println!(
                        "{verb}「{}」：共 {} 行，新增 {}，更新 {}，未变 {}",
                        kind.label_zh(),
                        r.rows,
                        r.created,
                        r.updated,
                        r.unchanged
                    );
                    if r.accounts_deactivated > 0 {
                        println!("离职人员的 {} 个账号已停用", r.accounts_deactivated);
                    }
                }
                Err(e) => {
                    eprintln!("导入被拒绝：{}", e.message);
                    let problems = e
                        .details
                        .as_ref()
                        .and_then(|d| d["problems"].as_array().cloned())
                        .unwrap_or_default();
                    for p in problems {
                        eprintln!("  {}", p["message"].as_str().unwrap_or_default());
                    }
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn write(file: &PathBuf, bytes: &[u8]) -> Result<()> {
    std::fs::write(file, bytes).with_context(|| format!("无法写入 {}", file.display()))
}

fn shown(e: wangge_app::AppError) -> anyhow::Error {
    anyhow::anyhow!("{}", e.message)
}

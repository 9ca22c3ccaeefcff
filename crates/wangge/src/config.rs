//! Configuration: command-line flags, then `WANGGE_*` environment variables (clap reads both),
//! then an optional TOML file, then defaults.

use crate::Cli;
use anyhow::{Context, Result};
use chrono::Duration;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use wangge_app::auth::SecurityPolicy as AuthSettings;
use wangge_security::crypto::KeyRing;
use wangge_store::Store;

pub const DEFAULT_DATA_DIR: &str = "wangge-data";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
const DEFAULT_CONFIG_FILE: &str = "wangge.toml";
pub const DEFAULT_KEY_FILE: &str = "keys.txt";

/// The TOML file's keys; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    listen: Option<String>,
    key_file: Option<PathBuf>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    webhook_url: Option<String>,
    webhook_secret: Option<String>,
    session_idle_minutes: Option<i64>,
    session_absolute_hours: Option<i64>,
    lockout_after_failures: Option<i64>,
    lockout_minutes: Option<i64>,
}

#[derive(Debug)]
pub struct Config {
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub key_file: PathBuf,
    listen: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub auth: AuthSettings,
    /// Intranet webhook for notices: URL and signing secret (env WANGGE_WEBHOOK_URL/_SECRET win).
    pub webhook: Option<(String, String)>,
}

/// Reads an optional whole-number setting, refusing values outside a sensible range.
fn bounded(
    name: &str,
    v: Option<i64>,
    range: std::ops::RangeInclusive<i64>,
    default: i64,
) -> Result<i64> {
    match v {
        None => Ok(default),
        Some(n) if range.contains(&n) => Ok(n),
        Some(n) => anyhow::bail!(
            "配置项 {name} 应在 {}…{} 之间，收到 {n}",
            range.start(),
            range.end()
        ),
    }
}

impl Config {
    pub fn resolve(cli: &Cli) -> Result<Config> {
        let file = match &cli.config {
            Some(path) => read_file(path)?,
            None if Path::new(DEFAULT_CONFIG_FILE).is_file() => {
                read_file(Path::new(DEFAULT_CONFIG_FILE))?
            }
            None => FileConfig::default(),
        };
        let data_dir = cli
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        Ok(Config {
            key_file: cli
                .key_file
                .clone()
                .or(file.key_file)
                .unwrap_or_else(|| data_dir.join(DEFAULT_KEY_FILE)),
            data_dir,
            database_url: cli
                .database_url
                .clone()
                .or(file.database_url)
                .filter(|u| !u.trim().is_empty()),
            listen: file.listen,
            webhook: match (
                std::env::var("WANGGE_WEBHOOK_URL")
                    .ok()
                    .or(file.webhook_url),
                std::env::var("WANGGE_WEBHOOK_SECRET")
                    .ok()
                    .or(file.webhook_secret),
            ) {
                (Some(u), Some(k)) => Some((u, k)),
                (None, None) => None,
                _ => anyhow::bail!("webhook_url 和 webhook_secret 需要同时配置"),
            },
            tls_cert: file.tls_cert,
            tls_key: file.tls_key,
            auth: {
                let d = AuthSettings::default();
                AuthSettings {
                    idle_timeout: Duration::minutes(bounded(
                        "session_idle_minutes",
                        file.session_idle_minutes,
                        1..=1440,
                        d.idle_timeout.num_minutes(),
                    )?),
                    absolute_timeout: Duration::hours(bounded(
                        "session_absolute_hours",
                        file.session_absolute_hours,
                        1..=72,
                        d.absolute_timeout.num_hours(),
                    )?),
                    max_failures: bounded(
                        "lockout_after_failures",
                        file.lockout_after_failures,
                        1..=100,
                        d.max_failures,
                    )?,
                    lock_for: Duration::minutes(bounded(
                        "lockout_minutes",
                        file.lockout_minutes,
                        1..=1440,
                        d.lock_for.num_minutes(),
                    )?),
                    ..d
                }
            },
        })
    }

    pub fn listen(&self, flag: Option<String>) -> String {
        flag.or_else(|| self.listen.clone())
            .unwrap_or_else(|| DEFAULT_LISTEN.to_string())
    }

    /// Opens the database with its audit records sealed by the key file, this machine's anchor
    /// kept in the data directory (`who` names the process: the server, or the command line).
    pub async fn open_store_as(&self, who: &str) -> Result<(Store, KeyRing)> {
        let store = Store::open(self.database_url.as_deref(), &self.data_dir).await?;
        let keys = self.keys()?;
        let host = std::fs::read_to_string("/etc/hostname")
            .ok()
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "local".into());
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("无法创建数据目录 {}", self.data_dir.display()))?;
        let anchor = wangge_store::anchor_path(&self.data_dir, &format!("{host}-{who}"));
        store.seal_audit(keys.audit_key(), Some(anchor)).await?;
        Ok((store, keys))
    }

    pub async fn open_store(&self) -> Result<Store> {
        Ok(self.open_store_as("cli").await?.0)
    }

    /// The application's context for the operator's commands.
    pub async fn context(&self) -> Result<wangge_app::Context> {
        let (store, keys) = self.open_store_as("cli").await?;
        Ok(wangge_app::Context::new(store, self.auth.clone(), keys).await?)
    }

    /// The data keys. The file is created with fresh keys on first use, next to the database by
    /// default, never inside it; an existing file is never overwritten.
    pub fn keys(&self) -> Result<KeyRing> {
        if !self.key_file.exists() {
            if let Some(dir) = self.key_file.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("无法创建密钥文件目录 {}", dir.display()))?;
            }
            write_private(&self.key_file, &KeyRing::generate_file())
                .with_context(|| format!("无法创建密钥文件 {}", self.key_file.display()))?;
            eprintln!(
                "已生成数据密钥文件 {}（请单独备份，丢失后加密的个人信息无法恢复）",
                self.key_file.display()
            );
        }
        let text = std::fs::read_to_string(&self.key_file)
            .with_context(|| format!("无法读取密钥文件 {}", self.key_file.display()))?;
        KeyRing::parse(&text).with_context(|| format!("密钥文件 {} 无效", self.key_file.display()))
    }

    pub fn describe_database(&self) -> String {
        match &self.database_url {
            Some(u) => wangge_store::redact(u),
            None => format!(
                "SQLite {}",
                self.data_dir.join(wangge_store::SQLITE_FILE).display()
            ),
        }
    }
}

/// Writes a file readable by its owner only.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)?.write_all(text.as_bytes())
}

fn read_file(path: &Path) -> Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("无法读取配置文件 {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("配置文件 {} 格式错误", path.display()))
}

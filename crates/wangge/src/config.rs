//! Configuration: command-line flags, then `WANGGE_*` environment variables (clap reads both),
//! then an optional TOML file, then defaults.

use crate::Cli;
use anyhow::{Context, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use wangge_store::Store;

pub const DEFAULT_DATA_DIR: &str = "wangge-data";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
const DEFAULT_CONFIG_FILE: &str = "wangge.toml";

/// The TOML file's keys; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    listen: Option<String>,
}

#[derive(Debug)]
pub struct Config {
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    listen: Option<String>,
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
        Ok(Config {
            data_dir: cli
                .data_dir
                .clone()
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
            database_url: cli
                .database_url
                .clone()
                .or(file.database_url)
                .filter(|u| !u.trim().is_empty()),
            listen: file.listen,
        })
    }

    pub fn listen(&self, flag: Option<String>) -> String {
        flag.or_else(|| self.listen.clone())
            .unwrap_or_else(|| DEFAULT_LISTEN.to_string())
    }

    pub async fn open_store(&self) -> Result<Store> {
        Ok(Store::open(self.database_url.as_deref(), &self.data_dir).await?)
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

fn read_file(path: &Path) -> Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("无法读取配置文件 {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("配置文件 {} 格式错误", path.display()))
}

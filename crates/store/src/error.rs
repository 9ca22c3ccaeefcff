//! Storage errors. The cause is kept for the log; callers map the kinds to user-facing messages.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("无法创建数据目录 {path}: {reason}")]
    DataDir { path: String, reason: String },
    #[error("无法连接数据库 {target}: {reason}")]
    Connect { target: String, reason: String },
    #[error("数据库迁移失败: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("数据库错误: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Conflict(String),
    #[error("数据库中的数据已损坏: {0}")]
    Corrupt(String),
}

impl StoreError {
    pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt(what.to_string())
    }
}

//! The one error type of the application layer. Each error has a kind (which the HTTP surface
//! maps once to a status), a stable code a client can branch on (`event.illegal_move`), a Chinese
//! message for the person in front of the screen, and optional details (the field at fault, the
//! current version, every problem of an import). Causes are logged where they happen, never shown.

use serde_json::{Value, json};
use wangge_store::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Not there, or outside the caller's sight (the two are answered alike).
    NotFound,
    /// The caller's role or scope may not do this.
    Forbidden,
    /// Who is asking is not known (or no longer: an expired session).
    Unauthorized,
    /// The input is wrong; `details.field` names where.
    Invalid,
    /// The record's state does not allow it now.
    Conflict,
    /// Someone else changed the record first; `details.version` is the current one.
    Stale,
    /// More than the limit (an upload, a body).
    TooLarge,
    /// Too many tries too fast.
    RateLimited,
    /// The account is locked for a while.
    Locked,
    /// The database (or another part the server needs) is not answering.
    Unavailable,
    /// A fault of ours (unreadable stored data, a missing key).
    Internal,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
pub struct AppError {
    pub kind: ErrorKind,
    pub code: &'static str,
    pub message: String,
    pub details: Option<Value>,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(kind: ErrorKind, code: &'static str, message: impl Into<String>) -> AppError {
        AppError {
            kind,
            code,
            message: message.into(),
            details: None,
        }
    }

    pub fn with_details(mut self, details: Value) -> AppError {
        self.details = Some(details);
        self
    }

    /// Names the field at fault (kept with other details).
    pub fn at(mut self, field: impl Into<String>) -> AppError {
        let field = Value::String(field.into());
        match &mut self.details {
            Some(Value::Object(map)) => {
                map.insert("field".into(), field);
            }
            _ => self.details = Some(json!({ "field": field })),
        }
        self
    }

    pub fn invalid(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::new(ErrorKind::Invalid, code, message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::new(ErrorKind::NotFound, code, message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::new(ErrorKind::Conflict, code, message)
    }

    pub fn forbidden() -> AppError {
        AppError::new(
            ErrorKind::Forbidden,
            "auth.forbidden",
            "您的角色无权进行此操作",
        )
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::new(ErrorKind::Unauthorized, code, message)
    }

    /// Someone changed the record since the caller read it.
    pub fn stale(code: &'static str, current: i64) -> AppError {
        AppError::new(ErrorKind::Stale, code, "记录已被他人更新，请刷新后重试")
            .with_details(json!({ "version": current }))
    }

    pub fn internal(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::new(ErrorKind::Internal, code, message)
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        match e {
            StoreError::Conflict(m) => {
                tracing::info!(error = %m, "storage conflict");
                AppError::conflict("store.conflict", m)
            }
            StoreError::Database(sqlx_error) if is_unique_violation(&sqlx_error) => {
                tracing::info!(error = %sqlx_error, "unique key taken");
                AppError::conflict("store.conflict", "数据已存在或已被他人修改，请刷新后重试")
            }
            StoreError::Corrupt(m) => {
                tracing::error!(error = %m, "stored data unreadable");
                AppError::internal("store.corrupt", "数据读取出错，请联系管理员")
            }
            other => {
                tracing::error!(error = %other, "storage error");
                AppError::new(
                    ErrorKind::Unavailable,
                    "store.unavailable",
                    "数据库暂时不可用，请稍后再试",
                )
            }
        }
    }
}

fn is_unique_violation(e: &wangge_store::SqlxError) -> bool {
    matches!(e, wangge_store::SqlxError::Database(d) if d.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_joins_other_details() {
        let e = AppError::invalid("x.bad", "坏")
            .with_details(json!({"nearest": 1}))
            .at("lon");
        assert_eq!(e.details, Some(json!({"nearest": 1, "field": "lon"})));
        let e = AppError::invalid("x.bad", "坏").at("lat");
        assert_eq!(e.details, Some(json!({"field": "lat"})));
    }

    #[test]
    fn storage_conflicts_are_conflicts_not_outages() {
        let e: AppError = StoreError::Conflict("用户名 a 已存在".into()).into();
        assert_eq!((e.kind, e.code), (ErrorKind::Conflict, "store.conflict"));
        let e: AppError = StoreError::Corrupt("x".into()).into();
        assert_eq!(e.kind, ErrorKind::Internal);
        let e: AppError = StoreError::Connect {
            target: "t".into(),
            reason: "r".into(),
        }
        .into();
        assert_eq!(e.kind, ErrorKind::Unavailable);
    }
}

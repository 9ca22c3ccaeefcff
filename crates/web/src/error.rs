//! The application's errors over HTTP, mapped once: each kind to its status, every error to the
//! one JSON shape `{"error": {"code": "...", "message": "...", "details": ...}}` — also for bad
//! JSON, a body over the limit, an unknown address, a method the address does not take, and a
//! panic (caught and logged).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use wangge_app::{AppError, ErrorKind};

/// An [`AppError`] on its way to the client.
#[derive(Debug)]
pub struct ApiError(pub AppError);

pub type ApiResult<T> = Result<T, ApiError>;

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

impl From<wangge_store::StoreError> for ApiError {
    fn from(e: wangge_store::StoreError) -> Self {
        ApiError(e.into())
    }
}

pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorKind::Invalid => StatusCode::BAD_REQUEST,
        ErrorKind::Conflict | ErrorKind::Stale => StatusCode::CONFLICT,
        ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Locked => StatusCode::LOCKED,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The error object of the one shape.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A stable id a client can branch on, e.g. `event.illegal_move`.
    pub code: &'static str,
    /// For the person in front of the screen, in Chinese.
    pub message: String,
    /// The field at fault, the current version, every problem found, …
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

/// `{"error": {...}}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        status_of(self.0.kind)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let AppError {
            code,
            message,
            details,
            ..
        } = self.0;
        (
            status,
            Json(ErrorEnvelope {
                error: ErrorBody {
                    code,
                    message,
                    details,
                },
            }),
        )
            .into_response()
    }
}

/// A panic caught by the server: logged with what it said, answered in the one shape.
pub fn panicked(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = what, "a request panicked");
    ApiError(AppError::internal("internal", "服务器内部错误，请稍后再试")).into_response()
}

pub async fn not_found() -> ApiError {
    ApiError(AppError::not_found("route.not_found", "没有这个地址"))
}

pub async fn method_not_allowed() -> Response {
    let mut res = ApiError(AppError::invalid(
        "route.method_not_allowed",
        "此地址不接受这种请求方法",
    ))
    .into_response();
    *res.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    res
}

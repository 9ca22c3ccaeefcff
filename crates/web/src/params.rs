//! Reading request input with our error shape: JSON bodies and time parameters.

use crate::{ApiError, ApiResult};
use axum::Json;
use axum::extract::rejection::JsonRejection;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// Turns axum's JSON rejection into our error shape with a Chinese message.
pub fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> ApiResult<T> {
    body.map(|Json(b)| b).map_err(|e| {
        ApiError::bad_request(
            "request.bad_json",
            format!("请求体不是有效的 JSON 或缺少字段：{}", e.body_text()),
        )
    })
}

/// An optional RFC 3339 time parameter; a malformed one is a 400 with `code`.
pub fn time_param(
    q: &HashMap<String, String>,
    name: &str,
    code: &'static str,
) -> ApiResult<Option<DateTime<Utc>>> {
    q.get(name)
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    ApiError::bad_request(
                        code,
                        format!("参数 {name} 应为 RFC 3339 时间，例如 2026-11-27T08:00:00+08:00"),
                    )
                })
        })
        .transpose()
}

//! Photos of events: JPEG, PNG or WebP (told by their bytes, not their name or header), at most
//! 10 MB each and 9 per event, stored once on disk by their SHA-256, and served only to those who
//! may see the event.

use crate::auth::{Caller, now};
use crate::{ApiError, ApiResult, AppState};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::PathBuf;
use uuid::Uuid;
use wangge_store::{AttachmentRow, EventRow};

pub const MAX_BYTES: usize = 10 * 1024 * 1024;
pub const MAX_PER_EVENT: usize = 9;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/events/{id}/attachments", post(upload))
        .route(
            "/api/v1/events/{id}/attachments/{attachment}",
            get(download),
        )
}

/// The image type of some bytes, by their signature.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0xFF, 0xD8, 0xFF, ..] => Some("image/jpeg"),
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some("image/png"),
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'E',
            b'B',
            b'P',
            ..,
        ] => Some("image/webp"),
        _ => None,
    }
}

fn path_of(state: &AppState, sha: &str) -> PathBuf {
    state.files.join(&sha[..2]).join(sha)
}

pub fn describe(event: &EventRow, a: &AttachmentRow) -> Value {
    json!({"id": a.id, "kind": a.kind, "mime": a.mime, "size": a.size, "url": format!("/api/v1/events/{}/attachments/{}", event.id, a.id)})
}

async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (e, _) = crate::events::load(&state, &caller, &id).await?;
    let kind = q.get("kind").map(String::as_str).unwrap_or("report");
    if !matches!(kind, "report" | "before" | "after") {
        return Err(ApiError::bad_request(
            "attachment.bad_kind",
            "kind 应为 report、before 或 after",
        ));
    }
    if matches!(e.state.as_str(), "closed" | "rejected" | "merged") {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "attachment.event_finished",
            "事件已办结，不能再添加照片",
        ));
    }
    let bytes = axum::body::to_bytes(body, MAX_BYTES).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "attachment.too_large",
            "照片不能超过 10 MB",
        )
    })?;
    let mime = sniff(&bytes).ok_or_else(|| {
        ApiError::bad_request(
            "attachment.not_an_image",
            "只接受 JPEG、PNG 或 WebP 照片（按文件内容判断）",
        )
    })?;
    if state.store.attachments(&e).await?.len() >= MAX_PER_EVENT {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "attachment.too_many",
            "每个事件最多 9 张照片",
        ));
    }
    let sha = wangge_security::crypto::hex(&Sha256::digest(&bytes));
    let path = path_of(&state, &sha);
    if !path.exists() {
        let write = || -> std::io::Result<()> {
            let dir = path.parent().expect("has a parent");
            std::fs::create_dir_all(dir)?;
            let tmp = dir.join(format!(".{sha}.{}", Uuid::now_v7().simple()));
            std::fs::write(&tmp, &bytes)?;
            std::fs::rename(&tmp, &path)
        };
        write().map_err(|err| {
            tracing::error!(error = %err, "cannot store an attachment");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "attachment.storage",
                "照片暂时无法保存，请稍后再试",
            )
        })?;
    }
    let row = AttachmentRow {
        id: Uuid::now_v7(),
        sha256: sha,
        mime: mime.into(),
        size: bytes.len() as i64,
        kind: kind.into(),
        uploaded_by: caller.account.username.clone(),
        uploaded_at: now(),
    };
    state.store.insert_attachment(&e, &row).await?;
    state
        .store
        .append_audit(
            &caller.audit(
                "event.attachment",
                Some("event"),
                Some(e.id.to_string()),
                json!({"kind": kind, "size": row.size}),
            ),
            row.uploaded_at,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(describe(&e, &row))))
}

async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, attachment)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (e, _) = crate::events::load(&state, &caller, &id).await?;
    let missing = || ApiError::not_found("attachment.not_found", "照片不存在");
    let wanted: Uuid = attachment.parse().map_err(|_| missing())?;
    let a = state
        .store
        .attachments(&e)
        .await?
        .into_iter()
        .find(|a| a.id == wanted)
        .ok_or_else(missing)?;
    let bytes = tokio::fs::read(path_of(&state, &a.sha256))
        .await
        .map_err(|err| {
            tracing::error!(error = %err, "attachment file missing");
            missing()
        })?;
    Ok((
        [
            (header::CONTENT_TYPE, a.mime),
            (header::CACHE_CONTROL, "private, max-age=86400".into()),
        ],
        bytes,
    )
        .into_response())
}

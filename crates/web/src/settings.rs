//! The settings document over HTTP: the system administrator reads it whole and replaces it whole
//! (`GET`/`PUT /api/v1/settings`). A replacement is validated as a whole — every problem with its
//! place — and either stored, audited with before and after, and in force at once on this server
//! (on the others within the cache watch's interval), or refused with nothing changed.

use crate::auth::{Caller, now};
use crate::params::json_body;
use crate::{ApiError, ApiResult, AppState};
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use std::collections::HashSet;
use uuid::Uuid;
use wangge_domain::access::Permission;
use wangge_domain::catalog::default_catalogue;
use wangge_domain::settings::Settings;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/settings", get(read).put(replace))
}

async fn read(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require(Permission::Configure)?;
    Ok(Json(json!(state.config.get().settings)))
}

async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<Value>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    caller.require(Permission::Configure)?;
    let raw = json_body(body)?;
    let settings: Settings = serde_json::from_value(raw)
        .map_err(|e| ApiError::bad_request("settings.invalid", format!("设置格式不正确：{e}")))?;
    let mut departments = HashSet::new();
    for r in &settings.routing {
        if let Ok(id) = r.department.parse::<Uuid>()
            && state.store.department(id).await?.is_some()
        {
            departments.insert(r.department.clone());
        }
    }
    let problems = settings.problems(&default_catalogue(), &|d| departments.contains(d));
    if !problems.is_empty() {
        return Err(ApiError::bad_request(
            "settings.invalid",
            format!("设置有 {} 处问题，未保存", problems.len()),
        )
        .with_details(json!({"problems": problems})));
    }
    let before = state.config.get().settings.clone();
    let text = serde_json::to_string(&settings)
        .map_err(|e| ApiError::bad_request("settings.invalid", format!("设置无法保存：{e}")))?;
    state.store.save_settings(&text).await?;
    state
        .store
        .append_audit(
            &caller.audit(
                "settings.replace",
                Some("settings"),
                None,
                json!({"before": before, "after": settings}),
            ),
            now(),
        )
        .await?;
    state.config.reload(&state.store).await?;
    Ok(Json(json!(state.config.get().settings)))
}

//! People's records with their personal identifiers masked, and the audited, one-record-at-a-time
//! view of an identifier in clear for the roles allowed to see it.

use crate::auth::{Caller, now};
use crate::{ApiError, ApiResult, AppState};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use std::collections::HashMap;
use uuid::Uuid;
use wangge_domain::access::Permission;
use wangge_security::pii;
use wangge_store::PersonRow;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/people", get(search))
        .route("/api/v1/people/{id}", get(person))
        .route("/api/v1/people/{id}/personal-data", get(unmask))
}

fn not_found() -> ApiError {
    ApiError::not_found("person.not_found", "人员不存在")
}

async fn load(state: &AppState, caller: &Caller, id: &str) -> ApiResult<PersonRow> {
    let vis = caller.visibility()?;
    let id: Uuid = id.parse().map_err(|_| not_found())?;
    state.store.person(&vis, id).await?.ok_or_else(not_found)
}

fn decrypt(state: &AppState, enc: &Option<String>) -> ApiResult<Option<String>> {
    enc.as_deref()
        .map(|c| {
            state.keys.decrypt(c).map_err(|e| {
                tracing::error!(error = %e, "cannot decrypt personal data");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "personal_data.key_error",
                    "无法解密个人信息，请联系安全管理员",
                )
            })
        })
        .transpose()
}

fn masked(state: &AppState, p: &PersonRow) -> ApiResult<Value> {
    let id_number = decrypt(state, &p.id_number_enc)?.map(|v| pii::mask_id_number(&v));
    let phone = decrypt(state, &p.phone_enc)?.map(|v| pii::mask_phone(&v));
    Ok(json!({
        "id": p.id, "name": p.name, "employment": p.employment, "home_code": p.home_code,
        "id_number": id_number, "phone": phone, "masked": true,
    }))
}

async fn person(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let p = load(&state, &caller, &id).await?;
    Ok(Json(masked(&state, &p)?))
}

/// Finds people by an exact ID-card or mobile number through the blind index: the number is
/// validated, never stored or logged, and the search itself is audited with the number masked.
async fn search(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let vis = caller.visibility()?;
    let (is_phone, value) = match (q.get("phone"), q.get("id_number")) {
        (Some(p), None) => (
            true,
            pii::validate_mobile(p)
                .map_err(|e| ApiError::bad_request("personal_data.bad_phone", e.to_string()))?,
        ),
        (None, Some(i)) => (
            false,
            pii::validate_id_number(i)
                .map_err(|e| ApiError::bad_request("personal_data.bad_id_number", e.to_string()))?,
        ),
        _ => {
            return Err(ApiError::bad_request(
                "personal_data.search_key",
                "请只用 phone 或 id_number 其中一个参数查找",
            ));
        }
    };
    let kind = if is_phone { "phone" } else { "id_number" };
    let found = state
        .store
        .people_by_index(&vis, is_phone, &state.keys.blind_index(kind, &value))
        .await?;
    let shown = if is_phone {
        pii::mask_phone(&value)
    } else {
        pii::mask_id_number(&value)
    };
    state
        .store
        .append_audit(
            &caller.audit(
                "personal_data.search",
                Some("person"),
                None,
                json!({"field": kind, "masked": shown, "found": found.len()}),
            ),
            now(),
        )
        .await?;
    let people: Vec<Value> = found
        .iter()
        .map(|p| masked(&state, p))
        .collect::<ApiResult<_>>()?;
    Ok(Json(json!({"people": people})))
}

async fn unmask(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    caller.require(Permission::UnmaskPersonalData)?;
    let field = q.get("field").map(String::as_str).unwrap_or("");
    if !matches!(field, "id_number" | "phone") {
        return Err(ApiError::bad_request(
            "personal_data.bad_field",
            "field 应为 id_number 或 phone",
        ));
    }
    let p = load(&state, &caller, &id).await?;
    let enc = if field == "phone" {
        &p.phone_enc
    } else {
        &p.id_number_enc
    };
    let value = decrypt(&state, enc)?
        .ok_or_else(|| ApiError::not_found("personal_data.absent", "该人员没有此项信息"))?;
    let masked = if field == "phone" {
        pii::mask_phone(&value)
    } else {
        pii::mask_id_number(&value)
    };
    // The trail says which field of whom was seen, never the value.
    state
        .store
        .append_audit(
            &caller.audit(
                "personal_data.view",
                Some("person"),
                Some(p.id.to_string()),
                json!({"field": field, "masked": masked}),
            ),
            now(),
        )
        .await?;
    Ok(Json(json!({"id": p.id, "field": field, "value": value})))
}

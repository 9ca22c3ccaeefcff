//! Read endpoints for the region tree and the grids.

use crate::auth::Caller;
use crate::{ApiError, ApiResult, AppState};
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use serde_json::{Value, json};
use std::collections::HashMap;
use wangge_domain::{GridCode, RegionCode};
use wangge_store::GridFeature;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/regions/{code}", get(region))
        .route("/api/v1/grids/{code}", get(grid))
        .route("/api/v1/grids", get(grids_within))
}

fn parse_region_code(code: &str) -> ApiResult<RegionCode> {
    RegionCode::parse(code).map_err(|e| {
        ApiError::bad_request("region.bad_code", e.to_string()).with_details(json!({"code": code}))
    })
}

async fn region(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> ApiResult<Json<Value>> {
    let vis = caller.visibility()?;
    let code = parse_region_code(&code)?;
    let summary = state
        .store
        .region_summary(&vis, &code)
        .await?
        .ok_or_else(|| ApiError::not_found("region.not_found", format!("区划 {code} 不存在")))?;
    Ok(Json(serde_json::to_value(summary).unwrap_or(Value::Null)))
}

fn feature(g: GridFeature, extra: Option<(Value, Value)>) -> Value {
    let mut props = json!({
        "code": g.code,
        "name": g.name,
        "level": "grid",
        "parent_code": g.community_code,
        "grid_type": g.grid_type,
        "dedicated_kind": g.dedicated_kind,
        "area_m2": g.area_m2.round(),
    });
    if let Some((team, units)) = extra {
        props["team"] = team;
        props["units"] = units;
    }
    json!({"type": "Feature", "id": g.code, "properties": props, "geometry": g.geometry})
}

async fn grid(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> ApiResult<Json<Value>> {
    let vis = caller.visibility()?;
    let parsed = GridCode::parse(&code).map_err(|e| {
        ApiError::bad_request("grid.bad_code", e.to_string()).with_details(json!({"code": code}))
    })?;
    let g = state
        .store
        .grid_feature(&vis, &parsed)
        .await?
        .ok_or_else(|| ApiError::not_found("grid.not_found", format!("网格 {parsed} 不存在")))?;
    let team = state.store.grid_team(&vis, parsed.as_str()).await?;
    let units = state.store.units_in_grid(&vis, parsed.as_str()).await?;
    let team = Value::Array(
        team.into_iter()
            .map(|m| json!({"person_id": m.person_id, "name": m.name, "role": m.role, "employment": m.employment}))
            .collect(),
    );
    let units = Value::Array(
        units
            .into_iter()
            .map(|u| json!({"name": u.name, "kind": u.kind, "domain": u.domain, "lon": u.lon, "lat": u.lat}))
            .collect(),
    );
    Ok(Json(feature(g, Some((team, units)))))
}

async fn grids_within(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let vis = caller.visibility()?;
    let within = q.get("within").ok_or_else(|| {
        ApiError::bad_request(
            "grid.within_required",
            "请用 within 参数给出区划代码，例如 ?within=640202000000",
        )
    })?;
    let code = parse_region_code(within)?;
    if !vis.sees(code.as_str()) || state.store.region(code.as_str()).await?.is_none() {
        return Err(ApiError::not_found(
            "region.not_found",
            format!("区划 {code} 不存在"),
        ));
    }
    let grids = state.store.grid_features_within(&vis, &code).await?;
    let features: Vec<Value> = grids.into_iter().map(|g| feature(g, None)).collect();
    Ok(Json(
        json!({"type": "FeatureCollection", "features": features}),
    ))
}

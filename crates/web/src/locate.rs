//! `GET /api/v1/locate`: which grid, community, township and county hold a point.

use crate::auth::Caller;
use crate::{ApiError, ApiResult, AppState};
use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use serde_json::{Value, json};
use std::collections::HashMap;
use wangge_domain::crs::Crs;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/locate", get(locate))
}

/// Reads one coordinate, saying which parameter is wrong and why.
pub fn coordinate(
    q: &HashMap<String, String>,
    name: &'static str,
    range: (f64, f64),
) -> ApiResult<f64> {
    let raw = q.get(name).ok_or_else(|| {
        ApiError::bad_request("locate.missing_coordinate", format!("缺少参数 {name}"))
    })?;
    let v: f64 = raw
        .trim()
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .ok_or_else(|| {
            ApiError::bad_request(
                "locate.bad_coordinate",
                format!("参数 {name} 不是有效数字：\"{raw}\""),
            )
            .with_details(json!({"parameter": name, "value": raw}))
        })?;
    if v < range.0 || v > range.1 {
        return Err(ApiError::bad_request(
            "locate.out_of_range",
            format!("参数 {name} 超出范围 {}…{}：{v}", range.0, range.1),
        )
        .with_details(json!({"parameter": name, "value": v})));
    }
    Ok(v)
}

async fn locate(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let vis = caller.visibility()?;
    let lon = coordinate(&q, "lon", (-180.0, 180.0))?;
    let lat = coordinate(&q, "lat", (-90.0, 90.0))?;
    let crs: Crs = match q.get("crs") {
        None => Crs::Wgs84,
        Some(c) => c.parse().map_err(|m: String| {
            ApiError::bad_request("locate.bad_crs", m).with_details(json!({"crs": c}))
        })?,
    };
    let (lon, lat) = crs.to_wgs84(lon, lat);
    let atlas = state.atlas.get();
    // A point in a grid the caller cannot see answers as a point in no grid.
    match atlas.locate(lon, lat).filter(|l| vis.sees(&l.grid.code)) {
        Some(loc) => Ok(Json(serde_json::to_value(loc).unwrap_or(Value::Null))),
        None => {
            let nearest = atlas.nearest(lon, lat).filter(|n| vis.sees(&n.grid.code));
            Err(ApiError::not_found("locate.outside", "该点不在任何网格内")
                .with_details(json!({"lon": lon, "lat": lat, "nearest": nearest})))
        }
    }
}

//! The health check and the landing page a newcomer opens first.

use crate::{ApiResult, AppState};
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use wangge_domain::RegionCode;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/", get(index))
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    match state.store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "ok",
        ),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "database unavailable",
            )
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A plain page with the tree's top levels and the API's addresses. The full web application
/// arrives with its own issue; this page needs no script and no external asset.
async fn index(State(state): State<AppState>) -> ApiResult<Html<String>> {
    let mut body = String::new();
    let cities: Vec<_> = state
        .store
        .regions_top()
        .await?
        .into_iter()
        .filter_map(|r| RegionCode::parse(&r.code).ok())
        .collect();
    for city in cities {
        let Some(s) = state.store.region_summary(&city).await? else {
            continue;
        };
        body.push_str(&format!(
            "<h2>{} <small>{}</small></h2><p>区县 {} 个，乡镇街道 {} 个，社区 {} 个，村 {} 个，网格 {} 个（专属网格 {} 个），专职网格员 {} 名。</p><ul>",
            escape(&s.name), s.code, s.counts.counties, s.counts.townships, s.counts.communities,
            s.counts.villages, s.counts.grids, s.counts.dedicated_grids, s.counts.grid_workers_full_time
        ));
        for c in &s.children {
            body.push_str(&format!(
                "<li><a href=\"/api/v1/regions/{code}\">{name}</a>（{code}）网格 {n} 个 · <a href=\"/api/v1/grids?within={code}\">网格图层 GeoJSON</a></li>",
                code = c.code, name = escape(&c.name), n = c.grids
            ));
        }
        body.push_str("</ul>");
    }
    if body.is_empty() {
        body.push_str("<p>还没有区划数据。用 <code>wangge import 文件.geojson</code> 导入，或运行 <code>wangge demo</code>。</p>");
    }
    Ok(Html(format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>网格化基层治理平台</title><style>body{{font-family:sans-serif;max-width:56rem;margin:2rem auto;padding:0 1rem;line-height:1.6}}small{{color:#666}}</style></head>\
         <body><h1>网格 Wangge · 网格化基层治理平台</h1>{body}\
         <h2>接口</h2><ul><li><code>GET /api/v1/regions/{{区划代码}}</code> 区划及下级、统计</li>\
         <li><code>GET /api/v1/grids/{{网格编码}}</code> 网格（GeoJSON Feature）</li>\
         <li><code>GET /api/v1/grids?within={{区划代码}}</code> 区域内网格（FeatureCollection）</li>\
         <li><code>GET /api/v1/locate?lon=…&amp;lat=…[&amp;crs=gcj02]</code> 坐标定位网格</li>\
         <li><code>GET /healthz</code> 健康检查</li></ul></body></html>"
    )))
}

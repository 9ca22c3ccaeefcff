//! The health check and the landing page. The landing page shows no data: everything behind it
//! needs an account (the web application arrives with its own issue).

use crate::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse};
use axum::routing::get;

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

async fn index() -> Html<&'static str> {
    Html(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>网格化基层治理平台</title><style>body{font-family:sans-serif;max-width:56rem;margin:2rem auto;padding:0 1rem;line-height:1.6}</style></head>\
         <body><h1>网格 Wangge · 网格化基层治理平台</h1>\
         <p>请先登录：<code>POST /api/v1/auth/login</code>，请求体 <code>{\"username\": \"…\", \"password\": \"…\"}</code>；\
         管理员和指挥中心账户还需动态口令（<code>POST /api/v1/auth/second-factor</code>）。机器客户端使用访问令牌：<code>Authorization: Bearer …</code>。</p>\
         <h2>接口</h2><ul><li><code>GET /api/v1/me</code> 当前账户、角色和范围</li>\
         <li><code>GET /api/v1/regions/{区划代码}</code> 区划及下级、统计</li>\
         <li><code>GET /api/v1/grids/{网格编码}</code> 网格（GeoJSON Feature）</li>\
         <li><code>GET /api/v1/grids?within={区划代码}</code> 区域内网格（FeatureCollection）</li>\
         <li><code>GET /api/v1/locate?lon=…&amp;lat=…[&amp;crs=gcj02]</code> 坐标定位网格</li>\
         <li><code>GET /healthz</code> 健康检查</li></ul></body></html>",
    )
}

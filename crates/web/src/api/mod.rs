//! The JSON API, one module per area; every handler extracts, calls one use case of
//! `wangge_app`, and answers with its typed view (errors in the one shape of [`crate::error`]).

pub mod admin;
pub mod batches;
pub mod centre;
pub mod events;
pub mod mediation;
pub mod places;
pub mod portal;
pub mod registry;
pub mod session;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use wangge_app::Context;

/// Every JSON route that takes a small body.
pub fn router() -> Router<Context> {
    Router::new()
        .route("/healthz", get(healthz))
        .merge(session::router())
        .merge(admin::router())
        .merge(places::router())
        .merge(events::router())
        .merge(portal::router())
        .merge(centre::router())
        .merge(mediation::router())
        .merge(registry::router())
        .merge(batches::router())
}

/// The health check, for load balancers and monitoring: answers without an account.
#[utoipa::path(get, path = "/healthz", tag = "service",
    summary = "Whether the server and its database answer",
    security(()),
    responses(
        (status = 200, content_type = "text/plain", body = String, description = "`ok`"),
        (status = 503, content_type = "text/plain", body = String, description = "The database does not answer")))]
pub async fn healthz(State(ctx): State<Context>) -> impl IntoResponse {
    match ctx.store.ping().await {
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

//! The HTTP surface of Wangge: the JSON API (`api/`, one module per area) and the web pages
//! (`pages/`), both thin over the application layer (`wangge_app`): a handler extracts what the
//! request carries (`extract`), calls one use case, and answers with its typed view or its error
//! in the one shape (`error`). `app` puts the routers together with the layers every request
//! passes through: body limits, panics caught, traces without query strings.

pub mod api;
pub mod error;
pub mod extract;
pub mod openapi;
mod pages;

pub use error::{ApiError, ApiResult};
pub use wangge_app::auth::SecurityPolicy as AuthSettings;
pub use wangge_app::{Context as AppState, notify};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use wangge_app::Context;

pub fn app(ctx: Context) -> Router {
    let small = Router::new()
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(openapi::openapi_json),
        )
        .route("/api/docs", axum::routing::get(openapi::docs_page))
        .merge(api::router())
        .merge(pages::router())
        .layer(DefaultBodyLimit::max(extract::BODY_LIMIT));
    // Photos read their own body up to their own limit and answer in the one error shape.
    let photos = api::events::photos().layer(DefaultBodyLimit::disable());
    let imports = api::registry::uploads()
        .merge(api::batches::uploads())
        .layer(DefaultBodyLimit::disable());
    small
        .merge(photos)
        .merge(imports)
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .with_state(ctx)
        .layer(CatchPanicLayer::custom(error::panicked))
        // Spans name the path only: query strings may carry a searched ID or phone number.
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<axum::body::Body>| {
            tracing::debug_span!("request", method = %req.method(), path = %req.uri().path())
        }))
}

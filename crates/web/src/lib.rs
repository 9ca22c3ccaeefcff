//! The HTTP surface of Wangge. Each area owns its router (`home`, `regions`, `locate`, `session`,
//! `admin`, `people`, `calendar`, `events`, `attachments`, `settings`, `centre`, the public
//! `portal`, and the web `pages`); `app` puts them together with the layers every request passes
//! through.
//! Handlers are thin: they take a [`auth::Caller`] (every endpoint but `/healthz`, `/` and the
//! login needs one), parse, call the store or the domain, and shape JSON.

mod admin;
pub mod attachments;
pub mod auth;
pub mod calendar;
mod centre;
pub mod deadlines;
mod error;
mod events;
mod home;
mod locate;
mod mediation;
mod mediation_pages;
pub mod notify;
mod pages;
mod params;
mod people;
mod portal;
mod regions;
mod session;
mod settings;
mod state;
mod xlsx;

pub use admin::resolve_scope;
pub use auth::AuthSettings;
pub use error::{ApiError, ApiResult};
pub use state::{AppState, Cached};

use axum::Router;
use axum::http::StatusCode;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

/// Requests carry little for now; imports go through the CLI.
const BODY_LIMIT: usize = 1024 * 1024;

pub fn app(state: AppState) -> Router {
    let small = Router::new()
        .merge(home::router())
        .merge(regions::router())
        .merge(locate::router())
        .merge(session::router())
        .merge(admin::router())
        .merge(people::router())
        .merge(calendar::router())
        .merge(events::router())
        .merge(settings::router())
        .merge(pages::router())
        .merge(portal::router())
        .merge(centre::router())
        .merge(mediation::router())
        .merge(mediation_pages::router())
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT));
    // Photos read their own body up to their own limit and answer in the one error shape.
    let photos = attachments::router().layer(axum::extract::DefaultBodyLimit::disable());
    small
        .merge(photos)
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "route.not_found", "没有这个地址")
        })
        .with_state(state)
        .layer(CatchPanicLayer::new())
        // Spans name the path only: query strings may carry a searched ID or phone number.
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<axum::body::Body>| {
            tracing::debug_span!("request", method = %req.method(), path = %req.uri().path())
        }))
}

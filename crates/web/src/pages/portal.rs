//! The citizens' portal pages (石好办): the report form and the progress page, without an
//! account; both post to and read from the public API.

use super::phone::category_choices;
use super::render;
use crate::extract::Query;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use wangge_app::Context;

pub fn router() -> Router<Context> {
    Router::new()
        .route("/portal", get(portal))
        .route("/portal/track", get(portal_track))
}

#[derive(Template)]
#[template(path = "portal.html")]
struct Portal {
    csrf: String,
    user: String,
    role: String,
    categories: Vec<(String, String)>,
}

async fn portal(State(ctx): State<Context>) -> Response {
    render(&Portal {
        csrf: String::new(),
        user: String::new(),
        role: String::new(),
        categories: category_choices(&ctx),
    })
}

#[derive(Template)]
#[template(path = "track.html")]
struct Track {
    csrf: String,
    user: String,
    role: String,
    code: String,
}

#[derive(Debug, Default, Deserialize)]
struct TrackQuery {
    code: Option<String>,
}

/// The citizen's progress page; the code may come in the address from the report page.
async fn portal_track(Query(q): Query<TrackQuery>) -> Response {
    render(&Track {
        csrf: String::new(),
        user: String::new(),
        role: String::new(),
        code: q
            .code
            .map(|c| {
                c.chars()
                    .filter(char::is_ascii_alphanumeric)
                    .take(16)
                    .collect()
            })
            .unwrap_or_default(),
    })
}

//! Events over HTTP: intake, the list and one event within sight, the catalogue, moves, the
//! street's ratings of summoned departments, and photos. Each handler extracts, calls the use case
//! of `wangge_app::events` and answers with its view.

use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Caller, Path, Query, bytes_of};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router, extract::State};
use serde::Deserialize;
use serde_json::Value;
use wangge_app::attachments;
use wangge_app::events::views::{AttachmentView, EventDetail, EventPage, EventView, Reported};
use wangge_app::events::{intake, moves, queries, ratings};
use wangge_app::{AppError, Context, ErrorKind};

pub fn router() -> Router<Context> {
    Router::new()
        .route("/api/v1/categories", get(categories))
        .route("/api/v1/events", get(list).post(report))
        .route("/api/v1/events/{id}", get(detail))
        .route("/api/v1/events/{id}/moves", post(make_move))
        .route(
            "/api/v1/events/{id}/whistle-ratings",
            post(rate_departments),
        )
}

/// Photos read their own body up to their own limit.
pub fn photos() -> Router<Context> {
    Router::new()
        .route("/api/v1/events/{id}/attachments", post(upload))
        .route(
            "/api/v1/events/{id}/attachments/{attachment}",
            get(download),
        )
}

async fn categories(
    State(ctx): State<Context>,
    who: Caller,
) -> ApiResult<Json<queries::Catalogue>> {
    Ok(Json(queries::categories(&ctx, &who)?))
}

async fn list(
    State(ctx): State<Context>,
    who: Caller,
    Query(f): Query<queries::ListFilter>,
) -> ApiResult<Json<EventPage>> {
    Ok(Json(queries::list(&ctx, &who, &f).await?))
}

/// A new report answers 201 with its tracking code and likely duplicates; a repeat of its
/// idempotency key answers 200 with the event stored first.
async fn report(
    State(ctx): State<Context>,
    who: Caller,
    Body(b): Body<intake::ReportInput>,
) -> ApiResult<Response> {
    let done = intake::report(&ctx, &who, b, true).await?;
    let event = EventView::of(&ctx, &done.event);
    Ok(if done.created {
        (
            StatusCode::CREATED,
            Json(Reported {
                event,
                tracking_code: done.event.tracking_code.clone(),
                likely_duplicates: done.duplicates,
            }),
        )
            .into_response()
    } else {
        (StatusCode::OK, Json(event)).into_response()
    })
}

async fn detail(
    State(ctx): State<Context>,
    who: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<EventDetail>> {
    Ok(Json(queries::detail(&ctx, &who, &id).await?))
}

async fn make_move(
    State(ctx): State<Context>,
    who: Caller,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<Json<EventView>> {
    let next = moves::request(&ctx, &who, &id, body).await?;
    Ok(Json(EventView::of(&ctx, &next)))
}

async fn rate_departments(
    State(ctx): State<Context>,
    who: Caller,
    Path(id): Path<String>,
    Body(b): Body<ratings::RatingsInput>,
) -> ApiResult<(StatusCode, Json<ratings::Ratings>)> {
    Ok((
        StatusCode::CREATED,
        Json(ratings::rate(&ctx, &who, &id, b).await?),
    ))
}

#[derive(Debug, Deserialize)]
struct UploadQuery {
    kind: Option<String>,
}

async fn upload(
    State(ctx): State<Context>,
    who: Caller,
    Path(id): Path<String>,
    Query(q): Query<UploadQuery>,
    body: axum::body::Body,
) -> ApiResult<(StatusCode, Json<AttachmentView>)> {
    let bytes = bytes_of(body, attachments::MAX_BYTES, "照片 10 MB")
        .await
        .map_err(|_| {
            AppError::new(
                ErrorKind::TooLarge,
                "attachment.too_large",
                "照片不能超过 10 MB",
            )
        })?;
    let a = attachments::upload(&ctx, &who, &id, q.kind.as_deref(), bytes).await?;
    Ok((StatusCode::CREATED, Json(a)))
}

/// A photo, served so that a browser never takes it for anything but an image: its type from
/// decoding, `nosniff`, and a sandboxing CSP in case it is opened on its own.
async fn download(
    State(ctx): State<Context>,
    who: Caller,
    Path((id, attachment)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (mime, bytes) = attachments::download(&ctx, &who, &id, &attachment).await?;
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&mime) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=86400"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    Ok(res)
}

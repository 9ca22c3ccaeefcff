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

#[utoipa::path(get, path = "/api/v1/categories", tag = "events",
    summary = "The category catalogue in force",
    responses((status = 200, body = queries::Catalogue)))]
async fn categories(
    State(ctx): State<Context>,
    who: Caller,
) -> ApiResult<Json<queries::Catalogue>> {
    Ok(Json(queries::categories(&ctx, &who)?))
}

#[utoipa::path(get, path = "/api/v1/events", tag = "events",
    summary = "Events in the caller's sight, newest first",
    params(queries::ListFilter),
    responses((status = 200, body = EventPage)))]
async fn list(
    State(ctx): State<Context>,
    who: Caller,
    Query(f): Query<queries::ListFilter>,
) -> ApiResult<Json<EventPage>> {
    Ok(Json(queries::list(&ctx, &who, &f).await?))
}

/// A new report answers 201 with its tracking code and likely duplicates; a repeat of its
/// idempotency key answers 200 with the event stored first.
#[utoipa::path(post, path = "/api/v1/events", tag = "events",
    summary = "Report an event",
    request_body = intake::ReportInput,
    responses(
        (status = 201, description = "Stored, with its tracking code and likely duplicates", body = Reported),
        (status = 200, description = "Its idempotency key was used before: the event stored first", body = EventView)))]
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

#[utoipa::path(get, path = "/api/v1/events/{id}", tag = "events",
    summary = "One event with its history, check-ins, ratings, photos and suggested department",
    params(("id" = String, Path, description = "The event's id")),
    responses((status = 200, body = EventDetail)))]
async fn detail(
    State(ctx): State<Context>,
    who: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<EventDetail>> {
    Ok(Json(queries::detail(&ctx, &who, &id).await?))
}

#[utoipa::path(post, path = "/api/v1/events/{id}/moves", tag = "events",
    summary = "Make a move of the workflow",
    params(("id" = String, Path, description = "The event's id")),
    request_body = moves::MoveBody,
    responses((status = 200, description = "The event after the move", body = EventView)))]
async fn make_move(
    State(ctx): State<Context>,
    who: Caller,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<Json<EventView>> {
    let next = moves::request(&ctx, &who, &id, body).await?;
    Ok(Json(EventView::of(&ctx, &next)))
}

#[utoipa::path(post, path = "/api/v1/events/{id}/whistle-ratings", tag = "events",
    summary = "Rate the departments summoned by a whistle, once the event is closed",
    params(("id" = String, Path, description = "The event's id")),
    request_body = ratings::RatingsInput,
    responses((status = 201, body = ratings::Ratings)))]
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// `report` (default), `before` or `after`.
    kind: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/events/{id}/attachments", tag = "events",
    summary = "Add a photo (JPEG, PNG or WebP, at most 10 MB, 9 per event)",
    params(("id" = String, Path, description = "The event's id"), UploadQuery),
    request_body(content = attachments::Photo, content_type = "application/octet-stream"),
    responses((status = 201, body = AttachmentView)))]
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
#[utoipa::path(get, path = "/api/v1/events/{id}/attachments/{attachment}", tag = "events",
    summary = "A photo of an event",
    params(("id" = String, Path, description = "The event's id"), ("attachment" = String, Path, description = "The photo's id")),
    responses((status = 200, description = "The photo, as decoded when it was kept",
        content((attachments::Photo = "image/jpeg"), (attachments::Photo = "image/png"), (attachments::Photo = "image/webp")))))]
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

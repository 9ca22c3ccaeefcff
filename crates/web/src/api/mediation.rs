//! People's mediation over HTTP: the network, cases and their steps, transfer slips, screening
//! rounds, the risk list, the statistics, and the audited unmasking of a party's identifier. The
//! rules and the sight are the use cases' (`wangge_app::mediation`).

use crate::error::ApiResult;
use crate::extract::{Body, Caller, Path, Query};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use wangge_app::Context;
use wangge_app::mediation::views::{
    CaseView, Cases, MediatorView, Mediators, OrgView, Orgs, SlipView,
};
use wangge_app::mediation::{cases, network, risks, screening, slips, stats, steps};

pub fn router() -> Router<Context> {
    Router::new()
        .route("/api/v1/mediation/cases", get(list).post(open))
        .route("/api/v1/mediation/cases/{id}", get(detail))
        .route("/api/v1/mediation/cases/{id}/steps", post(step))
        .route("/api/v1/mediation/slips", post(send_slip))
        .route("/api/v1/mediation/slips/{id}/receipt", post(receive_slip))
        .route("/api/v1/mediation/slips/{id}/reply", post(reply_slip))
        .route("/api/v1/mediation/stats", get(figures))
        .route("/api/v1/mediation/screening", get(rounds))
        .route("/api/v1/mediation/screening/{grid}", put(set_round))
        .route(
            "/api/v1/mediation/screening/{grid}/rounds",
            post(record_round),
        )
        .route("/api/v1/mediation/risks", get(risk_list))
        .route(
            "/api/v1/mediation/cases/{id}/parties/{seq}/personal-data",
            get(unmask_party),
        )
        .route("/api/v1/mediation/orgs", get(orgs).post(create_org))
        .route(
            "/api/v1/mediation/mediators",
            get(mediators).post(create_mediator),
        )
}

#[utoipa::path(get, path = "/api/v1/mediation/cases", tag = "mediation",
    summary = "Dispute cases in sight",
    params(cases::CaseFilter),
    responses((status = 200, body = Cases)))]
async fn list(
    State(ctx): State<Context>,
    who: Caller,
    Query(q): Query<cases::CaseFilter>,
) -> ApiResult<Json<Cases>> {
    Ok(Json(cases::list(&ctx, &who, &q).await?))
}

#[utoipa::path(post, path = "/api/v1/mediation/cases", tag = "mediation",
    summary = "Open a case (from an event, a walk-in, a transfer or a screening)",
    request_body = cases::OpenInput,
    responses((status = 201, body = CaseView)))]
async fn open(
    State(ctx): State<Context>,
    who: Caller,
    Body(b): Body<cases::OpenInput>,
) -> ApiResult<(StatusCode, Json<CaseView>)> {
    Ok((StatusCode::CREATED, Json(cases::open(&ctx, &who, b).await?)))
}

#[utoipa::path(get, path = "/api/v1/mediation/cases/{id}", tag = "mediation",
    summary = "One case: parties masked, agreement, signatures, timeline, slips",
    params(("id" = String, Path, description = "The case's id")),
    responses((status = 200, body = CaseView)))]
async fn detail(
    State(ctx): State<Context>,
    who: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<CaseView>> {
    Ok(Json(cases::detail(&ctx, &who, &id).await?))
}

#[utoipa::path(post, path = "/api/v1/mediation/cases/{id}/steps", tag = "mediation",
    summary = "One step of a case, with the version the caller saw",
    params(("id" = String, Path, description = "The case's id")),
    request_body = steps::CaseStep,
    responses((status = 200, body = CaseView)))]
async fn step(
    State(ctx): State<Context>,
    who: Caller,
    Path(id): Path<String>,
    Body(s): Body<steps::CaseStep>,
) -> ApiResult<Json<CaseView>> {
    Ok(Json(steps::step(&ctx, &who, &id, s).await?))
}

#[utoipa::path(post, path = "/api/v1/mediation/slips", tag = "mediation",
    summary = "A transfer slip (转办单) to an organisation or department of the case's county",
    request_body = slips::SlipInput,
    responses((status = 201, body = SlipView)))]
async fn send_slip(
    State(ctx): State<Context>,
    who: Caller,
    Body(b): Body<slips::SlipInput>,
) -> ApiResult<(StatusCode, Json<SlipView>)> {
    Ok((StatusCode::CREATED, Json(slips::send(&ctx, &who, b).await?)))
}

#[utoipa::path(post, path = "/api/v1/mediation/slips/{id}/receipt", tag = "mediation",
    summary = "The receiver acknowledges a slip",
    params(("id" = String, Path, description = "The slip's id")),
    responses((status = 200, body = SlipView)))]
async fn receive_slip(
    State(ctx): State<Context>,
    who: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<SlipView>> {
    Ok(Json(slips::receive(&ctx, &who, &id).await?))
}

#[utoipa::path(post, path = "/api/v1/mediation/slips/{id}/reply", tag = "mediation",
    summary = "The receiver reports back",
    params(("id" = String, Path, description = "The slip's id")),
    request_body = slips::ReplyInput,
    responses((status = 200, body = SlipView)))]
async fn reply_slip(
    State(ctx): State<Context>,
    who: Caller,
    Path(id): Path<String>,
    Body(b): Body<slips::ReplyInput>,
) -> ApiResult<Json<SlipView>> {
    Ok(Json(slips::reply(&ctx, &who, &id, b).await?))
}

#[utoipa::path(get, path = "/api/v1/mediation/stats", tag = "mediation",
    summary = "The statistics the city publishes: handled, successful, the success rate",
    params(stats::StatsFilter),
    responses((status = 200, body = stats::StatsView)))]
async fn figures(
    State(ctx): State<Context>,
    who: Caller,
    Query(q): Query<stats::StatsFilter>,
) -> ApiResult<Json<stats::StatsView>> {
    Ok(Json(stats::stats(&ctx, &who, &q).await?))
}

#[utoipa::path(get, path = "/api/v1/mediation/screening", tag = "mediation",
    summary = "Screening rounds in sight, the overdue ones marked",
    responses((status = 200, body = screening::Rounds)))]
async fn rounds(State(ctx): State<Context>, who: Caller) -> ApiResult<Json<screening::Rounds>> {
    Ok(Json(screening::rounds(&ctx, &who).await?))
}

#[utoipa::path(put, path = "/api/v1/mediation/screening/{grid}", tag = "mediation",
    summary = "Set a grid's screening round",
    params(("grid" = String, Path, description = "A 15-digit grid code")),
    request_body = screening::RoundInput,
    responses((status = 200, body = screening::RoundView)))]
async fn set_round(
    State(ctx): State<Context>,
    who: Caller,
    Path(grid): Path<String>,
    Body(b): Body<screening::RoundInput>,
) -> ApiResult<Json<screening::RoundView>> {
    Ok(Json(screening::set_round(&ctx, &who, &grid, b).await?))
}

#[utoipa::path(post, path = "/api/v1/mediation/screening/{grid}/rounds", tag = "mediation",
    summary = "A screening round done, with what it found",
    params(("grid" = String, Path, description = "A 15-digit grid code")),
    request_body = screening::DoneInput,
    responses((status = 201, body = screening::RoundDone)))]
async fn record_round(
    State(ctx): State<Context>,
    who: Caller,
    Path(grid): Path<String>,
    Body(b): Body<screening::DoneInput>,
) -> ApiResult<(StatusCode, Json<screening::RoundDone>)> {
    Ok((
        StatusCode::CREATED,
        Json(screening::record_round(&ctx, &who, &grid, b).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/mediation/risks", tag = "mediation",
    summary = "Open cases with a sign of risk (研判)",
    responses((status = 200, body = risks::RiskList)))]
async fn risk_list(State(ctx): State<Context>, who: Caller) -> ApiResult<Json<risks::RiskList>> {
    Ok(Json(risks::list(&ctx, &who).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Field {
    /// `id_number` or `phone`.
    field: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/mediation/cases/{id}/parties/{seq}/personal-data", tag = "mediation",
    summary = "One identifier of a party in clear, for roles that may unmask (audited)",
    params(("id" = String, Path, description = "The case's id"), ("seq" = i64, Path, description = "The party's number"), Field),
    responses((status = 200, body = cases::PartyUnmasked)))]
async fn unmask_party(
    State(ctx): State<Context>,
    who: Caller,
    Path((id, seq)): Path<(String, i64)>,
    Query(q): Query<Field>,
) -> ApiResult<Json<cases::PartyUnmasked>> {
    Ok(Json(
        cases::unmask_party(&ctx, &who, &id, seq, q.field.as_deref()).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/mediation/orgs", tag = "mediation",
    summary = "Mediation organisations in sight",
    responses((status = 200, body = Orgs)))]
async fn orgs(State(ctx): State<Context>, who: Caller) -> ApiResult<Json<Orgs>> {
    Ok(Json(network::orgs(&ctx, &who).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OfOrg {
    /// An organisation's id.
    org: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/mediation/mediators", tag = "mediation",
    summary = "Mediators in sight, or of one organisation",
    params(OfOrg),
    responses((status = 200, body = Mediators)))]
async fn mediators(
    State(ctx): State<Context>,
    who: Caller,
    Query(q): Query<OfOrg>,
) -> ApiResult<Json<Mediators>> {
    Ok(Json(
        network::mediators(&ctx, &who, q.org.as_deref()).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/mediation/orgs", tag = "mediation",
    summary = "A mediation organisation on the region tree (system administrator)",
    request_body = network::OrgInput,
    responses((status = 201, body = OrgView)))]
async fn create_org(
    State(ctx): State<Context>,
    who: Caller,
    Body(b): Body<network::OrgInput>,
) -> ApiResult<(StatusCode, Json<OrgView>)> {
    Ok((
        StatusCode::CREATED,
        Json(network::create_org(&ctx, &who, b).await?),
    ))
}

#[utoipa::path(post, path = "/api/v1/mediation/mediators", tag = "mediation",
    summary = "A mediator of an organisation (system administrator)",
    request_body = network::MediatorInput,
    responses((status = 201, body = MediatorView)))]
async fn create_mediator(
    State(ctx): State<Context>,
    who: Caller,
    Body(b): Body<network::MediatorInput>,
) -> ApiResult<(StatusCode, Json<MediatorView>)> {
    Ok((
        StatusCode::CREATED,
        Json(network::create_mediator(&ctx, &who, b).await?),
    ))
}

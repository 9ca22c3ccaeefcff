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

async fn list(
    State(ctx): State<Context>,
    who: Caller,
    Query(q): Query<cases::CaseFilter>,
) -> ApiResult<Json<Cases>> {
    Ok(Json(cases::list(&ctx, &who, &q).await?))
}

async fn open(
    State(ctx): State<Context>,
    who: Caller,
    Body(b): Body<cases::OpenInput>,
) -> ApiResult<(StatusCode, Json<CaseView>)> {
    Ok((StatusCode::CREATED, Json(cases::open(&ctx, &who, b).await?)))
}

async fn detail(
    State(ctx): State<Context>,
    who: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<CaseView>> {
    Ok(Json(cases::detail(&ctx, &who, &id).await?))
}

async fn step(
    State(ctx): State<Context>,
    who: Caller,
    Path(id): Path<String>,
    Body(s): Body<steps::Step>,
) -> ApiResult<Json<CaseView>> {
    Ok(Json(steps::step(&ctx, &who, &id, s).await?))
}

async fn send_slip(
    State(ctx): State<Context>,
    who: Caller,
    Body(b): Body<slips::SlipInput>,
) -> ApiResult<(StatusCode, Json<SlipView>)> {
    Ok((StatusCode::CREATED, Json(slips::send(&ctx, &who, b).await?)))
}

async fn receive_slip(
    State(ctx): State<Context>,
    who: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<SlipView>> {
    Ok(Json(slips::receive(&ctx, &who, &id).await?))
}

async fn reply_slip(
    State(ctx): State<Context>,
    who: Caller,
    Path(id): Path<String>,
    Body(b): Body<slips::ReplyInput>,
) -> ApiResult<Json<SlipView>> {
    Ok(Json(slips::reply(&ctx, &who, &id, b).await?))
}

async fn figures(
    State(ctx): State<Context>,
    who: Caller,
    Query(q): Query<stats::StatsFilter>,
) -> ApiResult<Json<stats::StatsView>> {
    Ok(Json(stats::stats(&ctx, &who, &q).await?))
}

async fn rounds(State(ctx): State<Context>, who: Caller) -> ApiResult<Json<screening::Rounds>> {
    Ok(Json(screening::rounds(&ctx, &who).await?))
}

async fn set_round(
    State(ctx): State<Context>,
    who: Caller,
    Path(grid): Path<String>,
    Body(b): Body<screening::RoundInput>,
) -> ApiResult<Json<screening::RoundView>> {
    Ok(Json(screening::set_round(&ctx, &who, &grid, b).await?))
}

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

async fn risk_list(State(ctx): State<Context>, who: Caller) -> ApiResult<Json<risks::RiskList>> {
    Ok(Json(risks::list(&ctx, &who).await?))
}

#[derive(Debug, Deserialize)]
struct Field {
    field: Option<String>,
}

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

async fn orgs(State(ctx): State<Context>, who: Caller) -> ApiResult<Json<Orgs>> {
    Ok(Json(network::orgs(&ctx, &who).await?))
}

#[derive(Debug, Deserialize)]
struct OfOrg {
    org: Option<String>,
}

async fn mediators(
    State(ctx): State<Context>,
    who: Caller,
    Query(q): Query<OfOrg>,
) -> ApiResult<Json<Mediators>> {
    Ok(Json(
        network::mediators(&ctx, &who, q.org.as_deref()).await?,
    ))
}

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

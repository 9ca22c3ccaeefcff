//! The printable agreement (人民调解协议书, `/mediation/cases/{id}/agreement`): one A4 page with
//! what article 29 of the People's Mediation Law requires, to be signed on paper.

use super::case_of;
use crate::error::ApiError;
use crate::extract::{Caller, Path};
use crate::pages::{not_found, render, signed_in};
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use wangge_app::Context;
use wangge_domain::mediation::Outcome;

#[derive(Template)]
#[template(path = "mediation_agreement.html")]
struct AgreementPage {
    id: String,
    code: String,
    org: String,
    parties: Vec<(String, &'static str, String, String)>,
    facts: String,
    points: String,
    responsibilities: String,
    terms: String,
    performance_method: String,
    performance_deadline: String,
    copies: usize,
    date: String,
    mediators: String,
}

/// 人民调解协议书, ready to print on A4 and sign: what article 29 requires, a line for each
/// party, the mediator and the seal.
pub(super) async fn agreement_page(
    State(ctx): State<Context>,
    caller: Result<Caller, ApiError>,
    Path(id): Path<String>,
) -> Response {
    let who = match signed_in(caller) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let c = match case_of(&ctx, &who, &id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Some(a) = c
        .agreement
        .clone()
        .filter(|_| c.outcome != Some(Outcome::AgreedOral))
    else {
        return not_found(&ctx, &who, "调解案件不存在，或不在您的管辖范围内。").await;
    };
    let parties: Vec<(String, &'static str, String, String)> = c
        .parties
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                match p.side.as_str() {
                    "applicant" => "申请人",
                    "respondent" => "被申请人",
                    _ => "当事人",
                },
                p.id_number.clone().unwrap_or_default(),
                p.phone.clone().unwrap_or_default(),
            )
        })
        .collect();
    render(&AgreementPage {
        id: c.id.to_string(),
        code: c.code.clone(),
        org: c.org.as_ref().map(|o| o.name.clone()).unwrap_or_default(),
        facts: a.facts,
        points: a.points,
        responsibilities: a.responsibilities,
        terms: a.terms,
        performance_method: a.performance_method,
        performance_deadline: a
            .performance_deadline
            .map_or(String::new(), |d| d.format("%Y年%m月%d日").to_string()),
        copies: parties.len() + 1,
        date: c
            .agreed_at
            .map_or(String::new(), |t| t.format("%Y年%m月%d日").to_string()),
        mediators: c
            .mediators
            .iter()
            .map(|m| m.name.clone())
            .collect::<Vec<_>>()
            .join("、"),
        parties,
    })
}

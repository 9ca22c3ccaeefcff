//! After a whistled event closes, the street rates each summoned department's response — speed,
//! cooperation, result, 1 to 5 — once per department; the ratings feed the departments'
//! assessment.

use super::views::WhistleRatingView;
use super::{flow_of, load};
use crate::context::Context;
use crate::error::{AppError, AppResult};
use crate::limits;
use crate::principal::Principal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use wangge_domain::access::Role;
use wangge_domain::workflow::State;
use wangge_store::{EventRow, WhistleRating};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingInput {
    pub department: String,
    pub speed: i64,
    pub cooperation: i64,
    pub result: i64,
    #[serde(default)]
    pub comment: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingsInput {
    pub ratings: Vec<RatingInput>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Ratings {
    pub whistle_ratings: Vec<WhistleRatingView>,
}

/// The ratings as given, each of a department the whistle summoned, each score 1–5.
fn checked(e: &EventRow, b: RatingsInput) -> AppResult<Vec<WhistleRating>> {
    let summoned: Vec<&str> = e.departments.split_whitespace().collect();
    if b.ratings.is_empty() || b.ratings.len() > 50 {
        return Err(AppError::invalid(
            "event.bad_rating",
            "请评价参与的部门（1–50个）",
        ));
    }
    let mut ratings = Vec::with_capacity(b.ratings.len());
    for (i, r) in b.ratings.into_iter().enumerate() {
        if !summoned.contains(&r.department.as_str()) {
            return Err(AppError::invalid(
                "event.bad_rating",
                format!(
                    "部门 {} 未参与此事件",
                    r.department.chars().take(40).collect::<String>()
                ),
            )
            .at(format!("ratings[{i}].department")));
        }
        if [r.speed, r.cooperation, r.result]
            .iter()
            .any(|v| !(1..=5).contains(v))
        {
            return Err(AppError::invalid(
                "event.bad_rating",
                "响应速度、配合力度、落实程度应为1–5分",
            )
            .at(format!("ratings[{i}]")));
        }
        ratings.push(WhistleRating {
            department: r.department,
            speed: r.speed,
            cooperation: r.cooperation,
            result: r.result,
            comment: limits::free_text(&format!("ratings[{i}].comment"), &r.comment, 500)?,
        });
    }
    Ok(ratings)
}

pub async fn rate(ctx: &Context, who: &Principal, id: &str, b: RatingsInput) -> AppResult<Ratings> {
    if !matches!(
        who.role(),
        Some(Role::StreetDispatcher | Role::CommandCentre)
    ) {
        return Err(AppError::forbidden());
    }
    let e = load(ctx, who, id).await?;
    let flow = flow_of(&e)?;
    if !flow.whistled || flow.state != State::Closed {
        return Err(AppError::conflict(
            "event.not_rateable",
            "只有吹哨且已结案的事件可以评价部门",
        ));
    }
    let ratings = checked(&e, b)?;
    let t = ctx.now();
    ctx.store
        .insert_whistle_ratings(&e, &ratings, &who.actor_name(), t)
        .await
        .map_err(|err| match err {
            wangge_store::StoreError::Conflict(m) => AppError::conflict("event.already_rated", m),
            other => other.into(),
        })?;
    ctx.store
        .append_audit(
            &who.audit(
                "event.whistle_rating",
                Some("event"),
                Some(e.id.to_string()),
                json!({"departments": ratings.len()}),
            ),
            t,
        )
        .await?;
    Ok(Ratings {
        whistle_ratings: ctx
            .store
            .whistle_ratings(&e)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    })
}

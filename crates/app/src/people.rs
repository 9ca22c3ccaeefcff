//! People's records with their personal identifiers masked, the search by an exact ID-card or
//! mobile number through the blind index, and the audited, one-record-at-a-time view of an
//! identifier in clear for the roles allowed to see it.

use crate::context::Context;
use crate::error::{AppError, AppResult};
use crate::principal::Principal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;
use wangge_domain::access::Permission;
use wangge_security::pii;
use wangge_store::PersonRow;

fn not_found() -> AppError {
    AppError::not_found("person.not_found", "人员不存在")
}

async fn load(ctx: &Context, who: &Principal, id: &str) -> AppResult<PersonRow> {
    let vis = who.visibility()?;
    let id: Uuid = id.trim().parse().map_err(|_| not_found())?;
    ctx.store.person(&vis, id).await?.ok_or_else(not_found)
}

pub fn decrypt(ctx: &Context, enc: &Option<String>) -> AppResult<Option<String>> {
    enc.as_deref()
        .map(|c| {
            ctx.keys.decrypt(c).map_err(|e| {
                tracing::error!(error = %e, "cannot decrypt personal data");
                AppError::internal(
                    "personal_data.key_error",
                    "无法解密个人信息，请联系安全管理员",
                )
            })
        })
        .transpose()
}

/// A person as shown: identifiers masked (`640202********1234`, `138****5678`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PersonView {
    pub id: Uuid,
    pub name: String,
    pub employment: String,
    pub home_code: String,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub masked: bool,
}

fn masked(ctx: &Context, p: &PersonRow) -> AppResult<PersonView> {
    Ok(PersonView {
        id: p.id,
        name: p.name.clone(),
        employment: p.employment.clone(),
        home_code: p.home_code.clone(),
        id_number: decrypt(ctx, &p.id_number_enc)?.map(|v| pii::mask_id_number(&v)),
        phone: decrypt(ctx, &p.phone_enc)?.map(|v| pii::mask_phone(&v)),
        masked: true,
    })
}

pub async fn person(ctx: &Context, who: &Principal, id: &str) -> AppResult<PersonView> {
    let p = load(ctx, who, id).await?;
    masked(ctx, &p)
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    pub phone: Option<String>,
    pub id_number: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct People {
    pub people: Vec<PersonView>,
}

/// Finds people by an exact ID-card or mobile number through the blind index: the number is
/// validated, never stored or logged, and the search itself is audited with the number masked.
pub async fn search(ctx: &Context, who: &Principal, q: &SearchQuery) -> AppResult<People> {
    let vis = who.visibility()?;
    let (is_phone, value) = match (&q.phone, &q.id_number) {
        (Some(p), None) => (
            true,
            pii::validate_mobile(p).map_err(|e| {
                AppError::invalid("personal_data.bad_phone", e.to_string()).at("phone")
            })?,
        ),
        (None, Some(i)) => (
            false,
            pii::validate_id_number(i).map_err(|e| {
                AppError::invalid("personal_data.bad_id_number", e.to_string()).at("id_number")
            })?,
        ),
        _ => {
            return Err(AppError::invalid(
                "personal_data.search_key",
                "请只用 phone 或 id_number 其中一个参数查找",
            ));
        }
    };
    let kind = if is_phone { "phone" } else { "id_number" };
    let found = ctx
        .store
        .people_by_index(&vis, is_phone, &ctx.keys.blind_index(kind, &value))
        .await?;
    let shown = if is_phone {
        pii::mask_phone(&value)
    } else {
        pii::mask_id_number(&value)
    };
    ctx.store
        .append_audit(
            &who.audit(
                "personal_data.search",
                Some("person"),
                None,
                json!({"field": kind, "masked": shown, "found": found.len()}),
            ),
            ctx.now(),
        )
        .await?;
    Ok(People {
        people: found
            .iter()
            .map(|p| masked(ctx, p))
            .collect::<AppResult<_>>()?,
    })
}

/// An identifier in clear.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Unmasked {
    pub id: Uuid,
    pub field: String,
    pub value: String,
}

/// Which identifier to show: `id_number` or `phone`.
pub fn field_of(raw: Option<&str>) -> AppResult<&'static str> {
    match raw {
        Some("id_number") => Ok("id_number"),
        Some("phone") => Ok("phone"),
        _ => Err(
            AppError::invalid("personal_data.bad_field", "field 应为 id_number 或 phone")
                .at("field"),
        ),
    }
}

pub async fn unmask(
    ctx: &Context,
    who: &Principal,
    id: &str,
    field: Option<&str>,
) -> AppResult<Unmasked> {
    who.require(Permission::UnmaskPersonalData)?;
    let field = field_of(field)?;
    let p = load(ctx, who, id).await?;
    let enc = if field == "phone" {
        &p.phone_enc
    } else {
        &p.id_number_enc
    };
    let value = decrypt(ctx, enc)?
        .ok_or_else(|| AppError::not_found("personal_data.absent", "该人员没有此项信息"))?;
    let shown = if field == "phone" {
        pii::mask_phone(&value)
    } else {
        pii::mask_id_number(&value)
    };
    // The trail says which field of whom was seen, never the value.
    ctx.store
        .append_audit(
            &who.audit(
                "personal_data.view",
                Some("person"),
                Some(p.id.to_string()),
                json!({"field": field, "masked": shown}),
            ),
            ctx.now(),
        )
        .await?;
    Ok(Unmasked {
        id: p.id,
        field: field.into(),
        value,
    })
}

//! The registers page (台账管理, `/registry`): for those who keep registers, each register with
//! its template, its export and an import form (with a dry run) that lists every problem by row
//! and column; and the departments with the places they serve, searchable by name.

use super::{header_of, render, signed_in};
use crate::error::ApiError;
use crate::extract::{Caller, Query};
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use wangge_app::Context;
use wangge_app::registry::departments::{self, DepartmentItem};
use wangge_domain::access::Permission;
use wangge_domain::registers::RegisterKind;

pub fn router() -> Router<Context> {
    Router::new().route("/registry", get(registry_page))
}

struct RegisterLine {
    kind: &'static str,
    name: &'static str,
}

struct DepartmentLine {
    name: String,
    code: String,
    kind: String,
    region: String,
    areas: String,
    parent: String,
    status: &'static str,
}

impl From<DepartmentItem> for DepartmentLine {
    fn from(d: DepartmentItem) -> Self {
        DepartmentLine {
            areas: d
                .areas
                .iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>()
                .join("、"),
            name: d.name,
            code: d.code,
            kind: d.kind_name,
            region: d.region.name,
            parent: d.parent.unwrap_or_default(),
            status: if d.active { "启用" } else { "停用" },
        }
    }
}

#[derive(Template)]
#[template(path = "registry.html")]
struct RegistryPage {
    csrf: String,
    user: String,
    role: String,
    registers: Vec<RegisterLine>,
    q: String,
    total: usize,
    departments: Vec<DepartmentLine>,
}

#[derive(Debug, Default, Deserialize)]
struct RegistryForm {
    q: Option<String>,
}

const SHOWN: usize = 200;

async fn registry_page(
    State(ctx): State<Context>,
    caller: Result<Caller, ApiError>,
    Query(form): Query<RegistryForm>,
) -> Response {
    let who = match signed_in(caller) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    if let Err(e) = who.require(Permission::KeepRegisters) {
        return ApiError(e).into_response();
    }
    let q = form.q.unwrap_or_default();
    let found = match departments::search(&ctx, &who, Some(&q), SHOWN).await {
        Ok(f) => f,
        Err(e) => return ApiError(e).into_response(),
    };
    let h = header_of(&ctx, &who).await;
    render(&RegistryPage {
        csrf: h.csrf,
        user: h.user,
        role: h.role,
        registers: RegisterKind::ALL
            .iter()
            .filter(|k| k.columns().is_some())
            .map(|k| RegisterLine {
                kind: k.as_str(),
                name: k.label_zh(),
            })
            .collect(),
        q,
        total: found.total,
        departments: found.departments.into_iter().map(Into::into).collect(),
    })
}

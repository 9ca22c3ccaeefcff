//! The registers page (台账管理, `/registry`): for those who keep registers, each register with
//! its template, its export and an import form (with a dry run) that lists every problem by row
//! and column; and one register's records (departments with the places they serve, units, people
//! with their identifiers masked, team members), searchable by name.

use super::{header_of, render, signed_in};
use crate::error::ApiError;
use crate::extract::{Caller, Query};
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use wangge_app::AppResult;
use wangge_app::Context;
use wangge_app::registry::{centres, departments, party, people, teams, units};
use wangge_domain::access::Permission;
use wangge_domain::registers::RegisterKind;

pub fn router() -> Router<Context> {
    Router::new().route("/registry", get(registry_page))
}

struct RegisterLine {
    kind: &'static str,
    name: &'static str,
}

/// One register's rows as the page's table shows them: names, never ids.
struct Listing {
    headers: &'static [&'static str],
    rows: Vec<Vec<String>>,
    total: usize,
}

fn status(active: bool, on: &'static str, off: &'static str) -> String {
    if active { on } else { off }.into()
}

async fn listing(ctx: &Context, who: &Caller, kind: RegisterKind, q: &str) -> AppResult<Listing> {
    let q = Some(q);
    Ok(match kind {
        RegisterKind::Units => {
            let f = units::search(ctx, who, q, SHOWN).await?;
            Listing {
                headers: &["单位", "类别", "领域", "所在网格", "地址", "状态", "编码"],
                total: f.total,
                rows: f
                    .units
                    .into_iter()
                    .map(|u| {
                        vec![
                            u.name,
                            u.kind_name,
                            u.domain_name,
                            u.place.name,
                            u.address.unwrap_or_default(),
                            status(u.active, "启用", "停用"),
                            u.code,
                        ]
                    })
                    .collect(),
            }
        }
        RegisterKind::People => {
            let f = people::search(ctx, who, q, SHOWN).await?;
            Listing {
                headers: &[
                    "姓名",
                    "类别",
                    "所属区划",
                    "负责网格",
                    "身份证号",
                    "入职日期",
                    "状态",
                ],
                total: f.total,
                rows: f
                    .people
                    .into_iter()
                    .map(|p| {
                        vec![
                            p.name,
                            p.kind_name,
                            p.home.name,
                            p.grid.map(|g| g.name).unwrap_or_default(),
                            p.id_number.unwrap_or_default(),
                            p.hired_on.unwrap_or_default(),
                            status(p.active, "在职", "离职"),
                        ]
                    })
                    .collect(),
            }
        }
        RegisterKind::Teams => {
            let f = teams::search(ctx, who, q, SHOWN).await?;
            Listing {
                headers: &["网格或社区", "团队", "成员", "角色", "状态"],
                total: f.total,
                rows: f
                    .members
                    .into_iter()
                    .map(|m| {
                        vec![
                            m.place.name,
                            m.team_name,
                            m.name,
                            m.role_name,
                            status(m.active, "在职", "离职"),
                        ]
                    })
                    .collect(),
            }
        }
        RegisterKind::PartyOrgs => {
            let f = party::search(ctx, who, q, SHOWN).await?;
            Listing {
                headers: &["党组织", "层级", "上级组织", "所在地", "状态", "编码"],
                total: f.total,
                rows: f
                    .party_orgs
                    .into_iter()
                    .map(|o| {
                        vec![
                            o.name,
                            o.level_name,
                            o.parent.unwrap_or_default(),
                            o.place.name,
                            status(o.active, "启用", "撤销"),
                            o.code,
                        ]
                    })
                    .collect(),
            }
        }
        RegisterKind::Centres => {
            let f = centres::search(ctx, who, q, SHOWN).await?;
            Listing {
                headers: &["中心", "类别", "进驻类型", "部门或法律顾问", "巡诊日"],
                total: f.total,
                rows: f
                    .links
                    .into_iter()
                    .map(|l| vec![l.centre, l.centre_kind, l.link, l.member, l.days])
                    .collect(),
            }
        }
        RegisterKind::Departments => {
            let f = departments::search(ctx, who, q, SHOWN).await?;
            Listing {
                headers: &[
                    "部门",
                    "类别",
                    "所属区划",
                    "负责区域",
                    "上级部门",
                    "状态",
                    "编码",
                ],
                total: f.total,
                rows: f
                    .departments
                    .into_iter()
                    .map(|d| {
                        vec![
                            d.name,
                            d.kind_name,
                            d.region.name,
                            d.areas
                                .iter()
                                .map(|a| a.name.as_str())
                                .collect::<Vec<_>>()
                                .join("、"),
                            d.parent.unwrap_or_default(),
                            status(d.active, "启用", "停用"),
                            d.code,
                        ]
                    })
                    .collect(),
            }
        }
    })
}

#[derive(Template)]
#[template(path = "registry.html")]
struct RegistryPage {
    csrf: String,
    user: String,
    role: String,
    registers: Vec<RegisterLine>,
    /// The register listed below the forms.
    view: &'static str,
    view_name: &'static str,
    q: String,
    listing: Listing,
}

#[derive(Debug, Default, Deserialize)]
struct RegistryForm {
    view: Option<String>,
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
    let view = form
        .view
        .as_deref()
        .and_then(|v| v.parse::<RegisterKind>().ok())
        .filter(|k| k.columns().is_some())
        .unwrap_or(RegisterKind::Departments);
    let listing = match listing(&ctx, &who, view, &q).await {
        Ok(l) => l,
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
        view: view.as_str(),
        view_name: view.label_zh(),
        q,
        listing,
    })
}

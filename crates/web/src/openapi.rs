//! The OpenAPI 3.1 document of the JSON API, generated from the handlers' annotations and the
//! views' types (utoipa), served at `GET /api/v1/openapi.json` without an account, and a page at
//! `/api/docs` that renders it with the vendored Swagger UI (no internet). Every operation
//! documents the errors it can answer, all in the one shape; every operation but the public ones
//! names the two ways to prove who one is.

use crate::api;
use crate::error::ErrorEnvelope;
use axum::Json;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{RefOr, ResponseBuilder, SecurityRequirement};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "网格 Wangge",
        description = "网格化基层治理平台的 JSON 接口：事件上报与处置闭环、矛盾纠纷调解、指挥调度、账户与三员分立。\
            Every error answers `{\"error\": {\"code\", \"message\", \"details\"}}`; a record outside the caller's sight answers 404 exactly as one that does not exist.",
        license(name = "Apache-2.0")
    ),
    paths(
        api::healthz,
        api::session::login, api::session::logout, api::session::whoami,
        api::session::second_factor, api::session::enroll, api::session::confirm,
        api::admin::list, api::admin::create, api::admin::approve, api::admin::lock,
        api::admin::unlock, api::admin::deactivate, api::admin::change_role, api::admin::policy,
        api::admin::audit_search, api::admin::read_settings, api::admin::replace_settings,
        api::admin::due, api::admin::years, api::admin::load_year,
        api::places::region, api::places::grid, api::places::grids_within, api::places::locate,
        api::places::search, api::places::person, api::places::unmask,
        api::events::categories, api::events::list, api::events::report, api::events::detail,
        api::events::make_move, api::events::rate_departments, api::events::upload,
        api::events::download,
        api::portal::report, api::portal::track, api::portal::rate,
        api::centre::counters, api::centre::stream, api::centre::map, api::centre::charts,
        api::mediation::list, api::mediation::open, api::mediation::detail, api::mediation::step,
        api::mediation::send_slip, api::mediation::receive_slip, api::mediation::reply_slip,
        api::mediation::figures, api::mediation::rounds, api::mediation::set_round,
        api::mediation::record_round, api::mediation::risk_list, api::mediation::unmask_party,
        api::mediation::orgs, api::mediation::mediators, api::mediation::create_org,
        api::mediation::create_mediator,
        api::registry::list, api::registry::template, api::registry::export, api::registry::import,
        api::batches::change_password, api::batches::template, api::batches::import, api::batches::batches, api::batches::approve,
        openapi_json,
    ),
    components(schemas(ErrorEnvelope)),
    modifiers(&Shared),
    tags(
        (name = "session", description = "登录、第二重身份验证"),
        (name = "events", description = "事件：上报、列表、详情、处置动作、照片"),
        (name = "public", description = "群众：无需账户的上报、查询、评价"),
        (name = "centre", description = "指挥调度中心"),
        (name = "mediation", description = "矛盾纠纷调处化解"),
        (name = "places", description = "区划、网格、人员"),
        (name = "registry", description = "台账：部门等的模板、导入、导出、按名称查找"),
        (name = "calendar", description = "工作日历"),
        (name = "administration", description = "三员分立：账户、安全策略、审计、设置"),
        (name = "service", description = "运行状态与接口文档"),
    )
)]
pub struct ApiDoc;

/// What every operation shares: the security schemes, the errors in the one shape, and which
/// operations need no account.
struct Shared;

/// The errors an operation may answer, with what each means here.
const ERRORS: &[(&str, &str)] = &[
    (
        "400",
        "输入有误：字段、取值或格式不对（details.field 指出位置）",
    ),
    ("401", "未登录、会话失效或令牌无效"),
    ("403", "角色或范围不允许"),
    ("404", "不存在，或不在调用者的管辖范围内"),
    ("405", "此地址不接受这种请求方法"),
    ("409", "当前状态不允许，或已被他人更新（details.version）"),
    ("413", "请求体超过大小限制"),
    ("423", "账户已锁定"),
    ("429", "请求过于频繁"),
    ("500", "服务器内部错误"),
    ("503", "数据库暂时不可用"),
];

/// Operations anyone may call.
fn is_public(path: &str) -> bool {
    path == "/healthz"
        || path == "/api/v1/openapi.json"
        || path == "/api/v1/auth/login"
        || path.starts_with("/api/v1/public/")
}

impl utoipa::Modify for Shared {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("wgt_…")
                    .description(Some("机器客户端的访问令牌（wangge token create）"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::extract::SESSION_COOKIE,
                "浏览器会话；修改请求还须带 X-CSRF-Token 头",
            ))),
        );
        let error = || RefOr::Ref(utoipa::openapi::Ref::from_schema_name("ErrorEnvelope"));
        for (path, item) in doc.paths.paths.iter_mut() {
            let public = is_public(path);
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                for (status, what) in ERRORS {
                    if path == "/healthz" {
                        continue;
                    }
                    op.responses
                        .responses
                        .entry((*status).to_string())
                        .or_insert_with(|| {
                            ResponseBuilder::new()
                                .description(*what)
                                .content(
                                    "application/json",
                                    utoipa::openapi::ContentBuilder::new()
                                        .schema(Some(error()))
                                        .build(),
                                )
                                .build()
                                .into()
                        });
                }
                if public {
                    op.security = Some(vec![SecurityRequirement::default()]);
                } else {
                    op.security = Some(vec![
                        SecurityRequirement::new("bearer", Vec::<String>::new()),
                        SecurityRequirement::new("session", Vec::<String>::new()),
                    ]);
                }
            }
        }
    }
}

/// The document, built once.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOC: std::sync::OnceLock<utoipa::openapi::OpenApi> = std::sync::OnceLock::new();
    DOC.get_or_init(ApiDoc::openapi)
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "service",
    summary = "The OpenAPI 3.1 document of this API",
    responses((status = 200, content_type = "application/json", body = Object)))]
pub async fn openapi_json() -> Json<&'static utoipa::openapi::OpenApi> {
    Json(document())
}

/// The page that renders the document: Swagger UI from the binary's own files.
pub async fn docs_page() -> Response {
    let html = r#"<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>接口文档 · 网格</title>
<link rel="stylesheet" href="/assets/vendor/swagger-ui/swagger-ui.css">
<script src="/assets/vendor/swagger-ui/swagger-ui-bundle.js" defer></script>
<script src="/assets/docs.js" defer></script>
</head>
<body>
<p><a href="/">返回首页</a> · <a href="/api/v1/openapi.json">openapi.json</a></p>
<div id="swagger-ui"></div>
</body>
</html>"#;
    let mut res = crate::pages::page(html.to_string());
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res.into_response()
}

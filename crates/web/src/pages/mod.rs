//! The web pages: server-rendered HTML (askama templates under `templates/`) for people at a desk
//! or on a phone, and the static files they need, embedded in the binary (`assets/`, with the
//! vendored libraries listed in `assets/vendor/VENDOR.md`) so the product works on an intranet
//! with no internet. Pages read through the same use cases as the API, with the same sight; their
//! forms post to the JSON API from `assets/app.js`, so there is one path for every change. Every
//! page is sent with a strict Content-Security-Policy: no inline scripts or styles.

mod admin;
mod centre;
mod desk;
mod event;
mod mediation;
mod phone;
mod portal;
mod registry;

use crate::error::ApiError;
use crate::extract::{Caller, Path};
use askama::Template;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use rust_embed::RustEmbed;
use wangge_app::{Context, ErrorKind, Principal};
use wangge_domain::access::Role;
use wangge_domain::calendar::{Light, beijing};
use wangge_domain::workflow::Urgency;

#[derive(RustEmbed)]
#[folder = "assets/"]
struct Assets;

pub fn router() -> Router<Context> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_page))
        .route("/password", get(password_page))
        .route("/assets/{*path}", get(asset))
        .route("/sw.js", get(service_worker))
        .merge(desk::router())
        .merge(event::router())
        .merge(centre::router())
        .merge(admin::router())
        .merge(phone::router())
        .merge(portal::router())
        .merge(mediation::router())
        .merge(registry::router())
}

/// No inline scripts or styles, nothing from elsewhere; map tiles, when configured, will be the
/// one addition.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

pub(crate) fn page(html: String) -> Response {
    let mut res = Html(html).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

pub(crate) fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => page(html),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "页面生成失败").into_response()
        }
    }
}

/// A page's caller, or the way to the login page.
pub(crate) fn signed_in(caller: Result<Caller, ApiError>) -> Result<Caller, Box<Response>> {
    caller.map_err(|e| {
        Box::new(if e.0.kind == ErrorKind::Unauthorized {
            Redirect::to("/login").into_response()
        } else if e.0.code == "auth.password_change_required" {
            Redirect::to("/password").into_response()
        } else {
            e.into_response()
        })
    })
}

/// Who the page's header names: display name and role.
pub(crate) struct Header {
    pub csrf: String,
    pub user: String,
    pub role: String,
}

pub(crate) async fn header_of(ctx: &Context, who: &Principal) -> Header {
    let (user, role) = match who {
        Principal::Account(p) => (
            p.account.display_name.clone(),
            p.role.label_zh().to_string(),
        ),
        _ => (String::new(), String::new()),
    };
    Header {
        csrf: wangge_app::auth::csrf_of(ctx, who).await,
        user,
        role,
    }
}

#[derive(Template)]
#[template(path = "not_found.html")]
pub(crate) struct NotFound {
    pub(crate) csrf: String,
    pub(crate) user: String,
    pub(crate) role: String,
    pub(crate) message: &'static str,
}

/// The page for a record that is not there or not in sight (answered alike), 404.
pub(crate) async fn not_found(ctx: &Context, who: &Principal, message: &'static str) -> Response {
    let h = header_of(ctx, who).await;
    let mut res = render(&NotFound {
        csrf: h.csrf,
        user: h.user,
        role: h.role,
        message,
    });
    *res.status_mut() = StatusCode::NOT_FOUND;
    res
}

async fn asset(Path(path): Path<String>, headers: axum::http::HeaderMap) -> Response {
    let Some(file) = Assets::get(&path) else {
        return (StatusCode::NOT_FOUND, "没有这个文件").into_response();
    };
    let etag = format!(
        "\"{}\"",
        file.metadata
            .sha256_hash()
            .iter()
            .take(12)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let mime = match path.rsplit('.').next().unwrap_or("") {
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "json" => "application/json",
        _ => "application/octet-stream",
    };
    let mut res = file.data.into_owned().into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

/// The service worker, at the root so it may keep the report page for offline use.
async fn service_worker(headers: axum::http::HeaderMap) -> Response {
    asset(Path("sw.js".to_string()), headers).await
}

/// Each role lands on its own page: leaders and the command centre on the command centre,
/// mediators on the mediation desk, the three administrators on administration, grid workers on
/// their tasks, everyone else on the queue of their work (a department's is its inbox).
async fn home(caller: Result<Caller, ApiError>) -> Response {
    match signed_in(caller) {
        Ok(c) => match c.role() {
            Some(Role::CommandCentre | Role::Leader) => Redirect::to("/centre"),
            Some(Role::Mediator) => Redirect::to("/mediation"),
            Some(r) if r.is_administrator() => Redirect::to("/admin"),
            Some(Role::GridWorker) => Redirect::to("/tasks"),
            _ => Redirect::to("/desk"),
        }
        .into_response(),
        Err(to_login) => *to_login,
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct Login {
    csrf: String,
    user: String,
    role: String,
}

async fn login_page() -> Response {
    render(&Login {
        csrf: String::new(),
        user: String::new(),
        role: String::new(),
    })
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    csrf: String,
    user: String,
    role: String,
    first_login: bool,
}

/// 修改密码: for any signed-in session, and the only page an initial password may open.
async fn password_page(
    axum::extract::State(ctx): axum::extract::State<Context>,
    pending: Result<crate::extract::Pending, ApiError>,
) -> Response {
    let s = match pending {
        Ok(crate::extract::Pending(s)) => s,
        Err(e) if e.0.kind == ErrorKind::Unauthorized => {
            return Redirect::to("/login").into_response();
        }
        Err(e) => return e.into_response(),
    };
    let csrf = ctx
        .store
        .session(&s.id_hash)
        .await
        .ok()
        .flatten()
        .map(|x| x.csrf_token)
        .unwrap_or_default();
    render(&PasswordPage {
        csrf,
        user: s.account.display_name.clone(),
        role: s.role.label_zh().into(),
        first_login: s.account.must_change_password != 0,
    })
}

pub(crate) fn urgency_zh(u: Urgency) -> &'static str {
    match u {
        Urgency::Urgent => "紧急",
        Urgency::VeryUrgent => "特急",
        Urgency::Normal => "一般",
    }
}

pub(crate) fn light_wire(l: Option<Light>) -> String {
    l.map(|l| wangge_domain::wire(&l)).unwrap_or_default()
}

pub(crate) fn light_zh(l: Option<Light>) -> &'static str {
    match l {
        Some(Light::Red) => "红灯（超时）",
        Some(Light::Yellow) => "黄灯（临期）",
        Some(Light::Green) => "绿灯",
        None => "—",
    }
}

/// A time as the lists show it: `11-27 14:05` in Beijing time.
pub(crate) fn short(t: Option<chrono::DateTime<chrono::FixedOffset>>) -> String {
    t.map(|t| t.format("%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "—".into())
}

pub(crate) fn short_utc(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    short(t.map(|t| t.with_timezone(&beijing())))
}

/// Percent-encodes a query value (the filters echo what the user typed).
pub(crate) fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub(crate) fn move_label(name: &str) -> &'static str {
    match name {
        "report" => "上报",
        "accept" => "受理",
        "reject" => "不予受理",
        "merge" => "合并",
        "handle_here" => "网格内自行处置",
        "escalate" => "上报上级",
        "dispatch" => "派遣",
        "whistle" => "吹哨",
        "check_in" => "签收报到",
        "return" => "退回",
        "request_extension" => "申请延期",
        "decide_extension" => "审批延期",
        "suspend" => "挂起",
        "resume" => "恢复",
        "submit_result" => "提交处置结果",
        "verify" => "核查",
        "rate" => "评价",
        "urge" => "催办",
        "supervise" => "督办",
        "reclassify" => "改类",
        "recall" => "撤回派遣",
        "reopen" => "重新办理",
        "reassign" => "转交",
        "mediate" => "转入调解",
        "mediation_ended" => "调解结束",
        _ => "操作",
    }
}

//! Administration, one duty per administrator (三员分立): the system administrator sees the
//! settings, the catalogue and routing forms, the calendar and the accounts it proposes; the
//! security administrator the policy, the accounts awaiting approval and the roles; the audit
//! administrator the audit trail. Anyone else is refused, as by the API.

use super::{Header, header_of, render, signed_in, urgency_zh};
use crate::error::ApiError;
use crate::extract::{Caller, Query};
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use wangge_app::accounts::{self, AccountStatus, AccountView};
use wangge_app::audit::{self, AuditFilter};
use wangge_app::auth::SecurityPolicy;
use wangge_app::registry::departments;
use wangge_app::{AppError, Configured, Context};
use wangge_domain::access::{Permission, Role};
use wangge_domain::calendar::beijing;
use wangge_domain::org::DepartmentKind;

pub fn router() -> Router<Context> {
    Router::new().route("/admin", get(admin))
}

type Cells6 = (i64, String, String, String, String, String);

struct AccountLine {
    id: String,
    username: String,
    name: String,
    role: String,
    /// The role's wire name, for the security administrator's role form.
    role_wire: String,
    administrator: bool,
    pending: bool,
    scope: String,
    status: &'static str,
    locked: bool,
    active: bool,
}

impl AccountLine {
    fn is_role(&self, wire: &str) -> bool {
        self.role_wire == wire
    }
}

struct PendingLine {
    id: String,
    username: String,
    name: String,
    role: String,
    scope: String,
    proposed_by: String,
}

struct CategoryLine {
    code: String,
    name: String,
    major: String,
    urgency: &'static str,
    department: &'static str,
    accept: String,
    check_in: String,
    handle: String,
    verify: String,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct Admin {
    csrf: String,
    user: String,
    role: String,
    title: &'static str,
    show_settings: bool,
    show_policy: bool,
    show_audit: bool,
    settings: String,
    accounts: Vec<AccountLine>,
    /// Accounts awaiting the security administrator's approval.
    pending: Vec<PendingLine>,
    /// Batches of accounts imported in bulk and awaiting approval: (batch, proposer, roles, count).
    batches: Vec<(String, String, String, usize)>,
    /// The roles an account may be created with here (administrators are made on the server).
    roles: Vec<(&'static str, &'static str)>,
    /// The years with a published holiday notice.
    years: String,
    policy: Vec<(&'static str, String)>,
    actor: String,
    action: String,
    audit: Vec<Cells6>,
    /// The catalogue in force, for the category form and its table.
    categories: Vec<CategoryLine>,
    department_kinds: Vec<(&'static str, &'static str)>,
    /// The routing rules in force: (category, region, department).
    routes: Vec<(String, String, String)>,
    /// Every department as (code, name), for the pickers of routing rules and scopes.
    departments: Vec<(String, String)>,
}

/// A time limit in words: 30分钟, 4工作小时, 10个工作日.
fn limit_zh(l: wangge_domain::calendar::Limit) -> String {
    use wangge_domain::calendar::Limit;
    match l {
        Limit::Minutes(m) if m % 60 == 0 && m >= 60 => format!("{}小时", m / 60),
        Limit::Minutes(m) => format!("{m}分钟"),
        Limit::WorkingMinutes(m) if m % 60 == 0 => format!("{}工作小时", m / 60),
        Limit::WorkingMinutes(m) => format!("{m}工作分钟"),
        Limit::WorkingDays(d) => format!("{d}个工作日"),
    }
}

fn role_label(r: &Option<Role>) -> String {
    r.map(|r| r.label_zh().to_string()).unwrap_or_default()
}

#[derive(Debug, Default, Deserialize)]
struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
}

/// Which of the three duties the caller holds: each shows its own sections of the page.
#[derive(Clone, Copy)]
struct Duties {
    settings: bool,
    policy: bool,
    audit: bool,
}

async fn admin(
    State(ctx): State<Context>,
    caller: Result<Caller, ApiError>,
    Query(q): Query<AuditQuery>,
) -> Response {
    let who = match signed_in(caller) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let can = |p| who.require(p).is_ok();
    let duties = Duties {
        settings: can(Permission::Configure),
        policy: can(Permission::ManageSecurity),
        audit: can(Permission::ReadAudit),
    };
    if !(duties.settings || duties.policy || duties.audit) {
        return ApiError(AppError::forbidden()).into_response();
    }
    let h = header_of(&ctx, &who).await;
    let mut page = blank(&ctx, &who, h, &q, duties);
    if duties.settings {
        settings_section(&ctx.config.get(), &mut page);
    }
    if duties.settings || duties.policy {
        page.departments = match departments::search(&ctx, &who, None, usize::MAX).await {
            Ok(d) => d
                .departments
                .into_iter()
                .map(|d| (d.code, d.name))
                .collect(),
            Err(e) => return ApiError(e).into_response(),
        };
        let names: std::collections::HashMap<&str, &str> = page
            .departments
            .iter()
            .map(|(c, n)| (c.as_str(), n.as_str()))
            .collect();
        for r in &mut page.routes {
            if let Some(n) = names.get(r.2.as_str()) {
                r.2 = format!("{n}（{}）", r.2);
            }
        }
        let list = match accounts::list(&ctx, &who).await {
            Ok(l) => l.accounts,
            Err(e) => return ApiError(e).into_response(),
        };
        page.pending = pending_lines(&list);
        page.accounts = list.into_iter().map(account_line).collect();
    }
    if duties.policy {
        page.policy = policy_lines(&ctx.security);
        page.batches = match wangge_app::accounts::bulk::pending_batches(&ctx, &who).await {
            Ok(b) => b
                .into_iter()
                .map(|b| {
                    let roles = b
                        .roles
                        .iter()
                        .map(|r| format!("{} {} 个", r.role, r.count))
                        .collect::<Vec<_>>()
                        .join("、");
                    (b.batch, b.proposed_by.unwrap_or_default(), roles, b.pending)
                })
                .collect(),
            Err(e) => return ApiError(e).into_response(),
        };
    }
    if duties.audit {
        page.audit = match audit_lines(&ctx, &who, &page.actor, &page.action).await {
            Ok(a) => a,
            Err(e) => return ApiError(e).into_response(),
        };
    }
    render(&page)
}

/// The page with what every duty sees; the sections of each duty are filled in after.
fn blank(ctx: &Context, who: &Caller, h: Header, q: &AuditQuery, duties: Duties) -> Admin {
    Admin {
        csrf: h.csrf,
        user: h.user,
        role: h.role,
        title: who.role().map_or("系统管理", Role::label_zh),
        show_settings: duties.settings,
        show_policy: duties.policy,
        show_audit: duties.audit,
        settings: String::new(),
        accounts: Vec::new(),
        pending: Vec::new(),
        batches: Vec::new(),
        roles: Role::ALL
            .iter()
            .filter(|r| !r.is_administrator())
            .map(|r| (r.as_str(), r.label_zh()))
            .collect(),
        years: ctx
            .calendar
            .get()
            .published_years()
            .map(|y| y.to_string())
            .collect::<Vec<_>>()
            .join("、"),
        policy: Vec::new(),
        actor: q.actor.clone().unwrap_or_default(),
        action: q.action.clone().unwrap_or_default(),
        audit: Vec::new(),
        categories: Vec::new(),
        department_kinds: DepartmentKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.label_zh()))
            .collect(),
        routes: Vec::new(),
        departments: Vec::new(),
    }
}

/// The system administrator's sections: the settings in force, the catalogue and the routing.
fn settings_section(config: &Configured, page: &mut Admin) {
    page.settings = serde_json::to_string_pretty(&config.settings).unwrap_or_default();
    page.categories = config
        .catalogue
        .iter()
        .map(|c| CategoryLine {
            code: c.code.clone(),
            name: c.name.clone(),
            major: c.major_name.clone(),
            urgency: urgency_zh(c.urgency),
            department: c.department.label_zh(),
            accept: limit_zh(c.limits.accept),
            check_in: limit_zh(c.limits.check_in),
            handle: limit_zh(c.limits.handle),
            verify: limit_zh(c.limits.verify),
        })
        .collect();
    page.routes = config
        .settings
        .routing
        .iter()
        .map(|r| (r.category.clone(), r.region.clone(), r.department.clone()))
        .collect();
}

/// The accounts another administrator has proposed, awaiting approval.
fn pending_lines(list: &[AccountView]) -> Vec<PendingLine> {
    list.iter()
        .filter_map(|a| {
            let p = a.proposed.as_ref()?;
            Some(PendingLine {
                id: a.id.to_string(),
                username: a.username.clone(),
                name: a.display_name.clone(),
                role: role_label(&p.role),
                scope: p.scope.code.clone().unwrap_or_default(),
                proposed_by: p.proposed_by.clone().unwrap_or_default(),
            })
        })
        .collect()
}

/// An account as the list shows it; one awaiting approval shows the role and scope proposed.
fn account_line(a: AccountView) -> AccountLine {
    AccountLine {
        id: a.id.to_string(),
        username: a.username,
        name: a.display_name,
        role: match &a.proposed {
            Some(p) => format!("{}（待审批）", role_label(&p.role)),
            None => role_label(&a.role),
        },
        administrator: a.role.is_some_and(Role::is_administrator),
        pending: a.status == AccountStatus::AwaitingApproval,
        role_wire: a.role.map(|r| r.as_str().to_string()).unwrap_or_default(),
        scope: a
            .scope
            .code
            .or(a.proposed.and_then(|p| p.scope.code))
            .unwrap_or_default(),
        status: a.status.label_zh(),
        locked: a.status == AccountStatus::Locked,
        active: a.active,
    }
}

/// The security administrator's section: the sign-in policy in force.
fn policy_lines(s: &SecurityPolicy) -> Vec<(&'static str, String)> {
    vec![
        ("连续失败锁定", format!("{} 次", s.max_failures)),
        ("锁定时长", format!("{} 分钟", s.lock_for.num_minutes())),
        (
            "会话空闲超时",
            format!("{} 分钟", s.idle_timeout.num_minutes()),
        ),
        (
            "会话最长时间",
            format!("{} 小时", s.absolute_timeout.num_hours()),
        ),
    ]
}

/// The audit administrator's section: the trail, filtered by actor and action as typed.
async fn audit_lines(
    ctx: &Context,
    who: &Caller,
    actor: &str,
    action: &str,
) -> Result<Vec<Cells6>, AppError> {
    let filter = AuditFilter {
        actor: Some(actor.trim().to_string()).filter(|a| !a.is_empty()),
        action: Some(action.trim().to_string()).filter(|a| !a.is_empty()),
        ..Default::default()
    };
    let found = audit::search(ctx, who, &filter).await?;
    Ok(found
        .records
        .into_iter()
        .map(|r| {
            (
                r.seq,
                r.at.with_timezone(&beijing())
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string(),
                r.actor,
                r.actor_role.unwrap_or_default(),
                r.action,
                r.record_id.unwrap_or_default(),
            )
        })
        .collect())
}

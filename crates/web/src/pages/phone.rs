//! The grid worker's phone pages: "my tasks" (我的任务: events waiting for their verification and
//! the matters handled in the community) with "my grid", and the report page (the position from
//! the phone or a tap, a photo, reports kept on the phone while there is no signal).

use super::{header_of, light_wire, render, short, signed_in};
use crate::error::ApiError;
use crate::extract::Caller;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use wangge_app::events::desk;
use wangge_app::events::views::EventView;
use wangge_app::{Context, Principal};
use wangge_domain::access::{Node, Role, Scope};

pub fn router() -> Router<Context> {
    Router::new()
        .route("/report", get(report_page))
        .route("/tasks", get(tasks_page))
}

/// A grid worker's grid code (empty for other roles).
fn own_grid(who: &Principal) -> String {
    match who {
        Principal::Account(p) if p.role == Role::GridWorker => match &p.scope {
            Scope::Place(Node::Grid(g)) => g.as_str().to_string(),
            _ => String::new(),
        },
        _ => String::new(),
    }
}

/// The catalogue as a picker shows it: major class · minor class.
pub(crate) fn category_choices(ctx: &Context) -> Vec<(String, String)> {
    ctx.config
        .get()
        .catalogue
        .iter()
        .map(|c| (c.code.clone(), format!("{} · {}", c.major_name, c.name)))
        .collect()
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    csrf: String,
    user: String,
    role: String,
    categories: Vec<(String, String)>,
    /// A grid worker's own grid, drawn under the position marker.
    grid: String,
}

/// The report page (any role that may report can use it).
async fn report_page(State(ctx): State<Context>, caller: Result<Caller, ApiError>) -> Response {
    let who = match signed_in(caller) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let h = header_of(&ctx, &who).await;
    render(&ReportPage {
        csrf: h.csrf,
        user: h.user,
        role: h.role,
        categories: category_choices(&ctx),
        grid: own_grid(&who),
    })
}

struct Task {
    id: String,
    code: String,
    category: String,
    description: String,
    due: String,
    light: String,
}

#[derive(Template)]
#[template(path = "tasks.html")]
struct TasksPage {
    csrf: String,
    user: String,
    role: String,
    to_verify: Vec<Task>,
    to_handle: Vec<Task>,
    grid: String,
}

async fn tasks_page(State(ctx): State<Context>, caller: Result<Caller, ApiError>) -> Response {
    let who = match signed_in(caller) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let tasks = match desk::tasks(&ctx, &who).await {
        Ok(t) => t,
        Err(e) => return ApiError(e).into_response(),
    };
    let config = ctx.config.get();
    let task = |e: &EventView| Task {
        id: e.id.to_string(),
        code: e.code.clone(),
        category: config
            .category(&e.category)
            .map_or(e.category.clone(), |c| c.name),
        description: e.description.chars().take(60).collect(),
        due: short(e.deadlines.first().and_then(|d| d.due_at)),
        light: light_wire(e.light),
    };
    let h = header_of(&ctx, &who).await;
    render(&TasksPage {
        csrf: h.csrf,
        user: h.user,
        role: h.role,
        to_verify: tasks.to_verify.iter().map(task).collect(),
        to_handle: tasks.to_handle.iter().map(task).collect(),
        grid: own_grid(&who),
    })
}

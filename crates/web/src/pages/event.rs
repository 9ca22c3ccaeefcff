//! The event page (`/events/{id}`): the facts, the running step and its light, the suggested
//! department, likely duplicates with a merge form each, a form for each move the user may make
//! now, and the history.

use super::{
    Header, header_of, light_wire, move_label, not_found, render, short, signed_in, urgency_zh,
};
use crate::error::ApiError;
use crate::extract::{Caller, Path};
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use wangge_app::events::desk::{self, Workbench};
use wangge_app::events::views::HistoryEntry;
use wangge_app::{Configured, Context, ErrorKind};

pub fn router() -> Router<Context> {
    Router::new().route("/events/{id}", get(event_page))
}

struct Field {
    name: &'static str,
    label: &'static str,
    /// text, line, number, bool, choice, many or photo.
    kind: &'static str,
    default: &'static str,
    options: Vec<(String, String)>,
}

struct MoveForm {
    name: &'static str,
    label: &'static str,
    fields: Vec<Field>,
}

struct HistoryLine {
    at: String,
    label: &'static str,
    actor: String,
    note: String,
}

struct Duplicate {
    id: String,
    code: String,
    state: &'static str,
    distance_m: f64,
    description: String,
}

#[derive(Template)]
#[template(path = "event.html")]
struct EventPage {
    csrf: String,
    user: String,
    role: String,
    id: String,
    code: String,
    version: i64,
    state: &'static str,
    state_wire: String,
    suspended: bool,
    category: String,
    urgency: &'static str,
    grid: String,
    address: String,
    description: String,
    step: String,
    light: String,
    due: String,
    routed: String,
    lon: f64,
    lat: f64,
    moves: Vec<MoveForm>,
    history: Vec<HistoryLine>,
    /// 疑似重复: open events of the same class nearby, each with a form to merge into it.
    duplicates: Vec<Duplicate>,
    /// A dispute the user may take to mediation (矛盾纠纷 → 调解案件).
    mediate: bool,
}

fn field(name: &'static str, label: &'static str, kind: &'static str) -> Field {
    Field {
        name,
        label,
        kind,
        default: "",
        options: Vec::new(),
    }
}

/// The form of each move: what it carries, in the shape the API takes.
fn form_of(
    name: &'static str,
    departments: &[(String, String)],
    categories: &[(String, String)],
) -> MoveForm {
    let many = |n, l| Field {
        options: departments.to_vec(),
        ..field(n, l, "many")
    };
    let one = |n, l, options: &[(String, String)]| Field {
        options: options.to_vec(),
        ..field(n, l, "choice")
    };
    let fields = match name {
        "reject" | "return" | "suspend" => vec![field("reason", "理由", "text")],
        "merge" => vec![field("into", "并入事件（编号 ID）", "line")],
        "dispatch" => vec![
            one("lead", "主办部门", departments),
            many("co", "协办部门（可多选）"),
        ],
        "whistle" => vec![
            one("lead", "牵头部门", departments),
            many("others", "其他报到部门（可多选）"),
            Field {
                default: "30",
                ..field("check_in_minutes", "报到时限（分钟）", "number")
            },
            field("task", "任务", "text"),
        ],
        "request_extension" => vec![
            Field {
                default: "480",
                ..field("minutes", "延期（分钟）", "number")
            },
            field("reason", "理由", "text"),
        ],
        "decide_extension" => vec![field("approve", "同意延期", "bool")],
        "submit_result" => vec![
            field("text", "处置结果", "text"),
            field("photo", "处置后照片（选填）", "photo"),
        ],
        "verify" => vec![
            field("pass", "核查通过", "bool"),
            field("note", "核查意见", "text"),
            field("photo", "现场照片（选填）", "photo"),
        ],
        "rate" => vec![
            one(
                "rating",
                "评价",
                &[
                    ("satisfied".into(), "满意".into()),
                    ("basically_satisfied".into(), "基本满意".into()),
                    ("dissatisfied".into(), "不满意".into()),
                ],
            ),
            field("comment", "意见", "text"),
        ],
        "urge" | "supervise" => vec![field("note", "说明", "text")],
        "reclassify" => vec![one("category", "新类别", categories)],
        "reassign" => vec![field("to", "转交给（用户名）", "line")],
        _ => Vec::new(),
    };
    MoveForm {
        name,
        label: move_label(name),
        fields,
    }
}

fn step_zh(s: wangge_domain::catalog::Step) -> &'static str {
    use wangge_domain::catalog::Step;
    match s {
        Step::Accept => "受理派遣",
        Step::CheckIn => "签收报到",
        Step::Handle => "处置",
        Step::Verify => "核查",
    }
}

async fn event_page(
    State(ctx): State<Context>,
    caller: Result<Caller, ApiError>,
    Path(id): Path<String>,
) -> Response {
    let who = match signed_in(caller) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let w = match desk::workbench(&ctx, &who, &id).await {
        Ok(w) => w,
        Err(e) if e.kind == ErrorKind::NotFound => {
            return not_found(&ctx, &who, "事件不存在，或不在您的管辖范围内。").await;
        }
        Err(e) => return ApiError(e).into_response(),
    };
    let config = ctx.config.get();
    let h = header_of(&ctx, &who).await;
    render(&page_of(&config, &w, h))
}

fn page_of(config: &Configured, w: &Workbench, h: Header) -> EventPage {
    let e = &w.detail.event;
    let deadline = e.deadlines.first();
    EventPage {
        csrf: h.csrf,
        user: h.user,
        role: h.role,
        id: e.id.to_string(),
        code: e.code.clone(),
        version: e.version,
        state: e.state.label_zh(),
        state_wire: wangge_domain::wire(&e.state),
        suspended: e.suspended,
        category: config
            .category(&e.category)
            .map_or(e.category.clone(), |c| format!("{} {}", c.code, c.name)),
        urgency: urgency_zh(e.urgency),
        grid: e.grid.as_ref().map_or(String::new(), |g| g.code.clone()),
        address: e.address.clone().unwrap_or_else(|| "—".into()),
        description: e.description.clone(),
        step: deadline.map_or("—", |d| step_zh(d.step)).to_string(),
        due: short(deadline.and_then(|d| d.due_at)),
        light: light_wire(e.light),
        routed: w
            .detail
            .routed_department
            .as_ref()
            .map_or_else(|| "—".into(), |d| d.name.clone()),
        lon: e.location.lon,
        lat: e.location.lat,
        duplicates: duplicate_lines(w),
        mediate: w.can_mediate,
        moves: move_forms(config, w),
        history: w.detail.history.iter().map(history_line).collect(),
    }
}

/// 疑似重复: the likely duplicates, each with a form to merge into it.
fn duplicate_lines(w: &Workbench) -> Vec<Duplicate> {
    w.duplicates
        .iter()
        .map(|d| Duplicate {
            id: d.id.to_string(),
            code: d.code.clone(),
            state: d.state.label_zh(),
            distance_m: d.distance_m,
            description: d.description.chars().take(60).collect(),
        })
        .collect()
}

/// A form for each move the user may make now, its pickers filled with the departments that may
/// take the event and the catalogue.
fn move_forms(config: &Configured, w: &Workbench) -> Vec<MoveForm> {
    let departments: Vec<(String, String)> = w
        .departments
        .iter()
        .map(|d| (d.id.to_string(), d.name.clone()))
        .collect();
    let categories: Vec<(String, String)> = config
        .catalogue
        .iter()
        .map(|c| (c.code.clone(), format!("{} {}", c.code, c.name)))
        .collect();
    w.moves
        .iter()
        .map(|n| form_of(n, &departments, &categories))
        .collect()
}

/// A move in the history, with the first note it carries (moves name their note differently).
fn history_line(h: &HistoryEntry) -> HistoryLine {
    let note = ["reason", "note", "text", "comment", "task"]
        .iter()
        .find_map(|k| h.body[k].as_str().map(str::to_string))
        .unwrap_or_default();
    HistoryLine {
        at: h.at.format("%Y-%m-%d %H:%M").to_string(),
        label: move_label(&h.move_name),
        actor: h.actor.clone(),
        note,
    }
}

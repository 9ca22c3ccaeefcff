//! Intake (上报): a report from anyone who may report — a grid worker, staff, a department, a
//! machine client, a citizen on the portal — checked, located in its grid, numbered by the
//! writer with the county's daily sequence, stored with its first history entry and audit
//! record, its first step's clock started. A repeated idempotency key answers with the event
//! stored first. Staff reports come back with their likely duplicates.

use super::duplicates::{self, BOX_DEG};
use super::is_rural;
use super::views::Duplicate;
use crate::context::Context;
use crate::error::{AppError, AppResult};
use crate::limits::{self, ADDRESS_MAX, TEXT_MAX};
use crate::principal::Principal;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;
use wangge_domain::access::{Role, Visibility};
use wangge_domain::calendar::{beijing, yellow_at};
use wangge_domain::catalog::{Category, Step};
use wangge_domain::crs::Crs;
use wangge_domain::workflow::{Flow, Source, Urgency};
use wangge_domain::{parse_wire, wire};
use wangge_security::pii;
use wangge_store::{EventRow, NewMove, NewReport, Reported};

/// A report as sent. Unknown fields are refused by name.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportInput {
    /// A minor class of the catalogue (`GET /api/v1/categories`), e.g. `0401`.
    pub category: String,
    pub lon: f64,
    pub lat: f64,
    /// `wgs84` (default) or `gcj02` (高德/腾讯 maps).
    pub crs: Option<String>,
    pub address: Option<String>,
    pub description: String,
    /// `normal`, `urgent` or `very_urgent`; the category's own by default.
    pub urgency: Option<String>,
    /// The reporter's mobile number, stored encrypted and shown masked.
    pub reporter_phone: Option<String>,
    /// A key the client chooses per report: sending the same report again (a phone retrying)
    /// answers with the first event instead of storing a second.
    pub idempotency_key: Option<String>,
}

/// What became of a report.
pub struct Intake {
    pub event: EventRow,
    /// Whether it was stored now (`false`: its idempotency key found the first one).
    pub created: bool,
    /// The likely duplicates in the reporter's sight, when asked for.
    pub duplicates: Vec<Duplicate>,
}

fn bad(code: &'static str, m: impl Into<String>) -> AppError {
    AppError::invalid(code, m)
}

/// The channel of a principal's reports.
pub fn source_of(who: &Principal) -> Source {
    match who {
        Principal::Citizen { .. } => Source::Citizen,
        p if p.is_machine() => Source::Machine,
        p => match p.role() {
            Some(Role::GridWorker) => Source::GridWorker,
            Some(Role::DepartmentStaff) => Source::Department,
            _ => Source::Staff,
        },
    }
}

/// A report checked: what it says, where it is, and in which grid.
struct Checked {
    category: Category,
    urgency: Urgency,
    description: String,
    address: Option<String>,
    lon: f64,
    lat: f64,
    phone: Option<String>,
    grid: String,
}

/// The report's point in WGS-84, whichever system the phone's map gave it in.
fn coordinates(b: &ReportInput) -> AppResult<(f64, f64)> {
    if !b.lon.is_finite()
        || !b.lat.is_finite()
        || !(-180.0..=180.0).contains(&b.lon)
        || !(-90.0..=90.0).contains(&b.lat)
    {
        return Err(bad(
            "event.bad_coordinate",
            format!("坐标超出经纬度范围：[{}, {}]", b.lon, b.lat),
        ));
    }
    let crs: Crs = match &b.crs {
        Some(c) => c
            .parse()
            .map_err(|m: String| bad("event.bad_crs", m).at("crs"))?,
        None => Crs::Wgs84,
    };
    Ok(crs.to_wgs84(b.lon, b.lat))
}

/// Checks every field of a report and locates it in a grid the reporter may report in.
fn check(ctx: &Context, vis: &Visibility, b: &ReportInput) -> AppResult<Checked> {
    let category: Category = ctx
        .config
        .get()
        .category(b.category.trim())
        .ok_or_else(|| {
            bad(
                "event.unknown_category",
                format!(
                    "未知事件类别 \"{}\"",
                    b.category.chars().take(20).collect::<String>()
                ),
            )
            .at("category")
        })?;
    let urgency: Urgency = match b.urgency.as_deref() {
        None => category.urgency,
        Some(u) => parse_wire(u).ok_or_else(|| {
            bad(
                "event.bad_urgency",
                "紧急程度应为 normal、urgent 或 very_urgent",
            )
            .at("urgency")
        })?,
    };
    let description =
        limits::text("description", &b.description, TEXT_MAX).map_err(|e| AppError {
            code: "event.bad_description",
            message: format!("请填写事件描述（不超过{TEXT_MAX}字，不含控制字符）"),
            ..e
        })?;
    let address = limits::optional_text("address", b.address.as_deref(), ADDRESS_MAX)?;
    let (lon, lat) = coordinates(b)?;
    let phone = match &b.reporter_phone {
        Some(p) => Some(
            pii::validate_mobile(p)
                .map_err(|e| bad("event.bad_phone", e.to_string()).at("reporter_phone"))?,
        ),
        None => None,
    };
    if let Some(key) = &b.idempotency_key
        && (key.len() > 128 || key.trim().is_empty() || key.chars().any(char::is_control))
    {
        return Err(
            bad("event.bad_idempotency_key", "幂等键应为1–128个可见字符").at("idempotency_key"),
        );
    }
    let atlas = ctx.atlas.get();
    let location = atlas.locate(lon, lat).ok_or_else(|| {
        bad("event.outside_grids", "该位置不在任何网格内").with_details(
            json!({"nearest": atlas.nearest(lon, lat).filter(|n| vis.sees(&n.grid.code))}),
        )
    })?;
    if !vis.sees(&location.grid.code) {
        return Err(bad("event.outside_scope", "该位置不在您的管辖范围内"));
    }
    Ok(Checked {
        category,
        urgency,
        description,
        address,
        lon,
        lat,
        phone,
        grid: location.grid.code,
    })
}

/// The new event's row, its accept-and-dispatch clock started now.
fn row_of(ctx: &Context, who: &Principal, c: Checked, key: Option<&str>) -> AppResult<EventRow> {
    let t = ctx.now();
    let grid = c.grid;
    let day = t.with_timezone(&beijing()).format("%Y%m%d").to_string();
    let due = ctx.due(
        &grid,
        t,
        c.category.limit(Step::Accept, c.urgency, is_rural(&grid)),
    );
    let flow = Flow::reported();
    let tracking: [u8; 10] = wangge_security::random_bytes();
    let account = who.account_id();
    Ok(EventRow {
        region_code: format!("{}000000", &grid[..6]),
        id: Uuid::now_v7(),
        // The writer appends the day's next number to the county prefix and the day.
        code: format!("{}{day}", &grid[..6]),
        tracking_code: wangge_security::totp::base32(&tracking),
        category_code: c.category.code.clone(),
        domain: wire(&c.category.domain),
        urgency: wire(&c.urgency),
        state: wire(&flow.state),
        flow: serde_json::to_string(&flow)
            .map_err(|e| AppError::internal("event.broken", e.to_string()))?,
        version: flow.version,
        source: wire(&source_of(who)),
        description: c.description,
        address: c.address,
        lon: c.lon,
        lat: c.lat,
        grid_code: grid,
        reporter_account: account,
        reporter_phone_enc: c.phone.as_ref().map(|p| ctx.keys.encrypt(p)),
        reporter_phone_idx: c.phone.as_ref().map(|p| ctx.keys.blind_index("phone", p)),
        // Keys are the reporter's own: another account's key never finds this event. The public
        // portal's keys are long random strings (checked by the portal), unguessable by others.
        idempotency_key: key.map(|k| match account {
            Some(a) => format!("{a}:{k}"),
            None => format!("public:{k}"),
        }),
        lead_department: None,
        departments: " ".into(),
        step: Some(wire(&Step::Accept)),
        step_started_at: Some(t),
        step_due_at: Some(due.at),
        step_due_provisional: i64::from(due.provisional),
        suspended_at: None,
        extension_minutes: None,
        created_at: t,
        updated_at: t,
        yellow_at: Some(yellow_at(t, due.at, ctx.yellow_share())),
        light_notified: "green".into(),
    })
}

/// Checks, locates, numbers and stores a report, or finds the event its idempotency key stored
/// first. With `hint`, a new event comes back with its likely duplicates in the reporter's sight.
pub async fn report(
    ctx: &Context,
    who: &Principal,
    b: ReportInput,
    hint: bool,
) -> AppResult<Intake> {
    // Where the reporter may report: its sight; a citizen anywhere in the city.
    let vis = match who {
        Principal::Citizen { .. } => Visibility::system(),
        p => p.visibility()?,
    };
    let checked = check(ctx, &vis, &b)?;
    let e = row_of(ctx, who, checked, b.idempotency_key.as_deref())?;
    let first = NewMove {
        move_name: "report".into(),
        body: json!({"category": e.category_code, "urgency": e.urgency}).to_string(),
        from_state: "".into(),
        to_state: e.state.clone(),
        actor: who.actor_name(),
        actor_role: who.role_name(),
        department: who.department(),
        ip: who.ip(),
    };
    let audit = who.audit(
        "event.report",
        Some("event"),
        Some(e.id.to_string()),
        json!({"category": e.category_code, "source": e.source}),
    );
    let reported = ctx
        .writer
        .report(NewReport {
            event: e,
            first,
            audit,
            nearby_within: hint.then_some(BOX_DEG),
        })
        .await?;
    Ok(match reported {
        Reported::Created { event, nearby } => {
            let duplicates = match (hint, who.sight()) {
                (true, Ok(sight)) => duplicates::rank(&sight, &event, &nearby),
                _ => Vec::new(),
            };
            Intake {
                event,
                created: true,
                duplicates,
            }
        }
        Reported::Existing(event) => Intake {
            event,
            created: false,
            duplicates: Vec::new(),
        },
    })
}

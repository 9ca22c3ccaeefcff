//! The mediation statistics (`/mediation/stats`): the totals and the success rate with its
//! published definition, the figures by dispute type for the chart, and the same table for Excel
//! as CSV or .xlsx — for roles that may export, every download audited.

use crate::error::ApiError;
use crate::extract::{Caller, Query};
use crate::pages::{encode, header_of, render, signed_in};
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use wangge_app::Context;
use wangge_app::mediation::stats::{self, StatsFilter, TypeFigures};
use wangge_domain::access::Permission;

struct TypeLine {
    name: &'static str,
    handled: u64,
    successful: u64,
    rate: String,
}

#[derive(Template)]
#[template(path = "mediation_stats.html")]
struct StatsPage {
    csrf: String,
    user: String,
    role: String,
    region: String,
    from: String,
    to: String,
    stats: wangge_domain::mediation::Stats,
    rate: String,
    average_days: String,
    by_type: Vec<TypeLine>,
    query: String,
    /// Whether the user's role may download the figures.
    can_export: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct StatsForm {
    region: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

impl StatsForm {
    /// The filters as the API takes them: dates from the form become Beijing midnights (`to` the
    /// end of its day).
    fn filter(&self) -> StatsFilter {
        let day = |d: &Option<String>, end: bool| {
            d.as_deref()
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(|d| match chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d") {
                    Ok(day) => {
                        let day = if end {
                            day + chrono::Duration::days(1)
                        } else {
                            day
                        };
                        format!("{day}T00:00:00+08:00")
                    }
                    Err(_) => d.to_string(),
                })
        };
        StatsFilter {
            region: self
                .region
                .as_deref()
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_string),
            from: day(&self.from, false),
            to: day(&self.to, true),
            ..StatsFilter::default()
        }
    }
}

fn type_lines(types: Vec<TypeFigures>) -> Vec<TypeLine> {
    types
        .into_iter()
        .map(|t| TypeLine {
            name: t.dispute_type.label_zh(),
            handled: t.handled,
            successful: t.successful,
            rate: t.rate,
        })
        .collect()
}

/// The figures a statistics page or export shows: the totals with the rate as displayed, and the
/// same by type.
async fn figures(
    ctx: &Context,
    who: &Caller,
    f: &StatsFilter,
) -> Result<(stats::StatsView, Vec<TypeLine>), Response> {
    let total = stats::stats(ctx, who, f)
        .await
        .map_err(|e| ApiError(e).into_response())?;
    let types = stats::by_type(ctx, who, f)
        .await
        .map_err(|e| ApiError(e).into_response())?;
    Ok((total, type_lines(types)))
}

pub(super) async fn stats_page(
    State(ctx): State<Context>,
    caller: Result<Caller, ApiError>,
    Query(q): Query<StatsForm>,
) -> Response {
    let who = match signed_in(caller) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let (total, types) = match figures(&ctx, &who, &q.filter()).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let get = |v: &Option<String>| v.clone().unwrap_or_default();
    let query = [("region", &q.region), ("from", &q.from), ("to", &q.to)]
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(&get(v))))
        .collect::<Vec<_>>()
        .join("&");
    let h = header_of(&ctx, &who).await;
    render(&StatsPage {
        csrf: h.csrf,
        user: h.user,
        role: h.role,
        region: get(&q.region),
        from: get(&q.from),
        to: get(&q.to),
        average_days: format!("{:.1}", total.stats.average_days),
        rate: total.success_rate_display,
        stats: total.stats,
        by_type: types,
        query,
        can_export: who.require(Permission::Export).is_ok(),
    })
}

/// A file to save rather than show, never kept in a cache (the figures are personal to the
/// caller's scope).
fn download(mut res: Response, content_type: &'static str, disposition: &'static str) -> Response {
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static(disposition),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The figures for a download: the export permission checked and the download audited first.
async fn exported(
    ctx: &Context,
    caller: Result<Caller, ApiError>,
    q: &StatsForm,
    format: &str,
) -> Result<(stats::StatsView, Vec<TypeLine>), Response> {
    let who = signed_in(caller).map_err(|r| *r)?;
    let f = q.filter();
    stats::audit_export(ctx, &who, &f, format)
        .await
        .map_err(|e| ApiError(e).into_response())?;
    figures(ctx, &who, &f).await
}

/// The figures by type as CSV with a byte-order mark, which Excel opens as UTF-8.
pub(super) async fn stats_csv(
    State(ctx): State<Context>,
    caller: Result<Caller, ApiError>,
    Query(q): Query<StatsForm>,
) -> Response {
    let (total, types) = match exported(&ctx, caller, &q, "csv").await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut csv = String::from("\u{feff}纠纷类型,调解件数,调解成功件数,调解成功率\r\n");
    for t in &types {
        csv.push_str(&format!(
            "{},{},{},{}\r\n",
            t.name, t.handled, t.successful, t.rate
        ));
    }
    csv.push_str(&format!(
        "合计,{},{},{}\r\n",
        total.stats.handled, total.stats.successful, total.success_rate_display
    ));
    csv.push_str("说明,调解成功率 = 调解成功件数 ÷ 调解件数（期间内调解结束的案件）,,\r\n");
    download(
        csv.into_response(),
        "text/csv; charset=utf-8",
        "attachment; filename=\"mediation-stats.csv\"",
    )
}

/// The figures by type as an Excel workbook (.xlsx): the same table as the page and the CSV,
/// with the total and the definition of the rate.
pub(super) async fn stats_xlsx(
    State(ctx): State<Context>,
    caller: Result<Caller, ApiError>,
    Query(q): Query<StatsForm>,
) -> Response {
    use wangge_app::workbook::{Value as Cell, table};
    let (total, types) = match exported(&ctx, caller, &q, "xlsx").await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let text = |s: &str| Cell::Text(s.to_string());
    let mut rows = vec![vec![
        text("纠纷类型"),
        text("调解件数"),
        text("调解成功件数"),
        text("调解成功率"),
    ]];
    for t in &types {
        rows.push(vec![
            text(t.name),
            Cell::Number(t.handled as f64),
            Cell::Number(t.successful as f64),
            text(&t.rate),
        ]);
    }
    rows.push(vec![
        text("合计"),
        Cell::Number(total.stats.handled as f64),
        Cell::Number(total.stats.successful as f64),
        text(&total.success_rate_display),
    ]);
    rows.push(vec![text(
        "调解成功率 = 调解成功件数 ÷ 调解件数（统计期内调解结束的案件，不论结果）",
    )]);
    let bytes = match table("调解统计", &rows) {
        Ok(b) => b,
        Err(e) => return crate::error::ApiError(e).into_response(),
    };
    download(
        bytes.into_response(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "attachment; filename=\"mediation-stats.xlsx\"",
    )
}

//! The mediation pages: the mediator's desk (open cases with their deadlines, coming sessions, the
//! risk list, screening rounds, a form to open a case — from an event when one is named), the case
//! page (parties masked, the timeline, a form for each step the case allows now, transfer slips
//! with their lights), the printable agreement (A4), and the statistics with the published
//! definition of the success rate, a chart by type, and exports for Excel (for roles that may
//! export; every download audited).

use super::{header_of, not_found, render, signed_in};
use crate::error::ApiError;
use crate::extract::{Caller, Path, Query};
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::Value;
use wangge_app::mediation::stats::{StatsFilter, TypeFigures};
use wangge_app::mediation::views::{CaseSummary, CaseView};
use wangge_app::mediation::{cases, may_work, network, risks, screening, stats};
use wangge_app::{Context, ErrorKind};
use wangge_domain::access::Permission;
use wangge_domain::mediation::{CaseSource, DisputeType, Outcome, RiskLevel, SlipLight};

pub fn router() -> Router<Context> {
    Router::new()
        .route("/mediation", get(desk))
        .route("/mediation/cases/{id}", get(case_page))
        .route("/mediation/cases/{id}/agreement", get(agreement_page))
        .route("/mediation/stats", get(stats_page))
        .route("/mediation/stats.csv", get(stats_csv))
        .route("/mediation/stats.xlsx", get(stats_xlsx))
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A time as the pages show it: `2026-11-27 14:05`.
fn when(t: Option<chrono::DateTime<chrono::FixedOffset>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

fn when_value(v: &Value) -> String {
    let t = s(v);
    if t.len() >= 16 {
        t[..16].replace('T', " ")
    } else {
        t
    }
}

struct CaseLine {
    id: String,
    code: String,
    kind: String,
    facts: String,
    opened: String,
    deadline: String,
    overdue: bool,
    risk: &'static str,
    outcome: String,
}

fn outcome_zh(o: &Option<String>) -> String {
    o.as_deref()
        .and_then(|o| o.parse::<Outcome>().ok())
        .map_or(String::new(), |o| o.label_zh().to_string())
}

fn line(c: &CaseSummary) -> CaseLine {
    CaseLine {
        id: c.id.to_string(),
        code: c.code.clone(),
        kind: c.type_name.map_or(c.dispute_type.clone(), str::to_string),
        facts: c.facts.chars().take(50).collect(),
        opened: super::short(Some(c.opened_at)),
        deadline: super::short(Some(c.deadline_at)),
        overdue: c.overdue,
        risk: c
            .risk_level
            .parse::<RiskLevel>()
            .map_or("", |r| r.label_zh()),
        outcome: outcome_zh(&c.outcome),
    }
}

#[derive(Template)]
#[template(path = "mediation_desk.html")]
struct Desk {
    csrf: String,
    user: String,
    role: String,
    open: Vec<CaseLine>,
    closed: Vec<CaseLine>,
    types: Vec<(&'static str, &'static str)>,
    sources: Vec<(&'static str, &'static str)>,
    orgs: Vec<(String, String)>,
    mediators: Vec<(String, String)>,
    grids: Vec<(String, String)>,
    /// 近期调解安排: (case id, code, when, where), soonest first.
    sessions: Vec<(String, String, String, String)>,
    /// 研判清单: (case id, code, reasons).
    risks: Vec<(String, String, String)>,
    /// 排查: (grid, next due, overdue).
    rounds: Vec<(String, String, bool)>,
    /// Whether the user opens and works cases (others, such as leaders, only read).
    can_work: bool,
    /// Opening from an event: its id and code.
    event_id: String,
    event_code: String,
}

#[derive(Debug, Default, Deserialize)]
struct DeskQuery {
    event: Option<String>,
}

/// 调解工作台.
async fn desk(
    State(ctx): State<Context>,
    caller: Result<Caller, ApiError>,
    Query(q): Query<DeskQuery>,
) -> Response {
    let who = match signed_in(caller) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let loaded = async {
        let vis = wangge_app::mediation::sight(&who)?;
        let desk = cases::desk(&ctx, &who).await?;
        let orgs = network::orgs(&ctx, &who).await?.orgs;
        let mediators = network::mediators(&ctx, &who, None).await?.mediators;
        let risks = risks::list(&ctx, &who).await?.cases;
        let rounds = screening::rounds(&ctx, &who).await?.rounds;
        Ok::<_, wangge_app::AppError>((vis, desk, orgs, mediators, risks, rounds))
    };
    let (vis, desk, orgs, mediators, risks, rounds) = match loaded.await {
        Ok(x) => x,
        Err(e) => return ApiError(e).into_response(),
    };
    let mut upcoming: Vec<&CaseSummary> = desk
        .open
        .iter()
        .filter(|c| c.next_session.is_some())
        .collect();
    upcoming.sort_by_key(|c| c.next_session.as_ref().map(|n| n.at));
    let sessions = upcoming
        .iter()
        .take(30)
        .map(|c| {
            let n = c.next_session.as_ref();
            (
                c.id.to_string(),
                c.code.clone(),
                super::short(n.map(|n| n.at)),
                n.and_then(|n| n.place.clone()).unwrap_or_default(),
            )
        })
        .collect();
    let org_name = |id: uuid::Uuid| {
        orgs.iter()
            .find(|o| o.id == id)
            .map_or("", |o| o.name.as_str())
    };
    let (event_id, event_code) = match q.event.as_deref() {
        Some(id) => match wangge_app::events::load(&ctx, &who, id).await {
            Ok(e) => (e.id.to_string(), e.code),
            Err(_) => (String::new(), String::new()),
        },
        None => (String::new(), String::new()),
    };
    let atlas = ctx.atlas.get();
    // A township's grids fit a list; a wider area picks by code.
    let grids: Vec<(String, String)> = atlas
        .grids_under(vis.prefix())
        .take(400)
        .map(|(c, n)| (c.to_string(), n.to_string()))
        .collect();
    let h = header_of(&ctx, &who).await;
    render(&Desk {
        csrf: h.csrf,
        user: h.user,
        role: h.role,
        open: desk.open.iter().map(line).collect(),
        closed: desk.closed.iter().map(line).collect(),
        types: DisputeType::ALL
            .iter()
            .map(|d| (d.as_str(), d.label_zh()))
            .collect(),
        sources: CaseSource::ALL
            .iter()
            .map(|d| (d.as_str(), d.label_zh()))
            .collect(),
        orgs: orgs
            .iter()
            .map(|o| (o.id.to_string(), o.name.clone()))
            .collect(),
        mediators: mediators
            .iter()
            .take(1000)
            .map(|m| {
                let title = if m.title.is_empty() {
                    String::new()
                } else {
                    format!("（{}）", m.title)
                };
                (
                    m.id.to_string(),
                    format!("{}{title} · {}", m.name, org_name(m.org_id)),
                )
            })
            .collect(),
        grids,
        sessions,
        risks: risks
            .iter()
            .map(|r| (r.id.to_string(), r.code.clone(), r.reasons_zh.join("；")))
            .collect(),
        rounds: rounds
            .iter()
            .take(50)
            .map(|r| (r.grid.clone(), super::short(Some(r.next_due_at)), r.overdue))
            .collect(),
        can_work: may_work(&who).is_ok(),
        event_id,
        event_code,
    })
}

struct Party {
    seq: String,
    name: String,
    side: &'static str,
    id_number: String,
    phone: String,
}

struct Entry {
    at: String,
    label: &'static str,
    actor: String,
    text: String,
}

struct Slip {
    to: String,
    reason: String,
    receipt_due: String,
    receipt_light: String,
    receipt_state: String,
    reply_due: String,
    reply_light: String,
    reply_state: String,
    reply: String,
}

#[derive(Template)]
#[template(path = "mediation_case.html")]
struct CasePage {
    csrf: String,
    user: String,
    role: String,
    id: String,
    code: String,
    version: i64,
    kind: String,
    source: String,
    facts: String,
    points: String,
    amount: String,
    risk: String,
    grid: String,
    org: String,
    mediators: String,
    state: String,
    open: bool,
    outcome: String,
    outcome_note: String,
    opened: String,
    deadline: String,
    overdue: bool,
    event_id: String,
    parties: Vec<Party>,
    history: Vec<Entry>,
    slips: Vec<Slip>,
    has_agreement: bool,
    written: bool,
    effective: String,
    missing: Vec<String>,
    /// Signers still missing: (who, party number, label).
    signers: Vec<(&'static str, String, String)>,
    confirmation: String,
    confirmation_deadline: String,
    performed: String,
    /// The next session scheduled: when, where.
    next_session: String,
    can_work: bool,
    risks: Vec<(&'static str, &'static str)>,
    transfer_orgs: Vec<(String, String)>,
    transfer_departments: Vec<(String, String)>,
}

fn entry_label(kind: &str) -> &'static str {
    match kind {
        "opened" => "立案登记",
        "session" => "调解",
        "schedule" => "安排调解",
        "agreement" => "达成书面协议",
        "signature" => "签名盖章",
        "oral_agreement" => "达成口头协议",
        "outcome" => "调解结束",
        "confirmation" => "司法确认",
        "performance" => "协议履行",
        "follow_up" => "回访",
        "risk" => "风险等级调整",
        "transfer" => "转办",
        _ => "记录",
    }
}

fn risk_zh(v: &Value) -> String {
    v.as_str()
        .and_then(|r| r.parse::<RiskLevel>().ok())
        .map_or_else(|| s(v), |r| r.label_zh().to_string())
}

fn entry_text(kind: &str, body: &Value) -> String {
    match kind {
        "session" => format!(
            "{}，{}；到场：{}",
            s(&body["place"]),
            s(&body["notes"]),
            body["attendees"].as_array().map_or(String::new(), |a| a
                .iter()
                .map(s)
                .collect::<Vec<_>>()
                .join("、"))
        ),
        "agreement" | "oral_agreement" => s(&body["terms"]),
        "schedule" => format!("{}，{}", when_value(&body["at"]), s(&body["place"])),
        "signature" => {
            if s(&body["effective"]).is_empty() {
                s(&body["who"])
            } else {
                format!("{}；协议生效", s(&body["who"]))
            }
        }
        "outcome" => s(&body["note"]),
        "confirmation" => match s(&body["status"]).as_str() {
            "applied" => "已申请司法确认".into(),
            "granted" => "司法确认有效".into(),
            "refused" => "司法确认未获准许".into(),
            other => other.into(),
        },
        "performance" => s(&body["note"]),
        "follow_up" => format!("{}：{}", s(&body["note"]), s(&body["result"])),
        "risk" => format!(
            "{} → {}：{}",
            risk_zh(&body["from"]),
            risk_zh(&body["to"]),
            s(&body["reason"])
        ),
        "transfer" => s(&body["reason"]),
        "opened" => format!("{}方当事人", s(&body["parties"])),
        _ => String::new(),
    }
}

/// A slip's receipt or reply in words: waiting (in time, nearly due, overdue) or done (late or not).
fn slip_zh(l: SlipLight) -> String {
    match l {
        SlipLight::Green => "待办",
        SlipLight::Yellow => "临期",
        SlipLight::Red => "已超时",
        SlipLight::Late => "逾期完成",
        SlipLight::Done => "已完成",
    }
    .into()
}

/// A case in sight, or the page's answer when it cannot be had.
async fn case_of(ctx: &Context, who: &Caller, id: &str) -> Result<CaseView, Response> {
    match cases::detail(ctx, who, id).await {
        Ok(c) => Ok(c),
        Err(e) if e.kind == ErrorKind::NotFound => {
            Err(not_found(ctx, who, "调解案件不存在，或不在您的管辖范围内。").await)
        }
        Err(e) => Err(ApiError(e).into_response()),
    }
}

fn side_zh(side: &str) -> &'static str {
    match side {
        "applicant" => "申请人",
        "respondent" => "被申请人",
        _ => "其他当事人",
    }
}

async fn case_page(
    State(ctx): State<Context>,
    caller: Result<Caller, ApiError>,
    Path(id): Path<String>,
) -> Response {
    let who = match signed_in(caller) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let c = match case_of(&ctx, &who, &id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (transfer_orgs, transfer_departments) = match cases::transfer_targets(&ctx, &c).await {
        Ok(t) => t,
        Err(e) => return ApiError(e).into_response(),
    };
    let parties: Vec<Party> = c
        .parties
        .iter()
        .map(|p| Party {
            seq: p.seq.to_string(),
            name: p.name.clone(),
            side: side_zh(&p.side),
            id_number: p.id_number.clone().unwrap_or_default(),
            phone: p.phone.clone().unwrap_or_default(),
        })
        .collect();
    let written = c.outcome.as_deref() != Some("agreed_oral") && c.agreement.is_some();
    let mut signers = Vec::new();
    if written && c.effective_at.is_none() {
        for p in &c.parties {
            if !c.signatures.parties.contains_key(&(p.seq as u32)) {
                signers.push(("party", p.seq.to_string(), format!("当事人{}签名", p.name)));
            }
        }
        if c.signatures.mediator.is_none() {
            signers.push(("mediator", String::new(), "调解员签名".into()));
        }
        if c.signatures.seal.is_none() {
            signers.push(("seal", String::new(), "加盖调解委员会印章".into()));
        }
    }
    let history = c
        .history
        .iter()
        .map(|h| Entry {
            at: when(Some(h.at)),
            label: entry_label(&h.kind),
            actor: h.actor.clone(),
            text: entry_text(&h.kind, &h.body),
        })
        .collect();
    let slips = c
        .slips
        .iter()
        .map(|x| Slip {
            to: x.to_name.clone().unwrap_or_default(),
            reason: x.reason.clone(),
            receipt_due: when(Some(x.receipt_due_at)),
            receipt_light: wangge_domain::wire(&x.receipt_light),
            receipt_state: slip_zh(x.receipt_light),
            reply_due: when(Some(x.reply_due_at)),
            reply_light: wangge_domain::wire(&x.reply_light),
            reply_state: slip_zh(x.reply_light),
            reply: x.reply.clone().unwrap_or_default(),
        })
        .collect();
    let mediators = c
        .mediators
        .iter()
        .map(|m| {
            let lead = if m.lead { "（主持）" } else { "" };
            let title = if m.title.is_empty() {
                String::new()
            } else {
                format!("·{}", m.title)
            };
            format!("{}{title}{lead}", m.name)
        })
        .collect::<Vec<_>>()
        .join("、");
    let h = header_of(&ctx, &who).await;
    render(&CasePage {
        csrf: h.csrf,
        user: h.user,
        role: h.role,
        id: c.id.to_string(),
        code: c.code.clone(),
        version: c.version,
        kind: c.type_name.unwrap_or_default().to_string(),
        source: c
            .source
            .parse::<CaseSource>()
            .map_or(c.source.clone(), |x| x.label_zh().into()),
        facts: c.facts.clone(),
        points: c.points.clone(),
        amount: c.amount_yuan.map_or("—".into(), |a| format!("{a:.2} 元")),
        risk: c
            .risk_level
            .parse::<RiskLevel>()
            .map_or(c.risk_level.clone(), |r| r.label_zh().into()),
        grid: c.grid.clone(),
        org: c.org.as_ref().map(|o| o.name.clone()).unwrap_or_default(),
        mediators,
        state: if c.state == "open" {
            "调解中".into()
        } else {
            "已结束".into()
        },
        open: c.state == "open",
        outcome: outcome_zh(&c.outcome),
        outcome_note: c.outcome_note.clone().unwrap_or_default(),
        opened: when(Some(c.opened_at)),
        deadline: when(Some(c.deadline_at)),
        overdue: c.overdue,
        event_id: c.event_id.map_or(String::new(), |e| e.to_string()),
        parties,
        history,
        slips,
        has_agreement: c.agreement.is_some(),
        written,
        effective: when(c.effective_at),
        missing: c.missing_signatures.clone(),
        signers,
        confirmation: c.confirmation.clone(),
        confirmation_deadline: when(c.confirmation_deadline),
        performed: when(c.performed_at),
        next_session: c.next_session.as_ref().map_or(String::new(), |n| {
            format!(
                "{}，{}",
                when(Some(n.at)),
                n.place.clone().unwrap_or_default()
            )
        }),
        can_work: may_work(&who).is_ok(),
        risks: RiskLevel::ALL
            .iter()
            .map(|r| (r.as_str(), r.label_zh()))
            .collect(),
        transfer_orgs: transfer_orgs
            .into_iter()
            .map(|(id, n)| (id.to_string(), n))
            .collect(),
        transfer_departments: transfer_departments
            .into_iter()
            .map(|(id, n)| (id.to_string(), n))
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "mediation_agreement.html")]
struct AgreementPage {
    id: String,
    code: String,
    org: String,
    parties: Vec<(String, &'static str, String, String)>,
    facts: String,
    points: String,
    responsibilities: String,
    terms: String,
    performance_method: String,
    performance_deadline: String,
    copies: usize,
    date: String,
    mediators: String,
}

/// 人民调解协议书, ready to print on A4 and sign: what article 29 requires, a line for each
/// party, the mediator and the seal.
async fn agreement_page(
    State(ctx): State<Context>,
    caller: Result<Caller, ApiError>,
    Path(id): Path<String>,
) -> Response {
    let who = match signed_in(caller) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let c = match case_of(&ctx, &who, &id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Some(a) = c
        .agreement
        .clone()
        .filter(|_| c.outcome.as_deref() != Some("agreed_oral"))
    else {
        return not_found(&ctx, &who, "调解案件不存在，或不在您的管辖范围内。").await;
    };
    let parties: Vec<(String, &'static str, String, String)> = c
        .parties
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                match p.side.as_str() {
                    "applicant" => "申请人",
                    "respondent" => "被申请人",
                    _ => "当事人",
                },
                p.id_number.clone().unwrap_or_default(),
                p.phone.clone().unwrap_or_default(),
            )
        })
        .collect();
    render(&AgreementPage {
        id: c.id.to_string(),
        code: c.code.clone(),
        org: c.org.as_ref().map(|o| o.name.clone()).unwrap_or_default(),
        facts: a.facts,
        points: a.points,
        responsibilities: a.responsibilities,
        terms: a.terms,
        performance_method: a.performance_method,
        performance_deadline: a
            .performance_deadline
            .map_or(String::new(), |d| d.format("%Y年%m月%d日").to_string()),
        copies: parties.len() + 1,
        date: c
            .agreed_at
            .map_or(String::new(), |t| t.format("%Y年%m月%d日").to_string()),
        mediators: c
            .mediators
            .iter()
            .map(|m| m.name.clone())
            .collect::<Vec<_>>()
            .join("、"),
        parties,
    })
}

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
struct StatsForm {
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

async fn stats_page(
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
        .map(|(k, v)| format!("{k}={}", super::encode(&get(v))))
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
async fn stats_csv(
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
async fn stats_xlsx(
    State(ctx): State<Context>,
    caller: Result<Caller, ApiError>,
    Query(q): Query<StatsForm>,
) -> Response {
    use crate::xlsx::{Cell, workbook};
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
    download(
        workbook("调解统计", &rows).into_response(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "attachment; filename=\"mediation-stats.xlsx\"",
    )
}

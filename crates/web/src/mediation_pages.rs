//! The mediation pages: the mediator's desk (open cases with their deadlines, a form to open a
//! case — from an event when one is named), the case page (parties masked, the timeline, a form
//! for each step the case allows now, transfer slips with their lights), the printable agreement
//! (A4), and the statistics with the published definition of the success rate, a chart by type
//! and a CSV export that Excel opens. Everything goes through the same JSON API as other clients.

use crate::auth::Caller;
use crate::mediation::{case_json, load_case, stats_of};
use crate::pages::{NotFound, csrf_of, render, signed_in};
use crate::{ApiError, AppState};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;
use std::collections::HashMap;
use wangge_domain::access::Scope;
use wangge_domain::mediation::{CaseSource, DisputeType, RiskLevel};
use wangge_store::CaseQuery;

pub fn router() -> Router<AppState> {
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
fn when(v: &Value) -> String {
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

fn line(c: &wangge_store::CaseRow, now: chrono::DateTime<chrono::Utc>) -> CaseLine {
    CaseLine {
        id: c.id.to_string(),
        code: c.code.clone(),
        kind: c
            .dispute_type
            .parse::<DisputeType>()
            .map_or(c.dispute_type.clone(), |d| d.label_zh().to_string()),
        facts: c.facts.chars().take(50).collect(),
        opened: crate::pages::local(Some(c.opened_at)),
        deadline: crate::pages::local(Some(c.deadline_at)),
        overdue: c.state == "open" && c.deadline_at < now,
        risk: c
            .risk_level
            .parse::<RiskLevel>()
            .map_or("", |r| r.label_zh()),
        outcome: c
            .outcome
            .as_deref()
            .and_then(|o| o.parse::<wangge_domain::mediation::Outcome>().ok())
            .map_or(String::new(), |o| o.label_zh().to_string()),
    }
}

/// 调解工作台: the open cases in sight, most urgent deadline first, the latest closed ones, and
/// the form to open a case (from an event with `?event=`).
async fn desk(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let caller = match signed_in(caller) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let vis = match (&caller.scope, caller.visibility()) {
        (Scope::Place(_), Ok(v)) => v,
        _ => return crate::auth::forbidden().into_response(),
    };
    let t = crate::auth::now();
    let mut open = match state
        .store
        .cases(
            &vis,
            &CaseQuery {
                state: Some("open".into()),
                limit: 500,
                ..Default::default()
            },
        )
        .await
    {
        Ok(c) => c,
        Err(e) => return ApiError::from(e).into_response(),
    };
    open.sort_by_key(|c| c.deadline_at);
    let mut upcoming: Vec<&wangge_store::CaseRow> = open
        .iter()
        .filter(|c| c.next_session_at.is_some())
        .collect();
    upcoming.sort_by_key(|c| c.next_session_at);
    let sessions = upcoming
        .iter()
        .take(30)
        .map(|c| {
            (
                c.id.to_string(),
                c.code.clone(),
                crate::pages::local(c.next_session_at),
                c.next_session_place.clone().unwrap_or_default(),
            )
        })
        .collect();
    let closed = state
        .store
        .cases(
            &vis,
            &CaseQuery {
                state: Some("closed".into()),
                limit: 20,
                ..Default::default()
            },
        )
        .await
        .unwrap_or_default();
    let orgs = state.store.mediation_orgs(&vis).await.unwrap_or_default();
    let mediators = state.store.mediators(&vis, None).await.unwrap_or_default();
    let org_name = |id: uuid::Uuid| {
        orgs.iter()
            .find(|o| o.id == id)
            .map_or("", |o| o.name.as_str())
    };
    let (event_id, event_code) = match q.get("event") {
        Some(id) => match crate::events::load(&state, &caller, id).await {
            Ok((e, _)) => (e.id.to_string(), e.code),
            Err(_) => (String::new(), String::new()),
        },
        None => (String::new(), String::new()),
    };
    let risks = crate::mediation::risk_list(&state, &caller)
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let reasons = r["reasons_zh"]
                .as_array()
                .map(|a| a.iter().map(s).collect::<Vec<_>>().join("；"))
                .unwrap_or_default();
            (s(&r["id"]), s(&r["code"]), reasons)
        })
        .collect();
    let rounds = state
        .store
        .screenings_due(&vis)
        .await
        .unwrap_or_default()
        .into_iter()
        .take(50)
        .map(|r| {
            (
                r.grid_code,
                crate::pages::local(Some(r.next_due_at)),
                r.next_due_at < t,
            )
        })
        .collect();
    let atlas = state.atlas.get();
    // A township's grids fit a list; a wider area picks by code.
    let grids: Vec<(String, String)> = atlas
        .grids_under(vis.prefix())
        .take(400)
        .map(|(c, n)| (c.to_string(), n.to_string()))
        .collect();
    render(&Desk {
        csrf: csrf_of(&state, &caller).await,
        user: caller.account.display_name.clone(),
        role: caller.role.label_zh().into(),
        open: open.iter().map(|c| line(c, t)).collect(),
        closed: closed.iter().map(|c| line(c, t)).collect(),
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
        risks,
        rounds,
        can_work: crate::mediation::may_work(&caller).is_ok(),
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
        "schedule" => format!("{}，{}", when(&body["at"]), s(&body["place"])),
        "signature" => {
            let eff = s(&body["effective"]);
            if eff.is_empty() {
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
            s(&body["from"]),
            s(&body["to"]),
            s(&body["reason"])
        ),
        "transfer" => s(&body["reason"]),
        "opened" => format!("{}方当事人", s(&body["parties"])),
        _ => String::new(),
    }
}

/// A slip's receipt or reply in words: waiting (in time, nearly due, overdue) or done (late or not).
fn light_zh(l: &str) -> String {
    match l {
        "green" => "待办".into(),
        "yellow" => "临期".into(),
        "red" => "已超时".into(),
        "late" => "逾期完成".into(),
        "done" => "已完成".into(),
        other => other.into(),
    }
}

async fn not_found(state: &AppState, caller: &Caller) -> Response {
    let mut res = render(&NotFound {
        csrf: csrf_of(state, caller).await,
        user: caller.account.display_name.clone(),
        role: caller.role.label_zh().into(),
        message: "调解案件不存在，或不在您的管辖范围内。",
    });
    *res.status_mut() = StatusCode::NOT_FOUND;
    res
}

/// The case as JSON (what the API returns), or the page's answer when it cannot be had.
async fn case_value(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<(wangge_store::CaseRow, Value), Response> {
    let c = match load_case(state, caller, id).await {
        Ok(c) => c,
        Err(e) if e.status == StatusCode::NOT_FOUND => return Err(not_found(state, caller).await),
        Err(e) => return Err(e.into_response()),
    };
    let load = async {
        let parties = state.store.case_parties(&c).await?;
        let entries = state.store.case_entries(&c).await?;
        let slips = state.store.slips_of_case(c.id).await?;
        case_json(state, &c, &parties, &entries, &slips).await
    };
    match load.await {
        Ok(v) => Ok((c, v)),
        Err(e) => Err(e.into_response()),
    }
}

async fn case_page(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Path(id): Path<String>,
) -> Response {
    let caller = match signed_in(caller) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let (c, v) = match case_value(&state, &caller, &id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let county = &c.grid_code[..6];
    let vis_all = wangge_domain::access::Visibility::system();
    let transfer_orgs = state
        .store
        .mediation_orgs(&vis_all)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|o| o.region_code.starts_with(county) && o.id != c.org_id)
        .map(|o| (o.id.to_string(), o.name))
        .collect();
    let transfer_departments = state
        .store
        .departments_serving(&[
            format!("{county}000000"),
            format!("{}000", &c.grid_code[..9]),
        ])
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|d| {
            matches!(
                d.kind.as_str(),
                "court"
                    | "court_tribunal"
                    | "petitions"
                    | "justice"
                    | "judicial_office"
                    | "police_station"
                    | "public_security"
            )
        })
        .map(|d| (d.id.to_string(), d.name))
        .collect();
    let parties: Vec<Party> = v["parties"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| Party {
                    seq: s(&p["seq"]),
                    name: s(&p["name"]),
                    side: match p["side"].as_str() {
                        Some("applicant") => "申请人",
                        Some("respondent") => "被申请人",
                        _ => "其他当事人",
                    },
                    id_number: s(&p["id_number"]),
                    phone: s(&p["phone"]),
                })
                .collect()
        })
        .unwrap_or_default();
    let written = c.outcome.as_deref() != Some("agreed_oral") && c.agreement.is_some();
    let sig: wangge_domain::mediation::Signatures =
        serde_json::from_str(&c.signatures).unwrap_or_default();
    let mut signers = Vec::new();
    if written && c.effective_at.is_none() {
        for p in &parties {
            if let Ok(n) = p.seq.parse::<u32>()
                && !sig.parties.contains_key(&n)
            {
                signers.push(("party", p.seq.clone(), format!("当事人{}签名", p.name)));
            }
        }
        if sig.mediator.is_none() {
            signers.push(("mediator", String::new(), "调解员签名".into()));
        }
        if sig.seal.is_none() {
            signers.push(("seal", String::new(), "加盖调解委员会印章".into()));
        }
    }
    let history = v["history"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|h| {
                    let kind = h["kind"].as_str().unwrap_or("");
                    Entry {
                        at: when(&h["at"]),
                        label: entry_label(kind),
                        actor: s(&h["actor"]),
                        text: entry_text(kind, &h["body"]),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let mut slips = Vec::new();
    for x in v["slips"].as_array().into_iter().flatten() {
        let to = match (
            x["to_org"]
                .as_str()
                .and_then(|i| i.parse::<uuid::Uuid>().ok()),
            x["to_department"]
                .as_str()
                .and_then(|i| i.parse::<uuid::Uuid>().ok()),
        ) {
            (Some(o), _) => state
                .store
                .mediation_org(o)
                .await
                .ok()
                .flatten()
                .map(|o| o.name),
            (None, Some(d)) => state
                .store
                .department(d)
                .await
                .ok()
                .flatten()
                .map(|d| d.name),
            _ => None,
        };
        slips.push(Slip {
            to: to.unwrap_or_default(),
            reason: s(&x["reason"]),
            receipt_due: when(&x["receipt_due_at"]),
            receipt_light: s(&x["receipt_light"]),
            receipt_state: light_zh(x["receipt_light"].as_str().unwrap_or("")),
            reply_due: when(&x["reply_due_at"]),
            reply_light: s(&x["reply_light"]),
            reply_state: light_zh(x["reply_light"].as_str().unwrap_or("")),
            reply: s(&x["reply"]),
        });
    }
    let mediators = v["mediators"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| {
                    let lead = if m["lead"] == true {
                        "（主持）"
                    } else {
                        ""
                    };
                    let title = s(&m["title"]);
                    let title = if title.is_empty() {
                        title
                    } else {
                        format!("·{title}")
                    };
                    format!("{}{title}{lead}", s(&m["name"]))
                })
                .collect::<Vec<_>>()
                .join("、")
        })
        .unwrap_or_default();
    render(&CasePage {
        csrf: csrf_of(&state, &caller).await,
        user: caller.account.display_name.clone(),
        role: caller.role.label_zh().into(),
        id: c.id.to_string(),
        code: c.code.clone(),
        version: c.version,
        kind: s(&v["type_name"]),
        source: c
            .source
            .parse::<CaseSource>()
            .map_or(c.source.clone(), |x| x.label_zh().into()),
        facts: c.facts.clone(),
        points: c.points.clone(),
        amount: c
            .amount_cents
            .map_or("—".into(), |a| format!("{:.2} 元", a as f64 / 100.0)),
        risk: c
            .risk_level
            .parse::<RiskLevel>()
            .map_or(c.risk_level.clone(), |r| r.label_zh().into()),
        grid: c.grid_code.clone(),
        org: s(&v["org"]["name"]),
        mediators,
        state: if c.state == "open" {
            "调解中".into()
        } else {
            "已结束".into()
        },
        open: c.state == "open",
        outcome: c
            .outcome
            .as_deref()
            .and_then(|o| o.parse::<wangge_domain::mediation::Outcome>().ok())
            .map_or(String::new(), |o| o.label_zh().into()),
        outcome_note: c.outcome_note.clone().unwrap_or_default(),
        opened: when(&v["opened_at"]),
        deadline: when(&v["deadline_at"]),
        overdue: v["overdue"] == true,
        event_id: c.event_id.map_or(String::new(), |e| e.to_string()),
        parties,
        history,
        slips,
        has_agreement: c.agreement.is_some(),
        written,
        effective: when(&v["effective_at"]),
        missing: v["missing_signatures"]
            .as_array()
            .map(|a| a.iter().map(s).collect())
            .unwrap_or_default(),
        signers,
        confirmation: c.confirmation.clone(),
        confirmation_deadline: when(&v["confirmation_deadline"]),
        performed: when(&v["performed_at"]),
        next_session: if v["next_session"].is_null() {
            String::new()
        } else {
            format!(
                "{}，{}",
                when(&v["next_session"]["at"]),
                s(&v["next_session"]["place"])
            )
        },
        can_work: matches!(
            caller.role,
            wangge_domain::access::Role::Mediator
                | wangge_domain::access::Role::CommunityStaff
                | wangge_domain::access::Role::StreetDispatcher
                | wangge_domain::access::Role::CommandCentre
        ),
        risks: RiskLevel::ALL
            .iter()
            .map(|r| (r.as_str(), r.label_zh()))
            .collect(),
        transfer_orgs,
        transfer_departments,
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
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Path(id): Path<String>,
) -> Response {
    let caller = match signed_in(caller) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let (c, v) = match case_value(&state, &caller, &id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(a) = c
        .agreement
        .as_deref()
        .and_then(|a| serde_json::from_str::<wangge_domain::mediation::Agreement>(a).ok())
        .filter(|_| c.outcome.as_deref() != Some("agreed_oral"))
    else {
        return not_found(&state, &caller).await;
    };
    let parties: Vec<(String, &'static str, String, String)> = v["parties"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .map(|p| {
                    (
                        s(&p["name"]),
                        match p["side"].as_str() {
                            Some("applicant") => "申请人",
                            Some("respondent") => "被申请人",
                            _ => "当事人",
                        },
                        s(&p["id_number"]),
                        s(&p["phone"]),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let copies = parties.len() + 1;
    render(&AgreementPage {
        id: c.id.to_string(),
        code: c.code.clone(),
        org: s(&v["org"]["name"]),
        facts: a.facts,
        points: a.points,
        responsibilities: a.responsibilities,
        terms: a.terms,
        performance_method: a.performance_method,
        performance_deadline: a
            .performance_deadline
            .map_or(String::new(), |d| d.format("%Y年%m月%d日").to_string()),
        copies,
        date: c.agreed_at.map_or(String::new(), |t| {
            t.with_timezone(&wangge_domain::calendar::beijing())
                .format("%Y年%m月%d日")
                .to_string()
        }),
        mediators: v["mediators"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|m| s(&m["name"]))
                    .collect::<Vec<_>>()
                    .join("、")
            })
            .unwrap_or_default(),
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
}

/// The filters as the API takes them: dates from the form become Beijing midnights.
fn stats_query(q: &HashMap<String, String>) -> HashMap<String, String> {
    let mut out = HashMap::new();
    if let Some(r) = q.get("region").filter(|r| !r.trim().is_empty()) {
        out.insert("region".to_string(), r.trim().to_string());
    }
    for k in ["from", "to"] {
        if let Some(d) = q.get(k).filter(|d| !d.trim().is_empty()) {
            // A date means its Beijing midnight; `to` is the end of that day.
            let t = match chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d") {
                Ok(day) => {
                    let day = if k == "to" {
                        day + chrono::Duration::days(1)
                    } else {
                        day
                    };
                    format!("{day}T00:00:00+08:00")
                }
                Err(_) => d.clone(),
            };
            out.insert(k.to_string(), t);
        }
    }
    out
}

async fn by_type(
    state: &AppState,
    caller: &Caller,
    q: &HashMap<String, String>,
) -> Result<Vec<TypeLine>, ApiError> {
    let mut out = Vec::new();
    for t in DisputeType::ALL {
        let mut q = q.clone();
        q.insert("type".into(), t.as_str().into());
        let (s, rate, _) = stats_of(state, caller, &q).await?;
        if s.handled > 0 {
            out.push(TypeLine {
                name: t.label_zh(),
                handled: s.handled,
                successful: s.successful,
                rate,
            });
        }
    }
    out.sort_by_key(|t| std::cmp::Reverse(t.handled));
    Ok(out)
}

/// The figures a statistics page or export shows: the caller, the totals, the rate as displayed,
/// and the same by type; or the answer for a caller who is not signed in or asks badly.
async fn figures(
    state: &AppState,
    caller: Result<Caller, ApiError>,
    q: &HashMap<String, String>,
) -> Result<
    (
        Caller,
        wangge_domain::mediation::Stats,
        String,
        Vec<TypeLine>,
    ),
    Box<Response>,
> {
    let caller = signed_in(caller)?;
    let api_q = stats_query(q);
    let (stats, rate, _) = stats_of(state, &caller, &api_q)
        .await
        .map_err(|e| Box::new(e.into_response()))?;
    let types = by_type(state, &caller, &api_q)
        .await
        .map_err(|e| Box::new(e.into_response()))?;
    Ok((caller, stats, rate, types))
}

async fn stats_page(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (caller, stats, rate, types) = match figures(&state, caller, &q).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    let query = ["region", "from", "to"]
        .iter()
        .map(|k| format!("{k}={}", get(k).replace(['&', '#', '+', ' '], "")))
        .collect::<Vec<_>>()
        .join("&");
    render(&StatsPage {
        csrf: csrf_of(&state, &caller).await,
        user: caller.account.display_name.clone(),
        role: caller.role.label_zh().into(),
        region: get("region"),
        from: get("from"),
        to: get("to"),
        average_days: format!("{:.1}", stats.average_days),
        stats,
        rate,
        by_type: types,
        query,
    })
}

/// The figures by type as CSV with a byte-order mark, which Excel opens as UTF-8.
async fn stats_csv(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (_, total, rate, types) = match figures(&state, caller, &q).await {
        Ok(x) => x,
        Err(r) => return *r,
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
        total.handled, total.successful, rate
    ));
    csv.push_str("说明,调解成功率 = 调解成功件数 ÷ 调解件数（期间内调解结束的案件）,,\r\n");
    download(
        csv.into_response(),
        "text/csv; charset=utf-8",
        "attachment; filename=\"mediation-stats.csv\"",
    )
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

/// The figures by type as an Excel workbook (.xlsx): the same table as the page and the CSV,
/// with the total and the definition of the rate.
async fn stats_xlsx(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    use crate::xlsx::{Cell, workbook};
    let (_, total, rate, types) = match figures(&state, caller, &q).await {
        Ok(x) => x,
        Err(r) => return *r,
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
        Cell::Number(total.handled as f64),
        Cell::Number(total.successful as f64),
        text(&rate),
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

//! The case page (`/mediation/cases/{id}`): the case's facts with the parties masked, the
//! timeline, the agreement and the signatures it still lacks, the transfer slips with their
//! lights, and a form for each step the case allows now.

use super::{case_of, outcome_zh};
use crate::error::ApiError;
use crate::extract::{Caller, Path};
use crate::pages::{Header, header_of, render, signed_in};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use uuid::Uuid;
use wangge_app::Context;
use wangge_app::mediation::views::CaseView;
use wangge_app::mediation::{cases, may_work};
use wangge_domain::mediation::{CaseState, Outcome, RiskLevel, SlipLight};

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

pub(super) async fn case_page(
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
    let targets = match cases::transfer_targets(&ctx, &c).await {
        Ok(t) => t,
        Err(e) => return ApiError(e).into_response(),
    };
    let h = header_of(&ctx, &who).await;
    render(&page_of(&c, h, may_work(&who).is_ok(), targets))
}

/// The organisations and departments a case may be transferred to: (id, name) each.
type Targets = (Vec<(Uuid, String)>, Vec<(Uuid, String)>);

fn page_of(c: &CaseView, h: Header, can_work: bool, targets: Targets) -> CasePage {
    let (transfer_orgs, transfer_departments) = targets;
    // An oral agreement is recorded but has no document to sign or print.
    let written = c.outcome != Some(Outcome::AgreedOral) && c.agreement.is_some();
    CasePage {
        csrf: h.csrf,
        user: h.user,
        role: h.role,
        id: c.id.to_string(),
        code: c.code.clone(),
        version: c.version,
        kind: c.type_name.to_string(),
        source: c.source.label_zh().into(),
        facts: c.facts.clone(),
        points: c.points.clone(),
        amount: c.amount_yuan.map_or("—".into(), |a| format!("{a:.2} 元")),
        risk: c.risk_level.label_zh().into(),
        grid: c.grid.clone(),
        org: c.org.as_ref().map(|o| o.name.clone()).unwrap_or_default(),
        mediators: mediator_names(c),
        state: c.state.label_zh().into(),
        open: c.state == CaseState::Open,
        outcome: outcome_zh(&c.outcome),
        outcome_note: c.outcome_note.clone().unwrap_or_default(),
        opened: when(Some(c.opened_at)),
        deadline: when(Some(c.deadline_at)),
        overdue: c.overdue,
        event_id: c.event_id.map_or(String::new(), |e| e.to_string()),
        parties: party_lines(c),
        history: history_lines(c),
        slips: slip_lines(c),
        has_agreement: c.agreement.is_some(),
        written,
        effective: when(c.effective_at),
        missing: c.missing_signatures.clone(),
        signers: missing_signers(c, written),
        confirmation: c.confirmation.as_str().into(),
        confirmation_deadline: when(c.confirmation_deadline),
        performed: when(c.performed_at),
        next_session: c.next_session.as_ref().map_or(String::new(), |n| {
            format!(
                "{}，{}",
                when(Some(n.at)),
                n.place.clone().unwrap_or_default()
            )
        }),
        can_work,
        risks: RiskLevel::ALL
            .iter()
            .map(|r| (r.as_str(), r.label_zh()))
            .collect(),
        transfer_orgs: ids_as_text(transfer_orgs),
        transfer_departments: ids_as_text(transfer_departments),
    }
}

fn ids_as_text(list: Vec<(Uuid, String)>) -> Vec<(String, String)> {
    list.into_iter()
        .map(|(id, n)| (id.to_string(), n))
        .collect()
}

fn party_lines(c: &CaseView) -> Vec<Party> {
    c.parties
        .iter()
        .map(|p| Party {
            seq: p.seq.to_string(),
            name: p.name.clone(),
            side: p.side.label_zh(),
            id_number: p.id_number.clone().unwrap_or_default(),
            phone: p.phone.clone().unwrap_or_default(),
        })
        .collect()
}

/// Who has still to sign a written agreement before it takes effect: each party, the mediator,
/// then the committee's seal. None once it is in effect.
fn missing_signers(c: &CaseView, written: bool) -> Vec<(&'static str, String, String)> {
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
    signers
}

fn history_lines(c: &CaseView) -> Vec<Entry> {
    c.history
        .iter()
        .map(|h| Entry {
            at: when(Some(h.at)),
            label: entry_label(&h.kind),
            actor: h.actor.clone(),
            text: entry_text(&h.kind, &h.body),
        })
        .collect()
}

fn slip_lines(c: &CaseView) -> Vec<Slip> {
    c.slips
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
        .collect()
}

/// The mediators in one line, each with their title, the one presiding marked.
fn mediator_names(c: &CaseView) -> String {
    c.mediators
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
        .join("、")
}

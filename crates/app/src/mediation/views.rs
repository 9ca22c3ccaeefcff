//! What the API and the pages show of mediation: organisations, mediators, cases (parties
//! masked), transfer slips with their lights.

use crate::context::Context;
use crate::error::AppResult;
use crate::events::views::{local, wire_or};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use uuid::Uuid;
use wangge_domain::mediation::{
    Agreement, CaseOrigin, CaseSource, CaseState, Confirmation, DisputeType, OrgKind, Outcome,
    PartyKind, PartySide, RiskLevel, Signatures, SlipLight, confirmation_deadline, slip_light,
};
use wangge_security::pii;
use wangge_store::{CaseEntry, CaseRow, MediationOrgRow, MediatorRow, PartyRow, SlipRow};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrgView {
    pub id: Uuid,
    pub name: String,
    pub kind: OrgKind,
    pub kind_name: &'static str,
    pub region: String,
}

impl From<&MediationOrgRow> for OrgView {
    fn from(o: &MediationOrgRow) -> Self {
        OrgView {
            id: o.id,
            name: o.name.clone(),
            kind: wire_or(&o.kind, "org kind", OrgKind::VillageCommittee),
            kind_name: wire_or(&o.kind, "org kind", OrgKind::VillageCommittee).label_zh(),
            region: o.region_code.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Orgs {
    pub orgs: Vec<OrgView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MediatorView {
    pub id: Uuid,
    pub org_id: Uuid,
    pub region_code: String,
    pub name: String,
    /// 金牌调解员, 法律顾问, …
    pub title: String,
    /// Dispute types, space-separated.
    pub specialities: String,
    /// 1 for a legal adviser.
    pub legal_adviser: i64,
    pub account_id: Option<Uuid>,
}

impl From<&MediatorRow> for MediatorView {
    fn from(m: &MediatorRow) -> Self {
        MediatorView {
            id: m.id,
            org_id: m.org_id,
            region_code: m.region_code.clone(),
            name: m.name.clone(),
            title: m.title.clone(),
            specialities: m.specialities.clone(),
            legal_adviser: m.legal_adviser,
            account_id: m.account_id,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Mediators {
    pub mediators: Vec<MediatorView>,
}

/// A case in a list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseSummary {
    pub id: Uuid,
    pub code: String,
    pub dispute_type: DisputeType,
    pub type_name: &'static str,
    pub state: CaseState,
    pub outcome: Option<Outcome>,
    pub risk_level: RiskLevel,
    pub grid: String,
    pub lead_mediator: Uuid,
    pub opened_at: chrono::DateTime<chrono::FixedOffset>,
    pub deadline_at: chrono::DateTime<chrono::FixedOffset>,
    pub overdue: bool,
    /// The first 80 characters of the facts.
    pub facts: String,
    pub next_session: Option<NextSession>,
}

/// The wire values of a stored case; one unreadable is logged and shown as the plainest value.
pub(crate) struct CaseWire {
    pub dispute_type: DisputeType,
    pub state: CaseState,
    pub outcome: Option<Outcome>,
    pub risk_level: RiskLevel,
}

impl CaseWire {
    pub(crate) fn of(c: &CaseRow) -> CaseWire {
        CaseWire {
            dispute_type: wire_or(&c.dispute_type, "dispute type", DisputeType::Other),
            state: wire_or(&c.state, "case state", CaseState::Open),
            outcome: c
                .outcome
                .as_deref()
                .map(|o| wire_or(o, "case outcome", Outcome::Ended)),
            risk_level: wire_or(&c.risk_level, "risk level", RiskLevel::Low),
        }
    }
}

impl CaseSummary {
    pub fn of(c: &CaseRow, at: DateTime<Utc>) -> CaseSummary {
        let w = CaseWire::of(c);
        CaseSummary {
            id: c.id,
            code: c.code.clone(),
            dispute_type: w.dispute_type,
            type_name: w.dispute_type.label_zh(),
            state: w.state,
            outcome: w.outcome,
            risk_level: w.risk_level,
            grid: c.grid_code.clone(),
            lead_mediator: c.lead_mediator,
            opened_at: local(c.opened_at),
            deadline_at: local(c.deadline_at),
            overdue: c.state == "open" && c.deadline_at < at,
            facts: c.facts.chars().take(80).collect(),
            next_session: c.next_session_at.map(|at| NextSession {
                at: local(at),
                place: c.next_session_place.clone(),
            }),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Cases {
    pub cases: Vec<CaseSummary>,
}

/// A party with its identifiers masked.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PartyView {
    pub seq: i64,
    pub kind: PartyKind,
    pub side: PartySide,
    pub name: String,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MediatorInCase {
    pub id: Uuid,
    pub name: String,
    pub title: String,
    pub lead: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrgRef {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseHistoryEntry {
    pub seq: i64,
    pub kind: String,
    pub at: chrono::DateTime<chrono::FixedOffset>,
    pub actor: String,
    pub body: Value,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CasePoint {
    pub lon: Option<f64>,
    pub lat: Option<f64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NextSession {
    pub at: chrono::DateTime<chrono::FixedOffset>,
    pub place: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SlipView {
    pub id: Uuid,
    pub case_id: Option<Uuid>,
    pub from_org: Uuid,
    pub to_org: Option<Uuid>,
    pub to_department: Option<Uuid>,
    /// The receiver's name.
    pub to_name: Option<String>,
    pub reason: String,
    pub receipt_due_at: chrono::DateTime<chrono::FixedOffset>,
    pub reply_due_at: chrono::DateTime<chrono::FixedOffset>,
    pub received_at: Option<chrono::DateTime<chrono::FixedOffset>>,
    pub replied_at: Option<chrono::DateTime<chrono::FixedOffset>>,
    pub reply: Option<String>,
    pub receipt_light: SlipLight,
    pub reply_light: SlipLight,
    pub created_at: chrono::DateTime<chrono::FixedOffset>,
}

impl SlipView {
    pub fn of(s: &SlipRow, t: DateTime<Utc>) -> SlipView {
        SlipView {
            id: s.id,
            case_id: s.case_id,
            from_org: s.from_org,
            to_org: s.to_org,
            to_department: s.to_department,
            to_name: None,
            reason: s.reason.clone(),
            receipt_due_at: local(s.receipt_due_at),
            reply_due_at: local(s.reply_due_at),
            received_at: s.received_at.map(local),
            replied_at: s.replied_at.map(local),
            reply: s.reply.clone(),
            receipt_light: slip_light(t, s.created_at, s.receipt_due_at, s.received_at),
            reply_light: slip_light(t, s.created_at, s.reply_due_at, s.replied_at),
            created_at: local(s.created_at),
        }
    }
}

/// A case with everything its page shows.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseView {
    pub id: Uuid,
    pub code: String,
    pub event_id: Option<Uuid>,
    pub dispute_type: DisputeType,
    pub type_name: &'static str,
    pub source: CaseSource,
    pub origin: CaseOrigin,
    pub facts: String,
    pub points: String,
    pub amount_yuan: Option<f64>,
    pub risk_level: RiskLevel,
    pub grid: String,
    pub location: CasePoint,
    pub org: Option<OrgRef>,
    pub mediators: Vec<MediatorInCase>,
    pub lead_mediator: Uuid,
    pub state: CaseState,
    pub outcome: Option<Outcome>,
    pub outcome_note: Option<String>,
    pub version: i64,
    pub opened_at: chrono::DateTime<chrono::FixedOffset>,
    pub deadline_at: chrono::DateTime<chrono::FixedOffset>,
    pub overdue: bool,
    pub ended_at: Option<chrono::DateTime<chrono::FixedOffset>>,
    pub parties: Vec<PartyView>,
    pub agreement: Option<Agreement>,
    pub agreed_at: Option<chrono::DateTime<chrono::FixedOffset>>,
    pub signatures: Signatures,
    /// Who still has to sign the written agreement (parties by name, the mediator, the seal).
    pub missing_signatures: Vec<String>,
    pub effective_at: Option<chrono::DateTime<chrono::FixedOffset>>,
    pub confirmation: Confirmation,
    /// The last day judicial confirmation may be applied for (30 days from effect).
    pub confirmation_deadline: Option<chrono::DateTime<chrono::FixedOffset>>,
    pub performed_at: Option<chrono::DateTime<chrono::FixedOffset>>,
    pub party_numbers: Vec<u32>,
    pub history: Vec<CaseHistoryEntry>,
    pub slips: Vec<SlipView>,
    /// Organisations working the case with the lead one: those that took a slip of it.
    pub co_orgs: Vec<OrgRef>,
    pub next_session: Option<NextSession>,
}

/// The case as the API and the pages show it: parties masked, the agreement's state, the
/// timeline, the slips with their lights. Its mediators and organisations are read in one go.
pub async fn case_view(
    ctx: &Context,
    c: &CaseRow,
    parties: &[PartyRow],
    entries: &[CaseEntry],
    slips: &[SlipRow],
) -> AppResult<CaseView> {
    let t = ctx.now();
    let numbers: Vec<u32> = parties.iter().map(|p| p.seq as u32).collect();
    let (agreement, signatures, missing_signatures) = signing(c, parties);
    let parties = parties.iter().map(|p| party_view(ctx, p)).collect();
    let mediators = mediators_of(ctx, c).await?;
    let (orgs, department_names) = receivers(ctx, c, slips).await?;
    let org_ref = |id: &Uuid| {
        orgs.get(id).map(|o| OrgRef {
            id: o.id,
            name: o.name.clone(),
        })
    };
    let w = CaseWire::of(c);
    let written = w.outcome == Some(Outcome::AgreedWritten);
    Ok(CaseView {
        id: c.id,
        code: c.code.clone(),
        event_id: c.event_id,
        dispute_type: w.dispute_type,
        type_name: w.dispute_type.label_zh(),
        source: wire_or(&c.source, "case source", CaseSource::Active),
        origin: wire_or(&c.origin, "case origin", CaseOrigin::WalkIn),
        facts: c.facts.clone(),
        points: c.points.clone(),
        amount_yuan: c.amount_cents.map(|a| a as f64 / 100.0),
        risk_level: w.risk_level,
        grid: c.grid_code.clone(),
        location: CasePoint {
            lon: c.lon,
            lat: c.lat,
        },
        org: org_ref(&c.org_id),
        mediators,
        lead_mediator: c.lead_mediator,
        state: w.state,
        outcome: w.outcome,
        outcome_note: c.outcome_note.clone(),
        version: c.version,
        opened_at: local(c.opened_at),
        deadline_at: local(c.deadline_at),
        overdue: c.state == "open" && c.deadline_at < t,
        ended_at: c.ended_at.map(local),
        parties,
        missing_signatures,
        agreement,
        agreed_at: c.agreed_at.map(local),
        signatures,
        effective_at: c.effective_at.map(local),
        confirmation: wire_or(&c.confirmation, "confirmation", Confirmation::None),
        confirmation_deadline: c
            .effective_at
            .filter(|_| written)
            .map(|e| local(confirmation_deadline(e))),
        performed_at: c.performed_at.map(local),
        party_numbers: numbers,
        history: entries.iter().map(CaseHistoryEntry::of).collect(),
        slips: slips
            .iter()
            .map(|s| SlipView {
                to_name: receiver_name(s, &orgs, &department_names),
                ..SlipView::of(s, t)
            })
            .collect(),
        co_orgs: slips
            .iter()
            .filter(|s| s.received_at.is_some())
            .filter_map(|s| s.to_org.as_ref().and_then(org_ref))
            .collect(),
        next_session: c.next_session_at.map(|at| NextSession {
            at: local(at),
            place: c.next_session_place.clone(),
        }),
    })
}

/// The agreement, its signatures, and who still has to sign before it takes effect.
fn signing(c: &CaseRow, parties: &[PartyRow]) -> (Option<Agreement>, Signatures, Vec<String>) {
    let signatures: Signatures = serde_json::from_str(&c.signatures).unwrap_or_default();
    let agreement: Option<Agreement> = c
        .agreement
        .as_deref()
        .and_then(|a| serde_json::from_str(a).ok());
    let missing = if agreement.is_some() && c.effective_at.is_none() {
        let named: Vec<(u32, String)> = parties
            .iter()
            .map(|p| (p.seq as u32, p.name.clone()))
            .collect();
        signatures.missing(&named)
    } else {
        Vec::new()
    };
    (agreement, signatures, missing)
}

fn party_view(ctx: &Context, p: &PartyRow) -> PartyView {
    let open = |e: &Option<String>| e.as_deref().and_then(|e| ctx.keys.decrypt(e).ok());
    PartyView {
        seq: p.seq,
        kind: wire_or(&p.kind, "party kind", PartyKind::Person),
        side: wire_or(&p.side, "party side", PartySide::Other),
        name: p.name.clone(),
        id_number: open(&p.id_number_enc).map(|n| pii::mask_id_number(&n)),
        phone: open(&p.phone_enc).map(|n| pii::mask_phone(&n)),
        address: p.address.clone(),
    }
}

/// The case's team in its own order, read in one go.
async fn mediators_of(ctx: &Context, c: &CaseRow) -> AppResult<Vec<MediatorInCase>> {
    let team: Vec<Uuid> = c
        .mediators
        .split_whitespace()
        .filter_map(|id| id.parse().ok())
        .collect();
    let found: HashMap<Uuid, MediatorRow> = ctx
        .store
        .mediators_by_id(&team)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    Ok(team
        .iter()
        .filter_map(|id| found.get(id))
        .map(|m| MediatorInCase {
            id: m.id,
            name: m.name.clone(),
            title: m.title.clone(),
            lead: m.id == c.lead_mediator,
        })
        .collect())
}

/// The case's organisation and every receiver of its slips, by id.
async fn receivers(
    ctx: &Context,
    c: &CaseRow,
    slips: &[SlipRow],
) -> AppResult<(HashMap<Uuid, MediationOrgRow>, HashMap<Uuid, String>)> {
    let mut org_ids = vec![c.org_id];
    org_ids.extend(slips.iter().filter_map(|s| s.to_org));
    let mut department_names: HashMap<Uuid, String> = HashMap::new();
    for d in slips.iter().filter_map(|s| s.to_department) {
        if let std::collections::hash_map::Entry::Vacant(v) = department_names.entry(d)
            && let Some(dept) = ctx.store.department(d).await?
        {
            v.insert(dept.name);
        }
    }
    let orgs = ctx
        .store
        .mediation_orgs_by_id(&org_ids)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    Ok((orgs, department_names))
}

impl CaseHistoryEntry {
    fn of(e: &CaseEntry) -> CaseHistoryEntry {
        CaseHistoryEntry {
            seq: e.seq,
            kind: e.kind.clone(),
            at: local(e.at),
            actor: e.actor.clone(),
            body: serde_json::from_str::<Value>(&e.body).unwrap_or(Value::Null),
        }
    }
}

fn receiver_name(
    s: &SlipRow,
    orgs: &HashMap<Uuid, MediationOrgRow>,
    department_names: &HashMap<Uuid, String>,
) -> Option<String> {
    s.to_org
        .and_then(|o| orgs.get(&o).map(|o| o.name.clone()))
        .or_else(|| {
            s.to_department
                .and_then(|d| department_names.get(&d).cloned())
        })
}

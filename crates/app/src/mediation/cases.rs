//! Dispute cases: opening one (from an event, a walk-in, a transfer slip or a screening), the list
//! in sight, one case with everything its page shows, and the audited view of one identifier of
//! a party in clear. A case opened from a dispute event takes the event to mediation (转入调解)
//! in the same transaction: the case, its parties, its first timeline entry, the event's move,
//! its history and both audit records are written together by the writer, or none of them.

use super::views::{CaseSummary, CaseView, Cases, case_view};
use super::{bad, load_case, may_work, parse_id, sight, text, vocab};
use crate::context::Context;
use crate::error::{AppError, AppResult};
use crate::events::moves::{Along, commit};
use crate::limits::{self, ADDRESS_MAX, NAME_MAX};
use crate::principal::Principal;
use chrono::Duration;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;
use wangge_domain::access::Permission;
use wangge_domain::calendar::beijing;
use wangge_domain::mediation::{
    CaseOrigin, CaseSource, CaseState, Confirmation, DisputeType, PartyKind, PartySide, RiskLevel,
    Signatures,
};
use wangge_domain::workflow::Move;
use wangge_security::pii;
use wangge_store::{CaseEntry, CaseQuery, CaseRow, EventRow, PartyRow};

fn person() -> String {
    PartyKind::Person.as_str().into()
}

fn applicant() -> String {
    PartySide::Applicant.as_str().into()
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartyInput {
    /// `person` (default) or `organisation`.
    #[serde(default = "person")]
    pub kind: String,
    /// `applicant` (default), `respondent` or `other`.
    #[serde(default = "applicant")]
    pub side: String,
    pub name: String,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenInput {
    /// The dispute event the case comes from, if any.
    pub event_id: Option<String>,
    pub dispute_type: String,
    pub source: String,
    pub origin: Option<String>,
    pub facts: String,
    pub points: String,
    pub amount_yuan: Option<f64>,
    pub risk_level: Option<String>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    /// The grid the dispute is in, when no point is given.
    pub grid: Option<String>,
    pub org: String,
    pub lead_mediator: String,
    #[serde(default)]
    pub mediators: Vec<String>,
    pub parties: Vec<PartyInput>,
}

fn parties_of(ctx: &Context, input: &[PartyInput]) -> AppResult<Vec<PartyRow>> {
    let mut parties = Vec::with_capacity(input.len());
    for (i, p) in input.iter().enumerate() {
        let at = |field: &str| json!({"field": format!("parties[{i}].{field}")});
        if p.kind.parse::<PartyKind>().is_err() {
            return Err(bad(
                "mediation.bad_party",
                "当事人类型应为 person 或 organisation",
            )
            .with_details(at("kind")));
        }
        if p.side.parse::<PartySide>().is_err() {
            return Err(bad(
                "mediation.bad_party",
                "当事人一方应为 applicant、respondent 或 other",
            )
            .with_details(at("side")));
        }
        let name = limits::text("name", &p.name, NAME_MAX).map_err(|_| {
            bad(
                "mediation.bad_party",
                "请填写当事人姓名或名称（不超过100字）",
            )
            .with_details(at("name"))
        })?;
        let id_number = match &p.id_number {
            Some(n) => Some(pii::validate_id_number(n).map_err(|e| {
                bad("mediation.bad_party", e.to_string()).with_details(at("id_number"))
            })?),
            None => None,
        };
        let phone = match &p.phone {
            Some(n) => Some(pii::validate_mobile(n).map_err(|e| {
                bad("mediation.bad_party", e.to_string()).with_details(at("phone"))
            })?),
            None => None,
        };
        let address = limits::optional_text("address", p.address.as_deref(), ADDRESS_MAX)
            .map_err(|e| e.with_details(at("address")))?;
        parties.push(PartyRow {
            seq: i as i64 + 1,
            kind: p.kind.clone(),
            side: p.side.clone(),
            name,
            id_number_enc: id_number.as_ref().map(|n| ctx.keys.encrypt(n)),
            id_number_idx: id_number
                .as_ref()
                .map(|n| ctx.keys.blind_index("id_number", n)),
            phone_enc: phone.as_ref().map(|n| ctx.keys.encrypt(n)),
            address,
        });
    }
    Ok(parties)
}

/// Where a dispute happened: the event's place when it comes from one, else the point or the
/// grid given.
struct Place {
    event: Option<EventRow>,
    origin: CaseOrigin,
    grid: String,
    lon: Option<f64>,
    lat: Option<f64>,
}

async fn place_of(ctx: &Context, who: &Principal, b: &OpenInput) -> AppResult<Place> {
    if let Some(id) = &b.event_id {
        let e = crate::events::load(ctx, who, id).await?;
        return Ok(Place {
            origin: CaseOrigin::Event,
            grid: e.grid_code.clone(),
            lon: Some(e.lon),
            lat: Some(e.lat),
            event: Some(e),
        });
    }
    let origin: CaseOrigin = match &b.origin {
        Some(o) => vocab(o, "mediation.bad_origin", "origin")?,
        None => CaseOrigin::WalkIn,
    };
    if origin == CaseOrigin::Event {
        return Err(bad(
            "mediation.bad_origin",
            "来源为网格事件时须给出 event_id",
        ));
    }
    let atlas = ctx.atlas.get();
    let (grid, lon, lat) = match (b.lon, b.lat, &b.grid) {
        (Some(lon), Some(lat), _) => {
            let loc = atlas
                .locate(lon, lat)
                .ok_or_else(|| bad("mediation.outside_grids", "该位置不在任何网格内"))?;
            (loc.grid.code.to_string(), Some(lon), Some(lat))
        }
        (None, None, Some(g)) => {
            let g = g.trim();
            if atlas.grids_under(g).next().map(|(c, _)| c) != Some(g) {
                return Err(bad(
                    "mediation.unknown_grid",
                    format!("网格 {} 不存在", g.chars().take(20).collect::<String>()),
                )
                .at("grid"));
            }
            (g.to_string(), None, None)
        }
        _ => {
            return Err(bad(
                "mediation.place_required",
                "请给出纠纷发生地：经纬度（lon、lat）或网格（grid）",
            ));
        }
    };
    Ok(Place {
        event: None,
        origin,
        grid,
        lon,
        lat,
    })
}

/// The organisation and the mediators, all in sight; the lead belongs to the organisation,
/// others may join from elsewhere in sight.
async fn team_of(
    ctx: &Context,
    vis: &wangge_domain::access::Visibility,
    b: &OpenInput,
) -> AppResult<(wangge_store::MediationOrgRow, Uuid, Vec<Uuid>)> {
    let org_id = parse_id(&b.org, "mediation.bad_org", "调解组织")?;
    let org = ctx
        .store
        .mediation_org(org_id)
        .await?
        .filter(|o| vis.sees(&o.region_code))
        .ok_or_else(|| {
            bad(
                "mediation.org_outside_scope",
                "调解组织不存在或不在您的管辖范围内",
            )
            .at("org")
        })?;
    let lead = parse_id(&b.lead_mediator, "mediation.bad_mediator", "调解员")?;
    if b.mediators.len() > 20 {
        return Err(bad("mediation.bad_mediator", "调解员不超过20名").at("mediators"));
    }
    let mut team = vec![lead];
    for m in &b.mediators {
        let id = parse_id(m, "mediation.bad_mediator", "调解员")?;
        if !team.contains(&id) {
            team.push(id);
        }
    }
    let found = ctx.store.mediators_by_id(&team).await?;
    for id in &team {
        let ok = found
            .iter()
            .find(|m| m.id == *id)
            .is_some_and(|m| vis.sees(&m.region_code) && (*id != lead || m.org_id == org.id));
        if !ok {
            return Err(bad(
                "mediation.mediator_outside_scope",
                format!("调解员 {id} 不存在或不在您的管辖范围内"),
            )
            .with_details(json!({"field": "mediators", "mediator": id})));
        }
    }
    Ok((org, lead, team))
}

/// What the dispute is, as the opening form describes it.
struct Described {
    dispute_type: DisputeType,
    source: CaseSource,
    risk: RiskLevel,
    facts: String,
    points: String,
    amount_cents: Option<i64>,
}

fn describe(b: &OpenInput) -> AppResult<Described> {
    let dispute_type: DisputeType = vocab(&b.dispute_type, "mediation.bad_type", "dispute_type")?;
    let source: CaseSource = vocab(&b.source, "mediation.bad_source", "source")?;
    let risk: RiskLevel = match &b.risk_level {
        Some(r) => vocab(r, "mediation.bad_risk", "risk_level")?,
        None => RiskLevel::Low,
    };
    let facts = text("facts", &b.facts, 5000)?;
    let points = text("points", &b.points, 2000)?;
    let amount_cents = match b.amount_yuan {
        None => None,
        Some(a) if a.is_finite() && (0.0..1e12).contains(&a) => Some((a * 100.0).round() as i64),
        Some(a) => {
            return Err(bad(
                "mediation.bad_amount",
                format!("争议金额应为非负数，收到 {a}"),
            )
            .at("amount_yuan"));
        }
    };
    Ok(Described {
        dispute_type,
        source,
        risk,
        facts,
        points,
        amount_cents,
    })
}

/// Opens a case. Its place is the event's when it comes from one, else the point or grid given;
/// the organisation and every mediator must be within the principal's sight.
pub async fn open(ctx: &Context, who: &Principal, b: OpenInput) -> AppResult<CaseView> {
    let vis = sight(who)?;
    may_work(who)?;
    let d = describe(&b)?;
    if b.parties.is_empty() || b.parties.len() > 200 {
        return Err(bad("mediation.bad_parties", "请填写当事人（1–200方）"));
    }
    let place = place_of(ctx, who, &b).await?;
    if !vis.sees(&place.grid) {
        return Err(bad(
            "mediation.outside_scope",
            "纠纷发生地不在您的管辖范围内",
        ));
    }
    let (org, lead, team) = team_of(ctx, &vis, &b).await?;
    let parties = parties_of(ctx, &b.parties)?;
    let t = ctx.now();
    let county = place.grid[..6].to_string();
    let day = t.with_timezone(&beijing()).format("%Y%m%d").to_string();
    let seq = ctx.store.next_case_seq(&county, &day).await?;
    let days = ctx.config.get().settings.mediation.case_days;
    let c = CaseRow {
        region_code: format!("{county}000000"),
        id: Uuid::now_v7(),
        code: format!("M{county}{day}{seq:04}"),
        event_id: place.event.as_ref().map(|e| e.id),
        dispute_type: d.dispute_type.as_str().into(),
        source: d.source.as_str().into(),
        origin: place.origin.as_str().into(),
        facts: d.facts,
        points: d.points,
        amount_cents: d.amount_cents,
        risk_level: d.risk.as_str().into(),
        grid_code: place.grid.clone(),
        lon: place.lon,
        lat: place.lat,
        org_id: org.id,
        lead_mediator: lead,
        mediators: team
            .iter()
            .map(Uuid::to_string)
            .collect::<Vec<_>>()
            .join(" "),
        state: CaseState::Open.as_str().into(),
        outcome: None,
        outcome_note: None,
        agreement: None,
        signatures: serde_json::to_string(&Signatures::default())
            .map_err(|e| AppError::internal("mediation.broken", e.to_string()))?,
        agreed_at: None,
        effective_at: None,
        confirmation: Confirmation::None.as_str().into(),
        performed_at: None,
        deadline_at: t + Duration::days(days),
        opened_at: t,
        ended_at: None,
        version: 1,
        updated_at: t,
        next_session_at: None,
        next_session_place: None,
    };
    write_case(
        ctx,
        who,
        &c,
        &parties,
        place.event.as_ref(),
        &org.name,
        days,
    )
    .await?;
    let entries = ctx.store.case_entries(&c).await?;
    case_view(ctx, &c, &parties, &entries, &[]).await
}

/// Writes a new case with its first timeline entry and audit record. From an event (转入调解),
/// in the one transaction of the event's move: the case, its parties, its entry, the move, its
/// history and both audit records are written together, or none of them.
async fn write_case(
    ctx: &Context,
    who: &Principal,
    c: &CaseRow,
    parties: &[PartyRow],
    event: Option<&EventRow>,
    org_name: &str,
    days: i64,
) -> AppResult<()> {
    let first = CaseEntry {
        seq: 1,
        kind: "opened".into(),
        body: json!({"dispute_type": c.dispute_type, "source": c.source, "origin": c.origin,
                     "org": org_name, "parties": parties.len()})
        .to_string(),
        actor: who.actor_name(),
        at: c.opened_at,
    };
    let audit = who.audit(
        "mediation.case_open",
        Some("mediation_case"),
        Some(c.id.to_string()),
        json!({"code": c.code, "dispute_type": c.dispute_type, "event": c.event_id}),
    );
    let rows = (c.clone(), parties.to_vec(), vec![first]);
    match event {
        Some(e) => {
            let mv = Move::Mediate {
                case: c.code.clone(),
                days,
            };
            let recorded = json!({"move": "mediate", "case": c.code, "org": org_name});
            let along = Along {
                audit: vec![audit],
                cases: vec![rows],
                ..Along::default()
            };
            commit(ctx, who, e, e.version, &mv, recorded, along).await?;
        }
        None => {
            ctx.store.insert_cases(&[rows]).await?;
            ctx.store.append_audit(&audit, c.opened_at).await?;
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseFilter {
    /// `open` or `closed`.
    pub state: Option<String>,
    pub org: Option<String>,
    pub mediator: Option<String>,
    #[serde(rename = "type")]
    pub dispute_type: Option<String>,
}

pub async fn list(ctx: &Context, who: &Principal, q: &CaseFilter) -> AppResult<Cases> {
    let vis = sight(who)?;
    let query = CaseQuery {
        state: match q.state.as_deref() {
            None | Some("") => None,
            Some(s @ ("open" | "closed")) => Some(s.to_string()),
            Some(s) => {
                return Err(bad(
                    "mediation.bad_state",
                    format!(
                        "状态应为 open 或 closed，收到 \"{}\"",
                        s.chars().take(20).collect::<String>()
                    ),
                )
                .at("state"));
            }
        },
        org: q
            .org
            .as_deref()
            .map(|o| parse_id(o, "mediation.bad_org", "调解组织"))
            .transpose()?,
        mediator: q
            .mediator
            .as_deref()
            .map(|m| parse_id(m, "mediation.bad_mediator", "调解员"))
            .transpose()?,
        dispute_type: q
            .dispute_type
            .as_deref()
            .map(|t| {
                vocab::<DisputeType>(t, "mediation.bad_type", "type")
                    .map(|t| t.as_str().to_string())
            })
            .transpose()?,
        limit: 200,
    };
    let cases = ctx.store.cases(&vis, &query).await?;
    let t = ctx.now();
    Ok(Cases {
        cases: cases.iter().map(|c| CaseSummary::of(c, t)).collect(),
    })
}

pub async fn detail(ctx: &Context, who: &Principal, id: &str) -> AppResult<CaseView> {
    let c = load_case(ctx, who, id).await?;
    view_of(ctx, &c).await
}

/// A case's view, read whole.
pub async fn view_of(ctx: &Context, c: &CaseRow) -> AppResult<CaseView> {
    let parties = ctx.store.case_parties(c).await?;
    let entries = ctx.store.case_entries(c).await?;
    let slips = ctx.store.slips_of_case(c.id).await?;
    case_view(ctx, c, &parties, &entries, &slips).await
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PartyUnmasked {
    pub case: Uuid,
    pub party: i64,
    pub field: String,
    pub value: String,
}

/// One identifier of a party in clear, for roles that may unmask personal data; every view is
/// audited (which field of which party, never the value).
pub async fn unmask_party(
    ctx: &Context,
    who: &Principal,
    id: &str,
    seq: i64,
    field: Option<&str>,
) -> AppResult<PartyUnmasked> {
    who.require(Permission::UnmaskPersonalData)?;
    let field = crate::people::field_of(field)?;
    let c = load_case(ctx, who, id).await?;
    let party = ctx
        .store
        .case_parties(&c)
        .await?
        .into_iter()
        .find(|p| p.seq == seq)
        .ok_or_else(|| AppError::not_found("mediation.party_not_found", "当事人不存在"))?;
    let enc = if field == "phone" {
        party.phone_enc
    } else {
        party.id_number_enc
    };
    let value = enc
        .and_then(|e| ctx.keys.decrypt(&e).ok())
        .ok_or_else(|| AppError::not_found("personal_data.absent", "该当事人没有此项信息"))?;
    ctx.store
        .append_audit(
            &who.audit(
                "personal_data.view",
                Some("case_party"),
                Some(format!("{}:{seq}", c.id)),
                json!({"field": field, "case": c.code}),
            ),
            ctx.now(),
        )
        .await?;
    Ok(PartyUnmasked {
        case: c.id,
        party: seq,
        field: field.into(),
        value,
    })
}

/// The mediation desk's cases: the open ones in sight, most urgent deadline first, and the latest
/// closed ones.
pub struct CaseDesk {
    pub open: Vec<CaseSummary>,
    pub closed: Vec<CaseSummary>,
}

pub async fn desk(ctx: &Context, who: &Principal) -> AppResult<CaseDesk> {
    let vis = sight(who)?;
    let t = ctx.now();
    let read = |state: &str, limit| CaseQuery {
        state: Some(state.into()),
        limit,
        ..Default::default()
    };
    let mut open = ctx.store.cases(&vis, &read("open", 500)).await?;
    open.sort_by_key(|c| c.deadline_at);
    let closed = ctx.store.cases(&vis, &read("closed", 20)).await?;
    Ok(CaseDesk {
        open: open.iter().map(|c| CaseSummary::of(c, t)).collect(),
        closed: closed.iter().map(|c| CaseSummary::of(c, t)).collect(),
    })
}

/// Where a case may be transferred: the other organisations of its county, and the departments
/// of its county and township that take disputes (courts, petitions, justice, police).
pub async fn transfer_targets(
    ctx: &Context,
    c: &CaseView,
) -> AppResult<(Vec<(Uuid, String)>, Vec<(Uuid, String)>)> {
    let county = &c.grid[..6];
    let current = c.org.as_ref().map(|o| o.id);
    let orgs = ctx
        .store
        .mediation_orgs(&wangge_domain::access::Visibility::system())
        .await?
        .into_iter()
        .filter(|o| o.region_code.starts_with(county) && Some(o.id) != current)
        .map(|o| (o.id, o.name))
        .collect();
    let departments = ctx
        .store
        .departments_serving(&[format!("{county}000000"), format!("{}000", &c.grid[..9])])
        .await?
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
        .map(|d| (d.id, d.name))
        .collect();
    Ok((orgs, departments))
}

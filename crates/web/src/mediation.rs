//! People's mediation over HTTP (矛盾纠纷调处化解): the organisations and mediators in sight,
//! dispute cases (opened from an event, a walk-in, a transfer slip or a screening), the steps of a
//! case — sessions, the written or oral agreement, signatures and the seal, the outcome, judicial
//! confirmation, performance, follow-up visits, risk — transfer slips with their receipt and reply
//! deadlines, and the statistics the city publishes. The rules are the domain's
//! (`wangge_domain::mediation`); this module checks who asks and what they may see. Parties'
//! identifiers are encrypted at rest and only ever shown masked here.

use crate::auth::{Caller, forbidden, now};
use crate::params::{json_body, time_param};
use crate::{ApiError, ApiResult, AppState};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use uuid::Uuid;
use wangge_domain::access::{Role, Scope, Visibility};
use wangge_domain::calendar::beijing;
use wangge_domain::mediation::{
    Agreement, CaseOrigin, CaseSource, DisputeType, Outcome, RiskLevel, Signatures, Stats,
    confirmation_deadline, slip_light,
};
use wangge_security::pii;
use wangge_store::{CaseQuery, CaseRow, PartyRow, SlipRow, StatsQuery};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/mediation/cases", get(list).post(open))
        .route("/api/v1/mediation/cases/{id}", get(detail))
        .route("/api/v1/mediation/cases/{id}/steps", post(step))
        .route("/api/v1/mediation/slips", post(send_slip))
        .route("/api/v1/mediation/slips/{id}/receipt", post(receive_slip))
        .route("/api/v1/mediation/slips/{id}/reply", post(reply_slip))
        .route("/api/v1/mediation/stats", get(stats))
        .route("/api/v1/mediation/screening", get(screening_rounds))
        .route(
            "/api/v1/mediation/screening/{grid}",
            axum::routing::put(set_round),
        )
        .route(
            "/api/v1/mediation/screening/{grid}/rounds",
            post(record_round),
        )
        .route("/api/v1/mediation/risks", get(risks))
        .route(
            "/api/v1/mediation/cases/{id}/parties/{seq}/personal-data",
            get(unmask_party),
        )
        .route("/api/v1/mediation/orgs", get(orgs).post(create_org))
        .route(
            "/api/v1/mediation/mediators",
            get(mediators).post(create_mediator),
        )
}

fn bad(code: &'static str, m: impl Into<String>) -> ApiError {
    ApiError::bad_request(code, m)
}

/// Cases belong to places: a department's staff see no case list (they answer slips sent to it).
fn sight(caller: &Caller) -> ApiResult<Visibility> {
    match caller.scope {
        Scope::Place(_) => caller.visibility(),
        Scope::Department { .. } => Err(forbidden()),
    }
}

/// Who may open and work cases: mediators, and the staff who take in disputes at each level.
pub(crate) fn may_work(caller: &Caller) -> ApiResult<()> {
    if matches!(
        caller.role,
        Role::Mediator | Role::CommunityStaff | Role::StreetDispatcher | Role::CommandCentre
    ) {
        Ok(())
    } else {
        Err(forbidden())
    }
}

fn parse_id(id: &str, code: &'static str, what: &str) -> ApiResult<Uuid> {
    id.trim()
        .parse()
        .map_err(|_| bad(code, format!("{what}编号应为 UUID，收到 \"{id}\"")))
}

fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&beijing()).to_rfc3339()
}

async fn orgs(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let vis = sight(&caller)?;
    let orgs = state.store.mediation_orgs(&vis).await?;
    let out: Vec<Value> = orgs
        .iter()
        .map(|o| {
            let kind = o.kind.parse::<wangge_domain::mediation::OrgKind>().ok();
            json!({"id": o.id, "name": o.name, "kind": o.kind,
                   "kind_name": kind.map(|k| k.label_zh()), "region": o.region_code})
        })
        .collect();
    Ok(Json(json!({"orgs": out})))
}

async fn mediators(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let vis = sight(&caller)?;
    let org = match q.get("org") {
        Some(o) => Some(parse_id(o, "mediation.bad_org", "调解组织")?),
        None => None,
    };
    let list = state.store.mediators(&vis, org).await?;
    Ok(Json(json!({"mediators": list})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PartyBody {
    #[serde(default = "person")]
    kind: String,
    #[serde(default = "applicant")]
    side: String,
    name: String,
    id_number: Option<String>,
    phone: Option<String>,
    address: Option<String>,
}

fn person() -> String {
    "person".into()
}
fn applicant() -> String {
    "applicant".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenBody {
    event_id: Option<String>,
    dispute_type: String,
    source: String,
    origin: Option<String>,
    facts: String,
    points: String,
    amount_yuan: Option<f64>,
    risk_level: Option<String>,
    lon: Option<f64>,
    lat: Option<f64>,
    /// The grid the dispute is in, when no point is given.
    grid: Option<String>,
    org: String,
    lead_mediator: String,
    #[serde(default)]
    mediators: Vec<String>,
    parties: Vec<PartyBody>,
}

fn vocab<T: std::str::FromStr<Err = String>>(
    value: &str,
    code: &'static str,
    field: &str,
) -> ApiResult<T> {
    value
        .trim()
        .parse()
        .map_err(|m: String| bad(code, m).with_details(json!({"field": field})))
}

/// Opens a case. Its place is the event's when it comes from one, else the point given; the
/// organisation and every mediator must be within the caller's sight.
async fn open(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<OpenBody>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let vis = sight(&caller)?;
    may_work(&caller)?;
    let b = json_body(body)?;
    let dispute_type: DisputeType = vocab(&b.dispute_type, "mediation.bad_type", "dispute_type")?;
    let source: CaseSource = vocab(&b.source, "mediation.bad_source", "source")?;
    let risk: RiskLevel = match &b.risk_level {
        Some(r) => vocab(r, "mediation.bad_risk", "risk_level")?,
        None => RiskLevel::Low,
    };
    for (field, text, max) in [("facts", &b.facts, 5000), ("points", &b.points, 2000)] {
        let n = text.trim().chars().count();
        if n == 0 || n > max {
            return Err(bad(
                "mediation.bad_text",
                format!("{field} 不能为空，且不超过{max}字"),
            )
            .with_details(json!({"field": field})));
        }
    }
    let amount_cents = match b.amount_yuan {
        None => None,
        Some(a) if a.is_finite() && (0.0..1e12).contains(&a) => Some((a * 100.0).round() as i64),
        Some(a) => {
            return Err(bad(
                "mediation.bad_amount",
                format!("争议金额应为非负数，收到 {a}"),
            )
            .with_details(json!({"field": "amount_yuan"})));
        }
    };
    if b.parties.is_empty() || b.parties.len() > 200 {
        return Err(bad("mediation.bad_parties", "请填写当事人（1–200方）"));
    }
    // The place: the event's, or the point given.
    let mut event = None;
    let (event_id, origin, grid, lon, lat) = match &b.event_id {
        Some(id) => {
            let (e, event_vis) = crate::events::load(&state, &caller, id).await?;
            event = Some((e.clone(), event_vis));
            (
                Some(e.id),
                CaseOrigin::Event,
                e.grid_code.clone(),
                Some(e.lon),
                Some(e.lat),
            )
        }
        None => {
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
            let atlas = state.atlas.get();
            match (b.lon, b.lat, &b.grid) {
                (Some(lon), Some(lat), _) => {
                    let loc = atlas
                        .locate(lon, lat)
                        .ok_or_else(|| bad("mediation.outside_grids", "该位置不在任何网格内"))?;
                    (
                        None,
                        origin,
                        loc.grid.code.to_string(),
                        Some(lon),
                        Some(lat),
                    )
                }
                (None, None, Some(g)) => {
                    let g = g.trim();
                    if atlas.grids_under(g).next().map(|(c, _)| c) != Some(g) {
                        return Err(bad("mediation.unknown_grid", format!("网格 {g} 不存在"))
                            .with_details(json!({"field": "grid"})));
                    }
                    (None, origin, g.to_string(), None, None)
                }
                _ => {
                    return Err(bad(
                        "mediation.place_required",
                        "请给出纠纷发生地：经纬度（lon、lat）或网格（grid）",
                    ));
                }
            }
        }
    };
    if !vis.sees(&grid) {
        return Err(bad(
            "mediation.outside_scope",
            "纠纷发生地不在您的管辖范围内",
        ));
    }
    let org_id = parse_id(&b.org, "mediation.bad_org", "调解组织")?;
    let org = state
        .store
        .mediation_org(org_id)
        .await?
        .filter(|o| vis.sees(&o.region_code))
        .ok_or_else(|| {
            bad(
                "mediation.org_outside_scope",
                "调解组织不存在或不在您的管辖范围内",
            )
            .with_details(json!({"field": "org"}))
        })?;
    let lead = parse_id(&b.lead_mediator, "mediation.bad_mediator", "调解员")?;
    if b.mediators.len() > 20 {
        return Err(bad("mediation.bad_mediator", "调解员不超过20名")
            .with_details(json!({"field": "mediators"})));
    }
    let mut team = vec![lead];
    for m in &b.mediators {
        let id = parse_id(m, "mediation.bad_mediator", "调解员")?;
        if !team.contains(&id) {
            team.push(id);
        }
    }
    for id in &team {
        let ok = state
            .store
            .mediator(*id)
            .await?
            // The lead belongs to the organisation; others may join from elsewhere in sight.
            .is_some_and(|m| vis.sees(&m.region_code) && (*id != lead || m.org_id == org.id));
        if !ok {
            return Err(bad(
                "mediation.mediator_outside_scope",
                format!("调解员 {id} 不存在或不在您的管辖范围内"),
            )
            .with_details(json!({"field": "mediators", "mediator": id})));
        }
    }
    let mut parties = Vec::with_capacity(b.parties.len());
    for (i, p) in b.parties.iter().enumerate() {
        let at = |field: &str| json!({"field": format!("parties[{i}].{field}")});
        if !matches!(p.kind.as_str(), "person" | "organisation") {
            return Err(bad(
                "mediation.bad_party",
                "当事人类型应为 person 或 organisation",
            )
            .with_details(at("kind")));
        }
        if !matches!(p.side.as_str(), "applicant" | "respondent" | "other") {
            return Err(bad(
                "mediation.bad_party",
                "当事人一方应为 applicant、respondent 或 other",
            )
            .with_details(at("side")));
        }
        let name = p.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(bad(
                "mediation.bad_party",
                "请填写当事人姓名或名称（不超过100字）",
            )
            .with_details(at("name")));
        }
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
        parties.push(PartyRow {
            seq: i as i64 + 1,
            kind: p.kind.clone(),
            side: p.side.clone(),
            name: name.to_string(),
            id_number_enc: id_number.as_ref().map(|n| state.keys.encrypt(n)),
            id_number_idx: id_number
                .as_ref()
                .map(|n| state.keys.blind_index("id_number", n)),
            phone_enc: phone.as_ref().map(|n| state.keys.encrypt(n)),
            address: p
                .address
                .as_ref()
                .map(|a| a.trim().chars().take(200).collect()),
        });
    }
    let t = now();
    let county = grid[..6].to_string();
    let day = t.with_timezone(&beijing()).format("%Y%m%d").to_string();
    let seq = state.store.next_case_seq(&county, &day).await?;
    let days = state.config.get().settings.mediation.case_days;
    let c = CaseRow {
        region_code: format!("{county}000000"),
        id: Uuid::now_v7(),
        code: format!("M{county}{day}{seq:04}"),
        event_id,
        dispute_type: dispute_type.as_str().into(),
        source: source.as_str().into(),
        origin: origin.as_str().into(),
        facts: b.facts.trim().into(),
        points: b.points.trim().into(),
        amount_cents,
        risk_level: risk.as_str().into(),
        grid_code: grid,
        lon,
        lat,
        org_id: org.id,
        lead_mediator: lead,
        mediators: team
            .iter()
            .map(Uuid::to_string)
            .collect::<Vec<_>>()
            .join(" "),
        state: "open".into(),
        outcome: None,
        outcome_note: None,
        agreement: None,
        signatures: serde_json::to_string(&Signatures::default()).unwrap_or_default(),
        agreed_at: None,
        effective_at: None,
        confirmation: "none".into(),
        performed_at: None,
        deadline_at: t + Duration::days(days),
        opened_at: t,
        ended_at: None,
        version: 1,
        updated_at: t,
        next_session_at: None,
        next_session_place: None,
    };
    let first = wangge_store::CaseEntry {
        seq: 1,
        kind: "opened".into(),
        body: json!({"dispute_type": c.dispute_type, "source": c.source, "origin": c.origin,
                     "org": org.name, "parties": parties.len()})
        .to_string(),
        actor: caller.account.username.clone(),
        at: t,
    };
    state
        .store
        .insert_cases(&[(c.clone(), parties.clone(), vec![first])])
        .await?;
    // The event goes to mediation (转入调解) with it; if it no longer can (dispatched meanwhile,
    // say), the case is taken back and nothing is left written.
    if let Some((e, event_vis)) = &event {
        let mv = wangge_domain::workflow::Move::Mediate {
            case: c.code.clone(),
            days,
        };
        let raw = json!({"move": "mediate", "case": c.code, "org": org.name});
        if let Err(err) =
            crate::events::move_event(&state, &caller, e, event_vis, e.version, &mv, raw).await
        {
            state.store.delete_case(&c).await?;
            return Err(err);
        }
    }
    state
        .store
        .append_audit(
            &caller.audit(
                "mediation.case_open",
                Some("mediation_case"),
                Some(c.id.to_string()),
                json!({"code": c.code, "dispute_type": c.dispute_type, "event": c.event_id}),
            ),
            t,
        )
        .await?;
    let body = case_json(&state, &c, &parties, &[], &[]).await?;
    Ok((StatusCode::CREATED, Json(body)))
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let vis = sight(&caller)?;
    let query = CaseQuery {
        state: match q.get("state").map(String::as_str) {
            None => None,
            Some(s @ ("open" | "closed")) => Some(s.to_string()),
            Some(s) => {
                return Err(bad(
                    "mediation.bad_state",
                    format!("状态应为 open 或 closed，收到 \"{s}\""),
                ));
            }
        },
        org: q
            .get("org")
            .map(|o| parse_id(o, "mediation.bad_org", "调解组织"))
            .transpose()?,
        mediator: q
            .get("mediator")
            .map(|m| parse_id(m, "mediation.bad_mediator", "调解员"))
            .transpose()?,
        dispute_type: q
            .get("type")
            .map(|t| {
                vocab::<DisputeType>(t, "mediation.bad_type", "type")
                    .map(|t| t.as_str().to_string())
            })
            .transpose()?,
        limit: 200,
    };
    let cases = state.store.cases(&vis, &query).await?;
    let t = now();
    let out: Vec<Value> = cases
        .iter()
        .map(|c| {
            json!({"id": c.id, "code": c.code, "dispute_type": c.dispute_type,
                   "type_name": c.dispute_type.parse::<DisputeType>().ok().map(|d| d.label_zh()),
                   "state": c.state, "outcome": c.outcome, "risk_level": c.risk_level,
                   "grid": c.grid_code, "lead_mediator": c.lead_mediator,
                   "opened_at": local(c.opened_at), "deadline_at": local(c.deadline_at),
                   "overdue": c.state == "open" && c.deadline_at < t, "facts": c.facts.chars().take(80).collect::<String>()})
        })
        .collect();
    Ok(Json(json!({"cases": out})))
}

/// The case as the API and the pages show it: parties masked, the agreement's state, the
/// timeline, and the transfer slips with their lights.
pub(crate) async fn case_json(
    state: &AppState,
    c: &CaseRow,
    parties: &[PartyRow],
    entries: &[wangge_store::CaseEntry],
    slips: &[SlipRow],
) -> ApiResult<Value> {
    let t = now();
    let signatures: Signatures = serde_json::from_str(&c.signatures).unwrap_or_default();
    let numbers: Vec<u32> = parties.iter().map(|p| p.seq as u32).collect();
    let named: Vec<(u32, String)> = parties
        .iter()
        .map(|p| (p.seq as u32, p.name.clone()))
        .collect();
    let agreement: Option<Agreement> = c
        .agreement
        .as_deref()
        .and_then(|a| serde_json::from_str(a).ok());
    let parties: Vec<Value> = parties
        .iter()
        .map(|p| {
            let id = p
                .id_number_enc
                .as_deref()
                .and_then(|e| state.keys.decrypt(e).ok());
            let phone = p
                .phone_enc
                .as_deref()
                .and_then(|e| state.keys.decrypt(e).ok());
            json!({"seq": p.seq, "kind": p.kind, "side": p.side, "name": p.name,
                   "id_number": id.map(|n| pii::mask_id_number(&n)),
                   "phone": phone.map(|n| pii::mask_phone(&n)), "address": p.address})
        })
        .collect();
    let mediators = {
        let mut out = Vec::new();
        for id in c.mediators.split_whitespace() {
            if let Ok(id) = id.parse::<Uuid>()
                && let Some(m) = state.store.mediator(id).await?
            {
                out.push(json!({"id": m.id, "name": m.name, "title": m.title, "lead": m.id == c.lead_mediator}));
            }
        }
        out
    };
    let org = state.store.mediation_org(c.org_id).await?;
    let mut v = json!({
        "id": c.id, "code": c.code, "event_id": c.event_id,
        "dispute_type": c.dispute_type,
        "type_name": c.dispute_type.parse::<DisputeType>().ok().map(|d| d.label_zh()),
        "source": c.source, "origin": c.origin, "facts": c.facts, "points": c.points,
        "amount_yuan": c.amount_cents.map(|a| a as f64 / 100.0),
        "risk_level": c.risk_level, "grid": c.grid_code,
        "location": {"lon": c.lon, "lat": c.lat},
        "org": org.map(|o| json!({"id": o.id, "name": o.name})),
        "mediators": mediators, "lead_mediator": c.lead_mediator,
        "state": c.state, "outcome": c.outcome, "outcome_note": c.outcome_note,
        "version": c.version,
        "opened_at": local(c.opened_at), "deadline_at": local(c.deadline_at),
        "overdue": c.state == "open" && c.deadline_at < t,
        "ended_at": c.ended_at.map(local),
        "parties": parties,
        "agreement": agreement,
        "agreed_at": c.agreed_at.map(local),
        "signatures": signatures,
        "missing_signatures": if agreement.is_some() && c.effective_at.is_none() { signatures.missing(&named) } else { Vec::new() },
        "effective_at": c.effective_at.map(local),
        "confirmation": c.confirmation,
        "confirmation_deadline": c.effective_at.filter(|_| c.outcome.as_deref() == Some("agreed_written")).map(|e| local(confirmation_deadline(e))),
        "performed_at": c.performed_at.map(local),
        "party_numbers": numbers,
        "history": entries.iter().map(|e| json!({"seq": e.seq, "kind": e.kind, "at": local(e.at), "actor": e.actor,
            "body": serde_json::from_str::<Value>(&e.body).unwrap_or(Value::Null)})).collect::<Vec<_>>(),
        "slips": slips.iter().map(|s| slip_json(s, t)).collect::<Vec<_>>(),
    });
    // Organisations working the case with the lead one: those that took a slip of it.
    let mut co_orgs = Vec::new();
    for slip in slips.iter().filter(|s| s.received_at.is_some()) {
        if let Some(o) = slip.to_org
            && let Some(org) = state.store.mediation_org(o).await?
        {
            co_orgs.push(json!({"id": org.id, "name": org.name}));
        }
    }
    v["co_orgs"] = json!(co_orgs);
    v["next_session"] = json!(
        c.next_session_at
            .map(|at| json!({"at": local(at), "place": c.next_session_place}))
    );
    Ok(v)
}

fn slip_json(s: &SlipRow, t: DateTime<Utc>) -> Value {
    json!({"id": s.id, "case_id": s.case_id, "from_org": s.from_org, "to_org": s.to_org,
           "to_department": s.to_department, "reason": s.reason,
           "receipt_due_at": local(s.receipt_due_at), "reply_due_at": local(s.reply_due_at),
           "received_at": s.received_at.map(local), "replied_at": s.replied_at.map(local), "reply": s.reply,
           "receipt_light": slip_light(t, s.created_at, s.receipt_due_at, s.received_at),
           "reply_light": slip_light(t, s.created_at, s.reply_due_at, s.replied_at),
           "created_at": local(s.created_at)})
}

/// A case in the caller's sight, or 404 exactly as for one that does not exist.
pub(crate) async fn load_case(state: &AppState, caller: &Caller, id: &str) -> ApiResult<CaseRow> {
    let vis = sight(caller)?;
    let missing = || ApiError::not_found("mediation.case_not_found", "调解案件不存在");
    let id: Uuid = id.trim().parse().map_err(|_| missing())?;
    state.store.case(&vis, id).await?.ok_or_else(missing)
}

async fn detail(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let c = load_case(&state, &caller, &id).await?;
    let parties = state.store.case_parties(&c).await?;
    let entries = state.store.case_entries(&c).await?;
    let slips = state.store.slips_of_case(c.id).await?;
    Ok(Json(
        case_json(&state, &c, &parties, &entries, &slips).await?,
    ))
}

/// One step of a case. The body names the step and the version the caller saw.
#[derive(Deserialize)]
#[serde(tag = "step", rename_all = "snake_case", deny_unknown_fields)]
enum Step {
    /// 调解记录: a session — when, where, who came, what was said and agreed.
    Session {
        version: i64,
        at: Option<DateTime<Utc>>,
        place: String,
        attendees: Vec<String>,
        notes: String,
    },
    /// 调解安排: the next session, when and where.
    Schedule {
        version: i64,
        at: DateTime<Utc>,
        place: String,
    },
    /// The written agreement's contents (调解协议书); signing follows.
    Agreement {
        version: i64,
        #[serde(flatten)]
        agreement: Agreement,
    },
    /// A signature on the written agreement: a party (by number), the mediator, or the seal.
    Sign {
        version: i64,
        who: String,
        party: Option<u32>,
        at: Option<DateTime<Utc>>,
    },
    /// An oral agreement, recorded by the mediator; in effect when reached.
    OralAgreement { version: i64, terms: String },
    /// Mediation ended without an agreement.
    Outcome {
        version: i64,
        outcome: String,
        note: String,
    },
    /// 司法确认: applied for (within 30 days of effect), granted or refused.
    Confirmation { version: i64, status: String },
    /// 履行: the agreement performed.
    Performance { version: i64, note: String },
    /// 回访: a follow-up visit and what it found.
    FollowUp {
        version: i64,
        note: String,
        result: String,
    },
    /// The risk level raised or lowered, with the reason.
    Risk {
        version: i64,
        level: String,
        reason: String,
    },
}

impl Step {
    fn version(&self) -> i64 {
        match self {
            Step::Session { version, .. }
            | Step::Schedule { version, .. }
            | Step::Agreement { version, .. }
            | Step::Sign { version, .. }
            | Step::OralAgreement { version, .. }
            | Step::Outcome { version, .. }
            | Step::Confirmation { version, .. }
            | Step::Performance { version, .. }
            | Step::FollowUp { version, .. }
            | Step::Risk { version, .. } => *version,
        }
    }
}

fn conflict(code: &'static str, m: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, code, m)
}

fn text(field: &'static str, s: &str, max: usize) -> ApiResult<String> {
    let t = s.trim();
    if t.is_empty() || t.chars().count() > max {
        return Err(bad(
            "mediation.bad_text",
            format!("{field} 不能为空，且不超过{max}字"),
        )
        .with_details(json!({"field": field})));
    }
    Ok(t.to_string())
}

async fn step(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<Step>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    may_work(&caller)?;
    let mut c = load_case(&state, &caller, &id).await?;
    let s = json_body(body)?;
    let expected = c.version;
    if s.version() != expected {
        return Err(conflict(
            "mediation.stale",
            format!("案件已被他人更新（当前版本 {expected}），请刷新后重试"),
        ));
    }
    let parties = state.store.case_parties(&c).await?;
    let numbers: Vec<u32> = parties.iter().map(|p| p.seq as u32).collect();
    let t = now();
    let open = c.state == "open";
    let closed_now = || conflict("mediation.closed", "调解已结束，不能再进行此操作");
    let (kind, entry): (&str, Value) = match s {
        Step::Session {
            at,
            place,
            attendees,
            notes,
            ..
        } => {
            if !open {
                return Err(closed_now());
            }
            let place = text("place", &place, 200)?;
            let notes = text("notes", &notes, 10_000)?;
            if attendees.is_empty() || attendees.iter().any(|a| a.trim().is_empty()) {
                return Err(bad("mediation.bad_attendees", "请列出到场人员")
                    .with_details(json!({"field": "attendees"})));
            }
            let at = at.unwrap_or(t);
            if at > t + Duration::minutes(5) {
                return Err(bad("mediation.bad_time", "调解时间不能晚于现在")
                    .with_details(json!({"field": "at"})));
            }
            // The session scheduled has taken place.
            c.next_session_at = None;
            c.next_session_place = None;
            (
                "session",
                json!({"at": local(at), "place": place, "attendees": attendees, "notes": notes}),
            )
        }
        Step::Schedule { at, place, .. } => {
            if !open {
                return Err(closed_now());
            }
            let place = text("place", &place, 200)?;
            if at < t || at > t + Duration::days(365) {
                return Err(bad("mediation.bad_time", "下次调解时间应在今后一年之内")
                    .with_details(json!({"field": "at"})));
            }
            c.next_session_at = Some(at);
            c.next_session_place = Some(place.clone());
            ("schedule", json!({"at": local(at), "place": place}))
        }
        Step::Agreement { agreement, .. } => {
            if !open {
                return Err(closed_now());
            }
            if c.agreed_at.is_some() {
                return Err(conflict(
                    "mediation.agreement_exists",
                    "协议已达成；如需变更，请重新调解",
                ));
            }
            let today = t.with_timezone(&beijing()).date_naive();
            let problems = agreement.problems(parties.len(), today);
            if !problems.is_empty() {
                return Err(bad(
                    "mediation.agreement_incomplete",
                    format!(
                        "协议书缺少法定内容：{}",
                        problems
                            .iter()
                            .map(|p| p.reason.as_str())
                            .collect::<Vec<_>>()
                            .join("；")
                    ),
                )
                .with_details(json!({"problems": problems})));
            }
            c.agreement = Some(serde_json::to_string(&agreement).unwrap_or_default());
            c.agreed_at = Some(t);
            ("agreement", json!({"terms": agreement.terms}))
        }
        Step::Sign { who, party, at, .. } => {
            if !open {
                return Err(closed_now());
            }
            if c.agreement.is_none() || c.outcome.as_deref() == Some("agreed_oral") {
                return Err(conflict("mediation.no_agreement", "尚无书面协议可签署"));
            }
            if c.effective_at.is_some() {
                return Err(conflict("mediation.already_effective", "协议已生效"));
            }
            let mut sig: Signatures = serde_json::from_str(&c.signatures).unwrap_or_default();
            // Signed now or earlier, but not before the agreement was drawn up.
            let at = at.unwrap_or(t).min(t).max(c.agreed_at.unwrap_or(t));
            let label = match (who.as_str(), party) {
                ("party", Some(n)) if numbers.contains(&n) => {
                    sig.parties.insert(n, at);
                    format!("当事人{n}")
                }
                ("party", _) => {
                    return Err(bad(
                        "mediation.bad_party",
                        format!("当事人编号应为 {numbers:?} 之一"),
                    )
                    .with_details(json!({"field": "party"})));
                }
                ("mediator", None) => {
                    sig.mediator = Some(at);
                    "调解员".into()
                }
                ("seal", None) => {
                    sig.seal = Some(at);
                    "调解委员会印章".into()
                }
                _ => {
                    return Err(bad(
                        "mediation.bad_signer",
                        "who 应为 party（并给出 party 编号）、mediator 或 seal",
                    )
                    .with_details(json!({"field": "who"})));
                }
            };
            // In effect when every party, the mediator and the seal are on it (art. 29): the
            // mediation has then ended in success.
            if let Some(effective) = sig.effective_at(&numbers) {
                c.effective_at = Some(effective);
                c.outcome = Some(Outcome::AgreedWritten.as_str().into());
                c.state = "closed".into();
                c.ended_at = Some(effective);
            }
            c.signatures = serde_json::to_string(&sig).unwrap_or_default();
            (
                "signature",
                json!({"who": label, "at": local(at), "effective": c.effective_at.map(local)}),
            )
        }
        Step::OralAgreement { terms, .. } => {
            if !open {
                return Err(closed_now());
            }
            let terms = text("terms", &terms, 5000)?;
            c.agreement = Some(
                serde_json::to_string(&Agreement {
                    terms: terms.clone(),
                    ..Default::default()
                })
                .unwrap_or_default(),
            );
            c.agreed_at = Some(t);
            c.effective_at = Some(t);
            c.outcome = Some(Outcome::AgreedOral.as_str().into());
            c.state = "closed".into();
            c.ended_at = Some(t);
            ("oral_agreement", json!({"terms": terms}))
        }
        Step::Outcome { outcome, note, .. } => {
            if !open {
                return Err(closed_now());
            }
            let o: Outcome = vocab(&outcome, "mediation.bad_outcome", "outcome")?;
            if o.is_success() {
                return Err(bad(
                    "mediation.bad_outcome",
                    "调解成功以协议记录：书面协议经签署盖章后生效，口头协议用 oral_agreement",
                )
                .with_details(json!({"field": "outcome"})));
            }
            let note = text("note", &note, 2000)?;
            c.outcome = Some(o.as_str().into());
            c.outcome_note = Some(note.clone());
            c.state = "closed".into();
            c.ended_at = Some(t);
            ("outcome", json!({"outcome": o.as_str(), "note": note}))
        }
        Step::Confirmation { status, .. } => {
            let Some(effective) = c
                .effective_at
                .filter(|_| c.outcome.as_deref() == Some("agreed_written"))
            else {
                return Err(conflict(
                    "mediation.not_effective",
                    "只有已生效的书面协议可以申请司法确认",
                ));
            };
            match (c.confirmation.as_str(), status.as_str()) {
                ("none", "applied") if t <= confirmation_deadline(effective) => {}
                ("none", "applied") => {
                    return Err(conflict(
                        "mediation.confirmation_window",
                        "协议生效已超过30日，不能再申请司法确认（人民调解法第三十三条）",
                    ));
                }
                ("applied", "granted" | "refused") => {}
                (_, "applied" | "granted" | "refused") => {
                    return Err(conflict(
                        "mediation.confirmation_state",
                        format!("司法确认当前为 {}，不能改为 {status}", c.confirmation),
                    ));
                }
                _ => {
                    return Err(bad(
                        "mediation.bad_confirmation",
                        "status 应为 applied、granted 或 refused",
                    ));
                }
            }
            c.confirmation = status.clone();
            ("confirmation", json!({"status": status}))
        }
        Step::Performance { note, .. } => {
            if !c
                .outcome
                .as_deref()
                .is_some_and(|o| o.starts_with("agreed_"))
            {
                return Err(conflict(
                    "mediation.not_effective",
                    "协议生效后才能记录履行",
                ));
            }
            if c.performed_at.is_some() {
                return Err(conflict("mediation.performed", "已记录履行"));
            }
            let note = text("note", &note, 2000)?;
            c.performed_at = Some(t);
            ("performance", json!({"note": note}))
        }
        Step::FollowUp { note, result, .. } => {
            if c.ended_at.is_none() {
                return Err(conflict("mediation.still_open", "调解结束后才进行回访"));
            }
            (
                "follow_up",
                json!({"note": text("note", &note, 2000)?, "result": text("result", &result, 200)?}),
            )
        }
        Step::Risk { level, reason, .. } => {
            let l: RiskLevel = vocab(&level, "mediation.bad_risk", "level")?;
            let reason = text("reason", &reason, 500)?;
            let before = std::mem::replace(&mut c.risk_level, l.as_str().into());
            (
                "risk",
                json!({"from": before, "to": l.as_str(), "reason": reason}),
            )
        }
    };
    let ending = open && c.state == "closed";
    c.version += 1;
    c.updated_at = t;
    let body = entry.to_string();
    if !state
        .store
        .save_case(&c, expected, kind, &body, &caller.account.username)
        .await?
    {
        return Err(conflict(
            "mediation.stale",
            "案件已被他人更新，请刷新后重试",
        ));
    }
    state
        .store
        .append_audit(
            &caller.audit(
                &format!("mediation.{kind}"),
                Some("mediation_case"),
                Some(c.id.to_string()),
                json!({"code": c.code, "version": c.version}),
            ),
            t,
        )
        .await?;
    if ending {
        close_event(&state, &caller, &c).await;
    }
    let entries = state.store.case_entries(&c).await?;
    let slips = state.store.slips_of_case(c.id).await?;
    Ok(Json(
        case_json(&state, &c, &parties, &entries, &slips).await?,
    ))
}

/// The event a case came from closes when the case's mediation ends. The case is already saved:
/// an event that cannot close (moved on by someone else meanwhile) is logged, not an error.
async fn close_event(state: &AppState, caller: &Caller, c: &CaseRow) {
    let Some(event) = c.event_id else { return };
    let outcome = c.outcome.clone().unwrap_or_default();
    let result = async {
        let (e, vis) = crate::events::load(state, caller, &event.to_string()).await?;
        let mv = wangge_domain::workflow::Move::MediationEnded {
            outcome: outcome.clone(),
        };
        let raw = json!({"move": "mediation_ended", "outcome": outcome, "case": c.code});
        crate::events::move_event(state, caller, &e, &vis, e.version, &mv, raw).await
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(case = %c.code, event = %event, error = %e.message, "the case ended but its event did not close");
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SlipBody {
    case_id: String,
    to_org: Option<String>,
    to_department: Option<String>,
    reason: String,
    /// Hours the receiver has to acknowledge (24 by default).
    receipt_hours: Option<i64>,
    /// Days the receiver has to report back (7 by default).
    reply_days: Option<i64>,
}

/// 转办单: a case sent to another organisation or a department within the sender's county (its
/// reach), with the reason and the deadlines for receipt and reply.
async fn send_slip(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<SlipBody>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    may_work(&caller)?;
    let b = json_body(body)?;
    let c = load_case(&state, &caller, &b.case_id).await?;
    if c.state != "open" {
        return Err(conflict("mediation.closed", "调解已结束，不能再转办"));
    }
    let reason = text("reason", &b.reason, 2000)?;
    let county = &c.grid_code[..6];
    let outside = || {
        bad(
            "mediation.outside_reach",
            format!("只能转办至本县（区）{county} 范围内的组织或部门"),
        )
    };
    let (to_org, to_department) = match (&b.to_org, &b.to_department) {
        (Some(o), None) => {
            let id = parse_id(o, "mediation.bad_org", "调解组织")?;
            let org = state.store.mediation_org(id).await?.ok_or_else(outside)?;
            if !org.region_code.starts_with(county) || org.id == c.org_id {
                return Err(outside());
            }
            (Some(id), None)
        }
        (None, Some(d)) => {
            let id = parse_id(d, "mediation.bad_department", "部门")?;
            let dept = state.store.department(id).await?.ok_or_else(outside)?;
            if !dept.region_code.starts_with(county) {
                return Err(outside());
            }
            (None, Some(id))
        }
        _ => {
            return Err(bad(
                "mediation.bad_receiver",
                "请给出且只给出一个接收方：to_org 或 to_department",
            ));
        }
    };
    let hours = b.receipt_hours.unwrap_or(24);
    let days = b.reply_days.unwrap_or(7);
    if !(1..=720).contains(&hours) || !(1..=90).contains(&days) {
        return Err(bad(
            "mediation.bad_deadline",
            "签收时限应为1–720小时，反馈时限应为1–90天",
        ));
    }
    let t = now();
    let slip = SlipRow {
        id: Uuid::now_v7(),
        region_code: c.region_code.clone(),
        case_id: Some(c.id),
        from_org: c.org_id,
        to_org,
        to_department,
        reason: reason.clone(),
        receipt_due_at: t + Duration::hours(hours),
        reply_due_at: t + Duration::days(days),
        received_at: None,
        received_by: None,
        replied_at: None,
        reply: None,
        created_by: caller.account.username.clone(),
        created_at: t,
    };
    // The case's timeline first, guarded by its version: a race with another step answers 409
    // before any slip exists.
    let mut after = c.clone();
    after.version += 1;
    after.updated_at = t;
    let entry = json!({"slip": slip.id, "to_org": to_org, "to_department": to_department, "reason": reason}).to_string();
    if !state
        .store
        .save_case(
            &after,
            c.version,
            "transfer",
            &entry,
            &caller.account.username,
        )
        .await?
    {
        return Err(conflict(
            "mediation.stale",
            "案件已被他人更新，请刷新后重试",
        ));
    }
    state.store.insert_slip(&slip).await?;
    state
        .store
        .append_audit(
            &caller.audit(
                "mediation.transfer",
                Some("transfer_slip"),
                Some(slip.id.to_string()),
                json!({"case": c.code}),
            ),
            t,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(slip_json(&slip, t))))
}

/// The receiver of a slip: staff of the department it names, or anyone working cases whose
/// sight holds the organisation it names.
async fn slip_for_receiver(state: &AppState, caller: &Caller, id: &str) -> ApiResult<SlipRow> {
    let missing = || ApiError::not_found("mediation.slip_not_found", "转办单不存在");
    let id: Uuid = id.trim().parse().map_err(|_| missing())?;
    let s = state.store.slip(id).await?.ok_or_else(missing)?;
    let mine = match (&caller.scope, s.to_department, s.to_org) {
        (Scope::Department { id, .. }, Some(d), _) => id == &d.to_string(),
        // An organisation's slip is answered by its own mediators, or by the staff at its place
        // (its township's dispatcher for a township committee), never by the sender.
        (Scope::Place(node), _, Some(o)) => {
            may_work(caller).is_ok()
                && s.created_by != caller.account.username
                && match state.store.mediation_org(o).await? {
                    Some(org) => {
                        node.code() == org.region_code
                            || state
                                .store
                                .mediator_of_account(caller.account.id)
                                .await?
                                .is_some_and(|m| m.org_id == org.id)
                    }
                    None => false,
                }
        }
        _ => false,
    };
    if mine { Ok(s) } else { Err(missing()) }
}

async fn receive_slip(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let s = slip_for_receiver(&state, &caller, &id).await?;
    let t = now();
    if !state
        .store
        .answer_slip(s.id, Some((&caller.account.username, t)), None)
        .await?
    {
        return Err(conflict("mediation.slip_received", "转办单已签收"));
    }
    state
        .store
        .append_audit(
            &caller.audit(
                "mediation.slip_receipt",
                Some("transfer_slip"),
                Some(s.id.to_string()),
                json!({"late": t > s.receipt_due_at}),
            ),
            t,
        )
        .await?;
    let s = state
        .store
        .slip(s.id)
        .await?
        .ok_or_else(|| ApiError::not_found("mediation.slip_not_found", "转办单不存在"))?;
    Ok(Json(slip_json(&s, t)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplyBody {
    reply: String,
}

async fn reply_slip(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<ReplyBody>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let s = slip_for_receiver(&state, &caller, &id).await?;
    let b = json_body(body)?;
    let reply = text("reply", &b.reply, 5000)?;
    let t = now();
    if !state
        .store
        .answer_slip(s.id, None, Some((&reply, t)))
        .await?
    {
        return Err(conflict("mediation.slip_reply", "转办单未签收或已反馈"));
    }
    state
        .store
        .append_audit(
            &caller.audit(
                "mediation.slip_reply",
                Some("transfer_slip"),
                Some(s.id.to_string()),
                json!({"late": t > s.reply_due_at}),
            ),
            t,
        )
        .await?;
    let s = state
        .store
        .slip(s.id)
        .await?
        .ok_or_else(|| ApiError::not_found("mediation.slip_not_found", "转办单不存在"))?;
    Ok(Json(slip_json(&s, t)))
}

/// The figures for a region (default: the caller's whole area) and optionally an organisation, a
/// mediator, a type and a period (on when mediation ended).
pub(crate) async fn stats_of(
    state: &AppState,
    caller: &Caller,
    q: &HashMap<String, String>,
) -> ApiResult<(Stats, String, Value)> {
    let vis = sight(caller)?;
    let vis = match q.get("region") {
        None => vis,
        Some(code) => {
            let code = wangge_domain::RegionCode::parse(code)
                .map_err(|e| bad("mediation.bad_region", e.to_string()))?;
            vis.narrowed_to(&code).ok_or_else(forbidden)?
        }
    };
    let query = StatsQuery {
        org: q
            .get("organisation")
            .map(|o| parse_id(o, "mediation.bad_org", "调解组织"))
            .transpose()?,
        mediator: q
            .get("mediator")
            .map(|m| parse_id(m, "mediation.bad_mediator", "调解员"))
            .transpose()?,
        dispute_type: q
            .get("type")
            .map(|t| {
                vocab::<DisputeType>(t, "mediation.bad_type", "type")
                    .map(|t| t.as_str().to_string())
            })
            .transpose()?,
        from: time_param(q, "from", "mediation.bad_time")?,
        to: time_param(q, "to", "mediation.bad_time")?,
    };
    let n = state.store.mediation_counts(&vis, &query).await?;
    let mut s = Stats {
        received: n.received as u64,
        handled: n.handled as u64,
        successful: n.successful as u64,
        failed: n.failed as u64,
        ended: n.ended as u64,
        referred: n.referred as u64,
        performed: n.performed as u64,
        ..Default::default()
    };
    s.finish(n.total_days);
    let rule = state.config.get().settings.mediation.rate_display;
    let shown = rule.show(s.successful, s.handled);
    Ok((s, shown, json!(rule)))
}

async fn stats(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let (s, shown, rule) = stats_of(&state, &caller, &q).await?;
    let mut v = json!(s);
    v["success_rate_display"] = json!(shown);
    v["display_rule"] = rule;
    v["definition"] = json!(
        "调解成功率 = 调解成功件数（达成书面或口头协议）÷ 调解件数（期间内调解结束的案件，不论结果）"
    );
    Ok(Json(v))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoundBody {
    every_days: i64,
}

/// A grid in the caller's sight, by its code, or 404 as for one that does not exist.
fn grid_in_sight(state: &AppState, caller: &Caller, grid: &str) -> ApiResult<String> {
    let vis = sight(caller)?;
    let atlas = state.atlas.get();
    let known = atlas.grids_under(grid).next().map(|(c, _)| c) == Some(grid);
    if known && vis.sees(grid) {
        Ok(grid.to_string())
    } else {
        Err(ApiError::not_found(
            "mediation.grid_not_found",
            format!("网格 {grid} 不存在"),
        ))
    }
}

/// 排查: sets a grid's recurring screening round (every 1–90 days); the first is due one round
/// from now.
async fn set_round(
    State(state): State<AppState>,
    caller: Caller,
    Path(grid): Path<String>,
    body: Result<Json<RoundBody>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    may_work(&caller)?;
    let grid = grid_in_sight(&state, &caller, &grid)?;
    let b = json_body(body)?;
    if !(1..=90).contains(&b.every_days) {
        return Err(bad(
            "mediation.bad_round",
            format!("排查周期应为1–90天，收到 {}", b.every_days),
        )
        .with_details(json!({"field": "every_days"})));
    }
    let t = now();
    let round = wangge_store::ScreeningSchedule {
        grid_code: grid.clone(),
        every_days: b.every_days,
        next_due_at: t + Duration::days(b.every_days),
        last_done_at: None,
        set_by: caller.account.username.clone(),
        updated_at: t,
    };
    state.store.set_screening(&round).await?;
    state
        .store
        .append_audit(
            &caller.audit(
                "mediation.screening_round",
                Some("grid"),
                Some(grid),
                json!({"every_days": b.every_days}),
            ),
            t,
        )
        .await?;
    Ok(Json(json!(round)))
}

async fn screening_rounds(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let vis = sight(&caller)?;
    let t = now();
    let rounds = state.store.screenings_due(&vis).await?;
    let out: Vec<Value> = rounds
        .iter()
        .map(|r| {
            json!({"grid": r.grid_code, "every_days": r.every_days, "next_due_at": local(r.next_due_at),
                   "last_done_at": r.last_done_at.map(local), "overdue": r.next_due_at < t})
        })
        .collect();
    Ok(Json(json!({"rounds": out})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DoneBody {
    findings: i64,
    notes: String,
}

/// A screening round done: what it found (the disputes themselves are opened as cases with
/// origin `screening`, or reported as events); the next round falls due from now.
async fn record_round(
    State(state): State<AppState>,
    caller: Caller,
    Path(grid): Path<String>,
    body: Result<Json<DoneBody>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    may_work(&caller)?;
    let grid = grid_in_sight(&state, &caller, &grid)?;
    let b = json_body(body)?;
    if !(0..=10_000).contains(&b.findings) {
        return Err(bad("mediation.bad_findings", "发现数量应为0–10000")
            .with_details(json!({"field": "findings"})));
    }
    let notes = text("notes", &b.notes, 5000)?;
    let t = now();
    let row = wangge_store::ScreeningRow {
        id: Uuid::now_v7(),
        grid_code: grid.clone(),
        done_at: t,
        done_by: caller.account.username.clone(),
        findings: b.findings,
        notes,
    };
    if !state.store.record_screening(&row).await? {
        return Err(conflict(
            "mediation.no_round",
            format!("网格 {grid} 尚未设置排查周期"),
        ));
    }
    state
        .store
        .append_audit(
            &caller.audit(
                "mediation.screening_done",
                Some("grid"),
                Some(grid),
                json!({"findings": b.findings}),
            ),
            t,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!(row))))
}

/// 研判清单: open cases in sight with a sign of risk — many parties, the same parties again
/// within the year, three or more disputes in one grid within 180 days, a raised or high level.
pub(crate) async fn risk_list(state: &AppState, caller: &Caller) -> ApiResult<Vec<Value>> {
    use wangge_domain::mediation::{RiskFacts, risk_reasons};
    let vis = sight(caller)?;
    let t = now();
    // Every open case, and the year's others to compare them with.
    let mut recent = state
        .store
        .cases(
            &vis,
            &CaseQuery {
                state: Some("open".into()),
                limit: 1000,
                ..Default::default()
            },
        )
        .await?;
    let closed = state
        .store
        .cases(
            &vis,
            &CaseQuery {
                state: Some("closed".into()),
                limit: 1000,
                ..Default::default()
            },
        )
        .await?;
    recent.extend(
        closed
            .into_iter()
            .filter(|c| t - c.opened_at < Duration::days(365)),
    );
    let mut facts = Vec::with_capacity(recent.len());
    for c in &recent {
        let parties = state.store.case_parties(c).await?;
        // Rising: the latest change of level raised it.
        let raised = state
            .store
            .case_entries(c)
            .await?
            .iter()
            .rev()
            .filter(|e| e.kind == "risk")
            .filter_map(|e| serde_json::from_str::<Value>(&e.body).ok())
            .next()
            .is_some_and(|b| {
                let rank = |v: &Value| match v.as_str() {
                    Some("high") => 2,
                    Some("medium") => 1,
                    _ => 0,
                };
                rank(&b["to"]) > rank(&b["from"])
            });
        facts.push(RiskFacts {
            id: c.id.to_string(),
            grid: c.grid_code.clone(),
            opened_at: c.opened_at,
            parties: parties.into_iter().map(|p| p.name).collect(),
            level: c.risk_level.parse().unwrap_or(RiskLevel::Low),
            raised,
        });
    }
    let mut out = Vec::new();
    for (c, f) in recent.iter().zip(&facts) {
        if c.state != "open" {
            continue;
        }
        let reasons = risk_reasons(f, &facts);
        if !reasons.is_empty() {
            out.push(json!({"id": c.id, "code": c.code, "grid": c.grid_code, "risk_level": c.risk_level,
                "reasons": reasons, "reasons_zh": reasons.iter().map(|r| r.label_zh()).collect::<Vec<_>>()}));
        }
    }
    Ok(out)
}

async fn risks(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    Ok(Json(json!({"cases": risk_list(&state, &caller).await?})))
}

/// One identifier of a party in clear, for roles that may unmask personal data; every view is
/// audited (which field of which party, never the value).
async fn unmask_party(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, seq)): Path<(String, i64)>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    caller.require(wangge_domain::access::Permission::UnmaskPersonalData)?;
    let field = q.get("field").map(String::as_str).unwrap_or("");
    if !matches!(field, "id_number" | "phone") {
        return Err(bad(
            "personal_data.bad_field",
            "field 应为 id_number 或 phone",
        ));
    }
    let c = load_case(&state, &caller, &id).await?;
    let party = state
        .store
        .case_parties(&c)
        .await?
        .into_iter()
        .find(|p| p.seq == seq)
        .ok_or_else(|| ApiError::not_found("mediation.party_not_found", "当事人不存在"))?;
    let enc = if field == "phone" {
        party.phone_enc
    } else {
        party.id_number_enc
    };
    let value = enc
        .and_then(|e| state.keys.decrypt(&e).ok())
        .ok_or_else(|| ApiError::not_found("personal_data.absent", "该当事人没有此项信息"))?;
    state
        .store
        .append_audit(
            &caller.audit(
                "personal_data.view",
                Some("case_party"),
                Some(format!("{}:{seq}", c.id)),
                json!({"field": field, "case": c.code}),
            ),
            now(),
        )
        .await?;
    Ok(Json(
        json!({"case": c.id, "party": seq, "field": field, "value": value}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrgBody {
    name: String,
    kind: String,
    region: String,
}

/// A mediation organisation on the region tree (system administrator).
async fn create_org(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<OrgBody>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require(wangge_domain::access::Permission::Configure)?;
    let b = json_body(body)?;
    let kind: wangge_domain::mediation::OrgKind = vocab(&b.kind, "mediation.bad_org_kind", "kind")?;
    let name = text("name", &b.name, 100)?;
    let region = wangge_domain::RegionCode::parse(b.region.trim()).map_err(|e| {
        bad("mediation.bad_region", e.to_string()).with_details(json!({"field": "region"}))
    })?;
    if state.store.region(region.as_str()).await?.is_none() {
        return Err(bad("mediation.bad_region", format!("区划 {region} 不存在"))
            .with_details(json!({"field": "region"})));
    }
    let org = wangge_store::MediationOrgRow {
        id: Uuid::now_v7(),
        region_code: region.as_str().to_string(),
        kind: kind.as_str().into(),
        name,
    };
    state
        .store
        .insert_mediation_network(std::slice::from_ref(&org), &[])
        .await?;
    state
        .store
        .append_audit(
            &caller.audit(
                "mediation.org_create",
                Some("mediation_org"),
                Some(org.id.to_string()),
                json!({"name": org.name, "region": org.region_code}),
            ),
            now(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!(org))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MediatorBody {
    org: String,
    name: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    specialities: Vec<String>,
    #[serde(default)]
    legal_adviser: bool,
}

/// A mediator of an organisation (system administrator).
async fn create_mediator(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<MediatorBody>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require(wangge_domain::access::Permission::Configure)?;
    let b = json_body(body)?;
    let org_id = parse_id(&b.org, "mediation.bad_org", "调解组织")?;
    let org = state.store.mediation_org(org_id).await?.ok_or_else(|| {
        bad("mediation.bad_org", format!("调解组织 {org_id} 不存在"))
            .with_details(json!({"field": "org"}))
    })?;
    let name = text("name", &b.name, 50)?;
    if b.title.chars().count() > 50 {
        return Err(
            bad("mediation.bad_text", "称号不超过50字").with_details(json!({"field": "title"}))
        );
    }
    let mut specialities = Vec::new();
    for t in &b.specialities {
        let t: DisputeType = vocab(t, "mediation.bad_type", "specialities")?;
        specialities.push(t.as_str());
    }
    let m = wangge_store::MediatorRow {
        id: Uuid::now_v7(),
        org_id: org.id,
        region_code: org.region_code.clone(),
        name,
        title: b.title.trim().to_string(),
        specialities: specialities.join(" "),
        legal_adviser: i64::from(b.legal_adviser),
        account_id: None,
    };
    state
        .store
        .insert_mediation_network(&[], std::slice::from_ref(&m))
        .await?;
    state
        .store
        .append_audit(
            &caller.audit(
                "mediation.mediator_create",
                Some("mediator"),
                Some(m.id.to_string()),
                json!({"org": org.name}),
            ),
            now(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!(m))))
}

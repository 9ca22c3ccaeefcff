//! The steps of a case, each checked against the case's state and saved with the version the
//! principal saw: sessions, the next session, the written agreement (checked against art. 29 of
//! the People's Mediation Law) and its signatures and seal, an oral agreement, an outcome without
//! agreement, judicial confirmation within 30 days of effect, performance, follow-up visits and
//! the risk level. When the mediation ends, whatever its outcome, the event it came from closes.

use super::views::CaseView;
use super::{bad, conflict, load_case, may_work, text, vocab};
use crate::context::Context;
use crate::error::AppResult;
use crate::events::moves::{Along, commit};
use crate::events::views::local;
use crate::limits;
use crate::principal::Principal;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use wangge_domain::calendar::beijing;
use wangge_domain::mediation::{Agreement, Outcome, RiskLevel, Signatures, confirmation_deadline};
use wangge_domain::workflow::Move;
use wangge_store::CaseRow;

/// One step of a case. The body names the step and the version the principal saw.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(tag = "step", rename_all = "snake_case", deny_unknown_fields)]
pub enum CaseStep {
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

impl CaseStep {
    fn version(&self) -> i64 {
        match self {
            CaseStep::Session { version, .. }
            | CaseStep::Schedule { version, .. }
            | CaseStep::Agreement { version, .. }
            | CaseStep::Sign { version, .. }
            | CaseStep::OralAgreement { version, .. }
            | CaseStep::Outcome { version, .. }
            | CaseStep::Confirmation { version, .. }
            | CaseStep::Performance { version, .. }
            | CaseStep::FollowUp { version, .. }
            | CaseStep::Risk { version, .. } => *version,
        }
    }
}

fn stale(current: i64) -> crate::AppError {
    let mut e = crate::AppError::stale("mediation.stale", current);
    e.message = format!("案件已被他人更新（当前版本 {current}），请刷新后重试");
    e
}

/// What a step made of a case: its kind and its timeline entry.
type Entry = AppResult<(&'static str, Value)>;

fn closed_now() -> crate::AppError {
    conflict("mediation.closed", "调解已结束，不能再进行此操作")
}

fn still_open(c: &CaseRow) -> AppResult<()> {
    if c.state == "open" {
        Ok(())
    } else {
        Err(closed_now())
    }
}

fn json_text<T: serde::Serialize>(v: &T) -> AppResult<String> {
    serde_json::to_string(v)
        .map_err(|e| crate::AppError::internal("mediation.broken", e.to_string()))
}

/// The mediation has ended at `at` with `outcome`.
fn end(c: &mut CaseRow, outcome: Outcome, at: DateTime<Utc>) {
    c.outcome = Some(outcome.as_str().into());
    c.state = "closed".into();
    c.ended_at = Some(at);
}

/// Applies one step to `c` (not yet saved): what changed and the timeline entry for it.
fn apply_step(
    c: &mut CaseRow,
    s: CaseStep,
    numbers: &[u32],
    parties: usize,
    t: DateTime<Utc>,
) -> Entry {
    match s {
        CaseStep::Session {
            at,
            place,
            attendees,
            notes,
            ..
        } => session(c, at, &place, &attendees, &notes, t),
        CaseStep::Schedule { at, place, .. } => schedule(c, at, &place, t),
        CaseStep::Agreement { agreement, .. } => written_agreement(c, agreement, parties, t),
        CaseStep::Sign { who, party, at, .. } => sign(c, &who, party, at, numbers, t),
        CaseStep::OralAgreement { terms, .. } => oral_agreement(c, &terms, t),
        CaseStep::Outcome { outcome, note, .. } => without_agreement(c, &outcome, &note, t),
        CaseStep::Confirmation { status, .. } => confirmation(c, &status, t),
        CaseStep::Performance { note, .. } => performance(c, &note, t),
        CaseStep::FollowUp { note, result, .. } => {
            if c.ended_at.is_none() {
                return Err(conflict("mediation.still_open", "调解结束后才进行回访"));
            }
            Ok((
                "follow_up",
                json!({"note": text("note", &note, 2000)?, "result": text("result", &result, 200)?}),
            ))
        }
        CaseStep::Risk { level, reason, .. } => {
            let l: RiskLevel = vocab(&level, "mediation.bad_risk", "level")?;
            let reason = text("reason", &reason, 500)?;
            let before = std::mem::replace(&mut c.risk_level, l.as_str().into());
            Ok((
                "risk",
                json!({"from": before, "to": l.as_str(), "reason": reason}),
            ))
        }
    }
}

/// 调解记录: a session held (now, or earlier but not in the future).
fn session(
    c: &mut CaseRow,
    at: Option<DateTime<Utc>>,
    place: &str,
    attendees: &[String],
    notes: &str,
    t: DateTime<Utc>,
) -> Entry {
    still_open(c)?;
    let place = text("place", place, 200)?;
    let notes = text("notes", notes, 10_000)?;
    if attendees.is_empty() || attendees.len() > 200 {
        return Err(bad("mediation.bad_attendees", "请列出到场人员").at("attendees"));
    }
    let attendees = attendees
        .iter()
        .map(|a| limits::text("attendees", a, limits::NAME_MAX))
        .collect::<AppResult<Vec<_>>>()
        .map_err(|_| {
            bad(
                "mediation.bad_attendees",
                "请列出到场人员（每人不超过100字）",
            )
            .at("attendees")
        })?;
    let at = limits::time("at", at.unwrap_or(t), t)?;
    if at > t + Duration::minutes(5) {
        return Err(bad("mediation.bad_time", "调解时间不能晚于现在").at("at"));
    }
    // The session scheduled has taken place.
    c.next_session_at = None;
    c.next_session_place = None;
    Ok((
        "session",
        json!({"at": local(at), "place": place, "attendees": attendees, "notes": notes}),
    ))
}

/// 调解安排: the next session, within the coming year.
fn schedule(c: &mut CaseRow, at: DateTime<Utc>, place: &str, t: DateTime<Utc>) -> Entry {
    still_open(c)?;
    let place = text("place", place, 200)?;
    if at < t || at > t + Duration::days(365) {
        return Err(bad("mediation.bad_time", "下次调解时间应在今后一年之内").at("at"));
    }
    c.next_session_at = Some(at);
    c.next_session_place = Some(place.clone());
    Ok(("schedule", json!({"at": local(at), "place": place})))
}

/// 调解协议书: the written agreement, with everything art. 29 asks of it; signing follows.
fn written_agreement(
    c: &mut CaseRow,
    agreement: Agreement,
    parties: usize,
    t: DateTime<Utc>,
) -> Entry {
    still_open(c)?;
    if c.agreed_at.is_some() {
        return Err(conflict(
            "mediation.agreement_exists",
            "协议已达成；如需变更，请重新调解",
        ));
    }
    for (field, value) in [
        ("facts", &agreement.facts),
        ("points", &agreement.points),
        ("responsibilities", &agreement.responsibilities),
        ("terms", &agreement.terms),
        ("performance_method", &agreement.performance_method),
    ] {
        limits::free_text(field, value, 10_000)?;
    }
    let today = t.with_timezone(&beijing()).date_naive();
    let problems = agreement.problems(parties, today);
    if !problems.is_empty() {
        let reasons: Vec<&str> = problems.iter().map(|p| p.reason.as_str()).collect();
        return Err(bad(
            "mediation.agreement_incomplete",
            format!("协议书缺少法定内容：{}", reasons.join("；")),
        )
        .with_details(json!({"problems": problems})));
    }
    c.agreement = Some(json_text(&agreement)?);
    c.agreed_at = Some(t);
    Ok(("agreement", json!({"terms": agreement.terms})))
}

/// A signature on the written agreement: a party (by number), the mediator, or the seal. In
/// effect when every party, the mediator and the seal are on it (art. 29): the mediation has then
/// ended in success.
fn sign(
    c: &mut CaseRow,
    who: &str,
    party: Option<u32>,
    at: Option<DateTime<Utc>>,
    numbers: &[u32],
    t: DateTime<Utc>,
) -> Entry {
    still_open(c)?;
    if c.agreement.is_none() || c.outcome.as_deref() == Some("agreed_oral") {
        return Err(conflict("mediation.no_agreement", "尚无书面协议可签署"));
    }
    if c.effective_at.is_some() {
        return Err(conflict("mediation.already_effective", "协议已生效"));
    }
    let mut sig: Signatures = serde_json::from_str(&c.signatures).unwrap_or_default();
    // Signed now or earlier, but not before the agreement was drawn up.
    let at = limits::time("at", at.unwrap_or(t), t)?
        .min(t)
        .max(c.agreed_at.unwrap_or(t));
    let label = match (who, party) {
        ("party", Some(n)) if numbers.contains(&n) => {
            sig.parties.insert(n, at);
            format!("当事人{n}")
        }
        ("party", _) => {
            return Err(bad(
                "mediation.bad_party",
                format!("当事人编号应为 {numbers:?} 之一"),
            )
            .at("party"));
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
            .at("who"));
        }
    };
    if let Some(effective) = sig.effective_at(numbers) {
        c.effective_at = Some(effective);
        end(c, Outcome::AgreedWritten, effective);
    }
    c.signatures = json_text(&sig)?;
    Ok((
        "signature",
        json!({"who": label, "at": local(at), "effective": c.effective_at.map(local)}),
    ))
}

/// An oral agreement, recorded by the mediator; in effect when reached.
fn oral_agreement(c: &mut CaseRow, terms: &str, t: DateTime<Utc>) -> Entry {
    still_open(c)?;
    let terms = text("terms", terms, 5000)?;
    c.agreement = Some(json_text(&Agreement {
        terms: terms.clone(),
        ..Default::default()
    })?);
    c.agreed_at = Some(t);
    c.effective_at = Some(t);
    end(c, Outcome::AgreedOral, t);
    Ok(("oral_agreement", json!({"terms": terms})))
}

/// Mediation ended without an agreement: failed, ended or referred.
fn without_agreement(c: &mut CaseRow, outcome: &str, note: &str, t: DateTime<Utc>) -> Entry {
    still_open(c)?;
    let o: Outcome = vocab(outcome, "mediation.bad_outcome", "outcome")?;
    if o.is_success() {
        return Err(bad(
            "mediation.bad_outcome",
            "调解成功以协议记录：书面协议经签署盖章后生效，口头协议用 oral_agreement",
        )
        .at("outcome"));
    }
    let note = text("note", note, 2000)?;
    c.outcome_note = Some(note.clone());
    end(c, o, t);
    Ok(("outcome", json!({"outcome": o.as_str(), "note": note})))
}

/// 司法确认: applied for within 30 days of effect, then granted or refused.
fn confirmation(c: &mut CaseRow, status: &str, t: DateTime<Utc>) -> Entry {
    let Some(effective) = c
        .effective_at
        .filter(|_| c.outcome.as_deref() == Some("agreed_written"))
    else {
        return Err(conflict(
            "mediation.not_effective",
            "只有已生效的书面协议可以申请司法确认",
        ));
    };
    match (c.confirmation.as_str(), status) {
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
            )
            .at("status"));
        }
    }
    c.confirmation = status.to_string();
    Ok(("confirmation", json!({"status": status})))
}

/// 履行: the agreement performed, once.
fn performance(c: &mut CaseRow, note: &str, t: DateTime<Utc>) -> Entry {
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
    let note = text("note", note, 2000)?;
    c.performed_at = Some(t);
    Ok(("performance", json!({"note": note})))
}

/// One step of a case.
pub async fn step(ctx: &Context, who: &Principal, id: &str, s: CaseStep) -> AppResult<CaseView> {
    may_work(who)?;
    let mut c = load_case(ctx, who, id).await?;
    let expected = c.version;
    if s.version() != expected {
        return Err(stale(expected));
    }
    let parties = ctx.store.case_parties(&c).await?;
    let numbers: Vec<u32> = parties.iter().map(|p| p.seq as u32).collect();
    let t = ctx.now();
    let open = c.state == "open";
    let (kind, entry) = apply_step(&mut c, s, &numbers, parties.len(), t)?;
    let ending = open && c.state == "closed";
    c.version += 1;
    c.updated_at = t;
    if !ctx
        .store
        .save_case(&c, expected, kind, &entry.to_string(), &who.actor_name())
        .await?
    {
        let current = ctx
            .store
            .case(&wangge_domain::access::Visibility::system(), c.id)
            .await?
            .map_or(expected, |now| now.version);
        return Err(stale(current));
    }
    ctx.store
        .append_audit(
            &who.audit(
                &format!("mediation.{kind}"),
                Some("mediation_case"),
                Some(c.id.to_string()),
                json!({"code": c.code, "version": c.version}),
            ),
            t,
        )
        .await?;
    if ending {
        close_event(ctx, who, &c).await;
    }
    super::cases::view_of(ctx, &c).await
}

/// The event a case came from closes when the case's mediation ends. The case is already saved:
/// an event that cannot close (moved on by someone else meanwhile) is logged, not an error.
async fn close_event(ctx: &Context, who: &Principal, c: &CaseRow) {
    let Some(event) = c.event_id else { return };
    let outcome = c.outcome.clone().unwrap_or_default();
    let result = async {
        let e = crate::events::load(ctx, who, &event.to_string()).await?;
        let mv = Move::MediationEnded {
            outcome: outcome.clone(),
        };
        let recorded = json!({"move": "mediation_ended", "outcome": outcome, "case": c.code});
        commit(ctx, who, &e, e.version, &mv, recorded, Along::default()).await
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(case = %c.code, event = %event, error = %e.message, "the case ended but its event did not close");
    }
}

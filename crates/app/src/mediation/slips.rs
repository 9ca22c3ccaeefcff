//! 转办单: a case sent to another organisation or a department within the sender's county (its
//! reach), with the reason and the deadlines for receipt and reply; acknowledged and answered only
//! by the receiver — a department's own staff, or an organisation's own mediators or the staff at
//! its place — never by the sender.

use super::views::SlipView;
use super::{bad, conflict, load_case, may_work, parse_id, text};
use crate::context::Context;
use crate::error::{AppError, AppResult};
use crate::principal::Principal;
use chrono::Duration;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;
use wangge_domain::access::Scope;
use wangge_store::{CaseRow, SlipRow};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlipInput {
    pub case_id: String,
    pub to_org: Option<String>,
    pub to_department: Option<String>,
    pub reason: String,
    /// Hours the receiver has to acknowledge (24 by default, 1–720).
    pub receipt_hours: Option<i64>,
    /// Days the receiver has to report back (7 by default, 1–90).
    pub reply_days: Option<i64>,
}

pub async fn send(ctx: &Context, who: &Principal, b: SlipInput) -> AppResult<SlipView> {
    may_work(who)?;
    let c = load_case(ctx, who, &b.case_id).await?;
    if c.state != "open" {
        return Err(conflict("mediation.closed", "调解已结束，不能再转办"));
    }
    let reason = text("reason", &b.reason, 2000)?;
    let (to_org, to_department) = receiver(ctx, &c, &b).await?;
    let hours = b.receipt_hours.unwrap_or(24);
    let days = b.reply_days.unwrap_or(7);
    if !(1..=720).contains(&hours) || !(1..=90).contains(&days) {
        return Err(bad(
            "mediation.bad_deadline",
            "签收时限应为1–720小时，反馈时限应为1–90天",
        ));
    }
    let t = ctx.now();
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
        created_by: who.actor_name(),
        created_at: t,
    };
    // The case's timeline first, guarded by its version: a race with another step answers 409
    // before any slip exists.
    let mut after = c.clone();
    after.version += 1;
    after.updated_at = t;
    let entry = json!({"slip": slip.id, "to_org": to_org, "to_department": to_department, "reason": reason}).to_string();
    if !ctx
        .store
        .save_case(&after, c.version, "transfer", &entry, &who.actor_name())
        .await?
    {
        return Err(conflict(
            "mediation.stale",
            "案件已被他人更新，请刷新后重试",
        ));
    }
    ctx.store.insert_slip(&slip).await?;
    ctx.store
        .append_audit(
            &who.audit(
                "mediation.transfer",
                Some("transfer_slip"),
                Some(slip.id.to_string()),
                json!({"case": c.code}),
            ),
            t,
        )
        .await?;
    Ok(SlipView::of(&slip, t))
}

/// The one organisation or department a slip goes to: within the case's county, and not the
/// case's own organisation.
async fn receiver(
    ctx: &Context,
    c: &CaseRow,
    b: &SlipInput,
) -> AppResult<(Option<Uuid>, Option<Uuid>)> {
    let county = &c.grid_code[..6];
    let outside = || {
        bad(
            "mediation.outside_reach",
            format!("只能转办至本县（区）{county} 范围内的组织或部门"),
        )
    };
    match (&b.to_org, &b.to_department) {
        (Some(o), None) => {
            let id = parse_id(o, "mediation.bad_org", "调解组织")?;
            let org = ctx.store.mediation_org(id).await?.ok_or_else(outside)?;
            if !org.region_code.starts_with(county) || org.id == c.org_id {
                return Err(outside());
            }
            Ok((Some(id), None))
        }
        (None, Some(d)) => {
            let id = parse_id(d, "mediation.bad_department", "部门")?;
            let dept = ctx.store.department(id).await?.ok_or_else(outside)?;
            if !dept.region_code.starts_with(county) {
                return Err(outside());
            }
            Ok((None, Some(id)))
        }
        _ => Err(bad(
            "mediation.bad_receiver",
            "请给出且只给出一个接收方：to_org 或 to_department",
        )),
    }
}

fn missing() -> AppError {
    AppError::not_found("mediation.slip_not_found", "转办单不存在")
}

/// The receiver of a slip: staff of the department it names, or anyone working cases whose
/// sight holds the organisation it names (its own mediators, the staff at its place).
async fn slip_for_receiver(ctx: &Context, who: &Principal, id: &str) -> AppResult<SlipRow> {
    let id: Uuid = id.trim().parse().map_err(|_| missing())?;
    let s = ctx.store.slip(id).await?.ok_or_else(missing)?;
    let person = who.person().map_err(|_| missing())?;
    let mine = match (&person.scope, s.to_department, s.to_org) {
        (Scope::Department { id, .. }, Some(d), _) => id == &d.to_string(),
        (Scope::Place(node), _, Some(o)) => {
            may_work(who).is_ok()
                && s.created_by != person.account.username
                && match ctx.store.mediation_org(o).await? {
                    Some(org) => {
                        node.code() == org.region_code
                            || ctx
                                .store
                                .mediator_of_account(person.account.id)
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

pub async fn receive(ctx: &Context, who: &Principal, id: &str) -> AppResult<SlipView> {
    let s = slip_for_receiver(ctx, who, id).await?;
    let t = ctx.now();
    if !ctx
        .store
        .answer_slip(s.id, Some((&who.actor_name(), t)), None)
        .await?
    {
        return Err(conflict("mediation.slip_received", "转办单已签收"));
    }
    ctx.store
        .append_audit(
            &who.audit(
                "mediation.slip_receipt",
                Some("transfer_slip"),
                Some(s.id.to_string()),
                json!({"late": t > s.receipt_due_at}),
            ),
            t,
        )
        .await?;
    let s = ctx.store.slip(s.id).await?.ok_or_else(missing)?;
    Ok(SlipView::of(&s, t))
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyInput {
    pub reply: String,
}

pub async fn reply(ctx: &Context, who: &Principal, id: &str, b: ReplyInput) -> AppResult<SlipView> {
    let s = slip_for_receiver(ctx, who, id).await?;
    let reply = text("reply", &b.reply, 5000)?;
    let t = ctx.now();
    if !ctx.store.answer_slip(s.id, None, Some((&reply, t))).await? {
        return Err(conflict("mediation.slip_reply", "转办单未签收或已反馈"));
    }
    ctx.store
        .append_audit(
            &who.audit(
                "mediation.slip_reply",
                Some("transfer_slip"),
                Some(s.id.to_string()),
                json!({"late": t > s.reply_due_at}),
            ),
            t,
        )
        .await?;
    let s = ctx.store.slip(s.id).await?.ok_or_else(missing)?;
    Ok(SlipView::of(&s, t))
}

/// The slips sent to a department's staff's department, newest first (their inbox).
pub async fn to_my_department(ctx: &Context, who: &Principal) -> AppResult<Vec<SlipRow>> {
    match who.department().and_then(|d| d.parse::<Uuid>().ok()) {
        Some(d) => Ok(ctx.store.slips_to(None, Some(d)).await?),
        None => Ok(Vec::new()),
    }
}

//! The deadline watch: finds running steps that turned yellow or red since the last look (through
//! index ranges, not a scan of every open event), tells the people concerned, and moves an
//! overdue event held by a level of the tree one level up — once per step, even when several
//! servers scan at the same moment or one restarts. The escalation is a move like any other, made
//! by the system through [`super::moves::commit_at`]: its history entry, its audit record, its
//! notices and the new level's own accept-and-dispatch clock are written in one transaction.

use super::moves::{Along, commit_at};
use crate::context::Context;
use crate::principal::Principal;
use chrono::{DateTime, Utc};
use serde_json::json;
use std::time::Duration;
use wangge_domain::settings::{Channel, Trigger};
use wangge_domain::workflow::{Flow, Move, Recipient, escalates_when_overdue};
use wangge_store::{EventRow, NewNotification, StoreError};

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ScanReport {
    pub yellow: usize,
    pub red: usize,
    pub escalated: usize,
}

const BATCH: i64 = 1000;

fn step_zh(step: &str) -> &'static str {
    match step {
        "accept" => "受理派遣",
        "check_in" => "签收报到",
        "handle" => "处置",
        "verify" => "核查",
        _ => "办理",
    }
}

/// One pass over every step whose light changed by `now`.
pub async fn scan(ctx: &Context, now: DateTime<Utc>) -> Result<ScanReport, StoreError> {
    let mut report = ScanReport::default();
    loop {
        let turning = ctx.store.events_turning(now, BATCH).await?;
        let n = turning.len();
        for e in turning {
            match one(ctx, &e, now).await {
                Ok(Some(outcome)) => {
                    if outcome.red {
                        report.red += 1;
                    } else {
                        report.yellow += 1;
                    }
                    report.escalated += usize::from(outcome.escalated);
                }
                Ok(None) => {}
                Err(err) => {
                    tracing::warn!(event = %e.code, error = %err, "deadline watch skipped an event")
                }
            }
        }
        if (n as i64) < BATCH {
            break;
        }
    }
    Ok(report)
}

struct Outcome {
    red: bool,
    escalated: bool,
}

/// Announces one event's light (and escalates it when it is overdue at a level with one above);
/// `None` when another server announced it first.
async fn one(
    ctx: &Context,
    e: &EventRow,
    now: DateTime<Utc>,
) -> Result<Option<Outcome>, crate::AppError> {
    let red = e.step_due_at.is_some_and(|d| d < now);
    let light = if red { "red" } else { "yellow" };
    let Ok(flow) = super::flow_of(e) else {
        // Unreadable (logged by flow_of): announced as seen, so it is not read again every pass.
        ctx.store.claim_light(e, light).await?;
        return Ok(None);
    };
    let (logged, hooked) = notices(ctx, e, &flow, red);
    let escalated = if red && escalates_when_overdue(&flow) {
        match escalate(ctx, e, &logged, now).await {
            Some(done) => done,
            None => return Ok(None),
        }
    } else {
        false
    };
    if !escalated {
        // Not a move: the claim of the announcement is enough, once per step and light.
        if !ctx.store.claim_light(e, light).await? {
            return Ok(None);
        }
        ctx.store.insert_notifications(&logged).await?;
    }
    for n in &logged {
        tracing::info!(recipient = %n.recipient, kind = %n.kind, event = %e.code, "notification");
    }
    deliver_webhooks(ctx, &e.code, hooked);
    Ok(Some(Outcome { red, escalated }))
}

/// The notices of an event's light, to be logged and to be posted to the webhook. Who hears is
/// the administrator's rules; whether the event moves up is the workflow's.
fn notices(
    ctx: &Context,
    e: &EventRow,
    flow: &Flow,
    red: bool,
) -> (Vec<NewNotification>, Vec<NewNotification>) {
    let light = if red { "red" } else { "yellow" };
    let trigger = if red { Trigger::Red } else { Trigger::Yellow };
    let to = ctx
        .config
        .get()
        .settings
        .recipients(flow, &e.grid_code, trigger);
    let step = e.step.clone().unwrap_or_default();
    let message = if red {
        format!("事件 {} 的“{}”环节已超时", e.code, step_zh(&step))
    } else {
        format!("事件 {} 的“{}”环节即将到期", e.code, step_zh(&step))
    };
    let notice = |r: &Recipient, channel: &str| NewNotification {
        region_code: e.region_code.clone(),
        event_id: Some(e.id),
        recipient: match r {
            Recipient::Department(d) => format!("department:{d}"),
            Recipient::Region(c) => format!("region:{c}"),
        },
        kind: light.into(),
        message: message.clone(),
        channel: channel.into(),
    };
    let by = |channel: Channel, name: &str| {
        to.iter()
            .filter(|(_, channels)| channels.contains(&channel))
            .map(|(r, _)| notice(r, name))
            .collect::<Vec<_>>()
    };
    (by(Channel::Log, "log"), by(Channel::Webhook, "webhook"))
}

/// Moves an overdue event up a level, its notices going in with the move. The move is the
/// claim: of several servers, only the one whose version check passes escalates. `None` when
/// another server did; `Some(false)` when the move failed (announced all the same, so the watch
/// does not try again every pass).
async fn escalate(
    ctx: &Context,
    e: &EventRow,
    logged: &[NewNotification],
    now: DateTime<Utc>,
) -> Option<bool> {
    let along = Along {
        notifications: logged.to_vec(),
        ..Along::default()
    };
    let step = e.step.clone().unwrap_or_default();
    let recorded = json!({"move": "escalate", "reason": "overdue", "step": step});
    let moved = commit_at(
        ctx,
        &Principal::System,
        e,
        e.version,
        &Move::Escalate,
        recorded,
        along,
        now,
    )
    .await;
    match moved {
        Ok(_) => Some(true),
        Err(err) if err.kind == crate::ErrorKind::Stale => None,
        Err(err) => {
            tracing::warn!(event = %e.code, error = %err, "overdue event not escalated");
            Some(false)
        }
    }
}

/// Posts the notices to the webhook in the background: delivery retries on its own time and the
/// scan goes on. Only what was delivered is recorded.
fn deliver_webhooks(ctx: &Context, code: &str, hooked: Vec<NewNotification>) {
    let Some(hook) = ctx.webhook.clone() else {
        return;
    };
    if hooked.is_empty() {
        return;
    }
    let code = code.to_string();
    let store = ctx.store.clone();
    tokio::spawn(async move {
        let mut delivered = Vec::new();
        for n in hooked {
            match hook.deliver(&n, &code).await {
                Ok(()) => delivered.push(n),
                Err(err) => {
                    tracing::warn!(recipient = %n.recipient, error = %err, "webhook delivery failed")
                }
            }
        }
        if let Err(err) = store.insert_notifications(&delivered).await {
            tracing::warn!(error = %err, "cannot record webhook deliveries");
        }
    });
}

impl Context {
    /// Runs the deadline watch every `every` until the process ends.
    pub fn watch_deadlines(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let ctx = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                // Expiry is enforced on every read; this only keeps the table small.
                if let Err(e) = ctx.store.delete_expired_sessions(ctx.now()).await {
                    tracing::warn!(error = %e, "expired-session cleanup failed");
                }
                match scan(&ctx, ctx.now()).await {
                    Ok(r) if r != ScanReport::default() => tracing::info!(
                        yellow = r.yellow,
                        red = r.red,
                        escalated = r.escalated,
                        "deadline scan"
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "deadline scan failed"),
                }
            }
        })
    }
}

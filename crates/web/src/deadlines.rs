//! The deadline watch: finds running steps that turned yellow or red since the last look (through
//! two index ranges, not a scan of every open event), tells the people concerned, and moves an
//! overdue event held by a level of the tree one level up — once per step, and only once even
//! when several servers scan at the same moment or one restarts.

use crate::AppState;
use crate::events::parse_flow;
use chrono::{DateTime, Utc};
use serde_json::json;
use std::time::Duration;
use wangge_domain::access::Role;
use wangge_domain::settings::{Channel, Trigger};
use wangge_domain::workflow::{Actor, Move, Recipient, apply, escalates_when_overdue};
use wangge_store::{NewMove, NewNotification, StoreError};

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ScanReport {
    pub yellow: usize,
    pub red: usize,
    pub escalated: usize,
}

const BATCH: i64 = 1000;

/// One pass over every step whose light changed by `now`.
pub async fn scan(state: &AppState, now: DateTime<Utc>) -> Result<ScanReport, StoreError> {
    let mut report = ScanReport::default();
    loop {
        let turning = state.store.events_turning(now, BATCH).await?;
        let n = turning.len();
        for e in turning {
            let red = e.step_due_at.is_some_and(|d| d < now);
            let light = if red { "red" } else { "yellow" };
            // Another server may have announced it already: only the claimant goes on.
            if !state.store.claim_light(&e, light).await? {
                continue;
            }
            let Ok(flow) = parse_flow(&e.flow) else {
                continue;
            };
            // Who hears is the administrator's rules; whether the event moves up is the workflow's.
            let trigger = if red { Trigger::Red } else { Trigger::Yellow };
            let to = state
                .config
                .get()
                .settings
                .recipients(&flow, &e.grid_code, trigger);
            let escalate = red && escalates_when_overdue(&flow);
            let step = e.step.clone().unwrap_or_default();
            let message = if red {
                format!("事件 {} 的“{step}”环节已超时", e.code)
            } else {
                format!("事件 {} 的“{step}”环节即将到期", e.code)
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
            let batch: Vec<NewNotification> = to
                .iter()
                .filter(|(_, channels)| channels.contains(&Channel::Log))
                .map(|(r, _)| notice(r, "log"))
                .collect();
            let sent: Vec<NewNotification> = to
                .iter()
                .filter(|(_, channels)| channels.contains(&Channel::Webhook))
                .map(|(r, _)| notice(r, "webhook"))
                .collect();
            for n in &batch {
                tracing::info!(recipient = %n.recipient, kind = %n.kind, event = %e.code, "notification");
            }
            state.store.insert_notifications(&batch).await?;
            if let Some(hook) = state.webhook.clone()
                && !sent.is_empty()
            {
                let code = e.code.clone();
                // Delivery retries on its own time; the scan goes on.
                let store = state.store.clone();
                tokio::spawn(async move {
                    let mut delivered = Vec::new();
                    for n in sent {
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
            if red {
                report.red += 1;
            } else {
                report.yellow += 1;
            }
            if escalate {
                let system = Actor::new(Role::CommandCentre);
                if let Ok(next_flow) = apply(&flow, &system, &Move::Escalate) {
                    let mut next = e.clone();
                    next.flow = serde_json::to_string(&next_flow).unwrap_or_default();
                    next.version = next_flow.version;
                    next.updated_at = now;
                    next.light_notified = light.into();
                    let m = NewMove {
                        move_name: "escalate".into(),
                        body: json!({"reason": "overdue", "step": step}).to_string(),
                        from_state: e.state.clone(),
                        to_state: e.state.clone(),
                        actor: "system".into(),
                        actor_role: "system".into(),
                        department: None,
                        ip: None,
                    };
                    if state.store.apply_event_move(&next, e.version, &m).await? {
                        report.escalated += 1;
                    }
                }
            }
        }
        if (n as i64) < BATCH {
            break;
        }
    }
    Ok(report)
}

impl AppState {
    /// Runs the deadline watch every `every` until the process ends.
    pub fn watch_deadlines(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let state = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                // Expiry is enforced on every read; this only keeps the table small.
                if let Err(e) = state.store.delete_expired_sessions(Utc::now()).await {
                    tracing::warn!(error = %e, "expired-session cleanup failed");
                }
                match scan(&state, Utc::now()).await {
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

//! The audit trail for the audit administrator: a search of the records, newest first. Checking
//! the chain is the operator's (`wangge audit verify`), with the key file and the anchors.

use crate::context::Context;
use crate::error::AppResult;
use crate::limits;
use crate::principal::Principal;
use serde::{Deserialize, Serialize};
use wangge_domain::access::Permission;
use wangge_store::{AuditAnchor, AuditCheck, AuditQuery, AuditRow};

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub record_type: Option<String>,
    pub record_id: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub limit: Option<i64>,
}

/// One record of the audit trail.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    /// The username, `cli`, `system` or `public`.
    pub actor: String,
    pub actor_role: Option<String>,
    pub ip: Option<String>,
    pub action: String,
    pub record_type: Option<String>,
    pub record_id: Option<String>,
    /// What happened, as JSON text (personal identifiers masked).
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl From<AuditRow> for AuditRecord {
    fn from(r: AuditRow) -> Self {
        AuditRecord {
            seq: r.seq,
            at: r.at,
            actor: r.actor,
            actor_role: r.actor_role,
            ip: r.ip,
            action: r.action,
            record_type: r.record_type,
            record_id: r.record_id,
            detail: r.detail,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditRecords {
    pub records: Vec<AuditRecord>,
}

pub async fn search(ctx: &Context, who: &Principal, f: &AuditFilter) -> AppResult<AuditRecords> {
    who.require(Permission::ReadAudit)?;
    let now = ctx.now();
    let text = |field: &str, v: &Option<String>| limits::optional_text(field, v.as_deref(), 200);
    let time = |field: &str, v: &Option<String>| {
        v.as_deref()
            .filter(|s| !s.is_empty())
            .map(|raw| {
                limits::time_param(field, raw, now).map_err(|e| crate::AppError {
                    code: "audit.bad_time",
                    ..e
                })
            })
            .transpose()
    };
    let query = AuditQuery {
        actor: text("actor", &f.actor)?,
        action: text("action", &f.action)?,
        record_type: text("record_type", &f.record_type)?,
        record_id: text("record_id", &f.record_id)?,
        from: time("from", &f.from)?,
        to: time("to", &f.to)?,
        limit: limits::int_in("limit", f.limit.unwrap_or(100), 1..=1000)?,
    };
    Ok(AuditRecords {
        records: ctx
            .store
            .search_audit(&query)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    })
}

/// The whole chain checked with the key and every anchor found in `anchors_dir` (the operator's
/// command on the server).
pub async fn verify(
    ctx: &Context,
    who: &Principal,
    anchors_dir: &std::path::Path,
) -> AppResult<AuditCheck> {
    who.require(Permission::ReadAudit)?;
    let anchors = AuditAnchor::read_all(anchors_dir);
    let key = ctx.keys.audit_key();
    Ok(ctx.store.verify_audit(Some(&key), &anchors).await?)
}

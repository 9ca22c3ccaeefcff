//! The audit trail (审计日志): append-only records chained with SM3, so any record changed,
//! removed or inserted behind the application's back is found by [`Store::verify_audit`].
//!
//! Appends serialise on the single `audit_head` row: the first statement of an append updates it,
//! which takes the write lock on SQLite and a row lock on PostgreSQL, so concurrent writers (and
//! several servers) extend one unbroken chain. Nothing in the product deletes audit records.

use crate::{StoreError, on_db};
use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::{FromRow, QueryBuilder};

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened. Personal identifiers in `detail` must already be masked.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub actor: String,
    pub actor_role: Option<String>,
    pub ip: Option<String>,
    pub action: String,
    pub record_type: Option<String>,
    pub record_id: Option<String>,
    pub detail: Value,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct AuditRow {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub actor_role: Option<String>,
    pub ip: Option<String>,
    pub action: String,
    pub record_type: Option<String>,
    pub record_id: Option<String>,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRow {
    /// The record numbered `seq` that follows the one hashed `prev_hash`, with its own hash.
    pub(crate) fn chained(
        e: &AuditEntry,
        seq: i64,
        at: DateTime<Utc>,
        prev_hash: String,
    ) -> AuditRow {
        let mut row = AuditRow {
            seq,
            at,
            actor: e.actor.clone(),
            actor_role: e.actor_role.clone(),
            ip: e.ip.clone(),
            action: e.action.clone(),
            record_type: e.record_type.clone(),
            record_id: e.record_id.clone(),
            detail: e.detail.to_string(),
            prev_hash,
            hash: String::new(),
        };
        row.hash = row.expected_hash();
        row
    }

    /// The SM3 hash of a record: its fields in a fixed order, as a JSON array ending with the
    /// previous record's hash.
    fn expected_hash(&self) -> String {
        let canonical = serde_json::json!([
            self.seq,
            self.at.to_rfc3339_opts(SecondsFormat::Micros, true),
            self.actor,
            self.actor_role,
            self.ip,
            self.action,
            self.record_type,
            self.record_id,
            self.detail,
            self.prev_hash
        ])
        .to_string();
        wangge_security::crypto::sm3_hex(canonical.as_bytes())
    }
}

/// The result of checking the chain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditCheck {
    pub records: i64,
    /// The first record found wrong and why; `None` when the chain is whole.
    pub problem: Option<(i64, String)>,
}

/// Filters for the audit administrator's search.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub record_type: Option<String>,
    pub record_id: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub limit: i64,
}

const AUDIT_COLUMNS: &str = "SELECT seq, at, actor, actor_role, ip, action, record_type, record_id, detail, prev_hash, hash FROM audit_log";

impl crate::Store {
    /// Appends one record to the chain and returns its sequence number.
    pub async fn append_audit(
        &self,
        e: &AuditEntry,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        // PostgreSQL keeps (and rounds to) microseconds: hash exactly what it will store.
        let now = now.trunc_subsecs(6);
        let seq = on_db!(self, |pool| {
            let mut tx = pool.begin().await?;
            let (seq, prev): (i64, String) = sqlx::query_as(
                "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash",
            )
            .fetch_one(&mut *tx)
            .await?;
            let row = AuditRow::chained(e, seq, now, prev);
            insert_audit_rows!(tx, std::slice::from_ref(&row))?;
            let hash = row.hash;
            sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
                .bind(&hash)
                .execute(&mut *tx)
                .await?;
            tx.commit().await.map(|_| seq)
        })?;
        Ok(seq)
    }

    /// Walks the whole chain: numbering without gaps, each record's link to the one before, each
    /// record's own hash, and the head matching the last record.
    pub async fn verify_audit(&self) -> Result<AuditCheck, StoreError> {
        const PAGE: i64 = 5000;
        let mut expected_seq = 1i64;
        let mut prev = GENESIS_HASH.to_string();
        loop {
            let rows: Vec<AuditRow> = on_db!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(
                format!("{AUDIT_COLUMNS} WHERE seq >= $1 ORDER BY seq LIMIT {PAGE}")
            ))
            .bind(expected_seq)
            .fetch_all(p)
            .await)?;
            let n = rows.len() as i64;
            for r in rows {
                if r.seq != expected_seq {
                    return Ok(AuditCheck {
                        records: expected_seq - 1,
                        problem: Some((
                            expected_seq,
                            format!(
                                "记录 {expected_seq} 缺失（下一条是 {}）：有记录被删除",
                                r.seq
                            ),
                        )),
                    });
                }
                if r.prev_hash != prev {
                    return Ok(AuditCheck {
                        records: expected_seq - 1,
                        problem: Some((
                            r.seq,
                            format!(
                                "记录 {} 的前序哈希与上一条不符：有记录被插入、删除或改动",
                                r.seq
                            ),
                        )),
                    });
                }
                if r.expected_hash() != r.hash {
                    return Ok(AuditCheck {
                        records: expected_seq - 1,
                        problem: Some((
                            r.seq,
                            format!("记录 {} 的内容与其哈希不符：记录被改动", r.seq),
                        )),
                    });
                }
                prev = r.hash;
                expected_seq += 1;
            }
            if n < PAGE {
                break;
            }
        }
        let records = expected_seq - 1;
        let (head_seq, head_hash): (i64, String) = on_db!(self, |p| sqlx::query_as(
            "SELECT seq, hash FROM audit_head WHERE id = 1"
        )
        .fetch_one(p)
        .await)?;
        if head_seq != records || head_hash != prev {
            return Ok(AuditCheck {
                records,
                problem: Some((
                    records + 1,
                    format!(
                        "链头记录为第 {head_seq} 条，但只找到 {records} 条完整记录：末尾有记录被删除或链头被改动"
                    ),
                )),
            });
        }
        Ok(AuditCheck {
            records,
            problem: None,
        })
    }

    /// The audit administrator's search, newest first.
    pub async fn search_audit(&self, q: &AuditQuery) -> Result<Vec<AuditRow>, StoreError> {
        let limit = q.limit.clamp(1, 1000);
        Ok(on_db!(self, |p| {
            let mut b = QueryBuilder::new(AUDIT_COLUMNS);
            b.push(" WHERE 1 = 1");
            if let Some(v) = &q.actor {
                b.push(" AND actor = ").push_bind(v.clone());
            }
            if let Some(v) = &q.action {
                b.push(" AND action = ").push_bind(v.clone());
            }
            if let Some(v) = &q.record_type {
                b.push(" AND record_type = ").push_bind(v.clone());
            }
            if let Some(v) = &q.record_id {
                b.push(" AND record_id = ").push_bind(v.clone());
            }
            if let Some(v) = q.from {
                b.push(" AND at >= ").push_bind(v);
            }
            if let Some(v) = q.to {
                b.push(" AND at < ").push_bind(v);
            }
            b.push(" ORDER BY seq DESC LIMIT ").push_bind(limit);
            b.build_query_as::<AuditRow>().fetch_all(p).await
        })?)
    }
}

/// A multi-row INSERT of audit records (`&[AuditRow]`); a macro so each backend's arm of
/// [`on_db!`] binds its own types.
macro_rules! insert_audit_rows {
    ($tx:expr, $rows:expr) => {{
        let mut q = sqlx::QueryBuilder::new(
            "INSERT INTO audit_log (seq, at, actor, actor_role, ip, action, record_type, record_id, detail, prev_hash, hash) ",
        );
        q.push_values($rows.iter(), |mut b, r| {
            b.push_bind(r.seq)
                .push_bind(r.at)
                .push_bind(r.actor.clone())
                .push_bind(r.actor_role.clone())
                .push_bind(r.ip.clone())
                .push_bind(r.action.clone())
                .push_bind(r.record_type.clone())
                .push_bind(r.record_id.clone())
                .push_bind(r.detail.clone())
                .push_bind(r.prev_hash.clone())
                .push_bind(r.hash.clone());
        });
        q.build().execute(&mut *$tx).await
    }};
}
pub(crate) use insert_audit_rows;

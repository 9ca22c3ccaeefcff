//! The audit trail (审计日志): append-only records chained by their hashes, so any record
//! changed, removed or inserted behind the application's back is found by
//! [`Store::verify_audit`].
//!
//! Records are sealed with HMAC-SM3 under a key from the key file (never the database), so
//! someone who can write the database cannot recompute the chain after rewriting it; records
//! written before the key was first used stay checked as plain SM3 (the first keyed number is
//! kept in `meta` and in every anchor). Each server also keeps an anchor outside the database —
//! the head's number and hash, rewritten after every committed batch — so a cut tail (the last
//! records deleted and the head reset to match) is found too.
//!
//! Appends serialise on the single `audit_head` row: the first statement of an append updates it,
//! which takes the write lock on SQLite and a row lock on PostgreSQL, so concurrent writers (and
//! several servers) extend one unbroken chain. Nothing in the product deletes audit records.

use crate::{StoreError, on_db};
use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{FromRow, QueryBuilder};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

mod verify;

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// The mark of a keyed record's hash.
pub const KEYED_PREFIX: &str = "hmac-sm3:";
const KEYED_FROM: &str = "audit_keyed_from";
const DATABASE_ID: &str = "database_id";

/// How this store seals new audit records, and where this server keeps its anchor.
pub struct AuditSeal {
    key: [u8; 32],
    anchor: Option<PathBuf>,
    keyed_from: i64,
    /// Which database the chain is in (anchors of another one are not this chain's).
    database: String,
    /// The highest number anchored so far: commits finish in any order, anchors only move on.
    anchored: Mutex<i64>,
}

impl std::fmt::Debug for AuditSeal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("AuditSeal")
            .field("anchor", &self.anchor)
            .field("keyed_from", &self.keyed_from)
            .finish()
    }
}

/// What an anchor file holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditAnchor {
    pub seq: i64,
    pub hash: String,
    pub keyed_from: i64,
    /// The database the chain is in (`meta.database_id`).
    pub database: String,
}

impl AuditAnchor {
    /// Every anchor file (`audit-anchor-*.json`) in a directory, by file name. A file that does
    /// not read is reported as such rather than skipped.
    pub fn read_all(dir: &Path) -> Vec<(String, Result<AuditAnchor, String>)> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut out: Vec<(String, Result<AuditAnchor, String>)> = entries
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("audit-anchor-") && n.ends_with(".json"))
            .map(|n| {
                let read = std::fs::read_to_string(dir.join(&n))
                    .map_err(|e| e.to_string())
                    .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()));
                (n, read)
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

/// The anchor file a server named `server` keeps in `dir`.
pub fn anchor_path(dir: &Path, server: &str) -> PathBuf {
    let safe: String = server
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    dir.join(format!("audit-anchor-{safe}.json"))
}

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
        key: Option<&[u8; 32]>,
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
        row.hash = match key {
            Some(k) => row.keyed_hash(k),
            None => row.expected_hash(),
        };
        row
    }

    /// The HMAC-SM3 of a record's canonical form under the audit key, marked as keyed.
    fn keyed_hash(&self, key: &[u8; 32]) -> String {
        let mac = wangge_security::crypto::hmac_sm3(key, self.canonical().as_bytes());
        format!("{KEYED_PREFIX}{}", wangge_security::crypto::hex(&mac))
    }

    /// The SM3 hash of a record: its fields in a fixed order, as a JSON array ending with the
    /// previous record's hash.
    pub(crate) fn expected_hash(&self) -> String {
        wangge_security::crypto::sm3_hex(self.canonical().as_bytes())
    }

    fn canonical(&self) -> String {
        serde_json::json!([
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
        .to_string()
    }
}

/// The result of checking the chain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditCheck {
    pub records: i64,
    /// The first record found wrong and why; `None` when the chain is whole.
    pub problem: Option<(i64, String)>,
    /// The anchors compared with the chain (each server's file).
    pub anchors: usize,
    /// Anchors found for another database (a copy, a rebuilt demo), left out of the check.
    pub foreign_anchors: usize,
    /// Records sealed with the key (the rest are older, plain SM3).
    pub keyed: i64,
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
            let row = AuditRow::chained(e, seq, now, prev, self.audit_key());
            insert_audit_rows!(tx, std::slice::from_ref(&row))?;
            let hash = row.hash;
            sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
                .bind(&hash)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            self.anchor_audit(seq, &hash);
            Ok::<i64, sqlx::Error>(seq)
        })?;
        Ok(seq)
    }

    /// Seals new audit records with `key` from now on (records before stay plain SM3) and keeps
    /// this server's anchor at `anchor`. Returns the first keyed number. The first server to seal
    /// a database fixes that number for good.
    pub async fn seal_audit(
        &self,
        key: [u8; 32],
        anchor: Option<PathBuf>,
    ) -> Result<i64, StoreError> {
        let (head,): (i64,) = on_db!(self, |p| sqlx::query_as(
            "SELECT seq FROM audit_head WHERE id = 1"
        )
        .fetch_one(p)
        .await)?;
        let keyed_from = self
            .init_meta(KEYED_FROM, &(head + 1).to_string())
            .await?
            .parse()
            .map_err(|_| StoreError::corrupt("meta audit_keyed_from is not a number"))?;
        let database = self
            .init_meta(DATABASE_ID, &uuid::Uuid::now_v7().to_string())
            .await?;
        let _ = self.seal.set(AuditSeal {
            key,
            anchor,
            keyed_from,
            database,
            anchored: Mutex::new(0),
        });
        Ok(keyed_from)
    }

    pub(crate) fn audit_key(&self) -> Option<&[u8; 32]> {
        self.seal.get().map(|s| &s.key)
    }

    /// Rewrites this server's anchor after a commit that extended the chain to `seq`. A failure
    /// is logged, never an error: the records are committed and the next commit tries again.
    pub(crate) fn anchor_audit(&self, seq: i64, hash: &str) {
        let Some(seal) = self.seal.get() else { return };
        let Some(path) = &seal.anchor else { return };
        let mut anchored = seal.anchored.lock().unwrap_or_else(|p| p.into_inner());
        if seq <= *anchored {
            return;
        }
        let anchor = AuditAnchor {
            seq,
            hash: hash.to_string(),
            keyed_from: seal.keyed_from,
            database: seal.database.clone(),
        };
        // A temporary file of this process's own, renamed over the anchor: two processes never
        // write into each other's. Not synced, as SQLite's own commits are not (synchronous =
        // NORMAL, for intake's speed): after a power cut (not a crash of the process) the anchor
        // may be behind or ahead of what the database kept, and verify reports it; a torn anchor
        // is reported as unreadable.
        let tmp = path.with_extension(format!(
            "{}.{}.tmp",
            std::process::id(),
            uuid::Uuid::now_v7().simple()
        ));
        let written = serde_json::to_vec(&anchor)
            .map_err(std::io::Error::other)
            .and_then(|bytes| std::fs::write(&tmp, bytes))
            .and_then(|()| std::fs::rename(&tmp, path));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        match written {
            Ok(()) => *anchored = seq,
            Err(e) => {
                tracing::warn!(error = %e, path = %path.display(), "cannot write the audit anchor")
            }
        }
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

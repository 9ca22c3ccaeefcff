//! Checking the audit chain against itself, its head and the anchors kept outside the database.
//! Kept apart from the appends because it trusts nothing it reads: each way a rewrite could show
//! is a check of its own here, and the first one that fails is what the audit administrator is
//! told, with the record it concerns.

use super::{
    AUDIT_COLUMNS, AuditAnchor, AuditCheck, AuditRow, DATABASE_ID, GENESIS_HASH, KEYED_FROM,
    KEYED_PREFIX,
};
use crate::{StoreError, on_db};
use std::collections::HashMap;

/// Records read at a time: the chain of a busy year does not fit in memory at once.
const PAGE: i64 = 5000;

/// What is wrong, and the number of the record it concerns.
type Problem = (i64, String);

/// The anchors given to a check, sorted out against this database.
struct Anchors {
    /// This database's anchors by the number they name: (file name, hash). Each is taken out as
    /// the walk passes its record, so the ones left over name records beyond the chain.
    wanted: HashMap<i64, (String, String)>,
    /// The first file that does not read: reported only after the chain itself is checked.
    unreadable: Option<(String, String)>,
    ours: usize,
    foreign: usize,
    /// The first of ours that dates the keyed records from another number, and that number.
    boundary: Option<(String, i64)>,
}

impl Anchors {
    fn sort(
        anchors: &[(String, Result<AuditAnchor, String>)],
        database: Option<&str>,
        keyed_from: i64,
    ) -> Anchors {
        let mut sorted = Anchors {
            wanted: HashMap::new(),
            unreadable: None,
            ours: 0,
            foreign: 0,
            boundary: None,
        };
        for (name, a) in anchors {
            match a {
                Err(why) => {
                    sorted
                        .unreadable
                        .get_or_insert_with(|| (name.clone(), why.clone()));
                }
                Ok(a) if Some(a.database.as_str()) != database => sorted.foreign += 1,
                Ok(a) => {
                    sorted.ours += 1;
                    if a.keyed_from != keyed_from {
                        sorted
                            .boundary
                            .get_or_insert_with(|| (name.clone(), a.keyed_from));
                    }
                    sorted.wanted.insert(a.seq, (name.clone(), a.hash.clone()));
                }
            }
        }
        sorted
    }

    /// What the anchors alone show, before any record is read: that they disown this database,
    /// or that the start of the keyed records was moved.
    fn disowned(&self, keyed_from: i64) -> Option<Problem> {
        // Anchors that are all another database's: either this data directory serves another
        // database, or this database's identity was changed to disown them.
        if self.ours == 0 && self.foreign > 0 {
            let foreign = self.foreign;
            return Some((
                0,
                format!(
                    "数据目录中的 {foreign} 个锚点文件都不属于这个数据库：数据库标识可能被改动，或数据目录与数据库不对应"
                ),
            ));
        }
        let (name, theirs) = self.boundary.as_ref()?;
        Some((
            (*theirs).min(keyed_from),
            format!(
                "锚点文件 {name} 记载密钥签名自第 {theirs} 条开始，数据库记载第 {keyed_from} 条：链的起点被改动"
            ),
        ))
    }

    /// What the end of a sound chain of `records` records, the last hashed `last`, shows against
    /// the head row and the anchors: a cut tail, then an anchor that did not read.
    fn tail_problem(
        &self,
        records: i64,
        last: &str,
        (head_seq, head_hash): (i64, String),
    ) -> Option<Problem> {
        if head_seq != records || head_hash != last {
            return Some((
                records + 1,
                format!(
                    "链头记录为第 {head_seq} 条，但只找到 {records} 条完整记录：末尾有记录被删除或链头被改动"
                ),
            ));
        }
        // An anchor beyond the chain: its tail was cut, and the head reset to hide it.
        if let Some((seq, (name, _))) = self.wanted.iter().min_by_key(|(s, _)| **s) {
            return Some((
                *seq,
                format!(
                    "锚点文件 {name} 记载链已到第 {seq} 条，数据库只有 {records} 条：末尾有记录被删除"
                ),
            ));
        }
        let (name, why) = self.unreadable.as_ref()?;
        Some((records, format!("锚点文件 {name} 无法读取：{why}")))
    }
}

/// How far the walk along the chain has come.
struct Walk {
    /// The number the next record must have.
    next: i64,
    /// The hash the next record must link to.
    prev: String,
    /// Records found sealed with the key so far.
    keyed: i64,
}

impl Walk {
    /// Checks the next record and moves past it, or says what is wrong with it (and stays).
    fn step(
        &mut self,
        r: AuditRow,
        key: Option<&[u8; 32]>,
        keyed_from: i64,
        wanted: &mut HashMap<i64, (String, String)>,
    ) -> Option<Problem> {
        let expected_seq = self.next;
        if r.seq != expected_seq {
            return Some((
                expected_seq,
                format!(
                    "记录 {expected_seq} 缺失（下一条是 {}）：有记录被删除",
                    r.seq
                ),
            ));
        }
        if r.prev_hash != self.prev {
            return Some((
                r.seq,
                format!(
                    "记录 {} 的前序哈希与上一条不符：有记录被插入、删除或改动",
                    r.seq
                ),
            ));
        }
        if let Some(why) = seal_problem(&r, key, keyed_from) {
            return Some((r.seq, why));
        }
        if r.hash.starts_with(KEYED_PREFIX) {
            self.keyed += 1;
        }
        if let Some((name, hash)) = wanted.remove(&r.seq)
            && hash != r.hash
        {
            return Some((
                r.seq,
                format!("记录 {} 与锚点文件 {name} 不符：链被改动", r.seq),
            ));
        }
        self.prev = r.hash;
        self.next += 1;
        None
    }
}

/// Why a record's own hash does not hold, if it does not. From the first keyed number on a plain
/// hash is itself the sign of a rewrite: whoever rewrote the chain had no key.
fn seal_problem(r: &AuditRow, key: Option<&[u8; 32]>, keyed_from: i64) -> Option<String> {
    let sound = match (r.hash.strip_prefix(KEYED_PREFIX), key) {
        (Some(_), Some(k)) => r.keyed_hash(k) == r.hash,
        (Some(_), None) => {
            return Some(format!("记录 {} 带密钥签名，需要密钥文件才能校验", r.seq));
        }
        (None, _) if r.seq >= keyed_from => {
            return Some(format!(
                "记录 {} 应带密钥签名却只有普通哈希：链被重写",
                r.seq
            ));
        }
        (None, _) => r.expected_hash() == r.hash,
    };
    (!sound).then(|| format!("记录 {} 的内容与其签名不符：记录被改动", r.seq))
}

/// A check that stopped at `problem`, after `records` sound records (`keyed` of them keyed).
fn failed(records: i64, problem: Problem, keyed: i64) -> AuditCheck {
    AuditCheck {
        records,
        problem: Some(problem),
        anchors: 0,
        foreign_anchors: 0,
        keyed,
    }
}

impl crate::Store {
    /// Walks the whole chain: numbering without gaps, each record's link to the one before, each
    /// record's own hash (keyed from the first keyed number on: `key` is needed to check those),
    /// the head matching the last record, and every anchor matching the record it names.
    pub async fn verify_audit(
        &self,
        key: Option<&[u8; 32]>,
        anchors: &[(String, Result<AuditAnchor, String>)],
    ) -> Result<AuditCheck, StoreError> {
        let keyed_from: i64 = match self.meta(KEYED_FROM).await? {
            Some(v) => v
                .parse()
                .map_err(|_| StoreError::corrupt("meta audit_keyed_from is not a number"))?,
            None => i64::MAX,
        };
        let database = self.meta(DATABASE_ID).await?;
        let mut anchors = Anchors::sort(anchors, database.as_deref(), keyed_from);
        if let Some(problem) = anchors.disowned(keyed_from) {
            return Ok(failed(0, problem, 0));
        }
        let mut walk = Walk {
            next: 1,
            prev: GENESIS_HASH.to_string(),
            keyed: 0,
        };
        loop {
            let rows: Vec<AuditRow> = on_db!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(
                format!("{AUDIT_COLUMNS} WHERE seq >= $1 ORDER BY seq LIMIT {PAGE}")
            ))
            .bind(walk.next)
            .fetch_all(p)
            .await)?;
            let n = rows.len() as i64;
            for r in rows {
                if let Some(problem) = walk.step(r, key, keyed_from, &mut anchors.wanted) {
                    return Ok(failed(walk.next - 1, problem, walk.keyed));
                }
            }
            if n < PAGE {
                break;
            }
        }
        let records = walk.next - 1;
        let head: (i64, String) = on_db!(self, |p| sqlx::query_as(
            "SELECT seq, hash FROM audit_head WHERE id = 1"
        )
        .fetch_one(p)
        .await)?;
        if let Some(problem) = anchors.tail_problem(records, &walk.prev, head) {
            return Ok(failed(records, problem, walk.keyed));
        }
        Ok(AuditCheck {
            records,
            problem: None,
            anchors: anchors.ours,
            foreign_anchors: anchors.foreign,
            keyed: walk.keyed,
        })
    }
}

//! The event writer: one task that takes new reports and workflow moves from every request and
//! commits them in groups (group commit), each group in one transaction with its daily sequence
//! numbers and its audit records.
//!
//! Why: a report is several writes (its number, the event, its first history entry, the audit
//! record). Written one transaction each, every request queues for SQLite's single writer and pays
//! a commit of its own; under load the queue, not the work, sets the pace. Here whatever arrived
//! while the last group was committing goes into the next one, so one commit serves many requests
//! and the sequence and audit-chain rows are taken once per group, not once per request.
//!
//! Nothing is acknowledged before its group has committed. When a group fails as a whole (a
//! database error, or another server inserting the same idempotency key at the same moment), each
//! of its jobs is retried alone, so one bad job never takes others with it.

use crate::audit::{AuditEntry, AuditRow};
use crate::events::{EVENT_COLUMNS, EventRow, NewMove};
use crate::{Store, StoreError, on_db};
use chrono::{DateTime, SubsecRound, Utc};
use std::collections::{BTreeMap, HashMap};
use tokio::sync::{broadcast, mpsc, oneshot};

/// The most jobs one transaction takes: enough to amortise a commit, small enough that a group
/// never holds the database for long.
const GROUP: usize = 256;

/// A new event to number and store. `event.code` holds the county prefix and the day
/// (`640202` + `20261127`); the writer appends the day's next six-digit number.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub event: EventRow,
    pub first: NewMove,
    pub audit: AuditEntry,
}

/// A workflow move: the event's next state, written only if its version is still
/// `expected_version`, with its history entry and audit record.
#[derive(Debug, Clone)]
pub struct NewEventMove {
    pub next: EventRow,
    pub expected_version: i64,
    pub record: NewMove,
    pub audit: AuditEntry,
}

/// What became of a report.
#[derive(Debug, Clone)]
pub enum Reported {
    /// Stored under its new code.
    Created(EventRow),
    /// Its idempotency key was used before: the first event, unchanged.
    Existing(EventRow),
}

enum Job {
    Report(NewReport, oneshot::Sender<Result<Reported, StoreError>>),
    Move(NewEventMove, oneshot::Sender<Result<bool, StoreError>>),
}

/// The handle requests hold; cheap to clone. The task ends when the last handle is dropped.
#[derive(Clone, Debug)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
    changes: broadcast::Sender<()>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Job::Report(..) => "Report",
            Job::Move(..) => "Move",
        })
    }
}

fn gone() -> StoreError {
    StoreError::Conflict("写入任务已停止".into())
}

impl Writer {
    /// Starts the writer task on the current Tokio runtime.
    pub fn start(store: Store) -> Writer {
        let (jobs, rx) = mpsc::channel(GROUP * 8);
        let (changes, _) = broadcast::channel(16);
        tokio::spawn(run(store, rx, changes.clone()));
        Writer { jobs, changes }
    }

    /// A signal after every committed group: live views (the command centre) refresh on it.
    pub fn subscribe(&self) -> broadcast::Receiver<()> {
        self.changes.subscribe()
    }

    /// Numbers and stores a new event, or returns the first one stored under its idempotency key.
    pub async fn report(&self, r: NewReport) -> Result<Reported, StoreError> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Job::Report(r, tx))
            .await
            .map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }

    /// Writes a move; `Ok(false)` when someone else moved the event first (nothing written).
    pub async fn apply_move(&self, m: NewEventMove) -> Result<bool, StoreError> {
        let (tx, rx) = oneshot::channel();
        self.jobs.send(Job::Move(m, tx)).await.map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }
}

async fn run(store: Store, mut rx: mpsc::Receiver<Job>, changes: broadcast::Sender<()>) {
    let mut group = Vec::with_capacity(GROUP);
    while rx.recv_many(&mut group, GROUP).await > 0 {
        let jobs: Vec<Job> = std::mem::take(&mut group);
        let payloads: Vec<Payload> = jobs.iter().map(Payload::of).collect();
        match commit(&store, &payloads).await {
            Ok(outcomes) => {
                for (job, outcome) in jobs.into_iter().zip(outcomes) {
                    job.answer(Ok(outcome));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, jobs = jobs.len(), "group commit failed; retrying each job alone");
                for (job, payload) in jobs.into_iter().zip(payloads) {
                    let one = commit(&store, std::slice::from_ref(&payload)).await;
                    let one = match (one, &payload) {
                        (Ok(mut o), _) => Ok(o.remove(0)),
                        // Another server stored the same key first: answer with its event.
                        (
                            Err(StoreError::Database(sqlx::Error::Database(d))),
                            Payload::Report(r),
                        ) if d.is_unique_violation() => match r.event.idempotency_key.as_deref() {
                            Some(key) => match store.event_by_idempotency(key).await {
                                Ok(Some(first)) => {
                                    Ok(Outcome::Reported(Box::new(Reported::Existing(first))))
                                }
                                Ok(None) => Err(StoreError::Conflict("事件冲突，请重试".into())),
                                Err(e) => Err(e),
                            },
                            None => Err(StoreError::Conflict("事件编号冲突，请重试".into())),
                        },
                        (Err(e), _) => Err(e),
                    };
                    job.answer(one);
                }
            }
        }
        // After the commit; nobody listening is fine: the signal is only a hint to refresh.
        let _ = changes.send(());
    }
}

/// A job's data without its reply channel, so a failed group can be retried job by job.
#[derive(Clone)]
enum Payload {
    Report(NewReport),
    Move(NewEventMove),
}

impl Payload {
    fn of(job: &Job) -> Payload {
        match job {
            Job::Report(r, _) => Payload::Report(r.clone()),
            Job::Move(m, _) => Payload::Move(m.clone()),
        }
    }
}

enum Outcome {
    Reported(Box<Reported>),
    Moved(bool),
}

impl Job {
    fn answer(self, outcome: Result<Outcome, StoreError>) {
        // A request that gave up waiting has dropped its receiver; its write stands regardless.
        match (self, outcome) {
            (Job::Report(_, tx), Ok(Outcome::Reported(r))) => drop(tx.send(Ok(*r))),
            (Job::Move(_, tx), Ok(Outcome::Moved(m))) => drop(tx.send(Ok(m))),
            (Job::Report(_, tx), Err(e)) => drop(tx.send(Err(e))),
            (Job::Move(_, tx), Err(e)) => drop(tx.send(Err(e))),
            (Job::Report(..), Ok(Outcome::Moved(_)))
            | (Job::Move(..), Ok(Outcome::Reported(_))) => {
                unreachable!("outcomes follow their jobs")
            }
        }
    }
}

/// Writes one group in one transaction and says what became of each job, in order. The number of
/// statements grows with the number of counties, days and moves in the group, not with the number
/// of reports: reports, history entries and audit records each go in one multi-row INSERT.
async fn commit(store: &Store, payloads: &[Payload]) -> Result<Vec<Outcome>, StoreError> {
    // PostgreSQL keeps (and rounds to) microseconds: hash exactly what it will store.
    let now: DateTime<Utc> = Utc::now().trunc_subsecs(6);
    let keys: Vec<&str> = payloads
        .iter()
        .filter_map(|p| match p {
            Payload::Report(r) => r.event.idempotency_key.as_deref(),
            Payload::Move(_) => None,
        })
        .collect();
    on_db!(store, |pool| {
        let mut tx = pool.begin().await?;
        // Idempotency: a key stored before, or used twice within this group, answers with the
        // first event and takes no number.
        let mut before: HashMap<String, EventRow> = HashMap::new();
        if !keys.is_empty() {
            let mut q =
                sqlx::QueryBuilder::new(format!("{EVENT_COLUMNS} WHERE idempotency_key IN ("));
            let mut list = q.separated(", ");
            for k in &keys {
                list.push_bind(*k);
            }
            q.push(")");
            let found: Vec<EventRow> = q.build_query_as().fetch_all(&mut *tx).await?;
            for e in found {
                if let Some(k) = e.idempotency_key.clone() {
                    before.insert(k, e);
                }
            }
        }
        // New events first, then the events as moved.
        let mut written: Vec<EventRow> = Vec::new();
        let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(payloads.len());
        let mut blocks: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
        let mut fresh: Vec<(usize, EventRow)> = Vec::new();
        let mut in_group: HashMap<&str, usize> = HashMap::new();
        for (i, p) in payloads.iter().enumerate() {
            outcomes.push(None);
            let Payload::Report(r) = p else { continue };
            if let Some(key) = r.event.idempotency_key.as_deref() {
                if let Some(first) = before.get(key) {
                    outcomes[i] = Some(Outcome::Reported(Box::new(Reported::Existing(
                        first.clone(),
                    ))));
                    continue;
                }
                if in_group.contains_key(key) {
                    continue; // answered below, once the first of the group has its code
                }
                in_group.insert(key, i);
            }
            blocks
                .entry((r.event.region_code.clone(), r.event.code[6..].to_string()))
                .or_insert((0, 0))
                .1 += 1;
            fresh.push((i, r.event.clone()));
        }
        // One block of numbers per county and day.
        for ((county, day), (first, count)) in blocks.iter_mut() {
            let (last,): (i64,) = sqlx::query_as(
                "INSERT INTO event_sequences (county, day, seq) VALUES ($1, $2, $3) \
                 ON CONFLICT (county, day) DO UPDATE SET seq = event_sequences.seq + $3 RETURNING seq",
            )
            .bind(county.as_str())
            .bind(day.as_str())
            .bind(*count)
            .fetch_one(&mut *tx)
            .await?;
            *first = last - *count + 1;
        }
        // Each written event's history entry: (index in `written`, its number, the move).
        let mut history: Vec<(usize, i64, &NewMove)> = Vec::new();
        let mut audits: Vec<&AuditEntry> = Vec::new();
        for (i, mut e) in fresh {
            let block = blocks
                .get_mut(&(e.region_code.clone(), e.code[6..].to_string()))
                .expect("every fresh report has a block");
            e.code = format!("{}{:06}", e.code, block.0);
            block.0 += 1;
            if let Payload::Report(r) = &payloads[i] {
                audits.push(&r.audit);
                history.push((written.len(), 1, &r.first));
            }
            written.push(e);
            outcomes[i] = Some(Outcome::Reported(Box::new(Reported::Created(
                written.last().cloned().expect("just pushed"),
            ))));
        }
        let new_events = written.len();
        for (i, p) in payloads.iter().enumerate() {
            match p {
                Payload::Report(r) if outcomes[i].is_none() => {
                    // The same key earlier in this group: answer with that event.
                    let key = r.event.idempotency_key.as_deref().unwrap_or_default();
                    if let Some(Outcome::Reported(first)) = &outcomes[in_group[key]]
                        && let Reported::Created(e) = first.as_ref()
                    {
                        outcomes[i] =
                            Some(Outcome::Reported(Box::new(Reported::Existing(e.clone()))));
                    }
                }
                Payload::Report(_) => {}
                Payload::Move(m) => {
                    let moved = crate::events::update_event_row!(tx, &m.next, m.expected_version)?;
                    if moved {
                        audits.push(&m.audit);
                        history.push((written.len(), m.next.version, &m.record));
                        written.push(m.next.clone());
                    }
                    outcomes[i] = Some(Outcome::Moved(moved));
                }
            }
        }
        if new_events > 0 {
            let rows: Vec<&EventRow> = written[..new_events].iter().collect();
            crate::events::insert_event_rows!(tx, rows)?;
        }
        let rows: Vec<(&EventRow, i64, &NewMove, DateTime<Utc>)> = history
            .iter()
            .map(|&(k, seq, m)| (&written[k], seq, m, written[k].updated_at))
            .collect();
        if !rows.is_empty() {
            crate::events::insert_move_rows!(tx, rows)?;
        }
        if !audits.is_empty() {
            let (last, mut prev): (i64, String) = sqlx::query_as(
                "UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash",
            )
            .bind(audits.len() as i64)
            .fetch_one(&mut *tx)
            .await?;
            let first = last - audits.len() as i64 + 1;
            let mut chain = Vec::with_capacity(audits.len());
            for (k, entry) in audits.iter().enumerate() {
                let row = AuditRow::chained(entry, first + k as i64, now, prev);
                prev = row.hash.clone();
                chain.push(row);
            }
            crate::audit::insert_audit_rows!(tx, chain)?;
            sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
                .bind(&prev)
                .execute(&mut *tx)
                .await?;
        }
        // Every job must have its answer before anything is committed: an error after the
        // commit would send the group to be retried job by job over data already written.
        let outcomes = outcomes
            .into_iter()
            .map(|o| o.ok_or_else(|| StoreError::corrupt("a job of the group has no outcome")))
            .collect::<Result<Vec<Outcome>, StoreError>>()?;
        tx.commit().await?;
        Ok(outcomes)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{TestBackend, TestDb};

    fn report(key: Option<&str>, n: usize) -> NewReport {
        let t = Utc::now().trunc_subsecs(6);
        let event = EventRow {
            region_code: "640202000000".into(),
            id: uuid::Uuid::now_v7(),
            code: "64020220261127".into(),
            tracking_code: format!("T{n:015}"),
            category_code: "0401".into(),
            domain: "general".into(),
            urgency: "normal".into(),
            state: "reported".into(),
            flow: "{}".into(),
            version: 1,
            source: "staff".into(),
            description: format!("第{n}条"),
            address: None,
            lon: 106.2,
            lat: 38.5,
            grid_code: "640202001001001".into(),
            reporter_account: None,
            reporter_phone_enc: None,
            reporter_phone_idx: None,
            idempotency_key: key.map(str::to_string),
            lead_department: None,
            departments: " ".into(),
            step: None,
            step_started_at: None,
            step_due_at: None,
            step_due_provisional: 0,
            suspended_at: None,
            extension_minutes: None,
            created_at: t,
            updated_at: t,
            yellow_at: None,
            light_notified: "green".into(),
        };
        NewReport {
            event,
            first: NewMove {
                move_name: "report".into(),
                body: "{}".into(),
                from_state: String::new(),
                to_state: "reported".into(),
                actor: "t".into(),
                actor_role: "staff".into(),
                department: None,
                ip: None,
            },
            audit: AuditEntry {
                actor: "t".into(),
                actor_role: None,
                ip: None,
                action: "event.report".into(),
                record_type: None,
                record_id: None,
                detail: serde_json::json!({}),
            },
        }
    }

    /// One group holding the same key several times, beside reports without keys: the first
    /// with the key is stored and numbered, the repeats answer with it, and nothing is stored
    /// twice; a later group with the key finds the stored event.
    async fn a_group_with_repeated_keys(backend: TestBackend) {
        let db = TestDb::open(backend).await;
        let group: Vec<Payload> = (0..6)
            .map(|n| {
                let key = (n % 2 == 0).then_some("same-key");
                Payload::Report(report(key, n))
            })
            .collect();
        let outcomes = commit(&db.store, &group).await.unwrap();
        let mut created = Vec::new();
        let mut existing = Vec::new();
        for o in outcomes {
            match o {
                Outcome::Reported(r) => match *r {
                    Reported::Created(e) => created.push(e),
                    Reported::Existing(e) => existing.push(e),
                },
                Outcome::Moved(_) => panic!("no moves here"),
            }
        }
        assert_eq!((created.len(), existing.len()), (4, 2));
        let keyed = created
            .iter()
            .find(|e| e.idempotency_key.is_some())
            .unwrap();
        assert!(existing.iter().all(|e| e.id == keyed.id));
        let mut numbers: Vec<&str> = created.iter().map(|e| &e.code[14..]).collect();
        numbers.sort();
        assert_eq!(numbers, ["000001", "000002", "000003", "000004"]);
        let again = commit(&db.store, &[Payload::Report(report(Some("same-key"), 9))])
            .await
            .unwrap();
        assert!(
            matches!(&again[0], Outcome::Reported(r) if matches!(r.as_ref(), Reported::Existing(e) if e.id == keyed.id))
        );
        assert_eq!(db.store.verify_audit().await.unwrap().records, 4);
        db.finish().await;
    }

    #[tokio::test]
    async fn a_group_with_repeated_keys_sqlite() {
        a_group_with_repeated_keys(TestBackend::Sqlite).await;
    }

    #[tokio::test]
    async fn a_group_with_repeated_keys_postgres() {
        a_group_with_repeated_keys(TestBackend::Postgres).await;
    }
}

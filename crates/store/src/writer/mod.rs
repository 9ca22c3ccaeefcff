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
//! Beside the writer, the likely-duplicate hint of new reports is read in batches, one statement
//! per batch, while their group is being written.
//!
//! Nothing is acknowledged before its group has committed. When a group fails as a whole (a
//! database error, or another server inserting the same idempotency key at the same moment), each
//! of its jobs is retried alone, so one bad job never takes others with it.

use crate::audit::AuditEntry;
use crate::events::{EventRow, NEAR_LIMIT, NearBox, NearbyEvent, NewMove, NewNotification};
use crate::mediation::NewCase;
use crate::{Store, StoreError};
use commit::commit;
use nearby::{NearbyAsk, read_nearby};
use tokio::sync::{broadcast, mpsc, oneshot};

mod commit;
mod nearby;
#[cfg(test)]
mod tests;

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
    /// Look for open events of the same category around the new one (the likely-duplicate
    /// hint) within this many degrees of latitude each way; `None`: don't look.
    pub nearby_within: Option<f64>,
}

/// A workflow move: the event's next state, written only if its version is still
/// `expected_version`, with its history entry, its audit records, the notices it sends and the
/// mediation case it opens (转入调解), all in the same transaction: nothing of it is written
/// when the version check fails.
#[derive(Debug, Clone)]
pub struct NewEventMove {
    pub next: EventRow,
    pub expected_version: i64,
    pub record: NewMove,
    pub audit: Vec<AuditEntry>,
    pub notifications: Vec<NewNotification>,
    pub cases: Vec<NewCase>,
}

/// What became of a report.
#[derive(Debug, Clone)]
pub enum Reported {
    /// Stored under its new code, with the open events of its category near it when it asked
    /// for them: the most recent first, at most [`NEAR_LIMIT`], of any age, anywhere in the box,
    /// itself left out. The hint is read beside the write, not after it: a report committed in
    /// the same instant may be missing from it.
    Created {
        event: EventRow,
        nearby: Vec<NearbyEvent>,
    },
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
    nearby: mpsc::Sender<NearbyAsk>,
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
        let (nearby, asks) = mpsc::channel(GROUP * 8);
        let (changes, _) = broadcast::channel(16);
        tokio::spawn(read_nearby(store.clone(), asks));
        if let crate::db::Db::Sqlite(pool) = &store.db {
            tokio::spawn(checkpoint(pool.clone(), changes.subscribe()));
        }
        tokio::spawn(run(store, rx, changes.clone()));
        Writer {
            jobs,
            nearby,
            changes,
        }
    }

    /// A signal after every committed group: live views (the command centre) refresh on it.
    pub fn subscribe(&self) -> broadcast::Receiver<()> {
        self.changes.subscribe()
    }

    /// Numbers and stores a new event, or returns the first one stored under its idempotency key.
    pub async fn report(&self, r: NewReport) -> Result<Reported, StoreError> {
        // The hint is asked for first, so its read runs while the report is being written.
        let hint = match r.nearby_within {
            Some(half) => {
                let (tx, rx) = oneshot::channel();
                let ask = NearbyAsk {
                    category: r.event.category_code.clone(),
                    area: NearBox::around(r.event.lon, r.event.lat, half),
                    reply: tx,
                };
                self.nearby.send(ask).await.map_err(|_| gone())?;
                Some(rx)
            }
            None => None,
        };
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Job::Report(r, tx))
            .await
            .map_err(|_| gone())?;
        let mut reported = rx.await.map_err(|_| gone())??;
        if let (Reported::Created { event, nearby }, Some(hint)) = (&mut reported, hint) {
            *nearby = hint.await.unwrap_or_default();
            nearby.retain(|e| e.id != event.id);
            nearby.truncate(NEAR_LIMIT);
        }
        Ok(reported)
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

/// Copies committed pages from SQLite's write-ahead log back into the database file (with the
/// file's sync) between the writer's commits, on a connection of its own, so that the commit
/// that crosses SQLite's own checkpoint threshold finds little left to copy and sync. That
/// commit still checkpoints, which keeps the log short: this task alone never catches up with a
/// busy writer, and a log that is never fully copied never starts over.
async fn checkpoint(pool: sqlx::SqlitePool, mut commits: broadcast::Receiver<()>) {
    loop {
        match commits.recv().await {
            Ok(()) | Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(broadcast::error::RecvError::Closed) => return,
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        while commits.try_recv().is_ok() {}
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            tracing::warn!(error = %e, "checkpoint failed");
        }
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

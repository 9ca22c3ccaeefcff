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

use crate::audit::{AuditEntry, AuditRow};
use crate::events::{
    EVENT_COLUMNS, EventRow, NEAR_LIMIT, NearBox, NearbyEvent, NewMove, NewNotification,
    nearby_fields,
};
use crate::mediation::NewCase;
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

/// A new report's question for the likely-duplicate hint: the open events of its category in
/// its box.
struct NearbyAsk {
    category: String,
    area: NearBox,
    reply: oneshot::Sender<Vec<NearbyEvent>>,
}

/// An open event in the box of the `near_of`-th ask of a batch.
#[derive(sqlx::FromRow)]
struct Near {
    near_of: i64,
    #[sqlx(flatten)]
    event: NearbyEvent,
}

/// Answers the likely-duplicate asks of many reports with one read each batch, beside the
/// writer and on a connection of its own: a read per report (a round trip through the pool and
/// SQLite's worker thread each) cost intake almost half its rate. A failed read answers with no
/// hint: the reports themselves are written regardless.
async fn read_nearby(store: Store, mut rx: mpsc::Receiver<NearbyAsk>) {
    let mut batch = Vec::with_capacity(GROUP);
    while rx.recv_many(&mut batch, GROUP).await > 0 {
        let asks: Vec<NearbyAsk> = std::mem::take(&mut batch);
        let mut found: Vec<Vec<NearbyEvent>> = asks.iter().map(|_| Vec::new()).collect();
        match nearby_of(&store, &asks).await {
            Ok(rows) => {
                for n in rows {
                    if let Some(list) = found.get_mut(n.near_of as usize) {
                        list.push(n.event);
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, asks = asks.len(), "likely-duplicate read failed"),
        }
        for (ask, mut list) in asks.into_iter().zip(found) {
            list.sort_by_key(|e| std::cmp::Reverse(e.created_at));
            // A request that gave up waiting has dropped its receiver.
            let _ = ask.reply.send(list);
        }
    }
}

/// The open events in each ask's box, at most [`NEAR_LIMIT`] + 1 per ask (the most recent), in one
/// statement. The joined condition repeats the partial index's word for word (SQLite uses a
/// partial index only then), so each ask reads the few open events of its category in its band.
async fn nearby_of(store: &Store, asks: &[NearbyAsk]) -> Result<Vec<Near>, StoreError> {
    let sql = nearby_sql(asks.len());
    Ok(on_db!(store, |pool| {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
        for (i, a) in asks.iter().enumerate() {
            q = q
                .bind(i as i64)
                .bind(a.category.as_str())
                .bind(a.area.lat_lo)
                .bind(a.area.lat_hi)
                .bind(a.area.lon_lo)
                .bind(a.area.lon_hi);
        }
        q.fetch_all(pool).await
    })?)
}

/// The statement of [`nearby_of`] for `asks` asks (six parameters each).
fn nearby_sql(asks: usize) -> String {
    let rows: Vec<String> = (0..asks)
        .map(|i| {
            let p = i * 6;
            format!(
                "(${}, ${}, ${}, ${}, ${}, ${})",
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5,
                p + 6
            )
        })
        .collect();
    // One more than shown: the read may run after the report's own group has committed, and
    // then the report itself is among them.
    format!(
        concat!(
            "WITH q (near_of, cat, lat_lo, lat_hi, lon_lo, lon_hi) AS (VALUES {}), \
             near AS (SELECT q.near_of, ROW_NUMBER() OVER (PARTITION BY q.near_of ORDER BY e.created_at DESC) AS nth, \
             e.id, e.code, e.category_code, e.state, e.description, e.lon, e.lat, e.grid_code, e.departments, e.created_at \
             FROM q JOIN events e ON e.category_code = q.cat AND e.state NOT IN ('closed', 'rejected', 'merged') \
             AND e.lat BETWEEN q.lat_lo AND q.lat_hi AND e.lon BETWEEN q.lon_lo AND q.lon_hi) \
             SELECT near_of, ",
            nearby_fields!(),
            " FROM near WHERE nth <= {}"
        ),
        rows.join(", "),
        NEAR_LIMIT + 1
    )
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
        // One block of numbers per county and day, all taken in one statement.
        if !blocks.is_empty() {
            let mut q = sqlx::QueryBuilder::new("INSERT INTO event_sequences (county, day, seq) ");
            q.push_values(blocks.iter(), |mut row, ((county, day), (_, count))| {
                row.push_bind(county.clone())
                    .push_bind(day.clone())
                    .push_bind(*count);
            });
            q.push(
                " ON CONFLICT (county, day) DO UPDATE SET seq = event_sequences.seq + excluded.seq \
                 RETURNING county, day, seq",
            );
            let taken: Vec<(String, String, i64)> = q.build_query_as().fetch_all(&mut *tx).await?;
            for (county, day, last) in taken {
                let block = blocks.get_mut(&(county, day)).ok_or_else(|| {
                    StoreError::corrupt("a number block for no county of the group")
                })?;
                block.0 = last - block.1 + 1;
            }
            if blocks.values().any(|(first, _)| *first == 0) {
                return Err(StoreError::corrupt("a county of the group got no numbers"));
            }
        }
        // Each written event's history entry: (index in `written`, its number, the move).
        let mut history: Vec<(usize, i64, &NewMove)> = Vec::new();
        let mut audits: Vec<&AuditEntry> = Vec::new();
        let mut notices: Vec<&NewNotification> = Vec::new();
        let mut cases: Vec<&NewCase> = Vec::new();
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
            outcomes[i] = Some(Outcome::Reported(Box::new(Reported::Created {
                event: written.last().cloned().expect("just pushed"),
                nearby: Vec::new(),
            })));
        }
        let new_events = written.len();
        for (i, p) in payloads.iter().enumerate() {
            match p {
                Payload::Report(r) if outcomes[i].is_none() => {
                    // The same key earlier in this group: answer with that event.
                    let key = r.event.idempotency_key.as_deref().unwrap_or_default();
                    if let Some(Outcome::Reported(first)) = &outcomes[in_group[key]]
                        && let Reported::Created { event, .. } = first.as_ref()
                    {
                        outcomes[i] = Some(Outcome::Reported(Box::new(Reported::Existing(
                            event.clone(),
                        ))));
                    }
                }
                Payload::Report(_) => {}
                Payload::Move(m) => {
                    let moved = crate::events::update_event_row!(tx, &m.next, m.expected_version)?;
                    if moved {
                        audits.extend(m.audit.iter());
                        notices.extend(m.notifications.iter());
                        cases.extend(m.cases.iter());
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
        if !notices.is_empty() {
            crate::events::insert_notification_rows!(tx, notices, now)?;
        }
        if !cases.is_empty() {
            crate::mediation::write_cases!(tx, cases);
        }
        let mut head = None;
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
                let row = AuditRow::chained(entry, first + k as i64, now, prev, store.audit_key());
                prev = row.hash.clone();
                chain.push(row);
            }
            crate::audit::insert_audit_rows!(tx, chain)?;
            sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
                .bind(&prev)
                .execute(&mut *tx)
                .await?;
            head = Some((last, prev));
        }
        // Every job must have its answer before anything is committed: an error after the
        // commit would send the group to be retried job by job over data already written.
        let outcomes = outcomes
            .into_iter()
            .map(|o| o.ok_or_else(|| StoreError::corrupt("a job of the group has no outcome")))
            .collect::<Result<Vec<Outcome>, StoreError>>()?;
        tx.commit().await?;
        if let Some((seq, hash)) = head {
            store.anchor_audit(seq, &hash);
        }
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
            code: "64020220261127".into(),
            tracking_code: format!("T{n:015}"),
            description: format!("第{n}条"),
            idempotency_key: key.map(str::to_string),
            ..crate::testing::sample_event(t)
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
            nearby_within: None,
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
                    Reported::Created { event, .. } => created.push(event),
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
        assert_eq!(db.store.verify_audit(None, &[]).await.unwrap().records, 4);
        db.finish().await;
    }

    /// A report at (lon, lat) of `category`, asking for the likely-duplicate hint.
    fn asking(n: usize, category: &str, (lon, lat): (f64, f64)) -> NewReport {
        let mut r = report(None, n);
        r.event.category_code = category.into();
        r.event.lon = lon;
        r.event.lat = lat;
        r.nearby_within = Some(0.0025);
        r
    }

    /// An event stored directly (not through the writer) at (lon, lat), in `state`, reported
    /// `minutes_ago`.
    async fn stored(
        db: &TestDb,
        n: usize,
        state: &str,
        (lon, lat): (f64, f64),
        minutes_ago: i64,
    ) -> EventRow {
        let mut r = report(None, n);
        r.event.code = format!("640202202611279{n:05}");
        r.event.state = state.into();
        r.event.lon = lon;
        r.event.lat = lat;
        r.event.created_at -= chrono::Duration::minutes(minutes_ago);
        db.store.insert_event(&r.event, &r.first).await.unwrap();
        r.event
    }

    fn created(r: Reported) -> (EventRow, Vec<NearbyEvent>) {
        match r {
            Reported::Created { event, nearby } => (event, nearby),
            Reported::Existing(e) => panic!("expected a new event, got {}", e.code),
        }
    }

    /// The hints of reports written together are read together and sorted out per report: each
    /// gets the open events of its own category in its own box, never a closed one, never
    /// another spot's or another category's, never itself; at most `NEAR_LIMIT`, the most
    /// recent; and a report that does not ask gets none.
    async fn hints_of_reports_written_together(backend: TestBackend) {
        let db = TestDb::open(backend).await;
        let writer = Writer::start(db.store.clone());
        let a = (106.2, 38.5);
        let b = (106.3, 38.6);
        let c = (106.4, 38.7);
        let earlier = stored(&db, 1, "reported", a, 30).await;
        let _closed = stored(&db, 2, "closed", (a.0 + 0.0003, a.1), 20).await;
        let other_class = writer
            .report(asking(3, "0501", (a.0, a.1 + 0.0002)))
            .await
            .unwrap();
        let (_, none) = created(other_class);
        assert!(
            none.is_empty(),
            "another category's events are no hint: {none:?}"
        );
        // Three reports in flight at once: two at spot A, one at spot B.
        let (a2, a3, b1) = tokio::join!(
            writer.report(asking(4, "0401", (a.0 + 0.0005, a.1))),
            writer.report(asking(5, "0401", (a.0, a.1 + 0.0005))),
            writer.report(asking(6, "0401", b)),
        );
        let (a2, a2_hint) = created(a2.unwrap());
        let (a3, a3_hint) = created(a3.unwrap());
        let (b1, b1_hint) = created(b1.unwrap());
        for (me, hint) in [(&a2, &a2_hint), (&a3, &a3_hint)] {
            assert!(hint.iter().any(|n| n.id == earlier.id), "{hint:?}");
            assert!(
                hint.iter().all(|n| n.id != me.id
                    && n.category_code == "0401"
                    && n.state != "closed"
                    && n.id != b1.id),
                "{hint:?}"
            );
        }
        assert!(b1_hint.is_empty(), "nothing is open near B: {b1_hint:?}");
        // A busy spot: fifteen open reports at C; the hint holds the ten most recent.
        let mut at_c = Vec::new();
        for n in 0..15 {
            at_c.push(stored(&db, 100 + n, "accepted", c, 60 - n as i64).await);
        }
        let (_, c_hint) = created(writer.report(asking(200, "0401", c)).await.unwrap());
        assert_eq!(c_hint.len(), NEAR_LIMIT);
        let newest: Vec<uuid::Uuid> = at_c.iter().rev().take(NEAR_LIMIT).map(|e| e.id).collect();
        let got: Vec<uuid::Uuid> = c_hint.iter().map(|n| n.id).collect();
        assert_eq!(got, newest, "the most recent first");
        // Not asking: no hint, however many neighbours.
        let mut quiet = asking(201, "0401", c);
        quiet.nearby_within = None;
        let (_, nothing) = created(writer.report(quiet).await.unwrap());
        assert!(nothing.is_empty());
        db.finish().await;
    }

    /// Each county of a group takes its own block of the day's numbers, in one statement, and
    /// the next group goes on from where each county stopped.
    async fn numbers_per_county_in_one_group(backend: TestBackend) {
        let db = TestDb::open(backend).await;
        let in_county = |n: usize, county: &str| {
            let mut r = report(None, n);
            r.event.region_code = format!("{county}000000");
            r.event.code = format!("{county}20261127");
            Payload::Report(r)
        };
        let numbers = |outcomes: Vec<Outcome>| -> Vec<String> {
            outcomes
                .into_iter()
                .map(|o| match o {
                    Outcome::Reported(r) => match *r {
                        Reported::Created { event, .. } => event.code,
                        Reported::Existing(e) => panic!("not new: {}", e.code),
                    },
                    Outcome::Moved(_) => panic!("no moves here"),
                })
                .collect()
        };
        let first = commit(
            &db.store,
            &[
                in_county(1, "640202"),
                in_county(2, "640205"),
                in_county(3, "640202"),
                in_county(4, "640202"),
                in_county(5, "640205"),
            ],
        )
        .await
        .unwrap();
        assert_eq!(
            numbers(first),
            [
                "64020220261127000001",
                "64020520261127000001",
                "64020220261127000002",
                "64020220261127000003",
                "64020520261127000002",
            ]
        );
        let next = commit(&db.store, &[in_county(6, "640205"), in_county(7, "640202")])
            .await
            .unwrap();
        assert_eq!(
            numbers(next),
            ["64020520261127000003", "64020220261127000004"]
        );
        db.finish().await;
    }

    /// The plan SQLite makes of a statement (EXPLAIN QUERY PLAN), one line per step.
    async fn sqlite_plan(db: &TestDb, sql: &str) -> String {
        let crate::db::Db::Sqlite(pool) = &db.store.db else {
            panic!("SQLite only")
        };
        let rows: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
                .fetch_all(pool)
                .await
                .unwrap();
        rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("\n")
    }

    /// SQLite uses a partial index only when the query repeats its condition word for word, and
    /// its planner has no statistics here: the hint's batch and "closed today" must still pick
    /// their indexes (a wrong pick is a read of every open or every closed event, found once by
    /// the page benchmark at ten times the time). PostgreSQL plans by statistics; its speed is
    /// in BENCHMARKS.md.
    #[tokio::test]
    async fn hint_and_closed_today_use_their_indexes_sqlite() {
        let db = TestDb::open(TestBackend::Sqlite).await;
        let plan = sqlite_plan(&db, &nearby_sql(3)).await;
        assert!(
            plan.contains("USING INDEX events_open_near (category_code=? AND lat>? AND lat<?)"),
            "{plan}"
        );
        for place in ["grid_code", "+grid_code"] {
            let plan = sqlite_plan(&db, &crate::events::closed_today_sql(place)).await;
            assert!(
                plan.contains("USING INDEX events_closed_recent (state=? AND updated_at>?)"),
                "{plan}"
            );
        }
        db.finish().await;
    }

    #[tokio::test]
    async fn numbers_per_county_in_one_group_sqlite() {
        numbers_per_county_in_one_group(TestBackend::Sqlite).await;
    }

    #[tokio::test]
    async fn numbers_per_county_in_one_group_postgres() {
        numbers_per_county_in_one_group(TestBackend::Postgres).await;
    }

    #[tokio::test]
    async fn hints_of_reports_written_together_sqlite() {
        hints_of_reports_written_together(TestBackend::Sqlite).await;
    }

    #[tokio::test]
    async fn hints_of_reports_written_together_postgres() {
        hints_of_reports_written_together(TestBackend::Postgres).await;
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

//! Writing one group in one transaction. Apart from the task that feeds it because this is where
//! a group's rules live (idempotency within and across groups, a block of daily numbers per
//! county, one stretch of the audit chain), and the retry runs the very same code on a single job.

use super::{NewEventMove, Outcome, Payload, Reported};
use crate::audit::{AuditEntry, AuditRow};
use crate::events::{EVENT_COLUMNS, EventRow, NewMove, NewNotification};
use crate::mediation::NewCase;
use crate::{Store, StoreError, on_db};
use chrono::{DateTime, SubsecRound, Utc};
use std::collections::{BTreeMap, HashMap};

/// The events stored before under any of `$keys` (`Vec<&str>`, not empty), by key, in the
/// transaction `$tx`; a macro so each backend's arm of [`on_db!`] binds its own types. Evaluates
/// to the map or returns the error.
macro_rules! events_by_key {
    ($tx:expr, $keys:expr) => {{
        let mut q = sqlx::QueryBuilder::new(format!("{EVENT_COLUMNS} WHERE idempotency_key IN ("));
        let mut list = q.separated(", ");
        for k in &$keys {
            list.push_bind(*k);
        }
        q.push(")");
        let found: Vec<EventRow> = q.build_query_as().fetch_all(&mut *$tx).await?;
        let mut before: HashMap<String, EventRow> = HashMap::new();
        for e in found {
            if let Some(k) = e.idempotency_key.clone() {
                before.insert(k, e);
            }
        }
        before
    }};
}

/// Takes every block of `$blocks` (county and day → how many numbers) in one statement, and
/// evaluates to the last number each county and day took, or returns the error.
macro_rules! take_numbers {
    ($tx:expr, $blocks:expr) => {{
        let mut q = sqlx::QueryBuilder::new("INSERT INTO event_sequences (county, day, seq) ");
        q.push_values($blocks.iter(), |mut row, ((county, day), (_, count))| {
            row.push_bind(county.clone())
                .push_bind(day.clone())
                .push_bind(*count);
        });
        q.push(
            " ON CONFLICT (county, day) DO UPDATE SET seq = event_sequences.seq + excluded.seq \
             RETURNING county, day, seq",
        );
        let taken: Vec<(String, String, i64)> = q.build_query_as().fetch_all(&mut *$tx).await?;
        taken
    }};
}

/// Appends `$audits` (`Vec<&AuditEntry>`, not empty) to the chain, stamped `$now`: their numbers
/// taken from the head in one statement, the records in one INSERT, the head moved to the last.
/// Evaluates to the new head (number and hash) for the anchor, or returns the error.
macro_rules! append_audits {
    ($tx:expr, $store:expr, $audits:expr, $now:expr) => {{
        let (last, mut prev): (i64, String) =
            sqlx::query_as("UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash")
                .bind($audits.len() as i64)
                .fetch_one(&mut *$tx)
                .await?;
        let first = last - $audits.len() as i64 + 1;
        let mut chain = Vec::with_capacity($audits.len());
        for (k, entry) in $audits.iter().enumerate() {
            let row = AuditRow::chained(entry, first + k as i64, $now, prev, $store.audit_key());
            prev = row.hash.clone();
            chain.push(row);
        }
        crate::audit::insert_audit_rows!($tx, chain)?;
        sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
            .bind(&prev)
            .execute(&mut *$tx)
            .await?;
        (last, prev)
    }};
}

/// What a group writes, gathered as its jobs are sorted out; the jobs' own parts are borrowed,
/// only the events that change are copied.
struct Group<'p> {
    /// Each job's answer, in the jobs' order, once it is known.
    outcomes: Vec<Option<Outcome>>,
    /// The first job of the group with each idempotency key.
    in_group: HashMap<&'p str, usize>,
    /// Each county and day's block of numbers: (the next to give, how many).
    blocks: BTreeMap<(String, String), (i64, i64)>,
    /// The reports that take a number, with their job's index.
    fresh: Vec<(usize, EventRow)>,
    /// New events first, then the events as moved.
    written: Vec<EventRow>,
    /// How many of `written` are new.
    created: usize,
    /// Each written event's history entry: (index in `written`, its number, the move).
    history: Vec<(usize, i64, &'p NewMove)>,
    audits: Vec<&'p AuditEntry>,
    notices: Vec<&'p NewNotification>,
    cases: Vec<&'p NewCase>,
}

impl<'p> Group<'p> {
    /// Sorts the reports out: a key stored before (in `before`) answers with its event at once,
    /// a key already used earlier in the group waits for that report's code, and every other
    /// report counts towards its county and day's block.
    fn sort(payloads: &'p [Payload], before: &HashMap<String, EventRow>) -> Group<'p> {
        let mut g = Group {
            outcomes: Vec::with_capacity(payloads.len()),
            in_group: HashMap::new(),
            blocks: BTreeMap::new(),
            fresh: Vec::new(),
            written: Vec::new(),
            created: 0,
            history: Vec::new(),
            audits: Vec::new(),
            notices: Vec::new(),
            cases: Vec::new(),
        };
        for (i, p) in payloads.iter().enumerate() {
            g.outcomes.push(None);
            let Payload::Report(r) = p else { continue };
            if let Some(key) = r.event.idempotency_key.as_deref() {
                if let Some(first) = before.get(key) {
                    g.outcomes[i] = Some(Outcome::Reported(Box::new(Reported::Existing(
                        first.clone(),
                    ))));
                    continue;
                }
                if g.in_group.contains_key(key) {
                    continue; // answered by `answer_repeats`, once the first has its code
                }
                g.in_group.insert(key, i);
            }
            g.blocks
                .entry((r.event.region_code.clone(), r.event.code[6..].to_string()))
                .or_insert((0, 0))
                .1 += 1;
            g.fresh.push((i, r.event.clone()));
        }
        g
    }

    /// Starts each block just after the numbers taken before it: `taken` holds the last number
    /// each county and day took, this group's block included.
    fn start_blocks(&mut self, taken: Vec<(String, String, i64)>) -> Result<(), StoreError> {
        for (county, day, last) in taken {
            let block = self
                .blocks
                .get_mut(&(county, day))
                .ok_or_else(|| StoreError::corrupt("a number block for no county of the group"))?;
            block.0 = last - block.1 + 1;
        }
        if self.blocks.values().any(|(first, _)| *first == 0) {
            return Err(StoreError::corrupt("a county of the group got no numbers"));
        }
        Ok(())
    }

    /// Gives each fresh report the next number of its block, and answers it as created.
    fn number(&mut self, payloads: &'p [Payload]) {
        for (i, mut e) in std::mem::take(&mut self.fresh) {
            let block = self
                .blocks
                .get_mut(&(e.region_code.clone(), e.code[6..].to_string()))
                .expect("every fresh report has a block");
            e.code = format!("{}{:06}", e.code, block.0);
            block.0 += 1;
            if let Payload::Report(r) = &payloads[i] {
                self.audits.push(&r.audit);
                self.history.push((self.written.len(), 1, &r.first));
            }
            self.written.push(e);
            self.outcomes[i] = Some(Outcome::Reported(Box::new(Reported::Created {
                event: self.written.last().cloned().expect("just pushed"),
                nearby: Vec::new(),
            })));
        }
        self.created = self.written.len();
    }

    /// Answers each report whose key was used earlier in this group with that report's event.
    fn answer_repeats(&mut self, payloads: &[Payload]) {
        for (i, p) in payloads.iter().enumerate() {
            let Payload::Report(r) = p else { continue };
            if self.outcomes[i].is_some() {
                continue;
            }
            let key = r.event.idempotency_key.as_deref().unwrap_or_default();
            if let Some(Outcome::Reported(first)) = &self.outcomes[self.in_group[key]]
                && let Reported::Created { event, .. } = first.as_ref()
            {
                self.outcomes[i] = Some(Outcome::Reported(Box::new(Reported::Existing(
                    event.clone(),
                ))));
            }
        }
    }

    /// Takes in the `i`-th job's move, which the database applied (`moved`) or refused because
    /// the event's version had moved on: a refused move writes nothing else either.
    fn moved(&mut self, i: usize, m: &'p NewEventMove, moved: bool) {
        if moved {
            self.audits.extend(m.audit.iter());
            self.notices.extend(m.notifications.iter());
            self.cases.extend(m.cases.iter());
            self.history
                .push((self.written.len(), m.next.version, &m.record));
            self.written.push(m.next.clone());
        }
        self.outcomes[i] = Some(Outcome::Moved(moved));
    }

    /// The history entries as rows: each with its event as written and stamped with the event's
    /// time of change.
    fn history_rows(&self) -> Vec<(&EventRow, i64, &'p NewMove, DateTime<Utc>)> {
        self.history
            .iter()
            .map(|&(k, seq, m)| (&self.written[k], seq, m, self.written[k].updated_at))
            .collect()
    }

    /// Every job's answer, in order.
    fn answers(&mut self) -> Result<Vec<Outcome>, StoreError> {
        std::mem::take(&mut self.outcomes)
            .into_iter()
            .map(|o| o.ok_or_else(|| StoreError::corrupt("a job of the group has no outcome")))
            .collect()
    }
}

/// Writes one group in one transaction and says what became of each job, in order. The number of
/// statements grows with the number of counties, days and moves in the group, not with the number
/// of reports: reports, history entries and audit records each go in one multi-row INSERT.
pub(super) async fn commit(
    store: &Store,
    payloads: &[Payload],
) -> Result<Vec<Outcome>, StoreError> {
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
        let before = if keys.is_empty() {
            HashMap::new()
        } else {
            events_by_key!(tx, keys)
        };
        let mut group = Group::sort(payloads, &before);
        // One block of numbers per county and day, all taken in one statement.
        if !group.blocks.is_empty() {
            let taken = take_numbers!(tx, group.blocks);
            group.start_blocks(taken)?;
        }
        group.number(payloads);
        group.answer_repeats(payloads);
        for (i, p) in payloads.iter().enumerate() {
            if let Payload::Move(m) = p {
                let moved = crate::events::update_event_row!(tx, &m.next, m.expected_version)?;
                group.moved(i, m, moved);
            }
        }
        if group.created > 0 {
            let rows: Vec<&EventRow> = group.written[..group.created].iter().collect();
            crate::events::insert_event_rows!(tx, rows)?;
        }
        let rows = group.history_rows();
        if !rows.is_empty() {
            crate::events::insert_move_rows!(tx, rows)?;
        }
        if !group.notices.is_empty() {
            crate::events::insert_notification_rows!(tx, group.notices, now)?;
        }
        if !group.cases.is_empty() {
            crate::mediation::write_cases!(tx, group.cases);
        }
        let head = if group.audits.is_empty() {
            None
        } else {
            Some(append_audits!(tx, store, group.audits, now))
        };
        // Every job must have its answer before anything is committed: an error after the
        // commit would send the group to be retried job by job over data already written.
        let outcomes = group.answers()?;
        tx.commit().await?;
        if let Some((seq, hash)) = head {
            store.anchor_audit(seq, &hash);
        }
        Ok(outcomes)
    })
}

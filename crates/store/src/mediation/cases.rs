//! Dispute cases with their parties and timelines: the case file. Together because a case is
//! written, changed and taken back as one file — parties and entries never outlive their case,
//! and a change is saved only with the entry that says what changed.

use super::BATCH;
use crate::{StoreError, on_db};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, QueryBuilder};
use uuid::Uuid;
use wangge_domain::access::Visibility;

/// A dispute case's row. `agreement` and `signatures` are the domain's JSON.
#[derive(Debug, Clone, PartialEq, Serialize, FromRow)]
pub struct CaseRow {
    pub region_code: String,
    pub id: Uuid,
    pub code: String,
    pub event_id: Option<Uuid>,
    pub dispute_type: String,
    pub source: String,
    pub origin: String,
    pub facts: String,
    pub points: String,
    pub amount_cents: Option<i64>,
    pub risk_level: String,
    pub grid_code: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub org_id: Uuid,
    pub lead_mediator: Uuid,
    pub mediators: String,
    pub state: String,
    pub outcome: Option<String>,
    pub outcome_note: Option<String>,
    pub agreement: Option<String>,
    pub signatures: String,
    pub agreed_at: Option<DateTime<Utc>>,
    pub effective_at: Option<DateTime<Utc>>,
    pub confirmation: String,
    pub performed_at: Option<DateTime<Utc>>,
    pub deadline_at: DateTime<Utc>,
    pub opened_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
    /// The next session scheduled, and where.
    pub next_session_at: Option<DateTime<Utc>>,
    pub next_session_place: Option<String>,
}

const CASE_COLUMNS: &str = "SELECT region_code, id, code, event_id, dispute_type, source, origin, facts, points, \
    amount_cents, risk_level, grid_code, lon, lat, org_id, lead_mediator, mediators, state, outcome, outcome_note, \
    agreement, signatures, agreed_at, effective_at, confirmation, performed_at, deadline_at, opened_at, ended_at, \
    version, updated_at, next_session_at, next_session_place FROM mediation_cases";

/// A party to a case; identifiers are encrypted by the caller before they reach the store.
#[derive(Debug, Clone, PartialEq, Serialize, FromRow)]
pub struct PartyRow {
    pub seq: i64,
    pub kind: String,
    pub side: String,
    pub name: String,
    #[serde(skip)]
    pub id_number_enc: Option<String>,
    #[serde(skip)]
    pub id_number_idx: Option<String>,
    #[serde(skip)]
    pub phone_enc: Option<String>,
    pub address: Option<String>,
}

/// One entry of a case's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, FromRow)]
pub struct CaseEntry {
    pub seq: i64,
    pub kind: String,
    pub body: String,
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// A case with its parties and timeline, as written in one go (intake and the demo).
pub type NewCase = (CaseRow, Vec<PartyRow>, Vec<CaseEntry>);

/// What a case list filters on.
#[derive(Debug, Clone, Default)]
pub struct CaseQuery {
    pub state: Option<String>,
    pub org: Option<Uuid>,
    pub mediator: Option<Uuid>,
    pub dispute_type: Option<String>,
    pub limit: i64,
}

impl crate::Store {
    /// The next number of a county's day for case codes (`M` + county + day + number).
    pub async fn next_case_seq(&self, county: &str, day: &str) -> Result<i64, StoreError> {
        self.next_event_seq(&format!("M{county}"), day).await
    }

    /// Writes cases with their parties and timelines, in one transaction.
    pub async fn insert_cases(&self, cases: &[NewCase]) -> Result<(), StoreError> {
        let all: Vec<&NewCase> = cases.iter().collect();
        on_db!(self, |pool| {
            let mut tx = pool.begin().await?;
            write_cases!(tx, all);
            tx.commit().await?;
            Ok::<_, sqlx::Error>(())
        })?;
        Ok(())
    }

    /// Removes a case just written, with its parties and timeline: opening it from an event
    /// takes it back when the event could not go to mediation.
    pub async fn delete_case(&self, c: &CaseRow) -> Result<(), StoreError> {
        on_db!(self, |pool| {
            let mut tx = pool.begin().await?;
            for sql in [
                "DELETE FROM case_entries WHERE region_code = $1 AND case_id = $2",
                "DELETE FROM case_parties WHERE region_code = $1 AND case_id = $2",
                "DELETE FROM mediation_cases WHERE region_code = $1 AND id = $2",
            ] {
                sqlx::query(sql)
                    .bind(&c.region_code)
                    .bind(c.id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        })?;
        Ok(())
    }

    /// A case in sight, by id.
    pub async fn case(&self, vis: &Visibility, id: Uuid) -> Result<Option<CaseRow>, StoreError> {
        let (lo, hi) = vis.range();
        Ok(on_db!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            format!("{CASE_COLUMNS} WHERE id = $1 AND grid_code >= $2 AND grid_code < $3")
        ))
        .bind(id)
        .bind(&lo)
        .bind(&hi)
        .fetch_optional(p)
        .await)?)
    }

    /// Cases in sight, newest first.
    pub async fn cases(&self, vis: &Visibility, q: &CaseQuery) -> Result<Vec<CaseRow>, StoreError> {
        let (lo, hi) = vis.range();
        let mut sql = format!("{CASE_COLUMNS} WHERE grid_code >= $1 AND grid_code < $2");
        let mut n = 2;
        let mut add = |cond: &str, sql: &mut String| {
            n += 1;
            sql.push_str(&format!(" AND {cond} ${n}"));
        };
        if q.state.is_some() {
            add("state =", &mut sql);
        }
        if q.org.is_some() {
            add("org_id =", &mut sql);
        }
        if q.mediator.is_some() {
            add("(' ' || mediators || ' ') LIKE", &mut sql);
        }
        if q.dispute_type.is_some() {
            add("dispute_type =", &mut sql);
        }
        sql.push_str(&format!(
            " ORDER BY opened_at DESC, id DESC LIMIT {}",
            q.limit.clamp(1, 1000)
        ));
        Ok(on_db!(self, |p| {
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(&lo)
                .bind(&hi);
            if let Some(s) = &q.state {
                query = query.bind(s.clone());
            }
            if let Some(o) = q.org {
                query = query.bind(o);
            }
            if let Some(m) = q.mediator {
                query = query.bind(format!("% {m} %"));
            }
            if let Some(t) = &q.dispute_type {
                query = query.bind(t.clone());
            }
            query.fetch_all(p).await
        })?)
    }

    pub async fn case_parties(&self, c: &CaseRow) -> Result<Vec<PartyRow>, StoreError> {
        Ok(on_db!(self, |p| {
            sqlx::query_as(
            "SELECT seq, kind, side, name, id_number_enc, id_number_idx, phone_enc, address FROM case_parties \
             WHERE region_code = $1 AND case_id = $2 ORDER BY seq"
        )
        .bind(&c.region_code)
        .bind(c.id)
        .fetch_all(p)
        .await
        })?)
    }

    pub async fn case_entries(&self, c: &CaseRow) -> Result<Vec<CaseEntry>, StoreError> {
        Ok(on_db!(self, |p| {
            sqlx::query_as(
            "SELECT seq, kind, body, actor, at FROM case_entries WHERE region_code = $1 AND case_id = $2 ORDER BY seq"
        )
        .bind(&c.region_code)
        .bind(c.id)
        .fetch_all(p)
        .await
        })?)
    }

    /// The parties' names of many cases in one read (the risk list compares them): case id → names
    /// in order.
    pub async fn party_names_of_cases(
        &self,
        cases: &[CaseRow],
    ) -> Result<std::collections::HashMap<Uuid, Vec<String>>, StoreError> {
        let mut out: std::collections::HashMap<Uuid, Vec<String>> = Default::default();
        for chunk in cases.chunks(BATCH) {
            let rows: Vec<(Uuid, String)> = on_db!(self, |p| {
                let mut q = QueryBuilder::new(
                    "SELECT case_id, name FROM case_parties WHERE (region_code, case_id) IN (",
                );
                let mut list = q.separated(", ");
                for c in chunk {
                    list.push("(")
                        .push_bind_unseparated(c.region_code.clone())
                        .push_unseparated(", ")
                        .push_bind_unseparated(c.id)
                        .push_unseparated(")");
                }
                q.push(") ORDER BY case_id, seq");
                q.build_query_as().fetch_all(p).await
            })?;
            for (case, name) in rows {
                out.entry(case).or_default().push(name);
            }
        }
        Ok(out)
    }

    /// The latest change of risk level of each of many cases, in one read: case id → the entry's
    /// body (`{"from": …, "to": …}`).
    pub async fn last_risk_changes(
        &self,
        cases: &[CaseRow],
    ) -> Result<std::collections::HashMap<Uuid, String>, StoreError> {
        let mut out = std::collections::HashMap::new();
        for chunk in cases.chunks(BATCH) {
            let rows: Vec<(Uuid, i64, String)> = on_db!(self, |p| {
                let mut q = QueryBuilder::new(
                    "SELECT case_id, seq, body FROM case_entries WHERE kind = 'risk' AND (region_code, case_id) IN (",
                );
                let mut list = q.separated(", ");
                for c in chunk {
                    list.push("(")
                        .push_bind_unseparated(c.region_code.clone())
                        .push_unseparated(", ")
                        .push_bind_unseparated(c.id)
                        .push_unseparated(")");
                }
                q.push(") ORDER BY case_id, seq");
                q.build_query_as().fetch_all(p).await
            })?;
            // Ordered by number: the last one of each case stays.
            for (case, _, body) in rows {
                out.insert(case, body);
            }
        }
        Ok(out)
    }

    /// Saves a changed case if nobody changed it since `expected` (its version then), and appends
    /// the entry that says what changed. `Ok(false)`: someone else was first; nothing written.
    pub async fn save_case(
        &self,
        c: &CaseRow,
        expected: i64,
        kind: &str,
        body: &str,
        actor: &str,
    ) -> Result<bool, StoreError> {
        Ok(on_db!(self, |pool| {
            let mut tx = pool.begin().await?;
            let done = sqlx::query(
                "UPDATE mediation_cases SET dispute_type = $3, risk_level = $4, org_id = $5, lead_mediator = $6, \
                 mediators = $7, state = $8, outcome = $9, outcome_note = $10, agreement = $11, signatures = $12, \
                 agreed_at = $13, effective_at = $14, confirmation = $15, performed_at = $16, deadline_at = $17, \
                 ended_at = $18, version = $19, updated_at = $20, next_session_at = $22, next_session_place = $23 \
                 WHERE region_code = $1 AND id = $2 AND version = $21",
            )
            .bind(&c.region_code)
            .bind(c.id)
            .bind(&c.dispute_type)
            .bind(&c.risk_level)
            .bind(c.org_id)
            .bind(c.lead_mediator)
            .bind(&c.mediators)
            .bind(&c.state)
            .bind(&c.outcome)
            .bind(&c.outcome_note)
            .bind(&c.agreement)
            .bind(&c.signatures)
            .bind(c.agreed_at)
            .bind(c.effective_at)
            .bind(&c.confirmation)
            .bind(c.performed_at)
            .bind(c.deadline_at)
            .bind(c.ended_at)
            .bind(c.version)
            .bind(c.updated_at)
            .bind(expected)
            .bind(c.next_session_at)
            .bind(&c.next_session_place)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if done {
                sqlx::query(
                    "INSERT INTO case_entries (region_code, case_id, seq, kind, body, actor, at) \
                     SELECT $1, $2, COALESCE(MAX(seq), 0) + 1, $3, $4, $5, $6 FROM case_entries \
                     WHERE region_code = $1 AND case_id = $2",
                )
                .bind(&c.region_code)
                .bind(c.id)
                .bind(kind)
                .bind(body)
                .bind(actor)
                .bind(c.updated_at)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(done)
        })?)
    }
}

/// Writes cases with their parties and timelines (`Vec<&NewCase>`) in the transaction `$tx`, and
/// moves the daily case numbers on so that later cases never reuse the ones used here; a macro so
/// each backend's arm of [`on_db!`] binds its own types. Evaluates to `()` or returns the error.
macro_rules! write_cases {
    ($tx:expr, $cases:expr) => {{
        let cases: &[&$crate::mediation::NewCase] = &$cases;
        let mut last: std::collections::BTreeMap<(String, String), i64> = Default::default();
        for (c, _, _) in cases.iter().map(|c| &**c) {
            if c.code.len() == 19 {
                let key = (format!("M{}", &c.code[1..7]), c.code[7..15].to_string());
                let seq: i64 = c.code[15..].parse().unwrap_or(0);
                let e = last.entry(key).or_insert(0);
                *e = (*e).max(seq);
            }
        }
            for ((county, day), seq) in &last {
                sqlx::query(
                    "INSERT INTO event_sequences (county, day, seq) VALUES ($1, $2, $3) \
                     ON CONFLICT (county, day) DO UPDATE SET seq = CASE WHEN event_sequences.seq > excluded.seq THEN event_sequences.seq ELSE excluded.seq END",
                )
                .bind(county)
                .bind(day)
                .bind(*seq)
                .execute(&mut *$tx)
                .await?;
            }
            for chunk in cases.chunks(100) {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO mediation_cases (region_code, id, code, event_id, dispute_type, source, origin, facts, points, \
                     amount_cents, risk_level, grid_code, lon, lat, org_id, lead_mediator, mediators, state, outcome, outcome_note, \
                     agreement, signatures, agreed_at, effective_at, confirmation, performed_at, deadline_at, opened_at, ended_at, \
                     version, updated_at, next_session_at, next_session_place) ",
                );
                q.push_values(chunk.iter().map(|c| &**c), |mut b, (c, _, _)| {
                    b.push_bind(c.region_code.clone())
                        .push_bind(c.id)
                        .push_bind(c.code.clone())
                        .push_bind(c.event_id)
                        .push_bind(c.dispute_type.clone())
                        .push_bind(c.source.clone())
                        .push_bind(c.origin.clone())
                        .push_bind(c.facts.clone())
                        .push_bind(c.points.clone())
                        .push_bind(c.amount_cents)
                        .push_bind(c.risk_level.clone())
                        .push_bind(c.grid_code.clone())
                        .push_bind(c.lon)
                        .push_bind(c.lat)
                        .push_bind(c.org_id)
                        .push_bind(c.lead_mediator)
                        .push_bind(c.mediators.clone())
                        .push_bind(c.state.clone())
                        .push_bind(c.outcome.clone())
                        .push_bind(c.outcome_note.clone())
                        .push_bind(c.agreement.clone())
                        .push_bind(c.signatures.clone())
                        .push_bind(c.agreed_at)
                        .push_bind(c.effective_at)
                        .push_bind(c.confirmation.clone())
                        .push_bind(c.performed_at)
                        .push_bind(c.deadline_at)
                        .push_bind(c.opened_at)
                        .push_bind(c.ended_at)
                        .push_bind(c.version)
                        .push_bind(c.updated_at)
                        .push_bind(c.next_session_at)
                        .push_bind(c.next_session_place.clone());
                });
                q.build().execute(&mut *$tx).await?;
                let parties: Vec<(&$crate::mediation::CaseRow, &$crate::mediation::PartyRow)> = chunk
                    .iter()
                    .flat_map(|c| c.1.iter().map(move |p| (&c.0, p)))
                    .collect();
                for part in parties.chunks($crate::mediation::BATCH) {
                    let mut q = sqlx::QueryBuilder::new(
                        "INSERT INTO case_parties (region_code, case_id, seq, kind, side, name, id_number_enc, id_number_idx, phone_enc, address) ",
                    );
                    q.push_values(part, |mut b, (c, p)| {
                        b.push_bind(c.region_code.clone())
                            .push_bind(c.id)
                            .push_bind(p.seq)
                            .push_bind(p.kind.clone())
                            .push_bind(p.side.clone())
                            .push_bind(p.name.clone())
                            .push_bind(p.id_number_enc.clone())
                            .push_bind(p.id_number_idx.clone())
                            .push_bind(p.phone_enc.clone())
                            .push_bind(p.address.clone());
                    });
                    q.build().execute(&mut *$tx).await?;
                }
                let entries: Vec<(&$crate::mediation::CaseRow, &$crate::mediation::CaseEntry)> = chunk
                    .iter()
                    .flat_map(|c| c.2.iter().map(move |e| (&c.0, e)))
                    .collect();
                for part in entries.chunks($crate::mediation::BATCH) {
                    let mut q = sqlx::QueryBuilder::new(
                        "INSERT INTO case_entries (region_code, case_id, seq, kind, body, actor, at) ",
                    );
                    q.push_values(part, |mut b, (c, e)| {
                        b.push_bind(c.region_code.clone())
                            .push_bind(c.id)
                            .push_bind(e.seq)
                            .push_bind(e.kind.clone())
                            .push_bind(e.body.clone())
                            .push_bind(e.actor.clone())
                            .push_bind(e.at);
                    });
                    q.build().execute(&mut *$tx).await?;
                }
            }
    }};
}
pub(crate) use write_cases;

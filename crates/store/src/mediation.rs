//! Storage of people's mediation: organisations and mediators, dispute cases with their parties
//! and their timeline (the case file), transfer slips, and the statistics counted in the database
//! (handled, successful, …) so a city's year is one grouped read, not a transfer of every case.
//! Every read of cases takes the caller's visibility (a prefix of the case's grid code).

use crate::{StoreError, on_db};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, QueryBuilder};
use uuid::Uuid;
use wangge_domain::access::Visibility;

pub(crate) const BATCH: usize = 500;

#[derive(Debug, Clone, PartialEq, Serialize, FromRow)]
pub struct MediationOrgRow {
    pub id: Uuid,
    pub region_code: String,
    pub kind: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, FromRow)]
pub struct MediatorRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub region_code: String,
    pub name: String,
    pub title: String,
    pub specialities: String,
    pub legal_adviser: i64,
    pub account_id: Option<Uuid>,
}

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

#[derive(Debug, Clone, PartialEq, Serialize, FromRow)]
pub struct SlipRow {
    pub id: Uuid,
    pub region_code: String,
    pub case_id: Option<Uuid>,
    pub from_org: Uuid,
    pub to_org: Option<Uuid>,
    pub to_department: Option<Uuid>,
    pub reason: String,
    pub receipt_due_at: DateTime<Utc>,
    pub reply_due_at: DateTime<Utc>,
    pub received_at: Option<DateTime<Utc>>,
    pub received_by: Option<String>,
    pub replied_at: Option<DateTime<Utc>>,
    pub reply: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

const SLIP_COLUMNS: &str = "SELECT id, region_code, case_id, from_org, to_org, to_department, reason, \
    receipt_due_at, reply_due_at, received_at, received_by, replied_at, reply, created_by, created_at FROM transfer_slips";

/// What a case list filters on.
#[derive(Debug, Clone, Default)]
pub struct CaseQuery {
    pub state: Option<String>,
    pub org: Option<Uuid>,
    pub mediator: Option<Uuid>,
    pub dispute_type: Option<String>,
    pub limit: i64,
}

/// What the statistics count over: a region (by prefix, through the visibility), and optionally
/// one organisation, one mediator (lead or not), one type; a period on the end of mediation.
#[derive(Debug, Clone, Default)]
pub struct StatsQuery {
    pub org: Option<Uuid>,
    pub mediator: Option<Uuid>,
    pub dispute_type: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// The counts as the database returns them; the domain's `Stats` is made from them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatsCounts {
    pub received: i64,
    pub handled: i64,
    pub successful: i64,
    pub failed: i64,
    pub ended: i64,
    pub referred: i64,
    pub performed: i64,
    pub total_days: f64,
}

/// `$n` placeholders for the optional filters, in order, after `first` fixed ones.
fn filters(q: &StatsQuery, first: usize) -> (String, usize) {
    let mut sql = String::new();
    let mut n = first;
    if q.org.is_some() {
        n += 1;
        sql.push_str(&format!(" AND org_id = ${n}"));
    }
    if q.mediator.is_some() {
        n += 1;
        sql.push_str(&format!(" AND (' ' || mediators || ' ') LIKE ${n}"));
    }
    if q.dispute_type.is_some() {
        n += 1;
        sql.push_str(&format!(" AND dispute_type = ${n}"));
    }
    (sql, n)
}

impl crate::Store {
    /// Writes the mediation network (organisations, then their mediators) in one transaction.
    pub async fn insert_mediation_network(
        &self,
        orgs: &[MediationOrgRow],
        mediators: &[MediatorRow],
    ) -> Result<(), StoreError> {
        let at = Utc::now();
        on_db!(self, |pool| {
            let mut tx = pool.begin().await?;
            for chunk in orgs.chunks(BATCH) {
                let mut q = QueryBuilder::new(
                    "INSERT INTO mediation_orgs (id, region_code, kind, name, created_at) ",
                );
                q.push_values(chunk, |mut b, o| {
                    b.push_bind(o.id)
                        .push_bind(o.region_code.clone())
                        .push_bind(o.kind.clone())
                        .push_bind(o.name.clone())
                        .push_bind(at);
                });
                q.build().execute(&mut *tx).await?;
            }
            for chunk in mediators.chunks(BATCH) {
                let mut q = QueryBuilder::new(
                    "INSERT INTO mediators (id, org_id, region_code, name, title, specialities, legal_adviser, account_id, created_at) ",
                );
                q.push_values(chunk, |mut b, m| {
                    b.push_bind(m.id)
                        .push_bind(m.org_id)
                        .push_bind(m.region_code.clone())
                        .push_bind(m.name.clone())
                        .push_bind(m.title.clone())
                        .push_bind(m.specialities.clone())
                        .push_bind(m.legal_adviser)
                        .push_bind(m.account_id)
                        .push_bind(at);
                });
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(())
        })?;
        Ok(())
    }

    /// Gives a mediator record its login (and the login's name).
    pub async fn link_mediator_account(
        &self,
        mediator: Uuid,
        account: Uuid,
        name: &str,
    ) -> Result<(), StoreError> {
        on_db!(self, |p| sqlx::query(
            "UPDATE mediators SET account_id = $2, name = $3 WHERE id = $1"
        )
        .bind(mediator)
        .bind(account)
        .bind(name)
        .execute(p)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// The organisations whose region is in sight.
    pub async fn mediation_orgs(
        &self,
        vis: &Visibility,
    ) -> Result<Vec<MediationOrgRow>, StoreError> {
        let (lo, hi) = vis.range();
        Ok(on_db!(self, |p| sqlx::query_as(
            "SELECT id, region_code, kind, name FROM mediation_orgs \
             WHERE region_code >= $1 AND region_code < $2 ORDER BY region_code, name"
        )
        .bind(&lo)
        .bind(&hi)
        .fetch_all(p)
        .await)?)
    }

    pub async fn mediation_org(&self, id: Uuid) -> Result<Option<MediationOrgRow>, StoreError> {
        Ok(on_db!(self, |p| sqlx::query_as(
            "SELECT id, region_code, kind, name FROM mediation_orgs WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(p)
        .await)?)
    }

    /// Mediators of the organisations in sight, or of one organisation.
    pub async fn mediators(
        &self,
        vis: &Visibility,
        org: Option<Uuid>,
    ) -> Result<Vec<MediatorRow>, StoreError> {
        let (lo, hi) = vis.range();
        let sql = if org.is_some() {
            "SELECT id, org_id, region_code, name, title, specialities, legal_adviser, account_id FROM mediators \
             WHERE region_code >= $1 AND region_code < $2 AND org_id = $3 ORDER BY name"
        } else {
            "SELECT id, org_id, region_code, name, title, specialities, legal_adviser, account_id FROM mediators \
             WHERE region_code >= $1 AND region_code < $2 ORDER BY region_code, name"
        };
        Ok(on_db!(self, |p| {
            let q = sqlx::query_as(sql).bind(&lo).bind(&hi);
            match org {
                Some(o) => q.bind(o).fetch_all(p).await,
                None => q.fetch_all(p).await,
            }
        })?)
    }

    pub async fn mediator(&self, id: Uuid) -> Result<Option<MediatorRow>, StoreError> {
        Ok(on_db!(self, |p| {
            sqlx::query_as(
            "SELECT id, org_id, region_code, name, title, specialities, legal_adviser, account_id FROM mediators WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(p)
        .await
        })?)
    }

    /// The mediator record a login belongs to.
    pub async fn mediator_of_account(
        &self,
        account: Uuid,
    ) -> Result<Option<MediatorRow>, StoreError> {
        Ok(on_db!(self, |p| {
            sqlx::query_as(
            "SELECT id, org_id, region_code, name, title, specialities, legal_adviser, account_id FROM mediators WHERE account_id = $1"
        )
        .bind(account)
        .fetch_optional(p)
        .await
        })?)
    }

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

    /// Mediators by id, in one read.
    pub async fn mediators_by_id(&self, ids: &[Uuid]) -> Result<Vec<MediatorRow>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(on_db!(self, |p| {
            let mut q = QueryBuilder::new(
                "SELECT id, org_id, region_code, name, title, specialities, legal_adviser, account_id FROM mediators WHERE id IN (",
            );
            let mut list = q.separated(", ");
            for id in ids {
                list.push_bind(*id);
            }
            q.push(")");
            q.build_query_as().fetch_all(p).await
        })?)
    }

    /// Mediation organisations by id, in one read.
    pub async fn mediation_orgs_by_id(
        &self,
        ids: &[Uuid],
    ) -> Result<Vec<MediationOrgRow>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(on_db!(self, |p| {
            let mut q = QueryBuilder::new(
                "SELECT id, region_code, kind, name FROM mediation_orgs WHERE id IN (",
            );
            let mut list = q.separated(", ");
            for id in ids {
                list.push_bind(*id);
            }
            q.push(")");
            q.build_query_as().fetch_all(p).await
        })?)
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

    pub async fn insert_slip(&self, s: &SlipRow) -> Result<(), StoreError> {
        on_db!(self, |p| {
            sqlx::query(
            "INSERT INTO transfer_slips (id, region_code, case_id, from_org, to_org, to_department, reason, \
             receipt_due_at, reply_due_at, received_at, received_by, replied_at, reply, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        )
        .bind(s.id)
        .bind(&s.region_code)
        .bind(s.case_id)
        .bind(s.from_org)
        .bind(s.to_org)
        .bind(s.to_department)
        .bind(&s.reason)
        .bind(s.receipt_due_at)
        .bind(s.reply_due_at)
        .bind(s.received_at)
        .bind(&s.received_by)
        .bind(s.replied_at)
        .bind(&s.reply)
        .bind(&s.created_by)
        .bind(s.created_at)
        .execute(p)
        .await
        .map(|_| ())
        })?;
        Ok(())
    }

    pub async fn slip(&self, id: Uuid) -> Result<Option<SlipRow>, StoreError> {
        Ok(on_db!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            format!("{SLIP_COLUMNS} WHERE id = $1")
        ))
        .bind(id)
        .fetch_optional(p)
        .await)?)
    }

    pub async fn slips_of_case(&self, case: Uuid) -> Result<Vec<SlipRow>, StoreError> {
        Ok(on_db!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            format!("{SLIP_COLUMNS} WHERE case_id = $1 ORDER BY created_at")
        ))
        .bind(case)
        .fetch_all(p)
        .await)?)
    }

    /// Slips sent to an organisation or a department, newest first.
    pub async fn slips_to(
        &self,
        org: Option<Uuid>,
        department: Option<Uuid>,
    ) -> Result<Vec<SlipRow>, StoreError> {
        Ok(on_db!(self, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SLIP_COLUMNS} WHERE to_org = $1 OR to_department = $2 ORDER BY created_at DESC LIMIT 500"
        )))
        .bind(org)
        .bind(department)
        .fetch_all(p)
        .await
        })?)
    }

    /// Records a slip's receipt (once) or its reply (once): `Ok(false)` when already done.
    pub async fn answer_slip(
        &self,
        id: Uuid,
        received: Option<(&str, DateTime<Utc>)>,
        reply: Option<(&str, DateTime<Utc>)>,
    ) -> Result<bool, StoreError> {
        let (sql, at, text) = match (received, reply) {
            (Some((by, at)), _) => (
                "UPDATE transfer_slips SET received_at = $2, received_by = $3 WHERE id = $1 AND received_at IS NULL",
                at,
                by,
            ),
            (None, Some((text, at))) => (
                "UPDATE transfer_slips SET replied_at = $2, reply = $3 WHERE id = $1 AND replied_at IS NULL AND received_at IS NOT NULL",
                at,
                text,
            ),
            (None, None) => return Ok(false),
        };
        let done = on_db!(self, |p| sqlx::query(sql)
            .bind(id)
            .bind(at)
            .bind(text)
            .execute(p)
            .await
            .map(|r| r.rows_affected() == 1))?;
        Ok(done)
    }

    /// The statistics of the cases in sight: received (opened in the period) and, of those whose
    /// mediation ended in the period, how each ended, how many agreements were performed and the
    /// summed days from opening to the end. Two grouped reads.
    pub async fn mediation_counts(
        &self,
        vis: &Visibility,
        q: &StatsQuery,
    ) -> Result<StatsCounts, StoreError> {
        let (lo, hi) = vis.range();
        let days = match self.backend() {
            crate::Backend::Sqlite => "julianday(ended_at) - julianday(opened_at)",
            crate::Backend::Postgres => "EXTRACT(EPOCH FROM (ended_at - opened_at)) / 86400.0",
        };
        // Open ends as far-off dates both databases store and compare like any other (SQLite
        // compares the text: four-digit years keep the order).
        let from = q.from.unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
        let to = q.to.unwrap_or_else(|| {
            DateTime::parse_from_rfc3339("9999-12-31T00:00:00Z").map_or(Utc::now(), |t| t.to_utc())
        });
        let (extra, _) = filters(q, 4);
        let ended_sql = format!(
            "SELECT COUNT(*) AS handled, \
               COALESCE(SUM(CASE WHEN outcome IN ('agreed_written', 'agreed_oral') THEN 1 ELSE 0 END), 0) AS successful, \
               COALESCE(SUM(CASE WHEN outcome = 'failed' THEN 1 ELSE 0 END), 0) AS failed, \
               COALESCE(SUM(CASE WHEN outcome = 'ended' THEN 1 ELSE 0 END), 0) AS ended, \
               COALESCE(SUM(CASE WHEN outcome = 'referred' THEN 1 ELSE 0 END), 0) AS referred, \
               COALESCE(SUM(CASE WHEN outcome IN ('agreed_written', 'agreed_oral') AND performed_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS performed, \
               CAST(COALESCE(SUM({days}), 0) AS DOUBLE PRECISION) AS total_days \
             FROM mediation_cases WHERE ended_at >= $1 AND ended_at < $2 AND outcome IS NOT NULL \
               AND grid_code >= $3 AND grid_code < $4{extra}"
        );
        let ended_sql = if self.backend() == crate::Backend::Sqlite {
            ended_sql.replace("DOUBLE PRECISION", "REAL")
        } else {
            ended_sql
        };
        let received_sql = format!(
            "SELECT COUNT(*) FROM mediation_cases WHERE opened_at >= $1 AND opened_at < $2 \
               AND grid_code >= $3 AND grid_code < $4{extra}"
        );
        let mediator = q.mediator.map(|m| format!("% {m} %"));
        type Ended = (i64, i64, i64, i64, i64, i64, f64);
        let (ended, (received,)): (Ended, (i64,)) = on_db!(self, |p| {
            let mut e = sqlx::query_as(sqlx::AssertSqlSafe(ended_sql.clone()))
                .bind(from)
                .bind(to)
                .bind(&lo)
                .bind(&hi);
            let mut r = sqlx::query_as(sqlx::AssertSqlSafe(received_sql.clone()))
                .bind(from)
                .bind(to)
                .bind(&lo)
                .bind(&hi);
            if let Some(o) = q.org {
                e = e.bind(o);
                r = r.bind(o);
            }
            if let Some(m) = &mediator {
                e = e.bind(m.clone());
                r = r.bind(m.clone());
            }
            if let Some(t) = &q.dispute_type {
                e = e.bind(t.clone());
                r = r.bind(t.clone());
            }
            let ended = e.fetch_one(p).await?;
            let received = r.fetch_one(p).await?;
            Ok::<_, sqlx::Error>((ended, received))
        })?;
        let (handled, successful, failed, ended_n, referred, performed, total_days) = ended;
        Ok(StatsCounts {
            received,
            handled,
            successful,
            failed,
            ended: ended_n,
            referred,
            performed,
            total_days,
        })
    }
}

/// A grid's screening round (排查): how often, when next, when last done.
#[derive(Debug, Clone, PartialEq, Serialize, FromRow)]
pub struct ScreeningSchedule {
    pub grid_code: String,
    pub every_days: i64,
    pub next_due_at: DateTime<Utc>,
    pub last_done_at: Option<DateTime<Utc>>,
    pub set_by: String,
    pub updated_at: DateTime<Utc>,
}

/// One screening done in a grid.
#[derive(Debug, Clone, PartialEq, Serialize, FromRow)]
pub struct ScreeningRow {
    pub id: Uuid,
    pub grid_code: String,
    pub done_at: DateTime<Utc>,
    pub done_by: String,
    pub findings: i64,
    pub notes: String,
}

impl crate::Store {
    /// Sets (or replaces) a grid's screening round.
    pub async fn set_screening(&self, s: &ScreeningSchedule) -> Result<(), StoreError> {
        on_db!(self, |p| {
            sqlx::query(
            "INSERT INTO screening_schedules (grid_code, every_days, next_due_at, last_done_at, set_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (grid_code) DO UPDATE SET every_days = excluded.every_days, \
             next_due_at = excluded.next_due_at, set_by = excluded.set_by, updated_at = excluded.updated_at"
        )
        .bind(&s.grid_code)
        .bind(s.every_days)
        .bind(s.next_due_at)
        .bind(s.last_done_at)
        .bind(&s.set_by)
        .bind(s.updated_at)
        .execute(p)
        .await
        .map(|_| ())
        })?;
        Ok(())
    }

    /// The rounds of the grids in sight, the most overdue first.
    pub async fn screenings_due(
        &self,
        vis: &Visibility,
    ) -> Result<Vec<ScreeningSchedule>, StoreError> {
        let (lo, hi) = vis.range();
        Ok(on_db!(self, |p| {
            sqlx::query_as(
            "SELECT grid_code, every_days, next_due_at, last_done_at, set_by, updated_at FROM screening_schedules \
             WHERE grid_code >= $1 AND grid_code < $2 ORDER BY next_due_at LIMIT 2000"
        )
        .bind(&lo)
        .bind(&hi)
        .fetch_all(p)
        .await
        })?)
    }

    /// Records a screening and moves the grid's round on from it, in one transaction. `Ok(false)`
    /// when the grid has no round.
    pub async fn record_screening(&self, r: &ScreeningRow) -> Result<bool, StoreError> {
        let round: Option<(i64,)> = on_db!(self, |p| sqlx::query_as(
            "SELECT every_days FROM screening_schedules WHERE grid_code = $1"
        )
        .bind(&r.grid_code)
        .fetch_optional(p)
        .await)?;
        // Rounds are set and changed, never removed: the one read here is the one moved on.
        let Some((every,)) = round else {
            return Ok(false);
        };
        on_db!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO screenings (id, grid_code, done_at, done_by, findings, notes) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(r.id)
            .bind(&r.grid_code)
            .bind(r.done_at)
            .bind(&r.done_by)
            .bind(r.findings)
            .bind(&r.notes)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE screening_schedules SET last_done_at = $2, next_due_at = $3 WHERE grid_code = $1",
            )
            .bind(&r.grid_code)
            .bind(r.done_at)
            .bind(r.done_at + chrono::Duration::days(every))
            .execute(&mut *tx)
            .await?;
            tx.commit().await
        })?;
        Ok(true)
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

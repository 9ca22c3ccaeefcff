//! Departments, units, people in grid teams and the party organisation: batch writes (the demo
//! and imports create thousands at once) and the reads the API needs.

use crate::registry::now;
use crate::{StoreError, on_db};
use serde::Serialize;
use sqlx::{FromRow, QueryBuilder};
use uuid::Uuid;
use wangge_domain::access::Visibility;

pub(crate) const BATCH: usize = 500;

#[derive(Debug, Clone)]
pub struct NewDepartment {
    pub id: Uuid,
    /// The code the city gives it (部门编码), unique.
    pub code: String,
    pub region_code: String,
    pub kind: String,
    pub name: String,
    pub parent_id: Option<Uuid>,
}

/// A unit as written and as the register reads it back.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct NewUnit {
    pub region_code: String,
    pub id: Uuid,
    /// The code the city gives it (单位编码).
    pub code: String,
    pub kind: String,
    pub domain: String,
    pub name: String,
    pub township_code: Option<String>,
    pub grid_code: Option<String>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub address: Option<String>,
    /// The person responsible, with a phone as SM4-GCM ciphertext and blind index.
    pub contact_name: Option<String>,
    pub contact_phone_enc: Option<String>,
    pub contact_phone_idx: Option<String>,
    pub active: bool,
}

/// A person as written and as the register reads them back.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct NewPerson {
    pub region_code: String,
    pub id: Uuid,
    pub name: String,
    pub employment: String,
    pub home_code: String,
    /// SM4-GCM ciphertexts and HMAC-SM3 blind indexes; never the identifiers in clear.
    pub id_number_enc: Option<String>,
    pub id_number_idx: Option<String>,
    pub phone_enc: Option<String>,
    pub phone_idx: Option<String>,
    /// 人员类别 (`PersonKind`).
    pub kind: String,
    /// The grid a grid worker serves.
    pub grid_code: Option<String>,
    pub department_id: Option<Uuid>,
    /// YYYY-MM-DD.
    pub hired_on: Option<String>,
    pub active: bool,
}

/// A member of a team, as written and as the register reads them back.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct NewTeamMember {
    pub region_code: String,
    /// The grid of a 1+4+X team, or the community of a 1+N+X police team.
    pub grid_code: String,
    pub person_id: Uuid,
    pub role: String,
    /// `TeamKind`: grid | policing.
    pub team: String,
}

/// A party organisation as written and as the register reads it back.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct NewPartyOrg {
    pub region_code: String,
    pub id: Uuid,
    /// The code the city gives it (组织编码).
    pub code: String,
    pub level: String,
    pub name: String,
    pub parent_id: Option<Uuid>,
    pub node_code: String,
    /// The unit it belongs to, for a unit's own organisation.
    pub unit_id: Option<Uuid>,
    pub active: bool,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct DepartmentRow {
    pub id: Uuid,
    pub region_code: String,
    pub kind: String,
    pub name: String,
    pub parent_id: Option<Uuid>,
}

#[derive(FromRow)]
struct ServingRow {
    id: Uuid,
    region_code: String,
    kind: String,
    name: String,
    parent_id: Option<Uuid>,
    area: String,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct UnitRow {
    pub id: Uuid,
    pub kind: String,
    pub domain: String,
    pub name: String,
    pub township_code: Option<String>,
    pub grid_code: Option<String>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub address: Option<String>,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct TeamMemberRow {
    pub person_id: Uuid,
    pub name: String,
    pub role: String,
    pub employment: String,
}

/// Everything the demo or an import of organisations writes, in one transaction.
#[derive(Debug, Default, Clone)]
pub struct OrgBatch {
    pub departments: Vec<NewDepartment>,
    pub units: Vec<NewUnit>,
    pub people: Vec<NewPerson>,
    pub team_members: Vec<NewTeamMember>,
    pub party_orgs: Vec<NewPartyOrg>,
}

/// One multi-row INSERT per [`BATCH`] of `$rows` in the transaction `$tx`, each row's values
/// pushed by `$push`; a macro so each backend's arm of [`on_db!`] binds its own types. Returns
/// the error, if any.
macro_rules! insert_chunks {
    ($tx:expr, $sql:expr, $rows:expr, $push:expr) => {
        for chunk in $rows.chunks(BATCH) {
            let mut q = QueryBuilder::new($sql);
            q.push_values(chunk, $push);
            q.build().execute(&mut *$tx).await?;
        }
    };
}

pub(crate) const UNIT_INSERT: &str = "INSERT INTO units (region_code, id, code, kind, domain, name, \
    township_code, grid_code, lon, lat, address, contact_name, contact_phone_enc, contact_phone_idx, \
    active, created_at, updated_at) ";

pub(crate) fn push_unit<DB: sqlx::Database>(
    mut b: sqlx::query_builder::Separated<'_, DB, &'static str>,
    u: &NewUnit,
    at: chrono::DateTime<chrono::Utc>,
) where
    for<'q> Uuid: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<f64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> chrono::DateTime<chrono::Utc>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    b.push_bind(u.region_code.clone())
        .push_bind(u.id)
        .push_bind(u.code.clone())
        .push_bind(u.kind.clone())
        .push_bind(u.domain.clone())
        .push_bind(u.name.clone())
        .push_bind(u.township_code.clone())
        .push_bind(u.grid_code.clone())
        .push_bind(u.lon)
        .push_bind(u.lat)
        .push_bind(u.address.clone())
        .push_bind(u.contact_name.clone())
        .push_bind(u.contact_phone_enc.clone())
        .push_bind(u.contact_phone_idx.clone())
        .push_bind(i64::from(u.active))
        .push_bind(at)
        .push_bind(at);
}

pub(crate) const PERSON_INSERT: &str = "INSERT INTO people (region_code, id, name, employment, \
    home_code, id_number_enc, id_number_idx, phone_enc, phone_idx, kind, grid_code, department_id, \
    hired_on, active, created_at, updated_at) ";

pub(crate) fn push_person<DB: sqlx::Database>(
    mut b: sqlx::query_builder::Separated<'_, DB, &'static str>,
    p: &NewPerson,
    at: chrono::DateTime<chrono::Utc>,
) where
    for<'q> Uuid: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<Uuid>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> chrono::DateTime<chrono::Utc>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    b.push_bind(p.region_code.clone())
        .push_bind(p.id)
        .push_bind(p.name.clone())
        .push_bind(p.employment.clone())
        .push_bind(p.home_code.clone())
        .push_bind(p.id_number_enc.clone())
        .push_bind(p.id_number_idx.clone())
        .push_bind(p.phone_enc.clone())
        .push_bind(p.phone_idx.clone())
        .push_bind(p.kind.clone())
        .push_bind(p.grid_code.clone())
        .push_bind(p.department_id)
        .push_bind(p.hired_on.clone())
        .push_bind(i64::from(p.active))
        .push_bind(at)
        .push_bind(at);
}

pub(crate) const PARTY_INSERT: &str = "INSERT INTO party_orgs (region_code, id, code, level, name, \
    parent_id, node_code, unit_id, active, updated_at) ";

pub(crate) fn push_party<DB: sqlx::Database>(
    mut b: sqlx::query_builder::Separated<'_, DB, &'static str>,
    o: &NewPartyOrg,
    at: chrono::DateTime<chrono::Utc>,
) where
    for<'q> Uuid: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<Uuid>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> chrono::DateTime<chrono::Utc>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    b.push_bind(o.region_code.clone())
        .push_bind(o.id)
        .push_bind(o.code.clone())
        .push_bind(o.level.clone())
        .push_bind(o.name.clone())
        .push_bind(o.parent_id)
        .push_bind(o.node_code.clone())
        .push_bind(o.unit_id)
        .push_bind(i64::from(o.active))
        .push_bind(at);
}

pub(crate) const MEMBER_INSERT: &str =
    "INSERT INTO grid_team_members (region_code, grid_code, person_id, role, team) ";

pub(crate) fn push_member<DB: sqlx::Database>(
    mut b: sqlx::query_builder::Separated<'_, DB, &'static str>,
    m: &NewTeamMember,
) where
    for<'q> Uuid: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    b.push_bind(m.region_code.clone())
        .push_bind(m.grid_code.clone())
        .push_bind(m.person_id)
        .push_bind(m.role.clone())
        .push_bind(m.team.clone());
}

impl crate::Store {
    /// Writes the batch in one transaction, parents before children: a department's parent is
    /// always earlier in the list.
    pub async fn insert_org_batch(&self, batch: &OrgBatch) -> Result<(), StoreError> {
        let at = now();
        Ok(on_db!(self, |pool| {
            let mut tx = pool.begin().await?;
            insert_chunks!(
                tx,
                "INSERT INTO departments (id, code, region_code, kind, name, parent_id, created_at) ",
                batch.departments,
                |mut b, d| {
                    b.push_bind(d.id)
                        .push_bind(d.code.clone())
                        .push_bind(d.region_code.clone())
                        .push_bind(d.kind.clone())
                        .push_bind(d.name.clone())
                        .push_bind(d.parent_id)
                        .push_bind(at);
                }
            );
            insert_chunks!(
                tx,
                "INSERT INTO department_areas (department_id, region_code) ",
                batch.departments,
                |mut b, d| {
                    b.push_bind(d.id).push_bind(d.region_code.clone());
                }
            );
            insert_chunks!(tx, UNIT_INSERT, batch.units, |b, u| push_unit(b, u, at));
            insert_chunks!(tx, PERSON_INSERT, batch.people, |b, p| push_person(
                b, p, at
            ));
            insert_chunks!(tx, MEMBER_INSERT, batch.team_members, push_member);
            insert_chunks!(tx, PARTY_INSERT, batch.party_orgs, |b, o| push_party(
                b, o, at
            ));
            tx.commit().await
        })?)
    }

    /// The departments in service named to serve each of the regions (an event's township, county
    /// and city: a county bureau serves its townships too), in the regions' order, then by kind
    /// and name; each once.
    pub async fn departments_serving(
        &self,
        region_codes: &[String],
    ) -> Result<Vec<DepartmentRow>, StoreError> {
        if region_codes.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (1..=region_codes.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT d.id, d.region_code, d.kind, d.name, d.parent_id, a.region_code AS area \
             FROM departments d JOIN department_areas a ON a.department_id = d.id \
             WHERE a.region_code IN ({}) AND d.active = 1",
            marks.join(", ")
        );
        let mut rows: Vec<ServingRow> = on_db!(self, |p| {
            // Only numbered placeholders are formatted in; the codes are bound.
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
            for c in region_codes {
                q = q.bind(c);
            }
            q.fetch_all(p).await
        })?;
        let rank = |area: &str| region_codes.iter().position(|c| c == area);
        rows.sort_by(|a, b| {
            (rank(&a.area), &a.kind, &a.name).cmp(&(rank(&b.area), &b.kind, &b.name))
        });
        let mut out: Vec<DepartmentRow> = Vec::with_capacity(rows.len());
        for r in rows {
            if !out.iter().any(|o| o.id == r.id) {
                out.push(DepartmentRow {
                    id: r.id,
                    region_code: r.region_code,
                    kind: r.kind,
                    name: r.name,
                    parent_id: r.parent_id,
                });
            }
        }
        Ok(out)
    }

    pub async fn department_count(&self) -> Result<i64, StoreError> {
        let (n,): (i64,) = on_db!(self, |p| sqlx::query_as("SELECT COUNT(*) FROM departments")
            .fetch_one(p)
            .await)?;
        Ok(n)
    }

    /// Units in a grid the caller sees.
    pub async fn units_in_grid(
        &self,
        vis: &Visibility,
        grid_code: &str,
    ) -> Result<Vec<UnitRow>, StoreError> {
        if !vis.sees(grid_code) {
            return Ok(Vec::new());
        }
        Ok(on_db!(self, |p| {
            sqlx::query_as(
            "SELECT id, kind, domain, name, township_code, grid_code, lon, lat, address FROM units WHERE grid_code = $1 AND active = 1 ORDER BY kind, name"
        )
        .bind(grid_code)
        .fetch_all(p)
        .await
        })?)
    }

    /// Count of units by kind at or below a region (by the most precise place a unit has).
    pub async fn unit_counts(&self, prefix: &str) -> Result<Vec<(String, i64)>, StoreError> {
        let (lo, hi) = wangge_domain::region::code_range(prefix);
        Ok(on_db!(self, |p| {
            sqlx::query_as(
            "SELECT kind, COUNT(*) FROM units WHERE COALESCE(grid_code, township_code, region_code) >= $1 \
             AND COALESCE(grid_code, township_code, region_code) < $2 GROUP BY kind ORDER BY kind"
        )
        .bind(&lo)
        .bind(&hi)
        .fetch_all(p)
        .await
        })?)
    }

    /// The "1+4+X" team of a grid the caller sees.
    pub async fn grid_team(
        &self,
        vis: &Visibility,
        grid_code: &str,
    ) -> Result<Vec<TeamMemberRow>, StoreError> {
        if !vis.sees(grid_code) {
            return Ok(Vec::new());
        }
        Ok(on_db!(self, |p| sqlx::query_as(
            "SELECT m.person_id, pe.name, m.role, pe.employment FROM grid_team_members m \
             JOIN people pe ON pe.region_code = m.region_code AND pe.id = m.person_id \
             WHERE m.grid_code = $1 AND pe.active = 1 ORDER BY m.role, pe.name"
        )
        .bind(grid_code)
        .fetch_all(p)
        .await)?)
    }

    /// Party organisations by level at or below a prefix of node codes.
    pub async fn party_org_counts(&self, prefix: &str) -> Result<Vec<(String, i64)>, StoreError> {
        let (lo, hi) = wangge_domain::region::code_range(prefix);
        Ok(on_db!(self, |p| {
            sqlx::query_as(
            "SELECT level, COUNT(*) FROM party_orgs WHERE node_code >= $1 AND node_code < $2 GROUP BY level ORDER BY level"
        )
        .bind(&lo)
        .bind(&hi)
        .fetch_all(p)
        .await
        })?)
    }
}

#[derive(Debug, Clone, FromRow)]
pub struct PersonRow {
    pub id: Uuid,
    pub region_code: String,
    pub name: String,
    pub employment: String,
    pub home_code: String,
    pub id_number_enc: Option<String>,
    pub phone_enc: Option<String>,
}

impl crate::Store {
    /// A person the caller sees (by the place they belong to).
    pub async fn person(
        &self,
        vis: &Visibility,
        id: Uuid,
    ) -> Result<Option<PersonRow>, StoreError> {
        let row: Option<PersonRow> = on_db!(self, |p| {
            sqlx::query_as(
            "SELECT id, region_code, name, employment, home_code, id_number_enc, phone_enc FROM people WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(p)
        .await
        })?;
        Ok(row.filter(|r| vis.sees(&r.home_code)))
    }

    /// People found by the blind index of an identifier, within sight.
    pub async fn people_by_index(
        &self,
        vis: &Visibility,
        column_is_phone: bool,
        index: &str,
    ) -> Result<Vec<PersonRow>, StoreError> {
        let rows: Vec<PersonRow> = if column_is_phone {
            on_db!(self, |p| {
                sqlx::query_as(
                "SELECT id, region_code, name, employment, home_code, id_number_enc, phone_enc FROM people WHERE phone_idx = $1"
            )
            .bind(index)
            .fetch_all(p)
            .await
            })?
        } else {
            on_db!(self, |p| {
                sqlx::query_as(
                "SELECT id, region_code, name, employment, home_code, id_number_enc, phone_enc FROM people WHERE id_number_idx = $1"
            )
            .bind(index)
            .fetch_all(p)
            .await
            })?
        };
        Ok(rows
            .into_iter()
            .filter(|r| vis.sees(&r.home_code))
            .collect())
    }

    pub async fn department(&self, id: Uuid) -> Result<Option<DepartmentRow>, StoreError> {
        Ok(on_db!(self, |p| sqlx::query_as(
            "SELECT id, region_code, kind, name, parent_id FROM departments WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(p)
        .await)?)
    }

    pub async fn grid_exists(&self, code: &str) -> Result<bool, StoreError> {
        let n: Option<(String,)> = on_db!(self, |p| sqlx::query_as(
            "SELECT code FROM grids WHERE code = $1"
        )
        .bind(code)
        .fetch_optional(p)
        .await)?;
        Ok(n.is_some())
    }
}

//! The registers as imports and exports see them: every record with its code, read whole (a city
//! has hundreds or a few thousand departments) and written back in one transaction, matched by id
//! so a record keeps its id — and everything that refers to it — while its code, name or places
//! change.

use crate::{StoreError, on_db};
use chrono::{DateTime, Utc};
use sqlx::FromRow;
use uuid::Uuid;
use wangge_domain::RegionCode;

/// A department with the places it serves.
#[derive(Debug, Clone, PartialEq)]
pub struct DepartmentEntry {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub region_code: String,
    pub parent_id: Option<Uuid>,
    pub areas: Vec<String>,
    pub active: bool,
}

impl DepartmentEntry {
    /// Whether it serves a place (a grid or region code): one of its areas contains it.
    pub fn serves(&self, code: &str) -> bool {
        self.active
            && self
                .areas
                .iter()
                .any(|a| RegionCode::parse(a).is_ok_and(|r| code.starts_with(r.prefix())))
    }
}

#[derive(FromRow)]
struct Head {
    id: Uuid,
    code: String,
    name: String,
    kind: String,
    region_code: String,
    parent_id: Option<Uuid>,
    active: i64,
}

#[derive(FromRow)]
struct Area {
    department_id: Uuid,
    region_code: String,
}

impl crate::Store {
    /// Every department, by code.
    pub async fn department_register(&self) -> Result<Vec<DepartmentEntry>, StoreError> {
        let (heads, areas): (Vec<Head>, Vec<Area>) = on_db!(self, |p| {
            let heads = sqlx::query_as(
                "SELECT id, code, name, kind, region_code, parent_id, active FROM departments ORDER BY code",
            )
            .fetch_all(p)
            .await?;
            let areas = sqlx::query_as(
                "SELECT department_id, region_code FROM department_areas ORDER BY region_code",
            )
            .fetch_all(p)
            .await?;
            Ok::<_, sqlx::Error>((heads, areas))
        })?;
        let mut by_id: std::collections::HashMap<Uuid, Vec<String>> = Default::default();
        for a in areas {
            by_id
                .entry(a.department_id)
                .or_default()
                .push(a.region_code);
        }
        Ok(heads
            .into_iter()
            .map(|h| DepartmentEntry {
                areas: by_id.remove(&h.id).unwrap_or_default(),
                id: h.id,
                code: h.code,
                name: h.name,
                kind: h.kind,
                region_code: h.region_code,
                parent_id: h.parent_id,
                active: h.active != 0,
            })
            .collect())
    }

    /// One department with its places, by id.
    pub async fn department_entry(&self, id: Uuid) -> Result<Option<DepartmentEntry>, StoreError> {
        let head: Option<Head> = on_db!(self, |p| {
            sqlx::query_as(
            "SELECT id, code, name, kind, region_code, parent_id, active FROM departments WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(p)
        .await
        })?;
        let Some(h) = head else { return Ok(None) };
        let areas: Vec<(String,)> = on_db!(self, |p| {
            sqlx::query_as(
            "SELECT region_code FROM department_areas WHERE department_id = $1 ORDER BY region_code",
        )
        .bind(id)
        .fetch_all(p)
        .await
        })?;
        Ok(Some(DepartmentEntry {
            areas: areas.into_iter().map(|(a,)| a).collect(),
            id: h.id,
            code: h.code,
            name: h.name,
            kind: h.kind,
            region_code: h.region_code,
            parent_id: h.parent_id,
            active: h.active != 0,
        }))
    }

    /// The id of the department with a code.
    pub async fn department_id_by_code(&self, code: &str) -> Result<Option<Uuid>, StoreError> {
        let row: Option<(Uuid,)> = on_db!(self, |p| sqlx::query_as(
            "SELECT id FROM departments WHERE code = $1"
        )
        .bind(code)
        .fetch_optional(p)
        .await)?;
        Ok(row.map(|(id,)| id))
    }

    /// Creates or updates the departments in one transaction, in the order given (parents before
    /// children), replacing each one's places.
    pub async fn write_departments(
        &self,
        rows: &[DepartmentEntry],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        Ok(on_db!(self, |pool| {
            let mut tx = pool.begin().await?;
            for d in rows {
                sqlx::query(
                    "INSERT INTO departments (id, code, region_code, kind, name, parent_id, active, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
                     ON CONFLICT (id) DO UPDATE SET code = excluded.code, region_code = excluded.region_code, \
                     kind = excluded.kind, name = excluded.name, parent_id = excluded.parent_id, \
                     active = excluded.active, updated_at = excluded.updated_at",
                )
                .bind(d.id)
                .bind(&d.code)
                .bind(&d.region_code)
                .bind(&d.kind)
                .bind(&d.name)
                .bind(d.parent_id)
                .bind(i64::from(d.active))
                .bind(at)
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM department_areas WHERE department_id = $1")
                    .bind(d.id)
                    .execute(&mut *tx)
                    .await?;
                for a in &d.areas {
                    sqlx::query(
                        "INSERT INTO department_areas (department_id, region_code) VALUES ($1, $2)",
                    )
                    .bind(d.id)
                    .bind(a)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await
        })?)
    }
}

/// Updates and creations are written apart: creations go in multi-row INSERTs (an import of a
/// whole county's people is mostly new rows), updates one by one (they are few, and a record that
/// moves county changes its key's first column).
const UNIT_UPDATE: &str = "UPDATE units SET region_code = $2, code = $3, kind = $4, domain = $5, \
    name = $6, township_code = $7, grid_code = $8, lon = $9, lat = $10, address = $11, \
    contact_name = $12, contact_phone_enc = $13, contact_phone_idx = $14, active = $15, \
    updated_at = $16 WHERE id = $1";

const PERSON_UPDATE: &str = "UPDATE people SET region_code = $2, name = $3, employment = $4, \
    home_code = $5, id_number_enc = $6, id_number_idx = $7, phone_enc = $8, phone_idx = $9, \
    kind = $10, grid_code = $11, department_id = $12, hired_on = $13, active = $14, \
    updated_at = $15 WHERE id = $1";

const UNIT_COLUMNS: &str = "SELECT region_code, id, code, kind, domain, name, township_code, grid_code, \
    lon, lat, address, contact_name, contact_phone_enc, contact_phone_idx, active != 0 AS active FROM units";

const PERSON_COLUMNS: &str = "SELECT region_code, id, name, employment, home_code, id_number_enc, \
    id_number_idx, phone_enc, phone_idx, COALESCE(kind, 'staff') AS kind, grid_code, department_id, \
    hired_on, active != 0 AS active FROM people";

/// Which members to take off and who to put on, in one transaction.
#[derive(Debug, Default)]
pub struct TeamChanges {
    /// (team, place, person): a member leaving, or changing role (then also in `put`).
    pub remove: Vec<(String, String, Uuid)>,
    pub put: Vec<crate::NewTeamMember>,
}

impl crate::Store {
    /// Every unit, by code.
    pub async fn unit_register(&self) -> Result<Vec<crate::NewUnit>, StoreError> {
        let sql = format!("{UNIT_COLUMNS} ORDER BY code");
        Ok(on_db!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.clone()
        ))
        .fetch_all(p)
        .await)?)
    }

    /// Every person, in the order they were recorded.
    pub async fn people_register(&self) -> Result<Vec<crate::NewPerson>, StoreError> {
        let sql = format!("{PERSON_COLUMNS} ORDER BY id");
        Ok(on_db!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.clone()
        ))
        .fetch_all(p)
        .await)?)
    }

    /// Every team member, by place.
    pub async fn team_register(&self) -> Result<Vec<crate::NewTeamMember>, StoreError> {
        Ok(on_db!(self, |p| sqlx::query_as(
            "SELECT region_code, grid_code, person_id, role, team FROM grid_team_members \
             ORDER BY grid_code, team, role, person_id"
        )
        .fetch_all(p)
        .await)?)
    }

    /// Creates and updates units in one transaction.
    pub async fn write_units(
        &self,
        created: &[crate::NewUnit],
        updated: &[crate::NewUnit],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        Ok(on_db!(self, |pool| {
            let mut tx = pool.begin().await?;
            for chunk in created.chunks(crate::org::BATCH) {
                let mut q = sqlx::QueryBuilder::new(crate::org::UNIT_INSERT);
                q.push_values(chunk, |b, u| crate::org::push_unit(b, u, at));
                q.build().execute(&mut *tx).await?;
            }
            for u in updated {
                sqlx::query(UNIT_UPDATE)
                    .bind(u.id)
                    .bind(&u.region_code)
                    .bind(&u.code)
                    .bind(&u.kind)
                    .bind(&u.domain)
                    .bind(&u.name)
                    .bind(&u.township_code)
                    .bind(&u.grid_code)
                    .bind(u.lon)
                    .bind(u.lat)
                    .bind(&u.address)
                    .bind(&u.contact_name)
                    .bind(&u.contact_phone_enc)
                    .bind(&u.contact_phone_idx)
                    .bind(i64::from(u.active))
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        })?)
    }

    /// Creates and updates people in one transaction.
    pub async fn write_people(
        &self,
        created: &[crate::NewPerson],
        updated: &[crate::NewPerson],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        Ok(on_db!(self, |pool| {
            let mut tx = pool.begin().await?;
            for chunk in created.chunks(crate::org::BATCH) {
                let mut q = sqlx::QueryBuilder::new(crate::org::PERSON_INSERT);
                q.push_values(chunk, |b, p| crate::org::push_person(b, p, at));
                q.build().execute(&mut *tx).await?;
            }
            for p in updated {
                sqlx::query(PERSON_UPDATE)
                    .bind(p.id)
                    .bind(&p.region_code)
                    .bind(&p.name)
                    .bind(&p.employment)
                    .bind(&p.home_code)
                    .bind(&p.id_number_enc)
                    .bind(&p.id_number_idx)
                    .bind(&p.phone_enc)
                    .bind(&p.phone_idx)
                    .bind(&p.kind)
                    .bind(&p.grid_code)
                    .bind(p.department_id)
                    .bind(&p.hired_on)
                    .bind(i64::from(p.active))
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        })?)
    }

    /// Takes members off their teams and puts members on, in one transaction.
    pub async fn write_team(&self, changes: &TeamChanges) -> Result<(), StoreError> {
        Ok(on_db!(self, |pool| {
            let mut tx = pool.begin().await?;
            for (team, place, person) in &changes.remove {
                sqlx::query(
                    "DELETE FROM grid_team_members WHERE team = $1 AND grid_code = $2 AND person_id = $3",
                )
                .bind(team)
                .bind(place)
                .bind(person)
                .execute(&mut *tx)
                .await?;
            }
            for chunk in changes.put.chunks(crate::org::BATCH) {
                let mut q = sqlx::QueryBuilder::new(crate::org::MEMBER_INSERT);
                q.push_values(chunk, crate::org::push_member);
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await
        })?)
    }
}

const PARTY_UPDATE: &str = "UPDATE party_orgs SET region_code = $2, code = $3, level = $4, \
    name = $5, parent_id = $6, node_code = $7, unit_id = $8, active = $9, updated_at = $10 \
    WHERE id = $1";

impl crate::Store {
    /// Every party organisation, by code.
    pub async fn party_register(&self) -> Result<Vec<crate::NewPartyOrg>, StoreError> {
        Ok(on_db!(self, |p| sqlx::query_as(
            "SELECT region_code, id, code, level, name, parent_id, node_code, unit_id, \
             active != 0 AS active FROM party_orgs ORDER BY code"
        )
        .fetch_all(p)
        .await)?)
    }

    /// Creates and updates party organisations in one transaction.
    pub async fn write_party_orgs(
        &self,
        created: &[crate::NewPartyOrg],
        updated: &[crate::NewPartyOrg],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        Ok(on_db!(self, |pool| {
            let mut tx = pool.begin().await?;
            for chunk in created.chunks(crate::org::BATCH) {
                let mut q = sqlx::QueryBuilder::new(crate::org::PARTY_INSERT);
                q.push_values(chunk, |b, o| crate::org::push_party(b, o, at));
                q.build().execute(&mut *tx).await?;
            }
            for o in updated {
                sqlx::query(PARTY_UPDATE)
                    .bind(o.id)
                    .bind(&o.region_code)
                    .bind(&o.code)
                    .bind(&o.level)
                    .bind(&o.name)
                    .bind(o.parent_id)
                    .bind(&o.node_code)
                    .bind(o.unit_id)
                    .bind(i64::from(o.active))
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        })?)
    }
}

/// A department or an adviser serving a centre.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct CentreLink {
    pub region_code: String,
    pub unit_id: Uuid,
    pub member_id: Uuid,
    /// stationed | visiting | adviser
    pub kind: String,
    /// Weekdays, Monday = 1, comma-separated.
    pub days: String,
}

impl crate::Store {
    /// Every centre's departments and advisers.
    pub async fn centre_register(&self) -> Result<Vec<CentreLink>, StoreError> {
        Ok(on_db!(self, |p| {
            sqlx::query_as(
            "SELECT region_code, unit_id, member_id, kind, days FROM centre_links ORDER BY unit_id, kind, member_id"
        )
        .fetch_all(p)
        .await
        })?)
    }

    /// Ends links (`remove`: centre and member; a changed link is removed, then put again) and
    /// writes new ones, in one transaction.
    pub async fn write_centre_links(
        &self,
        remove: &[(Uuid, Uuid)],
        put: &[CentreLink],
    ) -> Result<(), StoreError> {
        Ok(on_db!(self, |pool| {
            let mut tx = pool.begin().await?;
            for (unit, member) in remove {
                sqlx::query("DELETE FROM centre_links WHERE unit_id = $1 AND member_id = $2")
                    .bind(unit)
                    .bind(member)
                    .execute(&mut *tx)
                    .await?;
            }
            for l in put {
                sqlx::query(
                    "INSERT INTO centre_links (region_code, unit_id, member_id, kind, days) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&l.region_code)
                .bind(l.unit_id)
                .bind(l.member_id)
                .bind(&l.kind)
                .bind(&l.days)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await
        })?)
    }
}

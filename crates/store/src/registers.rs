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

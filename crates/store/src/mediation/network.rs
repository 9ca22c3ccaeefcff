//! The mediation network: organisations and their mediators. Apart from the cases because it is
//! written in one go and changes seldom, and is read whole — by sight, or by id in one read for a
//! whole list of cases — while cases change every day.

use super::BATCH;
use crate::{StoreError, on_db};
use chrono::Utc;
use serde::Serialize;
use sqlx::{FromRow, QueryBuilder};
use uuid::Uuid;
use wangge_domain::access::Visibility;

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
}

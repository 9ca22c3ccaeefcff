//! The region tree and the grids: writing an import plan, loading the atlas, and the read queries
//! behind the tree endpoints.
//!
//! Descendants of a region are found by a digits-only code range (see `code_range`), which uses
//! the primary-key index on both backends and holds under any collation.

use crate::{StoreError, on_db};
use chrono::{DateTime, SubsecRound, Utc};
use serde::Serialize;
use sqlx::{FromRow, QueryBuilder};
use wangge_domain::access::Visibility;
use wangge_domain::geometry::{parse_geometry, to_geojson};
use wangge_domain::import::Plan;
use wangge_domain::model::{area_m2, bbox};
use wangge_domain::{Grid, GridCode, GridType, Level, Region, RegionCode};

/// Rows per multi-row INSERT: 13 binds × 500 stays far below both backends' parameter limits.
const BATCH: usize = 500;

pub(crate) fn now() -> DateTime<Utc> {
    // PostgreSQL keeps microseconds; truncate so both backends return equal values.
    Utc::now().trunc_subsecs(6)
}

fn range(prefix: &str) -> (String, String) {
    wangge_domain::region::code_range(prefix)
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct RegionRow {
    pub code: String,
    pub level: String,
    pub kind: String,
    pub name: String,
    pub parent_code: Option<String>,
    #[serde(skip)]
    pub geometry: Option<String>,
    pub area_m2: Option<f64>,
}

#[derive(Debug, Clone, FromRow)]
struct GridRow {
    code: String,
    name: String,
    grid_type: String,
    dedicated_kind: Option<String>,
    geometry: String,
}

/// How much lies under a region, by level and kind.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct RegionCounts {
    pub counties: i64,
    pub townships: i64,
    /// of which 街道
    pub streets: i64,
    /// of which 镇 and 乡
    pub towns: i64,
    pub communities: i64,
    pub villages: i64,
    pub grids: i64,
    pub basic_grids: i64,
    pub dedicated_grids: i64,
    pub grid_workers_full_time: i64,
    pub grid_workers_part_time: i64,
    pub units: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChildSummary {
    pub code: String,
    pub name: String,
    pub level: String,
    pub kind: String,
    pub grids: i64,
}

/// A region with its parent, its children and the counts of everything below it.
#[derive(Debug, Clone, Serialize)]
pub struct RegionSummary {
    pub code: String,
    pub name: String,
    pub level: String,
    pub kind: String,
    pub parent: Option<ChildSummary>,
    pub area_m2: Option<f64>,
    pub children: Vec<ChildSummary>,
    pub counts: RegionCounts,
    /// Units at or below the region, by kind (schools, enterprises, centres, …).
    pub units_by_kind: std::collections::BTreeMap<String, i64>,
    /// Party organisations at or below the region, by level of the five-level organisation.
    pub party_organisations: std::collections::BTreeMap<String, i64>,
    /// Departments based at this region (a county's bureaus, a township's stations and offices).
    pub departments: Vec<crate::DepartmentRow>,
}

fn region_from_row(r: RegionRow) -> Result<Region, StoreError> {
    let code = RegionCode::parse(&r.code).map_err(StoreError::corrupt)?;
    let level: Level = r.level.parse().map_err(StoreError::corrupt)?;
    let parent = match &r.parent_code {
        Some(p) => Some(RegionCode::parse(p).map_err(StoreError::corrupt)?),
        None => None,
    };
    let shape = match &r.geometry {
        Some(g) => Some(parse_stored_shape(&r.code, g)?),
        None => None,
    };
    Ok(Region {
        code,
        level,
        name: r.name,
        parent,
        shape,
    })
}

fn parse_stored_shape(code: &str, text: &str) -> Result<geo::MultiPolygon<f64>, StoreError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| StoreError::corrupt(format!("{code}: {e}")))?;
    parse_geometry(&value).map_err(|e| StoreError::corrupt(format!("{code}: {e:?}")))
}

fn grid_from_row(r: GridRow) -> Result<Grid, StoreError> {
    Ok(Grid {
        shape: parse_stored_shape(&r.code, &r.geometry)?,
        code: GridCode::parse(&r.code).map_err(StoreError::corrupt)?,
        name: r.name,
        grid_type: r
            .grid_type
            .parse::<GridType>()
            .map_err(StoreError::corrupt)?,
        dedicated_kind: r.dedicated_kind,
    })
}

/// A grid as the API shows it: a GeoJSON Feature's parts.
#[derive(Debug, Clone, Serialize)]
pub struct GridFeature {
    pub code: String,
    pub name: String,
    pub grid_type: String,
    pub dedicated_kind: Option<String>,
    pub community_code: String,
    pub area_m2: f64,
    pub geometry: serde_json::Value,
}

#[derive(Debug, Clone, FromRow)]
struct GridFeatureRow {
    code: String,
    name: String,
    grid_type: String,
    dedicated_kind: Option<String>,
    community_code: String,
    area_m2: f64,
    geometry: String,
}

impl TryFrom<GridFeatureRow> for GridFeature {
    type Error = StoreError;
    fn try_from(r: GridFeatureRow) -> Result<Self, StoreError> {
        Ok(GridFeature {
            geometry: serde_json::from_str(&r.geometry)
                .map_err(|e| StoreError::corrupt(format!("{}: {e}", r.code)))?,
            code: r.code,
            name: r.name,
            grid_type: r.grid_type,
            dedicated_kind: r.dedicated_kind,
            community_code: r.community_code,
            area_m2: r.area_m2,
        })
    }
}

const GRID_FEATURE_COLUMNS: &str =
    "SELECT code, name, grid_type, dedicated_kind, community_code, area_m2, geometry FROM grids";

impl crate::Store {
    /// Writes an import plan in one transaction: regions parents-first, then grids, then bumps the
    /// atlas revision so every server rebuilds its index.
    pub async fn apply_plan(&self, plan: &Plan) -> Result<(), StoreError> {
        let mut regions: Vec<&Region> = plan.regions.iter().collect();
        regions.sort_by_key(|r| (r.level, r.code.as_str().to_string()));
        let at = now();
        on_db!(self, |pool| {
            let mut tx = pool.begin().await?;
            for chunk in regions.chunks(BATCH) {
                let mut q = QueryBuilder::new(
                    "INSERT INTO regions (code, level, kind, name, parent_code, geometry, area_m2, updated_at) ",
                );
                q.push_values(chunk, |mut b, r| {
                    b.push_bind(r.code.as_str().to_string())
                        .push_bind(r.level.as_str())
                        .push_bind(r.code.kind().as_str())
                        .push_bind(r.name.clone())
                        .push_bind(r.parent.as_ref().map(|p| p.as_str().to_string()))
                        .push_bind(r.shape.as_ref().map(|s| to_geojson(s).to_string()))
                        .push_bind(r.shape.as_ref().map(area_m2))
                        .push_bind(at);
                });
                q.push(
                    " ON CONFLICT (code) DO UPDATE SET name = excluded.name, parent_code = excluded.parent_code, \
                     geometry = COALESCE(excluded.geometry, regions.geometry), \
                     area_m2 = COALESCE(excluded.area_m2, regions.area_m2), updated_at = excluded.updated_at",
                );
                q.build().execute(&mut *tx).await?;
            }
            for chunk in plan.grids.chunks(BATCH) {
                let mut q = QueryBuilder::new(
                    "INSERT INTO grids (code, community_code, county_code, name, grid_type, dedicated_kind, geometry, \
                     min_lon, min_lat, max_lon, max_lat, area_m2, updated_at) ",
                );
                q.push_values(chunk, |mut b, g| {
                    let [w, s, e, n] = bbox(&g.shape).unwrap_or([0.0; 4]);
                    b.push_bind(g.code.as_str().to_string())
                        .push_bind(g.code.community().as_str().to_string())
                        .push_bind(g.code.county().as_str().to_string())
                        .push_bind(g.name.clone())
                        .push_bind(g.grid_type.as_str())
                        .push_bind(g.dedicated_kind.clone())
                        .push_bind(to_geojson(&g.shape).to_string())
                        .push_bind(w)
                        .push_bind(s)
                        .push_bind(e)
                        .push_bind(n)
                        .push_bind(area_m2(&g.shape))
                        .push_bind(at);
                });
                q.push(
                    " ON CONFLICT (code) DO UPDATE SET name = excluded.name, grid_type = excluded.grid_type, \
                     dedicated_kind = excluded.dedicated_kind, geometry = excluded.geometry, \
                     min_lon = excluded.min_lon, min_lat = excluded.min_lat, max_lon = excluded.max_lon, \
                     max_lat = excluded.max_lat, area_m2 = excluded.area_m2, updated_at = excluded.updated_at",
                );
                q.build().execute(&mut *tx).await?;
            }
            crate::db::bump_revision!(tx, "atlas")?;
            tx.commit().await
        })?;
        Ok(())
    }

    /// Bumped by every change to the grids; servers poll it to keep their atlas in step.
    pub async fn atlas_revision(&self) -> Result<i64, StoreError> {
        Ok(self
            .meta("atlas_revision")
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    /// Every region, with shapes.
    pub async fn regions(&self) -> Result<Vec<Region>, StoreError> {
        let rows: Vec<RegionRow> = on_db!(self, |p| {
            sqlx::query_as(
            "SELECT code, level, kind, name, parent_code, geometry, area_m2 FROM regions ORDER BY code"
        )
        .fetch_all(p)
        .await
        })?;
        rows.into_iter().map(region_from_row).collect()
    }

    /// Every grid, with shapes.
    pub async fn grids(&self) -> Result<Vec<Grid>, StoreError> {
        let rows: Vec<GridRow> = on_db!(self, |p| sqlx::query_as(
            "SELECT code, name, grid_type, dedicated_kind, geometry FROM grids ORDER BY code"
        )
        .fetch_all(p)
        .await)?;
        rows.into_iter().map(grid_from_row).collect()
    }

    pub async fn region(&self, code: &str) -> Result<Option<RegionRow>, StoreError> {
        Ok(on_db!(self, |p| {
            sqlx::query_as(
            "SELECT code, level, kind, name, parent_code, geometry, area_m2 FROM regions WHERE code = $1"
        )
        .bind(code)
        .fetch_optional(p)
        .await
        })?)
    }

    /// A region with its parent, children (each with its grid count) and the counts below it;
    /// `None` when it does not exist or lies outside what the caller may see.
    pub async fn region_summary(
        &self,
        vis: &Visibility,
        code: &RegionCode,
    ) -> Result<Option<RegionSummary>, StoreError> {
        if !vis.sees(code.as_str()) {
            return Ok(None);
        }
        let Some(row) = self.region(code.as_str()).await? else {
            return Ok(None);
        };
        let parent = match row.parent_code.as_ref().filter(|p| vis.sees(p)) {
            Some(p) => self.region(p).await?.map(|r| ChildSummary {
                code: r.code,
                name: r.name,
                level: r.level,
                kind: r.kind,
                grids: 0,
            }),
            None => None,
        };
        let (lo, hi) = range(code.prefix());
        let child_len = code.level().child().map_or(12, |l| l.prefix_len()) as i32;
        let children: Vec<(String, String, String, String)> = on_db!(self, |p| sqlx::query_as(
            "SELECT code, name, level, kind FROM regions WHERE parent_code = $1 ORDER BY code"
        )
        .bind(code.as_str())
        .fetch_all(p)
        .await)?;
        let per_child: Vec<(String, i64)> = on_db!(self, |p| {
            sqlx::query_as(
            "SELECT substr(code, 1, $3) AS prefix, COUNT(*) AS n FROM grids WHERE code >= $1 AND code < $2 GROUP BY substr(code, 1, $3)"
        )
        .bind(&lo)
        .bind(&hi)
        .bind(child_len)
        .fetch_all(p)
        .await
        })?;
        let children = children
            .into_iter()
            .map(|(c, name, level, kind)| {
                let key = &c[..(child_len as usize).min(c.len())];
                let grids = per_child
                    .iter()
                    .find(|(k, _)| k == key)
                    .map_or(0, |(_, n)| *n);
                ChildSummary {
                    code: c,
                    name,
                    level,
                    kind,
                    grids,
                }
            })
            .collect();
        let counts = self.counts_within(code).await?;
        let units_by_kind = self.unit_counts(code.prefix()).await?.into_iter().collect();
        let party_organisations = self
            .party_org_counts(code.prefix())
            .await?
            .into_iter()
            .collect();
        let departments = self
            .departments_serving(&[code.as_str().to_string()])
            .await?;
        Ok(Some(RegionSummary {
            code: row.code,
            name: row.name,
            level: row.level,
            kind: row.kind,
            parent,
            area_m2: row.area_m2,
            children,
            counts,
            units_by_kind,
            party_organisations,
            departments,
        }))
    }

    /// Counts of everything at or below a region.
    pub async fn counts_within(&self, code: &RegionCode) -> Result<RegionCounts, StoreError> {
        let (lo, hi) = range(code.prefix());
        let by_kind: Vec<(String, String, i64)> = on_db!(self, |p| {
            sqlx::query_as(
            "SELECT level, kind, COUNT(*) FROM regions WHERE code >= $1 AND code < $2 AND code <> $3 GROUP BY level, kind"
        )
        .bind(&lo)
        .bind(&hi)
        .bind(code.as_str())
        .fetch_all(p)
        .await
        })?;
        let grids: Vec<(String, i64)> = on_db!(self, |p| {
            sqlx::query_as(
            "SELECT grid_type, COUNT(*) FROM grids WHERE code >= $1 AND code < $2 GROUP BY grid_type"
        )
        .bind(&lo)
        .bind(&hi)
        .fetch_all(p)
        .await
        })?;
        let workers: Vec<(String, i64)> = on_db!(self, |p| {
            sqlx::query_as(
            "SELECT pe.employment, COUNT(DISTINCT pe.id) FROM grid_team_members m \
             JOIN people pe ON pe.region_code = m.region_code AND pe.id = m.person_id \
             WHERE m.grid_code >= $1 AND m.grid_code < $2 AND m.role = 'grid_worker' GROUP BY pe.employment"
        )
        .bind(&lo)
        .bind(&hi)
        .fetch_all(p)
        .await
        })?;
        let (units,): (i64,) = on_db!(self, |p| {
            sqlx::query_as(
            "SELECT COUNT(*) FROM units WHERE COALESCE(grid_code, township_code, region_code) >= $1 \
             AND COALESCE(grid_code, township_code, region_code) < $2"
        )
        .bind(&lo)
        .bind(&hi)
        .fetch_one(p)
        .await
        })?;
        let mut c = RegionCounts {
            units,
            ..Default::default()
        };
        for (level, kind, n) in by_kind {
            match (level.as_str(), kind.as_str()) {
                ("county", _) => c.counties += n,
                ("township", k) => {
                    c.townships += n;
                    if k == "street" {
                        c.streets += n;
                    } else {
                        c.towns += n;
                    }
                }
                ("community", "village") => c.villages += n,
                ("community", _) => c.communities += n,
                _ => {}
            }
        }
        for (t, n) in grids {
            c.grids += n;
            if t == "dedicated" {
                c.dedicated_grids += n;
            } else {
                c.basic_grids += n;
            }
        }
        for (e, n) in workers {
            match e.as_str() {
                "full_time" => c.grid_workers_full_time += n,
                "part_time" => c.grid_workers_part_time += n,
                _ => {}
            }
        }
        Ok(c)
    }

    pub async fn grid_feature(
        &self,
        vis: &Visibility,
        code: &GridCode,
    ) -> Result<Option<GridFeature>, StoreError> {
        if !vis.sees(code.as_str()) {
            return Ok(None);
        }
        let row: Option<GridFeatureRow> = on_db!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            format!("{GRID_FEATURE_COLUMNS} WHERE code = $1")
        ))
        .bind(code.as_str())
        .fetch_optional(p)
        .await)?;
        row.map(GridFeature::try_from).transpose()
    }

    /// The grids at or below a region, in code order (none when the region is out of sight).
    pub async fn grid_features_within(
        &self,
        vis: &Visibility,
        code: &RegionCode,
    ) -> Result<Vec<GridFeature>, StoreError> {
        if !vis.sees(code.as_str()) {
            return Ok(Vec::new());
        }
        let (lo, hi) = range(code.prefix());
        let rows: Vec<GridFeatureRow> = on_db!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            format!("{GRID_FEATURE_COLUMNS} WHERE code >= $1 AND code < $2 ORDER BY code")
        ))
        .bind(&lo)
        .bind(&hi)
        .fetch_all(p)
        .await)?;
        rows.into_iter().map(GridFeature::try_from).collect()
    }

    /// The regions at or below a region (itself included), parents first.
    pub async fn regions_within(
        &self,
        vis: &Visibility,
        code: &RegionCode,
    ) -> Result<Vec<RegionRow>, StoreError> {
        if !vis.sees(code.as_str()) {
            return Ok(Vec::new());
        }
        let (lo, hi) = range(code.prefix());
        Ok(on_db!(self, |p| {
            sqlx::query_as(
            "SELECT code, level, kind, name, parent_code, geometry, area_m2 FROM regions WHERE code >= $1 AND code < $2 ORDER BY code"
        )
        .bind(&lo)
        .bind(&hi)
        .fetch_all(p)
        .await
        })?)
    }

    pub async fn region_count(&self) -> Result<i64, StoreError> {
        let (n,): (i64,) = on_db!(self, |p| sqlx::query_as("SELECT COUNT(*) FROM regions")
            .fetch_one(p)
            .await)?;
        Ok(n)
    }
}

impl crate::Store {
    /// The highest regions the caller sees: the roots of the tree, or the caller's own node.
    pub async fn regions_top(&self, vis: &Visibility) -> Result<Vec<RegionRow>, StoreError> {
        let (lo, hi) = vis.range();
        let rows: Vec<RegionRow> = on_db!(self, |p| {
            sqlx::query_as(
            "SELECT code, level, kind, name, parent_code, NULL AS geometry, area_m2 FROM regions \
             WHERE code >= $1 AND code < $2 ORDER BY code"
        )
        .bind(&lo)
        .bind(&hi)
        .fetch_all(p)
        .await
        })?;
        // Keep those whose parent is out of sight: the tops of the visible forest.
        Ok(rows
            .into_iter()
            .filter(|r| r.parent_code.as_ref().is_none_or(|p| !vis.sees(p)))
            .collect())
    }
}

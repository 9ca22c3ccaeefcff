//! The region tree and the grids, read within sight: a region with its children and counts, a
//! grid with its team and units, the grids of a region as GeoJSON, and which grid holds a point.

use crate::context::Context;
use crate::error::{AppError, AppResult};
use crate::events::views::wire_or;
use crate::principal::Principal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use wangge_domain::atlas::{Location, Nearest};
use wangge_domain::crs::Crs;
use wangge_domain::org::{Employment, TeamRole};
use wangge_domain::{GridCode, RegionCode};
use wangge_store::{ChildSummary, GridFeature, RegionCounts, RegionSummary};

fn region_code(code: &str) -> AppResult<RegionCode> {
    RegionCode::parse(code.trim()).map_err(|e| {
        AppError::invalid("region.bad_code", e.to_string())
            .with_details(json!({"code": code.chars().take(20).collect::<String>()}))
    })
}

/// A region next to another: its parent or a child, with its grids.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegionRef {
    pub code: String,
    pub name: String,
    pub level: String,
    pub kind: String,
    pub grids: i64,
}

impl From<ChildSummary> for RegionRef {
    fn from(c: ChildSummary) -> Self {
        RegionRef {
            code: c.code,
            name: c.name,
            level: c.level,
            kind: c.kind,
            grids: c.grids,
        }
    }
}

/// How many of each thing lie at or below a region.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Counts {
    pub counties: i64,
    pub townships: i64,
    /// Of which 街道.
    pub streets: i64,
    /// Of which 镇 and 乡.
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

impl From<RegionCounts> for Counts {
    fn from(c: RegionCounts) -> Self {
        Counts {
            counties: c.counties,
            townships: c.townships,
            streets: c.streets,
            towns: c.towns,
            communities: c.communities,
            villages: c.villages,
            grids: c.grids,
            basic_grids: c.basic_grids,
            dedicated_grids: c.dedicated_grids,
            grid_workers_full_time: c.grid_workers_full_time,
            grid_workers_part_time: c.grid_workers_part_time,
            units: c.units,
        }
    }
}

/// A department based at a region.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DepartmentView {
    pub id: uuid::Uuid,
    pub region_code: String,
    pub kind: String,
    pub name: String,
    pub parent_id: Option<uuid::Uuid>,
}

/// A region with its parent, its children and the counts of everything below it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegionView {
    pub code: String,
    pub name: String,
    pub level: String,
    pub kind: String,
    pub parent: Option<RegionRef>,
    pub area_m2: Option<f64>,
    pub children: Vec<RegionRef>,
    pub counts: Counts,
    /// Units at or below the region, by kind.
    pub units_by_kind: BTreeMap<String, i64>,
    /// Party organisations at or below the region, by level.
    pub party_organisations: BTreeMap<String, i64>,
    /// Departments based at this region.
    pub departments: Vec<DepartmentView>,
}

impl From<RegionSummary> for RegionView {
    fn from(r: RegionSummary) -> Self {
        RegionView {
            code: r.code,
            name: r.name,
            level: r.level,
            kind: r.kind,
            parent: r.parent.map(Into::into),
            area_m2: r.area_m2,
            children: r.children.into_iter().map(Into::into).collect(),
            counts: r.counts.into(),
            units_by_kind: r.units_by_kind,
            party_organisations: r.party_organisations,
            departments: r
                .departments
                .into_iter()
                .map(|d| DepartmentView {
                    id: d.id,
                    region_code: d.region_code,
                    kind: d.kind,
                    name: d.name,
                    parent_id: d.parent_id,
                })
                .collect(),
        }
    }
}

/// A region in sight with its parent, children and the counts of everything below it.
pub async fn region(ctx: &Context, who: &Principal, code: &str) -> AppResult<RegionView> {
    let vis = who.visibility()?;
    let code = region_code(code)?;
    ctx.store
        .region_summary(&vis, &code)
        .await?
        .map(Into::into)
        .ok_or_else(|| AppError::not_found("region.not_found", format!("区划 {code} 不存在")))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TeamMember {
    pub person_id: uuid::Uuid,
    pub name: String,
    pub role: TeamRole,
    pub role_name: &'static str,
    pub employment: Employment,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UnitInGrid {
    pub name: String,
    pub kind: String,
    pub domain: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GridProperties {
    pub code: String,
    pub name: String,
    pub level: &'static str,
    pub parent_code: String,
    pub grid_type: String,
    pub dedicated_kind: Option<String>,
    pub area_m2: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<Vec<TeamMember>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub units: Option<Vec<UnitInGrid>>,
}

/// A grid as a GeoJSON feature.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GridFeatureView {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: String,
    pub properties: GridProperties,
    /// A GeoJSON Polygon or MultiPolygon.
    pub geometry: Value,
}

fn feature(g: GridFeature, extra: Option<(Vec<TeamMember>, Vec<UnitInGrid>)>) -> GridFeatureView {
    let (team, units) = match extra {
        Some((t, u)) => (Some(t), Some(u)),
        None => (None, None),
    };
    GridFeatureView {
        kind: "Feature",
        id: g.code.clone(),
        properties: GridProperties {
            code: g.code,
            name: g.name,
            level: "grid",
            parent_code: g.community_code,
            grid_type: g.grid_type,
            dedicated_kind: g.dedicated_kind,
            area_m2: g.area_m2.round(),
            team,
            units,
        },
        geometry: g.geometry,
    }
}

/// A grid in sight with its team (1+4+X) and the units in it.
pub async fn grid(ctx: &Context, who: &Principal, code: &str) -> AppResult<GridFeatureView> {
    let vis = who.visibility()?;
    let parsed = GridCode::parse(code.trim()).map_err(|e| {
        AppError::invalid("grid.bad_code", e.to_string())
            .with_details(json!({"code": code.chars().take(20).collect::<String>()}))
    })?;
    let g = ctx
        .store
        .grid_feature(&vis, &parsed)
        .await?
        .ok_or_else(|| AppError::not_found("grid.not_found", format!("网格 {parsed} 不存在")))?;
    let team = ctx.store.grid_team(&vis, parsed.as_str()).await?;
    let units = ctx.store.units_in_grid(&vis, parsed.as_str()).await?;
    let team = team
        .into_iter()
        .map(|m| TeamMember {
            person_id: m.person_id,
            name: m.name,
            role: wire_or(&m.role, "team role", TeamRole::Volunteer),
            role_name: wire_or(&m.role, "team role", TeamRole::Volunteer).label_zh(),
            employment: wire_or(&m.employment, "employment", Employment::Volunteer),
        })
        .collect();
    let units = units
        .into_iter()
        .map(|u| UnitInGrid {
            name: u.name,
            kind: u.kind,
            domain: u.domain,
            lon: u.lon,
            lat: u.lat,
        })
        .collect();
    Ok(feature(g, Some((team, units))))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GridCollection {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub features: Vec<GridFeatureView>,
}

/// The grids of a region in sight, as a GeoJSON FeatureCollection.
pub async fn grids_within(
    ctx: &Context,
    who: &Principal,
    within: Option<&str>,
) -> AppResult<GridCollection> {
    let vis = who.visibility()?;
    let within = within.ok_or_else(|| {
        AppError::invalid(
            "grid.within_required",
            "请用 within 参数给出区划代码，例如 ?within=640202000000",
        )
        .at("within")
    })?;
    let code = region_code(within)?;
    if !vis.sees(code.as_str()) || ctx.store.region(code.as_str()).await?.is_none() {
        return Err(AppError::not_found(
            "region.not_found",
            format!("区划 {code} 不存在"),
        ));
    }
    let grids = ctx.store.grid_features_within(&vis, &code).await?;
    Ok(GridCollection {
        kind: "FeatureCollection",
        features: grids.into_iter().map(|g| feature(g, None)).collect(),
    })
}

/// `GET /api/v1/locate`'s question.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LocateQuery {
    pub lon: Option<String>,
    pub lat: Option<String>,
    /// `wgs84` (default) or `gcj02`.
    pub crs: Option<String>,
}

/// Reads one coordinate, saying which parameter is wrong and why.
pub fn coordinate(raw: Option<&str>, name: &'static str, range: (f64, f64)) -> AppResult<f64> {
    let raw = raw.ok_or_else(|| {
        AppError::invalid("locate.missing_coordinate", format!("缺少参数 {name}")).at(name)
    })?;
    let shown: String = raw.chars().take(30).collect();
    let v: f64 = raw
        .trim()
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .ok_or_else(|| {
            AppError::invalid(
                "locate.bad_coordinate",
                format!("参数 {name} 不是有效数字：\"{shown}\""),
            )
            .with_details(json!({"parameter": name, "value": shown}))
        })?;
    if v < range.0 || v > range.1 {
        return Err(AppError::invalid(
            "locate.out_of_range",
            format!("参数 {name} 超出范围 {}…{}：{v}", range.0, range.1),
        )
        .with_details(json!({"parameter": name, "value": v})));
    }
    Ok(v)
}

/// Which grid, community, township and county hold a point in sight; a point in a grid out of
/// sight answers as a point in no grid, with the nearest grid in sight.
pub fn locate(ctx: &Context, who: &Principal, q: &LocateQuery) -> AppResult<Location> {
    let vis = who.visibility()?;
    let lon = coordinate(q.lon.as_deref(), "lon", (-180.0, 180.0))?;
    let lat = coordinate(q.lat.as_deref(), "lat", (-90.0, 90.0))?;
    let crs: Crs = match q.crs.as_deref() {
        None => Crs::Wgs84,
        Some(c) => c.parse().map_err(|m: String| {
            AppError::invalid("locate.bad_crs", m)
                .with_details(json!({"crs": c.chars().take(20).collect::<String>()}))
        })?,
    };
    let (lon, lat) = crs.to_wgs84(lon, lat);
    let atlas = ctx.atlas.get();
    match atlas.locate(lon, lat).filter(|l| vis.sees(&l.grid.code)) {
        Some(loc) => Ok(loc),
        None => {
            let nearest: Option<Nearest> =
                atlas.nearest(lon, lat).filter(|n| vis.sees(&n.grid.code));
            Err(AppError::not_found("locate.outside", "该点不在任何网格内")
                .with_details(json!({"lon": lon, "lat": lat, "nearest": nearest})))
        }
    }
}

//! The atlas: every grid polygon in an R-tree, answering "which grid, community, township and
//! county holds this point" in well under a microsecond.
//!
//! It is a per-server cache of what the database holds, rebuilt whenever the grids change, so any
//! number of app servers can each keep one. A point on a border shared by two grids belongs to the
//! grid with the smaller code, so the answer never depends on the order grids were loaded in.

use crate::model::{Grid, Region};
use crate::region::{GridCode, GridType, Level, RegionCode};
use geo::coordinate_position::{CoordPos, CoordinatePosition};
use geo::{
    BoundingRect, Closest, ClosestPoint, Coord, Distance, Euclidean, Haversine, Point, Polygon,
};
use rstar::{AABB, PointDistance, RTree, RTreeObject};
use serde::Serialize;
use std::collections::HashMap;

/// One polygon of one grid (a multipolygon grid contributes several pieces).
struct Piece {
    polygon: Polygon<f64>,
    grid: u32,
    envelope: AABB<[f64; 2]>,
}

impl RTreeObject for Piece {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.envelope
    }
}

impl PointDistance for Piece {
    fn distance_2(&self, point: &[f64; 2]) -> f64 {
        let d = Euclidean.distance(&Point::new(point[0], point[1]), &self.polygon);
        d * d
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct GridRef {
    pub code: String,
    pub name: String,
    #[serde(rename = "type")]
    pub grid_type: GridType,
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct PathStep {
    pub level: Level,
    pub code: String,
    pub name: String,
}

/// Where a point lies: its grid and the chain of regions from the city down to the community.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Location {
    pub grid: GridRef,
    pub path: Vec<PathStep>,
}

/// The grid closest to a point that lies in none.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Nearest {
    pub grid: GridRef,
    pub distance_m: f64,
}

struct RegionInfo {
    level: Level,
    name: String,
    parent: Option<String>,
}

struct GridInfo {
    code: GridCode,
    name: String,
    grid_type: GridType,
}

pub struct Atlas {
    tree: RTree<Piece>,
    /// Sorted by code, so a smaller index is a smaller code (the border tie-break).
    grids: Vec<GridInfo>,
    regions: HashMap<String, RegionInfo>,
}

impl Atlas {
    pub fn empty() -> Atlas {
        Atlas::build(Vec::new(), Vec::new())
    }

    pub fn build(regions: Vec<Region>, mut grids: Vec<Grid>) -> Atlas {
        grids.sort_by(|a, b| a.code.cmp(&b.code));
        let mut pieces = Vec::with_capacity(grids.len());
        let mut infos = Vec::with_capacity(grids.len());
        for (i, g) in grids.into_iter().enumerate() {
            for polygon in g.shape.0 {
                if let Some(r) = polygon.bounding_rect() {
                    pieces.push(Piece {
                        envelope: AABB::from_corners(
                            [r.min().x, r.min().y],
                            [r.max().x, r.max().y],
                        ),
                        polygon,
                        grid: i as u32,
                    });
                }
            }
            infos.push(GridInfo {
                code: g.code,
                name: g.name,
                grid_type: g.grid_type,
            });
        }
        let regions = regions
            .into_iter()
            .map(|r| {
                (
                    r.code.as_str().to_string(),
                    RegionInfo {
                        level: r.level,
                        name: r.name,
                        parent: r.parent.map(|p| p.as_str().to_string()),
                    },
                )
            })
            .collect();
        Atlas {
            tree: RTree::bulk_load(pieces),
            grids: infos,
            regions,
        }
    }

    pub fn grid_count(&self) -> usize {
        self.grids.len()
    }

    /// The index of the grid holding a WGS-84 point, borders included.
    pub fn grid_index_at(&self, lon: f64, lat: f64) -> Option<usize> {
        let c = Coord { x: lon, y: lat };
        let mut best: Option<u32> = None;
        for piece in self
            .tree
            .locate_in_envelope_intersecting(&AABB::from_point([lon, lat]))
        {
            if best.is_some_and(|b| b <= piece.grid) {
                continue;
            }
            if piece.polygon.coordinate_position(&c) != CoordPos::Outside {
                best = Some(piece.grid);
            }
        }
        best.map(|b| b as usize)
    }

    /// The grid code at a point, for callers that need only that.
    pub fn grid_code_at(&self, lon: f64, lat: f64) -> Option<&GridCode> {
        self.grid_index_at(lon, lat).map(|i| &self.grids[i].code)
    }

    pub fn locate(&self, lon: f64, lat: f64) -> Option<Location> {
        let i = self.grid_index_at(lon, lat)?;
        Some(self.location_of(i))
    }

    fn grid_ref(&self, i: usize) -> GridRef {
        let g = &self.grids[i];
        GridRef {
            code: g.code.as_str().to_string(),
            name: g.name.clone(),
            grid_type: g.grid_type,
        }
    }

    fn location_of(&self, i: usize) -> Location {
        let mut path = Vec::with_capacity(4);
        let mut next = Some(self.grids[i].code.community().as_str().to_string());
        while let Some(code) = next {
            match self.regions.get(&code) {
                Some(r) => {
                    path.push(PathStep {
                        level: r.level,
                        code: code.clone(),
                        name: r.name.clone(),
                    });
                    next = r.parent.clone();
                }
                None => next = None,
            }
        }
        path.reverse();
        Location {
            grid: self.grid_ref(i),
            path,
        }
    }

    /// The grid nearest to a point, with the distance in metres to its edge.
    pub fn nearest(&self, lon: f64, lat: f64) -> Option<Nearest> {
        let p = Point::new(lon, lat);
        // The tree ranks by planar degrees, which stretch east-west; re-rank a few by metres.
        let mut best: Option<(usize, f64)> = None;
        for piece in self.tree.nearest_neighbor_iter(&[lon, lat]).take(8) {
            let closest = match piece.polygon.closest_point(&p) {
                Closest::Intersection(q) | Closest::SinglePoint(q) => q,
                Closest::Indeterminate => continue,
            };
            let d = Haversine.distance(p, closest);
            if best.is_none_or(|(_, b)| d < b) {
                best = Some((piece.grid as usize, d));
            }
        }
        best.map(|(i, d)| Nearest {
            grid: self.grid_ref(i),
            distance_m: (d * 10.0).round() / 10.0,
        })
    }

    /// The grids whose code starts with a prefix, in code order: (code, name).
    pub fn grids_under<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> {
        let start = self.grids.partition_point(|g| g.code.as_str() < prefix);
        self.grids[start..]
            .iter()
            .take_while(move |g| g.code.as_str().starts_with(prefix))
            .map(|g| (g.code.as_str(), g.name.as_str()))
    }

    /// The name of a grid, if the atlas has it.
    pub fn grid_name(&self, code: &str) -> Option<&str> {
        self.grids
            .binary_search_by(|g| g.code.as_str().cmp(code))
            .ok()
            .map(|i| self.grids[i].name.as_str())
    }

    /// The region code of a level on the path of a grid, e.g. its county.
    pub fn region_name(&self, code: &RegionCode) -> Option<&str> {
        self.regions.get(code.as_str()).map(|r| r.name.as_str())
    }

    /// The level of a region the atlas holds.
    pub fn region_level(&self, code: &RegionCode) -> Option<crate::region::Level> {
        self.regions.get(code.as_str()).map(|r| r.level)
    }
}

/// The same question answered by testing every polygon: the baseline the R-tree is measured
/// against, and the oracle it is tested against.
pub fn brute_force_grid_at(grids: &[Grid], lon: f64, lat: f64) -> Option<usize> {
    let c = Coord { x: lon, y: lat };
    let mut best: Option<usize> = None;
    for (i, g) in grids.iter().enumerate() {
        if best.is_some_and(|b| grids[b].code <= g.code) {
            continue;
        }
        if g.shape.coordinate_position(&c) != CoordPos::Outside {
            best = Some(i);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{MultiPolygon, polygon};

    fn region(code: &str, level: Level, name: &str) -> Region {
        let code = RegionCode::parse(code).unwrap();
        Region {
            parent: code.parent(),
            code,
            level,
            name: name.into(),
            shape: None,
        }
    }

    fn square(code: &str, x0: f64, y0: f64, size: f64) -> Grid {
        Grid {
            code: GridCode::parse(code).unwrap(),
            name: format!("网格{code}"),
            grid_type: GridType::Basic,
            dedicated_kind: None,
            shape: MultiPolygon(vec![polygon![
                (x: x0, y: y0), (x: x0 + size, y: y0), (x: x0 + size, y: y0 + size), (x: x0, y: y0 + size), (x: x0, y: y0)
            ]]),
        }
    }

    fn atlas() -> Atlas {
        let regions = vec![
            region("640200000000", Level::City, "石嘴山市"),
            region("640202000000", Level::County, "大武口区"),
            region("640202001000", Level::Township, "长胜街道"),
            region("640202001001", Level::Community, "长胜社区"),
        ];
        let grids = vec![
            square("640202001001002", 106.41, 39.0, 0.01),
            square("640202001001001", 106.40, 39.0, 0.01),
        ];
        Atlas::build(regions, grids)
    }

    #[test]
    fn locates_with_full_path() {
        let a = atlas();
        let loc = a.locate(106.405, 39.005).unwrap();
        assert_eq!(loc.grid.code, "640202001001001");
        let codes: Vec<_> = loc.path.iter().map(|s| s.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "640200000000",
                "640202000000",
                "640202001000",
                "640202001001"
            ]
        );
        assert_eq!(loc.path[0].level, Level::City);
    }

    #[test]
    fn a_shared_border_goes_to_the_smaller_code() {
        let a = atlas();
        for y in [39.0, 39.003, 39.01] {
            assert_eq!(
                a.grid_code_at(106.41, y).unwrap().as_str(),
                "640202001001001"
            );
        }
        assert_eq!(
            a.grid_code_at(106.4100001, 39.005).unwrap().as_str(),
            "640202001001002"
        );
    }

    #[test]
    fn outside_points_get_the_nearest_grid_in_metres() {
        let a = atlas();
        assert!(a.locate(106.5, 39.005).is_none());
        let n = a.nearest(106.43, 39.005).unwrap();
        assert_eq!(n.grid.code, "640202001001002");
        // 0.01° of longitude at 39°N is about 865 m.
        assert!((n.distance_m - 865.0).abs() < 10.0, "{}", n.distance_m);
        assert!(Atlas::empty().nearest(106.0, 39.0).is_none());
    }
}

//! The records of the region tree as the rest of the domain sees them: a region (city, county,
//! township, community) and a grid, each with its shape. Storage and HTTP translate to and from these.

use crate::region::{GridCode, GridType, Level, RegionCode};
use geo::{ChamberlainDuquetteArea, MultiPolygon};

/// A city, county, township or community. Regions above the community may come without a shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    pub code: RegionCode,
    pub level: Level,
    pub name: String,
    pub parent: Option<RegionCode>,
    pub shape: Option<MultiPolygon<f64>>,
}

/// A grid (网格): the smallest unit of management, always inside one community or village.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    pub code: GridCode,
    pub name: String,
    pub grid_type: GridType,
    /// For a dedicated grid (专属网格): what it is carved out for (campus, enterprise, park, market, …).
    pub dedicated_kind: Option<String>,
    pub shape: MultiPolygon<f64>,
}

impl Grid {
    pub fn community(&self) -> RegionCode {
        self.code.community()
    }
}

/// Area on the sphere in square metres; good to a fraction of a percent at grid scale.
pub fn area_m2(shape: &MultiPolygon<f64>) -> f64 {
    shape.chamberlain_duquette_unsigned_area()
}

/// The bounding box `[west, south, east, north]` of a shape.
pub fn bbox(shape: &MultiPolygon<f64>) -> Option<[f64; 4]> {
    use geo::BoundingRect;
    shape
        .bounding_rect()
        .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y])
}

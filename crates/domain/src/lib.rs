//! Wangge's domain core: the region tree and its codes, grid geometry, coordinate systems and the
//! point-to-grid atlas. Plain Rust with no HTTP, SQL or clock, so it can be tested exhaustively.

pub mod access;
pub mod atlas;
pub mod calendar;
pub mod catalog;
pub mod crs;
pub mod geometry;
pub mod import;
pub mod model;
pub mod org;
pub mod region;
pub mod workflow;

pub use model::{Grid, Region};
pub use region::{GridCode, GridType, Level, RegionCode};

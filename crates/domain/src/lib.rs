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
#[macro_use]
pub mod org;
pub mod mediation;
pub mod region;
pub mod registers;
pub mod settings;
pub mod workflow;

pub use model::{Grid, Region};
pub use region::{GridCode, GridType, Level, RegionCode};

/// The wire id of a value that serialises to a string (`"very_urgent"`, `"check_in"`).
pub fn wire<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The value of a wire id, if it is one.
pub fn parse_wire<T: serde::de::DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
}

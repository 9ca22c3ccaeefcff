//! The parts of the generated city and what they share. [`crate::generate`] builds them in a
//! fixed order — the map, departments, centres, the six domains' units, grid teams, party
//! organisations, identifiers — and the parts share one generator and one id stream, each drawing
//! where the one before it stopped: moving a part, or adding a draw to one, changes everything
//! generated after it for the same seed.

mod departments;
mod map;
mod party;
mod people;
mod personal;
mod shapes;
mod specs;
mod units;

use crate::rng::Rng;
use geo::{Centroid, Coord, MultiPolygon};
use uuid::Uuid;
use wangge_domain::RegionCode;

pub(crate) use departments::add_departments;
pub(crate) use map::{Map, lay_out};
pub(crate) use party::add_party_orgs;
pub(crate) use people::add_teams;
pub(crate) use personal::{date_hires, identifiers};
#[cfg(test)]
pub(crate) use shapes::apportion;
pub(crate) use specs::counties;
pub(crate) use units::{add_centres, add_domain_units};

/// A community or village with the indexes of its grids in the city's grid list.
pub(crate) struct Place {
    pub code: RegionCode,
    pub name: String,
    pub is_village: bool,
    pub grids: Vec<usize>,
}

pub(crate) struct Ids {
    rng: Rng,
    millis: u64,
}

impl Ids {
    pub fn new(seed: u64) -> Ids {
        Ids {
            rng: Rng::new(seed ^ 0x9e37_79b9_7f4a_7c15),
            // 2026-01-01T00:00:00Z: the demo's records carry ids from the start of its year.
            millis: 1_767_225_600_000,
        }
    }

    /// Deterministic UUIDv7s: a fixed demo epoch plus a counter, and seeded random bits.
    pub fn next(&mut self) -> Uuid {
        self.millis += 1;
        let bytes = self.rng.bytes10();
        uuid::Builder::from_unix_timestamp_millis(self.millis, &bytes).into_uuid()
    }
}

fn township_of(code: &RegionCode) -> RegionCode {
    RegionCode::parse(&format!("{}000", &code.as_str()[..9])).expect("township code")
}

fn county_of(code: &str) -> String {
    format!("{}000000", &code[..6])
}

fn centre_of(shape: &MultiPolygon<f64>) -> Coord<f64> {
    shape
        .centroid()
        .map(|p| p.0)
        .unwrap_or(Coord { x: 106.4, y: 39.0 })
}

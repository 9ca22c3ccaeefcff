//! The demo's mediation network and its year of disputes. Every community and village has its
//! people's mediation committee (with a legal adviser), every township a committee and a mediation
//! room in its governance centre, every county industry committees and a court-linked room. The
//! cases are generated, never measured: their statistics for the city reproduce the article's
//! figures exactly — 2268 disputes whose mediation ended within the year, 2197 of them with an
//! agreement (0.9687, shown as 96.8%) — spread over types, places, months and mediators, with a few
//! dozen still open.

mod cases;
mod network;

use crate::DemoCity;
use crate::names::{GIVEN, SURNAMES};
use crate::rng::Rng;
use chrono::{DateTime, Utc};
use wangge_domain::mediation::{DisputeType, Outcome};
use wangge_store::{MediationOrgRow, MediatorRow, NewCase};

/// The article's figures: disputes handled in the year, and mediated successfully.
pub const HANDLED: usize = 2268;
pub const SUCCESSFUL: usize = 2197;
/// Cases still being mediated when the demo is made.
pub const OPEN: usize = 48;

pub struct DemoMediation {
    pub orgs: Vec<MediationOrgRow>,
    pub mediators: Vec<MediatorRow>,
    pub cases: Vec<NewCase>,
}

/// Types with their share of the year (neighbours and families first, as everywhere).
const TYPES: &[(DisputeType, u32)] = &[
    (DisputeType::Neighbours, 24),
    (DisputeType::MarriageFamily, 17),
    (DisputeType::HousingHomestead, 9),
    (DisputeType::Damages, 9),
    (DisputeType::PropertyManagement, 8),
    (DisputeType::LabourWages, 7),
    (DisputeType::Contract, 6),
    (DisputeType::Land, 5),
    (DisputeType::TrafficAccident, 4),
    (DisputeType::ProductionBusiness, 3),
    (DisputeType::Consumer, 2),
    (DisputeType::Medical, 2),
    (DisputeType::RequisitionDemolition, 1),
    (DisputeType::Environment, 1),
    (DisputeType::Other, 1),
];

/// Months weighted by how disputes come: family and wage disputes before the Spring Festival,
/// neighbours and land in the farming season.
const MONTH_WEIGHT: [u32; 12] = [12, 11, 8, 8, 9, 9, 8, 8, 8, 8, 8, 10];

fn person(rng: &mut Rng) -> String {
    format!("{}{}", rng.pick(SURNAMES), rng.pick(GIVEN))
}

fn weighted<T: Copy>(rng: &mut Rng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut n = rng.below(total as usize) as u32;
    for (t, w) in items {
        if n < *w {
            return *t;
        }
        n -= w;
    }
    items[0].0
}

pub fn generate_mediation(city: &DemoCity, seed: u64, now: DateTime<Utc>) -> DemoMediation {
    let mut rng = Rng::new(seed ^ 0x0d15_7e5e);
    let (orgs, mediators) = network::network(&mut rng, city);
    let outcomes = outcomes(&mut rng);
    let cases = cases::cases(&mut rng, city, &orgs, &mediators, outcomes, now);
    DemoMediation {
        orgs,
        mediators,
        cases,
    }
}

/// The year's outcomes, exactly: successes split written/oral, the rest failed, ended or referred.
fn outcomes(rng: &mut Rng) -> Vec<Option<Outcome>> {
    let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(HANDLED + OPEN);
    for i in 0..SUCCESSFUL {
        outcomes.push(Some(if i % 10 < 7 {
            Outcome::AgreedWritten
        } else {
            Outcome::AgreedOral
        }));
    }
    for i in 0..HANDLED - SUCCESSFUL {
        outcomes.push(Some(match i % 9 {
            0..=4 => Outcome::Failed,
            5 | 6 => Outcome::Ended,
            _ => Outcome::Referred,
        }));
    }
    outcomes.extend(std::iter::repeat_n(None, OPEN));
    // Shuffle so outcomes fall anywhere in the year and the city.
    for i in (1..outcomes.len()).rev() {
        let j = rng.below(i + 1);
        outcomes.swap(i, j);
    }
    outcomes
}

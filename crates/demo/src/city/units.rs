//! The units: governance centres and the legal-service network (county centres, township
//! stations, community rooms), then the six key domains' units, some of which take one of their
//! community's tiles as a dedicated grid (专属网格). Every unit is filed under the grid that the
//! server's own atlas finds at its point, so the demo cannot disagree with a live lookup.

use super::specs::CountySpec;
use super::{Ids, Map, Place, centre_of, county_of, township_of};
use crate::rng::Rng;
use crate::{CITY_CODE, LEGAL_SERVICE_TOTAL, names};
use geo::Coord;
use wangge_domain::atlas::Atlas;
use wangge_domain::org::UnitKind;
use wangge_domain::{Grid, GridType, Level};
use wangge_store::{NewUnit, OrgBatch};

/// Where units are written, and the atlas that tells which grid and township a point is in.
struct Siting<'a> {
    atlas: &'a Atlas,
    ids: &'a mut Ids,
    units: &'a mut Vec<NewUnit>,
}

impl Siting<'_> {
    fn add(&mut self, kind: UnitKind, name: String, at: Coord<f64>) {
        let grid = self
            .atlas
            .grid_code_at(at.x, at.y)
            .map(|g| g.as_str().to_string());
        let township = grid.as_ref().map(|g| format!("{}000", &g[..9]));
        let county = grid
            .as_ref()
            .map_or_else(|| CITY_CODE.to_string(), |g| county_of(g));
        let code = format!("{county}-U{:05}", self.units.len() + 1);
        self.units.push(NewUnit {
            region_code: county,
            id: self.ids.next(),
            code,
            kind: kind.as_str().into(),
            domain: kind.domain().as_str().into(),
            name,
            township_code: township,
            grid_code: grid,
            lon: Some((at.x * 1e6).round() / 1e6),
            lat: Some((at.y * 1e6).round() / 1e6),
            address: None,
            contact_name: None,
            contact_phone_enc: None,
            contact_phone_idx: None,
            active: true,
        });
    }
}

/// Governance centres (36) and legal-service centres, stations and rooms (3 + 36 + 313 = 352).
pub(crate) fn add_centres(
    ids: &mut Ids,
    atlas: &Atlas,
    specs: &[CountySpec],
    map: &Map,
    org: &mut OrgBatch,
) {
    let mut site = Siting {
        atlas,
        ids,
        units: &mut org.units,
    };
    let mut legal = 0usize;
    for county in specs {
        // The county centre sits in the county's first township, where its seat is.
        let first_township = map
            .regions
            .iter()
            .find(|r| r.level == Level::Township && r.code.as_str().starts_with(county.code))
            .expect("township");
        let at = centre_of(first_township.shape.as_ref().expect("shape"));
        site.add(
            UnitKind::LegalServiceCentre,
            format!("{}公共法律服务中心", county.name),
            at,
        );
        legal += 1;
    }
    for t in map.regions.iter().filter(|r| r.level == Level::Township) {
        let first_community = map
            .places
            .iter()
            .find(|p| township_of(&p.code) == t.code)
            .expect("community");
        let at = centre_of(&map.grids[first_community.grids[0]].shape);
        site.add(
            UnitKind::GovernanceCentre,
            format!("{}综治中心", t.name),
            at,
        );
        site.add(
            UnitKind::LegalServiceStation,
            format!("{}公共法律服务工作站", t.name),
            at,
        );
        legal += 1;
    }
    let rooms = LEGAL_SERVICE_TOTAL - legal;
    for p in map.places.iter().take(rooms) {
        let g = &map.grids[p.grids[p.grids.len() / 2]];
        site.add(
            UnitKind::LegalServiceRoom,
            format!("{}公共法律服务室", p.name),
            centre_of(&g.shape),
        );
    }
}

/// The six domains' units, place by place. A dedicated grid is one of the community's tiles given
/// over to a campus, enterprise, park or market.
pub(crate) fn add_domain_units(
    rng: &mut Rng,
    ids: &mut Ids,
    atlas: &Atlas,
    places: &[Place],
    grids: &mut [Grid],
    org: &mut OrgBatch,
) {
    let mut site = Siting {
        atlas,
        ids,
        units: &mut org.units,
    };
    for p in places {
        if !p.is_village {
            community_units(rng, &mut site, p, grids);
        } else if rng.chance(0.3) {
            let name = format!("{}小学", p.name.trim_end_matches('村'));
            let at = grid_at(rng, p, grids);
            site.add(UnitKind::School, name, at);
        }
        enterprises(rng, &mut site, p, grids);
        if rng.chance(0.14) {
            let kind = rng.pick(names::RELIGIOUS_KINDS);
            let name = format!(
                "{}{kind}",
                p.name.trim_end_matches("社区").trim_end_matches('村')
            );
            let at = grid_at(rng, p, grids);
            site.add(UnitKind::ReligiousVenue, name, at);
        }
    }
}

/// The centre of one of the place's grids, chosen at random.
fn grid_at(rng: &mut Rng, p: &Place, grids: &[Grid]) -> Coord<f64> {
    let g = &grids[p.grids[rng.below(p.grids.len())]];
    centre_of(&g.shape)
}

/// Gives a tile over to a unit, named after it; the unit sits at the tile's centre.
fn dedicate(grids: &mut [Grid], gi: usize, kind: &str, label: &str) -> Coord<f64> {
    grids[gi].grid_type = GridType::Dedicated;
    grids[gi].dedicated_kind = Some(kind.into());
    grids[gi].name = format!("{label}专属网格");
    centre_of(&grids[gi].shape)
}

/// An urban community's school, market and social organisation, each only in some communities.
fn community_units(rng: &mut Rng, site: &mut Siting, p: &Place, grids: &mut [Grid]) {
    // Schools: most communities have one; some have a dedicated campus grid.
    if rng.chance(0.7) {
        let kind = rng.pick(names::SCHOOL_KINDS);
        let name = format!("{}{kind}", p.name.trim_end_matches("社区"));
        let at = if p.grids.len() >= 4 && rng.chance(0.35) {
            dedicate(grids, *p.grids.last().expect("grids"), "campus", &name)
        } else {
            grid_at(rng, p, grids)
        };
        site.add(UnitKind::School, name, at);
    }
    if rng.chance(0.25) {
        let name = format!("{}农贸市场", p.name.trim_end_matches("社区"));
        let at = if p.grids.len() >= 5 && rng.chance(0.4) {
            dedicate(grids, p.grids[p.grids.len() - 2], "market", &name)
        } else {
            grid_at(rng, p, grids)
        };
        site.add(UnitKind::Market, name, at);
    }
    if rng.chance(0.45) {
        let name = format!(
            "{}{}",
            p.name.trim_end_matches("社区"),
            rng.pick(names::SOCIAL_ORG_KINDS)
        );
        let at = grid_at(rng, p, grids);
        site.add(UnitKind::SocialOrganisation, name, at);
    }
}

/// A few enterprises in every place (none to two); a few get their own grid.
fn enterprises(rng: &mut Rng, site: &mut Siting, p: &Place, grids: &mut [Grid]) {
    let short = p.name.trim_end_matches("社区").trim_end_matches('村');
    let enterprises = rng.below(3);
    for e in 0..enterprises {
        let name = format!("石嘴山{short}{}", rng.pick(names::ENTERPRISE_KINDS));
        if e == 0 && p.grids.len() >= 4 && rng.chance(0.12) {
            let gi = p.grids[0];
            if grids[gi].grid_type == GridType::Basic {
                let (kind, unit, label) = if rng.chance(0.3) {
                    ("park", UnitKind::Park, format!("{short}工业园区"))
                } else {
                    ("enterprise", UnitKind::Enterprise, name)
                };
                let at = dedicate(grids, gi, kind, &label);
                site.add(unit, label, at);
                continue;
            }
        }
        let at = grid_at(rng, p, grids);
        site.add(UnitKind::Enterprise, name, at);
    }
}

//! The map: the city, its counties, townships, communities and villages as regions, each
//! community's area tiled by its grids, and the [`Place`]s the later parts hang their
//! organisations on.

use super::Place;
use super::shapes::{EAST, WEST, apportion, rect, tile};
use super::specs::{CountySpec, TownshipSpec};
use crate::rng::Rng;
use crate::{CITY_CODE, GRID_TOTAL, names};
use std::collections::HashSet;
use wangge_domain::{Grid, GridCode, GridType, Level, Region, RegionCode};

pub(crate) struct Map {
    pub regions: Vec<Region>,
    pub grids: Vec<Grid>,
    pub places: Vec<Place>,
}

struct Names {
    used: HashSet<String>,
}

impl Names {
    fn pick(&mut self, rng: &mut Rng, heads: &[&str], tails: &[&str], suffix: &str) -> String {
        for _ in 0..1000 {
            let a = rng.pick(heads);
            let b = rng.pick(tails);
            if a == b {
                continue;
            }
            let name = format!("{a}{b}{suffix}");
            if self.used.insert(name.clone()) {
                return name;
            }
        }
        let name = format!("第{}{suffix}", self.used.len() + 1);
        self.used.insert(name.clone());
        name
    }
}

/// Lays out the city: counties in bands from north to south, townships side by side within a
/// band, their communities then villages stacked south to north, grids tiling each of them.
pub(crate) fn lay_out(rng: &mut Rng, specs: &[CountySpec]) -> Map {
    let city_code = RegionCode::parse(CITY_CODE).expect("city code");
    let regions = vec![Region {
        code: city_code.clone(),
        level: Level::City,
        name: "石嘴山市".into(),
        parent: None,
        shape: Some(rect(WEST, 38.70, EAST, 39.30)),
    }];
    let grid_counts = grid_counts(rng, specs);
    let mut layout = Layout {
        rng,
        names: Names {
            used: HashSet::new(),
        },
        grid_counts: grid_counts.into_iter(),
        map: Map {
            regions,
            grids: Vec::with_capacity(GRID_TOTAL),
            places: Vec::new(),
        },
    };
    for county in specs {
        layout.county(county, &city_code);
    }
    layout.map
}

/// How many grids each community or village gets, in map order: communities are denser than
/// villages.
fn grid_counts(rng: &mut Rng, specs: &[CountySpec]) -> Vec<usize> {
    let all_units: Vec<bool> = specs
        .iter()
        .flat_map(|c| c.townships.iter())
        .flat_map(|t| {
            std::iter::repeat_n(true, t.communities).chain(std::iter::repeat_n(false, t.villages))
        })
        .collect();
    let weights: Vec<f64> = all_units
        .iter()
        .map(|&is_community| if is_community { 2.0 } else { 1.0 } * rng.range(0.7, 1.3))
        .collect();
    apportion(GRID_TOTAL, &weights, 2)
}

/// The map while it is drawn: the names already taken and the grid counts not yet handed out
/// travel with it from one community to the next.
struct Layout<'r> {
    rng: &'r mut Rng,
    names: Names,
    grid_counts: std::vec::IntoIter<usize>,
    map: Map,
}

impl Layout<'_> {
    fn county(&mut self, county: &CountySpec, city_code: &RegionCode) {
        let county_code = RegionCode::parse(&format!("{}000000", county.code)).expect("county");
        let (south, north) = county.band;
        self.map.regions.push(Region {
            code: county_code.clone(),
            level: Level::County,
            name: county.name.into(),
            parent: Some(city_code.clone()),
            shape: Some(rect(WEST, south, EAST, north)),
        });
        let tw: Vec<f64> = county
            .townships
            .iter()
            .map(|t| t.communities as f64 + 2.5 * t.villages as f64)
            .collect();
        let tsum: f64 = tw.iter().sum();
        let mut x = WEST;
        let mut seq = [0u16; 3];
        for (ti, ts) in county.townships.iter().enumerate() {
            let x_end = if ti + 1 == county.townships.len() {
                EAST
            } else {
                x + (EAST - WEST) * tw[ti] / tsum
            };
            seq[ts.kind as usize] += 1;
            let seg = match ts.kind {
                0 => seq[0],
                1 => 99 + seq[1],
                _ => 199 + seq[2],
            };
            let tcode =
                RegionCode::parse(&format!("{}{:03}000", county.code, seg)).expect("township");
            self.map.regions.push(Region {
                code: tcode.clone(),
                level: Level::Township,
                name: ts.name.into(),
                parent: Some(county_code.clone()),
                shape: Some(rect(x, south, x_end, north)),
            });
            self.township(ts, &tcode, (x, x_end), (south, north));
            x = x_end;
        }
    }

    fn township(
        &mut self,
        ts: &TownshipSpec,
        tcode: &RegionCode,
        (x, x_end): (f64, f64),
        (south, north): (f64, f64),
    ) {
        let children: Vec<bool> = std::iter::repeat_n(true, ts.communities)
            .chain(std::iter::repeat_n(false, ts.villages))
            .collect();
        let cw: Vec<f64> = children
            .iter()
            .map(|&c| if c { 1.0 } else { 2.5 })
            .collect();
        let csum: f64 = cw.iter().sum();
        let mut y = south;
        let (mut n_comm, mut n_vill) = (0u16, 0u16);
        for (ci, &is_community) in children.iter().enumerate() {
            let y_end = if ci + 1 == children.len() {
                north
            } else {
                y + (north - south) * cw[ci] / csum
            };
            let seg = if is_community {
                n_comm += 1;
                n_comm
            } else {
                n_vill += 1;
                199 + n_vill
            };
            let ccode = RegionCode::parse(&format!("{}{:03}", &tcode.as_str()[..9], seg))
                .expect("community");
            self.community(tcode, ccode, is_community, [x, y, x_end, y_end]);
            y = y_end;
        }
    }

    fn community(
        &mut self,
        tcode: &RegionCode,
        ccode: RegionCode,
        is_community: bool,
        [x, y, x_end, y_end]: [f64; 4],
    ) {
        let name = if is_community {
            self.names.pick(
                self.rng,
                names::COMMUNITY_HEAD,
                names::COMMUNITY_TAIL,
                "社区",
            )
        } else {
            self.names
                .pick(self.rng, names::VILLAGE_HEAD, names::VILLAGE_TAIL, "村")
        };
        self.map.regions.push(Region {
            code: ccode.clone(),
            level: Level::Community,
            name: name.clone(),
            parent: Some(tcode.clone()),
            shape: Some(rect(x, y, x_end, y_end)),
        });
        let n = self
            .grid_counts
            .next()
            .expect("a grid count for every community and village");
        let mut place = Place {
            code: ccode.clone(),
            name: name.clone(),
            is_village: !is_community,
            grids: Vec::with_capacity(n),
        };
        for (k, shape) in tile(self.rng, x, y, x_end, y_end, n)
            .into_iter()
            .enumerate()
        {
            let code = GridCode::new(&ccode, (k + 1) as u16).expect("grid code");
            place.grids.push(self.map.grids.len());
            self.map.grids.push(Grid {
                code,
                name: format!("{name}第{}网格", k + 1),
                grid_type: GridType::Basic,
                dedicated_kind: None,
                shape,
            });
        }
        self.map.places.push(place);
    }
}

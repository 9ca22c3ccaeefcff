//! The demo city: a generated Shizuishan (石嘴山市) with the article's numbers — three
//! county-level districts, 36 townships and streets, 122 communities, 195 villages, 2001 grids
//! tiling each community's area, 308 full-time grid workers, the departments, 36 governance
//! centres, 352 legal-service centres and stations, and units of the six key domains.
//!
//! Everything is generated from a seed and is the same for the same seed. The places carry
//! plausible names and real-looking codes, but they are invented: nothing here is measured.

pub mod events;
pub mod mediation;
mod names;
mod rng;

use geo::{Centroid, Coord, LineString, MultiPolygon, Polygon};
use rng::Rng;
use std::collections::HashSet;
use uuid::Uuid;
use wangge_domain::atlas::Atlas;
use wangge_domain::org::{DepartmentKind, Employment, PartyLevel, TeamRole, UnitKind};
use wangge_domain::{Grid, GridCode, GridType, Level, Region, RegionCode};
use wangge_store::{NewDepartment, NewPartyOrg, NewPerson, NewTeamMember, NewUnit, OrgBatch};

pub const CITY_CODE: &str = "640200000000";
pub const GRID_TOTAL: usize = 2001;
pub const FULL_TIME_WORKERS: usize = 308;
pub const LEGAL_SERVICE_TOTAL: usize = 352;

/// The generated city, ready to be written.
pub struct DemoCity {
    pub regions: Vec<Region>,
    pub grids: Vec<Grid>,
    pub org: OrgBatch,
    /// Generated ID-card and mobile numbers of the people, in clear: the writer encrypts them
    /// into `org.people` (see [`PersonalIds`]). They are valid in form and belong to no one.
    pub personal: Vec<PersonalIds>,
}

#[derive(Debug, Clone)]
pub struct PersonalIds {
    pub person: Uuid,
    pub id_number: String,
    pub phone: String,
}

/// A demo login: one per role, at a realistic place in the city.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub username: &'static str,
    pub display_name: &'static str,
    pub role: &'static str,
    /// A region or grid code, or a department id.
    pub scope: String,
    pub place: String,
}

/// The demo's accounts, one for each role.
pub fn demo_accounts(city: &DemoCity) -> Vec<DemoAccount> {
    let name_of = |code: &str| {
        city.regions
            .iter()
            .find(|r| r.code.as_str() == code)
            .map_or(String::new(), |r| r.name.clone())
    };
    let grid = &city.grids[0];
    let community = grid.code.community();
    let township = community.parent().expect("township");
    let county = township.parent().expect("county");
    let department = |kind: &str, region: &str| {
        city.org
            .departments
            .iter()
            .find(|d| d.kind == kind && d.region_code == region)
            .map(|d| (d.id.to_string(), d.name.clone()))
            .unwrap_or_default()
    };
    let (station, station_name) = department("police_station", township.as_str());
    let (justice, justice_name) = department("justice", county.as_str());
    let place = |code: &str| (code.to_string(), name_of(code));
    let account = |username, display_name, role, (scope, place): (String, String)| DemoAccount {
        username,
        display_name,
        role,
        scope,
        place,
    };
    vec![
        account(
            "wgy.zhang",
            "张网格",
            "grid_worker",
            (grid.code.as_str().to_string(), grid.name.clone()),
        ),
        account(
            "sq.li",
            "李社区",
            "community_staff",
            place(community.as_str()),
        ),
        account(
            "jd.wang",
            "王调度",
            "street_dispatcher",
            place(township.as_str()),
        ),
        account("zh.zhao", "赵指挥", "command_centre", place(CITY_CODE)),
        account(
            "pcs.liu",
            "刘民警",
            "department_staff",
            (station, station_name),
        ),
        account(
            "sfj.chen",
            "陈司法",
            "department_staff",
            (justice, justice_name),
        ),
        account("tj.sun", "孙调解", "mediator", place(township.as_str())),
        account("ld.zhou", "周领导", "leader", place(CITY_CODE)),
        account("xt.admin", "系统管理员", "system_admin", place(CITY_CODE)),
        account("aq.admin", "安全管理员", "security_admin", place(CITY_CODE)),
        account("sj.admin", "审计管理员", "audit_admin", place(CITY_CODE)),
    ]
}

fn id_number(rng: &mut Rng, county: &str) -> String {
    let year = 1960 + rng.below(45);
    let month = 1 + rng.below(12);
    let day = 1 + rng.below(28);
    let first17 = format!(
        "{}{year:04}{month:02}{day:02}{:03}",
        &county[..6],
        rng.below(1000)
    );
    let check = wangge_security::pii::id_check_char(&first17).expect("17 digits");
    format!("{first17}{check}")
}

fn phone(rng: &mut Rng) -> String {
    let head = *rng.pick(&[
        "133", "135", "138", "139", "150", "151", "158", "177", "180", "186", "189",
    ]);
    format!("{head}{:08}", rng.below(100_000_000))
}

struct TownshipSpec {
    name: &'static str,
    /// 0 = street (街道), 1 = town (镇), 2 = township (乡)
    kind: u8,
    communities: usize,
    villages: usize,
}

struct CountySpec {
    code: &'static str,
    name: &'static str,
    /// south and north latitude of the county's band
    band: (f64, f64),
    townships: Vec<TownshipSpec>,
}

const fn t(name: &'static str, kind: u8, communities: usize, villages: usize) -> TownshipSpec {
    TownshipSpec {
        name,
        kind,
        communities,
        villages,
    }
}

/// Township lists modelled on the real districts; community and village counts add up to the
/// article's 122 and 195.
fn counties() -> Vec<CountySpec> {
    vec![
        CountySpec {
            code: "640205",
            name: "惠农区",
            band: (39.08, 39.30),
            townships: vec![
                t("北街街道", 0, 6, 0),
                t("南街街道", 0, 6, 0),
                t("中街街道", 0, 6, 0),
                t("育才路街道", 0, 6, 0),
                t("河滨街街道", 0, 6, 0),
                t("红果子镇", 1, 1, 9),
                t("尾闸镇", 1, 1, 8),
                t("园艺镇", 1, 1, 7),
                t("礼和镇", 1, 1, 7),
                t("庙台镇", 1, 1, 7),
                t("燕子墩乡", 2, 0, 6),
                t("简泉乡", 2, 0, 6),
            ],
        },
        CountySpec {
            code: "640202",
            name: "大武口区",
            band: (38.93, 39.08),
            townships: vec![
                t("长胜街道", 0, 8, 0),
                t("朝阳街道", 0, 8, 0),
                t("人民路街道", 0, 8, 0),
                t("长城街道", 0, 8, 0),
                t("青山街道", 0, 8, 0),
                t("石炭井街道", 0, 7, 0),
                t("白芨沟街道", 0, 7, 0),
                t("沟口街道", 0, 8, 0),
                t("锦林街道", 0, 8, 0),
                t("星海镇", 1, 0, 10),
            ],
        },
        CountySpec {
            code: "640221",
            name: "平罗县",
            band: (38.70, 38.93),
            townships: vec![
                t("城关镇", 1, 4, 10),
                t("黄渠桥镇", 1, 2, 10),
                t("宝丰镇", 1, 2, 10),
                t("头闸镇", 1, 2, 10),
                t("姚伏镇", 1, 2, 10),
                t("崇岗镇", 1, 2, 9),
                t("陶乐镇", 1, 2, 10),
                t("通伏乡", 2, 1, 9),
                t("高庄乡", 2, 0, 10),
                t("灵沙乡", 2, 0, 9),
                t("渠口乡", 2, 0, 9),
                t("高仁乡", 2, 0, 10),
                t("红崖子乡", 2, 0, 10),
                t("下庙乡", 2, 0, 9),
            ],
        },
    ]
}

const WEST: f64 = 106.2;
const EAST: f64 = 106.8;

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
    MultiPolygon(vec![Polygon::new(
        LineString::from(vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]),
        vec![],
    )])
}

fn quad(a: (f64, f64), b: (f64, f64), c: (f64, f64), d: (f64, f64)) -> MultiPolygon<f64> {
    MultiPolygon(vec![Polygon::new(
        LineString::from(vec![a, b, c, d, a]),
        vec![],
    )])
}

/// Splits `total` into `weights.len()` whole parts proportional to the weights (largest remainder),
/// each at least `min`.
fn apportion(total: usize, weights: &[f64], min: usize) -> Vec<usize> {
    let n = weights.len();
    let spare = total - min * n;
    let sum: f64 = weights.iter().sum();
    let exact: Vec<f64> = weights.iter().map(|w| w / sum * spare as f64).collect();
    let mut parts: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    let mut left = spare - parts.iter().sum::<usize>();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor())
            .total_cmp(&(exact[a] - exact[a].floor()))
            .then(a.cmp(&b))
    });
    for &i in order.iter().cycle() {
        if left == 0 {
            break;
        }
        parts[i] += 1;
        left -= 1;
    }
    parts.iter().map(|p| p + min).collect()
}

/// Tiles the rectangle with exactly `n` quadrilaterals: rows with jittered heights, each row cut
/// by slanted lines, so grids look drawn by hand yet share every edge exactly.
fn tile(rng: &mut Rng, x0: f64, y0: f64, x1: f64, y1: f64, n: usize) -> Vec<MultiPolygon<f64>> {
    let rows = ((n as f64).sqrt().round() as usize).clamp(1, n);
    let per_row = apportion(n, &vec![1.0; rows], 1);
    let h = (y1 - y0) / rows as f64;
    let mut ys: Vec<f64> = (0..=rows).map(|k| y0 + h * k as f64).collect();
    for y in ys.iter_mut().take(rows).skip(1) {
        *y += rng.range(-0.25, 0.25) * h;
    }
    let mut out = Vec::with_capacity(n);
    for (r, &cells) in per_row.iter().enumerate() {
        let (lo, hi) = (ys[r], ys[r + 1]);
        let w = (x1 - x0) / cells as f64;
        let cut = |rng: &mut Rng, j: usize| {
            if j == 0 {
                x0
            } else if j == cells {
                x1
            } else {
                x0 + w * j as f64 + rng.range(-0.25, 0.25) * w
            }
        };
        let bottom: Vec<f64> = (0..=cells).map(|j| cut(rng, j)).collect();
        let top: Vec<f64> = (0..=cells).map(|j| cut(rng, j)).collect();
        for j in 0..cells {
            out.push(quad(
                (bottom[j], lo),
                (bottom[j + 1], lo),
                (top[j + 1], hi),
                (top[j], hi),
            ));
        }
    }
    out
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

fn person_name(rng: &mut Rng) -> String {
    let mut s = rng.pick(names::SURNAMES).to_string();
    let given = *rng.pick(names::GIVEN);
    s.push_str(given);
    if rng.chance(0.6) {
        let more = *rng.pick(names::GIVEN);
        s.push_str(more);
    }
    s
}

struct Ids {
    rng: Rng,
    millis: u64,
}

impl Ids {
    /// Deterministic UUIDv7s: a fixed demo epoch plus a counter, and seeded random bits.
    fn next(&mut self) -> Uuid {
        self.millis += 1;
        let bytes = self.rng.bytes10();
        uuid::Builder::from_unix_timestamp_millis(self.millis, &bytes).into_uuid()
    }
}

/// Builds the whole city for a seed.
pub fn generate(seed: u64) -> DemoCity {
    let mut rng = Rng::new(seed);
    let mut ids = Ids {
        rng: Rng::new(seed ^ 0x9e37_79b9_7f4a_7c15),
        // 2026-01-01T00:00:00Z: the demo's records carry ids from the start of its year.
        millis: 1_767_225_600_000,
    };
    let specs = counties();
    let city_code = RegionCode::parse(CITY_CODE).expect("city code");
    let mut regions = vec![Region {
        code: city_code.clone(),
        level: Level::City,
        name: "石嘴山市".into(),
        parent: None,
        shape: Some(rect(WEST, 38.70, EAST, 39.30)),
    }];
    let mut grids: Vec<Grid> = Vec::with_capacity(GRID_TOTAL);
    let mut community_names = Names {
        used: HashSet::new(),
    };

    // How many grids each community or village gets: communities are denser than villages.
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
    let grid_counts = apportion(GRID_TOTAL, &weights, 2);
    let mut next_unit = 0usize;

    struct CommunityPlace {
        code: RegionCode,
        name: String,
        is_village: bool,
        grids: Vec<usize>,
    }
    let mut places: Vec<CommunityPlace> = Vec::new();

    for county in &specs {
        let county_code = RegionCode::parse(&format!("{}000000", county.code)).expect("county");
        let (south, north) = county.band;
        regions.push(Region {
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
            regions.push(Region {
                code: tcode.clone(),
                level: Level::Township,
                name: ts.name.into(),
                parent: Some(county_code.clone()),
                shape: Some(rect(x, south, x_end, north)),
            });
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
                let name = if is_community {
                    community_names.pick(
                        &mut rng,
                        names::COMMUNITY_HEAD,
                        names::COMMUNITY_TAIL,
                        "社区",
                    )
                } else {
                    community_names.pick(&mut rng, names::VILLAGE_HEAD, names::VILLAGE_TAIL, "村")
                };
                regions.push(Region {
                    code: ccode.clone(),
                    level: Level::Community,
                    name: name.clone(),
                    parent: Some(tcode.clone()),
                    shape: Some(rect(x, y, x_end, y_end)),
                });
                let n = grid_counts[next_unit];
                next_unit += 1;
                let mut place = CommunityPlace {
                    code: ccode.clone(),
                    name: name.clone(),
                    is_village: !is_community,
                    grids: Vec::with_capacity(n),
                };
                for (k, shape) in tile(&mut rng, x, y, x_end, y_end, n)
                    .into_iter()
                    .enumerate()
                {
                    let code = GridCode::new(&ccode, (k + 1) as u16).expect("grid code");
                    place.grids.push(grids.len());
                    grids.push(Grid {
                        code,
                        name: format!("{name}第{}网格", k + 1),
                        grid_type: GridType::Basic,
                        dedicated_kind: None,
                        shape,
                    });
                }
                places.push(place);
                y = y_end;
            }
            x = x_end;
        }
    }

    // Organisations, units and people, located through the same atlas the server uses.
    let atlas = Atlas::build(regions.clone(), grids.clone());
    let mut org = OrgBatch::default();
    let township_of = |code: &RegionCode| -> RegionCode {
        RegionCode::parse(&format!("{}000", &code.as_str()[..9])).expect("township code")
    };
    let county_of = |code: &str| format!("{}000000", &code[..6]);
    let centre_of = |shape: &MultiPolygon<f64>| -> Coord<f64> {
        shape
            .centroid()
            .map(|p| p.0)
            .unwrap_or(Coord { x: 106.4, y: 39.0 })
    };

    let add_unit =
        |ids: &mut Ids, kind: UnitKind, name: String, at: Coord<f64>, org: &mut OrgBatch| {
            let grid = atlas
                .grid_code_at(at.x, at.y)
                .map(|g| g.as_str().to_string());
            let township = grid.as_ref().map(|g| format!("{}000", &g[..9]));
            let county = grid
                .as_ref()
                .map_or_else(|| CITY_CODE.to_string(), |g| county_of(g));
            org.units.push(NewUnit {
                region_code: county,
                id: ids.next(),
                kind: kind.as_str().into(),
                domain: kind.domain().as_str().into(),
                name,
                township_code: township,
                grid_code: grid,
                lon: Some((at.x * 1e6).round() / 1e6),
                lat: Some((at.y * 1e6).round() / 1e6),
                address: None,
            });
        };

    // Departments: city level, then each county's bureaus, then the township-level offices.
    let city_departments: &[(DepartmentKind, &str)] = &[
        (DepartmentKind::PublicSecurity, "石嘴山市公安局"),
        (DepartmentKind::Justice, "石嘴山市司法局"),
        (DepartmentKind::Court, "石嘴山市中级人民法院"),
        (DepartmentKind::Petitions, "石嘴山市信访局"),
        (DepartmentKind::UrbanManagement, "石嘴山市城市管理局"),
        (DepartmentKind::EmergencyManagement, "石嘴山市应急管理局"),
    ];
    for (kind, name) in city_departments {
        org.departments.push(NewDepartment {
            id: ids.next(),
            region_code: CITY_CODE.into(),
            kind: kind.as_str().into(),
            name: (*name).into(),
            parent_id: None,
        });
    }
    let county_departments: &[(DepartmentKind, &str)] = &[
        (DepartmentKind::PublicSecurity, "公安分局"),
        (DepartmentKind::Justice, "司法局"),
        (DepartmentKind::UrbanManagement, "综合执法局"),
        (DepartmentKind::Court, "人民法院"),
        (DepartmentKind::Petitions, "信访局"),
        (DepartmentKind::Housing, "住房和城乡建设局"),
        (DepartmentKind::Ecology, "生态环境分局"),
        (DepartmentKind::MarketSupervision, "市场监督管理局"),
        (DepartmentKind::Education, "教育体育局"),
        (DepartmentKind::EthnicReligious, "民族宗教事务局"),
        (DepartmentKind::EmergencyManagement, "应急管理局"),
        (DepartmentKind::Health, "卫生健康局"),
        (DepartmentKind::CivilAffairs, "民政局"),
        (DepartmentKind::HumanResources, "人力资源和社会保障局"),
        (DepartmentKind::NaturalResources, "自然资源局"),
        (DepartmentKind::Transport, "交通运输局"),
        (DepartmentKind::WaterAffairs, "水务局"),
        (DepartmentKind::FireRescue, "消防救援大队"),
    ];
    for county in &specs {
        let ccode = format!("{}000000", county.code);
        let bureau =
            |kind: DepartmentKind, org: &mut OrgBatch, ids: &mut Ids, name: &str| -> Uuid {
                let id = ids.next();
                org.departments.push(NewDepartment {
                    id,
                    region_code: ccode.clone(),
                    kind: kind.as_str().into(),
                    name: format!("{}{name}", county.name),
                    parent_id: None,
                });
                id
            };
        let mut police = None;
        let mut justice = None;
        let mut court = None;
        for (kind, name) in county_departments {
            let id = bureau(*kind, &mut org, &mut ids, name);
            match kind {
                DepartmentKind::PublicSecurity => police = Some(id),
                DepartmentKind::Justice => justice = Some(id),
                DepartmentKind::Court => court = Some(id),
                _ => {}
            }
        }
        let townships: Vec<&Region> = regions
            .iter()
            .filter(|r| r.level == Level::Township && r.code.as_str().starts_with(county.code))
            .collect();
        for (i, t) in townships.iter().enumerate() {
            let short = t
                .name
                .trim_end_matches("街道")
                .trim_end_matches('镇')
                .trim_end_matches('乡');
            org.departments.push(NewDepartment {
                id: ids.next(),
                region_code: t.code.as_str().into(),
                kind: DepartmentKind::PoliceStation.as_str().into(),
                name: format!("{short}派出所"),
                parent_id: police,
            });
            org.departments.push(NewDepartment {
                id: ids.next(),
                region_code: t.code.as_str().into(),
                kind: DepartmentKind::JudicialOffice.as_str().into(),
                name: format!("{short}司法所"),
                parent_id: justice,
            });
            // One people's tribunal for every few townships.
            if i % 5 == 0 {
                org.departments.push(NewDepartment {
                    id: ids.next(),
                    region_code: t.code.as_str().into(),
                    kind: DepartmentKind::CourtTribunal.as_str().into(),
                    name: format!("{}人民法院{short}人民法庭", county.name),
                    parent_id: court,
                });
            }
        }
    }

    // Governance centres (36) and legal-service centres, stations and rooms (3 + 36 + 313 = 352).
    let mut legal = 0usize;
    for county in &specs {
        // The county centre sits in the county's first township, where its seat is.
        let first_township = regions
            .iter()
            .find(|r| r.level == Level::Township && r.code.as_str().starts_with(county.code))
            .expect("township");
        let at = centre_of(first_township.shape.as_ref().expect("shape"));
        add_unit(
            &mut ids,
            UnitKind::LegalServiceCentre,
            format!("{}公共法律服务中心", county.name),
            at,
            &mut org,
        );
        legal += 1;
    }
    let township_regions: Vec<Region> = regions
        .iter()
        .filter(|r| r.level == Level::Township)
        .cloned()
        .collect();
    for t in &township_regions {
        let first_community = places
            .iter()
            .find(|p| township_of(&p.code) == t.code)
            .expect("community");
        let at = centre_of(&grids[first_community.grids[0]].shape);
        add_unit(
            &mut ids,
            UnitKind::GovernanceCentre,
            format!("{}综治中心", t.name),
            at,
            &mut org,
        );
        add_unit(
            &mut ids,
            UnitKind::LegalServiceStation,
            format!("{}公共法律服务工作站", t.name),
            at,
            &mut org,
        );
        legal += 1;
    }
    let rooms = LEGAL_SERVICE_TOTAL - legal;
    for p in places.iter().take(rooms) {
        let g = &grids[p.grids[p.grids.len() / 2]];
        add_unit(
            &mut ids,
            UnitKind::LegalServiceRoom,
            format!("{}公共法律服务室", p.name),
            centre_of(&g.shape),
            &mut org,
        );
    }

    // Dedicated grids (专属网格) and the six domains' units. A dedicated grid is one of the
    // community's tiles given over to a campus, enterprise, park or market.
    for p in &places {
        let grid_at = |rng: &mut Rng, grids: &[Grid]| -> Coord<f64> {
            let g = &grids[p.grids[rng.below(p.grids.len())]];
            centre_of(&g.shape)
        };
        if !p.is_village {
            // Schools: most communities have one; some have a dedicated campus grid.
            if rng.chance(0.7) {
                let kind = rng.pick(names::SCHOOL_KINDS);
                let name = format!("{}{kind}", p.name.trim_end_matches("社区"));
                if p.grids.len() >= 4 && rng.chance(0.35) {
                    let gi = *p.grids.last().expect("grids");
                    grids[gi].grid_type = GridType::Dedicated;
                    grids[gi].dedicated_kind = Some("campus".into());
                    grids[gi].name = format!("{name}专属网格");
                    let at = centre_of(&grids[gi].shape);
                    add_unit(&mut ids, UnitKind::School, name, at, &mut org);
                } else {
                    let at = grid_at(&mut rng, &grids);
                    add_unit(&mut ids, UnitKind::School, name, at, &mut org);
                }
            }
            if rng.chance(0.25) {
                let name = format!("{}农贸市场", p.name.trim_end_matches("社区"));
                if p.grids.len() >= 5 && rng.chance(0.4) {
                    let gi = p.grids[p.grids.len() - 2];
                    grids[gi].grid_type = GridType::Dedicated;
                    grids[gi].dedicated_kind = Some("market".into());
                    grids[gi].name = format!("{name}专属网格");
                    let at = centre_of(&grids[gi].shape);
                    add_unit(&mut ids, UnitKind::Market, name, at, &mut org);
                } else {
                    let at = grid_at(&mut rng, &grids);
                    add_unit(&mut ids, UnitKind::Market, name, at, &mut org);
                }
            }
            if rng.chance(0.45) {
                let name = format!(
                    "{}{}",
                    p.name.trim_end_matches("社区"),
                    rng.pick(names::SOCIAL_ORG_KINDS)
                );
                let at = grid_at(&mut rng, &grids);
                add_unit(&mut ids, UnitKind::SocialOrganisation, name, at, &mut org);
            }
        } else if rng.chance(0.3) {
            let name = format!("{}小学", p.name.trim_end_matches('村'));
            let at = grid_at(&mut rng, &grids);
            add_unit(&mut ids, UnitKind::School, name, at, &mut org);
        }
        // Enterprises everywhere, more in the industrial north; a few get their own grid.
        let enterprises = rng.below(3);
        for e in 0..enterprises {
            let name = format!(
                "石嘴山{}{}",
                p.name.trim_end_matches("社区").trim_end_matches('村'),
                rng.pick(names::ENTERPRISE_KINDS)
            );
            if e == 0 && p.grids.len() >= 4 && rng.chance(0.12) {
                let gi = p.grids[0];
                if grids[gi].grid_type == GridType::Basic {
                    let park = rng.chance(0.3);
                    grids[gi].grid_type = GridType::Dedicated;
                    grids[gi].dedicated_kind =
                        Some(if park { "park" } else { "enterprise" }.into());
                    let label = if park {
                        format!(
                            "{}工业园区",
                            p.name.trim_end_matches("社区").trim_end_matches('村')
                        )
                    } else {
                        name.clone()
                    };
                    grids[gi].name = format!("{label}专属网格");
                    let at = centre_of(&grids[gi].shape);
                    add_unit(
                        &mut ids,
                        if park {
                            UnitKind::Park
                        } else {
                            UnitKind::Enterprise
                        },
                        label,
                        at,
                        &mut org,
                    );
                    continue;
                }
            }
            let at = grid_at(&mut rng, &grids);
            add_unit(&mut ids, UnitKind::Enterprise, name, at, &mut org);
        }
        if rng.chance(0.14) {
            let kind = rng.pick(names::RELIGIOUS_KINDS);
            let name = format!(
                "{}{kind}",
                p.name.trim_end_matches("社区").trim_end_matches('村')
            );
            let at = grid_at(&mut rng, &grids);
            add_unit(&mut ids, UnitKind::ReligiousVenue, name, at, &mut org);
        }
    }

    // People and grid teams ("1+4+X"). Full-time workers serve the urban communities' grids,
    // part-time workers (village cadres) the villages'.
    let community_places: Vec<usize> = (0..places.len())
        .filter(|&i| !places[i].is_village)
        .collect();
    let worker_weights: Vec<f64> = community_places
        .iter()
        .map(|&i| places[i].grids.len() as f64)
        .collect();
    let workers_per_community = apportion(FULL_TIME_WORKERS, &worker_weights, 1);
    let mut workers_for = vec![0usize; places.len()];
    for (k, &i) in community_places.iter().enumerate() {
        workers_for[i] = workers_per_community[k];
    }
    let person = |org: &mut OrgBatch,
                  ids: &mut Ids,
                  rng: &mut Rng,
                  home: &str,
                  employment: Employment|
     -> Uuid {
        let id = ids.next();
        org.people.push(NewPerson {
            region_code: county_of(home),
            id,
            name: person_name(rng),
            employment: employment.as_str().into(),
            home_code: home.into(),
            id_number_enc: None,
            id_number_idx: None,
            phone_enc: None,
            phone_idx: None,
        });
        id
    };
    let mut urban_officer: Option<(String, Uuid)> = None;
    // A legal adviser serves up to three neighbouring communities of one township.
    let mut adviser: Option<(String, Uuid, usize)> = None;
    for (pi, p) in places.iter().enumerate() {
        let home = p.code.as_str().to_string();
        let county = county_of(&home);
        let township = township_of(&p.code).as_str().to_string();
        let leader = person(&mut org, &mut ids, &mut rng, &home, Employment::PartTime);
        let police = person(
            &mut org,
            &mut ids,
            &mut rng,
            &township,
            Employment::PartTime,
        );
        let health = person(&mut org, &mut ids, &mut rng, &home, Employment::PartTime);
        match &mut adviser {
            Some((t, _, served)) if *t == township && *served < 3 => *served += 1,
            _ => {
                adviser = Some((
                    township.clone(),
                    person(
                        &mut org,
                        &mut ids,
                        &mut rng,
                        &township,
                        Employment::PartTime,
                    ),
                    1,
                ))
            }
        }
        // One urban-management officer per township.
        if urban_officer.as_ref().is_none_or(|(t, _)| *t != township) {
            urban_officer = Some((
                township.clone(),
                person(
                    &mut org,
                    &mut ids,
                    &mut rng,
                    &township,
                    Employment::PartTime,
                ),
            ));
        }
        let fixed = [
            (leader, TeamRole::GridLeader),
            (police, TeamRole::CommunityPolice),
            (adviser.as_ref().expect("adviser").1, TeamRole::LegalAdviser),
            (
                urban_officer.as_ref().expect("officer").1,
                TeamRole::UrbanManagementOfficer,
            ),
            (health, TeamRole::HealthOfficer),
        ];
        let full_time: Vec<Uuid> = (0..workers_for[pi])
            .map(|_| person(&mut org, &mut ids, &mut rng, &home, Employment::FullTime))
            .collect();
        for (k, &gi) in p.grids.iter().enumerate() {
            let grid_code = grids[gi].code.as_str().to_string();
            let member = |person_id: Uuid, role: TeamRole| NewTeamMember {
                region_code: county.clone(),
                grid_code: grid_code.clone(),
                person_id,
                role: role.as_str().into(),
            };
            for (id, role) in fixed {
                org.team_members.push(member(id, role));
            }
            let worker = if full_time.is_empty() {
                person(&mut org, &mut ids, &mut rng, &home, Employment::PartTime)
            } else {
                full_time[k % full_time.len()]
            };
            org.team_members.push(member(worker, TeamRole::GridWorker));
            for _ in 0..1 + rng.below(3) {
                let v = person(&mut org, &mut ids, &mut rng, &home, Employment::Volunteer);
                org.team_members.push(member(v, TeamRole::Volunteer));
            }
        }
    }

    // The five-level party organisation, bound to the same tree.
    for t in &township_regions {
        let county = county_of(t.code.as_str());
        let street = ids.next();
        let committee = if t.code.kind() == wangge_domain::region::RegionKind::Street {
            "党工委"
        } else {
            "党委"
        };
        org.party_orgs.push(NewPartyOrg {
            region_code: county.clone(),
            id: street,
            level: PartyLevel::StreetCommittee.as_str().into(),
            name: format!("中共{}{committee}", t.name),
            parent_id: None,
            node_code: t.code.as_str().into(),
        });
        for p in places.iter().filter(|p| township_of(&p.code) == t.code) {
            let cid = ids.next();
            org.party_orgs.push(NewPartyOrg {
                region_code: county.clone(),
                id: cid,
                level: PartyLevel::CommunityCommittee.as_str().into(),
                name: format!(
                    "中共{}{}",
                    p.name,
                    if p.is_village {
                        "支部委员会"
                    } else {
                        "委员会"
                    }
                ),
                parent_id: Some(street),
                node_code: p.code.as_str().into(),
            });
            for &gi in &p.grids {
                let g = &grids[gi];
                let branch = ids.next();
                org.party_orgs.push(NewPartyOrg {
                    region_code: county.clone(),
                    id: branch,
                    level: PartyLevel::GridBranch.as_str().into(),
                    name: format!("{}党支部", g.name),
                    parent_id: Some(cid),
                    node_code: g.code.as_str().into(),
                });
                for k in 0..1 + rng.below(2) {
                    let group = ids.next();
                    org.party_orgs.push(NewPartyOrg {
                        region_code: county.clone(),
                        id: group,
                        level: PartyLevel::BuildingGroup.as_str().into(),
                        name: format!("{}第{}党小组", g.name, k + 1),
                        parent_id: Some(branch),
                        node_code: g.code.as_str().into(),
                    });
                    for _ in 0..1 + rng.below(2) {
                        org.party_orgs.push(NewPartyOrg {
                            region_code: county.clone(),
                            id: ids.next(),
                            level: PartyLevel::MemberHousehold.as_str().into(),
                            name: format!("{}党员中心户", person_name(&mut rng)),
                            parent_id: Some(group),
                            node_code: g.code.as_str().into(),
                        });
                    }
                }
            }
        }
    }

    // Identifiers for the people who are not volunteers.
    let mut id_rng = Rng::new(seed ^ 0x5151_5151);
    let personal = org
        .people
        .iter()
        .filter(|p| p.employment != Employment::Volunteer.as_str())
        .map(|p| PersonalIds {
            person: p.id,
            id_number: id_number(&mut id_rng, &p.region_code),
            phone: phone(&mut id_rng),
        })
        .collect();

    DemoCity {
        regions,
        grids,
        org,
        personal,
    }
}

/// Encrypts the people's identifiers into the batch, with their blind indexes.
pub fn seal_personal_data(city: &mut DemoCity, keys: &wangge_security::crypto::KeyRing) {
    let by_person: std::collections::HashMap<Uuid, &PersonalIds> =
        city.personal.iter().map(|p| (p.person, p)).collect();
    for p in &mut city.org.people {
        if let Some(ids) = by_person.get(&p.id) {
            p.id_number_enc = Some(keys.encrypt(&ids.id_number));
            p.id_number_idx = Some(keys.blind_index("id_number", &ids.id_number));
            p.phone_enc = Some(keys.encrypt(&ids.phone));
            p.phone_idx = Some(keys.blind_index("phone", &ids.phone));
        }
    }
}

#[cfg(test)]
mod tests;

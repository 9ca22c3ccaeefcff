//! The demo city: a generated Shizuishan (石嘴山市) with the article's numbers — three
//! county-level districts, 36 townships and streets, 122 communities, 195 villages, 2001 grids
//! tiling each community's area, 308 full-time grid workers, the departments, 36 governance
//! centres, 352 legal-service centres and stations, and units of the six key domains.
//!
//! Everything is generated from a seed and is the same for the same seed. The places carry
//! plausible names and real-looking codes, but they are invented: nothing here is measured.

mod city;
pub mod events;
pub mod mediation;
mod names;
mod rng;

use city::Ids;
use rng::Rng;
use uuid::Uuid;
use wangge_domain::atlas::Atlas;
use wangge_domain::{Grid, Region};
use wangge_store::OrgBatch;

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

/// Builds the whole city for a seed.
pub fn generate(seed: u64) -> DemoCity {
    let mut rng = Rng::new(seed);
    let mut ids = Ids::new(seed);
    let specs = city::counties();
    let mut map = city::lay_out(&mut rng, &specs);

    // Organisations, units and people, located through the same atlas the server uses.
    let atlas = Atlas::build(map.regions.clone(), map.grids.clone());
    let mut org = OrgBatch::default();
    city::add_departments(&mut ids, &specs, &map.regions, &mut org);
    city::add_centres(&mut ids, &atlas, &specs, &map, &mut org);
    city::add_domain_units(
        &mut rng,
        &mut ids,
        &atlas,
        &map.places,
        &mut map.grids,
        &mut org,
    );
    city::add_teams(&mut rng, &mut ids, &map, &mut org);
    city::add_party_orgs(&mut rng, &mut ids, &map, &mut org);
    let personal = city::identifiers(seed, &org.people);
    // The demo runs in the present: its full-time grid workers were hired this year.
    let year = chrono::Datelike::year(&(chrono::Utc::now() + chrono::Duration::hours(8)));
    city::date_hires(seed, &mut org.people, year);

    DemoCity {
        regions: map.regions,
        grids: map.grids,
        org,
        personal,
    }
}

/// Encrypts the people's identifiers into the batch, with their blind indexes.
pub fn seal_personal_data(city: &mut DemoCity, keys: &wangge_security::crypto::KeyRing) {
    seal_people(&mut city.org, &city.personal, keys);
}

/// [`seal_personal_data`] into a copy of the organisations (the tests share one city).
pub fn seal_people(
    org: &mut OrgBatch,
    personal: &[PersonalIds],
    keys: &wangge_security::crypto::KeyRing,
) {
    let by_person: std::collections::HashMap<Uuid, &PersonalIds> =
        personal.iter().map(|p| (p.person, p)).collect();
    for p in &mut org.people {
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

//! The mediation network: a people's mediation committee in every community and village (its
//! last mediator the legal adviser), a committee and a governance-centre room in every township,
//! and in every county the industry committees and the court-linked room, each with its
//! mediators.

use super::{TYPES, person, weighted};
use crate::DemoCity;
use crate::rng::Rng;
use uuid::Uuid;
use wangge_domain::Level;
use wangge_domain::mediation::OrgKind;
use wangge_store::{MediationOrgRow, MediatorRow};

/// How an organisation is staffed: its number of mediators, whether the first is a gold-medal
/// mediator (金牌调解员) and whether the last is a legal adviser.
struct Staff {
    n: usize,
    gold: bool,
    adviser: bool,
}

/// The network as it is built; ids count up from a fixed instant so they sort as they were made.
struct Network {
    millis: u64,
    orgs: Vec<MediationOrgRow>,
    mediators: Vec<MediatorRow>,
}

pub(super) fn network(rng: &mut Rng, city: &DemoCity) -> (Vec<MediationOrgRow>, Vec<MediatorRow>) {
    let mut net = Network {
        millis: 1_700_000_000_000,
        orgs: Vec::new(),
        mediators: Vec::new(),
    };
    for r in &city.regions {
        let (kind, name, staff) = match r.level {
            Level::Community => (
                OrgKind::VillageCommittee,
                format!("{}人民调解委员会", r.name),
                Staff {
                    n: 2,
                    gold: false,
                    adviser: true,
                },
            ),
            Level::Township => (
                OrgKind::TownshipCommittee,
                format!("{}人民调解委员会", r.name),
                Staff {
                    n: 4,
                    gold: true,
                    adviser: false,
                },
            ),
            _ => continue,
        };
        net.add(rng, r.code.as_str(), kind, name, staff);
        if r.level == Level::Township {
            let name = format!("{}综治中心矛盾纠纷调解室", r.name);
            net.add(
                rng,
                r.code.as_str(),
                OrgKind::CentreRoom,
                name,
                Staff::plain(2),
            );
        }
    }
    for county in city.regions.iter().filter(|r| r.level == Level::County) {
        let code = county.code.as_str();
        for trade in ["医疗纠纷", "道路交通事故", "物业纠纷"] {
            let name = format!("{}{trade}人民调解委员会", county.name);
            let staff = Staff {
                n: 3,
                gold: true,
                adviser: false,
            };
            net.add(rng, code, OrgKind::IndustryCommittee, name, staff);
        }
        let name = format!("{}人民法院诉调对接工作室", county.name);
        net.add(rng, code, OrgKind::CourtLinked, name, Staff::plain(2));
    }
    (net.orgs, net.mediators)
}

impl Staff {
    fn plain(n: usize) -> Staff {
        Staff {
            n,
            gold: false,
            adviser: false,
        }
    }
}

impl Network {
    fn next_id(&mut self, rng: &mut Rng) -> Uuid {
        self.millis += 1;
        uuid::Builder::from_unix_timestamp_millis(self.millis, &rng.bytes10()).into_uuid()
    }

    fn add(&mut self, rng: &mut Rng, region: &str, kind: OrgKind, name: String, staff: Staff) {
        let org = MediationOrgRow {
            id: self.next_id(rng),
            region_code: region.to_string(),
            kind: kind.as_str().into(),
            name,
        };
        for i in 0..staff.n {
            let speciality = weighted(rng, TYPES);
            let mediator = MediatorRow {
                id: self.next_id(rng),
                org_id: org.id,
                region_code: org.region_code.clone(),
                name: person(rng),
                title: if staff.gold && i == 0 {
                    "金牌调解员".into()
                } else {
                    String::new()
                },
                specialities: speciality.as_str().into(),
                legal_adviser: i64::from(staff.adviser && i == staff.n - 1),
                account_id: None,
            };
            self.mediators.push(mediator);
        }
        self.orgs.push(org);
    }
}

//! The departments: the city's bureaus and public utilities, each county's bureaus, and the
//! township-level offices under the county's police, justice and court. They draw only ids, never from the city's generator.

use super::Ids;
use super::specs::CountySpec;
use crate::CITY_CODE;
use uuid::Uuid;
use wangge_domain::org::DepartmentKind;
use wangge_domain::{Level, Region};
use wangge_store::{NewDepartment, OrgBatch};

const CITY_DEPARTMENTS: &[(DepartmentKind, &str)] = &[
    (DepartmentKind::PublicSecurity, "石嘴山市公安局"),
    (DepartmentKind::Justice, "石嘴山市司法局"),
    (DepartmentKind::Court, "石嘴山市中级人民法院"),
    (DepartmentKind::Petitions, "石嘴山市信访局"),
    (DepartmentKind::UrbanManagement, "石嘴山市城市管理局"),
    (DepartmentKind::EmergencyManagement, "石嘴山市应急管理局"),
    // The utilities serve the whole city and take the dispatches of their own faults.
    (DepartmentKind::PowerSupply, "国网石嘴山供电公司"),
    (DepartmentKind::WaterSupply, "石嘴山市自来水公司"),
    (DepartmentKind::GasSupply, "石嘴山市燃气公司"),
    (DepartmentKind::HeatSupply, "石嘴山市热力公司"),
    (DepartmentKind::Telecom, "中国电信石嘴山分公司"),
];

const COUNTY_DEPARTMENTS: &[(DepartmentKind, &str)] = &[
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

/// The county bureaus the township offices report to.
struct Parents {
    police: Option<Uuid>,
    justice: Option<Uuid>,
    court: Option<Uuid>,
}

/// City level, then each county's bureaus, then the township-level offices.
pub(crate) fn add_departments(
    ids: &mut Ids,
    specs: &[CountySpec],
    regions: &[Region],
    org: &mut OrgBatch,
) {
    for (kind, name) in CITY_DEPARTMENTS {
        org.departments.push(NewDepartment {
            id: ids.next(),
            code: String::new(),
            region_code: CITY_CODE.into(),
            kind: kind.as_str().into(),
            name: (*name).into(),
            parent_id: None,
        });
    }
    for county in specs {
        let parents = county_bureaus(ids, county, org);
        township_offices(ids, county, regions, &parents, org);
    }
    // Codes as the migration gives existing rows: the region, then the order within it.
    let mut seq: std::collections::HashMap<String, usize> = Default::default();
    for d in &mut org.departments {
        let n = seq.entry(d.region_code.clone()).or_default();
        *n += 1;
        d.code = format!("{}-{:03}", d.region_code, n);
    }
}

fn county_bureaus(ids: &mut Ids, county: &CountySpec, org: &mut OrgBatch) -> Parents {
    let ccode = format!("{}000000", county.code);
    let mut parents = Parents {
        police: None,
        justice: None,
        court: None,
    };
    for (kind, name) in COUNTY_DEPARTMENTS {
        let id = ids.next();
        org.departments.push(NewDepartment {
            id,
            code: String::new(),
            region_code: ccode.clone(),
            kind: kind.as_str().into(),
            name: format!("{}{name}", county.name),
            parent_id: None,
        });
        match kind {
            DepartmentKind::PublicSecurity => parents.police = Some(id),
            DepartmentKind::Justice => parents.justice = Some(id),
            DepartmentKind::Court => parents.court = Some(id),
            _ => {}
        }
    }
    parents
}

fn township_offices(
    ids: &mut Ids,
    county: &CountySpec,
    regions: &[Region],
    parents: &Parents,
    org: &mut OrgBatch,
) {
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
            code: String::new(),
            region_code: t.code.as_str().into(),
            kind: DepartmentKind::PoliceStation.as_str().into(),
            name: format!("{short}派出所"),
            parent_id: parents.police,
        });
        org.departments.push(NewDepartment {
            id: ids.next(),
            code: String::new(),
            region_code: t.code.as_str().into(),
            kind: DepartmentKind::JudicialOffice.as_str().into(),
            name: format!("{short}司法所"),
            parent_id: parents.justice,
        });
        // One people's tribunal for every few townships.
        if i % 5 == 0 {
            org.departments.push(NewDepartment {
                id: ids.next(),
                code: String::new(),
                region_code: t.code.as_str().into(),
                kind: DepartmentKind::CourtTribunal.as_str().into(),
                name: format!("{}人民法院{short}人民法庭", county.name),
                parent_id: parents.court,
            });
        }
    }
}

//! The five-level party organisation, bound to the same tree as the map: a committee for each
//! street or town, one for each community or village, a branch for each grid, and under every
//! branch its building groups and their member households.

use super::people::person_name;
use super::{Ids, Map, Place, county_of, township_of};
use crate::rng::Rng;
use uuid::Uuid;
use wangge_domain::org::PartyLevel;
use wangge_domain::region::RegionKind;
use wangge_domain::{Grid, Level};
use wangge_store::{NewPartyOrg, OrgBatch};

pub(crate) fn add_party_orgs(rng: &mut Rng, ids: &mut Ids, map: &Map, org: &mut OrgBatch) {
    for t in map.regions.iter().filter(|r| r.level == Level::Township) {
        let county = county_of(t.code.as_str());
        let street = ids.next();
        let committee = if t.code.kind() == RegionKind::Street {
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
            code: party_code(&county, org),
            unit_id: None,
            active: true,
        });
        for p in map.places.iter().filter(|p| township_of(&p.code) == t.code) {
            community_party(rng, ids, &county, street, p, &map.grids, org);
        }
    }
}

fn community_party(
    rng: &mut Rng,
    ids: &mut Ids,
    county: &str,
    street: Uuid,
    p: &Place,
    grids: &[Grid],
    org: &mut OrgBatch,
) {
    let cid = ids.next();
    org.party_orgs.push(NewPartyOrg {
        region_code: county.into(),
        id: cid,
        level: PartyLevel::CommunityCommittee.as_str().into(),
        name: format!(
            "中共{}{}",
            p.name,
            // A village's organisation holds its grids' branches, so it is a 总支, never a
            // 支部: a 支部 cannot contain a 支部.
            if p.is_village {
                "总支部委员会"
            } else {
                "委员会"
            }
        ),
        parent_id: Some(street),
        node_code: p.code.as_str().into(),
        code: party_code(county, org),
        unit_id: None,
        active: true,
    });
    for &gi in &p.grids {
        grid_branch(rng, ids, county, cid, &grids[gi], org);
    }
}

/// A grid's branch with one or two building groups, each with one or two member households.
fn grid_branch(
    rng: &mut Rng,
    ids: &mut Ids,
    county: &str,
    community: Uuid,
    g: &Grid,
    org: &mut OrgBatch,
) {
    let branch = ids.next();
    org.party_orgs.push(NewPartyOrg {
        region_code: county.into(),
        id: branch,
        level: PartyLevel::GridBranch.as_str().into(),
        name: format!("{}党支部", g.name),
        parent_id: Some(community),
        node_code: g.code.as_str().into(),
        code: party_code(county, org),
        unit_id: None,
        active: true,
    });
    for k in 0..1 + rng.below(2) {
        let group = ids.next();
        org.party_orgs.push(NewPartyOrg {
            region_code: county.into(),
            id: group,
            level: PartyLevel::BuildingGroup.as_str().into(),
            name: format!("{}第{}党小组", g.name, k + 1),
            parent_id: Some(branch),
            node_code: g.code.as_str().into(),
            code: party_code(county, org),
            unit_id: None,
            active: true,
        });
        for _ in 0..1 + rng.below(2) {
            org.party_orgs.push(NewPartyOrg {
                region_code: county.into(),
                id: ids.next(),
                level: PartyLevel::MemberHousehold.as_str().into(),
                name: format!("{}党员中心户", person_name(rng)),
                parent_id: Some(group),
                node_code: g.code.as_str().into(),
                code: party_code(county, org),
                unit_id: None,
                active: true,
            });
        }
    }
}

/// The next organisation's code: its county and its number in the whole register.
fn party_code(county: &str, org: &OrgBatch) -> String {
    format!("{county}-P{:05}", org.party_orgs.len() + 1)
}

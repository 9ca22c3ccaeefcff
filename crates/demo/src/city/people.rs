//! People and grid teams ("1+4+X"): each grid's leader, community police, legal adviser,
//! urban-management officer and health officer, its grid worker and a few volunteers. Full-time
//! workers serve the urban communities' grids, part-time workers (village cadres) the villages'.

use super::shapes::apportion;
use super::{Ids, Map, Place, county_of, township_of};
use crate::rng::Rng;
use crate::{FULL_TIME_WORKERS, names};
use uuid::Uuid;
use wangge_domain::Grid;
use wangge_domain::org::{PersonKind, TeamKind, TeamRole};
use wangge_store::{NewPerson, NewTeamMember, OrgBatch};

pub(crate) fn person_name(rng: &mut Rng) -> String {
    let mut s = rng.pick(names::SURNAMES).to_string();
    let given = *rng.pick(names::GIVEN);
    s.push_str(given);
    if rng.chance(0.6) {
        let more = *rng.pick(names::GIVEN);
        s.push_str(more);
    }
    s
}

/// Staffs the grids place by place.
pub(crate) fn add_teams(rng: &mut Rng, ids: &mut Ids, map: &Map, org: &mut OrgBatch) {
    let workers_for = full_time_workers(&map.places);
    let mut staff = Staffing {
        rng,
        ids,
        org,
        urban_officer: None,
        adviser: None,
    };
    for (pi, p) in map.places.iter().enumerate() {
        let home = p.code.as_str();
        let township = township_of(&p.code);
        let fixed = staff.fixed_team(home, township.as_str());
        let full_time: Vec<Uuid> = (0..workers_for[pi])
            .map(|_| staff.person(home, PersonKind::FullTimeGridWorker))
            .collect();
        staff.grid_teams(p, &map.grids, fixed, &full_time);
    }
}

/// How many full-time workers each place gets: the urban communities share them by their number
/// of grids, the villages get none.
fn full_time_workers(places: &[Place]) -> Vec<usize> {
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
    workers_for
}

/// The people being made, with the members who serve beyond one place.
struct Staffing<'a> {
    rng: &'a mut Rng,
    ids: &'a mut Ids,
    org: &'a mut OrgBatch,
    urban_officer: Option<(String, Uuid)>,
    /// A legal adviser serves up to three neighbouring communities of one township.
    adviser: Option<(String, Uuid, usize)>,
}

impl Staffing<'_> {
    fn person(&mut self, home: &str, kind: PersonKind) -> Uuid {
        let id = self.ids.next();
        self.org.people.push(NewPerson {
            region_code: county_of(home),
            id,
            name: person_name(self.rng),
            employment: kind.employment().as_str().into(),
            home_code: home.into(),
            id_number_enc: None,
            id_number_idx: None,
            phone_enc: None,
            phone_idx: None,
            kind: kind.as_str().into(),
            grid_code: None,
            department_id: None,
            hired_on: None,
            active: true,
        });
        id
    }

    /// A grid worker serves the first grid they are given.
    fn assign_grid(&mut self, worker: Uuid, grid: &str) {
        if let Some(p) = self.org.people.iter_mut().rev().find(|p| p.id == worker)
            && p.grid_code.is_none()
        {
            p.grid_code = Some(grid.into());
        }
    }

    /// The members every grid of a place shares; the adviser and the urban-management officer
    /// are new only when the township changes or the adviser has enough communities.
    fn fixed_team(&mut self, home: &str, township: &str) -> [(Uuid, TeamRole); 5] {
        let leader = self.person(home, PersonKind::Staff);
        let police = self.person(township, PersonKind::CommunityPolice);
        let health = self.person(home, PersonKind::Staff);
        match &mut self.adviser {
            Some((t, _, served)) if *t == township && *served < 3 => *served += 1,
            _ => {
                self.adviser = Some((
                    township.to_string(),
                    self.person(township, PersonKind::LegalAdviser),
                    1,
                ))
            }
        }
        // One urban-management officer per township.
        if self
            .urban_officer
            .as_ref()
            .is_none_or(|(t, _)| *t != township)
        {
            self.urban_officer = Some((
                township.to_string(),
                self.person(township, PersonKind::Staff),
            ));
        }
        [
            (leader, TeamRole::GridLeader),
            (police, TeamRole::CommunityPolice),
            (
                self.adviser.as_ref().expect("adviser").1,
                TeamRole::LegalAdviser,
            ),
            (
                self.urban_officer.as_ref().expect("officer").1,
                TeamRole::UrbanManagementOfficer,
            ),
            (health, TeamRole::HealthOfficer),
        ]
    }

    /// Each grid of the place: the shared members, its worker (a full-time one in turn, or a
    /// village cadre of its own) and one to three volunteers.
    fn grid_teams(
        &mut self,
        p: &Place,
        grids: &[Grid],
        fixed: [(Uuid, TeamRole); 5],
        full_time: &[Uuid],
    ) {
        let home = p.code.as_str();
        let county = county_of(home);
        for (k, &gi) in p.grids.iter().enumerate() {
            let grid_code = grids[gi].code.as_str().to_string();
            let member = |person_id: Uuid, role: TeamRole| NewTeamMember {
                region_code: county.clone(),
                grid_code: grid_code.clone(),
                person_id,
                role: role.as_str().into(),
                team: TeamKind::Grid.as_str().into(),
            };
            for (id, role) in fixed {
                self.org.team_members.push(member(id, role));
            }
            let worker = if full_time.is_empty() {
                self.person(home, PersonKind::PartTimeGridWorker)
            } else {
                full_time[k % full_time.len()]
            };
            self.assign_grid(worker, &grid_code);
            self.org
                .team_members
                .push(member(worker, TeamRole::GridWorker));
            for _ in 0..1 + self.rng.below(3) {
                let v = self.person(home, PersonKind::Volunteer);
                self.org.team_members.push(member(v, TeamRole::Volunteer));
            }
        }
    }
}

//! Generated ID-card and mobile numbers for the people who are not volunteers: valid in form,
//! belonging to no one. They draw from a stream of their own, so how they are made cannot move
//! anything else in the city.

use crate::PersonalIds;
use crate::rng::Rng;
use wangge_domain::org::Employment;
use wangge_store::NewPerson;

pub(crate) fn identifiers(seed: u64, people: &[NewPerson]) -> Vec<PersonalIds> {
    let mut id_rng = Rng::new(seed ^ 0x5151_5151);
    people
        .iter()
        .filter(|p| p.employment != Employment::Volunteer.as_str())
        .map(|p| PersonalIds {
            person: p.id,
            id_number: id_number(&mut id_rng, &p.region_code),
            phone: phone(&mut id_rng),
        })
        .collect()
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

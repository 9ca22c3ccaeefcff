//! Generated ID-card and mobile numbers for everyone (a volunteer registers with an ID card too),
//! valid in form and belonging to no one, and the grid workers' hire dates: the full-time ones
//! were all newly hired this year, as in the article ("新选聘专职网格员308名"), the part-time
//! village cadres years before. They draw from streams of their own, so how they are made cannot
//! move anything else in the city.

use crate::PersonalIds;
use crate::rng::Rng;
use chrono::{Datelike, NaiveDate};
use wangge_domain::org::PersonKind;
use wangge_store::NewPerson;

pub(crate) fn identifiers(seed: u64, people: &[NewPerson]) -> Vec<PersonalIds> {
    let mut id_rng = Rng::new(seed ^ 0x5151_5151);
    people
        .iter()
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

/// Dates the grid workers' hiring: full-time ones between January and June of `year` (each a
/// weekday), part-time ones in an earlier year.
pub(crate) fn date_hires(seed: u64, people: &mut [NewPerson], year: i32) {
    let mut rng = Rng::new(seed ^ 0x4849_5245);
    for p in people {
        let (y, months) = if p.kind == PersonKind::FullTimeGridWorker.as_str() {
            (year, 6)
        } else if p.kind == PersonKind::PartTimeGridWorker.as_str() {
            (year - 1 - rng.below(10) as i32, 12)
        } else {
            continue;
        };
        let mut d =
            NaiveDate::from_ymd_opt(y, 1 + rng.below(months) as u32, 1 + rng.below(28) as u32)
                .expect("a day of a month");
        while d.weekday().number_from_monday() > 5 {
            d = d.succ_opt().expect("a later day");
        }
        p.hired_on = Some(d.format("%Y-%m-%d").to_string());
    }
}

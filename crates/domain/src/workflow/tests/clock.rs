//! The step clock and overdue notices as the moves drive them: who is told, and when an event
//! climbs the tree or gets a fresh limit.

use super::*;

#[test]
fn overdue_work_goes_up_the_tree() {
    let g = "640202001001003";
    let street = actor(Role::StreetDispatcher);
    let accepted = apply(
        &Flow::reported(),
        &actor(Role::CommunityStaff),
        &Move::Accept,
    )
    .unwrap();
    let (to, up) = on_light(&accepted, g, false);
    assert_eq!(
        (to, up),
        (vec![Recipient::Region("640202001001".into())], false),
        "yellow: the holder only"
    );
    let (to, up) = on_light(&accepted, g, true);
    assert_eq!(
        to,
        vec![
            Recipient::Region("640202001001".into()),
            Recipient::Region("640202001000".into())
        ]
    );
    assert!(up, "an overdue community moves the event to its township");
    let escalated = apply(&accepted, &street, &Move::Escalate).unwrap();
    let d = apply(
        &escalated,
        &street,
        &Move::Dispatch {
            lead: "a".into(),
            co: vec![],
        },
    )
    .unwrap();
    let (to, up) = on_light(&d, g, true);
    assert_eq!(
        to,
        vec![
            Recipient::Department("a".into()),
            Recipient::Region("640202001000".into()),
            Recipient::Region("640202000000".into())
        ]
    );
    assert!(
        !up,
        "a department's overdue step is reported up, the event stays with it"
    );
    assert_eq!(region_of(g, HolderLevel::City), "640200000000");
}

/// Who the shipped notification rules tell, and whether the event moves up: the behaviour the
/// rules must keep by default.
fn on_light(f: &Flow, grid_code: &str, red: bool) -> (Vec<Recipient>, bool) {
    use crate::settings::{Settings, Trigger};
    let on = if red { Trigger::Red } else { Trigger::Yellow };
    let to = Settings::default()
        .recipients(f, grid_code, on)
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    (to, red && escalates_when_overdue(f))
}

#[test]
fn an_escalated_event_gives_the_level_above_its_own_time() {
    use crate::catalog::Step;
    let community = actor(Role::CommunityStaff);
    let accepted = apply(&Flow::reported(), &community, &Move::Accept).unwrap();
    // Accepting keeps the clock started by the report (one limit for accepting and dispatching).
    assert_eq!(
        step_change(&Flow::reported(), &accepted, &Move::Accept),
        StepChange::Keep
    );
    let up = apply(&accepted, &community, &Move::Escalate).unwrap();
    assert_eq!(up.holder, HolderLevel::Township);
    assert_eq!(
        step_change(&accepted, &up, &Move::Escalate),
        StepChange::Start {
            step: Step::Accept,
            limit: None
        }
    );
    // An urge changes nothing on the clock.
    let urge = Move::Urge {
        note: "请尽快".into(),
    };
    let urged = apply(&up, &actor(Role::StreetDispatcher), &urge).unwrap();
    assert_eq!(step_change(&up, &urged, &urge), StepChange::Keep);
}

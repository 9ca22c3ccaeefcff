use super::*;
use proptest::prelude::*;

fn actor(role: Role) -> Actor {
    Actor::new(role)
}

fn dept(d: &str) -> Actor {
    Actor {
        department: Some(d.into()),
        ..Actor::new(Role::DepartmentStaff)
    }
}

fn reporter() -> Actor {
    Actor {
        is_reporter: true,
        ..Actor::new(Role::GridWorker)
    }
}

fn grid_worker() -> Actor {
    Actor {
        is_event_grid_worker: true,
        ..Actor::new(Role::GridWorker)
    }
}

fn whistle(lead: &str, others: &[&str]) -> Move {
    Move::Whistle {
        lead: lead.into(),
        others: others.iter().map(|s| s.to_string()).collect(),
        check_in_minutes: 30,
        task: "占道经营联合整治".into(),
    }
}

#[test]
fn the_whole_loop() {
    let community = actor(Role::CommunityStaff);
    let street = actor(Role::StreetDispatcher);
    let steps: Vec<(Actor, Move, State)> = vec![
        (community.clone(), Move::Accept, State::Accepted),
        (community.clone(), Move::Escalate, State::Accepted),
        (
            street.clone(),
            whistle("urban", &["police"]),
            State::Dispatched,
        ),
        (dept("police"), Move::CheckIn, State::Dispatched),
        (dept("urban"), Move::CheckIn, State::Handling),
        (
            dept("urban"),
            Move::SubmitResult {
                text: "已清理".into(),
            },
            State::Handled,
        ),
        (
            grid_worker(),
            Move::Verify {
                pass: false,
                note: "仍有杂物".into(),
            },
            State::Handling,
        ),
        (
            dept("urban"),
            Move::SubmitResult {
                text: "已彻底清理".into(),
            },
            State::Handled,
        ),
        (
            grid_worker(),
            Move::Verify {
                pass: true,
                note: "".into(),
            },
            State::Closed,
        ),
        (
            reporter(),
            Move::Rate {
                rating: Rating::Dissatisfied,
                comment: "太慢".into(),
            },
            State::Closed,
        ),
        (street.clone(), Move::Reopen, State::Handling),
    ];
    let mut f = Flow::reported();
    for (a, m, want) in &steps {
        f = apply(&f, a, m).unwrap_or_else(|e| panic!("{}: {e}", m.name()));
        assert_eq!(f.state, *want, "after {}", m.name());
        invariants(&f).unwrap();
    }
    assert_eq!(f.holder, HolderLevel::Township);
    assert!(f.whistled && f.checked_in.len() == 2);
    assert_eq!(f.reworks, 2);
    assert_eq!(f.version, 1 + steps.len() as i64);
    assert_eq!(replay(steps.iter().map(|(a, m, _)| (a, m))).unwrap(), f);
}

#[test]
fn each_role_makes_only_its_moves() {
    let f = Flow::reported();
    for role in [
        Role::GridWorker,
        Role::DepartmentStaff,
        Role::Mediator,
        Role::Leader,
        Role::SystemAdmin,
        Role::AuditAdmin,
    ] {
        assert_eq!(
            apply(&f, &actor(role), &Move::Accept),
            Err(MoveError::Forbidden("accept")),
            "{role}"
        );
    }
    let accepted = apply(&f, &actor(Role::CommunityStaff), &Move::Accept).unwrap();
    assert_eq!(
        apply(
            &accepted,
            &actor(Role::CommunityStaff),
            &Move::Dispatch {
                lead: "a".into(),
                co: vec![]
            }
        ),
        Err(MoveError::Forbidden("dispatch"))
    );
    assert_eq!(
        apply(&accepted, &actor(Role::CommunityStaff), &whistle("a", &[])),
        Err(MoveError::Forbidden("whistle"))
    );
    assert_eq!(
        apply(&accepted, &actor(Role::StreetDispatcher), &Move::CheckIn),
        Err(MoveError::Forbidden("check_in"))
    );
    assert_eq!(
        apply(
            &accepted,
            &actor(Role::StreetDispatcher),
            &Move::Rate {
                rating: Rating::Satisfied,
                comment: String::new()
            }
        ),
        Err(MoveError::Forbidden("rate"))
    );
    assert_eq!(
        apply(
            &accepted,
            &actor(Role::GridWorker),
            &Move::Urge { note: "快".into() }
        ),
        Err(MoveError::Forbidden("urge"))
    );
    assert!(
        apply(
            &accepted,
            &actor(Role::Leader),
            &Move::Urge {
                note: "请尽快处理".into()
            }
        )
        .is_ok()
    );
}

#[test]
fn moves_the_state_does_not_allow_are_refused_with_a_reason() {
    let street = actor(Role::StreetDispatcher);
    let f = apply(&Flow::reported(), &street, &Move::Accept).unwrap();
    assert!(
        matches!(apply(&f, &street, &Move::Accept), Err(MoveError::NotNow(_))),
        "two accepts"
    );
    let d = apply(
        &f,
        &street,
        &Move::Dispatch {
            lead: "a".into(),
            co: vec!["b".into()],
        },
    )
    .unwrap();
    assert!(
        matches!(
            apply(&d, &dept("c"), &Move::CheckIn),
            Err(MoveError::NotNow(_))
        ),
        "not our department"
    );
    let checked = apply(&d, &dept("a"), &Move::CheckIn).unwrap();
    assert!(matches!(
        apply(
            &checked,
            &dept("a"),
            &Move::Return {
                reason: "非本部门职责".into()
            }
        ),
        Err(MoveError::NotNow(_))
    ));
    assert!(
        matches!(
            apply(&checked, &street, &Move::Recall),
            Err(MoveError::NotNow(_))
        ),
        "recall after check-in"
    );
    let recalled = apply(&d, &street, &Move::Recall).unwrap();
    assert_eq!(
        (recalled.state, recalled.lead.clone()),
        (State::Accepted, None)
    );
    let returned = apply(
        &d,
        &dept("a"),
        &Move::Return {
            reason: "属地不符".into(),
        },
    )
    .unwrap();
    assert_eq!((returned.state, returned.returns), (State::Accepted, 1));
    let suspended = apply(
        &checked,
        &street,
        &Move::Suspend {
            reason: "等待天气".into(),
        },
    )
    .unwrap();
    let e = apply(
        &suspended,
        &dept("a"),
        &Move::SubmitResult {
            text: "done".into(),
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("挂起"), "{e}");
    assert!(
        apply(
            &suspended,
            &actor(Role::Leader),
            &Move::Supervise {
                note: "督办".into()
            }
        )
        .is_ok()
    );
    let resumed = apply(&suspended, &street, &Move::Resume).unwrap();
    let asked = apply(
        &resumed,
        &dept("a"),
        &Move::RequestExtension {
            minutes: 600,
            reason: "需采购".into(),
        },
    )
    .unwrap();
    assert!(matches!(
        apply(
            &asked,
            &dept("a"),
            &Move::RequestExtension {
                minutes: 60,
                reason: "再延".into()
            }
        ),
        Err(MoveError::NotNow(_))
    ));
    let decided = apply(&asked, &street, &Move::DecideExtension { approve: true }).unwrap();
    assert!(!decided.extension_pending);
    // Invalid fields are their own kind of error.
    assert!(matches!(
        apply(
            &f,
            &street,
            &Move::Dispatch {
                lead: "a".into(),
                co: vec!["a".into()]
            }
        ),
        Err(MoveError::Invalid(_))
    ));
    assert!(matches!(
        apply(
            &Flow::reported(),
            &street,
            &Move::Reject { reason: " ".into() }
        ),
        Err(MoveError::Invalid(_))
    ));
    // Escalation stops at the city.
    let mut up = f.clone();
    for _ in 0..3 {
        up = apply(&up, &street, &Move::Escalate).unwrap();
    }
    assert_eq!(up.holder, HolderLevel::City);
    assert!(matches!(
        apply(&up, &street, &Move::Escalate),
        Err(MoveError::NotNow(_))
    ));
}

#[test]
fn a_leading_department_summons_others() {
    let street = actor(Role::StreetDispatcher);
    let f = apply(&Flow::reported(), &street, &Move::Accept).unwrap();
    let d = apply(
        &f,
        &street,
        &Move::Dispatch {
            lead: "a".into(),
            co: vec![],
        },
    )
    .unwrap();
    assert!(
        matches!(
            apply(&d, &dept("a"), &whistle("a", &["b"])),
            Err(MoveError::NotNow(_))
        ),
        "before check-in"
    );
    let h = apply(&d, &dept("a"), &Move::CheckIn).unwrap();
    let w = apply(&h, &dept("a"), &whistle("a", &["b", "c"])).unwrap();
    assert_eq!(w.state, State::Handling);
    assert!(w.whistled && w.co.contains("b") && w.co.contains("c"));
    assert!(
        matches!(
            apply(&h, &dept("b"), &whistle("b", &["c"])),
            Err(MoveError::NotNow(_))
        ),
        "only the lead"
    );
    assert!(apply(&w, &dept("b"), &Move::CheckIn).is_ok());
}

fn all_actors() -> Vec<Actor> {
    let mut v: Vec<Actor> = Role::ALL.iter().map(|r| actor(*r)).collect();
    v.extend([dept("a"), dept("b"), dept("c"), reporter(), grid_worker()]);
    v
}

fn all_moves() -> Vec<Move> {
    vec![
        Move::Accept,
        Move::Reject {
            reason: "重复".into(),
        },
        Move::Merge { into: "e1".into() },
        Move::HandleHere,
        Move::Escalate,
        Move::Dispatch {
            lead: "a".into(),
            co: vec!["b".into()],
        },
        whistle("b", &["a", "c"]),
        Move::CheckIn,
        Move::Return {
            reason: "非本部门".into(),
        },
        Move::RequestExtension {
            minutes: 120,
            reason: "材料".into(),
        },
        Move::DecideExtension { approve: true },
        Move::DecideExtension { approve: false },
        Move::Suspend {
            reason: "等待".into(),
        },
        Move::Resume,
        Move::SubmitResult {
            text: "已处置".into(),
        },
        Move::Verify {
            pass: true,
            note: String::new(),
        },
        Move::Verify {
            pass: false,
            note: "未完成".into(),
        },
        Move::Rate {
            rating: Rating::Satisfied,
            comment: String::new(),
        },
        Move::Rate {
            rating: Rating::Dissatisfied,
            comment: "不满意".into(),
        },
        Move::Urge {
            note: "催办".into(),
        },
        Move::Supervise {
            note: "督办".into(),
        },
        Move::Reclassify {
            category: "0102".into(),
        },
        Move::Recall,
        Move::Reopen,
        Move::Reassign { to: "p2".into() },
        Move::Mediate {
            case: "M640202202611270001".into(),
            days: 30,
        },
        Move::MediationEnded {
            outcome: "agreed_written".into(),
        },
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Any sequence of moves: each is refused with no change or leads to a legal state; replaying
    /// the accepted ones reproduces the state; closed events take only a rating (and a reopen after
    /// a dissatisfied one).
    #[test]
    fn any_sequence_keeps_the_rules(picks in proptest::collection::vec((0usize..100, 0usize..100), 1..80)) {
        let actors = all_actors();
        let moves = all_moves();
        let mut f = Flow::reported();
        let mut history: Vec<(Actor, Move)> = Vec::new();
        for (ai, mi) in picks {
            let (a, m) = (&actors[ai % actors.len()], &moves[mi % moves.len()]);
            let before = f.clone();
            match apply(&f, a, m) {
                Ok(next) => {
                    prop_assert!(invariants(&next).is_ok(), "{:?} after {} by {}: {:?}", invariants(&next), m.name(), a.role, next);
                    prop_assert_eq!(next.version, before.version + 1);
                    if before.state == State::Closed {
                        let reopen_ok = matches!(m, Move::Reopen) && before.rating == Some(Rating::Dissatisfied);
                        prop_assert!(matches!(m, Move::Rate { .. }) || reopen_ok, "{} accepted on a closed event", m.name());
                    }
                    if matches!(before.state, State::Rejected | State::Merged) {
                        prop_assert!(false, "{} accepted on a finished event", m.name());
                    }
                    history.push((a.clone(), m.clone()));
                    f = next;
                }
                Err(_) => prop_assert_eq!(&f, &before),
            }
        }
        let replayed = replay(history.iter().map(|(a, m)| (a, m))).unwrap();
        prop_assert_eq!(replayed, f);
    }
}

/// Every state reachable with these actors and moves, explored breadth-first: all keep the
/// invariants, and the whole loop (closed, rated, reopened, whistled, suspended) is reachable.
#[test]
fn every_reachable_state_is_legal() {
    use std::collections::{HashSet, VecDeque};
    let actors = all_actors();
    let moves = all_moves();
    let key = |f: &Flow| Flow {
        version: 0,
        ..f.clone()
    };
    let mut seen: HashSet<String> = HashSet::new();
    let mut queue = VecDeque::from([Flow::reported()]);
    let (mut closed, mut rated, mut reopened, mut suspended, mut whistled) =
        (false, false, false, false, false);
    while let Some(f) = queue.pop_front() {
        // The counters grow without end; two reworks and one return show every rule.
        if f.reworks > 2 || f.returns > 1 || !seen.insert(format!("{:?}", key(&f))) {
            continue;
        }
        invariants(&f).unwrap();
        closed |= f.state == State::Closed;
        rated |= f.rating.is_some();
        reopened |=
            f.state == State::Handling && f.reworks > 0 && f.rating.is_none() && !f.handled_here;
        suspended |= f.suspended;
        whistled |= f.whistled && f.state == State::Handling;
        for a in &actors {
            for m in &moves {
                if let Ok(next) = apply(&f, a, m) {
                    queue.push_back(next);
                }
            }
        }
    }
    assert!(
        (100..100_000).contains(&seen.len()),
        "{} states",
        seen.len()
    );
    assert!(closed && rated && reopened && suspended && whistled);
}

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
fn open_moves_are_what_apply_allows() {
    let reported = Flow::reported();
    let community = actor(Role::CommunityStaff);
    let open = open_moves(&reported, &community);
    assert!(
        open.contains(&"accept") && open.contains(&"reject"),
        "{open:?}"
    );
    assert!(
        !open.contains(&"check_in") && !open.contains(&"rate"),
        "{open:?}"
    );
    // Every sample is named once, and every offered move is accepted by apply with real contents
    // or refused only for its contents.
    let names: Vec<_> = Move::samples().iter().map(Move::name).collect();
    let unique: std::collections::BTreeSet<_> = names.iter().collect();
    assert_eq!(names.len(), unique.len());
    assert_eq!(names.len(), 24);
    let grid_worker = actor(Role::GridWorker);
    assert!(!open_moves(&reported, &grid_worker).contains(&"accept"));
}

#[test]
fn a_dispute_taken_to_mediation_closes_with_the_case() {
    let mediator = actor(Role::Mediator);
    let reported = Flow::reported();
    let take = Move::Mediate {
        case: "M640202202611270001".into(),
        days: 30,
    };
    // Grid workers and departments do not take events to mediation.
    assert_eq!(
        apply(&reported, &actor(Role::GridWorker), &take),
        Err(MoveError::Forbidden("mediate"))
    );
    let f = apply(&reported, &mediator, &take).unwrap();
    assert_eq!((f.state, f.mediation), (State::Handling, true));
    invariants(&f).unwrap();
    // Nobody submits a result for it: the case decides.
    let submit = Move::SubmitResult { text: "x".into() };
    assert!(apply(&f, &actor(Role::CommunityStaff), &submit).is_err());
    assert!(apply(&f, &mediator, &take).is_err(), "once");
    let suspend = Move::Suspend {
        reason: "等待".into(),
    };
    assert!(apply(&f, &actor(Role::StreetDispatcher), &suspend).is_err());
    let ended = Move::MediationEnded {
        outcome: "failed".into(),
    };
    let closed = apply(&f, &mediator, &ended).unwrap();
    assert_eq!((closed.state, closed.mediation), (State::Closed, false));
    assert!(apply(&closed, &mediator, &ended).is_err());
    // An event not in mediation cannot be ended by one.
    assert!(apply(&reported, &mediator, &ended).is_err());
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

use super::*;

mod clock;
mod exploration;

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

// The refusals below each start from a step of one dispatch: accepted by the street, sent to "a"
// leading with "b" helping, then checked in by "a".

fn accepted_by_street() -> Flow {
    apply(
        &Flow::reported(),
        &actor(Role::StreetDispatcher),
        &Move::Accept,
    )
    .unwrap()
}

fn dispatched_to_a_with_b() -> Flow {
    apply(
        &accepted_by_street(),
        &actor(Role::StreetDispatcher),
        &Move::Dispatch {
            lead: "a".into(),
            co: vec!["b".into()],
        },
    )
    .unwrap()
}

fn checked_in_by_a() -> Flow {
    apply(&dispatched_to_a_with_b(), &dept("a"), &Move::CheckIn).unwrap()
}

fn suspended_while_handled_by_a() -> Flow {
    apply(
        &checked_in_by_a(),
        &actor(Role::StreetDispatcher),
        &Move::Suspend {
            reason: "等待天气".into(),
        },
    )
    .unwrap()
}

#[test]
fn an_event_is_accepted_once() {
    let street = actor(Role::StreetDispatcher);
    let f = accepted_by_street();
    assert!(
        matches!(apply(&f, &street, &Move::Accept), Err(MoveError::NotNow(_))),
        "two accepts"
    );
}

#[test]
fn only_the_departments_dispatched_check_in() {
    let d = dispatched_to_a_with_b();
    assert!(
        matches!(
            apply(&d, &dept("c"), &Move::CheckIn),
            Err(MoveError::NotNow(_))
        ),
        "not our department"
    );
}

#[test]
fn a_dispatch_is_returned_or_recalled_only_before_check_in() {
    let street = actor(Role::StreetDispatcher);
    let d = dispatched_to_a_with_b();
    let checked = checked_in_by_a();
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
}

#[test]
fn a_suspended_event_takes_only_oversight_until_resumed() {
    let suspended = suspended_while_handled_by_a();
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
    let resumed = apply(&suspended, &actor(Role::StreetDispatcher), &Move::Resume).unwrap();
    assert!(!resumed.suspended);
}

#[test]
fn one_extension_waits_for_a_decision_at_a_time() {
    let street = actor(Role::StreetDispatcher);
    let resumed = apply(&suspended_while_handled_by_a(), &street, &Move::Resume).unwrap();
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
}

#[test]
fn invalid_fields_are_their_own_kind_of_error() {
    let street = actor(Role::StreetDispatcher);
    assert!(matches!(
        apply(
            &accepted_by_street(),
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
}

#[test]
fn escalation_stops_at_the_city() {
    let street = actor(Role::StreetDispatcher);
    let mut up = accepted_by_street();
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

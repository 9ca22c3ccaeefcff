//! Exhaustive checks of the rules: every actor against every move, by random sequences and by
//! walking every reachable state, because a rule that holds in the scenarios can still break in a
//! combination nobody wrote down.

use super::*;
use proptest::prelude::*;

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

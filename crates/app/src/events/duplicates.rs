//! 疑似重复: open events of the same class within 250 m reported in the 72 hours before an event,
//! offered to the dispatcher to merge. The hint shows only events the principal could open
//! itself ([`crate::principal::Sight`]): a department's staff never learn, through it, of events
//! not sent to their department.

use super::views::{Duplicate, wire_or};
use crate::context::Context;
use crate::error::AppResult;
use crate::principal::Sight;
use chrono::Duration;
use wangge_domain::workflow::State;
use wangge_store::{EventRow, NearbyEvent};

/// How near and how recent an open event of the same category must be.
pub const RADIUS_M: f64 = 250.0;
pub const WINDOW_HOURS: i64 = 72;
/// The box read around a point: 250 m is about 0.00225° of latitude; the box is trimmed by the
/// exact distance in [`rank`].
pub const BOX_DEG: f64 = 0.0025;

/// The likely duplicates of `e` in sight, nearest first.
pub async fn of(ctx: &Context, sight: &Sight, e: &EventRow) -> AppResult<Vec<Duplicate>> {
    let since = e.created_at - Duration::hours(WINDOW_HOURS);
    let near = ctx
        .store
        .open_events_near(&sight.vis, &e.category_code, since, (e.lon, e.lat), BOX_DEG)
        .await?;
    Ok(rank(sight, e, &near))
}

/// Of the open events read around `e`, the likely duplicates in sight: the same category, within
/// 250 m and the 72 hours before it, nearest first, never itself.
pub fn rank(sight: &Sight, e: &EventRow, near: &[NearbyEvent]) -> Vec<Duplicate> {
    use geo::{Distance, Haversine, Point};
    let since = e.created_at - Duration::hours(WINDOW_HOURS);
    let here = Point::new(e.lon, e.lat);
    let mut found: Vec<(f64, &NearbyEvent)> = near
        .iter()
        .filter(|o| {
            o.id != e.id
                && o.category_code == e.category_code
                && o.created_at >= since
                && sight.sees(&o.grid_code, &o.departments)
        })
        .map(|o| (Haversine.distance(here, Point::new(o.lon, o.lat)), o))
        .filter(|(d, _)| *d <= RADIUS_M)
        .collect();
    found.sort_by(|a, b| a.0.total_cmp(&b.0));
    found
        .into_iter()
        .map(|(d, o)| Duplicate {
            id: o.id,
            code: o.code.clone(),
            state: wire_or(&o.state, "state", State::Reported),
            distance_m: d.round(),
            description: o.description.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use uuid::Uuid;
    use wangge_domain::access::Visibility;
    use wangge_domain::region::RegionCode;

    fn event_at(lon: f64, lat: f64) -> EventRow {
        EventRow {
            lon,
            lat,
            ..wangge_store::testing::sample_event(Utc::now())
        }
    }

    fn near(
        code: &str,
        category: &str,
        grid: &str,
        (lon, lat): (f64, f64),
        hours_ago: i64,
    ) -> NearbyEvent {
        NearbyEvent {
            id: Uuid::now_v7(),
            code: code.into(),
            category_code: category.into(),
            state: "reported".into(),
            description: code.into(),
            lon,
            lat,
            grid_code: grid.into(),
            departments: " ".into(),
            created_at: Utc::now() - Duration::hours(hours_ago),
        }
    }

    fn codes(v: Vec<Duplicate>) -> Vec<String> {
        v.into_iter().map(|d| d.code).collect()
    }

    /// Of what was read around a report, only the same category, within 250 m, within the 72
    /// hours before it and inside the principal's sight is offered, nearest first, never itself.
    #[test]
    fn duplicates_are_ranked_and_trimmed() {
        let e = event_at(106.4, 39.0);
        let mine = "640202001001001";
        let neighbour = "640202002001001";
        let read = vec![
            near("far", "0401", mine, (106.4 + 0.003, 39.0), 1),
            near("second", "0401", mine, (106.4, 39.0 + 0.001), 1),
            near("first", "0401", mine, (106.4 + 0.0002, 39.0), 2),
            near("old", "0401", mine, (106.4, 39.0), 73),
            near("other-class", "0501", mine, (106.4, 39.0), 1),
            near("out-of-sight", "0401", neighbour, (106.4, 39.0), 1),
            NearbyEvent {
                id: e.id,
                ..near("itself", "0401", mine, (106.4, 39.0), 0)
            },
        ];
        let community = Sight {
            vis: Visibility::system()
                .narrowed_to(&RegionCode::parse("640202001001").unwrap())
                .unwrap(),
            department: None,
        };
        assert_eq!(codes(rank(&community, &e, &read)), ["first", "second"]);
        let city = Sight {
            vis: Visibility::system(),
            department: None,
        };
        assert_eq!(
            codes(rank(&city, &e, &read)),
            ["out-of-sight", "first", "second"]
        );
        let d = rank(&community, &e, &read);
        assert!((15.0..20.0).contains(&d[0].distance_m), "{d:?}");
    }

    /// A department sees, among them, only the events sent to it, wherever it serves.
    #[test]
    fn a_department_sees_only_what_was_sent_to_it() {
        let e = event_at(106.4, 39.0);
        let grid = "640202001001001";
        let sent = NearbyEvent {
            departments: " d1 d2 ".into(),
            ..near("sent", "0401", grid, (106.4, 39.0001), 1)
        };
        let other = NearbyEvent {
            departments: " d3 ".into(),
            ..near("other", "0401", grid, (106.4, 39.0), 1)
        };
        let unsent = near("unsent", "0401", grid, (106.4, 39.0), 1);
        let department = Sight {
            vis: Visibility::system(),
            department: Some("d2".into()),
        };
        assert_eq!(
            codes(rank(&department, &e, &[sent, other, unsent])),
            ["sent"]
        );
    }
}

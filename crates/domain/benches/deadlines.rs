//! Deadline computations per second on one core: working days and working hours on the shipped
//! calendar, beside the natural-minutes limit (a plain addition: the floor any calendar
//! arithmetic is measured against) in the same run. Run: `cargo bench -p wangge-domain --bench deadlines`.

use chrono::{DateTime, Utc};
use std::hint::black_box;
use std::time::Instant;
use wangge_domain::calendar::{Calendar, Limit, OfficeHours};

fn rate(
    label: &str,
    starts: &[DateTime<Utc>],
    cal: &Calendar,
    limit: impl Fn(usize) -> Limit,
) -> f64 {
    let t = Instant::now();
    let mut provisional = 0usize;
    for (i, &s) in starts.iter().enumerate() {
        if black_box(cal.due(s, limit(i))).provisional {
            provisional += 1;
        }
    }
    let per_s = starts.len() as f64 / t.elapsed().as_secs_f64();
    println!("  {label:<28} {per_s:>14.0} /s  ({provisional} provisional)");
    per_s
}

fn main() {
    let cal = Calendar::shipped(OfficeHours::default());
    // Start times spread over 2018–2026, every 37 minutes and a bit.
    let base = DateTime::<Utc>::from_timestamp(1_514_736_000, 0).unwrap();
    let starts: Vec<DateTime<Utc>> = (0..1_000_000i64)
        .map(|i| base + chrono::Duration::seconds(i * 2237 % 283_000_000))
        .collect();
    println!("1,000,000 deadlines each:");
    let natural = rate("natural minutes (baseline)", &starts, &cal, |i| {
        Limit::Minutes(10 + (i % 120) as i64)
    });
    let days = rate("working days (1–15)", &starts, &cal, |i| {
        Limit::WorkingDays(1 + (i % 15) as u32)
    });
    let hours = rate("working hours (1–24)", &starts, &cal, |i| {
        Limit::working_hours(1 + (i % 24) as i64)
    });
    println!(
        "  ratio to baseline: working days {:.1}x slower, working hours {:.1}x slower",
        natural / days,
        natural / hours
    );
}

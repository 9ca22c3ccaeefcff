//! The grid overlap search, the expensive part of a large import: an R-tree of bounding boxes
//! narrows the pairs, and only boxes that share area get a polygon intersection, spread over the
//! cores. Apart from the per-feature checks because its cost, not its rules, shapes the code.

use super::{ImportOptions, Item, Problem, Stage, report};
use crate::model::{Grid, area_m2};
use geo::{BooleanOps, BoundingRect, MultiPolygon};
use rstar::{AABB, RTree, RTreeObject};
use std::collections::HashSet;

struct Boxed {
    envelope: AABB<[f64; 2]>,
    slot: usize,
}

impl RTreeObject for Boxed {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.envelope
    }
}

fn envelope(shape: &MultiPolygon<f64>) -> Option<AABB<[f64; 2]>> {
    shape
        .bounding_rect()
        .map(|r| AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]))
}

/// Grids must not overlap: the file's grids against each other and against the grids already
/// stored that the file does not replace.
pub(super) fn report_overlaps(
    items: &[(usize, Item)],
    existing_grids: &[Grid],
    options: ImportOptions,
    progress: &mut dyn FnMut(Stage, usize, usize),
    problems: &mut Vec<Problem>,
) {
    let file_codes: HashSet<&str> = items.iter().map(|(_, i)| i.code()).collect();
    let mut all: Vec<(Option<usize>, &Grid)> = Vec::new();
    for (index, item) in items {
        if let Item::Grid(g) = item {
            all.push((Some(*index), g));
        }
    }
    for g in existing_grids {
        if !file_codes.contains(g.code.as_str()) {
            all.push((None, g));
        }
    }
    let boxes: Vec<Boxed> = all
        .iter()
        .enumerate()
        .filter_map(|(slot, (_, g))| envelope(&g.shape).map(|envelope| Boxed { envelope, slot }))
        .collect();
    let tree = RTree::bulk_load(boxes);
    let new_slots: Vec<usize> = (0..all.len()).filter(|&s| all[s].0.is_some()).collect();
    let total = new_slots.len();
    let overlaps = find_overlaps(&all, &tree, &new_slots, options, progress, total);
    for (a, b, area) in overlaps {
        // Report on both features when both come from the file, so each one's list is complete.
        for (this, that) in [(a, b), (b, a)] {
            if let (Some(index), g) = all[this] {
                let other = all[that].1;
                report(
                    problems,
                    index,
                    g.code.as_str(),
                    format!("与网格 {} 重叠约 {:.0} 平方米", other.code, area),
                );
            }
        }
    }
}

type Overlap = (usize, usize, f64);

/// Pairs (new slot, other slot, area m²) that overlap beyond the tolerance. Each pair of two new
/// grids is tested once. Runs on every core: this is the expensive part of a large import.
fn find_overlaps(
    all: &[(Option<usize>, &Grid)],
    tree: &RTree<Boxed>,
    new_slots: &[usize],
    options: ImportOptions,
    progress: &mut dyn FnMut(Stage, usize, usize),
    total: usize,
) -> Vec<Overlap> {
    let check = |slot: usize, out: &mut Vec<Overlap>| {
        let g = all[slot].1;
        let Some(env) = envelope(&g.shape) else {
            return;
        };
        for other in tree.locate_in_envelope_intersecting(&env) {
            let o = other.slot;
            if o == slot || (all[o].0.is_some() && o < slot) {
                continue;
            }
            // Boxes that only share an edge cannot hold an overlap of positive area.
            let (a, b) = (env, other.envelope);
            let overlap_w = a.upper()[0].min(b.upper()[0]) - a.lower()[0].max(b.lower()[0]);
            let overlap_h = a.upper()[1].min(b.upper()[1]) - a.lower()[1].max(b.lower()[1]);
            if overlap_w <= 0.0 || overlap_h <= 0.0 {
                continue;
            }
            let area = area_m2(&g.shape.intersection(&all[o].1.shape));
            if area > options.tolerance_m2 {
                out.push((slot, o, area));
            }
        }
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let chunk = 2048;
    let mut out = Vec::new();
    let mut done = 0;
    for batch in new_slots.chunks(chunk * threads) {
        let parts: Vec<Vec<Overlap>> = std::thread::scope(|s| {
            let handles: Vec<_> = batch
                .chunks(chunk)
                .map(|slots| {
                    s.spawn(move || {
                        let mut found = Vec::new();
                        for &slot in slots {
                            check(slot, &mut found);
                        }
                        found
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_default())
                .collect()
        });
        out.extend(parts.into_iter().flatten());
        done += batch.len();
        progress(Stage::Overlaps, done, total);
    }
    out
}

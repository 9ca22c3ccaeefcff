//! The geometry of the map: the city's box, rectangles and hand-drawn-looking tiles, and the
//! apportioning that decides how many pieces each part gets.

use crate::rng::Rng;
use geo::{LineString, MultiPolygon, Polygon};

pub(crate) const WEST: f64 = 106.2;
pub(crate) const EAST: f64 = 106.8;

pub(crate) fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
    MultiPolygon(vec![Polygon::new(
        LineString::from(vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]),
        vec![],
    )])
}

fn quad(a: (f64, f64), b: (f64, f64), c: (f64, f64), d: (f64, f64)) -> MultiPolygon<f64> {
    MultiPolygon(vec![Polygon::new(
        LineString::from(vec![a, b, c, d, a]),
        vec![],
    )])
}

/// Splits `total` into `weights.len()` whole parts proportional to the weights (largest remainder),
/// each at least `min`.
pub(crate) fn apportion(total: usize, weights: &[f64], min: usize) -> Vec<usize> {
    let n = weights.len();
    let spare = total - min * n;
    let sum: f64 = weights.iter().sum();
    let exact: Vec<f64> = weights.iter().map(|w| w / sum * spare as f64).collect();
    let mut parts: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    let mut left = spare - parts.iter().sum::<usize>();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor())
            .total_cmp(&(exact[a] - exact[a].floor()))
            .then(a.cmp(&b))
    });
    for &i in order.iter().cycle() {
        if left == 0 {
            break;
        }
        parts[i] += 1;
        left -= 1;
    }
    parts.iter().map(|p| p + min).collect()
}

/// Tiles the rectangle with exactly `n` quadrilaterals: rows with jittered heights, each row cut
/// by slanted lines, so grids look drawn by hand yet share every edge exactly.
pub(crate) fn tile(
    rng: &mut Rng,
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
    n: usize,
) -> Vec<MultiPolygon<f64>> {
    let rows = ((n as f64).sqrt().round() as usize).clamp(1, n);
    let per_row = apportion(n, &vec![1.0; rows], 1);
    let h = (y1 - y0) / rows as f64;
    let mut ys: Vec<f64> = (0..=rows).map(|k| y0 + h * k as f64).collect();
    for y in ys.iter_mut().take(rows).skip(1) {
        *y += rng.range(-0.25, 0.25) * h;
    }
    let mut out = Vec::with_capacity(n);
    for (r, &cells) in per_row.iter().enumerate() {
        let (lo, hi) = (ys[r], ys[r + 1]);
        let w = (x1 - x0) / cells as f64;
        let cut = |rng: &mut Rng, j: usize| {
            if j == 0 {
                x0
            } else if j == cells {
                x1
            } else {
                x0 + w * j as f64 + rng.range(-0.25, 0.25) * w
            }
        };
        let bottom: Vec<f64> = (0..=cells).map(|j| cut(rng, j)).collect();
        let top: Vec<f64> = (0..=cells).map(|j| cut(rng, j)).collect();
        for j in 0..cells {
            out.push(quad(
                (bottom[j], lo),
                (bottom[j + 1], lo),
                (top[j + 1], hi),
                (top[j], hi),
            ));
        }
    }
    out
}

//! Point → grid lookups per second: the R-tree atlas beside a brute-force scan of every polygon,
//! in the same process on the same points, on the demo city (2001 grids) and on a generated
//! province of 200,000 grids. Run: `cargo bench -p wangge-demo --bench locate`.

use std::hint::black_box;
use std::time::Instant;
use wangge_domain::atlas::{Atlas, brute_force_grid_at};
use wangge_domain::{Grid, GridCode, GridType, Region, RegionCode};

fn points(n: usize, bbox: [f64; 4], seed: u64) -> Vec<(f64, f64)> {
    let mut s = seed;
    let mut next = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n)
        .map(|_| {
            (
                bbox[0] + (bbox[2] - bbox[0]) * next(),
                bbox[1] + (bbox[3] - bbox[1]) * next(),
            )
        })
        .collect()
}

fn rate(label: &str, pts: &[(f64, f64)], f: impl Fn(f64, f64) -> Option<usize>) -> f64 {
    // Warm up, then time one pass on one core.
    for &(x, y) in pts.iter().take(1000) {
        black_box(f(x, y));
    }
    let t = Instant::now();
    let mut hits = 0usize;
    for &(x, y) in pts {
        if black_box(f(x, y)).is_some() {
            hits += 1;
        }
    }
    let per_s = pts.len() as f64 / t.elapsed().as_secs_f64();
    println!(
        "  {label:<12} {per_s:>14.0} lookups/s  ({hits} of {} points inside a grid)",
        pts.len()
    );
    per_s
}

/// A province-sized tiling: 200,000 jittered quadrilateral grids in 40 counties.
fn province() -> (Vec<Region>, Vec<Grid>) {
    let demo = wangge_demo::generate(1);
    let cols = 500;
    let rows = 400;
    let (x0, y0, w, h) = (105.0, 35.5, 0.004, 0.004);
    let mut grids = Vec::with_capacity(cols * rows);
    for r in 0..rows {
        for c in 0..cols {
            let k = r * cols + c;
            // 40 counties × 50 townships × 100 communities, one grid each.
            let code = format!(
                "64{:02}{:02}{:03}{:03}001",
                1 + k / 100_000,
                1 + (k / 5000) % 20,
                1 + (k / 100) % 50,
                1 + k % 100
            );
            let jx = |i: usize, j: usize| {
                (((i * 7919 + j * 104_729) % 1000) as f64 / 1000.0 - 0.5) * 0.4 * w
            };
            let px = |i: usize, j: usize| {
                let edge = i == 0 || i == cols;
                x0 + i as f64 * w + if edge { 0.0 } else { jx(i, j) }
            };
            let py = |j: usize| y0 + j as f64 * h;
            let ring = vec![
                (px(c, r), py(r)),
                (px(c + 1, r), py(r)),
                (px(c + 1, r + 1), py(r + 1)),
                (px(c, r + 1), py(r + 1)),
                (px(c, r), py(r)),
            ];
            grids.push(Grid {
                code: GridCode::parse(&code).expect("grid code"),
                name: format!("网格{k}"),
                grid_type: GridType::Basic,
                dedicated_kind: None,
                shape: geo::MultiPolygon(vec![geo::Polygon::new(
                    geo::LineString::from(ring),
                    vec![],
                )]),
            });
        }
    }
    let _ = RegionCode::parse("640100000000");
    (demo.regions, grids)
}

fn main() {
    let demo = wangge_demo::generate(2026);
    let atlas = Atlas::build(demo.regions.clone(), demo.grids.clone());
    let pts = points(2_000_000, [106.2, 38.7, 106.8, 39.3], 42);
    println!("demo city: {} grids", atlas.grid_count());
    let fast = rate("r-tree", &pts, |x, y| atlas.grid_index_at(x, y));
    let slow_pts = &pts[..20_000];
    let slow = rate("brute force", slow_pts, |x, y| {
        brute_force_grid_at(&demo.grids, x, y)
    });
    println!("  ratio        {:>14.0}x", fast / slow);

    let (regions, grids) = province();
    let t = Instant::now();
    let atlas = Atlas::build(regions, grids.clone());
    println!(
        "province: {} grids (index built in {:.2} s)",
        atlas.grid_count(),
        t.elapsed().as_secs_f64()
    );
    let pts = points(2_000_000, [105.0, 35.5, 107.0, 37.1], 43);
    let fast = rate("r-tree", &pts, |x, y| atlas.grid_index_at(x, y));
    let slow = rate("brute force", &pts[..200], |x, y| {
        brute_force_grid_at(&grids, x, y)
    });
    println!("  ratio        {:>14.0}x", fast / slow);
}

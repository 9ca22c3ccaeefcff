//! Grid and region polygons: reading them from GeoJSON with every defect named, and writing them back.
//!
//! We read the raw coordinate arrays ourselves rather than through a GeoJSON library because the
//! import must report *why* a shape is wrong (an unclosed ring, too few points, a ring that crosses
//! itself, a coordinate off the globe), and geometry types silently close rings and accept anything.

use geo::{Coord, LineString, MultiPolygon, Polygon};
use serde_json::{Value, json};

/// One defect of one geometry. The message is Chinese because an operator reads it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeometryProblem {
    #[error("缺少几何图形")]
    Missing,
    #[error("几何类型应为 Polygon 或 MultiPolygon，收到 {0}")]
    NotPolygon(String),
    #[error("几何结构不正确：{0}")]
    Malformed(String),
    #[error("坐标不是有效数字（多边形 {polygon}，环 {ring}，点 {point}）")]
    NotANumber {
        polygon: usize,
        ring: usize,
        point: usize,
    },
    #[error("坐标超出经纬度范围：[{lon}, {lat}]（经度 −180…180，纬度 −90…90）")]
    OutOfRange { lon: f64, lat: f64 },
    #[error("环未闭合：首点与末点不同（多边形 {polygon}，环 {ring}）")]
    RingNotClosed { polygon: usize, ring: usize },
    #[error("环的点数少于4个：只有 {points} 个（多边形 {polygon}，环 {ring}）")]
    TooFewPoints {
        polygon: usize,
        ring: usize,
        points: usize,
    },
    #[error("环自相交，交点附近 [{lon:.6}, {lat:.6}]（多边形 {polygon}，环 {ring}）")]
    SelfIntersection {
        polygon: usize,
        ring: usize,
        lon: f64,
        lat: f64,
    },
    #[error("环面积为零（多边形 {polygon}，环 {ring}）")]
    ZeroArea { polygon: usize, ring: usize },
}

/// Parses a GeoJSON geometry object into a multipolygon, or every problem found in it.
pub fn parse_geometry(value: &Value) -> Result<MultiPolygon<f64>, Vec<GeometryProblem>> {
    let obj = match value {
        Value::Null => return Err(vec![GeometryProblem::Missing]),
        Value::Object(o) => o,
        _ => {
            return Err(vec![GeometryProblem::Malformed(
                "geometry 应为对象".to_string(),
            )]);
        }
    };
    let kind = obj
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("(无类型)");
    let coords = obj.get("coordinates");
    let polygons: Vec<&Value> = match (kind, coords) {
        ("Polygon", Some(c)) => vec![c],
        ("MultiPolygon", Some(Value::Array(ps))) => ps.iter().collect(),
        ("MultiPolygon", Some(_)) => {
            return Err(vec![GeometryProblem::Malformed(
                "MultiPolygon 的 coordinates 应为数组".to_string(),
            )]);
        }
        ("Polygon" | "MultiPolygon", None) => {
            return Err(vec![GeometryProblem::Malformed(
                "缺少 coordinates".to_string(),
            )]);
        }
        (other, _) => return Err(vec![GeometryProblem::NotPolygon(other.to_string())]),
    };
    if polygons.is_empty() {
        return Err(vec![GeometryProblem::Malformed(
            "MultiPolygon 不含任何多边形".to_string(),
        )]);
    }
    let mut problems = Vec::new();
    let mut out = Vec::with_capacity(polygons.len());
    for (pi, poly) in polygons.into_iter().enumerate() {
        match parse_polygon(pi, poly, &mut problems) {
            Some(p) => out.push(p),
            None => continue,
        }
    }
    if problems.is_empty() {
        Ok(MultiPolygon(out))
    } else {
        Err(problems)
    }
}

fn parse_polygon(
    pi: usize,
    value: &Value,
    problems: &mut Vec<GeometryProblem>,
) -> Option<Polygon<f64>> {
    let Value::Array(rings) = value else {
        problems.push(GeometryProblem::Malformed(format!(
            "多边形 {pi} 应为环的数组"
        )));
        return None;
    };
    if rings.is_empty() {
        problems.push(GeometryProblem::Malformed(format!(
            "多边形 {pi} 不含任何环"
        )));
        return None;
    }
    let before = problems.len();
    let mut parsed = Vec::with_capacity(rings.len());
    for (ri, ring) in rings.iter().enumerate() {
        if let Some(r) = parse_ring(pi, ri, ring, problems) {
            parsed.push(r);
        }
    }
    if problems.len() > before {
        return None;
    }
    let mut iter = parsed.into_iter();
    let exterior = iter.next()?;
    Some(Polygon::new(exterior, iter.collect()))
}

fn parse_ring(
    pi: usize,
    ri: usize,
    value: &Value,
    problems: &mut Vec<GeometryProblem>,
) -> Option<LineString<f64>> {
    let Value::Array(points) = value else {
        problems.push(GeometryProblem::Malformed(format!(
            "多边形 {pi} 的环 {ri} 应为坐标数组"
        )));
        return None;
    };
    let before = problems.len();
    let mut out_of_range = 0usize;
    let mut coords = Vec::with_capacity(points.len());
    for (k, p) in points.iter().enumerate() {
        let pair = match p {
            Value::Array(xy) if xy.len() >= 2 => (xy[0].as_f64(), xy[1].as_f64()),
            _ => (None, None),
        };
        match pair {
            (Some(lon), Some(lat)) if lon.is_finite() && lat.is_finite() => {
                if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
                    // One report per ring is enough to find the mistake.
                    if out_of_range == 0 {
                        problems.push(GeometryProblem::OutOfRange { lon, lat });
                    }
                    out_of_range += 1;
                }
                coords.push(Coord { x: lon, y: lat });
            }
            _ => problems.push(GeometryProblem::NotANumber {
                polygon: pi,
                ring: ri,
                point: k,
            }),
        }
    }
    if problems.len() > before {
        return None;
    }
    if coords.len() < 4 {
        problems.push(GeometryProblem::TooFewPoints {
            polygon: pi,
            ring: ri,
            points: coords.len(),
        });
        return None;
    }
    if coords.first() != coords.last() {
        problems.push(GeometryProblem::RingNotClosed {
            polygon: pi,
            ring: ri,
        });
        return None;
    }
    if let Some(at) = ring_self_intersection(&coords) {
        problems.push(GeometryProblem::SelfIntersection {
            polygon: pi,
            ring: ri,
            lon: at.x,
            lat: at.y,
        });
        return None;
    }
    if ring_area2(&coords) == 0.0 {
        problems.push(GeometryProblem::ZeroArea {
            polygon: pi,
            ring: ri,
        });
        return None;
    }
    Some(LineString(coords))
}

fn ring_area2(ring: &[Coord<f64>]) -> f64 {
    ring.windows(2)
        .map(|w| w[0].x * w[1].y - w[1].x * w[0].y)
        .sum()
}

fn orient(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>) -> f64 {
    (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)
}

fn on_segment(a: Coord<f64>, b: Coord<f64>, p: Coord<f64>) -> bool {
    p.x >= a.x.min(b.x) && p.x <= a.x.max(b.x) && p.y >= a.y.min(b.y) && p.y <= a.y.max(b.y)
}

/// Whether closed segments ab and cd share any point.
fn segments_touch(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>, d: Coord<f64>) -> bool {
    let d1 = orient(c, d, a);
    let d2 = orient(c, d, b);
    let d3 = orient(a, b, c);
    let d4 = orient(a, b, d);
    if ((d1 > 0.0 && d2 < 0.0) || (d1 < 0.0 && d2 > 0.0))
        && ((d3 > 0.0 && d4 < 0.0) || (d3 < 0.0 && d4 > 0.0))
    {
        return true;
    }
    (d1 == 0.0 && on_segment(c, d, a))
        || (d2 == 0.0 && on_segment(c, d, b))
        || (d3 == 0.0 && on_segment(a, b, c))
        || (d4 == 0.0 && on_segment(a, b, d))
}

/// Finds a place where a closed ring touches or crosses itself, other than where consecutive
/// segments meet. Segments are swept in order of their west end, so a ring of n points costs
/// about n·log n plus the pairs whose longitude ranges overlap.
pub fn ring_self_intersection(ring: &[Coord<f64>]) -> Option<Coord<f64>> {
    // Consecutive duplicate points are harmless; drop them so zero-length segments don't "touch".
    let mut pts: Vec<Coord<f64>> = Vec::with_capacity(ring.len());
    for &c in ring {
        if pts.last() != Some(&c) {
            pts.push(c);
        }
    }
    let n = pts.len().saturating_sub(1);
    if n < 3 {
        return None;
    }
    let mut order: Vec<usize> = (0..n).collect();
    let min_x = |i: usize| pts[i].x.min(pts[i + 1].x);
    order.sort_by(|&i, &j| min_x(i).total_cmp(&min_x(j)));
    for (k, &i) in order.iter().enumerate() {
        let (a, b) = (pts[i], pts[i + 1]);
        let max_x = a.x.max(b.x);
        for &j in &order[k + 1..] {
            if min_x(j) > max_x {
                break;
            }
            let adjacent = i.abs_diff(j) == 1 || i.abs_diff(j) == n - 1;
            let (c, d) = (pts[j], pts[j + 1]);
            if adjacent {
                // Neighbours share one end; they only go wrong by folding back over each other.
                let (lo, hi) = if i.abs_diff(j) == 1 {
                    (i.min(j), i.max(j))
                } else {
                    (n - 1, 0)
                };
                let (before, shared, after) = (pts[lo], pts[lo + 1], pts[hi + 1]);
                let folds = orient(before, shared, after) == 0.0
                    && (before.x - shared.x) * (after.x - shared.x)
                        + (before.y - shared.y) * (after.y - shared.y)
                        > 0.0;
                if folds {
                    return Some(shared);
                }
                continue;
            }
            if segments_touch(a, b, c, d) {
                return Some(Coord {
                    x: (a.x + b.x) / 2.0,
                    y: (a.y + b.y) / 2.0,
                });
            }
        }
    }
    None
}

/// Writes a multipolygon as a GeoJSON geometry: a Polygon when it has one part.
pub fn to_geojson(shape: &MultiPolygon<f64>) -> Value {
    fn ring(ls: &LineString<f64>) -> Value {
        Value::Array(ls.0.iter().map(|c| json!([c.x, c.y])).collect())
    }
    fn polygon(p: &Polygon<f64>) -> Value {
        let mut rings = vec![ring(p.exterior())];
        rings.extend(p.interiors().iter().map(ring));
        Value::Array(rings)
    }
    if shape.0.len() == 1 {
        json!({"type": "Polygon", "coordinates": polygon(&shape.0[0])})
    } else {
        json!({"type": "MultiPolygon", "coordinates": Value::Array(shape.0.iter().map(polygon).collect())})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poly(coords: Value) -> Value {
        json!({"type": "Polygon", "coordinates": coords})
    }

    #[test]
    fn a_square_parses() {
        let g = poly(json!([[
            [106.0, 39.0],
            [106.1, 39.0],
            [106.1, 39.1],
            [106.0, 39.1],
            [106.0, 39.0]
        ]]));
        let mp = parse_geometry(&g).unwrap();
        assert_eq!(mp.0.len(), 1);
        assert_eq!(to_geojson(&mp), g);
    }

    #[test]
    fn each_defect_is_named() {
        type Expect = fn(&GeometryProblem) -> bool;
        let cases: Vec<(Value, Expect)> = vec![
            (
                json!({"type": "Point", "coordinates": [1, 2]}),
                |p| matches!(p, GeometryProblem::NotPolygon(t) if t == "Point"),
            ),
            (Value::Null, |p| matches!(p, GeometryProblem::Missing)),
            (poly(json!([[[0, 0], [1, 0], [1, 1], [0, 1]]])), |p| {
                matches!(p, GeometryProblem::RingNotClosed { .. })
            }),
            (poly(json!([[[0, 0], [1, 0], [0, 0]]])), |p| {
                matches!(p, GeometryProblem::TooFewPoints { points: 3, .. })
            }),
            (
                poly(json!([[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]])),
                |p| matches!(p, GeometryProblem::SelfIntersection { .. }),
            ),
            (
                poly(json!([[[0, 0], [200, 0], [1, 1], [0, 0]]])),
                |p| matches!(p, GeometryProblem::OutOfRange { lon, .. } if *lon == 200.0),
            ),
            (
                poly(json!([[[0, 0], [1, 95], [1, 1], [0, 0]]])),
                |p| matches!(p, GeometryProblem::OutOfRange { lat, .. } if *lat == 95.0),
            ),
            (poly(json!([[[0, 0], ["a", 0], [1, 1], [0, 0]]])), |p| {
                matches!(p, GeometryProblem::NotANumber { point: 1, .. })
            }),
            (poly(json!([[[0, 0], [1, 1], [2, 2], [0, 0]]])), |p| {
                matches!(
                    p,
                    GeometryProblem::ZeroArea { .. } | GeometryProblem::SelfIntersection { .. }
                )
            }),
            (poly(json!([[[0, 0], [1, 0], [2, 0], [0, 0]]])), |p| {
                matches!(
                    p,
                    GeometryProblem::ZeroArea { .. } | GeometryProblem::SelfIntersection { .. }
                )
            }),
            (poly(json!("x")), |p| {
                matches!(p, GeometryProblem::Malformed(_))
            }),
            (json!({"type": "Polygon"}), |p| {
                matches!(p, GeometryProblem::Malformed(_))
            }),
            (json!({"type": "MultiPolygon", "coordinates": []}), |p| {
                matches!(p, GeometryProblem::Malformed(_))
            }),
        ];
        for (i, (g, check)) in cases.into_iter().enumerate() {
            let problems = parse_geometry(&g).expect_err(&format!("case {i} should fail"));
            assert!(problems.iter().any(check), "case {i}: {problems:?}");
            for p in &problems {
                assert!(!p.to_string().is_empty());
            }
        }
    }

    #[test]
    fn a_ring_touching_itself_at_a_vertex_is_caught() {
        // A bow-tie that meets at (1,1) without a proper crossing.
        let g = poly(json!([[
            [0, 0],
            [1, 1],
            [2, 0],
            [2, 2],
            [1, 1],
            [0, 2],
            [0, 0]
        ]]));
        let problems = parse_geometry(&g).unwrap_err();
        assert!(
            matches!(problems[0], GeometryProblem::SelfIntersection { .. }),
            "{problems:?}"
        );
    }

    #[test]
    fn a_spike_folding_back_is_caught() {
        let g = poly(json!([[[0, 0], [2, 0], [2, 2], [2, 1], [0, 2], [0, 0]]]));
        assert!(parse_geometry(&g).is_err());
    }

    #[test]
    fn a_hole_and_a_multipolygon_parse() {
        let g = json!({"type": "MultiPolygon", "coordinates": [
            [[[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]], [[1, 1], [2, 1], [2, 2], [1, 2], [1, 1]]],
            [[[5, 5], [6, 5], [6, 6], [5, 5]]]
        ]});
        let mp = parse_geometry(&g).unwrap();
        assert_eq!(mp.0.len(), 2);
        assert_eq!(mp.0[0].interiors().len(), 1);
        assert_eq!(to_geojson(&mp), g.as_object().map(|_| {
            // integers come back as floats
            json!({"type": "MultiPolygon", "coordinates": [
                [[[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0], [0.0, 0.0]], [[1.0, 1.0], [2.0, 1.0], [2.0, 2.0], [1.0, 2.0], [1.0, 1.0]]],
                [[[5.0, 5.0], [6.0, 5.0], [6.0, 6.0], [5.0, 5.0]]]
            ]})
        }).unwrap());
    }

    #[test]
    fn many_sided_convex_ring_is_simple() {
        let n = 2000;
        let mut pts: Vec<Coord<f64>> = (0..n)
            .map(|i| {
                let t = i as f64 / n as f64 * std::f64::consts::TAU;
                Coord {
                    x: t.cos(),
                    y: t.sin(),
                }
            })
            .collect();
        pts.push(pts[0]);
        assert_eq!(ring_self_intersection(&pts), None);
    }
}

//! Checking a GeoJSON FeatureCollection of regions and grids before anything is written.
//!
//! An import is all-or-nothing: [`read_feature`] checks each feature on its own (codes, level,
//! parent link, geometry) as the file streams in, then [`check_collection`] checks the features
//! against each other and against what the database already holds (duplicates, unknown parents, a
//! grid outside its community, grids overlapping). Every problem is reported with the feature's
//! index and code; only a collection with no problem becomes a [`Plan`] to write.

use crate::geometry::parse_geometry;
use crate::model::{Grid, Region, area_m2};
use crate::region::{GridCode, GridType, Level, RegionCode};
use geo::coordinate_position::{CoordPos, CoordinatePosition};
use geo::{BooleanOps, BoundingRect, CoordsIter, MultiPolygon};
use rstar::{AABB, RTree, RTreeObject};
use serde::Serialize;
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// One thing wrong with one feature.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// Position of the feature in the collection, from 0.
    pub index: usize,
    pub code: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, Copy)]
pub struct ImportOptions {
    /// Overlap between two grids (or a grid's area outside its community) up to this many square
    /// metres is taken as digitising noise along a shared border.
    pub tolerance_m2: f64,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions { tolerance_m2: 1.0 }
    }
}

/// A feature that passed its own checks.
#[derive(Debug, Clone)]
pub enum Item {
    Region(Region),
    Grid(Grid),
}

impl Item {
    fn code(&self) -> &str {
        match self {
            Item::Region(r) => r.code.as_str(),
            Item::Grid(g) => g.code.as_str(),
        }
    }
}

/// What an import will write.
#[derive(Debug, Default)]
pub struct Plan {
    pub regions: Vec<Region>,
    pub grids: Vec<Grid>,
}

fn prop<'a>(props: &'a Value, key: &str) -> Option<&'a str> {
    props
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Checks one feature on its own. `feature` is the whole GeoJSON Feature object.
pub fn read_feature(index: usize, feature: &Value) -> Result<Item, Vec<Problem>> {
    let mut problems = Vec::new();
    let props = feature.get("properties").unwrap_or(&Value::Null);
    let code_text = prop(props, "code").map(str::to_string);
    let mut fail = |reason: String| {
        problems.push(Problem {
            index,
            code: code_text.clone(),
            reason,
        })
    };
    if feature.get("type").and_then(Value::as_str) != Some("Feature") {
        fail("不是 GeoJSON Feature（type 应为 \"Feature\"）".into());
    }
    if !props.is_object() {
        fail("缺少 properties 对象".into());
    }
    let name = prop(props, "name");
    if name.is_none() {
        fail("缺少名称 name".into());
    }
    let level = match prop(props, "level") {
        None => {
            fail("缺少层级 level".into());
            None
        }
        Some(l) => match l.parse::<Level>() {
            Ok(l) => Some(l),
            Err(e) => {
                fail(e.to_string());
                None
            }
        },
    };
    let parent_text = prop(props, "parent_code");
    let geometry = feature.get("geometry").unwrap_or(&Value::Null);
    let shape = match (level, geometry) {
        // Regions above the grid may be imported without a shape (codes and names only).
        (Some(l), Value::Null) if l != Level::Grid => None,
        // An unknown level is already reported; whether a shape is required is then unknowable.
        (None, Value::Null) => None,
        _ => match parse_geometry(geometry) {
            Ok(s) => Some(s),
            Err(ps) => {
                for p in ps {
                    fail(p.to_string());
                }
                None
            }
        },
    };
    let Some(level) = level else {
        return Err(problems);
    };
    let Some(code_text) = code_text.clone() else {
        fail("缺少代码 code".into());
        return Err(problems);
    };

    if level == Level::Grid {
        let code = match GridCode::parse(&code_text) {
            Ok(c) => Some(c),
            Err(e) => {
                fail(e.to_string());
                None
            }
        };
        let grid_type = match prop(props, "grid_type")
            .unwrap_or("basic")
            .parse::<GridType>()
        {
            Ok(t) => Some(t),
            Err(e) => {
                fail(e.to_string());
                None
            }
        };
        match (parent_text, &code) {
            (None, _) => fail("缺少上级代码 parent_code（网格的上级是社区或村）".into()),
            (Some(p), Some(c)) if !c.as_str().starts_with(p) || p.len() != 12 => fail(format!(
                "网格编码 {c} 不以上级社区代码 {p} 开头（网格编码 = 社区12位代码 + 3位序号）"
            )),
            _ => {}
        }
        if let (true, Some(code), Some(grid_type), Some(shape), Some(name)) =
            (problems.is_empty(), code, grid_type, shape, name)
        {
            let dedicated_kind = prop(props, "dedicated_kind").map(str::to_string);
            return Ok(Item::Grid(Grid {
                code,
                name: name.to_string(),
                grid_type,
                dedicated_kind: if grid_type == GridType::Dedicated {
                    dedicated_kind
                } else {
                    None
                },
                shape,
            }));
        }
        return Err(problems);
    }

    let code = match RegionCode::parse(&code_text) {
        Ok(c) if c.level() == level => Some(c),
        Ok(c) => {
            fail(format!(
                "代码 {c} 的形态是{}级，与 level \"{level}\" 不符",
                c.level().label_zh()
            ));
            None
        }
        Err(e) => {
            fail(e.to_string());
            None
        }
    };
    let parent = match (level, parent_text) {
        (Level::City, None) => None,
        (Level::City, Some(p)) => {
            fail(format!("市级区划不应有上级代码（收到 {p}）"));
            None
        }
        (_, None) => {
            fail("缺少上级代码 parent_code".into());
            None
        }
        (_, Some(p)) => match RegionCode::parse(p) {
            Ok(p) => Some(p),
            Err(e) => {
                fail(format!("上级代码无效：{e}"));
                None
            }
        },
    };
    if let (Some(c), Some(p)) = (&code, &parent)
        && (!c.as_str().starts_with(p.prefix()) || c.parent().as_ref() != Some(p))
    {
        fail(format!(
            "代码 {c} 不以上级代码 {p} 的有效前缀 {} 开头，或不是其直接下级",
            p.prefix()
        ));
    }
    match (problems.is_empty(), code, name) {
        (true, Some(code), Some(name)) => Ok(Item::Region(Region {
            code,
            level,
            name: name.to_string(),
            parent,
            shape,
        })),
        _ => Err(problems),
    }
}

/// A stage of a long import, for progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Reading,
    Overlaps,
}

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

/// Area of `a` that lies outside `b`, in square metres, computed only when some vertex of `a` is
/// outside `b` (the common case, a grid well inside its community, costs one point test per vertex).
fn area_outside(a: &MultiPolygon<f64>, b: &MultiPolygon<f64>) -> f64 {
    if a.coords_iter()
        .all(|c| b.coordinate_position(&c) != CoordPos::Outside)
    {
        return 0.0;
    }
    area_m2(&a.difference(b))
}

/// Checks the features against each other and the existing tree. `items` are `(index, item)` for
/// every feature that passed [`read_feature`]; `earlier` are the problems those calls reported.
pub fn check_collection(
    items: Vec<(usize, Item)>,
    mut problems: Vec<Problem>,
    existing_regions: &[Region],
    existing_grids: &[Grid],
    options: ImportOptions,
    progress: &mut dyn FnMut(Stage, usize, usize),
) -> Result<Plan, Vec<Problem>> {
    let mut report = |index: usize, code: &str, reason: String| {
        problems.push(Problem {
            index,
            code: Some(code.to_string()),
            reason,
        })
    };

    // Duplicates within the file.
    let mut first_seen: HashMap<&str, usize> = HashMap::new();
    for (index, item) in &items {
        if let Some(first) = first_seen.insert(item.code(), *index) {
            first_seen.insert(item.code(), first);
            report(
                *index,
                item.code(),
                format!("代码重复：与第 {first} 个要素相同"),
            );
        }
    }

    // Parents, from the file or the database.
    let mut levels: HashMap<&str, Level> = existing_regions
        .iter()
        .map(|r| (r.code.as_str(), r.level))
        .collect();
    let mut shapes: HashMap<&str, &MultiPolygon<f64>> = existing_regions
        .iter()
        .filter_map(|r| r.shape.as_ref().map(|s| (r.code.as_str(), s)))
        .collect();
    for (_, item) in &items {
        if let Item::Region(r) = item {
            levels.insert(r.code.as_str(), r.level);
            // A region imported without a shape keeps the one stored (names-only updates).
            if let Some(s) = &r.shape {
                shapes.insert(r.code.as_str(), s);
            }
        }
    }
    let mut community_of: Vec<(usize, usize)> = Vec::new();
    for (k, (index, item)) in items.iter().enumerate() {
        let (parent, want) = match item {
            Item::Region(r) => match &r.parent {
                Some(p) => (p.as_str().to_string(), r.level.parent()),
                None => continue,
            },
            Item::Grid(g) => (
                g.code.community().as_str().to_string(),
                Some(Level::Community),
            ),
        };
        match levels.get(parent.as_str()) {
            None => report(
                *index,
                item.code(),
                format!("上级 {parent} 不存在（文件和数据库中都没有）"),
            ),
            Some(l) if Some(*l) != want => report(
                *index,
                item.code(),
                format!("上级 {parent} 是{}级，不能直接管辖此要素", l.label_zh()),
            ),
            Some(_) => {
                if let Item::Grid(_) = item {
                    community_of.push((k, *index));
                }
            }
        }
    }

    // A grid must lie inside its community, where the community has a shape.
    for &(k, index) in &community_of {
        let Item::Grid(g) = &items[k].1 else { continue };
        if let Some(c) = shapes.get(g.code.community().as_str()) {
            let outside = area_outside(&g.shape, c);
            if outside > options.tolerance_m2 {
                report(
                    index,
                    g.code.as_str(),
                    format!(
                        "网格超出所属社区 {} 的范围约 {:.0} 平方米",
                        g.code.community(),
                        outside
                    ),
                );
            }
        }
    }

    // Grids must not overlap: the file's grids against each other and against the grids already
    // stored that the file does not replace.
    let file_codes: HashSet<&str> = items.iter().map(|(_, i)| i.code()).collect();
    let mut all: Vec<(Option<usize>, &Grid)> = Vec::new();
    for (index, item) in &items {
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
                    index,
                    g.code.as_str(),
                    format!("与网格 {} 重叠约 {:.0} 平方米", other.code, area),
                );
            }
        }
    }

    if !problems.is_empty() {
        problems.sort_by_key(|p| p.index);
        return Err(problems);
    }
    let mut plan = Plan::default();
    for (_, item) in items {
        match item {
            Item::Region(r) => plan.regions.push(r),
            Item::Grid(g) => plan.grids.push(g),
        }
    }
    Ok(plan)
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

/// Reads every feature of an in-memory collection and checks it; a convenience for tests and
/// small files. Large files go through the streaming reader in the binary.
pub fn check_geojson(
    collection: &Value,
    existing_regions: &[Region],
    existing_grids: &[Grid],
    options: ImportOptions,
) -> Result<Plan, Vec<Problem>> {
    let features = match (
        collection.get("type").and_then(Value::as_str),
        collection.get("features"),
    ) {
        (Some("FeatureCollection"), Some(Value::Array(f))) => f,
        _ => {
            return Err(vec![Problem {
                index: 0,
                code: None,
                reason: "不是 GeoJSON FeatureCollection（需要 type 为 \"FeatureCollection\" 且含 features 数组）"
                    .into(),
            }]);
        }
    };
    let mut items = Vec::new();
    let mut problems = Vec::new();
    for (i, f) in features.iter().enumerate() {
        match read_feature(i, f) {
            Ok(item) => items.push((i, item)),
            Err(ps) => problems.extend(ps),
        }
    }
    check_collection(
        items,
        problems,
        existing_regions,
        existing_grids,
        options,
        &mut |_, _, _| {},
    )
}

#[cfg(test)]
mod tests;

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
use geo::{BooleanOps, CoordsIter, MultiPolygon};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;

mod overlaps;

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

/// The problems found so far with one feature, each under the feature's index and the code it
/// gave (or none), so every check reports in the same shape.
struct Findings {
    index: usize,
    code: Option<String>,
    problems: Vec<Problem>,
}

impl Findings {
    fn fail(&mut self, reason: String) {
        self.problems.push(Problem {
            index: self.index,
            code: self.code.clone(),
            reason,
        })
    }

    /// The value, or `None` with the error recorded.
    fn ok<T, E: std::fmt::Display>(&mut self, r: Result<T, E>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.fail(e.to_string());
                None
            }
        }
    }
}

/// What every feature carries whatever its level, read before the level-specific checks.
struct Common<'a> {
    name: Option<&'a str>,
    level: Level,
    code: String,
    parent: Option<&'a str>,
    shape: Option<MultiPolygon<f64>>,
}

/// Checks one feature on its own. `feature` is the whole GeoJSON Feature object.
pub fn read_feature(index: usize, feature: &Value) -> Result<Item, Vec<Problem>> {
    let props = feature.get("properties").unwrap_or(&Value::Null);
    let mut found = Findings {
        index,
        code: prop(props, "code").map(str::to_string),
        problems: Vec::new(),
    };
    let item = read_common(feature, props, &mut found).and_then(|common| {
        if common.level == Level::Grid {
            read_grid(props, common, &mut found)
        } else {
            read_region(common, &mut found)
        }
    });
    item.ok_or(found.problems)
}

/// `None` when the level or the code is missing or unknown: the rest of the checks depend on them.
fn read_common<'a>(
    feature: &'a Value,
    props: &'a Value,
    found: &mut Findings,
) -> Option<Common<'a>> {
    if feature.get("type").and_then(Value::as_str) != Some("Feature") {
        found.fail("不是 GeoJSON Feature（type 应为 \"Feature\"）".into());
    }
    if !props.is_object() {
        found.fail("缺少 properties 对象".into());
    }
    let name = prop(props, "name");
    if name.is_none() {
        found.fail("缺少名称 name".into());
    }
    let level = match prop(props, "level") {
        None => {
            found.fail("缺少层级 level".into());
            None
        }
        Some(l) => found.ok(l.parse::<Level>()),
    };
    let parent = prop(props, "parent_code");
    let geometry = feature.get("geometry").unwrap_or(&Value::Null);
    let shape = read_shape(level, geometry, found);
    let level = level?;
    let Some(code) = found.code.clone() else {
        found.fail("缺少代码 code".into());
        return None;
    };
    Some(Common {
        name,
        level,
        code,
        parent,
        shape,
    })
}

fn read_shape(
    level: Option<Level>,
    geometry: &Value,
    found: &mut Findings,
) -> Option<MultiPolygon<f64>> {
    match (level, geometry) {
        // Regions above the grid may be imported without a shape (codes and names only).
        (Some(l), Value::Null) if l != Level::Grid => None,
        // An unknown level is already reported; whether a shape is required is then unknowable.
        (None, Value::Null) => None,
        _ => match parse_geometry(geometry) {
            Ok(s) => Some(s),
            Err(ps) => {
                for p in ps {
                    found.fail(p.to_string());
                }
                None
            }
        },
    }
}

fn read_grid(props: &Value, common: Common, found: &mut Findings) -> Option<Item> {
    let code = found.ok(GridCode::parse(&common.code));
    let grid_type = found.ok(prop(props, "grid_type")
        .unwrap_or("basic")
        .parse::<GridType>());
    match (common.parent, &code) {
        (None, _) => found.fail("缺少上级代码 parent_code（网格的上级是社区或村）".into()),
        (Some(p), Some(c)) if !c.as_str().starts_with(p) || p.len() != 12 => found.fail(format!(
            "网格编码 {c} 不以上级社区代码 {p} 开头（网格编码 = 社区12位代码 + 3位序号）"
        )),
        _ => {}
    }
    let (true, Some(code), Some(grid_type), Some(shape), Some(name)) = (
        found.problems.is_empty(),
        code,
        grid_type,
        common.shape,
        common.name,
    ) else {
        return None;
    };
    let dedicated_kind = prop(props, "dedicated_kind").map(str::to_string);
    Some(Item::Grid(Grid {
        code,
        name: name.to_string(),
        grid_type,
        dedicated_kind: if grid_type == GridType::Dedicated {
            dedicated_kind
        } else {
            None
        },
        shape,
    }))
}

fn read_region(common: Common, found: &mut Findings) -> Option<Item> {
    let level = common.level;
    let code = match RegionCode::parse(&common.code) {
        Ok(c) if c.level() == level => Some(c),
        Ok(c) => {
            found.fail(format!(
                "代码 {c} 的形态是{}级，与 level \"{level}\" 不符",
                c.level().label_zh()
            ));
            None
        }
        Err(e) => {
            found.fail(e.to_string());
            None
        }
    };
    let parent = read_region_parent(level, common.parent, found);
    if let (Some(c), Some(p)) = (&code, &parent)
        && (!c.as_str().starts_with(p.prefix()) || c.parent().as_ref() != Some(p))
    {
        found.fail(format!(
            "代码 {c} 不以上级代码 {p} 的有效前缀 {} 开头，或不是其直接下级",
            p.prefix()
        ));
    }
    match (found.problems.is_empty(), code, common.name) {
        (true, Some(code), Some(name)) => Some(Item::Region(Region {
            code,
            level,
            name: name.to_string(),
            parent,
            shape: common.shape,
        })),
        _ => None,
    }
}

fn read_region_parent(
    level: Level,
    parent: Option<&str>,
    found: &mut Findings,
) -> Option<RegionCode> {
    match (level, parent) {
        (Level::City, None) => None,
        (Level::City, Some(p)) => {
            found.fail(format!("市级区划不应有上级代码（收到 {p}）"));
            None
        }
        (_, None) => {
            found.fail("缺少上级代码 parent_code".into());
            None
        }
        (_, Some(p)) => match RegionCode::parse(p) {
            Ok(p) => Some(p),
            Err(e) => {
                found.fail(format!("上级代码无效：{e}"));
                None
            }
        },
    }
}

/// A stage of a long import, for progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Reading,
    Overlaps,
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
/// every feature that passed [`read_feature`]; `problems` are the ones those calls reported.
pub fn check_collection(
    items: Vec<(usize, Item)>,
    mut problems: Vec<Problem>,
    existing_regions: &[Region],
    existing_grids: &[Grid],
    options: ImportOptions,
    progress: &mut dyn FnMut(Stage, usize, usize),
) -> Result<Plan, Vec<Problem>> {
    report_duplicates(&items, &mut problems);
    let tree = Tree::of(existing_regions, &items);
    let community_of = report_parents(&items, &tree, &mut problems);
    report_outside_community(&items, &community_of, &tree, options, &mut problems);
    overlaps::report_overlaps(&items, existing_grids, options, progress, &mut problems);

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

fn report(problems: &mut Vec<Problem>, index: usize, code: &str, reason: String) {
    problems.push(Problem {
        index,
        code: Some(code.to_string()),
        reason,
    })
}

/// Duplicates within the file.
fn report_duplicates(items: &[(usize, Item)], problems: &mut Vec<Problem>) {
    let mut first_seen: HashMap<&str, usize> = HashMap::new();
    for (index, item) in items {
        if let Some(first) = first_seen.insert(item.code(), *index) {
            first_seen.insert(item.code(), first);
            report(
                problems,
                *index,
                item.code(),
                format!("代码重复：与第 {first} 个要素相同"),
            );
        }
    }
}

/// The regions a parent may be found among: the database's, with the file's over them.
struct Tree<'a> {
    levels: HashMap<&'a str, Level>,
    shapes: HashMap<&'a str, &'a MultiPolygon<f64>>,
}

impl<'a> Tree<'a> {
    fn of(existing_regions: &'a [Region], items: &'a [(usize, Item)]) -> Tree<'a> {
        let mut levels: HashMap<&str, Level> = existing_regions
            .iter()
            .map(|r| (r.code.as_str(), r.level))
            .collect();
        let mut shapes: HashMap<&str, &MultiPolygon<f64>> = existing_regions
            .iter()
            .filter_map(|r| r.shape.as_ref().map(|s| (r.code.as_str(), s)))
            .collect();
        for (_, item) in items {
            if let Item::Region(r) = item {
                levels.insert(r.code.as_str(), r.level);
                // A region imported without a shape keeps the one stored (names-only updates).
                if let Some(s) = &r.shape {
                    shapes.insert(r.code.as_str(), s);
                }
            }
        }
        Tree { levels, shapes }
    }
}

/// Parents, from the file or the database. Returns `(position in items, feature index)` of the
/// grids whose community exists, the only ones whose containment can be checked.
fn report_parents(
    items: &[(usize, Item)],
    tree: &Tree,
    problems: &mut Vec<Problem>,
) -> Vec<(usize, usize)> {
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
        match tree.levels.get(parent.as_str()) {
            None => report(
                problems,
                *index,
                item.code(),
                format!("上级 {parent} 不存在（文件和数据库中都没有）"),
            ),
            Some(l) if Some(*l) != want => report(
                problems,
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
    community_of
}

/// A grid must lie inside its community, where the community has a shape.
fn report_outside_community(
    items: &[(usize, Item)],
    community_of: &[(usize, usize)],
    tree: &Tree,
    options: ImportOptions,
    problems: &mut Vec<Problem>,
) {
    for &(k, index) in community_of {
        let Item::Grid(g) = &items[k].1 else { continue };
        if let Some(c) = tree.shapes.get(g.code.community().as_str()) {
            let outside = area_outside(&g.shape, c);
            if outside > options.tolerance_m2 {
                report(
                    problems,
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

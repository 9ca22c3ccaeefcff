//! The party organisation register (党组织台账): the five levels bound to the region tree —
//! 街道（乡镇）党（工）委 at a township, 社区（村）党组织 (党委 or 党总支) at a community, 网格党支部
//! at a grid, 楼院党小组 and 党员中心户 within a grid — and the organisations inside units (a
//! school's or an enterprise's branch, filed at the unit's grid). Each sits strictly below its
//! parent's level, so a 支部 never contains a 支部, and within its parent's place.

use super::{Column, Layout, Problem, Row, Sheet, column, duplicate_codes, status};
use crate::org::{PartyLevel, Vocabulary};
use std::collections::HashMap;

pub const CODE: &str = "组织编码";
pub const NAME: &str = "组织名称";
pub const LEVEL: &str = "组织层级";
pub const PARENT: &str = "上级组织编码";
pub const PLACE: &str = "所在区划或网格代码";
pub const UNIT: &str = "所在单位编码";
pub const STATUS: &str = "状态";

pub const COLUMNS: &[Column] = &[
    column(
        CODE,
        true,
        true,
        "本市给党组织的唯一编码（字母、数字、- _ .），再次导入时按编码更新",
        20.0,
    ),
    column(
        NAME,
        true,
        false,
        "组织全称，如“中共长胜街道工作委员会”",
        32.0,
    ),
    Column {
        choices: Some(PartyLevel::labels),
        ..column(
            LEVEL,
            true,
            false,
            "五级之一：街道（乡镇）党（工）委 → 社区（村）党组织 → 网格党支部 → 楼院党小组 → 党员中心户",
            24.0,
        )
    },
    column(
        PARENT,
        false,
        true,
        "上级党组织的编码（本表中的或已导入的）；街道（乡镇）党（工）委可为空。上级的层级须高于本组织：支部之下不能再设支部",
        20.0,
    ),
    column(
        PLACE,
        true,
        true,
        "街道（乡镇）党（工）委填乡镇（街道）代码，社区（村）党组织填社区（村）代码，网格党支部、党小组、党员中心户填 15 位网格编码；须在上级组织所在区域之内",
        20.0,
    ),
    column(
        UNIT,
        false,
        true,
        "单位内设的党组织（如学校、企业、两新组织的党支部）填所在单位的编码",
        20.0,
    ),
    Column {
        choices: Some(|| vec!["启用", "撤销"]),
        ..column(STATUS, false, false, "启用或撤销，为空表示启用", 10.0)
    },
];

/// What a place code names, for the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Township,
    Community,
    Grid,
    Other,
}

/// A party organisation as one row describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct PartyRecord {
    pub row: u32,
    pub code: String,
    pub name: String,
    pub level: PartyLevel,
    pub parent: Option<String>,
    pub place: String,
    pub unit: Option<String>,
    pub active: bool,
}

/// A stored organisation, as the checks of a parent need it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredOrg {
    pub level: PartyLevel,
    pub place: String,
}

/// What the checks need from the city as stored.
pub trait KnownOrgs {
    fn node_kind(&self, code: &str) -> Option<NodeKind>;
    fn in_scope(&self, code: &str) -> bool;
    fn stored(&self, code: &str) -> Option<StoredOrg>;
    /// The grid of a stored unit, if there is such a unit.
    fn unit_grid(&self, code: &str) -> Option<String>;
}

fn rank(l: PartyLevel) -> usize {
    PartyLevel::ALL.iter().position(|x| *x == l).unwrap_or(0)
}

/// Where an organisation of a level sits.
fn wanted(level: PartyLevel) -> NodeKind {
    match level {
        PartyLevel::StreetCommittee => NodeKind::Township,
        PartyLevel::CommunityCommittee => NodeKind::Community,
        _ => NodeKind::Grid,
    }
}

/// Reads and checks the whole sheet: the records, or every problem found.
pub fn read(sheet: &Sheet, known: &dyn KnownOrgs) -> Result<Vec<PartyRecord>, Vec<Problem>> {
    let mut problems = Vec::new();
    let Some(layout) = Layout::of(sheet, COLUMNS, &mut problems) else {
        return Err(problems);
    };
    let mut records = Vec::new();
    let mut codes = Vec::new();
    for (number, cells) in layout.rows() {
        let before = problems.len();
        let mut row = layout.row(number, cells, &mut problems);
        let code = row.code(CODE);
        if let Some(c) = &code {
            codes.push((number, c.clone()));
        }
        let record = read_row(&mut row, code, known);
        if problems.len() == before
            && let Some(r) = record
        {
            records.push(r);
        }
    }
    duplicate_codes(
        layout.sheet_name(),
        CODE,
        None,
        codes.iter().map(|(r, c)| (*r, c.as_str())),
        &mut problems,
    );
    if problems.is_empty() {
        check_parents(&sheet.name, &records, known, &mut problems);
    }
    if problems.is_empty() {
        Ok(records)
    } else {
        problems.sort_by_key(|p| (p.row, p.column));
        Err(problems)
    }
}

fn read_row(row: &mut Row, code: Option<String>, known: &dyn KnownOrgs) -> Option<PartyRecord> {
    let name = row.bounded(NAME, 100);
    let level = row.choice::<PartyLevel>(LEVEL);
    let parent = row.text(PARENT);
    let place = row.text(PLACE);
    let unit = row.text(UNIT);
    if let (Some(l), Some(p)) = (level, &place) {
        match known.node_kind(p) {
            None => row.problem(Some(PLACE), format!("{p} 不是已导入的区划或网格")),
            Some(k) if k != wanted(l) => row.problem(
                Some(PLACE),
                format!(
                    "{}应设在{}，{p} 不是",
                    l.label_zh(),
                    match wanted(l) {
                        NodeKind::Township => "乡镇（街道）",
                        NodeKind::Community => "社区（村）",
                        _ => "网格（15 位网格编码）",
                    }
                ),
            ),
            Some(_) if !known.in_scope(p) => {
                row.problem(Some(PLACE), format!("{p} 不在您的管辖范围内"))
            }
            Some(_) => {}
        }
    }
    if let Some(u) = &unit {
        match known.unit_grid(u) {
            None => row.problem(Some(UNIT), format!("单位 {u} 不存在（请先导入单位台账）")),
            Some(g) if place.as_ref().is_some_and(|p| !g.starts_with(p.as_str())) => row.problem(
                Some(UNIT),
                format!("单位 {u} 位于网格 {g}，不在所填的区划或网格之内"),
            ),
            Some(_) => {}
        }
    }
    if let (Some(l), None) = (level, &parent)
        && l != PartyLevel::StreetCommittee
    {
        row.problem(Some(PARENT), format!("{}须填写上级组织", l.label_zh()));
    }
    let active = status(row, STATUS);
    Some(PartyRecord {
        row: row.number,
        code: code?,
        name: name?,
        level: level?,
        parent,
        place: place?,
        unit,
        active,
    })
}

/// Whether a place lies within another: a region by its level's prefix, a grid by its code.
fn within(place: &str, of: &str) -> bool {
    match crate::region::RegionCode::parse(of) {
        Ok(r) => place.starts_with(r.prefix()),
        Err(_) => place.starts_with(of),
    }
}

/// Each parent is in the file or stored, of a higher level, and holds the child's place.
fn check_parents(
    sheet: &str,
    records: &[PartyRecord],
    known: &dyn KnownOrgs,
    problems: &mut Vec<Problem>,
) {
    let in_file: HashMap<&str, StoredOrg> = records
        .iter()
        .map(|r| {
            (
                r.code.as_str(),
                StoredOrg {
                    level: r.level,
                    place: r.place.clone(),
                },
            )
        })
        .collect();
    for r in records {
        let Some(p) = &r.parent else { continue };
        let problem = |reason: String| Problem {
            sheet: sheet.into(),
            row: r.row,
            column: None,
            header: Some(PARENT.into()),
            reason,
        };
        let Some(parent) = in_file.get(p.as_str()).cloned().or_else(|| known.stored(p)) else {
            problems.push(problem(format!("上级组织 {p} 既不在本表中，也未导入过")));
            continue;
        };
        if rank(parent.level) >= rank(r.level) {
            problems.push(problem(format!(
                "{}不能设在{}之下：上级的层级须高于本组织（支部之下不能再设支部）",
                r.level.label_zh(),
                parent.level.label_zh()
            )));
        } else if !within(&r.place, &parent.place) {
            problems.push(problem(format!(
                "所在地 {} 不在上级组织所在的 {} 之内",
                r.place, parent.place
            )));
        }
    }
}

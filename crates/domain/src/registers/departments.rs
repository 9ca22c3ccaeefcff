//! The department register (部门台账): each functional department and public utility with the code
//! the city gives it, its kind, the region it belongs to, its parent, and the places it serves —
//! a county bureau serves its county; a police station serves certain streets of it.

use super::{Column, Layout, Problem, Sheet, active_from, duplicate_codes};
use crate::org::{DepartmentKind, Vocabulary};
use crate::region::{Level, RegionCode};
use std::collections::HashMap;

pub const CODE: &str = "部门编码";
pub const NAME: &str = "部门名称";
pub const KIND: &str = "部门类别";
pub const REGION: &str = "所属区划代码";
pub const PARENT: &str = "上级部门编码";
pub const AREAS: &str = "服务区域代码";
pub const STATUS: &str = "状态";

pub const COLUMNS: &[Column] = &[
    Column {
        header: CODE,
        required: true,
        text: true,
        personal: false,
        help: "本市给部门的唯一编码（字母、数字、- _ .，至多 40 个字符），再次导入时按编码更新",
        choices: None,
        width: 20.0,
    },
    Column {
        header: NAME,
        required: true,
        text: false,
        personal: false,
        help: "部门全称，如“大武口区市场监督管理局”“长胜派出所”，至多 100 字",
        choices: None,
        width: 30.0,
    },
    Column {
        header: KIND,
        required: true,
        text: false,
        personal: false,
        help: "从下拉列表选择；供电、供水、燃气、供热、通信等公用事业单位也在其中",
        choices: Some(DepartmentKind::labels),
        width: 18.0,
    },
    Column {
        header: REGION,
        required: true,
        text: true,
        personal: false,
        help: "部门所属的市、区（县）或乡镇（街道）的 12 位区划代码",
        choices: None,
        width: 16.0,
    },
    Column {
        header: PARENT,
        required: false,
        text: true,
        personal: false,
        help: "上级部门的编码（如派出所的上级公安分局），可为空；可以是本表中的部门，也可以是已导入的部门",
        choices: None,
        width: 20.0,
    },
    Column {
        header: AREAS,
        required: false,
        text: true,
        personal: false,
        help: "部门负责的区（县）或乡镇（街道）的 12 位代码，多个用顿号或逗号分隔；为空表示负责所属区划全境。派单和部门可见范围按此确定",
        choices: None,
        width: 40.0,
    },
    Column {
        header: STATUS,
        required: false,
        text: false,
        personal: false,
        help: "启用或停用，为空表示启用；停用的部门不再接收派单",
        choices: Some(|| vec!["启用", "停用"]),
        width: 10.0,
    },
];

/// A department as one row of the sheet describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct DepartmentRecord {
    pub row: u32,
    pub code: String,
    pub name: String,
    pub kind: DepartmentKind,
    pub region: RegionCode,
    pub parent: Option<String>,
    /// The places it serves; never empty (a blank cell means its own region).
    pub areas: Vec<RegionCode>,
    pub active: bool,
}

/// What the checks need from the city as stored.
pub trait KnownDepartments {
    /// The level of a region, if the atlas has it.
    fn region_level(&self, code: &RegionCode) -> Option<Level>;
    /// Whether the importer keeps records at this region.
    fn in_scope(&self, code: &RegionCode) -> bool;
    /// Whether a department with this code is stored.
    fn department_exists(&self, code: &str) -> bool;
}

/// Reads and checks the whole sheet: the records, or every problem found.
pub fn read(
    sheet: &Sheet,
    known: &dyn KnownDepartments,
) -> Result<Vec<DepartmentRecord>, Vec<Problem>> {
    let mut problems = Vec::new();
    let Some(layout) = Layout::of(sheet, COLUMNS, &mut problems) else {
        return Err(problems);
    };
    let mut records = Vec::new();
    let mut codes = Vec::new();
    for (number, cells) in layout.rows() {
        if let Some(r) = read_row(&layout, number, cells, known, &mut codes, &mut problems) {
            records.push(r);
        }
    }
    duplicate_codes(
        layout.sheet_name(),
        CODE,
        None,
        codes.iter().map(|l: &Link| (l.row, l.code.as_str())),
        &mut problems,
    );
    check_parents(layout.sheet_name(), &codes, known, &mut problems);
    if problems.is_empty() {
        Ok(records)
    } else {
        problems.sort_by_key(|p| (p.row, p.column));
        Err(problems)
    }
}

fn read_row(
    layout: &Layout,
    number: u32,
    cells: &[super::Cell],
    known: &dyn KnownDepartments,
    codes: &mut Vec<Link>,
    problems: &mut Vec<Problem>,
) -> Option<DepartmentRecord> {
    let before = problems.len();
    let mut row = layout.row(number, cells, problems);
    let code = row.code(CODE);
    let name = row.bounded(NAME, 100);
    let kind = row.choice::<DepartmentKind>(KIND);
    let region = row
        .text(REGION)
        .and_then(|s| place(&mut row, REGION, &s, known));
    let parent = row.text(PARENT);
    if let (Some(p), Some(c)) = (&parent, &code)
        && p == c
    {
        row.problem(Some(PARENT), "上级部门不能是部门自己");
    }
    // Duplicates and parents are checked among every row's code, whatever else is wrong with
    // the row, so that one pass lists every problem.
    if let Some(c) = &code
        && parent.as_ref() != Some(c)
    {
        codes.push(Link {
            row: number,
            code: c.clone(),
            parent: parent.clone(),
        });
    }
    let mut areas = Vec::new();
    if let Some(list) = row.text(AREAS) {
        for part in list
            .split(['、', ',', '，', ';', '；', ' ', '\n'])
            .filter(|s| !s.trim().is_empty())
        {
            let Some(area) = place(&mut row, AREAS, part.trim(), known) else {
                continue;
            };
            if let Some(r) = &region
                && !area.is_within(r)
            {
                row.problem(
                    Some(AREAS),
                    format!("{area} 不在部门所属区划 {r} 之内：部门只能负责本辖区"),
                );
                continue;
            }
            if !areas.contains(&area) {
                areas.push(area);
            }
        }
    }
    let active = match row.text(STATUS) {
        None => true,
        Some(s) => active_from(&s).unwrap_or_else(|| {
            row.problem(Some(STATUS), format!("“{s}”应为 启用 或 停用"));
            true
        }),
    };
    if problems.len() > before {
        return None;
    }
    let region = region?;
    if areas.is_empty() {
        areas.push(region.clone());
    }
    Some(DepartmentRecord {
        row: number,
        code: code?,
        name: name?,
        kind: kind?,
        region,
        parent,
        areas,
        active,
    })
}

/// A region a department may belong to or serve: the city, a county or a township, stored and in
/// the importer's area.
fn place(
    row: &mut super::Row,
    header: &str,
    s: &str,
    known: &dyn KnownDepartments,
) -> Option<RegionCode> {
    let code = match RegionCode::parse(s) {
        Ok(c) => c,
        Err(e) => {
            row.problem(Some(header), format!("“{s}”不是 12 位区划代码：{e}"));
            return None;
        }
    };
    match known.region_level(&code) {
        None => {
            row.problem(
                Some(header),
                format!("区划 {code} 不存在（请先导入区划和网格）"),
            );
            None
        }
        Some(Level::Community | Level::Grid) => {
            row.problem(
                Some(header),
                format!("{code} 是社区（村）：部门属于或负责的应是市、区（县）或乡镇（街道）"),
            );
            None
        }
        Some(_) if !known.in_scope(&code) => {
            row.problem(Some(header), format!("区划 {code} 不在您的管辖范围内"));
            None
        }
        Some(_) => Some(code),
    }
}

/// A row's code and parent, kept whatever else is wrong with the row.
struct Link {
    row: u32,
    code: String,
    parent: Option<String>,
}

/// Every parent must be in the file or stored, and following parents must never come back.
fn check_parents(
    sheet: &str,
    links: &[Link],
    known: &dyn KnownDepartments,
    problems: &mut Vec<Problem>,
) {
    let by_code: HashMap<&str, &Link> = links.iter().map(|l| (l.code.as_str(), l)).collect();
    let problem = |l: &Link, reason: String| Problem {
        sheet: sheet.into(),
        row: l.row,
        column: None,
        header: Some(PARENT.into()),
        reason,
    };
    for l in links {
        let Some(parent) = &l.parent else { continue };
        if !by_code.contains_key(parent.as_str()) && !known.department_exists(parent) {
            problems.push(problem(
                l,
                format!("上级部门 {parent} 既不在本表中，也未导入过"),
            ));
            continue;
        }
        let mut at = parent.as_str();
        for _ in 0..links.len() {
            match by_code.get(at).and_then(|p| p.parent.as_deref()) {
                Some(next) if next == l.code => {
                    problems.push(problem(l, format!("上级部门形成了循环（经过 {at}）")));
                    break;
                }
                Some(next) => at = next,
                None => break,
            }
        }
    }
}

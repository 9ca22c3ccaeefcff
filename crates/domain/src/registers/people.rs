//! The people register (人员台账): staff, full- and part-time grid workers with their grid and
//! hire date, community and auxiliary police, legal advisers and volunteers. A person is keyed by
//! the ID-card number (stored encrypted, found through its blind index); every problem shows ID
//! and phone numbers masked. A 状态 of 离职 marks a leaver, whose account is deactivated.

use super::{Column, Layout, Problem, Row, Sheet, column, mask_personal, status};
use crate::org::{PersonKind, Vocabulary};
use crate::region::{Level, RegionCode};
use chrono::NaiveDate;

pub const ID_NUMBER: &str = "身份证号";
pub const NAME: &str = "姓名";
pub const KIND: &str = "人员类别";
pub const HOME: &str = "所属区划代码";
pub const GRID: &str = "所属网格编码";
pub const DEPARTMENT: &str = "所属部门编码";
pub const PHONE: &str = "手机号码";
pub const HIRED: &str = "入职日期";
pub const STATUS: &str = "状态";

pub const COLUMNS: &[Column] = &[
    Column {
        personal: true,
        ..column(
            ID_NUMBER,
            true,
            true,
            "18 位居民身份证号（末位可为 X），设为文本格式；按身份证号识别人员，再次导入时更新；加密保存，页面和报错中脱敏显示",
            22.0,
        )
    },
    column(NAME, true, false, "至多 50 字", 12.0),
    Column {
        choices: Some(PersonKind::labels),
        ..column(KIND, true, false, "从下拉列表选择", 14.0)
    },
    column(
        HOME,
        true,
        true,
        "所在区（县）、乡镇（街道）或社区（村）的 12 位区划代码",
        16.0,
    ),
    column(
        GRID,
        false,
        true,
        "专职、兼职网格员必填：所负责网格的 15 位编码，须在所属区划内",
        18.0,
    ),
    column(
        DEPARTMENT,
        false,
        true,
        "部门工作人员、社区民警填写所属部门（如派出所）的编码，可为空",
        20.0,
    ),
    Column {
        personal: true,
        ..column(
            PHONE,
            false,
            true,
            "11 位手机号，设为文本格式；加密保存，页面上脱敏显示",
            14.0,
        )
    },
    column(
        HIRED,
        false,
        false,
        "网格员必填，如 2026-03-01（也可设为日期格式）",
        12.0,
    ),
    Column {
        choices: Some(|| vec!["在职", "离职"]),
        ..column(
            STATUS,
            false,
            false,
            "在职或离职，为空表示在职；离职人员的账号随之停用",
            10.0,
        )
    },
];

/// A person as one row describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonRecord {
    pub row: u32,
    /// Normalised (upper-case X); never shown unmasked outside the record.
    pub id_number: String,
    pub name: String,
    pub kind: PersonKind,
    pub home: RegionCode,
    pub grid: Option<String>,
    pub department: Option<String>,
    pub phone: Option<String>,
    pub hired: Option<NaiveDate>,
    pub active: bool,
}

/// What the checks need from the city as stored.
pub trait KnownPeople {
    fn region_level(&self, code: &RegionCode) -> Option<Level>;
    fn grid_exists(&self, code: &str) -> bool;
    fn department_exists(&self, code: &str) -> bool;
    /// Whether the importer keeps records there.
    fn in_scope(&self, code: &str) -> bool;
}

/// Reads and checks the whole sheet: the records, or every problem found.
pub fn read(sheet: &Sheet, known: &dyn KnownPeople) -> Result<Vec<PersonRecord>, Vec<Problem>> {
    let mut problems = Vec::new();
    let Some(layout) = Layout::of(sheet, COLUMNS, &mut problems) else {
        return Err(problems);
    };
    let mut records = Vec::new();
    let mut seen: std::collections::HashMap<String, u32> = Default::default();
    for (number, cells) in layout.rows() {
        let before = problems.len();
        let mut row = layout.row(number, cells, &mut problems);
        let id = row.id_number(ID_NUMBER);
        if let Some(id) = &id {
            if let Some(first) = seen.get(id) {
                row.problem(
                    Some(ID_NUMBER),
                    format!("身份证号 {} 与第{first}行重复", mask_personal(id)),
                );
            } else {
                seen.insert(id.clone(), number);
            }
        }
        let record = read_row(&mut row, id, known);
        if problems.len() == before
            && let Some(r) = record
        {
            records.push(r);
        }
    }
    if problems.is_empty() {
        Ok(records)
    } else {
        problems.sort_by_key(|p| (p.row, p.column));
        Err(problems)
    }
}

fn read_row(row: &mut Row, id: Option<String>, known: &dyn KnownPeople) -> Option<PersonRecord> {
    let name = row.bounded(NAME, 50);
    let kind = row.choice::<PersonKind>(KIND);
    let home = row.text(HOME).and_then(|s| match RegionCode::parse(&s) {
        Err(e) => {
            row.problem(Some(HOME), format!("“{s}”不是 12 位区划代码：{e}"));
            None
        }
        Ok(c) => match known.region_level(&c) {
            None => {
                row.problem(Some(HOME), format!("区划 {c} 不存在（请先导入区划和网格）"));
                None
            }
            Some(_) if !known.in_scope(c.as_str()) => {
                row.problem(Some(HOME), format!("区划 {c} 不在您的管辖范围内"));
                None
            }
            Some(_) => Some(c),
        },
    });
    let grid = row.text(GRID);
    if let Some(g) = &grid {
        if !known.grid_exists(g) {
            row.problem(Some(GRID), format!("网格 {g} 不存在"));
        } else if let Some(h) = &home
            && !g.starts_with(h.prefix())
        {
            row.problem(Some(GRID), format!("网格 {g} 不在所属区划 {h} 之内"));
        }
    }
    let department = row.text(DEPARTMENT);
    if let Some(d) = &department
        && !known.department_exists(d)
    {
        row.problem(
            Some(DEPARTMENT),
            format!("部门 {d} 不存在（请先导入部门台账）"),
        );
    }
    let phone = row
        .text(PHONE)
        .and_then(|s| match wangge_security::pii::validate_mobile(&s) {
            Ok(m) => Some(m),
            Err(e) => {
                row.problem(Some(PHONE), format!("{e}（{}）", mask_personal(&s)));
                None
            }
        });
    let hired = row.date(HIRED);
    if let Some(k) = kind
        && k.is_grid_worker()
    {
        if grid.is_none() {
            row.problem(Some(GRID), format!("{}须填写所属网格", k.label_zh()));
        }
        if hired.is_none() && !row.has_problem(HIRED) {
            row.problem(Some(HIRED), format!("{}须填写入职日期", k.label_zh()));
        }
    }
    let active = status(row, STATUS);
    Some(PersonRecord {
        row: row.number,
        id_number: id?,
        name: name?,
        kind: kind?,
        home: home?,
        grid,
        department,
        phone,
        hired,
        active,
    })
}

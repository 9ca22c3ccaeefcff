//! The centre register (中心台账): who works in the 综治中心 of the city, the counties and the
//! townships, and in the legal-service centres, stations and rooms. A centre is a unit of its kind
//! (imported with the units); each row here links one department to it — stationed there (常驻)
//! or visiting on set days (巡诊) — or one legal adviser from the people register. A row is keyed
//! by its centre and its department or adviser, so a changed schedule updates it and 停用 ends
//! the link.

use super::{Column, Layout, Problem, Row, Sheet, mask_personal, status};
use crate::org::UnitKind;
use std::collections::HashMap;

pub const CENTRE: &str = "中心单位编码";
pub const LINK: &str = "进驻类型";
pub const DEPARTMENT: &str = "部门编码";
pub const ID_NUMBER: &str = "法律顾问身份证号";
pub const DAYS: &str = "巡诊日";
pub const STATUS: &str = "状态";

/// How a department or an adviser serves a centre.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkKind {
    /// 常驻: the department keeps staff at the centre.
    Stationed,
    /// 巡诊: the department comes on set days.
    Visiting,
    /// 法律顾问: a legal adviser serves the centre, station or room.
    Adviser,
}

impl LinkKind {
    pub const ALL: &'static [LinkKind] =
        &[LinkKind::Stationed, LinkKind::Visiting, LinkKind::Adviser];

    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Stationed => "stationed",
            LinkKind::Visiting => "visiting",
            LinkKind::Adviser => "adviser",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            LinkKind::Stationed => "常驻部门",
            LinkKind::Visiting => "巡诊部门",
            LinkKind::Adviser => "法律顾问",
        }
    }

    pub fn from_cell(s: &str) -> Option<LinkKind> {
        let s = s.trim();
        LinkKind::ALL
            .iter()
            .copied()
            .find(|k| k.label_zh() == s || k.as_str() == s)
    }
}

const WEEKDAYS: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];

pub const COLUMNS: &[Column] = &[
    Column {
        header: CENTRE,
        required: true,
        text: true,
        personal: false,
        help: "综治中心或公共法律服务中心（站、室）在单位台账中的编码",
        choices: None,
        width: 20.0,
    },
    Column {
        header: LINK,
        required: true,
        text: false,
        personal: false,
        help: "常驻部门、巡诊部门（按巡诊日到中心）或法律顾问",
        choices: Some(|| LinkKind::ALL.iter().map(|k| k.label_zh()).collect()),
        width: 12.0,
    },
    Column {
        header: DEPARTMENT,
        required: false,
        text: true,
        personal: false,
        help: "常驻、巡诊部门必填：部门台账中的编码",
        choices: None,
        width: 20.0,
    },
    Column {
        header: ID_NUMBER,
        required: false,
        text: true,
        personal: true,
        help: "法律顾问必填：人员台账中该顾问的身份证号（人员类别为法律顾问）",
        choices: None,
        width: 22.0,
    },
    Column {
        header: DAYS,
        required: false,
        text: false,
        personal: false,
        help: "巡诊部门必填：每周到中心的日子，如“周二、周四”",
        choices: None,
        width: 16.0,
    },
    Column {
        header: STATUS,
        required: false,
        text: false,
        personal: false,
        help: "启用或停用，为空表示启用；停用即不再进驻",
        choices: Some(|| vec!["启用", "停用"]),
        width: 10.0,
    },
];

/// One link of a centre as a row describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkRecord {
    pub row: u32,
    pub centre: String,
    pub kind: LinkKind,
    pub department: Option<String>,
    pub id_number: Option<String>,
    /// Days of the week, Monday = 1, for a visiting department.
    pub days: Vec<u8>,
    pub active: bool,
}

/// What the checks need from the city as stored.
pub trait KnownCentres {
    /// The kind of the unit with this code, and whether the importer keeps it.
    fn unit(&self, code: &str) -> Option<(UnitKind, bool)>;
    fn department_exists(&self, code: &str) -> bool;
    /// Whether the person with this ID number is in the register as a legal adviser (`Some(true)`),
    /// in it as something else (`Some(false)`), or not in it.
    fn adviser(&self, id_number: &str) -> Option<bool>;
}

fn is_centre(k: UnitKind) -> bool {
    matches!(
        k,
        UnitKind::GovernanceCentre
            | UnitKind::LegalServiceCentre
            | UnitKind::LegalServiceStation
            | UnitKind::LegalServiceRoom
    )
}

/// "周二、周四" (or 星期二, 2) as days of the week.
pub fn parse_days(s: &str) -> Option<Vec<u8>> {
    let mut days = Vec::new();
    for part in s
        .split(['、', ',', '，', ' ', '/', ';', '；'])
        .filter(|p| !p.is_empty())
    {
        let p = part.replace("星期", "周").replace("周天", "周日");
        let d = WEEKDAYS
            .iter()
            .position(|w| *w == p)
            .map(|i| i as u8 + 1)
            .or_else(|| p.parse::<u8>().ok().filter(|d| (1..=7).contains(d)))?;
        if !days.contains(&d) {
            days.push(d);
        }
    }
    days.sort_unstable();
    (!days.is_empty()).then_some(days)
}

/// Days of the week as a person writes them: 周二、周四.
pub fn days_zh(days: &[u8]) -> String {
    days.iter()
        .filter_map(|d| WEEKDAYS.get(usize::from(*d).wrapping_sub(1)))
        .copied()
        .collect::<Vec<_>>()
        .join("、")
}

/// Reads and checks the whole sheet: the records, or every problem found.
pub fn read(sheet: &Sheet, known: &dyn KnownCentres) -> Result<Vec<LinkRecord>, Vec<Problem>> {
    let mut problems = Vec::new();
    let Some(layout) = Layout::of(sheet, COLUMNS, &mut problems) else {
        return Err(problems);
    };
    let mut records = Vec::new();
    let mut seen: HashMap<(String, String), u32> = HashMap::new();
    for (number, cells) in layout.rows() {
        let before = problems.len();
        let mut row = layout.row(number, cells, &mut problems);
        let Some(r) = read_row(&mut row, known) else {
            continue;
        };
        let who = r
            .department
            .clone()
            .or_else(|| r.id_number.clone())
            .unwrap_or_default();
        if let Some(first) = seen.get(&(r.centre.clone(), who.clone())) {
            let shown = if r.id_number.is_some() {
                mask_personal(&who)
            } else {
                who.clone()
            };
            row.problem(
                None,
                format!("{shown} 已在第{first}行列入中心 {}", r.centre),
            );
        } else {
            seen.insert((r.centre.clone(), who), number);
        }
        if problems.len() == before {
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

fn read_row(row: &mut Row, known: &dyn KnownCentres) -> Option<LinkRecord> {
    let centre = row.text(CENTRE);
    let mut unit_kind = None;
    if let Some(c) = &centre {
        match known.unit(c) {
            None => row.problem(
                Some(CENTRE),
                format!("单位 {c} 不存在（请先在单位台账中导入中心）"),
            ),
            Some((k, _)) if !is_centre(k) => row.problem(
                Some(CENTRE),
                format!(
                    "单位 {c} 是{}，不是综治中心或公共法律服务中心（站、室）",
                    k.label_zh()
                ),
            ),
            Some((_, false)) => row.problem(Some(CENTRE), format!("中心 {c} 不在您的管辖范围内")),
            Some((k, true)) => unit_kind = Some(k),
        }
    }
    let kind = row.text(LINK).and_then(|s| {
        let k = LinkKind::from_cell(&s);
        if k.is_none() {
            row.problem(
                Some(LINK),
                format!("“{s}”应为 常驻部门、巡诊部门 或 法律顾问"),
            );
        }
        k
    });
    let department = row.text(DEPARTMENT);
    let id_number = match row.text(ID_NUMBER) {
        Some(_) => row.id_number(ID_NUMBER),
        None => None,
    };
    let days = row.text(DAYS).and_then(|s| {
        let d = parse_days(&s);
        if d.is_none() {
            row.problem(Some(DAYS), format!("“{s}”不是星期几（应写作 周二、周四）"));
        }
        d
    });
    match kind {
        Some(LinkKind::Stationed | LinkKind::Visiting) => match &department {
            None => row.problem(Some(DEPARTMENT), "进驻部门须填写部门编码"),
            Some(d) if !known.department_exists(d) => row.problem(
                Some(DEPARTMENT),
                format!("部门 {d} 不存在（请先导入部门台账）"),
            ),
            Some(_) => {}
        },
        Some(LinkKind::Adviser) => {
            if department.is_some() {
                row.problem(Some(DEPARTMENT), "法律顾问一行不填部门编码");
            }
            if unit_kind == Some(UnitKind::GovernanceCentre) {
                // Advisers serve the legal-service network; a 综治中心 takes departments.
                row.problem(
                    Some(LINK),
                    "综治中心进驻的是部门；法律顾问请列入公共法律服务中心（站、室）",
                );
            }
            match &id_number {
                None if !row.has_problem(ID_NUMBER) => {
                    row.problem(Some(ID_NUMBER), "法律顾问须填写身份证号")
                }
                None => {}
                Some(id) => match known.adviser(id) {
                    None => row.problem(
                        Some(ID_NUMBER),
                        format!("身份证号 {} 不在人员台账中", mask_personal(id)),
                    ),
                    Some(false) => row.problem(
                        Some(ID_NUMBER),
                        format!("{} 在人员台账中不是法律顾问", mask_personal(id)),
                    ),
                    Some(true) => {}
                },
            }
        }
        None => {}
    }
    if kind == Some(LinkKind::Visiting) && days.is_none() && !row.has_problem(DAYS) {
        row.problem(Some(DAYS), "巡诊部门须填写巡诊日");
    }
    let active = status(row, STATUS);
    Some(LinkRecord {
        row: row.number,
        centre: centre?,
        kind: kind?,
        department,
        id_number,
        days: days.unwrap_or_default(),
        active,
    })
}

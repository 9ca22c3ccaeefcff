//! The registers (台账) a city keeps of itself — departments, units, people, grid teams, party
//! organisations, centres — as the sheets its offices fill in. This module owns each sheet's
//! shape (its columns, their headers, which are required, which hold codes and must be text,
//! which offer a drop-down) and every check that needs nothing but the file: one row's cells, and
//! the rows against each other. What needs the database (a code already stored, a region that
//! exists, the importer's area) is asked through a trait each register defines, so the checks stay
//! pure and are tested without one.
//!
//! Rows and columns are numbered as Excel shows them (the header is row 1, column A is 1), and
//! every problem names its sheet, row and column, in Chinese, as offices expect: 第3行 第2列.

pub mod accounts;
pub mod centres;
pub mod departments;
pub mod party;
pub mod people;
pub mod teams;
pub mod units;

use serde::Serialize;
use std::fmt;

use crate::org::Vocabulary;

/// The registers a city imports and exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RegisterKind {
    Departments,
    Units,
    People,
    Teams,
    PartyOrgs,
    Centres,
}

impl RegisterKind {
    pub const ALL: &'static [RegisterKind] = &[
        RegisterKind::Departments,
        RegisterKind::Units,
        RegisterKind::People,
        RegisterKind::Teams,
        RegisterKind::PartyOrgs,
        RegisterKind::Centres,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RegisterKind::Departments => "departments",
            RegisterKind::Units => "units",
            RegisterKind::People => "people",
            RegisterKind::Teams => "teams",
            RegisterKind::PartyOrgs => "party-orgs",
            RegisterKind::Centres => "centres",
        }
    }

    /// The register's name, which is also its data sheet's name.
    pub fn label_zh(self) -> &'static str {
        match self {
            RegisterKind::Departments => "部门",
            RegisterKind::Units => "单位",
            RegisterKind::People => "人员",
            RegisterKind::Teams => "网格团队",
            RegisterKind::PartyOrgs => "党组织",
            RegisterKind::Centres => "中心",
        }
    }

    /// The columns of its sheet, in order; `None` while the register is not built yet.
    pub fn columns(self) -> Option<&'static [Column]> {
        match self {
            RegisterKind::Departments => Some(departments::COLUMNS),
            RegisterKind::Units => Some(units::COLUMNS),
            RegisterKind::People => Some(people::COLUMNS),
            RegisterKind::Teams => Some(teams::COLUMNS),
            RegisterKind::PartyOrgs => Some(party::COLUMNS),
            RegisterKind::Centres => Some(centres::COLUMNS),
        }
    }
}

impl std::str::FromStr for RegisterKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        RegisterKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let ids: Vec<&str> = RegisterKind::ALL.iter().map(|k| k.as_str()).collect();
                format!("未知台账 \"{s}\"（可选：{}）", ids.join("、"))
            })
    }
}

/// The sheet explaining each column, in every template.
pub const GUIDE_SHEET: &str = "填写说明";

/// One column of a register's sheet.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The header as the template writes it (without the required marker).
    pub header: &'static str,
    pub required: bool,
    /// Codes, ID numbers and phone numbers: the cell must be text, since Excel turns a long number
    /// into a float and loses its digits.
    pub text: bool,
    /// ID-card and phone numbers: never written back in clear in a problem, only masked.
    pub personal: bool,
    /// What to write, for the guide sheet.
    pub help: &'static str,
    /// The allowed values (a drop-down in the template), if the column has a vocabulary.
    pub choices: Option<fn() -> Vec<&'static str>>,
    /// Width in characters, for the template.
    pub width: f64,
}

/// A column without a vocabulary and with no personal identifiers: the common case, spelled
/// short in the registers' tables (`Column { choices: …, ..column(…) }` for the others).
pub(crate) const fn column(
    header: &'static str,
    required: bool,
    text: bool,
    help: &'static str,
    width: f64,
) -> Column {
    Column {
        header,
        required,
        text,
        personal: false,
        help,
        choices: None,
        width,
    }
}

/// A cell as read from a workbook or a CSV file.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    /// Anything else (a date, a boolean, an error value), shown as Excel shows it.
    Other(String),
}

impl Cell {
    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }
}

/// A sheet as read: its name and its rows, the first being the header.
#[derive(Debug, Clone, Default)]
pub struct Sheet {
    pub name: String,
    pub rows: Vec<Vec<Cell>>,
}

/// A problem with a file, where a person can find it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Problem {
    pub sheet: String,
    /// The row as Excel numbers it (the header is 1); 0 for the file as a whole.
    pub row: u32,
    /// The column as Excel numbers it (A is 1), if the problem is in one cell or column.
    pub column: Option<u32>,
    /// The column's header.
    pub header: Option<String>,
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "工作表「{}」", self.sheet)?;
        if self.row > 0 {
            write!(f, " 第{}行", self.row)?;
        }
        if let Some(c) = self.column {
            write!(f, " 第{}列（{}）", c, column_letters(c))?;
        }
        if let Some(h) = &self.header {
            write!(f, "「{h}」")?;
        }
        write!(f, "：{}", self.reason)
    }
}

/// Excel's letters for a 1-based column: 1 → A, 27 → AA.
pub fn column_letters(mut n: u32) -> String {
    let mut out = Vec::new();
    while n > 0 {
        n -= 1;
        out.push(b'A' + (n % 26) as u8);
        n /= 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// The header as a person may have typed it: without the required marker and spaces.
fn normalised_header(cell: &Cell) -> String {
    let s = match cell {
        Cell::Text(s) | Cell::Other(s) => s.as_str(),
        Cell::Number(_) | Cell::Empty => "",
    };
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '*' && *c != '＊')
        .collect()
}

/// Where each of a register's columns sits in a sheet that may order them its own way.
#[derive(Debug)]
pub struct Layout<'a> {
    sheet: &'a Sheet,
    columns: &'static [Column],
    /// For each of `columns`, its 0-based position in the sheet.
    at: Vec<Option<usize>>,
}

impl<'a> Layout<'a> {
    /// Reads the header row: every required column must be there, once, and nothing else may be.
    pub fn of(
        sheet: &'a Sheet,
        columns: &'static [Column],
        problems: &mut Vec<Problem>,
    ) -> Option<Layout<'a>> {
        let before = problems.len();
        let Some(header) = sheet.rows.first() else {
            problems.push(Problem {
                sheet: sheet.name.clone(),
                row: 0,
                column: None,
                header: None,
                reason: "工作表是空的，没有表头行".into(),
            });
            return None;
        };
        let mut at = vec![None; columns.len()];
        for (i, cell) in header.iter().enumerate() {
            let name = normalised_header(cell);
            if name.is_empty() {
                continue;
            }
            let problem = |reason: String| Problem {
                sheet: sheet.name.clone(),
                row: 1,
                column: Some(i as u32 + 1),
                header: Some(name.clone()),
                reason,
            };
            match columns.iter().position(|c| c.header == name) {
                Some(k) if at[k].is_some() => problems.push(problem("列重复".into())),
                Some(k) => at[k] = Some(i),
                None => problems.push(problem(format!(
                    "不是本台账的列（本表的列：{}）",
                    columns
                        .iter()
                        .map(|c| c.header)
                        .collect::<Vec<_>>()
                        .join("、")
                ))),
            }
        }
        for (k, c) in columns.iter().enumerate() {
            if c.required && at[k].is_none() {
                problems.push(Problem {
                    sheet: sheet.name.clone(),
                    row: 1,
                    column: None,
                    header: Some(c.header.into()),
                    reason: "缺少必填列".into(),
                });
            }
        }
        (problems.len() == before).then_some(Layout { sheet, columns, at })
    }

    /// The data rows with their Excel row numbers, blank rows skipped.
    pub fn rows(&self) -> impl Iterator<Item = (u32, &'a [Cell])> + '_ {
        self.sheet
            .rows
            .iter()
            .enumerate()
            .skip(1)
            .filter(|(_, cells)| cells.iter().any(|c| !c.is_empty()))
            .map(|(i, cells)| (i as u32 + 1, cells.as_slice()))
    }

    pub fn sheet_name(&self) -> &str {
        &self.sheet.name
    }

    /// A reader of one row that adds what is wrong with its cells to `problems`.
    pub fn row<'p>(
        &'p self,
        number: u32,
        cells: &'p [Cell],
        problems: &'p mut Vec<Problem>,
    ) -> Row<'p> {
        Row {
            layout: self,
            number,
            cells,
            problems,
        }
    }
}

/// One data row being read.
pub struct Row<'p> {
    layout: &'p Layout<'p>,
    pub number: u32,
    cells: &'p [Cell],
    problems: &'p mut Vec<Problem>,
}

impl Row<'_> {
    fn index(&self, header: &str) -> usize {
        self.layout
            .columns
            .iter()
            .position(|c| c.header == header)
            .unwrap_or_else(|| panic!("no column {header}"))
    }

    /// Records a problem with this row, in the named column (or the row as a whole).
    pub fn problem(&mut self, header: Option<&str>, reason: impl Into<String>) {
        let column = header.and_then(|h| self.layout.at[self.index(h)].map(|i| i as u32 + 1));
        self.problems.push(Problem {
            sheet: self.layout.sheet.name.clone(),
            row: self.number,
            column,
            header: header.map(str::to_string),
            reason: reason.into(),
        });
    }

    /// The cell's text, trimmed; `None` when blank (a problem if the column is required). A
    /// number in a text column is a problem: its digits may already be lost.
    pub fn text(&mut self, header: &str) -> Option<String> {
        let k = self.index(header);
        let column = self.layout.columns[k];
        let cell = self.layout.at[k]
            .and_then(|i| self.cells.get(i))
            .unwrap_or(&Cell::Empty);
        let value = match cell {
            Cell::Empty => None,
            Cell::Text(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
            Cell::Number(n) if column.text => {
                let shown = if column.personal {
                    mask_personal(&shown_number(*n))
                } else {
                    shown_number(*n)
                };
                self.problem(
                    Some(header),
                    format!(
                        "单元格是数字（{shown}），应设为文本格式后重新填写：编码、身份证号和电话号码以数字保存会丢失位数"
                    ),
                );
                return None;
            }
            Cell::Number(n) => Some(shown_number(*n)),
            Cell::Other(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        };
        if value.is_none() && column.required {
            self.problem(Some(header), "必填，不能为空");
        }
        value
    }

    /// A value of a vocabulary, by its label or wire id.
    pub fn choice<V: Vocabulary>(&mut self, header: &str) -> Option<V> {
        let s = self.text(header)?;
        let v = V::from_cell(&s);
        if v.is_none() {
            self.problem(
                Some(header),
                format!("“{s}”不是可选的值（可选：{}）", V::labels().join("、")),
            );
        }
        v
    }

    /// Text of at most `max` characters.
    pub fn bounded(&mut self, header: &str, max: usize) -> Option<String> {
        let s = self.text(header)?;
        if s.chars().count() > max {
            self.problem(Some(header), format!("不能超过 {max} 个字"));
            return None;
        }
        Some(s)
    }

    /// A record's code: 1–40 letters, digits, `-`, `_` or `.`.
    pub fn code(&mut self, header: &str) -> Option<String> {
        let s = self.text(header)?;
        match check_code(&s) {
            Ok(()) => Some(s),
            Err(reason) => {
                self.problem(Some(header), reason);
                None
            }
        }
    }
}

impl Row<'_> {
    /// Whether a problem was already found in this row's column.
    pub fn has_problem(&self, header: &str) -> bool {
        self.problems
            .iter()
            .any(|p| p.row == self.number && p.header.as_deref() == Some(header))
    }

    /// A number (a cell holding one, or text that reads as one) within `range`.
    pub fn decimal(&mut self, header: &str, range: std::ops::RangeInclusive<f64>) -> Option<f64> {
        let s = self.text(header)?;
        match s.parse::<f64>() {
            Ok(n) if n.is_finite() && range.contains(&n) => Some(n),
            Ok(_) => {
                self.problem(
                    Some(header),
                    format!("{s} 超出范围（{} 至 {}）", range.start(), range.end()),
                );
                None
            }
            Err(_) => {
                self.problem(Some(header), format!("“{s}”不是数字"));
                None
            }
        }
    }

    /// A date as offices write it: 2026-03-01, 2026/3/1, 2026.3.1, 2026年3月1日 (an Excel date
    /// cell arrives as the first).
    pub fn date(&mut self, header: &str) -> Option<chrono::NaiveDate> {
        let s = self.text(header)?;
        let d = parse_date(&s);
        if d.is_none() {
            self.problem(
                Some(header),
                format!("“{s}”不是日期（应写作 2026-03-01 或设为日期格式）"),
            );
        }
        d
    }

    /// An 18-digit ID-card number with its check digit, upper-case X; problems show it masked.
    pub fn id_number(&mut self, header: &str) -> Option<String> {
        let s = self.text(header)?;
        match wangge_security::pii::validate_id_number(&s) {
            Ok(v) => Some(v),
            Err(e) => {
                self.problem(Some(header), format!("{}（{}）", e, mask_personal(&s)));
                None
            }
        }
    }

    /// A mobile number (11 digits) or a landline with its area code (0951-1234567); problems
    /// show it masked.
    pub fn phone(&mut self, header: &str) -> Option<String> {
        let s = self.text(header)?;
        if let Ok(m) = wangge_security::pii::validate_mobile(&s) {
            return Some(m);
        }
        let digits = s.chars().filter(char::is_ascii_digit).count();
        let landline = s.starts_with('0')
            && s.chars().all(|c| c.is_ascii_digit() || c == '-')
            && (10..=12).contains(&digits);
        if landline {
            return Some(s);
        }
        self.problem(
            Some(header),
            format!(
                "“{}”不是手机号（11 位）或带区号的固定电话（如 0952-1234567）",
                mask_personal(&s)
            ),
        );
        None
    }
}

/// An identifier as a problem may show it: an ID-card number as 640202********1234, anything
/// else as a phone (138****5678).
pub fn mask_personal(s: &str) -> String {
    if s.chars().count() >= 15 {
        wangge_security::pii::mask_id_number(s)
    } else {
        wangge_security::pii::mask_phone(s)
    }
}

/// See [`Row::date`].
pub fn parse_date(s: &str) -> Option<chrono::NaiveDate> {
    let s = s.trim();
    let cleaned: String = s
        .trim_end_matches('日')
        .chars()
        .map(|c| match c {
            '/' | '.' | '年' | '月' => '-',
            c => c,
        })
        .collect();
    // An Excel date-time cell shows as "2026-03-01 00:00:00" or "2026-03-01T00:00:00".
    let day = cleaned.split([' ', 'T']).next().unwrap_or("");
    let mut parts = day.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 {
        return None;
    }
    chrono::NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// A number as Excel shows it: integers without a decimal point.
fn shown_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// The codes a city gives its records: short, and safe in a URL, a file and a sheet.
pub fn check_code(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 40 {
        return Err("编码应为 1 至 40 个字符".into());
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!("编码只能含字母、数字和 - _ .（含有“{c}”）"));
    }
    Ok(())
}

/// The 状态 column of registers with leavers: 在职 or 离职 (启用/停用 for organisations).
pub fn active_from(s: &str) -> Option<bool> {
    match s.trim() {
        "在职" | "启用" | "正常" => Some(true),
        "离职" | "停用" | "撤销" => Some(false),
        _ => None,
    }
}

/// The 状态 column read as 在职/离职 (or 启用/停用): blank is active.
pub fn status(row: &mut Row, header: &str) -> bool {
    match row.text(header) {
        None => true,
        Some(s) => active_from(&s).unwrap_or_else(|| {
            row.problem(
                Some(header),
                format!("“{s}”应为 在职 或 离职（启用 或 停用）"),
            );
            true
        }),
    }
}

/// Rows whose code appeared earlier in the file are problems on the later row.
pub fn duplicate_codes<'a>(
    sheet: &str,
    header: &str,
    column: Option<u32>,
    codes: impl Iterator<Item = (u32, &'a str)>,
    problems: &mut Vec<Problem>,
) {
    let mut seen = std::collections::HashMap::new();
    for (row, code) in codes {
        if let Some(first) = seen.insert(code, row) {
            seen.insert(code, first);
            problems.push(Problem {
                sheet: sheet.into(),
                row,
                column,
                header: Some(header.into()),
                reason: format!("编码 {code} 与第{first}行重复"),
            });
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod people_tests;

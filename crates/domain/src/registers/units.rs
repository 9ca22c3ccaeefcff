//! The unit register (单位台账): the schools, enterprises, religious venues, social organisations,
//! village and community bodies and 两新组织 of the six domains, and the centres, each with the
//! code the city gives it, its kind and domain, its address, its point on the map (which decides
//! its grid) and the person responsible for it.

use super::{Column, Layout, Problem, Row, Sheet, column, duplicate_codes, status};
use crate::org::{Domain, UnitKind, Vocabulary};

pub const CODE: &str = "单位编码";
pub const NAME: &str = "单位名称";
pub const KIND: &str = "单位类别";
pub const DOMAIN: &str = "所属领域";
pub const ADDRESS: &str = "地址";
pub const LON: &str = "经度";
pub const LAT: &str = "纬度";
pub const GRID: &str = "所属网格编码";
pub const CONTACT: &str = "负责人";
pub const PHONE: &str = "负责人电话";
pub const STATUS: &str = "状态";

pub const COLUMNS: &[Column] = &[
    column(
        CODE,
        true,
        true,
        "本市给单位的唯一编码（如统一社会信用代码或自编编码，字母、数字、- _ .，至多 40 个字符），再次导入时按编码更新",
        22.0,
    ),
    column(NAME, true, false, "单位全称，至多 100 字", 30.0),
    Column {
        choices: Some(UnitKind::labels),
        ..column(KIND, true, false, "从下拉列表选择", 18.0)
    },
    Column {
        choices: Some(Domain::labels),
        ..column(
            DOMAIN,
            false,
            false,
            "六大领域之一，可为空：为空时按单位类别确定（学校属校园，宗教活动场所属宗教……）",
            10.0,
        )
    },
    column(ADDRESS, false, false, "详细地址，至多 200 字", 36.0),
    column(
        LON,
        false,
        false,
        "WGS-84（CGCS2000）经度，如 106.3853；填写坐标时按坐标确定所属网格",
        12.0,
    ),
    column(
        LAT,
        false,
        false,
        "WGS-84（CGCS2000）纬度，如 39.0142",
        12.0,
    ),
    column(
        GRID,
        false,
        true,
        "15 位网格编码；未填坐标时必填，填了坐标时可为空（若填写，须与坐标所在网格一致）",
        18.0,
    ),
    column(CONTACT, false, false, "单位负责人姓名，至多 50 字", 12.0),
    Column {
        personal: true,
        ..column(
            PHONE,
            false,
            true,
            "手机号或带区号的固定电话，设为文本格式；加密保存，页面上脱敏显示",
            16.0,
        )
    },
    Column {
        choices: Some(|| vec!["启用", "停用"]),
        ..column(STATUS, false, false, "启用或停用，为空表示启用", 10.0)
    },
];

/// A unit as one row describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitRecord {
    pub row: u32,
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    pub domain: Domain,
    pub address: Option<String>,
    pub point: Option<(f64, f64)>,
    /// The grid it lies in: from its point, or as written.
    pub grid: String,
    pub contact: Option<String>,
    pub phone: Option<String>,
    pub active: bool,
}

/// What the checks need from the city as stored.
pub trait KnownGrids {
    /// The grid containing a point, if any.
    fn grid_at(&self, lon: f64, lat: f64) -> Option<String>;
    fn grid_exists(&self, code: &str) -> bool;
    /// Whether the importer keeps records there.
    fn in_scope(&self, code: &str) -> bool;
}

/// Reads and checks the whole sheet: the records, or every problem found.
pub fn read(sheet: &Sheet, known: &dyn KnownGrids) -> Result<Vec<UnitRecord>, Vec<Problem>> {
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
        Ok(records)
    } else {
        problems.sort_by_key(|p| (p.row, p.column));
        Err(problems)
    }
}

fn read_row(row: &mut Row, code: Option<String>, known: &dyn KnownGrids) -> Option<UnitRecord> {
    let name = row.bounded(NAME, 100);
    let kind = row.choice::<UnitKind>(KIND);
    let domain = match row.text(DOMAIN) {
        None => kind.map(UnitKind::domain),
        Some(_) => row.choice::<Domain>(DOMAIN),
    };
    let address = row.bounded(ADDRESS, 200);
    // The city's extent is checked by the grid lookup; these bounds catch swapped columns early.
    let lon = row.decimal(LON, 73.0..=136.0);
    let lat = row.decimal(LAT, 3.0..=54.0);
    let written = row.text(GRID);
    let point = match (lon, lat) {
        (Some(x), Some(y)) => Some((x, y)),
        (None, None) => None,
        (Some(_), None) => {
            row.problem(Some(LAT), "填写了经度，也须填写纬度");
            None
        }
        (None, Some(_)) => {
            row.problem(Some(LON), "填写了纬度，也须填写经度");
            None
        }
    };
    let grid = match (&point, written) {
        (Some((x, y)), written) => match known.grid_at(*x, *y) {
            None => {
                row.problem(
                    Some(LON),
                    format!("坐标（{x}, {y}）不在任何网格内：请核对经纬度（WGS-84）"),
                );
                None
            }
            Some(g) => match written {
                Some(w) if w != g => {
                    row.problem(
                        Some(GRID),
                        format!("坐标位于网格 {g}，与填写的网格 {w} 不一致"),
                    );
                    None
                }
                _ => Some(g),
            },
        },
        (None, Some(w)) if !known.grid_exists(&w) => {
            row.problem(Some(GRID), format!("网格 {w} 不存在（请先导入区划和网格）"));
            None
        }
        (None, Some(w)) => Some(w),
        (None, None) if lon.is_none() && lat.is_none() => {
            row.problem(Some(GRID), "未填坐标时必须填写所属网格编码");
            None
        }
        (None, None) => None,
    };
    if let Some(g) = &grid
        && !known.in_scope(g)
    {
        row.problem(Some(GRID), format!("网格 {g} 不在您的管辖范围内"));
    }
    let contact = row.bounded(CONTACT, 50);
    let phone = row.phone(PHONE);
    let active = status(row, STATUS);
    Some(UnitRecord {
        row: row.number,
        code: code?,
        name: name?,
        kind: kind?,
        domain: domain?,
        address,
        point,
        grid: grid?,
        contact,
        phone,
        active,
    })
}

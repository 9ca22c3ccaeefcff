//! Workbooks in and out: reading a register's sheet from an `.xlsx` (calamine) or a `.csv` file
//! (UTF-8, or GB18030 as Chinese Excel saves it), and writing templates, exports and statistics
//! tables (rust_xlsxwriter; large exports in its constant-memory mode). What the cells must hold
//! is the registers' business (`wangge_domain::registers`); this module only moves cells.

use crate::error::{AppError, AppResult};
use rust_xlsxwriter::{Color, DataValidation, Format, FormatBorder, Formula, Workbook, XlsxError};
use std::io::Cursor;
use wangge_domain::registers::{Cell, Column, GUIDE_SHEET, Problem, Sheet, column_letters};

/// The sheet of a file named `sheet` (a CSV file is that sheet), or why it cannot be read.
pub fn read(bytes: &[u8], sheet: &str) -> Result<Sheet, Problem> {
    let file_problem = |reason: String| Problem {
        sheet: sheet.into(),
        row: 0,
        column: None,
        header: None,
        reason,
    };
    if bytes.starts_with(b"PK\x03\x04") {
        return read_xlsx(bytes, sheet).map_err(file_problem);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(file_problem(
            "这是旧版 Excel 97-2003 工作簿（.xls），请在 Excel 中另存为 .xlsx 后再导入".into(),
        ));
    }
    read_csv(bytes, sheet).map_err(file_problem)
}

fn read_xlsx(bytes: &[u8], name: &str) -> Result<Sheet, String> {
    use calamine::{Data, Reader, Xlsx};
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes))
        .map_err(|e| format!("文件不是可读的 Excel 工作簿（.xlsx）：{e}"))?;
    let names = wb.sheet_names();
    if !names.iter().any(|n| n == name) {
        return Err(format!(
            "工作簿中没有名为「{name}」的工作表（现有：{}）；请使用本台账的模板",
            names.join("、")
        ));
    }
    let range = wb
        .worksheet_range(name)
        .map_err(|e| format!("工作表「{name}」读取失败：{e}"))?;
    // A range starts at its first non-empty cell; pad so rows and columns keep Excel's numbers.
    let (top, left) = range.start().unwrap_or((0, 0));
    let mut rows: Vec<Vec<Cell>> = vec![Vec::new(); top as usize];
    for r in range.rows() {
        let mut cells = vec![Cell::Empty; left as usize];
        cells.extend(r.iter().map(|d| match d {
            Data::Empty => Cell::Empty,
            Data::String(s) => Cell::Text(s.clone()),
            Data::Float(f) => Cell::Number(*f),
            Data::Int(i) => Cell::Number(*i as f64),
            // A date cell (入职日期) reads as the day it shows; the registers parse that text.
            Data::DateTime(d) => Cell::Other(excel_day(d.as_f64())),
            Data::DateTimeIso(s) => Cell::Other(s.chars().take(10).collect()),
            other => Cell::Other(other.to_string()),
        }));
        rows.push(cells);
    }
    Ok(Sheet {
        name: name.into(),
        rows,
    })
}

/// An Excel date serial (days since 1899-12-30, in the 1900 system) as YYYY-MM-DD.
fn excel_day(serial: f64) -> String {
    let epoch = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).expect("a date");
    epoch
        .checked_add_signed(chrono::Duration::days(serial.floor() as i64))
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| serial.to_string())
}

fn read_csv(bytes: &[u8], name: &str) -> Result<Sheet, String> {
    let text = decode(bytes)?;
    if text.contains('\0') {
        return Err("文件不是 Excel 工作簿（.xlsx），也不是 CSV 文本文件".into());
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("第{}行不是正确的 CSV：{e}", i + 1))?;
        rows.push(
            record
                .iter()
                .map(|s| {
                    if s.trim().is_empty() {
                        Cell::Empty
                    } else {
                        Cell::Text(s.to_string())
                    }
                })
                .collect(),
        );
    }
    Ok(Sheet {
        name: name.into(),
        rows,
    })
}

/// UTF-8 (with or without the BOM Excel writes) or else GB18030.
fn decode(bytes: &[u8]) -> Result<String, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok(s.to_string());
    }
    let (text, _, had_errors) = encoding_rs::GB18030.decode(bytes);
    if had_errors {
        return Err("CSV 文件既不是 UTF-8 也不是 GB18030（GBK）编码，请另存为“CSV UTF-8”".into());
    }
    Ok(text.into_owned())
}

fn failed(e: XlsxError) -> AppError {
    AppError::internal("workbook.failed", format!("workbook: {e}"))
}

fn header_format() -> Format {
    Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xDDEBF7))
        .set_border(FormatBorder::Thin)
}

/// Writes a register's sheet: the header (a red asterisk on required columns), text format on
/// code, ID and phone columns, widths, drop-downs from a hidden sheet of choices, then `rows` (all
/// text, so that codes keep their digits) — and the guide sheet explaining each column.
pub fn register(sheet: &str, columns: &[Column], rows: &[Vec<String>]) -> AppResult<Vec<u8>> {
    write_register(sheet, columns, rows).map_err(failed)
}

fn write_register(
    sheet: &str,
    columns: &[Column],
    rows: &[Vec<String>],
) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let head = header_format();
    let star = header_format().set_font_color(Color::Red);
    let text = Format::new().set_num_format("@");
    let data = wb.add_worksheet_with_constant_memory()?;
    data.set_name(sheet)?;
    for (c, col) in columns.iter().enumerate() {
        let c = c as u16;
        data.set_column_width(c, col.width)?;
        if col.text {
            data.set_column_format(c, &text)?;
        }
    }
    data.set_freeze_panes(1, 0)?;
    for (c, col) in columns.iter().enumerate() {
        let c = c as u16;
        if col.required {
            data.write_rich_string(0, c, &[(&head, col.header), (&star, "*")])?;
        } else {
            data.write_string_with_format(0, c, col.header, &head)?;
        }
    }
    // Drop-downs: the choices live in a hidden sheet (a list typed into the rule is limited to
    // 255 characters), one column per vocabulary.
    let mut lists = Vec::new();
    for (c, col) in columns.iter().enumerate() {
        if let Some(choices) = col.choices {
            let k = lists.len() as u32 + 1;
            let values = choices();
            let formula = format!(
                "='选项'!${0}$2:${0}${1}",
                column_letters(k),
                values.len() + 1
            );
            let rule = DataValidation::new()
                .allow_list_formula(Formula::new(formula))
                .set_error_title("请从下拉列表选择")?
                .set_error_message(format!("「{}」只能填写下拉列表中的值", col.header))?;
            data.add_data_validation(1, c as u16, 1_048_575, c as u16, &rule)?;
            lists.push((col.header, values));
        }
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, value) in row.iter().enumerate() {
            if !value.is_empty() {
                data.write_string_with_format(r as u32 + 1, c as u16, value, &text)?;
            }
        }
    }
    write_guide(wb.add_worksheet(), columns, &head)?;
    let options = wb.add_worksheet();
    options.set_name("选项")?.set_hidden(true);
    for (k, (header, values)) in lists.iter().enumerate() {
        options.write_string_with_format(0, k as u16, *header, &head)?;
        for (i, v) in values.iter().enumerate() {
            options.write_string(i as u32 + 1, k as u16, *v)?;
        }
    }
    wb.save_to_buffer()
}

fn write_guide(
    guide: &mut rust_xlsxwriter::Worksheet,
    columns: &[Column],
    head: &Format,
) -> Result<(), XlsxError> {
    guide.set_name(GUIDE_SHEET)?;
    let wrap = Format::new().set_text_wrap();
    for (c, (title, width)) in [
        ("列名", 18.0),
        ("必填", 6.0),
        ("说明", 60.0),
        ("可选值", 40.0),
    ]
    .iter()
    .enumerate()
    {
        guide.write_string_with_format(0, c as u16, *title, head)?;
        guide.set_column_width(c as u16, *width)?;
    }
    for (i, col) in columns.iter().enumerate() {
        let r = i as u32 + 1;
        guide.write_string(r, 0, col.header)?;
        guide.write_string(r, 1, if col.required { "是" } else { "否" })?;
        let mut help = col.help.to_string();
        if col.text {
            help.push_str("（文本格式：请勿改成数字格式）");
        }
        guide.write_string_with_format(r, 2, &help, &wrap)?;
        if let Some(choices) = col.choices {
            guide.write_string_with_format(r, 3, choices().join("、"), &wrap)?;
        }
    }
    let r = columns.len() as u32 + 2;
    guide.write_string(r, 0, "导入规则")?;
    guide.write_string_with_format(
        r,
        2,
        "带红色 * 的列必填。导入时先检查整个文件，列出每个问题所在的行和列；只要有一个问题，就不导入任何数据。\
         按编码匹配：编码已存在的行更新，不存在的行新增，文件中没有的记录保持不变。同一文件导入两次不会重复。",
        &wrap,
    )?;
    Ok(())
}

/// A cell of a statistics table.
pub enum Value {
    Text(String),
    Number(f64),
}

/// A one-sheet workbook of a table whose first row is the header.
pub fn table(sheet: &str, rows: &[Vec<Value>]) -> AppResult<Vec<u8>> {
    let build = || -> Result<Vec<u8>, XlsxError> {
        let mut wb = Workbook::new();
        let head = header_format();
        let ws = wb.add_worksheet();
        ws.set_name(sheet)?;
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                match v {
                    Value::Text(s) if r == 0 => ws.write_string_with_format(r, c, s, &head)?,
                    Value::Text(s) => ws.write_string(r, c, s)?,
                    Value::Number(n) if n.is_finite() => ws.write_number(r, c, *n)?,
                    Value::Number(_) => ws,
                };
            }
        }
        ws.autofit();
        wb.save_to_buffer()
    };
    build().map_err(failed)
}

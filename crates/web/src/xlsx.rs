//! A minimal Excel workbook (.xlsx) writer for the statistics exports: one sheet of text and
//! number cells, packed as a ZIP archive with stored (uncompressed) entries. Office Open XML
//! needs only five parts for that; writing them here keeps a spreadsheet crate (and its
//! dependencies) out of the build for what is a table of a few dozen rows.

/// A cell: text (stored inline, XML-escaped) or a number.
pub enum Cell {
    Text(String),
    Number(f64),
}

/// The workbook's bytes: one sheet named `sheet`, the rows in order.
pub fn workbook(sheet: &str, rows: &[Vec<Cell>]) -> Vec<u8> {
    let mut data = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
         <worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>",
    );
    for (r, row) in rows.iter().enumerate() {
        data.push_str(&format!("<row r=\"{}\">", r + 1));
        for (c, cell) in row.iter().enumerate() {
            let at = format!("{}{}", column(c), r + 1);
            match cell {
                Cell::Text(t) => data.push_str(&format!(
                    "<c r=\"{at}\" t=\"inlineStr\"><is><t>{}</t></is></c>",
                    escape(t)
                )),
                Cell::Number(n) if n.is_finite() => {
                    data.push_str(&format!("<c r=\"{at}\"><v>{n}</v></c>"))
                }
                Cell::Number(_) => {}
            }
        }
        data.push_str("</row>");
    }
    data.push_str("</sheetData></worksheet>");
    let parts: [(&str, String); 5] = [
        (
            "[Content_Types].xml",
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
             <Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
             <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
             <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
             <Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>\
             <Override PartName=\"/xl/worksheets/sheet1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>\
             </Types>"
                .into(),
        ),
        (
            "_rels/.rels",
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
             <Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
             <Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/>\
             </Relationships>"
                .into(),
        ),
        (
            "xl/workbook.xml",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
                 <workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" \
                 xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">\
                 <sheets><sheet name=\"{}\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>",
                escape(sheet)
            ),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
             <Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
             <Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/>\
             </Relationships>"
                .into(),
        ),
        ("xl/worksheets/sheet1.xml", data),
    ];
    zip_stored(&parts)
}

/// Excel's column letters: 0 → A, 25 → Z, 26 → AA.
fn column(mut i: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

fn escape(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || *c == '\t' || *c == '\n')
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// CRC-32 (IEEE), as ZIP records it for each entry.
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for b in bytes {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A ZIP archive of the named parts, stored without compression (method 0), UTF-8 names.
fn zip_stored(parts: &[(&str, String)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, body) in parts {
        let (name, body) = (name.as_bytes(), body.as_bytes());
        let crc = crc32(body);
        let offset = out.len() as u32;
        let size = body.len() as u32;
        // Local file header.
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&20u16.to_le_bytes()); // version needed
        out.extend_from_slice(&0x0800u16.to_le_bytes()); // flags: UTF-8 names
        out.extend_from_slice(&0u16.to_le_bytes()); // stored
        out.extend_from_slice(&0u32.to_le_bytes()); // time and date
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name);
        out.extend_from_slice(body);
        // Its central directory record.
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes()); // made by
        central.extend_from_slice(&20u16.to_le_bytes()); // needed
        central.extend_from_slice(&0x0800u16.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&0u32.to_le_bytes());
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0u8; 8]); // extra, comment, disk, internal attributes
        central.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name);
    }
    let start = out.len() as u32;
    let count = parts.len() as u16;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0u8; 4]); // disk numbers
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&start.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u32_at(b: &[u8], i: usize) -> u32 {
        u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
    }
    fn u16_at(b: &[u8], i: usize) -> u16 {
        u16::from_le_bytes([b[i], b[i + 1]])
    }

    #[test]
    fn crc_of_known_strings() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn columns_are_lettered_as_excel_does() {
        assert_eq!(
            [0, 25, 26, 27, 51, 52, 701, 702].map(column),
            ["A", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA"]
        );
    }

    /// Reads the archive back through its central directory: every part is where the directory
    /// says, with the size and CRC it says; the sheet holds the cells, escaped.
    #[test]
    fn the_archive_reads_back() {
        let rows = vec![
            vec![Cell::Text("纠纷类型".into()), Cell::Text("调解件数".into())],
            vec![Cell::Text("邻里 <&> \"纠纷\"".into()), Cell::Number(2268.0)],
        ];
        let b = workbook("调解统计", &rows);
        let end = b.len() - 22;
        assert_eq!(u32_at(&b, end), 0x0605_4b50);
        let count = u16_at(&b, end + 10) as usize;
        assert_eq!(count, 5);
        let mut at = u32_at(&b, end + 16) as usize;
        let mut names = Vec::new();
        for _ in 0..count {
            assert_eq!(u32_at(&b, at), 0x0201_4b50);
            let crc = u32_at(&b, at + 16);
            let size = u32_at(&b, at + 20) as usize;
            let name_len = u16_at(&b, at + 28) as usize;
            let offset = u32_at(&b, at + 42) as usize;
            let name = String::from_utf8(b[at + 46..at + 46 + name_len].to_vec()).unwrap();
            assert_eq!(u32_at(&b, offset), 0x0403_4b50);
            let local_name = u16_at(&b, offset + 26) as usize;
            let body = &b[offset + 30 + local_name..offset + 30 + local_name + size];
            assert_eq!(crc32(body), crc, "{name}");
            if name == "xl/worksheets/sheet1.xml" {
                let xml = String::from_utf8(body.to_vec()).unwrap();
                assert!(xml.contains("<c r=\"B2\"><v>2268</v></c>"), "{xml}");
                assert!(xml.contains("邻里 &lt;&amp;&gt; &quot;纠纷&quot;"), "{xml}");
            }
            names.push(name);
            at += 46 + name_len;
        }
        assert!(names.contains(&"[Content_Types].xml".to_string()));
    }
}

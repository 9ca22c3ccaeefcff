use super::departments::{self, DepartmentRecord, KnownDepartments};
use super::*;
use crate::org::DepartmentKind;
use crate::region::{Level, RegionCode};

/// A city of two counties with a township each; the importer keeps the first county.
struct City;

impl KnownDepartments for City {
    fn region_level(&self, code: &RegionCode) -> Option<Level> {
        match code.as_str() {
            "640200000000" => Some(Level::City),
            "640202000000" | "640205000000" => Some(Level::County),
            "640202001000" | "640205001000" => Some(Level::Township),
            "640202001001" => Some(Level::Community),
            _ => None,
        }
    }
    fn in_scope(&self, code: &RegionCode) -> bool {
        code.as_str().starts_with("640202")
    }
    fn department_exists(&self, code: &str) -> bool {
        code == "GA-DWK"
    }
}

fn t(s: &str) -> Cell {
    Cell::Text(s.into())
}

fn sheet(rows: Vec<Vec<Cell>>) -> Sheet {
    let mut all = vec![
        [
            "部门编码*",
            "部门名称*",
            "部门类别*",
            "所属区划代码*",
            "上级部门编码",
            "服务区域代码",
            "状态",
        ]
        .iter()
        .map(|h| t(h))
        .collect(),
    ];
    all.extend(rows);
    Sheet {
        name: "部门".into(),
        rows: all,
    }
}

fn row(cells: &[&str]) -> Vec<Cell> {
    cells
        .iter()
        .map(|c| if c.is_empty() { Cell::Empty } else { t(c) })
        .collect()
}

fn problems(s: &Sheet) -> Vec<String> {
    departments::read(s, &City)
        .expect_err("the sheet should be refused")
        .iter()
        .map(|p| p.to_string())
        .collect()
}

#[test]
fn a_good_sheet_reads_with_labels_or_ids_and_areas_defaulting_to_the_region() {
    let s = sheet(vec![
        row(&[
            "PCS-CS",
            "长胜派出所",
            "派出所",
            "640202000000",
            "GA-DWK",
            "640202001000",
            "",
        ]),
        row(&[
            "GD-DWK",
            "大武口供电公司",
            "power_supply",
            "640202000000",
            "",
            "",
            "启用",
        ]),
        vec![],
        row(&["", "", "", "", "", "", ""]),
        row(&[
            "ZJ-OLD",
            "旧住建局",
            "住房城乡建设",
            "640202000000",
            "",
            "",
            "停用",
        ]),
    ]);
    let got = departments::read(&s, &City).unwrap();
    assert_eq!(got.len(), 3);
    assert_eq!(
        got[0],
        DepartmentRecord {
            row: 2,
            code: "PCS-CS".into(),
            name: "长胜派出所".into(),
            kind: DepartmentKind::PoliceStation,
            region: RegionCode::parse("640202000000").unwrap(),
            parent: Some("GA-DWK".into()),
            areas: vec![RegionCode::parse("640202001000").unwrap()],
            active: true,
        }
    );
    assert_eq!(got[1].kind, DepartmentKind::PowerSupply);
    assert_eq!(got[1].areas, vec![got[1].region.clone()]);
    assert_eq!(got[2].row, 6);
    assert!(!got[2].active);
}

#[test]
fn every_problem_is_listed_with_its_row_and_column() {
    let s = sheet(vec![
        row(&["A 1", "x", "火星局", "6402", "", "", "在岗"]),
        row(&["B", "", "派出所", "640205000000", "", "", ""]),
        row(&["C", "c", "派出所", "640202000000", "", "640205001000", ""]),
        row(&["D", "d", "派出所", "640202001001", "D", "", ""]),
        row(&["E", "e", "派出所", "640202000000", "NOPE", "", ""]),
        row(&["C", "c2", "派出所", "640202000000", "", "", ""]),
    ]);
    let p = problems(&s);
    let expect = [
        "第2行 第1列（A）「部门编码」：编码只能含字母",
        "第2行 第3列（C）「部门类别」：“火星局”不是可选的值",
        "第2行 第4列（D）「所属区划代码」：“6402”不是 12 位区划代码",
        "第2行 第7列（G）「状态」：“在岗”应为 启用 或 停用",
        "第3行 第2列（B）「部门名称」：必填",
        "第3行 第4列（D）「所属区划代码」：区划 640205000000 不在您的管辖范围内",
        "第4行 第6列（F）「服务区域代码」：区划 640205001000 不在您的管辖范围内",
        "第5行 第4列（D）「所属区划代码」：640202001001 是社区（村）",
        "第5行 第5列（E）「上级部门编码」：上级部门不能是部门自己",
        "第6行「上级部门编码」：上级部门 NOPE 既不在本表中，也未导入过",
        "第7行「部门编码」：编码 C 与第4行重复",
    ];
    for e in expect {
        assert!(p.iter().any(|x| x.contains(e)), "missing {e:?} in {p:#?}");
    }
    assert_eq!(p.len(), expect.len(), "{p:#?}");
}

#[test]
fn an_area_outside_the_department_s_own_region_is_refused() {
    struct Wide;
    impl KnownDepartments for Wide {
        fn region_level(&self, c: &RegionCode) -> Option<Level> {
            City.region_level(c)
        }
        fn in_scope(&self, _: &RegionCode) -> bool {
            true
        }
        fn department_exists(&self, _: &str) -> bool {
            false
        }
    }
    let s = sheet(vec![row(&[
        "PCS",
        "某派出所",
        "派出所",
        "640202000000",
        "",
        "640202001000、640205001000",
        "",
    ])]);
    let p = departments::read(&s, &Wide).unwrap_err();
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].reason.contains("不在部门所属区划 640202000000 之内"),
        "{p:?}"
    );
}

#[test]
fn codes_typed_as_numbers_are_refused_since_their_digits_may_be_lost() {
    let s = sheet(vec![vec![
        Cell::Number(1.0),
        t("某局"),
        t("派出所"),
        Cell::Number(640202000000.0),
    ]]);
    let p = problems(&s);
    assert_eq!(p.len(), 2, "{p:#?}");
    assert!(
        p[0].contains("第1列") && p[0].contains("单元格是数字（1）"),
        "{p:?}"
    );
    assert!(p[1].contains("单元格是数字（640202000000）"), "{p:?}");
}

#[test]
fn parents_may_not_go_round_in_a_circle() {
    let s = sheet(vec![
        row(&["A", "a", "派出所", "640202000000", "B", "", ""]),
        row(&["B", "b", "派出所", "640202000000", "A", "", ""]),
        row(&["C", "c", "派出所", "640202000000", "A", "", ""]),
    ]);
    let p = problems(&s);
    assert_eq!(p.len(), 2, "{p:#?}");
    assert!(p.iter().all(|x| x.contains("循环")));
}

#[test]
fn headers_are_checked_before_any_row() {
    let s = Sheet {
        name: "部门".into(),
        rows: vec![
            row(&["部门编码", "名字", "部门类别", "部门编码"]),
            row(&["A"]),
        ],
    };
    let p = problems(&s);
    assert!(
        p.iter()
            .any(|x| x.contains("第2列（B）「名字」：不是本台账的列")),
        "{p:#?}"
    );
    assert!(
        p.iter()
            .any(|x| x.contains("第4列（D）「部门编码」：列重复")),
        "{p:#?}"
    );
    assert!(
        p.iter().any(|x| x.contains("「部门名称」：缺少必填列")),
        "{p:#?}"
    );
    assert!(
        p.iter().any(|x| x.contains("「所属区划代码」：缺少必填列")),
        "{p:#?}"
    );
    assert!(p.iter().all(|x| x.contains("第1行")), "{p:#?}");
    let empty = Sheet {
        name: "部门".into(),
        rows: vec![],
    };
    assert!(problems(&empty)[0].contains("没有表头行"));
}

#[test]
fn column_letters_follow_excel() {
    assert_eq!(column_letters(1), "A");
    assert_eq!(column_letters(26), "Z");
    assert_eq!(column_letters(27), "AA");
    assert_eq!(column_letters(703), "AAA");
}

#[test]
fn register_kinds_round_trip() {
    for k in RegisterKind::ALL {
        assert_eq!(k.as_str().parse::<RegisterKind>().unwrap(), *k);
        assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
    }
    assert!(
        "depts"
            .parse::<RegisterKind>()
            .unwrap_err()
            .contains("可选")
    );
}

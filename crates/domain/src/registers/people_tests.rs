//! The unit, people and team sheets checked against a small city without a database.

use super::people::{self, KnownPeople};
use super::teams::{self, KnownMembers, PlaceKind};
use super::units::{self, KnownGrids};
use super::*;
use crate::org::{PersonKind, TeamKind, TeamRole, UnitKind};
use crate::region::{Level, RegionCode};

/// Two communities of one township; the importer keeps the first community. One grid covers the
/// square 106.0–106.1 × 39.0–39.1, another lies in the second community.
struct City;

const ID_A: &str = "640202199001011232";
const ID_B: &str = "64020219850312008X";

impl KnownGrids for City {
    fn grid_at(&self, lon: f64, lat: f64) -> Option<String> {
        ((106.0..106.1).contains(&lon) && (39.0..39.1).contains(&lat))
            .then(|| "640202001001001".into())
    }
    fn grid_exists(&self, code: &str) -> bool {
        matches!(code, "640202001001001" | "640202001002001")
    }
    fn in_scope(&self, code: &str) -> bool {
        code.starts_with("640202001001")
    }
}

impl KnownPeople for City {
    fn region_level(&self, code: &RegionCode) -> Option<Level> {
        match code.as_str() {
            "640202001000" => Some(Level::Township),
            "640202001001" | "640202001002" => Some(Level::Community),
            _ => None,
        }
    }
    fn grid_exists(&self, code: &str) -> bool {
        KnownGrids::grid_exists(self, code)
    }
    fn department_exists(&self, code: &str) -> bool {
        code == "PCS-CS"
    }
    fn in_scope(&self, code: &str) -> bool {
        code.starts_with("640202001001")
    }
}

impl KnownMembers for City {
    fn place_kind(&self, code: &str) -> Option<PlaceKind> {
        match code {
            "640202001001001" | "640202001002001" => Some(PlaceKind::Grid),
            "640202001001" | "640202001002" => Some(PlaceKind::Community),
            "640202001000" => Some(PlaceKind::Other),
            _ => None,
        }
    }
    fn in_scope(&self, code: &str) -> bool {
        code.starts_with("640202001001")
    }
    fn person_name(&self, id: &str) -> Option<String> {
        match id {
            ID_A => Some("张伟".into()),
            ID_B => Some("李娜".into()),
            _ => None,
        }
    }
}

fn t(s: &str) -> Cell {
    if s.is_empty() {
        Cell::Empty
    } else {
        Cell::Text(s.into())
    }
}

fn sheet(name: &str, columns: &[Column], rows: Vec<Vec<Cell>>) -> Sheet {
    let mut all = vec![columns.iter().map(|c| t(c.header)).collect::<Vec<_>>()];
    all.extend(rows);
    Sheet {
        name: name.into(),
        rows: all,
    }
}

fn row(cells: &[&str]) -> Vec<Cell> {
    cells.iter().map(|c| t(c)).collect()
}

fn shown(problems: Vec<Problem>) -> Vec<String> {
    problems.iter().map(|p| p.to_string()).collect()
}

#[test]
fn a_unit_takes_its_grid_from_its_point_and_its_domain_from_its_kind() {
    let s = sheet(
        "单位",
        units::COLUMNS,
        vec![
            row(&[
                "U-1",
                "长胜小学",
                "学校",
                "",
                "长胜街 1 号",
                "106.05",
                "39.05",
                "",
                "王校长",
                "13800001111",
                "",
            ]),
            row(&[
                "U-2",
                "某公司",
                "enterprise",
                "",
                "",
                "",
                "",
                "640202001001001",
                "",
                "",
                "停用",
            ]),
        ],
    );
    let r = units::read(&s, &City).unwrap();
    assert_eq!(r[0].grid, "640202001001001");
    assert_eq!(r[0].kind, UnitKind::School);
    assert_eq!(r[0].domain, crate::org::Domain::Campus);
    assert_eq!(r[0].point, Some((106.05, 39.05)));
    assert!(r[0].active);
    assert_eq!(r[1].point, None);
    assert!(!r[1].active);
}

#[test]
fn a_bad_unit_sheet_lists_every_problem_with_phones_masked() {
    let s = sheet(
        "单位",
        units::COLUMNS,
        vec![
            // Outside every grid.
            row(&["U-1", "甲", "学校", "", "", "107.5", "39.5", "", "", "", ""]),
            // No place at all, a bad phone, an unknown kind.
            row(&[
                "U-2",
                "乙",
                "银行",
                "",
                "",
                "",
                "",
                "",
                "",
                "12345678901",
                "",
            ]),
            // Its point and its grid disagree; a latitude alone.
            row(&[
                "U-3",
                "丙",
                "企业",
                "",
                "",
                "106.05",
                "39.05",
                "640202001002001",
                "",
                "",
                "",
            ]),
            row(&["U-4", "丁", "企业", "", "", "", "39.05", "", "", "", ""]),
            // Outside the importer's area; a duplicate code.
            row(&[
                "U-5",
                "戊",
                "企业",
                "",
                "",
                "",
                "",
                "640202001002001",
                "",
                "",
                "",
            ]),
            row(&[
                "U-1",
                "己",
                "企业",
                "",
                "",
                "",
                "",
                "640202001001001",
                "",
                "",
                "",
            ]),
        ],
    );
    let p = shown(units::read(&s, &City).unwrap_err());
    let all = p.join("\n");
    assert!(
        all.contains("第2行") && all.contains("不在任何网格内"),
        "{all}"
    );
    assert!(
        all.contains("第3行") && all.contains("“银行”不是可选的值"),
        "{all}"
    );
    assert!(all.contains("未填坐标时必须填写所属网格编码"), "{all}");
    assert!(
        all.contains("123****8901") && !all.contains("12345678901"),
        "{all}"
    );
    assert!(all.contains("与填写的网格 640202001002001 不一致"), "{all}");
    assert!(all.contains("填写了纬度，也须填写经度"), "{all}");
    assert!(
        all.contains("第6行") && all.contains("不在您的管辖范围内"),
        "{all}"
    );
    assert!(
        all.contains("第7行") && all.contains("编码 U-1 与第2行重复"),
        "{all}"
    );
}

#[test]
fn people_are_read_with_their_ids_normalised_and_dates_in_any_office_form() {
    let s = sheet(
        "人员",
        people::COLUMNS,
        vec![
            row(&[
                ID_A,
                "张伟",
                "专职网格员",
                "640202001001",
                "640202001001001",
                "",
                "13912345678",
                "2026/3/1",
                "",
            ]),
            row(&[
                &ID_B.to_lowercase(),
                "李娜",
                "社区民警",
                "640202001001",
                "",
                "PCS-CS",
                "",
                "",
                "离职",
            ]),
        ],
    );
    let r = people::read(&s, &City).unwrap();
    assert_eq!(r[0].kind, PersonKind::FullTimeGridWorker);
    assert_eq!(r[0].hired, chrono::NaiveDate::from_ymd_opt(2026, 3, 1));
    assert_eq!(r[1].id_number, ID_B, "x is upper-cased");
    assert!(!r[1].active);
    assert_eq!(
        parse_date("2026年3月1日"),
        chrono::NaiveDate::from_ymd_opt(2026, 3, 1)
    );
    assert_eq!(parse_date("2026-02-30"), None);
}

#[test]
fn bad_people_are_refused_with_every_id_number_masked() {
    let bad_check = "640202199001011233";
    let s = sheet(
        "人员",
        people::COLUMNS,
        vec![
            row(&[
                bad_check,
                "甲",
                "工作人员",
                "640202001001",
                "",
                "",
                "",
                "",
                "",
            ]),
            vec![
                Cell::Number(640202199001011232.0),
                t("乙"),
                t("工作人员"),
                t("640202001001"),
            ],
            // A grid worker with no grid or date; a grid outside their home; unknown department.
            row(&[
                ID_A,
                "丙",
                "兼职网格员",
                "640202001001",
                "",
                "QQQ",
                "",
                "",
                "",
            ]),
            row(&[
                ID_B,
                "丁",
                "专职网格员",
                "640202001001",
                "640202001002001",
                "",
                "",
                "去年",
                "",
            ]),
            row(&[ID_A, "戊", "志愿者", "640202001002", "", "", "", "", ""]),
        ],
    );
    let p = shown(people::read(&s, &City).unwrap_err());
    let all = p.join("\n");
    assert!(
        all.contains("身份证号校验码不正确（640202********1233）"),
        "{all}"
    );
    assert!(all.contains("单元格是数字（640202********"), "{all}");
    assert!(all.contains("兼职网格员须填写所属网格"), "{all}");
    assert!(all.contains("兼职网格员须填写入职日期"), "{all}");
    assert!(all.contains("部门 QQQ 不存在"), "{all}");
    assert!(all.contains("不在所属区划 640202001001 之内"), "{all}");
    assert!(all.contains("“去年”不是日期"), "{all}");
    assert!(
        !all.contains("专职网格员须填写入职日期"),
        "a bad date is not also missing: {all}"
    );
    assert!(
        all.contains("身份证号 640202********1232 与第4行重复"),
        "{all}"
    );
    assert!(
        all.contains("区划 640202001002 不在您的管辖范围内"),
        "{all}"
    );
    for id in [bad_check, ID_A, ID_B] {
        assert!(!all.contains(id), "{id} shown in clear: {all}");
    }
}

#[test]
fn teams_hold_one_leader_per_grid_and_only_their_own_roles() {
    let good = sheet(
        "网格团队",
        teams::COLUMNS,
        vec![
            row(&[
                "网格团队（1+4+X）",
                "640202001001001",
                ID_A,
                "张伟",
                "网格长",
                "",
            ]),
            row(&[
                "警务团队（1+N+X）",
                "640202001001",
                ID_B,
                "",
                "社区民警",
                "",
            ]),
            row(&["grid", "640202001001001", ID_B, "", "志愿者", "离职"]),
        ],
    );
    let r = teams::read(&good, &City).unwrap();
    assert_eq!(r[0].role, TeamRole::GridLeader);
    assert_eq!(r[1].team, TeamKind::Policing);
    assert!(!r[2].active);

    let bad = sheet(
        "网格团队",
        teams::COLUMNS,
        vec![
            row(&[
                "网格团队（1+4+X）",
                "640202001001001",
                ID_A,
                "",
                "网格长",
                "",
            ]),
            row(&[
                "网格团队（1+4+X）",
                "640202001001001",
                ID_B,
                "",
                "网格长",
                "",
            ]),
            row(&["警务团队（1+N+X）", "640202001001", ID_A, "", "网格长", ""]),
            row(&[
                "网格团队（1+4+X）",
                "640202001001",
                ID_A,
                "王五",
                "网格员",
                "",
            ]),
            row(&[
                "网格团队（1+4+X）",
                "640202001002001",
                "640202198001010016",
                "",
                "网格员",
                "",
            ]),
            row(&[
                "网格团队（1+4+X）",
                "640202001001001",
                ID_A,
                "",
                "志愿者",
                "",
            ]),
        ],
    );
    let all = shown(teams::read(&bad, &City).unwrap_err()).join("\n");
    assert!(
        all.contains("第3行") && all.contains("只能有 1 名网格长（第2行已有）"),
        "{all}"
    );
    assert!(
        all.contains("警务团队（1+N+X）没有“网格长”这一角色"),
        "{all}"
    );
    assert!(all.contains("640202001001 不是网格"), "{all}");
    assert!(all.contains("姓名“王五”与人员台账"), "{all}");
    assert!(all.contains("不在人员台账中"), "{all}");
    assert!(all.contains("640202001002001 不在您的管辖范围内"), "{all}");
    assert!(
        all.contains("第7行") && all.contains("已在第2行列为该团队成员"),
        "{all}"
    );
    assert!(!all.contains(ID_A), "{all}");
}

impl party::KnownOrgs for City {
    fn node_kind(&self, code: &str) -> Option<party::NodeKind> {
        Some(match code {
            "640202001000" => party::NodeKind::Township,
            "640202001001" | "640202001002" => party::NodeKind::Community,
            "640202001001001" | "640202001002001" => party::NodeKind::Grid,
            "640202000000" => party::NodeKind::Other,
            _ => return None,
        })
    }
    fn in_scope(&self, code: &str) -> bool {
        code.starts_with("640202001")
    }
    fn stored(&self, code: &str) -> Option<party::StoredOrg> {
        (code == "P-STREET").then(|| party::StoredOrg {
            level: crate::org::PartyLevel::StreetCommittee,
            place: "640202001000".into(),
        })
    }
    fn unit_grid(&self, code: &str) -> Option<String> {
        (code == "U-1").then(|| "640202001001001".into())
    }
}

use super::party;

#[test]
fn the_party_tree_reads_level_by_level_under_a_stored_street_committee() {
    let s = sheet(
        "党组织",
        party::COLUMNS,
        vec![
            row(&[
                "P-C1",
                "中共长胜社区委员会",
                "社区（村）党组织",
                "P-STREET",
                "640202001001",
                "",
                "",
            ]),
            row(&[
                "P-G1",
                "长胜一网格党支部",
                "网格党支部",
                "P-C1",
                "640202001001001",
                "",
                "",
            ]),
            row(&[
                "P-B1",
                "一号楼党小组",
                "楼院党小组",
                "P-G1",
                "640202001001001",
                "",
                "",
            ]),
            row(&[
                "P-S1",
                "长胜小学党支部",
                "网格党支部",
                "P-C1",
                "640202001001001",
                "U-1",
                "撤销",
            ]),
        ],
    );
    let r = party::read(&s, &City).unwrap();
    assert_eq!(r.len(), 4);
    assert_eq!(r[3].unit.as_deref(), Some("U-1"));
    assert!(!r[3].active);
}

#[test]
fn a_branch_under_a_branch_and_misplaced_organisations_are_refused() {
    let s = sheet(
        "党组织",
        party::COLUMNS,
        vec![
            row(&[
                "P-C1",
                "中共长胜社区委员会",
                "社区（村）党组织",
                "P-STREET",
                "640202001001",
                "",
                "",
            ]),
            row(&[
                "P-G1",
                "长胜一网格党支部",
                "网格党支部",
                "P-C1",
                "640202001001001",
                "",
                "",
            ]),
            // A 支部 under a 支部.
            row(&[
                "P-G2",
                "第二党支部",
                "网格党支部",
                "P-G1",
                "640202001001001",
                "",
                "",
            ]),
            // A community committee at a grid; a branch in another community than its parent.
            row(&[
                "P-C2",
                "某党委",
                "社区（村）党组织",
                "P-STREET",
                "640202001001001",
                "",
                "",
            ]),
            row(&[
                "P-G3",
                "错位党支部",
                "网格党支部",
                "P-C1",
                "640202001002001",
                "",
                "",
            ]),
            // No parent; an unknown parent; a unit that does not exist.
            row(&[
                "P-G4",
                "无上级党支部",
                "网格党支部",
                "",
                "640202001001001",
                "",
                "",
            ]),
            row(&[
                "P-G5",
                "某党支部",
                "网格党支部",
                "P-NONE",
                "640202001001001",
                "U-9",
                "",
            ]),
        ],
    );
    let all = shown(party::read(&s, &City).unwrap_err()).join("\n");
    assert!(
        all.contains("第5行") && all.contains("社区（村）党组织应设在社区（村）"),
        "{all}"
    );
    assert!(all.contains("网格党支部须填写上级组织"), "{all}");
    assert!(all.contains("单位 U-9 不存在"), "{all}");
    // Parents are checked once every row reads.
    let s = sheet(
        "党组织",
        party::COLUMNS,
        vec![
            row(&[
                "P-C1",
                "中共长胜社区委员会",
                "社区（村）党组织",
                "P-STREET",
                "640202001001",
                "",
                "",
            ]),
            row(&[
                "P-G1",
                "长胜一网格党支部",
                "网格党支部",
                "P-C1",
                "640202001001001",
                "",
                "",
            ]),
            row(&[
                "P-G2",
                "第二党支部",
                "网格党支部",
                "P-G1",
                "640202001001001",
                "",
                "",
            ]),
            row(&[
                "P-G3",
                "错位党支部",
                "网格党支部",
                "P-C1",
                "640202001002001",
                "",
                "",
            ]),
            row(&[
                "P-G5",
                "某党支部",
                "网格党支部",
                "P-NONE",
                "640202001001001",
                "",
                "",
            ]),
        ],
    );
    let all = shown(party::read(&s, &City).unwrap_err()).join("\n");
    assert!(
        all.contains("第4行") && all.contains("支部之下不能再设支部"),
        "{all}"
    );
    assert!(
        all.contains("第5行") && all.contains("不在上级组织所在的 640202001001 之内"),
        "{all}"
    );
    assert!(all.contains("上级组织 P-NONE 既不在本表中"), "{all}");
}

use super::centres;

impl centres::KnownCentres for City {
    fn unit(&self, code: &str) -> Option<(UnitKind, bool)> {
        match code {
            "ZZ-1" => Some((UnitKind::GovernanceCentre, true)),
            "FL-1" => Some((UnitKind::LegalServiceStation, true)),
            "FL-9" => Some((UnitKind::LegalServiceRoom, false)),
            "XX-1" => Some((UnitKind::School, true)),
            _ => None,
        }
    }
    fn department_exists(&self, code: &str) -> bool {
        code == "PCS-CS"
    }
    fn adviser(&self, id: &str) -> Option<bool> {
        match id {
            ID_A => Some(true),
            ID_B => Some(false),
            _ => None,
        }
    }
}

#[test]
fn centres_take_departments_on_their_days_and_advisers_from_the_register() {
    let good = sheet(
        "中心",
        centres::COLUMNS,
        vec![
            row(&["ZZ-1", "常驻部门", "PCS-CS", "", "", ""]),
            row(&["FL-1", "法律顾问", "", ID_A, "", ""]),
        ],
    );
    let r = centres::read(&good, &City).unwrap();
    assert_eq!(r[0].kind, centres::LinkKind::Stationed);
    assert_eq!(r[1].id_number.as_deref(), Some(ID_A));
    assert_eq!(centres::parse_days("周二、星期四"), Some(vec![2, 4]));
    assert_eq!(centres::days_zh(&[2, 4]), "周二、周四");
    assert_eq!(centres::parse_days("周八"), None);

    let bad = sheet(
        "中心",
        centres::COLUMNS,
        vec![
            row(&["ZZ-1", "巡诊部门", "PCS-CS", "", "", ""]),
            row(&["XX-1", "常驻部门", "PCS-CS", "", "", ""]),
            row(&["FL-1", "法律顾问", "", ID_B, "", ""]),
            row(&["ZZ-1", "法律顾问", "", ID_A, "", ""]),
            row(&["FL-9", "常驻部门", "QQQ", "", "周九", ""]),
            row(&["ZZ-1", "常驻部门", "PCS-CS", "", "", ""]),
            row(&["ZZ-1", "常驻部门", "PCS-CS", "", "", ""]),
        ],
    );
    let all = shown(centres::read(&bad, &City).unwrap_err()).join("\n");
    assert!(all.contains("巡诊部门须填写巡诊日"), "{all}");
    assert!(all.contains("单位 XX-1 是学校"), "{all}");
    assert!(
        all.contains("在人员台账中不是法律顾问") && !all.contains(ID_B),
        "{all}"
    );
    assert!(all.contains("综治中心进驻的是部门"), "{all}");
    assert!(
        all.contains("中心 FL-9 不在您的管辖范围内") && all.contains("部门 QQQ 不存在"),
        "{all}"
    );
    assert!(all.contains("“周九”不是星期几"), "{all}");
    assert!(
        all.contains("第7行") && all.contains("PCS-CS 已在第2行列入中心 ZZ-1"),
        "{all}"
    );
}

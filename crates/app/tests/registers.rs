//! The department register through the application layer, on SQLite and on PostgreSQL, with real
//! workbooks written by rust_xlsxwriter and CSV files in GB18030: an import changes nothing
//! unless the whole file is good, a dry run changes nothing at all, the same file twice changes
//! nothing, an export imports again unchanged, rows outside the importer's area are refused, and
//! what was imported routes work and scopes accounts by its code.

mod support;

use calamine::{Data, Reader, Xlsx};
use rust_xlsxwriter::Workbook;
use std::io::Cursor;
use support::{World, world};
use wangge_app::registry::{self, departments};
use wangge_app::{AppError, ErrorKind, Principal, accounts};
use wangge_domain::Level;
use wangge_domain::access::Role;
use wangge_domain::registers::RegisterKind;
use wangge_store::testing::TestBackend;

const HEADER: [&str; 7] = [
    "部门编码*",
    "部门名称*",
    "部门类别*",
    "所属区划代码*",
    "上级部门编码",
    "服务区域代码",
    "状态",
];

/// A workbook as an office fills it: the 部门 sheet, every cell text.
fn xlsx(rows: &[Vec<&str>]) -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("部门").unwrap();
    for (c, h) in HEADER.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(r as u32 + 1, c as u16, *v).unwrap();
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

/// The first county of the demo city, two of its townships, and a township of another county.
struct Places {
    county: String,
    township: String,
    other_township: String,
    foreign_township: String,
    police_bureau: String,
}

fn places(w: &World) -> Places {
    let of = |level: Level| {
        w.city
            .regions
            .iter()
            .filter(move |r| r.level == level)
            .map(|r| r.code.as_str().to_string())
    };
    let county = of(Level::County).next().unwrap();
    let mine: Vec<String> = of(Level::Township)
        .filter(|t| t.starts_with(&county[..6]))
        .collect();
    let foreign = of(Level::Township)
        .find(|t| !t.starts_with(&county[..6]))
        .unwrap();
    let police_bureau = w
        .city
        .org
        .departments
        .iter()
        .find(|d| d.region_code == county && d.kind == "public_security")
        .unwrap()
        .code
        .clone();
    Places {
        township: mine[0].clone(),
        other_township: mine[1].clone(),
        county,
        foreign_township: foreign,
        police_bureau,
    }
}

fn problems(e: &AppError) -> Vec<String> {
    assert_eq!(e.code, "registry.invalid", "{e:?}");
    e.details.as_ref().unwrap()["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["message"].as_str().unwrap().to_string())
        .collect()
}

async fn register_len(w: &World) -> usize {
    w.db.store.department_register().await.unwrap().len()
}

async fn import_is_all_or_nothing_and_idempotent_by_code(backend: TestBackend) {
    let w = world(backend).await;
    let p = places(&w);
    let centre = w.person("cc", "command_centre", &p.county).await;
    let kind = RegisterKind::Departments;
    let before = register_len(&w).await;
    let good = vec![
        vec!["GD-01", "大武口供电公司", "供电公司", &p.county, "", "", ""],
        vec![
            "PCS-NEW",
            "新区派出所",
            "派出所",
            &p.county,
            &p.police_bureau,
            &p.township,
            "",
        ],
    ];
    // A dry run reports and writes nothing.
    let dry = registry::import(&w.ctx, &centre, kind, &xlsx(&good), true)
        .await
        .unwrap();
    assert_eq!((dry.rows, dry.created, dry.dry_run), (2, 2, true));
    assert_eq!(register_len(&w).await, before);
    assert!(
        w.audit_of("departments", "registry.import")
            .await
            .is_empty()
    );

    let done = registry::import(&w.ctx, &centre, kind, &xlsx(&good), false)
        .await
        .unwrap();
    assert_eq!((done.created, done.updated, done.unchanged), (2, 0, 0));
    assert_eq!(register_len(&w).await, before + 2);
    assert_eq!(w.audit_of("departments", "registry.import").await.len(), 1);
    let again = registry::import(&w.ctx, &centre, kind, &xlsx(&good), false)
        .await
        .unwrap();
    assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 2));

    // A changed row updates in place: same id, new name and places.
    let id = departments::find(&w.ctx, "PCS-NEW")
        .await
        .unwrap()
        .unwrap()
        .id;
    let both = format!("{}、{}", p.township, p.other_township);
    let changed = vec![vec![
        "PCS-NEW",
        "新区派出所（更名）",
        "派出所",
        &p.county,
        &p.police_bureau,
        &both,
        "",
    ]];
    let r = registry::import(&w.ctx, &centre, kind, &xlsx(&changed), false)
        .await
        .unwrap();
    assert_eq!((r.created, r.updated, r.unchanged), (0, 1, 0));
    let d = departments::find(&w.ctx, "PCS-NEW").await.unwrap().unwrap();
    assert_eq!(d.id, id);
    assert_eq!(d.name, "新区派出所（更名）");
    assert_eq!(d.areas.len(), 2);
    assert!(d.serves(&format!("{}001001", &p.other_township[..9])));
    assert!(!d.serves(&p.foreign_township));
    // The utility left alone by a file without it.
    assert!(departments::find(&w.ctx, "GD-01").await.unwrap().is_some());

    // One bad row refuses the whole file, good rows included.
    let mixed = vec![
        vec!["NEW-OK", "好部门", "信访", &p.county, "", "", ""],
        vec![
            "BAD",
            "",
            "火星局",
            "640",
            "NOPE",
            &p.foreign_township,
            "在岗",
        ],
    ];
    let e = registry::import(&w.ctx, &centre, kind, &xlsx(&mixed), false)
        .await
        .unwrap_err();
    let listed = problems(&e);
    assert!(listed.len() >= 5, "{listed:#?}");
    assert!(listed.iter().all(|m| m.contains("第3行")), "{listed:#?}");
    assert!(departments::find(&w.ctx, "NEW-OK").await.unwrap().is_none());
    assert_eq!(register_len(&w).await, before + 2);
}

async fn export_imports_again_unchanged(backend: TestBackend) {
    let w = world(backend).await;
    let p = places(&w);
    let centre = w.person("cc", "command_centre", &p.county).await;
    let kind = RegisterKind::Departments;
    let file = registry::export(&w.ctx, &centre, kind).await.unwrap();
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(file.bytes.clone())).unwrap();
    assert!(wb.sheet_names().contains(&"填写说明".to_string()));
    let sheet = wb.worksheet_range("部门").unwrap();
    let header: Vec<String> = sheet
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(header, HEADER);
    let rows = sheet.rows().count() - 1;
    let in_county = w
        .city
        .org
        .departments
        .iter()
        .filter(|d| d.region_code.starts_with(&p.county[..6]))
        .count();
    assert_eq!(rows, in_county);
    // Codes are text cells, never numbers.
    assert!(
        sheet
            .rows()
            .skip(1)
            .all(|r| matches!(&r[0], Data::String(_)) && matches!(&r[3], Data::String(_)))
    );
    let r = registry::import(&w.ctx, &centre, kind, &file.bytes, false)
        .await
        .unwrap();
    assert_eq!(
        (r.rows, r.created, r.updated, r.unchanged),
        (rows, 0, 0, rows)
    );
    assert_eq!(w.audit_of("departments", "registry.export").await.len(), 1);

    // The template is the same sheet without rows, with its guide.
    let t = registry::template(&centre, kind).unwrap();
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(t.bytes)).unwrap();
    let sheet = wb.worksheet_range("部门").unwrap();
    assert_eq!(sheet.rows().count(), 1);
    let guide = wb.worksheet_range("填写说明").unwrap();
    assert!(
        guide
            .rows()
            .any(|r| r[0] == Data::String("部门类别".into())
                && r[3].to_string().contains("供电公司"))
    );
}

async fn rows_outside_the_area_and_wrong_files_are_refused(backend: TestBackend) {
    let w = world(backend).await;
    let p = places(&w);
    let street = w.person("sd", "street_dispatcher", &p.township).await;
    let kind = RegisterKind::Departments;
    let before = register_len(&w).await;
    // A township keeps its own offices, not the county's.
    let county_row = vec![vec!["X-1", "某局", "信访", &p.county, "", "", ""]];
    let e = registry::import(&w.ctx, &street, kind, &xlsx(&county_row), false)
        .await
        .unwrap_err();
    assert!(problems(&e)[0].contains("不在您的管辖范围内"), "{e:?}");
    // A code another area keeps cannot be taken over.
    let taken = w
        .city
        .org
        .departments
        .iter()
        .find(|d| !d.region_code.starts_with(&p.county[..6]))
        .unwrap()
        .code
        .clone();
    let hijack = vec![vec![&taken[..], "改名", "信访", &p.township, "", "", ""]];
    let e = registry::import(&w.ctx, &street, kind, &xlsx(&hijack), false)
        .await
        .unwrap_err();
    assert!(problems(&e)[0].contains("辖区外部门"), "{e:?}");

    for (bytes, expect) in [
        (
            b"PK\x03\x04not a zip at all".to_vec(),
            "不是可读的 Excel 工作簿",
        ),
        (vec![0xD0, 0xCF, 0x11, 0xE0, 0, 0], "Excel 97-2003"),
        (vec![0xff, 0xfe, 0x00, 0x41, 0x00], "编码"),
    ] {
        let e = registry::import(&w.ctx, &street, kind, &bytes, false)
            .await
            .unwrap_err();
        assert!(problems(&e)[0].contains(expect), "{expect}: {e:?}");
    }
    // A workbook without the register's sheet.
    let mut wb = Workbook::new();
    wb.add_worksheet().set_name("Sheet1").unwrap();
    let e = registry::import(&w.ctx, &street, kind, &wb.save_to_buffer().unwrap(), false)
        .await
        .unwrap_err();
    assert!(
        problems(&e)[0].contains("没有名为「部门」的工作表"),
        "{e:?}"
    );
    assert_eq!(register_len(&w).await, before);

    // Who keeps no register may not import, export or fetch a template.
    let grid = w.person("gw", "grid_worker", &w.grid().0).await;
    let sysadmin = w.person("sa", "system_admin", &p.county).await;
    for who in [&grid, &sysadmin] {
        let e = registry::import(&w.ctx, who, kind, &xlsx(&county_row), true)
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Forbidden);
        assert_eq!(
            registry::export(&w.ctx, who, kind).await.unwrap_err().kind,
            ErrorKind::Forbidden
        );
        assert!(registry::template(who, kind).is_err());
    }
}

async fn csv_in_gb18030_imports_and_codes_name_departments(backend: TestBackend) {
    let w = world(backend).await;
    let p = places(&w);
    let centre = w.person("cc", "command_centre", &p.county).await;
    let text = format!(
        "{}\r\nRQ-01,大武口燃气公司,燃气公司,{},,{},\r\n",
        HEADER.join(","),
        p.county,
        p.township
    );
    let (gb, _, _) = encoding_rs::GB18030.encode(&text);
    assert!(
        std::str::from_utf8(&gb).is_err(),
        "the file really is GB18030"
    );
    let r = registry::import(&w.ctx, &centre, RegisterKind::Departments, &gb, false)
        .await
        .unwrap();
    assert_eq!(r.created, 1);
    let d = departments::find(&w.ctx, "RQ-01").await.unwrap().unwrap();
    assert_eq!(d.name, "大武口燃气公司");
    assert_eq!(d.kind, "gas_supply");

    // An account's scope names the department by its code; the stored scope is its id.
    let s = accounts::resolve_scope(&w.db.store, Role::DepartmentStaff, "RQ-01")
        .await
        .unwrap();
    assert_eq!((s.kind.as_str(), s.code), ("department", d.id.to_string()));
    let e = accounts::resolve_scope(&w.db.store, Role::DepartmentStaff, "NO-SUCH")
        .await
        .unwrap_err();
    assert!(e.contains("没有编码为 \"NO-SUCH\" 的部门"), "{e}");

    // Pickers find it by name, within the caller's sight.
    let found = departments::search(&w.ctx, &centre, Some("大武口燃气"), 10)
        .await
        .unwrap();
    assert_eq!(found.total, 1);
    assert_eq!(found.departments[0].kind_name, "燃气公司");
    let far = w
        .person("far", "street_dispatcher", &p.foreign_township)
        .await;
    let found = departments::search(&w.ctx, &far, Some("大武口燃气"), 10)
        .await
        .unwrap();
    assert_eq!(found.total, 0);
    assert!(
        departments::search(&w.ctx, &Principal::Citizen { ip: None }, None, 10)
            .await
            .is_err()
    );
}

/// A register's sheet as an office fills it: the template's headers, text cells, and numbers
/// where `numbers` says (row, column, value), as Excel stores what is typed without text format.
fn sheet_xlsx(
    sheet: &str,
    columns: &[wangge_domain::registers::Column],
    rows: &[Vec<String>],
    numbers: &[(u32, u16, f64)],
) -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).unwrap();
    for (c, col) in columns.iter().enumerate() {
        ws.write_string(0, c as u16, col.header).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(r as u32 + 1, c as u16, v).unwrap();
            }
        }
    }
    for (r, c, n) in numbers {
        ws.write_number(*r, *c, *n).unwrap();
    }
    wb.save_to_buffer().unwrap()
}

fn strings(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

/// An ID-card number with a right check digit, from its first 17 digits.
fn id_number(first17: &str) -> String {
    format!(
        "{first17}{}",
        wangge_security::pii::id_check_char(first17).unwrap()
    )
}

/// The county of the demo's first grid, and that grid with a point inside it.
fn first_grid(w: &World) -> (String, String, (f64, f64)) {
    let (grid, point) = w.grid();
    (format!("{}000000", &grid[..6]), grid, point)
}

use wangge_domain::registers::{
    people as people_sheet, teams as teams_sheet, units as units_sheet,
};

async fn every_register_imports_idempotently_and_exports_again(backend: TestBackend) {
    let w = world(backend).await;
    let (county, grid, (lon, lat)) = first_grid(&w);
    let community = grid[..12].to_string();
    let centre = w.person("cc", "command_centre", &county).await;
    let police = w
        .city
        .org
        .departments
        .iter()
        .find(|d| d.region_code == county && d.kind == "public_security")
        .unwrap()
        .code
        .clone();

    // Units: one placed by its point, one by its grid with a phone.
    let units = |name_b: &str| {
        vec![
            strings(&[
                "U-A",
                "长胜小学",
                "学校",
                "",
                "长胜街 1 号",
                &lon.to_string(),
                &lat.to_string(),
                "",
                "王校长",
                "",
                "",
            ]),
            strings(&[
                "U-B",
                name_b,
                "企业",
                "",
                "",
                "",
                "",
                &grid,
                "赵经理",
                "13800001111",
                "",
            ]),
        ]
    };
    let file = sheet_xlsx("单位", units_sheet::COLUMNS, &units("长胜商贸公司"), &[]);
    let kind = RegisterKind::Units;
    let before = w.db.store.unit_register().await.unwrap().len();
    let dry = registry::import(&w.ctx, &centre, kind, &file, true)
        .await
        .unwrap();
    assert_eq!((dry.created, dry.dry_run), (2, true));
    assert_eq!(w.db.store.unit_register().await.unwrap().len(), before);
    let first = registry::import(&w.ctx, &centre, kind, &file, false)
        .await
        .unwrap();
    assert_eq!((first.created, first.updated, first.unchanged), (2, 0, 0));
    let again = registry::import(&w.ctx, &centre, kind, &file, false)
        .await
        .unwrap();
    assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 2));
    let renamed = sheet_xlsx(
        "单位",
        units_sheet::COLUMNS,
        &units("长胜商贸有限公司"),
        &[],
    );
    let changed = registry::import(&w.ctx, &centre, kind, &renamed, false)
        .await
        .unwrap();
    assert_eq!((changed.updated, changed.unchanged), (1, 1));
    let stored = w.db.store.unit_register().await.unwrap();
    let a = stored.iter().find(|u| u.code == "U-A").unwrap();
    assert_eq!(
        a.grid_code.as_deref(),
        Some(grid.as_str()),
        "placed by its point"
    );
    let b = stored.iter().find(|u| u.code == "U-B").unwrap();
    assert_eq!(b.name, "长胜商贸有限公司");
    assert!(
        b.contact_phone_enc
            .as_deref()
            .is_some_and(|e| !e.contains("13800001111"))
    );

    // People: a grid worker, a community officer of the police bureau, a volunteer who leaves.
    let worker_id = id_number("64020219900101123");
    let officer_id = id_number("64020219850312008");
    let volunteer_id = id_number("64020219950505002");
    let people_rows = |volunteer_status: &str| {
        vec![
            strings(&[
                &worker_id,
                "马晓燕",
                "专职网格员",
                &community,
                &grid,
                "",
                "13912345678",
                "2026-03-02",
                "",
            ]),
            strings(&[
                &officer_id,
                "杨建国",
                "社区民警",
                &community,
                "",
                &police,
                "",
                "",
                "",
            ]),
            strings(&[
                &volunteer_id,
                "丁一",
                "志愿者",
                &community,
                "",
                "",
                "",
                "",
                volunteer_status,
            ]),
        ]
    };
    let kind = RegisterKind::People;
    let file = sheet_xlsx("人员", people_sheet::COLUMNS, &people_rows(""), &[]);
    let first = registry::import(&w.ctx, &centre, kind, &file, false)
        .await
        .unwrap();
    assert_eq!((first.created, first.unchanged), (3, 0));
    let again = registry::import(&w.ctx, &centre, kind, &file, false)
        .await
        .unwrap();
    assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 3));
    let people = w.db.store.people_register().await.unwrap();
    let worker = people.iter().find(|p| p.name == "马晓燕").unwrap();
    assert_eq!(worker.kind, "full_time_grid_worker");
    assert_eq!(worker.employment, "full_time");
    assert_eq!(worker.hired_on.as_deref(), Some("2026-03-02"));
    assert_eq!(
        worker.id_number_idx,
        Some(w.ctx.keys.blind_index("id_number", &worker_id))
    );
    assert!(
        !worker
            .id_number_enc
            .as_deref()
            .unwrap()
            .contains(&worker_id)
    );

    // Teams: the worker on the grid's 1+4+X, the volunteer too, the officer on the community's
    // 1+N+X; then the volunteer leaves the team.
    let team_rows = |volunteer_status: &str, worker_role: &str| {
        vec![
            strings(&[
                "网格团队（1+4+X）",
                &grid,
                &worker_id,
                "马晓燕",
                worker_role,
                "",
            ]),
            strings(&[
                "网格团队（1+4+X）",
                &grid,
                &volunteer_id,
                "",
                "志愿者",
                volunteer_status,
            ]),
            strings(&[
                "警务团队（1+N+X）",
                &community,
                &officer_id,
                "杨建国",
                "社区民警",
                "",
            ]),
        ]
    };
    let kind = RegisterKind::Teams;
    let file = sheet_xlsx(
        "网格团队",
        teams_sheet::COLUMNS,
        &team_rows("", "网格员"),
        &[],
    );
    let first = registry::import(&w.ctx, &centre, kind, &file, false)
        .await
        .unwrap();
    assert_eq!(first.created, 3);
    let again = registry::import(&w.ctx, &centre, kind, &file, false)
        .await
        .unwrap();
    assert_eq!(again.unchanged, 3);
    let team = |w: &World| {
        let grid = grid.clone();
        let store = w.db.store.clone();
        async move {
            store
                .grid_team(&wangge_domain::access::Visibility::system(), &grid)
                .await
                .unwrap()
        }
    };
    assert!(team(&w).await.iter().any(|m| m.name == "丁一"));
    let file = sheet_xlsx(
        "网格团队",
        teams_sheet::COLUMNS,
        &team_rows("离职", "网格员"),
        &[],
    );
    let left = registry::import(&w.ctx, &centre, kind, &file, false)
        .await
        .unwrap();
    assert_eq!((left.updated, left.unchanged), (1, 2));
    assert!(!team(&w).await.iter().any(|m| m.name == "丁一"));

    // Centres: the county's police bureau stationed at a 综治中心 and visiting it on Tuesdays
    // and Thursdays is one link, changed; a legal adviser of the demo serves a legal-service
    // station.
    let unit_of = |kind: &str| {
        w.city
            .org
            .units
            .iter()
            .find(|u| u.kind == kind && u.region_code == county)
            .unwrap()
            .code
            .clone()
    };
    let (governance, station) = (
        unit_of("governance_centre"),
        unit_of("legal_service_station"),
    );
    let adviser = w
        .city
        .org
        .people
        .iter()
        .find(|p| p.kind == "legal_adviser" && p.region_code == county)
        .unwrap();
    let adviser_id = w
        .city
        .personal
        .iter()
        .find(|x| x.person == adviser.id)
        .unwrap()
        .id_number
        .clone();
    let centre_rows = |link: &str, days: &str| {
        vec![
            strings(&[&governance, link, &police, "", days, ""]),
            strings(&[&station, "法律顾问", "", &adviser_id, "", ""]),
        ]
    };
    let kind = RegisterKind::Centres;
    let file = sheet_xlsx(
        "中心",
        wangge_domain::registers::centres::COLUMNS,
        &centre_rows("常驻部门", ""),
        &[],
    );
    let first = registry::import(&w.ctx, &centre, kind, &file, false)
        .await
        .unwrap();
    assert_eq!(first.created, 2, "{first:?}");
    let again = registry::import(&w.ctx, &centre, kind, &file, false)
        .await
        .unwrap();
    assert_eq!(again.unchanged, 2);
    let file = sheet_xlsx(
        "中心",
        wangge_domain::registers::centres::COLUMNS,
        &centre_rows("巡诊部门", "周二、周四"),
        &[],
    );
    let visiting = registry::import(&w.ctx, &centre, kind, &file, false)
        .await
        .unwrap();
    assert_eq!((visiting.updated, visiting.unchanged), (1, 1));
    let listed = registry::centres::search(&w.ctx, &centre, None, 10)
        .await
        .unwrap();
    assert!(
        listed
            .links
            .iter()
            .any(|l| l.link == "巡诊部门" && l.days == "周二、周四"),
        "{listed:?}"
    );
    assert!(listed.links.iter().any(|l| l.member == adviser.name));

    // A leaver stays on record, inactive, and out of the grid's team.
    let file = sheet_xlsx("人员", people_sheet::COLUMNS, &people_rows("离职"), &[]);
    let gone = registry::import(&w.ctx, &centre, RegisterKind::People, &file, false)
        .await
        .unwrap();
    assert_eq!((gone.updated, gone.unchanged), (1, 2));
    let people = w.db.store.people_register().await.unwrap();
    assert!(!people.iter().find(|p| p.name == "丁一").unwrap().active);

    // Each export imports again with nothing to change, the demo's records included; the
    // command centre may see identifiers, so the export carries them in clear.
    for kind in [
        RegisterKind::Units,
        RegisterKind::People,
        RegisterKind::Teams,
    ] {
        let out = registry::export(&w.ctx, &centre, kind).await.unwrap();
        let back = registry::import(&w.ctx, &centre, kind, &out.bytes, true)
            .await
            .unwrap_or_else(|e| panic!("{kind:?} export does not import again: {e:?}"));
        assert!(back.rows >= 2, "{kind:?}: {back:?}");
        assert_eq!((back.created, back.updated), (0, 0), "{kind:?}: {back:?}");
    }
    // The search finds people by name and shows their numbers masked.
    let found = registry::people::search(&w.ctx, &centre, Some("马晓燕"), 10)
        .await
        .unwrap();
    assert_eq!(found.total, 1);
    let shown = found.people[0].id_number.clone().unwrap();
    assert_eq!(shown, wangge_security::pii::mask_id_number(&worker_id));
    let units = registry::units::search(&w.ctx, &centre, Some("长胜小学"), 10)
        .await
        .unwrap();
    assert_eq!(units.units[0].place.code, grid);
    assert_ne!(units.units[0].place.name, grid, "the grid is named");

    // A community's staff exports people with identifiers masked: they may not see them.
    let staff = w.person("sq", "community_staff", &community).await;
    let out = registry::export(&w.ctx, &staff, RegisterKind::People)
        .await
        .unwrap();
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(out.bytes)).unwrap();
    let range = wb.worksheet_range("人员").unwrap();
    let ids: Vec<String> = range.rows().skip(1).map(|r| r[0].to_string()).collect();
    assert!(
        ids.contains(&wangge_security::pii::mask_id_number(&worker_id)),
        "{ids:?}"
    );
    assert!(!ids.contains(&worker_id));
}

async fn bad_unit_people_and_team_files_are_refused_whole(backend: TestBackend) {
    let w = world(backend).await;
    let (county, grid, _) = first_grid(&w);
    let community = grid[..12].to_string();
    let street = w
        .person("sd", "street_dispatcher", &format!("{}000", &grid[..9]))
        .await;
    let units_before = w.db.store.unit_register().await.unwrap().len();
    let people_before = w.db.store.people_register().await.unwrap().len();

    // A unit outside every grid, a good one beside it: nothing is imported.
    let rows = vec![
        strings(&["U-1", "甲", "学校", "", "", "100.0", "30.0", "", "", "", ""]),
        strings(&["U-2", "乙", "学校", "", "", "", "", &grid, "", "", ""]),
        strings(&["U-2", "丙", "学校", "", "", "", "", &grid, "", "", ""]),
    ];
    let e = registry::import(
        &w.ctx,
        &street,
        RegisterKind::Units,
        &sheet_xlsx("单位", units_sheet::COLUMNS, &rows, &[]),
        false,
    )
    .await
    .unwrap_err();
    let all = problems(&e).join("\n");
    assert!(
        all.contains("不在任何网格内") && all.contains("编码 U-2 与第3行重复"),
        "{all}"
    );
    assert_eq!(
        w.db.store.unit_register().await.unwrap().len(),
        units_before
    );

    // An ID number typed as a number (its digits already lost), one with a bad check digit, and
    // a person whom another county keeps: each listed, masked, nothing imported.
    let good = id_number("64020219900101123");
    let mut bad_check = good.clone();
    bad_check.replace_range(17..18, if good.ends_with('0') { "1" } else { "0" });
    let other = w
        .city
        .org
        .people
        .iter()
        .find(|p| !p.home_code.starts_with(&county[..6]))
        .unwrap();
    let others_id = w
        .city
        .personal
        .iter()
        .find(|x| x.person == other.id)
        .unwrap()
        .id_number
        .clone();
    let rows = vec![
        strings(&["", "甲", "工作人员", &community, "", "", "", "", ""]),
        strings(&[&bad_check, "乙", "工作人员", &community, "", "", "", "", ""]),
        strings(&[&others_id, "丙", "工作人员", &community, "", "", "", "", ""]),
        strings(&[&good, "丁", "专职网格员", &community, "", "", "", "", ""]),
    ];
    let file = sheet_xlsx(
        "人员",
        people_sheet::COLUMNS,
        &rows,
        &[(1, 0, 640202199001011232.0)],
    );
    let e = registry::import(&w.ctx, &street, RegisterKind::People, &file, false)
        .await
        .unwrap_err();
    let all = problems(&e).join("\n");
    assert!(
        all.contains("第2行") && all.contains("单元格是数字"),
        "{all}"
    );
    assert!(
        all.contains("第3行") && all.contains("校验码不正确"),
        "{all}"
    );
    assert!(all.contains("专职网格员须填写所属网格"), "{all}");
    for id in [&good, &bad_check] {
        assert!(!all.contains(id.as_str()), "an ID number in clear: {all}");
    }
    // The foreign person is refused on its own once the rest is good, without a name.
    let rows = vec![strings(&[
        &others_id,
        "丙",
        "工作人员",
        &community,
        "",
        "",
        "",
        "",
        "",
    ])];
    let e = registry::import(
        &w.ctx,
        &street,
        RegisterKind::People,
        &sheet_xlsx("人员", people_sheet::COLUMNS, &rows, &[]),
        false,
    )
    .await
    .unwrap_err();
    let all = problems(&e).join("\n");
    assert!(
        all.contains("属于辖区外") && !all.contains(&other.name) && !all.contains(&others_id),
        "{all}"
    );
    assert_eq!(
        w.db.store.people_register().await.unwrap().len(),
        people_before
    );

    // A team member not in the people register; a branch of the wrong team at a grid.
    let rows = vec![
        strings(&["网格团队（1+4+X）", &grid, &good, "", "网格员", ""]),
        strings(&["警务团队（1+N+X）", &grid, &others_id, "", "社区民警", ""]),
    ];
    let e = registry::import(
        &w.ctx,
        &street,
        RegisterKind::Teams,
        &sheet_xlsx("网格团队", teams_sheet::COLUMNS, &rows, &[]),
        false,
    )
    .await
    .unwrap_err();
    let all = problems(&e).join("\n");
    assert!(
        all.contains("不在人员台账中") && all.contains("不是社区（村）"),
        "{all}"
    );
    // A branch under one of the demo's grid branches: a 支部 never contains a 支部.
    let branch = w
        .city
        .org
        .party_orgs
        .iter()
        .find(|o| o.level == "grid_branch" && o.node_code == grid)
        .unwrap()
        .code
        .clone();
    let rows = vec![strings(&[
        "P-NEW",
        "新党支部",
        "网格党支部",
        &branch,
        &grid,
        "",
        "",
    ])];
    let e = registry::import(
        &w.ctx,
        &street,
        RegisterKind::PartyOrgs,
        &sheet_xlsx(
            "党组织",
            wangge_domain::registers::party::COLUMNS,
            &rows,
            &[],
        ),
        false,
    )
    .await
    .unwrap_err();
    let all = problems(&e).join("\n");
    assert!(all.contains("支部之下不能再设支部"), "{all}");
    // Missing and extra columns are listed before any row.
    let e = registry::import(
        &w.ctx,
        &street,
        RegisterKind::Teams,
        "团队类型,备注\r\n网格团队,x\r\n".as_bytes(),
        false,
    )
    .await
    .unwrap_err();
    let all = problems(&e).join("\n");
    assert!(
        all.contains("「备注」：不是本台账的列") && all.contains("「身份证号」：缺少必填列"),
        "{all}"
    );
}

wangge_store::both_backends!(
    every_register_imports_idempotently_and_exports_again,
    bad_unit_people_and_team_files_are_refused_whole,
    import_is_all_or_nothing_and_idempotent_by_code,
    export_imports_again_unchanged,
    rows_outside_the_area_and_wrong_files_are_refused,
    csv_in_gb18030_imports_and_codes_name_departments,
);

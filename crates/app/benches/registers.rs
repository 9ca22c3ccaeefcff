//! Issue #13's floor: import 100,000 people and 50,000 units from `.xlsx` with every check
//! (< 30 s, peak RSS < 1 GiB) and export them again (< 15 s), beside a baseline of the same rows
//! inserted straight into the store in the same run. SQLite in a temporary directory, the demo
//! city's 2,001 grids. Each phase runs in a child process of its own, so that the peak RSS it
//! reports (VmHWM) is that phase's alone.
//!
//! `cargo bench -p wangge-app --bench registers` (people and units scale with `--people N`).

use rust_xlsxwriter::Workbook;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use wangge_app::{Context, Principal, registry};
use wangge_domain::import::Plan;
use wangge_domain::registers::{RegisterKind, people, units};
use wangge_security::crypto::KeyRing;
use wangge_store::{NewPerson, NewUnit, OrgBatch, Store};

/// The rows, generated the same way in every phase from the demo city.
struct Rows {
    /// (ID number, name, home community, grid, phone)
    people: Vec<(String, String, String, String, String)>,
    /// (code, name, lon, lat)
    units: Vec<(String, String, f64, f64)>,
}

fn rows(city: &wangge_demo::DemoCity, n_people: usize, n_units: usize) -> Rows {
    let atlas = wangge_domain::atlas::Atlas::build(city.regions.clone(), city.grids.clone());
    let grids: Vec<&wangge_domain::Grid> = city.grids.iter().collect();
    let mut people = Vec::with_capacity(n_people);
    for i in 0..n_people {
        let g = grids[i % grids.len()];
        // Born on a day that, with the sequence number, makes every number distinct.
        let first17 = format!(
            "{}19{:02}{:02}{:02}{:03}",
            &g.code.as_str()[..6],
            60 + i / 336_000,
            1 + (i / 28_000) % 12,
            1 + (i / 1000) % 28,
            i % 1000
        );
        let id = format!(
            "{first17}{}",
            wangge_security::pii::id_check_char(&first17).unwrap()
        );
        people.push((
            id,
            format!("人员{i}"),
            g.code.community().as_str().to_string(),
            g.code.as_str().to_string(),
            format!("139{:08}", i),
        ));
    }
    let mut units = Vec::with_capacity(n_units);
    let mut k = 0usize;
    while units.len() < n_units {
        let g = grids[k % grids.len()];
        let b = geo::BoundingRect::bounding_rect(&g.shape).unwrap();
        // A point of the grid's box, kept only if it lies in the grid (as a city's would).
        let f = ((k / grids.len()) % 9) as f64 / 10.0 + 0.05;
        let (x, y) = (
            b.min().x + (b.max().x - b.min().x) * f,
            b.min().y + (b.max().y - b.min().y) * (1.0 - f),
        );
        k += 1;
        if atlas.grid_code_at(x, y).is_some() {
            units.push((
                format!("U{:06}", units.len()),
                format!("单位{}", units.len()),
                x,
                y,
            ));
        }
    }
    Rows { people, units }
}

fn write_xlsx(path: &Path, sheet: &str, headers: &[&str], rows: impl Iterator<Item = Vec<String>>) {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet_with_constant_memory().unwrap();
    ws.set_name(sheet).unwrap();
    for (c, h) in headers.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(r as u32 + 1, c as u16, v).unwrap();
            }
        }
    }
    wb.save(path).unwrap();
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

async fn city_store(dir: &Path, city: &wangge_demo::DemoCity) -> Store {
    let store = Store::open_sqlite_file(&dir.join("wangge.db"))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store
        .apply_plan(&Plan {
            regions: city.regions.clone(),
            grids: city.grids.clone(),
        })
        .await
        .unwrap();
    store
}

async fn phase(name: &str, dir: PathBuf, n_people: usize, n_units: usize) {
    let city = wangge_demo::generate(2026);
    let keys = KeyRing::parse(&KeyRing::generate_file()).unwrap();
    let data = rows(&city, n_people, n_units);
    match name {
        "write" => {
            let h: Vec<&str> = people::COLUMNS.iter().map(|c| c.header).collect();
            write_xlsx(
                &dir.join("people.xlsx"),
                "人员",
                &h,
                data.people.iter().map(|(id, name, home, grid, phone)| {
                    vec![
                        id.clone(),
                        name.clone(),
                        "专职网格员".into(),
                        home.clone(),
                        grid.clone(),
                        String::new(),
                        phone.clone(),
                        "2026-03-02".into(),
                        String::new(),
                    ]
                }),
            );
            let h: Vec<&str> = units::COLUMNS.iter().map(|c| c.header).collect();
            write_xlsx(
                &dir.join("units.xlsx"),
                "单位",
                &h,
                data.units.iter().map(|(code, name, x, y)| {
                    vec![
                        code.clone(),
                        name.clone(),
                        "企业".into(),
                        String::new(),
                        String::new(),
                        x.to_string(),
                        y.to_string(),
                        String::new(),
                        String::new(),
                        String::new(),
                        String::new(),
                    ]
                }),
            );
        }
        "baseline" => {
            let store = city_store(&dir, &city).await;
            let atlas =
                wangge_domain::atlas::Atlas::build(city.regions.clone(), city.grids.clone());
            let t = Instant::now();
            // The same rows as the import writes them, identifiers sealed, straight into the store.
            let batch = OrgBatch {
                people: data
                    .people
                    .iter()
                    .map(|(id, name, home, grid, phone)| NewPerson {
                        region_code: format!("{}000000", &home[..6]),
                        id: uuid::Uuid::now_v7(),
                        name: name.clone(),
                        employment: "full_time".into(),
                        home_code: home.clone(),
                        id_number_enc: Some(keys.encrypt(id)),
                        id_number_idx: Some(keys.blind_index("id_number", id)),
                        phone_enc: Some(keys.encrypt(phone)),
                        phone_idx: Some(keys.blind_index("phone", phone)),
                        kind: "full_time_grid_worker".into(),
                        grid_code: Some(grid.clone()),
                        department_id: None,
                        hired_on: Some("2026-03-02".into()),
                        active: true,
                    })
                    .collect(),
                units: data
                    .units
                    .iter()
                    .map(|(code, name, x, y)| {
                        let grid = atlas.grid_code_at(*x, *y).unwrap().as_str().to_string();
                        NewUnit {
                            region_code: format!("{}000000", &grid[..6]),
                            id: uuid::Uuid::now_v7(),
                            code: code.clone(),
                            kind: "enterprise".into(),
                            domain: "enterprise".into(),
                            name: name.clone(),
                            township_code: Some(format!("{}000", &grid[..9])),
                            grid_code: Some(grid),
                            lon: Some(*x),
                            lat: Some(*y),
                            address: None,
                            contact_name: None,
                            contact_phone_enc: None,
                            contact_phone_idx: None,
                            active: true,
                        }
                    })
                    .collect(),
                ..Default::default()
            };
            store.insert_org_batch(&batch).await.unwrap();
            println!(
                "baseline: {} people + {} units inserted straight: {:.2} s, peak RSS {:.0} MiB",
                n_people,
                n_units,
                t.elapsed().as_secs_f64(),
                peak_rss_mib()
            );
        }
        "import" => {
            let store = city_store(&dir, &city).await;
            let ctx = Context::new(store, Default::default(), keys).await.unwrap();
            let who = Principal::Operator;
            let people_file = std::fs::read(dir.join("people.xlsx")).unwrap();
            let units_file = std::fs::read(dir.join("units.xlsx")).unwrap();
            let t = Instant::now();
            let p = registry::import(&ctx, &who, RegisterKind::People, &people_file, false)
                .await
                .unwrap();
            let tp = t.elapsed().as_secs_f64();
            let u = registry::import(&ctx, &who, RegisterKind::Units, &units_file, false)
                .await
                .unwrap();
            let total = t.elapsed().as_secs_f64();
            assert_eq!((p.created, u.created), (n_people, n_units));
            println!(
                "import:   {} people ({tp:.2} s) + {} units ({:.2} s) from .xlsx with every check: {total:.2} s, peak RSS {:.0} MiB",
                p.created,
                u.created,
                total - tp,
                peak_rss_mib()
            );
            let t = Instant::now();
            let pe = registry::export(&ctx, &who, RegisterKind::People)
                .await
                .unwrap();
            let te = t.elapsed().as_secs_f64();
            let ue = registry::export(&ctx, &who, RegisterKind::Units)
                .await
                .unwrap();
            println!(
                "export:   people ({te:.2} s, {:.1} MB) + units ({:.2} s, {:.1} MB): {:.2} s, peak RSS {:.0} MiB (the import's process)",
                pe.bytes.len() as f64 / 1e6,
                t.elapsed().as_secs_f64() - te,
                ue.bytes.len() as f64 / 1e6,
                t.elapsed().as_secs_f64(),
                peak_rss_mib()
            );
        }
        other => panic!("unknown phase {other}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str, default: usize| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (n_people, n_units) = (value("--people", 100_000), value("--units", 50_000));
    if let Some(i) = args.iter().position(|a| a == "--phase") {
        let dir = PathBuf::from(&args[i + 2]);
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(phase(&args[i + 1], dir, n_people, n_units));
        return;
    }
    let root = std::env::temp_dir().join(format!("wangge-bench-registers-{}", std::process::id()));
    for p in ["write", "baseline", "import"] {
        let dir = root.join(if p == "baseline" {
            "baseline"
        } else {
            "import"
        });
        std::fs::create_dir_all(&dir).unwrap();
        let status = Command::new(std::env::current_exe().unwrap())
            .args(["--phase", p, dir.to_str().unwrap()])
            .args([
                "--people",
                &n_people.to_string(),
                "--units",
                &n_units.to_string(),
            ])
            .env("WANGGE_LOG", "warn")
            .status()
            .unwrap();
        assert!(status.success(), "phase {p}");
    }
    let _ = std::fs::remove_dir_all(&root);
}

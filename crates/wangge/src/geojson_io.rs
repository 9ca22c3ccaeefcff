//! `wangge import`, `export` and `locate`: GeoJSON in and out, and point lookups from the shell.
//!
//! An import reads the file once, keeps each feature as a borrowed slice of the text and parses
//! one feature at a time, so memory stays near the file's size even for 200,000 grids. Nothing is
//! written unless every feature passes; then everything is written in one transaction.

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use wangge_domain::access::Visibility;
use wangge_domain::crs::Crs;
use wangge_domain::import::{
    ImportOptions, Item, Plan, Problem, Stage, check_collection, read_feature,
};
use wangge_domain::{Level, RegionCode};
use wangge_store::Store;

#[derive(Deserialize)]
struct RawCollection<'a> {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(borrow)]
    features: Option<Vec<&'a RawValue>>,
}

fn bar(total: usize, what: &str) -> ProgressBar {
    let pb =
        ProgressBar::with_draw_target(Some(total as u64), indicatif::ProgressDrawTarget::stderr());
    pb.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}

fn print_problems(problems: &[Problem]) {
    let mut err = std::io::stderr().lock();
    for p in problems {
        let _ = writeln!(
            err,
            "  第 {} 个要素{}：{}",
            p.index,
            p.code
                .as_ref()
                .map(|c| format!("（{c}）"))
                .unwrap_or_default(),
            p.reason
        );
    }
}

pub async fn import(store: &Store, file: &Path, tolerance_m2: f64) -> Result<ExitCode> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("无法读取文件 {}", file.display()))?;
    let read = read_features(file, &text)?;
    drop(text);
    eprintln!("已读取 {} 个要素，正在校验…", read.total);
    let plan = check(
        store,
        read.items,
        read.problems,
        ImportOptions { tolerance_m2 },
    )
    .await?;
    match plan {
        Err(problems) => {
            eprintln!(
                "导入被拒绝：{} 中共有 {} 个问题，未写入任何数据。",
                file.display(),
                problems.len()
            );
            print_problems(&problems);
            Ok(ExitCode::FAILURE)
        }
        Ok(plan) => {
            write_plan(store, file, &plan).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The features of a collection as they read, each numbered by its position in the file.
struct ReadFeatures {
    total: usize,
    items: Vec<(usize, Item)>,
    /// What is wrong with the features that did not read.
    problems: Vec<Problem>,
}

/// Parses the collection's features one at a time.
fn read_features(file: &Path, text: &str) -> Result<ReadFeatures> {
    let collection: RawCollection = serde_json::from_str(text).map_err(|e| {
        anyhow::anyhow!(
            "{} 不是有效的 JSON：第 {} 行第 {} 列：{}。未写入任何数据。",
            file.display(),
            e.line(),
            e.column(),
            e
        )
    })?;
    let features = match (collection.kind.as_deref(), collection.features) {
        (Some("FeatureCollection"), Some(f)) => f,
        _ => anyhow::bail!(
            "{} 不是 GeoJSON FeatureCollection（需要 \"type\": \"FeatureCollection\" 和 features 数组）。未写入任何数据。",
            file.display()
        ),
    };
    let total = features.len();
    let reading = bar(total, "读取要素");
    let mut items = Vec::with_capacity(total);
    let mut problems = Vec::new();
    for (i, raw) in features.into_iter().enumerate() {
        match serde_json::from_str::<Value>(raw.get()) {
            Ok(v) => match read_feature(i, &v) {
                Ok(item) => items.push((i, item)),
                Err(ps) => problems.extend(ps),
            },
            Err(e) => problems.push(Problem {
                index: i,
                code: None,
                reason: format!("要素不是有效的 JSON：{e}"),
            }),
        }
        if i % 1024 == 0 {
            reading.set_position(i as u64);
        }
    }
    reading.finish_and_clear();
    Ok(ReadFeatures {
        total,
        items,
        problems,
    })
}

/// Checks the features against each other and what is stored, off the async threads: the overlap
/// check is the slow part, so it alone shows a progress bar.
async fn check(
    store: &Store,
    items: Vec<(usize, Item)>,
    problems: Vec<Problem>,
    options: ImportOptions,
) -> Result<Result<Plan, Vec<Problem>>> {
    let existing_regions = store.regions().await?;
    let existing_grids = store.grids().await?;
    let plan = tokio::task::spawn_blocking(move || {
        let mut overlaps: Option<ProgressBar> = None;
        let result = check_collection(
            items,
            problems,
            &existing_regions,
            &existing_grids,
            options,
            &mut |stage, done, total| {
                if stage == Stage::Overlaps {
                    overlaps
                        .get_or_insert_with(|| bar(total, "检查重叠"))
                        .set_position(done as u64);
                }
            },
        );
        if let Some(pb) = overlaps {
            pb.finish_and_clear();
        }
        result
    })
    .await?;
    Ok(plan)
}

async fn write_plan(store: &Store, file: &Path, plan: &Plan) -> Result<()> {
    store.apply_plan(plan).await?;
    store
        .append_audit(
            &crate::accounts::cli_audit(
                "data.import",
                "regions",
                None,
                json!({"file": file.display().to_string(), "regions": plan.regions.len(), "grids": plan.grids.len()}),
            ),
            chrono::Utc::now(),
        )
        .await?;
    println!(
        "导入完成：{} 个区划，{} 个网格。",
        plan.regions.len(),
        plan.grids.len()
    );
    Ok(())
}

pub async fn export(store: &Store, file: &Path, within: Option<&str>) -> Result<()> {
    // The operator's command on the server sees everything; the export itself is audited.
    let vis = Visibility::system();
    let root = match within {
        Some(code) => {
            let code = RegionCode::parse(code).map_err(|e| anyhow::anyhow!("--within：{e}"))?;
            anyhow::ensure!(
                store.region(code.as_str()).await?.is_some(),
                "区划 {code} 不存在"
            );
            Some(code)
        }
        None => None,
    };
    let regions = match &root {
        Some(code) => store.regions_within(&vis, code).await?,
        None => {
            let mut all = Vec::new();
            for top in store.regions_top(&vis).await? {
                let code = RegionCode::parse(&top.code)?;
                all.extend(store.regions_within(&vis, &code).await?);
            }
            all
        }
    };
    let mut features = Vec::new();
    for r in &regions {
        let geometry: Value = match &r.geometry {
            Some(g) => serde_json::from_str(g)?,
            None => Value::Null,
        };
        features.push(json!({"type": "Feature", "properties": {
            "code": r.code, "name": r.name, "level": r.level, "kind": r.kind, "parent_code": r.parent_code,
        }, "geometry": geometry}));
    }
    for r in regions
        .iter()
        .filter(|r| r.parent_code.is_none() || root.as_ref().is_some_and(|c| c.as_str() == r.code))
    {
        let code = RegionCode::parse(&r.code)?;
        for g in store.grid_features_within(&vis, &code).await? {
            features.push(json!({"type": "Feature", "properties": {
                "code": g.code, "name": g.name, "level": Level::Grid, "parent_code": g.community_code,
                "grid_type": g.grid_type, "dedicated_kind": g.dedicated_kind,
            }, "geometry": g.geometry}));
        }
    }
    let n = features.len();
    store
        .append_audit(
            &crate::accounts::cli_audit(
                "data.export",
                "regions",
                within.map(str::to_string),
                json!({"features": n, "file": file.display().to_string()}),
            ),
            chrono::Utc::now(),
        )
        .await?;
    let doc = json!({"type": "FeatureCollection", "features": features});
    write_collection(file, &doc, n)
}

/// A file is written beside its target and renamed into place, so a failed export never leaves
/// half a collection under the name asked for.
fn write_collection(file: &Path, doc: &Value, n: usize) -> Result<()> {
    if file.as_os_str() == "-" {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer(&mut out, doc)?;
        writeln!(out)?;
    } else {
        let tmp = file.with_extension("geojson.part");
        {
            let mut w = std::io::BufWriter::new(
                std::fs::File::create(&tmp)
                    .with_context(|| format!("无法写入文件 {}", tmp.display()))?,
            );
            serde_json::to_writer(&mut w, doc)?;
            w.flush()?;
        }
        std::fs::rename(&tmp, file).with_context(|| format!("无法写入文件 {}", file.display()))?;
        eprintln!("已导出 {n} 个要素到 {}", file.display());
    }
    Ok(())
}

fn coordinate(raw: &str, name: &str, lo: f64, hi: f64) -> Result<f64> {
    let v: f64 = raw
        .trim()
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .ok_or_else(|| anyhow::anyhow!("{name} 不是有效数字：\"{raw}\""))?;
    anyhow::ensure!((lo..=hi).contains(&v), "{name} 超出范围 {lo}…{hi}：{v}");
    Ok(v)
}

pub async fn locate(store: &Store, lon: &str, lat: &str, crs: &str) -> Result<ExitCode> {
    let lon = coordinate(lon, "经度", -180.0, 180.0)?;
    let lat = coordinate(lat, "纬度", -90.0, 90.0)?;
    let crs: Crs = crs.parse().map_err(|m: String| anyhow::anyhow!(m))?;
    let (lon, lat) = crs.to_wgs84(lon, lat);
    let atlas = wangge_domain::atlas::Atlas::build(store.regions().await?, store.grids().await?);
    match atlas.locate(lon, lat) {
        Some(loc) => {
            println!("{}", serde_json::to_string_pretty(&loc)?);
            Ok(ExitCode::SUCCESS)
        }
        None => {
            let nearest = atlas.nearest(lon, lat);
            let body = json!({"error": {"code": "locate.outside", "message": "该点不在任何网格内", "details": {"lon": lon, "lat": lat, "nearest": nearest}}});
            println!("{}", serde_json::to_string_pretty(&body)?);
            match &nearest {
                Some(n) => eprintln!(
                    "该点不在任何网格内；最近的网格是 {}（{}），相距约 {:.0} 米。",
                    n.grid.name, n.grid.code, n.distance_m
                ),
                None => eprintln!("该点不在任何网格内，且还没有任何网格。"),
            }
            Ok(ExitCode::from(3))
        }
    }
}

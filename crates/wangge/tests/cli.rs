//! The binary as an operator runs it: real processes, real files, real HTTP.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use wangge_store::testing::{TestBackend, TestDb, scratch_dir};

const BIN: &str = env!("CARGO_BIN_EXE_wangge");

fn wangge(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("WANGGE_DATABASE_URL")
        .env_remove("WANGGE_DATA_DIR")
        .env_remove("WANGGE_CONFIG")
        .env("WANGGE_LOG", "warn")
        .output()
        .expect("run wangge")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn dir_arg(d: &Path) -> String {
    d.display().to_string()
}

#[test]
fn help_explains_each_subcommand() {
    let out = wangge(&["--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    for cmd in ["serve", "demo", "import", "export", "locate", "db"] {
        assert!(help.contains(cmd), "--help lacks {cmd}:\n{help}");
    }
    assert!(help.contains("--data-dir") && help.contains("--database-url"));
    let db = text(&wangge(&["db", "--help"]).stdout);
    assert!(db.contains("migrate"), "{db}");
    let import = text(&wangge(&["import", "--help"]).stdout);
    assert!(import.contains("parent_code"), "{import}");
}

#[test]
fn demo_export_import_and_locate_round_trip() {
    let root = scratch_dir("cli-demo");
    let a = root.join("a");
    let a_arg = dir_arg(&a);
    let out = wangge(&["demo", "--no-serve", "--data-dir", &a_arg]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("2001 个网格"),
        "{}",
        text(&out.stderr)
    );
    // The second run reuses the data; flags may come before the subcommand.
    let out = wangge(&["--data-dir", &a_arg, "demo", "--no-serve"]);
    assert!(out.status.success());
    assert!(
        text(&out.stderr).contains("直接使用"),
        "{}",
        text(&out.stderr)
    );

    let file = root.join("city.geojson");
    let out = wangge(&["export", &dir_arg(&file), "--data-dir", &a_arg]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let features = doc["features"].as_array().unwrap();
    let grids = features
        .iter()
        .filter(|f| f["properties"]["level"] == "grid")
        .count();
    assert_eq!(grids, 2001);
    assert_eq!(features.len(), 2001 + 1 + 3 + 36 + 122 + 195);

    // The export imports into an empty city and gives the same answers.
    let b = root.join("b");
    let b_arg = dir_arg(&b);
    let out = wangge(&["import", &dir_arg(&file), "--data-dir", &b_arg]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("2001 个网格"),
        "{}",
        text(&out.stdout)
    );
    let first_grid = features
        .iter()
        .find(|f| f["properties"]["level"] == "grid")
        .unwrap();
    let ring = &first_grid["geometry"]["coordinates"][0];
    let (lon, lat) = (
        (ring[0][0].as_f64().unwrap() + ring[2][0].as_f64().unwrap()) / 2.0,
        (ring[0][1].as_f64().unwrap() + ring[2][1].as_f64().unwrap()) / 2.0,
    );
    for dir in [&a_arg, &b_arg] {
        let out = wangge(&[
            "locate",
            &lon.to_string(),
            &lat.to_string(),
            "--data-dir",
            dir,
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let loc: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(loc["grid"]["code"], first_grid["properties"]["code"]);
        assert_eq!(loc["path"].as_array().unwrap().len(), 4);
    }
    // Outside the city: exit 3 with the nearest grid; bad numbers: exit 1 with the reason.
    let out = wangge(&["locate", "107.5", "39.0", "--data-dir", &a_arg]);
    assert_eq!(out.status.code(), Some(3));
    let body: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        body["error"]["details"]["nearest"]["distance_m"]
            .as_f64()
            .unwrap()
            > 50_000.0
    );
    for (lon, lat, needle) in [
        ("abc", "39", "经度"),
        ("106.4", "95", "纬度"),
        ("NaN", "39", "经度"),
    ] {
        let out = wangge(&["locate", lon, lat, "--data-dir", &a_arg]);
        assert_eq!(out.status.code(), Some(1), "{lon} {lat}");
        assert!(text(&out.stderr).contains(needle), "{}", text(&out.stderr));
    }
    let out = wangge(&[
        "locate",
        "106.4",
        "39",
        "--crs",
        "bd09",
        "--data-dir",
        &a_arg,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let _ = std::fs::remove_dir_all(&root);
}

fn exported_count(dir: &str) -> usize {
    let out = wangge(&["export", "-", "--data-dir", dir]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["features"].as_array().unwrap().len()
}

#[test]
fn bad_imports_are_refused_whole_and_write_nothing() {
    let root = scratch_dir("cli-import");
    let d = dir_arg(&root.join("data"));
    let write = |name: &str, body: &str| -> PathBuf {
        let p = root.join(name);
        std::fs::write(&p, body).unwrap();
        p
    };
    let good_head = r#"{"type":"Feature","properties":{"code":"640200000000","name":"石嘴山市","level":"city"},"geometry":null},
        {"type":"Feature","properties":{"code":"640202000000","name":"大武口区","level":"county","parent_code":"640200000000"},"geometry":null},
        {"type":"Feature","properties":{"code":"640202001000","name":"长胜街道","level":"township","parent_code":"640202000000"},"geometry":null},
        {"type":"Feature","properties":{"code":"640202001001","name":"长胜社区","level":"community","parent_code":"640202001000"},
         "geometry":{"type":"Polygon","coordinates":[[[106.0,39.0],[106.02,39.0],[106.02,39.01],[106.0,39.01],[106.0,39.0]]]}}"#;
    let cases: Vec<(PathBuf, Vec<&str>)> = vec![
        (
            write(
                "broken.geojson",
                "{\"type\": \"FeatureCollection\", \"features\": [\n  {oops",
            ),
            vec!["不是有效的 JSON", "第 2 行"],
        ),
        (
            write(
                "point.geojson",
                r#"{"type": "Point", "coordinates": [1, 2]}"#,
            ),
            vec!["FeatureCollection"],
        ),
        (
            write(
                "bad-features.geojson",
                &format!(
                    r#"{{"type":"FeatureCollection","features":[{good_head},
                    {{"type":"Feature","properties":{{"code":"640202001001001","name":"一","level":"grid","parent_code":"640202001001"}},
                      "geometry":{{"type":"Polygon","coordinates":[[[106.0,39.0],[106.01,39.01],[106.01,39.0],[106.0,39.01],[106.0,39.0]]]}}}},
                    {{"type":"Feature","properties":{{"code":"640202001009001","name":"二","level":"grid","parent_code":"640202001009"}},
                      "geometry":{{"type":"Polygon","coordinates":[[[106.0,39.0],[106.001,39.0],[106.001,39.001],[106.0,39.0]]]}}}},
                    {{"type":"Feature","properties":{{"code":"640202001001003","name":"三","level":"grid","parent_code":"640202001001"}},
                      "geometry":{{"type":"Polygon","coordinates":[[[106.0,39.0],[106.001,39.0],[106.001,39.001]]]}}}}
                    ]}}"#
                ),
            ),
            vec![
                "共有 3 个问题",
                "第 4 个要素（640202001001001）",
                "自相交",
                "第 5 个要素（640202001009001）",
                "不存在",
                "第 6 个要素（640202001001003）",
                "少于4",
            ],
        ),
    ];
    for (file, needles) in cases {
        let out = wangge(&["import", &dir_arg(&file), "--data-dir", &d]);
        assert_eq!(out.status.code(), Some(1), "{}", file.display());
        let err = text(&out.stderr);
        for n in needles {
            assert!(
                err.contains(n),
                "{}: expected \"{n}\" in:\n{err}",
                file.display()
            );
        }
        assert_eq!(exported_count(&d), 0, "a refused import writes nothing");
    }
    let out = wangge(&[
        "import",
        &dir_arg(&root.join("missing.geojson")),
        "--data-dir",
        &d,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("无法读取文件"));
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn unusable_data_dir_or_database_is_a_clear_error() {
    let root = scratch_dir("cli-bad");
    let file = root.join("a-file");
    std::fs::write(&file, "keep me").unwrap();
    let out = wangge(&[
        "demo",
        "--no-serve",
        "--data-dir",
        &dir_arg(&file.join("data")),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("无法创建数据目录"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");

    let out = wangge(&[
        "demo",
        "--no-serve",
        "--database-url",
        "postgres://postgres:secret@127.0.0.1:1/nowhere",
        "--data-dir",
        &dir_arg(&root),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("无法连接数据库") && !err.contains("secret"),
        "{err}"
    );
    assert!(!root.join("wangge.db").exists(), "nothing half-written");

    let out = wangge(&[
        "demo",
        "--no-serve",
        "--today",
        "2026-13-01",
        "--data-dir",
        &dir_arg(&root.join("d")),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("--today"));
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn configuration_comes_from_file_env_and_flags() {
    let root = scratch_dir("cli-config");
    let data = root.join("from-file");
    let cfg = root.join("wangge.toml");
    std::fs::write(
        &cfg,
        format!("data_dir = {:?}\n", data.display().to_string()),
    )
    .unwrap();
    let out = wangge(&["demo", "--no-serve", "--config", &dir_arg(&cfg)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(data.join("wangge.db").exists());
    // The environment is read too, and a flag wins over it.
    let out = Command::new(BIN)
        .args(["locate", "106.4", "39.0"])
        .env("WANGGE_DATA_DIR", &data)
        .env_remove("WANGGE_DATABASE_URL")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let bad = root.join("bad.toml");
    std::fs::write(&bad, "data_dir = [\n").unwrap();
    let out = wangge(&["db", "migrate", "--config", &dir_arg(&bad)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("bad.toml"),
        "{}",
        text(&out.stderr)
    );
    let unknown = root.join("unknown.toml");
    std::fs::write(&unknown, "colour = \"red\"\n").unwrap();
    let out = wangge(&["db", "migrate", "--config", &dir_arg(&unknown)]);
    assert_eq!(out.status.code(), Some(1));
    let _ = std::fs::remove_dir_all(&root);
}

fn http_get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let raw = text(&buf);
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, body.to_string())
}

struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `wangge demo` on a database, then `wangge serve` on a free port, asked over real HTTP.
async fn serves_the_demo_over_http(backend: TestBackend) {
    let db = TestDb::open(backend).await;
    let url = db.url.clone();
    let data = dir_arg(&db.dir);
    let out = wangge(&[
        "demo",
        "--no-serve",
        "--database-url",
        &url,
        "--data-dir",
        &data,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            &url,
            "--data-dir",
            &data,
        ])
        .env("WANGGE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut lines = BufReader::new(stdout);
    let mut first = String::new();
    lines.read_line(&mut first).unwrap();
    // Keep reading what the server prints, as a terminal would.
    std::thread::spawn(move || std::io::copy(&mut lines, &mut std::io::sink()));
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_string();

    let (status, body) = http_get(&addr, "/healthz");
    assert_eq!((status, body.as_str()), (200, "ok"));
    let (status, body) = http_get(&addr, "/api/v1/regions/640200000000");
    assert_eq!(status, 200, "{body}");
    let city: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(city["counts"]["grids"], 2001);
    assert_eq!(city["counts"]["communities"], 122);
    assert_eq!(city["counts"]["villages"], 195);
    let (status, body) = http_get(&addr, "/api/v1/locate?lon=106.39&lat=39.01");
    assert_eq!(status, 200, "{body}");
    let loc: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        loc["path"][1]["code"], "640202000000",
        "39.01°N lies in 大武口区's band"
    );
    let (status, body) = http_get(&addr, "/api/v1/locate?lon=x&lat=39");
    assert_eq!(status, 400, "{body}");
    let (status, body) = http_get(&addr, "/");
    assert_eq!(status, 200);
    assert!(body.contains("石嘴山市"));
    drop(server);
    db.finish().await;
}

wangge_store::both_backends!(serves_the_demo_over_http);

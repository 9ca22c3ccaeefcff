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
    let out = wangge(&[
        "demo",
        "--no-serve",
        "--events-per-day",
        "0",
        "--data-dir",
        &a_arg,
    ]);
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
    let out = wangge(&[
        "demo",
        "--no-serve",
        "--events-per-day",
        "0",
        "--config",
        &dir_arg(&cfg),
    ]);
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
    let out_of_range = root.join("range.toml");
    std::fs::write(&out_of_range, "session_idle_minutes = 0\n").unwrap();
    let out = wangge(&["serve", "--config", &dir_arg(&out_of_range)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("session_idle_minutes"),
        "{}",
        text(&out.stderr)
    );
    let half_hook = root.join("hook.toml");
    std::fs::write(&half_hook, "webhook_url = \"http://127.0.0.1:9/hook\"\n").unwrap();
    let out = wangge(&["serve", "--config", &dir_arg(&half_hook)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("webhook_secret"),
        "{}",
        text(&out.stderr)
    );
    let unknown = root.join("unknown.toml");
    std::fs::write(&unknown, "colour = \"red\"\n").unwrap();
    let out = wangge(&["db", "migrate", "--config", &dir_arg(&unknown)]);
    assert_eq!(out.status.code(), Some(1));
    let _ = std::fs::remove_dir_all(&root);
}

fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let raw = text(&buf);
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, head.to_string(), body.to_string())
}

fn http_get(addr: &str, path: &str, token: Option<&str>) -> (u16, String) {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
    let (status, _, body) = http(addr, "GET", path, &headers, "");
    (status, body)
}

struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server(args: &[&str], log: &Path) -> (Server, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .env("WANGGE_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
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
        .split("://")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_string();
    (server, addr)
}

/// `wangge demo` on a database, then `wangge serve` on a free port, asked over real HTTP by a
/// demo account; nothing the server logs holds a personal identifier in clear.
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
    assert!(
        text(&out.stdout).contains("jd.wang"),
        "the demo prints its logins: {}",
        text(&out.stdout)
    );
    let log = db.dir.join("server.log");
    let (server, addr) = start_server(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            &url,
            "--data-dir",
            &data,
        ],
        &log,
    );

    let (status, body) = http_get(&addr, "/healthz", None);
    assert_eq!((status, body.as_str()), (200, "ok"));
    let (status, _) = http_get(&addr, "/api/v1/regions/640200000000", None);
    assert_eq!(status, 401, "closed without credentials");

    // A demo login: the leader of the whole city, with the printed password.
    let (status, head, body) = http(
        &addr,
        "POST",
        "/api/v1/auth/login",
        &[("Content-Type", "application/json")],
        r#"{"username":"ld.zhou","password":"Wangge#2026"}"#,
    );
    assert_eq!(status, 200, "{body}");
    assert!(
        head.to_ascii_lowercase()
            .contains("set-cookie: wangge_session=")
            && head.contains("HttpOnly")
            && head.contains("SameSite=Lax"),
        "{head}"
    );
    let cookie = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().split(';').next().unwrap().to_string())
        .unwrap();
    let (status, _, body) = http(
        &addr,
        "GET",
        "/api/v1/regions/640200000000",
        &[("Cookie", &cookie)],
        "",
    );
    assert_eq!(status, 200, "{body}");
    let city: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(city["counts"]["grids"], 2001);
    assert_eq!(city["counts"]["communities"], 122);
    assert_eq!(city["counts"]["villages"], 195);

    // A machine client's token, made with the CLI.
    let out = wangge(&[
        "token",
        "create",
        "--username",
        "ld.zhou",
        "--name",
        "大屏",
        "--database-url",
        &url,
        "--data-dir",
        &data,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let token = text(&out.stdout).trim().to_string();
    let (status, body) = http_get(&addr, "/api/v1/locate?lon=106.39&lat=39.01", Some(&token));
    assert_eq!(status, 200, "{body}");
    let loc: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        loc["path"][1]["code"], "640202000000",
        "39.01°N lies in 大武口区's band"
    );
    let (status, body) = http_get(&addr, "/api/v1/locate?lon=x&lat=39", Some(&token));
    assert_eq!(status, 400, "{body}");

    // The street dispatcher may unmask one record; the value never reaches the log.
    let out = wangge(&[
        "token",
        "create",
        "--username",
        "jd.wang",
        "--name",
        "t",
        "--database-url",
        &url,
        "--data-dir",
        &data,
    ]);
    let dispatcher = text(&out.stdout).trim().to_string();
    let (_, body) = http_get(&addr, "/api/v1/me", Some(&dispatcher));
    let scope = serde_json::from_str::<Value>(&body).unwrap()["scope"]["code"]
        .as_str()
        .unwrap()
        .to_string();
    let city_data = wangge_demo::generate(2026);
    let person = city_data
        .org
        .people
        .iter()
        .find(|p| p.home_code.starts_with(&scope[..9]) && p.kind == "full_time_grid_worker")
        .unwrap();
    let ids = city_data
        .personal
        .iter()
        .find(|x| x.person == person.id)
        .unwrap();
    let (status, body) = http_get(
        &addr,
        &format!("/api/v1/people/{}/personal-data?field=phone", person.id),
        Some(&dispatcher),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&ids.phone));
    let (status, body) = http_get(
        &addr,
        &format!("/api/v1/people/{}", person.id),
        Some(&dispatcher),
    );
    assert_eq!(status, 200);
    assert!(!body.contains(&ids.phone) && body.contains("****"));
    // A search by number carries the number in the query string, which must not reach the log.
    let (status, body) = http_get(
        &addr,
        &format!("/api/v1/people?id_number={}", ids.id_number),
        Some(&dispatcher),
    );
    assert_eq!(status, 200, "{body}");
    drop(server);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        !logged.contains(&ids.phone) && !logged.contains(&ids.id_number),
        "a personal identifier reached the log"
    );
    assert!(!logged.contains(&token), "a token reached the log");

    let out = wangge(&[
        "audit",
        "verify",
        "--database-url",
        &url,
        "--data-dir",
        &data,
    ]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    db.finish().await;
}

/// `wangge user`, `wangge token` and `wangge audit verify`, including an audit record edited
/// behind the application's back.
async fn operator_commands(backend: TestBackend) {
    let db = TestDb::open(backend).await;
    let url = db.url.clone();
    let data = dir_arg(&db.dir);
    let base = ["--database-url", url.as_str(), "--data-dir", data.as_str()];
    let run = |args: &[&str], stdin: Option<&str>| -> Output {
        let mut c = Command::new(BIN);
        c.args(args)
            .args(base)
            .env("WANGGE_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        if let Some(s) = stdin {
            child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
        }
        drop(child.stdin.take());
        child.wait_with_output().unwrap()
    };
    assert!(
        run(&["demo", "--no-serve", "--events-per-day", "0"], None)
            .status
            .success()
    );
    let add = |name: &str, role: &str, scope: &str, pw: &str| {
        run(
            &[
                "user",
                "add",
                "--username",
                name,
                "--role",
                role,
                "--scope",
                scope,
                "--password-stdin",
            ],
            Some(&format!("{pw}\n")),
        )
    };
    let out = add("op.one", "street_dispatcher", "640202001000", "Strong#2026");
    assert!(out.status.success(), "{}", text(&out.stderr));
    for (name, role, scope, pw, needle) in [
        (
            "op.two",
            "street_dispatcher",
            "640202001000",
            "weak",
            "密码",
        ),
        (
            "op.two",
            "chief",
            "640202001000",
            "Strong#2026",
            "system_admin",
        ),
        ("op.two", "leader", "649999000000", "Strong#2026", "不存在"),
        ("op.one", "leader", "640200000000", "Strong#2026", "已存在"),
        ("op.two", "leader", "640200000000", "", "标准输入"),
    ] {
        let out = add(name, role, scope, pw);
        assert_eq!(out.status.code(), Some(1), "{name} {role}");
        assert!(
            text(&out.stderr).contains(needle),
            "expected {needle}: {}",
            text(&out.stderr)
        );
    }
    let list = text(&run(&["user", "list"], None).stdout);
    assert!(
        list.contains("op.one") && list.contains("jd.wang"),
        "{list}"
    );
    // A lock ends the account's sessions and revokes its tokens, as a deactivation does.
    let op = db
        .store
        .account_by_username("op.one")
        .await
        .unwrap()
        .unwrap();
    let now = chrono::Utc::now();
    db.store
        .create_session(
            "op-session",
            op.id,
            "csrf",
            true,
            None,
            now,
            now + chrono::Duration::hours(1),
        )
        .await
        .unwrap();
    let machine = run(
        &[
            "token",
            "create",
            "--username",
            "op.one",
            "--name",
            "gateway",
        ],
        None,
    );
    assert!(machine.status.success(), "{}", text(&machine.stderr));
    assert!(run(&["user", "lock", "op.one"], None).status.success());
    assert!(
        text(&run(&["user", "list"], None).stdout)
            .lines()
            .any(|l| l.contains("op.one") && l.contains("锁定"))
    );
    assert!(db.store.session("op-session").await.unwrap().is_none());
    let tokens = text(&run(&["token", "list"], None).stdout);
    assert!(
        tokens
            .lines()
            .any(|l| l.contains("gateway") && l.contains("已吊销")),
        "{tokens}"
    );
    assert!(run(&["user", "unlock", "op.one"], None).status.success());
    assert!(
        text(&run(&["user", "list"], None).stdout)
            .lines()
            .any(|l| l.contains("op.one") && l.contains("正常"))
    );
    assert_eq!(
        run(&["user", "unlock", "nobody"], None).status.code(),
        Some(1)
    );

    let out = run(
        &[
            "token",
            "create",
            "--username",
            "op.one",
            "--name",
            "sensor",
        ],
        None,
    );
    assert!(out.status.success());
    let listed = text(&run(&["token", "list"], None).stdout);
    let id = listed
        .lines()
        .find(|l| l.contains("sensor"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_string();
    assert!(
        listed.contains("sensor") && !listed.contains(text(&out.stdout).trim()),
        "the secret is never listed"
    );
    assert!(run(&["token", "revoke", &id], None).status.success());
    assert_eq!(run(&["token", "revoke", &id], None).status.code(), Some(1));
    assert!(
        run(&["user", "deactivate", "op.one"], None)
            .status
            .success()
    );

    let out = run(&["audit", "verify"], None);
    assert!(out.status.success(), "{}", text(&out.stdout));
    let records: i64 = text(&out.stdout)
        .split("共 ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(records >= 6, "each change is audited: {records}");
    // The records are sealed with the key file, and each command's anchor is in the data dir.
    assert!(
        text(&out.stdout).contains("带密钥签名"),
        "{}",
        text(&out.stdout)
    );
    let anchors = std::fs::read_dir(&db.dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("audit-anchor-"))
        .count();
    assert!(anchors >= 1);
    // A cut tail: the last two records deleted and the head reset to the one before them.
    let last = db
        .store
        .search_audit(&wangge_store::AuditQuery {
            limit: 3,
            ..Default::default()
        })
        .await
        .unwrap();
    let keep = &last[2];
    db.store
        .execute_admin(&format!("DELETE FROM audit_log WHERE seq > {}", keep.seq))
        .await
        .unwrap();
    db.store
        .execute_admin(&format!(
            "UPDATE audit_head SET seq = {}, hash = '{}' WHERE id = 1",
            keep.seq, keep.hash
        ))
        .await
        .unwrap();
    let out = run(&["audit", "verify"], None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("末尾有记录被删除"),
        "{}",
        text(&out.stdout)
    );
    // A rewrite from record 2 with every hash recomputed as plain SM3.
    db.store
        .execute_admin("UPDATE audit_log SET actor = 'nobody' WHERE seq = 2")
        .await
        .unwrap();
    db.store.rehash_plain_for_test(2).await.unwrap();
    let out = run(&["audit", "verify"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stdout).contains("第 2 条") && text(&out.stdout).contains("链被重写"),
        "{}",
        text(&out.stdout)
    );
    db.finish().await;
}

/// After the demo writes thousands of people with ID and phone numbers, neither appears in clear
/// anywhere in the database: the SQLite file and its WAL, or PostgreSQL's table contents.
async fn personal_identifiers_are_encrypted_at_rest(backend: TestBackend) {
    let db = TestDb::open(backend).await;
    let url = db.url.clone();
    let data = dir_arg(&db.dir);
    // Without events: the people are what this test is about, and a smaller file searches faster.
    let out = wangge(&[
        "demo",
        "--no-serve",
        "--events-per-day",
        "0",
        "--database-url",
        &url,
        "--data-dir",
        &data,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let city = wangge_demo::generate(2026);
    assert!(city.personal.len() > 1000);
    let haystack: Vec<u8> = match backend {
        TestBackend::Sqlite => {
            let mut bytes = Vec::new();
            for f in ["wangge.db", "wangge.db-wal"] {
                if let Ok(b) = std::fs::read(db.dir.join(f)) {
                    bytes.extend(b);
                }
            }
            assert!(bytes.len() > 1_000_000);
            bytes
        }
        TestBackend::Postgres => db
            .store
            .table_text_for_test("people")
            .await
            .unwrap()
            .into_bytes(),
    };
    // The identifiers are ASCII digits, which survive a lossy conversion; str::contains is fast.
    let text = String::from_utf8_lossy(&haystack);
    let contains = |needle: &str| text.contains(needle);
    // Names are stored in clear, so the search itself is shown to work.
    assert!(contains(&city.org.people[0].name));
    for p in city.personal.iter().step_by(37) {
        assert!(
            !contains(&p.id_number),
            "ID number {} found in clear",
            &p.id_number[..6]
        );
        assert!(!contains(&p.phone), "phone number found in clear");
    }
    db.finish().await;
}

/// README's "Your own city", with no demo: its regions and grids from GeoJSON, then the
/// department register from a CSV as Excel saves it — checked whole, tried as a dry run, imported,
/// refused with every problem when a row is wrong — then its people, units and teams, accounts
/// scoped by codes, and the server: a grid worker reports, the community escalates, the street
/// whistles the imported police station (found by name) and its staff member checks in.
async fn a_city_sets_itself_up_from_files(backend: TestBackend) {
    let db = TestDb::open(backend).await;
    let url = db.url.clone();
    let data = dir_arg(&db.dir);
    let run = |args: &[&str]| -> Output {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--database-url", url.as_str(), "--data-dir", data.as_str()]);
        wangge(&all)
    };
    let file = |name: &str, body: &str| -> String {
        let p = db.dir.join(name);
        std::fs::write(&p, body).unwrap();
        dir_arg(&p)
    };
    let square = |x: f64, y: f64, d: f64| {
        format!(
            "[[[{x},{y}],[{},{y}],[{},{}],[{x},{}],[{x},{y}]]]",
            x + d,
            x + d,
            y + d,
            y + d
        )
    };
    let city = file(
        "city.geojson",
        &format!(
            r#"{{"type":"FeatureCollection","features":[
            {{"type":"Feature","properties":{{"code":"640200000000","name":"石嘴山市","level":"city"}},"geometry":null}},
            {{"type":"Feature","properties":{{"code":"640202000000","name":"大武口区","level":"county","parent_code":"640200000000"}},"geometry":null}},
            {{"type":"Feature","properties":{{"code":"640202001000","name":"长胜街道","level":"township","parent_code":"640202000000"}},"geometry":null}},
            {{"type":"Feature","properties":{{"code":"640202002000","name":"朝阳街道","level":"township","parent_code":"640202000000"}},"geometry":null}},
            {{"type":"Feature","properties":{{"code":"640202001001","name":"长胜社区","level":"community","parent_code":"640202001000"}},
              "geometry":{{"type":"Polygon","coordinates":{}}}}},
            {{"type":"Feature","properties":{{"code":"640202001001001","name":"长胜一网格","level":"grid","parent_code":"640202001001","grid_type":"basic"}},
              "geometry":{{"type":"Polygon","coordinates":{}}}}}
            ]}}"#,
            square(106.0, 39.0, 0.02),
            square(106.0, 39.0, 0.01)
        ),
    );
    let out = run(&["import", &city]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let template = dir_arg(&db.dir.join("departments-template.xlsx"));
    let out = run(&["registry", "template", "departments", &template]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(std::fs::read(&template).unwrap().starts_with(b"PK\x03\x04"));

    let header = "部门编码*,部门名称*,部门类别*,所属区划代码*,上级部门编码,服务区域代码,状态";
    let good = file(
        "departments.csv",
        &format!(
            "\u{feff}{header}\r\nGA-DWK,大武口公安分局,公安,640202000000,,,\r\n\
             PCS-CS,长胜派出所,派出所,640202000000,GA-DWK,640202001000,\r\n\
             GD-DWK,大武口供电公司,供电公司,640202000000,,,启用\r\n"
        ),
    );
    let out = run(&["registry", "import", "departments", &good, "--dry-run"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("试导入（未写入）「部门」：共 3 行，新增 3"));
    let out = run(&["registry", "import", "departments", &good, "--dry-run"]);
    assert!(
        text(&out.stdout).contains("新增 3"),
        "a dry run writes nothing"
    );

    let out = run(&["registry", "import", "departments", &good]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("导入完成「部门」：共 3 行，新增 3，更新 0，未变 0"));
    let out = run(&["registry", "import", "departments", &good]);
    assert!(
        text(&out.stdout).contains("新增 0，更新 0，未变 3"),
        "{}",
        text(&out.stdout)
    );

    let bad = file(
        "bad.csv",
        &format!(
            "{header}\nOK-1,某局,信访,640202000000,,,\nPCS-X,朝阳派出所,派出所,640202000000,GA-NONE,640299001000,\n"
        ),
    );
    let out = run(&["registry", "import", "departments", &bad]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    for needle in ["导入被拒绝", "第3行", "GA-NONE", "640299001000 不存在"] {
        assert!(err.contains(needle), "expected {needle} in:\n{err}");
    }
    let exported = dir_arg(&db.dir.join("departments.xlsx"));
    let out = run(&["registry", "export", "departments", &exported]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&["registry", "import", "departments", &exported]);
    assert!(
        text(&out.stdout).contains("新增 0，更新 0，未变 3"),
        "{}",
        text(&out.stdout)
    );

    // The people, their units and teams, from the files an office fills (CSV as Excel saves
    // it; ID numbers as text).
    let id = |first17: &str| {
        format!(
            "{first17}{}",
            wangge_security::pii::id_check_char(first17).unwrap()
        )
    };
    let (worker_id, officer_id) = (id("64020219900101123"), id("64020219850312008"));
    let people = file(
        "people.csv",
        &format!(
            "身份证号*,姓名*,人员类别*,所属区划代码*,所属网格编码,所属部门编码,手机号码,入职日期,状态\r\n\
             {worker_id},马晓燕,专职网格员,640202001001,640202001001001,,13912345678,2026-03-02,\r\n\
             {officer_id},杨建国,社区民警,640202001000,,PCS-CS,,,\r\n"
        ),
    );
    let out = run(&["registry", "import", "people", &people]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("新增 2"),
        "{}",
        text(&out.stdout)
    );
    let units = file(
        "units.csv",
        "单位编码*,单位名称*,单位类别*,所属领域,地址,经度,纬度,所属网格编码,负责人,负责人电话,状态\r\n\
         91640202MA01,长胜小学,学校,,长胜街 1 号,106.005,39.005,,王校长,0952-2012345,\r\n\
         91640202MA02,郊外仓库,企业,,,106.5,39.5,,,,\r\n",
    );
    let out = run(&["registry", "import", "units", &units]);
    assert_eq!(out.status.code(), Some(1), "a unit outside every grid");
    assert!(
        text(&out.stderr).contains("第3行") && text(&out.stderr).contains("不在任何网格内"),
        "{}",
        text(&out.stderr)
    );
    let units = file(
        "units.csv",
        "单位编码*,单位名称*,单位类别*,所属领域,地址,经度,纬度,所属网格编码,负责人,负责人电话,状态\r\n\
         91640202MA01,长胜小学,学校,,长胜街 1 号,106.005,39.005,,王校长,0952-2012345,\r\n\
         ZZ-CS,长胜街道综治中心,综治中心,,长胜街 9 号,106.006,39.006,,,,\r\n",
    );
    let out = run(&["registry", "import", "units", &units]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let teams = file(
        "teams.csv",
        &format!(
            "团队类型*,网格或社区编码*,身份证号*,姓名,团队角色*,状态\r\n\
             网格团队（1+4+X）,640202001001001,{worker_id},马晓燕,网格员,\r\n\
             网格团队（1+4+X）,640202001001001,{officer_id},杨建国,社区民警,\r\n\
             警务团队（1+N+X）,640202001001,{officer_id},杨建国,社区民警,\r\n"
        ),
    );
    // The party tree, five levels from the street down, and the street's 综治中心 with the
    // police station visiting it on Tuesdays and Thursdays.
    let party = file(
        "party-orgs.csv",
        "组织编码*,组织名称*,组织层级*,上级组织编码,所在区划或网格代码*,所在单位编码,状态\r\n\
         DW-CS,中共长胜街道工作委员会,街道（乡镇）党（工）委,,640202001000,,\r\n\
         DW-CSSQ,中共长胜社区委员会,社区（村）党组织,DW-CS,640202001001,,\r\n\
         DW-CS1,长胜一网格党支部,网格党支部,DW-CSSQ,640202001001001,,\r\n\
         DW-XX,长胜小学党支部,网格党支部,DW-CSSQ,640202001001001,91640202MA01,\r\n",
    );
    let out = run(&["registry", "import", "party-orgs", &party]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let bad_party = file(
        "bad-party.csv",
        "组织编码*,组织名称*,组织层级*,上级组织编码,所在区划或网格代码*,所在单位编码,状态\r\n\
         DW-X2,支部下的支部,网格党支部,DW-CS1,640202001001001,,\r\n",
    );
    let out = run(&["registry", "import", "party-orgs", &bad_party]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("支部之下不能再设支部"),
        "{}",
        text(&out.stderr)
    );
    let centres = file(
        "centres.csv",
        "中心单位编码*,进驻类型*,部门编码,法律顾问身份证号,巡诊日,状态\r\nZZ-CS,巡诊部门,PCS-CS,,周二、周四,\r\n",
    );
    let out = run(&["registry", "import", "centres", &centres]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("新增 1"),
        "{}",
        text(&out.stdout)
    );
    let out = run(&["registry", "import", "teams", &teams]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("新增 3"),
        "{}",
        text(&out.stdout)
    );

    // Accounts for the grid worker, the community, the street and the police station (by its
    // code, never an id).
    let add_user = |username: &str, role: &str, scope: &str, name: &str| {
        let mut add = Command::new(BIN);
        add.args([
            "user",
            "add",
            "--username",
            username,
            "--role",
            role,
            "--scope",
            scope,
            "--display-name",
            name,
            "--password-stdin",
            "--database-url",
            &url,
            "--data-dir",
            &data,
        ])
        .env("WANGGE_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = add.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"Strong#2026\n")
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{username}: {}", text(&out.stderr));
        let out = run(&["token", "create", "--username", username, "--name", "t"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout).trim().to_string()
    };
    // The grid worker's account comes in bulk, from a sheet of people, with an initial password
    // handed out on paper.
    let accounts = file(
        "accounts.csv",
        &format!(
            "身份证号*,用户名*,角色*,范围代码*,显示名\r\n{worker_id},wgy.ma,网格员,640202001001001,\r\n"
        ),
    );
    let passwords = dir_arg(&db.dir.join("initial-passwords.xlsx"));
    let out = run(&["user", "import", &accounts, "--dry-run"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&["user", "import", &accounts, "--passwords", &passwords]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("已开通 1 个账号"),
        "{}",
        text(&out.stdout)
    );
    let initial = {
        use calamine::{Reader, Xlsx};
        let mut wb: Xlsx<_> = calamine::open_workbook(&passwords).unwrap();
        let range = wb.worksheet_range("初始密码").unwrap();
        let row: Vec<String> = range
            .rows()
            .nth(1)
            .unwrap()
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!((row[0].as_str(), row[1].as_str()), ("wgy.ma", "马晓燕"));
        row[4].clone()
    };
    let out = run(&["user", "import", &accounts, "--passwords", &passwords]);
    assert_eq!(out.status.code(), Some(1), "the same accounts twice");
    assert!(
        text(&out.stderr).contains("已被使用"),
        "{}",
        text(&out.stderr)
    );
    let community = add_user("sq.one", "community_staff", "640202001001", "长胜社区");
    let street = add_user("jd.one", "street_dispatcher", "640202001000", "长胜街道");
    let station = add_user("pcs.one", "department_staff", "PCS-CS", "杨建国");

    // Served, the loop runs on what was imported: a report, accepted, escalated, the street
    // whistles the imported police station, whose staff member checks in.
    let log = db.dir.join("own-city.log");
    let (server, addr) = start_server(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            &url,
            "--data-dir",
            &data,
        ],
        &log,
    );
    // The grid worker's first login changes the initial password before anything else.
    let (status, head, body) = http(
        &addr,
        "POST",
        "/api/v1/auth/login",
        &[("Content-Type", "application/json")],
        &serde_json::json!({"username": "wgy.ma", "password": initial}).to_string(),
    );
    assert_eq!(status, 200, "{body}");
    let login: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(login["password_change_required"], true);
    let csrf = login["csrf_token"].as_str().unwrap().to_string();
    let cookie = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().split(';').next().unwrap().to_string())
        .unwrap();
    let session = [
        ("Cookie", cookie.as_str()),
        ("X-CSRF-Token", csrf.as_str()),
        ("Content-Type", "application/json"),
    ];
    let report = serde_json::json!({"category": "0501", "lon": 106.004, "lat": 39.004,
                                    "description": "长胜小学门口流动摊贩占道，放学时堵塞人行道"});
    let (status, _, _) = http(
        &addr,
        "POST",
        "/api/v1/events",
        &session,
        &report.to_string(),
    );
    assert_eq!(status, 403, "no work before the password is changed");
    let (status, _, body) = http(
        &addr,
        "POST",
        "/api/v1/auth/password",
        &session,
        &serde_json::json!({"current_password": initial, "new_password": "Mine#2026a"}).to_string(),
    );
    assert_eq!(status, 204, "{body}");
    let (status, _, body) = http(
        &addr,
        "POST",
        "/api/v1/events",
        &session,
        &report.to_string(),
    );
    assert_eq!(status, 201, "{body}");
    let r: Value = serde_json::from_str(&body).unwrap();
    let call = |token: &str, path: &str, body: Value| -> Value {
        let auth = format!("Bearer {token}");
        let (status, _, reply) = http(
            &addr,
            "POST",
            path,
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
            ],
            &body.to_string(),
        );
        assert!((200..300).contains(&status), "{path}: {status} {reply}");
        serde_json::from_str(&reply).unwrap()
    };
    assert_eq!(r["grid"]["code"], "640202001001001", "{r}");
    let id = r["id"].as_str().unwrap().to_string();
    let moves = format!("/api/v1/events/{id}/moves");
    let r = call(
        &community,
        &moves,
        serde_json::json!({"move": "accept", "version": r["version"]}),
    );
    let r = call(
        &community,
        &moves,
        serde_json::json!({"move": "escalate", "version": r["version"]}),
    );
    // The street finds the station by name, as its page's picker does.
    let (status, found) = http_get(
        &addr,
        &format!(
            "/api/v1/registry/departments?q={}",
            "%E9%95%BF%E8%83%9C%E6%B4%BE%E5%87%BA%E6%89%80"
        ),
        Some(&street),
    );
    assert_eq!(status, 200, "{found}");
    let found: Value = serde_json::from_str(&found).unwrap();
    assert_eq!(found["departments"][0]["code"], "PCS-CS", "{found}");
    let lead = found["departments"][0]["id"].as_str().unwrap().to_string();
    let r = call(
        &street,
        &moves,
        serde_json::json!({"move": "whistle", "lead": lead, "check_in_minutes": 30,
                           "task": "联合劝离占道摊贩", "version": r["version"]}),
    );
    assert_eq!(r["state"], "dispatched", "{r}");
    let r = call(
        &station,
        &moves,
        serde_json::json!({"move": "check_in", "version": r["version"]}),
    );
    assert_eq!(r["state"], "handling", "{r}");
    let (status, event) = http_get(&addr, &format!("/api/v1/events/{id}"), Some(&street));
    assert_eq!(status, 200, "{event}");
    let event: Value = serde_json::from_str(&event).unwrap();
    assert_eq!(event["state"], "handling", "{event}");
    assert_eq!(event["lead_department"], lead.as_str(), "{event}");
    assert_eq!(
        event["check_ins"][0]["department"],
        lead.as_str(),
        "{event}"
    );
    assert_eq!(event["check_ins"][0]["late"], false, "{event}");
    drop(server);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(!logged.contains(&worker_id) && !logged.contains("13912345678"));

    let out = run(&["registry", "import", "martians", &good]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("未知台账"));
    db.finish().await;
}

wangge_store::both_backends!(
    serves_the_demo_over_http,
    operator_commands,
    personal_identifiers_are_encrypted_at_rest,
    a_city_sets_itself_up_from_files
);

/// Given a certificate, the server speaks HTTPS itself (rustls) and marks its cookie Secure.
#[test]
fn serves_https_with_a_certificate() {
    let root = scratch_dir("cli-tls");
    let (cert, key) = (root.join("cert.pem"), root.join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
        ])
        .args([
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl (Debian's openssl package) makes the test certificate");
    assert!(made.status.success(), "{}", text(&made.stderr));
    let data = dir_arg(&root.join("data"));
    assert!(
        wangge(&[
            "demo",
            "--no-serve",
            "--events-per-day",
            "0",
            "--data-dir",
            &data
        ])
        .status
        .success()
    );
    let (server, addr) = start_server(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            &data,
            "--tls-cert",
            &dir_arg(&cert),
            "--tls-key",
            &dir_arg(&key),
        ],
        &root.join("server.log"),
    );
    let curl = |extra: &[&str]| {
        Command::new("curl")
            .args(["-s", "-i", "--max-time", "10", "--cacert"])
            .arg(&cert)
            .args(extra)
            .output()
            .expect("curl")
    };
    let out = curl(&[&format!("https://{addr}/healthz")]);
    assert!(
        text(&out.stdout).ends_with("ok"),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let out = curl(&[
        "-H",
        "Content-Type: application/json",
        "-d",
        r#"{"username":"ld.zhou","password":"Wangge#2026"}"#,
        &format!("https://{addr}/api/v1/auth/login"),
    ]);
    let head = text(&out.stdout);
    assert!(
        head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/2 200"),
        "{head}"
    );
    assert!(
        head.lines()
            .any(|l| l.to_ascii_lowercase().starts_with("set-cookie:")
                && l.contains("Secure")
                && l.contains("HttpOnly")),
        "{head}"
    );
    // Plain HTTP to the TLS port gets nowhere.
    let plain = Command::new("curl")
        .args(["-s", "--max-time", "5", &format!("http://{addr}/healthz")])
        .output()
        .unwrap();
    assert_ne!(text(&plain.stdout), "ok");
    drop(server);
    let out = wangge(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        &data,
        "--tls-cert",
        &dir_arg(&root.join("missing.pem")),
        "--tls-key",
        &dir_arg(&key),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("missing.pem"),
        "{}",
        text(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn calendar_commands() {
    let root = scratch_dir("cli-calendar");
    let d = dir_arg(&root.join("data"));
    let out = wangge(&[
        "calendar",
        "due",
        "--from",
        "2025-09-30T10:00:00+08:00",
        "--working-days",
        "3",
        "--data-dir",
        &d,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "2025-10-11T18:00:00+08:00");
    let out = wangge(&[
        "calendar",
        "due",
        "--from",
        "2025-11-13T11:30:00+08:00",
        "--working-hours",
        "1",
        "--data-dir",
        &d,
    ]);
    assert_eq!(text(&out.stdout).trim(), "2025-11-13T15:00:00+08:00");
    let out = wangge(&[
        "calendar",
        "due",
        "--from",
        "2025-11-13T11:30:00+08:00",
        "--minutes",
        "45",
        "--data-dir",
        &d,
    ]);
    assert_eq!(text(&out.stdout).trim(), "2025-11-13T12:15:00+08:00");
    // A year without a notice: an answer, and a warning.
    let out = wangge(&[
        "calendar",
        "due",
        "--from",
        "2027-03-01T10:00:00+08:00",
        "--working-days",
        "1",
        "--data-dir",
        &d,
    ]);
    assert_eq!(text(&out.stdout).trim(), "2027-03-02T18:00:00+08:00");
    assert!(
        text(&out.stderr).contains("尚未发布"),
        "{}",
        text(&out.stderr)
    );
    for args in [
        vec![
            "calendar",
            "due",
            "--from",
            "tomorrow",
            "--working-days",
            "1",
        ],
        vec!["calendar", "due", "--from", "2025-09-30T10:00:00+08:00"],
        vec![
            "calendar",
            "due",
            "--from",
            "2025-09-30T10:00:00+08:00",
            "--minutes",
            "-3",
        ],
    ] {
        let out = wangge(&[args.as_slice(), &["--data-dir", &d]].concat());
        assert_ne!(out.status.code(), Some(0), "{args:?}");
    }
    // Loading a new year: a bad file is refused whole; the good one ends the provisional answers.
    let bad = root.join("bad.json");
    std::fs::write(&bad, r#"{"year": 2027, "days": [{"name": "元旦", "date": "2027-01-01", "isOffDay": true}, {"name": "x", "date": "2027-03-03", "isOffDay": false}]}"#).unwrap();
    let out = wangge(&["calendar", "load", &dir_arg(&bad), "--data-dir", &d]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("不是周末"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        !text(&wangge(&["calendar", "years", "--data-dir", &d]).stdout).contains("2027"),
        "nothing written"
    );
    let good = root.join("2027.json");
    std::fs::write(
        &good,
        r#"{"year": 2027, "days": [{"name": "元旦", "date": "2027-01-01", "isOffDay": true}]}"#,
    )
    .unwrap();
    let out = wangge(&["calendar", "load", &dir_arg(&good), "--data-dir", &d]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&wangge(&["calendar", "years", "--data-dir", &d]).stdout).contains("2027"));
    let out = wangge(&[
        "calendar",
        "due",
        "--from",
        "2027-03-01T10:00:00+08:00",
        "--working-days",
        "1",
        "--data-dir",
        &d,
    ]);
    assert!(!text(&out.stderr).contains("尚未发布"));
    let _ = std::fs::remove_dir_all(&root);
}

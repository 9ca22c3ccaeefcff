//! A demo city on a fresh database, accounts for any role, and requests through the whole app.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{SubsecRound, Utc};
use http_body_util::BodyExt;
use serde_json::Value;
use std::sync::{Arc, OnceLock};
use tower::ServiceExt;
use wangge_domain::import::Plan;
use wangge_security::crypto::KeyRing;
use wangge_security::{password, token, totp};
use wangge_store::testing::{TestBackend, TestDb};
use wangge_store::{AccountRow, NewAccount};
use wangge_web::{AppState, AuthSettings, app};

pub const PASSWORD: &str = "Test#2026pw";

pub struct World {
    pub db: TestDb,
    pub state: AppState,
    pub city: Arc<wangge_demo::DemoCity>,
}

/// The demo city, generated and sealed once per test binary: tests only read it, and each
/// writes it to a database of its own. The key file goes with it, since the sealed personal
/// data can only be opened with its keys.
fn sealed_city() -> (Arc<wangge_demo::DemoCity>, KeyRing) {
    static CITY: OnceLock<(Arc<wangge_demo::DemoCity>, String)> = OnceLock::new();
    let (city, key_file) = CITY.get_or_init(|| {
        let key_file = KeyRing::generate_file();
        let keys = KeyRing::parse(&key_file).unwrap();
        let mut city = wangge_demo::generate(2026);
        wangge_demo::seal_personal_data(&mut city, &keys);
        (Arc::new(city), key_file)
    });
    (city.clone(), KeyRing::parse(key_file).unwrap())
}

fn hash() -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| password::hash(PASSWORD))
}

impl World {
    pub async fn new(backend: TestBackend) -> World {
        World::with_settings(backend, AuthSettings::default()).await
    }

    pub async fn with_settings(backend: TestBackend, settings: AuthSettings) -> World {
        let db = TestDb::open(backend).await;
        let (city, keys) = sealed_city();
        db.store
            .apply_plan(&Plan {
                regions: city.regions.clone(),
                grids: city.grids.clone(),
            })
            .await
            .unwrap();
        db.store.insert_org_batch(&city.org).await.unwrap();
        // Sealed as the server seals it: keyed records, an anchor in the data directory.
        db.store
            .seal_audit(
                keys.audit_key(),
                Some(db.dir.join("audit-anchor-test.json")),
            )
            .await
            .unwrap();
        let state = AppState::new(db.store.clone(), settings, keys)
            .await
            .unwrap()
            .with_files(db.dir.join("files"));
        World { db, state, city }
    }

    /// An account of a role at a scope (region/grid code or department id).
    pub async fn account(&self, username: &str, role: &str, scope: &str) -> AccountRow {
        let r: wangge_domain::access::Role = role.parse().unwrap();
        let s = wangge_app::accounts::resolve_scope(&self.db.store, r, scope)
            .await
            .unwrap();
        let now = Utc::now().trunc_subsecs(6);
        let id = self
            .db
            .store
            .create_account(
                &NewAccount {
                    username: username.into(),
                    display_name: username.into(),
                    role: role.into(),
                    scope_kind: s.kind,
                    scope_code: s.code,
                    scope_serves: s.serves,
                    password_hash: hash().to_string(),
                    proposed_by: None,
                },
                now,
            )
            .await
            .unwrap();
        self.db.store.account(id).await.unwrap().unwrap()
    }

    /// A bearer token for a new account.
    pub async fn token(&self, username: &str, role: &str, scope: &str) -> String {
        let a = self.account(username, role, scope).await;
        let secret = token::generate("wgt_");
        self.db
            .store
            .create_token(a.id, "test", &token::digest(&secret), Utc::now())
            .await
            .unwrap();
        secret
    }

    /// Enrols a TOTP secret for an account and returns it.
    pub async fn enrol_totp(&self, a: &AccountRow) -> String {
        let secret = totp::generate_secret();
        self.db
            .store
            .set_totp(
                a.id,
                &self.state.keys.encrypt(&secret),
                "[]",
                true,
                Utc::now(),
            )
            .await
            .unwrap();
        secret
    }

    pub async fn send(&self, req: Request<Body>) -> Reply {
        let res = app(self.state.clone()).oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let cookie = res
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or("").to_string());
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
        Reply {
            status,
            body,
            cookie,
            headers,
        }
    }

    pub async fn get(&self, uri: &str, token: &str) -> Reply {
        self.send(
            Request::get(uri)
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    /// The raw bytes of a successful GET.
    pub async fn app_bytes(&self, uri: &str, token: &str) -> Vec<u8> {
        let res = app(self.state.clone())
            .oneshot(
                Request::get(uri)
                    .header("authorization", format!("Bearer {token}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        res.into_body().collect().await.unwrap().to_bytes().to_vec()
    }

    pub async fn get_anonymous(&self, uri: &str) -> Reply {
        self.send(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    pub async fn login(&self, username: &str, password: &str) -> Reply {
        self.send(
            Request::post("/api/v1/auth/login")
                .header("content-type", "application/json")
                .body(Body::from(
                    serde_json::json!({"username": username, "password": password}).to_string(),
                ))
                .unwrap(),
        )
        .await
    }

    /// A request with a session cookie (and CSRF token for unsafe methods).
    pub async fn with_session(
        &self,
        method: &str,
        uri: &str,
        cookie: &str,
        csrf: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut b = Request::builder()
            .method(method)
            .uri(uri)
            .header("cookie", cookie);
        if let Some(c) = csrf {
            b = b.header("x-csrf-token", c);
        }
        let body = match body {
            Some(v) => {
                b = b.header("content-type", "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        self.send(b.body(body).unwrap()).await
    }

    /// A POST of a JSON body with a bearer token.
    pub async fn post_json(&self, uri: &str, token: &str, body: Value) -> Reply {
        self.send(
            Request::post(uri)
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    /// The first `n` communities whose codes start with `prefix`.
    pub fn communities(&self, prefix: &str, n: usize) -> Vec<String> {
        self.city
            .regions
            .iter()
            .filter(|r| {
                r.level == wangge_domain::region::Level::Community
                    && r.code.as_str().starts_with(prefix)
            })
            .take(n)
            .map(|r| r.code.as_str().to_string())
            .collect()
    }

    /// The middle of the first grid whose code starts with `prefix`.
    pub fn point_in(&self, prefix: &str) -> (f64, f64) {
        use geo::Centroid;
        let g = self
            .city
            .grids
            .iter()
            .find(|g| g.code.as_str().starts_with(prefix))
            .unwrap();
        let c = g.shape.centroid().unwrap();
        (c.x(), c.y())
    }

    /// Reports an exposed-rubbish event in the first grid under `prefix`; returns its id.
    pub async fn report_in(&self, token: &str, prefix: &str, description: &str) -> String {
        let (lon, lat) = self.point_in(prefix);
        let r = self
            .post_json(
                "/api/v1/events",
                token,
                serde_json::json!({"category": "0401", "lon": lon, "lat": lat, "description": description}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body["id"].as_str().unwrap().to_string()
    }

    /// Makes a move as `token` from `version`; returns the event's new version.
    pub async fn make_move(&self, id: &str, token: &str, version: i64, mut body: Value) -> i64 {
        body["version"] = serde_json::json!(version);
        let r = self
            .post_json(&format!("/api/v1/events/{id}/moves"), token, body)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.body["version"].as_i64().unwrap()
    }

    /// This world's app on a real loopback port: its address, and the task serving it.
    pub async fn serve(&self) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app =
            app(self.state.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (addr, task)
    }

    pub async fn finish(self) {
        self.db.finish().await;
    }
}

/// A real PNG photo (it decodes), different for each `seed`.
pub fn png(seed: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 48, |x, y| {
        let v = (x * 7 + y * 13 + seed * 31) % 256;
        image::Rgb([v as u8, (v / 2) as u8, (255 - v) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub cookie: Option<String>,
    pub headers: axum::http::HeaderMap,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// Every error has the one shape, with a stable code and a Chinese message.
    pub fn assert_error(&self, status: StatusCode, code: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.code(), code, "{}", self.body);
        let message = self.body["error"]["message"].as_str().unwrap_or("");
        assert!(
            message
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "message should be Chinese: {}",
            self.body
        );
    }
}

//! The world the use-case tests run in: the demo city's regions, grids and organisations in a
//! fresh database (SQLite or PostgreSQL), a context on a clock the tests move, and accounts made
//! straight in the store.

#![allow(dead_code)]

use chrono::{SubsecRound, TimeZone, Utc};
use geo::Centroid;
use std::sync::{Arc, OnceLock};
use wangge_app::{Clock, Context, Principal, accounts, auth};
use wangge_domain::import::Plan;
use wangge_security::crypto::KeyRing;
use wangge_store::testing::{TestBackend, TestDb};
use wangge_store::{AuditQuery, NewAccount};

pub struct World {
    pub db: TestDb,
    pub ctx: Context,
    pub city: Arc<wangge_demo::DemoCity>,
}

/// The demo city, generated once per test binary: the tests only read it.
pub fn city() -> Arc<wangge_demo::DemoCity> {
    static CITY: OnceLock<Arc<wangge_demo::DemoCity>> = OnceLock::new();
    CITY.get_or_init(|| Arc::new(wangge_demo::generate(2026)))
        .clone()
}

/// A Tuesday morning in Beijing, on the clock the tests move.
pub fn start() -> chrono::DateTime<Utc> {
    wangge_domain::calendar::beijing()
        .with_ymd_and_hms(2026, 12, 1, 9, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
        .trunc_subsecs(6)
}

pub async fn world(backend: TestBackend) -> World {
    let db = TestDb::open(backend).await;
    let keys = KeyRing::parse(&KeyRing::generate_file()).unwrap();
    let city = city();
    db.store
        .apply_plan(&Plan {
            regions: city.regions.clone(),
            grids: city.grids.clone(),
        })
        .await
        .unwrap();
    // People carry their ID and phone numbers, sealed with this world's keys, as the demo's.
    let mut org = city.org.clone();
    wangge_demo::seal_people(&mut org, &city.personal, &keys);
    db.store.insert_org_batch(&org).await.unwrap();
    db.store.seal_audit(keys.audit_key(), None).await.unwrap();
    let ctx = Context::new(db.store.clone(), Default::default(), keys)
        .await
        .unwrap()
        .with_clock(Clock::fixed(start()))
        .with_files(db.dir.join("files"));
    World { db, ctx, city }
}

impl World {
    /// An account of a role at a scope, as a principal.
    pub async fn person(&self, username: &str, role: &str, scope: &str) -> Principal {
        let r: wangge_domain::access::Role = role.parse().unwrap();
        let s = accounts::resolve_scope(&self.db.store, r, scope)
            .await
            .unwrap();
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
                    password_hash: "$argon2id$unused".into(),
                    proposed_by: None,
                },
                self.ctx.now(),
            )
            .await
            .unwrap();
        let account = self.db.store.account(id).await.unwrap().unwrap();
        let (role, scope) = auth::role_and_scope(&account).unwrap();
        Principal::account(wangge_app::Person {
            account,
            role,
            scope,
            via: wangge_app::Via::Token { id },
            ip: None,
        })
    }

    pub fn grid(&self) -> (String, (f64, f64)) {
        let g = &self.city.grids[0];
        let c = g.shape.centroid().unwrap();
        (g.code.as_str().to_string(), (c.x(), c.y()))
    }

    pub async fn audit_of(&self, id: &str, action: &str) -> Vec<wangge_store::AuditRow> {
        self.db
            .store
            .search_audit(&AuditQuery {
                record_id: Some(id.into()),
                action: Some(action.into()),
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap()
    }
}

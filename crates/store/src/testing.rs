//! Throw-away databases for tests, on either backend. Every storage test runs twice: on a fresh
//! SQLite file and on a fresh PostgreSQL database created on the server named by
//! `WANGGE_TEST_PG_URL` (default: the local server's `test` database as `postgres`). A test that
//! cannot reach PostgreSQL fails loudly; it never skips.

use crate::{EventRow, Store};
use chrono::{DateTime, Utc};
use std::path::PathBuf;

pub const DEFAULT_PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    Sqlite,
    Postgres,
}

pub struct TestDb {
    pub store: Store,
    /// The URL to reach this database from another process (the binary under test).
    pub url: String,
    /// A scratch directory owned by the test (the SQLite file lives here).
    pub dir: PathBuf,
    pg_name: Option<String>,
}

pub fn pg_admin_url() -> String {
    std::env::var("WANGGE_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_PG_ADMIN_URL.to_string())
}

/// A fresh scratch directory under the system temp dir.
/// A freshly reported event (category 0401, normal urgency) in grid 640202001001001 at
/// (106.2, 38.5), reported at `at`: tests and benchmarks change what they need with
/// `EventRow { .., ..sample_event(at) }`.
pub fn sample_event(at: DateTime<Utc>) -> EventRow {
    EventRow {
        region_code: "640202000000".into(),
        id: uuid::Uuid::now_v7(),
        code: "64020220261127000001".into(),
        tracking_code: "T".into(),
        category_code: "0401".into(),
        domain: "general".into(),
        urgency: "normal".into(),
        state: "reported".into(),
        flow: "{}".into(),
        version: 1,
        source: "staff".into(),
        description: "暴露垃圾".into(),
        address: None,
        lon: 106.2,
        lat: 38.5,
        grid_code: "640202001001001".into(),
        reporter_account: None,
        reporter_phone_enc: None,
        reporter_phone_idx: None,
        idempotency_key: None,
        lead_department: None,
        departments: " ".into(),
        step: None,
        step_started_at: None,
        step_due_at: None,
        step_due_provisional: 0,
        suspended_at: None,
        extension_minutes: None,
        created_at: at,
        updated_at: at,
        yellow_at: None,
        light_notified: "green".into(),
    }
}

pub fn scratch_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "wangge-test-{tag}-{}",
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let cut = base
        .rfind('/')
        .filter(|&i| i > base.find("://").map_or(0, |s| s + 2))
        .unwrap_or(base.len());
    format!("{}/{db}{query}", &base[..cut])
}

impl TestDb {
    pub async fn open(backend: TestBackend) -> TestDb {
        TestDb::open_at(backend, None).await
    }

    /// A database migrated only up to `version` (every migration when `None`): a migration's
    /// test writes rows as the schema before it held them, then migrates on.
    pub async fn open_at(backend: TestBackend, version: Option<i64>) -> TestDb {
        let dir = scratch_dir("db");
        let open = |url: Option<String>, dir: PathBuf| async move {
            match version {
                None => Store::open(url.as_deref(), &dir).await,
                Some(v) => {
                    let store = match url {
                        Some(u) => Store::open_postgres(&u).await?,
                        None => Store::open_sqlite_file(&dir.join(crate::db::SQLITE_FILE)).await?,
                    };
                    store.migrate_until(v).await?;
                    Ok(store)
                }
            }
        };
        match backend {
            TestBackend::Sqlite => {
                std::fs::create_dir_all(&dir).expect("scratch dir");
                let store = open(None, dir.clone()).await.expect("open sqlite");
                let url = format!("sqlite:{}", dir.join(crate::db::SQLITE_FILE).display());
                TestDb {
                    store,
                    url,
                    dir,
                    pg_name: None,
                }
            }
            TestBackend::Postgres => {
                let admin_url = pg_admin_url();
                let admin = Store::open_postgres(&admin_url).await.unwrap_or_else(|e| {
                    panic!("PostgreSQL is required for the tests and could not be reached at {admin_url}: {e}. Run ./scripts/test, which starts it.")
                });
                let name = format!("wangge_t_{}", uuid::Uuid::now_v7().simple());
                // template0 takes no connections, so concurrent creations never wait on it; a busy
                // server (another test run, many pools) gets a few more tries before failing loudly.
                let mut tries = 0;
                while let Err(e) = admin
                    .execute_admin(&format!("CREATE DATABASE {name} TEMPLATE template0"))
                    .await
                {
                    tries += 1;
                    assert!(tries < 5, "create test database: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(300 * tries)).await;
                }
                admin.close().await;
                let url = with_database(&admin_url, &name);
                let mut tries = 0;
                let store = loop {
                    match open(Some(url.clone()), dir.clone()).await {
                        Ok(s) => break s,
                        Err(e) => {
                            tries += 1;
                            assert!(tries < 5, "open test database: {e}");
                            tokio::time::sleep(std::time::Duration::from_millis(300 * tries)).await;
                        }
                    }
                };
                TestDb {
                    store,
                    url,
                    dir,
                    pg_name: Some(name),
                }
            }
        }
    }

    /// Drops the database and the scratch directory.
    pub async fn finish(self) {
        self.store.close().await;
        if let Some(name) = self.pg_name
            && let Ok(admin) = Store::open_postgres(&pg_admin_url()).await
        {
            let _ = admin
                .execute_admin(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
            admin.close().await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Store {
    /// Applies the embedded migrations up to and including `version`.
    pub async fn migrate_until(&self, version: i64) -> Result<(), crate::StoreError> {
        crate::on_db!(self, |p| {
            let mut m = match self.backend() {
                crate::Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
                crate::Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
            };
            m.migrations = m
                .migrations
                .iter()
                .filter(|x| x.version <= version)
                .cloned()
                .collect::<Vec<_>>()
                .into();
            m.run(p).await
        })?;
        Ok(())
    }

    /// Runs one administrative statement built by the test harness (never from user input).
    pub async fn execute_admin(&self, sql: &str) -> Result<(), crate::StoreError> {
        crate::on_db!(self, |p| sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }
}

/// Declares a test twice, once per backend: `both_backends!(name)` runs `name(TestBackend)`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::testing::TestBackend::Sqlite).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::testing::TestBackend::Postgres).await
                }
            )+
        }
    };
}

impl Store {
    /// Moves every session's clock (tests of expiry): `sql` sets one timestamp column to `$1`.
    pub async fn set_session_times_for_test(
        &self,
        sql: &'static str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), crate::StoreError> {
        crate::on_db!(self, |p| sqlx::query(sql)
            .bind(at)
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Every row of a table as text (PostgreSQL's row-to-text), for tests that search stored
    /// bytes for values that must not be there.
    pub async fn table_text_for_test(
        &self,
        table: &'static str,
    ) -> Result<String, crate::StoreError> {
        let sql = match table {
            "people" => "SELECT CAST(t.* AS TEXT) FROM people t",
            "audit_log" => "SELECT CAST(t.* AS TEXT) FROM audit_log t",
            _ => "SELECT ''",
        };
        let rows: Vec<(String,)> = match &self.db {
            crate::db::Db::Pg(p) => sqlx::query_as(sql).fetch_all(p).await?,
            crate::db::Db::Sqlite(_) => Vec::new(),
        };
        Ok(rows
            .into_iter()
            .map(|(r,)| r)
            .collect::<Vec<_>>()
            .join("\n"))
    }
}

impl Store {
    /// What a database writer covering their tracks would do: recompute every audit record's hash
    /// from `from` on as plain SM3, relinking the chain and the head. Returns the records rewritten.
    pub async fn rehash_plain_for_test(&self, from: i64) -> Result<usize, crate::StoreError> {
        use crate::AuditRow;
        let rows: Vec<AuditRow> = crate::on_db!(self, |p| {
            sqlx::query_as(
            "SELECT seq, at, actor, actor_role, ip, action, record_type, record_id, detail, prev_hash, hash \
             FROM audit_log ORDER BY seq"
        )
        .fetch_all(p)
        .await
        })?;
        let mut prev = crate::GENESIS_HASH.to_string();
        let mut n = 0;
        for mut r in rows {
            if r.seq >= from {
                r.prev_hash = prev.clone();
                r.hash = r.expected_hash();
                crate::on_db!(self, |p| sqlx::query(
                    "UPDATE audit_log SET prev_hash = $2, hash = $3 WHERE seq = $1"
                )
                .bind(r.seq)
                .bind(&r.prev_hash)
                .bind(&r.hash)
                .execute(p)
                .await
                .map(|_| ()))?;
                n += 1;
            }
            prev = r.hash;
        }
        crate::on_db!(self, |p| sqlx::query(
            "UPDATE audit_head SET hash = $1 WHERE id = 1"
        )
        .bind(&prev)
        .execute(p)
        .await
        .map(|_| ()))?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_name_is_swapped() {
        assert_eq!(
            super::with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            super::with_database("postgres://h/test?sslmode=disable", "x"),
            "postgres://h/x?sslmode=disable"
        );
        assert_eq!(super::with_database("postgres://h", "x"), "postgres://h/x");
    }
}

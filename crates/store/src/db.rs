//! Opening the database, migrations, and the macro that runs one block of SQL on either backend.

use crate::StoreError;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, PgConnection, PgPool, SqlitePool};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// Runs `$body` with `$pool` bound to whichever pool is live. The body is compiled once per
/// backend, so binds and row decoding use each driver's own types.
#[macro_export]
macro_rules! on_db {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Pg($pool) => $body,
        }
    };
}

/// Moves a cache revision in `meta` on by one inside a transaction (`bump_revision!(tx, "atlas")`
/// bumps `atlas_revision`): every server compares it with the revision its cache was built from.
macro_rules! bump_revision {
    ($tx:expr, $name:literal) => {
        sqlx::query(concat!(
            "INSERT INTO meta (key, value) VALUES ('",
            $name,
            "_revision', '1') ON CONFLICT (key) DO UPDATE SET value = \
             CAST(CAST(meta.value AS INTEGER) + 1 AS TEXT)"
        ))
        .execute(&mut *$tx)
        .await
    };
}
pub(crate) use bump_revision;

#[derive(Clone, Debug)]
pub(crate) enum Db {
    Sqlite(SqlitePool),
    Pg(PgPool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The storage handle: cheap to clone, shared by every request.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) db: Db,
    /// How audit records are sealed from now on: set once for the store and all its clones.
    pub(crate) seal: std::sync::Arc<std::sync::OnceLock<crate::audit::AuditSeal>>,
}

/// The file name of the embedded database inside the data directory.
pub const SQLITE_FILE: &str = "wangge.db";

impl Store {
    /// Opens the database: PostgreSQL when `database_url` is a `postgres://` URL, otherwise the
    /// embedded SQLite file under `data_dir` (created on first use). Migrations are applied.
    pub async fn open(database_url: Option<&str>, data_dir: &Path) -> Result<Store, StoreError> {
        let store = match database_url {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Store::open_postgres(url).await?
            }
            Some(url) if url.starts_with("sqlite:") => {
                let path = PathBuf::from(
                    url.trim_start_matches("sqlite://")
                        .trim_start_matches("sqlite:"),
                );
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    ensure_dir(parent)?;
                }
                Store::open_sqlite_file(&path).await?
            }
            Some(other) => {
                return Err(StoreError::Connect {
                    target: redact(other),
                    reason: "不支持的数据库地址（应为 postgres://… 或 sqlite:…）".into(),
                });
            }
            None => {
                ensure_dir(data_dir)?;
                Store::open_sqlite_file(&data_dir.join(SQLITE_FILE)).await?
            }
        };
        store.migrate().await?;
        Ok(store)
    }

    pub async fn open_sqlite_file(path: &Path) -> Result<Store, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            // Group commits write many rows in one statement, and their size varies with the
            // group: room for every size of the three multi-row inserts keeps them prepared.
            .statement_cache_capacity(400)
            // Readers map the file instead of copying pages in: every commit resets the other
            // connections' page caches, and under steady intake re-reading through read(2) was
            // a tenth of the server's time.
            .pragma("mmap_size", "1073741824")
            // Statement journals (a multi-row insert that may have to undo itself) in memory,
            // not in a temporary file written on every group commit.
            .pragma("temp_store", "memory")
            .pragma("cache_size", "-32000");
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Connect {
                target: path.display().to_string(),
                reason: e.to_string(),
            })?;
        Ok(Store {
            db: Db::Sqlite(pool),
            seal: Default::default(),
        })
    }

    pub async fn open_postgres(url: &str) -> Result<Store, StoreError> {
        let connect_err = |e: sqlx::Error| StoreError::Connect {
            target: redact(url),
            reason: e.to_string(),
        };
        let options = PgConnectOptions::from_str(url).map_err(connect_err)?;
        // One direct connection first: a pool only says "timed out", this says why.
        let probe = tokio_timeout(
            Duration::from_secs(10),
            PgConnection::connect_with(&options),
        )
        .await;
        match probe {
            Some(Ok(conn)) => {
                let _ = conn.close().await;
            }
            Some(Err(e)) => return Err(connect_err(e)),
            None => {
                return Err(StoreError::Connect {
                    target: redact(url),
                    reason: "连接超时（10 秒）".into(),
                });
            }
        }
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(connect_err)?;
        Ok(Store {
            db: Db::Pg(pool),
            seal: Default::default(),
        })
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.db {
            Db::Sqlite(p) => sqlx::migrate!("./migrations/sqlite").run(p).await?,
            Db::Pg(p) => sqlx::migrate!("./migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match self.db {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Pg(_) => Backend::Postgres,
        }
    }

    /// Answers when the database does (the health check).
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_db!(self, |p| sqlx::query("SELECT 1")
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    pub async fn close(&self) {
        on_db!(self, |p| p.close().await)
    }

    /// Every table and its columns, sorted: the two backends' schemas must agree on these.
    pub async fn schema_columns(&self) -> Result<Vec<(String, String)>, StoreError> {
        use sqlx::Row;
        let rows: Vec<(String, String)> = match &self.db {
            Db::Sqlite(p) => sqlx::query(
                "SELECT m.name AS t, c.name AS c FROM sqlite_master m, pragma_table_info(m.name) c \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx_%'",
            )
            .fetch_all(p)
            .await?
            .into_iter()
            .map(|r| (r.get("t"), r.get("c")))
            .collect(),
            Db::Pg(p) => sqlx::query(
                "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name NOT LIKE '\\_sqlx\\_%'",
            )
            .fetch_all(p)
            .await?
            .into_iter()
            .map(|r| (r.get("t"), r.get("c")))
            .collect(),
        };
        let mut rows = rows;
        rows.sort();
        Ok(rows)
    }

    pub async fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        let v: Option<(String,)> = on_db!(self, |p| sqlx::query_as(
            "SELECT value FROM meta WHERE key = $1"
        )
        .bind(key)
        .fetch_optional(p)
        .await)?;
        Ok(v.map(|(v,)| v))
    }

    /// Sets a key only if it has no value yet; returns the value it has now (several servers
    /// starting together agree on the first one written).
    pub async fn init_meta(&self, key: &str, value: &str) -> Result<String, StoreError> {
        on_db!(self, |p| {
            sqlx::query(
                "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            )
            .bind(key)
            .bind(value)
            .execute(p)
            .await
            .map(|_| ())
        })?;
        Ok(self.meta(key).await?.unwrap_or_else(|| value.to_string()))
    }

    pub async fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        on_db!(self, |p| {
            sqlx::query(
            "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        )
        .bind(key)
        .bind(value)
        .execute(p)
        .await
        .map(|_| ())
        })?;
        Ok(())
    }
}

/// Creates the data directory, or says plainly why it cannot be.
fn ensure_dir(dir: &Path) -> Result<(), StoreError> {
    std::fs::create_dir_all(dir).map_err(|e| StoreError::DataDir {
        path: dir.display().to_string(),
        reason: e.to_string(),
    })?;
    if !dir.is_dir() {
        return Err(StoreError::DataDir {
            path: dir.display().to_string(),
            reason: "不是目录".into(),
        });
    }
    Ok(())
}

/// A database URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}@{}", &url[..s + 3], user, &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

/// Awaits a future for at most `limit`; `None` when it ran out of time.
async fn tokio_timeout<F: std::future::Future>(limit: Duration, f: F) -> Option<F::Output> {
    tokio::time::timeout(limit, f).await.ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            super::redact("postgres://u:secret@h:5432/db"),
            "postgres://u@h:5432/db"
        );
        assert_eq!(super::redact("postgres://h/db"), "postgres://h/db");
    }
}

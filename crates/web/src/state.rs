//! What every handler shares: the store, the security settings and keys, and two per-server caches
//! of database contents — the atlas (grid polygons in an R-tree) and the working calendar. Each
//! cache remembers the database revision it was built from; a background task compares revisions
//! and rebuilds when another process (an import, a calendar load, another server) changed the data.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use wangge_domain::atlas::Atlas;
use wangge_domain::calendar::{Calendar, OfficeHours, shipped_schedules};
use wangge_domain::catalog::{Category, default_catalogue};
use wangge_domain::settings::Settings;
use wangge_security::crypto::KeyRing;
use wangge_store::{Store, StoreError, Writer};

use crate::auth::AuthSettings;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// New reports and workflow moves go through one writer that commits them in groups.
    pub writer: Writer,
    pub atlas: Arc<Cached<Atlas>>,
    pub calendar: Arc<Cached<Calendar>>,
    /// Where notices also go besides the log, if an intranet webhook is configured.
    pub webhook: Option<Arc<crate::notify::Webhook>>,
    /// Where event photos are stored (content-addressed).
    pub files: Arc<std::path::PathBuf>,
    /// The administrator's settings and the catalogue they make of the shipped one.
    pub config: Arc<Cached<Configured>>,
    pub auth: Arc<AuthSettings>,
    /// API tokens verified in the last few seconds.
    pub tokens: Arc<crate::auth::TokenCache>,
    /// How often each address has used the public portal lately.
    pub public_limits: Arc<crate::portal::PublicLimits>,
    /// SM4 keys for personal data and second-factor secrets; never stored in the database.
    pub keys: Arc<KeyRing>,
}

type Loaded<T> = Pin<Box<dyn Future<Output = Result<(i64, T), StoreError>> + Send>>;

/// A value built from the database, with the revision it was built from.
pub struct Cached<T> {
    current: RwLock<Arc<T>>,
    revision: AtomicI64,
    revision_key: &'static str,
    load: Box<dyn Fn(Store) -> Loaded<T> + Send + Sync>,
}

impl<T: Send + Sync + 'static> Cached<T> {
    fn new(
        initial: T,
        revision_key: &'static str,
        load: impl Fn(Store) -> Loaded<T> + Send + Sync + 'static,
    ) -> Cached<T> {
        Cached {
            current: RwLock::new(Arc::new(initial)),
            revision: AtomicI64::new(-1),
            revision_key,
            load: Box::new(load),
        }
    }

    pub fn get(&self) -> Arc<T> {
        match self.current.read() {
            Ok(a) => a.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Rebuilds from the database.
    pub async fn reload(&self, store: &Store) -> Result<(), StoreError> {
        let (revision, value) = (self.load)(store.clone()).await?;
        let value = Arc::new(value);
        match self.current.write() {
            Ok(mut a) => *a = value,
            Err(poisoned) => *poisoned.into_inner() = value,
        }
        self.revision.store(revision, Ordering::SeqCst);
        Ok(())
    }

    /// Rebuilds only if the data changed since the last load.
    pub async fn refresh(&self, store: &Store) -> Result<bool, StoreError> {
        let revision = store
            .meta(self.revision_key)
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if revision == self.revision.load(Ordering::SeqCst) {
            return Ok(false);
        }
        self.reload(store).await?;
        Ok(true)
    }
}

fn blocking_err(e: tokio::task::JoinError) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

/// Loads the grids into an atlas (the revision is read first, so a change racing the load is
/// picked up by the next refresh).
fn load_atlas(store: Store) -> Loaded<Atlas> {
    Box::pin(async move {
        let revision = store.atlas_revision().await?;
        let regions = store.regions().await?;
        let grids = store.grids().await?;
        let atlas = tokio::task::spawn_blocking(move || Atlas::build(regions, grids))
            .await
            .map_err(blocking_err)?;
        Ok((revision, atlas))
    })
}

fn load_calendar(store: Store) -> Loaded<Calendar> {
    Box::pin(async move {
        let revision = store.calendar_revision().await?;
        let (days, years) = store.calendar_data().await?;
        let calendar =
            tokio::task::spawn_blocking(move || Calendar::new(days, years, OfficeHours::default()))
                .await
                .map_err(blocking_err)?;
        Ok((revision, calendar))
    })
}

/// The settings in force, with what they derive.
pub struct Configured {
    pub settings: Settings,
    pub catalogue: Vec<Category>,
}

impl Configured {
    pub fn new(settings: Settings) -> Configured {
        Configured {
            catalogue: settings.catalogue(&default_catalogue()),
            settings,
        }
    }

    pub fn category(&self, code: &str) -> Option<Category> {
        wangge_domain::catalog::find(&self.catalogue, code)
    }
}

/// Reads the stored settings. A document that no longer reads (written by a newer release, say)
/// falls back to the defaults with an error in the log rather than stopping intake.
fn load_config(store: Store) -> Loaded<Configured> {
    Box::pin(async move {
        let (revision, body) = store.settings().await?;
        let settings = match body.map(|b| serde_json::from_str::<Settings>(&b)) {
            None => Settings::default(),
            Some(Ok(s)) => s,
            Some(Err(e)) => {
                tracing::error!(error = %e, "stored settings unreadable; using the defaults");
                Settings::default()
            }
        };
        Ok((revision, Configured::new(settings)))
    })
}

impl AppState {
    /// When a step starting at `from` falls due for an event in `grid_code`, on its county's
    /// office hours.
    pub fn due(
        &self,
        grid_code: &str,
        from: chrono::DateTime<chrono::Utc>,
        limit: wangge_domain::calendar::Limit,
    ) -> wangge_domain::calendar::Due {
        let county = format!("{}000000", &grid_code[..6.min(grid_code.len())]);
        let calendar = self.calendar.get();
        match self.config.get().settings.office_hours_of(&county) {
            Some(hours) => calendar.due_in(&hours, from, limit),
            None => calendar.due(from, limit),
        }
    }

    /// The share of a step's time below which its light turns yellow.
    pub fn yellow_share(&self) -> f64 {
        self.config.get().settings.yellow_share
    }

    pub async fn new(
        store: Store,
        auth: AuthSettings,
        keys: KeyRing,
    ) -> Result<AppState, StoreError> {
        // A new database gets the notices that ship with the binary.
        store
            .seed_calendar(&shipped_schedules(), chrono::Utc::now())
            .await?;
        let atlas = Cached::new(Atlas::empty(), "atlas_revision", load_atlas);
        atlas.reload(&store).await?;
        let calendar = Cached::new(
            Calendar::shipped(OfficeHours::default()),
            "calendar_revision",
            load_calendar,
        );
        calendar.reload(&store).await?;
        let config = Cached::new(
            Configured::new(Settings::default()),
            "settings_revision",
            load_config,
        );
        config.reload(&store).await?;
        Ok(AppState {
            writer: Writer::start(store.clone()),
            store,
            atlas: Arc::new(atlas),
            calendar: Arc::new(calendar),
            config: Arc::new(config),
            files: Arc::new(std::env::temp_dir().join("wangge-attachments")),
            webhook: None,
            auth: Arc::new(auth),
            tokens: Arc::default(),
            public_limits: Arc::default(),
            keys: Arc::new(keys),
        })
    }

    /// Stores event photos under `dir` (the server uses DATA_DIR/attachments).
    pub fn with_files(mut self, dir: std::path::PathBuf) -> AppState {
        self.files = Arc::new(dir);
        self
    }

    /// Also sends notices to an intranet webhook.
    pub fn with_webhook(mut self, hook: crate::notify::Webhook) -> AppState {
        self.webhook = Some(Arc::new(hook));
        self
    }

    /// Keeps the caches in step with the database until the process ends.
    pub fn watch_caches(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let state = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                match state.atlas.refresh(&state.store).await {
                    Ok(true) => {
                        tracing::info!(grids = state.atlas.get().grid_count(), "atlas rebuilt")
                    }
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, "atlas refresh failed"),
                }
                match state.config.refresh(&state.store).await {
                    Ok(true) => tracing::info!("settings reloaded"),
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, "settings refresh failed"),
                }
                match state.calendar.refresh(&state.store).await {
                    Ok(true) => tracing::info!("working calendar reloaded"),
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, "calendar refresh failed"),
                }
            }
        })
    }
}

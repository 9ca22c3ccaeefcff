//! What every use case shares: the store and its writer, the security policy and keys, the clock,
//! and three per-server caches of database contents — the atlas (grid polygons in an R-tree), the
//! working calendar and the settings in force. Each cache remembers the database revision it was
//! built from; [`Context::watch_caches`] compares revisions and rebuilds when another process (an
//! import, a calendar load, another server) changed the data.

use crate::auth::{SecurityPolicy, TokenCache};
use crate::notify::Webhook;
use crate::portal::PublicLimits;
use chrono::{DateTime, SubsecRound, Utc};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use wangge_domain::atlas::Atlas;
use wangge_domain::calendar::{Calendar, Due, Limit, OfficeHours, shipped_schedules};
use wangge_domain::catalog::{Category, default_catalogue};
use wangge_domain::settings::Settings;
use wangge_security::crypto::KeyRing;
use wangge_store::{Store, StoreError, Writer};

/// The time every use case reads: the system's, or one a test sets and moves.
#[derive(Clone, Debug, Default)]
pub struct Clock(Option<Arc<Mutex<DateTime<Utc>>>>);

impl Clock {
    pub fn system() -> Clock {
        Clock(None)
    }

    /// A clock standing at `at` until moved.
    pub fn fixed(at: DateTime<Utc>) -> Clock {
        Clock(Some(Arc::new(Mutex::new(at))))
    }

    /// Now, to the microsecond: PostgreSQL keeps microseconds, so both databases return what
    /// was written.
    pub fn now(&self) -> DateTime<Utc> {
        match &self.0 {
            None => Utc::now().trunc_subsecs(6),
            Some(t) => *t.lock().unwrap_or_else(|p| p.into_inner()),
        }
    }

    /// Moves a fixed clock on (a system clock is not moved).
    pub fn advance(&self, by: chrono::Duration) {
        if let Some(t) = &self.0 {
            let mut t = t.lock().unwrap_or_else(|p| p.into_inner());
            *t = (*t + by).trunc_subsecs(6);
        }
    }
}

#[derive(Clone)]
pub struct Context {
    pub store: Store,
    /// New reports and workflow moves go through one writer that commits them in groups.
    pub writer: Writer,
    pub atlas: Arc<Cached<Atlas>>,
    pub calendar: Arc<Cached<Calendar>>,
    /// The administrator's settings and the catalogue they make of the shipped one.
    pub config: Arc<Cached<Configured>>,
    /// Where notices also go besides the log, if an intranet webhook is configured.
    pub webhook: Option<Arc<Webhook>>,
    /// Where event photos are stored (content-addressed).
    pub files: Arc<std::path::PathBuf>,
    pub security: Arc<SecurityPolicy>,
    /// API tokens verified in the last few seconds.
    pub tokens: Arc<TokenCache>,
    /// How often each address has used the public portal lately.
    pub public_limits: Arc<PublicLimits>,
    /// SM4 keys for personal data and second-factor secrets; never stored in the database.
    pub keys: Arc<KeyRing>,
    pub clock: Clock,
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

impl Context {
    /// When a step starting at `from` falls due for an event in `grid_code` (or a county code),
    /// on its county's office hours.
    pub fn due(&self, grid_code: &str, from: DateTime<Utc>, limit: Limit) -> Due {
        let county = format!("{}000000", grid_code.get(..6).unwrap_or(grid_code));
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

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub async fn new(
        store: Store,
        security: SecurityPolicy,
        keys: KeyRing,
    ) -> Result<Context, StoreError> {
        // A new database gets the notices that ship with the binary.
        store
            .seed_calendar(&shipped_schedules(), Utc::now())
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
        Ok(Context {
            writer: Writer::start(store.clone()),
            store,
            atlas: Arc::new(atlas),
            calendar: Arc::new(calendar),
            config: Arc::new(config),
            files: Arc::new(std::env::temp_dir().join("wangge-attachments")),
            webhook: None,
            security: Arc::new(security),
            tokens: Arc::default(),
            public_limits: Arc::default(),
            keys: Arc::new(keys),
            clock: Clock::system(),
        })
    }

    /// Stores event photos under `dir` (the server uses DATA_DIR/attachments).
    pub fn with_files(mut self, dir: std::path::PathBuf) -> Context {
        self.files = Arc::new(dir);
        self
    }

    /// Also sends notices to an intranet webhook.
    pub fn with_webhook(mut self, hook: Webhook) -> Context {
        self.webhook = Some(Arc::new(hook));
        self
    }

    /// Reads the time from `clock` (tests move it).
    pub fn with_clock(mut self, clock: Clock) -> Context {
        self.clock = clock;
        self
    }

    /// Keeps the caches in step with the database until the process ends.
    pub fn watch_caches(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let ctx = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                match ctx.atlas.refresh(&ctx.store).await {
                    Ok(true) => {
                        tracing::info!(grids = ctx.atlas.get().grid_count(), "atlas rebuilt")
                    }
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, "atlas refresh failed"),
                }
                match ctx.config.refresh(&ctx.store).await {
                    Ok(true) => tracing::info!("settings reloaded"),
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, "settings refresh failed"),
                }
                match ctx.calendar.refresh(&ctx.store).await {
                    Ok(true) => tracing::info!("working calendar reloaded"),
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, "calendar refresh failed"),
                }
            }
        })
    }
}

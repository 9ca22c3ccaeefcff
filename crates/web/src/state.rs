//! What every handler shares: the store and the atlas. The atlas is a per-server cache of the
//! grids; a background task compares the database's atlas revision with the one loaded and
//! rebuilds when another process (an import, another server) changed the grids.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use wangge_domain::atlas::Atlas;
use wangge_security::crypto::KeyRing;
use wangge_store::{Store, StoreError};

use crate::auth::AuthSettings;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub atlas: Arc<AtlasHandle>,
    pub auth: Arc<AuthSettings>,
    /// SM4 keys for personal data and second-factor secrets; never stored in the database.
    pub keys: Arc<KeyRing>,
}

pub struct AtlasHandle {
    current: RwLock<Arc<Atlas>>,
    revision: AtomicI64,
}

impl AtlasHandle {
    pub fn get(&self) -> Arc<Atlas> {
        match self.current.read() {
            Ok(a) => a.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Rebuilds the atlas from the database.
    pub async fn reload(&self, store: &Store) -> Result<(), StoreError> {
        let revision = store.atlas_revision().await?;
        let regions = store.regions().await?;
        let grids = store.grids().await?;
        let atlas = Arc::new(
            tokio::task::spawn_blocking(move || Atlas::build(regions, grids))
                .await
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        );
        match self.current.write() {
            Ok(mut a) => *a = atlas,
            Err(poisoned) => *poisoned.into_inner() = atlas,
        }
        self.revision.store(revision, Ordering::SeqCst);
        Ok(())
    }

    /// Rebuilds only if the grids changed since the last load.
    pub async fn refresh(&self, store: &Store) -> Result<bool, StoreError> {
        let revision = store.atlas_revision().await?;
        if revision == self.revision.load(Ordering::SeqCst) {
            return Ok(false);
        }
        self.reload(store).await?;
        Ok(true)
    }
}

impl AppState {
    pub async fn new(
        store: Store,
        auth: AuthSettings,
        keys: KeyRing,
    ) -> Result<AppState, StoreError> {
        let handle = AtlasHandle {
            current: RwLock::new(Arc::new(Atlas::empty())),
            revision: AtomicI64::new(-1),
        };
        handle.reload(&store).await?;
        Ok(AppState {
            store,
            atlas: Arc::new(handle),
            auth: Arc::new(auth),
            keys: Arc::new(keys),
        })
    }

    /// Keeps the atlas in step with the database until the process ends.
    pub fn watch_atlas(&self, every: Duration) -> tokio::task::JoinHandle<()> {
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
            }
        })
    }
}

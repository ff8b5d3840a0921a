//! The migration state persisted atomically in the state dir, behind a lock,
//! so it survives a restart and concurrent PUTs serialise on the version.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, AtomicU32, Ordering};

use super::features::Features;
use super::state::{MigrationDoc, MigrationError, MigrationPatch, apply_update};
use crate::system::fsio::write_atomic;

pub const FILE: &str = "migration.json";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Rejected(#[from] MigrationError),
    #[error("cannot persist the migration state to {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

/// The current document plus lock-free copies of the share and the flags for the hot path.
pub struct MigrationStore {
    path: Option<PathBuf>,
    /// Set when the truth lives elsewhere (a ConfigMap): PUTs are refused.
    external: Option<String>,
    doc: Mutex<MigrationDoc>,
    share_bp: AtomicU32,
    features: AtomicU8,
}

impl MigrationStore {
    /// Load from `dir/migration.json`, or start flat when there is none.
    pub fn open(dir: &Path) -> Result<MigrationStore, StoreError> {
        let path = dir.join(FILE);
        let doc = match std::fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| StoreError::Io {
                path: path.clone(),
                source: io::Error::new(io::ErrorKind::InvalidData, e),
            })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => MigrationDoc::default(),
            Err(source) => return Err(StoreError::Io { path, source }),
        };
        Ok(MigrationStore::with_doc(Some(path), doc))
    }

    /// Like `open`, but a state dir with no recorded migration starts at
    /// `initial` (a fresh install that begins flat), written at once so a
    /// restart without the setting keeps it. A recorded state always wins:
    /// the returned flag says whether `initial` was used.
    pub fn open_starting_at(
        dir: &Path,
        initial: super::state::Phase,
    ) -> Result<(MigrationStore, bool), StoreError> {
        let path = dir.join(FILE);
        if path.symlink_metadata().is_ok() {
            return MigrationStore::open(dir).map(|s| (s, false));
        }
        let s = MigrationStore::with_doc(Some(path), MigrationDoc::at_phase(initial, 0));
        s.persist(&s.get())?;
        Ok((s, true))
    }

    /// A store that is not persisted (a runtime that follows a ConfigMap keeps its truth there).
    pub fn in_memory(doc: MigrationDoc) -> MigrationStore {
        MigrationStore::with_doc(None, doc)
    }

    /// A store that follows `source` (e.g. `configmap hal9/hal9-migration`).
    pub fn following(source: String, doc: MigrationDoc) -> MigrationStore {
        let mut s = MigrationStore::with_doc(None, doc);
        s.external = Some(source);
        s
    }

    pub fn external(&self) -> Option<&str> {
        self.external.as_deref()
    }

    fn with_doc(path: Option<PathBuf>, doc: MigrationDoc) -> MigrationStore {
        let share = doc.share_bp();
        let features = Features::of(&doc).bits();
        MigrationStore {
            path,
            external: None,
            doc: Mutex::new(doc),
            share_bp: AtomicU32::new(share),
            features: features.into(),
        }
    }

    pub fn get(&self) -> MigrationDoc {
        self.doc
            .lock()
            .map(|d| d.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// The share in hundredths of a percent, read without a lock.
    pub fn share_bp(&self) -> u32 {
        self.share_bp.load(Ordering::Relaxed)
    }

    /// The switches of the current flags, read without a lock.
    pub fn features(&self) -> Features {
        Features::from_bits(self.features.load(Ordering::Relaxed))
    }

    /// Apply a whole proposed document.
    pub fn update(&self, proposed: &MigrationDoc) -> Result<MigrationDoc, StoreError> {
        self.commit(|_| proposed.clone())
    }

    /// Apply a PUT body that names only some fields: the rest are taken
    /// from the current document under the same lock, so a concurrent PUT
    /// cannot slip in between the read and the write.
    pub fn patch(&self, patch: &MigrationPatch) -> Result<MigrationDoc, StoreError> {
        self.commit(|current| patch.over(current))
    }

    /// Check the version, persist, then publish. The file is written before
    /// the in-memory state changes, so a crash never leaves the runtime
    /// serving a state that is not on disk.
    fn commit(
        &self,
        propose: impl FnOnce(&MigrationDoc) -> MigrationDoc,
    ) -> Result<MigrationDoc, StoreError> {
        let mut guard = self.doc.lock().unwrap_or_else(|p| p.into_inner());
        let next = apply_update(&guard, &propose(&guard))?;
        self.persist(&next)?;
        *guard = next.clone();
        self.publish(&next);
        Ok(next)
    }

    /// Replace the state wholesale (a ConfigMap the runtime follows changed).
    pub fn replace(&self, doc: MigrationDoc) {
        let mut guard = self.doc.lock().unwrap_or_else(|p| p.into_inner());
        self.publish(&doc);
        *guard = doc;
    }

    fn publish(&self, doc: &MigrationDoc) {
        self.share_bp.store(doc.share_bp(), Ordering::Relaxed);
        self.features
            .store(Features::of(doc).bits(), Ordering::Relaxed);
    }

    fn persist(&self, doc: &MigrationDoc) -> Result<(), StoreError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let body = serde_json::to_vec_pretty(doc).map_err(|e| StoreError::Io {
            path: path.clone(),
            source: io::Error::other(e),
        })?;
        write_atomic(path, &body, 0o600).map_err(|source| StoreError::Io {
            path: path.clone(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::migration::Phase;

    #[test]
    fn survives_a_restart_and_refuses_stale_versions() {
        let d = tempfile::tempdir().unwrap();
        let s = MigrationStore::open(d.path()).unwrap();
        assert_eq!(s.get().phase, Phase::Full);
        let next = s.update(&MigrationDoc::at_phase(Phase::RampUp, 0)).unwrap();
        assert_eq!(next.version, 1);
        assert_eq!(s.share_bp(), 7500);
        assert!(matches!(
            s.update(&MigrationDoc::at_phase(Phase::Full, 0)),
            Err(StoreError::Rejected(MigrationError::Stale { .. }))
        ));
        drop(s);
        let again = MigrationStore::open(d.path()).unwrap();
        assert_eq!(again.get(), next);
        assert_eq!(again.share_bp(), 7500);
    }

    #[test]
    fn a_fresh_state_dir_starts_where_told_and_a_recorded_one_is_kept() {
        let d = tempfile::tempdir().unwrap();
        let (s, used) = MigrationStore::open_starting_at(d.path(), Phase::Flat).unwrap();
        assert!(used);
        assert_eq!(s.get(), MigrationDoc::at_phase(Phase::Flat, 0));
        assert_eq!(s.share_bp(), 0);
        drop(s);
        // Persisted: a restart without the setting is still flat.
        assert_eq!(
            MigrationStore::open(d.path()).unwrap().get().phase,
            Phase::Flat
        );
        let s = MigrationStore::open(d.path()).unwrap();
        s.update(&MigrationDoc::at_phase(Phase::Canary, 0)).unwrap();
        drop(s);
        let (s, used) = MigrationStore::open_starting_at(d.path(), Phase::Flat).unwrap();
        assert!(!used, "a recorded migration is never reset by the setting");
        assert_eq!(s.get().phase, Phase::Canary);
    }
}

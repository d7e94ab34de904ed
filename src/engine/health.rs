//! Background errors: an I/O error (or corruption) met by background work — a flush,
//! a compaction, a log sync on the `IntervalMs` tick — makes the engine refuse writes
//! until [`Engine::resume`] succeeds, as RocksDB's background error does. Reads go
//! on. Until then a write would be acknowledged into a log and memtables that cannot
//! be flushed, and a full disk would fill the memory instead (docs/design.md,
//! "Background errors").

use std::sync::atomic::Ordering;

use parking_lot::Mutex;

use super::events::Event;
use super::{Engine, Inner};
use crate::error::{Error, Result};

/// The first background error not yet cleared by `resume`.
#[derive(Default)]
pub(crate) struct Health {
    error: Mutex<Option<Error>>,
    /// A failed log sync cut acknowledged writes from the log: they are in the
    /// memtables alone until `resume` flushes them (a checkpoint would miss them).
    pub(crate) log_cut: std::sync::atomic::AtomicBool,
    /// A write leader panicked after its group reached the log: the memtable may hold
    /// part of the group. Writes and flushes stop for good (`resume` cannot clear
    /// it); reopening replays the whole group from the log.
    reopen_required: std::sync::atomic::AtomicBool,
}

/// What a write, a flush or `resume` gets once a reopen is required.
const REOPEN_REQUIRED: &str = "a write failed after its batch reached the log (the write \
                               leader panicked), so the memtable may hold part of it: \
                               writes and flushes stop until the database is reopened, \
                               which replays the batch whole from the log";

/// Whether `e`, met in background work, is one that stops writes: what a retry
/// cannot be expected to cure by itself (I/O errors, corruption).
fn stops_writes(e: &Error) -> bool {
    matches!(e, Error::Io { .. } | Error::Corruption { .. })
}

/// The error a write gets while `cause` stands: the same kind (an I/O error keeps its
/// errno, so callers can tell a full disk), saying why and what to do.
fn refusal(cause: &Error) -> Error {
    const WHAT: &str = "the engine refuses writes after a background error; fix its \
                        cause (free disk space, ...), then call resume()";
    match cause.duplicate() {
        Error::Io { context, source } => Error::Io {
            context: format!("{WHAT}: {context}"),
            source,
        },
        other => Error::ReadOnly(format!("{WHAT}: {other}")),
    }
}

impl Inner {
    /// Ok unless a background error stands (or the engine was shut down).
    pub(crate) fn check_writable(&self) -> Result<()> {
        self.check_owner()?;
        self.check_not_torn()?;
        match &*self.health.error.lock() {
            None => Ok(()),
            Some(cause) => Err(refusal(cause)),
        }
    }

    /// Err once a reopen is required (`require_reopen`): a flush would make part of
    /// a failed batch durable, and the log's copy of it would then be deleted.
    pub(crate) fn check_not_torn(&self) -> Result<()> {
        match self.health.reopen_required.load(Ordering::Acquire) {
            false => Ok(()),
            true => Err(Error::Internal(REOPEN_REQUIRED.into())),
        }
    }

    /// Called while a write leader unwinds after its group reached the log: stops
    /// writes and flushes until the database is reopened. (Given to later writes, the
    /// group's sequence numbers would be used twice, which replay cannot order.)
    pub(crate) fn require_reopen(&self) {
        self.health.reopen_required.store(true, Ordering::Release);
        self.stats.background_errors.fetch_add(1, Ordering::Relaxed);
        self.emit(|| Event::BackgroundError {
            error: REOPEN_REQUIRED.into(),
            stops_writes: true,
        });
        *self.health.error.lock() = Some(Error::Internal(REOPEN_REQUIRED.into()));
    }

    pub(crate) fn has_background_error(&self) -> bool {
        self.health.error.lock().is_some()
    }

    /// Records an error of background work: counted always; kept (the first one)
    /// when it stops writes.
    pub(crate) fn note_background_error(&self, e: Error) {
        self.stats.background_errors.fetch_add(1, Ordering::Relaxed);
        let stops = stops_writes(&e);
        self.emit(|| Event::BackgroundError {
            error: e.to_string(),
            stops_writes: stops,
        });
        if stops {
            self.health.error.lock().get_or_insert(e);
        }
    }
}

impl Engine {
    /// The background error that stopped writes, if one stands: an I/O error or
    /// corruption met by a background flush, compaction or log sync. While it stands
    /// writes fail (with an error of the same kind naming it) and reads go on; see
    /// [`Engine::resume`]. With rollups, a rollup's own error is reported when the
    /// engine has none: while it stands, the rollup's writes fail (roll passes, and
    /// late writes, which mark it dirty).
    pub fn background_error(&self) -> Option<Error> {
        let own = self
            .inner
            .health
            .error
            .lock()
            .as_ref()
            .map(Error::duplicate);
        // A rollup's (each is an engine of its own, with its own log): its writes
        // (rolled points, dirty marks of late writes) stop too.
        own.or_else(|| self.rollup_engines().find_map(Engine::background_error))
    }

    /// The engines of the rollups (none without rules).
    fn rollup_engines(&self) -> impl Iterator<Item = &Engine> {
        self.inner
            .rollups
            .iter()
            .flat_map(|r| r.rules.iter().map(|s| &*s.child))
    }

    /// After a background error, once its cause is fixed (disk space freed): retries
    /// the work that must succeed before writes may go on — syncing the log and
    /// flushing every memtable — and, when it does, clears the error. When it fails
    /// again the error stands (the new one) and is returned. Does nothing when no
    /// background error stands. The rollups' engines (`Tuning::rollups`) are
    /// resumed first: their errors count as the engine's (`background_error`).
    pub fn resume(&self) -> Result<()> {
        self.inner.check_open()?;
        // The rollups' first: each is an engine of its own, whose error would stop
        // the next roll pass (and late writes) again.
        for child in self.rollup_engines() {
            child.resume()?;
        }
        self.inner.check_not_torn()?;
        if !self.inner.has_background_error() {
            return Ok(());
        }
        // Every memtable, the active one too: a failed log sync may have cut
        // acknowledged writes from the log, leaving them in memory only.
        let retried = (|| -> Result<()> {
            self.inner.sync_wal()?;
            self.inner.flush_all()
        })();
        match retried {
            Ok(()) => {
                *self.inner.health.error.lock() = None;
                self.inner.health.log_cut.store(false, Ordering::Release);
                self.inner.emit(|| Event::Resumed);
                self.inner.wake_maintenance();
                Ok(())
            }
            Err(e) => {
                let mut slot = self.inner.health.error.lock();
                *slot = Some(e.duplicate());
                Err(e)
            }
        }
    }
}

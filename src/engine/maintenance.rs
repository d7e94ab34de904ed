//! Background maintenance: one thread that syncs the log on the `IntervalMs` tick,
//! flushes frozen memtables, compacts, and runs GC every `gc_interval_secs`.
//!
//! The thread holds the engine only weakly (upgrading for each round of work), so
//! dropping the engine ends it, and it is woken at once when a memtable is frozen.
//! `flush_interval_ms` is the period at which it checks for work it was not woken for.
//!
//! Each thread's `JoinHandle` is kept in its [`Worker`], shared by its
//! [`MaintenanceHandle`] and (weakly) the engine: `Engine::shutdown` joins every
//! thread, those whose handle the caller still holds included, so that none holds
//! the engine (its directory lock) when shutdown returns.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::{Engine, Inner};
use crate::config::SyncMode;
use crate::error::{Error, Result};

#[derive(Default)]
struct SignalState {
    stop: bool,
    work: bool,
}

/// One maintenance thread, as its handle, the thread itself and (weakly) the engine
/// share it: how to stop or wake it, and its `JoinHandle`.
#[derive(Default)]
pub(crate) struct Worker {
    state: Mutex<SignalState>,
    cv: Condvar,
    /// Taken by whichever joins the thread first, its handle's `stop` or
    /// `Engine::shutdown`: the caller may hold the handle past shutdown, which must
    /// still wait for the thread. Locked across the join, so that the other one too
    /// returns only once the thread has ended.
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Worker {
    fn set(&self, f: impl FnOnce(&mut SignalState)) {
        f(&mut self.state.lock());
        self.cv.notify_all();
    }

    /// Waits for the thread to end (it must have been told to stop). Not on the
    /// thread itself: a thread joining itself would wait forever; told to stop, it
    /// ends on its own once the caller returns.
    fn join(&self) {
        let mut slot = self.thread.lock();
        let me = std::thread::current().id();
        if slot.as_ref().is_some_and(|t| t.thread().id() != me) {
            if let Some(t) = slot.take() {
                let _ = t.join();
            }
        }
    }
}

/// A running background maintenance thread; `stop` (or dropping it) ends it.
#[must_use = "dropping the handle stops background maintenance"]
pub struct MaintenanceHandle {
    worker: Arc<Worker>,
}

impl std::fmt::Debug for MaintenanceHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MaintenanceHandle")
            // Locked only while a `stop` or a shutdown joins it: still running then.
            .field(
                "running",
                &match self.worker.thread.try_lock() {
                    Some(t) => t.is_some(),
                    None => true,
                },
            )
            .finish_non_exhaustive()
    }
}

impl MaintenanceHandle {
    /// Stops the thread and waits for it to finish its current step.
    pub fn stop(self) {
        self.halt();
    }

    fn halt(&self) {
        self.worker.set(|s| s.stop = true);
        self.worker.join();
    }
}

impl Drop for MaintenanceHandle {
    fn drop(&mut self) {
        self.halt();
    }
}

/// Starts the thread, unless one already runs for this engine.
pub(super) fn spawn(inner: &Arc<Inner>) -> Option<MaintenanceHandle> {
    if inner.background_running.swap(true, Ordering::AcqRel) {
        return None;
    }
    let worker = Arc::new(Worker::default());
    {
        // Workers that ended (their handles stopped or dropped) leave the list here,
        // so starting and stopping maintenance again and again does not grow it.
        let mut workers = inner.workers.lock();
        workers.retain(|w| w.strong_count() > 0);
        workers.push(Arc::downgrade(&worker));
    }
    let weak = Arc::downgrade(inner);
    let w = worker.clone();
    let thread = std::thread::Builder::new()
        .name("flowdb-maintenance".into())
        .spawn(move || run(weak, w));
    match thread {
        // Stored after the start: the thread never looks at its own JoinHandle, and
        // no shutdown can run meanwhile (it takes the engine by value; this runs in
        // `open` or under `&Engine`).
        Ok(t) => {
            *worker.thread.lock() = Some(t);
            Some(MaintenanceHandle { worker })
        }
        Err(_) => {
            inner.background_running.store(false, Ordering::Release);
            None
        }
    }
}

fn run(weak: Weak<Inner>, worker: Arc<Worker>) {
    let mut last_gc = Instant::now();
    loop {
        let period = match weak.upgrade() {
            Some(inner) => inner.tick_period(),
            None => return,
        };
        {
            let mut s = worker.state.lock();
            if !s.stop && !s.work {
                worker.cv.wait_for(&mut s, period);
            }
            if s.stop {
                break;
            }
            s.work = false;
        }
        let Some(inner) = weak.upgrade() else { return };
        // After a background error, nothing is retried until `resume` (health.rs).
        if inner.has_background_error() {
            continue;
        }
        let noted = inner.stats.background_errors.load(Ordering::Relaxed);
        // A panic in a round (a bug) is caught and reported as a background error
        // (counted, an event): uncaught, it ended maintenance silently, leaving
        // frozen memtables, syncs, merges and retention to nobody.
        let round = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            inner.maintenance_round(&mut last_gc)
        }));
        let failed = match round {
            Ok(result) => result.err(),
            Err(panic) => Some(Error::Internal(format!(
                "a maintenance round panicked: {}",
                panic_message(panic.as_ref())
            ))),
        };
        // (A failed log sync is noted where it cuts the log: an error that stands
        // now and was noted during this round is not counted, nor reported, twice.)
        let noted_now = inner.stats.background_errors.load(Ordering::Relaxed) != noted;
        if let Some(e) = failed.filter(|_| !(noted_now && inner.has_background_error())) {
            inner.note_background_error(e);
        }
    }
    if let Some(inner) = weak.upgrade() {
        inner.background_running.store(false, Ordering::Release);
    }
}

/// The text a panic was raised with, when it was a string.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    match (panic.downcast_ref::<&str>(), panic.downcast_ref::<String>()) {
        (Some(s), _) => s,
        (_, Some(s)) => s,
        _ => "(no message)",
    }
}

impl Inner {
    fn tick_period(&self) -> Duration {
        let mut ms = self.config.flush_interval_ms;
        if let SyncMode::IntervalMs(n) = self.config.wal_sync_mode {
            ms = ms.min(n);
        }
        Duration::from_millis(ms.max(1))
    }

    fn maintenance_round(&self, last_gc: &mut Instant) -> Result<()> {
        let gc = last_gc.elapsed() >= Duration::from_secs(self.config.gc_interval_secs);
        if gc {
            *last_gc = Instant::now();
        }
        self.upkeep(gc)?;
        match &self.rollups {
            Some(r) => r.maintain(self, gc),
            None => Ok(()),
        }
    }

    /// A round's work on this engine's own files (a rollup's too).
    pub(super) fn upkeep(&self, gc: bool) -> Result<()> {
        if matches!(self.config.wal_sync_mode, SyncMode::IntervalMs(_)) {
            self.sync_wal()?;
        }
        while self.flush_oldest()? {}
        self.enforce_retention()?;
        for _ in 0..4 {
            if !self.maybe_compact()? {
                break;
            }
        }
        if gc {
            self.gc()?;
        }
        Ok(())
    }

    /// Wakes the background thread(s) for work now.
    pub(crate) fn wake_maintenance(&self) {
        for s in self.workers.lock().iter().filter_map(Weak::upgrade) {
            s.set(|s| s.work = true);
        }
    }

    pub(crate) fn stop_all_maintenance(&self) {
        for s in self.workers.lock().iter().filter_map(Weak::upgrade) {
            s.set(|s| s.stop = true);
        }
    }

    /// Waits for every maintenance thread to end, after `stop_all_maintenance`. A
    /// worker that is gone (its handle dropped, which joined it, and its thread
    /// ended) holds nothing of the engine.
    pub(crate) fn join_all_maintenance(&self) {
        // Collected first, so that the lock is not held across the joins: a join can
        // last a whole maintenance round, and waking or stopping the workers (a
        // write that freezes a memtable, `Inner`'s drop) must not wait for that.
        let workers: Vec<Arc<Worker>> = self
            .workers
            .lock()
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        for w in workers {
            w.join();
        }
    }
}

impl Engine {
    /// Starts background maintenance (flush, compaction, GC, log sync) on a thread,
    /// returning the handle that stops it; `None` when it already runs (as it does
    /// from `open` with `auto_background`).
    pub fn spawn_background_maintenance(&self) -> Option<MaintenanceHandle> {
        if self.inner.check_owner().is_err() {
            return None;
        }
        spawn(&self.inner)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Config, Engine};

    /// Starting and stopping maintenance many times keeps one entry per live worker.
    #[test]
    fn the_worker_list_does_not_grow_with_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            auto_background: false,
            ..Config::new(dir.path())
        };
        let e = Engine::open(config).unwrap();
        for _ in 0..50 {
            let h = e.spawn_background_maintenance().unwrap();
            h.stop();
        }
        let _live = e.spawn_background_maintenance().unwrap();
        assert!(
            e.inner.workers.lock().len() <= 2,
            "{}",
            e.inner.workers.lock().len()
        );
        drop(_live);
        e.shutdown().unwrap();
    }
}

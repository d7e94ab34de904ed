//! Background maintenance: one thread that syncs the log on the `IntervalMs` tick,
//! flushes frozen memtables, compacts, and runs GC every `gc_interval_secs`.
//!
//! The thread holds the engine only weakly (upgrading for each round of work), so
//! dropping the engine ends it, and it is woken at once when a memtable is frozen.
//! `flush_interval_ms` is the period at which it checks for work it was not woken for.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::{Engine, Inner};
use crate::config::SyncMode;
use crate::error::Result;

#[derive(Default)]
struct SignalState {
    stop: bool,
    work: bool,
}

#[derive(Default)]
pub(crate) struct Signal {
    state: Mutex<SignalState>,
    cv: Condvar,
}

impl Signal {
    fn set(&self, f: impl FnOnce(&mut SignalState)) {
        f(&mut self.state.lock());
        self.cv.notify_all();
    }
}

/// A running background maintenance thread; `stop` (or dropping it) ends it.
#[must_use = "dropping the handle stops background maintenance"]
pub struct MaintenanceHandle {
    signal: Arc<Signal>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for MaintenanceHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MaintenanceHandle")
            .field("running", &self.thread.is_some())
            .finish_non_exhaustive()
    }
}

impl MaintenanceHandle {
    /// Stops the thread and waits for it to finish its current step.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.signal.set(|s| s.stop = true);
        if let Some(t) = self.thread.take() {
            if t.thread().id() != std::thread::current().id() {
                let _ = t.join();
            }
        }
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
    let signal = Arc::new(Signal::default());
    inner.signals.lock().push(Arc::downgrade(&signal));
    let weak = Arc::downgrade(inner);
    let sig = signal.clone();
    let thread = std::thread::Builder::new()
        .name("flowdb-maintenance".into())
        .spawn(move || run(weak, sig));
    match thread {
        Ok(t) => Some(MaintenanceHandle {
            signal,
            thread: Some(t),
        }),
        Err(_) => {
            inner.background_running.store(false, Ordering::Release);
            None
        }
    }
}

fn run(weak: Weak<Inner>, signal: Arc<Signal>) {
    let mut last_gc = Instant::now();
    loop {
        let period = match weak.upgrade() {
            Some(inner) => inner.tick_period(),
            None => return,
        };
        {
            let mut s = signal.state.lock();
            if !s.stop && !s.work {
                signal.cv.wait_for(&mut s, period);
            }
            if s.stop {
                break;
            }
            s.work = false;
        }
        let Some(inner) = weak.upgrade() else { return };
        if inner.maintenance_round(&mut last_gc).is_err() {
            inner
                .stats
                .background_errors
                .fetch_add(1, Ordering::Relaxed);
        }
    }
    if let Some(inner) = weak.upgrade() {
        inner.background_running.store(false, Ordering::Release);
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
        if matches!(self.config.wal_sync_mode, SyncMode::IntervalMs(_)) {
            self.sync_wal()?;
        }
        while self.flush_oldest()? {}
        for _ in 0..4 {
            if !self.maybe_compact()? {
                break;
            }
        }
        if last_gc.elapsed() >= Duration::from_secs(self.config.gc_interval_secs) {
            *last_gc = Instant::now();
            self.gc()?;
        }
        Ok(())
    }

    /// Wakes the background thread(s) for work now.
    pub(crate) fn wake_maintenance(&self) {
        for s in self.signals.lock().iter().filter_map(Weak::upgrade) {
            s.set(|s| s.work = true);
        }
    }

    pub(crate) fn stop_all_maintenance(&self) {
        for s in self.signals.lock().iter().filter_map(Weak::upgrade) {
            s.set(|s| s.stop = true);
        }
    }
}

impl Engine {
    /// Starts background maintenance (flush, compaction, GC, log sync) on a thread,
    /// returning the handle that stops it; `None` when it already runs (as it does
    /// from `open` with `auto_background`).
    pub fn spawn_background_maintenance(&self) -> Option<MaintenanceHandle> {
        if self.inner.check_open().is_err() {
            return None;
        }
        spawn(&self.inner)
    }
}

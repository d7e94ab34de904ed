//! Events for an application to log or alert on: flushes, merges, write stalls and
//! background errors, with their durations (RocksDB's `EventListener`, in the small).
//!
//! Events are queued where they happen and handed to the listener, in order, on a
//! thread of their own (`flowdb-events`). So a listener may take its time, log, or
//! even call the engine without holding up (or deadlocking) the flush that reported;
//! in exchange an event arrives shortly after it happened. `Engine::shutdown` and
//! dropping the engine wait until every event queued before was delivered, so no
//! listener runs once they return (C relies on it: its listener's user data).

use std::sync::mpsc::{channel, Sender};
use std::sync::Arc;
use std::thread::{JoinHandle, ThreadId};
use std::time::Duration;

use parking_lot::Mutex;

use super::{Engine, Inner};
use crate::error::{Error, Result};

/// Something that happened in the engine (see [`Engine::set_event_listener`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A memtable became `tables` tables of `bytes` bytes in all.
    FlushCompleted {
        tables: usize,
        bytes: u64,
        duration: Duration,
    },
    /// A merge (compaction, or a rewrite by GC or retention) replaced `input_tables`
    /// tables by `output_tables` of `bytes` bytes in all.
    CompactionCompleted {
        input_tables: usize,
        output_tables: usize,
        bytes: u64,
        duration: Duration,
    },
    /// A writer waited `duration` for a flush (too many memtables awaiting one).
    WriteStall { duration: Duration },
    /// Background work failed. `stops_writes`: the error became the engine's
    /// background error (writes fail until `Engine::resume`).
    BackgroundError { error: String, stops_writes: bool },
    /// `Engine::resume` cleared the background error.
    Resumed,
}

impl Event {
    /// The event's kind as one word: `flush`, `compaction`, `stall`, `error`, `resumed`.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::FlushCompleted { .. } => "flush",
            Event::CompactionCompleted { .. } => "compaction",
            Event::WriteStall { .. } => "stall",
            Event::BackgroundError { .. } => "error",
            Event::Resumed => "resumed",
        }
    }
}

/// A function that receives the engine's events.
pub type EventListener = Arc<dyn Fn(&Event) + Send + Sync>;

/// The queue to the listener's thread, when a listener is set.
/// No lock is held while a thread is joined, so a listener that calls the engine
/// (even `set_event_listener`, which it is refused) never waits for its own end.
#[derive(Default)]
pub(crate) struct Events {
    queue: Mutex<Option<Sender<Event>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// The listener's thread, readable while a replacement waits for it.
    listener_thread: Mutex<Option<ThreadId>>,
    /// Serializes `set_event_listener` calls, so that each waits for the listener it
    /// replaces and none is left running unjoined.
    setting: Mutex<()>,
}

impl Events {
    /// Ends the listener's thread after it has delivered what is queued (waiting for
    /// that, unless called on that thread: then it ends once the listener returns).
    fn stop(&self) {
        drop(self.queue.lock().take());
        let thread = self.thread.lock().take();
        if let Some(t) = thread {
            if t.thread().id() != std::thread::current().id() {
                let _ = t.join();
            }
        }
    }
}

impl Inner {
    /// Queues `event` for the listener, if one is set.
    pub(crate) fn emit(&self, event: impl FnOnce() -> Event) {
        if let Some(tx) = &*self.events.queue.lock() {
            let _ = tx.send(event());
        }
    }

    pub(crate) fn stop_events(&self) {
        self.events.stop();
    }
}

impl Engine {
    /// Sets (or with `None` removes) the function that receives the engine's
    /// [`Event`]s, on a thread of its own, in the order they happened. A listener set
    /// before replaces the old one once the old one has had every event queued for it.
    pub fn set_event_listener(&self, listener: Option<EventListener>) -> Result<()> {
        self.inner.check_open()?;
        let events = &self.inner.events;
        if *events.listener_thread.lock() == Some(std::thread::current().id()) {
            return Err(Error::invalid(
                "set_event_listener was called from the event listener",
            ));
        }
        let _one_at_a_time = events.setting.lock();
        events.stop();
        let Some(listener) = listener else {
            return Ok(());
        };
        let (tx, rx) = channel::<Event>();
        let thread = std::thread::Builder::new()
            .name("flowdb-events".into())
            .spawn(move || {
                for event in rx {
                    // A listener that panics loses that event, not the later ones.
                    let call = std::panic::AssertUnwindSafe(|| listener(&event));
                    let _ = std::panic::catch_unwind(call);
                }
            })
            .map_err(|e| Error::Io {
                context: "starting the event listener's thread".into(),
                source: e,
            })?;
        *events.listener_thread.lock() = Some(thread.thread().id());
        *events.queue.lock() = Some(tx);
        *events.thread.lock() = Some(thread);
        Ok(())
    }
}

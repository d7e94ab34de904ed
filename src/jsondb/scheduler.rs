//! Transaction scheduling (§transaction-scheduling): a transaction may start when no
//! transaction created before it, still unfinished, overlaps its scope with either of
//! them read-write. So read-write transactions with overlapping scopes run one at a
//! time in creation order, and read-only ones run alongside each other.
//!
//! Waiting never blocks forever: past the timeout the begin fails with `Busy`, and a
//! thread that already holds a conflicting transaction gets `Busy` at once instead of
//! deadlocking on itself.

use std::sync::Arc;
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::error::{Error, Result};

struct Entry {
    id: u64,
    scope: Arc<[String]>,
    write: bool,
    thread: ThreadId,
    started: bool,
}

impl Entry {
    fn conflicts(&self, scope: &[String], write: bool) -> bool {
        (self.write || write) && self.scope.iter().any(|s| scope.contains(s))
    }
}

#[derive(Default)]
struct State {
    next_id: u64,
    entries: Vec<Entry>,
}

pub(crate) struct Scheduler {
    state: Mutex<State>,
    cv: Condvar,
    timeout: Mutex<Duration>,
}

impl Scheduler {
    pub(crate) fn new(timeout: Duration) -> Self {
        Scheduler {
            state: Mutex::new(State::default()),
            cv: Condvar::new(),
            timeout: Mutex::new(timeout),
        }
    }

    pub(crate) fn set_timeout(&self, t: Duration) {
        *self.timeout.lock() = t;
    }

    /// Registers a transaction and waits until it may start; returns its id.
    pub(crate) fn begin(&self, scope: &Arc<[String]>, write: bool) -> Result<u64> {
        // The clock is read only if the transaction has to wait.
        let mut deadline = None;
        let me = std::thread::current().id();
        let mut st = self.state.lock();
        let id = st.next_id;
        st.next_id += 1;
        st.entries.push(Entry {
            id,
            scope: scope.clone(),
            write,
            thread: me,
            started: false,
        });
        loop {
            let pos = st.entries.iter().position(|e| e.id == id).unwrap_or(0);
            let blockers: Vec<&Entry> = st.entries[..pos]
                .iter()
                .filter(|e| e.conflicts(scope, write))
                .collect();
            if blockers.is_empty() {
                st.entries[pos].started = true;
                return Ok(id);
            }
            let own = blockers.iter().any(|e| e.started && e.thread == me);
            let until = *deadline.get_or_insert_with(|| Instant::now() + *self.timeout.lock());
            let timed_out = !own && self.cv.wait_until(&mut st, until).timed_out();
            if own || timed_out {
                st.entries.retain(|e| e.id != id);
                self.cv.notify_all();
                return Err(Error::Busy(format!(
                    "a {} transaction on {:?} could not start: {}",
                    if write { "read-write" } else { "read-only" },
                    scope,
                    if own {
                        "this thread holds an overlapping transaction that must finish first"
                    } else {
                        "an overlapping transaction did not finish in time"
                    }
                )));
            }
        }
    }

    pub(crate) fn end(&self, id: u64) {
        let mut st = self.state.lock();
        st.entries.retain(|e| e.id != id);
        self.cv.notify_all();
    }
}

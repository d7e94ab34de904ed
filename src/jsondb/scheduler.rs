//! Transaction scheduling (§transaction-scheduling): a transaction may start when no
//! transaction created before it, still unfinished, overlaps its scope with either of
//! them read-write. So read-write transactions with overlapping scopes run one at a
//! time in creation order, and read-only ones run alongside each other.
//!
//! Waiting never blocks forever: past the timeout the begin fails with `Busy`, and a
//! thread that already holds a transaction it would wait for — directly, or through a
//! chain of transactions waiting for each other — gets `Busy` at once instead of
//! deadlocking on itself. (A transaction counts as its creating thread's: one moved
//! to another thread still does, docs/jsondb.md.)

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
    /// The scopes of one store made so far, reused: most transactions are one
    /// request on one store (`get`, `put`), and making a scope took three
    /// allocations and their frees (~5% of a document `get`). At most
    /// `ONE_STORE_SCOPES`; past that, emptied and begun again.
    one_store: Mutex<Vec<Arc<[String]>>>,
}

/// How many one-store scopes the scheduler keeps.
const ONE_STORE_SCOPES: usize = 64;

impl Scheduler {
    pub(crate) fn new(timeout: Duration) -> Self {
        Scheduler {
            state: Mutex::new(State::default()),
            cv: Condvar::new(),
            timeout: Mutex::new(timeout),
            one_store: Mutex::new(Vec::new()),
        }
    }

    /// The scope of a transaction on `stores`: their names, sorted, each once.
    pub(crate) fn scope(&self, stores: &[&str]) -> Arc<[String]> {
        if let [one] = stores {
            let mut kept = self.one_store.lock();
            if let Some(s) = kept.iter().find(|s| s[0] == *one) {
                return s.clone();
            }
            if kept.len() == ONE_STORE_SCOPES {
                kept.clear();
            }
            let s: Arc<[String]> = Arc::new([one.to_string()]);
            kept.push(s.clone());
            return s;
        }
        let mut scope: Vec<String> = stores.iter().map(|s| s.to_string()).collect();
        scope.sort();
        scope.dedup();
        scope.into()
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
            let own = waits_for_own(&st.entries, &blockers, me);
            // (A timeout too long to add to the clock waits without end.)
            let until =
                *deadline.get_or_insert_with(|| Instant::now().checked_add(*self.timeout.lock()));
            let timed_out = !own
                && match until {
                    Some(t) => self.cv.wait_until(&mut st, t).timed_out(),
                    None => {
                        self.cv.wait(&mut st);
                        false
                    }
                };
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

    /// The transaction timeout.
    pub(crate) fn timeout(&self) -> Duration {
        *self.timeout.lock()
    }

    /// Whether a transaction `waiter` is waiting to begin waits, directly or through
    /// a chain, for a started transaction of `holder`.
    pub(crate) fn waits_for(&self, waiter: ThreadId, holder: ThreadId) -> bool {
        let st = self.state.lock();
        st.entries.iter().enumerate().any(|(pos, e)| {
            if e.started || e.thread != waiter {
                return false;
            }
            let blockers: Vec<&Entry> = st.entries[..pos]
                .iter()
                .filter(|x| x.conflicts(&e.scope, e.write))
                .collect();
            waits_for_own(&st.entries, &blockers, holder)
        })
    }

    pub(crate) fn end(&self, id: u64) {
        let mut st = self.state.lock();
        st.entries.retain(|e| e.id != id);
        self.cv.notify_all();
    }
}

/// Whether waiting for `blockers` would wait for a started transaction of `me`:
/// one of them is, or one not started yet waits (through the transactions before
/// it that it conflicts with) for one that is.
/// (Run at every wake-up of every waiter: nothing is walked unless `me` holds a
/// started transaction, and each entry is visited once.)
fn waits_for_own(entries: &[Entry], blockers: &[&Entry], me: ThreadId) -> bool {
    if !entries.iter().any(|e| e.started && e.thread == me) {
        return false;
    }
    let mut seen: std::collections::HashSet<u64> = blockers.iter().map(|e| e.id).collect();
    let mut todo: Vec<&Entry> = blockers.to_vec();
    while let Some(e) = todo.pop() {
        if e.started {
            if e.thread == me {
                return true;
            }
            continue;
        }
        let pos = entries.iter().position(|x| x.id == e.id).unwrap_or(0);
        for x in &entries[..pos] {
            if x.conflicts(&e.scope, e.write) && seen.insert(x.id) {
                todo.push(x);
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::{Scheduler, ONE_STORE_SCOPES};

    /// A scope is its stores' names sorted, each once; a one-store scope is made
    /// once and handed out again, also after the kept ones were emptied.
    #[test]
    fn scopes_are_sorted_names_and_one_store_scopes_are_reused() {
        let s = Scheduler::new(Duration::from_secs(1));
        assert_eq!(&*s.scope(&["b", "a", "b"]), ["a", "b"]);
        let first = s.scope(&["users"]);
        assert_eq!(&*first, ["users"]);
        assert!(Arc::ptr_eq(&first, &s.scope(&["users"])));
        for i in 0..3 * ONE_STORE_SCOPES {
            let name = format!("s{i}");
            let scope = s.scope(&[name.as_str()]);
            assert_eq!(&*scope, std::slice::from_ref(&name));
            assert!(Arc::ptr_eq(&scope, &s.scope(&[name.as_str()])));
            assert!(s.one_store.lock().len() <= ONE_STORE_SCOPES);
        }
        assert_eq!(&*s.scope(&["users"]), ["users"]);
    }
}

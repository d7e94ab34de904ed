//! The change feed (what Dexie's `liveQuery` and PouchDB's `changes()` give, and
//! IndexedDB lacks): every committed transaction that changes documents gets a
//! commit sequence number and a change-log record, written in the same engine batch
//! as its documents, so the log holds exactly the committed changes, in commit
//! order. Subscribers in this process get each change as it commits;
//! `changes_since(seq)` reads the log, to resume after a restart.
//!
//! Sequence numbers increase with every commit and are never reused: a commit's is
//! the greater of the previous one + 1 and the commit's time in microseconds, so
//! they survive the log's expiry. They are not contiguous; each log record names
//! its predecessor, so a reader asking for changes the log no longer holds is told
//! so rather than handed a silent gap. Log records expire after the retention
//! (`JsonDB::set_change_retention`, 24 hours by default), by the engine's TTL.
//!
//! Within one commit, its clears come first (they are applied first), then the
//! other changes by store (in creation order) and key, not in the order the
//! transaction made them: a commit is one atomic step. A document created and
//! deleted by one transaction is no change (txn/commit.rs checks the snapshot).
//!
//! Commits that change documents are numbered and written one at a time (a mutex
//! around numbering and the engine write), which is what keeps the log, the
//! sequence and the delivery in one order.
//!
//! Stores are identified by their catalog id, which a rename keeps and which is
//! never given to another store: subscribers hold the ids of the stores they named,
//! and each logged change carries its store's id beside the name it had then. A
//! change reports its store's current name — live ones the name at commit, logged
//! ones the name when read (the logged name for a store deleted since) — so a
//! store's changes follow it through renames. Records written before ids were
//! logged have only names: their changes belong to the store that has that name
//! when they are read.
//!
//! A resume point is checked against the log: the first record after it must name
//! it as its predecessor (else the point was never a commit of this log: an older
//! copy restored, commits lost at a crash), each later record the one before, and
//! the last one read must be the newest commit (else the newest records expired).
//!
//! Here: numbering and logging commits, handing their changes to subscribers, and
//! [`Subscription`]; the log's records, and reading them back, are in `feed/log.rs`.

mod log;

use std::collections::BTreeSet;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::getall::decode_key;
use super::layout::{feed_head_key, TS};
use super::range::KeyRange;
use super::schema::Catalog;
use super::JsonDB;
use crate::engine::{Engine, WriteBatch};
use crate::error::{Error, Result};
use crate::Record;
use log::{log_key, logged_last, LogRecord};

/// How long change-log records are kept by default.
pub const DEFAULT_CHANGE_RETENTION: Duration = Duration::from_secs(24 * 3600);

/// What a change did to its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangeKind {
    /// The document under the key was stored (created or replaced).
    Put,
    /// The document under the key was deleted.
    Delete,
    /// Every document of the store was deleted (`clear`); the key is `null`.
    Clear,
}

/// One committed change.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// The commit's sequence number (shared by the changes of one transaction).
    pub seq: u64,
    pub store: String,
    pub key: Value,
    pub kind: ChangeKind,
}

struct Subscriber {
    id: u64,
    /// The ids of its stores (they survive renames, and are never reused).
    stores: BTreeSet<u32>,
    range: Option<KeyRange>,
    tx: Sender<Change>,
}

impl Subscriber {
    /// Whether it wants `c`, a change to the store with id `store` (`None`: a
    /// store that no longer exists, of a record written before ids were logged).
    fn wants(&self, store: Option<u32>, c: &Change) -> bool {
        store.is_some_and(|s| self.stores.contains(&s))
            && match (&self.range, c.kind) {
                (Some(r), ChangeKind::Put | ChangeKind::Delete) => {
                    r.includes(&c.key).unwrap_or(false)
                }
                _ => true,
            }
    }
}

struct FeedState {
    /// The last commit's sequence number (0: none yet).
    last: u64,
    subscribers: Vec<Subscriber>,
    next_id: u64,
}

/// The feed of one database.
pub(crate) struct Feed {
    state: Mutex<FeedState>,
    retention: Mutex<Duration>,
}

/// A change before its commit: the store's id, the encoded key, and the kind.
pub(crate) type Pending = (u32, Vec<u8>, ChangeKind);

impl Feed {
    /// The feed of a database whose log is in `engine` (the last sequence is read).
    pub(crate) fn open(engine: &Engine) -> Result<Feed> {
        let last = logged_last(engine)?;
        Ok(Feed {
            state: Mutex::new(FeedState {
                last,
                subscribers: Vec::new(),
                next_id: 0,
            }),
            retention: Mutex::new(DEFAULT_CHANGE_RETENTION),
        })
    }

    /// Reads the last sequence again (a read-only instance that caught up).
    pub(crate) fn reload(&self, engine: &Engine) -> Result<()> {
        let last = logged_last(engine)?;
        let mut st = self.state.lock();
        st.last = st.last.max(last);
        Ok(())
    }

    pub(crate) fn set_retention(&self, d: Duration) {
        *self.retention.lock() = d;
    }

    pub(crate) fn last_seq(&self) -> u64 {
        self.state.lock().last
    }

    /// Commits `batch` through `write`, numbered and logged when `pending` holds
    /// changes, and hands the changes to the subscribers once it is written.
    pub(crate) fn commit(
        &self,
        catalog: &Catalog,
        pending: Vec<Pending>,
        mut batch: WriteBatch,
        write: impl FnOnce(WriteBatch) -> Result<()>,
    ) -> Result<()> {
        if pending.is_empty() {
            return write(batch);
        }
        // Changes come grouped by store (overlay order): the name is looked up
        // once per store, not per change, and no map is built per commit.
        let mut named: Option<(u32, Option<&str>)> = None;
        let mut changes = Vec::with_capacity(pending.len());
        let mut store_ids = Vec::with_capacity(pending.len());
        for (store, key, kind) in pending {
            let name = match named {
                Some((id, name)) if id == store => name,
                _ => {
                    let name = catalog
                        .stores
                        .values()
                        .find(|s| s.id == store)
                        .map(|s| s.name.as_str());
                    named = Some((store, name));
                    name
                }
            };
            let Some(name) = name else {
                continue; // a store deleted in this transaction
            };
            let key = match kind {
                ChangeKind::Clear => Value::Null,
                _ => decode_key(&key)?,
            };
            changes.push((name.to_string(), key, kind));
            store_ids.push(store);
        }
        let mut st = self.state.lock();
        let prev = st.last;
        let now = crate::now_micros().max(0) as u64;
        let seq = (prev + 1).max(now);
        let record = LogRecord {
            prev,
            changes,
            store_ids,
        };
        let bytes = serde_json::to_vec(&record).map_err(|e| Error::Internal(e.to_string()))?;
        let retention = self.retention.lock().as_micros().min(i64::MAX as u128) as i64;
        let expire_at = (now as i64).saturating_add(retention.max(1));
        batch.put(Record::new(log_key(seq), TS, bytes).with_expire_at(expire_at));
        batch.put_permanent(Record::new(feed_head_key(), TS, seq.to_be_bytes().to_vec()));
        write(batch)?;
        st.last = seq;
        let subs = &mut st.subscribers;
        for ((store, key, kind), id) in record.changes.into_iter().zip(record.store_ids) {
            let c = Change {
                seq,
                store,
                key,
                kind,
            };
            // A subscriber whose receiver is gone is dropped here.
            subs.retain(|s| !s.wants(Some(id), &c) || s.tx.send(c.clone()).is_ok());
        }
        Ok(())
    }

    /// The committed changes after `seq`, in commit order, read from the log, each
    /// under its store's name in `catalog`. `NotFound` when changes after `seq`
    /// have expired from the log, or `seq` was never a commit of this database.
    pub(crate) fn changes_since(
        &self,
        engine: &Engine,
        catalog: &Catalog,
        seq: u64,
    ) -> Result<Vec<Change>> {
        let changes = self.read_since(engine, catalog, seq, self.last_seq())?;
        Ok(changes.into_iter().map(|(_, c)| c).collect())
    }

    /// A subscription to the changes of `stores` (and keys in `range`), from the
    /// next commit on, or from after `since` (the logged changes first).
    /// `stores` are ids, and `catalog` names the logged changes.
    pub(crate) fn subscribe(
        self: &Arc<Self>,
        engine: &Engine,
        catalog: &Catalog,
        stores: BTreeSet<u32>,
        range: Option<KeyRange>,
        since: Option<u64>,
    ) -> Result<Subscription> {
        if stores.is_empty() {
            return Err(Error::invalid("a subscription needs at least one store"));
        }
        let (tx, rx) = mpsc::channel();
        let sub = Subscriber {
            id: 0,
            stores,
            range,
            tx,
        };
        // Under the lock no commit can slip between the backlog and the live feed.
        let mut st = self.state.lock();
        if let Some(seq) = since {
            for (store, c) in self.read_since(engine, catalog, seq, st.last)? {
                if sub.wants(store, &c) {
                    let _ = sub.tx.send(c);
                }
            }
        }
        st.next_id += 1;
        let id = st.next_id;
        let start = st.last;
        st.subscribers.push(Subscriber { id, ..sub });
        Ok(Subscription {
            rx,
            start,
            id,
            feed: Arc::downgrade(self),
        })
    }

    fn unsubscribe(&self, id: u64) {
        self.state.lock().subscribers.retain(|s| s.id != id);
    }
}

/// Changes as they commit, from `JsonDB::subscribe`. Receive them with `recv`,
/// `recv_timeout`, `try_recv` or as an iterator (which ends when the database is
/// dropped). Undelivered changes wait in the subscription, however many.
pub struct Subscription {
    rx: Receiver<Change>,
    start: u64,
    id: u64,
    feed: Weak<Feed>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(f) = self.feed.upgrade() {
            f.unsubscribe(self.id);
        }
    }
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("start_seq", &self.start)
            .finish_non_exhaustive()
    }
}

impl Subscription {
    /// The last sequence number committed when it began: it delivers the changes of
    /// later commits (and, with `since`, the logged ones after `since` before them).
    pub fn start_seq(&self) -> u64 {
        self.start
    }

    /// The next change, waiting for it; `None` once the database is gone.
    pub fn recv(&self) -> Option<Change> {
        self.rx.recv().ok()
    }

    /// The next change, waiting at most `timeout`; `None` when none came.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Change> {
        self.rx.recv_timeout(timeout).ok()
    }

    /// The next change if one is waiting.
    pub fn try_recv(&self) -> Option<Change> {
        self.rx.try_recv().ok()
    }
}

impl Iterator for Subscription {
    type Item = Change;
    fn next(&mut self) -> Option<Change> {
        self.recv()
    }
}

impl JsonDB {
    /// Changes of `stores` (documents whose key is in `range`, when given) as they
    /// commit, from the next commit on. An unknown store is `NotFound`. A store is
    /// followed through renames (its changes come under its new name); a store
    /// deleted has no more changes, and one created later under its name is another
    /// store.
    pub fn subscribe(&self, stores: &[&str], range: Option<&KeyRange>) -> Result<Subscription> {
        self.subscribe_since(None, stores, range)
    }

    /// `subscribe`, delivering first the logged changes after `since` (a sequence
    /// number from an earlier `Change`, or `last_change_seq`), then the live ones,
    /// with none missed or repeated between the two. The stores are followed
    /// through renames: their logged changes come under their current names.
    /// `NotFound` when changes after `since` have expired from the log, or `since`
    /// was never a commit of this database.
    pub fn subscribe_since(
        &self,
        since: Option<u64>,
        stores: &[&str],
        range: Option<&KeyRange>,
    ) -> Result<Subscription> {
        let catalog = self.catalog.read().clone();
        let mut ids = BTreeSet::new();
        for s in stores {
            ids.insert(catalog.store(s)?.id);
        }
        self.feed
            .subscribe(&self.engine, &catalog, ids, range.cloned(), since)
    }

    /// Every committed change after sequence `since`, in commit order, from the
    /// change log (to resume after a restart from a persisted sequence), each under
    /// its store's current name. `NotFound` when changes after `since` have expired
    /// from the log, or `since` was never a commit of this database (an older copy
    /// restored, commits lost at a crash).
    pub fn changes_since(&self, since: u64) -> Result<Vec<Change>> {
        let catalog = self.catalog.read().clone();
        self.feed.changes_since(&self.engine, &catalog, since)
    }

    /// The sequence number of the last commit that changed documents (0: none).
    pub fn last_change_seq(&self) -> u64 {
        self.feed.last_seq()
    }

    /// How long the change log keeps a commit's changes (from now on; 24 hours by
    /// default): `changes_since` can resume from within this span.
    pub fn set_change_retention(&self, retention: Duration) {
        self.feed.set_retention(retention);
    }
}

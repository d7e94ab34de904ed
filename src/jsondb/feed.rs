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
use crate::{prefix_successor, ReadOptions, Record, ScanRange};

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

/// The change-log record of one commit.
#[derive(Serialize, Deserialize)]
struct LogRecord {
    /// The sequence number of the commit before (0 for none).
    prev: u64,
    /// `(store, key, kind)` per change.
    changes: Vec<(String, Value, ChangeKind)>,
}

fn log_prefix() -> Vec<u8> {
    vec![0x03]
}

fn log_key(seq: u64) -> Vec<u8> {
    let mut k = log_prefix();
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

struct Subscriber {
    id: u64,
    stores: BTreeSet<String>,
    range: Option<KeyRange>,
    tx: Sender<Change>,
}

impl Subscriber {
    fn wants(&self, c: &Change) -> bool {
        self.stores.contains(&c.store)
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
        }
        let mut st = self.state.lock();
        let prev = st.last;
        let now = crate::now_micros().max(0) as u64;
        let seq = (prev + 1).max(now);
        let record = LogRecord { prev, changes };
        let bytes = serde_json::to_vec(&record).map_err(|e| Error::Internal(e.to_string()))?;
        let retention = self.retention.lock().as_micros().min(i64::MAX as u128) as i64;
        let expire_at = (now as i64).saturating_add(retention.max(1));
        batch.put(Record::new(log_key(seq), TS, bytes).with_expire_at(expire_at));
        batch.put_permanent(Record::new(feed_head_key(), TS, seq.to_be_bytes().to_vec()));
        write(batch)?;
        st.last = seq;
        let subs = &mut st.subscribers;
        for (store, key, kind) in record.changes {
            let c = Change {
                seq,
                store,
                key,
                kind,
            };
            // A subscriber whose receiver is gone is dropped here.
            subs.retain(|s| !s.wants(&c) || s.tx.send(c.clone()).is_ok());
        }
        Ok(())
    }

    /// The committed changes after `seq`, in commit order, read from the log.
    /// `NotFound` when changes after `seq` have expired from the log.
    pub(crate) fn changes_since(&self, engine: &Engine, seq: u64) -> Result<Vec<Change>> {
        self.read_since(engine, seq, self.last_seq())
    }

    fn read_since(&self, engine: &Engine, seq: u64, upto: u64) -> Result<Vec<Change>> {
        let mut out = Vec::new();
        if seq >= upto {
            return Ok(out);
        }
        let start = log_key(seq.saturating_add(1));
        let end = prefix_successor(&log_prefix()).unwrap_or_else(|| vec![0x04]);
        let range = ScanRange::key_range_half_open(start, end).with_time_range(TS, TS);
        let mut first = true;
        let mut last_seen = seq;
        for r in engine.scan_opt(range, &ReadOptions::default())? {
            let r = r?;
            let at = seq_of(&r.key)?;
            if at > upto {
                break;
            }
            let rec: LogRecord = serde_json::from_slice(&r.value)
                .map_err(|e| Error::corruption("JsonDB change log", 0, e.to_string()))?;
            // Each record names its predecessor: one missing (expired) is a gap.
            if rec.prev > last_seen {
                return Err(gap(last_seen, rec.prev));
            }
            first = false;
            last_seen = at;
            out.extend(rec.changes.into_iter().map(|(store, key, kind)| Change {
                seq: at,
                store,
                key,
                kind,
            }));
        }
        if first {
            // Nothing is logged after `seq`, yet commits were: they expired.
            return Err(gap(seq, upto));
        }
        Ok(out)
    }

    /// A subscription to the changes of `stores` (and keys in `range`), from the
    /// next commit on, or from after `since` (the logged changes first).
    pub(crate) fn subscribe(
        self: &Arc<Self>,
        engine: &Engine,
        stores: &[&str],
        range: Option<KeyRange>,
        since: Option<u64>,
    ) -> Result<Subscription> {
        if stores.is_empty() {
            return Err(Error::invalid("a subscription needs at least one store"));
        }
        let (tx, rx) = mpsc::channel();
        let sub = Subscriber {
            id: 0,
            stores: stores.iter().map(|s| s.to_string()).collect(),
            range,
            tx,
        };
        // Under the lock no commit can slip between the backlog and the live feed.
        let mut st = self.state.lock();
        if let Some(seq) = since {
            for c in self.read_since(engine, seq, st.last)? {
                if sub.wants(&c) {
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

/// The sequence number of the newest commit (0: none): from the permanent head
/// record, or the newest log record for a database written before it was kept.
/// (From the log alone, a database reopened once every record had expired numbered
/// from 0 again: its next record named 0 as its predecessor, and a resume from
/// before the gap missed the expired changes without an error.)
fn logged_last(engine: &Engine) -> Result<u64> {
    let read = ReadOptions::default();
    let head = match engine.get_bytes(&feed_head_key(), TS, &read)? {
        Some(r) => r
            .value
            .as_slice()
            .try_into()
            .map(u64::from_be_bytes)
            .map_err(|_| Error::corruption("JsonDB change-log head", 0, "not 8 bytes"))?,
        None => 0,
    };
    let range = ScanRange::prefix_bytes(&log_prefix()).reverse().limit(1);
    let logged = match engine.scan_opt(range, &read)?.next() {
        Some(r) => seq_of(&r?.key)?,
        None => 0,
    };
    Ok(head.max(logged))
}

fn gap(seq: u64, oldest: u64) -> Error {
    Error::NotFound(format!(
        "changes after sequence {seq} are no longer in the change log (it keeps them for the change retention); the oldest it can resume from is {oldest}"
    ))
}

fn seq_of(key: &[u8]) -> Result<u64> {
    key.get(1..9)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| Error::corruption("JsonDB change log", 0, "malformed log key"))
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
    /// commit, from the next commit on. An unknown store is `NotFound`.
    pub fn subscribe(&self, stores: &[&str], range: Option<&KeyRange>) -> Result<Subscription> {
        self.subscribe_since(None, stores, range)
    }

    /// `subscribe`, delivering first the logged changes after `since` (a sequence
    /// number from an earlier `Change`, or `last_change_seq`), then the live ones,
    /// with none missed or repeated between the two. `NotFound` when changes after
    /// `since` have expired from the log.
    pub fn subscribe_since(
        &self,
        since: Option<u64>,
        stores: &[&str],
        range: Option<&KeyRange>,
    ) -> Result<Subscription> {
        let catalog = self.catalog.read().clone();
        for s in stores {
            catalog.store(s)?;
        }
        self.feed
            .subscribe(&self.engine, stores, range.cloned(), since)
    }

    /// Every committed change after sequence `since`, in commit order, from the
    /// change log (to resume after a restart from a persisted sequence). `NotFound`
    /// when changes after `since` have expired from the log.
    pub fn changes_since(&self, since: u64) -> Result<Vec<Change>> {
        self.feed.changes_since(&self.engine, since)
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

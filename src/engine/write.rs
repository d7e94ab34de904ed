//! The write path: validation and TTL, group commit, and making room in memtables.
//!
//! Group commit: each writer queues its batch; whoever finds no leader becomes the
//! leader, takes every queued batch, writes them with one write(2) (and at most one
//! fdatasync), applies them to the memtable, publishes their sequence numbers, and
//! hands every writer its own result. Writers that queue meanwhile form the next group.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use parking_lot::{Condvar, Mutex};

use super::{Engine, Inner, WalState};
use crate::config::SyncMode;
use crate::entry::Kind;
use crate::error::{Error, Result};
use crate::memtable::Memtable;
use crate::record::{expiry_from_ttl, validate_key, validate_value, Record, NEVER_EXPIRES};
use crate::version::SuperVersion;
use crate::wal::{encode_mark, frame_record, Op, WriteBatch, MAX_BATCH_BYTES, RECORD_HEADER};

/// A queued batch: its ticket, the batch, whether it must be synced, and its
/// `payload_bytes` (counted once, when it is queued).
type Queued = (u64, WriteBatch, bool, usize);

#[derive(Default)]
struct QueueState {
    pending: VecDeque<Queued>,
    results: HashMap<u64, Result<()>>,
    leader_active: bool,
    next_ticket: u64,
}

#[derive(Default)]
pub(crate) struct CommitQueue {
    state: Mutex<QueueState>,
    cv: Condvar,
}

/// Hands leadership back even if the leader's work panics, so writers never hang.
struct LeaderGuard<'a> {
    queue: &'a CommitQueue,
    tickets: Vec<u64>,
    result: Option<Result<()>>,
}

impl Drop for LeaderGuard<'_> {
    fn drop(&mut self) {
        let result = self
            .result
            .take()
            .unwrap_or_else(|| Err(Error::Internal("the write leader panicked".into())));
        let mut q = self.queue.state.lock();
        for t in &self.tickets {
            q.results
                .insert(*t, result.as_ref().map(|_| ()).map_err(Error::duplicate));
        }
        q.leader_active = false;
        self.queue.cv.notify_all();
    }
}

/// Armed while a group is logged and applied: a panic there (the group in the log,
/// perhaps half in the memtable, its sequence numbers not published) requires a
/// reopen (`Inner::require_reopen`). Whether the thread was unwinding already when
/// it was armed is kept: a write made from a destructor during an unrelated panic
/// is not one that panicked.
struct TornOnUnwind<'a> {
    inner: &'a Inner,
    unwinding_before: bool,
}

impl<'a> TornOnUnwind<'a> {
    fn arm(inner: &'a Inner) -> Self {
        TornOnUnwind {
            inner,
            unwinding_before: std::thread::panicking(),
        }
    }
}

impl Drop for TornOnUnwind<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() && !self.unwinding_before {
            self.inner.require_reopen();
        }
    }
}

/// Most batches one group takes, to bound a leader's latency.
const MAX_GROUP: usize = 512;

/// Refuses a batch too large for one log record (framed, its length would wrap: the
/// batch acknowledged, then lost at replay).
fn check_batch_size(size: usize) -> Result<()> {
    if size <= MAX_BATCH_BYTES {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "a batch of about {} MiB is larger than one log record holds (3 GiB); split it \
         into smaller batches",
        size >> 20
    )))
}

impl Inner {
    /// Validates records and applies TTL precedence (batch TTL, the record's own
    /// expiry, the default TTL, never). The whole batch is rejected on any bad record.
    pub(crate) fn prepare(
        &self,
        records: impl IntoIterator<Item = Record>,
        batch_ttl: Option<u64>,
    ) -> Result<WriteBatch> {
        let records = records.into_iter();
        let mut ops = Vec::with_capacity(records.size_hint().0);
        for mut r in records {
            validate_key(&r.key)?;
            validate_value(&r.key, &r.value)?;
            r.expire_at = match (batch_ttl, self.config.default_ttl_secs) {
                (Some(t), _) => expiry_from_ttl(r.ts, t),
                (None, _) if r.expire_at != NEVER_EXPIRES => r.expire_at,
                (None, Some(t)) => expiry_from_ttl(r.ts, t),
                (None, None) => NEVER_EXPIRES,
            };
            ops.push(Op::Put(r));
        }
        Ok(WriteBatch { ops })
    }

    /// Writes one batch through group commit; `force_sync` makes it durable whatever
    /// the sync mode. With rollups, what the batch changes below a rule's watermark
    /// is marked dirty first (`Rollups::commit`).
    pub(crate) fn commit(&self, batch: WriteBatch, force_sync: bool) -> Result<()> {
        match &self.rollups {
            Some(r) => r.commit(self, batch, force_sync),
            None => self.commit_log(batch, force_sync),
        }
    }

    /// `commit` without the rollups' late check (retention, which must not dirty
    /// any rolled bucket: rollups outlive the raw data).
    pub(crate) fn commit_log(&self, batch: WriteBatch, force_sync: bool) -> Result<()> {
        self.check_writable()?;
        if batch.ops.is_empty() {
            return Ok(());
        }
        let size = batch.payload_bytes();
        check_batch_size(size)?;
        let started = Instant::now();
        let mut q = self.queue.state.lock();
        let ticket = q.next_ticket;
        q.next_ticket += 1;
        q.pending.push_back((ticket, batch, force_sync, size));
        let result = loop {
            if let Some(r) = q.results.remove(&ticket) {
                break r;
            }
            if !q.leader_active {
                q.leader_active = true;
                let n = q.pending.len().min(MAX_GROUP);
                let group: Vec<_> = q.pending.drain(..n).collect();
                drop(q);
                let mut guard = LeaderGuard {
                    queue: &self.queue,
                    tickets: group.iter().map(|g| g.0).collect(),
                    result: None,
                };
                guard.result = Some(self.write_group(group));
                drop(guard);
                q = self.queue.state.lock();
                continue;
            }
            self.queue.cv.wait(&mut q);
        };
        self.stats
            .write_latency
            .record(started.elapsed().as_micros() as u64);
        result
    }

    fn write_group(&self, group: Vec<Queued>) -> Result<()> {
        let mut wal = self.wal.lock();
        // Again under the log's lock: batches queued before a failed sync set the
        // background error must not follow the acknowledged writes it cut off.
        self.check_writable()?;
        self.make_room(&mut wal)?;
        let mut seq = self.visible_seq.load(Ordering::Acquire);
        let (records, bytes) = group.iter().fold((0, 0), |(n, size), (_, b, _, bytes)| {
            (n + b.len(), size + bytes)
        });
        // The group's records, encoded in place into one buffer sized for them
        // (grown from empty it was reallocated a dozen times a commit).
        let room = bytes + 4 * records + (16 + RECORD_HEADER) * (group.len() + 2);
        let mut framed = Vec::with_capacity(room);
        // What the syncs since the last mark made durable, stated first, so that
        // recovery can tell damage in synced bytes from a torn tail (wal/marker.rs).
        let mark = wal.mark_due();
        if let Some(synced) = mark {
            frame_record(&mut framed, |buf| encode_mark(synced, buf));
        }
        let mut numbered = Vec::with_capacity(group.len());
        let mut sync = self.config.wal_sync_mode == SyncMode::Always;
        for (_, batch, force_sync, _) in group {
            sync |= force_sync;
            frame_record(&mut framed, |buf| batch.encode(seq + 1, buf));
            let first = seq + 1;
            seq += batch.len() as u64;
            numbered.push((first, batch));
        }
        if !sync {
            if let SyncMode::IntervalMs(ms) = self.config.wal_sync_mode {
                sync = wal.last_sync.elapsed().as_millis() as u64 >= ms;
            }
        }
        // From here the group may be in the log: a panic stops writes until a reopen.
        let _torn = TornOnUnwind::arm(self);
        // Where this group starts: records before it were acknowledged.
        let acknowledged = wal.writer.size();
        let logged = wal.writer.append(&framed).and_then(|()| match sync {
            true => self.sync_locked(&mut wal, acknowledged),
            false => Ok(()),
        });
        if let (Ok(()), Some(synced)) = (&logged, mark) {
            wal.marked = (wal.writer.number(), synced);
        }
        if let Err(e) = logged {
            // The group is not applied, but its records may be in the log (a failed
            // fsync, a short write) and come back at replay. Its sequence numbers are
            // used up: were a later batch given them, replay could not order the two,
            // and a failed put could escape an acknowledged delete.
            self.visible_seq.store(seq, Ordering::Release);
            return Err(e);
        }
        let mut entries = Vec::with_capacity(records);
        let mut range_dels = Vec::new();
        let mut points = Vec::new();
        for (first, batch) in numbered {
            let (e, r, p) = batch.into_parts(first);
            entries.extend(e);
            range_dels.extend(r);
            points.extend(p);
        }
        let active = &self.current().active;
        active.insert(entries, range_dels);
        active.insert_points(&points);
        self.visible_seq.store(seq, Ordering::Release);
        self.stats
            .records_written
            .fetch_add(records as u64, Ordering::Relaxed);
        self.stats
            .bytes_written
            .fetch_add(bytes as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Before a write: rotate a full or broken log segment, and freeze a full
    /// memtable, waiting for (or doing) a flush when too many are frozen already.
    fn make_room(&self, wal: &mut WalState) -> Result<()> {
        let segment_limit = self.config.wal_segment_size_mb << 20;
        if wal.writer.is_broken() || wal.writer.size() >= segment_limit {
            self.rotate(wal)?;
        }
        loop {
            let sv = self.current();
            self.charge_memtables(&sv);
            if sv.active.approximate_bytes() < self.config.memtable_bytes() {
                return Ok(());
            }
            if sv.frozen.len() >= self.config.max_frozen_memtables {
                // Flushing fell behind: this writer waits by doing the flush itself
                // (or waiting for the background thread already doing it).
                self.stats.write_stalls.fetch_add(1, Ordering::Relaxed);
                let started = Instant::now();
                self.flush_oldest()?;
                self.emit(|| super::events::Event::WriteStall {
                    duration: started.elapsed(),
                });
                continue;
            }
            self.freeze(wal)?;
            self.wake_maintenance();
            return Ok(());
        }
    }

    /// Syncs the current log segment and goes on in a new one (a full segment, a
    /// broken one, a checkpoint).
    pub(super) fn rotate(&self, wal: &mut WalState) -> Result<()> {
        // Everything in the segment is acknowledged (a failed group was cut off).
        let size = wal.writer.size();
        if !wal.writer.is_broken() {
            // Synced here as any group is, so that a failure cuts the segment back
            // and stops writes (`abandon_unsynced`): retried by the next rotation
            // instead, the fsync could report success after the kernel had dropped
            // the pages it failed to write.
            self.sync_locked(wal, size)?;
        }
        let n = self.new_file_number();
        if let Err(e) = wal.writer.rotate(n, true) {
            // A broken segment's cut (its first fsync since the break) failed: the
            // same as a failed sync for what it held unsynced.
            if wal.writer.is_broken() && wal.synced_len() < size {
                self.note_log_cut(format!(
                    "cutting a broken log segment failed ({e}): {} bytes of acknowledged \
                     writes are in memory only; resume() writes them to a table",
                    size - wal.synced_len()
                ));
            }
            return Err(e);
        }
        wal.synced = (n, 0);
        Ok(())
    }

    /// Freezes the active memtable; new writes go to a new one and a new segment.
    pub(crate) fn freeze(&self, wal: &mut WalState) -> Result<()> {
        self.rotate(wal)?;
        let fresh = Arc::new(Memtable::new(wal.writer.number()));
        self.install_super_version(|cur| {
            let mut frozen = Vec::with_capacity(cur.frozen.len() + 1);
            frozen.push(cur.active.clone());
            frozen.extend(cur.frozen.iter().cloned());
            SuperVersion {
                active: fresh,
                frozen,
                version: cur.version.clone(),
            }
        })
    }
}

impl Engine {
    /// Writes a batch atomically (all or nothing, also across a crash). Records keep
    /// their own `expire_at`; otherwise `Config::default_ttl_secs` applies.
    pub fn write_batch(&self, batch: &[Record]) -> Result<()> {
        let b = self.inner.prepare(batch.iter().cloned(), None)?;
        self.inner.commit(b, false)
    }

    /// `write_batch`, taking the records by value (no copies).
    pub fn write_batch_owned(&self, batch: Vec<Record>) -> Result<()> {
        let b = self.inner.prepare(batch, None)?;
        self.inner.commit(b, false)
    }

    /// `write_batch`, durable on stable storage when it returns, whatever the sync mode.
    pub fn write_batch_sync(&self, batch: Vec<Record>) -> Result<()> {
        let b = self.inner.prepare(batch, None)?;
        self.inner.commit(b, true)
    }

    /// `write_batch` with a batch TTL: `Some(t)` sets `expire_at = ts + t` seconds for
    /// every record (overriding their own); `None` behaves as `write_batch`.
    pub fn write_batch_ttl(&self, batch: &[Record], ttl_secs: Option<u64>) -> Result<()> {
        let b = self.inner.prepare(batch.iter().cloned(), ttl_secs)?;
        self.inner.commit(b, false)
    }

    /// Deletes the records `(key, ts)` (absent ones are fine), atomically.
    pub fn delete_batch(&self, keys_ts: &[(String, i64)]) -> Result<()> {
        let keys: Vec<(&[u8], i64)> = keys_ts.iter().map(|(k, ts)| (k.as_bytes(), *ts)).collect();
        self.delete_batch_bytes(&keys)
    }

    /// `delete_batch` for keys that are not UTF-8.
    pub fn delete_batch_bytes(&self, keys_ts: &[(&[u8], i64)]) -> Result<()> {
        let mut ops = Vec::with_capacity(keys_ts.len());
        for (k, ts) in keys_ts {
            validate_key(k)?;
            ops.push(Op::Delete {
                key: k.to_vec(),
                ts: *ts,
            });
        }
        self.inner.commit(WriteBatch { ops }, false)
    }

    /// Deletes every record with `start <= key < end` (half-open, as RocksDB's
    /// DeleteRange). `start == end` deletes nothing; `start > end` is an error.
    pub fn delete_range(&self, start_key: &str, end_key: &str) -> Result<()> {
        self.delete_range_bytes(start_key.as_bytes(), end_key.as_bytes())
    }

    /// `delete_range` over byte keys.
    pub fn delete_range_bytes(&self, start_key: &[u8], end_key: &[u8]) -> Result<()> {
        self.delete_region(
            start_key.to_vec(),
            Some(end_key.to_vec()),
            i64::MIN,
            i64::MAX,
        )
    }

    /// Replaces the value and/or the TTL (`expire_at = ts + ttl`) of a live record;
    /// `None` keeps that field. Returns the record as stored. A missing or expired
    /// record is `NotFound`. Patches are serialized with each other, not with plain
    /// writes to the same record (last write wins). A numeric point patched with a
    /// new TTL alone stays a point; a new value makes it a byte record (only the
    /// point-writing calls write numbers).
    pub fn patch_record(
        &self,
        key: &str,
        ts: i64,
        new_value: Option<Vec<u8>>,
        new_ttl_secs: Option<u64>,
    ) -> Result<Record> {
        self.patch_record_bytes(key.as_bytes(), ts, new_value, new_ttl_secs)
    }

    /// `patch_record` for keys that are not UTF-8.
    pub fn patch_record_bytes(
        &self,
        key: &[u8],
        ts: i64,
        new_value: Option<Vec<u8>>,
        new_ttl_secs: Option<u64>,
    ) -> Result<Record> {
        let _g = self.inner.patch_lock.lock();
        let snap = self.inner.snapshot();
        let opts = crate::config::ReadOptions::default();
        let Some(e) = self.inner.entry_at(&snap, key, ts, &opts)? else {
            return Err(Error::NotFound(format!(
                "no live record at key {:?}, ts {ts}",
                String::from_utf8_lossy(key)
            )));
        };
        // (Read as a plain record, a point patched with a TTL alone was written back
        // as bytes, and left aggregation and rollups.)
        let mut numeric = e.kind == Kind::Num;
        let mut r = e.into_record();
        if let Some(v) = new_value {
            validate_value(key, &v)?;
            r.value = v;
            numeric = false;
        }
        if let Some(t) = new_ttl_secs {
            r.expire_at = expiry_from_ttl(ts, t);
        }
        let op = match numeric {
            true => Op::Num(r.clone()),
            false => Op::Put(r.clone()),
        };
        self.inner.commit(WriteBatch { ops: vec![op] }, false)?;
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A batch is one log record with a 32-bit length: past 3 GiB (the estimate is
    /// within a fifth of the encoded size) it is refused before it is logged. (A
    /// real one would need gigabytes of memory in a test.)
    #[test]
    fn a_batch_larger_than_a_log_record_is_refused() {
        assert!(check_batch_size(MAX_BATCH_BYTES).is_ok());
        let err = check_batch_size(MAX_BATCH_BYTES + 1).unwrap_err();
        assert_eq!(err.code(), crate::StatusCode::InvalidArgument);
        assert!(err.to_string().contains("split it"), "{err}");
    }
}

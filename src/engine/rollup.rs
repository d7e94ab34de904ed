//! Downsampling rollups on the engine (docs/numeric.md, "Rollups"): each rule of
//! `Tuning::rollups` keeps its rolled points in a child engine at
//! `<data dir>/rollups/<name>/`, opened, closed and shut down with this one, and
//! maintained by its maintenance rounds; [`Rollup`] reads it.
//!
//! Here: opening the children, the write hook that marks rolled buckets dirty when a
//! raw write comes late (before the raw write commits; which buckets:
//! `rollup_late.rs`), the raw floor below which
//! rolled buckets are history (docs/numeric.md, "History"), and what is stored in a
//! rollup besides its points. The rolling itself is in `rollup_pass.rs`, the read
//! handle in `rollup_read.rs`.
//!
//! Concurrency. A write to this engine holds `gate` shared across the late check, its
//! dirty mark and its commit; a roll pass holds it exclusively only while it moves the
//! in-memory watermarks, takes its snapshot and reads the dirty marks. So a write the
//! snapshot misses was checked against the new watermark (and marked if late), and a
//! mark the pass reads belongs to a write the snapshot holds. `rolling` runs one
//! pass at a time, and none while a checkpoint copies the database.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

use super::points::bucket_of;
use super::rollup_late::late_regions;
use super::{Engine, Inner, WriteBatch, WriteOptions};
use crate::config::{Config, ReadOptions, Tuning};
use crate::error::{Error, Result};
use crate::fs::FileSystem;
use crate::range::{Bounds, Query};
use crate::record::Record;
use crate::rollup::{
    encode_regions, Region, RollupRule, DIRTY_PREFIX, FLOOR_KEY, RESERVED_TS, RULE_KEY,
    WATERMARK_KEY,
};
use crate::util::now_micros;
use crate::wal::WriteBatch as LogBatch;

/// The directory of the rule `name`'s rollup under the data directory `dir`.
pub(crate) fn rollup_dir(dir: &Path, name: &str) -> PathBuf {
    dir.join("rollups").join(name)
}

/// One rule and its rollup.
pub(super) struct RuleState {
    pub(super) rule: RollupRule,
    pub(super) child: Arc<Engine>,
    /// What writes are checked against: buckets ending at or before it are rolled,
    /// or being rolled by a pass under way. Only grows.
    pub(super) watermark: AtomicI64,
    /// The watermark persisted in the child: buckets ending at or before it are
    /// rolled. The next pass rolls on from here.
    pub(super) rolled: AtomicI64,
    /// Rolled points may lie at or above `rolled` (a pass that failed, or a crash
    /// in one before this open): the next pass deletes them first.
    pub(super) unclean: AtomicBool,
    /// The raw floor as persisted (`FLOOR_KEY`; `i64::MIN`: none): the greatest of
    /// raw retention's cutoffs (handed over by `raise_floor` before they delete
    /// anything) and of the default TTL's `now - ttl` seen by a pass. Only rises.
    pub(super) floor: AtomicI64,
    /// What of the raw data's limits the floor follows.
    pub(super) raw: RawLimits,
    /// The id of the next dirty mark.
    next_mark: AtomicU64,
}

/// What removes raw points without a user's delete, for the raw floor.
#[derive(Clone, Copy)]
pub(super) struct RawLimits {
    /// `Config::default_ttl_secs`, in microseconds: points written with it are
    /// expired once `now - ttl` passes their ts.
    pub(super) ttl: Option<i64>,
}

impl RuleState {
    /// The raw floor at `now`: the persisted one, or the default TTL's when higher
    /// (a point at `ts` with the default TTL is expired once `ts + ttl <= now`).
    pub(super) fn floor_at(&self, now: i64) -> i64 {
        let ttl = self
            .raw
            .ttl
            .map_or(i64::MIN, |t| now.saturating_sub(t).saturating_add(1));
        self.floor.load(Ordering::Acquire).max(ttl)
    }

    /// The first bucket start at or after the raw floor at `now` (rolled buckets
    /// before it are history, docs/numeric.md): `i64::MIN` when there is no floor.
    pub(super) fn open_from(&self, now: i64) -> i64 {
        first_start_from(self.floor_at(now), self.rule.step)
    }
}

/// The first bucket start of `step` at or after `ts` (`i64::MAX` when past the last).
pub(super) fn first_start_from(ts: i64, step: i64) -> i64 {
    let (start, last) = bucket_of(ts, step);
    if start == ts {
        start
    } else {
        last.saturating_add(1)
    }
}

/// Every rule's rollup of an engine.
pub(crate) struct Rollups {
    pub(super) rules: Vec<RuleState>,
    pub(super) gate: RwLock<()>,
    pub(super) rolling: Mutex<()>,
}

impl Rollups {
    /// Opens (creating) each rule's rollup under `config.data_dir`; `None` without
    /// rules. Read-only (`read_only`), a rollup not created yet is left out.
    pub(super) fn open(
        fs: &Arc<dyn FileSystem>,
        config: &Config,
        tuning: &Tuning,
        read_only: bool,
    ) -> Result<Option<Rollups>> {
        if tuning.rollups.is_empty() {
            return Ok(None);
        }
        let mut rules = Vec::with_capacity(tuning.rollups.len());
        let raw = RawLimits {
            ttl: config
                .default_ttl_secs
                .map(|s| i64::try_from(s.saturating_mul(1_000_000)).unwrap_or(i64::MAX)),
        };
        for rule in &tuning.rollups {
            let dir = rollup_dir(&config.data_dir, &rule.name);
            let child_config = Config {
                data_dir: dir.clone(),
                // Rolled points outlive the raw ones: no raw TTL, only keep_secs.
                default_ttl_secs: None,
                // This engine's maintenance rounds maintain the rollups.
                auto_background: false,
                create_if_missing: true,
                // A rollup holds a fraction of the raw data: smaller buffers.
                memtable_size_mb: config.memtable_size_mb.min(16),
                block_cache_capacity_mb: config.block_cache_capacity_mb.min(16),
                index_memory_budget_mb: config.index_memory_budget_mb.min(16),
                ..config.clone()
            };
            let mut child_tuning = tuning.clone();
            child_tuning.rollups = Vec::new();
            child_tuning.retention_max_age_secs = rule.keep_secs;
            child_tuning.retention_max_bytes = None;
            let child = match read_only {
                false => Engine::open_on(fs.clone(), child_config, child_tuning)?,
                true if fs.is_dir(&dir) != Some(true) => continue,
                true => Engine::open_read_only_on(fs.clone(), child_config, child_tuning)?,
            };
            check_definition(&child, rule, read_only)?;
            let rolled = read_watermark(&child)?;
            let floor = read_floor(&child)?;
            let next_mark = last_mark(&child)?.map_or(0, |id| id + 1);
            rules.push(RuleState {
                rule: rule.clone(),
                child: Arc::new(child),
                watermark: AtomicI64::new(rolled),
                rolled: AtomicI64::new(rolled),
                unclean: AtomicBool::new(true),
                floor: AtomicI64::new(floor),
                raw,
                next_mark: AtomicU64::new(next_mark),
            });
        }
        Ok(Some(Rollups {
            rules,
            gate: RwLock::new(()),
            rolling: Mutex::new(()),
        }))
    }

    /// `Inner::commit` with the late check: marks what the batch changes below each
    /// rule's watermark dirty, durably, before the batch is committed.
    pub(super) fn commit(&self, inner: &Inner, batch: LogBatch, force_sync: bool) -> Result<()> {
        inner.check_writable()?;
        let _shared = self.gate.read();
        for r in &self.rules {
            let wm = r.watermark.load(Ordering::Acquire);
            if wm == i64::MIN {
                continue; // nothing rolled yet
            }
            // The floor only rises: a pass finds at least this history.
            let open_from = r.open_from(now_micros());
            let regions = late_regions(&batch, &r.rule, wm, open_from);
            if !regions.is_empty() {
                r.mark(&regions)?;
            }
        }
        inner.commit_log(batch, force_sync)
    }

    pub(super) fn close(&self) -> Result<()> {
        let mut first = Ok(());
        for r in &self.rules {
            let closed = r.child.close();
            if first.is_ok() {
                first = closed;
            }
        }
        first
    }

    /// Closes the rollups and marks them shut down: reads through a `Rollup` fail
    /// with `Closed`, and each directory lock goes with this engine.
    pub(super) fn shutdown(&self) -> Result<()> {
        let result = self.close();
        for r in &self.rules {
            r.child.inner.closed.store(true, Ordering::Release);
            r.child.inner.stop_events();
        }
        result
    }

    /// Moves read-only rollups to the writer's present.
    pub(super) fn catch_up(&self) -> Result<()> {
        self.rules.iter().try_for_each(|r| r.child.catch_up())
    }

    /// Puts each rollup in `dest/rollups/<name>` (a checkpoint's directory).
    pub(super) fn copy_into(&self, dest: &Path, backup: bool) -> Result<()> {
        for r in &self.rules {
            let to = rollup_dir(dest, &r.rule.name);
            match backup {
                false => r.child.checkpoint(&to)?,
                true => r.child.backup_to(&to)?,
            }
        }
        Ok(())
    }
}

impl RuleState {
    /// Writes a dirty mark of `regions`, durably.
    fn mark(&self, regions: &[Region]) -> Result<()> {
        let id = self.next_mark.fetch_add(1, Ordering::Relaxed);
        let mut key = DIRTY_PREFIX.to_vec();
        key.extend_from_slice(&id.to_be_bytes());
        let mut b = WriteBatch::new();
        b.put_permanent(Record::new(key, RESERVED_TS, encode_regions(regions)));
        self.child.write_owned(b, &WriteOptions { sync: true })
    }
}

/// Checks that the rollup was made by the same rule (prefix, step, functions), and
/// records the rule in a new one.
fn check_definition(child: &Engine, rule: &RollupRule, read_only: bool) -> Result<()> {
    let want = rule.definition();
    let lossy = rule.lossy_definition();
    let store = |definition: String| {
        let mut b = WriteBatch::new();
        b.put_permanent(Record::new(RULE_KEY, RESERVED_TS, definition.into_bytes()));
        child.write_owned(b, &WriteOptions { sync: true })
    };
    match child.get_bytes(RULE_KEY, RESERVED_TS, &ReadOptions::default())? {
        Some(r) if r.value == want.as_bytes() => Ok(()),
        // Made before the exact form: taken as this rule (the lossy form cannot
        // tell), and stored exactly from now on.
        Some(r) if lossy.as_deref().is_some_and(|l| r.value == l.as_bytes()) => match read_only {
            true => Ok(()),
            false => store(want),
        },
        Some(r) => Err(Error::invalid(format!(
            "Tuning::rollups: the rule {:?} is now {want}, but its rollup in {} was made by {}; give the changed rule a new name (or delete that directory)",
            rule.name,
            child.data_dir().display(),
            String::from_utf8_lossy(&r.value)
        ))),
        None if read_only => Ok(()),
        None => store(want),
    }
}

/// The watermark persisted in a rollup (`i64::MIN` when none: nothing rolled).
pub(super) fn read_watermark(child: &Engine) -> Result<i64> {
    let r = child.get_bytes(WATERMARK_KEY, RESERVED_TS, &ReadOptions::default())?;
    match r.map(|r| <[u8; 8]>::try_from(r.value.as_slice())) {
        None => Ok(i64::MIN),
        Some(Ok(b)) => Ok(i64::from_le_bytes(b)),
        Some(Err(_)) => Err(Error::corruption(
            child.data_dir().display(),
            0,
            "the rollup's watermark record is not 8 bytes",
        )),
    }
}

/// The raw floor record of a rollup (`i64::MIN` when none).
pub(super) fn read_floor(child: &Engine) -> Result<i64> {
    let r = child.get_bytes(FLOOR_KEY, RESERVED_TS, &ReadOptions::default())?;
    let Some(r) = r else {
        return Ok(i64::MIN);
    };
    match <[u8; 8]>::try_from(r.value.as_slice()) {
        Ok(b) => Ok(i64::from_le_bytes(b)),
        Err(_) => Err(Error::corruption(
            child.data_dir().display(),
            0,
            "the rollup's raw floor record is not 8 bytes",
        )),
    }
}

/// The value of the raw floor record.
pub(super) fn floor_value(floor: i64) -> Vec<u8> {
    floor.to_le_bytes().to_vec()
}

impl Rollups {
    /// Raw retention is about to delete every point before `cutoff`: each rule's
    /// floor rises to it first, durably, so that the buckets it leaves without raw
    /// points are history a late write cannot wipe (docs/numeric.md, "History").
    pub(super) fn raise_floor(&self, cutoff: i64) -> Result<()> {
        for r in &self.rules {
            if cutoff <= r.floor.load(Ordering::Acquire) {
                continue;
            }
            let mut b = WriteBatch::new();
            b.put_permanent(Record::new(FLOOR_KEY, RESERVED_TS, floor_value(cutoff)));
            r.child.write_owned(b, &WriteOptions { sync: true })?;
            r.floor.fetch_max(cutoff, Ordering::AcqRel);
        }
        Ok(())
    }
}

/// The id of the newest dirty mark in a rollup.
fn last_mark(child: &Engine) -> Result<Option<u64>> {
    let q = Query {
        bounds: Bounds::prefix(DIRTY_PREFIX),
        limit: Some(1),
    }
    .reverse();
    Ok(child.query(q)?.first().and_then(|r| {
        let id = r.key.get(DIRTY_PREFIX.len()..)?;
        Some(u64::from_be_bytes(id.try_into().ok()?))
    }))
}

/// Every dirty mark in a rollup: its key and regions.
pub(super) fn dirty_marks(child: &Engine) -> Result<Vec<(Vec<u8>, Vec<Region>)>> {
    let q = Query {
        bounds: Bounds::prefix(DIRTY_PREFIX),
        limit: None,
    };
    child
        .query(q)?
        .into_iter()
        .map(|r| Ok((r.key, crate::rollup::decode_regions(&r.value)?)))
        .collect()
}

impl Inner {
    /// The rollups, or `NotFound` naming `name` when no rule has it.
    pub(super) fn rollup_state(&self, name: &str) -> Result<&RuleState> {
        let rules = self.rollups.as_ref().map_or(&[][..], |r| &r.rules);
        rules.iter().find(|r| r.rule.name == name).ok_or_else(|| {
            let names: Vec<&str> = rules.iter().map(|r| r.rule.name.as_str()).collect();
            Error::NotFound(format!(
                "no rollup named {name:?} (Tuning::rollups has {names:?}{})",
                if self.read_only {
                    "; read-only, a rollup its writer has not created yet is left out"
                } else {
                    ""
                }
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_bucket_starts_from_a_floor() {
        assert_eq!(first_start_from(i64::MIN, 10), i64::MIN);
        assert_eq!(first_start_from(20, 10), 20);
        assert_eq!(first_start_from(21, 10), 30);
        assert_eq!(first_start_from(-9, 10), 0);
        assert_eq!(first_start_from(i64::MAX, 10), i64::MAX);
    }
}

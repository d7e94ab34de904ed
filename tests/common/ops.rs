//! Write operations for the crash tests: random commits (batches of puts with and
//! without TTL, numeric points, deletes, range deletes by keys and by keys and time, `delete_before`,
//! and `WriteBatch`es mixing them) and
//! maintenance (flush, full and scheduled compaction), the same
//! applied to an engine and to a model, and the check that what an engine recovered
//! is the model after some prefix of the commits.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashSet};

use std::path::Path;
use std::sync::Arc;

use flowdb::fs::FaultFs;
use flowdb::{
    Agg, Config, Engine, Point, Query, Record, ScanRange, SyncMode, WriteBatch, WriteOptions,
};

/// Opens the small-settings engine in `/db` on an in-memory file system.
pub fn open_on(fs: &FaultFs, mode: SyncMode) -> flowdb::Result<Engine> {
    let config = Config {
        wal_sync_mode: mode,
        ..super::small_config(Path::new("/db"))
    };
    Engine::open_on(Arc::new(fs.clone()), config, super::tiny_partitions())
}

/// `(key, ts) -> (expire_at, value)`: every live record. A numeric point's value is
/// its bytes behind the `POINT` mark, so a point recovered as bytes (or bytes as a
/// point) differs.
pub type State = BTreeMap<(Vec<u8>, i64), (i64, Vec<u8>)>;

/// What marks a numeric point's value in a `State`.
pub const POINT: &[u8] = b"\0point:";

/// A `State` value as the engine's reads return it (a point's mark taken off).
pub fn read_value(v: &[u8]) -> &[u8] {
    v.strip_prefix(POINT).unwrap_or(v)
}

#[derive(Clone, Debug)]
pub enum Op {
    Put(Vec<Record>, Option<u64>),
    /// `write_points`.
    Points(Vec<Point>),
    Delete(Vec<(String, i64)>),
    DeleteRange(String, String),
    /// `delete_time_range(start, end, ts_lo, ts_hi)`.
    DeleteTimeRange(String, String, i64, i64),
    /// Retention: `delete_prefix_before(prefix, ts)` (`delete_before(ts)` when the
    /// prefix is empty).
    DeleteBefore(String, i64),
    /// A `WriteBatch`: its items apply in order, all or none.
    Batch(Vec<Item>),
    Flush,
    /// A full compaction.
    Compact,
    /// The merges background compaction would run (`run_compactions`).
    RunCompactions,
}

/// One operation of a `WriteBatch`.
#[derive(Clone, Debug)]
pub enum Item {
    Put(Record, Option<u64>),
    Delete(String, i64),
    DeleteRange(String, String),
    DeleteTimeRange(String, String, i64, i64),
}

const KEYS: [&str; 6] = ["a1", "a2", "b1", "b2", "c1", "cpu.9"];
/// A TTL long enough that nothing expires while a test runs.
pub const LONG_TTL: u64 = 30 * 86_400;

impl Op {
    /// A random op; `i` makes its values unique. Sizes vary so that flushes, log
    /// rotations and multi-block tables happen with small settings.
    pub fn random(rng: &mut fastrand::Rng, i: usize, base_ts: i64) -> Op {
        Self::random_in(rng, i, base_ts, "")
    }

    /// `random`, with every key starting with `prefix` (so several writers can each
    /// keep to their own keys).
    pub fn random_in(rng: &mut fastrand::Rng, i: usize, base_ts: i64, prefix: &str) -> Op {
        let key = |rng: &mut fastrand::Rng| format!("{prefix}{}", KEYS[rng.usize(..KEYS.len())]);
        // Time moves on with `i` (a few seconds of lateness), so the 10-second
        // compaction windows of `small_config` close and get merged.
        let ts = |rng: &mut fastrand::Rng| base_ts + (i as i64 / 4 + rng.i64(0..8)) * 1_000_000;
        let value = |rng: &mut fastrand::Rng, j: usize| {
            let mut v = format!("v{i}.{j}.").into_bytes();
            v.resize(rng.usize(1..60).max(v.len()), b'a' + (i % 26) as u8);
            v
        };
        match rng.u32(..100) {
            60..=69 => Op::Batch(
                (0..rng.usize(1..10))
                    .map(|j| match rng.u8(..10) {
                        0..=5 => {
                            let ttl = [None, Some(1), Some(LONG_TTL)][rng.usize(..3)];
                            Item::Put(Record::new(key(rng), ts(rng), value(rng, j)), ttl)
                        }
                        6..=8 => Item::Delete(key(rng), ts(rng)),
                        9 if rng.bool() => {
                            let (a, b) = (key(rng), key(rng));
                            let (t1, t2) = (ts(rng), ts(rng));
                            Item::DeleteTimeRange(
                                a.clone().min(b.clone()),
                                a.max(b),
                                t1.min(t2),
                                t1.max(t2),
                            )
                        }
                        _ => {
                            let (a, b) = (key(rng), key(rng));
                            Item::DeleteRange(a.clone().min(b.clone()), a.max(b))
                        }
                    })
                    .collect(),
            ),
            50..=59 => Op::Points(
                (0..rng.usize(1..30))
                    .map(|_| Point::new(key(rng), ts(rng), super::points::value(rng)))
                    .collect(),
            ),
            0..=49 => {
                let n = rng.usize(1..12);
                let big = rng.u8(..10) == 0;
                let batch = (0..n)
                    .map(|j| {
                        let len = if big {
                            rng.usize(2000..9000)
                        } else {
                            rng.usize(1..60)
                        };
                        let mut v = format!("v{i}.{j}.").into_bytes();
                        v.resize(len.max(v.len()), b'a' + (i % 26) as u8);
                        Record::new(key(rng), ts(rng), v)
                    })
                    .collect();
                let ttl = match rng.u8(..8) {
                    0..=3 => None,
                    4 => Some(1), // expired at once: ts is at least a minute ago
                    _ => Some(LONG_TTL),
                };
                Op::Put(batch, ttl)
            }
            70..=81 => Op::Delete((0..rng.usize(1..4)).map(|_| (key(rng), ts(rng))).collect()),
            82..=85 => {
                let (mut s, mut e) = (key(rng), key(rng));
                if s > e {
                    std::mem::swap(&mut s, &mut e);
                }
                let (t1, t2) = (ts(rng), ts(rng));
                match rng.u8(..4) {
                    0 | 1 => Op::DeleteRange(s, e),
                    2 => Op::DeleteTimeRange(s, e, t1.min(t2), t1.max(t2)),
                    // Retention: everything older than about half of what was written.
                    _ => Op::DeleteBefore(prefix.into(), base_ts + (i as i64 / 8) * 1_000_000),
                }
            }
            86..=94 => Op::Flush,
            95..=97 => Op::RunCompactions,
            _ => Op::Compact,
        }
    }

    /// Whether the op is a commit (changes what is stored).
    pub fn is_commit(&self) -> bool {
        !matches!(self, Op::Flush | Op::Compact | Op::RunCompactions)
    }

    pub fn apply(&self, e: &Engine) -> flowdb::Result<()> {
        match self {
            Op::Put(batch, ttl) => e.write_batch_ttl(batch, *ttl),
            Op::Points(points) => e.write_points(points),
            Op::Delete(keys) => e.delete_batch(keys),
            Op::DeleteRange(s, t) => e.delete_range(s, t),
            Op::DeleteTimeRange(s, t, lo, hi) => e.delete_time_range(s, t, *lo, *hi),
            Op::DeleteBefore(p, ts) if p.is_empty() => e.delete_before(*ts),
            Op::DeleteBefore(p, ts) => e.delete_prefix_before(p, *ts),
            Op::Batch(items) => {
                let mut b = WriteBatch::new();
                for item in items {
                    match item {
                        Item::Put(r, None) => b.put(r.clone()),
                        Item::Put(r, Some(t)) => b.put_ttl(r.clone(), *t),
                        Item::Delete(k, ts) => b.delete(k.as_str(), *ts),
                        Item::DeleteRange(s, t) => b.delete_range(s.as_str(), t.as_str()),
                        Item::DeleteTimeRange(s, t, lo, hi) => {
                            b.delete_time_range(s.as_str(), t.as_str(), *lo, *hi)
                        }
                    };
                }
                e.write(&b, &WriteOptions::default())
            }
            Op::Flush => e.flush(),
            Op::Compact => e.trigger_compaction().map(|_| ()),
            Op::RunCompactions => e.run_compactions().map(|_| ()),
        }
    }

    pub fn apply_model(&self, m: &mut State) {
        match self {
            Op::Put(batch, ttl) => {
                for r in batch {
                    model_put(m, r, *ttl);
                }
            }
            Op::Points(points) => {
                for p in points {
                    let v = [POINT, &p.value.to_le_bytes()].concat();
                    m.insert((p.key.clone(), p.ts), (p.expire_at, v));
                }
            }
            Op::Delete(keys) => {
                for (k, ts) in keys {
                    m.remove(&(k.clone().into_bytes(), *ts));
                }
            }
            Op::DeleteRange(s, t) => model_delete_range(m, s, t),
            Op::DeleteTimeRange(s, t, lo, hi) => model_delete_time_range(m, s, t, *lo, *hi),
            Op::DeleteBefore(p, ts) => {
                m.retain(|(k, t), _| !k.starts_with(p.as_bytes()) || *t >= *ts)
            }
            Op::Batch(items) => {
                for item in items {
                    match item {
                        Item::Put(r, ttl) => model_put(m, r, *ttl),
                        Item::Delete(k, ts) => {
                            m.remove(&(k.clone().into_bytes(), *ts));
                        }
                        Item::DeleteRange(s, t) => model_delete_range(m, s, t),
                        Item::DeleteTimeRange(s, t, lo, hi) => {
                            model_delete_time_range(m, s, t, *lo, *hi)
                        }
                    }
                }
            }
            Op::Flush | Op::Compact | Op::RunCompactions => {}
        }
    }
}

fn model_put(m: &mut State, r: &Record, ttl: Option<u64>) {
    let exp = match ttl {
        Some(t) => flowdb::expiry_from_ttl(r.ts, t),
        None => r.expire_at,
    };
    if exp > flowdb::now_micros() {
        m.insert((r.key.clone(), r.ts), (exp, r.value.clone()));
    } else {
        // An expired version hides the record.
        m.remove(&(r.key.clone(), r.ts));
    }
}

fn model_delete_range(m: &mut State, s: &str, t: &str) {
    model_delete_time_range(m, s, t, i64::MIN, i64::MAX)
}

fn model_delete_time_range(m: &mut State, s: &str, t: &str, lo: i64, hi: i64) {
    m.retain(|(k, ts), _| {
        !(k.as_slice() >= s.as_bytes() && k.as_slice() < t.as_bytes() && lo <= *ts && *ts <= hi)
    })
}

/// Everything the engine holds, by full scan; the numeric points (those `aggregate`
/// counts, one bucket per ts) marked.
pub fn state_of(e: &Engine) -> flowdb::Result<State> {
    let points: HashSet<(Vec<u8>, i64)> = e
        .aggregate(Query::prefix(""), 1, &[Agg::Count])?
        .into_iter()
        .map(|b| (b.key, b.start))
        .collect();
    let mut s = State::new();
    for r in e.scan(ScanRange::all())? {
        let r = r?;
        let value = match points.contains(&(r.key.clone(), r.ts)) {
            true => [POINT, &r.value].concat(),
            false => r.value,
        };
        s.insert((r.key, r.ts), (r.expire_at, value));
    }
    Ok(s)
}

/// The models after 0, 1, 2, … of the commits in `ops`.
pub fn prefix_states(ops: &[Op]) -> Vec<State> {
    let mut m = State::new();
    let mut out = vec![m.clone()];
    for op in ops.iter().filter(|o| o.is_commit()) {
        op.apply_model(&mut m);
        out.push(m.clone());
    }
    out
}

/// The numbers of commits `p` in `lo..=hi` whose model equals `got`.
pub fn matching_prefixes(states: &[State], got: &State, lo: usize, hi: usize) -> Vec<usize> {
    (lo..=hi.min(states.len() - 1))
        .filter(|p| &states[*p] == got)
        .collect()
}

/// A short description of how two states differ, for failure messages.
pub fn diff(want: &State, got: &State) -> String {
    let missing: Vec<_> = want
        .keys()
        .filter(|k| !got.contains_key(*k))
        .take(3)
        .collect();
    let extra: Vec<_> = got
        .keys()
        .filter(|k| !want.contains_key(*k))
        .take(3)
        .collect();
    let changed: Vec<_> = want
        .iter()
        .filter(|(k, v)| got.get(*k).is_some_and(|g| g != *v))
        .map(|(k, _)| k)
        .take(3)
        .collect();
    format!("missing {missing:?}, extra {extra:?}, changed {changed:?}")
}

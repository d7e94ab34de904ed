//! [`WriteBatch`]: puts, deletes and range deletes gathered by the caller and applied
//! by [`Engine::write`] as one atomic write (all or nothing, also across a crash), as
//! RocksDB's `WriteBatch` with `DB::Write`. Nothing is checked or written until then;
//! a bad operation rejects the whole batch with an error naming it.

use super::Engine;
use crate::error::{Error, Result};
use crate::point::Point;
use crate::record::{expiry_from_ttl, validate_key, validate_value, Record, NEVER_EXPIRES};
use crate::wal::{Op, Points, WriteBatch as LogBatch};

/// How a put's `expire_at` is decided when the batch is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expiry {
    /// The record's own `expire_at`; when it has none, `Config::default_ttl_secs`.
    Own,
    /// `ts + n` seconds, whatever the record or the configuration say.
    Ttl(u64),
    /// Never, whatever `Config::default_ttl_secs` says.
    Never,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum BatchOp {
    Put(Record, Expiry),
    /// A numeric point, as its record.
    Num(Record, Expiry),
    Delete(Vec<u8>, i64),
    /// `start <= key < end` (`None`: no upper bound), `ts_lo <= ts <= ts_hi`.
    DeleteRange {
        start: Vec<u8>,
        end: Option<Vec<u8>>,
        ts_lo: i64,
        ts_hi: i64,
    },
}

/// Operations to apply atomically with [`Engine::write`]. Reusable: `clear` it and
/// fill it again.
///
/// ```no_run
/// use flowdb::{Config, Engine, Record, WriteBatch, WriteOptions};
/// let engine = Engine::open(Config::new("./data"))?;
/// let mut batch = WriteBatch::new();
/// batch
///     .put(Record::new("cpu.a", 10, b"1".to_vec()))
///     .put_ttl(Record::new("cpu.a", 11, b"2".to_vec()), 3600)
///     .delete("cpu.a", 5)
///     .delete_range("tmp.", "tmp/");
/// engine.write(&batch, &WriteOptions { sync: true })?; // all four, or none
/// # Ok::<(), flowdb::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteBatch {
    ops: Vec<BatchOp>,
}

/// Options of one [`Engine::write`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// Durable on stable storage when `write` returns, whatever the sync mode
    /// (default false: the configured `SyncMode` decides).
    pub sync: bool,
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> Self {
        WriteBatch::default()
    }

    /// An empty batch with room for `n` operations.
    pub fn with_capacity(n: usize) -> Self {
        WriteBatch {
            ops: Vec::with_capacity(n),
        }
    }

    /// Puts a record. It keeps its own `expire_at`; a record without one
    /// (`NEVER_EXPIRES`, as `Record::new` makes) gets `Config::default_ttl_secs`.
    pub fn put(&mut self, record: Record) -> &mut Self {
        self.ops.push(BatchOp::Put(record, Expiry::Own));
        self
    }

    /// Puts a record expiring `ttl_secs` seconds after its `ts`.
    pub fn put_ttl(&mut self, record: Record, ttl_secs: u64) -> &mut Self {
        self.ops.push(BatchOp::Put(record, Expiry::Ttl(ttl_secs)));
        self
    }

    /// Puts a record that never expires, whatever `Config::default_ttl_secs` says
    /// (JsonDB's documents are written so).
    pub fn put_permanent(&mut self, record: Record) -> &mut Self {
        self.ops.push(BatchOp::Put(record, Expiry::Never));
        self
    }

    /// Puts a numeric point (see [`Point`]). It keeps its own `expire_at`; a point
    /// without one gets `Config::default_ttl_secs`, as `put` decides for records.
    pub fn put_point(&mut self, point: Point) -> &mut Self {
        self.ops
            .push(BatchOp::Num(point.into_record(), Expiry::Own));
        self
    }

    /// Puts a numeric point expiring `ttl_secs` seconds after its `ts`.
    pub fn put_point_ttl(&mut self, point: Point, ttl_secs: u64) -> &mut Self {
        self.ops
            .push(BatchOp::Num(point.into_record(), Expiry::Ttl(ttl_secs)));
        self
    }

    /// Deletes the record `(key, ts)` (absent is fine).
    pub fn delete(&mut self, key: impl Into<Vec<u8>>, ts: i64) -> &mut Self {
        self.ops.push(BatchOp::Delete(key.into(), ts));
        self
    }

    /// Deletes every record with `start <= key < end` (half-open, as
    /// `Engine::delete_range`); `start == end` deletes nothing, `start > end` makes the
    /// write fail.
    pub fn delete_range(
        &mut self,
        start: impl Into<Vec<u8>>,
        end: impl Into<Vec<u8>>,
    ) -> &mut Self {
        self.delete_range_op(start.into(), Some(end.into()), i64::MIN, i64::MAX)
    }

    /// Deletes every record with `start <= key < end` (half-open, as `delete_range`)
    /// and `ts_start <= ts <= ts_end` (inclusive, as every time range of queries):
    /// one range tombstone, whatever the number of records it hides. `start == end`
    /// deletes nothing; `start > end` or `ts_start > ts_end` makes the write fail.
    pub fn delete_time_range(
        &mut self,
        start: impl Into<Vec<u8>>,
        end: impl Into<Vec<u8>>,
        ts_start: i64,
        ts_end: i64,
    ) -> &mut Self {
        self.delete_range_op(start.into(), Some(end.into()), ts_start, ts_end)
    }

    /// Deletes every record of every key with `ts < ts` (retention: "older than").
    /// `ts = i64::MIN` deletes nothing.
    pub fn delete_before(&mut self, ts: i64) -> &mut Self {
        self.delete_prefix_before(Vec::new(), ts)
    }

    /// Deletes every record whose key begins with `prefix` and whose `ts < ts`.
    pub fn delete_prefix_before(&mut self, prefix: impl Into<Vec<u8>>, ts: i64) -> &mut Self {
        if let Some((start, end, lo, hi)) = prefix_before(prefix.into(), ts) {
            self.delete_range_op(start, end, lo, hi);
        }
        self
    }

    fn delete_range_op(
        &mut self,
        start: Vec<u8>,
        end: Option<Vec<u8>>,
        ts_lo: i64,
        ts_hi: i64,
    ) -> &mut Self {
        self.ops.push(BatchOp::DeleteRange {
            start,
            end,
            ts_lo,
            ts_hi,
        });
        self
    }

    /// How many operations the batch holds.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Removes every operation (the batch can be filled again).
    pub fn clear(&mut self) {
        self.ops.clear();
    }

    /// The log's form of the batch: every operation checked, every expiry decided.
    fn into_log(self, default_ttl: Option<u64>) -> Result<LogBatch> {
        let mut ops = Vec::with_capacity(self.ops.len());
        for (i, op) in self.ops.into_iter().enumerate() {
            let named = |e| named(i, e);
            match op {
                BatchOp::Put(r, expiry) => {
                    ops.push(Op::Put(checked(r, expiry, default_ttl).map_err(named)?))
                }
                BatchOp::Num(r, expiry) => {
                    ops.push(Op::Num(checked(r, expiry, default_ttl).map_err(named)?))
                }
                BatchOp::Delete(key, ts) => {
                    validate_key(&key).map_err(named)?;
                    ops.push(Op::Delete { key, ts });
                }
                BatchOp::DeleteRange {
                    start,
                    end,
                    ts_lo,
                    ts_hi,
                } => ops.extend(range_delete(start, end, ts_lo, ts_hi).map_err(named)?),
            }
        }
        Ok(LogBatch { ops })
    }
}

/// `e`, an invalid argument of a batch's operation `i`, naming it.
fn named(i: usize, e: Error) -> Error {
    match e {
        Error::InvalidArgument(m) => Error::InvalidArgument(format!("batch operation {i}: {m}")),
        other => other,
    }
}

/// `r` checked, with its expiry decided.
fn checked(mut r: Record, expiry: Expiry, default_ttl: Option<u64>) -> Result<Record> {
    validate_key(&r.key)?;
    validate_value(&r.key, &r.value)?;
    r.expire_at = expire_at(r.ts, r.expire_at, expiry, default_ttl);
    Ok(r)
}

/// The expiry of a record at `ts` whose own is `own`.
fn expire_at(ts: i64, own: i64, expiry: Expiry, default_ttl: Option<u64>) -> i64 {
    match (expiry, default_ttl) {
        (Expiry::Ttl(t), _) => expiry_from_ttl(ts, t),
        (Expiry::Never, _) => NEVER_EXPIRES,
        (Expiry::Own, _) if own != NEVER_EXPIRES => own,
        (Expiry::Own, Some(t)) => expiry_from_ttl(ts, t),
        (Expiry::Own, None) => NEVER_EXPIRES,
    }
}

/// The log batch of `Engine::write_points`: the points checked, each with its own
/// expiry (as `WriteBatch::put_point`), in columns.
pub(super) fn points_log(points: &[Point], default_ttl: Option<u64>) -> Result<LogBatch> {
    let key_bytes = points.iter().map(|p| p.key.len()).sum();
    let mut cols = Points::with_capacity(points.len(), key_bytes);
    for (i, p) in points.iter().enumerate() {
        validate_key(&p.key).map_err(|e| named(i, e))?;
        let exp = expire_at(p.ts, p.expire_at, Expiry::Own, default_ttl);
        cols.push(&p.key, p.ts, exp, p.value);
    }
    Ok(LogBatch {
        ops: vec![Op::Points(cols)],
    })
}

/// A key × time region to delete: `(start, end, ts_lo, ts_hi)`, `end: None` for no
/// upper key bound.
pub(crate) type Region = (Vec<u8>, Option<Vec<u8>>, i64, i64);

/// The region "keys beginning with `prefix`, `ts` below `ts`"; `None` when it is
/// empty (`ts = i64::MIN`).
pub(crate) fn prefix_before(prefix: Vec<u8>, ts: i64) -> Option<Region> {
    let end = crate::range::prefix_successor(&prefix);
    (ts != i64::MIN).then(|| (prefix, end, i64::MIN, ts - 1))
}

/// The log operation of a range delete, checked: `None` when it deletes nothing (an
/// empty key range).
pub(crate) fn range_delete(
    start: Vec<u8>,
    end: Option<Vec<u8>>,
    ts_lo: i64,
    ts_hi: i64,
) -> Result<Option<Op>> {
    if let Some(end) = &end {
        if start > *end {
            return Err(Error::invalid(format!(
                "delete_range start {:?} is after end {:?}",
                String::from_utf8_lossy(&start),
                String::from_utf8_lossy(end)
            )));
        }
    }
    if ts_lo > ts_hi {
        return Err(Error::invalid(format!(
            "delete_time_range ts_start {ts_lo} is after ts_end {ts_hi}"
        )));
    }
    if end.as_ref().is_some_and(|e| *e == start) {
        return Ok(None);
    }
    Ok(Some(Op::DeleteRange {
        start,
        // The log's form of "no upper bound" is the empty end (see `RangeTombstone`).
        end: end.unwrap_or_default(),
        ts_lo,
        ts_hi,
    }))
}

impl Engine {
    /// Applies `batch` atomically: every operation or none, also across a crash;
    /// readers see all of it or none of it. Operations apply in order, so a put after
    /// a delete of the same record in one batch leaves the put.
    pub fn write(&self, batch: &WriteBatch, opts: &WriteOptions) -> Result<()> {
        self.write_owned(batch.clone(), opts)
    }

    /// `write`, taking the batch by value (its records are moved, not copied).
    pub fn write_owned(&self, batch: WriteBatch, opts: &WriteOptions) -> Result<()> {
        let log = batch.into_log(self.inner.config.default_ttl_secs)?;
        self.inner.commit(log, opts.sync)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_rules_and_checks() {
        let mut b = WriteBatch::new();
        b.put(Record::new("a", 1, vec![]))
            .put(Record::new("b", 1, vec![]).with_expire_at(99))
            .put_ttl(Record::new("c", 1_000_000, vec![]), 2)
            .put_permanent(Record::new("d", 1, vec![]))
            .delete("e", 3)
            .delete_range("x", "x");
        let log = b.clone().into_log(Some(10)).unwrap();
        let expiry: Vec<i64> = log
            .ops
            .iter()
            .filter_map(|op| match op {
                Op::Put(r) => Some(r.expire_at),
                _ => None,
            })
            .collect();
        assert_eq!(expiry, [10_000_001, 99, 3_000_000, NEVER_EXPIRES]);
        assert_eq!(log.ops.len(), 5, "an empty range delete is dropped");
        b.delete_range("z", "a");
        let e = b.clone().into_log(None).unwrap_err().to_string();
        assert!(
            e.contains("batch operation 6") && e.contains("delete_range"),
            "{e}"
        );
        b.clear();
        b.delete("", 1);
        assert!(b
            .into_log(None)
            .unwrap_err()
            .to_string()
            .contains("batch operation 0"));
    }
}

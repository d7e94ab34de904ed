//! [`Rollup`], the read handle of a rule's rollup ([`Engine::rollup`]), and
//! [`Engine::run_rollups`]. Reads go to the rollup's engine with the reserved
//! records (keys beginning with byte 0: the watermark, the dirty marks, the rule's
//! definition) left out.

use std::path::PathBuf;
use std::sync::{Arc, Weak};

use super::rollup::read_watermark;
use super::Engine;
use crate::config::ReadOptions;
use crate::error::{Error, Result};
use crate::iterator::scan::ScanIterator;
use crate::point::{Agg, Bucket, GroupBy};
use crate::range::{Bounds, KeyEnd, Query, ScanRange};
use crate::record::Record;
use crate::rollup::{RollupRule, FIRST_ROLLED_KEY, RESERVED};
use crate::sstable::series::SeriesInfo;

impl Engine {
    /// The rollup of the rule `name` of `Tuning::rollups`, to read: `NotFound` when
    /// no rule is named so.
    pub fn rollup(&self, name: &str) -> Result<Rollup> {
        self.inner.check_open()?;
        let r = self.inner.rollup_state(name)?;
        Ok(Rollup {
            rule: r.rule.clone(),
            child: Arc::downgrade(&r.child),
        })
    }

    /// Rolls every rule's buckets that are due, and re-rolls the dirty ones, now
    /// (background maintenance does it every round): for programs that open with
    /// `auto_background = false`, and tests. Nothing to do without rules.
    pub fn run_rollups(&self) -> Result<()> {
        self.inner.check_owner()?;
        match &self.inner.rollups {
            Some(r) => r.roll(&self.inner, &r.rolling.lock()),
            None => Ok(()),
        }
    }
}

/// A rule's rollup, read like an engine: its series are points keyed
/// `<function>:<raw key>` (`max:cpu.h1.usage`), one per rolled bucket at the
/// bucket's start. From [`Engine::rollup`]. It holds its engine weakly, as a
/// [`Snapshot`](crate::Snapshot) does: after `Engine::shutdown` its reads fail with
/// `Closed`. It writes nothing.
///
/// ```no_run
/// use flowdb::{Agg, Config, Engine, Query, RollupRule, Tuning};
/// let mut tuning = Tuning::default();
/// tuning.rollups.push(RollupRule::new("1m", 60_000_000, &[Agg::Max]).prefix("cpu."));
/// let engine = Engine::open_with(Config::new("./data"), tuning)?;
/// // The maximum per hour, from the 1-minute rollup.
/// let hourly = engine.rollup("1m")?.aggregate(Query::prefix("max:cpu."), 3_600_000_000, &[Agg::Max])?;
/// # Ok::<(), flowdb::Error>(())
/// ```
#[derive(Clone)]
pub struct Rollup {
    rule: RollupRule,
    child: Weak<Engine>,
}

impl std::fmt::Debug for Rollup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rollup")
            .field("rule", &self.rule)
            .finish_non_exhaustive()
    }
}

/// `b` without the reserved keys (which begin with byte 0).
fn visible(mut b: Bounds) -> Bounds {
    if b.start.as_slice() < FIRST_ROLLED_KEY {
        b.start = FIRST_ROLLED_KEY.to_vec();
    }
    if let KeyEnd::Included(e) | KeyEnd::Excluded(e) = &b.end {
        if e.as_slice() < FIRST_ROLLED_KEY {
            b.end = KeyEnd::Excluded(FIRST_ROLLED_KEY.to_vec()); // empty
        }
    }
    b
}

fn reserved(key: &[u8]) -> bool {
    key.first() == Some(&RESERVED)
}

impl Rollup {
    fn engine(&self) -> Result<Arc<Engine>> {
        self.child.upgrade().ok_or_else(|| {
            Error::Closed(format!(
                "the engine of rollup {:?} was shut down",
                self.rule.name
            ))
        })
    }

    /// The rule this rollup follows.
    pub fn rule(&self) -> &RollupRule {
        &self.rule
    }

    /// Every bucket ending at or before this ts is rolled (`i64::MIN`: none yet);
    /// its points are final, unless a late raw write changes them (then they are
    /// re-rolled by the next round).
    pub fn watermark(&self) -> Result<i64> {
        read_watermark(&*self.engine()?)
    }

    /// The rollup's directory.
    pub fn data_dir(&self) -> Result<PathBuf> {
        Ok(self.engine()?.data_dir().to_path_buf())
    }

    /// [`Engine::get`] on the rollup: the rolled point `key` at the bucket start `ts`.
    pub fn get(&self, key: &str, ts: i64) -> Result<Option<Record>> {
        self.get_bytes(key.as_bytes(), ts)
    }

    /// `get` for keys that are not UTF-8.
    pub fn get_bytes(&self, key: &[u8], ts: i64) -> Result<Option<Record>> {
        let e = self.engine()?;
        match reserved(key) {
            true => Ok(None),
            false => e.get_bytes(key, ts, &ReadOptions::default()),
        }
    }

    /// [`Engine::get_latest`] on the rollup.
    pub fn get_latest(&self, key: &str) -> Result<Option<Record>> {
        let e = self.engine()?;
        match reserved(key.as_bytes()) {
            true => Ok(None),
            false => e.get_latest(key),
        }
    }

    /// [`Engine::last_n`] on the rollup.
    pub fn last_n(&self, key: &str, n: usize) -> Result<Vec<Record>> {
        let e = self.engine()?;
        match reserved(key.as_bytes()) {
            true => Ok(Vec::new()),
            false => e.last_n(key, n),
        }
    }

    /// [`Engine::query`] on the rollup.
    pub fn query(&self, query: Query) -> Result<Vec<Record>> {
        let q = Query {
            bounds: visible(query.bounds),
            ..query
        };
        self.engine()?.query(q)
    }

    /// [`Engine::scan`] on the rollup.
    pub fn scan(&self, range: ScanRange) -> Result<ScanIterator> {
        let r = ScanRange {
            bounds: visible(range.bounds),
            ..range
        };
        self.engine()?.scan(r)
    }

    /// [`Engine::aggregate`] on the rollup: `aggregate(Query::prefix("max:cpu."),
    /// 3_600_000_000, &[Agg::Max])` is the maximum per hour from the rolled maxima.
    pub fn aggregate(&self, query: Query, step: i64, functions: &[Agg]) -> Result<Vec<Bucket>> {
        self.aggregate_by(query, step, functions, GroupBy::Series)
    }

    /// [`Engine::aggregate_by`] on the rollup.
    pub fn aggregate_by(
        &self,
        query: Query,
        step: i64,
        functions: &[Agg],
        group: GroupBy,
    ) -> Result<Vec<Bucket>> {
        let q = Query {
            bounds: visible(query.bounds),
            ..query
        };
        self.engine()?.aggregate_by(q, step, functions, group)
    }

    /// [`Engine::aggregate_with`] on the rollup.
    pub fn aggregate_with(
        &self,
        query: Query,
        step: i64,
        functions: &[Agg],
        mut f: impl FnMut(&[u8], i64, &[f64]),
    ) -> Result<usize> {
        self.aggregate_by_with(query, step, functions, GroupBy::Series, &mut f)
    }

    /// [`Engine::aggregate_by_with`] on the rollup.
    pub fn aggregate_by_with(
        &self,
        query: Query,
        step: i64,
        functions: &[Agg],
        group: GroupBy,
        f: impl FnMut(&[u8], i64, &[f64]),
    ) -> Result<usize> {
        let q = Query {
            bounds: visible(query.bounds),
            ..query
        };
        self.engine()?
            .aggregate_by_with(q, step, functions, group, f)
    }

    /// [`Engine::series`] on the rollup: its rolled series under `prefix`.
    pub fn series(&self, prefix: &str) -> Result<Vec<SeriesInfo>> {
        self.series_page(prefix.as_bytes(), b"", usize::MAX)
    }

    /// [`Engine::series_page`] on the rollup.
    pub fn series_page(
        &self,
        prefix: &[u8],
        after: &[u8],
        limit: usize,
    ) -> Result<Vec<SeriesInfo>> {
        let e = self.engine()?;
        if reserved(prefix) {
            return Ok(Vec::new());
        }
        // Every reserved key is below "\0\xff"; every rolled key above.
        let after = after.max(b"\x00\xff".as_slice());
        e.series_page(prefix, after, limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_keys_are_hidden() {
        let b = visible(Bounds::all());
        assert_eq!(b.start, FIRST_ROLLED_KEY);
        assert!(visible(Bounds::prefix(b"\0")).is_empty());
        assert!(!visible(Bounds::prefix(b"max:")).is_empty());
        assert_eq!(visible(Bounds::prefix(b"max:")), Bounds::prefix(b"max:"));
    }
}

//! The published calls of numeric series: [`Engine::write_points`], and
//! [`Engine::aggregate`] with its variants (grouped, lending each bucket) on the
//! engine and on a [`Snapshot`]. Each hands its read to the aggregation read path in
//! `points.rs`.

use super::snapshot::Snapshot;
use super::Engine;
use crate::error::Result;
use crate::point::{Agg, Bucket, GroupBy, Point};
use crate::range::Query;

impl Engine {
    /// Writes numeric points atomically (all or nothing, also across a crash), as
    /// `write_batch` writes records: each keeps its own `expire_at`, otherwise
    /// `Config::default_ttl_secs` applies. Every read returns a point as a record
    /// whose value is the `f64`'s 8 bytes, little-endian ([`Point`]).
    ///
    /// ```no_run
    /// use flowdb::{Agg, Config, Engine, Point, Query};
    /// let engine = Engine::open(Config::new("./data"))?;
    /// engine.write_points(&[Point::new("temp.kitchen", 0, 21.5), Point::new("temp.kitchen", 60_000_000, 22.0)])?;
    /// // The maximum per 5 minutes of every series under "temp.".
    /// for b in engine.aggregate(Query::prefix("temp."), 300_000_000, &[Agg::Max])? {
    ///     println!("{} {} {}", String::from_utf8_lossy(&b.key), b.start, b.values[0]);
    /// }
    /// # Ok::<(), flowdb::Error>(())
    /// ```
    pub fn write_points(&self, points: &[Point]) -> Result<()> {
        if points.is_empty() {
            return Ok(());
        }
        let log = super::batch::points_log(points, self.inner.config.default_ttl_secs)?;
        self.inner.commit(log, false)
    }

    /// The numeric points `query` matches, aggregated per series and per time
    /// bucket of `step` microseconds: one [`Bucket`] per series and bucket that
    /// holds a point, in `(key, start)` order (descending for a `reverse()` query),
    /// at most the query's `limit` buckets, with `values[i]` the result of
    /// `functions[i]`. Records of opaque bytes are left out. `step <= 0` and an
    /// empty `functions` are `InvalidArgument`.
    pub fn aggregate(&self, query: Query, step: i64, functions: &[Agg]) -> Result<Vec<Bucket>> {
        self.aggregate_by(query, step, functions, GroupBy::Series)
    }

    /// [`aggregate`](Self::aggregate) with the series grouped by `group`: one
    /// bucket per group and time bucket, keyed by the group's key ([`GroupBy`]).
    pub fn aggregate_by(
        &self,
        query: Query,
        step: i64,
        functions: &[Agg],
        group: GroupBy,
    ) -> Result<Vec<Bucket>> {
        self.inner
            .aggregate_at(&self.inner.snapshot(), query, step, functions, group)
    }

    /// [`aggregate`](Self::aggregate) lending each bucket instead of returning it:
    /// `f(key, start, values)` for each bucket in turn, as the read finishes it, the
    /// key and values lent from buffers reused from bucket to bucket, so nothing is
    /// allocated per bucket. Returns how many buckets `f` was given; on an error,
    /// `f` may have been given some already.
    ///
    /// ```no_run
    /// use flowdb::{Agg, Config, Engine, Query};
    /// let engine = Engine::open(Config::new("./data"))?;
    /// let hour = Query::key_time_range("temp.kitchen", "temp.kitchen", 0, 3_599_999_999);
    /// let mut hottest = f64::NEG_INFINITY;
    /// engine.aggregate_with(hour, 60_000_000, &[Agg::Max], |_key, _start, v| {
    ///     hottest = hottest.max(v[0]);
    /// })?;
    /// # Ok::<(), flowdb::Error>(())
    /// ```
    pub fn aggregate_with(
        &self,
        query: Query,
        step: i64,
        functions: &[Agg],
        mut f: impl FnMut(&[u8], i64, &[f64]),
    ) -> Result<usize> {
        self.aggregate_by_with(query, step, functions, GroupBy::Series, &mut f)
    }

    /// [`aggregate_by`](Self::aggregate_by) lending each bucket, as
    /// [`aggregate_with`](Self::aggregate_with) does. Grouped buckets are gathered
    /// in memory (a key per group and bucket) and lent once the read is done;
    /// `GroupBy::Series` lends them as the read goes.
    pub fn aggregate_by_with(
        &self,
        query: Query,
        step: i64,
        functions: &[Agg],
        group: GroupBy,
        mut f: impl FnMut(&[u8], i64, &[f64]),
    ) -> Result<usize> {
        let snap = self.inner.snapshot();
        self.inner
            .aggregate_lent(&snap, query, step, functions, group, &mut f)
    }
}

impl Snapshot {
    /// [`Engine::aggregate`] as of the snapshot.
    pub fn aggregate(&self, query: Query, step: i64, functions: &[Agg]) -> Result<Vec<Bucket>> {
        self.aggregate_by(query, step, functions, GroupBy::Series)
    }

    /// [`Engine::aggregate_by`] as of the snapshot.
    pub fn aggregate_by(
        &self,
        query: Query,
        step: i64,
        functions: &[Agg],
        group: GroupBy,
    ) -> Result<Vec<Bucket>> {
        self.engine()?
            .aggregate_at(self.view(), query, step, functions, group)
    }

    /// [`Engine::aggregate_with`] as of the snapshot.
    pub fn aggregate_with(
        &self,
        query: Query,
        step: i64,
        functions: &[Agg],
        mut f: impl FnMut(&[u8], i64, &[f64]),
    ) -> Result<usize> {
        self.aggregate_by_with(query, step, functions, GroupBy::Series, &mut f)
    }

    /// [`Engine::aggregate_by_with`] as of the snapshot.
    pub fn aggregate_by_with(
        &self,
        query: Query,
        step: i64,
        functions: &[Agg],
        group: GroupBy,
        mut f: impl FnMut(&[u8], i64, &[f64]),
    ) -> Result<usize> {
        self.engine()?
            .aggregate_lent(self.view(), query, step, functions, group, &mut f)
    }
}

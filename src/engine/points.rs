//! The aggregation read path of numeric series
//! ([`Engine::aggregate`](crate::Engine::aggregate)): the points a query reads, or a
//! table block's statistics when one bucket covers the block, folded into buckets per
//! series, and those added up per group. The published calls, and writing points,
//! are in `points_api.rs`; the types are in `point.rs`; the meaning of each rule is
//! in docs/numeric.md.

use std::cell::RefCell;
use std::collections::BTreeMap;

use super::Inner;
use crate::entry::Kind;
use crate::error::{Error, Result};
use crate::iterator::lent_merge::Offer;
pub(super) use crate::point::bucket_of;
use crate::point::{Agg, Bucket, Group, GroupBy, Needs, Summary};
use crate::range::Query;
use crate::sstable::block_stats::Parts;
use crate::version;

fn check(step: i64, functions: &[Agg]) -> Result<()> {
    if step <= 0 {
        return Err(Error::invalid(format!(
            "aggregate step must be a positive number of microseconds, got {step}"
        )));
    }
    if functions.is_empty() {
        return Err(Error::invalid(
            "aggregate needs at least one function (count, sum, min, max, avg, first, last)",
        ));
    }
    Ok(())
}

/// What `aggregate_lent` lends each bucket to: key, start, values.
type Lend<'a> = dyn FnMut(&[u8], i64, &[f64]) + 'a;

/// What the per-series buckets go to: `false` stops the read.
type Sink<'a> = dyn FnMut(&[u8], i64, &Summary) -> bool + 'a;

impl Inner {
    pub(crate) fn aggregate_at(
        &self,
        snap: &version::Snapshot,
        query: Query,
        step: i64,
        functions: &[Agg],
        group: GroupBy,
    ) -> Result<Vec<Bucket>> {
        let mut out = Vec::new();
        let mut keep = |key: &[u8], start, values: &[f64]| {
            out.push(Bucket {
                key: key.to_vec(),
                start,
                values: values.to_vec(),
            })
        };
        self.aggregate_lent(snap, query, step, functions, group, &mut keep)?;
        Ok(out)
    }

    /// The buckets of [`aggregate_at`](Self::aggregate_at) lent to `f` (key, start,
    /// values) as they are made; returns how many.
    pub(crate) fn aggregate_lent(
        &self,
        snap: &version::Snapshot,
        query: Query,
        step: i64,
        functions: &[Agg],
        group: GroupBy,
        f: &mut Lend<'_>,
    ) -> Result<usize> {
        self.check_open()?;
        check(step, functions)?;
        let started = self.stats.query_timer();
        let limit = query.limit.unwrap_or(usize::MAX);
        let reverse = query.bounds.reverse;
        if query.bounds.is_empty() || limit == 0 {
            return Ok(0);
        }
        // One bucket's results, rewritten for each.
        let mut values = vec![0.0; functions.len()];
        let mut lend = |key: &[u8], start, get: &dyn Fn(Agg) -> f64| {
            for (v, &fun) in values.iter_mut().zip(functions) {
                *v = get(fun);
            }
            f(key, start, &values);
        };
        let mut lent = 0;
        let read = if group == GroupBy::Series {
            self.series_buckets(snap, query, step, functions, &mut |key, start, s| {
                lend(key, start, &|f| s.get(f));
                lent += 1;
                lent < limit
            })?
        } else {
            // Groups gather buckets from many series: all are read, then ordered.
            let mut groups: BTreeMap<(Vec<u8>, i64), Group> = BTreeMap::new();
            let read =
                self.series_buckets(snap, query, step, functions, &mut |key, start, s| {
                    let at = (group.group(key).to_vec(), start);
                    match groups.get_mut(&at) {
                        Some(g) => g.add(s, reverse),
                        None => drop(groups.insert(at, Group::of(s))),
                    }
                    true
                })?;
            let ordered: Box<dyn Iterator<Item = _>> = match reverse {
                false => Box::new(groups.iter()),
                true => Box::new(groups.iter().rev()),
            };
            for ((key, start), g) in ordered.take(limit) {
                lend(key, *start, &|f| g.get(f));
                lent += 1;
            }
            read
        };
        self.stats.add_records_read(read);
        self.stats.time_query(started);
        Ok(lent)
    }

    /// Hands each series' buckets to `sink` in the query's order, their summaries
    /// good for `functions`; returns the number of points read. A table block of one
    /// series' points that one bucket covers whole is folded from its index entry's
    /// statistics, not read; other blocks of one series' points are read as columns.
    pub(super) fn series_buckets(
        &self,
        snap: &version::Snapshot,
        query: Query,
        step: i64,
        functions: &[Agg],
        sink: &mut Sink<'_>,
    ) -> Result<u64> {
        let needs = Needs::of(functions);
        let fold = RefCell::new(Fold {
            step,
            open: None,
            key: Vec::new(),
            start: 0,
            end: -1,
            from_index: 0,
            needs,
            sink,
        });
        let read = self.visit_entries_at(
            snap,
            query.bounds,
            usize::MAX,
            |key, ts, kind, value| {
                if kind != Kind::Num {
                    return Ok(true);
                }
                let Ok(bytes) = <[u8; 8]>::try_from(value) else {
                    return Err(Error::Internal(format!(
                        "numeric point of {:?} at {ts} holds {} bytes, not 8",
                        String::from_utf8_lossy(key),
                        value.len()
                    )));
                };
                Ok(fold.borrow_mut().point(key, ts, f64::from_le_bytes(bytes)))
            },
            Some(&mut |key, offer| fold.borrow_mut().offered(key, offer)),
        )?;
        let fold = fold.into_inner();
        self.stats
            .points_from_index
            .fetch_add(fold.from_index, std::sync::atomic::Ordering::Relaxed);
        fold.finish();
        Ok(read)
    }
}

/// How many of `ts` (ascending) are at or before `end`: a bucket's share of a
/// block's points. Counted one by one up to `SHORT` (a bucket of a minute holds 4 to
/// 6 points scraped every 10-15 s), then by a binary search. (A binary search over
/// the rest of the block was a fifth of the fold; one from the last share's size,
/// out of line, 70 instructions a bucket; a compare per point of every share, two
/// fifths.)
#[inline(always)]
fn share_of(ts: &[i64], end: i64) -> usize {
    const SHORT: usize = 8;
    let mut n = 0;
    while n < SHORT && n < ts.len() && ts[n] <= end {
        n += 1;
    }
    if n == SHORT {
        n += ts[SHORT..].partition_point(|&t| t <= end);
    }
    n
}

/// One series' buckets being folded, point by point or block by block.
struct Fold<'s, 'a> {
    step: i64,
    /// The open bucket: its start and summary so far; its series is `key`.
    open: Option<(i64, Summary)>,
    /// The open bucket's series (a buffer reused from bucket to bucket).
    key: Vec<u8>,
    /// The open bucket's ts range, `[start, end]`: a point in it needs no division.
    start: i64,
    end: i64,
    /// The points folded from block statistics.
    from_index: u64,
    /// What the functions read of a summary (`Summary::extend`).
    needs: Needs,
    sink: &'s mut Sink<'a>,
}

impl Fold<'_, '_> {
    /// Adds a point; false when the sink stopped the read.
    #[inline]
    fn point(&mut self, key: &[u8], ts: i64, v: f64) -> bool {
        if ts < self.start || ts > self.end {
            self.enter(ts);
        }
        let current = self.key == key;
        match &mut self.open {
            Some((s, sum)) if *s == self.start && current => {
                sum.push(ts, v);
                true
            }
            _ => self.open_bucket(key, Summary::of(ts, v), current),
        }
    }

    /// Makes the bucket holding `ts` the current one: the next bucket when `ts` is
    /// in it (a series read forwards comes to its buckets in turn), without the
    /// division (docs/benchmarks.md has what this and comparing the key once a
    /// block gained).
    #[inline]
    fn enter(&mut self, ts: i64) {
        if ts > self.end && self.start <= self.end {
            if let Some(next_end) = self.end.checked_add(self.step) {
                if ts <= next_end {
                    (self.start, self.end) = (self.end + 1, next_end);
                    return;
                }
            }
        }
        (self.start, self.end) = bucket_of(ts, self.step);
    }

    /// Takes a block offered by the read: its points always, its summary when one
    /// bucket covers them all (`None` otherwise: its points are offered next);
    /// `Some(false)` when the sink stopped.
    fn offered(&mut self, key: &[u8], offer: Offer<'_>) -> Option<bool> {
        match offer {
            Offer::Whole(s, parts) => self.block(key, &s, parts),
            Offer::Points(ts, vals) => Some(self.points(key, ts, vals)),
        }
    }

    /// Adds one series' points in ts order, bucket by bucket: each bucket's share is
    /// found by its end and pushed in one loop; false when the sink stopped.
    fn points(&mut self, key: &[u8], ts: &[i64], vals: &[f64]) -> bool {
        // One series' points: the key is compared once, not at each bucket.
        let mut current = self.key == key;
        let mut i = 0;
        while i < ts.len() {
            if ts[i] < self.start || ts[i] > self.end {
                self.enter(ts[i]);
            }
            let end = self.end;
            let n = share_of(&ts[i..], end);
            let (t, v) = (&ts[i..i + n], &vals[i..i + n]);
            i += n;
            let (skip, sum) = match &mut self.open {
                Some((s, sum)) if *s == self.start && current => (0, sum),
                _ => {
                    if !self.open_bucket(key, Summary::of(t[0], v[0]), current) {
                        return false;
                    }
                    current = true;
                    let (_, sum) = self.open.as_mut().expect("bucket just opened");
                    (1, sum)
                }
            };
            sum.extend(&t[skip..], &v[skip..], self.needs);
        }
        true
    }

    /// Adds a block's points when one bucket covers them all, or when each of its
    /// hour parts lies in one bucket and the functions need no first or last point
    /// (`None` otherwise: the block is then read point by point); `Some(false)` when
    /// the sink stopped.
    fn block(&mut self, key: &[u8], s: &Summary, parts: Parts<'_>) -> Option<bool> {
        if self.covered(s) {
            return Some(self.summary(key, s));
        }
        if parts.is_empty() || !self.needs.order_free() {
            return None;
        }
        if !parts.summaries().all(|p| self.covered(&p)) {
            return None;
        }
        for p in parts.summaries() {
            if !self.summary(key, &p) {
                return Some(false);
            }
        }
        Some(true)
    }

    /// Whether one bucket holds all of `s`'s points.
    fn covered(&self, s: &Summary) -> bool {
        s.last_ts <= bucket_of(s.first_ts, self.step).1
    }

    /// Adds `s`, the summary of points of `key` that one bucket covers, after those
    /// added before; false when the sink stopped.
    fn summary(&mut self, key: &[u8], s: &Summary) -> bool {
        let (lo, hi) = bucket_of(s.first_ts, self.step);
        (self.start, self.end) = (lo, hi);
        self.from_index += s.count;
        let current = self.key == key;
        match &mut self.open {
            Some((at, sum)) if *at == lo && current => {
                sum.append(s);
                true
            }
            _ => self.open_bucket(key, *s, current),
        }
    }

    /// Starts the bucket at `self.start` of `key` with `s`, handing the open one to
    /// the sink; false when the sink stopped the read. `current`: `key` is the open
    /// bucket's key already.
    fn open_bucket(&mut self, key: &[u8], s: Summary, current: bool) -> bool {
        // (The open bucket lent to the sink and overwritten in place: moved out and
        // in, its 80 bytes were copied twice a bucket.)
        match &mut self.open {
            Some((at, sum)) => {
                if !(self.sink)(&self.key, *at, sum) {
                    self.open = None;
                    return false;
                }
                (*at, *sum) = (self.start, s);
            }
            None => self.open = Some((self.start, s)),
        }
        if !current {
            self.key.clear();
            self.key.extend_from_slice(key);
        }
        true
    }

    /// Hands the last open bucket to the sink.
    fn finish(self) {
        if let Some((start, s)) = &self.open {
            (self.sink)(&self.key, *start, s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket_start(ts: i64, step: i64) -> i64 {
        bucket_of(ts, step).0
    }

    /// `Fold::enter` steps to the next bucket without a division: always the bucket
    /// `bucket_of` gives, at the ends of time too.
    #[test]
    fn entering_the_next_bucket_is_bucket_of() {
        let mut rng = crate::util::test_rng("entering_the_next_bucket_is_bucket_of");
        let mut sink = |_: &[u8], _: i64, _: &Summary| true;
        for _ in 0..2000 {
            let step = [1, 7, 60_000_000, 1 << 62, i64::MAX][rng.usize(..5)];
            let mut fold = Fold {
                step,
                open: None,
                key: Vec::new(),
                start: 0,
                end: -1,
                from_index: 0,
                needs: Needs::of(&[Agg::Max]),
                sink: &mut sink,
            };
            let starts = [
                i64::MIN,
                step.saturating_mul(-3) / 2,
                0,
                i64::MAX.saturating_sub(step.saturating_mul(2)),
            ];
            let mut ts = starts[rng.usize(..4)];
            for _ in 0..50 {
                ts = ts.saturating_add(rng.i64(0..=step.saturating_mul(2).max(1)));
                if rng.u8(..10) == 0 {
                    ts = rng.i64(..);
                }
                if ts < fold.start || ts > fold.end {
                    fold.enter(ts);
                }
                assert_eq!(
                    (fold.start, fold.end),
                    bucket_of(ts, step),
                    "{ts} step {step}"
                );
            }
        }
    }

    /// A bucket's share is the partition point of its end, short or long.
    #[test]
    fn a_share_is_the_partition_point() {
        let mut rng = crate::util::test_rng("a_share_is_the_partition_point");
        for _ in 0..3000 {
            let mut t = rng.i64(-1000..1000);
            let ts: Vec<i64> = (0..rng.usize(0..40))
                .map(|_| {
                    t += rng.i64(0..5);
                    t
                })
                .collect();
            let end = rng.i64(-1010..t + 10);
            let want = ts.partition_point(|&x| x <= end);
            assert_eq!(share_of(&ts, end), want, "{ts:?} {end}");
        }
    }

    #[test]
    fn buckets_align_to_zero_and_clamp() {
        assert_eq!(bucket_start(0, 10), 0);
        assert_eq!(bucket_start(9, 10), 0);
        assert_eq!(bucket_start(10, 10), 10);
        assert_eq!(bucket_start(-1, 10), -10);
        assert_eq!(bucket_start(i64::MIN, 10), i64::MIN);
        assert_eq!(bucket_start(i64::MIN + 5, 1 << 62), i64::MIN);
        assert_eq!(bucket_start(i64::MAX, i64::MAX), i64::MAX);
        assert_eq!(bucket_start(-1, i64::MAX), i64::MIN + 1);
        // The lowest bucket is clamped at its start, not at its end.
        assert_eq!(
            bucket_of(i64::MIN, 1 << 62),
            (i64::MIN, -(1 << 62) * 2 + (1 << 62) - 1)
        );
        assert_eq!(bucket_of(i64::MIN + 3, 10), (i64::MIN, i64::MIN + 7));
        assert_eq!(bucket_of(i64::MAX, 10).1, i64::MAX);
    }
}

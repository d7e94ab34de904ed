//! Numeric series: [`Point`], a `(key, ts, f64)` written with
//! [`Engine::write_points`](crate::Engine::write_points) or
//! [`WriteBatch::put_point`](crate::WriteBatch::put_point), and what
//! [`Engine::aggregate`](crate::Engine::aggregate) computes over them ([`Agg`],
//! [`Bucket`]).
//!
//! A point is stored as a record whose value is the `f64`'s 8 bytes, little-endian,
//! marked as a number. Every read (`get`, `query`, `scan`, ...) returns it as that
//! record, bit for bit (NaN payloads, `-0.0`, infinities included);
//! [`Record::as_f64`](crate::Record::as_f64) reads the number back. Aggregation reads
//! only points: records of opaque bytes in the same range are left out, even 8-byte
//! ones (docs/numeric.md).

use crate::record::{Record, NEVER_EXPIRES};

/// One numeric point of a series.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    pub key: Vec<u8>,
    /// Microseconds since the Unix epoch, as a record's `ts`.
    pub ts: i64,
    /// Absolute expiry in microseconds; `NEVER_EXPIRES` means never (then
    /// `Config::default_ttl_secs` applies, as for records).
    pub expire_at: i64,
    pub value: f64,
}

impl Point {
    /// A point that never expires (unless `Config::default_ttl_secs` says so).
    pub fn new(key: impl Into<Vec<u8>>, ts: i64, value: f64) -> Self {
        Point {
            key: key.into(),
            ts,
            expire_at: NEVER_EXPIRES,
            value,
        }
    }

    /// The same point with an absolute expiry time (microseconds).
    pub fn with_expire_at(mut self, expire_at: i64) -> Self {
        self.expire_at = expire_at;
        self
    }

    /// The record this point is stored and read as: its value is the `f64`'s 8
    /// bytes, little-endian.
    pub fn into_record(self) -> Record {
        Record {
            key: self.key,
            ts: self.ts,
            expire_at: self.expire_at,
            value: self.value.to_le_bytes().to_vec(),
        }
    }
}

impl Record {
    /// The number a numeric point's record holds: its value read as an `f64`
    /// (8 bytes, little-endian); `None` when the value is not 8 bytes long. Whether
    /// the record was written as a point is not checked: an 8-byte value of opaque
    /// bytes reads as some number too.
    pub fn as_f64(&self) -> Option<f64> {
        let bytes: [u8; 8] = self.value.as_slice().try_into().ok()?;
        Some(f64::from_le_bytes(bytes))
    }
}

/// An aggregate function of [`Engine::aggregate`](crate::Engine::aggregate), over
/// the points of one series in one time bucket.
///
/// NaN: `sum`, `avg`, `increase` and `rate` follow IEEE arithmetic (a NaN makes
/// them NaN); `min` and `max` skip NaNs (NaN only when every point is NaN); `count`,
/// `first` and `last` count and return NaNs as any value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Agg {
    /// How many points.
    Count,
    Sum,
    Min,
    Max,
    /// `sum / count`.
    Avg,
    /// The value of the point with the lowest `ts`.
    First,
    /// The value of the point with the highest `ts`.
    Last,
    /// How much a counter grew over the bucket's points, counter resets included
    /// (as Prometheus's `increase` counts them, without extrapolation): the sum over
    /// consecutive points `a, b` of `b - a`, or of `b` when `b < a` (a reset to 0
    /// and a climb to `b`). 0 for one point.
    Increase,
    /// `increase` per second between the bucket's first and last point: NaN for
    /// one point.
    Rate,
}

impl Agg {
    /// Every function, in declaration order.
    pub const ALL: [Agg; 9] = [
        Agg::Count,
        Agg::Sum,
        Agg::Min,
        Agg::Max,
        Agg::Avg,
        Agg::First,
        Agg::Last,
        Agg::Increase,
        Agg::Rate,
    ];

    /// The function's name as the CLI and the bindings spell it (`"count"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Agg::Count => "count",
            Agg::Sum => "sum",
            Agg::Min => "min",
            Agg::Max => "max",
            Agg::Avg => "avg",
            Agg::First => "first",
            Agg::Last => "last",
            Agg::Increase => "increase",
            Agg::Rate => "rate",
        }
    }

    /// The function named `name` (as [`name`](Self::name) spells it).
    pub fn from_name(name: &str) -> Option<Agg> {
        Agg::ALL.into_iter().find(|a| a.name() == name)
    }
}

/// The bucket of `step` holding `ts`, as its first and last ts: it starts at the
/// greatest multiple of `step` at or below `ts`; both are clamped to the `i64` range.
/// Aggregation's buckets, and the clock hours of block statistics' hour parts.
pub(crate) fn bucket_of(ts: i64, step: i64) -> (i64, i64) {
    let lo = ts.div_euclid(step) as i128 * step as i128;
    let hi = lo + step as i128 - 1;
    (
        lo.max(i64::MIN as i128) as i64,
        hi.min(i64::MAX as i128) as i64,
    )
}

/// One series' points in one time bucket, aggregated: `values[i]` is the `i`-th
/// function asked for. The bucket holds the points with
/// `start <= ts < start + step`; `start` is a multiple of `step` (buckets are
/// aligned to ts 0, as Prometheus and InfluxDB align theirs), clamped to `i64::MIN`
/// for the lowest bucket.
#[derive(Clone, Debug, PartialEq)]
pub struct Bucket {
    pub key: Vec<u8>,
    pub start: i64,
    pub values: Vec<f64>,
}

/// How [`Engine::aggregate_by`](crate::Engine::aggregate_by) groups series: the
/// points of a group's series in one bucket are aggregated together, under the
/// group's key.
///
/// Across series, `first`/`last` are the earliest/latest point of any of them (a tie
/// goes to the lowest key), and `increase` and `rate` are the sums of each series'
/// own (Prometheus's `sum(increase(...))`, `sum(rate(...))`; a series with one point
/// in the bucket adds no rate).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GroupBy {
    /// Each series alone (what `aggregate` does).
    Series,
    /// Every series together: one group per bucket, its key empty.
    All,
    /// Series whose keys begin with the same `n` bytes; the group's key is those
    /// bytes (a shorter key is a group of its own).
    Prefix(usize),
    /// Series whose keys agree up to and including their last `byte`: with `b'.'`,
    /// `cpu.host1.user` and `cpu.host1.system` are the group `cpu.host1.`. A key
    /// without the byte is a group of its own.
    UpToLast(u8),
}

impl GroupBy {
    /// The key of the group `key`'s series belongs to.
    pub(crate) fn group<'k>(&self, key: &'k [u8]) -> &'k [u8] {
        match *self {
            GroupBy::Series => key,
            GroupBy::All => &[],
            GroupBy::Prefix(n) => &key[..n.min(key.len())],
            GroupBy::UpToLast(b) => match key.iter().rposition(|&c| c == b) {
                Some(i) => &key[..=i],
                None => key,
            },
        }
    }
}

/// Which of a [`Summary`]'s running values some functions read (count, first and
/// last are always kept): what [`Summary::extend`] may skip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Needs {
    pub sum: bool,
    pub min: bool,
    pub max: bool,
    pub increase: bool,
    /// `first` or `last` is asked for (they are always kept; this says whether a
    /// summary without them, a block's hour part, will do).
    pub ends: bool,
}

impl Needs {
    #[cfg(test)]
    pub(crate) const ALL: Needs = Needs {
        sum: true,
        min: true,
        max: true,
        increase: true,
        ends: true,
    };

    /// What `functions` read, of one series or of groups of series.
    pub(crate) fn of(functions: &[Agg]) -> Needs {
        let any = |fs: &[Agg]| functions.iter().any(|f| fs.contains(f));
        Needs {
            sum: any(&[Agg::Sum, Agg::Avg]),
            min: any(&[Agg::Min]),
            max: any(&[Agg::Max]),
            increase: any(&[Agg::Increase, Agg::Rate]),
            ends: any(&[Agg::First, Agg::Last]),
        }
    }

    /// Whether count, sum, min and max alone answer the functions: then a block's
    /// hour parts, which keep no first and last point, can stand for its points.
    pub(crate) fn order_free(&self) -> bool {
        !self.increase && !self.ends
    }
}

/// Running count, sum, min, max, first, last and counter increase of some points of
/// one series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Summary {
    pub count: u64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    pub first_ts: i64,
    pub first: f64,
    pub last_ts: i64,
    pub last: f64,
    /// The counter increase from `first` to `last` (`Agg::Increase`).
    pub increase: f64,
}

/// A counter's increase from `a` to the next point `b`: `b` when it fell (a reset);
/// NaN when either is NaN.
fn step_increase(a: f64, b: f64) -> f64 {
    match b.partial_cmp(&a) {
        Some(std::cmp::Ordering::Less) => b,
        Some(_) => b - a,
        None => f64::NAN,
    }
}

impl Summary {
    /// The summary of the one point `(ts, v)`.
    pub(crate) fn of(ts: i64, v: f64) -> Summary {
        Summary {
            count: 1,
            sum: v,
            min: v,
            max: v,
            first_ts: ts,
            first: v,
            last_ts: ts,
            last: v,
            increase: 0.0,
        }
    }

    /// Adds the point `(ts, v)`, after this summary's points or before all of them
    /// (a series read forwards or backwards).
    #[inline]
    pub(crate) fn push(&mut self, ts: i64, v: f64) {
        self.count += 1;
        self.sum += v;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        if ts > self.last_ts {
            self.increase += step_increase(self.last, v);
            (self.last_ts, self.last) = (ts, v);
        } else {
            self.increase += step_increase(v, self.first);
            (self.first_ts, self.first) = (ts, v);
        }
    }

    /// Pushes the points `(ts[i], vals[i])`, in increasing ts and all after this
    /// summary's, as [`push`](Self::push) one by one would (the same sums, in the same
    /// order), in loops the compiler keeps in registers. Only what `needs` names is
    /// kept up to date (count, first and last always); the rest is left as it was
    /// and means nothing.
    #[inline]
    pub(crate) fn extend(&mut self, ts: &[i64], vals: &[f64], needs: Needs) {
        let (Some(&t), Some(&v)) = (ts.last(), vals.last()) else {
            return;
        };
        if needs.increase {
            let mut prev = self.last;
            for &x in vals {
                self.increase += step_increase(prev, x);
                prev = x;
            }
        }
        if needs.sum {
            self.sum = vals.iter().fold(self.sum, |a, &x| a + x);
        }
        if needs.min {
            self.min = vals.iter().fold(self.min, |a, &x| a.min(x));
        }
        if needs.max {
            self.max = vals.iter().fold(self.max, |a, &x| a.max(x));
        }
        self.count += vals.len() as u64;
        (self.last_ts, self.last) = (t, v);
    }

    /// Adds `o`, the summary of points of the same series all after this one's (a
    /// series read forwards), as pushing them one by one would: the counter increase
    /// across the two is counted. Sums are added per summary, not per point, so they
    /// may round differently from a point-by-point sum.
    pub(crate) fn append(&mut self, o: &Summary) {
        self.add_unordered(o);
        self.increase += step_increase(self.last, o.first) + o.increase;
        (self.last_ts, self.last) = (o.last_ts, o.last);
    }

    /// Adds the statistics that do not depend on order: count, sum, min and max.
    fn add_unordered(&mut self, o: &Summary) {
        self.count += o.count;
        self.sum += o.sum;
        // `f64::min`/`max` return the operand that is not NaN.
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
    }

    pub(crate) fn get(&self, f: Agg) -> f64 {
        match f {
            Agg::Count => self.count as f64,
            Agg::Sum => self.sum,
            Agg::Min => self.min,
            Agg::Max => self.max,
            Agg::Avg => self.sum / self.count as f64,
            Agg::First => self.first,
            Agg::Last => self.last,
            Agg::Increase => self.increase,
            Agg::Rate => {
                // last_ts >= first_ts: the difference fits a u64 exactly.
                let secs = self.last_ts.wrapping_sub(self.first_ts) as u64 as f64 / 1e6;
                self.increase / secs
            }
        }
    }
}

/// The summaries of several series in one bucket, added up (`GroupBy`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Group {
    all: Summary,
    /// The sum of the rates of the series with two points or more, if any.
    rate: Option<f64>,
}

impl Group {
    pub(crate) fn of(s: &Summary) -> Group {
        Group {
            all: *s,
            rate: (s.count > 1).then(|| s.get(Agg::Rate)),
        }
    }

    /// Adds a series' summary. `lower_key`: its key is below those added before
    /// (a backwards read), so it takes a tie in first or last (the lowest key's
    /// point wins a tie, whatever the direction).
    pub(crate) fn add(&mut self, s: &Summary, lower_key: bool) {
        let a = &mut self.all;
        a.add_unordered(s);
        a.increase += s.increase;
        if s.first_ts < a.first_ts || (lower_key && s.first_ts == a.first_ts) {
            (a.first_ts, a.first) = (s.first_ts, s.first);
        }
        if s.last_ts > a.last_ts || (lower_key && s.last_ts == a.last_ts) {
            (a.last_ts, a.last) = (s.last_ts, s.last);
        }
        if s.count > 1 {
            *self.rate.get_or_insert(0.0) += s.get(Agg::Rate);
        }
    }

    pub(crate) fn get(&self, f: Agg) -> f64 {
        match f {
            Agg::Rate => self.rate.unwrap_or(f64::NAN),
            f => self.all.get(f),
        }
    }
}

#[cfg(test)]
mod tests;

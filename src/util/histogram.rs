//! A lock-free latency histogram with log-linear buckets (8 sub-buckets per power of
//! two, so a percentile is within 12.5% of the true value). Backs the p50/p90/p99
//! fields of `EngineStats` and the summaries of `metrics_text`.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

const SUB_BITS: u32 = 3;
const SUB: usize = 1 << SUB_BITS;
const BUCKETS: usize = 64 * SUB;

pub(crate) struct Histogram {
    counts: Box<[AtomicU64]>,
    total: AtomicU64,
    sum: AtomicU64,
    /// Events counted but not measured (`skip`): the histogram is then of a sample.
    skipped: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            total: AtomicU64::new(0),
            sum: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
        }
    }
}

fn bucket_of(v: u64) -> usize {
    if v < SUB as u64 {
        return v as usize;
    }
    let exp = 63 - v.leading_zeros(); // >= SUB_BITS
    let mantissa = (v >> (exp - SUB_BITS)) as usize & (SUB - 1);
    ((exp - SUB_BITS + 1) as usize) * SUB + mantissa
}

/// The upper edge of a bucket: the value reported for a percentile falling in it.
fn bucket_high(b: usize) -> u64 {
    if b < SUB {
        return b as u64;
    }
    let exp = (b / SUB) as u32 + SUB_BITS - 1;
    if exp >= 64 {
        return u64::MAX; // past every value's bucket
    }
    let mantissa = (b % SUB) as u64;
    let low = (1u64 << exp) | (mantissa << (exp - SUB_BITS));
    low.saturating_add((1u64 << (exp - SUB_BITS)) - 1)
}

impl Histogram {
    pub(crate) fn record(&self, v: u64) {
        self.counts[bucket_of(v)].fetch_add(1, Relaxed);
        self.total.fetch_add(1, Relaxed);
        self.sum.fetch_add(v, Relaxed);
    }

    /// Counts an event that was not measured: the percentiles are of the events
    /// recorded, `count` of all, and `sum` the recorded ones' scaled to all.
    pub(crate) fn skip(&self) {
        self.skipped.fetch_add(1, Relaxed);
    }

    /// The events recorded (measured).
    #[cfg(test)]
    pub(crate) fn recorded(&self) -> u64 {
        self.total.load(Relaxed)
    }

    /// Every event: recorded or skipped.
    pub(crate) fn count(&self) -> u64 {
        self.total.load(Relaxed) + self.skipped.load(Relaxed)
    }

    /// The sum of the recorded values; with events skipped, that sum times
    /// `count / recorded` (the sample's mean times every event).
    pub(crate) fn sum(&self) -> u64 {
        let (sum, recorded) = (self.sum.load(Relaxed), self.total.load(Relaxed));
        match self.skipped.load(Relaxed) {
            0 => sum,
            _ if recorded == 0 => 0,
            skipped => (sum as u128 * (recorded + skipped) as u128 / recorded as u128)
                .min(u64::MAX as u128) as u64,
        }
    }

    /// The value at quantile `q` (0..=1); 0 when nothing was recorded. Each bucket is
    /// read once and the total taken as their sum: a `record` running meanwhile may
    /// have counted the total before its bucket (the counters are relaxed), and a
    /// rank past the buckets read would have no bucket.
    pub(crate) fn percentile(&self, q: f64) -> u64 {
        let mut counts = [0u64; BUCKETS];
        for (c, a) in counts.iter_mut().zip(&self.counts) {
            *c = a.load(Relaxed);
        }
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return 0;
        }
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (b, c) in counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return bucket_high(b);
            }
        }
        u64::MAX // not reached: the rank is at most the sum of the counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A total counted before its bucket (a `record` running meanwhile, relaxed) once
    /// made the walk fall past the buckets, to an edge that overflowed its shift.
    #[test]
    fn a_total_ahead_of_the_buckets_reads_as_the_buckets() {
        let h = Histogram::default();
        h.total.fetch_add(1, Relaxed);
        assert_eq!(h.percentile(0.99), 0);
        h.record(40);
        h.total.fetch_add(1, Relaxed);
        let p = h.percentile(0.99);
        assert!((40..48).contains(&p), "{p}");
        for b in 0..BUCKETS {
            let _ = bucket_high(b);
        }
        assert_eq!(bucket_high(bucket_of(u64::MAX)), u64::MAX);
    }

    #[test]
    fn percentiles_are_close() {
        let h = Histogram::default();
        for v in 1..=1000u64 {
            h.record(v);
        }
        let p50 = h.percentile(0.5);
        let p99 = h.percentile(0.99);
        assert!((500..=570).contains(&p50), "p50 {p50}");
        assert!((990..=1130).contains(&p99), "p99 {p99}");
        assert_eq!(h.count(), 1000);
        assert_eq!(Histogram::default().percentile(0.5), 0);
    }

    /// A sampled histogram: the percentiles are the sample's, the count every
    /// event's, the sum the sample's scaled to every event.
    #[test]
    fn skipped_events_count_but_are_not_measured() {
        let h = Histogram::default();
        assert_eq!((h.count(), h.sum()), (0, 0));
        h.skip();
        assert_eq!((h.count(), h.sum(), h.percentile(0.5)), (1, 0, 0));
        for v in 1..=100u64 {
            h.record(v);
            for _ in 0..7 {
                h.skip();
            }
        }
        assert_eq!(h.count(), 801);
        // The sample's sum, 5050 over 100 events, scaled to 801.
        assert_eq!(h.sum(), 5050 * 801 / 100);
        let p50 = h.percentile(0.5);
        assert!((50..=57).contains(&p50), "p50 {p50}");
    }

    #[test]
    fn buckets_are_monotonic() {
        let mut last = 0;
        for v in [0u64, 1, 7, 8, 9, 15, 16, 100, 1 << 40, u64::MAX] {
            let b = bucket_of(v);
            assert!(b >= last && b < BUCKETS);
            assert!(bucket_high(b) >= v);
            last = b;
        }
    }
}

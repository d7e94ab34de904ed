//! Randomized model test: thousands of random writes, overwrites, deletes, range
//! deletes (by keys, by keys and time, `delete_before`, `delete_prefix_before`), TTL writes,
//! reads forwards and backwards with limits, retention by age (`enforce_retention`), mixed `WriteBatch`es, queries of every kind (`last_n` too),
//! scans and `Snapshot` reads, numeric points (`write_points`, `put_point`) and their
//! aggregation (`aggregate`, folded over the model), interleaved with flush, full and scheduled (time-window)
//! compaction, GC, close/reopen and checkpoints (the run going on in the copy), each
//! result compared with a BTreeMap model. A rollup rule over the keys under "a" runs
//! beside it all (`run_rollups`): every rolled bucket must be the fold of the model's
//! points, none missing, whatever came late or was deleted.
//! The seed is printed; replay a failure with FLOWDB_SEED=<seed>.

mod common;

use std::collections::{BTreeMap, HashSet};

use common::points;
use flowdb::{
    Config, Engine, GroupBy, Point, Query, ReadOptions, Record, ScanRange, WriteBatch, WriteOptions,
};

type Model = BTreeMap<(Vec<u8>, i64), (i64, Vec<u8>)>;

struct Harness {
    dir: tempfile::TempDir,
    config: Config,
    /// With a retention limit by age in the foreground run (`enforce_retention`).
    tuning: flowdb::Tuning,
    engine: Option<Engine>,
    model: Model,
    /// The `(key, ts)`s last written as numeric points: a model record is a point
    /// when it is here (deletes leave stale entries, harmless: they are looked up
    /// only for records the model holds).
    nums: HashSet<(Vec<u8>, i64)>,
    rng: fastrand::Rng,
    base: i64,
    /// Seconds past `base` that writes have reached: it advances with the steps, so
    /// compaction windows (10 s in `small_config`) close behind it.
    clock: i64,
    /// The greatest retention cutoff enforced: rolled buckets from before it keep
    /// what retention deleted (rollups outlive raw data), so they are not compared.
    retention_cutoff: i64,
    /// Merges for reads done by the engines closed so far.
    read_merges: u64,
}

/// The rollup rule of the model run: 7-second buckets of the keys under "a".
const ROLLUP_STEP: i64 = 7_000_000;

/// What a range delete deletes.
#[derive(Debug)]
enum Region {
    /// `delete_range(start, end)`.
    Keys(String, String),
    /// `delete_time_range(start, end, ts_lo, ts_hi)`.
    KeysTime(String, String, i64, i64),
    /// `delete_before(ts)`.
    Before(i64),
    /// `delete_prefix_before(prefix, ts)`.
    PrefixBefore(String, i64),
}

impl Region {
    fn apply(&self, model: &mut Model) {
        let (s, e, lo, hi): (&str, Option<&str>, i64, i64) = match self {
            Region::Keys(s, e) => (s, Some(e), i64::MIN, i64::MAX),
            Region::KeysTime(s, e, lo, hi) => (s, Some(e), *lo, *hi),
            Region::Before(ts) => ("", None, i64::MIN, ts - 1),
            Region::PrefixBefore(p, ts) => {
                model.retain(|(k, t), _| !(k.starts_with(p.as_bytes()) && *t < *ts));
                return;
            }
        };
        model.retain(|(k, t), _| {
            let in_keys =
                k.as_slice() >= s.as_bytes() && e.map_or(true, |e| k.as_slice() < e.as_bytes());
            !(in_keys && lo <= *t && *t <= hi)
        });
    }
}

const PREFIXES: [&str; 5] = ["a", "ab", "abc", "b", "cpu."];

impl Harness {
    fn engine(&self) -> &Engine {
        self.engine.as_ref().unwrap()
    }

    /// The open engine, taken to be closed, its merges for reads counted first.
    fn take_engine(&mut self) -> Engine {
        self.read_merges += self.engine().stats().total_read_merges;
        self.engine.take().unwrap()
    }

    fn key(&mut self) -> String {
        let p = PREFIXES[self.rng.usize(..PREFIXES.len())];
        format!("{p}{}", self.rng.u8(..12))
    }

    /// Mostly just behind the clock (time-ordered ingest with a few seconds of
    /// lateness), one time in five anywhere before it (late points for closed windows,
    /// and reads of old data).
    fn ts(&mut self) -> i64 {
        let secs = match self.rng.u8(..5) {
            0 => self.rng.i64(0..=self.clock),
            _ => (self.clock - self.rng.i64(0..6)).max(0),
        };
        self.base + secs * 1_000_000
    }

    fn live(&self, now: i64) -> Vec<Record> {
        self.model
            .iter()
            .filter(|(_, (exp, _))| *exp > now)
            .map(|((k, ts), (exp, v))| Record {
                key: k.clone(),
                ts: *ts,
                expire_at: *exp,
                value: v.clone(),
            })
            .collect()
    }

    fn step(&mut self, i: usize) {
        let now = flowdb::now_micros();
        self.clock = i as i64 / 25;
        match self.rng.u32(..100) {
            31..=34 => self.mixed_batch(i, now),
            25..=30 => self.write_points(now),
            0..=24 => {
                let n = self.rng.usize(1..20);
                let batch_ttl = match self.rng.u8(..6) {
                    0 => Some(1),           // already expired (ts is an hour ago)
                    1 => Some(30 * 86_400), // live
                    _ => None,
                };
                let mut batch = Vec::new();
                for _ in 0..n {
                    let k = self.key();
                    let ts = self.ts();
                    let mut r =
                        Record::new(k, ts, format!("v{i}-{}", self.rng.u32(..)).into_bytes());
                    if self.rng.u8(..8) == 0 {
                        r.expire_at = if self.rng.bool() {
                            now - 1_000_000
                        } else {
                            now + 86_400_000_000
                        };
                    }
                    batch.push(r);
                }
                self.engine().write_batch_ttl(&batch, batch_ttl).unwrap();
                for r in batch {
                    let exp = match batch_ttl {
                        Some(t) => flowdb::expiry_from_ttl(r.ts, t),
                        None => r.expire_at,
                    };
                    self.nums.remove(&(r.key.clone(), r.ts));
                    self.model.insert((r.key.clone(), r.ts), (exp, r.value));
                }
            }
            35..=42 => {
                let dels: Vec<(String, i64)> = (0..self.rng.usize(1..5))
                    .map(|_| (self.key(), self.ts()))
                    .collect();
                self.engine().delete_batch(&dels).unwrap();
                for (k, ts) in dels {
                    self.model.remove(&(k.into_bytes(), ts));
                }
            }
            43..=45 => {
                let d = self.region_delete();
                match &d {
                    Region::Keys(s, e) => self.engine().delete_range(s, e),
                    Region::KeysTime(s, e, lo, hi) => {
                        self.engine().delete_time_range(s, e, *lo, *hi)
                    }
                    Region::Before(ts) => self.engine().delete_before(*ts),
                    Region::PrefixBefore(p, ts) => self.engine().delete_prefix_before(p, *ts),
                }
                .unwrap();
                d.apply(&mut self.model);
            }
            46..=47 => {
                let k = self.key();
                let ts = self.ts();
                let live = self
                    .model
                    .get(&(k.clone().into_bytes(), ts))
                    .filter(|(exp, _)| *exp > now)
                    .cloned();
                // A new value (the record becomes bytes), or a new TTL alone (an
                // hour past now: a point stays a point).
                let ttl_only = self.rng.bool();
                let ttl = (now.saturating_sub(ts).max(0) / 1_000_000) as u64 + 3_600;
                let r = match ttl_only {
                    true => self.engine().patch_record(&k, ts, None, Some(ttl)),
                    false => self
                        .engine()
                        .patch_record(&k, ts, Some(b"patched".to_vec()), None),
                };
                match live {
                    Some((exp, old)) => {
                        let r = r.unwrap();
                        let at = (k.into_bytes(), ts);
                        let (exp, value) = match ttl_only {
                            true => (flowdb::expiry_from_ttl(ts, ttl), old),
                            false => {
                                self.nums.remove(&at);
                                (exp, b"patched".to_vec())
                            }
                        };
                        assert_eq!((r.expire_at, &r.value), (exp, &value));
                        self.model.insert(at, (exp, value));
                    }
                    None => assert!(matches!(r, Err(flowdb::Error::NotFound(_))), "{r:?}"),
                }
            }
            48..=62 => self.check_point_reads(now),
            63..=76 => self.check_queries(now),
            77..=79 => self.check_aggregate(now),
            80 => self.check_rollups(now),
            81..=85 => self.engine().flush().unwrap(),
            86 => {
                // After a flush and a full compaction, one version per point is
                // left and `series` is exact.
                self.engine().flush().unwrap();
                self.engine().trigger_compaction().unwrap();
                self.check_series(flowdb::now_micros(), true);
            }
            87..=88 => {
                self.engine().run_compactions().unwrap();
            }
            89..=90 => {
                self.engine().trigger_gc().unwrap();
            }
            91..=93 => {
                self.take_engine().shutdown().unwrap();
                self.engine = Some(self.open());
            }
            94..=96 => {
                drop(self.take_engine());
                self.engine = Some(self.open());
            }
            97 => {
                // The cutoff is what the engine returns: the model drops what is
                // below it.
                if let Some(cutoff) = self.engine().enforce_retention().unwrap() {
                    self.model.retain(|(_, ts), _| *ts >= cutoff);
                    self.retention_cutoff = self.retention_cutoff.max(cutoff);
                }
            }
            98 => {
                // A checkpoint is the database as of now: the run goes on in the copy.
                let dest = self.config.data_dir.join(format!("checkpoint-{i}"));
                self.engine().checkpoint(&dest).unwrap();
                self.take_engine().shutdown().unwrap();
                self.config.data_dir = dest;
                self.engine = Some(self.open());
            }
            _ => self.check_snapshot_isolation(),
        }
    }

    /// Opens the database, its data blocks compressed by a codec chosen at random
    /// (so tables of every codec are read, merged and rewritten together).
    fn open(&mut self) -> Engine {
        let fs = std::sync::Arc::new(flowdb::fs::OsFs);
        let mut tuning = self.tuning.clone();
        tuning.block_compression = [
            flowdb::BlockCompression::Zstd,
            flowdb::BlockCompression::Lz4,
            flowdb::BlockCompression::None,
        ][self.rng.usize(..3)];
        Engine::open_on(fs, self.config.clone(), tuning).unwrap()
    }

    /// A `WriteBatch` of puts (own expiry, TTL, permanent), deletes and range deletes,
    /// applied in order, all at once.
    fn mixed_batch(&mut self, i: usize, now: i64) {
        let mut batch = WriteBatch::new();
        let mut model = self.model.clone();
        let mut nums = self.nums.clone();
        for j in 0..self.rng.usize(1..12) {
            let (k, ts) = (self.key(), self.ts());
            let value = format!("b{i}-{j}").into_bytes();
            let op = self.rng.u8(..11);
            if op <= 5 {
                nums.remove(&(k.clone().into_bytes(), ts));
            }
            match op {
                10 => {
                    let p = Point::new(k.clone(), ts, points::value(&mut self.rng));
                    batch.put_point(p.clone());
                    model.insert((p.key.clone(), ts), (i64::MAX, p.into_record().value));
                    nums.insert((k.into_bytes(), ts));
                }
                0..=3 => {
                    let r = Record::new(k.clone(), ts, value.clone());
                    batch.put(r);
                    model.insert((k.into_bytes(), ts), (i64::MAX, value));
                }
                4 => {
                    let ttl = [1, 30 * 86_400][self.rng.usize(..2)];
                    batch.put_ttl(Record::new(k.clone(), ts, value.clone()), ttl);
                    model.insert(
                        (k.into_bytes(), ts),
                        (flowdb::expiry_from_ttl(ts, ttl), value),
                    );
                }
                5 => {
                    let r = Record::new(k.clone(), ts, value.clone()).with_expire_at(now - 1);
                    batch.put_permanent(r);
                    model.insert((k.into_bytes(), ts), (i64::MAX, value));
                }
                6..=8 => {
                    batch.delete(k.as_str(), ts);
                    model.remove(&(k.into_bytes(), ts));
                }
                _ => {
                    let d = self.region_delete();
                    match &d {
                        Region::Keys(s, e) => batch.delete_range(s.as_str(), e.as_str()),
                        Region::KeysTime(s, e, lo, hi) => {
                            batch.delete_time_range(s.as_str(), e.as_str(), *lo, *hi)
                        }
                        Region::Before(ts) => batch.delete_before(*ts),
                        Region::PrefixBefore(p, ts) => batch.delete_prefix_before(p.as_str(), *ts),
                    };
                    d.apply(&mut model);
                }
            }
        }
        let sync = self.rng.bool();
        self.engine().write(&batch, &WriteOptions { sync }).unwrap();
        self.model = model;
        self.nums = nums;
    }

    /// A random range delete: of keys, of keys and a time range, of everything
    /// before a time, of a prefix before a time.
    fn region_delete(&mut self) -> Region {
        let (mut s, mut e) = (self.key(), self.key());
        if s > e {
            std::mem::swap(&mut s, &mut e);
        }
        let (mut lo, mut hi) = (self.ts(), self.ts());
        if lo > hi {
            std::mem::swap(&mut lo, &mut hi);
        }
        match self.rng.u8(..8) {
            0..=2 => Region::Keys(s, e),
            3..=5 => Region::KeysTime(s, e, lo, hi),
            // Retention: the oldest part of what was written so far.
            6 => Region::Before(self.base + self.rng.i64(0..=self.clock / 2 + 1) * 1_000_000),
            _ => Region::PrefixBefore(PREFIXES[self.rng.usize(..PREFIXES.len())].into(), hi),
        }
    }

    fn check_point_reads(&mut self, now: i64) {
        for _ in 0..5 {
            let k = self.key();
            let ts = self.ts();
            let want = self
                .model
                .get(&(k.clone().into_bytes(), ts))
                .filter(|(exp, _)| *exp > now)
                .map(|(_, v)| v.clone());
            let got = self.engine().get(&k, ts).unwrap().map(|r| r.value);
            assert_eq!(got, want, "get({k}, {ts})");
            let want_latest = self
                .model
                .range((k.clone().into_bytes(), i64::MIN)..=(k.clone().into_bytes(), i64::MAX))
                .rev()
                .find(|(_, (exp, _))| *exp > now)
                .map(|((_, ts), (_, v))| (*ts, v.clone()));
            let got_latest = self
                .engine()
                .get_latest(&k)
                .unwrap()
                .map(|r| (r.ts, r.value));
            assert_eq!(got_latest, want_latest, "get_latest({k})");
            let n = self.rng.usize(0..8);
            let want_last: Vec<(i64, Vec<u8>)> = self
                .model
                .range((k.clone().into_bytes(), i64::MIN)..=(k.clone().into_bytes(), i64::MAX))
                .rev()
                .filter(|(_, (exp, _))| *exp > now)
                .take(n)
                .map(|((_, ts), (_, v))| (*ts, v.clone()))
                .collect();
            let got_last: Vec<(i64, Vec<u8>)> = self
                .engine()
                .last_n(&k, n)
                .unwrap()
                .into_iter()
                .map(|r| (r.ts, r.value))
                .collect();
            assert_eq!(got_last, want_last, "last_n({k}, {n})");
            let mut lent = Vec::new();
            let handed = self
                .engine()
                .last_n_with(k.as_bytes(), n, |ts, v| lent.push((ts, v.to_vec())))
                .unwrap();
            assert_eq!(
                (handed, lent),
                (want_last.len(), want_last),
                "last_n_with({k}, {n})"
            );
        }
    }

    fn check_queries(&mut self, now: i64) {
        let live = self.live(now);
        let p = PREFIXES[self.rng.usize(..PREFIXES.len())].to_string();
        let (mut k1, mut k2) = (self.key(), self.key());
        if self.rng.u8(..4) != 0 && k1 > k2 {
            std::mem::swap(&mut k1, &mut k2);
        }
        let (mut t1, mut t2) = (self.ts(), self.ts());
        if self.rng.u8(..4) != 0 && t1 > t2 {
            std::mem::swap(&mut t1, &mut t2);
        }
        let opts = ReadOptions {
            fill_cache: self.rng.bool(),
            verify_checksums: self.rng.bool(),
        };
        let n = [0, 1, 3, 10, usize::MAX][self.rng.usize(..5)];
        let e = self.engine();
        let filter =
            |f: &dyn Fn(&Record) -> bool| live.iter().filter(|r| f(r)).cloned().collect::<Vec<_>>();
        let in_keys =
            |r: &Record| r.key.as_slice() >= k1.as_bytes() && r.key.as_slice() <= k2.as_bytes();
        let in_time = |r: &Record| t1 <= r.ts && r.ts <= t2;
        let has_prefix = |r: &Record| r.key.starts_with(p.as_bytes());
        assert_eq!(
            e.query_by_prefix(&p).unwrap(),
            filter(&has_prefix),
            "prefix {p}"
        );
        assert_eq!(
            e.query_by_key_range(&k1, &k2).unwrap(),
            filter(&in_keys),
            "keys {k1}..={k2}"
        );
        assert_eq!(
            e.query_time_range(t1, t2).unwrap(),
            filter(&in_time),
            "time {t1}..={t2}"
        );
        assert_eq!(
            e.query_prefix_time_range(&p, t1, t2).unwrap(),
            filter(&|r| has_prefix(r) && in_time(r)),
            "prefix {p} time {t1}..={t2}"
        );
        assert_eq!(
            e.query_key_time_range(&k1, &k2, t1, t2).unwrap(),
            filter(&|r| in_keys(r) && in_time(r)),
            "keys {k1}..={k2} time {t1}..={t2}"
        );
        assert_eq!(
            e.query(Query::key_range(k1.clone(), k2.clone())).unwrap(),
            filter(&in_keys)
        );
        let scanned: Vec<Record> = e
            .scan_opt(ScanRange::all(), &opts)
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(scanned, live, "full scan");
        let scanned: Vec<Record> = e
            .scan(ScanRange::key_time_range(&k1, &k2, t1, t2))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(scanned, filter(&|r| in_keys(r) && in_time(r)));
        let scanned: Vec<Record> = e.scan_prefix(&p).unwrap().map(|r| r.unwrap()).collect();
        assert_eq!(scanned, filter(&has_prefix));
        // Newest first and limited, over each range form, scans and queries alike.
        let forms: [(ScanRange, Vec<Record>); 4] = [
            (ScanRange::all(), live.clone()),
            (ScanRange::prefix(&p), filter(&has_prefix)),
            (
                ScanRange::key_time_range(&k1, &k2, t1, t2),
                filter(&|r| in_keys(r) && in_time(r)),
            ),
            (ScanRange::time_range(t1, t2), filter(&in_time)),
        ];
        for (range, want) in forms {
            let back: Vec<Record> = want.iter().rev().take(n).cloned().collect();
            let fwd: Vec<Record> = want.into_iter().take(n).collect();
            let what = format!("{range:?} limit {n}");
            let got: Vec<Record> = e
                .scan_opt(range.clone().reverse().limit(n), &opts)
                .unwrap()
                .map(|r| r.unwrap())
                .collect();
            assert_eq!(got, back, "reverse {what}");
            assert_eq!(
                e.query(Query::from(range.clone()).limit(n)).unwrap(),
                fwd,
                "{what}"
            );
            let snap = e.snapshot();
            // Forwards, lent records (a sole table or run lends them from blocks).
            let mut lent = Vec::new();
            snap.visit(range.clone().limit(n), 2, &mut |k, ts, v| {
                lent.push((k.to_vec(), ts, v.to_vec()));
                Ok(true)
            })
            .unwrap();
            let want_fwd: Vec<(Vec<u8>, i64, Vec<u8>)> = fwd
                .iter()
                .map(|r| (r.key.clone(), r.ts, r.value.clone()))
                .collect();
            assert_eq!(lent, want_fwd, "visit {what}");
            let mut visited = Vec::new();
            snap.visit(range.reverse().limit(n), 2, &mut |k, ts, _| {
                visited.push((k.to_vec(), ts));
                Ok(true)
            })
            .unwrap();
            let keys: Vec<(Vec<u8>, i64)> = back.into_iter().map(|r| (r.key, r.ts)).collect();
            assert_eq!(visited, keys, "visit reverse {what}");
        }
        self.check_seeks(now, n);
        self.check_series(now, false);
    }

    /// `series` lists every key holding live records, with counts and ts bounds that
    /// contain the live ones (estimates: versions not merged away count); exactly
    /// those after a full compaction. Pages put together are the whole list.
    fn check_series(&mut self, now: i64, exact: bool) {
        let p = PREFIXES[self.rng.usize(..PREFIXES.len())];
        let mut want: BTreeMap<Vec<u8>, (u64, i64, i64)> = BTreeMap::new();
        for r in self
            .live(now)
            .into_iter()
            .filter(|r| r.key.starts_with(p.as_bytes()))
        {
            let w = want.entry(r.key).or_insert((0, r.ts, r.ts));
            w.0 += 1;
            w.2 = r.ts;
        }
        let got = self.engine().series(p).unwrap();
        for (key, (n, first, last)) in &want {
            let s = got.iter().find(|s| &s.key == key);
            let s = s.unwrap_or_else(|| panic!("series({p}) misses {key:?}"));
            assert!(
                s.points >= *n && s.first_ts <= *first && s.last_ts >= *last,
                "series({p}): {s:?} does not cover {n} points {first}..={last}"
            );
            if exact {
                assert_eq!(
                    (s.points, s.first_ts, s.last_ts),
                    (*n, *first, *last),
                    "{s:?}"
                );
            }
        }
        if exact {
            assert_eq!(got.len(), want.len(), "series({p}) after a full compaction");
        }
        assert!(got.windows(2).all(|w| w[0].key < w[1].key));
        let page = self.rng.usize(1..4);
        let mut paged = Vec::new();
        let mut after = Vec::new();
        loop {
            let next = self
                .engine()
                .series_page(p.as_bytes(), &after, page)
                .unwrap();
            assert!(next.len() <= page);
            let Some(last) = next.last() else { break };
            after = last.key.clone();
            paged.extend(next);
        }
        if self.config.auto_background {
            // A background compaction between the listing and the pages may merge
            // versions away (the counts are estimates) or drop dead keys: the pages
            // must still list every live key, in order, covering its points.
            assert!(paged.windows(2).all(|w| w[0].key < w[1].key));
            for (key, (n, ..)) in &want {
                let s = paged.iter().find(|s| &s.key == key);
                let s = s.unwrap_or_else(|| panic!("series({p}) in pages misses {key:?}"));
                assert!(s.points >= *n, "series({p}) in pages: {s:?} short of {n}");
            }
        } else {
            assert_eq!(paged, got, "series({p}) in pages of {page}");
        }
    }

    /// A scan (either direction, limited or not) read a little, then moved with
    /// `seek` to random positions (inside, before and beyond its range), each time
    /// yielding what the model holds from that position on.
    fn check_seeks(&mut self, now: i64, n: usize) {
        let live = self.live(now);
        let (mut k1, mut k2) = (self.key(), self.key());
        if k1 > k2 {
            std::mem::swap(&mut k1, &mut k2);
        }
        let (mut t1, mut t2) = (self.ts(), self.ts());
        if self.rng.bool() || t1 > t2 {
            (t1, t2) = (t1.min(t2), t1.max(t2));
        }
        let reverse = self.rng.bool();
        let mut range = ScanRange::key_time_range(&k1, &k2, t1, t2).limit(n);
        if reverse {
            range = range.reverse();
        }
        let positions: Vec<(String, i64)> = (0..4)
            .map(|_| match self.rng.u8(..5) {
                0 => ("".to_string(), i64::MIN),
                1 => ("zzz".to_string(), i64::MAX),
                _ => (self.key(), self.ts() + self.rng.i64(-1..=1)),
            })
            .collect();
        let mut it = self.engine().scan(range).unwrap();
        for _ in 0..self.rng.usize(0..3) {
            it.next();
        }
        for (k, ts) in positions {
            it.seek(&k, ts);
            let at = (k.into_bytes(), ts);
            let in_range = |r: &&Record| {
                r.key.as_slice() >= k1.as_bytes()
                    && r.key.as_slice() <= k2.as_bytes()
                    && (t1..=t2).contains(&r.ts)
            };
            let want: Vec<(Vec<u8>, i64)> = if reverse {
                live.iter()
                    .rev()
                    .filter(in_range)
                    .filter(|r| (r.key.clone(), r.ts) <= at)
                    .take(n)
                    .map(|r| (r.key.clone(), r.ts))
                    .collect()
            } else {
                live.iter()
                    .filter(in_range)
                    .filter(|r| (r.key.clone(), r.ts) >= at)
                    .take(n)
                    .map(|r| (r.key.clone(), r.ts))
                    .collect()
            };
            let got: Vec<(Vec<u8>, i64)> = it
                .by_ref()
                .map(|r| r.unwrap())
                .map(|r| (r.key, r.ts))
                .collect();
            assert_eq!(got, want, "seek to {at:?}, reverse {reverse}, limit {n}");
        }
    }

    /// Numeric points, by `write_points` (with its own expiry now and then) or by
    /// `write_batch` of their records (those are bytes, not points).
    fn write_points(&mut self, now: i64) {
        let mut pts = Vec::new();
        // Scattered points, or one series' consecutive points (packed in runs).
        let series = self.rng.bool().then(|| (self.key(), self.ts()));
        let ttl_run = self.rng.u8(..4) == 0;
        // Runs up to 200 points: enough to fill blocks of one series, whose index
        // entries then answer buckets covering them (tests/numeric_blocks.rs).
        let n = match series {
            Some(_) => self.rng.usize(1..200),
            None => self.rng.usize(1..40),
        };
        for i in 0..n {
            let (k, ts) = match &series {
                Some((k, ts)) => (k.clone(), ts + i as i64 * 1000),
                None => (self.key(), self.ts()),
            };
            let mut p = Point::new(k, ts, points::value(&mut self.rng));
            if self.rng.u8(..8) == 0 {
                p.expire_at = now + [-1_000_000, 86_400_000_000][self.rng.usize(..2)];
            } else if ttl_run {
                p.expire_at = ts + 30 * 86_400_000_000; // one offset: a run with expiry
            }
            pts.push(p);
        }
        let as_bytes = self.rng.u8(..6) == 0;
        if as_bytes {
            let records: Vec<Record> = pts.iter().map(|p| p.clone().into_record()).collect();
            self.engine().write_batch(&records).unwrap();
        } else {
            self.engine().write_points(&pts).unwrap();
        }
        for p in pts {
            let at = (p.key.clone(), p.ts);
            match as_bytes {
                true => self.nums.remove(&at),
                false => self.nums.insert(at.clone()),
            };
            self.model.insert(at, (p.expire_at, p.into_record().value));
        }
    }

    /// The points among `records` (in their order) whose key begins with `prefix`.
    fn points_of<'a>(
        &'a self,
        records: &'a [Record],
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a [u8], i64, f64)> + 'a {
        records
            .iter()
            .filter(move |r| r.key.starts_with(prefix.as_bytes()))
            .filter(|r| self.nums.contains(&(r.key.clone(), r.ts)))
            .map(|r| (r.key.as_slice(), r.ts, r.as_f64().unwrap()))
    }

    /// `aggregate` over a prefix, a key range or a time range, forwards or
    /// backwards, with a limit, against the model folded.
    fn check_aggregate(&mut self, now: i64) {
        let live = self.live(now);
        let p = PREFIXES[self.rng.usize(..PREFIXES.len())];
        let (t1, t2) = (self.ts(), self.ts());
        let (t1, t2) = (t1.min(t2), t1.max(t2));
        let step = [1, 1_000_000, 7_000_000, 60_000_000, i64::MAX][self.rng.usize(..5)];
        let fs = points::functions(&mut self.rng);
        let limit = [1, 3, usize::MAX][self.rng.usize(..3)];
        let timed = self.rng.bool();
        let mut q = match timed {
            true => Query::prefix_time_range(p, t1, t2),
            false => Query::prefix(p),
        };
        let mine: Vec<Record> = live
            .into_iter()
            .filter(|r| !timed || (t1 <= r.ts && r.ts <= t2))
            .collect();
        let reverse = self.rng.bool();
        if reverse {
            q = q.reverse();
        }
        if limit != usize::MAX {
            q = q.limit(limit);
        }
        let group = [
            GroupBy::Series,
            GroupBy::All,
            GroupBy::Prefix(2),
            GroupBy::UpToLast(b'.'),
        ][self.rng.usize(..4)];
        let want = points::fold(self.points_of(&mine, p), step, &fs, group, reverse, limit);
        // The owned and the lending forms alike.
        let got = match (group, self.rng.u8(..3)) {
            (GroupBy::Series, 0) => self.engine().aggregate(q.clone(), step, &fs).unwrap(),
            (_, 1) => points::lent(|f| {
                self.engine()
                    .aggregate_by_with(q.clone(), step, &fs, group, f)
            }),
            _ => self
                .engine()
                .aggregate_by(q.clone(), step, &fs, group)
                .unwrap(),
        };
        let what = format!("{q:?} step {step} {group:?}");
        points::assert_buckets(&got, &want, &fs, &what);
    }

    /// A scan, and a `Snapshot`, keep the view of their creation across writes,
    /// flushes and compactions.
    /// A pass, then every rolled bucket below the watermark (and wholly after the
    /// retention cutoff) against the model's points folded; none may be missing.
    /// (Records written with an expiry are expired at their write or live for days:
    /// what a pass saw live is live now.)
    fn check_rollups(&mut self, now: i64) {
        self.engine().run_rollups().unwrap();
        let wm = self.engine().rollup("r").unwrap().watermark().unwrap();
        let live = self.live(now);
        let cutoff = self.retention_cutoff;
        let fs = common::rollups::FUNCTIONS;
        let pts = self.points_of(&live, "a").filter(|(_, ts, _)| *ts < wm);
        let mut want = points::fold(pts, ROLLUP_STEP, &fs, GroupBy::Series, false, usize::MAX);
        let mut got = common::rollups::rolled(self.engine(), "r");
        want.retain(|b| b.start >= cutoff);
        got.retain(|b| b.start >= cutoff);
        points::assert_buckets(&got, &want, &fs, &format!("rollup below {wm}"));
    }

    fn check_snapshot_isolation(&mut self) {
        let now = flowdb::now_micros();
        let want = self.live(now);
        let snap = self.engine().snapshot();
        let mut it = self.engine().scan(ScanRange::all()).unwrap();
        let first = it.next().map(|r| r.unwrap());
        let k = self.key();
        let ts = self.ts();
        self.engine()
            .write_batch(&[Record::new(k.clone(), ts, b"later".to_vec())])
            .unwrap();
        self.engine().delete_range("a", "c").unwrap();
        self.engine().flush().unwrap();
        self.engine().trigger_compaction().unwrap();
        let mut got: Vec<Record> = first.into_iter().collect();
        got.extend(it.map(|r| r.unwrap()));
        assert_eq!(got, want, "scan across writes, flush and compaction");
        let q: Vec<Record> = snap
            .scan(ScanRange::all())
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(q, want, "snapshot scan across writes, flush and compaction");
        let p = PREFIXES[self.rng.usize(..PREFIXES.len())];
        let q = snap.query(Query::prefix(p)).unwrap();
        let has_prefix: Vec<Record> = want
            .iter()
            .filter(|r| r.key.starts_with(p.as_bytes()))
            .cloned()
            .collect();
        assert_eq!(q, has_prefix, "snapshot query");
        for r in want.iter().take(5) {
            assert_eq!(
                snap.get_bytes(&r.key, r.ts, &ReadOptions::default())
                    .unwrap()
                    .as_ref(),
                Some(r)
            );
        }
        if let Some(last) = want.last() {
            assert_eq!(
                snap.get_latest_bytes(&last.key).unwrap().as_ref(),
                Some(last)
            );
        }
        let p = PREFIXES[self.rng.usize(..PREFIXES.len())];
        let (step, fs) = (
            self.rng.i64(1..30) * 1_000_000,
            points::functions(&mut self.rng),
        );
        let want_agg = points::fold(
            self.points_of(&want, p),
            step,
            &fs,
            GroupBy::Series,
            false,
            usize::MAX,
        );
        let got_agg = snap.aggregate(Query::prefix(p), step, &fs).unwrap();
        points::assert_buckets(&got_agg, &want_agg, &fs, "snapshot aggregate");
        let lent = points::lent(|f| snap.aggregate_with(Query::prefix(p), step, &fs, f));
        points::assert_buckets(&lent, &want_agg, &fs, "snapshot aggregate_with");
        self.nums.remove(&(k.clone().into_bytes(), ts));
        self.model
            .insert((k.into_bytes(), ts), (i64::MAX, b"later".to_vec()));
        self.model
            .retain(|(key, _), _| !(key.as_slice() >= &b"a"[..] && key.as_slice() < &b"c"[..]));
    }
}

fn run(test: &str, steps: usize, background: bool) {
    let rng = common::rng(test);
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::small_config(dir.path());
    config.auto_background = background;
    let mut tuning = common::tiny_partitions();
    tuning.rollups.push(
        flowdb::RollupRule::new("r", ROLLUP_STEP, &common::rollups::FUNCTIONS)
            .prefix("a")
            .delay(0),
    );
    if !background {
        // Writes start an hour ago: keep a little less, so each enforcement
        // deletes the oldest seconds (background maintenance would enforce it at
        // moments the model cannot follow).
        tuning.retention_max_age_secs = Some(3600 - 45);
    }
    let mut h = Harness {
        dir,
        config,
        tuning,
        engine: None,
        model: Model::new(),
        nums: HashSet::new(),
        rng,
        base: common::base_ts(),
        clock: 0,
        retention_cutoff: i64::MIN,
        read_merges: 0,
    };
    h.engine = Some(h.open());
    for i in 0..steps {
        h.step(i);
    }
    let now = flowdb::now_micros();
    h.engine().flush().unwrap();
    h.engine().trigger_compaction().unwrap();
    let all: Vec<Record> = h
        .engine()
        .scan(ScanRange::all())
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(all, h.live(now));
    h.take_engine().shutdown().unwrap();
    println!("{test}: {} merges for reads", h.read_merges);
    drop(h.dir);
}

#[test]
fn random_operations_match_the_model() {
    run("random_operations_match_the_model", 3000, false);
}

#[test]
fn random_operations_match_the_model_with_background_maintenance() {
    run(
        "random_operations_match_the_model_with_background_maintenance",
        1500,
        true,
    );
}

#[test]
#[ignore = "long soak; run with --ignored"]
fn random_operations_long() {
    for _ in 0..10 {
        run("random_operations_long", 20_000, false);
    }
}

//! The time-series workloads of flowdb-compare (bench/ts_workloads.c), run the same
//! way on either system through the `Store` trait: the same records, the same random
//! queries (flowdb-bench's LCG, seed 42), the same operation counts (scaled down for
//! runs smaller than 1M records), and a tally of every read so the two systems can be
//! checked to return the same records.
//!
//! Unlike the C harness, ingest times the whole loop as a user's program would: making
//! each value and each record (`Record` for flowdb, the `WriteBatch` entry and its
//! encoded key for RocksDB) is timed along with the write calls, on both sides.

use std::path::Path;
use std::time::Instant;

pub const T0: i64 = 1_700_000_000_000_000;
pub const STEP: i64 = 1_000_000;
pub const VALUE_LEN: usize = 128;
pub const BATCH: usize = 100;

/// What reads returned: how many records, and a checksum of them.
#[derive(Clone, Copy, Default, Debug)]
pub struct Tally {
    pub count: u64,
    pub sum: u64,
}

impl Tally {
    /// A value counts its length and first and last bytes, as bench.h's tally_value,
    /// and also bytes 2..10 (the reading's digits, which differ from record to
    /// record: bench.h's sum is the same for every 128-byte value here, so it checks
    /// counts only). One 8-byte load: as cheap as the rest.
    #[inline]
    pub fn value(&mut self, v: &[u8]) {
        let n = v.len() as u64;
        let ends = match (v.first(), v.last()) {
            (Some(&a), Some(&b)) => a as u64 + b as u64,
            _ => 0,
        };
        let digits = match v.get(2..10) {
            Some(d) => u64::from_le_bytes(d.try_into().expect("8 bytes")),
            None => 0,
        };
        self.count += 1;
        self.sum = self.sum.wrapping_add(n * 31 + ends).wrapping_add(digits);
    }

    /// A latest read counts 1 and the record's timestamp.
    #[inline]
    pub fn latest(&mut self, ts: i64) {
        self.count += 1;
        self.sum = self.sum.wrapping_add(ts as u64);
    }
}

/// One system, opened on a directory, as its users would set it up for this data.
pub trait Store: Sized {
    fn open(dir: &Path) -> Self;
    fn close(self);
    /// Adds a record to the batch being built (the record is made here, timed).
    fn put(&mut self, key: &str, ts: i64, value: Vec<u8>);
    /// Writes the batch built so far as one atomic batch.
    fn commit(&mut self);
    /// Flushes memory to files and waits for the compactions that are due (untimed);
    /// returns the write amplification: table bytes written by flush and compaction
    /// per byte flushed.
    fn write_amplification(&mut self) -> f64;
    /// Flushes memory to files and compacts fully, so reads meet a settled store.
    fn settle(&mut self);
    fn get(&self, key: &str, ts: i64, t: &mut Tally);
    /// The record of `key` with the greatest ts: tallies count 1 and its ts.
    fn latest(&self, key: &str, t: &mut Tally);
    /// The `n` records of `key` with the greatest ts, newest first.
    fn last_n(&self, key: &str, n: usize, t: &mut Tally);
    /// `last_n` through the system's lending form, the values lent, not copied
    /// (RocksDB's iterator always lends: the same as `last_n`).
    fn last_n_lent(&self, key: &str, n: usize, t: &mut Tally) {
        self.last_n(key, n, t)
    }
    /// Records of one key with lo <= ts <= hi, in ts order.
    fn window(&self, key: &str, lo: i64, hi: i64, t: &mut Tally);
    /// Records of every key with lo <= ts <= hi.
    fn all_window(&self, lo: i64, hi: i64, t: &mut Tally);
    fn full_scan(&self, t: &mut Tally);
    /// The distinct series whose name begins with `prefix`: tallies one per series.
    fn series(&self, prefix: &str, t: &mut Tally);
    /// Deletes every point of every series in `keys` with `ts < cutoff`, as a user
    /// of the system would: one call.
    fn delete_before(&mut self, keys: &[String], cutoff: i64);
    /// Lets background work run until `done` holds or `limit` passes; returns the
    /// seconds it took, or None at the limit.
    fn wait_for(&mut self, done: &mut dyn FnMut() -> bool, limit: f64) -> Option<f64> {
        let t = Instant::now();
        while t.elapsed().as_secs_f64() < limit {
            if done() {
                return Some(t.elapsed().as_secs_f64());
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        None
    }
}

/// flowdb-bench's LCG (bench/util.c's lcg_below): a number below n.
pub struct Lcg(pub u64);
impl Lcg {
    #[inline]
    pub fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

pub fn series_name(s: usize) -> String {
    format!("cpu.host-{s:05}.usage")
}

/// flowdb-bench's values: 32 bytes that vary (a reading as text, as a metrics agent
/// writes it) and a constant 96-byte tail (tags); byte for byte bench's make_value.
pub fn make_value(s: usize, p: usize, rng: &mut u64) -> Vec<u8> {
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    let reading = (*rng % 10_000_000) as f64 / 1000.0;
    let mut v = Vec::with_capacity(VALUE_LEN);
    use std::io::Write;
    let _ = write!(v, "v={reading:.3};s={s};p={p};");
    v.resize(32, b' ');
    v.resize(VALUE_LEN, b't');
    v
}

pub struct Params {
    pub series: usize,
    pub points: usize,
    /// Ingest in time order (every series' point, then the next point) or, with
    /// `scattered`, visiting `(series, point)` number `i * 1,000,003 mod N`.
    pub scattered: bool,
    /// Operation counts are the full-size (1M-record) ones times this.
    pub scale: f64,
    /// RUST_COMPARE_REUSE=1: read a database an earlier run left, keep this one.
    pub reuse: bool,
}

impl Params {
    fn scaled(&self, full: usize) -> usize {
        ((full as f64 * self.scale) as usize).max(1)
    }
}

/// One result line: `workload<TAB>name<TAB>ops<TAB>seconds<TAB>count<TAB>sum`, or
/// `metric<TAB>name<TAB>value` for a measure that is not a rate.
fn workload(name: &str, ops: usize, secs: f64, t: Tally) {
    println!("workload\t{name}\t{ops}\t{secs:.6}\t{}\t{}", t.count, t.sum);
}

fn timed<F: FnMut()>(n: usize, mut body: F) -> f64 {
    let t = Instant::now();
    for _ in 0..n {
        body();
    }
    t.elapsed().as_secs_f64()
}

/// Total size of the regular files under `dir`.
pub fn dir_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    for e in std::fs::read_dir(dir).expect("read data dir").flatten() {
        let m = e.metadata().expect("stat");
        if m.is_dir() {
            total += dir_bytes(&e.path());
        } else if m.is_file() {
            total += m.len();
        }
    }
    total
}

/// Writes every point of every series in batches of `BATCH`: in time order (every
/// series' point, then the next point) or, `scattered`, visiting `(series, point)`
/// number `i * 1,000,003 mod N`. Values, records and write calls all run here (what
/// the caller times).
fn ingest<S: Store>(s: &mut S, p: &Params, keys: &[String]) {
    let total = p.series * p.points;
    let mut rng = 0x9E3779B97F4A7C15u64;
    let mut n = 0;
    for i in 0..total {
        // 1,000,003 is prime and above any N run here, so i -> j is a permutation.
        let j = match p.scattered {
            true => (i as u64 * 1_000_003 % total as u64) as usize,
            false => i,
        };
        let (pt, sr) = (j / p.series, j % p.series);
        s.put(&keys[sr], T0 + pt as i64 * STEP, make_value(sr, pt, &mut rng));
        n += 1;
        if n == BATCH {
            s.commit();
            n = 0;
        }
    }
    if n > 0 {
        s.commit();
    }
}

/// Retention on a fresh store (ingested, flushed, background compaction settled as
/// it would be in service, not fully compacted): `delete_before` of the oldest 10% of
/// the points of every series; then whether reads see any of it, how long until the
/// directory has shrunk by 9% (the space coming back), and `get` of the rest before
/// and after the delete.
pub fn run_retention<S: Store>(dir: &Path, p: &Params) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("create data dir");
    let keys: Vec<String> = (0..p.series).map(series_name).collect();
    let mut s = S::open(dir);
    ingest(&mut s, p, &keys);
    s.write_amplification();
    let cut = p.points / 10;
    let cutoff = T0 + cut as i64 * STEP;
    let ops = p.scaled(200_000);
    let mut lcg = Lcg(7);
    let mut rest_gets = |s: &S, name: &str| {
        let mut tally = Tally::default();
        let secs = timed(ops, || {
            let (sr, pt) = (lcg.below(p.series), cut + lcg.below(p.points - cut));
            s.get(&keys[sr], T0 + pt as i64 * STEP, &mut tally);
        });
        assert_eq!(tally.count, ops as u64, "{name}: the rest must all be found");
        workload(name, ops, secs, tally);
    };
    rest_gets(&s, "get_rest_before");
    let before = dir_bytes(dir);
    let secs = timed(1, || s.delete_before(&keys, cutoff));
    workload("delete_before", 1, secs, Tally::default());
    let mut seen = Tally::default();
    for i in 0..1000 {
        s.get(&keys[i % p.series], T0 + (i % cut) as i64 * STEP, &mut seen);
    }
    println!("metric	deleted_still_visible	{}", seen.count);
    let back = s.wait_for(&mut || dir_bytes(dir) <= before - before * 9 / 100, 60.0);
    println!("metric	space_back_s	{}", back.map_or("none in 60 s".into(), |t| format!("{t:.3}")));
    println!("metric	dir_bytes_before_after	{before}	{}", dir_bytes(dir));
    rest_gets(&s, "get_rest_after");
    s.close();
}

/// Runs every workload on a fresh store in `dir`, printing one line for each.
pub fn run<S: Store>(dir: &Path, p: &Params, only: &dyn Fn(&str) -> bool) {
    // RUST_COMPARE_REUSE=1 reads a database an earlier run of the same size left in
    // `dir` (for comparing two builds' reads on the same files): no ingest.
    let reuse = p.reuse && std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some());
    if !reuse {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).expect("create data dir");
    }
    // Series names are the caller's before timing (bench's make_keys); the second
    // half are series never written, for the absent-key reads.
    let keys: Vec<String> = (0..2 * p.series).map(series_name).collect();
    let total = p.series * p.points;

    let mut s = S::open(dir);
    if !reuse {
        // Ingest: every point of every series in time order, batches of 100. The
        // whole loop is timed: values, records and write calls.
        let t = Instant::now();
        ingest(&mut s, p, &keys);
        workload("ingest", total, t.elapsed().as_secs_f64(), Tally::default());
        println!("metric	write_amplification	{:.3}", s.write_amplification());
        let t = Instant::now();
        s.settle();
        println!("metric\tsettle_s\t{:.6}", t.elapsed().as_secs_f64());
    }

    let mut rng = Lcg(42);
    let (series, points) = (p.series, p.points);
    let win = points.min(10);
    // A workload left out by --workloads draws no random numbers: the others then
    // ask different (but on both systems the same) questions.
    if only("get") {
        let mut tally = Tally::default();
        let ops = p.scaled(1_000_000);
        let secs = timed(ops, || {
            let (sr, pt) = (rng.below(series), rng.below(points));
            s.get(&keys[sr], T0 + pt as i64 * STEP, &mut tally);
        });
        workload("get", ops, secs, tally);
    }
    if only("get_absent") {
        let mut tally = Tally::default();
        let ops = p.scaled(500_000);
        let secs = timed(ops, || {
            let sr = series + rng.below(series);
            s.get(&keys[sr], T0, &mut tally);
        });
        workload("get_absent", ops, secs, tally);
    }
    if only("get_latest") {
        let mut tally = Tally::default();
        let ops = p.scaled(200_000);
        let secs = timed(ops, || s.latest(&keys[rng.below(series)], &mut tally));
        workload("get_latest", ops, secs, tally);
    }
    if only("last_n") {
        let mut tally = Tally::default();
        let ops = p.scaled(100_000);
        let n = points.min(100);
        let secs = timed(ops, || s.last_n(&keys[rng.below(series)], n, &mut tally));
        workload("last_n", ops, secs, tally);
    }
    if only("last_n_lent") {
        let mut tally = Tally::default();
        let ops = p.scaled(100_000);
        let n = points.min(100);
        let secs = timed(ops, || s.last_n_lent(&keys[rng.below(series)], n, &mut tally));
        workload("last_n_lent", ops, secs, tally);
    }
    if only("series_scan") {
        let mut tally = Tally::default();
        let ops = p.scaled(2_000);
        let secs = timed(ops, || {
            s.window(&keys[rng.below(series)], 0, i64::MAX, &mut tally)
        });
        workload("series_scan", ops, secs, tally);
    }
    if only("series_window") {
        let mut tally = Tally::default();
        let ops = p.scaled(100_000);
        let secs = timed(ops, || {
            let sr = rng.below(series);
            let lo = T0 + rng.below(points - win + 1) as i64 * STEP;
            s.window(&keys[sr], lo, lo + (win as i64 - 1) * STEP, &mut tally);
        });
        workload("series_window", ops, secs, tally);
    }
    if only("all_window") {
        let mut tally = Tally::default();
        let ops = p.scaled(20);
        let secs = timed(ops, || {
            let lo = T0 + rng.below(points - win + 1) as i64 * STEP;
            s.all_window(lo, lo + (win as i64 - 1) * STEP, &mut tally);
        });
        workload("all_window", ops, secs, tally);
    }
    if only("series") {
        let mut tally = Tally::default();
        let ops = 20;
        let secs = timed(ops, || s.series("cpu.", &mut tally));
        assert_eq!(tally.count, (ops * series) as u64, "series: wrong count");
        workload("series", ops, secs, tally);
    }
    if only("full_scan") {
        let mut tally = Tally::default();
        let secs = timed(1, || s.full_scan(&mut tally));
        // A rate of records: the records read are the operations.
        workload("full_scan", tally.count as usize, secs, tally);
    }

    s.close();
    println!(
        "metric\tdisk_bytes_per_record\t{:.3}",
        dir_bytes(dir) as f64 / total as f64
    );
    if only("reopen") {
        let t = Instant::now();
        let s = S::open(dir);
        let mut first = Tally::default();
        s.latest(&keys[0], &mut first);
        let secs = t.elapsed().as_secs_f64();
        assert_eq!(first.count, 1, "the first read after reopen found nothing");
        workload("reopen", 1, secs, first);
        s.close();
    }
}

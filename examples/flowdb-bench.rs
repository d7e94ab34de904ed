//! The engine benchmark (docs/benchmarks.md): 1,000 series x 1,000 points written in
//! time order in batches of 100 under `SyncMode::IntervalMs(1000)`, then point reads,
//! absent reads, latest reads, series scans and windows, an all-series time window, a
//! full scan, disk bytes per record, reopen time and peak RSS; then ingest and `get`
//! again through the C ABI (libflowdb.so, loaded at run time), with their ratio to the
//! Rust API. Prints ops/s per workload.
//!
//! `cargo run --release --example flowdb-bench -- [--series N] [--points N] [--dir D] [--cache-mb N]`

use std::ffi::{c_char, c_void};
use std::time::{Duration, Instant};

use flowdb::{Config, Engine, Record, ScanRange, SyncMode};

struct Args {
    series: usize,
    points: usize,
    dir: Option<String>,
    cache_mb: usize,
}

fn args() -> Args {
    let mut a = Args {
        series: 1000,
        points: 1000,
        dir: None,
        cache_mb: Config::default().block_cache_capacity_mb,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let v = argv.get(i + 1).cloned().unwrap_or_default();
        match argv[i].as_str() {
            "--series" => a.series = v.parse().expect("--series N"),
            "--points" => a.points = v.parse().expect("--points N"),
            "--dir" => a.dir = Some(v),
            "--cache-mb" => a.cache_mb = v.parse().expect("--cache-mb N"),
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    a
}

const T0: i64 = 1_700_000_000_000_000;
const STEP: i64 = 1_000_000;

fn key(s: usize) -> String {
    format!("cpu.host-{s:05}.usage")
}

/// 128 bytes: 32 that vary (a reading as text, as a metrics agent writes it) and a
/// constant 96-byte tail (tags).
fn value(s: usize, p: usize, rng: &mut u64) -> Vec<u8> {
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    let reading = (*rng % 10_000_000) as f64 / 1000.0;
    let mut v = format!("v={reading:.3};s={s};p={p};").into_bytes();
    v.resize(32, b' ');
    v.extend_from_slice(&[b't'; 96]);
    v
}

fn rss_peak_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse()
                    .unwrap_or(0)
            })
        })
        .unwrap_or(0)
}

fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

fn report(name: &str, ops: usize, took: Duration, unit: &str) -> f64 {
    let rate = ops as f64 / took.as_secs_f64();
    println!(
        "{name:<34} {rate:>14.0} {unit}/s   ({ops} in {:.3}s)",
        took.as_secs_f64()
    );
    rate
}

/// The C library's functions this benchmark calls, loaded from `libflowdb.so` at run
/// time (dlopen) as a C program would link them: the C ABI is its own crate
/// (bindings/c), so a Rust program reaches it only through the built library.
struct CApi {
    options_new: unsafe extern "C" fn() -> *mut c_void,
    options_set_data_dir: unsafe extern "C" fn(*mut c_void, *const c_char, Err) -> i32,
    options_set_sync_mode: unsafe extern "C" fn(*mut c_void, i32, u64, Err) -> i32,
    options_set_block_cache_capacity_mb: unsafe extern "C" fn(*mut c_void, u64, Err) -> i32,
    options_free: unsafe extern "C" fn(*mut c_void),
    engine_open: unsafe extern "C" fn(*const c_void, *mut *mut c_void, Err) -> i32,
    engine_write_batch: unsafe extern "C" fn(*const c_void, *const RecordView, usize, Err) -> i32,
    engine_flush: unsafe extern "C" fn(*const c_void, Err) -> i32,
    engine_trigger_compaction: unsafe extern "C" fn(*const c_void, *mut c_void, Err) -> i32,
    engine_get:
        unsafe extern "C" fn(*const c_void, *const u8, usize, i64, *mut *mut c_void, Err) -> i32,
    records_len: unsafe extern "C" fn(*const c_void) -> usize,
    records_free: unsafe extern "C" fn(*mut c_void),
    engine_shutdown: unsafe extern "C" fn(*mut c_void, Err) -> i32,
    engine_free: unsafe extern "C" fn(*mut c_void),
}

/// `flowdb_error_t **` (always NULL here: status only).
type Err = *mut *mut c_void;

/// `flowdb_record_view_t` from include/flowdb.h.
#[repr(C)]
struct RecordView {
    key: *const u8,
    key_len: usize,
    ts: i64,
    expire_at: i64,
    value: *const u8,
    value_len: usize,
}

const FLOWDB_OK: i32 = 0;

impl CApi {
    /// Loads the library at `$FLOWDB_LIB`, else `libflowdb.so` beside the examples'
    /// directory (target/release/, where `cargo build --release -p flowdb-c` and the
    /// CMake build put it). None when it is not there.
    // The transmutes' target types are the fields' function types, named once there.
    #[allow(clippy::missing_transmute_annotations)]
    fn load() -> Option<CApi> {
        let path = std::env::var_os("FLOWDB_LIB")
            .map(std::path::PathBuf::from)
            .or_else(|| {
                let exe = std::env::current_exe().ok()?;
                Some(exe.parent()?.parent()?.join("libflowdb.so"))
            })?;
        let c_path = std::ffi::CString::new(path.to_str()?).ok()?;
        // SAFETY: dlopen with a NUL-terminated path; the handle is never closed, so
        // the functions stay valid for the process's life.
        let lib = unsafe { libc::dlopen(c_path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
        if lib.is_null() {
            return None;
        }
        macro_rules! sym {
            ($name:literal) => {{
                // SAFETY: the symbol is the C function of that name in flowdb.h, and
                // the field it is stored in has that function's C signature.
                unsafe {
                    let f = libc::dlsym(lib, concat!($name, "\0").as_ptr() as *const c_char);
                    assert!(!f.is_null(), "{} is missing from {}", $name, path.display());
                    std::mem::transmute::<*mut c_void, _>(f)
                }
            }};
        }
        Some(CApi {
            options_new: sym!("flowdb_options_new"),
            options_set_data_dir: sym!("flowdb_options_set_data_dir"),
            options_set_sync_mode: sym!("flowdb_options_set_sync_mode"),
            options_set_block_cache_capacity_mb: sym!("flowdb_options_set_block_cache_capacity_mb"),
            options_free: sym!("flowdb_options_free"),
            engine_open: sym!("flowdb_engine_open"),
            engine_write_batch: sym!("flowdb_engine_write_batch"),
            engine_flush: sym!("flowdb_engine_flush"),
            engine_trigger_compaction: sym!("flowdb_engine_trigger_compaction"),
            engine_get: sym!("flowdb_engine_get"),
            records_len: sym!("flowdb_records_len"),
            records_free: sym!("flowdb_records_free"),
            engine_shutdown: sym!("flowdb_engine_shutdown"),
            engine_free: sym!("flowdb_engine_free"),
        })
    }
}

/// The ingest and `get` workloads again, through the C ABI (the exported `flowdb_*`
/// functions C programs call), so its overhead shows as a ratio in the same run.
fn c_api_run(a: &Args, cache_mb: usize, rust_ingest: f64, rust_get: f64) {
    let Some(c) = CApi::load() else {
        let hint = "build it first: cargo build --release -p flowdb-c (or set FLOWDB_LIB)";
        assert!(
            std::env::var_os("FLOWDB_REQUIRE_BENCH").is_none(),
            "C API run: libflowdb.so not found; {hint}"
        );
        println!("C API run: SKIPPED, libflowdb.so not found; {hint}");
        return;
    };
    let tmp = tempfile::tempdir().expect("temp dir");
    let path = std::ffi::CString::new(tmp.path().to_str().expect("utf-8 path")).expect("path");
    let null = std::ptr::null_mut();
    // SAFETY: each call follows flowdb.h: handles come from the library and are freed
    // once by it; record views point into `keys`/`values`, alive across each call.
    unsafe {
        let o = (c.options_new)();
        assert_eq!((c.options_set_data_dir)(o, path.as_ptr(), null), FLOWDB_OK);
        assert_eq!((c.options_set_sync_mode)(o, 1, 1000, null), FLOWDB_OK);
        assert_eq!(
            (c.options_set_block_cache_capacity_mb)(o, cache_mb as u64, null),
            FLOWDB_OK
        );
        let mut e = std::ptr::null_mut();
        assert_eq!((c.engine_open)(o, &mut e, null), FLOWDB_OK);
        (c.options_free)(o);
        let keys: Vec<String> = (0..2 * a.series).map(key).collect();
        let mut rng = 0x9E3779B97F4A7C15u64;
        let mut writing = Duration::ZERO;
        let mut values: Vec<Vec<u8>> = Vec::with_capacity(100);
        let mut views: Vec<RecordView> = Vec::with_capacity(100);
        for p in 0..a.points {
            for (s, k) in keys.iter().enumerate().take(a.series) {
                values.push(value(s, p, &mut rng));
                views.push(RecordView {
                    key: k.as_ptr(),
                    key_len: k.len(),
                    ts: T0 + p as i64 * STEP,
                    expire_at: i64::MAX,
                    value: std::ptr::null(),
                    value_len: 0,
                });
                if views.len() == 100 || (p + 1 == a.points && s + 1 == a.series) {
                    for (v, val) in views.iter_mut().zip(&values) {
                        v.value = val.as_ptr();
                        v.value_len = val.len();
                    }
                    let t = Instant::now();
                    assert_eq!(
                        (c.engine_write_batch)(e, views.as_ptr(), views.len(), null),
                        FLOWDB_OK
                    );
                    writing += t.elapsed();
                    views.clear();
                    values.clear();
                }
            }
        }
        let c_ingest = report(
            "C API: ingest (batches of 100)",
            a.series * a.points,
            writing,
            "records",
        );
        assert_eq!((c.engine_flush)(e, null), FLOWDB_OK);
        assert_eq!(
            (c.engine_trigger_compaction)(e, std::ptr::null_mut(), null),
            FLOWDB_OK
        );
        let mut r = Lcg(42);
        let n = 1_000_000;
        let t = Instant::now();
        for _ in 0..n {
            let (s, p) = (r.below(a.series), r.below(a.points));
            let mut list = std::ptr::null_mut();
            assert_eq!(
                (c.engine_get)(
                    e,
                    keys[s].as_ptr(),
                    keys[s].len(),
                    T0 + p as i64 * STEP,
                    &mut list,
                    null
                ),
                FLOWDB_OK
            );
            assert_eq!((c.records_len)(list), 1);
            (c.records_free)(list);
        }
        let c_get = report("C API: get(key, ts)", n, t.elapsed(), "ops");
        println!(
            "{:<34} {:>14.2}",
            "C API / Rust: ingest",
            c_ingest / rust_ingest
        );
        println!("{:<34} {:>14.2}", "C API / Rust: get", c_get / rust_get);
        assert_eq!((c.engine_shutdown)(e, null), FLOWDB_OK);
        (c.engine_free)(e);
    }
}

struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

fn main() -> flowdb::Result<()> {
    let a = args();
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = a
        .dir
        .clone()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_path_buf());
    let config = Config {
        data_dir: dir.clone(),
        wal_sync_mode: SyncMode::IntervalMs(1000),
        block_cache_capacity_mb: a.cache_mb,
        ..Config::default()
    };
    let total = a.series * a.points;
    println!(
        "flowdb-bench: {} series x {} points = {} records, 128-byte values",
        a.series, a.points, total
    );

    let engine = Engine::open(config.clone())?;
    let mut rng = 0x9E3779B97F4A7C15u64;
    // Only the write calls are timed, not making the records.
    let mut writing = Duration::ZERO;
    let mut batch = Vec::with_capacity(100);
    for p in 0..a.points {
        for s in 0..a.series {
            batch.push(Record::new(
                key(s),
                T0 + p as i64 * STEP,
                value(s, p, &mut rng),
            ));
            if batch.len() == 100 || (p + 1 == a.points && s + 1 == a.series) {
                let t = Instant::now();
                engine.write_batch_owned(std::mem::replace(&mut batch, Vec::with_capacity(100)))?;
                writing += t.elapsed();
            }
        }
    }
    let rust_ingest = report("ingest (batches of 100)", total, writing, "records");
    let t = Instant::now();
    engine.flush()?;
    println!(
        "{:<34} {:>14.3} s",
        "flush after ingest",
        t.elapsed().as_secs_f64()
    );
    // Reads are measured on a settled tree: background compaction would otherwise
    // compete for the two cores and churn the block cache mid-measurement.
    let t = Instant::now();
    engine.trigger_compaction()?;
    println!(
        "{:<34} {:>14.3} s",
        "full compaction",
        t.elapsed().as_secs_f64()
    );

    // Lookup keys are made before timing, as they would be in a caller's hands.
    let keys: Vec<String> = (0..2 * a.series).map(key).collect();
    let mut r = Lcg(42);
    // As db_bench readrandom: 1M reads, so the cache reaches its steady state.
    let n = 1_000_000;
    let t = Instant::now();
    for _ in 0..n {
        let (s, p) = (r.below(a.series), r.below(a.points));
        let rec = engine.get(&keys[s], T0 + p as i64 * STEP)?;
        assert!(rec.is_some());
    }
    let rust_get = report("get(key, ts)", n, t.elapsed(), "ops");
    println!(
        "{:<34} {:>14.3}",
        "  block cache hit rate so far",
        engine.stats().block_cache_hit_rate
    );

    let n = 500_000;
    let t = Instant::now();
    for _ in 0..n {
        let s = a.series + r.below(a.series);
        assert!(engine.get(&keys[s], T0)?.is_none());
    }
    report("get of absent keys", n, t.elapsed(), "ops");

    let n = 200_000;
    let t = Instant::now();
    for _ in 0..n {
        let latest = engine.get_latest(&keys[r.below(a.series)])?;
        assert_eq!(
            latest.map(|x| x.ts),
            Some(T0 + (a.points as i64 - 1) * STEP)
        );
    }
    report("get_latest", n, t.elapsed(), "ops");

    let n = 2_000;
    let t = Instant::now();
    for _ in 0..n {
        let k = &keys[r.below(a.series)];
        assert_eq!(engine.scan(ScanRange::key_range(k, k))?.count(), a.points);
    }
    report("series full scan", n, t.elapsed(), "scans");

    let n = 100_000;
    let window = 10.min(a.points);
    let t = Instant::now();
    for _ in 0..n {
        let k = &keys[r.below(a.series)];
        let p = r.below(a.points - window + 1) as i64;
        let lo = T0 + p * STEP;
        let got = engine
            .scan(ScanRange::key_time_range(
                k,
                k,
                lo,
                lo + (window as i64 - 1) * STEP,
            ))?
            .count();
        assert_eq!(got, window);
    }
    report("series 10-point window", n, t.elapsed(), "queries");

    let n = 100;
    let t = Instant::now();
    for _ in 0..n {
        let p = r.below(a.points - window + 1) as i64;
        let lo = T0 + p * STEP;
        let got = engine
            .query_time_range(lo, lo + (window as i64 - 1) * STEP)?
            .len();
        assert_eq!(got, window * a.series);
    }
    report("all-series 10-second window", n, t.elapsed(), "queries");

    let t = Instant::now();
    let mut count = 0;
    for rec in engine.scan(ScanRange::all())? {
        rec?;
        count += 1;
    }
    assert_eq!(count, total);
    report("full scan", count, t.elapsed(), "records");

    let s = engine.stats();
    println!(
        "{:<34} {:>14.1} bytes ({} tables, compression {:.2}x)",
        "disk per record (after flush)",
        s.sstable_bytes as f64 / total as f64,
        s.sstable_count,
        s.compression_ratio
    );
    engine.trigger_compaction()?;
    engine.shutdown()?;
    println!(
        "{:<34} {:>14.1} bytes",
        "disk per record (compacted dir)",
        dir_bytes(&dir) as f64 / total as f64
    );

    let t = Instant::now();
    let engine = Engine::open(config)?;
    let reopen = t.elapsed();
    println!("{:<34} {:>14.2} ms", "reopen", reopen.as_secs_f64() * 1e3);
    assert!(engine.get_latest(&key(0))?.is_some());
    engine.shutdown()?;
    println!(
        "{:<34} {:>14.1} MiB",
        "peak RSS",
        rss_peak_kb() as f64 / 1024.0
    );
    c_api_run(&a, a.cache_mb, rust_ingest, rust_get);
    Ok(())
}

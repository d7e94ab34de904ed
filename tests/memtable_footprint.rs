//! The memtable's accounted size (`EngineStats::memtable_bytes`, what
//! `memtable_size_mb` is compared with) follows what it really takes from the
//! allocator, for each shape of data: documents (new keys with ~250-byte values),
//! index entries (new keys, short values), time series (points appended to a key),
//! late points (a key's versions out of order) and overwrites. Measured with a
//! counting allocator that charges each block as glibc's malloc sizes it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};

use flowdb::{Config, Engine, Record};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

/// glibc's chunk for a request: plus an 8-byte header, rounded to 16, at least 32.
fn chunk(n: usize) -> isize {
    (((n + 8 + 15) & !15).max(32)) as isize
}

// SAFETY: every call is forwarded to the system allocator unchanged; the counter
// is a side effect only.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(chunk(l.size()), Relaxed);
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(chunk(l.size()), Relaxed);
        // SAFETY: forwarded with the caller's pointer and layout.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(chunk(new) - chunk(l.size()), Relaxed);
        // SAFETY: forwarded with the caller's pointer, layout and size.
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static A: Counting = Counting;

/// Writes `records` (in batches of 1000) into a fresh engine whose memtable never
/// flushes; returns (bytes the memtable accounts, bytes the writes left allocated).
/// The records are made inside the measured span, so what the memtable kept of their
/// keys and values counts and what it freed does not.
fn measure(records: impl Iterator<Item = Record>) -> (f64, f64) {
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(Config {
        memtable_size_mb: 4096,
        auto_background: false,
        ..Config::new(dir.path())
    })
    .unwrap();
    let before = LIVE.load(Relaxed);
    let mut batch = Vec::new();
    for r in records {
        batch.push(r);
        if batch.len() == 1000 {
            e.write_batch_owned(std::mem::take(&mut batch)).unwrap();
        }
    }
    e.write_batch_owned(batch).unwrap();
    let held = (LIVE.load(Relaxed) - before) as f64;
    let accounted = e.stats().memtable_bytes as f64;
    drop(e);
    (accounted, held)
}

fn value(i: usize, len: usize) -> Vec<u8> {
    let mut v = format!("{i:08}").into_bytes();
    v.resize(len, b'x');
    v
}

fn check(shape: &str, records: impl Iterator<Item = Record>) {
    let (accounted, held) = measure(records);
    let ratio = accounted / held;
    println!("{shape}: accounted {accounted:.0}, allocated {held:.0}: {ratio:.2}");
    assert!(
        (0.85..=1.15).contains(&ratio),
        "{shape}: accounted {accounted:.0} bytes for {held:.0} allocated ({ratio:.2})"
    );
}

#[test]
fn accounted_bytes_follow_allocated_bytes_for_every_shape() {
    check(
        "documents",
        (0..50_000)
            .map(|i| Record::new(format!("docs/{:012}", i * 7919 % 50_000), 0, value(i, 250))),
    );
    check(
        "index entries",
        (0..100_000)
            .map(|i| Record::new(format!("idx/city/{:06}/{i:08}", i % 500), 0, value(i, 8))),
    );
    check(
        "long keys",
        (0..50_000).map(|i| {
            Record::new(
                format!("a-rather-long-key-prefix/{i:012}/suffix"),
                0,
                value(i, 40),
            )
        }),
    );
    check(
        "time series",
        (0..200_000).map(|i| {
            Record::new(
                format!("cpu.{:03}", i % 1000),
                (i / 1000) as i64,
                value(i, 32),
            )
        }),
    );
    check(
        "late points",
        (0..100_000).map(|i| {
            let ts = ((i * 7919) % 100_000 / 100) as i64;
            Record::new(format!("s{:02}", i % 100), ts, value(i, 24))
        }),
    );
}

//! RocksDB through the `rocksdb` crate (RocksDB 11.8.1), set up as flowdb-compare's C
//! backend (bench/ts_rocksdb.c): keys `series \0 big-endian ts`, a full bloom filter
//! of 10 bits per key, a 128 MiB LRU block cache, LZ4 blocks, a 64 MiB write buffer
//! with up to 3 of them, `increase_parallelism(2)`, the WAL on with `sync=false`.
//! Reads as in the C backend: `get` pinned (no copy of the value), one raw iterator
//! per `get_latest` (SeekForPrev) and per window, bounded by `iterate_upper_bound`.

use std::path::Path;

use rocksdb::{
    BlockBasedOptions, Cache, DBCompressionType, Options, ReadOptions, WriteBatch, WriteOptions, DB,
};

use crate::workloads::{Store, Tally};

pub const CACHE_MB: usize = 128;
/// The crate pins this release (Cargo.toml: rocksdb =0.25.0).
pub const VERSION: &str = "11.8.1 (rocksdb crate 0.25.0, librocksdb-sys 0.19.0)";

pub struct Rocks {
    db: DB,
    // Kept alive with the DB (the options hold references to them).
    _cache: Cache,
    write: WriteOptions,
    read: ReadOptions,
    batch: WriteBatch,
    key: Vec<u8>,
}

/// `key \0 ts` with ts big-endian, so keys sort by (series, ts).
#[inline]
fn make_key(out: &mut Vec<u8>, key: &str, ts: i64) {
    out.clear();
    out.extend_from_slice(key.as_bytes());
    out.push(0);
    out.extend_from_slice(&(ts as u64).to_be_bytes());
}

/// The same key in a caller's stack buffer (as the C backend's `char k[256]`).
#[inline]
fn stack_key(buf: &mut [u8; 256], key: &str, ts: i64) -> usize {
    let n = key.len();
    assert!(n + 9 <= buf.len(), "series name too long");
    buf[..n].copy_from_slice(key.as_bytes());
    buf[n] = 0;
    buf[n + 1..n + 9].copy_from_slice(&(ts as u64).to_be_bytes());
    n + 9
}

#[inline]
fn key_ts(k: &[u8]) -> i64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&k[k.len() - 8..]);
    u64::from_be_bytes(b) as i64
}

impl Rocks {
    /// Iterates [from, to) (from every key when `from` is None, to the end when `to`
    /// is None), tallying the values whose ts is in [lo, hi].
    fn range(&self, from: Option<&[u8]>, to: Option<Vec<u8>>, lo: i64, hi: i64, t: &mut Tally) {
        let mut r = ReadOptions::default();
        if let Some(to) = to {
            r.set_iterate_upper_bound(to);
        }
        let mut it = self.db.raw_iterator_opt(r);
        match from {
            Some(k) => it.seek(k),
            None => it.seek_to_first(),
        }
        while let Some(k) = it.key() {
            let ts = key_ts(k);
            if ts >= lo && ts <= hi {
                t.value(it.value().expect("rocksdb: value of a valid iterator"));
            }
            it.next();
        }
        it.status().expect("rocksdb: iterate");
    }
}

impl Store for Rocks {
    fn open(dir: &Path) -> Self {
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.increase_parallelism(2);
        opts.set_write_buffer_size(64 << 20);
        opts.set_max_write_buffer_number(3);
        opts.set_compression_type(DBCompressionType::Lz4);
        let mut table = BlockBasedOptions::default();
        table.set_bloom_filter(10.0, false); // false: a full filter, not block-based
        let cache = Cache::new_lru_cache(CACHE_MB << 20);
        table.set_block_cache(&cache);
        opts.set_block_based_table_factory(&table);
        let db = DB::open(&opts, dir).expect("rocksdb: open");
        let mut write = WriteOptions::default();
        write.set_sync(false);
        Rocks {
            db,
            _cache: cache,
            write,
            read: ReadOptions::default(),
            batch: WriteBatch::default(),
            key: Vec::with_capacity(64),
        }
    }

    fn close(self) {
        drop(self.db);
    }

    fn put(&mut self, key: &str, ts: i64, value: Vec<u8>) {
        make_key(&mut self.key, key, ts);
        self.batch.put(&self.key, &value);
    }

    fn commit(&mut self) {
        let batch = std::mem::take(&mut self.batch);
        self.db
            .write_opt(batch, &self.write)
            .expect("rocksdb: write");
    }

    fn write_amplification(&mut self) -> f64 {
        self.db.flush().expect("rocksdb: flush");
        self.db
            .wait_for_compact(&rocksdb::WaitForCompactOptions::default())
            .expect("rocksdb: wait_for_compact");
        // "Cumulative compaction: X GB write" (flushes count as level-0 compaction
        // output there) over "Flush(GB): cumulative Y": 0.01 GB resolution, so the
        // figure means something from a few hundred MB of flushes up.
        let text = self
            .db
            .property_value("rocksdb.cfstats")
            .expect("rocksdb: cfstats")
            .unwrap_or_default();
        if std::env::var_os("RUST_COMPARE_DEBUG").is_some() {
            eprintln!("{text}");
        }
        let flushed = text
            .lines()
            .find_map(|l| l.strip_prefix("Flush(GB): cumulative "))
            .and_then(|l| l.split(',').next())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0);
        let written = text
            .lines()
            .find_map(|l| l.strip_prefix("Cumulative compaction: "))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0);
        if flushed > 0.0 {
            written / flushed
        } else {
            0.0
        }
    }

    fn settle(&mut self) {
        self.db.flush().expect("rocksdb: flush"); // FlushOptions default: wait
        self.db.compact_range(None::<&[u8]>, None::<&[u8]>);
    }

    fn get(&self, key: &str, ts: i64, t: &mut Tally) {
        let mut buf = [0u8; 256];
        let n = stack_key(&mut buf, key, ts);
        let k = &buf[..n];
        if let Some(v) = self.db.get_pinned_opt(k, &self.read).expect("rocksdb: get") {
            t.value(&v);
        }
    }

    fn latest(&self, key: &str, t: &mut Tally) {
        let mut buf = [0u8; 256];
        let n = stack_key(&mut buf, key, i64::MAX);
        let k = &buf[..n];
        let mut upper = key.as_bytes().to_vec();
        upper.push(1); // the next key prefix after `key \0`
        let mut r = ReadOptions::default();
        r.set_iterate_upper_bound(upper);
        let mut it = self.db.raw_iterator_opt(r);
        it.seek_for_prev(k);
        if let Some(got) = it.key() {
            if got.len() == k.len() && got[..=key.len()] == k[..=key.len()] {
                t.latest(key_ts(got));
            }
        }
        it.status().expect("rocksdb: get_latest");
    }

    /// Distinct series by skipping: after each series' first key, seek past all of
    /// its keys (`series \x01`).
    fn series(&self, prefix: &str, t: &mut Tally) {
        let mut r = ReadOptions::default();
        let mut upper = prefix.as_bytes().to_vec();
        if let Some(last) = upper.last_mut() {
            *last += 1;
        }
        r.set_iterate_upper_bound(upper);
        let mut it = self.db.raw_iterator_opt(r);
        it.seek(prefix.as_bytes());
        let mut next = Vec::with_capacity(64);
        while let Some(k) = it.key() {
            let name = &k[..k.len() - 9];
            t.latest(0);
            next.clear();
            next.extend_from_slice(name);
            next.push(1);
            it.seek(&next);
        }
        it.status().expect("rocksdb: series");
    }

    /// One `DeleteRange` per series, in one batch: `[series \0 0, series \0 cutoff)`.
    fn delete_before(&mut self, keys: &[String], cutoff: i64) {
        let mut b = WriteBatch::default();
        let (mut from, mut to) = (Vec::new(), Vec::new());
        for k in keys {
            make_key(&mut from, k, 0);
            make_key(&mut to, k, cutoff);
            b.delete_range(&from, &to);
        }
        self.db.write_opt(b, &self.write).expect("rocksdb: delete_range");
    }

    fn last_n(&self, key: &str, n: usize, t: &mut Tally) {
        let mut buf = [0u8; 256];
        let len = stack_key(&mut buf, key, i64::MAX);
        let k = &buf[..len];
        // Bounded below at `key \0` (the series' first possible key), as a reverse
        // scan of one series is.
        let mut r = ReadOptions::default();
        r.set_iterate_lower_bound(&k[..=key.len()]);
        let mut upper = key.as_bytes().to_vec();
        upper.push(1);
        r.set_iterate_upper_bound(upper);
        let mut it = self.db.raw_iterator_opt(r);
        it.seek_for_prev(k);
        let mut taken = 0;
        while taken < n && it.valid() {
            if let Some(v) = it.value() {
                t.value(v);
            }
            taken += 1;
            it.prev();
        }
        it.status().expect("rocksdb: last_n");
    }

    fn window(&self, key: &str, lo: i64, hi: i64, t: &mut Tally) {
        let mut buf = [0u8; 256];
        let n = stack_key(&mut buf, key, lo.max(0));
        let from = &buf[..n];
        let to = if hi == i64::MAX {
            // the whole series: bound at the next key prefix
            let mut to = key.as_bytes().to_vec();
            to.push(1);
            to
        } else {
            // the bound is exclusive: step past hi
            let mut to = Vec::with_capacity(key.len() + 9);
            make_key(&mut to, key, hi + 1);
            to
        };
        self.range(Some(from), Some(to), lo, hi, t);
    }

    /// RocksDB has no time index: a window across all series reads every key.
    fn all_window(&self, lo: i64, hi: i64, t: &mut Tally) {
        self.range(None, None, lo, hi, t);
    }

    fn full_scan(&self, t: &mut Tally) {
        self.range(None, None, i64::MIN, i64::MAX, t);
    }
}

//! Numeric-packed data blocks. A data block holding numeric points is written with
//! each run of one series' points (one key, increasing ts, one expiry offset)
//! encoded by the numeric codecs (src/numeric: delta-of-delta timestamps, XOR or
//! decimal values) instead of entry by entry. Reading unpacks it into the standard
//! block (block.rs) that the block cache holds and every iterator reads: the codecs
//! save disk and I/O, and a cached block reads as any other.
//!
//! ## Format
//! The payload of a block framed with compression 2 (3: zstd over it; format.rs):
//! `interval: varint` (the restart interval to rebuild the block with), `items:
//! varint`, then the items in order, each a `tag: u8`:
//! - `0` an entry: `shared: varint` and `unshared: bytes` (its key against the
//!   previous item's), `ts: zigzag varint` (the delta from the previous item's last
//!   ts), `kind: u8` as in data blocks, for kinds 1 and 4 `expire_at - ts` (zigzag,
//!   wrapping), then the value: `bytes` for kinds 0 and 1, 8 bytes for 3 and 4.
//! - `1` a run of points that never expire, `2` a run whose points expire `d`
//!   after their ts: the key as for an entry, for `2` `d: zigzag varint`, then
//!   `len: varint` and `len` bytes of a numeric run (src/numeric/mod.rs).
//!
//! A block is packed only when it holds a run of at least `MIN_RUN` points; the
//! table writing it is then of format 3.

use std::sync::Arc;

use super::block::{kind_byte, kind_of_byte, Block, BlockBuilder, BlockIter};
use super::codec::MAX_RAW;
use crate::entry::Kind;
use crate::error::{Error, Result};
use crate::numeric::{decode_run_into, encode_run_with, Choice, TsCodec, MAX_RUN_POINTS};
use crate::util::coding::{put_bytes, put_varint, put_varint_i64, shared_prefix, Decoder};

/// The fewest points worth a run: below it, entries cost less than a run's header.
const MIN_RUN: usize = 4;
/// The largest restart interval a packed block may ask for.
const MAX_INTERVAL: usize = 1 << 16;

/// The current run: its key, expiry offset (`None`: never expires) and points.
#[derive(Default)]
struct Run {
    key: Vec<u8>,
    expiry: Option<i64>,
    ts: Vec<i64>,
    vals: Vec<f64>,
}

/// Writes the packed form of a block.
struct Packer {
    out: Vec<u8>,
    items: u64,
    prev_key: Vec<u8>,
    prev_ts: i64,
    runs: usize,
}

impl Packer {
    fn key(&mut self, key: &[u8]) {
        let shared = shared_prefix(&self.prev_key, key);
        put_varint(&mut self.out, shared as u64);
        put_bytes(&mut self.out, &key[shared..]);
        self.prev_key.clear();
        self.prev_key.extend_from_slice(key);
    }

    fn entry(&mut self, key: &[u8], ts: i64, kind: Kind, expire_at: i64, value: &[u8]) {
        self.items += 1;
        self.out.push(0);
        self.key(key);
        put_varint_i64(&mut self.out, ts.wrapping_sub(self.prev_ts));
        self.prev_ts = ts;
        let expiring = expire_at != i64::MAX && kind != Kind::Delete;
        self.out.push(kind_byte(kind, expiring));
        if expiring {
            put_varint_i64(&mut self.out, expire_at.wrapping_sub(ts));
        }
        match kind {
            Kind::Put => put_bytes(&mut self.out, value),
            Kind::Num => self.out.extend_from_slice(value),
            Kind::Delete => {}
        }
    }

    /// Writes `run` (as a run, or point by point when short) and empties it.
    fn flush(&mut self, run: &mut Run, scratch: &mut Vec<u8>) {
        let Some(&last) = run.ts.last() else {
            return;
        };
        if run.ts.len() < MIN_RUN {
            let key = std::mem::take(&mut run.key);
            for (&ts, &v) in run.ts.iter().zip(&run.vals) {
                let exp = run.expiry.map_or(i64::MAX, |d| ts.wrapping_add(d));
                self.entry(&key, ts, Kind::Num, exp, &v.to_le_bytes());
            }
            run.key = key;
        } else {
            self.items += 1;
            self.runs += 1;
            self.out.push(if run.expiry.is_some() { 2 } else { 1 });
            let key = std::mem::take(&mut run.key);
            self.key(&key);
            run.key = key;
            if let Some(d) = run.expiry {
                put_varint_i64(&mut self.out, d);
            }
            scratch.clear();
            encode_run_with(&run.ts, &run.vals, TsCodec::Packed, Choice::Auto, scratch);
            put_bytes(&mut self.out, scratch);
            self.prev_ts = last;
        }
        run.ts.clear();
        run.vals.clear();
    }
}

/// The packed form of the standard block `raw` (written with restart `interval`),
/// or `None` when it holds no run worth packing.
pub(crate) fn pack(raw: Vec<u8>, interval: usize) -> Result<Option<Vec<u8>>> {
    let len = raw.len();
    let block = Arc::new(Block::parse(raw, Arc::from("(block being written)"), 0)?);
    let mut it = BlockIter::new(block);
    let mut p = Packer {
        out: Vec::with_capacity(len / 2),
        items: 0,
        prev_key: Vec::new(),
        prev_ts: 0,
        runs: 0,
    };
    let (mut run, mut scratch) = (Run::default(), Vec::new());
    while let Some(raw) = it.next_raw()? {
        let (key, ts, value) = (it.key(), it.ts(), it.value(&raw));
        let expiry = (raw.expire_at != i64::MAX).then(|| raw.expire_at.wrapping_sub(ts));
        if raw.kind == Kind::Num {
            // (A run holds at most MAX_RUN_POINTS: a denser series in a big block,
            // `Config::block_size` of a MiB or more, goes on in a new run of its key;
            // unsplit, writing the table panicked.)
            let joins = run.key.as_slice() == key
                && run.expiry == expiry
                && run.ts.last().is_some_and(|&t| t < ts)
                && run.ts.len() < MAX_RUN_POINTS;
            if !joins {
                p.flush(&mut run, &mut scratch);
                run.key.clear();
                run.key.extend_from_slice(key);
                run.expiry = expiry;
            }
            let bytes: [u8; 8] = value
                .try_into()
                .map_err(|_| Error::Internal("a numeric point without 8 bytes".into()))?;
            run.ts.push(ts);
            run.vals.push(f64::from_le_bytes(bytes));
            continue;
        }
        p.flush(&mut run, &mut scratch);
        p.entry(key, ts, raw.kind, raw.expire_at, value);
    }
    p.flush(&mut run, &mut scratch);
    if p.runs == 0 {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(p.out.len() + 12);
    put_varint(&mut out, interval as u64);
    put_varint(&mut out, p.items);
    out.extend_from_slice(&p.out);
    Ok(Some(out))
}

/// The standard block `packed` (a packed block read from `offset` of `name`) stands
/// for. A block that would unpack past `MAX_RAW` (the largest block a table holds)
/// is malformed: prefix compression lets a small payload ask for a huge block (a long
/// key written out at every restart), and reading it must not allocate gigabytes.
pub(crate) fn unpack(packed: &[u8], name: &str, offset: u64) -> Result<Vec<u8>> {
    unpack_within(packed, name, offset, MAX_RAW)
}

/// `unpack`, refusing a block whose standard form exceeds `limit` bytes.
fn unpack_within(packed: &[u8], name: &str, offset: u64, limit: usize) -> Result<Vec<u8>> {
    let every = interval(&mut Decoder::new(packed), name, offset)?;
    let mut b = BlockBuilder::new(every);
    let within = walk(packed, name, offset, |item| {
        match item {
            Item::Entry(key, ts, kind, exp, value) => b.add_parts(key, ts, kind, exp, value),
            Item::Run(key, ts, vals, expiry) => {
                // Checked before the run is built: a run of many points under a long
                // key, restarting often, could ask for gigabytes in one call.
                if b.estimated_size()
                    .saturating_add(run_floor(key.len(), ts.len(), every))
                    > limit
                {
                    return false;
                }
                b.add_run(key, ts, vals, expiry)
            }
        }
        b.estimated_size() <= limit
    })?;
    if !within {
        return Err(malformed(
            name,
            offset,
            "unpacks past the largest block size",
        ));
    }
    if b.is_empty() {
        return Err(malformed(name, offset, "length"));
    }
    Ok(b.finish())
}

/// The fewest bytes a run of `points` points under a key of `key_len` bytes takes in
/// a standard block restarting every `every` entries: each point's 8-byte value,
/// and the whole key at each restart.
fn run_floor(key_len: usize, points: usize, every: usize) -> usize {
    let restarts = points.div_ceil(every.max(1));
    points
        .saturating_mul(8)
        .saturating_add(restarts.saturating_mul(key_len))
}

/// An item of a packed block, its key and values lent: an entry (key, ts, kind,
/// `expire_at`, value), or a run of points (key, timestamps, values, and the
/// expiry offset of each, `None` for never).
pub(crate) enum Item<'a> {
    Entry(&'a [u8], i64, Kind, i64, &'a [u8]),
    Run(&'a [u8], &'a [i64], &'a [f64], Option<i64>),
}

fn malformed(name: &str, offset: u64, what: &str) -> Error {
    Error::corruption(name, offset, format!("malformed packed block: {what}"))
}

/// The restart interval the standard block of a packed block is built with: its
/// first field, at `d`.
fn interval(d: &mut Decoder<'_>, name: &str, offset: u64) -> Result<usize> {
    d.varint_usize()
        .filter(|n| (1..=MAX_INTERVAL).contains(n))
        .ok_or_else(|| malformed(name, offset, "restart interval"))
}

/// Hands the items of `packed` (a packed block read from `offset` of `name`) to
/// `f` in order, until it returns false (`Ok(false)`); a malformed block is a
/// `Corruption` error, found at the latest when the walk reaches it.
pub(crate) fn walk(
    packed: &[u8],
    name: &str,
    offset: u64,
    mut f: impl FnMut(Item<'_>) -> bool,
) -> Result<bool> {
    let bad = |what: &str| malformed(name, offset, what);
    let mut d = Decoder::new(packed);
    interval(&mut d, name, offset)?;
    let items = d
        .varint_usize()
        .filter(|n| *n <= packed.len())
        .ok_or_else(|| bad("item count"))?;
    let (mut key, mut prev_ts) = (Vec::new(), 0i64);
    let (mut ts, mut vals) = (Vec::new(), Vec::new());
    for _ in 0..items {
        let tag = d.u8().ok_or_else(|| bad("item tag"))?;
        let shared = d.varint_usize().ok_or_else(|| bad("shared key length"))?;
        let suffix = d.bytes().ok_or_else(|| bad("key"))?;
        if shared > key.len() || (shared == 0 && suffix.is_empty()) {
            return Err(bad("key"));
        }
        key.truncate(shared);
        key.extend_from_slice(suffix);
        let going = match tag {
            0 => {
                let t = prev_ts.wrapping_add(d.varint_i64().ok_or_else(|| bad("ts"))?);
                prev_ts = t;
                let (kind, expiring) = d.u8().and_then(kind_of_byte).ok_or_else(|| bad("kind"))?;
                let exp = match expiring {
                    true => t.wrapping_add(d.varint_i64().ok_or_else(|| bad("expiry"))?),
                    false => i64::MAX,
                };
                let value = match kind {
                    Kind::Put => d.bytes(),
                    Kind::Num => d.take(8),
                    Kind::Delete => Some(&[][..]),
                };
                f(Item::Entry(
                    &key,
                    t,
                    kind,
                    exp,
                    value.ok_or_else(|| bad("value"))?,
                ))
            }
            1 | 2 => {
                let expiry = match tag {
                    2 => Some(d.varint_i64().ok_or_else(|| bad("expiry"))?),
                    _ => None,
                };
                let run = d.bytes().ok_or_else(|| bad("run"))?;
                decode_run_into(run, &mut ts, &mut vals).map_err(|e| bad(&format!("run: {e}")))?;
                if ts.len() < 2 || ts.windows(2).any(|w| w[0] >= w[1]) {
                    return Err(bad("run timestamps not increasing"));
                }
                prev_ts = ts[ts.len() - 1];
                f(Item::Run(&key, &ts, &vals, expiry))
            }
            _ => return Err(bad("item tag")),
        };
        if !going {
            return Ok(false);
        }
    }
    if !d.is_empty() {
        return Err(bad("length"));
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Entry;

    fn entry(key: &str, ts: i64, kind: Kind, expire_at: i64, value: Vec<u8>) -> Entry {
        Entry {
            key: key.as_bytes().to_vec(),
            ts,
            seq: 0,
            kind,
            expire_at,
            value,
        }
    }

    /// A series with more points in one block than a run holds is packed as several
    /// runs of its key, and unpacks to the same block (packing it once panicked).
    #[test]
    fn a_series_longer_than_a_run_is_packed_as_several() {
        let mut b = BlockBuilder::new(16);
        let n = MAX_RUN_POINTS as i64 + 5_000;
        for i in 0..n {
            let v = (i as f64 * 0.5).to_le_bytes().to_vec();
            b.add(&entry("k", i * 15_000_000, Kind::Num, i64::MAX, v));
        }
        let raw = b.finish();
        let packed = pack(raw.clone(), 16).unwrap().expect("packed");
        assert!(packed.len() < raw.len() / 4);
        assert_eq!(unpack(&packed, "t", 0).unwrap(), raw);
    }

    /// A random block: runs of points (with and without expiry, some short), bytes,
    /// deletes, numbers with changing expiry, in (key, ts) order.
    fn random_block(rng: &mut fastrand::Rng, interval: usize) -> Vec<u8> {
        let mut b = BlockBuilder::new(interval);
        let mut entries = Vec::new();
        for k in 0..rng.usize(1..6) {
            let key = format!("series.{k}");
            let mut ts = rng.i64(-1000..1000);
            for _ in 0..rng.usize(1..200) {
                ts += rng.i64(1..20);
                let v = match rng.u8(..4) {
                    0 => f64::from_bits(rng.u64(..)),
                    _ => rng.i32(-50..50) as f64 / 4.0,
                };
                let (kind, value) = match rng.u8(..20) {
                    0 => (Kind::Put, vec![7; rng.usize(0..12)]),
                    1 => (Kind::Delete, Vec::new()),
                    _ => (Kind::Num, v.to_le_bytes().to_vec()),
                };
                let exp = match rng.u8(..10) {
                    0 => ts.wrapping_add(rng.i64(..)),
                    1..=3 => ts + 3600,
                    _ => i64::MAX,
                };
                entries.push(entry(&key, ts, kind, exp, value));
            }
        }
        for e in &entries {
            b.add(e);
        }
        b.finish()
    }

    #[test]
    fn packing_round_trips_blocks_byte_for_byte() {
        let seed = std::env::var("FLOWDB_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| fastrand::u64(..));
        println!("FLOWDB_SEED={seed}");
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut packed_some = 0;
        for _ in 0..300 {
            let interval = [1, 4, 16][rng.usize(..3)];
            let raw = random_block(&mut rng, interval);
            if let Some(packed) = pack(raw.clone(), interval).unwrap() {
                packed_some += 1;
                assert_eq!(unpack(&packed, "t", 0).unwrap(), raw);
                // Every truncation and a flipped byte fail cleanly or decode to
                // some block: never a panic.
                for cut in (0..packed.len()).step_by(7) {
                    let _ = unpack(&packed[..cut], "t", 0);
                }
                let mut flipped = packed.clone();
                let at = rng.usize(..flipped.len());
                flipped[at] ^= 1 << rng.u8(..8);
                let _ = unpack(&flipped, "t", 0);
            }
        }
        assert!(packed_some > 100, "only {packed_some} blocks had runs");
    }

    #[test]
    fn blocks_without_runs_are_not_packed() {
        let mut b = BlockBuilder::new(16);
        for ts in 0..10 {
            b.add(&entry("k", ts, Kind::Put, i64::MAX, vec![1; 8]));
        }
        b.add(&entry("n", 1, Kind::Num, i64::MAX, vec![0; 8]));
        assert!(pack(b.finish(), 16).unwrap().is_none());
    }

    #[test]
    fn regular_points_cost_a_few_bits() {
        let mut b = BlockBuilder::new(16);
        for i in 0..1000 {
            let v = 20.0 + (i % 7) as f64 / 10.0;
            b.add(&entry(
                "cpu.host-1.user",
                i * 15_000_000,
                Kind::Num,
                i64::MAX,
                v.to_le_bytes().to_vec(),
            ));
        }
        let raw = b.finish();
        let packed = pack(raw.clone(), 16).unwrap().unwrap();
        assert!(
            packed.len() < 1000,
            "{} bytes for 1000 points ({} unpacked)",
            packed.len(),
            raw.len()
        );
    }

    /// A small payload that prefix compression makes huge (a long key written out at
    /// every restart of interval 1) is refused past the limit, not allocated.
    #[test]
    fn a_block_that_unpacks_past_the_limit_is_malformed() {
        let key = vec![b'k'; 1000];
        let mut p = Vec::new();
        put_varint(&mut p, 1);
        put_varint(&mut p, 100);
        for i in 0..100u8 {
            p.push(0);
            let shared = if i == 0 { 0 } else { key.len() - 1 };
            put_varint(&mut p, shared as u64);
            put_bytes(&mut p, &key[shared..]);
            put_varint_i64(&mut p, 1);
            p.push(kind_byte(Kind::Put, false));
            put_bytes(&mut p, &[]);
        }
        assert!(p.len() < 1_000 + 100 * 10);
        let whole = unpack(&p, "t", 0).unwrap();
        assert!(whole.len() > 100_000, "{} bytes", whole.len());
        let err = unpack_within(&p, "t", 0, 50_000).unwrap_err();
        assert!(
            err.to_string().contains("past the largest block size"),
            "{err}"
        );
    }

    /// A run is bounded before it is built: 65,536 points under a 60 KB key at
    /// interval 1 (a payload of ~62 KB) would be ~3.9 GB unpacked, written in one
    /// call before the size was checked.
    #[test]
    fn a_run_that_would_unpack_past_the_limit_is_refused_before_it_is_built() {
        let key = vec![b'k'; 60_000];
        let ts: Vec<i64> = (0..65_536).collect();
        let mut p = Vec::new();
        put_varint(&mut p, 1);
        put_varint(&mut p, 1);
        p.push(1);
        put_varint(&mut p, 0);
        put_bytes(&mut p, &key);
        put_bytes(
            &mut p,
            &crate::numeric::encode_run(&ts, &vec![0.0; ts.len()]),
        );
        assert!(p.len() < 70_000, "{} bytes", p.len());
        assert!(run_floor(key.len(), ts.len(), 1) > 3_000_000_000);
        for limit in [50_000, MAX_RAW] {
            let err = unpack_within(&p, "t", 0, limit).unwrap_err();
            assert!(
                err.to_string().contains("past the largest block size"),
                "{err}"
            );
        }
    }
}

//! A block of one series' numeric points read as two columns, timestamps and values,
//! for aggregation: decoded in one pass over the block's bytes and folded slice by
//! slice, instead of handed point by point through a cursor and the merge
//! ([`TableCursor::next_lent_offering`](super::cursor::TableCursor::next_lent_offering)
//! offers such blocks).
//!
//! The pass knows the one shape such a block's entries take (docs/format.md, "Data
//! block"): the series' key whole at each restart and wholly shared between them, a
//! ts delta, kind 3 or 4 and the value's 8 bytes. Anything else, and the block is
//! left to the cursor.

use super::block::{kind_byte, kind_of_byte, Block};
use super::packed::{walk, Item};
use crate::entry::Kind;
use crate::error::Result;
use crate::util::coding::{put_varint, unzigzag, varint_at as varint};
use crate::util::prefetch;
use crate::util::search::{interval_guess, partition_point_near};

/// The points of a block in `(ts, value)` columns; reused from block to block, and
/// its buffers from read to read on a thread (`SPARE`).
#[derive(Default)]
pub(crate) struct Columns {
    /// The first `n` of each hold the points. `load` writes them in place into
    /// buffers it only grows (pushes took a quarter of its loop); `load_packed`
    /// appends them.
    ts: Vec<i64>,
    vals: Vec<f64>,
    n: usize,
    /// The bytes an entry between restarts begins with (`load`).
    between: Vec<u8>,
}

/// The buffers of `Columns`, kept for the thread's next read.
type Buffers = (Vec<i64>, Vec<f64>, Vec<u8>);

/// Buffers kept larger than this many points are freed, not kept.
const SPARE_MOST: usize = 1 << 16;

thread_local! {
    /// The buffers of the thread's last column read: each aggregation makes a table
    /// cursor, whose first block would otherwise allocate and zero them (an hour of
    /// one series reads one or two blocks).
    static SPARE: std::cell::Cell<Option<Buffers>> = const { std::cell::Cell::new(None) };
}

impl Drop for Columns {
    fn drop(&mut self) {
        if self.ts.capacity() == 0 || self.ts.capacity() > SPARE_MOST {
            return;
        }
        let bufs = (
            std::mem::take(&mut self.ts),
            std::mem::take(&mut self.vals),
            std::mem::take(&mut self.between),
        );
        // (After the thread's locals are gone, the buffers are just freed.)
        let _ = SPARE.try_with(|s| s.set(Some(bufs)));
    }
}

impl Columns {
    /// Replaces the columns with the points of `block` whose ts is in `lo..=hi`.
    /// False (the columns then hold nothing usable) when the block holds an entry
    /// that is not a numeric point of `key`: its index entry's statistics said it
    /// would not, so the caller reads it entry by entry instead. `span` is the
    /// block's first and last ts as its index entry has them (a hint for where `lo`
    /// lies).
    pub(crate) fn load(
        &mut self,
        block: &Block,
        key: &[u8],
        (lo, hi): (i64, i64),
        span: (i64, i64),
    ) -> Result<bool> {
        self.n = 0;
        if self.ts.capacity() == 0 {
            if let Some((ts, vals, between)) = SPARE.try_with(|s| s.take()).ok().flatten() {
                (self.ts, self.vals, self.between) = (ts, vals, between);
            }
        }
        // An entry between restarts shares the whole key: `shared` is the key's
        // length and the suffix empty, two bytes compared at once for most keys.
        let mut between = std::mem::take(&mut self.between);
        between.clear();
        put_varint(&mut between, key.len() as u64);
        between.push(0);
        let between_pair = <[u8; 2]>::try_from(&between[..]).ok();
        let read = self.load_with(block, key, (lo, hi), span, &between, between_pair);
        self.between = between;
        read
    }

    /// [`load`](Self::load) once the bytes between restarts are known.
    fn load_with(
        &mut self,
        block: &Block,
        key: &[u8],
        (lo, hi): (i64, i64),
        span: (i64, i64),
        between: &[u8],
        between_pair: Option<[u8; 2]>,
    ) -> Result<bool> {
        let data = block.entries();
        // An entry takes at least 12 bytes.
        let most = data.len() / 12;
        if self.ts.len() < most {
            self.ts.resize(most, 0);
            self.vals.resize(most, 0.0);
        }
        // When `lo` falls inside the block (an hour of a series reads half a block),
        // start at the last restart at or before it: every entry before that is
        // older than `lo`.
        // (The offsets are read where they lie: copying a block's ~125 into a `Vec`
        // at each load was a tenth of a short query's time.)
        let from = first_restart(block, lo, span);
        let mut restart = from;
        let (ts_out, vals_out) = (&mut self.ts[..most], &mut self.vals[..most]);
        let mut n = 0;
        let mut next_restart = block.restart_offset(restart);
        let (mut at, mut ts) = (next_restart.min(data.len()), 0i64);
        if from == 0 {
            at = 0;
        }
        let bad = |what| block.corrupt(what);
        while at < data.len() {
            if at == next_restart {
                restart += 1;
                next_restart = block.restart_offset(restart);
                let shared = varint(data, &mut at).ok_or_else(|| bad("shared length"))?;
                let len = varint(data, &mut at).ok_or_else(|| bad("key length"))?;
                let suffix = usize::try_from(len)
                    .ok()
                    .and_then(|n| data.get(at..at.checked_add(n)?))
                    .ok_or_else(|| bad("key"))?;
                if shared != 0 || suffix != key {
                    return Ok(false);
                }
                at += suffix.len();
                ts = 0;
            } else if matches_at(data, at, between) {
                if let Some(pair) = between_pair {
                    let (start, out) = (at, (&mut *ts_out, &mut *vals_out, &mut n));
                    match uniform(data, &mut at, next_restart, pair, &mut ts, (lo, hi), out) {
                        Uniform::PastHi => break,
                        Uniform::Full => return Err(bad("entries shorter than 12 bytes")),
                        // The entry now at `at` is read from the top (a restart's, or
                        // of another shape); with none read, it is read here.
                        Uniform::Other if at != start => continue,
                        Uniform::Other => {}
                    }
                }
                at += between.len();
            } else {
                return Ok(false);
            }
            let delta = varint(data, &mut at).ok_or_else(|| bad("ts"))?;
            ts = ts.wrapping_add(unzigzag(delta));
            let kind = data.get(at).copied().and_then(kind_of_byte);
            at += 1;
            match kind {
                Some((Kind::Num, false)) => {}
                Some((Kind::Num, true)) => {
                    varint(data, &mut at).ok_or_else(|| bad("expiry"))?;
                }
                _ => return Ok(false),
            }
            let v = data
                .get(at..at + 8)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .ok_or_else(|| bad("value"))?;
            at += 8;
            if ts > hi {
                break;
            }
            if ts >= lo {
                if n == most {
                    return Err(bad("entries shorter than 12 bytes"));
                }
                ts_out[n] = ts;
                vals_out[n] = f64::from_le_bytes(v);
                n += 1;
            }
        }
        self.n = n;
        Ok(true)
    }
}

impl Columns {
    /// [`load`](Self::load) from a packed block's payload (packed.rs), read from
    /// `offset` of `name`: each run of `key` decoded by the codecs straight into the
    /// columns, no standard block built.
    pub(crate) fn load_packed(
        &mut self,
        packed: &[u8],
        (name, offset): (&str, u64),
        key: &[u8],
        lo: i64,
        hi: i64,
    ) -> Result<bool> {
        self.ts.clear();
        self.vals.clear();
        self.n = 0;
        let mut shaped = true;
        walk(packed, name, offset, |item| {
            let (k, ts, vals): (_, &[i64], &[f64]) = match item {
                Item::Run(k, ts, vals, _) => (k, ts, vals),
                Item::Entry(k, ts, Kind::Num, _, v) => match <[u8; 8]>::try_from(v) {
                    Ok(b) => (k, &[ts], &[f64::from_le_bytes(b)]),
                    Err(_) => (k, &[], &[]),
                },
                Item::Entry(..) => (&[][..], &[], &[]),
            };
            if k != key || ts.is_empty() {
                shaped = false;
                return false;
            }
            let from = ts.partition_point(|&t| t < lo);
            let to = ts.partition_point(|&t| t <= hi);
            if from < to {
                self.ts.extend_from_slice(&ts[from..to]);
                self.vals.extend_from_slice(&vals[from..to]);
            }
            true
        })?;
        self.n = self.ts.len();
        Ok(shaped)
    }

    /// The points' timestamps and values.
    pub(crate) fn points(&self) -> (&[i64], &[f64]) {
        (&self.ts[..self.n], &self.vals[..self.n])
    }
}

/// The restart to read from for points at or after `lo`: the last one at or before
/// it (0 when none is, or when the span puts `lo` at or before the block's first
/// ts). Searched from where `lo` lies in the block's `span` of ts (for points at a
/// regular interval, two restarts read): each restart's ts read is a wait on memory
/// (a binary search's five were 9% of an hour's aggregation).
fn first_restart(block: &Block, lo: i64, span: (i64, i64)) -> usize {
    let (data, n) = (block.entries(), block.restart_count());
    // From the block's start (always right; a day's query enters most blocks so).
    if n < 2 || lo <= span.0 {
        return 0;
    }
    let before = |r: usize| restart_ts(data, block.restart_offset(r)).is_some_and(|t| t <= lo);
    partition_point_near(n, interval_guess(n, lo, span) + 1, before).max(1) - 1
}

/// How [`uniform`] stopped.
enum Uniform {
    /// At an entry of another shape or at the next restart, which the caller reads
    /// (an entry of none of the block's shapes declines the block).
    Other,
    /// Past `hi`: nothing more to read.
    PastHi,
    /// The columns are full: a corrupt block.
    Full,
}

/// Reads the run of entries from `at` (an entry between restarts) up to `end` (the
/// next restart; it stops earlier where fewer than a stride's bytes remain, or at an
/// entry of another shape) that share one shape: the whole key shared (`between`), a
/// ts delta of the same varint length as the first's, no expiry, the value's 8
/// bytes. Each entry's start is then `at` plus a fixed stride, so the loads of one
/// entry do not wait for the previous entry's decoding (the general loop's chain of
/// dependent loads took about 15 cycles an entry); its shape is checked by a branch
/// the CPU predicts. Appends the points within `lo..=hi` to `out` (columns and
/// count).
#[inline(always)]
fn uniform(
    data: &[u8],
    at: &mut usize,
    end: usize,
    between: [u8; 2],
    ts: &mut i64,
    bounds: (i64, i64),
    out: (&mut [i64], &mut [f64], &mut usize),
) -> Uniform {
    let end = end.min(data.len());
    let Some(first) = data.get(*at + 2..*at + 10) else {
        return Uniform::Other;
    };
    let w = u64::from_le_bytes(first.try_into().unwrap_or_default());
    let ends = !w & HIGH;
    // The delta's length: each length's loop is its own, its stride and masks
    // constants (one loop for all was ~10% more instructions an entry).
    let run = match ends.trailing_zeros() / 8 + 1 {
        1 => run_of::<1>,
        2 => run_of::<2>,
        3 => run_of::<3>,
        4 => run_of::<4>,
        5 => run_of::<5>,
        6 => run_of::<6>,
        7 => run_of::<7>,
        8 => run_of::<8>,
        _ => return Uniform::Other,
    };
    run(data, at, end, between, ts, bounds, out)
}

/// The continuation bits of a word of varint bytes.
const HIGH: u64 = 0x8080_8080_8080_8080;

/// [`uniform`]'s loop for deltas of `LEN` bytes.
#[inline(always)]
fn run_of<const LEN: usize>(
    data: &[u8],
    at: &mut usize,
    end: usize,
    between: [u8; 2],
    ts: &mut i64,
    (lo, hi): (i64, i64),
    (ts_out, vals_out, n): (&mut [i64], &mut [f64], &mut usize),
) -> Uniform {
    let mask = match LEN {
        8 => u64::MAX,
        _ => (1u64 << (8 * LEN)) - 1,
    };
    let cont = HIGH & (mask >> 8);
    let stride = 2 + LEN + 1 + 8;
    // Position, ts and count held in locals, written back once (through the
    // references, each entry stored and reloaded all three).
    let (mut a, mut t, mut k) = (*at, *ts, *n);
    let len = ts_out.len().min(vals_out.len());
    let (ts_out, vals_out) = (&mut ts_out[..len], &mut vals_out[..len]);
    let how = loop {
        let Some(e) = data.get(a..a + stride).filter(|_| a + stride <= end) else {
            break Uniform::Other;
        };
        prefetch(e.as_ptr().wrapping_add(AHEAD));
        let w = u64::from_le_bytes(e[2..10].try_into().unwrap_or_default());
        if e[..2] != between || w & mask & HIGH != cont || e[2 + LEN] != NUM_BYTE {
            break Uniform::Other;
        }
        // The varint's 7-bit groups gathered (the masked-off bytes add nothing).
        t = t.wrapping_add(unzigzag(gather_groups::<LEN>(w & mask)));
        if t > hi {
            break Uniform::PastHi;
        }
        if t >= lo {
            if k == ts_out.len() {
                break Uniform::Full;
            }
            ts_out[k] = t;
            let v: [u8; 8] = e[3 + LEN..].try_into().unwrap_or_default();
            vals_out[k] = f64::from_le_bytes(v);
            k += 1;
        }
        a += stride;
    };
    (*at, *ts, *n) = (a, t, k);
    how
}

/// The value of a varint of `LEN` bytes (up to eight) held little-endian in `x`
/// (its continuation bits set, the bytes past its end zero): the 7-bit groups
/// moved together in pairs, 7 + 7, 14 + 14, then 28 + 28 bits, as far as `LEN`
/// needs. (A loop of eight shifts, skipped where the delta was the last entry's:
/// the compiler computed it for every entry and selected, 17% of an hour's
/// aggregation on points with jitter. Kept out of line and cold, the skip saved
/// 0.5% on points at a regular interval and cost 2% on jittered ones: every entry
/// now gathers.)
#[inline(always)]
fn gather_groups<const LEN: usize>(x: u64) -> u64 {
    let mut x = x & 0x7f7f_7f7f_7f7f_7f7f;
    if LEN > 1 {
        x = ((x & 0x7f00_7f00_7f00_7f00) >> 1) | (x & 0x007f_007f_007f_007f);
    }
    if LEN > 2 {
        x = ((x & 0x3fff_0000_3fff_0000) >> 2) | (x & 0x0000_3fff_0000_3fff);
    }
    if LEN > 4 {
        x = ((x & 0x0fff_ffff_0000_0000) >> 4) | (x & 0x0000_0000_0fff_ffff);
    }
    x
}

/// How far ahead of the entry being read its block's bytes are asked for (about 50
/// entries). The blocks are seldom in the CPU's caches (a day of 1,000 series is 90
/// MiB of blocks) and the hardware's prefetch does not keep up: with the first
/// `AHEAD` bytes asked for as a block is entered and these, a day's aggregation is
/// 25–45% faster.
const AHEAD: usize = 768;

/// Asks for the first `AHEAD` bytes of `block` and its restart offsets, the first
/// of its bytes [`Columns::load`] reads: `TableCursor` asks for them as it fetches a
/// block to load, or for the next block's while it reads one.
pub(crate) fn warm(block: &Block) {
    let data = block.entries();
    for at in (0..AHEAD.min(data.len())).step_by(64) {
        prefetch(data[at..].as_ptr());
    }
    let restarts = block.restart_bytes();
    for at in (0..restarts.len()).step_by(64) {
        prefetch(restarts[at..].as_ptr());
    }
}

/// The kind byte of a point that does not expire.
const NUM_BYTE: u8 = kind_byte(Kind::Num, false);

/// The ts of the entry at restart offset `at` (its whole key, then its ts from 0).
fn restart_ts(data: &[u8], mut at: usize) -> Option<i64> {
    let _shared = varint(data, &mut at)?;
    let len = usize::try_from(varint(data, &mut at)?).ok()?;
    at = at.checked_add(len)?;
    Some(unzigzag(varint(data, &mut at)?))
}

/// Whether `data[at..]` begins with `pat`: as one two-byte compare for a key
/// shorter than 128 bytes (a call to `memcmp` per entry took a fifth of the loop).
#[inline(always)]
fn matches_at(data: &[u8], at: usize, pat: &[u8]) -> bool {
    match (pat, data.get(at..at + 2)) {
        (&[a, b], Some(&[x, y])) => (a, b) == (x, y),
        _ => data.get(at..at + pat.len()) == Some(pat),
    }
}

#[cfg(test)]
mod tests;

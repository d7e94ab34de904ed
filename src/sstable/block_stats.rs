//! The statistics of a block holding only numeric points of one key, kept in its
//! index entry: what an aggregate needs of the block when its buckets cover it,
//! without reading it.
//!
//! Besides the whole block's summary ([`BlockStats`]), a block whose points fall in
//! two to four clock hours (ts divided by [`HOUR`], aligned to ts 0, as buckets are)
//! keeps the count, sum, min and max of each hour's share ([`HourPart`]). A block of
//! points a few seconds apart spans one to three hours, so a bucket of an hour (or a
//! day, or any whole number of hours) never covers it whole: without the parts, the
//! hourly maximum of a day of a thousand series read every block.
//!
//! ## Format
//! After an index block's entries (props.rs), only when some block has them:
//! - statistics: `count: varint`, then each as `block: varint` (its place in this
//!   index block, increasing), `flags: u8` (1: some point expires, and `min_expire`
//!   follows as a zigzag varint; 2: the values are scalars) and `sum`, `min`,
//!   `max`, `first`, `last`, `increase`: scalars (`numeric::put_scalar`: a decimal
//!   in 1 to 4 bytes as a rule, else 9) in format 5 tables, f64 bits (8 bytes
//!   little-endian) in formats 3 and 4;
//! - then, only when some block has hour parts (format 5 tables), the parts: `count:
//!   varint`, then each block as `block: varint` (increasing, a block with
//!   statistics), `n: varint` (2 to [`MOST_PARTS`]), and `n` parts, each `hour:
//!   varint` (its hour less the one before, at least 1; not written for the first,
//!   whose hour is that of the block's first ts), `count: varint` (at least 1; not
//!   written for the last, which has the rest of the block's entries), `sum`, `min`,
//!   `max` (scalars). The last part's hour is that of the block's last ts.

use super::props::BlockMeta;
use crate::numeric::{put_scalar, scalar};
use crate::point::{bucket_of, Summary};
use crate::util::coding::{put_varint, put_varint_i64, Decoder};

/// Statistics flags: some point expires (`min_expire` follows)...
const EXPIRES: u8 = 1;
/// ... and the values are scalars (`numeric::put_scalar`; format 5), not raw bits.
const SCALARS: u8 = 2;

/// An hour in ts units (microseconds): the span of an [`HourPart`].
pub(crate) const HOUR: i64 = 3_600_000_000;

/// A block keeps hour parts when its points fall in at most this many hours...
pub(crate) const MOST_PARTS: usize = 4;

/// ... and it holds at least this many points a part: 12 to 30 bytes a part then
/// cost at most about 0.2 bytes a point (points 10-15 s apart: about 0.05).
pub(crate) const PART_POINTS: u64 = 128;

/// The statistics of a block holding only numeric points of one key, `entries` of
/// them from `first_ts` to `last_ts` (its index entry's).
#[derive(Clone, Debug)]
pub(crate) struct BlockStats {
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    pub first: f64,
    pub last: f64,
    /// The counter increase from `first` to `last` (resets counted).
    pub increase: f64,
    /// The earliest expiry of its points (`i64::MAX`: none expires).
    pub min_expire: i64,
    /// Each clock hour's share of the points, in ts order, when they fall in two to
    /// `MOST_PARTS` hours (and number at least `PART_POINTS` a part on average).
    pub parts: Option<Box<[HourPart]>>,
}

/// The points of a block within one clock hour: `count` of them, with their sum,
/// min and max (summed in ts order, as a fold of the points does).
#[derive(Clone, Copy, Debug)]
pub(crate) struct HourPart {
    /// `ts.div_euclid(HOUR)` of its points.
    pub hour: i64,
    pub count: u64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
}

impl BlockStats {
    /// The summary of the points of the block whose index entry is `m`.
    pub(crate) fn summary(&self, m: &BlockMeta) -> Summary {
        Summary {
            count: u64::from(m.entries),
            sum: self.sum,
            min: self.min,
            max: self.max,
            first_ts: m.first_ts,
            first: self.first,
            last_ts: m.last_ts,
            last: self.last,
            increase: self.increase,
        }
    }

    /// The block's hour parts (none when it has none), for the block of index entry
    /// `m`.
    pub(crate) fn parts<'a>(&'a self, m: &BlockMeta) -> Parts<'a> {
        Parts {
            parts: self.parts.as_deref().unwrap_or(&[]),
            first_ts: m.first_ts,
            last_ts: m.last_ts,
        }
    }

    /// Heap bytes beyond the struct itself.
    pub(crate) fn heap(&self) -> usize {
        self.parts
            .as_ref()
            .map_or(0, |p| std::mem::size_of_val(&p[..]))
    }

    fn values(&self) -> [f64; 6] {
        [
            self.sum,
            self.min,
            self.max,
            self.first,
            self.last,
            self.increase,
        ]
    }
}

/// Bit for bit: NaN payloads and signed zeros are kept and compared.
impl PartialEq for BlockStats {
    fn eq(&self, o: &Self) -> bool {
        let bits = |s: &Self| s.values().map(f64::to_bits);
        let part = |p: &HourPart| (p.hour, p.count, [p.sum, p.min, p.max].map(f64::to_bits));
        let parts = |s: &Self| {
            s.parts
                .as_ref()
                .map(|ps| ps.iter().map(part).collect::<Vec<_>>())
        };
        bits(self) == bits(o) && self.min_expire == o.min_expire && parts(self) == parts(o)
    }
}

impl Eq for BlockStats {}

/// A block's hour parts with its ts range ([`BlockStats::parts`]).
#[derive(Clone, Copy)]
pub(crate) struct Parts<'a> {
    parts: &'a [HourPart],
    first_ts: i64,
    last_ts: i64,
}

impl Parts<'_> {
    pub(crate) fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// Each part as a summary of count, sum, min and max, its ts range the part of
    /// the block's within its hour (its points lie in it; its first and last points
    /// are not kept: `first`, `last` and `increase` are NaN).
    pub(crate) fn summaries(&self) -> impl Iterator<Item = Summary> + '_ {
        self.parts.iter().map(|p| {
            // (`hour * HOUR` saturates only below i64::MIN, inside the hour.)
            let (start, end) = bucket_of(p.hour.saturating_mul(HOUR), HOUR);
            Summary {
                count: p.count,
                sum: p.sum,
                min: p.min,
                max: p.max,
                first_ts: start.max(self.first_ts),
                first: f64::NAN,
                last_ts: end.min(self.last_ts),
                last: f64::NAN,
                increase: f64::NAN,
            }
        })
    }
}

/// Builds a block's hour parts point by point (the table builder's).
#[derive(Default)]
pub(crate) struct PartsAcc {
    parts: Vec<HourPart>,
    /// The last ts of the current part's hour.
    end: i64,
    /// The points fell in more than `MOST_PARTS` hours.
    over: bool,
}

impl PartsAcc {
    /// Adds the next point of the block, in ts order.
    #[inline]
    pub(crate) fn push(&mut self, ts: i64, v: f64) {
        if self.over {
            return;
        }
        if let Some(p) = self.parts.last_mut().filter(|_| ts <= self.end) {
            p.count += 1;
            p.sum += v;
            p.min = p.min.min(v);
            p.max = p.max.max(v);
        } else if self.parts.len() == MOST_PARTS {
            self.over = true;
        } else {
            let hour = ts.div_euclid(HOUR);
            self.end = bucket_of(ts, HOUR).1;
            self.parts.push(HourPart {
                hour,
                count: 1,
                sum: v,
                min: v,
                max: v,
            });
        }
    }

    /// The parts to keep for a block of `count` points, if any; leaves it empty.
    pub(crate) fn take(&mut self, count: u64) -> Option<Box<[HourPart]>> {
        let acc = std::mem::take(self);
        let n = acc.parts.len() as u64;
        (!acc.over && n >= 2 && count >= PART_POINTS * n).then(|| acc.parts.into_boxed_slice())
    }
}

/// Appends the statistics sections of `metas` (none when no block has statistics).
pub(crate) fn encode_stats(buf: &mut Vec<u8>, metas: &[BlockMeta]) {
    let with = |f: fn(&BlockStats) -> bool| {
        metas
            .iter()
            .enumerate()
            .filter_map(move |(i, m)| Some((i, m.stats.as_deref().filter(|s| f(s))?)))
    };
    let with_stats = with(|_| true).count();
    if with_stats == 0 {
        return;
    }
    put_varint(buf, with_stats as u64);
    for (i, s) in with(|_| true) {
        put_varint(buf, i as u64);
        let expires = s.min_expire != i64::MAX;
        buf.push(SCALARS | expires as u8);
        if expires {
            put_varint_i64(buf, s.min_expire);
        }
        for v in s.values() {
            put_scalar(buf, v);
        }
    }
    let with_parts = with(|s| s.parts.is_some()).count();
    if with_parts == 0 {
        return;
    }
    put_varint(buf, with_parts as u64);
    for (i, s) in with(|s| s.parts.is_some()) {
        let parts = s.parts.as_deref().unwrap_or(&[]);
        // What the decoder derives from the block's entry (decode_parts).
        let m = &metas[i];
        debug_assert_eq!(
            parts.first().map(|p| p.hour),
            Some(m.first_ts.div_euclid(HOUR))
        );
        debug_assert_eq!(
            parts.last().map(|p| p.hour),
            Some(m.last_ts.div_euclid(HOUR))
        );
        debug_assert_eq!(
            parts.iter().map(|p| p.count).sum::<u64>(),
            u64::from(m.entries)
        );
        put_varint(buf, i as u64);
        encode_parts(buf, parts);
    }
}

/// Appends one block's parts (after its number).
fn encode_parts(buf: &mut Vec<u8>, parts: &[HourPart]) {
    put_varint(buf, parts.len() as u64);
    let mut prev = parts.first().map_or(0, |p| p.hour);
    for (k, p) in parts.iter().enumerate() {
        // The first part's hour is its first ts's; the last part's count is what
        // the others leave of the block's.
        if k > 0 {
            put_varint(buf, p.hour.wrapping_sub(prev) as u64);
        }
        prev = p.hour;
        if k + 1 < parts.len() {
            put_varint(buf, p.count);
        }
        for v in [p.sum, p.min, p.max] {
            put_scalar(buf, v);
        }
    }
}

/// Reads the statistics sections left in `d` into `metas`; `None` when malformed.
pub(crate) fn decode_stats(mut d: Decoder<'_>, metas: &mut [BlockMeta]) -> Option<()> {
    if d.is_empty() {
        return Some(());
    }
    let n = d.varint_usize()?;
    let mut prev = None;
    for _ in 0..n {
        let i = next_block(&mut d, &mut prev)?;
        let flags = d.u8()?;
        if flags & !(SCALARS | EXPIRES) != 0 {
            return None;
        }
        let min_expire = match flags & EXPIRES {
            0 => i64::MAX,
            _ => d.varint_i64()?,
        };
        let mut v = [0f64; 6];
        for x in &mut v {
            *x = match flags & SCALARS {
                0 => f64::from_bits(d.u64()?),
                _ => scalar(&mut d)?,
            };
        }
        let [sum, min, max, first, last, increase] = v;
        metas.get_mut(i)?.stats = Some(Box::new(BlockStats {
            sum,
            min,
            max,
            first,
            last,
            increase,
            min_expire,
            parts: None,
        }));
    }
    if d.is_empty() {
        return Some(());
    }
    // (The encoder writes the section only for some parts.)
    let n = d.varint_usize().filter(|&n| n > 0)?;
    let mut prev = None;
    for _ in 0..n {
        let i = next_block(&mut d, &mut prev)?;
        let m = metas.get_mut(i)?;
        let parts = decode_parts(&mut d, m)?;
        m.stats.as_mut()?.parts = Some(parts);
    }
    d.is_empty().then_some(())
}

/// The next block number of a section, increasing (`prev`: the one before).
fn next_block(d: &mut Decoder<'_>, prev: &mut Option<usize>) -> Option<usize> {
    let i = d.varint_usize()?;
    if prev.is_some_and(|p| i <= p) {
        return None;
    }
    *prev = Some(i);
    Some(i)
}

/// One block's parts, checked against its index entry `m`: two to `MOST_PARTS`,
/// increasing hours from its first ts's to its last ts's, each of at least one of
/// its entries.
fn decode_parts(d: &mut Decoder<'_>, m: &BlockMeta) -> Option<Box<[HourPart]>> {
    let n = d.varint_usize()?;
    if !(2..=MOST_PARTS).contains(&n) {
        return None;
    }
    let mut parts = Vec::with_capacity(n);
    let (mut hour, mut total) = (m.first_ts.div_euclid(HOUR), 0u64);
    for k in 0..n {
        if k > 0 {
            let step = i64::try_from(d.varint()?).ok().filter(|&s| s > 0)?;
            hour = hour.checked_add(step)?;
        }
        let count = match k + 1 < n {
            true => d.varint()?,
            false => u64::from(m.entries).checked_sub(total)?,
        };
        if count == 0 {
            return None;
        }
        total = total.checked_add(count)?;
        let mut v = [0f64; 3];
        for x in &mut v {
            *x = scalar(d)?;
        }
        let [sum, min, max] = v;
        parts.push(HourPart {
            hour,
            count,
            sum,
            min,
            max,
        });
    }
    let fits = hour == m.last_ts.div_euclid(HOUR);
    fits.then(|| parts.into_boxed_slice())
}

#[cfg(test)]
mod tests;

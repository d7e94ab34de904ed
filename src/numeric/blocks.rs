//! Mini-blocks: the bit-packed layer under the integer codec ([`ints`](super::ints)),
//! a patched frame of reference. The numbers `x` are cut into blocks of up to
//! [`BLOCK`]; each block is:
//! - its reference `r`: bit `0` (the previous block's, 0 before the first) or bit `1`,
//!   `L - 1` in 6 bits and `zigzag(r - previous)` in `L` bits;
//! - `w` in 7 bits (0..=64); bit `1` when it has exceptions, then `c - 1` and
//!   `we - 1` in 6 bits each and a bit for how positions are given: `0`, each
//!   exception is its `position` (6 bits) and `zigzag(x - r)` (`we` bits); `1`, a
//!   bitmap of the block (one bit per number, set for an exception) and then the
//!   `c` values of `we` bits (when `6c` exceeds the block's length);
//! - one `w`-bit field per number: `x - r` (wrapping), 0 for an exception.
//!
//! ## Why this shape
//! - **Frame of reference with bit packing** instead of Gorilla's per-value prefix
//!   codes: a regular interval costs 0 bits per point (plus a 9-bit header per 64),
//!   where Gorilla spends 1; noisy values take exactly the width of their spread,
//!   not the next bucket. Bit packing also decodes without a branch per value.
//! - **Exceptions**: a counter reset, a spike or a missed scrape would otherwise
//!   widen all 64 numbers of its block; as an exception it costs `6 + we` bits (or
//!   a bit per number in a bitmap plus `we`, when many change: a gauge that moves
//!   on a third of the scrapes). The reference is the block's smallest number or,
//!   when outliers lie below its bulk, the bulk's smallest, so low outliers can be
//!   exceptions too (a number below the reference wraps to a 64-bit field and is
//!   always one). A level series with jumps both ways (free disk space, a memory
//!   gauge) is then a block of zero-width deltas and a few exceptions.
//! - **Planning cost**: most blocks need only their smallest and largest number
//!   (which the integer codec gathers while building its sequences); exceptions
//!   are planned only when the block's width is more than 3 bits over the median
//!   absolute deviation of nine sampled numbers. Planning them more eagerly (1 bit
//!   over the quartiles' spread, about 2 over the deviation) saved another 0.5-1.5%
//!   on the measured workloads but cost a fifth of the encoding speed.

use super::bits::{bit_len, BitReader, BitWriter};
use super::Malformed;
use crate::util::coding::{unzigzag, zigzag};

const WHAT: &str = "integer stream";

/// Numbers per mini-block: a 9-bit header per 64 numbers is 0.14 bits each, and an
/// outlier widens at most 64 fields.
pub(crate) const BLOCK: usize = 64;

/// A 64-bit slot the decoder can write an `i64` into: the `i64` itself, or its bit
/// pattern in an `f64` (the decimal codec decodes its integers in the caller's
/// value buffer, then converts them in place, so it allocates nothing).
pub(crate) trait Word: Copy {
    fn from_i64(v: i64) -> Self;
    fn to_i64(self) -> i64;
}

impl Word for i64 {
    #[inline]
    fn from_i64(v: i64) -> Self {
        v
    }
    #[inline]
    fn to_i64(self) -> i64 {
        self
    }
}

impl Word for f64 {
    #[inline]
    fn from_i64(v: i64) -> Self {
        f64::from_bits(v as u64)
    }
    #[inline]
    fn to_i64(self) -> i64 {
        self.to_bits() as i64
    }
}

/// How one mini-block is written.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BlockPlan {
    reference: i64,
    width: u32,
    /// Exceptions: how many, and the width of their `zigzag(x - r)` fields.
    exceptions: u32,
    exception_width: u32,
    bits: u64,
}

/// Exceptions' cost: their header, positions (a list of 6-bit positions or a bitmap
/// of the block, whichever is smaller) and values.
fn exception_bits(count: u32, width: u32, block: u64) -> u64 {
    13 + (6 * u64::from(count)).min(block) + u64::from(count) * u64::from(width)
}

/// Sorts a few numbers (insertion sort: no call, few moves for nine).
fn sort_small(s: &mut [i64]) {
    for i in 1..s.len() {
        let x = s[i];
        let mut j = i;
        while j > 0 && s[j - 1] > x {
            s[j] = s[j - 1];
            j -= 1;
        }
        s[j] = x;
    }
}

fn reference_bits(r: i64, prev: i64) -> u64 {
    if r == prev {
        1
    } else {
        7 + u64::from(bit_len(zigzag(r.wrapping_sub(prev))))
    }
}

/// The cheapest width and exceptions for `xs` against reference `r`.
fn plan_with(xs: &[i64], r: i64, prev: i64) -> BlockPlan {
    // How many numbers need each field width (two interleaved tables, so that
    // runs of equal widths do not wait on each other's increments); width 64 is a
    // number below `r`, whose zigzag width is tracked apart.
    let mut count = [[0u32; 65]; 2];
    let mut below = 0u32;
    for (i, &x) in xs.iter().enumerate() {
        let d = x.wrapping_sub(r);
        count[i & 1][bit_len(d as u64) as usize] += 1;
        if d < 0 {
            below = below.max(bit_len(zigzag(d)));
        }
    }
    let count: [u32; 65] = std::array::from_fn(|b| count[0][b] + count[1][b]);
    let m = xs.len() as u64;
    let fixed = reference_bits(r, prev) + 8;
    let mut best = BlockPlan {
        reference: r,
        width: 64,
        exceptions: 0,
        exception_width: 0,
        bits: fixed + 64 * m,
    };
    // Walking the width down from the widest non-negative number, the wider ones
    // become exceptions (a non-negative `d` of width b has a zigzag of width b + 1).
    let top = (0..64).rev().find(|&b| count[b] > 0).unwrap_or(0);
    let (mut exc, mut exc_width) = (count[64], below);
    for w in (0..=top).rev() {
        if w < top && count[w + 1] > 0 {
            exc += count[w + 1];
            exc_width = exc_width.max(w as u32 + 2);
        }
        let mut bits = fixed + m * w as u64;
        if exc > 0 {
            bits += exception_bits(exc, exc_width, m);
        }
        if bits < best.bits {
            best = BlockPlan {
                reference: r,
                width: w as u32,
                exceptions: exc,
                exception_width: exc_width,
                bits,
            };
        }
    }
    best
}

/// The best plan for one block. Plain frame of reference (the smallest number as
/// reference, no exceptions) unless its width is out of proportion to the spread
/// of the block's middle, sampled: then outliers widen it, and exceptions are
/// planned, against the smallest number and against the smallest of the bulk
/// (making outliers below the bulk exceptions as well as those above).
fn plan_block(xs: &[i64], (lo, hi): (i64, i64), prev: i64) -> BlockPlan {
    let m = xs.len();
    let width = bit_len(hi.wrapping_sub(lo) as u64);
    let plain = BlockPlan {
        reference: lo,
        width,
        exceptions: 0,
        exception_width: 0,
        bits: reference_bits(lo, prev) + 8 + m as u64 * u64::from(width),
    };
    if width <= 2 {
        return plain;
    }
    // The bulk's centre and spread from nine evenly spread samples: their median
    // and median absolute deviation, which hold with up to four outliers among
    // them (quartiles did not: where a third of the numbers jump, three or four
    // samples often fall on jumps the same way).
    let mut s: [i64; 9] = std::array::from_fn(|k| xs[k * (m - 1) / 8]);
    sort_small(&mut s);
    let median = i128::from(s[4]);
    let mut dev: [i64; 9] = std::array::from_fn(|k| {
        (i128::from(s[k]) - median)
            .unsigned_abs()
            .min(i64::MAX as u128) as i64
    });
    sort_small(&mut dev);
    let mad = i128::from(dev[4]);
    // A normal or uniform bulk spans 4 to 8 times its MAD in 64 numbers.
    if width <= bit_len(mad as u64) + 3 {
        return plain;
    }
    let best = plan_with(xs, lo, prev);
    // Tukey's lower fence, Q1 - 1.5 IQR, is about 4 MADs below the median.
    let fence = median - 4 * mad;
    let bulk = xs
        .iter()
        .filter(|&&x| i128::from(x) >= fence)
        .min()
        .copied()
        .unwrap_or(lo);
    if bulk == lo {
        return best;
    }
    let p = plan_with(xs, bulk, prev);
    if p.bits < best.bits {
        p
    } else {
        best
    }
}

/// Plans every block of `xs`, given each block's smallest and largest number.
pub(crate) fn plan_all(xs: &[i64], bounds: &[(i64, i64)], plans: &mut Vec<BlockPlan>) -> u64 {
    plans.clear();
    let mut prev = 0;
    let mut bits = 0;
    for (block, &b) in xs.chunks(BLOCK).zip(bounds) {
        let p = plan_block(block, b, prev);
        bits += p.bits;
        prev = p.reference;
        plans.push(p);
    }
    bits
}

pub(crate) fn write_blocks(xs: &[i64], plans: &[BlockPlan], out: &mut Vec<u8>) {
    let mut w = BitWriter::new(out);
    let mut prev = 0i64;
    for (block, p) in xs.chunks(BLOCK).zip(plans) {
        let r = p.reference;
        if r == prev {
            w.bit(false);
        } else {
            let z = zigzag(r.wrapping_sub(prev));
            let len = bit_len(z);
            w.write(1 | u64::from(len - 1) << 1, 7);
            w.write(z, len);
        }
        prev = r;
        let width = p.width;
        w.write(u64::from(width) | u64::from(p.exceptions > 0) << 7, 8);
        let is_exception = |d: u64| width < 64 && d >> width != 0;
        if p.exceptions > 0 {
            let bitmap = 6 * p.exceptions as usize > block.len();
            w.write(
                u64::from(p.exceptions - 1)
                    | u64::from(p.exception_width - 1) << 6
                    | u64::from(bitmap) << 12,
                13,
            );
            if bitmap {
                let mut map = 0u64;
                for (i, &x) in block.iter().enumerate() {
                    map |= u64::from(is_exception(x.wrapping_sub(r) as u64)) << i;
                }
                w.write(map, block.len() as u32);
            }
            for (i, &x) in block.iter().enumerate() {
                let d = x.wrapping_sub(r);
                if is_exception(d as u64) {
                    if !bitmap {
                        w.write(i as u64, 6);
                    }
                    w.write(zigzag(d), p.exception_width);
                }
            }
        }
        for &x in block {
            let d = x.wrapping_sub(r) as u64;
            w.write(if is_exception(d) { 0 } else { d }, width);
        }
    }
    w.finish();
}

/// Reads mini-blocks filling `xs` with the numbers they hold.
pub(crate) fn read_blocks<W: Word>(r: &mut BitReader<'_>, xs: &mut [W]) -> Result<(), Malformed> {
    let mut reference = 0i64;
    let mut exceptions = [(0usize, 0i64); BLOCK];
    for block in xs.chunks_mut(BLOCK) {
        if r.bit() {
            let len = r.read(6) as u32 + 1;
            reference = reference.wrapping_add(unzigzag(r.read(len)));
        }
        let head = r.read(8);
        let width = (head & 0x7f) as u32;
        if width > 64 {
            return Err(Malformed(WHAT, "field width over 64"));
        }
        let mut count = 0;
        if head >> 7 != 0 {
            let e = r.read(13);
            count = (e & 0x3f) as usize + 1;
            let ew = (e >> 6 & 0x3f) as u32 + 1;
            if e >> 12 != 0 {
                let mut map = r.read(block.len() as u32);
                if map.count_ones() as usize != count {
                    return Err(Malformed(WHAT, "exception bitmap disagrees with its count"));
                }
                for slot in &mut exceptions[..count] {
                    let pos = map.trailing_zeros() as usize;
                    map &= map - 1;
                    *slot = (pos, unzigzag(r.read(ew)));
                }
            } else {
                for slot in &mut exceptions[..count] {
                    let pos = r.read(6) as usize;
                    if pos >= block.len() {
                        return Err(Malformed(WHAT, "exception outside its block"));
                    }
                    *slot = (pos, unzigzag(r.read(ew)));
                }
            }
        }
        for x in block.iter_mut() {
            *x = W::from_i64(reference.wrapping_add(r.read(width) as i64));
        }
        for &(pos, d) in &exceptions[..count] {
            block[pos] = W::from_i64(reference.wrapping_add(d));
        }
        if r.overrun() {
            return Err(Malformed(WHAT, "truncated mini-block"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_sort() {
        let mut rng = crate::util::test_rng("sort_small");
        for _ in 0..1000 {
            let mut s: [i64; 9] = std::array::from_fn(|_| rng.i64(-3..3));
            let mut want = s;
            want.sort();
            sort_small(&mut s);
            assert_eq!(s, want);
        }
    }
}

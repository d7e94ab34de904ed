//! The integer sequence codec: any `i64` sequence, bit-exact, with wrapping
//! arithmetic throughout. Timestamps use it directly and the decimal codec uses it
//! for its scaled integers.
//!
//! ## Format
//! `first: zigzag varint`; for two or more values then `mode: u8` (bits 0-1 the
//! order, 0, 1 or 2; bit 2 set when a scale follows; other bits 0), `scale: varint`
//! (at least 2; absent means 1) and, for order 2 only, `first_step: zigzag varint`;
//! then the numbers of the chosen order as mini-blocks ([`blocks`](super::blocks)),
//! a bit stream to the end of the section.
//!
//! Value `i` is `first + q_i * scale` (wrapping), with `q_0 = 0`. The stream holds
//! the `q_i` themselves (order 0), their deltas (order 1), or their
//! delta-of-deltas (order 2, the first delta being `first_step`).
//!
//! ## Why this shape
//! - **Scale**: the gcd of the deltas. Timestamps are usually multiples of a unit
//!   coarser than the µs they are stored in (ms from Prometheus-style scrapers, whole
//!   seconds, the interval itself), and integer gauges of a page or block size
//!   (memory in KiB multiples); dividing it out saves its log2 in every number. The
//!   division is exact, so it is a shift and a multiply by the modular inverse.
//! - **Order**: a regular clock or a steady counter is constant in its deltas; a
//!   noisy but level gauge is smallest as itself (deltas double its noise); a
//!   smoothly accelerating one in its delta-of-deltas, as Gorilla's timestamps. The
//!   encoder plans all three and keeps the smallest (measured: deltas win ~90% of
//!   generated runs, delta-of-deltas the smoothed gauges, values a third of the
//!   recorded weather series).

use super::bits::BitReader;
use super::blocks::{plan_all, read_blocks, write_blocks, Word, BLOCK};
use super::Malformed;
use crate::util::coding::{put_varint, put_varint_i64, Decoder};

const WHAT: &str = "integer stream";

/// Exact division by a fixed divisor: a shift for its power of two and a multiply
/// by the modular inverse of its odd part (exact whenever the divisor divides).
#[derive(Clone, Copy)]
struct Divisor {
    shift: u32,
    inverse: u64,
    /// `u64::MAX / odd`: `a` is a multiple of the odd part iff `a * inverse <= limit`.
    limit: u64,
}

impl Divisor {
    fn new(d: u64) -> Self {
        let shift = d.trailing_zeros();
        let odd = d >> shift;
        // Newton's iteration doubles the correct low bits: 3 (odd * odd = 1 mod 8)
        // become 6, 12, 24, 48, 96.
        let mut inverse = odd;
        for _ in 0..5 {
            inverse = inverse.wrapping_mul(2u64.wrapping_sub(odd.wrapping_mul(inverse)));
        }
        Divisor {
            shift,
            inverse,
            limit: u64::MAX / odd,
        }
    }

    #[inline]
    fn divides(&self, a: u64) -> bool {
        a.trailing_zeros() >= self.shift
            && (a >> self.shift).wrapping_mul(self.inverse) <= self.limit
    }

    /// `d / divisor` for a multiple `d` of it (two's complement, so negatives too).
    #[inline]
    fn div_exact(&self, d: i64) -> i64 {
        (d >> self.shift).wrapping_mul(self.inverse as i64)
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The gcd of the deltas' magnitudes (1 when all are 0). Most deltas are a multiple
/// of the gcd so far, which the divisor tests with a multiply.
fn scale_of(deltas: &[i64]) -> u64 {
    let mut g = 0u64;
    let mut div: Option<Divisor> = None;
    for &d in deltas {
        let a = d.unsigned_abs();
        if a == 0 || div.is_some_and(|dv| dv.divides(a)) {
            continue;
        }
        g = gcd(g, a);
        if g == 1 {
            return 1;
        }
        div = Some(Divisor::new(g));
    }
    g.max(1)
}

/// Appends the encoding of `vals` to `out`.
pub(crate) fn encode(vals: &[i64], out: &mut Vec<u8>) {
    let Some(&first) = vals.first() else { return };
    put_varint_i64(out, first);
    let n = vals.len();
    if n == 1 {
        return;
    }
    // Three sequences side by side: q (order 0), deltas (1), delta-of-deltas (2).
    let m = n - 1;
    let mut seqs = vec![0i64; 3 * m];
    let (q, rest) = seqs.split_at_mut(m);
    let (d1, d2) = rest.split_at_mut(m);
    for (d, pair) in d1.iter_mut().zip(vals.windows(2)) {
        *d = pair[1].wrapping_sub(pair[0]);
    }
    let scale = scale_of(d1);
    if scale != 1 {
        let div = Divisor::new(scale);
        for d in d1.iter_mut() {
            *d = div.div_exact(*d);
        }
    }
    // One pass builds q and the delta-of-deltas and each block's smallest and
    // largest number in all three orders (what most blocks' plans need).
    let blocks = m.div_ceil(BLOCK);
    let mut bounds = vec![(i64::MAX, i64::MIN); 3 * blocks];
    let (b0, rest) = bounds.split_at_mut(blocks);
    let (b1, b2) = rest.split_at_mut(blocks);
    let widen = |b: &mut (i64, i64), x: i64| *b = (b.0.min(x), b.1.max(x));
    let mut acc = 0i64;
    for i in 0..m {
        let d = d1[i];
        acc = acc.wrapping_add(d);
        q[i] = acc;
        widen(&mut b0[i / BLOCK], acc);
        widen(&mut b1[i / BLOCK], d);
        if i > 0 {
            let dd = d.wrapping_sub(d1[i - 1]);
            d2[i - 1] = dd;
            widen(&mut b2[(i - 1) / BLOCK], dd);
        }
    }
    let d2 = &d2[..m - 1];
    let step_bytes = |s: i64| {
        let mut tmp = Vec::with_capacity(10);
        put_varint_i64(&mut tmp, s);
        8 * tmp.len() as u64
    };
    let mut plans = Vec::with_capacity(m.div_ceil(BLOCK));
    let mut best_plans = Vec::new();
    let mut best = (u64::MAX, 0u8);
    for (order, xs, b, extra) in [
        (1u8, &*d1, &*b1, 0),
        (0, &*q, &*b0, 0),
        (2, d2, &*b2, step_bytes(d1[0])),
    ] {
        let bits = plan_all(xs, b, &mut plans) + extra;
        if bits < best.0 {
            best = (bits, order);
            std::mem::swap(&mut best_plans, &mut plans);
        }
    }
    out.push(best.1 | u8::from(scale != 1) << 2);
    if scale != 1 {
        put_varint(out, scale);
    }
    let xs: &[i64] = match best.1 {
        0 => q,
        1 => d1,
        _ => {
            put_varint_i64(out, d1[0]);
            d2
        }
    };
    write_blocks(xs, &best_plans, out);
}

/// Decodes exactly `out.len()` values from the whole of `buf`.
pub(crate) fn decode<W: Word>(buf: &[u8], out: &mut [W]) -> Result<(), Malformed> {
    let n = out.len();
    if n == 0 {
        return if buf.is_empty() {
            Ok(())
        } else {
            Err(Malformed(WHAT, "bytes in an empty stream"))
        };
    }
    let bad = |detail| Malformed(WHAT, detail);
    let mut d = Decoder::new(buf);
    let first = d.varint_i64().ok_or(bad("truncated first value"))?;
    out[0] = W::from_i64(first);
    if n == 1 {
        return if d.is_empty() {
            Ok(())
        } else {
            Err(bad("bytes after a one-value stream"))
        };
    }
    let mode = d.u8().ok_or(bad("truncated mode"))?;
    let order = mode & 3;
    let scale = match mode >> 2 {
        0 => 1,
        1 => d
            .varint()
            .filter(|&s| s >= 2)
            .ok_or(bad("truncated or invalid scale"))?,
        _ => return Err(bad("unknown mode bits")),
    };
    let start = match order {
        0 | 1 => 1,
        2 => {
            out[1] = W::from_i64(d.varint_i64().ok_or(bad("truncated first step"))?);
            2
        }
        _ => return Err(bad("unknown order")),
    };
    let rest = buf.get(d.pos()..).ok_or(bad("truncated"))?;
    let mut r = BitReader::new(rest);
    read_blocks(&mut r, &mut out[start..])?;
    r.check_end(WHAT)?;
    let scale = scale as i64;
    let mut q = 0i64;
    match order {
        0 => {
            for v in &mut out[1..] {
                *v = W::from_i64(first.wrapping_add(v.to_i64().wrapping_mul(scale)));
            }
        }
        1 => {
            for v in &mut out[1..] {
                q = q.wrapping_add(v.to_i64());
                *v = W::from_i64(first.wrapping_add(q.wrapping_mul(scale)));
            }
        }
        _ => {
            let mut step = 0i64;
            for (i, v) in out[1..].iter_mut().enumerate() {
                let x = v.to_i64();
                step = if i == 0 { x } else { step.wrapping_add(x) };
                q = q.wrapping_add(step);
                *v = W::from_i64(first.wrapping_add(q.wrapping_mul(scale)));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(vals: &[i64]) -> usize {
        let mut buf = Vec::new();
        encode(vals, &mut buf);
        let mut out = vec![0; vals.len()];
        decode(&buf, &mut out).unwrap_or_else(|e| panic!("{e:?} for {vals:?}"));
        assert_eq!(out, vals);
        buf.len()
    }

    #[test]
    fn divisor_divides_exactly() {
        for d in [1u64, 2, 3, 10, 1000, 4096, 15_000_000, 1 << 63, u64::MAX] {
            let div = Divisor::new(d);
            for k in [0i64, 1, -1, 7, -123_456, i64::MAX / 16_000_000] {
                let x = k.wrapping_mul(d as i64);
                // Modulo 2^64 always; exactly when the multiple does not wrap.
                assert_eq!(div.div_exact(x).wrapping_mul(d as i64), x, "{x} / {d}");
                if d <= 15_000_000 {
                    assert_eq!(div.div_exact(x), k, "{x} / {d}");
                    assert!(div.divides(x.unsigned_abs()), "{d} divides {x}");
                }
            }
            if d > 1 && d < u64::MAX {
                assert!(!div.divides(d + 1));
            }
        }
        assert_eq!(scale_of(&[15, 30, -45, 0]), 15);
        assert_eq!(scale_of(&[0, 0]), 1);
        assert_eq!(scale_of(&[i64::MIN]), 1 << 63);
    }

    #[test]
    fn edge_sequences_round_trip() {
        round_trip(&[]);
        round_trip(&[i64::MIN]);
        round_trip(&[i64::MIN, i64::MAX, i64::MIN, 0, -1, i64::MAX]);
        round_trip(&[5, 5, 5]);
        round_trip(&[i64::MAX, i64::MIN]);
        round_trip(&(0..1000).map(|i| i * i * 7919 - 3).collect::<Vec<_>>());
        round_trip(&(0..300).map(|i| (i % 7) << 62).collect::<Vec<_>>());
    }

    #[test]
    fn regular_and_constant_sequences_cost_almost_nothing() {
        let ts: Vec<i64> = (0..1000)
            .map(|i| 1_700_000_000_000_000 + i * 15_000_000)
            .collect();
        let bytes = round_trip(&ts);
        assert!(bytes < 40, "regular clock: {bytes} bytes for 1000");
        let mut gap = ts.clone();
        for t in &mut gap[500..] {
            *t += 15_000_000; // one missed scrape
        }
        let bytes = round_trip(&gap);
        assert!(bytes < 45, "one gap: {bytes} bytes");
        let bytes = round_trip(&[42; 1000]);
        assert!(bytes < 30, "constant: {bytes} bytes");
    }

    #[test]
    fn sparse_jumps_both_ways_become_exceptions() {
        let mut rng = crate::util::test_rng("ints jumps");
        // A level jumping by up to ±100,000 (18-bit deltas) on one step in 20
        // (exceptions by position) or one in 3 (by bitmap); plain frame of
        // reference would take 18 bits a number, 2,250 bytes.
        for (every, max_bytes) in [(20, 400), (3, 1200)] {
            let mut v = 1i64 << 40;
            let vals: Vec<i64> = (0..1000)
                .map(|i| {
                    if i % every == 0 {
                        v += rng.i64(-100_000..100_000);
                    }
                    v
                })
                .collect();
            let bytes = round_trip(&vals);
            assert!(bytes < max_bytes, "a jump in {every}: {bytes} bytes");
        }
    }

    #[test]
    fn random_sequences_round_trip() {
        let mut rng = crate::util::test_rng("ints");
        for _ in 0..300 {
            let n = rng.usize(0..400);
            let kind = rng.u8(0..5);
            let mut v = rng.i64(..);
            let vals: Vec<i64> = (0..n)
                .map(|_| {
                    v = match kind {
                        0 => rng.i64(..),
                        1 => v.wrapping_add(rng.i64(-3..=3) * 1000),
                        2 => v.wrapping_add(if rng.u8(..) == 0 { rng.i64(..) } else { 10 }),
                        3 => rng.i64(-2..=2),
                        _ => v ^ 1 << rng.u32(0..64),
                    };
                    v
                })
                .collect();
            round_trip(&vals);
        }
    }

    #[test]
    fn corrupt_streams_fail_or_decode_but_never_panic() {
        let vals: Vec<i64> = (0..200).map(|i| i * 1000 + (i % 3)).collect();
        let mut buf = Vec::new();
        encode(&vals, &mut buf);
        let mut out = vec![0; vals.len()];
        for cut in 0..buf.len() {
            assert!(decode(&buf[..cut], &mut out).is_err(), "cut at {cut}");
        }
        for i in 0..buf.len() * 8 {
            let mut b = buf.clone();
            b[i / 8] ^= 1 << (i % 8);
            let _ = decode(&b, &mut out);
        }
    }
}

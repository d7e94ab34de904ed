//! The decimal codec, after ALP (Afroozeh, Kuffó, Boncz, SIGMOD 2024): most metric
//! values were decimals before they were doubles (a load average of 0.42, a
//! temperature of 21.5, a byte count), and a decimal with `e` digits after the point
//! is an integer `n` with `v = n / 10^e`. Stored as integers, they compress with the
//! integer codec ([`ints`](super::ints)) far better than their bit patterns do with
//! XOR: a temperature moving by tenths takes a few bits a point, a constant 0.14.
//!
//! **Exactness.** A value is encoded as `n = round(v * 10^e)` only if
//! `(n as f64) / 10^e` gives back `v` bit for bit (and `|v * 10^e| < 2^51`, so `n` is
//! exact as a double and the fast rounding holds); the decoder computes exactly that
//! expression. Division by an exact power of ten (`e <= 18 < 22`) is correctly
//! rounded, so every double that is the nearest to a decimal of at most `e`
//! fractional digits passes: what was parsed from "0.1" comes back from `1 / 10`.
//! (ALP multiplies by an inexact `10^-e` instead, which is faster but fails more
//! values; with exceptions both are exact, division just needs fewer of them.)
//! Everything else is an **exception**, stored raw: NaN, ±inf, -0.0, values
//! carrying binary noise such as `0.1 + 0.2`, and values too large. Each
//! exception's slot in the integer sequence repeats its neighbour's integer, so
//! it does not disturb the deltas around it.
//!
//! **Choosing `e`** per run, from up to 32 values spread over it: each sample's
//! smallest exponent that fits, then the candidate that fits the most samples
//! (the smaller on ties). A run where most samples fit no exponent is not tried.
//! ALP's second factor (dividing out trailing zeros) is left to the integer codec,
//! whose gcd scaling removes any common factor, powers of ten included.
//!
//! ## Format
//! `exceptions << 5 | e: varint` (`e` in 0..=18), then per exception in position order
//! `gap: varint` (positions skipped since the previous one) and its raw
//! `bits: u64` (little-endian), then the integer stream of all `n` to the end.

use super::{ints, Malformed};
use crate::util::coding::{put_u64, put_varint, unzigzag, zigzag, Decoder};

pub(crate) const MAX_EXPONENT: usize = 18;

const POW10: [f64; MAX_EXPONENT + 1] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18,
];

/// Below 2^51, adding and subtracting 1.5 * 2^52 rounds to the nearest integer
/// (ties to even) without a libm call, and the integer is exact as a double.
const LIMIT: f64 = (1u64 << 51) as f64;
const ROUNDER: f64 = 6_755_399_441_055_744.0;

const WHAT: &str = "decimal values";

/// `v * p` rounded to the nearest integer, if it is below 2^51 in magnitude.
#[inline]
fn round_at(v: f64, p: f64) -> Option<i64> {
    let x = v * p;
    // NaN and infinities fail this too.
    if x.abs().partial_cmp(&LIMIT) != Some(std::cmp::Ordering::Less) {
        return None;
    }
    Some(((x + ROUNDER) - ROUNDER) as i64)
}

/// `v` as an integer at scale `p = 10^e`, if it round-trips exactly.
#[inline]
fn to_int(v: f64, p: f64) -> Option<i64> {
    let n = round_at(v, p)?;
    ((n as f64 / p).to_bits() == v.to_bits()).then_some(n)
}

/// The smallest exponent at which `v` round-trips.
fn exponent_of(v: f64) -> Option<usize> {
    POW10.iter().position(|&p| to_int(v, p).is_some())
}

/// The exponent for a run, or `None` when too few values look decimal.
pub(crate) fn choose_exponent(vals: &[f64]) -> Option<u8> {
    const SAMPLES: usize = 32;
    let step = (vals.len() / SAMPLES).max(1);
    let mut fitted = [(0.0f64, 0usize); SAMPLES];
    let (mut fits, mut misses) = (0, 0);
    for &v in vals.iter().step_by(step).take(SAMPLES) {
        match exponent_of(v) {
            Some(e) => {
                fitted[fits] = (v, e);
                fits += 1;
            }
            None => {
                misses += 1;
                // Full-precision data: stop paying 19 tries a sample.
                if misses > 4 && misses > fits {
                    return None;
                }
            }
        }
    }
    if fits == 0 || misses > fits {
        return None;
    }
    let fitted = &fitted[..fits];
    let (mut best, mut best_fits) = (0, 0);
    let mut tried = 0u32;
    for &(_, e) in fitted {
        if tried & 1 << e != 0 {
            continue;
        }
        tried |= 1 << e;
        let n = fitted
            .iter()
            .filter(|&&(v, min)| min <= e && to_int(v, POW10[e]).is_some())
            .count();
        if n > best_fits || (n == best_fits && e < best) {
            (best, best_fits) = (e, n);
        }
    }
    Some(best as u8)
}

/// Appends `vals` encoded at exponent `e` (which [`choose_exponent`] gave, or any
/// `e <= 18`: whatever does not fit becomes an exception).
pub(crate) fn encode(vals: &[f64], e: u8, out: &mut Vec<u8>) {
    if vals.is_empty() {
        return;
    }
    let e = usize::from(e).min(MAX_EXPONENT);
    let p = POW10[e];
    let mut ns = vec![0i64; vals.len()];
    let mut exceptions: Vec<usize> = Vec::new();
    let mut last: Option<i64> = None;
    for (i, (&v, n)) in vals.iter().zip(ns.iter_mut()).enumerate() {
        match to_int(v, p) {
            Some(k) => {
                *n = k;
                last = Some(k);
            }
            None => {
                *n = last.unwrap_or(0);
                exceptions.push(i);
            }
        }
    }
    // Leading exceptions take the first fitting integer rather than 0.
    if let (Some(&lead), Some(_)) = (exceptions.first(), last) {
        if lead == 0 {
            let k = exceptions
                .iter()
                .enumerate()
                .take_while(|&(j, &i)| j == i)
                .count();
            let fill = ns[k];
            ns[..k].fill(fill);
        }
    }
    put_varint(out, (exceptions.len() as u64) << 5 | e as u64);
    let mut next = 0;
    for &i in &exceptions {
        put_varint(out, (i - next) as u64);
        out.extend_from_slice(&vals[i].to_bits().to_le_bytes());
        next = i + 1;
    }
    ints::encode(&ns, out);
}

/// Decodes `out.len()` values from the whole of `buf`.
pub(crate) fn decode(buf: &[u8], out: &mut [f64]) -> Result<(), Malformed> {
    let n = out.len();
    if n == 0 {
        return if buf.is_empty() {
            Ok(())
        } else {
            Err(Malformed(WHAT, "bytes for no values"))
        };
    }
    let bad = |detail| Malformed(WHAT, detail);
    let mut d = Decoder::new(buf);
    let head = d.varint().ok_or(bad("truncated header"))?;
    let p = *POW10
        .get((head & 31) as usize)
        .ok_or(bad("exponent over 18"))?;
    let count = usize::try_from(head >> 5).unwrap_or(usize::MAX);
    if count > n {
        return Err(bad("more exceptions than values"));
    }
    // Validate the exceptions (and find the integers) before writing any value.
    let exceptions_at = d.pos();
    let mut next = 0usize;
    for _ in 0..count {
        let gap = d.varint_usize().ok_or(bad("truncated exception"))?;
        let pos = next
            .checked_add(gap)
            .filter(|&p| p < n)
            .ok_or(bad("exception position out of range"))?;
        d.take(8).ok_or(bad("truncated exception"))?;
        next = pos + 1;
    }
    // The integers go into `out` as bit patterns, then become values in place.
    ints::decode(buf.get(d.pos()..).unwrap_or_default(), out)?;
    for v in out.iter_mut() {
        *v = (v.to_bits() as i64) as f64 / p;
    }
    let mut d = Decoder::at(buf, exceptions_at);
    let mut next = 0usize;
    for _ in 0..count {
        let pos = next + d.varint_usize().unwrap_or_default();
        let bits = d.u64().unwrap_or_default();
        if let Some(v) = out.get_mut(pos) {
            *v = f64::from_bits(bits);
        }
        next = pos + 1;
    }
    Ok(())
}

/// A scalar's head with these low six bits marks a raw value.
const RAW: u64 = 31;
/// The head's bit saying a bit difference follows.
const NEAR: u64 = 32;

/// Appends one value on its own (a block's sum or maximum, in a table's index), in
/// the cheapest of three forms, each giving the value back bit for bit:
/// - a decimal `n / 10^e` (as the run codec's, `|n| < 2^51`): the varint
///   `zigzag(n) << 6 | e`, 1 to 4 bytes for readings such as 0, 21.5 or 4567;
/// - a double a few units in the last place from one (a sum of decimals, with its
///   rounding): `zigzag(n) << 6 | 32 | e`, then `zigzag(bits(v) - bits(n / 10^e))`
///   (varints, the difference wrapping as i64);
/// - anything else: the varint 31 and its raw `bits: u64` (9 bytes).
pub(crate) fn put_scalar(buf: &mut Vec<u8>, v: f64) {
    let mut best: Option<(usize, u64, u64)> = None;
    for (e, &p) in POW10.iter().enumerate() {
        let Some(n) = round_at(v, p) else { break };
        let diff = v.to_bits().wrapping_sub((n as f64 / p).to_bits()) as i64;
        let head = zigzag(n) << 6 | e as u64;
        let (head, bytes) = match diff {
            0 => (head, varint_len(head)),
            _ => (head | NEAR, varint_len(head) + varint_len(zigzag(diff))),
        };
        if best.map_or(true, |(b, _, _)| bytes < b) {
            best = Some((bytes, head, zigzag(diff)));
        }
        if diff == 0 {
            break;
        }
    }
    match best {
        Some((bytes, head, diff)) if bytes < 9 => {
            put_varint(buf, head);
            if head & NEAR != 0 {
                put_varint(buf, diff);
            }
        }
        _ => {
            put_varint(buf, RAW);
            put_u64(buf, v.to_bits());
        }
    }
}

/// Reads a value [`put_scalar`] wrote; `None` when malformed.
pub(crate) fn scalar(d: &mut Decoder<'_>) -> Option<f64> {
    let head = d.varint()?;
    if head == RAW {
        return Some(f64::from_bits(d.u64()?));
    }
    let p = *POW10.get((head & 31) as usize)?;
    let n = unzigzag(head >> 6);
    if n.unsigned_abs() >= 1 << 51 {
        return None;
    }
    let base = (n as f64 / p).to_bits();
    match head & NEAR {
        0 => Some(f64::from_bits(base)),
        _ => {
            let diff = unzigzag(d.varint()?);
            (diff != 0).then(|| f64::from_bits(base.wrapping_add(diff as u64)))
        }
    }
}

/// The bytes of `v` as a varint.
fn varint_len(v: u64) -> usize {
    (64 - v.leading_zeros() as usize).max(1).div_ceil(7)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(vals: &[f64]) -> (Option<u8>, usize) {
        let e = choose_exponent(vals);
        let mut buf = Vec::new();
        encode(vals, e.unwrap_or(0), &mut buf);
        let mut out = vec![0.0; vals.len()];
        decode(&buf, &mut out).unwrap_or_else(|err| panic!("{err:?}"));
        let bits = |v: &[f64]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&out), bits(vals));
        (e, buf.len())
    }

    #[test]
    fn exponents_are_the_decimal_digits() {
        assert_eq!(exponent_of(3.0), Some(0));
        assert_eq!(exponent_of(-0.5), Some(1));
        assert_eq!(exponent_of(21.25), Some(2));
        assert_eq!(exponent_of(0.001), Some(3));
        assert_eq!(exponent_of(1.0e15), Some(0));
        assert_eq!(exponent_of(0.1 + 0.2), None, "binary noise");
        assert_eq!(exponent_of(-0.0), None);
        assert_eq!(exponent_of(f64::NAN), None);
        assert_eq!(exponent_of(f64::INFINITY), None);
        assert_eq!(exponent_of(1e300), None);
        assert_eq!(exponent_of(f64::from_bits(1)), None, "subnormal");
    }

    #[test]
    fn decimals_compress_and_exceptions_round_trip() {
        let temps: Vec<f64> = (0..1000)
            .map(|i| ((200 + (i % 17)) as f64) / 10.0)
            .collect();
        let (e, bytes) = round_trip(&temps);
        assert_eq!(e, Some(1));
        assert!(bytes < 1000 * 5 / 8 + 40, "{bytes} bytes");
        let (e, bytes) = round_trip(&[0.25; 1000]);
        assert_eq!(e, Some(2));
        assert!(bytes < 30, "constant: {bytes} bytes");
        let mut mixed = temps.clone();
        for (i, v) in [f64::NAN, -0.0, 0.1 + 0.2, f64::INFINITY, 5e-324]
            .into_iter()
            .enumerate()
        {
            mixed[i * 97] = v;
        }
        mixed[0] = f64::from_bits(0x7ff8_dead_beef_0001);
        assert_eq!(round_trip(&mixed).0, Some(1));
        // Every value an exception, at every exponent.
        for e in 0..=MAX_EXPONENT as u8 {
            let mut buf = Vec::new();
            encode(&[f64::NAN, -0.0, 1e300], e, &mut buf);
            let mut out = [0.0; 3];
            decode(&buf, &mut out).unwrap();
            assert!(out[0].is_nan() && out[1].to_bits() == (-0.0f64).to_bits() && out[2] == 1e300);
        }
    }

    #[test]
    fn full_precision_runs_are_not_decimal() {
        let mut rng = crate::util::test_rng("decimal");
        let walk: Vec<f64> = (0..500).map(|_| rng.f64() * 100.0).collect();
        assert_eq!(choose_exponent(&walk), None);
        round_trip(&walk);
        let almost: Vec<f64> = (0..500).map(|i| i as f64 / 10.0 + 1e-12).collect();
        round_trip(&almost);
    }

    #[test]
    fn corrupt_sections_never_panic() {
        let mut vals: Vec<f64> = (0..150).map(|i| (i * 37 % 101) as f64 / 100.0).collect();
        vals[3] = f64::NAN;
        vals[77] = -0.0;
        let mut buf = Vec::new();
        encode(&vals, 2, &mut buf);
        let mut out = vec![0.0; vals.len()];
        for cut in 0..buf.len() {
            assert!(decode(&buf[..cut], &mut out).is_err(), "cut at {cut}");
        }
        for i in 0..buf.len() * 8 {
            let mut b = buf.clone();
            b[i / 8] ^= 1 << (i % 8);
            let _ = decode(&b, &mut out);
        }
    }

    #[test]
    fn scalars_are_short_and_exact() {
        let mut rng = crate::util::test_rng("scalars");
        let mut vals = vec![
            0.0,
            -0.0,
            21.5,
            4567.0,
            -0.25,
            1e15,
            0.1 + 0.2,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            1e300,
            f64::from_bits(0x7ff8_dead_beef_0001),
        ];
        vals.extend((0..2000).map(|_| match rng.u8(..3) {
            0 => f64::from_bits(rng.u64(..)),
            1 => rng.i64(-1 << 40..1 << 40) as f64 / POW10[rng.usize(..=MAX_EXPONENT)],
            _ => rng.f64() * 100.0,
        }));
        for v in vals {
            let mut buf = Vec::new();
            put_scalar(&mut buf, v);
            let mut d = Decoder::new(&buf);
            let back = scalar(&mut d).unwrap_or_else(|| panic!("{v:e} did not decode"));
            assert_eq!(back.to_bits(), v.to_bits(), "{v:e}");
            assert!(d.is_empty(), "{v:e}: bytes left");
            assert!(buf.len() <= 9, "{v:e}: {} bytes", buf.len());
        }
        // 0.1 added 1,000 times: 99.9999999999986, 99 units in the last place from 100.
        let sum = (0..1000).fold(0.0, |s, _| s + 0.1);
        for (v, bytes) in [
            (0.0, 1),
            (21.5, 3),
            (45.67, 3),
            (4567.0, 3),
            (0.1 + 0.2, 3),
            (sum, 4),
        ] {
            let mut buf = Vec::new();
            put_scalar(&mut buf, v);
            assert_eq!(buf.len(), bytes, "{v}");
        }
        // Malformed: exponent over 18, truncated raw bits, an integer of 2^52.
        let mut big = Vec::new();
        put_varint(&mut big, zigzag(1 << 52) << 6);
        // A difference of zero, written as one.
        let zero = [NEAR as u8 | 2, 0];
        for bad in [&[19u8][..], &[31, 1, 2], &big, &zero[..]] {
            assert_eq!(scalar(&mut Decoder::new(bad)), None, "{bad:?}");
        }
    }
}

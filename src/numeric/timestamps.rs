//! Timestamp codecs. Any `i64` sequence round-trips (out of order, duplicates,
//! jumps across the whole range): the arithmetic wraps, so a "delta" is only ever
//! a difference modulo 2^64.
//!
//! - [`TsCodec::Packed`], the default: the integer codec ([`ints`](super::ints)),
//!   which picks delta-of-delta (order 2), delta or plain values per run and
//!   bit-packs them in mini-blocks after dividing out the gcd of the deltas. A
//!   regular interval costs 9 bits per 64 points; jitter costs the width of its
//!   spread in the clock's own unit (ms-precision stamps in µs lose nothing).
//! - [`TsCodec::DeltaOfDelta`], Gorilla's and Prometheus's scheme, kept to measure
//!   against: `first` as a zigzag varint, then per later point its delta-of-delta
//!   (the first point's delta counts from 0) as a prefix code: `0` for 0, `10` and
//!   14 bits, `110` and 17, `1110` and 20, `1111` and 64 (zigzag values; prefix bits
//!   are written first). Every point costs at least a bit.

use super::bits::{bit_len, BitReader, BitWriter};
use super::blocks::BLOCK;
use super::{ints, Malformed};
use crate::util::coding::{put_varint_i64, unzigzag, zigzag, Decoder};

/// How a run stores its timestamps (the high nibble of the run's header byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TsCodec {
    /// Mini-block frame of reference over the best of values, deltas and
    /// delta-of-deltas, gcd-scaled.
    Packed = 0,
    /// Gorilla/Prometheus delta-of-delta prefix codes.
    DeltaOfDelta = 1,
}

impl TsCodec {
    pub(crate) fn from_id(id: u8) -> Option<TsCodec> {
        match id {
            0 => Some(TsCodec::Packed),
            1 => Some(TsCodec::DeltaOfDelta),
            _ => None,
        }
    }

    /// An upper bound on the points a section of `bytes` can hold (for rejecting a
    /// corrupt count before allocating for it).
    pub(crate) fn max_points(self, bytes: usize) -> usize {
        let bits = bytes.saturating_mul(8);
        match self {
            // A mini-block of up to 64 points takes at least 9 bits.
            TsCodec::Packed => (bits / 9 + 1).saturating_mul(BLOCK).saturating_add(2),
            TsCodec::DeltaOfDelta => bits.saturating_add(1),
        }
    }
}

const WHAT: &str = "delta-of-delta timestamps";

/// Bucket widths after the prefixes `10`, `110`, `1110`, `1111`.
const BUCKETS: [u32; 4] = [14, 17, 20, 64];

pub(crate) fn encode(codec: TsCodec, ts: &[i64], out: &mut Vec<u8>) {
    match codec {
        TsCodec::Packed => ints::encode(ts, out),
        TsCodec::DeltaOfDelta => dod_encode(ts, out),
    }
}

pub(crate) fn decode(codec: TsCodec, buf: &[u8], out: &mut [i64]) -> Result<(), Malformed> {
    match codec {
        TsCodec::Packed => ints::decode(buf, out),
        TsCodec::DeltaOfDelta => dod_decode(buf, out),
    }
}

fn dod_encode(ts: &[i64], out: &mut Vec<u8>) {
    let Some(&first) = ts.first() else { return };
    put_varint_i64(out, first);
    let mut w = BitWriter::new(out);
    let (mut prev, mut delta) = (first, 0i64);
    for &t in &ts[1..] {
        let d = t.wrapping_sub(prev);
        let z = zigzag(d.wrapping_sub(delta));
        (prev, delta) = (t, d);
        if z == 0 {
            w.write(0, 1);
            continue;
        }
        let len = bit_len(z);
        let k = BUCKETS.iter().position(|&b| len <= b).unwrap_or(3);
        // k + 1 one bits, then a zero unless it is the last bucket.
        let prefix_len = if k == 3 { 4 } else { k as u32 + 2 };
        w.write((1u64 << (k + 1)) - 1, prefix_len);
        w.write(z, BUCKETS[k]);
    }
    w.finish();
}

fn dod_decode(buf: &[u8], out: &mut [i64]) -> Result<(), Malformed> {
    if out.is_empty() {
        return if buf.is_empty() {
            Ok(())
        } else {
            Err(Malformed(WHAT, "bytes for no timestamps"))
        };
    }
    let mut d = Decoder::new(buf);
    let first = d.varint_i64().ok_or(Malformed(WHAT, "truncated first"))?;
    out[0] = first;
    let mut r = BitReader::new(buf.get(d.pos()..).unwrap_or_default());
    let (mut prev, mut delta) = (first, 0i64);
    for t in &mut out[1..] {
        // Count the prefix's one bits (at most 4).
        let ones = (!r.peek()).trailing_zeros().min(4);
        let dod = if ones == 0 {
            r.skip(1);
            0
        } else {
            let k = ones as usize - 1;
            r.skip(if ones == 4 { 4 } else { ones + 1 });
            unzigzag(r.read(BUCKETS[k]))
        };
        delta = delta.wrapping_add(dod);
        prev = prev.wrapping_add(delta);
        *t = prev;
    }
    r.check_end(WHAT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(codec: TsCodec, ts: &[i64]) -> usize {
        let mut buf = Vec::new();
        encode(codec, ts, &mut buf);
        assert!(ts.len() <= codec.max_points(buf.len()), "{codec:?} bound");
        let mut out = vec![0; ts.len()];
        decode(codec, &buf, &mut out).unwrap_or_else(|e| panic!("{codec:?}: {e:?}"));
        assert_eq!(out, ts, "{codec:?}");
        buf.len()
    }

    #[test]
    fn adversarial_clocks_round_trip_in_both_codecs() {
        let mut rng = crate::util::test_rng("timestamps");
        let cases: Vec<Vec<i64>> = vec![
            vec![],
            vec![i64::MIN],
            vec![i64::MAX, i64::MIN, i64::MAX, 0, 0, -1],
            (0..500).map(|i| 1_000_000 * (500 - i)).collect(),
            (0..500).map(|_| 7).collect(),
            (0..500).map(|_| rng.i64(..)).collect(),
            (0..500)
                .map(|i| i * 15_000_000 + rng.i64(-3000..=3000))
                .collect(),
            (0..500).map(|i| (i / 3) * 1000).collect(),
        ];
        for ts in &cases {
            for codec in [TsCodec::Packed, TsCodec::DeltaOfDelta] {
                round_trip(codec, ts);
            }
        }
    }

    #[test]
    fn a_regular_interval_costs_a_bit_or_less() {
        let ts: Vec<i64> = (0..1000)
            .map(|i| 1_700_000_000_000_000 + i * 15_000_000)
            .collect();
        let dod = round_trip(TsCodec::DeltaOfDelta, &ts);
        // The first delta takes the 64-bit bucket, then a bit per point.
        assert!(dod <= 8 + 9 + 125, "delta-of-delta: {dod} bytes");
        let packed = round_trip(TsCodec::Packed, &ts);
        assert!(packed * 4 < dod, "packed: {packed} bytes");
    }

    #[test]
    fn corrupt_sections_never_panic() {
        let ts: Vec<i64> = (0..200).map(|i| i * 10_000 + (i * 7 % 13)).collect();
        let mut buf = Vec::new();
        dod_encode(&ts, &mut buf);
        let mut out = vec![0; ts.len()];
        for cut in 0..buf.len() {
            assert!(dod_decode(&buf[..cut], &mut out).is_err(), "cut at {cut}");
        }
        for i in 0..buf.len() * 8 {
            let mut b = buf.clone();
            b[i / 8] ^= 1 << (i % 8);
            let _ = dod_decode(&b, &mut out);
        }
    }
}

//! The XOR family of float codecs: each value is stored as its XOR with an earlier
//! value, and only the XOR's "meaningful" bits (between its leading and trailing
//! zeros) are written. They work on the bit patterns, so any `f64` round-trips
//! exactly (NaN payloads, -0.0, subnormals), and they need no structure in the
//! values beyond "close to an earlier one".
//!
//! - **Gorilla** (Pelkonen et al., VLDB 2015; Prometheus's XOR chunks): XOR with the
//!   previous value. `0`: identical. `10`: the meaningful bits fit the previous
//!   window (leading/trailing zeros at least as many); they follow. `11`: leading
//!   zeros (5 bits, capped at 31), meaningful length (6 bits, 64 as 0), the bits.
//! - **Chimp** (Liakos et al., VLDB 2022): observes that XORs of real series rarely
//!   have many trailing zeros, so most of the time it writes the XOR from a rounded
//!   leading-zero count down to bit 0, and spends a window only when more than a
//!   threshold of trailing zeros make it pay. Two-bit codes: `00` identical, `01`
//!   leading code (3 bits), length (6 bits) and the centre bits, `10` the same
//!   leading zeros as last time and the `64 - lead` low bits, `11` a new leading
//!   code and those bits. Leading zeros round down to 0, 8, 12, 16, 18, 20, 22, 24.
//! - **Chimp128**: Chimp whose reference may be any of the previous 128 values, the
//!   one sharing the most trailing bits (found through a table keyed by the low 14
//!   bits); codes `00` and `01` then carry the reference's 7-bit ring index. It
//!   wins on series that cycle among a few values; a repeated value costs 9 bits
//!   where Gorilla spends 1.
//!
//! Layout of all three: the first value's 64 bits, then one code per later value,
//! in one bit stream ([`bits`](super::bits)) that fills the section.

use super::bits::{mask, BitReader, BitWriter};
use super::Malformed;

const GORILLA: &str = "gorilla values";
const CHIMP: &str = "chimp values";

pub(crate) fn gorilla_encode(vals: &[f64], out: &mut Vec<u8>) {
    let Some(first) = vals.first() else { return };
    let mut w = BitWriter::new(out);
    let mut prev = first.to_bits();
    w.write(prev, 64);
    // The current window; none before the first `11`.
    let (mut lead, mut trail) = (u32::MAX, 0u32);
    for v in &vals[1..] {
        let b = v.to_bits();
        let x = b ^ prev;
        prev = b;
        if x == 0 {
            w.write(0, 1);
            continue;
        }
        let l = x.leading_zeros().min(31);
        let t = x.trailing_zeros();
        if l >= lead && t >= trail {
            w.write(0b01, 2);
            w.write(x >> trail, 64 - lead - trail);
        } else {
            let len = 64 - l - t;
            w.write(0b11 | u64::from(l) << 2 | u64::from(len & 63) << 7, 13);
            w.write(x >> t, len);
            (lead, trail) = (l, t);
        }
    }
    w.finish();
}

/// The bytes [`gorilla_encode`] would write, without writing them.
pub(crate) fn gorilla_size(vals: &[f64]) -> usize {
    let Some(first) = vals.first() else { return 0 };
    let mut prev = first.to_bits();
    let (mut lead, mut trail) = (u32::MAX, 0u32);
    let mut bits = 64u64;
    for v in &vals[1..] {
        let b = v.to_bits();
        let x = b ^ prev;
        prev = b;
        if x == 0 {
            bits += 1;
            continue;
        }
        let l = x.leading_zeros().min(31);
        let t = x.trailing_zeros();
        if l >= lead && t >= trail {
            bits += u64::from(66 - lead - trail);
        } else {
            bits += u64::from(13 + 64 - l - t);
            (lead, trail) = (l, t);
        }
    }
    bits.div_ceil(8) as usize
}

/// The bytes plain Chimp ([`chimp_encode`]`::<0>`) would write, without writing them.
pub(crate) fn chimp_size(vals: &[f64]) -> usize {
    let Some(first) = vals.first() else { return 0 };
    let mut prev = first.to_bits();
    let mut stored_lead = 65u32;
    let mut bits = 64u64;
    for v in &vals[1..] {
        let b = v.to_bits();
        let x = b ^ prev;
        prev = b;
        if x == 0 {
            bits += 2;
            stored_lead = 65;
            continue;
        }
        let tz = x.trailing_zeros();
        let lead = LEAD_ROUNDED[LEAD_CODE[x.leading_zeros() as usize] as usize];
        if tz > 6 {
            bits += u64::from(11 + 64 - lead - tz);
            stored_lead = 65;
        } else if lead == stored_lead {
            bits += u64::from(2 + 64 - lead);
        } else {
            bits += u64::from(5 + 64 - lead);
            stored_lead = lead;
        }
    }
    bits.div_ceil(8) as usize
}

pub(crate) fn gorilla_decode(buf: &[u8], out: &mut [f64]) -> Result<(), Malformed> {
    let Some((first, rest)) = out.split_first_mut() else {
        return empty(buf, GORILLA);
    };
    let mut r = BitReader::new(buf);
    let mut prev = r.read(64);
    *first = f64::from_bits(prev);
    let (mut lead, mut trail) = (u32::MAX, 0u32);
    for v in rest {
        // The control bits and a new window's header come from one window.
        let w = r.peek();
        if w & 1 != 0 {
            let x = if w & 2 != 0 {
                let l = (w >> 2 & 31) as u32;
                let len = match (w >> 7 & 63) as u32 {
                    0 => 64,
                    n => n,
                };
                if l + len > 64 {
                    return Err(Malformed(GORILLA, "window wider than 64 bits"));
                }
                (lead, trail) = (l, 64 - l - len);
                r.skip(13);
                r.read(len) << trail
            } else {
                if lead == u32::MAX {
                    return Err(Malformed(GORILLA, "window reused before one was set"));
                }
                r.skip(2);
                r.read(64 - lead - trail) << trail
            };
            prev ^= x;
        } else {
            r.skip(1);
        }
        *v = f64::from_bits(prev);
    }
    r.check_end(GORILLA)
}

fn empty(buf: &[u8], what: &'static str) -> Result<(), Malformed> {
    if buf.is_empty() {
        Ok(())
    } else {
        Err(Malformed(what, "bytes for no values"))
    }
}

/// Chimp's leading-zero rounding: the code (3 bits) and the rounded count.
const LEAD_ROUNDED: [u32; 8] = [0, 8, 12, 16, 18, 20, 22, 24];

const fn lead_codes() -> [u8; 65] {
    let mut t = [0u8; 65];
    let mut lz = 0;
    while lz <= 64 {
        let mut code = 7;
        while LEAD_ROUNDED[code] > lz as u32 {
            code -= 1;
        }
        t[lz] = code as u8;
        lz += 1;
    }
    t
}

static LEAD_CODE: [u8; 65] = lead_codes();

/// Chimp with a window of `2^LOG_N` previous values (0: plain Chimp, 7: Chimp128).
pub(crate) fn chimp_encode<const LOG_N: u32>(vals: &[f64], out: &mut Vec<u8>) {
    let Some(first) = vals.first() else { return };
    let n_ring = 1usize << LOG_N;
    let threshold = 6 + LOG_N;
    // Encoder only: the latest position (+1) of a value by a hash of its low
    // `threshold + 1` bits, sized to the run (the decoder reads the index written).
    let key_bits = (usize::BITS - vals.len().leading_zeros() + 1).clamp(4, 14);
    let mut latest = if LOG_N > 0 {
        vec![0u32; 1 << key_bits]
    } else {
        Vec::new()
    };
    let key = |b: u64| {
        ((b & mask(threshold + 1)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - key_bits)) as usize
    };
    let mut ring = [0u64; 128];
    let mut w = BitWriter::new(out);
    let b0 = first.to_bits();
    w.write(b0, 64);
    ring[0] = b0;
    if LOG_N > 0 {
        latest[key(b0)] = 1;
    }
    let mut stored_lead = 65u32;
    for (i, v) in vals.iter().enumerate().skip(1) {
        let b = v.to_bits();
        let prev_slot = (i - 1) & (n_ring - 1);
        let (mut slot, mut x) = (prev_slot, b ^ ring[prev_slot]);
        if LOG_N > 0 {
            let k = key(b);
            let at = latest[k] as usize;
            if at != 0 && i - (at - 1) <= n_ring {
                let s = (at - 1) & (n_ring - 1);
                let xc = b ^ ring[s];
                if xc.trailing_zeros() > threshold {
                    (slot, x) = (s, xc);
                }
            }
            latest[k] = i as u32 + 1;
        }
        if x == 0 {
            w.write((slot as u64) << 2, 2 + LOG_N);
            stored_lead = 65;
        } else {
            let tz = x.trailing_zeros();
            let code = LEAD_CODE[x.leading_zeros() as usize];
            let lead = LEAD_ROUNDED[code as usize];
            if tz > threshold {
                let len = 64 - lead - tz;
                w.write(
                    1 | (slot as u64) << 2
                        | u64::from(code) << (2 + LOG_N)
                        | u64::from(len) << (5 + LOG_N),
                    11 + LOG_N,
                );
                w.write(x >> tz, len);
                stored_lead = 65;
            } else if lead == stored_lead {
                w.write(0b10, 2);
                w.write(x, 64 - lead);
            } else {
                w.write(0b11 | u64::from(code) << 2, 5);
                w.write(x, 64 - lead);
                stored_lead = lead;
            }
        }
        ring[i & (n_ring - 1)] = b;
    }
    w.finish();
}

pub(crate) fn chimp_decode<const LOG_N: u32>(buf: &[u8], out: &mut [f64]) -> Result<(), Malformed> {
    if out.is_empty() {
        return empty(buf, CHIMP);
    }
    let n_ring = 1usize << LOG_N;
    let mut r = BitReader::new(buf);
    let mut ring = [0u64; 128];
    let mut prev = r.read(64);
    ring[0] = prev;
    out[0] = f64::from_bits(prev);
    let mut stored_lead = 65u32;
    for (i, v) in out.iter_mut().enumerate().skip(1) {
        // The code and the fields after it come from one window.
        let w = r.peek();
        let b = match w & 3 {
            code @ (0 | 1) => {
                let slot = (w >> 2 & mask(LOG_N)) as usize;
                if slot >= i {
                    return Err(Malformed(CHIMP, "reference to a value not yet decoded"));
                }
                stored_lead = 65;
                if code == 0 {
                    r.skip(2 + LOG_N);
                    ring[slot]
                } else {
                    let h = w >> (2 + LOG_N);
                    let lead = LEAD_ROUNDED[(h & 7) as usize];
                    let len = (h >> 3 & 63) as u32;
                    if len == 0 || lead + len > 64 {
                        return Err(Malformed(CHIMP, "centre bits outside 1..=64"));
                    }
                    r.skip(11 + LOG_N);
                    ring[slot] ^ r.read(len) << (64 - lead - len)
                }
            }
            2 => {
                if stored_lead == 65 {
                    return Err(Malformed(CHIMP, "leading zeros reused before one was set"));
                }
                r.skip(2);
                prev ^ r.read(64 - stored_lead)
            }
            _ => {
                stored_lead = LEAD_ROUNDED[(w >> 2 & 7) as usize];
                r.skip(5);
                prev ^ r.read(64 - stored_lead)
            }
        };
        ring[i & (n_ring - 1)] = b;
        prev = b;
        *v = f64::from_bits(b);
    }
    r.check_end(CHIMP)
}

#[cfg(test)]
mod tests {
    use super::*;

    type Codec = (
        &'static str,
        fn(&[f64], &mut Vec<u8>),
        fn(&[u8], &mut [f64]) -> Result<(), Malformed>,
    );

    const CODECS: [Codec; 3] = [
        ("gorilla", gorilla_encode, gorilla_decode),
        ("chimp", chimp_encode::<0>, chimp_decode::<0>),
        ("chimp128", chimp_encode::<7>, chimp_decode::<7>),
    ];

    fn round_trip(vals: &[f64]) -> [usize; 3] {
        let mut sizes = (Vec::new(), Vec::new());
        gorilla_encode(vals, &mut sizes.0);
        chimp_encode::<0>(vals, &mut sizes.1);
        assert_eq!(gorilla_size(vals), sizes.0.len());
        assert_eq!(chimp_size(vals), sizes.1.len());
        CODECS.map(|(name, enc, dec)| {
            let mut buf = Vec::new();
            enc(vals, &mut buf);
            let mut out = vec![0.0; vals.len()];
            dec(&buf, &mut out).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            let bits = |v: &[f64]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&out), bits(vals), "{name}");
            buf.len()
        })
    }

    #[test]
    fn lead_codes_round_down() {
        assert_eq!(LEAD_CODE[0], 0);
        assert_eq!(LEAD_CODE[7], 0);
        assert_eq!(LEAD_CODE[8], 1);
        assert_eq!(LEAD_CODE[13], 2);
        assert_eq!(LEAD_CODE[23], 6);
        assert_eq!(LEAD_CODE[64], 7);
    }

    #[test]
    fn special_values_round_trip() {
        let nan_payload = f64::from_bits(0x7ff0_0000_0000_0002); // Prometheus' stale marker
        round_trip(&[]);
        round_trip(&[f64::NAN]);
        round_trip(&[
            0.0,
            -0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            nan_payload,
            f64::from_bits(u64::MAX),
            f64::MIN_POSITIVE / 3.0,
            -5e-324,
            f64::MAX,
            f64::MIN,
            1.0,
            1.0,
            -1.0,
        ]);
        let alternating: Vec<f64> = (0..300)
            .map(|i| if i % 2 == 0 { 1.5 } else { -1.5 })
            .collect();
        round_trip(&alternating);
        // (Values whose low 14 bits differ: the candidate table is keyed by them.)
        let cycle: Vec<f64> = (0..300).map(|i| [0.1, 7.25, 2.9][i % 3]).collect();
        let [g, _, c128] = round_trip(&cycle);
        assert!(
            c128 * 4 < g,
            "chimp128 finds the value three back: {c128} vs {g} bytes"
        );
    }

    #[test]
    fn repeated_values_cost_about_a_bit() {
        let [g, c, c128] = round_trip(&[42.125; 1000]);
        assert!(g <= 8 + 125, "gorilla {g}");
        assert!(c <= 8 + 250, "chimp {c}");
        assert!(c128 <= 8 + 1125, "chimp128 {c128}");
    }

    #[test]
    fn random_bit_patterns_round_trip() {
        let mut rng = crate::util::test_rng("xor");
        for _ in 0..300 {
            let n = rng.usize(0..300);
            let mut v = rng.u64(..);
            let vals: Vec<f64> = (0..n)
                .map(|_| {
                    v = match rng.u8(0..4) {
                        0 => rng.u64(..),
                        1 => v ^ 1 << rng.u32(0..64),
                        2 => v ^ rng.u64(..) >> rng.u32(0..64),
                        _ => v,
                    };
                    f64::from_bits(v)
                })
                .collect();
            round_trip(&vals);
        }
    }

    #[test]
    fn corrupt_streams_never_panic() {
        let vals: Vec<f64> = (0..150).map(|i| (i as f64 * 0.37).sin() * 100.0).collect();
        for (name, enc, dec) in CODECS {
            let mut buf = Vec::new();
            enc(&vals, &mut buf);
            let mut out = vec![0.0; vals.len()];
            for cut in 0..buf.len() {
                assert!(dec(&buf[..cut], &mut out).is_err(), "{name}: cut at {cut}");
            }
            for i in 0..buf.len() * 8 {
                let mut b = buf.clone();
                b[i / 8] ^= 1 << (i % 8);
                let _ = dec(&b, &mut out);
            }
        }
    }
}

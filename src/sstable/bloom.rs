//! A bloom filter over a table's distinct keys (not timestamps), so `get`,
//! `get_latest` and absent-key lookups skip tables that cannot hold the key.
//!
//! ## Format
//! Two layouts, told apart by the last byte:
//! - **Lines** (written since 2026-12-02): `lines × 64 bytes`, then `128 + probes`.
//!   A key's probes all fall in one 64-byte line, so a lookup waits for one cache
//!   miss, not one per probe (RocksDB's "cache-local" filters). The line is
//!   `(hi * lines) >> 32` with `hi` the high half of `hash64(key)`. With `x` its low
//!   half, each probe tests bit `x >> 23` of the line and then sets
//!   `x = x * 0x9E3779B9 mod 2^32`. Bit `k` of a line is bit `k % 8` (least
//!   significant first) of its byte `k / 8`; `probes` is 1–30.
//! - **Spread** (written before): `bits: n bytes`, then `probes: u8` (1–30). Probe `i`
//!   tests bit `(h1 + i * h2) mod (8n)` where `h1`/`h2` are the low/high halves of
//!   `hash64(key)`.
//!
//! An empty filter (0 bits per key), a last byte of neither kind, or a lines filter
//! whose size is not whole lines, matches everything: flowdb versions that knew only
//! the spread layout read a lines filter so (probes above 30), and still find every
//! key.

use crate::util::hash64;

pub(crate) struct BloomBuilder {
    hashes: Vec<u64>,
    bits_per_key: usize,
}

impl BloomBuilder {
    pub(crate) fn new(bits_per_key: usize) -> Self {
        BloomBuilder {
            hashes: Vec::new(),
            bits_per_key,
        }
    }

    /// Adds a key; callers skip repeats of the key just added.
    pub(crate) fn add(&mut self, key: &[u8]) {
        if self.bits_per_key > 0 {
            self.hashes.push(hash64(key));
        }
    }

    /// The filter block, in the lines layout.
    pub(crate) fn finish(&self) -> Vec<u8> {
        if self.bits_per_key == 0 {
            return Vec::new();
        }
        let lines = (self.hashes.len() * self.bits_per_key)
            .div_ceil(LINE_BITS)
            .max(1);
        let probes = probes_for(self.bits_per_key);
        let mut bits = vec![0u8; lines * LINE_BYTES + 1];
        for &h in &self.hashes {
            let line = &mut bits[line_of(h, lines) * LINE_BYTES..][..LINE_BYTES];
            for bit in line_bits(h, probes) {
                set_bit(line, bit);
            }
        }
        bits[lines * LINE_BYTES] = LINES_FLAG | probes;
        bits
    }

    /// The filter block in the spread layout, as flowdb wrote it before 2026-12-02
    /// (tests read such filters).
    #[cfg(test)]
    fn finish_spread(&self) -> Vec<u8> {
        let nbits = (self.hashes.len() * self.bits_per_key).max(64);
        let nbytes = nbits.div_ceil(8);
        let nbits = nbytes * 8;
        let probes = probes_for(self.bits_per_key);
        let mut bits = vec![0u8; nbytes + 1];
        for h in &self.hashes {
            for bit in probe_bits(*h, probes, nbits) {
                set_bit(&mut bits, bit);
            }
        }
        bits[nbytes] = probes;
        bits
    }
}

/// Bits and bytes in a line of the lines layout: one cache line.
const LINE_BITS: usize = 512;
const LINE_BYTES: usize = LINE_BITS / 8;
/// The last byte's flag for the lines layout (the spread layout's is at most 30).
const LINES_FLAG: u8 = 0x80;

/// Bit `bit` of `bits`, least significant first in each byte (both layouts).
fn set_bit(bits: &mut [u8], bit: usize) {
    bits[bit / 8] |= 1 << (bit % 8);
}

fn has_bit(bits: &[u8], bit: usize) -> bool {
    bits[bit / 8] & (1 << (bit % 8)) != 0
}

/// Probes for `bits_per_key` (ln 2 bits a probe, as for any bloom filter).
fn probes_for(bits_per_key: usize) -> u8 {
    ((bits_per_key as f64) * 0.69).round().clamp(1.0, 30.0) as u8
}

/// The line of `lines` a hash falls in: its high half scaled to `0..lines`.
fn line_of(h: u64, lines: usize) -> usize {
    (((h >> 32) * lines as u64) >> 32) as usize
}

/// The bits of its line a hash probes: from `x`, the hash's low 32 bits, each probe
/// takes the top 9 bits of `x` and then multiplies `x` by `PROBE_MUL` (mod 2^32), so
/// every probe draws on all 32 bits (probes stepping by a fixed stride from 17 bits
/// of the hash let 1.15% of absent keys through at 10 bits a key against 1.02%, and
/// four times as many at 20).
fn line_bits(h: u64, probes: u8) -> impl Iterator<Item = usize> {
    let mut x = h as u32;
    (0..probes).map(move |_| {
        let bit = (x >> 23) as usize;
        x = x.wrapping_mul(PROBE_MUL);
        bit
    })
}

/// The multiplier between probes: 2^32 over the golden ratio, odd.
const PROBE_MUL: u32 = 0x9E37_79B9;

/// The bits `(h1 + i * h2) mod nbits` for `i` in `0..probes`. No term overflows
/// (`h1`, `h2` < 2^32, `i` < 31), so this equals stepping by `h2 mod nbits` and
/// wrapping: two divisions per key instead of one per probe.
fn probe_bits(h: u64, probes: u8, nbits: usize) -> impl Iterator<Item = usize> {
    let n = nbits as u64;
    let h1 = h as u32 as u64;
    let h2 = (h >> 32) | 1;
    let (mut bit, step) = (h1 % n, h2 % n);
    (0..probes).map(move |_| {
        let b = bit;
        bit += step;
        if bit >= n {
            bit -= n;
        }
        b as usize
    })
}

/// One cache line of a filter in the lines layout, aligned as one.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([u8; LINE_BYTES]);

/// A filter read from its block.
pub(crate) struct Bloom(Layout);

enum Layout {
    /// The lines layout, copied into aligned lines (a line read is one cache miss).
    Lines { lines: Vec<Line>, probes: u8 },
    /// The spread layout as read: bits, then the probe count.
    Spread(Vec<u8>),
    /// No filter (empty, or a layout not known): every key may be there.
    All,
}

impl Bloom {
    pub(crate) fn new(data: Vec<u8>) -> Self {
        Bloom(Layout::of(data))
    }

    pub(crate) fn memory(&self) -> usize {
        match &self.0 {
            Layout::Lines { lines, .. } => lines.len() * LINE_BYTES,
            Layout::Spread(data) => data.len(),
            Layout::All => 0,
        }
    }

    pub(crate) fn may_contain(&self, key: &[u8]) -> bool {
        match &self.0 {
            Layout::Lines { lines, probes } => {
                let h = hash64(key);
                let line = &lines[line_of(h, lines.len())].0;
                line_bits(h, *probes).all(|bit| has_bit(line, bit))
            }
            Layout::Spread(data) => {
                let nbytes = data.len() - 1;
                probe_bits(hash64(key), data[nbytes], nbytes * 8).all(|bit| has_bit(data, bit))
            }
            Layout::All => true,
        }
    }
}

impl Layout {
    fn of(data: Vec<u8>) -> Self {
        let Some((&last, bits)) = data.split_last() else {
            return Layout::All;
        };
        if last & LINES_FLAG != 0 {
            let probes = last & !LINES_FLAG;
            if probes == 0 || probes > 30 || bits.is_empty() || bits.len() % LINE_BYTES != 0 {
                return Layout::All;
            }
            let lines = bits
                .chunks_exact(LINE_BYTES)
                .map(|c| Line(c.try_into().unwrap_or([0xff; LINE_BYTES])))
                .collect();
            return Layout::Lines { lines, probes };
        }
        if last == 0 || last > 30 || bits.is_empty() {
            return Layout::All;
        }
        Layout::Spread(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_are_the_documented_formula() {
        for (h, probes, nbits) in [
            (0u64, 7u8, 64usize),
            (u64::MAX, 30, 8 * 1000),
            (0x1234_5678_9abc_def0, 7, 8 * 1_250_000),
        ] {
            let h1 = h as u32 as u64;
            let h2 = (h >> 32) | 1;
            let want: Vec<usize> = (0..probes as u64)
                .map(|i| ((h1 + i * h2) % nbits as u64) as usize)
                .collect();
            assert_eq!(probe_bits(h, probes, nbits).collect::<Vec<_>>(), want);
        }
    }

    /// The share of `n` absent keys the filter lets through.
    fn false_positives(f: &Bloom, n: usize) -> f64 {
        let fp = (0..n)
            .filter(|i| f.may_contain(format!("other{i}").as_bytes()))
            .count();
        fp as f64 / n as f64
    }

    fn built(keys: usize, bits_per_key: usize) -> BloomBuilder {
        let mut b = BloomBuilder::new(bits_per_key);
        for i in 0..keys {
            b.add(format!("key{i}").as_bytes());
        }
        b
    }

    #[test]
    fn no_false_negatives_few_false_positives() {
        for keys in [1, 7, 100, 10_000] {
            let f = Bloom::new(built(keys, 10).finish());
            assert!(matches!(f.0, Layout::Lines { .. }));
            assert!((0..keys).all(|i| f.may_contain(format!("key{i}").as_bytes())));
        }
        // About 1% at 10 bits per key for a filter of whole-range probes; one line
        // each costs a little more.
        let fp = false_positives(&Bloom::new(built(100_000, 10).finish()), 100_000);
        assert!(fp < 0.0125, "false positives {fp}");
        // More bits keep paying: probes from all of the hash's low half.
        let fp = false_positives(&Bloom::new(built(100_000, 20).finish()), 100_000);
        assert!(fp < 0.0006, "false positives at 20 bits a key {fp}");
        assert!(Bloom::new(BloomBuilder::new(0).finish()).may_contain(b"x"));
    }

    #[test]
    fn a_keys_probes_are_the_documented_bits_of_one_line() {
        let b = built(1_000, 10);
        let data = b.finish();
        let lines = (data.len() - 1) / 64;
        assert_eq!(data.len() % 64, 1);
        assert_eq!(data[data.len() - 1], 0x80 | 7);
        for h in &b.hashes {
            let line = (((h >> 32) * lines as u64) >> 32) as usize;
            let mut x = *h as u32 as u64;
            for _ in 0..7 {
                let bit = line * 512 + (x >> 23) as usize;
                assert!(data[bit / 8] & (1 << (bit % 8)) != 0, "bit {bit}");
                x = x * 0x9E37_79B9 % (1 << 32);
            }
        }
    }

    #[test]
    fn filters_of_the_spread_layout_are_still_read() {
        let b = built(10_000, 10);
        let f = Bloom::new(b.finish_spread());
        assert!(matches!(f.0, Layout::Spread(_)));
        assert!((0..10_000).all(|i| f.may_contain(format!("key{i}").as_bytes())));
        assert!(false_positives(&f, 10_000) < 0.03);
    }

    #[test]
    fn filters_not_understood_match_every_key() {
        let lines = built(1_000, 10).finish();
        let mut short_line = lines.clone();
        short_line.remove(0);
        let mut no_probes = lines.clone();
        *no_probes.last_mut().unwrap() = 0x80;
        let mut many_probes = lines;
        *many_probes.last_mut().unwrap() = 0x80 | 31;
        for data in [
            vec![],
            vec![7],
            vec![0xff; 10],
            short_line,
            no_probes,
            many_probes,
        ] {
            let f = Bloom::new(data);
            assert!(matches!(f.0, Layout::All));
            assert!(f.may_contain(b"anything"));
        }
    }
}

//! A bloom filter over a table's distinct keys (not timestamps), so `get`,
//! `get_latest` and absent-key lookups skip tables that cannot hold the key.
//!
//! ## Format
//! `bits: n bytes`, then `probes: u8`. Probe `i` tests bit `(h1 + i * h2) mod (8n)`
//! where `h1`/`h2` are the low/high halves of `hash64(key)`. An empty filter (0 bits
//! per key) matches everything.

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

    pub(crate) fn finish(&self) -> Vec<u8> {
        if self.bits_per_key == 0 {
            return Vec::new();
        }
        let nbits = (self.hashes.len() * self.bits_per_key).max(64);
        let nbytes = nbits.div_ceil(8);
        let nbits = nbytes * 8;
        let probes = ((self.bits_per_key as f64) * 0.69).round().clamp(1.0, 30.0) as u8;
        let mut bits = vec![0u8; nbytes + 1];
        for h in &self.hashes {
            for bit in probe_bits(*h, probes, nbits) {
                bits[bit / 8] |= 1 << (bit % 8);
            }
        }
        bits[nbytes] = probes;
        bits
    }
}

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

pub(crate) struct Bloom {
    data: Vec<u8>,
}

impl Bloom {
    pub(crate) fn new(data: Vec<u8>) -> Self {
        Bloom { data }
    }

    pub(crate) fn memory(&self) -> usize {
        self.data.len()
    }

    pub(crate) fn may_contain(&self, key: &[u8]) -> bool {
        if self.data.len() < 2 {
            return true;
        }
        let nbytes = self.data.len() - 1;
        let probes = self.data[nbytes];
        if probes == 0 || probes > 30 {
            return true;
        }
        probe_bits(hash64(key), probes, nbytes * 8)
            .all(|bit| self.data[bit / 8] & (1 << (bit % 8)) != 0)
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

    #[test]
    fn no_false_negatives_few_false_positives() {
        let mut b = BloomBuilder::new(10);
        for i in 0..10_000 {
            b.add(format!("key{i}").as_bytes());
        }
        let f = Bloom::new(b.finish());
        assert!((0..10_000).all(|i| f.may_contain(format!("key{i}").as_bytes())));
        let fp = (0..10_000)
            .filter(|i| f.may_contain(format!("other{i}").as_bytes()))
            .count();
        assert!(fp < 300, "false positives {fp}");
        assert!(Bloom::new(BloomBuilder::new(0).finish()).may_contain(b"x"));
    }
}

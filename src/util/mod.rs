//! Small tools used by every layer: byte coding, checksums, hashing, clocks and
//! latency histograms. Each exists once here so the layers above agree on them.

pub(crate) mod checksum;
pub(crate) mod coding;
pub(crate) mod histogram;
pub(crate) mod key_order;
pub(crate) mod search;

/// Asks for the cache line at `p`, to be read soon (a hint: any address, even one
/// past an allocation, is allowed).
#[inline(always)]
pub(crate) fn prefetch(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults, whatever the address.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(p as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// A seeded RNG for a randomized unit test: the seed comes from `FLOWDB_SEED` or the
/// clock and is printed, so a failure can be replayed. (`tests/common::rng` is the
/// same for the integration tests, which cannot reach this.)
#[cfg(test)]
pub(crate) fn test_rng(test: &str) -> fastrand::Rng {
    let seed = std::env::var("FLOWDB_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| now_micros() as u64);
    println!("{test}: seed {seed} (replay with FLOWDB_SEED={seed})");
    fastrand::Rng::with_seed(seed)
}

/// Microseconds since the Unix epoch, the unit of `ts` and `expire_at`.
pub fn now_micros() -> i64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_micros().min(i64::MAX as u128) as i64,
        Err(e) => -(e.duration().as_micros().min(i64::MAX as u128) as i64),
    }
}

/// A 64-bit hash of a key for bloom filters (a fixed, portable function, so filters
/// written by one build are read correctly by another).
pub(crate) fn hash64(data: &[u8]) -> u64 {
    const M: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h: u64 = 0xCBF2_9CE4_8422_2325 ^ (data.len() as u64).wrapping_mul(M);
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let v = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h ^ v).wrapping_mul(M).rotate_left(29);
    }
    let mut tail = 0u64;
    for (i, b) in chunks.remainder().iter().enumerate() {
        tail |= (*b as u64) << (8 * i);
    }
    h = (h ^ tail).wrapping_mul(M);
    // Final avalanche (splitmix64).
    h ^= h >> 30;
    h = h.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94D0_49BB_1331_11EB);
    h ^ (h >> 31)
}

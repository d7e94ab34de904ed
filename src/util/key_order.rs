//! Byte-string keys for in-memory ordered maps, compared without a call to libc's
//! `memcmp`. Keys here are short (series names, JsonDB keys of 10–40 bytes) and
//! share long prefixes, and a B-tree search compares dozens of them per lookup: an
//! inlined comparison eight bytes at a time costs a fraction of a `memcmp` call. The
//! order is exactly `[u8]`'s: lexicographic, a prefix before its extensions.
//! Owned keys up to 32 bytes live inline in the map's nodes, so a search reads the
//! keys it compares from the node itself instead of one heap block per key.

use std::borrow::Borrow;
use std::cmp::Ordering;

/// Compares two byte strings as `[u8]::cmp` does.
#[inline]
pub(crate) fn compare(a: &[u8], b: &[u8]) -> Ordering {
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + 8 <= n {
        let x = u64::from_be_bytes(a[i..i + 8].try_into().expect("8 bytes"));
        let y = u64::from_be_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        if x != y {
            return x.cmp(&y);
        }
        i += 8;
    }
    while i < n {
        if a[i] != b[i] {
            return a[i].cmp(&b[i]);
        }
        i += 1;
    }
    a.len().cmp(&b.len())
}

/// A borrowed key: `[u8]` with `compare` as its order.
#[repr(transparent)]
#[derive(PartialEq, Eq, Hash, Debug)]
pub(crate) struct KeyRef(pub [u8]);

impl KeyRef {
    #[inline]
    pub(crate) fn new(b: &[u8]) -> &KeyRef {
        // SAFETY: KeyRef is repr(transparent) over [u8], so the layouts (and the
        // slice metadata) are identical.
        unsafe { &*(b as *const [u8] as *const KeyRef) }
    }
}

impl Ord for KeyRef {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        compare(&self.0, &other.0)
    }
}

impl PartialOrd for KeyRef {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// An owned key, ordered as `KeyRef`; maps keyed by it are searched with `KeyRef`s.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub(crate) struct Key(pub smallvec::SmallVec<[u8; 32]>);

impl Key {
    pub(crate) fn new(k: Vec<u8>) -> Key {
        if k.len() <= 32 {
            Key(smallvec::SmallVec::from_slice(&k))
        } else {
            Key(smallvec::SmallVec::from_vec(k))
        }
    }
}

impl std::ops::Deref for Key {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl Borrow<KeyRef> for Key {
    #[inline]
    fn borrow(&self) -> &KeyRef {
        KeyRef::new(&self.0)
    }
}

impl Ord for Key {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        compare(&self.0, &other.0)
    }
}

impl PartialOrd for Key {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_that_of_byte_slices() {
        let mut rng = crate::util::test_rng("order_is_that_of_byte_slices");
        let mut keys: Vec<Vec<u8>> = Vec::new();
        for _ in 0..2000 {
            // Shared prefixes, every length across the 8-byte steps, extreme bytes.
            let len = rng.usize(0..28);
            let mut k: Vec<u8> = (0..len)
                .map(|_| *rng.choice(&[0u8, 1, 0x7f, 0x80, 0xff]).unwrap())
                .collect();
            if rng.bool() && !keys.is_empty() {
                let other = &keys[rng.usize(..keys.len())];
                k = [&other[..rng.usize(..=other.len())], &k[..]].concat();
            }
            keys.push(k);
        }
        for a in &keys {
            let b = &keys[rng.usize(..keys.len())];
            assert_eq!(
                compare(a, b),
                a.as_slice().cmp(b.as_slice()),
                "{a:?} vs {b:?}"
            );
            assert_eq!(compare(a, a), Ordering::Equal);
            assert_eq!(Key::new(a.clone()).cmp(&Key::new(b.clone())), a.cmp(b));
            assert_eq!(&*Key::new(a.clone()), a.as_slice());
            assert_eq!(KeyRef::new(a).cmp(KeyRef::new(b)), a.cmp(b));
        }
    }
}

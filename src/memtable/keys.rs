//! The memtable's keys, kept two ways: in order, for scans and seeks, and hashed, for
//! point reads and for writes to a key already present.
//!
//! A JsonDB memtable holds hundreds of thousands of keys (every document and every
//! index entry). A B-tree lookup among them walks about seven nodes, most of them
//! cache misses; a hash lookup costs about one. So each key's slot (its key and its
//! value) is allocated once, and both the B-tree (key → slot) and a hash table (hash →
//! slot) point at it. Slots never move and are freed only with the map: a memtable
//! only grows until it is dropped whole.
//!
//! The hash table keeps each key's hash beside its pointer, so growing it rehashes
//! without reading the slots, and it is split in `SHARDS` tables by the hash's top
//! bits, so each growth moves a 64th of the keys. One table of 900K keys took 27–42 ms
//! to grow, under the write lock, while readers waited. The hasher is seeded per map
//! (ahash's random state), so keys cannot be chosen to collide.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::ptr::NonNull;

use hashbrown::HashTable;

use crate::util::key_order::{Key, KeyRef};

struct Slot<V> {
    key: Key,
    value: V,
}

const SHARDS: usize = 64;

type Shard<V> = HashTable<(u64, NonNull<Slot<V>>)>;

pub(crate) struct KeyMap<V> {
    order: BTreeMap<Key, NonNull<Slot<V>>>,
    hashed: [Shard<V>; SHARDS],
    state: ahash::RandomState,
}

// SAFETY: the slots are owned by the map (allocated in `entry`, freed in `drop`), and
// reached only through `&self` (shared) or `&mut self` (exclusive) methods, as if the
// map held them by value.
unsafe impl<V: Send> Send for KeyMap<V> {}
// SAFETY: as for Send, above.
unsafe impl<V: Sync> Sync for KeyMap<V> {}

impl<V> KeyMap<V> {
    /// Bytes of one key's slot (its key and value), allocated once per key.
    pub(crate) const SLOT: usize = std::mem::size_of::<Slot<V>>();

    pub(crate) fn new() -> Self {
        KeyMap {
            order: BTreeMap::new(),
            hashed: std::array::from_fn(|_| HashTable::new()),
            state: ahash::RandomState::new(),
        }
    }

    fn hash(&self, key: &[u8]) -> u64 {
        self.state.hash_one(key)
    }

    fn shard(h: u64) -> usize {
        (h >> (64 - SHARDS.trailing_zeros())) as usize
    }

    fn find(&self, h: u64, key: &[u8]) -> Option<NonNull<Slot<V>>> {
        self.hashed[Self::shard(h)]
            .find(h, |(hh, p)| {
                // SAFETY: every pointer in the table is a live slot of this map.
                *hh == h && unsafe { &p.as_ref().key[..] } == key
            })
            .map(|(_, p)| *p)
    }

    pub(crate) fn get(&self, key: &[u8]) -> Option<&V> {
        // SAFETY: the slot lives as long as the map, and `&self` excludes writers.
        self.find(self.hash(key), key)
            .map(|p| unsafe { &(*p.as_ptr()).value })
    }

    /// The value of `key`, made by `make` if the key is new (a borrowed key is
    /// copied only then).
    pub(crate) fn entry<K: AsRef<[u8]> + Into<Vec<u8>>>(
        &mut self,
        key: K,
        make: impl FnOnce() -> V,
    ) -> &mut V {
        let h = self.hash(key.as_ref());
        let p = match self.find(h, key.as_ref()) {
            Some(p) => p,
            None => {
                let key = Key::new(key.into());
                let slot = Box::new(Slot {
                    key: key.clone(),
                    value: make(),
                });
                let p = NonNull::from(Box::leak(slot));
                self.order.insert(key, p);
                self.hashed[Self::shard(h)].insert_unique(h, (h, p), |(hh, _)| *hh);
                p
            }
        };
        // SAFETY: `&mut self` makes this the only reference to any slot.
        unsafe { &mut (*p.as_ptr()).value }
    }

    /// Keys `>= from` in order, with their values.
    pub(crate) fn range_from<'a>(
        &'a self,
        from: &[u8],
    ) -> impl Iterator<Item = (&'a [u8], &'a V)> + 'a {
        self.order
            .range::<KeyRef, _>((Bound::Included(KeyRef::new(from)), Bound::Unbounded))
            // SAFETY: as in `get`.
            .map(|(k, p)| (&k[..], unsafe { &(*p.as_ptr()).value }))
    }

    /// Keys up to `to` (included or not; all when unbounded), greatest first, with
    /// their values.
    pub(crate) fn range_back<'a>(
        &'a self,
        to: Bound<&[u8]>,
    ) -> impl Iterator<Item = (&'a [u8], &'a V)> + 'a {
        let to = match to {
            Bound::Included(k) => Bound::Included(KeyRef::new(k)),
            Bound::Excluded(k) => Bound::Excluded(KeyRef::new(k)),
            Bound::Unbounded => Bound::Unbounded,
        };
        self.order
            .range::<KeyRef, _>((Bound::Unbounded, to))
            .rev()
            // SAFETY: as in `get`.
            .map(|(k, p)| (&k[..], unsafe { &(*p.as_ptr()).value }))
    }
}

impl<V> Drop for KeyMap<V> {
    fn drop(&mut self) {
        self.hashed.iter_mut().for_each(HashTable::clear);
        for (_, p) in std::mem::take(&mut self.order) {
            // SAFETY: each slot was leaked from a Box in `entry` and is freed once.
            drop(unsafe { Box::from_raw(p.as_ptr()) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against a BTreeMap model: random keys with shared prefixes, lookups of present
    /// and absent keys, and ordered walks from random points (seed logged).
    #[test]
    fn behaves_as_an_ordered_map() {
        let mut rng = crate::util::test_rng("behaves_as_an_ordered_map");
        let mut map: KeyMap<Vec<u64>> = KeyMap::new();
        let mut model: BTreeMap<Vec<u8>, Vec<u64>> = BTreeMap::new();
        let key = |rng: &mut fastrand::Rng| -> Vec<u8> {
            let len = rng.usize(0..40);
            (0..len)
                .map(|_| *rng.choice(&[0u8, 1, 0x7f, 0xff]).unwrap())
                .collect()
        };
        for i in 0..20_000u64 {
            let k = key(&mut rng);
            map.entry(k.clone(), Vec::new).push(i);
            model.entry(k).or_default().push(i);
            if i % 97 == 0 {
                let probe = key(&mut rng);
                assert_eq!(map.get(&probe), model.get(&probe), "{probe:?}");
                let got: Vec<_> = map
                    .range_from(&probe)
                    .take(20)
                    .map(|(k, v)| (k.to_vec(), v.clone()))
                    .collect();
                let want: Vec<_> = model
                    .range(probe.clone()..)
                    .take(20)
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                assert_eq!(got, want, "from {probe:?}");
            }
        }
        for (k, v) in &model {
            assert_eq!(map.get(k), Some(v));
        }
        assert_eq!(map.range_from(&[]).count(), model.len());
    }
}

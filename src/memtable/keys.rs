//! The memtable's keys, kept two ways: in order, for scans and seeks, and hashed, for
//! point reads and for writes to a key already present.
//!
//! A JsonDB memtable holds hundreds of thousands of keys (every document and every
//! index entry). A B-tree lookup among them walks about seven nodes, most of them
//! cache misses; a hash lookup costs about one. So each key's slot (its key and its
//! value) is made once, in the map's arena (`arena`), and both the B-tree (key →
//! slot) and a hash table (hash → slot) point at it. Slots never move and go with the
//! map: a memtable only grows until it is dropped whole.
//!
//! The hash table keeps each key's hash beside its pointer, so growing it rehashes
//! without reading the slots, and it is split in `SHARDS` tables by the hash's top
//! bits, so each growth moves a 64th of the keys. One table of 900K keys took 27–42 ms
//! to grow, under the write lock, while readers waited. The hasher is seeded per map
//! (ahash's random state), so keys cannot be chosen to collide.

use std::alloc::Layout;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::ptr::NonNull;

use hashbrown::HashTable;

use super::arena::{Arena, MemBytes};
use crate::util::key_order::{Key, KeyRef};

struct Slot<V> {
    key: MemBytes,
    value: V,
}

const SHARDS: usize = 64;

type Shard<V> = HashTable<(u64, NonNull<Slot<V>>)>;

pub(crate) struct KeyMap<V> {
    order: BTreeMap<Key, NonNull<Slot<V>>>,
    hashed: [Shard<V>; SHARDS],
    state: ahash::RandomState,
    /// The slots, their keys and what the values keep there; dropped after them.
    arena: Arena,
}

// SAFETY: the slots are owned by the map (made in `upsert`, dropped in `drop`), and
// reached only through `&self` (shared) or `&mut self` (exclusive) methods, as if the
// map held them by value.
unsafe impl<V: Send> Send for KeyMap<V> {}
// SAFETY: as for Send, above.
unsafe impl<V: Sync> Sync for KeyMap<V> {}

impl<V> KeyMap<V> {
    pub(crate) fn new() -> Self {
        KeyMap {
            order: BTreeMap::new(),
            hashed: std::array::from_fn(|_| HashTable::new()),
            state: ahash::RandomState::new(),
            arena: Arena::new(),
        }
    }

    /// Bytes the arena holds (slots, their keys, what values keep there).
    pub(crate) fn arena_bytes(&self) -> usize {
        self.arena.used()
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

    /// Updates the value of `key` with `update`, or makes it with `make` when the key
    /// is new (only then is the key copied: into the slot and the B-tree); each may
    /// keep bytes in the arena, in the value only. Returns `update`'s result, or for a
    /// new key `new_key` of the B-tree's copy of it.
    pub(crate) fn upsert<K: AsRef<[u8]> + Into<Vec<u8>>, R>(
        &mut self,
        key: K,
        make: impl FnOnce(&mut Arena) -> V,
        update: impl FnOnce(&mut V, &mut Arena) -> R,
        new_key: impl FnOnce(&Key) -> R,
    ) -> R {
        let h = self.hash(key.as_ref());
        if let Some(p) = self.find(h, key.as_ref()) {
            // SAFETY: `&mut self` makes this the only reference to any slot.
            return update(unsafe { &mut (*p.as_ptr()).value }, &mut self.arena);
        }
        let slot = Slot {
            // SAFETY: the slot lives in this map, dropped before its arena.
            key: unsafe { self.arena.bytes(key.as_ref()) },
            value: make(&mut self.arena),
        };
        let p = self.arena.alloc(Layout::new::<Slot<V>>()).cast::<Slot<V>>();
        // SAFETY: a fresh arena allocation with `Slot<V>`'s layout.
        unsafe { p.as_ptr().write(slot) };
        let key = Key::new(key.into());
        let added = new_key(&key);
        self.order.insert(key, p);
        self.hashed[Self::shard(h)].insert_unique(h, (h, p), |(hh, _)| *hh);
        added
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
    /// Drops the values in their slots (the arena then frees the memory).
    fn drop(&mut self) {
        for shard in &mut self.hashed {
            if std::mem::needs_drop::<V>() {
                for (_, p) in shard.iter() {
                    // SAFETY: each slot is in exactly one shard, written in
                    // `upsert`, and dropped once, here.
                    unsafe { std::ptr::drop_in_place(p.as_ptr()) };
                }
            }
            shard.clear();
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
            map.upsert(k.clone(), |_| vec![i], |v, _| v.push(i), |_| ());
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

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
    /// The slot the `n`th key of the last batch went to ([`upsert_nth`](Self::upsert_nth)):
    /// a scrape writes the same series in the same order batch after batch, so the
    /// `n`th key's slot is known before its hash, and can be asked for ahead. At
    /// most `MEMO_MOST` pointers (512 KiB), not counted in the memtable's size.
    memo: Vec<NonNull<Slot<V>>>,
}

/// Positions of a batch past this are not remembered.
const MEMO_MOST: usize = 1 << 16;

// SAFETY: the slots are owned by the map (made in `upsert_slot`, dropped in `drop`), and
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
            memo: Vec::new(),
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
    /// new key `new_key` of the B-tree's copy of it. `nth`: the key is the `nth` of
    /// a batch (counted from 0 in the order written), and is tried first in the slot
    /// the last batch's `nth` key went to.
    pub(crate) fn upsert_nth<K: AsRef<[u8]> + Into<Vec<u8>>, R>(
        &mut self,
        nth: usize,
        key: K,
        make: impl FnOnce(&mut Arena) -> V,
        update: impl FnOnce(&mut V, &mut Arena) -> R,
        new_key: impl FnOnce(&Key) -> R,
    ) -> R {
        if let Some(&p) = self.memo.get(nth) {
            // SAFETY: the memo holds live slots of this map, and `&mut self` makes
            // this the only reference to any.
            if unsafe { &p.as_ref().key[..] } == key.as_ref() {
                // SAFETY: as above.
                return update(unsafe { &mut (*p.as_ptr()).value }, &mut self.arena);
            }
        }
        let (r, p) = self.upsert_slot(key, make, update, new_key);
        let len = self.memo.len();
        match self.memo.get_mut(nth) {
            Some(m) => *m = p,
            None if nth == len && nth < MEMO_MOST => self.memo.push(p),
            None => {}
        }
        r
    }

    /// Asks for the slot the last batch's `nth` key went to (a hint, read by
    /// [`upsert_nth`](Self::upsert_nth) some keys later).
    #[inline]
    pub(crate) fn prefetch_nth(&self, nth: usize) {
        if let Some(p) = self.memo.get(nth) {
            crate::util::prefetch(p.as_ptr().cast());
        }
    }

    /// Asks for the key bytes in the slot the last batch's `nth` key went to, and
    /// hands its value to `ahead` to ask for what it points to: call it once the
    /// slot itself has arrived ([`prefetch_nth`](Self::prefetch_nth) earlier).
    #[inline]
    pub(crate) fn prefetch_in_nth(&self, nth: usize, ahead: impl FnOnce(&V)) {
        if let Some(p) = self.memo.get(nth) {
            // SAFETY: a live slot; `&self` excludes writers.
            let slot = unsafe { p.as_ref() };
            crate::util::prefetch(slot.key[..].as_ptr());
            ahead(&slot.value);
        }
    }

    /// `upsert_nth` without the memo, and the key's slot.
    fn upsert_slot<K: AsRef<[u8]> + Into<Vec<u8>>, R>(
        &mut self,
        key: K,
        make: impl FnOnce(&mut Arena) -> V,
        update: impl FnOnce(&mut V, &mut Arena) -> R,
        new_key: impl FnOnce(&Key) -> R,
    ) -> (R, NonNull<Slot<V>>) {
        let h = self.hash(key.as_ref());
        if let Some(p) = self.find(h, key.as_ref()) {
            // SAFETY: `&mut self` makes this the only reference to any slot.
            let r = update(unsafe { &mut (*p.as_ptr()).value }, &mut self.arena);
            return (r, p);
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
        (added, p)
    }

    /// Keys `>= from` in order, with their values. With `ahead`, the slots of the
    /// keys to come are asked of memory ahead of their turn ([`Ahead`]): for scans
    /// that will read many keys (a short one would only pay for keys it never reads).
    pub(crate) fn range_from<'a>(
        &'a self,
        from: &[u8],
        ahead: bool,
    ) -> impl Iterator<Item = (&'a [u8], &'a V)> + 'a {
        let order = self
            .order
            .range::<KeyRef, _>((Bound::Included(KeyRef::new(from)), Bound::Unbounded));
        Ahead::new(order, if ahead { AHEAD } else { 1 })
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

/// How many keys ahead of a scan their slots are asked for (a power of two).
const AHEAD: usize = 8;
const _: () = assert!(AHEAD.is_power_of_two());

/// A key and its slot, taken from the order ahead of their turn.
type Pulled<'a, V> = (&'a Key, NonNull<Slot<V>>);

/// Keys in order with their values, the slot of the key `depth - 1` places on asked
/// of memory (prefetched) as each is handed out. A slot lies where its key was
/// written, so keys read in order are slots far apart (an index's entries, written
/// with their documents): a scan over a memtable waited on memory at each key
/// (~180 ns a key of an index range, against ~30 ns read from a table's block).
struct Ahead<'a, V, I> {
    order: I,
    ring: [Option<Pulled<'a, V>>; AHEAD],
    /// How many of the ring are used: 1 asks for nothing ahead.
    depth: usize,
    /// The ring's slot handed out next.
    at: usize,
}

impl<'a, V: 'a, I> Ahead<'a, V, I>
where
    I: Iterator<Item = (&'a Key, &'a NonNull<Slot<V>>)>,
{
    /// The walk over `order`, its first `depth - 1` keys pulled (and their slots
    /// asked for) at once.
    fn new(order: I, depth: usize) -> Self {
        let mut a = Ahead {
            order,
            ring: [None; AHEAD],
            depth,
            at: 0,
        };
        for i in 0..depth - 1 {
            a.ring[i] = a.pull();
        }
        a
    }

    fn pull(&mut self) -> Option<Pulled<'a, V>> {
        let (k, p) = self.order.next()?;
        if self.depth > 1 {
            crate::util::prefetch(p.as_ptr().cast());
        }
        Some((k, *p))
    }
}

impl<'a, V: 'a, I> Iterator for Ahead<'a, V, I>
where
    I: Iterator<Item = (&'a Key, &'a NonNull<Slot<V>>)>,
{
    type Item = (&'a [u8], &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        // `depth` is a power of two (1 or AHEAD): the ring wraps by a mask, not a
        // division.
        let mask = self.depth - 1;
        self.ring[(self.at + mask) & mask] = self.pull();
        let (k, p) = self.ring[self.at].take()?;
        self.at = (self.at + 1) & mask;
        // SAFETY: as in `get`.
        Some((&k[..], unsafe { &(*p.as_ptr()).value }))
    }
}

impl<V> Drop for KeyMap<V> {
    /// Drops the values in their slots (the arena then frees the memory).
    fn drop(&mut self) {
        for shard in &mut self.hashed {
            if std::mem::needs_drop::<V>() {
                for (_, p) in shard.iter() {
                    // SAFETY: each slot is in exactly one shard, written in
                    // `upsert_slot`, and dropped once, here.
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

    /// Against a BTreeMap model: random keys with shared prefixes, written in batches
    /// whose order the memo of `upsert_nth` mostly knows, lookups of present and
    /// absent keys, and ordered walks from random points (seed logged).
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
        // Batches of keys written mostly in the order of the batch before (the
        // memo of `upsert_nth` right), sometimes not (wrong), and new keys.
        let mut batch: Vec<Vec<u8>> = (0..50).map(|_| key(&mut rng)).collect();
        for i in 0..20_000u64 {
            let nth = (i % 50) as usize;
            if nth == 0 {
                for _ in 0..rng.usize(0..4) {
                    let (a, b) = (rng.usize(..50), rng.usize(..50));
                    batch.swap(a, b);
                }
                for _ in 0..rng.usize(0..3) {
                    batch[rng.usize(..50)] = key(&mut rng);
                }
            }
            let k = batch[nth].clone();
            map.prefetch_nth(nth + 2);
            map.prefetch_in_nth(nth + 1, |_| ());
            map.upsert_nth(nth, k.clone(), |_| vec![i], |v, _| v.push(i), |_| ());
            model.entry(k).or_default().push(i);
            if i % 97 == 0 {
                let probe = key(&mut rng);
                assert_eq!(map.get(&probe), model.get(&probe), "{probe:?}");
                let got: Vec<_> = map
                    .range_from(&probe, i % 2 == 0)
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
        assert_eq!(map.range_from(&[], true).count(), model.len());
        assert_eq!(map.range_from(&[], false).count(), model.len());
    }
}

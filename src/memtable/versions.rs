//! One key's versions in a memtable, ordered by `(ts, newest sequence first)`.
//!
//! Three shapes, for the three ways keys are written:
//! - **One**: most keys of a document store hold one version, kept inline.
//! - **Run**: a time series appends its points in time order. A sorted array takes
//!   each at its end, and holds a version in its 56 bytes, plus growth room. While
//!   short (up to 16 versions) the array lives in the memtable's arena (`arena`),
//!   where the copies it outgrew stay until the memtable goes (up to 14 versions'
//!   worth, 784 bytes, for a run of 9–16); longer ones take a block of their own,
//!   freed as they grow (25% growth room on average). A B-tree filled in
//!   ascending order leaves its nodes about half full: 109 bytes a version,
//!   measured, so a memtable of time series took ~40% more memory than it accounted.
//! - **Tree**: a key written out of order. A run takes an out-of-order version by
//!   inserting it in place while it is short; past `RUN_MAX_SHIFT` versions it becomes
//!   a B-tree, so late data never moves a long run again and again.

use std::alloc::Layout;
use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::ptr::NonNull;

use super::arena::Arena;
use super::{footprint, MemValue};

/// A version's place among one key's versions: `(ts, Reverse(seq))` ascending, so
/// newest first within a ts.
pub(super) type VKey = (i64, Reverse<u64>);

/// The longest run that still takes an out-of-order version in place.
const RUN_MAX_SHIFT: usize = 64;

#[derive(Debug)]
pub(super) enum Versions {
    One(VKey, MemValue),
    Run(Run),
    Tree(BTreeMap<VKey, MemValue>),
}

/// One of two iterator types, as one.
enum Either<A, B> {
    A(A),
    B(B),
}

impl<T, A: Iterator<Item = T>, B: Iterator<Item = T>> Iterator for Either<A, B> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        match self {
            Either::A(a) => a.next(),
            Either::B(b) => b.next(),
        }
    }
}

impl<T, A: DoubleEndedIterator<Item = T>, B: DoubleEndedIterator<Item = T>> DoubleEndedIterator
    for Either<A, B>
{
    fn next_back(&mut self) -> Option<T> {
        match self {
            Either::A(a) => a.next_back(),
            Either::B(b) => b.next_back(),
        }
    }
}

type Item<'a> = (&'a VKey, &'a MemValue);

fn pairs(run: &[(VKey, MemValue)]) -> impl DoubleEndedIterator<Item = Item<'_>> {
    run.iter().map(|(k, v)| (k, v))
}

type RunEntry = (VKey, MemValue);

/// One version in a run.
const RUN_ENTRY: usize = std::mem::size_of::<RunEntry>();

/// The most versions a run holds in the arena; a longer one has a block of its own.
const ARENA_RUN: usize = 16;

/// A sorted array of versions: `len` of `cap` in use, in the arena while `cap <=
/// ARENA_RUN`, else in a block of its own (freed on growth and on drop).
pub(super) struct Run {
    ptr: NonNull<RunEntry>,
    len: usize,
    cap: usize,
}

// SAFETY: a run owns its versions (they are `Copy` and point only into the arena,
// which outlives the run), as a `Vec` would.
unsafe impl Send for Run {}
// SAFETY: as for Send.
unsafe impl Sync for Run {}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

impl Run {
    /// A run of two versions, in order.
    fn of_two(arena: &mut Arena, a: RunEntry, b: RunEntry) -> Run {
        let mut run = Run {
            ptr: NonNull::dangling(),
            len: 0,
            cap: 0,
        };
        run.push(arena, a);
        run.push(arena, b);
        run
    }

    fn as_slice(&self) -> &[RunEntry] {
        // SAFETY: the first `len` entries are initialized, in a live allocation.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    fn as_mut_slice(&mut self) -> &mut [RunEntry] {
        // SAFETY: as in `as_slice`, and `&mut self` is the only access.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }

    fn own_block(&self) -> bool {
        self.cap > ARENA_RUN
    }

    /// Bytes of its block of its own (none while it lives in the arena).
    fn heap_bytes(&self) -> usize {
        match self.own_block() {
            true => footprint::heap(self.cap * RUN_ENTRY),
            false => 0,
        }
    }

    fn push(&mut self, arena: &mut Arena, e: RunEntry) {
        self.insert(arena, self.len, e);
    }

    /// Inserts `e` at `i`, moving the versions after it up.
    fn insert(&mut self, arena: &mut Arena, i: usize, e: RunEntry) {
        if self.len == self.cap {
            self.grow(arena);
        }
        // SAFETY: `len < cap`, so entries `i..len` move up by one within the array,
        // and slot `i` is then free to write.
        unsafe {
            let p = self.ptr.as_ptr().add(i);
            std::ptr::copy(p, p.add(1), self.len - i);
            p.write(e);
        }
        self.len += 1;
    }

    fn grow(&mut self, arena: &mut Arena) {
        let cap = (self.cap * 2).max(2);
        let layout = Layout::array::<RunEntry>(cap).expect("run layout");
        let ptr = match cap > ARENA_RUN {
            // SAFETY: the layout's size is not zero.
            true => match NonNull::new(unsafe { std::alloc::alloc(layout) }) {
                Some(p) => p.cast(),
                None => std::alloc::handle_alloc_error(layout),
            },
            false => arena.alloc(layout).cast(),
        };
        // SAFETY: both arrays hold at least `len` entries and do not overlap.
        unsafe { std::ptr::copy_nonoverlapping(self.ptr.as_ptr(), ptr.as_ptr(), self.len) };
        self.free();
        (self.ptr, self.cap) = (ptr, cap);
    }

    /// Frees the block of its own, if it has one (arena arrays go with the arena).
    fn free(&mut self) {
        if self.own_block() {
            let layout = Layout::array::<RunEntry>(self.cap).expect("run layout");
            // SAFETY: allocated in `grow` with this layout; the caller replaces or
            // forgets the pointer.
            unsafe { std::alloc::dealloc(self.ptr.as_ptr().cast(), layout) };
        }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        self.free();
    }
}

impl Versions {
    /// Adds or replaces the version at `k` (its value already in `arena`); returns the
    /// change in the bytes these versions hold from the allocator outside the arena
    /// (`footprint`): a long run's block, a tree's nodes.
    pub(super) fn insert(&mut self, k: VKey, v: MemValue, arena: &mut Arena) -> isize {
        let before = self.structure_bytes();
        match self {
            Versions::One(k0, v0) if *k0 == k => *v0 = v,
            Versions::One(k0, v0) => {
                let (a, b) = ((*k0, *v0), (k, v));
                let (a, b) = if a.0 < b.0 { (a, b) } else { (b, a) };
                *self = Versions::Run(Run::of_two(arena, a, b));
            }
            Versions::Run(run) => {
                if run.as_slice().last().is_some_and(|(last, _)| *last < k) {
                    run.push(arena, (k, v));
                } else {
                    match run.as_slice().binary_search_by(|(x, _)| x.cmp(&k)) {
                        Ok(i) => run.as_mut_slice()[i].1 = v,
                        Err(i) if run.len <= RUN_MAX_SHIFT => run.insert(arena, i, (k, v)),
                        Err(_) => {
                            let mut tree: BTreeMap<VKey, MemValue> =
                                run.as_slice().iter().copied().collect();
                            tree.insert(k, v);
                            *self = Versions::Tree(tree);
                        }
                    }
                }
            }
            Versions::Tree(m) => {
                m.insert(k, v);
            }
        }
        self.structure_bytes() as isize - before as isize
    }

    /// The blocks outside the arena holding the versions: a long run's by its
    /// capacity, a tree's entries at its nodes' average fill.
    fn structure_bytes(&self) -> usize {
        match self {
            Versions::One(..) => 0,
            Versions::Run(run) => run.heap_bytes(),
            Versions::Tree(m) => m.len() * footprint::btree_entry(RUN_ENTRY),
        }
    }

    /// Asks for the newest version of a run, which a version added after it reads
    /// and writes beside (a hint).
    #[inline]
    pub(super) fn prefetch_tail(&self) {
        if let Versions::Run(run) = self {
            crate::util::prefetch(
                run.ptr
                    .as_ptr()
                    .wrapping_add(run.len.saturating_sub(1))
                    .cast(),
            );
        }
    }

    /// Versions `>= from`, ascending.
    pub(super) fn from(&self, from: VKey) -> impl DoubleEndedIterator<Item = Item<'_>> {
        match self {
            Versions::One(k, v) => Either::A((*k >= from).then_some((k, v)).into_iter()),
            Versions::Run(run) => {
                let run = run.as_slice();
                let i = run.partition_point(|(x, _)| *x < from);
                Either::B(Either::A(pairs(&run[i..])))
            }
            Versions::Tree(m) => Either::B(Either::B(m.range(from..))),
        }
    }

    /// Versions `< below` (all when `None`), ascending.
    pub(super) fn before(&self, below: Option<VKey>) -> impl DoubleEndedIterator<Item = Item<'_>> {
        match self {
            Versions::One(k, v) => {
                Either::A(below.map_or(true, |b| *k < b).then_some((k, v)).into_iter())
            }
            Versions::Run(run) => {
                let run = run.as_slice();
                let j = below.map_or(run.len(), |b| run.partition_point(|(x, _)| *x < b));
                Either::B(Either::A(pairs(&run[..j])))
            }
            Versions::Tree(m) => Either::B(Either::B(match below {
                Some(b) => m.range(..b),
                None => m.range(..),
            })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Kind;

    /// A version whose value is `n`, padded past the inline limit when `long`.
    fn value(arena: &mut Arena, n: u64, long: bool) -> MemValue {
        let mut bytes = n.to_be_bytes().to_vec();
        if long {
            bytes.resize(40, b'x');
        }
        MemValue {
            kind: Kind::Put,
            expire_at: 0,
            // SAFETY: each test round drops its versions before its arena.
            value: unsafe { arena.bytes(&bytes) },
        }
    }

    /// Against a BTreeMap model: ascending runs, late and repeated versions (so all
    /// three shapes occur), then `from` and `before` at random points, both ways.
    #[test]
    fn behave_as_an_ordered_map() {
        let mut rng = crate::util::test_rng("behave_as_an_ordered_map");
        for round in 0..200 {
            let mut model: BTreeMap<VKey, u64> = BTreeMap::new();
            let first = (rng.i64(0..50), Reverse(rng.u64(0..4)));
            let mut arena = Arena::new();
            let long = rng.bool();
            let mut vs = Versions::One(first, value(&mut arena, 0, long));
            model.insert(first, 0);
            let late = rng.u8(..4); // how often a version arrives out of order
            let mut ts = first.0;
            for n in 1..rng.u64(1..300) {
                let k = if rng.u8(..8) < late {
                    (rng.i64(0..ts + 2), Reverse(rng.u64(0..4)))
                } else {
                    ts += rng.i64(0..3);
                    (ts, Reverse(rng.u64(0..4)))
                };
                vs.insert(k, value(&mut arena, n, long), &mut arena);
                model.insert(k, n);
            }
            // Walked forwards or backwards (`rev`), the versions match the model's.
            let check = |it: &mut dyn DoubleEndedIterator<Item = Item<'_>>,
                         rev: bool,
                         model: Vec<(&VKey, &u64)>,
                         what: String| {
                let number = |v: &MemValue| u64::from_be_bytes(v.value[..8].try_into().unwrap());
                let mut want: Vec<(VKey, u64)> = model.into_iter().map(|(k, v)| (*k, *v)).collect();
                let got: Vec<(VKey, u64)> = if rev {
                    want.reverse();
                    it.rev().map(|(k, v)| (*k, number(v))).collect()
                } else {
                    it.map(|(k, v)| (*k, number(v))).collect()
                };
                assert_eq!(got, want, "round {round}: {what}");
            };
            for _ in 0..20 {
                let at = (rng.i64(-1..ts + 3), Reverse(rng.u64(0..5)));
                let rev = rng.bool();
                check(
                    &mut vs.from(at),
                    rev,
                    model.range(at..).collect(),
                    format!("from {at:?}"),
                );
                let below = rng.bool().then_some(at);
                let older = match below {
                    Some(b) => model.range(..b).collect(),
                    None => model.iter().collect(),
                };
                check(
                    &mut vs.before(below),
                    rev,
                    older,
                    format!("before {below:?}"),
                );
            }
        }
    }
}

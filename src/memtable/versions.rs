//! One key's versions in a memtable, ordered by `(ts, newest sequence first)`.
//!
//! Three shapes, for the three ways keys are written:
//! - **One**: most keys of a document store hold one version, kept inline.
//! - **Run**: a time series appends its points in time order. A sorted `Vec` takes
//!   each at its end, and holds a version in its 56 bytes (plus the `Vec`'s growth
//!   room, 25% on average). A B-tree filled in ascending order leaves its nodes about
//!   half full: 109 bytes a version, measured, so a memtable of time series took ~40%
//!   more memory than it accounted.
//! - **Tree**: a key written out of order. A run takes an out-of-order version by
//!   inserting it in place while it is short; past `RUN_MAX_SHIFT` versions it becomes
//!   a B-tree, so late data never moves a long run again and again.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use super::{footprint, MemValue};

/// A version's place among one key's versions: `(ts, Reverse(seq))` ascending, so
/// newest first within a ts.
pub(super) type VKey = (i64, Reverse<u64>);

/// The longest run that still takes an out-of-order version in place.
const RUN_MAX_SHIFT: usize = 64;

#[derive(Debug)]
pub(super) enum Versions {
    One(VKey, MemValue),
    Run(Vec<(VKey, MemValue)>),
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

/// One version in a run.
const RUN_ENTRY: usize = std::mem::size_of::<(VKey, MemValue)>();

impl Versions {
    /// Adds or replaces the version at `k`; returns the change in the bytes these
    /// versions hold from the allocator (`footprint`), `v`'s own block included.
    pub(super) fn insert(&mut self, k: VKey, v: MemValue) -> isize {
        let own = footprint::value(v.value.len()) as isize;
        let before = self.structure_bytes();
        let replaced = match self {
            Versions::One(k0, v0) if *k0 == k => Some(std::mem::replace(v0, v)),
            Versions::One(..) => {
                let Versions::One(k0, v0) = std::mem::replace(self, Versions::Run(Vec::new()))
                else {
                    return 0;
                };
                let run = if k0 < k {
                    vec![(k0, v0), (k, v)]
                } else {
                    vec![(k, v), (k0, v0)]
                };
                *self = Versions::Run(run);
                None
            }
            Versions::Run(run) => {
                if run.last().is_some_and(|(last, _)| *last < k) {
                    run.push((k, v));
                    None
                } else {
                    match run.binary_search_by(|(x, _)| x.cmp(&k)) {
                        Ok(i) => Some(std::mem::replace(&mut run[i].1, v)),
                        Err(i) if run.len() <= RUN_MAX_SHIFT => {
                            run.insert(i, (k, v));
                            None
                        }
                        Err(_) => {
                            let mut tree: BTreeMap<VKey, MemValue> =
                                std::mem::take(run).into_iter().collect();
                            tree.insert(k, v);
                            *self = Versions::Tree(tree);
                            None
                        }
                    }
                }
            }
            Versions::Tree(m) => m.insert(k, v),
        };
        let freed = replaced.map_or(0, |old| footprint::value(old.value.len())) as isize;
        own - freed + self.structure_bytes() as isize - before as isize
    }

    /// The blocks of the structure holding the versions (not their values' own):
    /// nothing for one version (it lives in the key's slot), a run's `Vec` by its
    /// capacity, a tree's entries at its nodes' average fill.
    fn structure_bytes(&self) -> usize {
        match self {
            Versions::One(..) => 0,
            Versions::Run(run) => footprint::vec(run.capacity(), RUN_ENTRY),
            Versions::Tree(m) => m.len() * footprint::btree_entry(RUN_ENTRY),
        }
    }

    /// Versions `>= from`, ascending.
    pub(super) fn from(&self, from: VKey) -> impl DoubleEndedIterator<Item = Item<'_>> {
        match self {
            Versions::One(k, v) => Either::A((*k >= from).then_some((k, v)).into_iter()),
            Versions::Run(run) => {
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

    fn value(n: u64) -> MemValue {
        MemValue {
            kind: Kind::Put,
            expire_at: 0,
            value: smallvec::SmallVec::from_slice(&n.to_be_bytes()),
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
            let mut vs = Versions::One(first, value(0));
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
                vs.insert(k, value(n));
                model.insert(k, n);
            }
            // Walked forwards or backwards (`rev`), the versions match the model's.
            let check = |it: &mut dyn DoubleEndedIterator<Item = Item<'_>>,
                         rev: bool,
                         model: Vec<(&VKey, &u64)>,
                         what: String| {
                let number = |v: &MemValue| u64::from_be_bytes(v.value[..].try_into().unwrap());
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

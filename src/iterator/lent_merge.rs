//! A forward merge that lends: the newest version of each `(key, ts)` across
//! memtable and table sources, handed to a visitor as borrowed key and value, with
//! no record built for what comes from a table (its key is read in the block
//! iterator's buffer, its value in the block). `Snapshot::visit` uses it ([`visit`],
//! live records) when no range tombstone applies, and flush's and compaction's table
//! writer ([`each_newest`], every newest version, tombstones and expired records
//! included); `MergeIter` stays the owning merge under `ScanIterator`.
//!
//! Sources are few (a memtable or two, a handful of runs), so each step scans them
//! for the smallest current `(key, ts)` instead of keeping a heap: the comparisons
//! read the keys where they lie. Of equal `(key, ts)`, the version with the highest
//! sequence wins (memtable versions carry theirs; a table's entries take the table's
//! smallest), as in `MergeIter`; the others are stepped past. Once one source wins
//! the choice twice in a row, it is stepped alone while it stays below the smallest
//! of the others (a [`run`]): sources whose key ranges do not interleave are read
//! mostly in such runs.

use std::cmp::Ordering;
use std::collections::VecDeque;

use crate::entry::{cmp_key_ts, live, EntryRef, Kind};
use crate::error::Result;
use crate::memtable::MemCursor;
use crate::point::Summary;
use crate::sstable::block_stats::Parts;
use crate::sstable::cursor::{Ask, Below, BlockOffer, LentEntry, Offered, TableCursor};
use crate::sstable::props::BlockMeta;

use super::merge::Source;

/// A source's current entry, borrowed where it lies.
type At<'a> = EntryRef<'a>;

/// One source and the entry it is on.
enum Cur {
    /// A memtable: its versions lent from the cursor's chunk buffer.
    Mem(MemCursor),
    /// A table or a run's tables in key order; the front one is on the entry.
    Tables(VecDeque<TableCursor>),
}

impl Cur {
    fn new(s: Source) -> Cur {
        match s {
            Source::Mem(c) => Cur::Mem(c),
            Source::Table(c) => Cur::Tables(VecDeque::from([c])),
            Source::Run(run) => Cur::Tables(run),
        }
    }

    /// Moves to the next entry; false at the end, or when a block offer stopped the
    /// read ([`halted`](Self::halted)). With `offer`, a table offers each block it
    /// comes to whole first.
    fn step(&mut self, mut offer: Option<&mut BlockOffer<'_>>) -> Result<bool> {
        match self {
            Cur::Mem(c) => Ok(c.next_lent()),
            Cur::Tables(run) => {
                while let Some(c) = run.front_mut() {
                    let on = match offer.as_deref_mut() {
                        Some(offer) => c.next_lent_offering(offer)?,
                        None => c.next_lent()?,
                    };
                    if on || c.halted() {
                        return Ok(on);
                    }
                    run.pop_front();
                }
                Ok(false)
            }
        }
    }

    /// True when a block offer stopped the read.
    fn halted(&self) -> bool {
        matches!(self, Cur::Tables(run) if run.front().is_some_and(TableCursor::halted))
    }

    /// The current entry.
    fn current(&self) -> Option<At<'_>> {
        match self {
            Cur::Mem(c) => c.lent(),
            Cur::Tables(run) => {
                let c = run.front()?;
                Some(At::in_table(c.lent()?, c.seq()))
            }
        }
    }
}

/// A block of one series' points offered to a reader: its key, and its summary
/// ([`Offer::Whole`]) or its points ([`Offer::Points`]). `None` declines it (its
/// points are then handed one by one, or offered as points), `Some(going)` takes it
/// (`going: false` ends the read).
pub(crate) type Blocks<'a> = dyn FnMut(&[u8], Offer<'_>) -> Option<bool> + 'a;

/// What [`Blocks`] is offered of a block.
pub(crate) enum Offer<'a> {
    /// All its points, as their summary (the block's statistics), and as the
    /// summaries of their clock hours when it keeps them (block_stats.rs).
    Whole(Summary, Parts<'a>),
    /// Its points within the read's bounds: timestamps and values.
    Points(&'a [i64], &'a [f64]),
}

/// Offers the block of index entry `m` to `blocks` as `ask` says, when all its
/// points are live (else refuses it); counts the points a taken offer held in
/// `taken`.
fn offer_to(
    key: &[u8],
    m: &BlockMeta,
    ask: Ask<'_>,
    now: &dyn Fn() -> i64,
    blocks: &mut Blocks<'_>,
    taken: &mut u64,
) -> Offered {
    let Some(stats) = &m.stats else {
        return Offered::Refused;
    };
    if !live(Kind::Num, stats.min_expire, now) {
        return Offered::Refused;
    }
    let (offer, count) = match ask {
        Ask::Check => return Offered::Declined,
        Ask::Whole => (
            Offer::Whole(stats.summary(m), stats.parts(m)),
            u64::from(m.entries),
        ),
        Ask::Points(ts, vals) => (Offer::Points(ts, vals), ts.len() as u64),
    };
    match blocks(key, offer) {
        None => Offered::Declined,
        Some(going) => {
            *taken += count;
            match going {
                true => Offered::Taken,
                false => Offered::Stop,
            }
        }
    }
}

/// Hands the newest live version of each `(key, ts)` of `sources` (forward) to
/// `f` as `(key, ts, kind, value)` until it returns false; returns how many were
/// handed. With `blocks`, a table block holding only one series' points, some
/// within the bounds, and with nothing of another source among them, is offered
/// first, whole or as points ([`Blocks`]); a taken block's points count as handed.
pub(crate) fn visit(
    sources: Vec<Source>,
    now: &dyn Fn() -> i64,
    mut f: impl FnMut(&[u8], i64, Kind, &[u8]) -> Result<bool>,
    blocks: Option<&mut Blocks<'_>>,
) -> Result<u64> {
    let live = |e: &At<'_>| live(e.kind, e.expire_at, now);
    merge(
        sources,
        live,
        now,
        |e| f(e.key, e.ts, e.kind, e.value),
        blocks,
    )
}

/// Hands the newest version of each `(key, ts)` of `sources` (forward) to `f`,
/// whatever it is (tombstones, expired records: a merge writing tables decides):
/// what a compaction writes from, with no entry built.
pub(crate) fn each_newest(
    sources: Vec<Source>,
    mut f: impl FnMut(EntryRef<'_>) -> Result<()>,
) -> Result<()> {
    // The clock is read only for block offers, and a merge writing tables takes none.
    let never = || i64::MIN;
    merge(sources, |_| true, &never, |e| f(e).map(|()| true), None)?;
    Ok(())
}

/// The merge under [`visit`] and [`each_newest`]: the newest version of each
/// `(key, ts)` that `keep` keeps, to `f` until it returns false; how many.
fn merge(
    sources: Vec<Source>,
    keep: impl Fn(&At<'_>) -> bool,
    now: &dyn Fn() -> i64,
    mut f: impl FnMut(At<'_>) -> Result<bool>,
    mut blocks: Option<&mut Blocks<'_>>,
) -> Result<u64> {
    let mut curs: Vec<Cur> = sources.into_iter().map(Cur::new).collect();
    let mut handed = 0;
    let mut taken = 0;
    if let [Cur::Tables(run)] = &mut curs[..] {
        // One table or run holds one version per (key, ts): no comparing.
        for c in run.iter_mut() {
            let seq = c.seq();
            let mut entry = |lent: LentEntry<'_>| {
                let e = At::in_table(lent, seq);
                if !keep(&e) {
                    return Ok(true);
                }
                handed += 1;
                f(e)
            };
            let going = match blocks.as_deref_mut() {
                Some(blocks) => {
                    let mut offer = |key: &[u8], m: &BlockMeta, ask: Ask<'_>| {
                        offer_to(key, m, ask, now, blocks, &mut taken)
                    };
                    c.visit_lent(&mut entry, Some(&mut offer))?
                }
                None => c.visit_lent(&mut entry, None)?,
            };
            if !going {
                break;
            }
        }
        return Ok(handed + taken);
    }
    let mut live_curs = Vec::with_capacity(curs.len());
    for (i, c) in curs.iter_mut().enumerate() {
        if c.step(None)? {
            live_curs.push(i);
        }
    }
    let mut tied: Vec<usize> = Vec::with_capacity(curs.len());
    // The source that won the last choice: a run starts when one wins twice in a
    // row, so finely interleaved sources do not pay for runs that end at once.
    let mut last_best = None;
    while !live_curs.is_empty() {
        // The smallest (key, ts); of equal ones the highest sequence.
        tied.clear();
        let mut best = live_curs[0];
        tied.push(best);
        for &i in &live_curs[1..] {
            let b = curs[best].current().expect("live source");
            let c = curs[i].current().expect("live source");
            match cmp_key_ts(c.key, c.ts, b.key, b.ts) {
                Ordering::Less => {
                    best = i;
                    tied.clear();
                    tied.push(i);
                }
                Ordering::Equal => {
                    tied.push(i);
                    if c.seq > b.seq {
                        best = i;
                    }
                }
                Ordering::Greater => {}
            }
        }
        let at = curs[best].current().expect("live source");
        if keep(&at) {
            handed += 1;
            if !f(at)? {
                return Ok(handed + taken);
            }
        }
        let won_again = last_best.replace(best) == Some(best);
        if tied.len() == 1 && blocks.is_none() && won_again {
            // A run: while the best source stays below every other source's
            // current entry, it is the only one to step and compare.
            match run(&mut curs, best, &live_curs, &keep, &mut f, &mut handed)? {
                Run::Stopped => return Ok(handed + taken),
                Run::Ended => live_curs.retain(|&x| x != best),
                Run::Reached => {}
            }
            continue;
        }
        for &i in &tied {
            let on = match blocks.as_deref_mut() {
                // A block may be taken whole only when every other source's next
                // entry comes after all of it: no other version lies among its points.
                Some(blocks) if tied.len() == 1 => {
                    let (before, rest) = curs.split_at_mut(i);
                    let (me, after) = rest.split_first_mut().expect("source i");
                    let others = || before.iter().chain(after.iter()).filter_map(Cur::current);
                    let mut offer = |key: &[u8], m: &BlockMeta, ask: Ask<'_>| {
                        if others()
                            .any(|h| !cmp_key_ts(&m.last_key, m.last_ts, h.key, h.ts).is_lt())
                        {
                            return Offered::Refused;
                        }
                        offer_to(key, m, ask, now, blocks, &mut taken)
                    };
                    me.step(Some(&mut offer))?
                }
                _ => curs[i].step(None)?,
            };
            if !on {
                if curs[i].halted() {
                    return Ok(handed + taken);
                }
                live_curs.retain(|&x| x != i);
            }
        }
    }
    Ok(handed + taken)
}

/// How a [`run`] ended.
enum Run {
    /// `f` stopped the read.
    Stopped,
    /// The source has no entry left.
    Ended,
    /// Its entry is no longer below every other source's: the merge chooses again.
    Reached,
}

/// Steps source `best`, whose entry was just handed out (or skipped, when `keep`
/// dropped it),
/// and hands out its entries while each stays below the smallest `(key, ts)` among
/// the other live sources (which do not move meanwhile), to its end when no other
/// is left: one comparison a step instead of one per source. Sources whose key
/// ranges do not interleave (tables of ascending ids) are read in long runs.
fn run<K, F>(
    curs: &mut [Cur],
    best: usize,
    live_curs: &[usize],
    keep: &K,
    f: &mut F,
    handed: &mut u64,
) -> Result<Run>
where
    K: Fn(&At<'_>) -> bool,
    F: FnMut(At<'_>) -> Result<bool>,
{
    let (before, rest) = curs.split_at_mut(best);
    let (me, after) = rest.split_first_mut().expect("source best");
    let mut next: Option<At<'_>> = None;
    for &i in live_curs.iter().filter(|&&i| i != best) {
        let other = match i < best {
            true => &before[i],
            false => &after[i - best - 1],
        };
        let a = other.current().expect("live source");
        if next
            .as_ref()
            .map_or(true, |n| cmp_key_ts(a.key, a.ts, n.key, n.ts).is_lt())
        {
            next = Some(a);
        }
    }
    if let Cur::Tables(tables) = me {
        // A table's run in the table cursor's own loop (its step inlined), each
        // table of a run's in turn.
        let below = next.as_ref().map(|n| (n.key, n.ts));
        while let Some(c) = tables.front_mut() {
            let seq = c.seq();
            let mut each = |lent: LentEntry<'_>| {
                let at = At::in_table(lent, seq);
                if !keep(&at) {
                    return Ok(true);
                }
                *handed += 1;
                f(at)
            };
            match c.visit_lent_below(below, &mut each)? {
                Below::Stopped => return Ok(Run::Stopped),
                Below::Reached => return Ok(Run::Reached),
                Below::Ended => drop(tables.pop_front()),
            }
        }
        return Ok(Run::Ended);
    }
    loop {
        if !me.step(None)? {
            return Ok(Run::Ended);
        }
        let at = me.current().expect("a source that stepped");
        if next
            .as_ref()
            .is_some_and(|n| !cmp_key_ts(at.key, at.ts, n.key, n.ts).is_lt())
        {
            return Ok(Run::Reached);
        }
        if keep(&at) {
            *handed += 1;
            if !f(at)? {
                return Ok(Run::Stopped);
            }
        }
    }
}

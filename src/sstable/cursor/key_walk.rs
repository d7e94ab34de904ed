//! `KeyWalk`: one key's versions in a table, newest first, for `get_latest` and
//! `last_n`, decoding a restart interval at a time from the end.

use std::sync::Arc;

use crate::config::ReadOptions;
use crate::entry::Kind;
use crate::error::Result;
use crate::sstable::block::{BlockIter, Drained, Lent, Stack};
use crate::sstable::reader::{PartSlot, Table};

use super::{Entered, KeyWalk};

impl<'k> KeyWalk<'k> {
    /// The sequence of every version the walk returns.
    pub(crate) fn seq(&self) -> u64 {
        self.table.meta.min_seq
    }

    /// A walk from `last`, the table's last block that can hold `key`
    /// (`Table::last_block_of_key`), for a reader that takes at most `want` versions.
    /// `part` is the slot `last_block_of_key` used (it holds `last`'s partition).
    pub(crate) fn new(
        table: Arc<Table>,
        key: &'k [u8],
        (last, part): (usize, PartSlot),
        want: usize,
        opts: ReadOptions,
    ) -> Self {
        KeyWalk {
            table,
            key,
            opts,
            buf: Stack::with_capacity(4),
            from: None,
            block: None,
            ahead: None,
            part,
            next_block: Some(last),
            want,
            pf: 0..0,
        }
    }

    /// The next version back: its ts, kind and expiry, and its value lent from the
    /// block (its sequence is the table's: `seq`). The common step, an entry of the
    /// interval decoded already, is inlined into the caller: returned from a call,
    /// the version came back through memory written in 8-byte stores and copied in
    /// 16-byte loads, a store-forwarding stall per version (docs/design.md, "Reads").
    #[inline]
    pub(crate) fn next_desc(&mut self) -> Result<Option<(i64, Kind, i64, Lent)>> {
        if let (Some((ts, raw)), Some(from)) = (self.buf.pop(), &self.from) {
            ask_ahead(&mut self.pf);
            return Ok(Some((ts, raw.kind, raw.expire_at, Lent::of(from, &raw))));
        }
        self.next_desc_decoding()
    }

    /// `next_desc` once the decoded interval is used up: decodes the next one back.
    #[inline(never)]
    fn next_desc_decoding(&mut self) -> Result<Option<(i64, Kind, i64, Lent)>> {
        loop {
            if let (Some((ts, raw)), Some(from)) = (self.buf.pop(), &self.from) {
                return Ok(Some((ts, raw.kind, raw.expire_at, Lent::of(from, &raw))));
            }
            if !self.decode_back()? {
                return Ok(None);
            }
        }
    }

    /// Hands `f` each version back from here as `(ts, kind, expire_at, value)`, the
    /// value where it lies in its block, while its ts is above `above`, until `f`
    /// returns true (then true: the walk goes on after that version). False once a
    /// version at or below `above` is next (left for `next_desc`) or the walk ends.
    /// No version is copied out: a walk left alone drains this way. Generic over `f`,
    /// so the reader's visit is compiled into this loop (through `dyn` layers it was
    /// a third of `last_n`'s instructions).
    #[inline(always)]
    pub(crate) fn drain_desc(
        &mut self,
        above: i64,
        mut f: impl FnMut(i64, Kind, i64, &[u8]) -> bool,
    ) -> Result<bool> {
        loop {
            if let Some(from) = &self.from {
                let pf = &mut self.pf;
                let each = |ts, kind, expire_at, value: &[u8]| {
                    ask_ahead(pf);
                    f(ts, kind, expire_at, value)
                };
                match self.buf.drain(from, above, each) {
                    Drained::Stopped => return Ok(true),
                    Drained::Below => return Ok(false), // left for `next_desc`
                    Drained::Empty => {}
                }
            }
            if !self.decode_back()? {
                return Ok(false);
            }
        }
    }

    /// Decodes the key's next interval back into `buf` (the next in this block, or
    /// the last of the block before); false when the walk has no more.
    fn decode_back(&mut self) -> Result<bool> {
        let Some(Entered {
            it,
            r,
            last,
            earlier,
            whole,
        }) = &mut self.block
        else {
            let Some(b) = self.next_block else {
                return Ok(false);
            };
            self.block = match self.ahead.take() {
                Some(entered) => Some(entered),
                None => self.enter(b)?,
            };
            if self.block.is_none() {
                self.next_block = None; // the walk is over: not looked up again
            }
            return Ok(self.block.is_some());
        };
        // `buf` and `from` change together: a failed decode leaves no entries to
        // lend from the wrong block. Set once a block: a clone and a drop of the
        // `Arc` for every interval were two locked instructions each time (5% of
        // `last_n` in perf).
        if !self
            .from
            .as_ref()
            .is_some_and(|f| Arc::ptr_eq(f, it.block()))
        {
            self.from = Some(it.block().clone());
        }
        let more = match it.key_in_interval(self.key, *r, (*last, *whole), &mut self.buf) {
            Ok(more) => more,
            Err(e) => {
                self.buf.clear();
                return Err(e);
            }
        };
        *last = false;
        self.want = self.want.saturating_sub(self.buf.len());
        // Asked for now, the interval (or block) before comes in while this one is
        // handed out (+30% on `last_n(key, 100)`); not when this one is all the
        // reader wants (-10% on `get_latest`).
        match (more, *earlier) {
            (true, _) => {
                *r -= 1;
                if self.want > 0 {
                    self.pf = it.interval_lines(*r); // asked for by `ask_ahead`
                }
            }
            (false, earlier) => {
                self.block = None;
                self.pf = 0..0; // the rest lies in this block, decoded already
                self.next_block = match earlier {
                    true => self.next_block.map(|b| b - 1),
                    false => None,
                };
                if let Some(b) = self.next_block.filter(|_| self.want > 0) {
                    // A failed read is left for the walk to meet (and report) there.
                    if let Ok(Some(entered)) = self.enter(b) {
                        entered.it.prefetch_interval(entered.r);
                        self.ahead = Some(entered);
                    }
                }
            }
        }
        Ok(true)
    }

    /// Block `b`, if it may hold the key: its iterator and the interval to decode
    /// first (the key's last in the block).
    fn enter(&mut self, b: usize) -> Result<Option<Entered>> {
        let Some(kb) = self
            .table
            .key_block(self.key, b, &mut self.part, &self.opts)?
        else {
            return Ok(None);
        };
        let it = BlockIter::new(kb.block);
        // A block ending with the key (one cut where its series ends): its last
        // interval, without a binary search over the restarts, each probe a cache
        // miss (15% of `get_latest` at 20M records, 11.5% with this).
        let r = match kb.ends_with_key {
            true => it.last_restart(),
            false => it.last_interval_of(self.key)?,
        };
        Ok(Some(Entered {
            it,
            r,
            last: true,
            earlier: b > 0 && kb.starts_with_key,
            whole: kb.starts_with_key && kb.ends_with_key,
        }))
    }
}

/// Asks memory for the next few lines of `lines` (the interval before the one being
/// handed out), three a version. Asked all at once when the interval was decoded,
/// ~35 lines of 128-byte values, the requests waited on each other for the CPU's
/// line-fill buffers (perf put a quarter of `last_n`'s samples on the prefetch
/// instructions); spread over the versions handed out, `last_n(key, 100)` ran
/// 7-15% faster.
#[inline(always)]
fn ask_ahead(lines: &mut std::ops::Range<usize>) {
    if lines.start < lines.end {
        for line in 0..3 {
            crate::util::prefetch((lines.start + 64 * line) as *const u8);
        }
        lines.start += 3 * 64;
    }
}

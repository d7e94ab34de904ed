//! Data blocks: entries in `(key, ts)` order, keys prefix-compressed against the
//! previous entry and timestamps delta-encoded, with restart points for binary search.
//!
//! ## Format (uncompressed)
//! Entries, then `restart offsets: u32 LE each`, then `restart count: u32 LE`. Each
//! entry: `shared: varint` (bytes shared with the previous key; 0 at a restart),
//! `unshared: varint`, the unshared key bytes, `ts: zigzag varint` (the delta from the
//! previous entry's ts; from 0 at a restart), `kind: u8` (0 put, 1 put with expiry,
//! 2 delete, 3 numeric point, 4 numeric point with expiry), for kinds 1 and 4
//! `expire_at - ts: zigzag varint` (wrapping), for puts `value: varint length +
//! bytes`, and for numeric points the `f64`'s 8 bytes (little-endian). Entry `i` is a
//! restart when `i % interval == 0`. Kinds 3 and 4 occur only in tables of format 3.
//!
//! The types are declared here and implemented in one child module per concept:
//! `builder` (building a block), `iter` (decoding it forward) and `restart_search`
//! (seeking through its restart points). rustc compiles a method in the codegen unit
//! of its type's module, so declaring the types here keeps the crate's codegen units,
//! and the inlining on the read paths, as they were when this was one file.

mod builder;
mod iter;
mod repeat;
mod restart_search;
mod stack;

use std::sync::Arc;

use crate::entry::Kind;
use crate::error::{Error, Result};
use crate::util::coding::get_u32_at;
use repeat::Repeat;
pub(crate) use stack::{Drained, Stack};

/// An entry's kind byte (the module docs' list, which packed blocks share): its kind,
/// and whether it carries an expiry (a delete never does).
pub(crate) const fn kind_byte(kind: Kind, expiring: bool) -> u8 {
    match (kind, expiring) {
        (Kind::Put, false) => 0,
        (Kind::Put, true) => 1,
        (Kind::Delete, _) => 2,
        (Kind::Num, false) => 3,
        (Kind::Num, true) => 4,
    }
}

/// The kind and expiry flag of a kind byte; `None` for no kind.
pub(crate) fn kind_of_byte(b: u8) -> Option<(Kind, bool)> {
    Some(match b {
        0 => (Kind::Put, false),
        1 => (Kind::Put, true),
        2 => (Kind::Delete, false),
        3 => (Kind::Num, false),
        4 => (Kind::Num, true),
        _ => return None,
    })
}

pub(crate) struct BlockBuilder {
    buf: Vec<u8>,
    restarts: Vec<u32>,
    interval: usize,
    count: usize,
    last_key: Vec<u8>,
    last_ts: i64,
    /// Whether a numeric point was added (the block may be packed: packed.rs).
    has_numbers: bool,
}

/// A decoded (decompressed) block, shared through the block cache.
pub(crate) struct Block {
    data: Vec<u8>,
    restarts_at: usize,
    num_restarts: usize,
    /// For error messages: the file and the block's offset in it.
    origin: Arc<str>,
    offset: u64,
}

impl Block {
    pub(crate) fn parse(data: Vec<u8>, origin: Arc<str>, offset: u64) -> Result<Block> {
        let bad = || Error::corruption(&origin, offset, "malformed block restart array");
        if data.len() < 4 {
            return Err(bad());
        }
        let n = get_u32_at(&data, data.len() - 4).ok_or_else(bad)? as usize;
        let restarts_at = (data.len() - 4)
            .checked_sub(n.checked_mul(4).ok_or_else(bad)?)
            .ok_or_else(bad)?;
        if n == 0 {
            return Err(bad());
        }
        // Restart 0 is where the entries begin (forward decoding starts there
        // without reading it), and the others ascend inside the entries: a read
        // that trusts an offset (`below_until`, a seek) never meets garbage.
        let mut before = None;
        for i in 0..n {
            let o = get_u32_at(&data, restarts_at + 4 * i).ok_or_else(bad)? as usize;
            let fits = match before {
                None => o == 0,
                Some(b) => o > b && o < restarts_at,
            };
            if !fits {
                return Err(Error::corruption(
                    &origin,
                    offset,
                    format!("block restart {i} (offset {o}) out of order or past the entries"),
                ));
            }
            before = Some(o);
        }
        Ok(Block {
            data,
            restarts_at,
            num_restarts: n,
            origin,
            offset,
        })
    }

    pub(crate) fn memory(&self) -> usize {
        self.data.len() + 64
    }

    fn restart(&self, i: usize) -> usize {
        get_u32_at(&self.data, self.restarts_at + 4 * i).unwrap_or(u32::MAX) as usize
    }

    /// The entries' bytes (for readers of one entry shape: columns.rs).
    pub(crate) fn entries(&self) -> &[u8] {
        &self.data[..self.restarts_at]
    }

    /// How many restart points the block has.
    pub(crate) fn restart_count(&self) -> usize {
        self.num_restarts
    }

    /// The offset in `entries()` of restart `i`, ascending in `i`; `usize::MAX`
    /// past the last.
    #[inline]
    pub(crate) fn restart_offset(&self, i: usize) -> usize {
        match i < self.num_restarts {
            true => self.restart(i),
            false => usize::MAX,
        }
    }

    /// The bytes of the restart offsets (the block's trailer but its count).
    pub(crate) fn restart_bytes(&self) -> &[u8] {
        let end = (self.restarts_at + 4 * self.num_restarts).min(self.data.len());
        &self.data[self.restarts_at.min(end)..end]
    }

    pub(crate) fn corrupt(&self, what: &str) -> Error {
        Error::corruption(
            &self.origin,
            self.offset,
            format!("malformed block entry: {what}"),
        )
    }
}

/// What `decode` learned of the entry it passed, besides key and ts (kept in the
/// iterator): enough to build the entry without decoding again.
#[derive(Clone, Copy)]
pub(crate) struct Raw {
    pub kind: Kind,
    pub expire_at: i64,
    value_at: usize,
    value_len: usize,
}

/// An entry's key as it is stored: the length it shares with the key before (none
/// at a restart) and where the rest lies in the block.
pub(crate) struct Head {
    /// The entry begins a restart interval (its key and ts are whole).
    restart: bool,
    shared: usize,
    suffix_at: usize,
    suffix_len: usize,
}

/// A position in a block, yielding owned entries forward. Decoding allocates
/// nothing; an `Entry` is built only for what is returned.
pub(crate) struct BlockIter {
    block: Arc<Block>,
    next_off: usize,
    next_restart: usize,
    /// Where restart `next_restart` begins (`usize::MAX` past the last): checked at
    /// every entry decoded, so kept apart from the restart array.
    next_restart_at: usize,
    key: Vec<u8>,
    ts: i64,
    /// The entry decoded by `seek` and not yet returned.
    pending: Option<Raw>,
}

/// Entries of one block decoded in order but not yet built (`BlockIter::collect_while`),
/// taken from the end.
pub(crate) struct Decoded {
    block: Arc<Block>,
    keys: Vec<u8>,
    /// Per entry: where its key is in `keys` (start, length), its ts, the rest.
    items: Vec<(usize, usize, i64, Raw)>,
}

/// A value left in its block (a backward walk lends it instead of copying it).
pub(crate) struct Lent {
    block: Arc<Block>,
    at: usize,
    len: usize,
}

/// Entries and blocks for the tests of the block modules.
#[cfg(test)]
mod test_support {
    use std::sync::Arc;

    use super::{Block, BlockBuilder, BlockIter};
    use crate::entry::{Entry, Kind};

    pub(super) fn entry(k: &str, ts: i64, kind: Kind, exp: i64) -> Entry {
        Entry {
            key: k.as_bytes().to_vec(),
            ts,
            seq: 0,
            kind,
            expire_at: exp,
            value: if kind == Kind::Put {
                format!("{k}@{ts}").into_bytes()
            } else {
                vec![]
            },
        }
    }

    pub(super) fn build(entries: &[Entry]) -> Arc<Block> {
        let mut b = BlockBuilder::new(4);
        for e in entries {
            b.add(e);
        }
        Arc::new(Block::parse(b.finish(), Arc::from("t"), 0).unwrap())
    }

    /// `key`'s entries in `block` walked back interval by interval from where they
    /// end, as a newest-first read does: ts, kind, expiry and value, newest first.
    /// A block of the key's entries only is walked as `whole` too, for the same.
    pub(super) fn walk_back(block: &Arc<Block>, key: &[u8]) -> Vec<(i64, Kind, i64, Vec<u8>)> {
        let got = walk_back_as(block, key, false);
        let mut it = BlockIter::new(block.clone());
        let mut only_key = true;
        while let Some(e) = it.next_entry().unwrap() {
            only_key &= e.key == key;
        }
        if only_key && !got.is_empty() {
            assert_eq!(walk_back_as(block, key, true), got, "walked as whole");
        }
        got
    }

    fn walk_back_as(block: &Arc<Block>, key: &[u8], whole: bool) -> Vec<(i64, Kind, i64, Vec<u8>)> {
        let mut it = BlockIter::new(block.clone());
        let mut r = it.last_interval_of(key).unwrap();
        let (mut got, mut items, mut last) = (Vec::new(), super::Stack::default(), true);
        loop {
            let more = it
                .key_in_interval(key, r, (last, whole), &mut items)
                .unwrap();
            last = false;
            while let Some((ts, raw)) = items.pop() {
                got.push((ts, raw.kind, raw.expire_at, raw.value(block).to_vec()));
            }
            if !more {
                return got;
            }
            r -= 1;
        }
    }
}

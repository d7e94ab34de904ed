//! Walks over a source — a store's documents or an index's entries — in one of the
//! four directions (§iterate-a-cursor's rules), through a request's view: the one
//! reading loop under `get_all*`, `count`, `get_key` and cursors.
//!
//! A walk hands out each entry as its engine key, its key (the primary key for a
//! store, the index key for an index), its primary key, and, for a store, the stored
//! document. Unique directions keep, per distinct index key, the entry with the
//! lowest primary key; `PrevUnique` therefore reads a key's entries (highest primary
//! key first) to the last before handing the key out.

use super::layout::{doc_prefix, index_prefix, split_entry};
use super::range::{Direction, KeyRange};
use super::request::Request;
use super::schema::{Catalog, IndexEntry, StoreEntry};
use crate::error::Result;
use crate::prefix_successor;

/// What a walk reads: a store, or one of its indexes.
#[derive(Clone, Copy)]
pub(crate) struct Source<'c> {
    pub store: &'c StoreEntry,
    pub index: Option<&'c IndexEntry>,
}

impl<'c> Source<'c> {
    /// `store`, or its `index`; `NotFound` names what is missing.
    pub(crate) fn resolve(catalog: &'c Catalog, store: &str, index: Option<&str>) -> Result<Self> {
        let s = catalog.store(store)?;
        let index = index.map(|i| s.index(i)).transpose()?;
        Ok(Source { store: s, index })
    }

    /// The engine-key prefix of every entry of the source.
    pub(crate) fn prefix(&self) -> Vec<u8> {
        match self.index {
            None => doc_prefix(self.store.id),
            Some(i) => index_prefix(self.store.id, i.id),
        }
    }

    /// `[start, end)` engine-key bounds of the entries whose key is in `range`.
    pub(crate) fn bounds(&self, range: &KeyRange) -> (Vec<u8>, Vec<u8>) {
        range.byte_bounds(&self.prefix())
    }
}

/// One entry as a walk hands it out.
pub(crate) struct Hit<'a> {
    /// The entry's engine key (where a cursor resumes from).
    pub ekey: &'a [u8],
    /// The encoded key: the primary key of a store, the index key of an index.
    pub key: &'a [u8],
    pub primary_key: &'a [u8],
    /// The stored document, for a store (an index walk reads documents separately).
    pub doc: Option<&'a [u8]>,
}

impl Hit<'_> {
    /// A hit of nothing (the start of a buffer to copy hits into).
    pub(crate) const EMPTY: Hit<'static> = Hit {
        ekey: b"",
        key: b"",
        primary_key: b"",
        doc: None,
    };
}

impl<'a> Hit<'a> {
    /// The hit of engine record `(k, v)` of a source whose prefix is `prefix_len`
    /// bytes long: a store's (`unique_index` None) or an index's.
    #[inline(always)]
    fn of(k: &'a [u8], v: &'a [u8], prefix_len: usize, unique_index: Option<bool>) -> Result<Self> {
        let rest = &k[prefix_len..];
        let (key, primary_key, doc) = match unique_index {
            None => (rest, rest, Some(v)),
            Some(unique) => {
                let (ik, pk) = split_entry(unique, rest, v)?;
                (ik, pk, None)
            }
        };
        Ok(Hit {
            ekey: k,
            key,
            primary_key,
            doc,
        })
    }
}

/// Whether `dir` reads from the greatest key down.
pub(crate) fn is_reverse(dir: Direction) -> bool {
    matches!(dir, Direction::Prev | Direction::PrevUnique)
}

/// Whether `dir` keeps one entry per distinct key.
pub(crate) fn is_unique(dir: Direction) -> bool {
    matches!(dir, Direction::NextUnique | Direction::PrevUnique)
}

/// A hit copied out of the walk: what `PrevUnique` holds back until a key's last
/// entry is read, and what a cursor reads ahead. Its engine key, primary key and
/// document lie in one buffer: one allocation a hit, where three (and a cursor's
/// resume point, a fourth) made a cursor over documents spend two fifths of its
/// time in the allocator.
pub(crate) struct OwnedHit {
    /// The engine key, then the primary key, then the document (when kept).
    bytes: Vec<u8>,
    /// Where the key lies in the engine key (it always lies in it: layout.rs).
    key: std::ops::Range<usize>,
    /// Where the engine key ends and the primary key begins.
    pk_at: usize,
    /// Where the primary key ends and the document begins, when there is one.
    doc_at: Option<usize>,
}

impl OwnedHit {
    /// `hit` copied; its document only when `with_doc`.
    pub(crate) fn of(hit: &Hit<'_>, with_doc: bool) -> OwnedHit {
        let doc = hit.doc.filter(|_| with_doc);
        let len = hit.ekey.len() + hit.primary_key.len() + doc.map_or(0, <[u8]>::len);
        let mut owned = OwnedHit {
            bytes: Vec::with_capacity(len),
            key: 0..0,
            pk_at: 0,
            doc_at: None,
        };
        owned.set(hit, with_doc);
        owned
    }

    /// Makes this `hit`'s copy (its document only when `with_doc`), in the buffer it
    /// has.
    pub(crate) fn set(&mut self, hit: &Hit<'_>, with_doc: bool) {
        let bytes = &mut self.bytes;
        bytes.clear();
        bytes.extend_from_slice(hit.ekey);
        bytes.extend_from_slice(hit.primary_key);
        self.doc_at = hit.doc.filter(|_| with_doc).map(|d| {
            let at = bytes.len();
            bytes.extend_from_slice(d);
            at
        });
        let start = hit.key.as_ptr() as usize - hit.ekey.as_ptr() as usize;
        self.key = start..start + hit.key.len();
        self.pk_at = hit.ekey.len();
    }

    fn pk_end(&self) -> usize {
        self.doc_at.unwrap_or(self.bytes.len())
    }

    pub(crate) fn key(&self) -> &[u8] {
        &self.bytes[self.key.clone()]
    }

    pub(crate) fn primary_key(&self) -> &[u8] {
        &self.bytes[self.pk_at..self.pk_end()]
    }

    pub(crate) fn doc(&self) -> Option<&[u8]> {
        self.doc_at.map(|at| &self.bytes[at..])
    }

    pub(crate) fn hit(&self) -> Hit<'_> {
        Hit {
            ekey: &self.bytes[..self.pk_at],
            key: self.key(),
            primary_key: self.primary_key(),
            doc: self.doc(),
        }
    }
}

/// Walks the entries of `src` in `[start, end)` in `dir` order, handing each to `f`
/// until `f` returns false. Returns true when the walk reached the end of the bounds
/// (nothing is left in them past what `f` was handed).
pub(crate) fn walk(
    req: &Request<'_>,
    src: &Source<'_>,
    (start, end): (Vec<u8>, Vec<u8>),
    dir: Direction,
    expect: usize,
    f: &mut impl FnMut(&Hit<'_>) -> Result<bool>,
) -> Result<bool> {
    let dedupe = is_unique(dir) && src.index.is_some();
    if dedupe || start >= end || !req.sees_engine_only(&start, &end) {
        return walk_layered(req, src, (start, end), dir, expect, f);
    }
    let prefix_len = src.prefix().len();
    let unique_index = src.index.map(|i| i.def.unique);
    // Every entry handed out, as the engine holds it: one closure a record (about 30
    // instructions a key fewer than through `range_dir`'s layers, callgrind).
    let mut stopped = false;
    req.visit_engine(start, end, is_reverse(dir), expect, |k, v| {
        stopped = !f(&Hit::of(k, v, prefix_len, unique_index)?)?;
        Ok(!stopped)
    })?;
    Ok(!stopped)
}

/// `walk` through the request's writes laid over the engine's records, or keeping
/// one entry per index key (the unique directions).
fn walk_layered(
    req: &Request<'_>,
    src: &Source<'_>,
    (start, end): (Vec<u8>, Vec<u8>),
    dir: Direction,
    expect: usize,
    f: &mut impl FnMut(&Hit<'_>) -> Result<bool>,
) -> Result<bool> {
    let prefix_len = src.prefix().len();
    let unique_index = src.index.map(|i| i.def.unique);
    let dedupe = is_unique(dir) && src.index.is_some();
    let reverse = is_reverse(dir);
    let mut last_key: Option<Vec<u8>> = None; // NextUnique: the key last handed out
    let mut held: Option<OwnedHit> = None; // PrevUnique: the lowest entry of a key so far
    let mut stopped = false;
    req.range_dir(start, end, reverse, expect, &mut |k, v| {
        let hit = Hit::of(k, v, prefix_len, unique_index)?;
        let key = hit.key;
        if !dedupe {
            stopped = !f(&hit)?;
            return Ok(!stopped);
        }
        if !reverse {
            if last_key.as_deref() == Some(key) {
                return Ok(true);
            }
            last_key = Some(key.to_vec());
            stopped = !f(&hit)?;
            return Ok(!stopped);
        }
        // PrevUnique: a new key closes the one held.
        if let Some(h) = held.as_ref() {
            if h.hit().key != key {
                stopped = !f(&h.hit())?;
                if stopped {
                    return Ok(false);
                }
            } else {
                held = Some(OwnedHit::of(&hit, true));
                return Ok(true);
            }
        }
        held = Some(OwnedHit::of(&hit, true));
        Ok(true)
    })?;
    if stopped {
        return Ok(false);
    }
    if let Some(h) = held {
        if !f(&h.hit())? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Where a walk in `dir` resumes after handing out `hit` (exclusive): forwards, the
/// new start; backwards, the new end. Unique forward walks skip the rest of the key.
pub(crate) fn resume_after(hit: &Hit<'_>, dir: Direction) -> Vec<u8> {
    let hit_ekey = hit.ekey;
    match dir {
        Direction::Next => {
            let mut s = hit_ekey.to_vec();
            s.push(0);
            s
        }
        Direction::NextUnique => {
            prefix_successor(key_part(hit)).unwrap_or_else(|| vec![0xff; key_part(hit).len() + 1])
        }
        // Backwards the entry itself is the exclusive end.
        Direction::Prev => hit_ekey.to_vec(),
        // PrevUnique skips the whole key: its entries all lie above the key's
        // encoding (a pk follows it), entries of lower keys below. (The entry
        // itself, the key's lowest when read, let an entry of the same key with a
        // lower pk, written by the transaction since, be reached again.)
        Direction::PrevUnique => key_part(hit).to_vec(),
    }
}

/// The leading part of `hit`'s entry key up to the end of its (index) key: what
/// every entry of that key starts with.
fn key_part<'h>(hit: &Hit<'h>) -> &'h [u8] {
    let key_end = hit.key.as_ptr() as usize - hit.ekey.as_ptr() as usize + hit.key.len();
    &hit.ekey[..key_end]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A copied hit reads back as the hit, with or without its document, and an
    /// index entry's document set afterwards replaces any it had.
    #[test]
    fn an_owned_hit_is_the_hit_it_copied() {
        let ekey = b"\x01store\x02key\x00pk";
        let hit = Hit {
            ekey,
            key: &ekey[7..10],
            primary_key: b"the pk",
            doc: Some(b"{\"a\":1}"),
        };
        let same = |h: &Hit<'_>, doc: Option<&[u8]>| {
            assert_eq!(
                (h.ekey, h.key, h.primary_key, h.doc),
                (&ekey[..], &b"key"[..], &b"the pk"[..], doc)
            );
        };
        let mut owned = OwnedHit::of(&hit, true);
        same(&owned.hit(), Some(b"{\"a\":1}"));
        let bare = OwnedHit::of(&hit, false);
        same(&bare.hit(), None);
        // A copy made again in the same buffer is the new hit alone.
        let other = b"\x01store\x02k\x00p";
        owned.set(
            &Hit {
                ekey: other,
                key: &other[7..8],
                primary_key: b"p",
                doc: None,
            },
            true,
        );
        let h = owned.hit();
        assert_eq!(
            (h.ekey, h.key, h.primary_key, h.doc),
            (&other[..], &b"k"[..], &b"p"[..], None)
        );
        owned.set(&hit, false);
        same(&owned.hit(), None);
        owned.set(&hit, true);
        same(&owned.hit(), Some(b"{\"a\":1}"));
    }
}

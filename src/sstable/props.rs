//! The metadata blocks of a table: per-block index entries ([`BlockMeta`]), table
//! properties ([`TableProps`]) and range tombstones.
//!
//! ## Format
//! Index block (zstd): `count: varint`, then per data block `first_key: bytes`,
//! `first_ts`, `last_key: bytes`, `last_ts`, `offset: varint`, `len: varint`,
//! `min_ts`, `max_ts` (timestamps as zigzag varints), `entries: varint`. Then, only
//! when some block holds nothing but numeric points of one key (format 3 and later),
//! their statistics (block_stats.rs).
//! Properties block: `entries`, `deletes` (varints), `min_ts`, `max_ts`,
//! `min_expire`, `max_expire` (zigzag varints; expiry over puts only, `i64::MAX` /
//! `i64::MIN` when there are none), then optionally the key map's handle and the
//! series block's (`offset`, `len` varints each; an absent one followed by a present
//! one is written as `0, 0`). Range-tombstone block: `count: varint`, then
//! `start: bytes`, `end: bytes` each (an empty end: no upper key bound); then, only
//! when some tombstone is limited in time, `ts_lo`, `ts_hi` (zigzag varints) for each
//! in the same order (absent: all of time).

use crate::entry::RangeTombstone;
use crate::util::coding::{put_bytes, put_varint, put_varint_i64, Decoder};

use super::block_stats::{decode_stats, encode_stats, BlockStats};
use super::format::BlockHandle;

/// A block's first or last key: inline up to 24 bytes (most series and document
/// keys), so decoding a table's index allocates per block only for longer keys.
pub(crate) type FenceKey = smallvec::SmallVec<[u8; 24]>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BlockMeta {
    pub first_key: FenceKey,
    pub first_ts: i64,
    pub last_key: FenceKey,
    pub last_ts: i64,
    pub handle: BlockHandle,
    pub min_ts: i64,
    pub max_ts: i64,
    pub entries: u32,
    /// The block's statistics when it holds only numeric points of one key.
    pub stats: Option<Box<BlockStats>>,
}

impl BlockMeta {
    pub(crate) fn memory(&self) -> usize {
        let heap = |k: &FenceKey| if k.spilled() { k.len() } else { 0 };
        let stats = self
            .stats
            .as_ref()
            .map_or(0, |s| std::mem::size_of::<BlockStats>() + s.heap());
        heap(&self.first_key) + heap(&self.last_key) + std::mem::size_of::<Self>() + stats
    }

    /// Whether the block's first entry comes after `(key, ts)` (so it cannot hold it).
    pub(crate) fn starts_after(&self, key: &[u8], ts: i64) -> bool {
        crate::entry::cmp_key_ts(&self.first_key, self.first_ts, key, ts).is_gt()
    }

    pub(crate) fn overlaps_time(&self, lo: i64, hi: i64) -> bool {
        self.min_ts <= hi && self.max_ts >= lo
    }

    /// The top-level index entry of a run of blocks (an index partition): its first
    /// and last fences, its ts range, and its block count in `entries`; the handle is
    /// left for the caller. `None` for no blocks.
    pub(crate) fn summary(metas: &[BlockMeta]) -> Option<BlockMeta> {
        let (first, last) = (metas.first()?, metas.last()?);
        Some(BlockMeta {
            first_key: first.first_key.clone(),
            first_ts: first.first_ts,
            last_key: last.last_key.clone(),
            last_ts: last.last_ts,
            handle: BlockHandle::default(),
            min_ts: metas.iter().map(|m| m.min_ts).min()?,
            max_ts: metas.iter().map(|m| m.max_ts).max()?,
            entries: metas.len() as u32,
            stats: None,
        })
    }
}

pub(crate) fn encode_index(metas: &[BlockMeta]) -> Vec<u8> {
    let mut buf = Vec::new();
    put_varint(&mut buf, metas.len() as u64);
    for m in metas {
        put_bytes(&mut buf, &m.first_key);
        put_varint_i64(&mut buf, m.first_ts);
        put_bytes(&mut buf, &m.last_key);
        put_varint_i64(&mut buf, m.last_ts);
        put_varint(&mut buf, m.handle.offset);
        put_varint(&mut buf, m.handle.len as u64);
        put_varint_i64(&mut buf, m.min_ts);
        put_varint_i64(&mut buf, m.max_ts);
        put_varint(&mut buf, m.entries as u64);
    }
    encode_stats(&mut buf, metas);
    buf
}

pub(crate) fn decode_index(data: &[u8]) -> Option<Vec<BlockMeta>> {
    let (mut metas, d) = decode_index_as(data, |e| BlockMeta {
        first_key: FenceKey::from_slice(e.first_key),
        first_ts: e.first_ts,
        last_key: FenceKey::from_slice(e.last_key),
        last_ts: e.last_ts,
        handle: e.handle,
        min_ts: e.min_ts,
        max_ts: e.max_ts,
        entries: e.entries,
        stats: None,
    })?;
    decode_stats(d, &mut metas)?;
    Some(metas)
}

/// Only the block handles of an encoded index (for `verify`, which reads nothing
/// else of it).
pub(crate) fn decode_index_handles(data: &[u8]) -> Option<Vec<BlockHandle>> {
    decode_index_as(data, |e| e.handle).map(|(handles, _)| handles)
}

/// An index entry as encoded, its keys borrowed.
struct IndexEntryRef<'a> {
    first_key: &'a [u8],
    first_ts: i64,
    last_key: &'a [u8],
    last_ts: i64,
    handle: BlockHandle,
    min_ts: i64,
    max_ts: i64,
    entries: u32,
}

/// Each entry of an encoded index through `f`, and the decoder left after them (at
/// the blocks' statistics, if any); `None` when malformed.
fn decode_index_as<T>(
    data: &[u8],
    f: impl Fn(IndexEntryRef<'_>) -> T,
) -> Option<(Vec<T>, Decoder<'_>)> {
    let mut d = Decoder::new(data);
    let n = d.varint_usize()?;
    let mut out = Vec::with_capacity(n.min(data.len()));
    for _ in 0..n {
        out.push(f(IndexEntryRef {
            first_key: d.bytes()?,
            first_ts: d.varint_i64()?,
            last_key: d.bytes()?,
            last_ts: d.varint_i64()?,
            handle: BlockHandle {
                offset: d.varint()?,
                len: u32::try_from(d.varint()?).ok()?,
            },
            min_ts: d.varint_i64()?,
            max_ts: d.varint_i64()?,
            entries: u32::try_from(d.varint()?).ok()?,
        }));
    }
    Some((out, d))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TableProps {
    pub entries: u64,
    pub deletes: u64,
    pub min_ts: i64,
    pub max_ts: i64,
    pub min_expire: i64,
    pub max_expire: i64,
    /// Format 2: the key map block, when the table is series-shaped.
    pub key_map: Option<BlockHandle>,
    /// The series block (one summary per key, `series`), in tables written since
    /// it was added.
    pub series: Option<BlockHandle>,
}

impl Default for TableProps {
    fn default() -> Self {
        TableProps {
            entries: 0,
            deletes: 0,
            min_ts: i64::MAX,
            max_ts: i64::MIN,
            min_expire: i64::MAX,
            max_expire: i64::MIN,
            key_map: None,
            series: None,
        }
    }
}

impl TableProps {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut buf = Vec::new();
        put_varint(&mut buf, self.entries);
        put_varint(&mut buf, self.deletes);
        for v in [self.min_ts, self.max_ts, self.min_expire, self.max_expire] {
            put_varint_i64(&mut buf, v);
        }
        // Optional handles, in order; an absent one before a present one is written
        // as offset 0, length 0 (no block has length 0).
        let handles = [self.key_map, self.series];
        let written = handles
            .iter()
            .rposition(Option::is_some)
            .map_or(0, |i| i + 1);
        for h in &handles[..written] {
            let h = h.unwrap_or_default();
            put_varint(&mut buf, h.offset);
            put_varint(&mut buf, h.len as u64);
        }
        buf
    }

    pub(crate) fn decode(data: &[u8]) -> Option<Self> {
        let mut d = Decoder::new(data);
        let p = TableProps {
            entries: d.varint()?,
            deletes: d.varint()?,
            min_ts: d.varint_i64()?,
            max_ts: d.varint_i64()?,
            min_expire: d.varint_i64()?,
            max_expire: d.varint_i64()?,
            key_map: None,
            series: None,
        };
        let mut handle = || -> Option<Option<BlockHandle>> {
            if d.is_empty() {
                return Some(None);
            }
            let h = BlockHandle {
                offset: d.varint()?,
                len: u32::try_from(d.varint()?).ok()?,
            };
            Some((h.len > 0).then_some(h))
        };
        let (key_map, series) = (handle()?, handle()?);
        d.is_empty().then_some(TableProps {
            key_map,
            series,
            ..p
        })
    }
}

/// The key map of a series-shaped table: each fence key with the first and last
/// block holding it, in key order. Format: `count: varint`, then per key `key:
/// bytes`, `first: varint`, `last - first: varint`.
pub(crate) fn encode_key_map(spans: &[(FenceKey, u32, u32)]) -> Vec<u8> {
    let mut buf = Vec::new();
    put_varint(&mut buf, spans.len() as u64);
    for (k, first, last) in spans {
        put_bytes(&mut buf, k);
        put_varint(&mut buf, *first as u64);
        put_varint(&mut buf, (last - first) as u64);
    }
    buf
}

pub(crate) fn decode_key_map(data: &[u8]) -> Option<Vec<(FenceKey, u32, u32)>> {
    let mut d = Decoder::new(data);
    let n = d.varint_usize()?;
    let mut out = Vec::with_capacity(n.min(data.len()));
    for _ in 0..n {
        let k = FenceKey::from_slice(d.bytes()?);
        let first = u32::try_from(d.varint()?).ok()?;
        let last = first.checked_add(u32::try_from(d.varint()?).ok()?)?;
        out.push((k, first, last));
    }
    d.is_empty().then_some(out)
}

/// Encodes range tombstones (their sequences are not stored: a table's tombstones
/// take the table's). The time section is written only when some tombstone is
/// limited in time, so a table of plain `delete_range`s keeps the first format.
pub(crate) fn encode_range_dels(dels: &[RangeTombstone]) -> Vec<u8> {
    let mut buf = Vec::new();
    put_varint(&mut buf, dels.len() as u64);
    for t in dels {
        put_bytes(&mut buf, &t.start);
        put_bytes(&mut buf, &t.end);
    }
    if dels
        .iter()
        .any(|t| (t.ts_lo, t.ts_hi) != (i64::MIN, i64::MAX))
    {
        for t in dels {
            put_varint_i64(&mut buf, t.ts_lo);
            put_varint_i64(&mut buf, t.ts_hi);
        }
    }
    buf
}

/// Decodes range tombstones, each numbered `seq`.
pub(crate) fn decode_range_dels(data: &[u8], seq: u64) -> Option<Vec<RangeTombstone>> {
    let mut d = Decoder::new(data);
    let n = d.varint_usize()?;
    let mut out = Vec::with_capacity(n.min(data.len()));
    for _ in 0..n {
        let (start, end) = (d.bytes()?.to_vec(), d.bytes()?.to_vec());
        out.push(RangeTombstone::keys(start, end, seq));
    }
    if !d.is_empty() {
        for t in out.iter_mut() {
            t.ts_lo = d.varint_i64()?;
            t.ts_hi = d.varint_i64()?;
        }
    }
    d.is_empty().then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let m = BlockMeta {
            first_key: FenceKey::from_slice(b"a"),
            first_ts: -1,
            last_key: FenceKey::from_slice(b"b"),
            last_ts: 9,
            handle: BlockHandle { offset: 5, len: 7 },
            min_ts: -1,
            max_ts: 9,
            entries: 3,
            stats: None,
        };
        assert_eq!(
            decode_index(&encode_index(std::slice::from_ref(&m))),
            Some(vec![m.clone()])
        );
        // Statistics on some blocks, bit for bit (a NaN payload, -0), with and
        // without an expiry; a section naming a block twice or past the end fails.
        let stats = |min_expire| BlockStats {
            sum: f64::from_bits(0x7ff8_0000_0000_0abc),
            min: -0.0,
            max: f64::INFINITY,
            first: 1.5,
            last: -2.25,
            increase: 3.0,
            min_expire,
            parts: None,
        };
        let mut metas = vec![m.clone(), m.clone(), m.clone()];
        metas[0].stats = Some(Box::new(stats(i64::MAX)));
        metas[2].stats = Some(Box::new(stats(-7)));
        let encoded = encode_index(&metas);
        assert_eq!(decode_index(&encoded), Some(metas.clone()));
        assert_eq!(
            decode_index_handles(&encoded),
            Some(vec![m.handle; 3]),
            "handles only"
        );
        let plain = encode_index(std::slice::from_ref(&m));
        for bad in [
            [&plain[..], &[1, 1, 0]].concat(), // block 1 of 1
            [&plain[..], &[1, 0, 2]].concat(), // unknown flags
            [&plain[..], &[2, 0, 0]].concat(), // cut short
            [&encoded[..], &[0]].concat(),     // trailing bytes
        ] {
            assert_eq!(decode_index(&bad), None);
        }
        let p = TableProps {
            entries: 4,
            deletes: 1,
            ..TableProps::default()
        };
        assert_eq!(TableProps::decode(&p.encode()), Some(p));
        let with_map = TableProps {
            key_map: Some(BlockHandle { offset: 9, len: 4 }),
            ..p
        };
        assert_eq!(TableProps::decode(&with_map.encode()), Some(with_map));
        let with_series = TableProps {
            key_map: None,
            series: Some(BlockHandle { offset: 20, len: 6 }),
            ..p
        };
        assert_eq!(TableProps::decode(&with_series.encode()), Some(with_series));
        let both = TableProps {
            key_map: Some(BlockHandle { offset: 9, len: 4 }),
            ..with_series
        };
        assert_eq!(TableProps::decode(&both.encode()), Some(both));
        let spans = vec![(FenceKey::from_slice(b"s"), 3, 9)];
        assert_eq!(decode_key_map(&encode_key_map(&spans)), Some(spans));
        let r = vec![RangeTombstone::keys(b"a".to_vec(), b"c".to_vec(), 7)];
        let plain = encode_range_dels(&r);
        assert_eq!(decode_range_dels(&plain, 7), Some(r.clone()));
        let timed = vec![
            r[0].clone(),
            RangeTombstone {
                ts_lo: -3,
                ts_hi: 99,
                ..RangeTombstone::keys(b"d".to_vec(), Vec::new(), 7)
            },
        ];
        let enc = encode_range_dels(&timed);
        assert!(enc.len() > plain.len());
        assert_eq!(decode_range_dels(&enc, 7), Some(timed));
        assert_eq!(decode_range_dels(&enc[..enc.len() - 1], 7), None);
    }
}

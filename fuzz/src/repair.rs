//! Checksums recomputed over damaged bytes, so that the damage reaches the decoders
//! behind them. Every WAL record, table block, table footer and manifest carries a
//! crc32 (docs/format.md); a fuzzer's changed byte almost always fails it first, and
//! then only the checksum check is fuzzed: before this module, 206 of the 208 inputs
//! of the `table` corpus stopped at a checksum, and no block, index partition, key
//! map, statistics or packed run was ever decoded from damaged bytes.
//!
//! Half of the inputs are repaired (`wanted`), so the checks of damaged checksums
//! (torn log tails, refused blocks) stay fuzzed too.

use std::ops::Range;

use crc32fast::Hasher;

/// Whether an input is repaired: the low bit of its own crc, so about half are, and
/// the same input always the same way.
pub fn wanted(data: &[u8]) -> bool {
    crc32fast::hash(data) & 1 == 0
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    let b = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(b.try_into().ok()?))
}

fn put_crc(data: &mut [u8], at: usize, crc: u32) {
    data[at..at + 4].copy_from_slice(&crc.to_le_bytes());
}

/// The payloads of a WAL segment's records, each record `crc32: u32` (over the next
/// two fields), `len: u32`, `payload`: up to the first record that is not whole or is
/// empty (the zeros a log is extended with are not records).
pub fn log_records(data: &[u8]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(len) = u32_at(data, pos + 4) {
        let start = pos + 8;
        match start.checked_add(len as usize) {
            Some(end) if len > 0 && end <= data.len() => out.push(start..end),
            _ => break,
        }
        pos = start + len as usize;
    }
    out
}

/// A WAL segment with each whole record's crc recomputed ([`log_records`]).
pub fn log(data: &mut [u8]) {
    for r in log_records(data) {
        let crc = crc32fast::hash(&data[r.start - 4..r.end]);
        put_crc(data, r.start - 8, crc);
    }
}

/// A manifest: `magic: u64`, `len: u32`, `crc32: u32` of the payload, the payload.
pub fn manifest(data: &mut [u8]) {
    let Some(len) = u32_at(data, 8) else { return };
    if let Some(end) = (len as usize).checked_add(16).filter(|&e| e <= data.len()) {
        let crc = crc32fast::hash(&data[16..end]);
        put_crc(data, 12, crc);
    }
}

/// The footer's length; its crc32 (of the 60 bytes before) ends the table.
const FOOTER: usize = 64;

/// A table's blocks, as [`frames`] finds them.
pub type Frames = Vec<(usize, usize)>;

/// Where the blocks of an undamaged table lie: `(start, end)` of each block's payload
/// and compression byte, the crc32 of which follows at `end`. Found by trying each
/// end in turn, as the blocks lie end to end from the start to the footer.
pub fn frames(table: &[u8]) -> Frames {
    let body = table.len().saturating_sub(FOOTER);
    let mut out = Vec::new();
    let mut start = 0;
    'blocks: while start < body {
        let mut h = Hasher::new();
        for end in start + 1..=body.saturating_sub(4) {
            h.update(&table[end - 1..end]);
            // The compression byte is 0 to 5.
            if table[end - 1] <= 5 && u32_at(table, end) == Some(h.clone().finalize()) {
                out.push((start, end));
                start = end + 4;
                continue 'blocks;
            }
        }
        break;
    }
    out
}

/// A table: its footer's crc recomputed, and when it is as long as one of `originals`
/// (lengths and their [`frames`]), the crc of each of that table's blocks.
pub fn table(data: &mut [u8], originals: &[(usize, Frames)]) {
    let len = data.len();
    if let Some((_, frames)) = originals.iter().find(|(n, _)| *n == len) {
        for &(start, end) in frames {
            let crc = crc32fast::hash(&data[start..end]);
            put_crc(data, end, crc);
        }
    }
    if len >= FOOTER {
        let crc = crc32fast::hash(&data[len - FOOTER..len - 4]);
        put_crc(data, len - 4, crc);
    }
}

//! Framing shared by every block of a table, and the footer.
//!
//! ## Format
//! A block on disk is `payload`, then a 5-byte trailer: `compression: u8` (0 none,
//! 1 zstd, 2 numeric-packed, 3 numeric-packed then zstd, 4 LZ4, 5 numeric-packed then
//! LZ4) and `crc32: u32 LE` over payload and compression byte. A compressed payload is
//! `raw_len: varint` followed by one zstd frame or one LZ4 block (codec.rs). A
//! numeric-packed payload is a data block's packed form (packed.rs),
//! unpacked when read. The crc is checked before anything is decompressed.
//!
//! The footer is the last 64 bytes: four block handles (`offset: u64 LE, len: u32 LE`
//! each, `len` excluding the trailer) for index, bloom, range tombstones and properties,
//! `format_version: u32 LE`, `magic: u64 LE` (`FLOWDBST`), `crc32: u32 LE` of the
//! 60 bytes before it. Version 1's index handle points at the whole block index;
//! version 2's at the top level of a partitioned one (docs/format.md).

use std::borrow::Cow;

use super::codec::{decompress, Codec, Compressors};
use crate::error::{Error, IoContext, Result};
use crate::fs::FsFile;
use crate::util::checksum::{crc32, crc32_two};
use crate::util::coding::{get_u32_at, put_u32, put_u64, Decoder};

pub(crate) const TRAILER: usize = 5;
pub(crate) const FOOTER_LEN: usize = 64;
pub(crate) const MAGIC: u64 = u64::from_le_bytes(*b"FLOWDBST");
/// The table format written: 2, the partitioned block index. Version 1 tables (one
/// whole index block) are still read.
pub(crate) const FORMAT_VERSION: u32 = 2;
/// The format of a table holding numeric points: format 2 whose data blocks may hold
/// their entry kinds (block.rs). Written only then, so a database without numbers
/// stays readable by releases that know format 2 alone.
pub(crate) const NUMERIC_FORMAT_VERSION: u32 = 3;
/// The format of a table with LZ4-compressed blocks (compression 4 or 5): format 3
/// with those two compression bytes more. Written only then, as format 3 is.
pub(crate) const LZ4_FORMAT_VERSION: u32 = 4;
/// The format of a table with block statistics (blocks of numeric points of one
/// series): format 4 with their values written short and hour parts beside them
/// (block_stats.rs). Written only then.
pub(crate) const STATS_FORMAT_VERSION: u32 = 5;
/// The oldest table format read.
pub(crate) const MIN_FORMAT_VERSION: u32 = 1;
const NONE: u8 = 0;
const ZSTD: u8 = 1;
const PACKED: u8 = 2;
const PACKED_ZSTD: u8 = 3;
const LZ4: u8 = 4;
const PACKED_LZ4: u8 = 5;

/// Where a block is: offset of its payload and payload length (trailer excluded).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct BlockHandle {
    pub offset: u64,
    pub len: u32,
}

impl BlockHandle {
    fn encode(&self, buf: &mut Vec<u8>) {
        put_u64(buf, self.offset);
        put_u32(buf, self.len);
    }

    fn decode(d: &mut Decoder<'_>) -> Option<Self> {
        Some(BlockHandle {
            offset: d.u64()?,
            len: d.u32()?,
        })
    }
}

/// Frames `raw` for disk, compressed with `codec` (`None`: as it is) when that saves
/// at least an eighth; returns the codec used.
pub(crate) fn frame_block(
    raw: &[u8],
    codec: Option<Codec>,
    c: &mut Compressors,
    out: &mut Vec<u8>,
) -> Result<Option<Codec>> {
    frame_as(raw, false, codec, c, out)
}

/// Frames the packed form of a data block (packed.rs), compressed with zstd when that
/// saves at least an eighth (LZ4 finds little in bit-packed columns).
pub(crate) fn frame_packed(
    packed: &[u8],
    c: &mut Compressors,
    out: &mut Vec<u8>,
) -> Result<Option<Codec>> {
    frame_as(packed, true, Some(Codec::Zstd), c, out)
}

fn frame_as(
    raw: &[u8],
    packed: bool,
    codec: Option<Codec>,
    c: &mut Compressors,
    out: &mut Vec<u8>,
) -> Result<Option<Codec>> {
    let start = out.len();
    let compressed = match codec {
        Some(codec) => c.compress(codec, raw, out)?.then_some(codec),
        None => None,
    };
    if compressed.is_none() {
        out.extend_from_slice(raw);
    }
    let kind = kind_of(packed, compressed);
    let crc = crc32_two(&out[start..], &[kind]);
    out.push(kind);
    put_u32(out, crc);
    Ok(compressed)
}

/// Each compression byte: whether the payload is packed, and its codec.
const KINDS: [(u8, bool, Option<Codec>); 6] = [
    (NONE, false, None),
    (ZSTD, false, Some(Codec::Zstd)),
    (PACKED, true, None),
    (PACKED_ZSTD, true, Some(Codec::Zstd)),
    (LZ4, false, Some(Codec::Lz4)),
    (PACKED_LZ4, true, Some(Codec::Lz4)),
];

/// The compression byte of a block: packed or not, and its codec.
fn kind_of(packed: bool, codec: Option<Codec>) -> u8 {
    KINDS
        .iter()
        .find(|(_, p, c)| (*p, *c) == (packed, codec))
        .map_or(NONE, |(k, _, _)| *k)
}

/// The end of the block at `h`: its payload, then its trailer.
pub(crate) fn block_end(h: &BlockHandle) -> u64 {
    // Saturating: a damaged index's offset near 2^64 fails the read, not the sum.
    h.offset.saturating_add(h.len as u64 + TRAILER as u64)
}

/// Checks the checksum of `framed`, a whole block (payload and trailer) read from
/// `offset` of `name`.
pub(crate) fn check_framed(framed: &[u8], name: &str, offset: u64) -> Result<()> {
    let payload_len = framed.len().saturating_sub(TRAILER);
    let stored_crc = get_u32_at(framed, payload_len + 1).unwrap_or(0);
    if framed.len() < TRAILER || crc32(&framed[..payload_len + 1]) != stored_crc {
        return Err(Error::corruption(name, offset, "block checksum mismatch"));
    }
    Ok(())
}

/// Checks the checksums of the blocks at `handles` (sorted by offset) without
/// decompressing them (for `verify`), reading the file in stretches of up to 4 MiB
/// that each hold whole blocks; returns the bytes of the blocks.
pub(crate) fn check_blocks(file: &dyn FsFile, name: &str, handles: &[BlockHandle]) -> Result<u64> {
    const STRETCH: u64 = 4 << 20;
    let mut buf = Vec::new();
    let (mut i, mut bytes) = (0, 0);
    while i < handles.len() {
        let start = handles[i].offset;
        let mut j = i + 1;
        while j < handles.len() && block_end(&handles[j]) - start <= STRETCH {
            j += 1;
        }
        let end = handles[i..j].iter().map(block_end).max().unwrap_or(start);
        // (A damaged index may name blocks past the end: refused before the buffer
        // is sized by them.)
        let len = file.len().ctx(|| format!("reading {name}"))?;
        if end > len {
            return Err(Error::corruption(
                name,
                start,
                format!("blocks named up to offset {end}, past the end of the file ({len})"),
            ));
        }
        buf.resize((end - start) as usize, 0);
        file.read_exact_at(&mut buf, start)
            .ctx(|| format!("reading blocks at offsets {start}..{end} of {name}"))?;
        for h in &handles[i..j] {
            let at = (h.offset - start) as usize;
            check_framed(&buf[at..at + h.len as usize + TRAILER], name, h.offset)?;
            bytes += (h.len as usize + TRAILER) as u64;
        }
        i = j;
    }
    Ok(bytes)
}

/// Reads, checks and decompresses the block at `h`; `name` is used in errors.
pub(crate) fn read_block(
    file: &dyn FsFile,
    name: &str,
    h: BlockHandle,
    verify: bool,
) -> Result<Vec<u8>> {
    read_payload(file, name, h, verify)?.unpacked(name, h.offset)
}

/// A data block as read: a standard block's bytes, or a packed block's payload
/// (packed.rs), decompressed but not unpacked.
pub(crate) enum Payload {
    Standard(Vec<u8>),
    Packed(Vec<u8>),
}

impl Payload {
    /// The standard block's bytes: a packed payload unpacked (read from `offset` of
    /// `name`).
    pub(crate) fn unpacked(self, name: &str, offset: u64) -> Result<Vec<u8>> {
        match self {
            Payload::Standard(raw) => Ok(raw),
            Payload::Packed(packed) => super::packed::unpack(&packed, name, offset),
        }
    }
}

/// Framed blocks up to this size are read into the thread's reused buffer
/// (`FRAMED`, so at most this much is kept per thread that reads tables); larger
/// ones (a big table's filter or top-level index) into their own.
const KEEP_FRAMED: usize = 64 << 10;

thread_local! {
    /// The thread's buffer for framed blocks as read, before they are decompressed:
    /// a point read that misses the cache allocated, zeroed and freed one per block.
    static FRAMED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Reads and checks the block at `h`, and decompresses it.
pub(crate) fn read_payload(
    file: &dyn FsFile,
    name: &str,
    h: BlockHandle,
    verify: bool,
) -> Result<Payload> {
    let n = h.len as usize + TRAILER;
    let read = |framed: &mut [u8]| -> Result<()> {
        file.read_exact_at(framed, h.offset)
            .ctx(|| format!("reading block at offset {} of {name}", h.offset))?;
        if verify {
            check_framed(framed, name, h.offset)?;
        }
        Ok(())
    };
    if n <= KEEP_FRAMED {
        let scratch = FRAMED.try_with(|cell| {
            // (Taken, not borrowed: a file system that read a block from within a
            // read would find the buffer gone and use its own.)
            let mut buf = cell.take();
            if buf.len() < n {
                buf.reserve_exact(n - buf.len());
                buf.resize(n, 0);
            }
            let got = read(&mut buf[..n]).and_then(|()| payload_of(&buf[..n], name, h.offset));
            cell.replace(buf);
            got
        });
        if let Ok(got) = scratch {
            return got;
        }
    }
    let mut buf = vec![0u8; n];
    read(&mut buf)?;
    payload(buf, name, h.offset)
}

/// The payload of `framed` (a whole block read from `offset` of `name`),
/// decompressed and unpacked; its checksum is not checked here.
pub(crate) fn unframe(framed: Vec<u8>, name: &str, offset: u64) -> Result<Vec<u8>> {
    payload(framed, name, offset)?.unpacked(name, offset)
}

/// The payload of `framed` (a whole block read from `offset` of `name`),
/// decompressed; its checksum is not checked here. An uncompressed payload is
/// `framed` itself, cut to length.
pub(crate) fn payload(framed: Vec<u8>, name: &str, offset: u64) -> Result<Payload> {
    payload_in(Cow::Owned(framed), name, offset)
}

/// [`payload`] of a block lent (read ahead, or in the thread's buffer): an
/// uncompressed payload is copied out.
pub(crate) fn payload_of(framed: &[u8], name: &str, offset: u64) -> Result<Payload> {
    payload_in(Cow::Borrowed(framed), name, offset)
}

/// [`payload`] of a block owned or lent.
fn payload_in(framed: Cow<'_, [u8]>, name: &str, offset: u64) -> Result<Payload> {
    let payload_len = framed.len().saturating_sub(TRAILER);
    let kind = framed.get(payload_len).copied().unwrap_or(NONE);
    let Some(&(_, packed, codec)) = KINDS.iter().find(|(k, _, _)| *k == kind) else {
        return Err(Error::corruption(
            name,
            offset,
            format!("unknown block compression {kind}"),
        ));
    };
    let bytes = match (codec, framed) {
        (Some(codec), framed) => decompress(codec, &framed[..payload_len], name, offset)?,
        (None, Cow::Owned(mut framed)) => {
            framed.truncate(payload_len);
            framed
        }
        (None, Cow::Borrowed(framed)) => framed[..payload_len].to_vec(),
    };
    Ok(match packed {
        true => Payload::Packed(bytes),
        false => Payload::Standard(bytes),
    })
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Footer {
    /// The table format: 1 (whole index) or 2 (partitioned index).
    pub version: u32,
    pub index: BlockHandle,
    pub bloom: BlockHandle,
    pub range_dels: BlockHandle,
    pub props: BlockHandle,
}

impl Footer {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut buf = Vec::with_capacity(FOOTER_LEN);
        for h in [self.index, self.bloom, self.range_dels, self.props] {
            h.encode(&mut buf);
        }
        put_u32(&mut buf, self.version);
        put_u64(&mut buf, MAGIC);
        let crc = crc32(&buf);
        put_u32(&mut buf, crc);
        buf
    }

    pub(crate) fn read(file: &dyn FsFile, name: &str, file_len: u64) -> Result<Footer> {
        if file_len < FOOTER_LEN as u64 {
            return Err(Error::corruption(
                name,
                0,
                format!("file of {file_len} bytes is too short for a table"),
            ));
        }
        let at = file_len - FOOTER_LEN as u64;
        let mut buf = [0u8; FOOTER_LEN];
        file.read_exact_at(&mut buf, at)
            .ctx(|| format!("reading footer of {name}"))?;
        if get_u32_at(&buf, 60) != Some(crc32(&buf[..60])) {
            return Err(Error::corruption(name, at, "footer checksum mismatch"));
        }
        let mut d = Decoder::new(&buf);
        let bad = || Error::corruption(name, at, "malformed footer");
        let mut hs = [BlockHandle::default(); 4];
        for h in hs.iter_mut() {
            *h = BlockHandle::decode(&mut d).ok_or_else(bad)?;
            if block_end(h) > at {
                return Err(Error::corruption(
                    name,
                    at,
                    "footer points past the end of the data",
                ));
            }
        }
        let version = d.u32().ok_or_else(bad)?;
        if d.u64() != Some(MAGIC) {
            return Err(Error::corruption(name, at, "bad magic: not a flowdb table"));
        }
        if !(MIN_FORMAT_VERSION..=STATS_FORMAT_VERSION).contains(&version) {
            return Err(Error::corruption(
                name,
                at,
                format!("unsupported table format version {version}"),
            ));
        }
        Ok(Footer {
            version,
            index: hs[0],
            bloom: hs[1],
            range_dels: hs[2],
            props: hs[3],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::{FileSystem, OpenMode, OsFs};

    /// A footer whose checksum matches but whose handle's offset is near 2^64 is
    /// `Corruption` (the end of the block was once summed unchecked: a panic in a
    /// debug build, a wrapped sum past the check in a release one).
    #[test]
    fn a_footer_pointing_past_the_end_of_numbers_is_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sst");
        let far = BlockHandle {
            offset: u64::MAX - 4,
            len: 16,
        };
        let footer = Footer {
            version: MIN_FORMAT_VERSION,
            index: far,
            bloom: BlockHandle::default(),
            range_dels: BlockHandle::default(),
            props: BlockHandle::default(),
        };
        let mut bytes = vec![0u8; 100];
        bytes.extend(footer.encode());
        std::fs::write(&path, &bytes).unwrap();
        let file = OsFs.open(&path, OpenMode::Read).unwrap();
        let err = Footer::read(file.as_ref(), "t.sst", bytes.len() as u64).unwrap_err();
        assert!(err.to_string().contains("past the end"), "{err}");
    }
}

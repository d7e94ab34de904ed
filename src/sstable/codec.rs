//! Block compression: zstd (small files) and LZ4 (fast to decompress), one
//! compressor per table writer and one decompression context per reading thread.
//!
//! A compressed payload is `raw_len: varint` followed by the codec's output: one zstd
//! frame, or one LZ4 block (the LZ4 block format, without a frame header).

use crate::config::BlockCompression;
use crate::error::{Error, IoContext, Result};
use crate::util::coding::{put_varint, Decoder};

/// A codec a block's compression byte names (format.rs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Codec {
    Zstd,
    Lz4,
}

/// The largest block a payload may claim to decompress to: the largest
/// `Config::block_size` (1 GiB) plus the entry that may end a block past it (a
/// 64 MiB value, a 64 KiB key). (It was 1 GiB: a full block of a table written with
/// the largest block size was refused as damaged at every read.) Below 2^31, which
/// LZ4's lengths need.
pub(crate) const MAX_RAW: usize = (1 << 30) + (1 << 27);

/// A table writer's compressors: zstd for metadata and blocks of points, and the
/// configured `BlockCompression` for the other data blocks.
pub(crate) struct Compressors {
    zstd: zstd::bulk::Compressor<'static>,
    /// The codec of data blocks of records (`None`: stored as they are).
    data: Option<Codec>,
    scratch: Vec<u8>,
}

impl Compressors {
    pub(crate) fn new(zstd_level: i32, data: BlockCompression) -> Result<Self> {
        Ok(Compressors {
            zstd: zstd::bulk::Compressor::new(zstd_level).ctx(|| "creating a zstd compressor")?,
            data: match data {
                BlockCompression::None => None,
                BlockCompression::Zstd => Some(Codec::Zstd),
                BlockCompression::Lz4 => Some(Codec::Lz4),
            },
            scratch: Vec::new(),
        })
    }

    /// The codec data blocks of records are written with (`None`: stored as they are).
    pub(crate) fn data_codec(&self) -> Option<Codec> {
        self.data
    }

    /// Appends `raw` compressed with `codec` (its length first) to `out` and returns
    /// true when that saves at least an eighth of `raw`; otherwise leaves `out` as it
    /// was and returns false.
    pub(crate) fn compress(&mut self, codec: Codec, raw: &[u8], out: &mut Vec<u8>) -> Result<bool> {
        let compressed: &[u8] = match codec {
            Codec::Zstd => {
                self.scratch = self
                    .zstd
                    .compress(raw)
                    .map_err(|e| Error::Internal(format!("zstd compression failed: {e}")))?;
                &self.scratch
            }
            Codec::Lz4 => lz4_compress(raw, &mut self.scratch)?,
        };
        if compressed.len() + 10 >= raw.len() - raw.len() / 8 {
            return Ok(false);
        }
        put_varint(out, raw.len() as u64);
        out.extend_from_slice(compressed);
        Ok(true)
    }
}

/// `raw` in the LZ4 block format, in `buf`.
fn lz4_compress<'b>(raw: &[u8], buf: &'b mut Vec<u8>) -> Result<&'b [u8]> {
    let too_big = || Error::Internal(format!("block of {} bytes is too big for LZ4", raw.len()));
    let src_len = i32::try_from(raw.len()).map_err(|_| too_big())?;
    // SAFETY: LZ4_compressBound only computes a size.
    let bound = unsafe { lz4_sys::LZ4_compressBound(src_len) };
    if bound <= 0 {
        return Err(too_big());
    }
    buf.clear();
    buf.reserve(bound as usize);
    // SAFETY: `raw` is readable for `src_len` bytes and `buf` has room for `bound`
    // bytes, the most LZ4_compress_default writes; it returns the bytes written (0 on
    // failure), all initialized before `set_len`.
    let n = unsafe {
        lz4_sys::LZ4_compress_default(raw.as_ptr().cast(), buf.as_mut_ptr().cast(), src_len, bound)
    };
    if n <= 0 {
        return Err(Error::Internal("LZ4 compression failed".into()));
    }
    // SAFETY: see above: the first `n <= bound` bytes were written.
    unsafe { buf.set_len(n as usize) };
    Ok(buf)
}

/// The bytes the compressed payload `framed` holds (read from `offset` of `name`).
pub(crate) fn decompress(codec: Codec, framed: &[u8], name: &str, offset: u64) -> Result<Vec<u8>> {
    let mut d = Decoder::new(framed);
    let bad = || Error::corruption(name, offset, "block does not decompress");
    let raw_len = d.varint_usize().filter(|n| *n <= MAX_RAW).ok_or_else(bad)?;
    let body = &framed[d.pos()..];
    let out = match codec {
        Codec::Zstd => unzstd(body, raw_len).map_err(|_| bad())?,
        Codec::Lz4 => unlz4(body, raw_len).ok_or_else(bad)?,
    };
    if out.len() != raw_len {
        return Err(bad());
    }
    Ok(out)
}

/// The `raw_len` bytes the LZ4 block `body` holds, or `None` when it does not
/// decompress to exactly that many.
fn unlz4(body: &[u8], raw_len: usize) -> Option<Vec<u8>> {
    // LZ4 expands at most 255 to 1: a longer claim is damage, refused before the
    // buffer is allocated.
    if raw_len > body.len().saturating_mul(255).saturating_add(16) {
        return None;
    }
    let src_len = i32::try_from(body.len()).ok()?;
    let mut out: Vec<u8> = Vec::with_capacity(raw_len);
    // SAFETY: `body` is readable for `src_len` bytes and `out` has room for `raw_len`
    // (at most MAX_RAW, so it fits an i32); LZ4_decompress_safe never reads or writes
    // outside them, even for damaged input, and returns the bytes written or a
    // negative number.
    let n = unsafe {
        lz4_sys::LZ4_decompress_safe(
            body.as_ptr().cast(),
            out.as_mut_ptr().cast(),
            src_len,
            raw_len as i32,
        )
    };
    if n < 0 || n as usize != raw_len {
        return None;
    }
    // SAFETY: the first `n == raw_len` bytes were written.
    unsafe { out.set_len(raw_len) };
    Some(out)
}

thread_local! {
    /// One zstd decompression context per thread: creating one per block costs more
    /// than decompressing the block.
    static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

/// The `raw_len` bytes the zstd `frame` holds. The frame's header states its size
/// (flowdb's writers always write it); a claim it does not confirm is damage, refused
/// before a buffer of `raw_len` bytes is allocated (with checksums off, a damaged
/// length could otherwise ask for a gigabyte, and a refused allocation aborts).
fn unzstd(frame: &[u8], raw_len: usize) -> std::io::Result<Vec<u8>> {
    if !zstd_frame_states(frame, raw_len) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "zstd frame size differs from the block's length",
        ));
    }
    DECOMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(zstd::bulk::Decompressor::new()?);
        }
        match slot.as_mut() {
            Some(d) => d.decompress(frame, raw_len),
            None => zstd::bulk::decompress(frame, raw_len),
        }
    })
}

/// Whether `frame`'s header states a content size of exactly `raw_len` bytes.
fn zstd_frame_states(frame: &[u8], raw_len: usize) -> bool {
    matches!(zstd::zstd_safe::get_frame_content_size(frame), Ok(Some(n)) if n == raw_len as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every block a table can hold decompresses: the largest block size plus one
    /// entry of the largest key and value (with its few header bytes) is within
    /// the bound, which fits LZ4's i32 lengths.
    #[test]
    fn the_bound_covers_the_largest_block() {
        use crate::record::{MAX_KEY_LEN, MAX_VALUE_LEN};
        let largest_block = (1usize << 30) + MAX_VALUE_LEN + MAX_KEY_LEN + 64;
        assert!(largest_block <= MAX_RAW);
        assert!(i32::try_from(MAX_RAW).is_ok());
    }

    #[test]
    fn both_codecs_round_trip_and_refuse_damage() {
        let raw: Vec<u8> = (0..8192u32)
            .map(|i| (i % 251) as u8 ^ (i / 97) as u8)
            .collect();
        for codec in [Codec::Zstd, Codec::Lz4] {
            let mut c = Compressors::new(-1, BlockCompression::Lz4).unwrap();
            let mut out = Vec::new();
            assert!(c.compress(codec, &raw, &mut out).unwrap(), "{codec:?}");
            assert_eq!(decompress(codec, &out, "t", 0).unwrap(), raw, "{codec:?}");
            // A wrong length, a cut body and a flipped byte are each refused.
            let mut longer = Vec::new();
            put_varint(&mut longer, raw.len() as u64 + 1);
            longer.extend_from_slice(&out[2..]);
            assert!(decompress(codec, &longer, "t", 0).is_err(), "{codec:?}");
            assert!(
                decompress(codec, &out[..out.len() / 2], "t", 0).is_err(),
                "{codec:?}"
            );
            let mut flipped = out.clone();
            let mid = flipped.len() / 2;
            flipped[mid] ^= 0xff;
            if let Ok(v) = decompress(codec, &flipped, "t", 0) {
                assert_eq!(v.len(), raw.len(), "{codec:?}");
            }
        }
    }

    /// A zstd payload whose length claim (up to MAX_RAW) differs from the size its
    /// frame states is refused by the header check, before a buffer of the claimed
    /// size is allocated; the frames flowdb writes state their size.
    #[test]
    fn a_zstd_length_claim_the_frame_does_not_state_is_refused_first() {
        let raw = vec![3u8; 4096];
        let mut c = Compressors::new(3, BlockCompression::Zstd).unwrap();
        let mut out = Vec::new();
        assert!(c.compress(Codec::Zstd, &raw, &mut out).unwrap());
        let body = &out[2..]; // 4096 is a two-byte varint
        assert!(zstd_frame_states(body, raw.len()));
        for claim in [raw.len() - 1, raw.len() + 1, MAX_RAW] {
            assert!(!zstd_frame_states(body, claim), "{claim}");
            let mut framed = Vec::new();
            put_varint(&mut framed, claim as u64);
            framed.extend_from_slice(body);
            assert!(decompress(Codec::Zstd, &framed, "t", 0).is_err(), "{claim}");
        }
        // A frame whose header flags were damaged does not confirm the claim.
        let mut no_size = body.to_vec();
        no_size[4] &= 0x3f;
        assert!(!zstd_frame_states(&no_size, raw.len()));
    }

    #[test]
    fn incompressible_blocks_are_left_as_they_are() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let raw: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let mut c = Compressors::new(-1, BlockCompression::Lz4).unwrap();
        for codec in [Codec::Zstd, Codec::Lz4] {
            let mut out = vec![7];
            assert!(!c.compress(codec, &raw, &mut out).unwrap());
            assert_eq!(out, [7]);
        }
    }
}

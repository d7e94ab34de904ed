//! The one checksum of flowdb: crc32 (IEEE), over every WAL batch, table block,
//! footer and manifest.

pub(crate) fn crc32(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

/// crc32 over two consecutive pieces, as if they were one buffer.
pub(crate) fn crc32_two(a: &[u8], b: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(a);
    h.update(b);
    h.finalize()
}

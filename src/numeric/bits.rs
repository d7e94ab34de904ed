//! Bit-level writing and reading, the substrate of every numeric codec.
//!
//! Bits are packed least-significant first: a field of `n` bits written as the
//! integer `v` occupies the next `n` bit positions, low bit first, and bit `p` of the
//! stream is bit `p % 8` of byte `p / 8`. That order lets both sides move whole
//! little-endian words: the writer fills a 64-bit accumulator and appends it as 8
//! bytes; the reader loads the 8 bytes around its position with one unaligned read
//! and shifts. No per-bit loops, no per-field bounds branches on the fast path.
//!
//! The reader never fails on its own: reading past the end yields zero bits and
//! marks the reader overrun, and each decoder checks [`BitReader::check_end`] once,
//! at the end. Decoders loop a bounded number of times (the run's count), so garbage
//! costs at most that many cheap reads; keeping the error out of every read keeps
//! the hot loops branch-free.

use super::Malformed;

/// The mask of the low `n` bits (`n` in `0..=64`).
#[inline]
pub(crate) fn mask(n: u32) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}

/// The number of bits needed to write `v` (0 for 0).
#[inline]
pub(crate) fn bit_len(v: u64) -> u32 {
    64 - v.leading_zeros()
}

/// Appends bit fields to a byte vector.
pub(crate) struct BitWriter<'a> {
    out: &'a mut Vec<u8>,
    /// Bits written but not yet appended, the oldest at bit 0.
    acc: u64,
    /// How many bits of `acc` are in use (always < 64).
    used: u32,
}

impl<'a> BitWriter<'a> {
    pub(crate) fn new(out: &'a mut Vec<u8>) -> Self {
        BitWriter {
            out,
            acc: 0,
            used: 0,
        }
    }

    /// Writes the low `n` bits of `v` (`n <= 64`; `v` has no bits above them).
    #[inline]
    pub(crate) fn write(&mut self, v: u64, n: u32) {
        debug_assert!(n <= 64 && v & !mask(n) == 0, "{v:#x} does not fit {n} bits");
        if n == 0 {
            return;
        }
        self.acc |= v << self.used;
        let total = self.used + n;
        if total >= 64 {
            self.out.extend_from_slice(&self.acc.to_le_bytes());
            // The bits of `v` that did not fit in the word just written.
            self.acc = if self.used == 0 {
                0
            } else {
                v >> (64 - self.used)
            };
            self.used = total - 64;
        } else {
            self.used = total;
        }
    }

    /// Writes one bit.
    #[inline]
    pub(crate) fn bit(&mut self, b: bool) {
        self.write(u64::from(b), 1);
    }

    /// Appends the last partial byte (its unused high bits zero).
    pub(crate) fn finish(self) {
        let bytes = self.used.div_ceil(8) as usize;
        self.out.extend_from_slice(&self.acc.to_le_bytes()[..bytes]);
    }
}

/// Reads bit fields from a byte slice; see the module doc for the overrun rule.
pub(crate) struct BitReader<'a> {
    buf: &'a [u8],
    /// The next bit to read.
    pos: usize,
    /// The last (up to) 8 bytes of `buf` followed by zeros, where windows near the
    /// end are read from: small sections spend a good part of their reads there.
    tail: [u8; 16],
    tail_start: usize,
}

impl<'a> BitReader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        let tail_start = buf.len().saturating_sub(8);
        let mut tail = [0u8; 16];
        let rest = buf.get(tail_start..).unwrap_or_default();
        tail[..rest.len()].copy_from_slice(rest);
        BitReader {
            buf,
            pos: 0,
            tail,
            tail_start,
        }
    }

    /// The 64 bits from the byte holding `pos` on, shifted so that bit 0 is `pos`:
    /// at least 57 valid bits (zeros past the end).
    #[inline]
    fn window(&self) -> u64 {
        let byte = self.pos >> 3;
        let from = match self.buf.get(byte..byte.wrapping_add(8)) {
            Some(b) => b,
            None => self
                .tail
                .get(byte.wrapping_sub(self.tail_start)..)
                .and_then(|t| t.get(..8))
                .unwrap_or(&[0; 8]),
        };
        let mut w = [0u8; 8];
        w.copy_from_slice(from);
        u64::from_le_bytes(w) >> (self.pos & 7)
    }

    /// Reads an `n`-bit field (`n <= 64`).
    #[inline]
    pub(crate) fn read(&mut self, n: u32) -> u64 {
        let lo = self.window();
        if n <= 56 {
            self.pos += n as usize;
            return lo & mask(n);
        }
        // The window holds at least 57 bits; take 32 and the rest from the next.
        self.pos += 32;
        let hi = self.window() & mask(n - 32);
        self.pos += n as usize - 32;
        (lo & 0xffff_ffff) | hi << 32
    }

    /// Reads one bit.
    #[inline]
    pub(crate) fn bit(&mut self) -> bool {
        self.read(1) != 0
    }

    /// The next up-to-56 bits without consuming them (for prefix codes).
    #[inline]
    pub(crate) fn peek(&self) -> u64 {
        self.window()
    }

    /// Consumes `n` bits already looked at with [`peek`](Self::peek).
    #[inline]
    pub(crate) fn skip(&mut self, n: u32) {
        self.pos += n as usize;
    }

    /// Whether a read went past the end.
    pub(crate) fn overrun(&self) -> bool {
        self.pos > self.buf.len() * 8
    }

    /// Succeeds when everything read was inside the slice and the slice holds no
    /// further whole byte: a stream must end in its last byte, so trailing garbage
    /// (or a length that claims too much) is caught too.
    pub(crate) fn check_end(&self, what: &'static str) -> Result<(), Malformed> {
        if self.pos > self.buf.len() * 8 {
            Err(Malformed(what, "truncated bit stream"))
        } else if self.pos.div_ceil(8) != self.buf.len() {
            Err(Malformed(what, "bytes after the end of the bit stream"))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_of_every_width_round_trip() {
        let mut rng = crate::util::test_rng("bits");
        let fields: Vec<(u64, u32)> = (0..5_000)
            .map(|_| {
                let n = rng.u32(0..=64);
                (rng.u64(..) & mask(n), n)
            })
            .collect();
        let mut buf = Vec::new();
        let mut w = BitWriter::new(&mut buf);
        for &(v, n) in &fields {
            w.write(v, n);
        }
        w.finish();
        let total: u32 = fields.iter().map(|f| f.1).sum();
        assert_eq!(buf.len(), total.div_ceil(8) as usize);
        let mut r = BitReader::new(&buf);
        for &(v, n) in &fields {
            assert_eq!(r.read(n), v, "width {n}");
        }
        r.check_end("test").unwrap();
    }

    #[test]
    fn overrun_and_trailing_bytes_are_reported() {
        let mut r = BitReader::new(&[0xff]);
        assert_eq!(r.read(4), 0xf);
        r.check_end("t").unwrap();
        assert_eq!(r.read(8), 0xf, "zeros past the end");
        assert!(r.check_end("t").is_err());
        let r = BitReader::new(&[0, 0]);
        assert!(r.check_end("t").is_err(), "unread whole bytes");
        let mut r = BitReader::new(&[]);
        assert_eq!(r.read(64), 0);
        assert!(r.check_end("t").is_err());
    }

    #[test]
    fn peek_and_skip() {
        let mut buf = Vec::new();
        let mut w = BitWriter::new(&mut buf);
        w.write(0b1011, 4);
        w.write(u64::MAX, 64);
        w.finish();
        let mut r = BitReader::new(&buf);
        assert_eq!(r.peek() & 0xf, 0b1011);
        r.skip(4);
        assert_eq!(r.read(64), u64::MAX);
        assert_eq!(bit_len(0), 0);
        assert_eq!(bit_len(u64::MAX), 64);
    }
}

//! Byte coding shared by every on-disk format: LEB128 varints, zigzag for signed
//! numbers, little-endian fixed-width integers, and length-prefixed byte strings.
//! Decoding never panics: a short or malformed input yields `None`, which callers
//! turn into a `Corruption` error naming the file and offset.

#[inline]
pub(crate) fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

#[inline]
pub(crate) fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

pub(crate) fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

#[inline]
pub(crate) fn put_varint_i64(buf: &mut Vec<u8>, v: i64) {
    put_varint(buf, zigzag(v));
}

pub(crate) fn put_u32(buf: &mut Vec<u8>, v: u32) {
    buf.extend_from_slice(&v.to_le_bytes());
}

pub(crate) fn put_u64(buf: &mut Vec<u8>, v: u64) {
    buf.extend_from_slice(&v.to_le_bytes());
}

#[inline]
pub(crate) fn put_bytes(buf: &mut Vec<u8>, b: &[u8]) {
    put_varint(buf, b.len() as u64);
    buf.extend_from_slice(b);
}

/// How many leading bytes `a` and `b` share (the prefix a key is written after).
/// Eight bytes at a time: the first that differs is the lowest set byte of the
/// words' xor.
#[inline]
pub(crate) fn shared_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let word = |s: &[u8], i: usize| {
        u64::from_le_bytes(s[i..i + 8].try_into().expect("`i + 8 <= n`: 8 bytes"))
    };
    let mut i = 0;
    while i + 8 <= n {
        let x = word(a, i) ^ word(b, i);
        if x != 0 {
            return i + (x.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i + a[i..n]
        .iter()
        .zip(&b[i..n])
        .take_while(|(x, y)| x == y)
        .count()
}

/// The varint at `buf[*at..]`, moving `at` past it; `None` when cut short or over
/// 64 bits. With eight bytes to read, one load finds where it ends (a ts delta in
/// microseconds takes three or four bytes: byte by byte, that was a third of
/// aggregation's pass over a block, columns.rs, which calls this inlined).
#[inline(always)]
pub(crate) fn varint_at(buf: &[u8], at: &mut usize) -> Option<u64> {
    if let Some(word) = buf.get(*at..at.checked_add(8)?) {
        let w = u64::from_le_bytes(word.try_into().ok()?);
        let ends = !w & 0x8080_8080_8080_8080;
        if ends != 0 {
            *at += (ends.trailing_zeros() / 8 + 1) as usize;
            return Some(varint_bits(w, ends));
        }
    }
    let rest = buf.get(*at..)?;
    let mut v: u64 = 0;
    for (i, byte) in rest.iter().take(10).enumerate() {
        v |= ((byte & 0x7f) as u64) << (7 * i);
        if *byte < 0x80 {
            if i == 9 && *byte > 1 {
                return None; // more than 64 bits
            }
            *at += i + 1;
            return Some(v);
        }
    }
    None
}

/// The value of the varint in the low bytes of `w`, whose first byte without its
/// top bit is the lowest set bit of `ends` (`!w & 0x8080..`): the bytes up to it
/// kept, their 7-bit groups packed together in three steps (pairs, fours, eights),
/// the same work for every length. A loop over the bytes was ~5 instructions a byte,
/// 40 for the 8-byte ts at a block's restart (2% of `last_n`).
#[inline(always)]
fn varint_bits(w: u64, ends: u64) -> u64 {
    // All bits up to and including the end byte's top bit (clear in `w`).
    let x = w & (ends ^ (ends - 1)) & 0x7f7f_7f7f_7f7f_7f7f;
    let x = (x & 0x007f_007f_007f_007f) | ((x & 0x7f00_7f00_7f00_7f00) >> 1);
    let x = (x & 0x0000_3fff_0000_3fff) | ((x & 0x3fff_0000_3fff_0000) >> 2);
    (x & 0x0000_0000_0fff_ffff) | ((x & 0x0fff_ffff_0000_0000) >> 4)
}

pub(crate) fn get_u32_at(buf: &[u8], at: usize) -> Option<u32> {
    let b = buf.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// A forward reader over a byte slice.
pub(crate) struct Decoder<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Decoder { buf, pos: 0 }
    }

    pub(crate) fn at(buf: &'a [u8], pos: usize) -> Self {
        Decoder { buf, pos }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// The bytes left to read.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    #[inline]
    pub(crate) fn varint(&mut self) -> Option<u64> {
        // Most varints in blocks are one byte (lengths, shared prefixes, ts deltas).
        let first = *self.buf.get(self.pos)?;
        if first < 0x80 {
            self.pos += 1;
            return Some(first as u64);
        }
        self.varint_slow()
    }

    fn varint_slow(&mut self) -> Option<u64> {
        varint_at(self.buf, &mut self.pos)
    }

    // Always inlined, as `varint` is: a block's decode loop asks it of every entry,
    // and in a large caller (a merge with a table's loop inlined) it was left a call.
    #[inline(always)]
    pub(crate) fn varint_usize(&mut self) -> Option<usize> {
        usize::try_from(self.varint()?).ok()
    }

    #[inline(always)]
    pub(crate) fn varint_i64(&mut self) -> Option<i64> {
        Some(unzigzag(self.varint()?))
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        let b = *self.buf.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    pub(crate) fn u32(&mut self) -> Option<u32> {
        let v = get_u32_at(self.buf, self.pos)?;
        self.pos += 4;
        Some(v)
    }

    pub(crate) fn u64(&mut self) -> Option<u64> {
        let b = self.take(8)?;
        Some(u64::from_le_bytes([
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
        ]))
    }

    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    pub(crate) fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.varint_usize()?;
        self.take(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `shared_prefix` is the byte-by-byte count, at every length and place of the
    /// first difference.
    #[test]
    fn shared_prefix_counts_bytes() {
        let mut rng = crate::util::test_rng("shared_prefix_counts_bytes");
        for _ in 0..5000 {
            let a: Vec<u8> = (0..rng.usize(0..40)).map(|_| rng.u8(..4)).collect();
            let mut b = a[..rng.usize(0..=a.len())].to_vec();
            if rng.bool() {
                b.extend((0..rng.usize(0..20)).map(|_| rng.u8(..4)));
            }
            let naive = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
            assert_eq!(shared_prefix(&a, &b), naive, "{a:?} {b:?}");
            assert_eq!(shared_prefix(&b, &a), naive, "{b:?} {a:?}");
        }
        // Any byte values, and one bit flipped at each place: the first differing
        // byte is found whichever bit of it differs.
        let a: Vec<u8> = (0..=255).collect();
        assert_eq!(shared_prefix(&a, &a), 256);
        for at in 0..a.len() {
            for bit in 0..8 {
                let mut b = a.clone();
                b[at] ^= 1 << bit;
                assert_eq!(shared_prefix(&a, &b), at, "byte {at} bit {bit}");
            }
        }
    }

    #[test]
    fn varints_round_trip() {
        let vals = [0u64, 1, 127, 128, 300, u32::MAX as u64, u64::MAX];
        let mut buf = Vec::new();
        for v in vals {
            put_varint(&mut buf, v);
        }
        let mut d = Decoder::new(&buf);
        for v in vals {
            assert_eq!(d.varint(), Some(v));
        }
        assert!(d.is_empty());
        assert_eq!(d.varint(), None);
    }

    #[test]
    fn varints_of_every_length_round_trip_and_bad_ones_fail() {
        let mut rng = crate::util::test_rng("varints_of_every_length_round_trip");
        // Every length, read with eight bytes ahead and near the end.
        let vals: Vec<u64> = (0..2000).map(|_| rng.u64(..) >> rng.u32(0..64)).collect();
        let mut buf = Vec::new();
        for &v in &vals {
            put_varint(&mut buf, v);
        }
        let mut d = Decoder::new(&buf);
        for &v in &vals {
            assert_eq!(d.varint(), Some(v));
        }
        assert!(d.is_empty());
        // Over 64 bits or overlong (with bytes after or not), cut short: no value.
        let over = [[0xff; 9].as_slice(), &[2]].concat();
        for bad in [&over[..], &[0x80; 11]] {
            for tail in [&[][..], &[0u8; 8]] {
                assert_eq!(Decoder::new(&[bad, tail].concat()).varint(), None);
            }
        }
        assert_eq!(Decoder::new(&[0x80, 0x80, 0x80]).varint(), None);
    }

    #[test]
    fn zigzag_round_trips() {
        for v in [0i64, -1, 1, i64::MIN, i64::MAX, -1_000_000] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
    }

    #[test]
    fn malformed_input_is_none_not_panic() {
        assert_eq!(Decoder::new(&[0xff; 11]).varint(), None);
        assert_eq!(Decoder::new(&[5, 1]).bytes(), None);
        assert_eq!(Decoder::new(&[1, 2]).u32(), None);
    }
}

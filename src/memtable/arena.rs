//! A memtable's own memory: its keys' slots, their keys, their short runs of
//! versions and the versions' values are carved out of a few large chunks, and freed
//! all at once with the memtable.
//!
//! Before, each of them was a block of its own from the allocator: a time-series
//! write kept the caller's value `Vec`, and a new key took a slot and a run. The
//! memtable is written by the write leader and dropped, after its flush, by the
//! maintenance thread, so every one of those blocks was freed by another thread than
//! the one that allocated it, under the allocator's lock for that thread's heap:
//! at 200,000 series the writer spent ~28% of its time in malloc, a third of it
//! waiting on that lock. Now a write copies its value into the arena and its own
//! `Vec` goes back to the caller's thread's cache at once; the maintenance thread
//! frees a few dozen chunks per memtable, plus what still has blocks of its own:
//! values over 4 KiB and runs over 16 versions (one per long series), and the
//! B-tree's nodes.
//!
//! Chunks start at 64 KiB and double up to 1 MiB; a request over 4 KiB gets a block
//! of its own (so a chunk's unused tail is at most about 4 KiB). The arena counts
//! what it handed out, the chunk tails it gave up and its own blocks as malloc sizes
//! them: the memtable's accounting follows its memory without jumping a chunk at a
//! time (a 1 MiB memtable would otherwise fill with a few chunks).
//!
//! A [`MemBytes`] points into its arena without a lifetime, so making one is
//! `unsafe`: only the arena's own map may keep it (the memtable module's structures,
//! dropped before the arena).

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::ptr::NonNull;

/// The first chunk's size; each next one doubles, up to `MAX_CHUNK`.
const FIRST_CHUNK: usize = 64 << 10;
const MAX_CHUNK: usize = 1 << 20;
/// Requests above this get a block of their own.
const OWN_BLOCK: usize = 4 << 10;
/// Every chunk's alignment, and the most any request may ask.
const ALIGN: usize = 16;

pub(crate) struct Arena {
    /// Every block reserved, chunks and requests of their own, with its layout.
    blocks: Vec<(NonNull<u8>, Layout)>,
    /// The free part of the current chunk: `left` bytes from `next`.
    next: *mut u8,
    left: usize,
    /// The next chunk's size.
    chunk: usize,
    /// Bytes of the blocks reserved (own blocks as malloc sizes them).
    reserved: usize,
}

// SAFETY: the arena owns its blocks; the raw pointers are into them, reached only
// through `&mut self` (allocating) or by the owner of what was allocated.
unsafe impl Send for Arena {}
// SAFETY: `&Arena` reads only counters.
unsafe impl Sync for Arena {}

impl Arena {
    pub(crate) fn new() -> Self {
        Arena {
            blocks: Vec::new(),
            next: std::ptr::null_mut(),
            left: 0,
            chunk: FIRST_CHUNK,
            reserved: 0,
        }
    }

    /// Bytes in use: handed out, given up at chunk ends and own blocks as malloc
    /// sizes them (not the current chunk's free tail).
    pub(crate) fn used(&self) -> usize {
        self.reserved - self.left
    }

    /// Memory for `layout` (of at most 16-byte alignment), valid until the arena is
    /// dropped and never moved.
    pub(crate) fn alloc(&mut self, layout: Layout) -> NonNull<u8> {
        assert!(
            layout.align() <= ALIGN,
            "arena: alignment {}",
            layout.align()
        );
        let size = layout.size().max(1);
        if size > OWN_BLOCK {
            return self.reserve(Layout::from_size_align(size, ALIGN).expect("layout"));
        }
        let mut pad = self.next.align_offset(layout.align());
        if pad + size > self.left {
            // The tail given up stays counted in `used`.
            let len = self.chunk;
            self.chunk = (self.chunk * 2).min(MAX_CHUNK);
            self.next = self
                .reserve(Layout::from_size_align(len, ALIGN).expect("layout"))
                .as_ptr();
            self.left = len;
            pad = 0;
        }
        // SAFETY: `pad + size <= left`, so both stay within the current chunk.
        let p = unsafe { self.next.add(pad) };
        // SAFETY: as above.
        self.next = unsafe { p.add(size) };
        self.left -= pad + size;
        // SAFETY: `p` is within a chunk, which is not null.
        unsafe { NonNull::new_unchecked(p) }
    }

    /// A block from the allocator, kept until the arena is dropped.
    fn reserve(&mut self, layout: Layout) -> NonNull<u8> {
        // SAFETY: `layout` has a non-zero size (callers ask at least one byte).
        let p = unsafe { alloc(layout) };
        let Some(p) = NonNull::new(p) else {
            handle_alloc_error(layout)
        };
        self.blocks.push((p, layout));
        self.reserved += match layout.size() > OWN_BLOCK {
            true => super::footprint::heap(layout.size()),
            false => layout.size(),
        };
        p
    }

    /// `bytes` as the memtable keeps them: inline up to 16, else copied in here.
    ///
    /// # Safety
    /// The result must not be dereferenced once this arena is dropped: only a
    /// structure the arena's owner drops first may keep it.
    pub(crate) unsafe fn bytes(&mut self, bytes: &[u8]) -> MemBytes {
        if bytes.len() <= INLINE {
            let mut inline = [0; INLINE];
            inline[..bytes.len()].copy_from_slice(bytes);
            return MemBytes {
                len: bytes.len(),
                data: Data { inline },
            };
        }
        let p = self.alloc(Layout::array::<u8>(bytes.len()).expect("layout"));
        // SAFETY: `p` is a fresh allocation of `bytes.len()` bytes, apart from `bytes`.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), p.as_ptr(), bytes.len()) };
        MemBytes {
            len: bytes.len(),
            data: Data { ptr: p },
        }
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        for (p, layout) in self.blocks.drain(..) {
            // SAFETY: each block was allocated in `reserve` with this layout, once.
            unsafe { dealloc(p.as_ptr(), layout) };
        }
    }
}

/// Bytes kept inline in a [`MemBytes`].
const INLINE: usize = 16;

/// A byte string a memtable keeps: up to 16 bytes inline (index entries, JsonDB's
/// unique-index primary keys, tombstones: no pointer to follow), else in the
/// memtable's arena, in the 24 bytes a `Vec` would take. Valid while its arena is:
/// only the memtable's own structures, dropped with it, hold one.
#[derive(Clone, Copy)]
pub(crate) struct MemBytes {
    len: usize,
    data: Data,
}

#[derive(Clone, Copy)]
union Data {
    inline: [u8; INLINE],
    ptr: NonNull<u8>,
}

// SAFETY: the bytes are immutable once made, in an arena that outlives the holder
// (`Arena::bytes`' contract; only the memtable module makes and keeps them).
unsafe impl Send for MemBytes {}
// SAFETY: as for Send.
unsafe impl Sync for MemBytes {}

impl std::ops::Deref for MemBytes {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        if self.len <= INLINE {
            // SAFETY: short strings are made with `inline` set.
            unsafe { &self.data.inline[..self.len] }
        } else {
            // SAFETY: long ones point at `len` bytes in the arena, which outlives
            // every holder (see the type's doc).
            unsafe { std::slice::from_raw_parts(self.data.ptr.as_ptr(), self.len) }
        }
    }
}

impl std::fmt::Debug for MemBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", &**self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Byte strings of every length around the inline limit and past a block of
    /// their own, and aligned requests, keep their contents while more is allocated;
    /// `used` counts at least what was handed out.
    #[test]
    fn keeps_what_it_hands_out() {
        let mut rng = crate::util::test_rng("keeps_what_it_hands_out");
        let mut arena = Arena::new();
        let mut kept = Vec::new();
        for i in 0..20_000usize {
            let len = match rng.u8(..10) {
                0 => rng.usize(OWN_BLOCK - 2..OWN_BLOCK + 300),
                _ => rng.usize(0..40),
            };
            let want: Vec<u8> = (0..len).map(|j| (i + j) as u8).collect();
            // SAFETY: `kept` is read before the arena goes.
            kept.push((unsafe { arena.bytes(&want) }, want));
            let align = 1 << rng.u32(0..5);
            let p = arena.alloc(Layout::from_size_align(rng.usize(1..100), align).unwrap());
            assert_eq!(p.as_ptr() as usize % align, 0);
        }
        for (got, want) in &kept {
            assert_eq!(&got[..], &want[..]);
        }
        assert!(arena.used() >= kept.iter().map(|(_, w)| w.len()).sum::<usize>());
        assert!(arena.blocks.iter().all(|(_, l)| l.size() <= MAX_CHUNK));
    }
}

//! What the memtable's pieces take from the allocator, so that `memtable_size_mb`
//! bounds the memory a memtable holds rather than its key and value bytes
//! (docs/design.md, "Memory").
//!
//! A heap block costs what glibc's malloc hands out for the request: the request plus
//! an 8-byte header, rounded up to 16, at least 32 bytes (other allocators are close).
//! The arena (slots, their keys, values, short runs) is charged the blocks it
//! reserved, exactly. Outside it, structures that grow by doubling are charged their
//! capacity as it grows: a long run's block exactly, the hash table at its average
//! fill. B-tree entries are charged their node's size over its average fill.

use std::mem::size_of;

use crate::util::key_order::Key;

/// The allocator's block for a request of `n` bytes (0 for none).
pub(super) fn heap(n: usize) -> usize {
    match n {
        0 => 0,
        n => ((n + 8 + 15) & !15).max(32),
    }
}

/// Entries a B-tree node holds (std's `B = 6`: 2B - 1).
const NODE_ENTRIES: usize = 11;

/// A B-tree entry of `entry` bytes: its share of a leaf node (the entries plus about
/// 16 bytes of header) at the average fill, 2/3 (nodes split in half and fill again).
pub(super) fn btree_entry(entry: usize) -> usize {
    heap(NODE_ENTRIES * entry + 16) * 3 / (2 * NODE_ENTRIES)
}

/// A new key outside the arena (which holds its slot and the slot's copy of the
/// key): the ordered map's own copy of the key (`key`; inline up to 32 bytes, else a
/// block, which keeps the caller's `Vec` and its capacity), its entry (key and
/// pointer) and the hash table's (hash and pointer, in a table between 7/16 and 7/8
/// full: 3/2 of 16 bytes on average).
pub(super) fn new_key(key: &Key) -> usize {
    let own = match key.0.spilled() {
        true => heap(key.0.capacity()),
        false => 0,
    };
    own + btree_entry(size_of::<Key>() + 8) + 16 * 3 / 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_round_as_malloc_does() {
        assert_eq!(heap(0), 0);
        assert_eq!(heap(1), 32);
        assert_eq!(heap(24), 32);
        assert_eq!(heap(25), 48);
        assert_eq!(heap(100), 112);
        let entry = btree_entry(size_of::<Key>() + 8) + 24;
        assert_eq!(new_key(&Key::new(vec![b'k'; 32])), entry);
        let mut long = Vec::with_capacity(100);
        long.resize(33, b'k');
        assert_eq!(new_key(&Key::new(long)), heap(100) + entry);
    }
}

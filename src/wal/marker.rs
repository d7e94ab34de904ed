//! Sync marks: a log record that says "this segment was synced up to byte N", written
//! at the front of a group once a sync has moved N on. Recovery uses them to tell
//! damage from a torn tail in the last segment (reader.rs): pages of a file may reach
//! the disk in any order before its fsync, so after a power loss unsynced bytes can be
//! a hole with whole records after it; damage below a later mark's N is in bytes that
//! were synced, which no power loss explains.
//!
//! A mark's payload is a batch header that no batch has (first sequence `u64::MAX`,
//! no operations) followed by N as 8 little-endian bytes: a version that does not
//! know marks refuses the log (a batch with bytes after its operations) rather than
//! misread it.

/// The payload of a mark that states `synced` bytes of the segment durable.
pub(crate) fn encode_mark(synced: u64, out: &mut Vec<u8>) {
    out.extend_from_slice(&u64::MAX.to_le_bytes());
    out.push(0); // no operations (a varint)
    out.extend_from_slice(&synced.to_le_bytes());
}

/// The synced length a record's payload states, when it is a mark.
pub(crate) fn decode_mark(payload: &[u8]) -> Option<u64> {
    if payload.len() != 17 || payload[..8] != u64::MAX.to_le_bytes() || payload[8] != 0 {
        return None;
    }
    Some(u64::from_le_bytes(payload[9..].try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_round_trips_and_no_batch_reads_as_one() {
        let mut out = Vec::new();
        encode_mark(12_345, &mut out);
        assert_eq!(decode_mark(&out), Some(12_345));
        // A version without marks refuses it: a batch must end with its operations.
        assert!(super::super::WriteBatch::decode(&out).is_none());
        let b = super::super::WriteBatch {
            ops: vec![super::super::Op::Put(crate::Record::new("k", 1, vec![1]))],
        };
        let mut enc = Vec::new();
        b.encode(u64::MAX, &mut enc);
        assert_eq!(decode_mark(&enc), None);
    }
}

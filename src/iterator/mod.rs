//! Reading across sources: the merge of memtable and table cursors into one ordered
//! stream of newest versions, and the public lazy [`ScanIterator`] on top of it.

pub(crate) mod lent_merge;
pub(crate) mod merge;
pub(crate) mod scan;

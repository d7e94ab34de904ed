//! A cursor's read-ahead: the entries of one read, their bytes in one buffer that
//! the cursor keeps from read to read. One allocation a hit (`OwnedHit` each) had a
//! walk over documents spend about a quarter of its instructions in the allocator
//! (docs/benchmarks.md, "A cursor's batch in one buffer").

use std::collections::VecDeque;
use std::ops::Range;

use crate::error::Result;
use crate::jsondb::walk::{Hit, OwnedHit};

/// Where one entry's parts lie in the batch's buffer.
struct Span {
    /// Its engine key, then its primary key, from here.
    at: usize,
    /// The key, within the engine key (from `at`).
    key: Range<usize>,
    /// Where the engine key ends and the primary key begins.
    pk_at: usize,
    /// Where the primary key ends.
    end: usize,
    /// The document, when kept (an index entry's is appended after the walk).
    doc: Option<Range<usize>>,
}

/// Entries read ahead, in the order they are handed out.
#[derive(Default)]
pub(super) struct Batch {
    bytes: Vec<u8>,
    spans: VecDeque<Span>,
}

impl Batch {
    pub(super) fn len(&self) -> usize {
        self.spans.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Drops every entry (the buffer's room stays).
    pub(super) fn clear(&mut self) {
        self.spans.clear();
        self.bytes.clear();
    }

    /// Appends `hit`, its document only when `with_doc`.
    pub(super) fn push(&mut self, hit: &Hit<'_>, with_doc: bool) {
        let at = self.bytes.len();
        let start = hit.key.as_ptr() as usize - hit.ekey.as_ptr() as usize;
        self.bytes.extend_from_slice(hit.ekey);
        self.bytes.extend_from_slice(hit.primary_key);
        let end = self.bytes.len();
        let doc = hit.doc.filter(|_| with_doc).map(|d| {
            self.bytes.extend_from_slice(d);
            end..self.bytes.len()
        });
        self.spans.push_back(Span {
            at,
            key: start..start + hit.key.len(),
            pk_at: at + hit.ekey.len(),
            end,
            doc,
        });
    }

    fn hit(&self, s: &Span) -> Hit<'_> {
        let ekey = &self.bytes[s.at..s.pk_at];
        Hit {
            ekey,
            key: &ekey[s.key.clone()],
            primary_key: &self.bytes[s.pk_at..s.end],
            doc: s.doc.clone().map(|d| &self.bytes[d]),
        }
    }

    /// The last entry, if any.
    pub(super) fn last(&self) -> Option<Hit<'_>> {
        self.spans.back().map(|s| self.hit(s))
    }

    /// Gives each entry from the `first`th on the document `read` finds for its
    /// primary key (into the buffer it is handed; false: none).
    pub(super) fn read_docs(
        &mut self,
        first: usize,
        buf: &mut Vec<u8>,
        mut read: impl FnMut(&[u8], &mut Vec<u8>) -> Result<bool>,
    ) -> Result<()> {
        for i in first..self.spans.len() {
            let (pk_at, end) = (self.spans[i].pk_at, self.spans[i].end);
            if read(&self.bytes[pk_at..end], buf)? {
                let at = self.bytes.len();
                self.bytes.extend_from_slice(buf);
                self.spans[i].doc = Some(at..self.bytes.len());
            }
        }
        Ok(())
    }

    /// Moves the first entry into `out` (its buffer reused); false when there is
    /// none. The buffer is emptied with its last entry.
    pub(super) fn pop_into(&mut self, out: &mut OwnedHit) -> bool {
        let Some(s) = self.spans.pop_front() else {
            return false;
        };
        out.set(&self.hit(&s), true);
        if self.spans.is_empty() {
            self.bytes.clear();
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit<'a>(ekey: &'a [u8], key: Range<usize>, pk: &'a [u8], doc: Option<&'a [u8]>) -> Hit<'a> {
        Hit {
            ekey,
            key: &ekey[key],
            primary_key: pk,
            doc,
        }
    }

    fn parts(h: &Hit<'_>) -> (Vec<u8>, Vec<u8>, Vec<u8>, Option<Vec<u8>>) {
        (
            h.ekey.to_vec(),
            h.key.to_vec(),
            h.primary_key.to_vec(),
            h.doc.map(<[u8]>::to_vec),
        )
    }

    /// Entries come out as they went in, in order, with or without their documents,
    /// documents read afterwards land on the entries they were read for, and the
    /// buffer empties with the last entry and takes a new batch.
    #[test]
    fn a_batch_hands_out_its_entries_as_pushed() {
        let mut b = Batch::default();
        let (e1, e2, e3) = (b"\x01s\x02a\x00p1", b"\x01s\x02bb\x00p2", b"\x01s\x02c");
        b.push(&hit(e1, 3..5, b"p1", Some(b"{\"d\":1}")), true);
        b.push(&hit(e2, 3..6, b"p2", Some(b"{\"d\":2}")), false);
        b.push(&hit(e3, 3..4, b"", None), true);
        assert_eq!(b.len(), 3);
        assert_eq!(parts(&b.last().unwrap()), parts(&hit(e3, 3..4, b"", None)));
        // Documents for the second entry on (the first keeps its own).
        b.read_docs(1, &mut Vec::new(), |pk, doc| {
            doc.clear();
            doc.extend_from_slice(b"doc of ");
            doc.extend_from_slice(pk);
            Ok(pk == b"p2")
        })
        .unwrap();
        let mut out = OwnedHit::of(&Hit::EMPTY, false);
        let want = [
            hit(e1, 3..5, b"p1", Some(b"{\"d\":1}")),
            hit(e2, 3..6, b"p2", Some(b"doc of p2")),
            hit(e3, 3..4, b"", None),
        ];
        for w in &want {
            assert!(b.pop_into(&mut out));
            assert_eq!(parts(&out.hit()), parts(w));
        }
        assert!(!b.pop_into(&mut out) && b.is_empty());
        assert!(b.bytes.is_empty(), "emptied with its last entry");
        b.push(&want[1], true);
        b.clear();
        assert!(b.is_empty() && b.last().is_none());
    }
}

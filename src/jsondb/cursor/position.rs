//! A cursor's position: the entry it is on, the batch it read ahead past it in its
//! direction, and where the next read resumes (after writes and jumps).

use super::{Current, DetachedCursor};
use crate::error::Result;
use crate::jsondb::getall::decode_key;
use crate::jsondb::request::DocBuf;
use crate::jsondb::txn::Transaction;
use crate::jsondb::walk::{is_reverse, resume_after, walk, Hit, OwnedHit, Source};
use crate::prefix_successor;

/// How many entries a cursor reads at once.
const BATCH: usize = 256;

impl DetachedCursor {
    /// The bounds still to read.
    fn remaining(&self) -> (Vec<u8>, Vec<u8>) {
        let (start, end) = self.bounds.clone();
        match (&self.resume, is_reverse(self.dir)) {
            (None, _) => (start, end),
            (Some(r), false) => (start.max(r.clone()), end),
            (Some(r), true) => (start, end.min(r.clone())),
        }
    }

    /// Reads the next batch into `ahead`.
    fn fill(&mut self, tx: &Transaction<'_>) -> Result<()> {
        let (dir, key_only) = (self.dir, self.key_only);
        let bounds = self.remaining();
        let ahead = &mut self.ahead;
        let resume = &mut self.resume;
        let drained = tx.read(&[&self.store], |r| {
            let src = Source::resolve(r.catalog, &self.store, self.index.as_deref())?;
            let first = ahead.len();
            let mut n = 0;
            let done = walk(r, &src, bounds, dir, BATCH, &mut |h| {
                ahead.push(h, !key_only);
                n += 1;
                Ok(n < BATCH)
            })?;
            // The next read resumes past the last entry read.
            if let Some(last) = ahead.last().filter(|_| ahead.len() > first) {
                *resume = Some(resume_after(&last, dir));
            }
            if src.index.is_some() && !key_only {
                // Documents of index entries, read after the walk (no read inside one).
                let mut buf = DocBuf::default();
                ahead.read_docs(first, &mut Vec::new(), |pk, doc| {
                    let found = r.stored_doc_into(src.store, pk, &mut buf)?;
                    std::mem::swap(doc, &mut buf.doc);
                    Ok(found)
                })?;
            }
            Ok(done)
        })?;
        self.drained = drained;
        self.read_at = tx.writes();
        Ok(())
    }

    /// Moves to the next entry; false (and no current entry) past the last.
    pub(super) fn step(&mut self, tx: &Transaction<'_>) -> Result<bool> {
        if tx.writes() != self.read_at {
            // The transaction wrote since the read-ahead: read from here again.
            self.reposition(None);
        }
        // An entry skipped, whose buffer the next takes.
        let mut spare = None;
        loop {
            if self.ahead.is_empty() && !self.drained {
                self.fill(tx)?;
            }
            if self.ahead.is_empty() {
                self.current = None;
                return Ok(false);
            }
            // The buffer of the entry the cursor was on (or of one skipped), reused.
            let mut e = match (spare.take(), self.current.take()) {
                (Some(e), _) | (None, Some(Current { entry: e, .. })) => e,
                (None, None) => OwnedHit::of(&Hit::EMPTY, false),
            };
            self.ahead.pop_into(&mut e);
            if let Some((k, pk)) = &self.skip_to {
                let here = (e.key(), e.primary_key());
                let target = (k.as_slice(), pk.as_slice());
                let before = if is_reverse(self.dir) {
                    here > target
                } else {
                    here < target
                };
                if before {
                    spare = Some(e);
                    continue;
                }
                self.skip_to = None;
            }
            self.current = Some(Current {
                key: decode_key(e.key())?,
                primary_key: decode_key(e.primary_key())?,
                entry: e,
            });
            return Ok(true);
        }
    }

    /// Drops what was read ahead; the next read starts right after the current
    /// entry (or at `resume`, when given).
    pub(super) fn reposition(&mut self, resume: Option<Vec<u8>>) {
        self.ahead.clear();
        self.drained = false;
        self.resume = match (resume, &self.current) {
            (Some(r), _) => Some(r),
            (None, Some(c)) => Some(resume_after(&c.entry.hit(), self.dir)),
            (None, None) => self.resume.take(),
        };
    }

    /// Where a read resumes to reach the entries of encoded key `k` (and no earlier
    /// ones): forwards, the first entry of `k`; backwards, just past its last.
    pub(super) fn target(&self, k: &[u8]) -> Vec<u8> {
        let mut t = self.prefix.clone();
        t.extend_from_slice(k);
        if is_reverse(self.dir) {
            prefix_successor(&t).unwrap_or_else(|| vec![0xff; t.len() + 1])
        } else {
            t
        }
    }
}

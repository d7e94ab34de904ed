//! How a transaction ends: `commit` applies its staged writes as one atomic engine
//! batch (with their change-feed entries); `abort`, or dropping it, discards them.

use super::Transaction;
use crate::engine::{WriteBatch, WriteOptions};
use crate::error::{Error, Result};
use crate::jsondb::feed::{ChangeKind, Pending};
use crate::jsondb::layout::TS;
use crate::{ReadOptions, Record};

impl Transaction<'_> {
    /// Applies every successful request as one atomic engine batch.
    pub fn commit(mut self) -> Result<()> {
        self.commit_in_place()
    }

    /// Discards everything, key generators included.
    pub fn abort(mut self) {
        self.abort_in_place();
    }

    /// `commit` without consuming the handle; later calls are `TransactionInactive`.
    /// An upgrade's transaction (`UpgradeTx`) commits when the upgrade returns, with
    /// its schema and version: committing it inside is `InvalidArgument`, and it
    /// stays active.
    pub fn commit_in_place(&mut self) -> Result<()> {
        if self.every_store {
            // (Its documents would be written without the schema they belong to.)
            return Err(Error::invalid(
                "an upgrade's transaction commits when the upgrade returns, not inside it",
            ));
        }
        self.commit_then(|| ())
    }

    /// Commits, and runs `after` once the batch is applied but before any waiting
    /// transaction may start (schema changes publish their new catalog there).
    pub(crate) fn commit_then(&mut self, after: impl FnOnce()) -> Result<()> {
        if self.ticket.is_none() {
            return Err(Error::TransactionInactive(
                "the transaction has already committed or aborted".into(),
            ));
        }
        let mut batch = WriteBatch::with_capacity(self.range_dels.len() + self.overlay.len());
        for (start, end) in &self.range_dels {
            batch.delete_range(start.clone(), end.clone());
        }
        let mut changes: Vec<Pending> = std::mem::take(&mut self.cleared)
            .into_iter()
            .map(|id| (id, Vec::new(), ChangeKind::Clear))
            .collect();
        for (key, v) in std::mem::take(&mut self.overlay) {
            if let Some(change) = doc_change(&key, v.is_some()) {
                // A document put and deleted again in this transaction was never
                // committed: its delete is no change (the feed would report one).
                let change_made = match v.is_some() {
                    true => Ok(true),
                    false => self.committed(&key),
                };
                match change_made {
                    Ok(true) => changes.push(change),
                    Ok(false) => {}
                    Err(e) => {
                        self.finish();
                        return Err(e);
                    }
                }
            }
            match v {
                Some(value) => batch.put_permanent(Record::new(key, TS, value)),
                None => batch.delete(key, TS),
            };
        }
        self.range_dels.clear();
        let engine = &self.db.engine;
        let result = if batch.is_empty() {
            Ok(())
        } else {
            self.db.feed.commit(&self.catalog, changes, batch, |b| {
                engine.write_owned(b, &WriteOptions::default())
            })
        };
        if result.is_ok() {
            after();
        }
        self.finish();
        result
    }

    /// Whether `key` is in the committed state this transaction sees: in its
    /// snapshot, and not in a range it deleted whole.
    fn committed(&self, key: &[u8]) -> Result<bool> {
        Ok(!self.request().deleted(key)
            && self
                .snap
                .get_with(key, TS, &ReadOptions::default(), |_| ())?
                .is_some())
    }

    /// Marks `store` cleared (for the change feed): once, however often the
    /// transaction clears it (a clear is one `Clear` change; what was written
    /// between two clears is gone with the second, from the overlay).
    pub(crate) fn note_cleared(&mut self, store: u32) {
        if !self.cleared.contains(&store) {
            self.cleared.push(store);
        }
    }

    /// `abort` without consuming the handle.
    pub fn abort_in_place(&mut self) {
        self.overlay.clear();
        self.range_dels.clear();
        self.cleared.clear();
        self.finish();
    }

    fn finish(&mut self) {
        if let Some(t) = self.ticket.take() {
            self.db.scheduler.end(t);
        }
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        self.abort_in_place();
    }
}

/// The change a staged write makes to a document, when the key is a document's
/// (layout.rs: `0x01 store_id key`).
fn doc_change(key: &[u8], put: bool) -> Option<Pending> {
    let (&tag, rest) = key.split_first()?;
    if tag != 0x01 || rest.len() < 4 {
        return None;
    }
    let id = u32::from_be_bytes(rest[..4].try_into().ok()?);
    let kind = if put {
        ChangeKind::Put
    } else {
        ChangeKind::Delete
    };
    Some((id, rest[4..].to_vec(), kind))
}

//! The change log on disk: one record per commit, under its sequence number, naming
//! the commit before it, and the head record holding the newest sequence; and reading
//! it back: the newest sequence at open, and the changes after a resume point,
//! checked against the records' chain of predecessors (the feed's docs say how).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Change, ChangeKind, Feed};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::jsondb::layout::{feed_head_key, TS};
use crate::jsondb::schema::Catalog;
use crate::{prefix_successor, ReadOptions, ScanRange};

/// The change-log record of one commit.
#[derive(Serialize, Deserialize)]
pub(super) struct LogRecord {
    /// The sequence number of the commit before (0 for none).
    pub(super) prev: u64,
    /// `(store, key, kind)` per change, the store by the name it had then.
    pub(super) changes: Vec<(String, Value, ChangeKind)>,
    /// The store's id per change, in the order of `changes`. Records written
    /// before ids were logged have none (their changes are matched by name); a
    /// reader that predates the field ignores it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) store_ids: Vec<u32>,
}

fn log_prefix() -> Vec<u8> {
    vec![0x03]
}

pub(super) fn log_key(seq: u64) -> Vec<u8> {
    let mut k = log_prefix();
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

impl Feed {
    /// The logged changes of the commits after `seq` up to `upto` (the newest
    /// commit), each with its store's id when the store exists (`None` for one
    /// deleted since), named as `catalog` names it now.
    pub(super) fn read_since(
        &self,
        engine: &Engine,
        catalog: &Catalog,
        seq: u64,
        upto: u64,
    ) -> Result<Vec<(Option<u32>, Change)>> {
        let mut out = Vec::new();
        if seq > upto {
            return Err(unknown(seq, upto));
        }
        if seq == upto {
            return Ok(out);
        }
        let names: HashMap<u32, &str> = catalog
            .stores
            .values()
            .map(|s| (s.id, s.name.as_str()))
            .collect();
        let start = log_key(seq.saturating_add(1));
        let end = prefix_successor(&log_prefix()).unwrap_or_else(|| vec![0x04]);
        let range = ScanRange::key_range_half_open(start, end).with_time_range(TS, TS);
        // The last commit whose changes are in `out` (`seq` before the first).
        let mut last_seen = seq;
        for r in engine.scan_opt(range, &ReadOptions::default())? {
            let r = r?;
            let at = seq_of(&r.key)?;
            if at > upto {
                break;
            }
            let rec: LogRecord = serde_json::from_slice(&r.value)
                .map_err(|e| Error::corruption("JsonDB change log", 0, e.to_string()))?;
            // Each record names its predecessor, which must be the record read
            // before it (for the first one, `seq` itself).
            if rec.prev > last_seen {
                // The records between expired.
                return Err(gap(seq, rec.prev));
            }
            // (The first commit after `seq` may follow an earlier one: `seq` lies
            // between two commits, as `first - 1` does, and nothing was missed
            // that this log knows of.)
            if rec.prev < last_seen && last_seen != seq {
                return Err(Error::NotFound(format!(
                    "the change log does not continue after sequence {last_seen} (the next record, {at}, follows {}): changes after {seq} cannot be resumed",
                    rec.prev
                )));
            }
            if !rec.store_ids.is_empty() && rec.store_ids.len() != rec.changes.len() {
                return Err(Error::corruption(
                    "JsonDB change log",
                    0,
                    format!(
                        "record {at} has {} store ids for {} changes",
                        rec.store_ids.len(),
                        rec.changes.len()
                    ),
                ));
            }
            last_seen = at;
            for (i, (name, key, kind)) in rec.changes.into_iter().enumerate() {
                // By the logged id; a record written before ids were logged, by
                // the store that has the logged name now.
                let id = match rec.store_ids.get(i) {
                    Some(id) => names.contains_key(id).then_some(*id),
                    None => catalog.stores.get(&name).map(|s| s.id),
                };
                // The current name (the logged one for a store deleted since).
                let store = match id.and_then(|id| names.get(&id)) {
                    Some(&current) if current != name => current.to_string(),
                    _ => name,
                };
                let c = Change {
                    seq: at,
                    store,
                    key,
                    kind,
                };
                out.push((id, c));
            }
        }
        if last_seen < upto {
            // The newest records (all of them, when none was read) expired.
            return Err(gap(seq, upto));
        }
        Ok(out)
    }
}

/// The sequence number of the newest commit (0: none): from the permanent head
/// record, or the newest log record for a database written before it was kept.
/// (From the log alone, a database reopened once every record had expired numbered
/// from 0 again: its next record named 0 as its predecessor, and a resume from
/// before the gap missed the expired changes without an error.)
pub(super) fn logged_last(engine: &Engine) -> Result<u64> {
    let read = ReadOptions::default();
    let head = match engine.get_bytes(&feed_head_key(), TS, &read)? {
        Some(r) => r
            .value
            .as_slice()
            .try_into()
            .map(u64::from_be_bytes)
            .map_err(|_| Error::corruption("JsonDB change-log head", 0, "not 8 bytes"))?,
        None => 0,
    };
    let range = ScanRange::prefix_bytes(&log_prefix()).reverse().limit(1);
    let logged = match engine.scan_opt(range, &read)?.next() {
        Some(r) => seq_of(&r?.key)?,
        None => 0,
    };
    Ok(head.max(logged))
}

fn gap(seq: u64, oldest: u64) -> Error {
    Error::NotFound(format!(
        "changes after sequence {seq} are no longer in the change log (it keeps them for the change retention); the oldest it can resume from is {oldest}"
    ))
}

/// A resume point that was never a commit of this database.
fn unknown(seq: u64, last: u64) -> Error {
    Error::NotFound(format!(
        "sequence {seq} is not in this database's change log: no commit of it has that number (it may come from a newer copy of the database, before an older checkpoint or backup was restored, or from commits lost at a crash; a read-only instance may not have caught up); its last commit is {last}"
    ))
}

fn seq_of(key: &[u8]) -> Result<u64> {
    key.get(1..9)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| Error::corruption("JsonDB change log", 0, "malformed log key"))
}

//! The table layout, for tools and operators (`flowdb stats`): which tables the
//! engine's current version holds, newest first, with what each covers.

use super::Engine;
use crate::error::Result;

/// One live table of the engine (see [`Engine::tables`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TableInfo {
    /// The file number: the table is `<data_dir>/<id, 6 digits>.sst`.
    pub id: u64,
    /// Its level: 0 for a flush's output; merges raise it.
    pub level: u32,
    /// Bytes of the file.
    pub bytes: u64,
    /// Entries (puts and tombstones) and of them tombstones.
    pub entries: u64,
    pub deletes: u64,
    /// The range of `ts` it holds.
    pub min_ts: i64,
    pub max_ts: i64,
    /// Its first and last keys (empty for a table holding only range deletes).
    pub first_key: Vec<u8>,
    pub last_key: Vec<u8>,
}

impl Engine {
    /// The live tables, newest first (docs/design.md, "Sequence numbers and table
    /// order").
    pub fn tables(&self) -> Result<Vec<TableInfo>> {
        self.inner.check_open()?;
        Ok(self
            .inner
            .current()
            .version
            .tables
            .iter()
            .map(|t| {
                let (first, last) = t.key_range().unwrap_or_default();
                TableInfo {
                    id: t.meta.id,
                    level: t.meta.level,
                    bytes: t.meta.size,
                    entries: t.props.entries,
                    deletes: t.props.deletes,
                    min_ts: t.props.min_ts,
                    max_ts: t.props.max_ts,
                    first_key: first.to_vec(),
                    last_key: last.to_vec(),
                }
            })
            .collect())
    }
}

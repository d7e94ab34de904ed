//! The manifest: which tables are live, which log segments still matter, and the
//! counters that must survive a restart. The whole state is rewritten on each change
//! (it is small): written to `MANIFEST.tmp`, fsynced, renamed over `MANIFEST`, and the
//! directory fsynced, so a crash at any point leaves either the old or the new state.
//!
//! ## Format
//! `magic: u64 LE` (`FLOWDBMF`), `len: u32 LE`, `crc32: u32 LE` of the payload, then the
//! payload: `version: varint` (1), `next_file: varint`, `log_number: varint` (the first
//! WAL segment still needed), `last_seq: varint`, `table count: varint`, and per table
//! (newest first) `id`, `level`, `min_seq`, `max_seq`, `size` (varints).

use std::path::Path;

use crate::error::{Error, IoContext, Result};
use crate::fs::{FileSystem, OpenMode};
use crate::sstable::reader::TableMeta;
use crate::util::checksum::crc32;
use crate::util::coding::{get_u32_at, put_u32, put_u64, put_varint, Decoder};

const MAGIC: u64 = u64::from_le_bytes(*b"FLOWDBMF");
const VERSION: u64 = 1;
pub(crate) const FILE: &str = "MANIFEST";

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ManifestState {
    pub next_file: u64,
    pub log_number: u64,
    pub last_seq: u64,
    /// Newest first.
    pub tables: Vec<TableMeta>,
}

impl ManifestState {
    fn encode(&self) -> Vec<u8> {
        let mut p = Vec::new();
        for v in [
            VERSION,
            self.next_file,
            self.log_number,
            self.last_seq,
            self.tables.len() as u64,
        ] {
            put_varint(&mut p, v);
        }
        for t in &self.tables {
            for v in [t.id, t.level as u64, t.min_seq, t.max_seq, t.size] {
                put_varint(&mut p, v);
            }
        }
        let mut out = Vec::with_capacity(p.len() + 16);
        put_u64(&mut out, MAGIC);
        put_u32(&mut out, p.len() as u32);
        put_u32(&mut out, crc32(&p));
        out.extend_from_slice(&p);
        out
    }

    fn decode(data: &[u8], name: &str) -> Result<Self> {
        let mut d = Decoder::new(data);
        if d.u64() != Some(MAGIC) {
            return Err(Error::corruption(
                name,
                0,
                "bad magic: not a flowdb manifest",
            ));
        }
        let len = d
            .u32()
            .ok_or_else(|| Error::corruption(name, 8, "truncated header"))?
            as usize;
        let crc =
            get_u32_at(data, 12).ok_or_else(|| Error::corruption(name, 12, "truncated header"))?;
        let payload = data
            .get(16..16 + len)
            .filter(|_| data.len() == 16 + len)
            .ok_or_else(|| Error::corruption(name, 8, "length does not match the file"))?;
        if crc32(payload) != crc {
            return Err(Error::corruption(name, 16, "manifest checksum mismatch"));
        }
        let mut d = Decoder::new(payload);
        let bad =
            |d: &Decoder<'_>| Error::corruption(name, 16 + d.pos() as u64, "malformed manifest");
        let version = d.varint().ok_or_else(|| bad(&d))?;
        if version != VERSION {
            return Err(Error::corruption(
                name,
                16,
                format!("unsupported manifest version {version}"),
            ));
        }
        let mut next = || d.varint();
        let (next_file, log_number, last_seq, n) = match (next(), next(), next(), next()) {
            (Some(a), Some(b), Some(c), Some(n)) => (a, b, c, n),
            _ => return Err(Error::corruption(name, 16, "malformed manifest header")),
        };
        let mut tables = Vec::new();
        for _ in 0..n {
            let mut f = [0u64; 5];
            for v in f.iter_mut() {
                *v = d.varint().ok_or_else(|| bad(&d))?;
            }
            tables.push(TableMeta {
                id: f[0],
                level: f[1] as u32,
                min_seq: f[2],
                max_seq: f[3],
                size: f[4],
            });
        }
        if !d.is_empty() {
            return Err(bad(&d));
        }
        Ok(ManifestState {
            next_file,
            log_number,
            last_seq,
            tables,
        })
    }

    /// The stored state, or `None` for a directory without a manifest.
    pub(crate) fn load(fs: &dyn FileSystem, dir: &Path) -> Result<Option<Self>> {
        let path = dir.join(FILE);
        match fs.read(&path) {
            Ok(data) => Ok(Some(Self::decode(&data, &path.display().to_string())?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).ctx(|| format!("reading {}", path.display())),
        }
    }

    /// Replaces the stored state atomically and durably.
    pub(crate) fn store(&self, fs: &dyn FileSystem, dir: &Path) -> Result<()> {
        let tmp = dir.join("MANIFEST.tmp");
        let path = dir.join(FILE);
        let f = fs
            .open(&tmp, OpenMode::Truncate)
            .ctx(|| format!("creating {}", tmp.display()))?;
        f.append(&self.encode())
            .ctx(|| format!("writing {}", tmp.display()))?;
        f.sync().ctx(|| format!("syncing {}", tmp.display()))?;
        fs.rename(&tmp, &path)
            .ctx(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
        crate::wal::sync_dir(fs, dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::OsFs;

    #[test]
    fn round_trip_and_damage() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(ManifestState::load(&OsFs, dir.path()).unwrap(), None);
        let s = ManifestState {
            next_file: 9,
            log_number: 4,
            last_seq: 1000,
            tables: vec![TableMeta {
                id: 7,
                level: 1,
                min_seq: 5,
                max_seq: 900,
                size: 4096,
            }],
        };
        s.store(&OsFs, dir.path()).unwrap();
        assert_eq!(ManifestState::load(&OsFs, dir.path()).unwrap(), Some(s));
        let path = dir.path().join(FILE);
        let good = std::fs::read(&path).unwrap();
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x10;
            std::fs::write(&path, &bad).unwrap();
            assert!(
                matches!(
                    ManifestState::load(&OsFs, dir.path()),
                    Err(Error::Corruption { .. })
                ),
                "byte {i}"
            );
        }
    }
}

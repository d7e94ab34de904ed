//! Making the log durable: the fsync of a group commit (`sync_locked`, under the log
//! lock), the `IntervalMs` tick's and `close`'s (`sync_wal`, outside it), and what a
//! failed one does: the segment is cut back to what is known synced, and when that
//! cuts off acknowledged writes (now in the memtables alone) writes stop until
//! `resume()` has flushed them (docs/design.md, "Background errors").

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use super::{Inner, WalState};
use crate::error::{Error, Result};
use crate::fs::FsFile;

/// Where the current segment stood when an fsync outside the log lock began.
struct Unlocked {
    /// The segment and its length.
    position: (u64, u64),
    /// Its length known synced then.
    before: u64,
}

impl Inner {
    /// Syncs the current segment; on failure cuts it back (`abandon_unsynced`), the
    /// records before offset `acknowledged` being ones already acknowledged.
    pub(super) fn sync_locked(&self, wal: &mut WalState, acknowledged: u64) -> Result<()> {
        if let Err(e) = wal.writer.sync() {
            // The OS may have dropped the dirty pages: nothing more may follow them.
            self.abandon_unsynced(wal, acknowledged, &e);
            return Err(e);
        }
        wal.synced = (wal.writer.number(), wal.writer.size());
        wal.last_sync = Instant::now();
        self.stats.wal_syncs.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// After a failed fsync of the current segment: cut it back to what was synced.
    /// When that cuts off records already acknowledged (written under `IntervalMs`
    /// since the last sync, before offset `acknowledged`), they are in the memtable
    /// alone: writes stop (a background error) until `resume` has flushed them to a
    /// table, so that no later write can survive a crash they would not. (Writes
    /// going on used to leave them lost at the next kill while later ones came back.)
    fn abandon_unsynced(&self, wal: &mut WalState, acknowledged: u64, cause: &Error) {
        let synced = wal.synced_len();
        wal.writer.abandon_unsynced(synced);
        if synced < acknowledged {
            self.note_log_cut(format!(
                "a failed log sync ({cause}) cut off {} bytes of acknowledged writes, now \
                 in memory only; resume() writes them to a table",
                acknowledged - synced
            ));
        }
    }

    /// Acknowledged writes are in the memtables alone: writes (and checkpoints) stop
    /// until `resume()` has flushed them.
    pub(super) fn note_log_cut(&self, context: String) {
        self.health.log_cut.store(true, Ordering::Release);
        self.note_background_error(Error::Io {
            context,
            source: std::io::Error::other("log sync failed"),
        });
    }

    /// Makes everything written so far durable (the `IntervalMs` tick, `close`).
    pub(crate) fn sync_wal(&self) -> Result<()> {
        let Some((handle, sync)) = self.begin_sync() else {
            return Ok(());
        };
        // fdatasync outside the lock, so writers are not held up by it.
        let synced = handle.sync();
        self.end_sync(sync, synced)
    }

    /// What `sync_wal` syncs: a handle on the current segment and where it stands
    /// (`None`: all synced already).
    fn begin_sync(&self) -> Option<(Arc<dyn FsFile>, Unlocked)> {
        let wal = self.wal.lock();
        let position = (wal.writer.number(), wal.writer.size());
        if wal.synced == position {
            return None;
        }
        let sync = Unlocked {
            position,
            before: wal.synced_len(),
        };
        Some((wal.writer.sync_handle(), sync))
    }

    /// Takes in the result of the fsync `begin_sync` prepared.
    fn end_sync(&self, sync: Unlocked, synced: std::io::Result<()>) -> Result<()> {
        let Unlocked { position, before } = sync;
        let mut wal = self.wal.lock();
        if let Err(source) = synced {
            let e = Error::Io {
                context: "syncing the WAL".into(),
                source,
            };
            if wal.writer.number() == position.0 {
                // A synced write's fsync that ran meanwhile may have reported success
                // for pages this failure lost (Linux reports a writeback error once):
                // only what was synced before this one is known durable. Everything
                // in the segment was acknowledged (a failed group is cut off).
                if wal.synced.0 == position.0 {
                    wal.synced.1 = wal.synced.1.min(before);
                }
                let acknowledged = wal.writer.size();
                self.abandon_unsynced(&mut wal, acknowledged, &e);
            } else if before < position.1 {
                // The segment was rotated meanwhile, its rotation's fsync reported
                // success, maybe for pages this failure lost: the acknowledged writes
                // past `before` may be in memory alone. Writes stop until `resume()`
                // has flushed every memtable.
                self.note_log_cut(format!(
                    "a failed log sync ({e}) may have lost {} bytes of acknowledged writes \
                     of a rotated segment, now in memory only; resume() writes them to a \
                     table",
                    position.1 - before
                ));
            }
            return Err(e);
        }
        if wal.synced.0 < position.0 || (wal.synced.0 == position.0 && wal.synced.1 < position.1) {
            wal.synced = position;
        }
        wal.last_sync = Instant::now();
        self.stats.wal_syncs.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

#[cfg(all(test, feature = "fault-injection"))]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use crate::fs::{CrashMode, FaultFs};
    use crate::{Config, Engine, Record, SyncMode, Tuning};

    fn open(fs: &FaultFs) -> Engine {
        let config = Config {
            wal_sync_mode: SyncMode::IntervalMs(1_000_000),
            auto_background: false,
            ..Config::new(Path::new("/db"))
        };
        Engine::open_on(Arc::new(fs.clone()), config, Tuning::default()).unwrap()
    }

    /// The tick's fsync fails while a synced write's fsync, run meanwhile, succeeded
    /// (Linux reports a writeback error once: the second fsync may vouch for pages
    /// the first lost). The success must not cover the failure: the segment is cut
    /// back to what was synced before, and writes stop until `resume()` has flushed
    /// the acknowledged writes (they were once left to that success, and a power
    /// loss could then lose them, or tear the log before later records).
    #[test]
    fn a_sync_that_ran_meanwhile_does_not_vouch_for_a_failed_one() {
        let fs = FaultFs::new();
        let e = open(&fs);
        e.write_batch(&[Record::new("w1", 1, b"a".to_vec())])
            .unwrap();
        let (_handle, sync) = e.inner.begin_sync().expect("w1 is not synced");
        e.write_batch_sync(vec![Record::new("w2", 2, b"b".to_vec())])
            .unwrap();
        let failed = std::io::Error::other("injected: writeback failed");
        assert!(e.inner.end_sync(sync, Err(failed)).is_err());
        assert!(e.background_error().is_some(), "writes must stop");
        assert!(e
            .write_batch(&[Record::new("w3", 3, b"c".to_vec())])
            .is_err());
        e.resume().unwrap();
        drop(e);
        let e = open(&fs.restart(CrashMode::PowerLoss));
        assert!(e.get("w1", 1).unwrap().is_some(), "w1 lost");
        assert!(e.get("w2", 2).unwrap().is_some(), "w2 lost");
    }

    /// The same when the segment was rotated meanwhile (a flush): the rotation's
    /// fsync reported success, maybe for pages the failed one lost.
    #[test]
    fn a_rotation_meanwhile_does_not_vouch_for_a_failed_sync() {
        let fs = FaultFs::new();
        let e = open(&fs);
        e.write_batch(&[Record::new("w1", 1, b"a".to_vec())])
            .unwrap();
        let (_handle, sync) = e.inner.begin_sync().expect("w1 is not synced");
        let rotated = e.inner.wal.lock().writer.number();
        e.inner.rotate(&mut e.inner.wal.lock()).unwrap();
        assert_ne!(e.inner.wal.lock().writer.number(), rotated);
        let failed = std::io::Error::other("injected: writeback failed");
        assert!(e.inner.end_sync(sync, Err(failed)).is_err());
        assert!(e.background_error().is_some(), "writes must stop");
        e.resume().unwrap();
        drop(e);
        let e = open(&fs.restart(CrashMode::PowerLoss));
        assert!(e.get("w1", 1).unwrap().is_some(), "w1 lost");
    }
}

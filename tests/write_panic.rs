//! A write leader that panics after its group reached the log (here: in the log's
//! fsync, through a file system that panics on demand). The group may be half in the
//! memtable and its sequence numbers are unpublished: later writes must not be given
//! them (replay could not order the two), and a flush must not make the half durable.
//! Pass: writes, flushes and `resume` refuse with a message saying to reopen; after
//! a reopen the log brings the group back whole and writes go on.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::hook_fs::{is_log, HookFs};
use flowdb::fs::FaultFs;
use flowdb::{Config, Engine, Error, Record, SyncMode};

fn open(fs: &FaultFs, armed: &Arc<AtomicBool>) -> Engine {
    let config = Config {
        wal_sync_mode: SyncMode::Always,
        ..common::small_config(&PathBuf::from("/db"))
    };
    let armed = armed.clone();
    let fs = HookFs::on_sync(
        fs,
        Arc::new(move |path| {
            if is_log(path) && armed.swap(false, Ordering::SeqCst) {
                panic!("injected: the log's fsync panics");
            }
        }),
    );
    Engine::open_on(Arc::new(fs), config, common::tiny_partitions()).unwrap()
}

fn says_reopen(r: flowdb::Result<()>) -> bool {
    matches!(&r, Err(Error::Internal(m)) if m.contains("reopened"))
}

#[test]
fn a_leader_panic_after_logging_stops_writes_and_flushes_until_reopen() {
    let fs = FaultFs::new();
    let armed = Arc::new(AtomicBool::new(false));
    let e = open(&fs, &armed);
    e.write_batch(&[Record::new("k", 1, b"first".to_vec())])
        .unwrap();
    armed.store(true, Ordering::SeqCst);
    let group = vec![
        Record::new("k", 2, b"torn".to_vec()),
        Record::new("m", 2, b"torn".to_vec()),
    ];
    let panicked = catch_unwind(AssertUnwindSafe(|| e.write_batch(&group)));
    assert!(panicked.is_err(), "the leader's caller sees the panic");

    // The group's sequence numbers are not published, and no later write gets them.
    assert_eq!(e.get("k", 2).unwrap(), None);
    let later = [Record::new("k", 2, b"later".to_vec())];
    assert!(
        says_reopen(e.write_batch(&later)),
        "a later write is refused"
    );
    assert!(says_reopen(e.flush()), "a flush is refused");
    assert!(says_reopen(e.resume()), "resume cannot clear it");
    assert!(e.background_error().is_some());
    assert_eq!(e.get("k", 1).unwrap().unwrap().value, b"first");
    // Shutdown cannot flush (it says so) but releases the directory.
    assert!(e.shutdown().is_err());

    // Reopened, the log brings the group back whole; writes go on.
    let e = open(&fs, &armed);
    assert_eq!(e.get("k", 2).unwrap().unwrap().value, b"torn");
    assert_eq!(e.get("m", 2).unwrap().unwrap().value, b"torn");
    e.write_batch(&later).unwrap();
    e.flush().unwrap();
    assert_eq!(e.get("k", 2).unwrap().unwrap().value, b"later");
    e.shutdown().unwrap();
}

/// A write made from a destructor while an unrelated panic unwinds (an audit record
/// written by a guard) is an ordinary write: it used to count as a leader that
/// panicked, and stopped writes until a reopen.
#[test]
fn a_write_from_a_destructor_during_an_unrelated_panic_is_ordinary() {
    struct AuditOnDrop<'a>(&'a Engine);
    impl Drop for AuditOnDrop<'_> {
        fn drop(&mut self) {
            self.0
                .write_batch(&[Record::new("audit", 1, b"x".to_vec())])
                .unwrap();
        }
    }
    let fs = FaultFs::new();
    let armed = Arc::new(AtomicBool::new(false));
    let e = open(&fs, &armed);
    let r = catch_unwind(AssertUnwindSafe(|| {
        let _g = AuditOnDrop(&e);
        panic!("unrelated");
    }));
    assert!(r.is_err());
    assert!(e.background_error().is_none());
    e.write_batch(&[Record::new("k", 2, b"y".to_vec())])
        .unwrap();
    assert_eq!(e.get("audit", 1).unwrap().unwrap().value, b"x");
    e.shutdown().unwrap();
}

//! Background errors surfaced: an I/O error in a background flush stops writes (they
//! fail with an error of the same kind, naming the cause and `resume`), reads go on,
//! `background_error()` reports it; `resume()` fails while the cause stands and clears
//! it once the cause is gone, after which writes and flushes work and nothing
//! acknowledged is lost. And the event listener: flushes, merges, stalls, errors and
//! resumes reach it in order, on its own thread.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use flowdb::fs::{Fault, FaultFs, Injected, Op as FsOp};
use flowdb::{Config, Engine, Error, Event, Record, SyncMode};

const ENOSPC: i32 = 28;

fn open(fs: &FaultFs) -> Engine {
    let config = Config {
        auto_background: true,
        flush_interval_ms: 5,
        wal_sync_mode: SyncMode::Always,
        ..common::small_config(Path::new("/db"))
    };
    Engine::open_on(Arc::new(fs.clone()), config, common::tiny_partitions()).unwrap()
}

/// `flowdb_background_errors_total` of `e`'s metrics.
fn errors_counted(e: &Engine) -> u64 {
    let text = e.metrics_text();
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("flowdb_background_errors_total"));
    line.and_then(|v| v.trim().parse().ok())
        .expect("the counter")
}

fn record(i: i64) -> Record {
    Record::new(format!("k{}", i % 7), i, vec![(i % 251) as u8; 2000])
}

/// Writes until a background flush has failed (the memtable is 1 MiB), and returns
/// how many writes were acknowledged.
fn write_until_stopped(e: &Engine) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut i = 0;
    while e.background_error().is_none() {
        assert!(
            Instant::now() < deadline,
            "no background error after {i} writes"
        );
        match e.write_batch(&[record(i)]) {
            Ok(()) => i += 1,
            Err(_) => std::thread::sleep(Duration::from_millis(1)),
        }
    }
    i
}

#[test]
fn a_failed_background_flush_stops_writes_until_resume() {
    let fs = FaultFs::new();
    let e = open(&fs);
    fs.inject(Fault {
        op: Some(FsOp::Append),
        name: ".sst".into(),
        skip: 0,
        times: u64::MAX,
        error: Injected::NoSpace,
    });
    let acked = write_until_stopped(&e);
    let cause = e.background_error().unwrap();
    assert!(matches!(&cause, Error::Io { source, .. } if source.raw_os_error() == Some(ENOSPC)));

    // Writes fail with the same kind of error, saying what to do.
    match e.write_batch(&[record(acked)]) {
        Err(Error::Io { context, source }) => {
            assert_eq!(source.raw_os_error(), Some(ENOSPC));
            assert!(context.contains("resume()"), "{context}");
        }
        other => panic!("a write after a background error: {other:?}"),
    }
    // Reads go on and see every acknowledged write.
    for i in (0..acked).step_by(97) {
        assert_eq!(
            e.get(&format!("k{}", i % 7), i).unwrap(),
            Some(record(i)),
            "{i}"
        );
    }
    let counted = errors_counted(&e);
    assert!(counted >= 1, "flowdb_background_errors_total {counted}");

    // A checkpoint meanwhile is whole: the log still holds every acknowledged write
    // (only a failed log sync, which cuts it, refuses one).
    e.checkpoint("/cp").unwrap();
    let copy = Engine::open_on(
        Arc::new(fs.clone()),
        common::small_config(Path::new("/cp")),
        flowdb::Tuning::default(),
    )
    .unwrap();
    for i in [0, acked / 2, acked - 1] {
        assert_eq!(
            copy.get(&format!("k{}", i % 7), i).unwrap(),
            Some(record(i))
        );
    }
    drop(copy);

    // While the cause stands, resume fails and the error stays.
    assert!(e.resume().is_err());
    assert!(e.background_error().is_some());
    assert!(e.write_batch(&[record(acked)]).is_err());

    // Once it is gone, resume clears it; writes and flushes work again.
    fs.clear_faults();
    e.resume().unwrap();
    assert!(e.background_error().is_none());
    e.write_batch(&[record(acked)]).unwrap();
    e.flush().unwrap();
    for i in (0..=acked).step_by(89) {
        assert_eq!(
            e.get(&format!("k{}", i % 7), i).unwrap(),
            Some(record(i)),
            "{i}"
        );
    }
    e.resume().unwrap(); // nothing to resume: Ok
}

/// Errors that are not I/O errors or corruption do not stop writes, and an engine
/// that never met one reports none.
#[test]
fn no_background_error_without_one() {
    let fs = FaultFs::new();
    let e = open(&fs);
    for i in 0..2000 {
        e.write_batch(&[record(i)]).unwrap();
    }
    e.flush().unwrap();
    assert!(e.background_error().is_none());
    e.resume().unwrap();
}

type Seen = Arc<parking_lot::Mutex<Vec<Event>>>;

fn listen(e: &Engine) -> Seen {
    let seen: Seen = Arc::default();
    let s = seen.clone();
    e.set_event_listener(Some(Arc::new(move |ev: &Event| s.lock().push(ev.clone()))))
        .unwrap();
    seen
}

/// Flushes, merges and write stalls reach the listener, in order, with what they did;
/// shutdown delivers everything queued before it.
#[test]
fn events_report_flushes_merges_and_stalls() {
    let tmp = tempfile::tempdir().unwrap();
    let config = Config {
        max_frozen_memtables: 1,
        ..common::small_config(tmp.path())
    };
    let e = common::open_tiny(config);
    let seen = listen(&e);
    for i in 0..3000 {
        e.write_batch(&[record(i)]).unwrap();
    }
    e.flush().unwrap();
    e.trigger_compaction().unwrap();
    e.shutdown().unwrap();
    let seen = seen.lock();
    let kinds: Vec<&str> = seen.iter().map(Event::kind).collect();
    for kind in ["flush", "compaction", "stall"] {
        assert!(kinds.contains(&kind), "no {kind} event in {kinds:?}");
    }
    for ev in seen.iter() {
        match ev {
            Event::FlushCompleted { tables, bytes, .. } => assert!(*tables > 0 && *bytes > 0),
            Event::CompactionCompleted {
                input_tables,
                output_tables,
                bytes,
                ..
            } => assert!(
                *input_tables > 0 && *output_tables > 0 && *bytes > 0,
                "{ev:?}"
            ),
            Event::WriteStall { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    // The last event is the full compaction's.
    assert_eq!(kinds.last(), Some(&"compaction"));
}

/// The background error and the resume are reported; a listener may call the engine
/// (it runs on a thread of its own), and setting `None` removes it.
#[test]
fn events_report_background_errors_and_a_listener_may_call_the_engine() {
    let fs = FaultFs::new();
    let e = Arc::new(open(&fs));
    let seen: Seen = Arc::default();
    let (s, weak) = (seen.clone(), Arc::downgrade(&e));
    e.set_event_listener(Some(Arc::new(move |ev: &Event| {
        if let Some(e) = weak.upgrade() {
            let _ = e.stats(); // reading the engine from the listener
            assert!(
                e.set_event_listener(None).is_err(),
                "from the listener itself"
            );
        }
        s.lock().push(ev.clone());
    })))
    .unwrap();
    fs.inject(Fault {
        op: Some(FsOp::Append),
        name: ".sst".into(),
        skip: 0,
        times: u64::MAX,
        error: Injected::NoSpace,
    });
    write_until_stopped(&e);
    fs.clear_faults();
    e.resume().unwrap();
    e.set_event_listener(None).unwrap(); // waits for what was queued
    let n = seen.lock().len();
    let kinds: Vec<&str> = seen.lock().iter().map(Event::kind).collect();
    let error = kinds
        .iter()
        .position(|k| *k == "error")
        .expect("an error event");
    let resumed = kinds
        .iter()
        .position(|k| *k == "resumed")
        .expect("a resumed event");
    assert!(error < resumed, "{kinds:?}");
    assert!(matches!(
        &seen.lock()[error],
        Event::BackgroundError { stops_writes: true, error } if error.contains("No space")
    ));
    e.write_batch(&[record(0)]).unwrap();
    e.flush().unwrap();
    assert_eq!(
        seen.lock().len(),
        n,
        "an event after the listener was removed"
    );
}

/// A listener that calls `set_event_listener` while another thread is removing it is
/// refused at once (it would otherwise wait for its own end), and both calls return.
#[test]
fn a_listener_setting_listeners_while_it_is_removed_does_not_hang() {
    let tmp = tempfile::tempdir().unwrap();
    let e = Arc::new(common::open_tiny(common::small_config(tmp.path())));
    let (weak, refused) = (Arc::downgrade(&e), Arc::new(parking_lot::Mutex::new(None)));
    let r = refused.clone();
    e.set_event_listener(Some(Arc::new(move |_: &Event| {
        std::thread::sleep(std::time::Duration::from_millis(200));
        if let Some(e) = weak.upgrade() {
            *r.lock() = Some(e.set_event_listener(None).is_err());
        }
    })))
    .unwrap();
    e.write_batch(&[record(1)]).unwrap();
    e.flush().unwrap(); // an event: the listener starts sleeping
    std::thread::sleep(std::time::Duration::from_millis(50));
    e.set_event_listener(None).unwrap(); // waits for it
    assert_eq!(*refused.lock(), Some(true));
}

/// A file system that panics once when the maintenance thread creates a table:
/// a bug in a background round, as it would show.
struct PanicOnce {
    fs: FaultFs,
    armed: std::sync::atomic::AtomicBool,
}

impl flowdb::fs::FileSystem for PanicOnce {
    fn is_dir(&self, path: &Path) -> Option<bool> {
        self.fs.is_dir(path)
    }
    fn create_dir_all(&self, dir: &Path) -> std::io::Result<()> {
        self.fs.create_dir_all(dir)
    }
    fn list(&self, dir: &Path) -> std::io::Result<Vec<String>> {
        self.fs.list(dir)
    }
    fn open(
        &self,
        path: &Path,
        mode: flowdb::fs::OpenMode,
    ) -> std::io::Result<Arc<dyn flowdb::fs::FsFile>> {
        let maintenance = std::thread::current().name() == Some("flowdb-maintenance");
        if maintenance
            && path.extension().is_some_and(|x| x == "sst")
            && self.armed.swap(false, std::sync::atomic::Ordering::SeqCst)
        {
            panic!("injected: a bug in a background round");
        }
        self.fs.open(path, mode)
    }
    fn remove(&self, path: &Path) -> std::io::Result<()> {
        self.fs.remove(path)
    }
    fn rename(&self, from: &Path, to: &Path) -> std::io::Result<()> {
        self.fs.rename(from, to)
    }
    fn sync_dir(&self, dir: &Path) -> std::io::Result<()> {
        self.fs.sync_dir(dir)
    }
    fn remove_dir(&self, dir: &Path) -> std::io::Result<()> {
        self.fs.remove_dir(dir)
    }
    fn lock(&self, path: &Path) -> std::io::Result<Option<Box<dyn Send + Sync>>> {
        self.fs.lock(path)
    }
}

/// A panic in a maintenance round is caught and reported as a background error;
/// maintenance goes on (the frozen memtable is flushed by a later round). It once
/// ended the thread silently: nothing flushed, synced or merged in the background
/// again.
#[test]
fn a_panic_in_a_maintenance_round_is_reported_and_maintenance_goes_on() {
    use flowdb::fs::FileSystem;
    let fs = Arc::new(PanicOnce {
        fs: FaultFs::new(),
        armed: true.into(),
    });
    assert!(fs.is_dir(Path::new("/nowhere")).is_none());
    let config = Config {
        auto_background: true,
        flush_interval_ms: 5,
        wal_sync_mode: SyncMode::Always,
        ..common::small_config(Path::new("/db"))
    };
    let e = Engine::open_on(fs.clone(), config, common::tiny_partitions()).unwrap();
    // A little over one memtable (1 MiB): one freeze, no writer flushes itself.
    let batch: Vec<Record> = (0..700).map(record).collect();
    e.write_batch(&batch).unwrap();
    e.write_batch(&[record(700)]).unwrap(); // finds the memtable full: freezes it
    let deadline = Instant::now() + Duration::from_secs(20);
    while (e.stats().sstable_count == 0 || errors_counted(&e) == 0) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        !fs.armed.load(std::sync::atomic::Ordering::SeqCst),
        "the panic ran"
    );
    assert!(errors_counted(&e) >= 1, "the panic was reported");
    assert!(e.stats().sstable_count >= 1, "a later round flushed");
    assert!(e.background_error().is_none(), "writes go on");
    e.write_batch(&[record(1)]).unwrap();
}

/// A failed log sync of the maintenance tick is one background error: counted once
/// and reported by one event (it was noted where the log was cut, then again by the
/// round that returned it).
#[test]
fn a_failed_tick_sync_is_counted_once() {
    let fs = FaultFs::new();
    let config = Config {
        auto_background: true,
        flush_interval_ms: 5,
        wal_sync_mode: SyncMode::IntervalMs(5),
        ..common::small_config(Path::new("/db"))
    };
    let e = Engine::open_on(Arc::new(fs.clone()), config, common::tiny_partitions()).unwrap();
    let seen = listen(&e);
    fs.inject(Fault {
        op: Some(FsOp::Sync),
        name: ".log".into(),
        skip: 0,
        times: 1,
        error: Injected::Io,
    });
    e.write_batch(&[record(1)]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while e.background_error().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(e.background_error().is_some());
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(errors_counted(&e), 1);
    e.set_event_listener(None).unwrap();
    let errors = seen
        .lock()
        .iter()
        .filter(|ev| matches!(ev, Event::BackgroundError { .. }))
        .count();
    assert_eq!(errors, 1);
}

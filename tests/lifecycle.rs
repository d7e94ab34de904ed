//! Lifecycle: close keeps the engine usable, shutdown releases the lock, dropping
//! without shutdown loses nothing acknowledged and leaks no thread, and background
//! maintenance flushes, compacts and stops on request.

mod common;

use std::time::{Duration, Instant};

use flowdb::{Config, Engine, Record, ScanRange, SyncMode};

/// The process's threads that flowdb started (named `flowdb-…`). Not all of the
/// process's: the test harness starts and ends a thread per test, so counting them
/// all made the leak check fail by chance when a test began while it waited.
fn threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|comm| comm.starts_with("flowdb-"))
        .count()
}

/// Held by each test of this file: they run one at a time, so no other test's
/// engine starts or ends a thread while one counts them.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn records(n: usize, tag: u8) -> Vec<Record> {
    (0..n)
        .map(|i| Record::new(format!("k{i:05}"), i as i64, vec![tag; 100]))
        .collect()
}

#[test]
fn close_flushes_and_keeps_the_engine_usable() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(common::small_config(dir.path())).unwrap();
    e.write_batch(&records(100, 1)).unwrap();
    e.close().unwrap();
    let s = e.stats();
    assert_eq!((s.memtable_records, s.sstable_count), (0, 1));
    e.write_batch(&records(10, 2)).unwrap();
    assert_eq!(e.get("k00005", 5).unwrap().unwrap().value, vec![2; 100]);
}

#[test]
fn drop_without_shutdown_loses_nothing_and_leaks_no_thread() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    for mode in [SyncMode::Always, SyncMode::IntervalMs(10_000)] {
        let config = Config {
            wal_sync_mode: mode,
            auto_background: true,
            ..common::small_config(dir.path())
        };
        let before = threads();
        let e = Engine::open(config.clone()).unwrap();
        // The check below means something only if the engine's threads are counted
        // (named `flowdb-…`; a new thread names itself as it starts: polled).
        let deadline = Instant::now() + Duration::from_secs(10);
        while threads() <= before && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(threads() > before, "the engine's threads are not counted");
        e.write_batch(&records(1000, 3)).unwrap();
        drop(e);
        let deadline = Instant::now() + Duration::from_secs(10);
        while threads() > before && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(threads() <= before, "background thread still running");
        let e = Engine::open(config).unwrap();
        assert_eq!(e.scan(ScanRange::all()).unwrap().count(), 1000);
        assert_eq!(e.get("k00999", 999).unwrap().unwrap().value, vec![3; 100]);
        e.shutdown().unwrap();
    }
}

#[test]
fn background_maintenance_flushes_frozen_memtables_and_compacts() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(Config {
        flush_interval_ms: 10,
        ..common::small_config(dir.path())
    })
    .unwrap();
    assert!(e.spawn_background_maintenance().is_some_and(|h| {
        // A second spawn while one runs is refused.
        assert!(e.spawn_background_maintenance().is_none());
        // ~6 MB through a 1 MB memtable: several freezes, flushes and compactions.
        for round in 0..60u8 {
            let batch: Vec<Record> = (0..1000)
                .map(|i| Record::new(format!("k{i:04}"), round as i64, vec![round; 100]))
                .collect();
            e.write_batch(&batch).unwrap();
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while (e.stats().frozen_memtable_count > 0 || e.stats().total_compaction_runs == 0)
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(10));
        }
        h.stop();
        true
    }));
    let s = e.stats();
    assert_eq!(s.frozen_memtable_count, 0);
    assert!(s.total_flushes >= 3, "{s:?}");
    assert!(s.total_compaction_runs >= 1, "{s:?}");
    assert_eq!(e.scan(ScanRange::all()).unwrap().count(), 60_000);
    // Stopped: it can be started again.
    assert!(e.spawn_background_maintenance().is_some());
}

#[test]
fn writers_wait_for_flushes_rather_than_fail() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(Config {
        max_frozen_memtables: 1,
        ..common::small_config(dir.path())
    })
    .unwrap();
    for round in 0..40u8 {
        let batch: Vec<Record> = (0..1000)
            .map(|i| Record::new(format!("k{i:04}"), round as i64, vec![round; 100]))
            .collect();
        e.write_batch(&batch).unwrap();
    }
    assert!(e.stats().frozen_memtable_count <= 1);
    assert_eq!(e.scan(ScanRange::all()).unwrap().count(), 40_000);
    assert!(e.metrics_text().contains("flowdb_write_stalls_total"));
}

#[test]
fn reopening_does_not_accumulate_wal_segments() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let wal_files = || {
        std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("wal-"))
            .count()
    };
    let e = Engine::open(common::small_config(dir.path())).unwrap();
    e.write_batch(&records(10, 1)).unwrap();
    e.shutdown().unwrap();
    for round in 0..10 {
        let e = Engine::open(common::small_config(dir.path())).unwrap();
        let tag = if round <= 5 { 1 } else { 2 };
        assert_eq!(e.get("k00003", 3).unwrap().unwrap().value, vec![tag; 100]);
        if round == 5 {
            // Unflushed writes keep their segment until they are in a table.
            e.write_batch(&records(5, 2)).unwrap();
            drop(e);
        } else {
            e.shutdown().unwrap();
        }
        assert!(
            wal_files() <= 2,
            "{} WAL segments after {} reopens",
            wal_files(),
            round + 1
        );
    }
    let e = Engine::open(common::small_config(dir.path())).unwrap();
    assert_eq!(e.get("k00003", 3).unwrap().unwrap().value, vec![2; 100]);
    e.shutdown().unwrap();
}

#[test]
fn shutdown_joins_maintenance_whose_handle_the_caller_still_holds() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        flush_interval_ms: 1,
        ..common::small_config(dir.path())
    };
    for round in 0..3u8 {
        let e = Engine::open(config.clone()).unwrap();
        let h = e.spawn_background_maintenance().expect("none runs yet");
        // Past the 1 MB memtable: the thread has a freeze to flush, likely mid-round
        // when shutdown comes.
        e.write_batch(&records(12_000, round)).unwrap();
        e.shutdown().unwrap();
        // Joined by shutdown, not just told to stop: the handle has nothing left to
        // wait for, and the directory is free at once.
        assert!(format!("{h:?}").contains("running: false"), "{h:?}");
        let again = Engine::open(config.clone()).unwrap();
        h.stop();
        assert_eq!(
            again.get("k11999", 11999).unwrap().unwrap().value,
            vec![round; 100]
        );
        again.shutdown().unwrap();
    }
}

#[test]
fn drop_joins_maintenance_whose_handle_the_caller_still_holds() {
    let _serial = serial();
    use common::hook_fs::{is_log, HookFs};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{mpsc, Arc, Mutex};

    // The round's log sync is held until `release` fires: dropping the engine then
    // must wait for the round (whose thread holds the engine, and so its directory
    // lock) to end, so that the directory is free the moment the drop returns.
    let fs = flowdb::fs::FaultFs::new();
    let hold = Arc::new(AtomicBool::new(false));
    let (entered_tx, entered) = mpsc::channel::<()>();
    let (release, released) = mpsc::channel::<()>();
    let (entered_tx, released) = (Mutex::new(entered_tx), Mutex::new(released));
    let h = hold.clone();
    let hook_fs = Arc::new(HookFs::on_sync(
        &fs,
        Arc::new(move |path| {
            if is_log(path) && h.swap(false, Ordering::SeqCst) {
                entered_tx.lock().unwrap().send(()).unwrap();
                released.lock().unwrap().recv().unwrap();
            }
        }),
    ));
    let config = Config {
        wal_sync_mode: SyncMode::IntervalMs(1),
        auto_background: false,
        ..common::small_config(std::path::Path::new("/db"))
    };
    let e = Engine::open_on(hook_fs.clone(), config.clone(), common::tiny_partitions()).unwrap();
    e.write_batch(&records(10, 1)).unwrap();
    hold.store(true, Ordering::SeqCst);
    let handle = e.spawn_background_maintenance().expect("none runs yet");
    entered.recv().unwrap(); // the round is in the log's sync
    let opener = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        release.send(()).unwrap();
    });
    drop(e);
    let again = Engine::open_on(hook_fs, config, common::tiny_partitions())
        .expect("the directory is free once the drop returned");
    assert_eq!(again.get("k00009", 9).unwrap().unwrap().value, vec![1; 100]);
    assert!(
        format!("{handle:?}").contains("running: false"),
        "{handle:?}"
    );
    handle.stop();
    opener.join().unwrap();
    again.shutdown().unwrap();
}

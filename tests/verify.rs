//! `flowdb::verify::verify_dir`: a sound database (also one being written) checks
//! clean; a flipped byte in any table block, the manifest or a log record is reported
//! with its file and an offset at or before the damage; a torn log tail is not damage.

mod common;

use std::path::{Path, PathBuf};

use flowdb::verify::verify_dir;
use flowdb::{Engine, Record};

fn filled(dir: &Path) -> Engine {
    let e = common::open_tiny(common::small_config(dir));
    for i in 0..4000 {
        e.write_batch(&[Record::new(
            format!("k{}", i % 13),
            i,
            vec![(i % 97) as u8; 200],
        )])
        .unwrap();
    }
    e.flush().unwrap();
    for i in 4000..4300 {
        // Synced: each later group's sync mark states the bytes before it durable, so
        // damage there is corruption, not a torn tail.
        e.write_batch_sync(vec![Record::new("tail", i, vec![1u8; 100])])
            .unwrap();
    }
    e
}

fn files_named(dir: &Path, f: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| f(p.file_name().unwrap().to_str().unwrap()))
        .collect();
    v.sort();
    v
}

fn flip(path: &Path, at: usize) {
    let mut data = std::fs::read(path).unwrap();
    data[at] ^= 0x40;
    std::fs::write(path, data).unwrap();
}

#[test]
fn a_sound_database_checks_clean_while_it_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let e = filled(tmp.path());
    let r = verify_dir(tmp.path()).unwrap();
    assert!(r.is_sound(), "{:?}", r.damage);
    assert!(
        r.tables > 0 && r.blocks > r.tables as u64 && r.table_bytes > 100_000,
        "{r:?}"
    );
    assert!(r.log_segments > 0 && r.log_records >= 300, "{r:?}");
    drop(e);
}

#[test]
fn damage_is_named_by_file_and_offset() {
    let mut rng = common::rng("damage_is_named_by_file_and_offset");
    let tmp = tempfile::tempdir().unwrap();
    drop(filled(tmp.path()));
    // A table: a byte anywhere in it.
    let tables = files_named(tmp.path(), |n| n.ends_with(".sst"));
    let table = &tables[rng.usize(..tables.len())];
    let len = std::fs::metadata(table).unwrap().len() as usize;
    let at = rng.usize(..len);
    flip(table, at);
    let r = verify_dir(tmp.path()).unwrap();
    assert_eq!(
        r.damage.len(),
        1,
        "byte {at} of {}: {:?}",
        table.display(),
        r.damage
    );
    let d = &r.damage[0];
    let name = table.file_name().unwrap().to_str().unwrap();
    assert!(d.file.ends_with(name), "{d}");
    assert!(d.offset <= at as u64, "{d}: the damage is at {at}");
    flip(table, at);
    assert!(verify_dir(tmp.path()).unwrap().is_sound());

    // A log record in the middle of the last segment (synced, as a later sync mark
    // states: not a torn tail).
    let logs = files_named(tmp.path(), |n| n.starts_with("wal-"));
    let log = logs.last().unwrap();
    let len = std::fs::metadata(log).unwrap().len() as usize;
    flip(log, len / 2);
    let r = verify_dir(tmp.path()).unwrap();
    assert!(
        !r.is_sound()
            && r.damage[0]
                .file
                .ends_with(log.file_name().unwrap().to_str().unwrap())
    );
    flip(log, len / 2);

    // A torn tail is not damage.
    let mut data = std::fs::read(log).unwrap();
    data.extend_from_slice(&[1, 2, 3]);
    std::fs::write(log, &data).unwrap();
    let r = verify_dir(tmp.path()).unwrap();
    assert!(r.is_sound() && r.torn_tail_bytes == 3, "{r:?}");

    // The manifest.
    flip(&tmp.path().join("MANIFEST"), 20);
    let r = verify_dir(tmp.path()).unwrap();
    assert!(
        !r.is_sound() && r.damage[0].file.ends_with("MANIFEST"),
        "{r:?}"
    );

    // Not a database at all: an error, not a report.
    assert!(verify_dir(tmp.path().join("nothing")).is_err());
}

/// `Engine::tables` lists the live tables with what each holds: together they are
/// the engine's table bytes and hold every flushed entry.
#[test]
fn tables_list_the_layout() {
    let tmp = tempfile::tempdir().unwrap();
    let e = filled(tmp.path());
    let tables = e.tables().unwrap();
    assert!(!tables.is_empty());
    let bytes: u64 = tables.iter().map(|t| t.bytes).sum();
    assert_eq!(bytes, e.stats().sstable_bytes);
    let entries: u64 = tables.iter().map(|t| t.entries).sum();
    assert!(entries >= 4000, "{entries}");
    for t in &tables {
        assert!(t.first_key <= t.last_key && t.min_ts <= t.max_ts, "{t:?}");
        assert!(
            tmp.path().join(format!("{:06}.sst", t.id)).exists(),
            "{t:?}"
        );
    }
}

/// A writer merging while the check runs: the tables the manifest named are gone by
/// the time they are opened. That is no damage: the check starts again from the new
/// manifest (it used to report each merged-away table as damaged).
#[test]
fn tables_merged_away_during_the_check_are_no_damage() {
    use common::hook_fs::HookFs;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    let fs = flowdb::fs::FaultFs::new();
    let config = common::small_config(Path::new("/db"));
    let e =
        Arc::new(Engine::open_on(Arc::new(fs.clone()), config, common::tiny_partitions()).unwrap());
    for run in 0..3 {
        let batch: Vec<Record> = (0..200)
            .map(|i| Record::new(format!("k{}", i % 7), run * 1000 + i, vec![run as u8; 100]))
            .collect();
        e.write_batch(&batch).unwrap();
        e.flush().unwrap();
    }
    assert!(e.tables().unwrap().len() >= 2);
    let merged = Arc::new(AtomicBool::new(false));
    let (writer, done) = (e.clone(), merged.clone());
    let hooked = HookFs::on_read(
        &fs,
        Arc::new(move |path| {
            if path.ends_with("MANIFEST") && !done.swap(true, Ordering::SeqCst) {
                // After the check read the manifest: every table it named goes.
                assert!(writer.trigger_compaction().unwrap());
            }
        }),
    );
    let r = flowdb::verify::verify_dir_on(Arc::new(hooked), Path::new("/db")).unwrap();
    assert!(merged.load(Ordering::SeqCst));
    assert!(r.is_sound(), "{:?}", r.damage);
    assert_eq!(r.tables as usize, e.tables().unwrap().len());
}

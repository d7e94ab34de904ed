//! ENOSPC for real: the test runs itself again in a user and mount namespace
//! (`unshare --user --map-root-user --mount`) with a 16 MiB tmpfs as the data
//! directory, and writes until the disk is full. Pass: the failing write gets an
//! I/O error carrying ENOSPC; reads go on and show exactly the acknowledged writes;
//! once space is freed (a ballast file removed), writes, flushes and compactions work
//! again; a reopen finds every acknowledged write, and a failed write entirely or not
//! at all. Where user namespaces are not allowed, the test says so and passes.

mod common;

use std::path::Path;
use std::process::Command;

use common::ops::{self, Op};
use flowdb::{Config, Engine, Error, Record, SyncMode};

const ENOSPC: i32 = 28;

#[test]
fn enospc_on_a_real_small_tmpfs() {
    if std::env::var("FLOWDB_FULL_DISK_DIR").is_ok() {
        return; // this is the child
    }
    let mount = tempfile::tempdir().unwrap();
    let script = r#"mount -t tmpfs -o size=16m tmpfs "$1" && exec "$2" full_disk_child --exact --nocapture --test-threads=1"#;
    let out = Command::new("unshare")
        .args([
            "--user",
            "--map-root-user",
            "--mount",
            "sh",
            "-c",
            script,
            "sh",
        ])
        .arg(mount.path())
        .arg(std::env::current_exe().unwrap())
        .env("FLOWDB_FULL_DISK_DIR", mount.path())
        .output();
    let out = match out {
        Ok(out) => out,
        Err(e) => {
            println!("SKIPPED: cannot run unshare: {e}");
            return;
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !stdout.contains("full_disk_child") && stderr.contains("unshare") {
        println!("SKIPPED: no user and mount namespaces here: {stderr}");
        return;
    }
    print!("{stdout}");
    assert!(out.status.success(), "child failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("full disk: ok"), "{stdout}");
}

fn config(dir: &Path) -> Config {
    Config {
        wal_sync_mode: SyncMode::Always,
        ..common::small_config(dir)
    }
}

#[test]
fn full_disk_child() {
    let Ok(dir) = std::env::var("FLOWDB_FULL_DISK_DIR") else {
        return;
    };
    println!("full_disk_child in {dir}");
    let dir = Path::new(&dir);
    let mut rng = common::rng("full_disk");
    let ballast = dir.join("ballast");
    std::fs::write(&ballast, vec![1u8; 8 << 20]).unwrap();
    let db = dir.join("db");
    let e = Engine::open(config(&db)).unwrap();
    let (mut acked, mut failed) = (ops::State::new(), Vec::new());
    let mut i = 0i64;
    while failed.len() < 3 {
        i += 1;
        assert!(i < 10_000, "the disk never filled");
        let op = Op::Put(
            (0..8)
                .map(|j| {
                    let v = (0..4000).map(|_| rng.u8(..)).collect();
                    Record::new(format!("k{j}"), i, v)
                })
                .collect(),
            None,
        );
        match op.apply(&e) {
            Ok(()) => op.apply_model(&mut acked),
            Err(Error::Io { source, context }) => {
                assert_eq!(source.raw_os_error(), Some(ENOSPC), "{context}: {source}");
                failed.push(op);
            }
            Err(other) => panic!("write {i}: {other}"),
        }
        if i % 25 == 0 {
            match e.flush() {
                Ok(()) | Err(Error::Io { .. }) => {}
                Err(other) => panic!("flush: {other}"),
            }
        }
    }
    println!(
        "full after {i} writes; {} acknowledged records",
        acked.len()
    );
    assert_eq!(ops::state_of(&e).unwrap(), acked, "reads go on");
    std::fs::remove_file(&ballast).unwrap();
    for j in 0..3 {
        let op = Op::Put(vec![Record::new("after", j, b"room again".to_vec())], None);
        op.apply(&e).unwrap();
        op.apply_model(&mut acked);
    }
    // Make room for compaction's output too: its inputs go once it is done.
    e.delete_range("k0", "k4").unwrap();
    acked.retain(|(k, _), _| !(k.as_slice() >= &b"k0"[..] && k.as_slice() < &b"k4"[..]));
    e.flush().unwrap();
    e.trigger_compaction().unwrap();
    assert_eq!(ops::state_of(&e).unwrap(), acked);
    drop(e);
    let e = Engine::open(config(&db)).unwrap();
    let got = ops::state_of(&e).unwrap();
    // A failed write may have reached the log whole; the range delete covers k0..k3.
    for (k, v) in &got {
        if acked.get(k) != Some(v) {
            let in_failed = failed.iter().any(|op| {
                let mut m = ops::State::new();
                op.apply_model(&mut m);
                m.get(k) == Some(v)
            });
            assert!(in_failed, "{k:?}: neither acknowledged nor a failed write");
        }
    }
    for k in acked.keys() {
        assert!(got.contains_key(k), "acknowledged {k:?} lost");
    }
    e.shutdown().unwrap();
    println!("full disk: ok");
}

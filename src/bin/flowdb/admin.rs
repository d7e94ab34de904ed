//! Maintenance: `verify` (no engine, no lock), `checkpoint` and `backup` (a copy of
//! the database, from a read-only open: no lock either), `compact` (a full
//! compaction, read-write).

use std::path::Path;
use std::time::Instant;

use crate::fail::Failure;
use crate::open::{self, Writer};
use crate::progress::{thousands, Progress};
use crate::Ui;

/// Exit statuses of `verify`.
const SOUND: u8 = 0;
const DAMAGED: u8 = 1;
const NOT_CHECKED: u8 = 2;

/// The rollups of the database in `dir` (`dir/rollups/<name>`, docs/numeric.md,
/// "Rollups"), by name: each is a database of its own.
fn rollups(dir: &Path) -> Vec<(String, std::path::PathBuf)> {
    let mut found: Vec<(String, std::path::PathBuf)> = std::fs::read_dir(dir.join("rollups"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    found.sort();
    found
}

/// `flowdb verify`: the database, then each of its rollups; returns the worst exit
/// status (0 sound, 1 damaged, 2 a check could not run).
pub fn verify(dir: &Path, ui: Ui) -> u8 {
    let mut status = verify_one(dir, ui);
    if dir.is_dir() {
        for (_, path) in rollups(dir) {
            status = status.max(verify_one(&path, ui));
        }
    }
    status
}

/// `verify` of one database directory.
fn verify_one(dir: &Path, ui: Ui) -> u8 {
    if !dir.is_dir() {
        eprintln!(
            "flowdb: cannot verify {}: it is not a directory",
            dir.display()
        );
        return NOT_CHECKED;
    }
    let progress = Progress::new(ui, "verify", "", None);
    progress.phase("reading every table and log segment");
    let started = Instant::now();
    let result = flowdb::verify::verify_dir(dir);
    let took = started.elapsed();
    progress.abandon();
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("flowdb: cannot verify {}: {e}", dir.display());
            return NOT_CHECKED;
        }
    };
    let bytes = report.table_bytes + report.log_bytes;
    let mb_s = bytes as f64 / 1e6 / took.as_secs_f64().max(1e-9);
    println!(
        "verified {} in {:.3} s ({:.1} MB/s)",
        dir.display(),
        took.as_secs_f64(),
        mb_s
    );
    println!(
        "  tables:        {} ({} blocks, {} bytes)",
        report.tables,
        thousands(report.blocks),
        thousands(report.table_bytes)
    );
    println!(
        "  log segments:  {} ({} records, {} bytes)",
        report.log_segments,
        thousands(report.log_records),
        thousands(report.log_bytes)
    );
    if report.torn_tail_bytes > 0 {
        println!(
            "  torn tail:     {} bytes at the end of the last log segment (a write a crash \
             interrupted, or one under way; recovery drops it: not damage)",
            thousands(report.torn_tail_bytes)
        );
    }
    if report.is_sound() {
        println!("{} is sound", dir.display());
        return SOUND;
    }
    println!(
        "damage ({} file{}):",
        report.damage.len(),
        plural(report.damage.len())
    );
    for d in &report.damage {
        println!("  {d}");
    }
    println!("{} is DAMAGED", dir.display());
    DAMAGED
}

/// `flowdb checkpoint` (`backup`: every file copied). The source is opened
/// read-only, so this works beside a writer in another process: the copy is of what
/// that writer has on disk (docs/design.md, "Checkpoints and backups"), and the
/// source is left untouched.
pub fn copy(dir: &Path, dest: &Path, backup: bool, ui: Ui) -> Result<(), Failure> {
    let cmd = if backup { "backup" } else { "checkpoint" };
    if dest.exists() {
        return Err(Failure::new(format!(
            "{}: already exists ({cmd} writes a new directory)",
            dest.display()
        )));
    }
    let engine = open::read_only(dir)?;
    let started = Instant::now();
    let done = if backup {
        engine.backup_to(dest)
    } else {
        engine.checkpoint(dest)
    };
    done.map_err(|e| {
        Failure::new(format!(
            "{cmd} of {} to {} failed: {e}",
            dir.display(),
            dest.display()
        ))
    })?;
    if !ui.quiet {
        eprintln!(
            "{cmd} of {} written to {} in {:.3} s",
            dir.display(),
            dest.display(),
            started.elapsed().as_secs_f64()
        );
    }
    // The rollups, each a database of its own, after the raw data (a writer running
    // passes meanwhile may put a rollup's copy a pass ahead: docs/cli.md).
    for (name, path) in rollups(dir) {
        let to = dest.join("rollups").join(&name);
        let engine = open::read_only(&path)?;
        let done = match backup {
            true => engine.backup_to(&to),
            false => engine.checkpoint(&to),
        };
        done.map_err(|e| {
            Failure::new(format!(
                "{cmd} of the rollup {name:?} to {} failed (the copy of the raw data is \
                 complete, its rollups are not): {e}",
                to.display()
            ))
        })?;
        if !ui.quiet {
            eprintln!("  with its rollup {name:?}");
        }
    }
    Ok(())
}

/// Table count and bytes.
fn layout(e: &flowdb::Engine) -> flowdb::Result<(usize, u64)> {
    let t = e.tables()?;
    Ok((t.len(), t.iter().map(|t| t.bytes).sum()))
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `flowdb compact`: the memtables flushed, a full compaction, then shutdown.
pub fn compact(dir: &Path, ui: Ui) -> Result<(), Failure> {
    let engine = open::read_write(
        dir,
        Writer::Existing("compact", "Engine::trigger_compaction"),
    )?;
    let started = Instant::now();
    let steps = engine.flush().and_then(|()| {
        let before = layout(&engine)?;
        // Records that expired in tables compaction leaves alone are GC's.
        let rewrote = engine.trigger_compaction()?;
        let purged = engine.trigger_gc()?;
        Ok((before, rewrote || purged > 0, purged, layout(&engine)?))
    });
    let ((n0, b0), rewrote, purged, (n1, b1)) = match steps {
        Ok(s) => s,
        Err(e) => {
            let _ = engine.shutdown();
            return Err(Failure::new(format!(
                "compacting {} failed: {e}",
                dir.display()
            )));
        }
    };
    let took = started.elapsed();
    open::shut_down(engine)?;
    if rewrote {
        if !ui.quiet {
            eprintln!(
                "compacted {} in {:.3} s: {n0} table{} ({} bytes) -> {n1} table{} ({} bytes){}",
                dir.display(),
                took.as_secs_f64(),
                plural(n0),
                thousands(b0),
                plural(n1),
                thousands(b1),
                match purged {
                    0 => String::new(),
                    n => format!(
                        ", {} expired record{} purged",
                        thousands(n),
                        plural(n as usize)
                    ),
                }
            );
        }
    } else {
        if !ui.quiet {
            eprintln!(
                "{}: nothing to compact ({n1} table{}, {} bytes)",
                dir.display(),
                plural(n1),
                thousands(b1)
            );
        }
    }
    Ok(())
}

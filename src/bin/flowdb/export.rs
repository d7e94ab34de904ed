//! `flowdb export` (records) and `flowdb docs export --format parquet` (documents):
//! Parquet files through `flowdb::export::parquet`. The database is opened read-only;
//! the file is written under a temporary name beside OUT, synced, and renamed to OUT
//! when complete, so OUT is never a partial file (a failed export removes the
//! temporary one).

use std::fs::File;
use std::path::{Path, PathBuf};

use flowdb::export::parquet::{self as pq, Compression, ExportOptions, ExportStats, KeyType};

use crate::args::{CompressionArg, ExportArgs, ExportFormat, ParquetArgs};
use crate::fail::{Context, Failure};
use crate::open;
use crate::progress::{thousands, Progress};
use crate::Ui;

/// Returns freed memory to the kernel at once during an export. The Parquet column
/// writers allocate and free large buffers (encoded column chunks, compressed pages)
/// all the time; mimalloc's default delay before handing freed memory back let an
/// uncompressed export reach 2.2 times its row group in RSS (bench/export.sh); with
/// no delay, 1.3 times, at the same speed.
fn release_freed_memory() {
    // `mi_option_purge_delay` of mimalloc.h (v3, the version libmimalloc-sys builds by
    // default; 15 in v2 too), which libmimalloc-sys does not name.
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: reads and sets one of mimalloc's options, which it reads when it next
    // purges; any value is valid.
    unsafe {
        // Its default is 1000 (ms) in v3: a check, in debug builds, that 15 is that option.
        debug_assert!(
            std::env::var_os("MIMALLOC_PURGE_DELAY").is_some()
                || libmimalloc_sys::mi_option_get(PURGE_DELAY) == 1000
        );
        libmimalloc_sys::mi_option_set(PURGE_DELAY, 0);
    }
}

fn options(a: &ParquetArgs) -> ExportOptions {
    let mut o = ExportOptions::default();
    o.row_group_rows = a.row_group_rows as usize;
    o.row_group_bytes = (a.row_group_mb as usize) << 20;
    o.compression = match a.compression {
        CompressionArg::None => Compression::None,
        CompressionArg::Snappy => Compression::Snappy,
        CompressionArg::Zstd => Compression::Zstd(a.zstd_level),
    };
    o
}

fn codec_name(c: Compression) -> String {
    match c {
        Compression::None => "uncompressed".into(),
        Compression::Snappy => "snappy".into(),
        Compression::Zstd(l) => format!("zstd level {l}"),
    }
}

/// `.NAME.flowdb-export-PID` beside `out`.
fn temporary(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "export".into());
    out.with_file_name(format!(".{name}.flowdb-export-{}", std::process::id()))
}

/// Runs `write` into a temporary file, then makes it `out` (also for `dump -o` and
/// `docs export -o`): a failure leaves `out` as it was, never half written. An `out`
/// that exists and is not a regular file (a FIFO, a device), or is a symbolic link
/// (`/dev/stdout`, a process substitution's `/dev/fd/N`), is written directly:
/// replacing it would break the pipe or the link (or, as root, a device node).
pub(crate) fn to_file<T>(
    out: &Path,
    write: impl FnOnce(&File) -> Result<T, Failure>,
) -> Result<T, Failure> {
    // A symbolic link (`/dev/stdout`, `/dev/fd/N`, or one a user made) is written
    // through, whatever it points to: renaming over it would replace the link.
    let link = std::fs::symlink_metadata(out).is_ok_and(|m| m.file_type().is_symlink());
    match std::fs::metadata(out) {
        Ok(m) if m.is_dir() => {
            return Err(Failure::new(format!(
                "{} is a directory; name the file to write",
                out.display()
            )))
        }
        Ok(m) if link || !m.is_file() => {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .truncate(m.is_file())
                .open(out)
                .context(|| format!("opening {}", out.display()))?;
            return write(&file);
        }
        _ => {}
    }
    let tmp = temporary(out);
    let file = File::create(&tmp).context(|| format!("creating {}", tmp.display()))?;
    let done = write(&file).and_then(|stats| {
        file.sync_all()
            .context(|| format!("syncing {}", tmp.display()))?;
        std::fs::rename(&tmp, out)
            .context(|| format!("renaming {} to {}", tmp.display(), out.display()))?;
        // The new name made durable too (best effort: a directory the process may
        // write in but not open for reading).
        let dir = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(stats)
    });
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    done
}

/// Writes `out` through `write` (see `to_file`), which reports its rows to a progress
/// line counting `unit`; then the summary line.
fn export_to(
    ui: Ui,
    out: &Path,
    opts: &ExportOptions,
    unit: &'static str,
    write: impl FnOnce(&File, &mut dyn FnMut(&ExportStats)) -> Result<ExportStats, Failure>,
) -> Result<(), Failure> {
    release_freed_memory();
    let mut progress = Progress::new(ui, "export", unit, None);
    match to_file(out, |f| write(f, &mut |s| progress.set(s.rows, None))) {
        Ok(stats) => {
            progress.finish("exported");
            summary(ui, out, &stats, opts);
            Ok(())
        }
        Err(e) => {
            progress.abandon();
            Err(e)
        }
    }
}

/// The closing line after the progress line: the file, its row groups and bytes.
fn summary(ui: Ui, out: &Path, stats: &ExportStats, opts: &ExportOptions) {
    if !ui.quiet {
        eprintln!(
            "flowdb export: wrote {}: {} rows in {} row groups, {} bytes (Parquet, {})",
            out.display(),
            thousands(stats.rows),
            thousands(stats.row_groups),
            thousands(stats.bytes),
            codec_name(opts.compression)
        );
    }
}

/// `flowdb export DIR OUT`.
pub fn records(a: &ExportArgs, ui: Ui) -> Result<(), Failure> {
    let ExportFormat::Parquet = a.format;
    let range = crate::read::key_time_range(&a.range)?;
    let mut opts = options(&a.parquet);
    if a.binary_keys {
        opts.key_type = KeyType::Binary;
    }
    let engine = open::read_only(&a.dir)?;
    export_to(ui, &a.out, &opts, "records", |f, progress| {
        pq::export_engine_with(&engine, range, f, &opts, progress)
            .map_err(|e| Failure::new(format!("exporting {}: {e}", a.dir.display())))
    })
}

/// `flowdb docs DIR export STORE --format parquet OUT`.
pub fn store(
    dir: &Path,
    store: &str,
    out: &Path,
    args: &ParquetArgs,
    ui: Ui,
) -> Result<(), Failure> {
    let opts = options(args);
    let db = open::docs_read_only(dir)?;
    export_to(ui, out, &opts, "documents", |f, progress| {
        pq::export_store_with(&db, store, f, &opts, progress)
            .map_err(|e| Failure::new(format!("exporting store {store:?}: {e}")))
    })
}

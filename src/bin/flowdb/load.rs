//! `flowdb load`: records from a CSV or JSON lines file into the engine.
//!
//! All or nothing for malformed input (unless `--skip-bad`): a first pass parses
//! every record and, when any is malformed, reports them and loads nothing. The load
//! pass then runs as a pipeline on two threads: one reads and parses the file into
//! batches, the other writes each batch (`write_batch_owned`: atomic and, under the
//! default `SyncMode::Always`, durable when it returns). A write that fails (a full
//! disk) stops the load with the resume point: every record on lines 1..N is loaded,
//! and `--skip-lines N` loads the rest. With `--numbers`, values are decimal text
//! written as numeric points (`WriteBatch::put_point`). A new database is created
//! only when the first batch is written: a load with no records to write (an empty
//! file, only malformed lines) creates nothing, says so, and succeeds.

use std::path::Path;
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};
use std::thread;

use flowdb::{Engine, Point, Record, WriteBatch, WriteOptions};

use crate::args::{InputFormat, LoadArgs};
use crate::fail::{Context, Failure};
use crate::input::{Parsed, Source};
use crate::open::{self, Writer};
use crate::progress::{thousands, Progress};
use crate::Ui;

/// Malformed lines named one by one; past these, only counted.
pub const SHOWN_BAD: usize = 20;

/// Malformed lines: the first few with their reasons, and how many in all.
#[derive(Debug, Default)]
pub struct BadLines {
    pub shown: Vec<(u64, String)>,
    pub count: u64,
}

impl BadLines {
    pub fn add(&mut self, line: u64, why: String) {
        self.count += 1;
        if self.shown.len() < SHOWN_BAD {
            self.shown.push((line, why));
        }
    }

    /// One line per shown line, then how many more.
    pub fn details(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .shown
            .iter()
            .map(|(line, why)| format!("line {line}: {why}"))
            .collect();
        let more = self.count - self.shown.len() as u64;
        if more > 0 {
            out.push(format!("... and {} more", thousands(more)));
        }
        out
    }
}

/// Refuses an input that cannot be read twice (a pipe, a terminal: the check pass
/// would drain it and the load pass find nothing) unless `--skip-bad` makes the
/// command read it once. (A pipe once loaded nothing and the command succeeded.)
pub fn readable_twice(file: &Path, skip_bad: bool) -> Result<(), Failure> {
    let meta = std::fs::metadata(file).context(|| file.display().to_string())?;
    if skip_bad || meta.is_file() {
        return Ok(());
    }
    Err(Failure::new(format!(
        "{} is not a regular file (a pipe?): without --skip-bad every line is checked \
         before any is written, which reads the input twice; save it to a file first, \
         or pass --skip-bad to read it once (malformed lines then skipped and listed)",
        file.display()
    )))
}

/// The format of `file`: as given, or from its extension.
fn input_format(given: Option<InputFormat>, file: &Path) -> Result<InputFormat, Failure> {
    if let Some(f) = given {
        return Ok(f);
    }
    let ext = file
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("csv") => Ok(InputFormat::Csv),
        Some("jsonl" | "ndjson" | "json") => Ok(InputFormat::Jsonl),
        _ => Err(Failure::new(format!(
            "{}: cannot tell the format from the file name: pass --format csv or --format jsonl",
            file.display()
        ))),
    }
}

/// A value's text as a number (`--numbers`): what Rust's `f64` parsing takes
/// (`21.5`, `-3`, `1e9`, `NaN`, `inf`), spaces around it allowed.
fn number(value: &[u8]) -> Result<f64, String> {
    std::str::from_utf8(value)
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .ok_or_else(|| {
            format!(
                "value {:?} is not a number (--numbers)",
                String::from_utf8_lossy(&value[..value.len().min(40)])
            )
        })
}

/// `parsed`, its value checked as a number when `numbers` (and then replaced by
/// the number's 8 bytes, as a point is stored).
fn as_numbers(parsed: Result<Parsed<'_>, String>, numbers: bool) -> Result<Parsed<'_>, String> {
    let mut p = parsed?;
    if numbers && !p.point {
        p.value = number(&p.value)?.to_le_bytes().to_vec().into();
        p.point = true;
    }
    Ok(p)
}

/// The first pass: every malformed record of the file (past `skip` lines).
fn check(
    path: &Path,
    format: InputFormat,
    skip: u64,
    numbers: bool,
    ui: Ui,
) -> Result<BadLines, Failure> {
    let mut src = Source::open(path, format)?;
    let size = std::fs::metadata(path).ok().map(|m| m.len());
    let mut progress = Progress::new(ui, "load", "records checked", size);
    progress.phase("checking");
    let mut bad = BadLines::default();
    let mut n = 0u64;
    while let Some((line, parsed)) = src.next()? {
        if line <= skip {
            continue;
        }
        if let Err(why) = as_numbers(parsed, numbers) {
            bad.add(line, why);
        }
        n += 1;
        if n % 65_536 == 0 {
            let at = src.position();
            progress.set(n, Some(at));
        }
    }
    progress.abandon();
    Ok(bad)
}

/// A batch handed from the parsing thread to the writer: its records packed into one
/// buffer. The writer makes the `Record`s: the engine frees their keys and values on
/// the writing thread, and memory allocated on one thread and freed on another cost
/// glibc's malloc a third of the load's CPU (docs/benchmarks.md, "flowdb load"). The
/// buffers go back to the parser to be filled again.
#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    /// Per record: where its key ends and its value ends in `bytes`, ts, expire_at,
    /// and whether it is a numeric point.
    items: Vec<(usize, usize, i64, i64, bool)>,
    /// The line of its last record, and the bytes of the file read by then.
    last_line: u64,
    read: u64,
}

impl Batch {
    fn push(&mut self, p: &crate::input::Parsed<'_>) {
        self.bytes.extend_from_slice(&p.key);
        let key_end = self.bytes.len();
        self.bytes.extend_from_slice(&p.value);
        self.items
            .push((key_end, self.bytes.len(), p.ts, p.expire_at, p.point));
    }

    fn records(&self) -> Vec<Record> {
        let mut start = 0;
        self.items
            .iter()
            .map(|&(key_end, value_end, ts, expire_at, _)| {
                let r = Record::new(
                    &self.bytes[start..key_end],
                    ts,
                    self.bytes[key_end..value_end].to_vec(),
                )
                .with_expire_at(expire_at);
                start = value_end;
                r
            })
            .collect()
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.items.clear();
    }
}

/// The parsing thread: batches of good records into `tx` (their buffers taken back
/// from `spare`), malformed ones counted.
fn parse(
    mut src: Source,
    (batch, skip, numbers): (usize, u64, bool),
    tx: SyncSender<Batch>,
    spare: Receiver<Batch>,
) -> Result<BadLines, Failure> {
    let mut bad = BadLines::default();
    let mut b = Batch::default();
    while let Some((line, parsed)) = src.next()? {
        if line <= skip {
            continue;
        }
        match as_numbers(parsed, numbers) {
            Ok(p) => b.push(&p),
            Err(why) => {
                bad.add(line, why);
                continue;
            }
        }
        b.last_line = line;
        if b.items.len() == batch {
            b.read = src.position();
            let mut next = spare.try_recv().unwrap_or_default();
            next.clear();
            if tx.send(std::mem::replace(&mut b, next)).is_err() {
                return Ok(bad); // the writer stopped; it reports why
            }
        }
    }
    if !b.items.is_empty() {
        b.read = src.position();
        let _ = tx.send(b);
    }
    Ok(bad)
}

/// What the load pass did.
struct Loaded {
    records: u64,
    /// Records on lines up to here are loaded.
    through: u64,
}

/// Why the load pass stopped early.
enum Stop {
    /// The database could not be opened (created) for the first batch.
    Open(Failure),
    /// A write failed.
    Write(flowdb::Error),
}

/// Writes every batch from `rx`, handing its buffers back through `spare`; stops at
/// the first failed write. The records are handed over (`write_batch_owned`), not
/// copied again; a batch holding points goes as a `WriteBatch` of puts and points.
/// Without an `engine` (no database yet) the first batch opens one, creating it:
/// when no batch comes, none is made.
fn write(
    engine: &mut Option<Engine>,
    dir: &Path,
    rx: Receiver<Batch>,
    spare: Sender<Batch>,
    progress: &mut Progress,
    loaded: &mut Loaded,
) -> Result<(), Stop> {
    for b in rx {
        let engine = match engine {
            Some(e) => e,
            None => {
                engine.insert(open::read_write(dir, Writer::Create("load")).map_err(Stop::Open)?)
            }
        };
        let n = b.items.len() as u64;
        match b.items.iter().any(|i| i.4) {
            false => engine.write_batch_owned(b.records()).map_err(Stop::Write)?,
            true => {
                let mut batch = WriteBatch::with_capacity(b.items.len());
                for (r, item) in b.records().into_iter().zip(&b.items) {
                    match <[u8; 8]>::try_from(r.value.as_slice()) {
                        Ok(bytes) if item.4 => batch.put_point(
                            Point::new(r.key, r.ts, f64::from_le_bytes(bytes))
                                .with_expire_at(r.expire_at),
                        ),
                        _ => batch.put(r),
                    };
                }
                engine
                    .write_owned(batch, &WriteOptions::default())
                    .map_err(Stop::Write)?
            }
        }
        loaded.records += n;
        loaded.through = b.last_line;
        progress.set(loaded.records, Some(b.read));
        let _ = spare.send(b);
    }
    Ok(())
}

fn resume_point(through: u64, skip: u64) -> String {
    if through > skip {
        format!("lines 1..{through} are loaded; rerun with --skip-lines {through} to load the rest")
    } else if skip > 0 {
        format!("nothing more was loaded; rerun with --skip-lines {skip}")
    } else {
        "nothing was loaded".to_string()
    }
}

/// Whether `dir` exists with something in it (a database, perhaps locked): an empty
/// directory holds neither a database nor a lock, so it is treated as a new one.
fn holds_files(dir: &Path) -> bool {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => entries.next().is_some(),
        // Not a directory, or not readable: opening it says what is wrong.
        Err(_) => dir.exists(),
    }
}

/// The stderr line of a load that had no records to write (exit status 0, as any
/// load of no records): what became of the directory. `opened`: an existing
/// database was opened (and shut down, unchanged).
fn nothing_loaded(a: &LoadArgs, opened: bool) {
    let past = match a.skip_lines {
        0 => String::new(),
        n => format!(" past line {n}"),
    };
    let dir = a.dir.display();
    let what = if opened {
        format!("{dir} is as it was")
    } else if a.dir.exists() {
        format!("nothing was written to {dir}")
    } else {
        format!("{dir} was not created")
    };
    eprintln!(
        "flowdb load: no records to load in {}{past}; {what}",
        a.file.display()
    );
}

pub fn run(a: &LoadArgs, ui: Ui) -> Result<(), Failure> {
    let format = input_format(a.format, &a.file)?;
    readable_twice(&a.file, a.skip_bad)?;
    let size = std::fs::metadata(&a.file)
        .context(|| format!("{}", a.file.display()))?
        .len();
    // An existing database is opened first (a locked one fails at once, before the
    // check pass reads the whole file); a new one only when the first batch is
    // ready to write, so a load that writes nothing (malformed lines, or no records
    // at all) leaves no database behind, not even an empty one.
    let early = match holds_files(&a.dir) {
        true => Some(open::read_write(&a.dir, Writer::Create("load"))?),
        false => None,
    };
    let opened = early.is_some();
    let name = a.file.display().to_string();
    if !a.skip_bad {
        let bad = match check(&a.file, format, a.skip_lines, a.numbers, ui) {
            Ok(bad) => bad,
            Err(f) => {
                if let Some(engine) = early {
                    let _ = engine.shutdown();
                }
                return Err(f);
            }
        };
        if bad.count > 0 {
            if let Some(engine) = early {
                open::shut_down(engine)?;
            }
            return Err(Failure::new(format!(
                "{name}: {} malformed line{}; nothing was loaded (--skip-bad loads the \
                 other lines)",
                thousands(bad.count),
                if bad.count == 1 { "" } else { "s" }
            ))
            .with_details(bad.details()));
        }
    }
    let mut engine = early;
    let src = match Source::open(&a.file, format) {
        Ok(s) => s,
        Err(f) => {
            if let Some(engine) = engine {
                let _ = engine.shutdown();
            }
            return Err(f);
        }
    };
    let mut progress = Progress::new(ui, "load", "records", Some(size));
    progress.phase("writing");
    let (tx, rx) = sync_channel(2);
    let (spare_tx, spare_rx) = channel();
    let (batch, skip, numbers) = (a.batch as usize, a.skip_lines, a.numbers);
    let parser = thread::spawn(move || parse(src, (batch, skip, numbers), tx, spare_rx));
    let mut loaded = Loaded {
        records: 0,
        through: skip,
    };
    let written = write(
        &mut engine,
        &a.dir,
        rx,
        spare_tx,
        &mut progress,
        &mut loaded,
    );
    let parsed = parser
        .join()
        .unwrap_or_else(|_| Err(Failure::new("the parsing thread panicked")));
    let failed = match (written, parsed) {
        (Ok(()), Ok(bad)) if bad.count > 0 && !a.skip_bad => {
            // The check found none: the file changed between the two passes.
            progress.abandon();
            if let Some(engine) = engine {
                open::shut_down(engine)?;
            }
            return Err(Failure::new(format!(
                "{name} changed while it was loaded: {} malformed line{} the check did \
                 not find were skipped, the other {} records loaded",
                thousands(bad.count),
                if bad.count == 1 { "" } else { "s" },
                thousands(loaded.records)
            ))
            .with_details(bad.details()));
        }
        (Ok(()), Ok(bad)) => {
            if loaded.records == 0 {
                progress.abandon(); // (`nothing_loaded` says it)
            } else {
                progress.finish("loaded");
            }
            if let Some(engine) = engine {
                open::shut_down(engine)?;
            }
            if bad.count > 0 {
                eprintln!(
                    "flowdb load: skipped {} malformed line{} of {name}:",
                    thousands(bad.count),
                    if bad.count == 1 { "" } else { "s" }
                );
                for d in bad.details() {
                    eprintln!("  {d}");
                }
            }
            if loaded.records == 0 {
                nothing_loaded(a, opened);
            }
            return Ok(());
        }
        (Err(Stop::Write(e)), _) => Failure::new(format!(
            "writing to {} failed after {} records: {e}",
            a.dir.display(),
            thousands(loaded.records)
        )),
        (Err(Stop::Open(f)), _) => f,
        (Ok(()), Err(f)) => f,
    };
    progress.abandon();
    let mut details = vec![resume_point(loaded.through, skip)];
    if let Some(engine) = engine {
        if let Err(e) = engine.shutdown() {
            details.push(format!("shutting the database down failed too: {e}"));
        }
    }
    Err(failed.with_details(details))
}

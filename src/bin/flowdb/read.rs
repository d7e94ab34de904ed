//! The record readers: `scan`, `get`, `series` and `dump`. Each opens the database
//! read-only and streams what it reads to stdout (or `-o FILE`).

use std::io::{self, BufWriter, Write};
use std::path::Path;

use flowdb::{Engine, ReadOptions, ScanRange};

use crate::args::{Format, RangeArgs, ScanArgs};
use crate::fail::{output_error, Context, Failure};
use crate::keys::{either, shown};
use crate::open;
use crate::output::{json_line, json_str, printable, RecordOut};
use crate::progress::Progress;
use crate::Ui;

/// A key greater than every valid key (keys are at most 64 KiB): the open upper end
/// of `--from-key` without `--to-key`.
fn past_every_key() -> Vec<u8> {
    vec![0xff; flowdb::MAX_KEY_LEN + 1]
}

fn time_arg(text: Option<&str>, name: &str, none: i64) -> Result<i64, Failure> {
    match text {
        None => Ok(none),
        Some(t) => crate::time::parse(t).map_err(|e| Failure::new(format!("{name}: {e}"))),
    }
}

/// The scan's range from its arguments.
fn range(a: &ScanArgs) -> Result<ScanRange, Failure> {
    let mut r = key_time_range(&a.range)?;
    if a.reverse {
        r = r.reverse();
    }
    if let Some(n) = a.limit {
        r = r.limit(n);
    }
    Ok(r)
}

/// A range from `--prefix`, or `--from-key`/`--to-key` (each as text or its `-b64`
/// twin), and `--from`/`--to`, as `scan`, `aggregate` and `export` take them.
pub fn key_time_range(a: &RangeArgs) -> Result<ScanRange, Failure> {
    let prefix = either(a.prefix.as_deref(), a.prefix_b64.as_ref());
    let from = either(a.from_key.as_deref(), a.from_key_b64.as_ref());
    let to = either(a.to_key.as_deref(), a.to_key_b64.as_ref());
    let mut r = match (prefix, from, to) {
        (Some(p), _, _) => ScanRange::prefix_bytes(p),
        (None, None, None) => ScanRange::all(),
        (None, from, to) => {
            let start = from.unwrap_or(b"");
            let end = match to {
                Some(t) => t.to_vec(),
                None => past_every_key(),
            };
            ScanRange::key_range_bytes(start, &end)
        }
    };
    if a.from.is_some() || a.to.is_some() {
        let lo = time_arg(a.from.as_deref(), "--from", i64::MIN)?;
        let hi = time_arg(a.to.as_deref(), "--to", i64::MAX)?;
        r = r.with_time_range(lo, hi);
    }
    Ok(r)
}

fn stdout() -> BufWriter<io::StdoutLock<'static>> {
    BufWriter::with_capacity(1 << 16, io::stdout().lock())
}

pub fn scan(a: &ScanArgs) -> Result<(), Failure> {
    let range = range(a)?;
    let engine = open::read_only(&a.dir)?;
    let mut out = RecordOut::new(a.format, stdout()).map_err(|e| output_error(e, "stdout"))?;
    let mut records = engine.scan(range)?;
    while let Some(r) = records.next() {
        let r = r.context(|| format!("scanning {}", a.dir.display()))?;
        out.write(&r, records.is_point())
            .map_err(|e| output_error(e, "stdout"))?;
    }
    out.finish().map_err(|e| output_error(e, "stdout"))
}

pub fn get(dir: &Path, key: &[u8], ts: Option<&str>, format: Format) -> Result<(), Failure> {
    let at = ts.map(|t| time_arg(Some(t), "TS", 0)).transpose()?;
    let engine = open::read_only(dir)?;
    let found = match at {
        Some(ts) => engine.get_bytes(key, ts, &ReadOptions::default())?,
        None => engine.get_latest_bytes(key)?,
    };
    let Some(r) = found else {
        return Err(Failure::new(match at {
            Some(ts) => format!("no record with key {} at ts {ts}", shown(key)),
            None => format!("no record with key {}", shown(key)),
        }));
    };
    // Whether it is a numeric point: `get` does not tell, a scan of it does (so the
    // output marks it, as `scan`'s, and loads back as a point).
    let mut one = engine.scan(ScanRange::key_range_bytes(key, key).with_time_range(r.ts, r.ts))?;
    let point = matches!(one.next(), Some(Ok(_))) && one.is_point();
    let mut out = RecordOut::new(format, stdout()).map_err(|e| output_error(e, "stdout"))?;
    out.write(&r, point)
        .map_err(|e| output_error(e, "stdout"))?;
    out.finish().map_err(|e| output_error(e, "stdout"))
}

/// Series listed a page at a time (so a database of millions of keys streams).
const SERIES_PAGE: usize = 10_000;

fn each_series(
    engine: &Engine,
    prefix: &[u8],
    mut f: impl FnMut(&flowdb::SeriesInfo) -> io::Result<()>,
) -> Result<(), Failure> {
    let mut after: Vec<u8> = Vec::new();
    loop {
        let page = engine.series_page(prefix, &after, SERIES_PAGE)?;
        for s in &page {
            f(s).map_err(|e| output_error(e, "stdout"))?;
        }
        match page.last() {
            Some(last) if page.len() == SERIES_PAGE => after = last.key.clone(),
            _ => return Ok(()),
        }
    }
}

pub fn series(dir: &Path, prefix: &[u8], json: bool) -> Result<(), Failure> {
    let engine = open::read_only(dir)?;
    let mut out = stdout();
    let mut n = 0u64;
    if json {
        let mut buf = Vec::new();
        out.write_all(b"[").map_err(|e| output_error(e, "stdout"))?;
        each_series(&engine, prefix, |s| {
            buf.clear();
            if n > 0 {
                buf.push(b',');
            }
            buf.extend_from_slice(b"\n  {");
            key_field(&mut buf, &s.key);
            let rest = format!(
                ",\"points\":{},\"first_ts\":{},\"last_ts\":{}}}",
                s.points, s.first_ts, s.last_ts
            );
            buf.extend_from_slice(rest.as_bytes());
            n += 1;
            out.write_all(&buf)
        })?;
        let end: &[u8] = if n > 0 { b"\n]\n" } else { b"]\n" };
        out.write_all(end).map_err(|e| output_error(e, "stdout"))?;
    } else {
        each_series(&engine, prefix, |s| {
            if n == 0 {
                writeln!(
                    out,
                    "{:<40}  {:>13}  {:<27}  LAST",
                    "KEY", "POINTS (est.)", "FIRST"
                )?;
            }
            n += 1;
            let t = |ts| crate::time::format(ts).unwrap_or_else(|| ts.to_string());
            writeln!(
                out,
                "{:<40}  {:>13}  {:<27}  {}",
                printable(&s.key, 200),
                s.points,
                t(s.first_ts),
                t(s.last_ts)
            )
        })?;
        if n == 0 {
            eprintln!("flowdb series: no series under {}", shown(prefix));
        }
    }
    out.flush().map_err(|e| output_error(e, "stdout"))
}

/// `"key":"text"`, or `"key_b64":"..."` for a key that is not UTF-8.
pub fn key_field(buf: &mut Vec<u8>, key: &[u8]) {
    match std::str::from_utf8(key) {
        Ok(s) => {
            buf.extend_from_slice(b"\"key\":");
            json_str(buf, s);
        }
        Err(_) => {
            use base64::Engine as _;
            let b = base64::engine::general_purpose::STANDARD.encode(key);
            buf.extend_from_slice(b"\"key_b64\":");
            json_str(buf, &b);
        }
    }
}

pub fn dump(
    dir: &Path,
    prefix: Option<&[u8]>,
    output: Option<&Path>,
    ui: Ui,
) -> Result<(), Failure> {
    let engine = open::read_only(dir)?;
    let range = match prefix {
        Some(p) => ScanRange::prefix_bytes(p),
        None => ScanRange::all(),
    };
    let mut progress = Progress::new(ui, "dump", "records", None);
    let n = match output {
        Some(p) => crate::export::to_file(p, |f| {
            let name = p.display().to_string();
            dump_to(
                &engine,
                dir,
                range,
                &mut BufWriter::with_capacity(1 << 16, f),
                &name,
                &mut progress,
            )
        })?,
        None => dump_to(&engine, dir, range, &mut stdout(), "stdout", &mut progress)?,
    };
    progress.set(n, None);
    progress.finish("dumped");
    Ok(())
}

/// `dump`'s lines of `range` into `out` (named `name` in errors); the count.
fn dump_to(
    engine: &flowdb::Engine,
    dir: &Path,
    range: ScanRange,
    out: &mut dyn Write,
    name: &str,
    progress: &mut Progress,
) -> Result<u64, Failure> {
    let mut buf = Vec::with_capacity(1 << 16);
    let mut n = 0u64;
    let mut records = engine.scan(range)?;
    while let Some(r) = records.next() {
        let r = r.context(|| format!("reading {}", dir.display()))?;
        json_line(&mut buf, &r, records.is_point());
        n += 1;
        if buf.len() >= 1 << 16 {
            out.write_all(&buf).map_err(|e| output_error(e, name))?;
            buf.clear();
        }
        if n & 0xffff == 0 {
            progress.set(n, None);
        }
    }
    out.write_all(&buf).map_err(|e| output_error(e, name))?;
    out.flush().map_err(|e| output_error(e, name))?;
    Ok(n)
}

//! `flowdb docs DIR import STORE FILE`: documents from a JSON lines file, one a line,
//! in read-write transactions of `--batch` documents.
//!
//! As `load`: all or nothing for malformed lines (not JSON, or not an object where the
//! store keeps its keys in the document), checked in a first pass unless
//! `--skip-bad`. A document the store refuses when it is put (no key and no key
//! generator, an invalid key, a duplicate in a unique index) stops the import with the
//! resume point, since only the writes tell; with `--skip-bad` it is reported and
//! skipped like a malformed line.

use std::fs::File;
use std::path::Path;

use flowdb::jsondb::{JsonDB, KeyPath, Transaction, TransactionMode};
use serde_json::Value;

use crate::docs::shut_down;
use crate::fail::{Context, Failure};
use crate::input::Lines;
use crate::load::BadLines;
use crate::open::{self, Writer};
use crate::progress::{thousands, Progress};
use crate::Ui;

#[derive(Debug)]
pub struct Options<'a> {
    pub store: &'a str,
    pub file: &'a Path,
    pub batch: usize,
    pub skip_bad: bool,
    pub skip_lines: u64,
}

/// How a store takes its documents from lines.
#[derive(Clone, Copy)]
enum Shape {
    /// Its key path is inside the document: a line is an object.
    Object,
    /// The empty key path (the value is its own key): any JSON value.
    Any,
    /// Out-of-line keys: `{"key": K, "doc": D}` (what `docs export` writes for such
    /// a store), or with a key generator also any other value, a document.
    Keyed,
}

/// One line as a document, with its key when the line gives one.
fn parse_doc(text: &[u8], shape: Shape) -> Result<(Option<Value>, Value), String> {
    let v: Value = serde_json::from_slice(text).map_err(|e| format!("not JSON: {e}"))?;
    match (shape, v) {
        (Shape::Object, v) if !v.is_object() => {
            Err("not a JSON object (a document of a store with a key path is an object)".into())
        }
        (Shape::Keyed, Value::Object(mut o))
            if o.len() == 2 && o.contains_key("key") && o.contains_key("doc") =>
        {
            let doc = o.remove("doc").unwrap_or_default();
            Ok((o.remove("key"), doc))
        }
        (_, v) => Ok((None, v)),
    }
}

fn open_lines(path: &Path) -> Result<Lines, Failure> {
    let f = File::open(path).context(|| format!("opening {}", path.display()))?;
    Ok(Lines::new(f, path.display().to_string()))
}

/// The first pass: every malformed line.
fn check(o: &Options<'_>, shape: Shape) -> Result<BadLines, Failure> {
    let mut lines = open_lines(o.file)?;
    let mut bad = BadLines::default();
    while let Some((line, text)) = lines.next_line()? {
        if line <= o.skip_lines {
            continue;
        }
        if let Err(why) = parse_doc(text, shape) {
            bad.add(line, why);
        }
    }
    Ok(bad)
}

fn resume(through: u64, skip: u64) -> String {
    if through > skip {
        format!(
            "lines 1..{through} are imported; rerun with --skip-lines {through} to import the rest"
        )
    } else if skip > 0 {
        format!("nothing more was imported; rerun with --skip-lines {skip}")
    } else {
        "nothing was imported".to_string()
    }
}

fn commit(tx: Transaction<'_>, first: u64, last: u64) -> Result<(), Failure> {
    tx.commit().map_err(|e| {
        Failure::new(format!(
            "committing the documents of lines {first}..{last} failed: {e}"
        ))
    })
}

/// The import pass. `through`: documents on lines up to it are committed.
fn import(
    db: &JsonDB,
    o: &Options<'_>,
    shape: Shape,
    progress: &mut Progress,
    bad: &mut BadLines,
    through: &mut u64,
) -> Result<u64, Failure> {
    let mut lines = open_lines(o.file)?;
    let mut tx: Option<Transaction<'_>> = None;
    let (mut pending, mut last_line, mut imported) = (0usize, 0u64, 0u64);
    while let Some((line, text)) = lines.next_line()? {
        if line <= o.skip_lines {
            continue;
        }
        let (key, doc) = match parse_doc(text, shape) {
            Ok(d) => d,
            Err(why) if o.skip_bad => {
                bad.add(line, why);
                continue;
            }
            Err(why) => {
                return Err(Failure::new(format!(
                    "{}: line {line}: {why}",
                    o.file.display()
                )))
            }
        };
        let t = match &mut tx {
            Some(t) => t,
            None => tx.insert(db.transaction(&[o.store], TransactionMode::ReadWrite)?),
        };
        let put = match &key {
            Some(k) => t.put_with_key(o.store, doc, k),
            None => t.put(o.store, doc),
        };
        match put {
            Ok(_) => {
                pending += 1;
                last_line = line;
            }
            Err(e) if o.skip_bad => bad.add(line, e.to_string()),
            Err(e) => {
                return Err(Failure::new(format!(
                    "{}: line {line}: store {:?} refused the document: {e}",
                    o.file.display(),
                    o.store
                )))
            }
        }
        if pending == o.batch {
            if let Some(t) = tx.take() {
                commit(t, *through + 1, last_line)?;
            }
            imported += pending as u64;
            pending = 0;
            *through = last_line;
            progress.set(imported, Some(lines.position()));
        }
    }
    if let Some(t) = tx.take() {
        commit(t, *through + 1, last_line)?;
        imported += pending as u64;
        if pending > 0 {
            *through = last_line;
        }
    }
    progress.set(imported, Some(lines.position()));
    Ok(imported)
}

pub fn run(dir: &Path, o: &Options<'_>, ui: Ui) -> Result<(), Failure> {
    crate::load::readable_twice(o.file, o.skip_bad)?;
    let size = std::fs::metadata(o.file)
        .context(|| o.file.display().to_string())?
        .len();
    // (The store must exist: so must the database.)
    let db = open::docs_read_write(dir, Writer::Existing("docs import", "JsonDB::put"))?;
    let Some(def) = db.get_store(o.store) else {
        shut_down(db, dir)?;
        return Err(Failure::new(format!(
            "no object store {:?} in {} (create it first: flowdb docs DIR create-store)",
            o.store,
            dir.display()
        )));
    };
    // Only a key path inside the document needs an object: with the empty path (the
    // value is its own key) any JSON value is a document; with none (out-of-line
    // keys) a line gives its key beside it, or its store generates one.
    let shape = match KeyPath::parse(&def.key_path) {
        Ok(KeyPath::None) => Shape::Keyed,
        _ if def.key_path.is_empty() => Shape::Any,
        _ => Shape::Object,
    };
    if !o.skip_bad {
        let bad = match check(o, shape) {
            Ok(b) => b,
            Err(f) => {
                let _ = db.shutdown();
                return Err(f);
            }
        };
        if bad.count > 0 {
            shut_down(db, dir)?;
            return Err(Failure::new(format!(
                "{}: {} malformed line{}; nothing was imported (--skip-bad imports the \
                 other lines)",
                o.file.display(),
                thousands(bad.count),
                if bad.count == 1 { "" } else { "s" }
            ))
            .with_details(bad.details()));
        }
    }
    let mut progress = Progress::new(ui, "import", "documents", Some(size));
    let mut bad = BadLines::default();
    let mut through = o.skip_lines;
    let result = import(&db, o, shape, &mut progress, &mut bad, &mut through);
    match result {
        Ok(imported) => {
            if imported == 0 {
                progress.abandon(); // (the line below says it)
            } else {
                progress.finish("imported");
            }
            shut_down(db, dir)?;
            if bad.count > 0 {
                eprintln!(
                    "flowdb import: skipped {} line{} of {}:",
                    thousands(bad.count),
                    if bad.count == 1 { "" } else { "s" },
                    o.file.display()
                );
                for d in bad.details() {
                    eprintln!("  {d}");
                }
            }
            if imported == 0 {
                // As `load` says it (exit status 0 all the same).
                let past = match o.skip_lines {
                    0 => String::new(),
                    n => format!(" past line {n}"),
                };
                eprintln!(
                    "flowdb import: no documents to import in {}{past}; store {:?} is as it was",
                    o.file.display(),
                    o.store
                );
            }
            Ok(())
        }
        Err(f) => {
            progress.abandon();
            let mut details = vec![resume(through, o.skip_lines)];
            if let Err(e) = db.shutdown() {
                details.push(format!("shutting the database down failed too: {e}"));
            }
            Err(f.with_details(details))
        }
    }
}

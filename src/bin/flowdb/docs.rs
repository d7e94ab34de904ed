//! `flowdb docs`: the JSON document layer. Reads (`stores`, `get`, `query`, `export`)
//! open the database read-only; writes (`put`, `delete`, `import`, `create-store`,
//! `create-index`) open it read-write and shut it down at the end. Documents go out
//! as JSON lines, compact, one document a line (or, for `export --format parquet`,
//! as a Parquet file: `export.rs`).

use std::io::{self, BufWriter, Write};
use std::path::Path;

use flowdb::jsondb::{
    encode_key, Direction, IndexSchema, JsonDB, KeyPath, KeyRange, StoreSchema, Transaction,
    TransactionMode,
};
use serde_json::{json, Value};

use crate::args::{DocsCommand, DocsFormat};
use crate::fail::{output_error, Context, Failure};
use crate::open::{self, Writer};
use crate::progress::{thousands, Progress};
use crate::Ui;

/// A key or index value from the command line: JSON, or else the text as a string.
pub fn key_arg(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

/// Shuts a read-write document database down; its writes are durable after `Ok`.
pub fn shut_down(db: JsonDB, dir: &Path) -> Result<(), Failure> {
    db.shutdown()
        .map_err(|e| Failure::new(format!("shutting down {}: {e}", dir.display())))
}

/// Runs `f` on the read-write database, then shuts it down (also after a failure).
/// Only `create-store` makes a database; the other writes need a store in an
/// existing one (a mistyped directory is an error, not a new empty database).
fn writing<T>(
    dir: &Path,
    cmd: &str,
    f: impl FnOnce(&JsonDB) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let how = match cmd {
        "docs create-store" => Writer::Create(cmd),
        _ => Writer::Existing(cmd, "the JsonDB method"),
    };
    let db = open::docs_read_write(dir, how)?;
    let out = f(&db);
    let closed = shut_down(db, dir);
    let out = out?;
    closed?;
    Ok(out)
}

fn stdout() -> BufWriter<io::StdoutLock<'static>> {
    BufWriter::with_capacity(1 << 16, io::stdout().lock())
}

/// Writes documents (values) as JSON lines.
fn print_docs(docs: &[Value]) -> Result<(), Failure> {
    let mut out = stdout();
    for d in docs {
        serde_json::to_writer(&mut out, d)
            .map_err(io::Error::from)
            .and_then(|()| out.write_all(b"\n"))
            .map_err(|e| output_error(e, "stdout"))?;
    }
    out.flush().map_err(|e| output_error(e, "stdout"))
}

pub fn run(dir: &Path, cmd: DocsCommand, ui: Ui) -> Result<(), Failure> {
    match cmd {
        DocsCommand::Stores { json, count } => stores(dir, json, count),
        DocsCommand::Get { store, key } => {
            let db = open::docs_read_only(dir)?;
            let key = key_arg(&key);
            match db.get(&store, &key)? {
                Some(doc) => print_docs(&[doc]),
                None => Err(Failure::new(format!(
                    "no document with key {key} in store {store:?}"
                ))),
            }
        }
        DocsCommand::Put { store, json } => {
            let doc: Value =
                serde_json::from_str(&json).context(|| "the document is not JSON".to_string())?;
            let key = writing(dir, "docs put", |db| Ok(db.put(&store, doc)?))?;
            println!("{key}");
            Ok(())
        }
        DocsCommand::Delete { store, key } => {
            let key = key_arg(&key);
            writing(dir, "docs delete", |db| Ok(db.delete(&store, &key)?))
        }
        DocsCommand::Query {
            store,
            index,
            eq,
            from,
            to,
            reverse,
            limit,
        } => {
            let db = open::docs_read_only(dir)?;
            let range = match eq {
                Some(v) => Lookup::Eq(key_arg(&v)),
                None => {
                    let (lo, hi) = (from.as_deref().map(key_arg), to.as_deref().map(key_arg));
                    Lookup::Range(match (&lo, &hi) {
                        (Some(l), Some(h)) => KeyRange::bound(l, h, false, false)?,
                        (Some(l), None) => KeyRange::lower_bound(l, false)?,
                        (None, Some(h)) => KeyRange::upper_bound(h, false)?,
                        (None, None) => KeyRange::all(),
                    })
                }
            };
            query(&db, &store, &index, range, reverse, limit)
        }
        DocsCommand::Import {
            store,
            file,
            batch,
            skip_bad,
            skip_lines,
        } => crate::docs_import::run(
            dir,
            &crate::docs_import::Options {
                store: &store,
                file: &file,
                batch: batch as usize,
                skip_bad,
                skip_lines,
            },
            ui,
        ),
        DocsCommand::Export {
            store,
            out,
            output,
            format,
            parquet,
        } => {
            let out = out.or(output);
            match format {
                DocsFormat::Jsonl => export(dir, &store, out.as_deref(), ui),
                DocsFormat::Parquet => {
                    let Some(out) = out else {
                        return Err(Failure::new(
                            "docs export --format parquet needs an output file (OUT or -o FILE)",
                        ));
                    };
                    crate::export::store(dir, &store, &out, &parquet, ui)
                }
            }
        }
        DocsCommand::CreateStore {
            store,
            key_path,
            auto_increment,
        } => writing(dir, "docs create-store", |db| {
            let schema =
                StoreSchema::new(store.as_str(), key_path.as_str()).auto_increment(auto_increment);
            Ok(db.create_store(&schema)?)
        }),
        DocsCommand::CreateIndex {
            store,
            name,
            key_path,
            unique,
            multi_entry,
        } => writing(dir, "docs create-index", |db| {
            let paths: Vec<&str> = key_path.split(',').map(str::trim).collect();
            let schema = if paths.len() == 1 {
                IndexSchema::new(name.as_str(), paths[0])
            } else {
                IndexSchema::compound(name.as_str(), &paths)
            };
            Ok(db.create_index_with(&store, &schema.unique(unique).multi_entry(multi_entry))?)
        }),
    }
}

/// What `docs query` reads of an index.
enum Lookup {
    /// Index keys equal to this (`--eq`), as `JsonDB::get_by_index` takes it.
    Eq(Value),
    /// Index keys in this range (`--from`/`--to`, or all).
    Range(KeyRange),
}

/// `docs query`: the documents of an index lookup, streamed: a cursor in one
/// read-only transaction reads them a batch at a time, and each is printed as it
/// comes, so memory does not grow with the result (they were collected first, then
/// printed). The documents, their order and their lines are those
/// `JsonDB::get_by_index` (turned round for `--reverse`) and `JsonDB::index_query`
/// give; `--limit` stops the reading.
fn query(
    db: &JsonDB,
    store: &str,
    index: &str,
    lookup: Lookup,
    reverse: bool,
    limit: Option<usize>,
) -> Result<(), Failure> {
    let dir = match reverse {
        false => Direction::Next,
        true => Direction::Prev,
    };
    let mut tx = db.transaction(&[store], TransactionMode::ReadOnly)?;
    let (range, begins) = match lookup {
        Lookup::Range(r) => (r, None),
        Lookup::Eq(v) => eq_range(db, &mut tx, store, index, &v, reverse)?,
    };
    let mut cursor = tx.open_index_cursor(store, index, &range, dir)?;
    let mut out = stdout();
    let mut n = 0usize;
    while limit.map_or(true, |l| n < l) {
        let Some(key) = cursor.key() else {
            break; // past the last
        };
        if let Some(b) = &begins {
            if !encode_key(key)?.starts_with(b) {
                break;
            }
        }
        let Some(doc) = cursor.value()? else {
            break;
        };
        serde_json::to_writer(&mut out, &doc)
            .map_err(io::Error::from)
            .and_then(|()| out.write_all(b"\n"))
            .map_err(|e| output_error(e, "stdout"))?;
        n += 1;
        if !cursor.continue_()? {
            break;
        }
    }
    out.flush().map_err(|e| output_error(e, "stdout"))
}

/// The range of `--eq value` on `index` (`get_by_index`'s): the one key `value`, or,
/// on a compound index, every key beginning with the components `value` gives when
/// it has fewer (a scalar is one). Such a prefix is no `KeyRange` of the public API:
/// forwards, the range starts at the prefix (an array sorts before every longer one
/// it begins) and the walk stops at the first key whose encoding does not begin
/// with the prefix's (returned); backwards, a first walk over the keys alone finds
/// the last key that begins so, which closes the range.
fn eq_range(
    db: &JsonDB,
    tx: &mut Transaction<'_>,
    store: &str,
    index: &str,
    value: &Value,
    reverse: bool,
) -> Result<(KeyRange, Option<Vec<u8>>), Failure> {
    let arity = db.get_store(store).and_then(|s| {
        let i = s.indexes.iter().find(|i| i.name == index)?;
        Some(i.key_paths.len())
    });
    let Some(arity) = arity else {
        // No such index: the library's own error, as the lookup gave it.
        tx.open_index_key_cursor(store, index, &KeyRange::all(), Direction::Next)?;
        return Err(Failure::new(format!(
            "no index {index:?} in store {store:?}"
        )));
    };
    let parts = match value {
        _ if arity < 2 => return Ok((KeyRange::only(value)?, None)),
        Value::Array(parts) if parts.len() >= arity => {
            return Ok((KeyRange::only(value)?, None));
        }
        Value::Array(parts) => parts.clone(),
        scalar => vec![scalar.clone()],
    };
    let first = Value::Array(parts);
    let from = KeyRange::lower_bound(&first, false)?;
    let mut begins = encode_key(&first)?;
    begins.pop(); // the array's end byte
    if !reverse {
        return Ok((from, Some(begins)));
    }
    let mut last = None;
    let mut keys = tx.open_index_key_cursor(store, index, &from, Direction::Next)?;
    while let Some(key) = keys.key() {
        if !encode_key(key)?.starts_with(&begins) {
            break;
        }
        last = Some(key.clone());
        if !keys.continue_()? {
            break;
        }
    }
    // Nothing begins so: the empty range [first, first) of the same lookup.
    let range = match &last {
        Some(last) => KeyRange::bound(&first, last, false, false)?,
        None => KeyRange::bound(&first, &first, false, true)?,
    };
    Ok((range, None))
}

fn stores(dir: &Path, as_json: bool, count: bool) -> Result<(), Failure> {
    let db = open::docs_read_only(dir)?;
    let mut list = Vec::new();
    for name in db.store_names() {
        let Some(def) = db.get_store(&name) else {
            continue;
        };
        let n = if count { Some(db.count(&name)?) } else { None };
        list.push((def, n));
    }
    let mut out = stdout();
    let written = if as_json {
        let v: Vec<Value> = list
            .iter()
            .map(|(def, n)| {
                let mut v = json!(def);
                if let (Some(n), Some(o)) = (n, v.as_object_mut()) {
                    o.insert("count".into(), json!(n));
                }
                v
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &v)
            .map_err(io::Error::from)
            .and_then(|()| writeln!(out))
    } else {
        (|| {
            if list.is_empty() {
                writeln!(out, "no object stores in {}", dir.display())?;
            }
            for (def, n) in &list {
                write!(out, "{}  key path {:?}", def.name, def.key_path)?;
                if def.auto_increment {
                    write!(out, ", key generator (next key {})", def.next_auto_id)?;
                }
                if let Some(n) = n {
                    write!(out, ", {} documents", thousands(*n as u64))?;
                }
                writeln!(out)?;
                for i in &def.indexes {
                    let mut flags = Vec::new();
                    if i.unique {
                        flags.push("unique");
                    }
                    if i.multi_entry {
                        flags.push("multi-entry");
                    }
                    writeln!(
                        out,
                        "  index {}  on {}{}",
                        i.name,
                        i.key_paths.join(", "),
                        if flags.is_empty() {
                            String::new()
                        } else {
                            format!("  ({})", flags.join(", "))
                        }
                    )?;
                }
            }
            Ok(())
        })()
    };
    written
        .and_then(|()| out.flush())
        .map_err(|e| output_error(e, "stdout"))
}

fn export(dir: &Path, store: &str, output: Option<&Path>, ui: Ui) -> Result<(), Failure> {
    let db = open::docs_read_only(dir)?;
    // Before any output is made: an export of a store that is not there must leave
    // an existing file alone.
    if db.get_store(store).is_none() {
        return Err(Failure::new(format!(
            "no object store {store:?} in {}",
            dir.display()
        )));
    }
    // A store with out-of-line keys: each document's key beside it, or an import
    // could not put it back under its key.
    let keyed = db
        .get_store(store)
        .is_some_and(|d| matches!(KeyPath::parse(&d.key_path), Ok(KeyPath::None)));
    let mut progress = Progress::new(ui, "export", "documents", None);
    let n = match output {
        Some(p) => crate::export::to_file(p, |f| {
            let name = p.display().to_string();
            let out = &mut BufWriter::with_capacity(1 << 16, f);
            export_to(&db, store, keyed, out, &name, &mut progress)
        })?,
        None => export_to(&db, store, keyed, &mut stdout(), "stdout", &mut progress)?,
    };
    progress.set(n, None);
    progress.finish("exported");
    Ok(())
}

/// The documents of `store` as JSON lines into `out` (named `name` in errors): one
/// snapshot, the store as of one moment, streamed (each document written as its
/// stored text, not parsed), so memory does not grow with the store; `keyed`: each
/// as `{"key":K,"doc":D}`. The count.
fn export_to(
    db: &JsonDB,
    store: &str,
    keyed: bool,
    out: &mut dyn Write,
    name: &str,
    progress: &mut Progress,
) -> Result<u64, Failure> {
    let mut n = 0u64;
    let mut failed = None;
    db.visit_store(store, |key, doc| {
        let written = match keyed {
            false => out.write_all(doc),
            true => (|| {
                out.write_all(b"{\"key\":")?;
                serde_json::to_writer(&mut *out, key)?;
                out.write_all(b",\"doc\":")?;
                out.write_all(doc)?;
                out.write_all(b"}")
            })(),
        }
        .and_then(|()| out.write_all(b"\n"));
        if let Err(e) = written {
            failed = Some(e);
            return Ok(false);
        }
        n += 1;
        if n & 0xffff == 0 {
            progress.set(n, None);
        }
        Ok(true)
    })?;
    if let Some(e) = failed {
        return Err(output_error(e, name));
    }
    out.flush().map_err(|e| output_error(e, name))?;
    Ok(n)
}

//! `flowdb stats`: every `EngineStats` field with its meaning, and the table layout
//! (`Engine::tables`), as text or one JSON document.

use std::io::{self, Write};
use std::path::Path;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use flowdb::engine::TableInfo;
use flowdb::stats::{StatField, StatValue};
use serde_json::{json, Map, Value};

use crate::fail::{output_error, Failure};
use crate::open;
use crate::output::printable;
use crate::progress::thousands;

fn stat_json(v: StatValue) -> Value {
    match v {
        StatValue::U64(n) => json!(n),
        StatValue::F64(x) => json!(x),
    }
}

fn stat_text(v: StatValue) -> String {
    match v {
        StatValue::U64(n) => thousands(n),
        StatValue::F64(x) => format!("{x:.3}"),
    }
}

/// A key as JSON fields: `name` when UTF-8, else `name_b64`.
fn key_json(obj: &mut Map<String, Value>, name: &str, key: &[u8]) {
    match std::str::from_utf8(key) {
        Ok(s) => obj.insert(name.into(), json!(s)),
        Err(_) => obj.insert(format!("{name}_b64"), json!(B64.encode(key))),
    };
}

fn table_json(t: &TableInfo) -> Value {
    let mut o = Map::new();
    o.insert("id".into(), json!(t.id));
    o.insert("file".into(), json!(format!("{:06}.sst", t.id)));
    o.insert("level".into(), json!(t.level));
    o.insert("bytes".into(), json!(t.bytes));
    o.insert("entries".into(), json!(t.entries));
    o.insert("tombstones".into(), json!(t.deletes));
    o.insert("min_ts".into(), json!(t.min_ts));
    o.insert("max_ts".into(), json!(t.max_ts));
    key_json(&mut o, "first_key", &t.first_key);
    key_json(&mut o, "last_key", &t.last_key);
    Value::Object(o)
}

fn as_json(dir: &Path, fields: &[StatField], tables: &[TableInfo]) -> Value {
    let stats: Map<String, Value> = fields
        .iter()
        .map(|f| (f.name.to_string(), stat_json(f.value)))
        .collect();
    let docs: Map<String, Value> = fields
        .iter()
        .map(|f| (f.name.to_string(), json!(f.doc.trim())))
        .collect();
    json!({
        "data_dir": dir.display().to_string(),
        "stats": stats,
        "stat_docs": docs,
        "tables": tables.iter().map(table_json).collect::<Vec<_>>(),
    })
}

fn human(
    out: &mut impl Write,
    dir: &Path,
    fields: &[StatField],
    tables: &[TableInfo],
) -> io::Result<()> {
    writeln!(
        out,
        "Engine stats of {} (a read-only view: counters count since this view opened)",
        dir.display()
    )?;
    let width = fields.iter().map(|f| f.name.len()).max().unwrap_or(0);
    for f in fields {
        writeln!(
            out,
            "  {:<width$}  {:>14}  {}",
            f.name,
            stat_text(f.value),
            f.doc.trim()
        )?;
    }
    let bytes: u64 = tables.iter().map(|t| t.bytes).sum();
    writeln!(
        out,
        "\nTables: {} ({} bytes), newest first",
        tables.len(),
        thousands(bytes)
    )?;
    if tables.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "  {:<10}  {:>5}  {:>14}  {:>12}  {:>10}  {:<20}  {:<20}  KEYS",
        "FILE", "LEVEL", "BYTES", "ENTRIES", "TOMBSTONES", "MIN TS", "MAX TS"
    )?;
    for t in tables {
        writeln!(
            out,
            "  {:<10}  {:>5}  {:>14}  {:>12}  {:>10}  {:<20}  {:<20}  {} .. {}",
            format!("{:06}.sst", t.id),
            t.level,
            thousands(t.bytes),
            thousands(t.entries),
            thousands(t.deletes),
            t.min_ts,
            t.max_ts,
            printable(&t.first_key, 40),
            printable(&t.last_key, 40)
        )?;
    }
    Ok(())
}

pub fn run(dir: &Path, json: bool) -> Result<(), Failure> {
    let engine = open::read_only(dir)?;
    let fields = engine.stats().fields();
    let tables = engine.tables()?;
    let mut out = io::stdout().lock();
    let written = if json {
        serde_json::to_writer_pretty(&mut out, &as_json(dir, &fields, &tables))
            .map_err(io::Error::from)
            .and_then(|()| writeln!(out))
    } else {
        human(&mut out, dir, &fields, &tables)
    };
    written
        .and_then(|()| out.flush())
        .map_err(|e| output_error(e, "stdout"))
}

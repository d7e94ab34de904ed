//! Records out: JSON lines (the dump format), CSV and a table for reading.
//!
//! JSON lines: `{"key":..,"ts":..,"value":..}`, `"expire_at"` added only when the
//! record expires and `"point":true` when it is a numeric point (docs/numeric.md); a key or value that is not UTF-8 is written as `"key_b64"` /
//! `"value_b64"` (standard base64), so the line is always valid JSON and `load` reads
//! the bytes back exactly. CSV: `key,ts,value,expire_at,point`, fields as their raw
//! bytes (quoted when needed: `load` reads them back exactly), expire_at empty when
//! the record never expires, point `true` for a numeric point.

use std::fmt::Write as _;
use std::io::{self, Write};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use flowdb::{Record, NEVER_EXPIRES};

use crate::args::Format;

/// Appends `s` as a JSON string (quoted, escaped).
pub fn json_str(buf: &mut Vec<u8>, s: &str) {
    buf.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &c) in bytes.iter().enumerate() {
        let esc: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        buf.extend_from_slice(&bytes[start..i]);
        if esc.is_empty() {
            let _ = write!(Bytes(buf), "\\u{c:04x}");
        } else {
            buf.extend_from_slice(esc);
        }
        start = i + 1;
    }
    buf.extend_from_slice(&bytes[start..]);
    buf.push(b'"');
}

/// `fmt::Write` into a byte buffer.
struct Bytes<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Bytes<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// Appends `"name":"text"`, or `"name_b64":"base64"` for bytes that are not UTF-8.
fn bytes_field(buf: &mut Vec<u8>, name: &str, bytes: &[u8]) {
    buf.push(b'"');
    buf.extend_from_slice(name.as_bytes());
    match std::str::from_utf8(bytes) {
        Ok(s) => {
            buf.extend_from_slice(b"\":");
            json_str(buf, s);
        }
        Err(_) => {
            buf.extend_from_slice(b"_b64\":\"");
            buf.extend_from_slice(B64.encode(bytes).as_bytes());
            buf.push(b'"');
        }
    }
}

/// Appends `r` as one JSON line (with its newline); `point`: it is a numeric point.
pub fn json_line(buf: &mut Vec<u8>, r: &Record, point: bool) {
    buf.push(b'{');
    bytes_field(buf, "key", &r.key);
    let _ = write!(Bytes(buf), ",\"ts\":{},", r.ts);
    bytes_field(buf, "value", &r.value);
    if point {
        buf.extend_from_slice(b",\"point\":true");
    }
    if r.expire_at != NEVER_EXPIRES {
        let _ = write!(Bytes(buf), ",\"expire_at\":{}", r.expire_at);
    }
    buf.extend_from_slice(b"}\n");
}

/// A csv error as the I/O error it wraps (writing to memory or a stream can fail
/// only in I/O).
fn csv_io(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

/// Rows held back by the table form to size its columns.
const TABLE_SAMPLE: usize = 1000;
/// Characters of a value the table form shows.
const TABLE_VALUE_CHARS: usize = 60;

/// Records written in one of the output formats.
pub enum RecordOut<W: Write> {
    Jsonl(W, Vec<u8>),
    Csv(Box<csv::Writer<W>>),
    Table(W, Vec<[String; 4]>, Option<[usize; 3]>),
}

impl<W: Write> RecordOut<W> {
    /// Starts the output (the CSV header).
    pub fn new(format: Format, out: W) -> io::Result<Self> {
        Ok(match format {
            Format::Jsonl => RecordOut::Jsonl(out, Vec::with_capacity(1 << 16)),
            Format::Csv => {
                let mut w = csv::WriterBuilder::new().from_writer(out);
                w.write_record(["key", "ts", "value", "expire_at", "point"])
                    .map_err(csv_io)?;
                RecordOut::Csv(Box::new(w))
            }
            Format::Table => RecordOut::Table(out, Vec::new(), None),
        })
    }

    /// Writes `r`; `point`: it is a numeric point (marked in JSON lines).
    pub fn write(&mut self, r: &Record, point: bool) -> io::Result<()> {
        match self {
            RecordOut::Jsonl(out, buf) => {
                json_line(buf, r, point);
                if buf.len() >= 1 << 16 {
                    out.write_all(buf)?;
                    buf.clear();
                }
                Ok(())
            }
            RecordOut::Csv(w) => {
                let ts = r.ts.to_string();
                let expire = if r.expire_at == NEVER_EXPIRES {
                    String::new()
                } else {
                    r.expire_at.to_string()
                };
                let mark: &[u8] = if point { b"true" } else { b"" };
                let row: [&[u8]; 5] = [&r.key, ts.as_bytes(), &r.value, expire.as_bytes(), mark];
                w.write_record(row).map_err(csv_io)
            }
            RecordOut::Table(out, held, widths) => {
                held.push(table_row(r));
                if widths.is_none() && held.len() >= TABLE_SAMPLE {
                    *widths = Some(table_start(out, held)?);
                }
                if let Some(w) = widths {
                    for row in held.drain(..) {
                        table_line(out, *w, &row)?;
                    }
                }
                Ok(())
            }
        }
    }

    /// Ends the output, writing what is held.
    pub fn finish(self) -> io::Result<()> {
        match self {
            RecordOut::Jsonl(mut out, buf) => {
                out.write_all(&buf)?;
                out.flush()
            }
            RecordOut::Csv(mut w) => w.flush(),
            RecordOut::Table(mut out, mut held, widths) => {
                let w = match widths {
                    Some(w) => w,
                    None => table_start(&mut out, &held)?,
                };
                for row in held.drain(..) {
                    table_line(&mut out, w, &row)?;
                }
                out.flush()
            }
        }
    }
}

/// `bytes` for reading: UTF-8 text with control characters escaped, other bytes as
/// `\xNN`; at most `max` characters, then `…`.
pub fn printable(bytes: &[u8], max: usize) -> String {
    let mut out = String::new();
    let mut shown = 0;
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if shown == max {
                out.push('…');
                return out;
            }
            if c.is_control() {
                let _ = write!(out, "{}", c.escape_default());
            } else {
                out.push(c);
            }
            shown += 1;
        }
        for b in chunk.invalid() {
            if shown == max {
                out.push('…');
                return out;
            }
            let _ = write!(out, "\\x{b:02x}");
            shown += 1;
        }
    }
    out
}

fn time_cell(ts: i64) -> String {
    crate::time::format(ts).unwrap_or_else(|| "-".into())
}

fn table_row(r: &Record) -> [String; 4] {
    let expires = if r.expire_at == NEVER_EXPIRES {
        "-".to_string()
    } else {
        time_cell(r.expire_at)
    };
    [
        printable(&r.key, 200),
        format!("{} {}", r.ts, time_cell(r.ts)),
        expires,
        format!(
            "{} ({} B)",
            printable(&r.value, TABLE_VALUE_CHARS),
            r.value.len()
        ),
    ]
}

const TABLE_HEAD: [&str; 4] = ["KEY", "TS (µs, UTC)", "EXPIRES", "VALUE"];

fn table_start<W: Write>(out: &mut W, rows: &[[String; 4]]) -> io::Result<[usize; 3]> {
    let mut w = [0usize; 3];
    for (i, width) in w.iter_mut().enumerate() {
        *width = rows
            .iter()
            .map(|r| r[i].chars().count())
            .chain([TABLE_HEAD[i].chars().count()])
            .max()
            .unwrap_or(0);
    }
    let head = TABLE_HEAD.map(String::from);
    table_line(out, w, &head)?;
    Ok(w)
}

fn table_line<W: Write>(out: &mut W, w: [usize; 3], row: &[String; 4]) -> io::Result<()> {
    writeln!(
        out,
        "{:<w0$}  {:<w1$}  {:<w2$}  {}",
        row[0],
        row[1],
        row[2],
        row[3],
        w0 = w[0],
        w1 = w[1],
        w2 = w[2]
    )
}

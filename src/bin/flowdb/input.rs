//! Records in: CSV and JSON lines files, read a record at a time (never the whole
//! file), each parsed into a [`Parsed`] view or a reason it is malformed, with the
//! line it starts on. Parsing borrows from the reader's buffers: no allocation per
//! line until a good record is turned into a `Record` to write.
//!
//! CSV: a header naming the columns `key`, `ts`, `value` and optionally `expire_at`
//! and `point`
//! (any order; `key_b64`/`value_b64` instead of `key`/`value` for base64 fields);
//! fields are raw bytes, quoted as CSV quotes. JSON lines: the dump format,
//! `{"key":..,"ts":..,"value":..[,"expire_at":..]}` with `key_b64`/`value_b64` for
//! bytes that are not UTF-8. `ts` and `expire_at` are microseconds or RFC 3339 text;
//! an empty (CSV) or absent (JSON) `expire_at` means never.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use flowdb::{MAX_KEY_LEN, MAX_VALUE_LEN, NEVER_EXPIRES};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use crate::args::InputFormat;
use crate::fail::{Context, Failure};

/// A record as read, borrowing from the reader.
#[derive(Debug)]
pub struct Parsed<'a> {
    pub key: Cow<'a, [u8]>,
    pub ts: i64,
    pub expire_at: i64,
    pub value: Cow<'a, [u8]>,
    /// A numeric point (JSON lines' `"point":true`, or `load --numbers`).
    pub point: bool,
}

/// One record of the input: the line it starts on, and it or why it is malformed.
pub type Item<'a> = (u64, Result<Parsed<'a>, String>);

/// Checks what the engine would refuse, so that a checked file loads whole.
fn checked<'a>(p: Parsed<'a>) -> Result<Parsed<'a>, String> {
    if p.key.is_empty() {
        return Err("the key is empty (keys are 1 byte to 64 KiB)".into());
    }
    if p.key.len() > MAX_KEY_LEN {
        return Err(format!(
            "the key is {} bytes, over the 64 KiB limit",
            p.key.len()
        ));
    }
    if p.value.len() > MAX_VALUE_LEN {
        return Err(format!(
            "the value is {} bytes, over the 64 MiB limit",
            p.value.len()
        ));
    }
    Ok(p)
}

fn b64(field: &str, text: &[u8]) -> Result<Vec<u8>, String> {
    B64.decode(text)
        .map_err(|e| format!("{field} is not standard base64: {e}"))
}

/// A record file being read.
pub enum Source {
    Csv(CsvSource),
    Jsonl(Lines),
}

impl Source {
    pub fn open(path: &Path, format: InputFormat) -> Result<Self, Failure> {
        let file = File::open(path).context(|| format!("opening {}", path.display()))?;
        let name = path.display().to_string();
        Ok(match format {
            InputFormat::Csv => Source::Csv(CsvSource::new(file, name)?),
            InputFormat::Jsonl => Source::Jsonl(Lines::new(file, name)),
        })
    }

    /// The next record; `None` at the end; an error when the file cannot be read.
    pub fn next(&mut self) -> Result<Option<Item<'_>>, Failure> {
        match self {
            Source::Csv(c) => c.next(),
            Source::Jsonl(l) => Ok(l
                .next_line()?
                .map(|(line, text)| (line, parse_json(text).and_then(checked)))),
        }
    }

    /// Bytes of the file read so far.
    pub fn position(&self) -> u64 {
        match self {
            Source::Csv(c) => c.reader.position().byte(),
            Source::Jsonl(l) => l.bytes,
        }
    }
}

/// Where each column is.
#[derive(Debug)]
struct Columns {
    key: (usize, bool),
    ts: usize,
    value: (usize, bool),
    expire_at: Option<usize>,
    /// `point`: `true` marks a numeric point (its value a number's 8 bytes).
    point: Option<usize>,
    count: usize,
    names: String,
}

pub struct CsvSource {
    reader: csv::Reader<BufReader<File>>,
    record: csv::ByteRecord,
    cols: Columns,
    name: String,
}

fn header(reader: &mut csv::Reader<BufReader<File>>, name: &str) -> Result<Columns, Failure> {
    let head = reader
        .byte_headers()
        .context(|| format!("reading the header of {name}"))?
        .clone();
    let bad = |why: String| {
        Failure::new(format!(
            "{name}: line 1: {why} (the header names the columns key, ts, value and \
             optionally expire_at and point; key_b64/value_b64 for base64)"
        ))
    };
    if head.is_empty() || (head.len() == 1 && head[0].is_empty()) {
        return Err(bad("no header".into()));
    }
    let (mut key, mut ts, mut value, mut expire_at, mut point) = (None, None, None, None, None);
    for (i, col) in head.iter().enumerate() {
        let col = String::from_utf8_lossy(col);
        // A byte order mark some editors put first.
        let col = col.trim_start_matches('\u{feff}');
        let slot = match col.trim() {
            "key" => &mut key,
            "key_b64" => &mut key,
            "value" => &mut value,
            "value_b64" => &mut value,
            "ts" => &mut ts,
            "expire_at" => &mut expire_at,
            "point" => &mut point,
            other => return Err(bad(format!("unknown column {other:?}"))),
        };
        if slot.is_some() {
            return Err(bad(format!("column {:?} given twice", col.trim())));
        }
        *slot = Some((i, col.trim().ends_with("_b64")));
    }
    let need =
        |c: Option<(usize, bool)>, what: &str| c.ok_or_else(|| bad(format!("no {what} column")));
    Ok(Columns {
        key: need(key, "key")?,
        ts: need(ts, "ts")?.0,
        value: need(value, "value")?,
        expire_at: expire_at.map(|c| c.0),
        point: point.map(|c| c.0),
        count: head.len(),
        names: head
            .iter()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(","),
    })
}

impl CsvSource {
    fn new(file: File, name: String) -> Result<Self, Failure> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .buffer_capacity(1 << 20)
            .from_reader(BufReader::with_capacity(1 << 20, file));
        let cols = header(&mut reader, &name)?;
        Ok(CsvSource {
            reader,
            record: csv::ByteRecord::new(),
            cols,
            name,
        })
    }

    fn next(&mut self) -> Result<Option<Item<'_>>, Failure> {
        match self.reader.read_byte_record(&mut self.record) {
            Ok(false) => Ok(None),
            Ok(true) => {
                let line = self.record.position().map_or(0, |p| p.line());
                Ok(Some((
                    line,
                    parse_csv(&self.record, &self.cols).and_then(checked),
                )))
            }
            Err(e) if e.is_io_error() => Err(Failure::new(format!("reading {}: {e}", self.name))),
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                Ok(Some((line, Err(e.to_string()))))
            }
        }
    }
}

fn parse_csv<'a>(r: &'a csv::ByteRecord, c: &Columns) -> Result<Parsed<'a>, String> {
    if r.len() != c.count {
        return Err(format!(
            "{} fields, expected {} ({})",
            r.len(),
            c.count,
            c.names
        ));
    }
    let bytes = |(i, base64): (usize, bool), name: &str| -> Result<Cow<'a, [u8]>, String> {
        if base64 {
            b64(&format!("{name}_b64"), &r[i]).map(Cow::Owned)
        } else {
            Ok(Cow::Borrowed(&r[i]))
        }
    };
    let ts = crate::time::parse_bytes(&r[c.ts]).map_err(|e| format!("ts: {e}"))?;
    let expire_at = match c.expire_at.map(|i| &r[i]) {
        None | Some(b"") => NEVER_EXPIRES,
        Some(t) => crate::time::parse_bytes(t).map_err(|e| format!("expire_at: {e}"))?,
    };
    let point = match c.point.map(|i| &r[i]) {
        None | Some(b"") | Some(b"false") => false,
        Some(b"true") => true,
        Some(other) => {
            return Err(format!(
                "point: {:?} is neither true, false nor empty",
                String::from_utf8_lossy(other)
            ))
        }
    };
    let value = bytes(c.value, "value")?;
    if point && value.len() != 8 {
        return Err(format!(
            "a point's value is a number's 8 bytes, not {} bytes",
            value.len()
        ));
    }
    Ok(Parsed {
        key: bytes(c.key, "key")?,
        ts,
        expire_at,
        value,
        point,
    })
}

/// A file read a line at a time into one reused buffer, numbering lines and
/// passing over blank ones.
pub struct Lines {
    reader: BufReader<File>,
    buf: Vec<u8>,
    line: u64,
    bytes: u64,
    name: String,
}

impl Lines {
    pub fn new(file: File, name: String) -> Self {
        Lines {
            reader: BufReader::with_capacity(1 << 20, file),
            buf: Vec::with_capacity(4096),
            line: 0,
            bytes: 0,
            name,
        }
    }

    /// The next line that is not blank, without its line end, and its number.
    pub fn next_line(&mut self) -> Result<Option<(u64, &[u8])>, Failure> {
        loop {
            self.buf.clear();
            let n = self
                .reader
                .read_until(b'\n', &mut self.buf)
                .context(|| format!("reading {}", self.name))?;
            if n == 0 {
                return Ok(None);
            }
            self.line += 1;
            self.bytes += n as u64;
            if !self.buf.iter().all(u8::is_ascii_whitespace) {
                break;
            }
        }
        let mut text = &self.buf[..];
        while let [rest @ .., b'\n' | b'\r'] = text {
            text = rest;
        }
        Ok(Some((self.line, text)))
    }

    pub fn position(&self) -> u64 {
        self.bytes
    }
}

/// A timestamp field: an integer, or RFC 3339 text.
#[derive(Debug)]
struct Ts(i64);

impl<'de> Deserialize<'de> for Ts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Ts;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("microseconds (an integer) or an RFC 3339 time string")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Ts, E> {
                Ok(Ts(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Ts, E> {
                i64::try_from(v)
                    .map(Ts)
                    .map_err(|_| E::custom(format!("{v} is past the largest timestamp")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Ts, E> {
                crate::time::parse(v).map(Ts).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// A string field, borrowed from the line when it holds no escape (serde's own
/// `Cow` inside an `Option` always copies).
#[derive(Debug)]
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonRecord<'a> {
    #[serde(borrow, default)]
    key: Option<Text<'a>>,
    #[serde(borrow, default)]
    key_b64: Option<Text<'a>>,
    ts: Ts,
    #[serde(borrow, default)]
    value: Option<Text<'a>>,
    #[serde(borrow, default)]
    value_b64: Option<Text<'a>>,
    #[serde(default)]
    expire_at: Option<Ts>,
    /// A numeric point (its value the f64's 8 bytes), as `dump` marks one.
    #[serde(default)]
    point: bool,
}

fn text_or_b64<'a>(
    name: &str,
    text: Option<Text<'a>>,
    base64: Option<Text<'a>>,
) -> Result<Cow<'a, [u8]>, String> {
    match (text.map(|t| t.0), base64) {
        (Some(Cow::Borrowed(s)), None) => Ok(Cow::Borrowed(s.as_bytes())),
        (Some(Cow::Owned(s)), None) => Ok(Cow::Owned(s.into_bytes())),
        (None, Some(b)) => b64(&format!("{name}_b64"), b.0.as_bytes()).map(Cow::Owned),
        (Some(_), Some(_)) => Err(format!("both {name} and {name}_b64")),
        (None, None) => Err(format!("missing field `{name}` (or `{name}_b64`)")),
    }
}

fn parse_json(text: &[u8]) -> Result<Parsed<'_>, String> {
    let r: JsonRecord<'_> = serde_json::from_slice(text).map_err(|e| e.to_string())?;
    let value = text_or_b64("value", r.value, r.value_b64)?;
    if r.point && value.len() != 8 {
        return Err(format!(
            "a point's value is a number's 8 bytes, not {} bytes",
            value.len()
        ));
    }
    Ok(Parsed {
        key: text_or_b64("key", r.key, r.key_b64)?,
        ts: r.ts.0,
        expire_at: r.expire_at.map_or(NEVER_EXPIRES, |t| t.0),
        value,
        point: r.point,
    })
}

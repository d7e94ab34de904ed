//! A run: one series' points (`ts`, value) as one byte string, the unit a table
//! block would hold. See the [module doc](super) for the layout.
//!
//! **Codec choice** ([`Choice`]). `Auto` encodes the decimal codec when the run
//! looks decimal (most of 32 sampled values fit an exponent), sizes Gorilla and
//! Chimp exactly without encoding them (one pass of leading/trailing-zero counts;
//! skipped when a 32-value prefix puts them above 1.5 times the decimal result),
//! and writes the smallest, or raw when nothing beats 8 bytes a value.
//! `Exhaustive` encodes every float codec and keeps the smallest. Measured
//! (docs/numeric-codecs.md): `Auto` is within 0.1% of `Exhaustive` on the
//! node_exporter-like, TSBS 2-decimal and recorded workloads and 0.5% on
//! full-precision TSBS (where Chimp128 wins by that much), at 1.6-2 times its
//! encoding speed. Chimp128 stays out of `Auto`: its encoder needs a hash table
//! per run, and it only wins on full-precision noise, by under 1%.

use super::timestamps::{self, TsCodec};
use super::{decimal, ints, xor, Malformed};
use crate::error::{Error, Result};
use crate::util::coding::{put_varint, Decoder};

/// The most points in one run: decoding allocates at most 16 bytes for each, so a
/// corrupt count can cost at most 1 MiB. Callers split longer series.
pub const MAX_RUN_POINTS: usize = 1 << 16;

/// How a run stores its values (the low nibble of the header byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueCodec {
    /// 8 bytes per value: the bound for incompressible runs.
    Raw = 0,
    Gorilla = 1,
    Chimp = 2,
    Chimp128 = 3,
    /// ALP-like: decimal integers through the integer codec, exceptions raw.
    Decimal = 4,
    /// `i64` values through the integer codec ([`encode_run_i64`]).
    Int64 = 5,
}

impl ValueCodec {
    /// The codecs for `f64` values.
    pub const FLOAT: [ValueCodec; 5] = [
        ValueCodec::Raw,
        ValueCodec::Gorilla,
        ValueCodec::Chimp,
        ValueCodec::Chimp128,
        ValueCodec::Decimal,
    ];

    fn from_id(id: u8) -> Option<ValueCodec> {
        Some(match id {
            0 => ValueCodec::Raw,
            1 => ValueCodec::Gorilla,
            2 => ValueCodec::Chimp,
            3 => ValueCodec::Chimp128,
            4 => ValueCodec::Decimal,
            5 => ValueCodec::Int64,
            _ => return None,
        })
    }
}

/// Which value codec [`encode_run_with`] uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    /// Decimal (when the run looks decimal) or Gorilla, whichever is smaller.
    Auto,
    /// Every float codec, keeping the smallest.
    Exhaustive,
    /// This codec (a float codec; not [`ValueCodec::Int64`]).
    Force(ValueCodec),
}

/// A run's header: what [`read_header`] reports without decoding points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunHeader {
    pub count: usize,
    pub ts_codec: TsCodec,
    pub value_codec: ValueCodec,
}

/// Encodes a run with the default choices ([`TsCodec::Packed`], [`Choice::Auto`]).
///
/// # Panics
/// If the slices differ in length or hold more than [`MAX_RUN_POINTS`].
pub fn encode_run(ts: &[i64], vals: &[f64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + vals.len() * 2);
    encode_run_with(ts, vals, TsCodec::Packed, Choice::Auto, &mut out);
    out
}

/// Appends an encoded run to `out` and returns the value codec used.
///
/// # Panics
/// As [`encode_run`], and for `Choice::Force(ValueCodec::Int64)`.
pub fn encode_run_with(
    ts: &[i64],
    vals: &[f64],
    ts_codec: TsCodec,
    choice: Choice,
    out: &mut Vec<u8>,
) -> ValueCodec {
    assert_eq!(ts.len(), vals.len(), "a run needs one value per timestamp");
    let header_at = out.len();
    write_head(ts, ts_codec, out);
    if vals.is_empty() {
        out[header_at] |= ValueCodec::Raw as u8;
        return ValueCodec::Raw;
    }
    let codec = match choice {
        Choice::Force(ValueCodec::Int64) => panic!("i64 values go through encode_run_i64"),
        Choice::Force(c) => {
            encode_values(c, vals, None, out);
            c
        }
        Choice::Auto => auto(vals, out),
        Choice::Exhaustive => {
            // Decimal too when the run does not look decimal (exceptions may pay).
            let e = decimal::choose_exponent(vals).unwrap_or(0);
            smallest(&ValueCodec::FLOAT[1..], vals, Some(e), out)
        }
    };
    out[header_at] |= codec as u8;
    codec
}

/// Writes the header byte (ts codec only; the caller adds the value codec), the
/// count and the timestamp section.
fn write_head(ts: &[i64], ts_codec: TsCodec, out: &mut Vec<u8>) {
    assert!(
        ts.len() <= MAX_RUN_POINTS,
        "a run holds at most {MAX_RUN_POINTS} points"
    );
    out.push((ts_codec as u8) << 4);
    put_varint(out, ts.len() as u64);
    if ts.is_empty() {
        return;
    }
    // The section is written in place and its length put in front of it.
    let at = out.len();
    timestamps::encode(ts_codec, ts, out);
    let mut len = out.len() - at;
    let mut varint = [0u8; 10];
    let mut k = 0;
    while len >= 0x80 {
        varint[k] = len as u8 | 0x80;
        len >>= 7;
        k += 1;
    }
    varint[k] = len as u8;
    out.splice(at..at, varint[..=k].iter().copied());
}

/// [`Choice::Auto`]: the decimal codec when the run looks decimal, against Gorilla
/// and Chimp, whose sizes are computed without encoding; the smallest is written.
fn auto(vals: &[f64], out: &mut Vec<u8>) -> ValueCodec {
    let start = out.len();
    let mut best = (ValueCodec::Raw, vals.len() * 8);
    if let Some(e) = decimal::choose_exponent(vals) {
        decimal::encode(vals, e, out);
        best = (ValueCodec::Decimal, out.len() - start);
    }
    // Size the XOR codecs on a prefix first: where the decimal codec already wrote
    // under two thirds of what they would, the full pass is skipped.
    let sample = &vals[..vals.len().min(32)];
    let xor_at_best = xor::gorilla_size(sample).min(xor::chimp_size(sample));
    if best.0 != ValueCodec::Decimal || 2 * xor_at_best * vals.len() < 3 * best.1 * sample.len() {
        for (codec, size) in [
            (ValueCodec::Gorilla, xor::gorilla_size(vals)),
            (ValueCodec::Chimp, xor::chimp_size(vals)),
        ] {
            if size < best.1 {
                best = (codec, size);
            }
        }
    }
    if best.0 != ValueCodec::Decimal {
        out.truncate(start);
        encode_values(best.0, vals, None, out);
    }
    best.0
}

/// Encodes each candidate and keeps the smallest (raw when none beats it).
fn smallest(cands: &[ValueCodec], vals: &[f64], e: Option<u8>, out: &mut Vec<u8>) -> ValueCodec {
    let start = out.len();
    let mut best = (ValueCodec::Raw, vals.len() * 8);
    let mut scratch = Vec::new();
    for &c in cands {
        scratch.clear();
        encode_values(c, vals, e, &mut scratch);
        if scratch.len() < best.1 {
            best = (c, scratch.len());
            out.truncate(start);
            out.extend_from_slice(&scratch);
        }
    }
    if best.0 == ValueCodec::Raw {
        out.truncate(start);
        encode_values(ValueCodec::Raw, vals, None, out);
    }
    best.0
}

fn encode_values(codec: ValueCodec, vals: &[f64], e: Option<u8>, out: &mut Vec<u8>) {
    match codec {
        ValueCodec::Raw => {
            out.reserve(vals.len() * 8);
            for v in vals {
                out.extend_from_slice(&v.to_bits().to_le_bytes());
            }
        }
        ValueCodec::Gorilla => xor::gorilla_encode(vals, out),
        ValueCodec::Chimp => xor::chimp_encode::<0>(vals, out),
        ValueCodec::Chimp128 => xor::chimp_encode::<7>(vals, out),
        ValueCodec::Decimal => {
            let e = e.or_else(|| decimal::choose_exponent(vals)).unwrap_or(0);
            decimal::encode(vals, e, out);
        }
        ValueCodec::Int64 => unreachable!("not a float codec"),
    }
}

/// Encodes a run of `i64` values (the integer codec, as timestamps).
///
/// # Panics
/// As [`encode_run`].
pub fn encode_run_i64(ts: &[i64], vals: &[i64]) -> Vec<u8> {
    assert_eq!(ts.len(), vals.len(), "a run needs one value per timestamp");
    let mut out = Vec::with_capacity(16 + vals.len() * 2);
    write_head(ts, TsCodec::Packed, &mut out);
    if !vals.is_empty() {
        out[0] |= ValueCodec::Int64 as u8;
        ints::encode(vals, &mut out);
    }
    out
}

/// A run cut into its header and sections.
struct Parts<'a> {
    header: RunHeader,
    ts: &'a [u8],
    ts_at: usize,
    values: &'a [u8],
    values_at: usize,
}

fn corrupt(offset: usize, detail: impl Into<String>) -> Error {
    Error::corruption("numeric run", offset as u64, detail)
}

fn section_error(at: usize) -> impl Fn(Malformed) -> Error {
    move |Malformed(what, detail)| corrupt(at, format!("{what}: {detail}"))
}

fn parse(buf: &[u8]) -> Result<Parts<'_>> {
    let mut d = Decoder::new(buf);
    let head = d.u8().ok_or_else(|| corrupt(0, "empty"))?;
    let value_codec = ValueCodec::from_id(head & 0x0f)
        .ok_or_else(|| corrupt(0, format!("unknown value codec {}", head & 0x0f)))?;
    let ts_codec = TsCodec::from_id(head >> 4)
        .ok_or_else(|| corrupt(0, format!("unknown timestamp codec {}", head >> 4)))?;
    let count = d
        .varint_usize()
        .ok_or_else(|| corrupt(1, "truncated count"))?;
    if count > MAX_RUN_POINTS {
        return Err(corrupt(1, format!("{count} points, more than a run holds")));
    }
    let header = RunHeader {
        count,
        ts_codec,
        value_codec,
    };
    if count == 0 {
        if !d.is_empty() || value_codec != ValueCodec::Raw {
            return Err(corrupt(d.pos(), "bytes after an empty run"));
        }
        let end = buf.len();
        return Ok(Parts {
            header,
            ts: &[],
            ts_at: end,
            values: &[],
            values_at: end,
        });
    }
    let ts_len = d
        .varint_usize()
        .ok_or_else(|| corrupt(d.pos(), "truncated section length"))?;
    let ts_at = d.pos();
    let ts = d
        .take(ts_len)
        .ok_or_else(|| corrupt(ts_at, "truncated timestamps"))?;
    if count > ts_codec.max_points(ts_len) {
        return Err(corrupt(
            1,
            format!("{count} points in {ts_len} bytes of timestamps"),
        ));
    }
    let values_at = d.pos();
    let values = buf.get(values_at..).unwrap_or_default();
    Ok(Parts {
        header,
        ts,
        ts_at,
        values,
        values_at,
    })
}

/// Reads a run's header (count and codecs), checking its sections' framing.
pub fn read_header(buf: &[u8]) -> Result<RunHeader> {
    Ok(parse(buf)?.header)
}

/// Decodes a run into new vectors.
pub fn decode_run(buf: &[u8]) -> Result<(Vec<i64>, Vec<f64>)> {
    let (mut ts, mut vals) = (Vec::new(), Vec::new());
    decode_run_into(buf, &mut ts, &mut vals)?;
    Ok((ts, vals))
}

/// Decodes a run into the caller's buffers (cleared first; reuse them across runs
/// to decode without allocating). On error their contents are unspecified.
pub fn decode_run_into(buf: &[u8], ts: &mut Vec<i64>, vals: &mut Vec<f64>) -> Result<()> {
    let parts = parse(buf)?;
    // Values first: a run of the wrong type fails before any timestamp work.
    float_values(&parts, vals)?;
    timestamps_of(&parts, ts)
}

/// Decodes only a run's timestamps.
pub fn decode_timestamps_into(buf: &[u8], ts: &mut Vec<i64>) -> Result<()> {
    timestamps_of(&parse(buf)?, ts)
}

/// Decodes only a run's values (the timestamp section is skipped, not read).
pub fn decode_values_into(buf: &[u8], vals: &mut Vec<f64>) -> Result<()> {
    float_values(&parse(buf)?, vals)
}

/// Decodes a run written by [`encode_run_i64`].
pub fn decode_run_i64(buf: &[u8]) -> Result<(Vec<i64>, Vec<i64>)> {
    let parts = parse(buf)?;
    let n = parts.header.count;
    let mut vals = vec![0i64; n];
    match parts.header.value_codec {
        ValueCodec::Int64 => {
            ints::decode(parts.values, &mut vals).map_err(section_error(parts.values_at))?
        }
        ValueCodec::Raw if n == 0 => {}
        c => {
            return Err(Error::invalid(format!(
                "the run holds f64 values ({c:?}), not i64"
            )))
        }
    }
    let mut ts = Vec::new();
    timestamps_of(&parts, &mut ts)?;
    Ok((ts, vals))
}

fn timestamps_of(parts: &Parts<'_>, ts: &mut Vec<i64>) -> Result<()> {
    ts.clear();
    ts.resize(parts.header.count, 0);
    timestamps::decode(parts.header.ts_codec, parts.ts, ts).map_err(section_error(parts.ts_at))
}

fn float_values(parts: &Parts<'_>, vals: &mut Vec<f64>) -> Result<()> {
    let n = parts.header.count;
    let buf = parts.values;
    vals.clear();
    if parts.header.value_codec == ValueCodec::Int64 {
        return Err(Error::invalid(
            "the run holds i64 values; decode it with decode_run_i64",
        ));
    }
    vals.resize(n, 0.0);
    let done = match parts.header.value_codec {
        ValueCodec::Raw => {
            if buf.len() != n * 8 {
                return Err(corrupt(parts.values_at, "raw values: not 8 bytes a value"));
            }
            for (v, b) in vals.iter_mut().zip(buf.chunks_exact(8)) {
                let mut w = [0u8; 8];
                w.copy_from_slice(b);
                *v = f64::from_le_bytes(w);
            }
            Ok(())
        }
        ValueCodec::Gorilla => xor::gorilla_decode(buf, vals),
        ValueCodec::Chimp => xor::chimp_decode::<0>(buf, vals),
        ValueCodec::Chimp128 => xor::chimp_decode::<7>(buf, vals),
        ValueCodec::Decimal => decimal::decode(buf, vals),
        ValueCodec::Int64 => Ok(()),
    };
    done.map_err(section_error(parts.values_at))
}

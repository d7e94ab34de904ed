//! Encoding a valid key as bytes whose byte order is key order (the format is in the
//! parent module's docs).

use serde_json::Value;

use super::valid::{describe, number_key};
use super::{END, TAG_ARRAY, TAG_FALSE, TAG_NULL, TAG_NUMBER, TAG_STRING, TAG_TRUE};
use crate::error::{Error, Result};

/// Appends the encoding of a valid key; `Data` error for an invalid one.
pub(crate) fn encode_into(v: &Value, out: &mut Vec<u8>) -> Result<()> {
    match v {
        Value::Null => out.push(TAG_NULL),
        Value::Bool(false) => out.push(TAG_FALSE),
        Value::Bool(true) => out.push(TAG_TRUE),
        Value::Number(n) => {
            let f = number_key(n)?;
            out.reserve(9);
            out.push(TAG_NUMBER);
            out.extend_from_slice(&encode_f64(f));
        }
        Value::String(s) => {
            out.reserve(s.len() + 2);
            out.push(TAG_STRING);
            if s.bytes().all(|b| b < 0x7f) {
                // ASCII: each byte is its own UTF-16 unit, one byte each.
                out.extend(s.bytes().map(|b| b + 1));
            } else {
                for u in s.encode_utf16() {
                    encode_unit(u, out);
                }
            }
            out.push(END);
        }
        Value::Array(items) => {
            out.push(TAG_ARRAY);
            for item in items {
                encode_into(item, out)?;
            }
            out.push(END);
        }
        other => {
            return Err(Error::Data(format!(
            "{} is not a valid key (keys are null, booleans, numbers, strings and arrays of keys)",
            describe(other)
        )))
        }
    }
    Ok(())
}

/// The bytes of a key (a number, a string, `null`/`false`/`true`, or an array of
/// keys) whose byte order is IndexedDB key order: what
/// stores and indexes are ordered by (the encoding is in docs/format.md). A value
/// that is not a valid key is `InvalidArgument`.
pub fn encode(v: &Value) -> Result<Vec<u8>> {
    // Sized by `encode_into`: a string reserves its length, so a scalar key is one
    // allocation.
    let mut out = Vec::new();
    encode_into(v, &mut out)?;
    Ok(out)
}

pub(super) fn encode_f64(f: f64) -> [u8; 8] {
    let f = if f == 0.0 { 0.0 } else { f }; // -0 == 0
    let bits = f.to_bits();
    let ordered = if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    };
    ordered.to_be_bytes()
}

fn encode_unit(u: u16, out: &mut Vec<u8>) {
    if u < 0x7f {
        out.push(u as u8 + 1);
    } else if u < 0x7f + 0x4000 {
        let v = u - 0x7f;
        out.push(0x80 | (v >> 8) as u8);
        out.push(v as u8);
    } else {
        out.push(0xc0);
        out.push((u >> 8) as u8);
        out.push(u as u8);
    }
}

/// Compares two valid keys in key order.
#[cfg(test)]
pub(crate) fn compare(a: &Value, b: &Value) -> Result<std::cmp::Ordering> {
    Ok(encode(a)?.cmp(&encode(b)?))
}

//! IndexedDB keys (§key-construct) and their order-preserving byte encoding, so that
//! every primary-key, index and range lookup is a byte-range scan of the engine.
//!
//! Valid keys: `null`, `false`, `true`, JSON numbers, strings, and arrays of valid
//! keys. Objects are not keys (a `Data` error). Order: null < false < true < number <
//! string < array; numbers numerically (`-0 == 0`); strings by UTF-16 code unit;
//! arrays element-wise, a prefix before the longer array. Date and binary keys have
//! tags reserved between them. `null` and booleans are flowdb's extension of
//! IndexedDB's key set (the published flowdb crate indexes them, and apps filter on
//! `done == false`); their tags sort below every IndexedDB key, so the bytes of every
//! IndexedDB key are the same as before the extension.
//!
//! ## Format
//! A key is a tag byte and a body: null `0x02`, false `0x04`, true `0x05` (no body);
//! number `0x10` + the f64 as 8 bytes big-endian
//! (sign bit flipped for positives, all bits inverted for negatives); string `0x30` +
//! each UTF-16 code unit `u` as `u+1` (one byte, `u < 0x7f`), `0x80|(v>>8), v&0xff`
//! with `v = u-0x7f` (two bytes, `u < 0x407f`) or `0xc0, u>>8, u&0xff` (three bytes),
//! then `0x00`; array `0x50` + its elements + `0x00`. Tags `0x20` (date) and `0x40`
//! (binary) are reserved. Byte order equals key order; every key is self-delimiting.

use serde_json::Value;

use crate::error::{Error, Result};

const TAG_NULL: u8 = 0x02;
const TAG_FALSE: u8 = 0x04;
const TAG_TRUE: u8 = 0x05;
const TAG_NUMBER: u8 = 0x10;
const TAG_STRING: u8 = 0x30;
const TAG_ARRAY: u8 = 0x50;
const END: u8 = 0x00;

/// Checks that `v` is a valid key; the error says what is wrong and where.
pub(crate) fn validate(v: &Value) -> Result<()> {
    match v {
        Value::Null | Value::Bool(_) => Ok(()),
        Value::Number(n) => number_key(n).map(|_| ()),
        Value::String(_) => Ok(()),
        Value::Array(items) => items.iter().try_for_each(validate),
        other => Err(Error::Data(format!(
            "{} is not a valid key (keys are null, booleans, numbers, strings and arrays of keys)",
            describe(other)
        ))),
    }
}

/// The largest integer a key holds exactly: keys are doubles, as IndexedDB's.
const MAX_EXACT: u64 = 1 << 53;

/// The double a number key stands for. An integer a double cannot hold exactly
/// (|n| > 2^53) is refused: rounded, two such keys would be one (a second document
/// replacing the first, a unique index reporting a duplicate).
fn number_key(n: &serde_json::Number) -> Result<f64> {
    let exact = match (n.as_u64(), n.as_i64()) {
        (Some(u), _) => u <= MAX_EXACT,
        (None, Some(i)) => i.unsigned_abs() <= MAX_EXACT,
        _ => true, // a float: a double already
    };
    match n.as_f64() {
        Some(f) if exact => Ok(f),
        _ => Err(Error::Data(format!(
            "{n} is not a valid key: keys are doubles (as in IndexedDB), which hold \
             integers exactly only up to 2^53 in size; store larger ones as strings"
        ))),
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Object(_) => "an object".into(),
        Value::Array(_) => "an array containing a non-key".into(),
        other => other.to_string(),
    }
}

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

fn encode_f64(f: f64) -> [u8; 8] {
    let f = if f == 0.0 { 0.0 } else { f }; // -0 == 0
    let bits = f.to_bits();
    let ordered = if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    };
    ordered.to_be_bytes()
}

#[inline]
fn decode_f64(b: [u8; 8]) -> f64 {
    let ordered = u64::from_be_bytes(b);
    let bits = if ordered >> 63 == 1 {
        ordered & !(1 << 63)
    } else {
        !ordered
    };
    f64::from_bits(bits)
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

/// The number key at the front of `b`, if it holds one: `decode`'s commonest case,
/// inlined into loops over primary keys. (The `(Value, usize)` that `decode`
/// returns through memory is written in pieces and read back whole, a
/// store-forwarding stall per key: 7% of a key-only index walk.)
#[inline]
pub(crate) fn decode_number(b: &[u8]) -> Option<Value> {
    match b {
        [TAG_NUMBER, rest @ ..] => number_value(decode_f64(rest.get(..8)?.try_into().ok()?)),
        _ => None,
    }
}

/// Writes the key at the front of `b` as JSON text, as serde_json writes the value
/// `decode` gives (a number, the commonest primary key, without building a `Value`);
/// `None` for bytes `decode` refuses.
#[inline]
pub(crate) fn write_json(b: &[u8], out: &mut Vec<u8>) -> Option<()> {
    let written = match b {
        [TAG_NUMBER, rest @ ..] => {
            let f = decode_f64(rest.get(..8)?.try_into().ok()?);
            if let Some(i) = exact_integer(f) {
                serde_json::to_writer(&mut *out, &i)
            } else if f.is_finite() {
                serde_json::to_writer(&mut *out, &f)
            } else {
                return None;
            }
        }
        _ => serde_json::to_writer(&mut *out, &decode(b)?.0),
    };
    written.ok()
}

/// Decodes one key from the front of `b`; returns it and the bytes it took.
pub(crate) fn decode(b: &[u8]) -> Option<(Value, usize)> {
    let tag = *b.first()?;
    match tag {
        TAG_NULL => Some((Value::Null, 1)),
        TAG_FALSE => Some((Value::Bool(false), 1)),
        TAG_TRUE => Some((Value::Bool(true), 1)),
        TAG_NUMBER => Some((decode_number(b)?, 9)),
        TAG_STRING => {
            let mut units = Vec::new();
            let mut i = 1;
            loop {
                let c = *b.get(i)?;
                match c {
                    END => break,
                    0x01..=0x7f => {
                        units.push((c - 1) as u16);
                        i += 1;
                    }
                    0x80..=0xbf => {
                        let lo = *b.get(i + 1)?;
                        units.push((((c & 0x3f) as u16) << 8 | lo as u16) + 0x7f);
                        i += 2;
                    }
                    0xc0 => {
                        units.push(u16::from_be_bytes([*b.get(i + 1)?, *b.get(i + 2)?]));
                        i += 3;
                    }
                    _ => return None,
                }
            }
            Some((Value::String(String::from_utf16(&units).ok()?), i + 1))
        }
        TAG_ARRAY => {
            let mut items = Vec::new();
            let mut i = 1;
            while *b.get(i)? != END {
                let (v, n) = decode(&b[i..])?;
                items.push(v);
                i += n;
            }
            Some((Value::Array(items), i + 1))
        }
        _ => None,
    }
}

/// The length of the key at the front of `b`, without building it: what `decode`
/// returns as its second half, for callers that only split keys apart (an index
/// entry's primary key follows its index key). It checks the structure only, not
/// the content `decode` also refuses (a NaN, a lone UTF-16 surrogate): keys in the
/// store were encoded from valid keys.
pub(crate) fn skip(b: &[u8]) -> Option<usize> {
    match *b.first()? {
        TAG_NULL | TAG_FALSE | TAG_TRUE => Some(1),
        TAG_NUMBER => (b.len() >= 9).then_some(9),
        TAG_STRING => {
            let mut i = 1;
            loop {
                i += match *b.get(i)? {
                    END => return Some(i + 1),
                    0x01..=0x7f => 1,
                    0x80..=0xbf => 2,
                    0xc0 => 3,
                    _ => return None,
                };
            }
        }
        TAG_ARRAY => {
            let mut i = 1;
            while *b.get(i)? != END {
                i += skip(&b[i..])?;
            }
            Some(i + 1)
        }
        _ => None,
    }
}

/// A JSON number for `f`: an integer when it is one (so keys read back as written).
#[inline]
/// `f` as an integer when it is a whole number a key may be written as (|f| <= 2^53,
/// `number_key`): keys read back as `1`, not `1.0`.
fn exact_integer(f: f64) -> Option<i64> {
    (f.fract() == 0.0 && f.abs() <= MAX_EXACT as f64).then_some(f as i64)
}

fn number_value(f: f64) -> Option<Value> {
    if let Some(i) = exact_integer(f) {
        Some(Value::from(i))
    } else {
        serde_json::Number::from_f64(f).map(Value::Number)
    }
}

/// Compares two valid keys in key order.
#[cfg(test)]
pub(crate) fn compare(a: &Value, b: &Value) -> Result<std::cmp::Ordering> {
    Ok(encode(a)?.cmp(&encode(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sorted(keys: Vec<Value>) -> Vec<Value> {
        let mut enc: Vec<Vec<u8>> = keys.iter().map(|k| encode(k).unwrap()).collect();
        enc.sort();
        enc.iter().map(|e| decode(e).unwrap().0).collect()
    }

    /// `write_json` writes what serde_json writes of the decoded key, for keys of
    /// every type and numbers at the integer/fraction edges.
    #[test]
    fn write_json_is_the_decoded_keys_json() {
        let mut rng = fastrand::Rng::with_seed(7);
        let mut keys = vec![
            json!(0),
            json!(-0.0),
            json!(1.5),
            json!(-1.5),
            json!(9_007_199_254_740_991i64),
            json!(9.007_199_254_740_992e15),
            json!(-9.007_199_254_740_992e15),
            json!(1e300),
            json!(5e-324),
            json!(-123456789),
            json!(""),
            json!("quote \" backslash \\ nul \u{0} tab \t é 𝄞"),
            json!(true),
            json!(null),
            json!([]),
            json!([1, "a", [2.5, []], false]),
        ];
        keys.extend(
            (0..2000)
                .map(|_| json!(f64::from_bits(rng.u64(..))))
                .filter(|k| !k.is_null()),
        );
        // Integers keys may be (|i| <= 2^53: a shift of at least 10).
        keys.extend((0..2000).map(|_| json!(rng.i64(..) >> rng.u32(10..64))));
        keys.extend([json!(1u64 << 53), json!(-(1i64 << 53))]);
        for k in keys {
            let enc = encode(&k).unwrap();
            let mut out = Vec::new();
            write_json(&enc, &mut out).unwrap();
            let want = serde_json::to_string(&decode(&enc).unwrap().0).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), want, "{k}");
        }
        // What `decode` refuses, `write_json` refuses.
        for bad in [&[TAG_NUMBER, 0][..], &[0x99], &[TAG_STRING, 0x41]] {
            assert!(decode(bad).is_none() && write_json(bad, &mut Vec::new()).is_none());
        }
    }

    #[test]
    fn scenario_1_valid_and_invalid_keys() {
        for k in [
            json!(0),
            json!(1.5),
            json!(""),
            json!("\u{0}"),
            json!("NaN"),
            json!([]),
            json!(["undefined"]),
        ] {
            validate(&k).unwrap();
        }
        for k in [json!(true), json!(false), json!(null), json!([null, true])] {
            validate(&k).unwrap();
        }
        for k in [json!({}), json!([{}]), json!([null, {}])] {
            assert!(matches!(validate(&k), Err(Error::Data(_))), "{k}");
            assert!(encode(&k).is_err());
        }
    }

    #[test]
    fn scenarios_2_3_4_key_order() {
        assert_eq!(
            sorted(vec![
                json!(1e308),
                json!("yo"),
                json!(0),
                json!(""),
                json!(100)
            ]),
            vec![json!(0), json!(100), json!(1e308), json!(""), json!("yo")]
        );
        assert_eq!(
            sorted(vec![
                json!("a"),
                json!("ba"),
                json!(""),
                json!("b"),
                json!("ab")
            ]),
            vec![json!(""), json!("a"), json!("ab"), json!("b"), json!("ba")]
        );
        assert_eq!(
            sorted(vec![
                json!([[0]]),
                json!([0]),
                json!([]),
                json!([0, 0]),
                json!([0, [0]])
            ]),
            vec![
                json!([]),
                json!([0]),
                json!([0, 0]),
                json!([0, [0]]),
                json!([[0]])
            ]
        );
    }

    #[test]
    fn null_and_booleans_sort_first_and_leave_other_keys_unchanged() {
        assert_eq!(
            sorted(vec![
                json!([]),
                json!(true),
                json!(""),
                json!(-1e300),
                json!(false),
                json!(null),
                json!([null]),
                json!([false, 1]),
            ]),
            vec![
                json!(null),
                json!(false),
                json!(true),
                json!(-1e300),
                json!(""),
                json!([]),
                json!([null]),
                json!([false, 1]),
            ]
        );
        // The bytes of IndexedDB keys are what they were before the extension, so
        // databases written then read the same.
        assert_eq!(encode(&json!("ab")).unwrap(), b"\x30\x62\x63\x00");
        assert_eq!(encode(&json!([1])).unwrap()[..2], [0x50, 0x10]);
        assert_eq!(
            encode(&json!(1)).unwrap(),
            [0x10, 0xbf, 0xf0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(
            encode(&json!([true, null])).unwrap(),
            [0x50, 0x05, 0x02, 0x00]
        );
        for k in [
            json!(null),
            json!(false),
            json!(true),
            json!([null, [false]]),
        ] {
            let e = encode(&k).unwrap();
            assert_eq!(decode(&e), Some((k, e.len())));
            assert_eq!(skip(&e), Some(e.len()));
        }
    }

    #[test]
    fn strings_order_by_utf16_code_units() {
        // U+1D11E is a surrogate pair (0xD834 ...), which sorts before U+FFFD.
        assert_eq!(
            compare(&json!("\u{1D11E}"), &json!("\u{FFFD}")).unwrap(),
            std::cmp::Ordering::Less
        );
        let samples = [
            "",
            "\u{0}",
            "a",
            "\u{7e}",
            "\u{7f}",
            "é",
            "\u{407e}",
            "\u{407f}",
            "\u{FFFF}",
            "\u{10000}",
            "ab\u{0}c",
        ];
        for a in samples {
            for b in samples {
                let ua: Vec<u16> = a.encode_utf16().collect();
                let ub: Vec<u16> = b.encode_utf16().collect();
                assert_eq!(
                    compare(&json!(a), &json!(b)).unwrap(),
                    ua.cmp(&ub),
                    "{a:?} vs {b:?}"
                );
            }
            assert_eq!(decode(&encode(&json!(a)).unwrap()).unwrap().0, json!(a));
        }
    }

    #[test]
    fn numbers_order_numerically() {
        let nums = [
            f64::MIN,
            -1e300,
            -2.5,
            -1.0,
            -0.0,
            0.0,
            1e-300,
            0.5,
            1.0,
            2.0,
            1e308,
            f64::MAX,
        ];
        for w in nums.windows(2) {
            assert!(
                compare(&json!(w[0]), &json!(w[1])).unwrap().is_le(),
                "{} {}",
                w[0],
                w[1]
            );
        }
        assert_eq!(encode(&json!(-0.0)).unwrap(), encode(&json!(0)).unwrap());
        assert_eq!(decode(&encode(&json!(42)).unwrap()).unwrap().0, json!(42));
        assert_eq!(decode(&encode(&json!(1.5)).unwrap()).unwrap().0, json!(1.5));
        // NaN and the infinities are no keys; -0.0 reads back as 0.
        for (f, want) in [
            (f64::NAN, None),
            (f64::INFINITY, None),
            (f64::NEG_INFINITY, None),
            (-0.0, Some(json!(0))),
        ] {
            let mut b = vec![TAG_NUMBER];
            b.extend_from_slice(&encode_f64(f));
            assert_eq!(decode_number(&b), want, "{f}");
            assert_eq!(decode(&b).map(|(v, _)| v), want, "{f}");
        }
    }

    /// `skip` measures what `decode` reads, and `decode_number` reads what `decode`
    /// reads of a number, on random keys, on every prefix of their encodings and on
    /// single-byte changes of them (seed logged).
    #[test]
    fn skip_agrees_with_decode() {
        let seed = std::env::var("FLOWDB_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0x5eed_u64);
        println!("skip_agrees_with_decode seed {seed}");
        let mut rng = seed;
        let mut next = move |n: u64| {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (rng >> 33) % n
        };
        fn key(next: &mut dyn FnMut(u64) -> u64, depth: u32) -> Value {
            match next(if depth > 2 { 3 } else { 4 }) {
                0 => json!(next(1000) as f64 / 8.0 - 60.0),
                2 => [json!(null), json!(false), json!(true)][next(3) as usize].clone(),
                1 => {
                    let units = [
                        'a',
                        '\u{0}',
                        '\u{7f}',
                        'é',
                        '\u{407f}',
                        '\u{FFFD}',
                        '\u{1D11E}',
                    ];
                    let n = next(5);
                    json!((0..n).map(|_| units[next(7) as usize]).collect::<String>())
                }
                _ => Value::Array((0..next(4)).map(|_| key(next, depth + 1)).collect()),
            }
        }
        // Where decode reads a key, skip measures the same; where skip finds no
        // well-formed key, decode finds none either. (decode also refuses content:
        // a NaN, a lone UTF-16 surrogate.)
        let agree = |b: &[u8]| match decode(b) {
            Some((v, n)) => {
                assert_eq!(skip(b), Some(n), "{b:?}");
                let number = (b[0] == TAG_NUMBER).then_some(v);
                assert_eq!(decode_number(b), number, "{b:?}");
            }
            None => {
                assert_eq!(decode_number(b), None, "{b:?}");
                if let Some(n) = skip(b) {
                    // Only a surrogate (a three-byte unit) or a number can be refused.
                    assert!(n <= b.len(), "{b:?}");
                    assert!(
                        b[..n].iter().any(|&c| c == 0xc0 || c == TAG_NUMBER),
                        "{b:?}"
                    );
                }
            }
        };
        for _ in 0..2000 {
            let enc = encode(&key(&mut next, 0)).unwrap();
            let mut tail = enc.clone();
            tail.extend_from_slice(b"\x10rest");
            agree(&tail);
            for cut in 0..enc.len() {
                agree(&enc[..cut]);
            }
            let mut bad = enc.clone();
            let at = next(bad.len() as u64) as usize;
            bad[at] = next(256) as u8;
            agree(&bad);
        }
    }
}

//! Decoding keys from their bytes: whole (as JSON values), numbers alone (the fast
//! path), or only measured (`skip`, to split keys apart).

use serde_json::Value;

use super::valid::MAX_EXACT;
use super::{END, TAG_ARRAY, TAG_FALSE, TAG_NULL, TAG_NUMBER, TAG_STRING, TAG_TRUE};

#[inline]
pub(super) fn decode_f64(b: [u8; 8]) -> f64 {
    let ordered = u64::from_be_bytes(b);
    let bits = if ordered >> 63 == 1 {
        ordered & !(1 << 63)
    } else {
        !ordered
    };
    f64::from_bits(bits)
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

/// Decodes one key from the front of `b`; returns it and the bytes it took.
pub(crate) fn decode(b: &[u8]) -> Option<(Value, usize)> {
    let tag = *b.first()?;
    match tag {
        TAG_NULL => Some((Value::Null, 1)),
        TAG_FALSE => Some((Value::Bool(false), 1)),
        TAG_TRUE => Some((Value::Bool(true), 1)),
        TAG_NUMBER => Some((decode_number(b)?, 9)),
        TAG_STRING => {
            let mut text = String::new();
            let n = decode_string(b, &mut text)?;
            Some((Value::String(text), n))
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

/// Appends the string key at the front of `b` (its tag included) to `out` as
/// UTF-8; returns the bytes it took. `None` for anything but a well-formed string key
/// (a lone UTF-16 surrogate included).
pub(crate) fn decode_string(b: &[u8], out: &mut String) -> Option<usize> {
    if b.first() != Some(&TAG_STRING) {
        return None;
    }
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
    out.reserve(units.len());
    for c in char::decode_utf16(units) {
        out.push(c.ok()?);
    }
    Some(i + 1)
}

/// The length of the key at the front of `b`, without building it: what `decode`
/// returns as its second half, for callers that only split keys apart (an index
/// entry's primary key follows its index key). It checks the structure only, not
/// the content `decode` also refuses (a NaN, a lone UTF-16 surrogate): keys in the
/// store were encoded from valid keys.
#[inline]
pub(crate) fn skip(b: &[u8]) -> Option<usize> {
    // A number, the usual index key, measured where it is asked (an index scan
    // asks it of every entry); the rest out of line.
    match b.first() {
        Some(&TAG_NUMBER) if b.len() >= 9 => Some(9),
        _ => skip_any(b),
    }
}

/// [`skip`] of a key of any type.
fn skip_any(b: &[u8]) -> Option<usize> {
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
                i += skip_any(&b[i..])?;
            }
            Some(i + 1)
        }
        _ => None,
    }
}

/// `f` as an integer when it is a whole number a key may be written as (|f| <= 2^53,
/// `number_key`): keys read back as `1`, not `1.0`.
#[inline]
pub(super) fn exact_integer(f: f64) -> Option<i64> {
    // Within 2^53 of zero the cast to i64 and back is exact just when `f` has no
    // fraction: two instructions, where `f.fract()` calls libm's `trunc` (4% of a
    // C query for 10,000 keys).
    if f.abs() > MAX_EXACT as f64 || f.is_nan() {
        return None;
    }
    let i = f as i64;
    (i as f64 == f).then_some(i)
}

/// A JSON number for `f`: an integer when it is one (so keys read back as written).
fn number_value(f: f64) -> Option<Value> {
    if let Some(i) = exact_integer(f) {
        Some(Value::from(i))
    } else {
        serde_json::Number::from_f64(f).map(Value::Number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jsondb::key::encode;
    use serde_json::json;

    /// `exact_integer` takes whole numbers within 2^53 of zero and nothing else, as
    /// `fract` and a range test did before it (the edges, and random numbers
    /// around them).
    #[test]
    fn exact_integer_is_whole_and_in_range() {
        let max = MAX_EXACT as f64;
        let old = |f: f64| (f.fract() == 0.0 && f.abs() <= max).then_some(f as i64);
        let mut cases = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            -0.5,
            max,
            -max,
            max + 2.0,
            -max - 2.0,
            max - 1.0,
            1e300,
            -1e300,
            f64::MIN_POSITIVE,
            f64::NAN,
            -f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::EPSILON,
            4503599627370495.5,
        ];
        let mut rng = fastrand::Rng::with_seed(53);
        for _ in 0..10_000 {
            let whole = rng.i64(-(1 << 54)..(1 << 54)) as f64;
            cases.extend([whole, whole + rng.f64(), f64::from_bits(rng.u64(..))]);
        }
        for f in cases {
            assert_eq!(exact_integer(f), old(f), "{f:e} ({:#x})", f.to_bits());
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

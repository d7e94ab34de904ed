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

mod decode;
mod encode;
mod json_text;
mod valid;
mod view;

pub(crate) use decode::{decode, decode_number, skip};
#[cfg(test)]
pub(crate) use encode::compare;
pub use encode::encode;
pub(crate) use json_text::write_json;
pub(crate) use valid::validate;
pub use view::{KeyRef, KeyType};

const TAG_NULL: u8 = 0x02;
const TAG_FALSE: u8 = 0x04;
const TAG_TRUE: u8 = 0x05;
const TAG_NUMBER: u8 = 0x10;
const TAG_STRING: u8 = 0x30;
const TAG_ARRAY: u8 = 0x50;
const END: u8 = 0x00;

#[cfg(test)]
mod tests {
    use super::encode::encode_f64;
    use super::*;
    use serde_json::{json, Value};

    fn sorted(keys: Vec<Value>) -> Vec<Value> {
        let mut enc: Vec<Vec<u8>> = keys.iter().map(|k| encode(k).unwrap()).collect();
        enc.sort();
        enc.iter().map(|e| decode(e).unwrap().0).collect()
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
}

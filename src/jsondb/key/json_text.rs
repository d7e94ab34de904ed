//! Writing an encoded key straight out as JSON text, without building its value (for
//! the raw-text document reads).

use super::decode::{decode, decode_f64, exact_integer};
use super::TAG_NUMBER;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jsondb::key::{encode, TAG_STRING};
    use serde_json::json;

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
}

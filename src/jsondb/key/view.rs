//! A stored key read in place: its type and value without building a
//! `serde_json::Value` (the typed, copy-free form of key-only reads).

use serde_json::Value;

use super::decode::{decode, decode_f64, decode_string, skip};
use super::json_text::write_json;
use super::{TAG_ARRAY, TAG_FALSE, TAG_NULL, TAG_NUMBER, TAG_STRING, TAG_TRUE};

/// The type of an IndexedDB key (flowdb's key set: IndexedDB's, plus `null` and
/// booleans).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyType {
    Null,
    Boolean,
    Number,
    String,
    Array,
}

/// One key as it lies in the store, lent for the duration of a call
/// ([`Transaction::get_all_keys_each`](super::super::Transaction::get_all_keys_each)):
/// its type, and its value read out on demand — a number or a boolean in a few
/// instructions, a string or an array written into a buffer the caller keeps.
#[derive(Clone, Copy)]
pub struct KeyRef<'a> {
    /// Exactly one encoded key (the format in key.rs).
    bytes: &'a [u8],
    kind: KeyType,
}

impl<'a> KeyRef<'a> {
    /// The key whose encoding is exactly `bytes`; `None` when they are not one
    /// well-formed key.
    pub(crate) fn new(bytes: &'a [u8]) -> Option<Self> {
        let kind = match *bytes.first()? {
            TAG_NULL => KeyType::Null,
            TAG_FALSE | TAG_TRUE => KeyType::Boolean,
            TAG_NUMBER => KeyType::Number,
            TAG_STRING => KeyType::String,
            TAG_ARRAY => KeyType::Array,
            _ => return None,
        };
        (skip(bytes)? == bytes.len()).then_some(KeyRef { bytes, kind })
    }

    pub fn key_type(&self) -> KeyType {
        self.kind
    }

    /// The key's encoding, whose byte order is key order
    /// ([`encode_key`](super::super::encode_key)'s form).
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The number, for a number key.
    pub fn as_f64(&self) -> Option<f64> {
        match self.bytes {
            [TAG_NUMBER, rest @ ..] => Some(decode_f64(rest.try_into().ok()?)),
            _ => None,
        }
    }

    /// The boolean, for a boolean key.
    pub fn as_bool(&self) -> Option<bool> {
        match self.bytes {
            [TAG_TRUE] => Some(true),
            [TAG_FALSE] => Some(false),
            _ => None,
        }
    }

    /// Appends the text of a string key to `out`; false (nothing appended) for a key
    /// of another type or an undecodable one.
    pub fn write_str(&self, out: &mut String) -> bool {
        let at = out.len();
        let ok = decode_string(self.bytes, out).is_some();
        if !ok {
            out.truncate(at);
        }
        ok
    }

    /// Appends the key as JSON text to `out` (what `serde_json` writes of
    /// [`to_value`](Self::to_value)); false (nothing appended) for an undecodable key.
    pub fn write_json(&self, out: &mut Vec<u8>) -> bool {
        let at = out.len();
        let ok = write_json(self.bytes, out).is_some();
        if !ok {
            out.truncate(at);
        }
        ok
    }

    /// The key as a JSON value (`None` for an undecodable key).
    pub fn to_value(&self) -> Option<Value> {
        decode(self.bytes).map(|(v, _)| v)
    }
}

impl std::fmt::Debug for KeyRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.to_value() {
            Some(v) => write!(f, "KeyRef({v})"),
            None => write!(f, "KeyRef({:?})", self.bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jsondb::key::encode;
    use serde_json::json;

    /// Each accessor reads what `decode` reads, on keys of every type (random
    /// numbers and strings among them, seed printed); `new` takes exactly one key.
    #[test]
    fn key_ref_reads_what_decode_reads() {
        let seed = std::env::var("FLOWDB_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0x6b65_u64);
        println!("key_ref_reads_what_decode_reads seed {seed}");
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut keys = vec![
            json!(null),
            json!(false),
            json!(true),
            json!(0),
            json!(-0.0),
            json!(-1.5),
            json!(1e300),
            json!(""),
            json!("quote \" nul \u{0} é \u{407f} 𝄞"),
            json!([]),
            json!([1, "a", [null, true]]),
        ];
        let units = ['a', '\u{0}', '\u{7f}', 'é', '\u{407f}', '\u{FFFD}', '𝄞'];
        for _ in 0..500 {
            keys.push(json!(f64::from_bits(rng.u64(..))));
            let n = rng.usize(0..8);
            keys.push(json!((0..n)
                .map(|_| units[rng.usize(..units.len())])
                .collect::<String>()));
        }
        // (`json!` of a NaN or an infinity is null: a key too.)
        for k in keys {
            let enc = encode(&k).unwrap();
            let r = KeyRef::new(&enc).unwrap();
            let v = r.to_value().unwrap();
            assert_eq!(v, decode(&enc).unwrap().0);
            assert_eq!(r.as_bytes(), &enc[..]);
            let want = match &v {
                Value::Null => KeyType::Null,
                Value::Bool(_) => KeyType::Boolean,
                Value::Number(_) => KeyType::Number,
                Value::String(_) => KeyType::String,
                _ => KeyType::Array,
            };
            assert_eq!(r.key_type(), want, "{v}");
            assert_eq!(r.as_bool(), v.as_bool(), "{v}");
            assert_eq!(r.as_f64(), v.as_f64(), "{v}");
            let mut s = String::from(">");
            assert_eq!(r.write_str(&mut s), v.is_string(), "{v}");
            assert_eq!(s, format!(">{}", v.as_str().unwrap_or("")));
            let mut j = b"<".to_vec();
            assert!(r.write_json(&mut j));
            assert_eq!(j, format!("<{v}").into_bytes());
            // Not one key: a prefix of it, or it with more after.
            assert!(KeyRef::new(&enc[..enc.len() - 1]).is_none(), "{v}");
            let mut more = enc.clone();
            more.push(TAG_NULL);
            assert!(KeyRef::new(&more).is_none(), "{v}");
        }
        assert!(KeyRef::new(&[0x99]).is_none() && KeyRef::new(&[]).is_none());
        // A lone surrogate: a string key that does not decode appends nothing.
        let lone = [TAG_STRING, 0xc0, 0xd8, 0x00, 0x00];
        let r = KeyRef::new(&lone).unwrap();
        let (mut s, mut j) = (String::from("x"), b"x".to_vec());
        assert!(!r.write_str(&mut s) && !r.write_json(&mut j) && r.to_value().is_none());
        assert_eq!((s.as_str(), &j[..]), ("x", &b"x"[..]));
    }
}

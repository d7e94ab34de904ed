//! The time-series record `(key, ts, expire_at, value)` and its size limits.
//!
//! `ts` and `expire_at` are microseconds since the Unix epoch; a record's identity is
//! `(key, ts)`. `expire_at == i64::MAX` means "never expires".

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// The published crate's paths: `flowdb::record::{Config, Query, ScanRange, ReadOptions,
/// SyncMode}` name the same types as the crate root.
pub use crate::config::{Config, ReadOptions, SyncMode};
pub use crate::range::{Query, ScanRange};

/// Largest key accepted: 64 KiB.
pub const MAX_KEY_LEN: usize = 64 * 1024;
/// Largest value accepted: 64 MiB.
pub const MAX_VALUE_LEN: usize = 64 * 1024 * 1024;
/// The `expire_at` of a record that never expires.
pub const NEVER_EXPIRES: i64 = i64::MAX;

/// One time-series point. As data (serde) the key is a UTF-8 string (lossy for keys
/// that are not UTF-8) and is read back from a string or an array of bytes, as in the
/// published crate; `ts`, `expire_at` and `value` are plain fields.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Record {
    #[serde(with = "key_text")]
    pub key: Vec<u8>,
    /// Microseconds since the Unix epoch; any i64, negative included.
    pub ts: i64,
    /// Absolute expiry in microseconds; `i64::MAX` means never.
    pub expire_at: i64,
    pub value: Vec<u8>,
}

impl Record {
    /// A record that never expires.
    pub fn new(key: impl Into<Vec<u8>>, ts: i64, value: Vec<u8>) -> Self {
        Record {
            key: key.into(),
            ts,
            expire_at: NEVER_EXPIRES,
            value,
        }
    }

    /// The key as text (lossy for keys that are not UTF-8).
    pub fn key_str(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.key)
    }

    /// The same record with an absolute expiry time (microseconds).
    pub fn with_expire_at(mut self, expire_at: i64) -> Self {
        self.expire_at = expire_at;
        self
    }
}

/// `ts + ttl_secs` seconds in microseconds, saturating instead of overflowing.
pub fn expiry_from_ttl(ts: i64, ttl_secs: u64) -> i64 {
    let micros = (ttl_secs as i128) * 1_000_000;
    (ts as i128 + micros).clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

pub(crate) fn validate_key(key: &[u8]) -> Result<()> {
    if key.is_empty() {
        return Err(Error::invalid("key is empty; keys are 1 byte to 64 KiB"));
    }
    if key.len() > MAX_KEY_LEN {
        return Err(Error::invalid(format!(
            "key of {} bytes exceeds the 64 KiB key limit (key starts {:?})",
            key.len(),
            String::from_utf8_lossy(&key[..32])
        )));
    }
    Ok(())
}

pub(crate) fn validate_value(key: &[u8], value: &[u8]) -> Result<()> {
    if value.len() > MAX_VALUE_LEN {
        return Err(Error::invalid(format!(
            "value of {} bytes for key {:?} exceeds the 64 MiB value limit",
            value.len(),
            String::from_utf8_lossy(key)
        )));
    }
    Ok(())
}

/// A record key as data: written as text, read from text or bytes.
mod key_text {
    use super::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(key: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&String::from_utf8_lossy(key))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Key {
            Text(String),
            Bytes(Vec<u8>),
        }
        Ok(match Key::deserialize(d)? {
            Key::Text(s) => s.into_bytes(),
            Key::Bytes(b) => b,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_saturates() {
        assert_eq!(expiry_from_ttl(10, 2), 2_000_010);
        assert_eq!(expiry_from_ttl(i64::MAX - 5, 1), i64::MAX);
        assert_eq!(expiry_from_ttl(i64::MIN, 0), i64::MIN);
    }

    #[test]
    fn limits() {
        assert!(validate_key(b"").is_err());
        assert!(validate_key(&vec![1u8; MAX_KEY_LEN]).is_ok());
        assert!(validate_key(&vec![1u8; MAX_KEY_LEN + 1]).is_err());
        assert!(validate_value(b"k", &[]).is_ok());
    }

    #[test]
    fn serde_key_is_text_and_reads_bytes() {
        let r = Record {
            key: b"cpu.a".to_vec(),
            ts: 5,
            expire_at: NEVER_EXPIRES,
            value: vec![1, 2],
        };
        let text = serde_json::to_string(&r).unwrap();
        assert_eq!(
            text,
            format!(r#"{{"key":"cpu.a","ts":5,"expire_at":{NEVER_EXPIRES},"value":[1,2]}}"#)
        );
        assert_eq!(serde_json::from_str::<Record>(&text).unwrap(), r);
        let from_bytes = format!(
            r#"{{"key":[99,112,117,46,97],"ts":5,"expire_at":{NEVER_EXPIRES},"value":[1,2]}}"#
        );
        assert_eq!(serde_json::from_str::<Record>(&from_bytes).unwrap(), r);
        // Not UTF-8: written lossily (U+FFFD), as the published crate does.
        let odd = Record::new(vec![0xff, b'a'], 1, vec![]);
        let back: Record = serde_json::from_str(&serde_json::to_string(&odd).unwrap()).unwrap();
        assert_eq!(back.key, "\u{fffd}a".as_bytes());
    }
}

//! Key ranges (§range-construct) and iteration directions.
//!
//! A range has an optional lower and upper bound, each open or closed. `lower >
//! upper`, or an invalid key as a bound, is a `Data` error; equal bounds with an open
//! flag give an empty range. Directions: `Next`, `Prev`, `NextUnique` (per distinct
//! index key, the entry with the lowest primary key) and `PrevUnique` (those reversed).

use serde_json::Value;

use super::key;
use crate::error::{Error, Result};
use crate::prefix_successor;

#[derive(Clone, Debug, PartialEq)]
pub struct KeyRange {
    lower: Option<(Vec<u8>, bool)>,
    upper: Option<(Vec<u8>, bool)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Direction {
    #[default]
    Next,
    Prev,
    NextUnique,
    PrevUnique,
}

impl KeyRange {
    /// Every key.
    pub fn all() -> Self {
        KeyRange {
            lower: None,
            upper: None,
        }
    }

    /// Exactly `key`.
    pub fn only(key: &Value) -> Result<Self> {
        let k = key::encode(key)?;
        Ok(KeyRange {
            lower: Some((k.clone(), false)),
            upper: Some((k, false)),
        })
    }

    /// Keys above `key` (`open`: excluding it).
    pub fn lower_bound(key: &Value, open: bool) -> Result<Self> {
        Ok(KeyRange {
            lower: Some((key::encode(key)?, open)),
            upper: None,
        })
    }

    /// Keys below `key` (`open`: excluding it).
    pub fn upper_bound(key: &Value, open: bool) -> Result<Self> {
        Ok(KeyRange {
            lower: None,
            upper: Some((key::encode(key)?, open)),
        })
    }

    /// Keys between `lower` and `upper`; closed ends unless the flags say open.
    pub fn bound(lower: &Value, upper: &Value, lower_open: bool, upper_open: bool) -> Result<Self> {
        let (lo, hi) = (key::encode(lower)?, key::encode(upper)?);
        if lo > hi {
            return Err(Error::Data(format!(
                "key range lower bound {lower} is above its upper bound {upper}"
            )));
        }
        Ok(KeyRange {
            lower: Some((lo, lower_open)),
            upper: Some((hi, upper_open)),
        })
    }

    /// The published crate's index equality (`get_by_index`) on an index of `arity`
    /// key paths: on a compound index, a key with fewer components (a scalar, or a
    /// shorter array) matches every entry whose key starts with those components.
    pub(crate) fn index_eq(value: &Value, arity: usize) -> Result<Self> {
        let Some(parts) = fewer_components(value, arity) else {
            return Self::only(value);
        };
        // The array's encoding without its end byte is a byte prefix of the encoding
        // of every array that starts with these elements (elements are
        // self-delimiting), and of nothing else.
        let mut p = key::encode(&Value::Array(parts))?;
        p.pop();
        let end = prefix_successor(&p).unwrap_or_else(|| vec![0xff; p.len() + 1]);
        Ok(KeyRange {
            lower: Some((p, false)),
            upper: Some((end, true)),
        })
    }

    /// The published crate's index range (`range_by_index`): `start <= key < end`,
    /// empty when `start >= end` (as a Rust range). On a compound index a scalar bound
    /// is the one-component array, so `["NYC"]` to `["NYD"]` (or `"NYC"` to `"NYD"`)
    /// holds every `["NYC", ..]` entry.
    pub(crate) fn index_half_open(start: &Value, end: &Value, arity: usize) -> Result<Self> {
        let as_key = |v: &Value| match fewer_components(v, arity) {
            Some(parts) => key::encode(&Value::Array(parts)),
            None => key::encode(v),
        };
        let (lo, hi) = (as_key(start)?, as_key(end)?);
        let lo = if lo > hi { hi.clone() } else { lo };
        Ok(KeyRange {
            lower: Some((lo, false)),
            upper: Some((hi, true)),
        })
    }

    /// The one encoded key of a range made by `only` (closed, equal bounds).
    pub(crate) fn single_key(&self) -> Option<&[u8]> {
        match (&self.lower, &self.upper) {
            (Some((lo, false)), Some((hi, false))) if lo == hi => Some(lo),
            _ => None,
        }
    }

    /// Whether `key` is in the range.
    pub fn includes(&self, key: &Value) -> Result<bool> {
        let k = key::encode(key)?;
        Ok(self.contains_encoded(&k))
    }

    pub(crate) fn contains_encoded(&self, k: &[u8]) -> bool {
        let above = match &self.lower {
            None => true,
            Some((lo, open)) => {
                if *open {
                    k > lo.as_slice()
                } else {
                    k >= lo.as_slice()
                }
            }
        };
        let below = match &self.upper {
            None => true,
            Some((hi, open)) => {
                if *open {
                    k < hi.as_slice()
                } else {
                    k <= hi.as_slice()
                }
            }
        };
        above && below
    }

    /// `[start, end)` byte bounds under `prefix`, for keys that may be followed by more
    /// bytes (index entries carry the primary key after the index key).
    pub(crate) fn byte_bounds(&self, prefix: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let with = |k: &[u8], ff: bool| {
            let mut v = prefix.to_vec();
            v.extend_from_slice(k);
            if ff {
                v.push(0xff);
            }
            v
        };
        let start = match &self.lower {
            None => prefix.to_vec(),
            Some((k, open)) => with(k, *open),
        };
        let end = match &self.upper {
            None => prefix_successor(prefix).unwrap_or_else(|| vec![0xff; prefix.len() + 1]),
            Some((k, open)) => with(k, !*open),
        };
        (start, end)
    }
}

/// The components of `value` when it has fewer than a compound index's `arity` (a
/// scalar is one); `None` for a full key or a single-path index.
fn fewer_components(value: &Value, arity: usize) -> Option<Vec<Value>> {
    if arity < 2 {
        return None;
    }
    match value {
        Value::Array(parts) if parts.len() < arity => Some(parts.clone()),
        Value::Array(_) => None,
        scalar => Some(vec![scalar.clone()]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bounds_and_validation() {
        assert!(matches!(
            KeyRange::bound(&json!(5), &json!(4), false, false),
            Err(Error::Data(_))
        ));
        assert!(matches!(KeyRange::only(&json!({})), Err(Error::Data(_))));
        let r = KeyRange::bound(&json!(1), &json!(3), true, false).unwrap();
        assert!(
            !r.includes(&json!(1)).unwrap()
                && r.includes(&json!(2)).unwrap()
                && r.includes(&json!(3)).unwrap()
        );
        let e = KeyRange::bound(&json!(2), &json!(2), true, false).unwrap();
        let (s, t) = e.byte_bounds(b"p");
        assert!(s >= t, "equal bounds with an open flag are empty");
    }
}

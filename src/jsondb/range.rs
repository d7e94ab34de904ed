//! Key ranges (§range-construct) and iteration directions.
//!
//! A range has an optional lower and upper bound, each open or closed. `lower >
//! upper`, or an invalid key as a bound, is a `Data` error; equal bounds with an open
//! flag give an empty range. Directions: `Next`, `Prev`, `NextUnique` (per distinct
//! index key, the entry with the lowest primary key) and `PrevUnique` (those reversed).

use serde_json::Value;

use super::key;
use crate::error::{Error, Result};
use crate::range::prefix_successor;

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
        assert!(matches!(KeyRange::only(&json!(null)), Err(Error::Data(_))));
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

//! Which JSON values are keys (§key-construct), and the double a number key stands for.

use serde_json::Value;

use crate::error::{Error, Result};

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
pub(super) const MAX_EXACT: u64 = 1 << 53;

/// The double a number key stands for. An integer a double cannot hold exactly
/// (|n| > 2^53) is refused: rounded, two such keys would be one (a second document
/// replacing the first, a unique index reporting a duplicate).
pub(super) fn number_key(n: &serde_json::Number) -> Result<f64> {
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

pub(super) fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Object(_) => "an object".into(),
        Value::Array(_) => "an array containing a non-key".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jsondb::key::encode;
    use serde_json::json;

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
}

//! Key paths (§key-path-construct, §extract-key-from-value): `""` (the whole value),
//! an identifier, or identifiers joined by `.`. Evaluation walks own properties of
//! objects; `length` of a string is its UTF-16 length, of an array its element count;
//! if any step fails the path yields nothing. Also injection of a generated key.
//!
//! IndexedDB has two more forms, which the published structs (`StoreDef::key_path`,
//! `IndexDef::key_paths`) can only hold as text: an *array* key path, written as a
//! JSON array of paths (`["a"]`, `["a","b.c"]`), whose key is the array of the
//! paths' values; and *no* key path (out-of-line keys, IndexedDB's `keyPath: null`),
//! written `[]`. No path could be written so before (`[` is not an identifier), so
//! every existing key path keeps its meaning. [`KeyPath`] is the typed form.

use serde_json::{Map, Value};

use crate::error::{Error, Result};

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first == '$' || first == '_' || first.is_alphabetic())
        && chars.all(|c| c == '$' || c == '_' || c.is_alphanumeric())
}

/// A key path in each of IndexedDB's forms; its text form is what the published
/// structs hold (module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyPath {
    /// No key path: keys are given beside the documents (out-of-line keys).
    None,
    /// One path: `""`, an identifier, or identifiers joined by `.`.
    Path(String),
    /// An array key path: the key is the array of the paths' values (even of one).
    Array(Vec<String>),
}

impl KeyPath {
    /// The typed form of a key path's text; `InvalidArgument` when it is not one.
    pub fn parse(text: &str) -> Result<KeyPath> {
        if !text.starts_with('[') {
            validate_path(text)?;
            return Ok(KeyPath::Path(text.to_string()));
        }
        let paths: Vec<String> = serde_json::from_str(text).map_err(|_| {
            Error::invalid(format!(
                "{text:?} is not a valid array key path (a JSON array of key path strings)"
            ))
        })?;
        for p in &paths {
            validate_path(p)?;
        }
        Ok(match paths.is_empty() {
            true => KeyPath::None,
            false => KeyPath::Array(paths),
        })
    }

    /// The text form (`[]` for none, a JSON array for an array key path).
    pub fn to_text(&self) -> String {
        match self {
            KeyPath::None => "[]".to_string(),
            KeyPath::Path(p) => p.clone(),
            KeyPath::Array(ps) => serde_json::to_string(ps).unwrap_or_default(),
        }
    }
}

/// `InvalidArgument` unless `text` is a valid key path (any form).
pub(crate) fn validate(text: &str) -> Result<()> {
    KeyPath::parse(text).map(|_| ())
}

/// Whether a stored key path's text says "no key path" (texts are stored canonical).
pub(crate) fn is_none(text: &str) -> bool {
    text == "[]"
}

/// The key of `doc` under a key path's text (any form); `None` when a path yields
/// nothing, and always for no key path.
pub(crate) fn evaluate_text(doc: &Value, text: &str) -> Option<Value> {
    if !text.starts_with('[') {
        return evaluate(doc, text);
    }
    match KeyPath::parse(text).ok()? {
        KeyPath::Array(ps) => extract_array(doc, &ps),
        _ => None,
    }
}

/// `InvalidArgument` unless `path` is a valid single key path.
fn validate_path(path: &str) -> Result<()> {
    if path.is_empty() || path.split('.').all(is_identifier) {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "{path:?} is not a valid key path (use \"\", an identifier, or identifiers joined by '.')"
    )))
}

/// The value at `path` in `doc`, if every step exists.
pub(crate) fn evaluate(doc: &Value, path: &str) -> Option<Value> {
    if path.is_empty() {
        return Some(doc.clone());
    }
    let mut cur = doc;
    let mut owned: Option<Value> = None;
    for step in path.split('.') {
        let next = match (owned.as_ref().unwrap_or(cur), step) {
            (Value::Object(m), _) if m.contains_key(step) => m.get(step).cloned(),
            (Value::String(s), "length") => Some(Value::from(s.encode_utf16().count())),
            (Value::Array(a), "length") => Some(Value::from(a.len())),
            _ => None,
        }?;
        owned = Some(next);
        cur = owned.as_ref()?;
    }
    owned
}

/// The key of `doc` under key paths (one path: its value; several: the array of their
/// values — a compound key), or `None` when a path yields nothing.
pub(crate) fn extract(doc: &Value, paths: &[String]) -> Option<Value> {
    match paths {
        [one] => evaluate_text(doc, one),
        many => extract_array(doc, many),
    }
}

fn extract_array(doc: &Value, paths: &[String]) -> Option<Value> {
    paths
        .iter()
        .map(|p| evaluate(doc, p))
        .collect::<Option<Vec<_>>>()
        .map(Value::Array)
}

/// Sets `key` at `path` in `doc`, creating intermediate objects; a `Data` error when a
/// non-object is in the way.
pub(crate) fn inject(doc: &mut Value, path: &str, key: Value) -> Result<()> {
    let fail = || {
        Error::Data(format!(
            "cannot inject the generated key at {path:?}: a non-object is in the way"
        ))
    };
    let steps: Vec<&str> = path.split('.').collect();
    let mut cur = doc;
    for (i, step) in steps.iter().enumerate() {
        let obj = cur.as_object_mut().ok_or_else(fail)?;
        if i + 1 == steps.len() {
            obj.insert((*step).to_string(), key);
            return Ok(());
        }
        cur = obj
            .entry((*step).to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    Err(fail())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn validation() {
        for ok in ["", "a", "my.key", "$x._y", "été", "a1.b2"] {
            validate(ok).unwrap();
        }
        for bad in ["j a", ".yo", "y..o", "3m", "my.1337", "a.", "a-b"] {
            assert!(
                matches!(validate(bad), Err(Error::InvalidArgument(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn scenarios_5_6_7() {
        assert_eq!(
            evaluate(&json!({"my": {"key": 10}}), "my.key"),
            Some(json!(10))
        );
        let mut deep = json!(7);
        let mut path = Vec::new();
        for i in (0..14).rev() {
            deep = json!({ format!("k{i}"): deep });
            path.insert(0, format!("k{i}"));
        }
        assert_eq!(evaluate(&deep, &path.join(".")), Some(json!(7)));
        for (s, n) in [("pony", 4), ("my", 2), ("little", 6), ("", 0)] {
            assert_eq!(evaluate(&json!({ "str": s }), "str.length"), Some(json!(n)));
        }
        assert_eq!(
            evaluate(&json!({"a": [1, 2, 3]}), "a.length"),
            Some(json!(3))
        );
        assert_eq!(
            extract(&json!({"x": 10, "y": 20}), &["x".into(), "y".into()]),
            Some(json!([10, 20]))
        );
        assert_eq!(extract(&json!({"x": 10}), &["x".into(), "y".into()]), None);
        assert_eq!(evaluate(&json!({"a": 1}), "a.b"), None);
    }

    #[test]
    fn injection() {
        let mut d = json!({});
        inject(&mut d, "a.b.id", json!(3)).unwrap();
        assert_eq!(d, json!({"a": {"b": {"id": 3}}}));
        let mut d = json!({"a": 5});
        assert!(matches!(
            inject(&mut d, "a.id", json!(1)),
            Err(Error::Data(_))
        ));
    }
}

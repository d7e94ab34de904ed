//! The index keys of a document (§index-construct): the value at the index's key
//! path(s); for multi-entry indexes over an array, one key per distinct valid element
//! (invalid ones skipped, nested arrays not flattened, `[]` gives none). A document
//! whose index key is missing or invalid is simply not in that index.

use serde_json::Value;

use super::schema::IndexDef;
use super::{key, keypath};

/// The encoded index keys of `doc` for `def`, sorted and distinct.
pub(crate) fn index_keys(def: &IndexDef, doc: &Value) -> Vec<Vec<u8>> {
    let Some(v) = keypath::extract(doc, &def.key_paths) else {
        return Vec::new();
    };
    let mut keys: Vec<Vec<u8>> = match (&v, def.multi_entry) {
        (Value::Array(items), true) => items.iter().filter_map(|i| key::encode(i).ok()).collect(),
        _ => key::encode(&v).ok().into_iter().collect(),
    };
    keys.sort();
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(paths: &[&str], multi: bool) -> IndexDef {
        IndexDef {
            name: "i".into(),
            key_paths: paths.iter().map(|p| p.to_string()).collect(),
            unique: false,
            multi_entry: multi,
        }
    }

    #[test]
    fn scenario_11_12_object_values_and_multi_entry() {
        assert!(index_keys(&def(&["f"], false), &json!({"f": {"a": 1}})).is_empty());
        let keys = index_keys(
            &def(&["n"], true),
            &json!({"n": ["Rita", "Scheeta", {}, "Rita"]}),
        );
        assert_eq!(
            keys,
            vec![
                key::encode(&json!("Rita")).unwrap(),
                key::encode(&json!("Scheeta")).unwrap()
            ]
        );
        assert!(index_keys(&def(&["n"], true), &json!({"n": []})).is_empty());
        assert_eq!(
            index_keys(&def(&["n"], true), &json!({"n": [[1, 2]]})).len(),
            1,
            "not flattened"
        );
        assert_eq!(
            index_keys(&def(&["x", "y"], false), &json!({"x": 1, "y": [{}]})),
            Vec::<Vec<u8>>::new()
        );
        // null and booleans are keys (docs/jsondb.md), inside arrays too.
        assert_eq!(
            index_keys(&def(&["x", "y"], false), &json!({"x": 1, "y": [null]})).len(),
            1
        );
    }
}

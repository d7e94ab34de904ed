//! Key path forms (§key-path-construct): array key paths on indexes and stores, and
//! stores without a key path (out-of-line keys), restating the scenarios of the
//! web-platform-tests files named on each test (IndexedDB/).

mod common;

use flowdb::jsondb::{
    Direction, IndexSchema, JsonDB, KeyPath, KeyRange, StoreSchema, TransactionMode,
};
use flowdb::StatusCode;
use serde_json::json;

fn open(dir: &std::path::Path) -> JsonDB {
    JsonDB::open(common::small_config(dir)).unwrap()
}

fn only(v: serde_json::Value) -> KeyRange {
    KeyRange::only(&v).unwrap()
}

/// keypath.any.js ("[\"x\"]" gives [10]) and idbindex-multientry-arraykeypath: a
/// one-element array key path keys entries by one-element arrays, not like the
/// path itself; multi_entry with an array key path is an InvalidAccessError.
#[test]
fn single_element_array_key_path_on_an_index() {
    let d = tempfile::tempdir().unwrap();
    let db = open(d.path());
    let arr = KeyPath::Array(vec!["a".into()]);
    db.create_store(
        &StoreSchema::new("s", "id")
            .index(IndexSchema::with_key_path("arr", &arr))
            .index(IndexSchema::new("plain", "a")),
    )
    .unwrap();
    db.put("s", json!({"id": 1, "a": 10})).unwrap();
    let all = KeyRange::all();
    let recs = db
        .get_all_records_by_index::<serde_json::Value>("s", "arr", &all, None, Direction::Next)
        .unwrap();
    assert_eq!(recs[0].key, json!([10]));
    let recs = db
        .get_all_records_by_index::<serde_json::Value>("s", "plain", &all, None, Direction::Next)
        .unwrap();
    assert_eq!(recs[0].key, json!(10));
    assert_eq!(
        db.count_by_index("s", "arr", &only(json!([10]))).unwrap(),
        1
    );
    assert_eq!(db.count_by_index("s", "arr", &only(json!(10))).unwrap(), 0);
    let def = db.get_store("s").unwrap();
    let arr_def = def.indexes.iter().find(|i| i.name == "arr").unwrap();
    assert_eq!(arr_def.key_paths, vec![r#"["a"]"#.to_string()]);
    // The text form works as written, and is the same definition (a no-op again).
    db.create_index_with("s", &IndexSchema::new("arr", r#"[ "a" ]"#))
        .unwrap();
    let err = db
        .create_index_with(
            "s",
            &IndexSchema::with_key_path("m", &arr).multi_entry(true),
        )
        .unwrap_err();
    assert_eq!(err.code(), StatusCode::InvalidArgument);
    // Several paths: the same as `compound`.
    let two = KeyPath::Array(vec!["a".into(), "id".into()]);
    assert_eq!(
        IndexSchema::with_key_path("c", &two).key_paths,
        IndexSchema::compound("c", &["a", "id"]).key_paths
    );
    for bad in ["[1]", "[", "[\"a b\"]", "[]"] {
        let err = db
            .create_index_with("s", &IndexSchema::new("bad", bad))
            .unwrap_err();
        assert_eq!(err.code(), StatusCode::InvalidArgument, "{bad}");
    }
}

/// idbobjectstore_createIndex*/keypath.any.js for stores: an array key path makes
/// compound primary keys; a key generator cannot go with it (InvalidAccessError).
#[test]
fn array_key_path_on_a_store() {
    let d = tempfile::tempdir().unwrap();
    let db = open(d.path());
    let kp = KeyPath::Array(vec!["city".into(), "n".into()]);
    db.create_store(&StoreSchema::with_key_path("s", &kp))
        .unwrap();
    assert_eq!(
        db.put("s", json!({"city": "Oslo", "n": 2})).unwrap(),
        json!(["Oslo", 2])
    );
    db.put("s", json!({"city": "Lima", "n": 1})).unwrap();
    assert!(db.get("s", &json!(["Oslo", 2])).unwrap().is_some());
    assert_eq!(
        db.put("s", json!({"city": "Oslo"})).unwrap_err().code(),
        StatusCode::Data
    );
    assert_eq!(
        db.get_all_keys("s", &KeyRange::all(), None).unwrap(),
        vec![json!(["Lima", 1]), json!(["Oslo", 2])]
    );
    let err = db
        .create_store(&StoreSchema::with_key_path("g", &kp).auto_increment(true))
        .unwrap_err();
    assert_eq!(err.code(), StatusCode::InvalidArgument);
    assert_eq!(db.get_store("s").unwrap().key_path, r#"["city","n"]"#);
}

/// idbobjectstore_put.any.js / idbobjectstore_add.any.js with out-of-line keys: the
/// key is given beside the value; none and no generator is a DataError, a key for
/// a store with in-line keys too; a generator hands out keys without touching the
/// value; cursors update in place (idbcursor_update_objectstore.htm).
#[test]
fn out_of_line_keys() {
    let d = tempfile::tempdir().unwrap();
    let db = open(d.path());
    db.create_store(&StoreSchema::out_of_line("kv").index(IndexSchema::new("by_n", "n")))
        .unwrap();
    db.create_store(&StoreSchema::out_of_line("gen").auto_increment(true))
        .unwrap();
    db.create_object_store("inline", "id").unwrap();
    assert_eq!(db.get_store("kv").unwrap().key_path, "[]");

    assert_eq!(
        db.put("kv", json!({"n": 1})).unwrap_err().code(),
        StatusCode::Data
    );
    assert_eq!(
        db.put_with_key("kv", json!({"n": 1}), &json!("a")).unwrap(),
        json!("a")
    );
    db.put_with_key("kv", json!("just a string"), &json!("b"))
        .unwrap();
    assert_eq!(
        db.add_with_key("kv", json!({"n": 2}), &json!("a"))
            .unwrap_err()
            .code(),
        StatusCode::Constraint
    );
    assert_eq!(
        db.put_with_key("kv", json!({}), &json!({}))
            .unwrap_err()
            .code(),
        StatusCode::Data
    );
    assert_eq!(db.get("kv", &json!("a")).unwrap(), Some(json!({"n": 1})));
    assert_eq!(
        db.get_key_by_index("kv", "by_n", &only(json!(1))).unwrap(),
        Some(json!("a"))
    );

    assert_eq!(db.put("gen", json!({"x": 1})).unwrap(), json!(1));
    assert_eq!(db.put_auto("gen", json!({"x": 2})).unwrap(), json!(2));
    db.put_with_key("gen", json!({"x": 3}), &json!(10)).unwrap();
    assert_eq!(db.put("gen", json!({"x": 4})).unwrap(), json!(11));
    assert_eq!(
        db.get("gen", &json!(1)).unwrap(),
        Some(json!({"x": 1})),
        "not injected"
    );

    assert_eq!(
        db.put_with_key("inline", json!({"id": 1}), &json!(1))
            .unwrap_err()
            .code(),
        StatusCode::Data
    );

    let mut tx = db.transaction(&["kv"], TransactionMode::ReadWrite).unwrap();
    let mut c = tx
        .open_cursor("kv", &only(json!("a")), Direction::Next)
        .unwrap();
    c.update(json!({"n": 5})).unwrap();
    drop(c);
    tx.commit().unwrap();
    assert_eq!(db.get("kv", &json!("a")).unwrap(), Some(json!({"n": 5})));
    assert_eq!(
        db.get_key_by_index("kv", "by_n", &only(json!(5))).unwrap(),
        Some(json!("a"))
    );
    // The forms survive a reopen.
    drop(db);
    let db = open(d.path());
    assert_eq!(
        db.put("kv", json!({"n": 1})).unwrap_err().code(),
        StatusCode::Data
    );
    assert_eq!(db.put("gen", json!({"x": 5})).unwrap(), json!(12));
}

//! IndexedDB rules of docs/jsondb.md ("Name lists and the order of errors"), each test
//! named after the spec section it follows, with the web-platform-tests file that
//! checks the same scenario: name lists in `DOMStringList` order
//! (§dom-idbdatabase-objectstorenames), and the order of the checks that raise errors
//! (§dom-idbdatabase-createobjectstore, §dom-idbobjectstore-createindex,
//! §dom-idbdatabase-transaction, §transaction-construct).

mod common;

use flowdb::jsondb::{IndexSchema, JsonDB, StoreSchema, TransactionMode};
use flowdb::Error;
use serde_json::json;

fn open(dir: &std::path::Path) -> JsonDB {
    JsonDB::open(common::small_config(dir)).unwrap()
}

fn message(e: Error) -> String {
    e.to_string()
}

// ---- §dom-idbdatabase-objectstorenames: names sorted by UTF-16 code unit ----

/// WPT `IndexedDB/string-list-ordering.any.js`: store names and a store's index
/// names come back sorted as a DOMStringList sorts them, by UTF-16 code unit. U+FF61
/// is below U+10000 in UTF-8 (and as Rust `str`), above it in UTF-16 (0xD800 first).
#[test]
fn dom_string_list_names_are_sorted_by_utf16_code_unit() {
    let dir = tempfile::tempdir().unwrap();
    let created = [
        "\u{FF61}",
        "b",
        "\u{10000}",
        "",
        "\u{E000}",
        "a",
        "\u{1F600}",
    ];
    let expected = [
        "",
        "a",
        "b",
        "\u{10000}",
        "\u{1F600}",
        "\u{E000}",
        "\u{FF61}",
    ];
    assert!("\u{FF61}" < "\u{10000}", "UTF-8 order differs");
    {
        let db = open(dir.path());
        for name in created {
            db.create_object_store(name, "id").unwrap();
        }
        assert_eq!(db.store_names(), expected);
        for name in created {
            db.create_index_on("a", name, "x", false).unwrap();
        }
        let names: Vec<String> = db
            .get_store("a")
            .unwrap()
            .indexes
            .into_iter()
            .map(|i| i.name)
            .collect();
        assert_eq!(names, expected);
    }
    let db = open(dir.path());
    assert_eq!(db.store_names(), expected);
    let names: Vec<String> = db
        .get_store("a")
        .unwrap()
        .indexes
        .into_iter()
        .map(|i| i.name)
        .collect();
    assert_eq!(names, expected);
}

// ---- error precedence: the spec's order of checks ----

/// WPT `IndexedDB/idbobjectstore_createIndex.any.js` ("ConstraintError vs.
/// SyntaxError", "SyntaxError vs. InvalidAccessError"): creating an index whose name
/// exists is `Constraint` even when the new key path is invalid; with a new name, an
/// invalid key path is reported before multi-entry with several key paths.
#[test]
fn dom_idbobjectstore_createindex_name_check_precedes_key_path_check() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    db.create_object_store("s", "id").unwrap();
    db.create_index_on("s", "index", "foo", false).unwrap();
    for schema in [
        IndexSchema::new("index", "invalid key path"),
        IndexSchema::compound("index", &["invalid key path 1", "invalid key path 2"]),
        IndexSchema::compound("index", &["foo", "bar"]).multi_entry(true),
    ] {
        let e = db.create_index_with("s", &schema).unwrap_err();
        assert!(matches!(e, Error::Constraint(_)), "{e}");
        assert!(message(e).contains("already exists"));
    }
    let e = db
        .create_index_with(
            "s",
            &IndexSchema::compound("other", &["invalid key path 1", "invalid key path 2"])
                .multi_entry(true),
        )
        .unwrap_err();
    assert!(matches!(e, Error::InvalidArgument(_)), "{e}");
    assert!(message(e).contains("not a valid key path"));
    // An unknown store comes first of all.
    let e = db
        .create_index_on("nope", "index", "invalid key path", false)
        .unwrap_err();
    assert!(matches!(e, Error::NotFound(_)), "{e}");
}

/// WPT `IndexedDB/idbdatabase-createObjectStore-exception-order.any.js` ("SyntaxError
/// vs. ConstraintError", "ConstraintError vs. InvalidAccessError"): for stores the
/// spec checks the key path before the name, and the name before a key generator
/// without a key path.
#[test]
fn dom_idbdatabase_createobjectstore_checks_in_spec_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    db.create_object_store("s", "id").unwrap();
    let e = db
        .create_object_store("s", "not a valid key path")
        .unwrap_err();
    assert!(matches!(e, Error::InvalidArgument(_)), "{e}");
    let e = db
        .create_store(&StoreSchema::new("s", "").auto_increment(true))
        .unwrap_err();
    assert!(matches!(e, Error::Constraint(_)), "{e}");
    let e = db
        .create_store(&StoreSchema::new("t", "").auto_increment(true))
        .unwrap_err();
    assert!(matches!(e, Error::InvalidArgument(_)), "{e}");
    assert_eq!(db.store_names(), ["s"]);
}

/// WPT `IndexedDB/idbobjectstore-query-exception-order.any.js`,
/// `IndexedDB/idbindex-query-exception-order.any.js`,
/// `IndexedDB/idbobjectstore-add-put-exception-order.any.js` and
/// `IndexedDB/idbobjectstore-delete-exception-order.any.js`: a request on a finished
/// transaction is `TransactionInactive` even when its key is invalid (an object),
/// and a write in a read-only transaction is `ReadOnly` before any `Data` error.
#[test]
fn transaction_construct_inactive_precedes_data_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    db.create_store(&StoreSchema::new("s", "id").index(IndexSchema::new("i", "x")))
        .unwrap();
    let bad = json!({});
    for finish in ["commit", "abort"] {
        let mut tx = db.transaction(&["s"], TransactionMode::ReadWrite).unwrap();
        if finish == "commit" {
            tx.commit_in_place().unwrap();
        } else {
            tx.abort_in_place();
        }
        let inactive = |r: Result<(), Error>| {
            let e = r.unwrap_err();
            assert!(matches!(e, Error::TransactionInactive(_)), "{finish}: {e}");
        };
        inactive(tx.get("s", &bad).map(drop));
        inactive(tx.delete("s", &bad));
        inactive(tx.put("s", json!({"id": {}})).map(drop));
        inactive(tx.put("s", json!({"no_key": 1})).map(drop));
        inactive(tx.get_by_index("s", "i", &bad).map(drop));
        inactive(tx.range_by_index("s", "i", &bad, &bad).map(drop));
    }
    let mut tx = db.transaction(&["s"], TransactionMode::ReadOnly).unwrap();
    for r in [
        tx.put("s", json!({"id": {}})).map(drop),
        tx.delete("s", &bad),
    ] {
        let e = r.unwrap_err();
        assert!(matches!(e, Error::ReadOnly(_)), "{e}");
    }
    tx.abort();
    // On an active transaction the same requests are Data errors.
    let mut tx = db.transaction(&["s"], TransactionMode::ReadWrite).unwrap();
    let e = tx.put("s", json!({"id": {}})).unwrap_err();
    assert!(matches!(e, Error::Data(_)), "{e}");
    let e = tx.get("s", &bad).unwrap_err();
    assert!(matches!(e, Error::Data(_)), "{e}");
}

/// WPT `IndexedDB/idbdatabase_transaction.any.js` ("If storeNames is an empty list
/// ... InvalidAccessError"): a transaction over no store is refused
/// (`InvalidArgument`), saying why; an unknown store is still `NotFound`.
#[test]
fn dom_idbdatabase_transaction_empty_scope_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    db.create_object_store("s", "id").unwrap();
    for mode in [TransactionMode::ReadOnly, TransactionMode::ReadWrite] {
        let e = db.transaction(&[], mode).unwrap_err();
        assert!(matches!(e, Error::InvalidArgument(_)), "{e}");
        assert!(message(e).contains("at least one object store"));
    }
    let e = db
        .transaction(&["nope"], TransactionMode::ReadOnly)
        .unwrap_err();
    assert!(matches!(e, Error::NotFound(_)), "{e}");
    // Nothing is left scheduled: a transaction on the store starts at once.
    db.transaction(&["s"], TransactionMode::ReadWrite)
        .unwrap()
        .commit()
        .unwrap();
}

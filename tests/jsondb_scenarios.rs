//! IndexedDB scenarios (web-platform-tests file names in the comments) and the other
//! rules of docs/jsondb.md: key generator, indexes, key ranges, directions, schema persistence.

mod common;

use flowdb::jsondb::{Direction, IndexSchema, JsonDB, KeyRange, StoreSchema, TransactionMode};
use flowdb::{Error, StatusCode};
use serde_json::{json, Value};

fn open(dir: &std::path::Path) -> JsonDB {
    JsonDB::open(common::small_config(dir)).unwrap()
}

fn ids(docs: &[Value], field: &str) -> Vec<Value> {
    docs.iter().map(|d| d[field].clone()).collect()
}

#[test]
fn scenario_1_valid_and_invalid_keys_also_in_compound_paths() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    db.create_object_store("s", "k").unwrap();
    for k in [
        json!(0),
        json!(1.5),
        json!(""),
        json!("\u{0}"),
        json!("NaN"),
        json!([]),
        json!(["undefined"]),
        // flowdb's extension of the key set (docs/jsondb.md): null and booleans.
        json!(true),
        json!(false),
        json!(null),
        json!([null]),
    ] {
        db.put("s", json!({ "k": k })).unwrap();
        assert!(db.get("s", &k).unwrap().is_some());
    }
    for k in [json!({}), json!([{}]), json!([null, {}])] {
        assert_eq!(
            db.put("s", json!({ "k": k })).unwrap_err().code(),
            StatusCode::Data,
            "{k}"
        );
        assert_eq!(db.get("s", &k).unwrap_err().code(), StatusCode::Data);
    }
    db.create_store(&StoreSchema::new("c", "id").index(IndexSchema::compound("xy", &["x", "y"])))
        .unwrap();
    db.put("c", json!({"id": 1, "x": 1, "y": {"o": 1}}))
        .unwrap();
    assert_eq!(
        db.count_by_index("c", "xy", &KeyRange::all()).unwrap(),
        0,
        "invalid compound part: not indexed"
    );
    assert!(matches!(
        db.get_by_index("c", "xy", &json!([1, {"o": 1}])),
        Err(Error::Data(_))
    ));
}

#[test]
fn scenarios_2_3_4_key_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    db.create_object_store("s", "k").unwrap();
    let cases = [
        (
            vec![json!(1e308), json!("yo"), json!(0), json!(""), json!(100)],
            vec![json!(0), json!(100), json!(1e308), json!(""), json!("yo")],
        ),
        (
            vec![json!("a"), json!("ba"), json!(""), json!("b"), json!("ab")],
            vec![json!(""), json!("a"), json!("ab"), json!("b"), json!("ba")],
        ),
        (
            vec![
                json!([[0]]),
                json!([0]),
                json!([]),
                json!([0, 0]),
                json!([0, [0]]),
            ],
            vec![
                json!([]),
                json!([0]),
                json!([0, 0]),
                json!([0, [0]]),
                json!([[0]]),
            ],
        ),
    ];
    for (put, want) in cases {
        for k in &put {
            db.put("s", json!({ "k": k })).unwrap();
        }
        assert_eq!(ids(&db.scan("s").unwrap(), "k"), want);
        for k in &put {
            db.delete("s", k).unwrap();
        }
    }
    db.put("s", json!({"k": "\u{FFFD}"})).unwrap();
    db.put("s", json!({"k": "\u{1D11E}"})).unwrap();
    assert_eq!(
        ids(&db.scan("s").unwrap(), "k"),
        vec![json!("\u{1D11E}"), json!("\u{FFFD}")],
        "UTF-16 order"
    );
}

#[test]
fn scenarios_5_6_7_key_paths_and_their_validation() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    db.create_object_store("s", "my.key").unwrap();
    db.put("s", json!({"my": {"key": 10}})).unwrap();
    assert!(db.get("s", &json!(10)).unwrap().is_some());
    db.create_store(
        &StoreSchema::new("t", "id")
            .index(IndexSchema::new("len", "str.length"))
            .index(IndexSchema::compound("xy", &["x", "y"])),
    )
    .unwrap();
    for (i, s) in ["pony", "my", "little", ""].iter().enumerate() {
        db.put("t", json!({"id": i, "str": s, "x": 10, "y": 20}))
            .unwrap();
    }
    assert_eq!(
        ids(&db.get_by_index("t", "len", &json!(6)).unwrap(), "str"),
        vec![json!("little")]
    );
    assert_eq!(db.get_by_index("t", "len", &json!(0)).unwrap().len(), 1);
    assert_eq!(
        db.get_by_index("t", "xy", &json!([10, 20])).unwrap().len(),
        4
    );
    for bad in ["j a", ".yo", "y..o", "3m", "my.1337"] {
        assert_eq!(
            db.create_object_store("bad", bad).unwrap_err().code(),
            StatusCode::InvalidArgument,
            "{bad}"
        );
        assert_eq!(
            db.create_index_on("t", "bad", bad, false)
                .unwrap_err()
                .code(),
            StatusCode::InvalidArgument
        );
    }
    let deep: Vec<String> = (0..14).map(|i| format!("k{i}")).collect();
    db.create_object_store("deep", &deep.join(".")).unwrap();
    let mut doc = json!(42);
    for k in deep.iter().rev() {
        doc = json!({ k.clone(): doc });
    }
    assert_eq!(db.put("deep", doc).unwrap(), json!(42));
}

#[test]
fn scenarios_8_9_key_generator() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    db.create_store(&StoreSchema::new("s", "id").auto_increment(true))
        .unwrap();
    let keys: Vec<Value> = (0..4)
        .map(|_| db.put_auto("s", json!({})).unwrap())
        .collect();
    assert_eq!(keys, vec![json!(1), json!(2), json!(3), json!(4)]);
    assert_eq!(
        db.get("s", &json!(3)).unwrap(),
        Some(json!({"id": 3})),
        "key injected"
    );
    db.put("s", json!({"id": 1000})).unwrap();
    assert_eq!(db.put("s", json!({"name": "no key"})).unwrap(), json!(1001));
    // Strings and smaller numbers leave it alone; deletes never lower it.
    db.put("s", json!({"id": "text"})).unwrap();
    db.put("s", json!({"id": 5.5})).unwrap();
    db.delete("s", &json!(1001)).unwrap();
    assert_eq!(db.put_auto("s", json!({})).unwrap(), json!(1002));
    db.put("s", json!({"id": 2000.7})).unwrap();
    assert_eq!(db.put_auto("s", json!({"a": {}})).unwrap(), json!(2001));
    assert_eq!(db.get_store("s").unwrap().next_auto_id, 2002);
    // Intermediate objects are created; a non-object in the way is a Data error.
    db.create_store(&StoreSchema::new("n", "a.b.id").auto_increment(true))
        .unwrap();
    assert_eq!(db.put_auto("n", json!({})).unwrap(), json!(1));
    assert_eq!(
        db.get("n", &json!(1)).unwrap(),
        Some(json!({"a": {"b": {"id": 1}}}))
    );
    assert_eq!(
        db.put_auto("n", json!({"a": 5})).unwrap_err().code(),
        StatusCode::Data
    );
    assert_eq!(
        db.get_store("n").unwrap().next_auto_id,
        2,
        "a failed request restores the generator"
    );
    // Past 2^53 the generator fails; explicit keys still work.
    db.put("n", json!({"a": {"b": {"id": 9007199254740992u64}}}))
        .unwrap();
    assert_eq!(
        db.put_auto("n", json!({})).unwrap_err().code(),
        StatusCode::Constraint
    );
    db.put("n", json!({"a": {"b": {"id": 7}}})).unwrap();
    // A store without a generator: a document lacking its key is a Data error.
    db.create_object_store("plain", "id").unwrap();
    assert_eq!(
        db.put("plain", json!({"x": 1})).unwrap_err().code(),
        StatusCode::Data
    );
    assert_eq!(
        db.put_auto("plain", json!({"x": 1})).unwrap_err().code(),
        StatusCode::Data
    );
}

#[test]
fn aborted_transactions_restore_the_generator() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    db.create_store(&StoreSchema::new("s", "id").auto_increment(true))
        .unwrap();
    let mut tx = db.transaction(&["s"], TransactionMode::ReadWrite).unwrap();
    assert_eq!(tx.put_auto("s", json!({})).unwrap(), json!(1));
    assert_eq!(tx.put_auto("s", json!({})).unwrap(), json!(2));
    tx.abort();
    assert_eq!(db.put_auto("s", json!({})).unwrap(), json!(1));
    {
        let mut tx = db.transaction(&["s"], TransactionMode::ReadWrite).unwrap();
        tx.put_auto("s", json!({})).unwrap(); // dropped uncommitted
    }
    assert_eq!(db.put_auto("s", json!({})).unwrap(), json!(2));
}

#[test]
fn scenarios_10_11_unique_index_and_object_values() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    db.create_store(
        &StoreSchema::new("s", "id")
            .index(IndexSchema::new("email", "email").unique(true))
            .index(IndexSchema::new("f", "f")),
    )
    .unwrap();
    db.put("s", json!({"id": 1, "email": "a@x"})).unwrap();
    let err = db.put("s", json!({"id": 2, "email": "a@x"})).unwrap_err();
    assert_eq!(err.code(), StatusCode::Constraint);
    assert!(err.to_string().contains("email"), "{err}");
    assert_eq!(db.count("s").unwrap(), 1, "the store is unchanged");
    assert!(db.get("s", &json!(2)).unwrap().is_none());
    // Re-putting the same document keeps its own entry.
    db.put("s", json!({"id": 1, "email": "a@x", "n": 2}))
        .unwrap();
    db.put("s", json!({"id": 3, "f": {"nested": true}}))
        .unwrap();
    assert_eq!(db.count("s").unwrap(), 2);
    assert_eq!(db.count_by_index("s", "f", &KeyRange::all()).unwrap(), 0);
    // Creating a unique index over duplicates fails and leaves no index.
    db.put("s", json!({"id": 4, "dup": 1})).unwrap();
    db.put("s", json!({"id": 5, "dup": 1})).unwrap();
    assert_eq!(
        db.create_index_on("s", "dup", "dup", true)
            .unwrap_err()
            .code(),
        StatusCode::Constraint
    );
    assert!(!db
        .get_store("s")
        .unwrap()
        .indexes
        .iter()
        .any(|i| i.name == "dup"));
    db.create_index_on("s", "dup", "dup", false).unwrap();
    assert_eq!(
        db.get_by_index("s", "dup", &json!(1)).unwrap().len(),
        2,
        "an index covers existing documents"
    );
}

#[test]
fn scenarios_12_13_multi_entry_and_index_count() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    db.create_store(
        &StoreSchema::new("s", "id")
            .index(IndexSchema::new("names", "names").multi_entry(true))
            .index(IndexSchema::new("data", "data")),
    )
    .unwrap();
    db.put("s", json!({"id": 1, "names": ["Rita", "Scheeta", {}]}))
        .unwrap();
    assert_eq!(
        db.count_by_index("s", "names", &KeyRange::all()).unwrap(),
        2
    );
    assert_eq!(
        ids(
            &db.get_by_index("s", "names", &json!("Rita")).unwrap(),
            "id"
        ),
        vec![json!(1)]
    );
    assert_eq!(
        ids(
            &db.get_by_index("s", "names", &json!("Scheeta")).unwrap(),
            "id"
        ),
        vec![json!(1)]
    );
    for i in 0..10 {
        db.put(
            "s",
            json!({"id": 100 + i, "data": format!("data_{}", i % 2)}),
        )
        .unwrap();
    }
    assert_eq!(
        db.count_by_index("s", "data", &KeyRange::only(&json!("data_0")).unwrap())
            .unwrap(),
        5
    );
    assert_eq!(
        db.create_index_with(
            "s",
            &IndexSchema::compound("m", &["a", "b"]).multi_entry(true)
        )
        .unwrap_err()
        .code(),
        StatusCode::InvalidArgument
    );
}

#[test]
fn index_order_ranges_and_directions() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    db.create_store(&StoreSchema::new("s", "id").index(IndexSchema::new("age", "age")))
        .unwrap();
    for (id, age) in [(5, 30), (1, 30), (3, 20), (4, 40), (2, 20)] {
        db.put("s", json!({"id": id, "age": age})).unwrap();
    }
    let got = |r: &KeyRange, d: Direction| ids(&db.index_query("s", "age", r, d).unwrap(), "id");
    let all = KeyRange::all();
    assert_eq!(
        got(&all, Direction::Next),
        vec![json!(2), json!(3), json!(1), json!(5), json!(4)]
    );
    assert_eq!(
        got(&all, Direction::Prev),
        vec![json!(4), json!(5), json!(1), json!(3), json!(2)]
    );
    assert_eq!(
        got(&all, Direction::NextUnique),
        vec![json!(2), json!(1), json!(4)]
    );
    assert_eq!(
        got(&all, Direction::PrevUnique),
        vec![json!(4), json!(1), json!(2)]
    );
    assert_eq!(
        ids(
            &db.range_by_index("s", "age", &json!(20), &json!(30))
                .unwrap(),
            "id"
        ),
        vec![json!(2), json!(3)],
        "half-open, as the published crate's: 30 is the end"
    );
    assert_eq!(
        ids(
            &db.range_by_index("s", "age", &json!(20), &json!(31))
                .unwrap(),
            "id"
        ),
        vec![json!(2), json!(3), json!(1), json!(5)]
    );
    assert!(db
        .range_by_index("s", "age", &json!(30), &json!(30))
        .unwrap()
        .is_empty());
    assert!(db
        .range_by_index("s", "age", &json!(31), &json!(20))
        .unwrap()
        .is_empty());
    assert_eq!(
        got(
            &KeyRange::bound(&json!(20), &json!(30), true, false).unwrap(),
            Direction::Next
        ),
        vec![json!(1), json!(5)]
    );
    assert_eq!(
        got(
            &KeyRange::lower_bound(&json!(30), true).unwrap(),
            Direction::Next
        ),
        vec![json!(4)]
    );
    assert_eq!(
        got(
            &KeyRange::upper_bound(&json!(20), false).unwrap(),
            Direction::Next
        ),
        vec![json!(2), json!(3)]
    );
    assert!(got(
        &KeyRange::bound(&json!(30), &json!(30), false, true).unwrap(),
        Direction::Next
    )
    .is_empty());
    assert_eq!(
        KeyRange::bound(&json!(3), &json!(1), false, false)
            .unwrap_err()
            .code(),
        StatusCode::Data
    );
    assert_eq!(
        ids(
            &db.get_range(
                "s",
                &KeyRange::bound(&json!(2), &json!(4), false, true).unwrap(),
                Direction::Prev
            )
            .unwrap(),
            "id"
        ),
        vec![json!(3), json!(2)]
    );
    assert_eq!(
        db.index_query("s", "nope", &all, Direction::Next)
            .unwrap_err()
            .code(),
        StatusCode::NotFound
    );
}

#[test]
fn scenarios_14_15_16_transactions() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    db.create_object_store("s", "id").unwrap();
    db.create_object_store("t", "id").unwrap();
    // 14: a read-only transaction after a committed read-write one sees its value.
    let mut rw = db.transaction(&["s"], TransactionMode::ReadWrite).unwrap();
    rw.put("s", json!({"id": 1, "v": "new"})).unwrap();
    assert_eq!(
        rw.get("s", &json!(1)).unwrap().unwrap()["v"],
        "new",
        "read-your-writes"
    );
    rw.commit().unwrap();
    let ro = db.transaction(&["s"], TransactionMode::ReadOnly).unwrap();
    assert_eq!(ro.get("s", &json!(1)).unwrap().unwrap()["v"], "new");
    // 15: two read-only transactions on one store at the same time.
    let ro2 = db.transaction(&["s"], TransactionMode::ReadOnly).unwrap();
    assert_eq!(ro2.count("s").unwrap(), 1);
    drop((ro, ro2));
    // 16: inactive after commit, read-only writes, unknown stores.
    let mut tx = db.transaction(&["s"], TransactionMode::ReadWrite).unwrap();
    tx.put("s", json!({"id": 2})).unwrap();
    tx.commit_in_place().unwrap();
    assert_eq!(
        tx.put("s", json!({"id": 3})).unwrap_err().code(),
        StatusCode::TransactionInactive
    );
    let mut ro = db.transaction(&["s"], TransactionMode::ReadOnly).unwrap();
    assert_eq!(
        ro.put("s", json!({"id": 4})).unwrap_err().code(),
        StatusCode::ReadOnly
    );
    assert_eq!(
        ro.delete("s", &json!(1)).unwrap_err().code(),
        StatusCode::ReadOnly
    );
    assert_eq!(
        ro.get("t", &json!(1)).unwrap_err().code(),
        StatusCode::NotFound,
        "outside the scope"
    );
    drop(ro);
    assert_eq!(
        db.transaction(&["nope"], TransactionMode::ReadOnly)
            .err()
            .unwrap()
            .code(),
        StatusCode::NotFound
    );
    assert_eq!(
        db.put("nope", json!({"id": 1})).unwrap_err().code(),
        StatusCode::NotFound
    );
}

#[test]
fn a_failed_request_is_reverted_and_the_transaction_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    db.create_store(&StoreSchema::new("s", "id").index(IndexSchema::new("u", "u").unique(true)))
        .unwrap();
    let mut tx = db.transaction(&["s"], TransactionMode::ReadWrite).unwrap();
    tx.put("s", json!({"id": 1, "u": "x"})).unwrap();
    assert_eq!(
        tx.put("s", json!({"id": 2, "u": "x"})).unwrap_err().code(),
        StatusCode::Constraint
    );
    assert!(tx.get("s", &json!(2)).unwrap().is_none());
    tx.put("s", json!({"id": 3, "u": "y"})).unwrap();
    tx.commit().unwrap();
    assert_eq!(ids(&db.scan("s").unwrap(), "id"), vec![json!(1), json!(3)]);
}

#[test]
fn a_second_overlapping_read_write_transaction_on_one_thread_is_busy() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    db.create_object_store("s", "id").unwrap();
    let held = db.transaction(&["s"], TransactionMode::ReadWrite).unwrap();
    let started = std::time::Instant::now();
    assert_eq!(
        db.transaction(&["s"], TransactionMode::ReadWrite)
            .err()
            .unwrap()
            .code(),
        StatusCode::Busy
    );
    assert_eq!(
        db.put("s", json!({"id": 1})).unwrap_err().code(),
        StatusCode::Busy
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "no waiting on oneself"
    );
    drop(held);
    db.put("s", json!({"id": 1})).unwrap();
    // Across threads: waits, then Busy after the timeout.
    db.set_transaction_timeout(std::time::Duration::from_millis(100));
    let held = db.transaction(&["s"], TransactionMode::ReadWrite).unwrap();
    std::thread::scope(|sc| {
        sc.spawn(|| {
            assert_eq!(
                db.put("s", json!({"id": 2})).unwrap_err().code(),
                StatusCode::Busy
            )
        });
    });
    drop(held);
}

#[test]
fn schema_and_data_survive_restarts_and_schema_changes_are_whole() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = open(dir.path());
        db.create_store(
            &StoreSchema::new("s", "id")
                .auto_increment(true)
                .index(IndexSchema::new("tag", "tag").multi_entry(true)),
        )
        .unwrap();
        db.put_auto("s", json!({"tag": ["a", "b"]})).unwrap();
        db.put_auto("s", json!({"tag": ["b"]})).unwrap();
        db.create_object_store("gone", "id").unwrap();
        db.put("gone", json!({"id": 1})).unwrap();
        db.delete_object_store("gone").unwrap();
        db.shutdown().unwrap();
    }
    let db = open(dir.path());
    assert_eq!(db.store_names(), vec!["s".to_string()]);
    let def = db.get_store("s").unwrap();
    assert!(def.auto_increment && def.indexes[0].multi_entry);
    assert_eq!(def.next_auto_id, 3);
    assert_eq!(db.get_by_index("s", "tag", &json!("b")).unwrap().len(), 2);
    assert_eq!(db.put_auto("s", json!({})).unwrap(), json!(3));
    db.delete_index("s", "tag").unwrap();
    assert_eq!(
        db.get_by_index("s", "tag", &json!("b")).unwrap_err().code(),
        StatusCode::NotFound
    );
    db.create_object_store("gone", "id").unwrap();
    assert_eq!(
        db.count("gone").unwrap(),
        0,
        "a recreated store starts empty"
    );
    db.create_object_store("gone", "id")
        .expect("the same definition again is a no-op");
    let e = db.create_object_store("gone", "other").unwrap_err();
    assert_eq!(e.code(), StatusCode::Constraint);
    assert!(e.to_string().contains("different key path"), "{e}");
    db.create_index_on("gone", "by_x", "x", false).unwrap();
    db.create_index_on("gone", "by_x", "x", false)
        .expect("the same index again is a no-op");
    let e = db.create_index_on("gone", "by_x", "x", true).unwrap_err();
    assert_eq!(e.code(), StatusCode::Constraint);
    assert!(e.to_string().contains("different definition"), "{e}");
    assert_eq!(
        db.delete_object_store("never").unwrap_err().code(),
        StatusCode::NotFound
    );
}

#[test]
fn typed_documents() {
    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct User {
        id: i64,
        email: String,
    }
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    db.create_object_store("u", "id").unwrap();
    let u = User {
        id: 7,
        email: "u7@example.com".into(),
    };
    assert_eq!(db.put_doc("u", &u).unwrap(), json!(7));
    assert_eq!(db.get_doc::<User>("u", 7i64).unwrap(), Some(u));
    assert_eq!(
        db.get_doc::<User>("u", 7u32).unwrap().unwrap().email,
        "u7@example.com"
    );
    assert!(db.get_doc::<User>("u", "7").unwrap().is_none());
    db.put("u", json!({"id": 8, "email": 5})).unwrap();
    assert_eq!(
        db.get_doc::<User>("u", 8).unwrap_err().code(),
        StatusCode::Data
    );
    db.delete_doc("u", 7).unwrap();
    assert_eq!(
        db.query("u")
            .collect_doc::<serde_json::Value>()
            .unwrap()
            .len(),
        1
    );
}

/// A compound index that repeats a key path (`["a", "a", "g"]`) does not serve
/// `where_eq(a).where_eq(b).order_by(g)`: its key covers `a` twice and `b` never, so
/// the `b` filter must still be checked (it once was taken as served, and documents
/// failing it came back).
#[test]
fn an_index_repeating_a_key_path_serves_only_the_fields_it_covers() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    db.create_store(
        &StoreSchema::new("p", "id").index(IndexSchema::compound("aag", &["a", "a", "g"])),
    )
    .unwrap();
    for (id, b, g) in [(1, 1, 30), (2, 2, 20), (3, 1, 10), (4, 2, 40)] {
        db.put("p", json!({"id": id, "a": 1, "b": b, "g": g}))
            .unwrap();
    }
    let got = db
        .query("p")
        .where_eq("a", json!(1))
        .where_eq("b", json!(1))
        .order_by("g", flowdb::jsondb::SortDir::Asc)
        .collect()
        .unwrap();
    assert_eq!(ids(&got, "id"), vec![json!(3), json!(1)]);
    let scanned = db
        .query("p")
        .where_eq("a", json!(1))
        .where_eq("b", json!(1))
        .order_by("g", flowdb::jsondb::SortDir::Asc)
        .scan_only()
        .collect()
        .unwrap();
    assert_eq!(got, scanned);
}

/// A document nested deeper than a stored document can be read back (127 levels of
/// arrays and objects, the limit of the JSON parser reads use, as the C API's and
/// the CLI's input parsers) is refused with `Data`: stored, it could not be read,
/// replaced or deleted again, and queries over its store failed.
#[test]
fn documents_nested_too_deep_to_read_back_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    db.create_store(&StoreSchema::new("s", "id")).unwrap();
    let nested = |levels: usize| {
        let mut v = json!(0);
        for _ in 0..levels {
            v = json!([v]);
        }
        v
    };
    // The document object is a level: 126 arrays inside it is 127 in all.
    let deepest = json!({"id": 1, "d": nested(126)});
    db.put("s", deepest.clone()).unwrap();
    assert_eq!(db.get("s", &json!(1)).unwrap(), Some(deepest));
    let err = db.put("s", json!({"id": 2, "d": nested(127)})).unwrap_err();
    assert_eq!(err.code(), StatusCode::Data, "{err}");
    assert!(err.to_string().contains("127 levels"), "{err}");
    assert_eq!(db.get("s", &json!(2)).unwrap(), None);
    // Replacing the readable one with a too deep one is refused; it stays.
    let err = db.put("s", json!({"id": 1, "d": nested(127)})).unwrap_err();
    assert_eq!(err.code(), StatusCode::Data, "{err}");
    db.delete("s", &json!(1)).unwrap();
    assert_eq!(db.count("s").unwrap(), 0);
}

/// Replacing a document whose multi-entry array is large moves exactly the entries
/// that changed (the old and new keys are compared by binary search: an array of n
/// values once cost n² comparisons per put).
#[test]
fn a_large_multi_entry_array_is_updated_entry_by_entry() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    db.create_store(
        &StoreSchema::new("s", "id")
            .index(IndexSchema::new("tags", "tags").multi_entry(true))
            .index(
                IndexSchema::new("utags", "u")
                    .multi_entry(true)
                    .unique(true),
            ),
    )
    .unwrap();
    let n = 20_000;
    let tags: Vec<i64> = (0..n).collect();
    db.put("s", json!({"id": 1, "tags": tags, "u": tags}))
        .unwrap();
    // Half kept, half replaced (and repeated values, which count once).
    let next: Vec<i64> = (n / 2..n + n / 2).chain(n..n + 10).collect();
    db.put("s", json!({"id": 1, "tags": next, "u": next}))
        .unwrap();
    let all = KeyRange::all();
    assert_eq!(db.count_by_index("s", "tags", &all).unwrap(), n as usize);
    assert_eq!(db.count_by_index("s", "utags", &all).unwrap(), n as usize);
    let gone = KeyRange::bound(&json!(0), &json!(n / 2), false, true).unwrap();
    assert_eq!(db.count_by_index("s", "tags", &gone).unwrap(), 0);
    // A second document may take the freed unique values, not the kept ones.
    db.put("s", json!({"id": 2, "u": [0, 1]})).unwrap();
    let err = db.put("s", json!({"id": 3, "u": [n]})).unwrap_err();
    assert_eq!(err.code(), StatusCode::Constraint, "{err}");
}

/// Keys are doubles, as in IndexedDB: an integer a double cannot hold exactly
/// (beyond 2^53) is refused as a key with `Data`, where it was rounded (two
/// snowflake-style ids became one key: the second document replaced the first). Up
/// to 2^53 integers are exact and read back as written. A document whose indexed
/// field holds such an integer is stored, without that index entry (an invalid index
/// key, as IndexedDB skips one).
#[test]
fn integer_keys_beyond_two_to_the_53_are_refused_not_rounded() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    db.create_store(&StoreSchema::new("t", "id").index(IndexSchema::new("ext", "ext")))
        .unwrap();
    let big = json!(1_234_567_890_123_456_789u64);
    let err = db.put("t", json!({"id": big, "v": "a"})).unwrap_err();
    assert_eq!(err.code(), StatusCode::Data, "{err}");
    assert!(err.to_string().contains("2^53"), "{err}");
    let err = db
        .put("t", json!({"id": -9_007_199_254_740_993i64}))
        .unwrap_err();
    assert_eq!(err.code(), StatusCode::Data, "{err}");
    assert_eq!(db.get("t", &big).unwrap_err().code(), StatusCode::Data);
    // The largest exact integers are keys, and read back as the integers written.
    for id in [
        json!(9_007_199_254_740_992u64),
        json!(-9_007_199_254_740_992i64),
    ] {
        db.put("t", json!({"id": id.clone(), "ext": 1})).unwrap();
        let keys = db
            .get_all_keys("t", &KeyRange::only(&id).unwrap(), None)
            .unwrap();
        assert_eq!(keys, vec![id]);
    }
    // An indexed field holding one: stored, not in the index; asking for it is Data.
    db.put("t", json!({"id": 5, "ext": big})).unwrap();
    assert!(db.get("t", &json!(5)).unwrap().is_some());
    assert_eq!(db.count_by_index("t", "ext", &KeyRange::all()).unwrap(), 2);
    let err = db.query("t").where_eq("ext", big).collect().unwrap_err();
    assert_eq!(err.code(), StatusCode::Data, "{err}");
}

/// An index whose key path is a one-path array (`["a"]`, keys `[a]`) does not serve
/// a filter on a field written `["a"]`: the planned query and a scan agree.
#[test]
fn a_one_path_array_index_does_not_serve_a_field_of_that_name() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let one = flowdb::jsondb::KeyPath::Array(vec!["a".into()]);
    db.create_store(&StoreSchema::new("s", "id").index(IndexSchema::with_key_path("one", &one)))
        .unwrap();
    db.put("s", json!({"id": 1, "a": 7})).unwrap();
    db.put("s", json!({"id": 2, "a": 8})).unwrap();
    for v in [json!(7), json!([7])] {
        let planned = db.query("s").where_eq("[\"a\"]", v.clone()).collect();
        let scanned = db.query("s").where_eq("[\"a\"]", v).scan_only().collect();
        match (planned, scanned) {
            (Ok(p), Ok(s)) => assert_eq!(p, s),
            (p, s) => assert_eq!(p.is_err(), s.is_err(), "{p:?} / {s:?}"),
        }
    }
}

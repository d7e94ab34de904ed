//! The published crate's behaviours flowdb keeps, beyond what tests/published_api.rs
//! (a program written against 0.7.0) asserts: each rule of docs/compatibility.md that
//! a migrating program meets, including the differences kept on purpose.

mod common;

use flowdb::jsondb::{JsonDB, QueryBuilder, StoreSchema, TransactionMode};
use flowdb::{Config, Engine, Record, ScanRange, StatusCode};
use serde_json::{json, Value};

fn open(dir: &std::path::Path) -> JsonDB {
    JsonDB::open(common::small_config(dir)).unwrap()
}

/// The builder as is, or forced to scan and filter (both plans must agree).
fn plan(q: QueryBuilder<'_>, scan: bool) -> QueryBuilder<'_> {
    if scan {
        q.scan_only()
    } else {
        q
    }
}

fn ids(docs: &[Value]) -> Vec<Value> {
    docs.iter().map(|d| d["id"].clone()).collect()
}

/// A todo app: `done` is a boolean (or null) and is both indexed and filtered on.
#[test]
fn boolean_and_null_keys_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    db.create_object_store("todos", "id").unwrap();
    db.create_index("todos", "by_done", &["done"], false)
        .unwrap();
    for (id, done) in [
        (1, json!(false)),
        (2, json!(true)),
        (3, json!(null)),
        (4, json!(false)),
    ] {
        db.put("todos", json!({"id": id, "done": done})).unwrap();
    }
    db.put("todos", json!({"id": 5})).unwrap(); // no `done`: not indexed
    assert_eq!(
        ids(&db.get_by_index("todos", "by_done", &json!(false)).unwrap()),
        [json!(1), json!(4)]
    );
    assert_eq!(
        ids(&db.get_by_index("todos", "by_done", &json!(null)).unwrap()),
        [json!(3)]
    );
    for scan in [false, true] {
        let got = plan(db.query("todos").where_eq("done", json!(true)), scan)
            .collect()
            .unwrap();
        assert_eq!(ids(&got), [json!(2)]);
        // null < false < true: [null, true) holds null and false.
        let got = plan(db.query("todos"), scan)
            .where_range("done", json!(null), json!(true))
            .collect()
            .unwrap();
        assert_eq!(ids(&got), [json!(1), json!(3), json!(4)]);
        let got = plan(db.query("todos"), scan)
            .where_in("done", vec![json!(true), json!(null)])
            .collect()
            .unwrap();
        assert_eq!(ids(&got), [json!(2), json!(3)]);
    }
    // Booleans and null as primary keys, read back as written.
    db.create_object_store("flags", "k").unwrap();
    for k in [json!(true), json!(false), json!(null), json!([false, null])] {
        db.put("flags", json!({"k": k})).unwrap();
        assert_eq!(db.get("flags", &k).unwrap().unwrap()["k"], k);
    }
    let keys: Vec<Value> = db
        .scan("flags")
        .unwrap()
        .iter()
        .map(|d| d["k"].clone())
        .collect();
    assert_eq!(
        keys,
        [json!(null), json!(false), json!(true), json!([false, null])]
    );
    // Survives a flush and a reopen (the key bytes are on disk).
    db.engine().flush().unwrap();
    db.shutdown().unwrap();
    let db = open(dir.path());
    assert_eq!(
        ids(&db.get_by_index("todos", "by_done", &json!(false)).unwrap()),
        [json!(1), json!(4)]
    );
    db.shutdown().unwrap();
}

#[test]
fn compound_index_prefixes_and_half_open_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    db.create_object_store("people", "id").unwrap();
    db.create_index("people", "city_age", &["city", "age"], false)
        .unwrap();
    let rows = [
        (1, "NYC", 30),
        (2, "NYC", 25),
        (3, "LA", 30),
        (4, "NYD", 1),
        (5, "NYC", 40),
    ];
    for (id, city, age) in rows {
        db.put("people", json!({"id": id, "city": city, "age": age}))
            .unwrap();
    }
    // Fewer components than paths: a prefix, in (city, age, id) order.
    let nyc = [json!(2), json!(1), json!(5)];
    assert_eq!(
        ids(&db
            .get_by_index("people", "city_age", &json!("NYC"))
            .unwrap()),
        nyc
    );
    assert_eq!(
        ids(&db
            .get_by_index("people", "city_age", &json!(["NYC"]))
            .unwrap()),
        nyc
    );
    assert_eq!(
        ids(&db
            .get_by_index("people", "city_age", &json!(["NYC", 30]))
            .unwrap()),
        [json!(1)]
    );
    assert!(db
        .get_by_index("people", "city_age", &json!("NY"))
        .unwrap()
        .is_empty());
    // Half-open ranges with scalar bounds on the compound index.
    assert_eq!(
        ids(&db
            .range_by_index("people", "city_age", &json!("NYC"), &json!("NYD"))
            .unwrap()),
        nyc
    );
    assert_eq!(
        ids(&db
            .range_by_index(
                "people",
                "city_age",
                &json!(["NYC", 26]),
                &json!(["NYC", 40])
            )
            .unwrap()),
        [json!(1)]
    );
    assert!(db
        .range_by_index("people", "city_age", &json!("NYC"), &json!("NYC"))
        .unwrap()
        .is_empty());
    // The query builder on the fields of the compound index, both plans.
    for scan in [false, true] {
        let got = plan(db.query("people").where_eq("city", json!("NYC")), scan)
            .collect()
            .unwrap();
        assert_eq!(ids(&got), [json!(1), json!(2), json!(5)]);
        let got = plan(
            db.query("people").where_range("age", json!(25), json!(40)),
            scan,
        )
        .collect()
        .unwrap();
        assert_eq!(ids(&got), [json!(1), json!(2), json!(3)]);
        assert!(plan(
            db.query("people").where_range("age", json!(30), json!(30)),
            scan
        )
        .collect()
        .unwrap()
        .is_empty());
        assert!(plan(
            db.query("people").where_range("age", json!(40), json!(25)),
            scan
        )
        .collect()
        .unwrap()
        .is_empty());
    }
    db.shutdown().unwrap();
}

#[test]
fn schema_calls_are_idempotent_and_names_are_any_string() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    for _ in 0..3 {
        db.create_object_store("my users", "id").unwrap();
        db.create_index("my users", "", &["email"], true).unwrap();
        db.create_store(&StoreSchema::new("", "k").auto_increment(true))
            .unwrap();
    }
    let e = db
        .create_index("my users", "", &["email"], false)
        .unwrap_err();
    assert!(
        e.to_string().contains("already exists") && e.to_string().contains("different"),
        "{e}"
    );
    let e = db.create_store(&StoreSchema::new("", "k")).unwrap_err();
    assert!(e.to_string().contains("different key generator"), "{e}");
    db.put("my users", json!({"id": 1, "email": "a@x"}))
        .unwrap();
    assert_eq!(
        db.get_by_index("my users", "", &json!("a@x"))
            .unwrap()
            .len(),
        1
    );
    assert_eq!(db.put_auto("", json!({})).unwrap(), json!(1));
    let mut names = db.store_names();
    names.sort();
    assert_eq!(names, ["", "my users"]);
    db.shutdown().unwrap();
}

#[test]
fn errors_carry_the_published_words() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    db.create_object_store("s", "id").unwrap();
    db.create_index("s", "u", &["u"], true).unwrap();
    let text = |e: flowdb::Error| e.to_string();
    assert!(text(db.put("s", json!({"x": 1})).unwrap_err()).contains("missing"));
    assert!(text(db.put_auto("s", json!({})).unwrap_err()).contains("not auto-increment"));
    db.put("s", json!({"id": 1, "u": 5})).unwrap();
    assert!(text(db.put("s", json!({"id": 2, "u": 5})).unwrap_err()).contains("unique"));
    assert!(text(db.get("nope", &json!(1)).unwrap_err()).contains("not found"));
    assert!(text(db.get_by_index("s", "nope", &json!(1)).unwrap_err()).contains("not found"));
    db.shutdown().unwrap();
}

/// Kept on purpose (docs/compatibility.md): a unique violation fails its own `put`
/// at once and leaves the transaction usable; a unique index over duplicates is not
/// created.
#[test]
fn unique_rules_kept_on_purpose() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    db.create_object_store("s", "id").unwrap();
    db.create_index("s", "u", &["u"], true).unwrap();
    db.put("s", json!({"id": 1, "u": 5})).unwrap();
    let mut tx = db.transaction(&["s"], TransactionMode::ReadWrite).unwrap();
    let e = tx.put("s", json!({"id": 2, "u": 5})).unwrap_err();
    assert_eq!(e.code(), StatusCode::Constraint);
    tx.put("s", json!({"id": 3, "u": 6})).unwrap(); // still usable
    tx.commit().unwrap();
    assert_eq!(ids(&db.scan("s").unwrap()), [json!(1), json!(3)]);
    db.put("s", json!({"id": 4, "v": 1})).unwrap();
    db.put("s", json!({"id": 5, "v": 1})).unwrap();
    let e = db.create_index("s", "v", &["v"], true).unwrap_err();
    assert_eq!(e.code(), StatusCode::Constraint);
    assert!(db
        .get_store("s")
        .unwrap()
        .indexes
        .iter()
        .all(|i| i.name != "v"));
    db.shutdown().unwrap();
}

/// Every configuration 0.7.0 accepts opens and works, down to 1-byte blocks (each
/// block then holds one record) and one-table compaction thresholds.
#[test]
fn tiny_blocks_and_the_published_edge_settings_work() {
    for block_size in [1, 100] {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            block_size,
            compaction_threshold: 1,
            gc_interval_secs: 0,
            flush_interval_ms: 0,
            index_memory_budget_mb: 0,
            bloom_bits_per_key: 200,
            ..common::small_config(dir.path())
        };
        let e = Engine::open(config.clone()).unwrap();
        for round in 0..3 {
            let recs: Vec<Record> = (0..300)
                .map(|i| {
                    Record::new(
                        format!("k{:03}", i % 30),
                        round * 100 + i,
                        vec![i as u8; 40],
                    )
                })
                .collect();
            e.write_batch(&recs).unwrap();
            e.flush().unwrap();
        }
        e.trigger_compaction().unwrap();
        assert_eq!(e.scan(ScanRange::all()).unwrap().count(), 900);
        assert_eq!(e.get("k007", 207).unwrap().unwrap().value, vec![7u8; 40]);
        e.shutdown().unwrap();
        let e = Engine::open(config).unwrap();
        assert_eq!(e.get_latest("k029").unwrap().unwrap().ts, 499);
        e.shutdown().unwrap();
    }
}

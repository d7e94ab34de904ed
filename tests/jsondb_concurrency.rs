//! Read-only transactions alongside read-write ones on one store: each read-only
//! transaction sees one unchanging snapshot, never a half-committed transaction.

mod common;

use flowdb::jsondb::{JsonDB, TransactionMode};
use serde_json::json;

#[test]
fn readers_never_see_a_torn_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let db = JsonDB::open(common::small_config(dir.path())).unwrap();
    db.create_object_store("acct", "id").unwrap();
    db.put("acct", json!({"id": "a", "n": 100})).unwrap();
    db.put("acct", json!({"id": "b", "n": 0})).unwrap();
    std::thread::scope(|s| {
        for w in 0..2 {
            let db = &db;
            s.spawn(move || {
                for i in 0..150 {
                    let mut tx = db
                        .transaction(&["acct"], TransactionMode::ReadWrite)
                        .unwrap();
                    let a = tx.get("acct", &json!("a")).unwrap().unwrap()["n"]
                        .as_i64()
                        .unwrap();
                    let b = tx.get("acct", &json!("b")).unwrap().unwrap()["n"]
                        .as_i64()
                        .unwrap();
                    let amount = (i + w) % 7 - 3;
                    tx.put("acct", json!({"id": "a", "n": a - amount})).unwrap();
                    tx.put("acct", json!({"id": "b", "n": b + amount})).unwrap();
                    tx.commit().unwrap();
                }
            });
        }
        for _ in 0..2 {
            let db = &db;
            s.spawn(move || {
                for _ in 0..300 {
                    let tx = db
                        .transaction(&["acct"], TransactionMode::ReadOnly)
                        .unwrap();
                    let first: i64 = tx
                        .scan("acct")
                        .unwrap()
                        .iter()
                        .map(|d| d["n"].as_i64().unwrap())
                        .sum();
                    let again: i64 = tx
                        .scan("acct")
                        .unwrap()
                        .iter()
                        .map(|d| d["n"].as_i64().unwrap())
                        .sum();
                    assert_eq!((first, again), (100, 100), "a torn or moving view");
                }
            });
        }
    });
    let total: i64 = db
        .scan("acct")
        .unwrap()
        .iter()
        .map(|d| d["n"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 100);
}

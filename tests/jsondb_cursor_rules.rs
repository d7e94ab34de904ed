//! The IndexedDB rules of cursors, bounded reads and the writes `add`, `delete(range)`
//! and `clear`, one test per rule, named after the spec's section and citing the
//! web-platform-tests file (IndexedDB/) whose scenario it restates. Exceptions map
//! to flowdb's codes as docs/jsondb.md lists: TypeError, InvalidStateError and
//! InvalidAccessError → InvalidArgument, DataError → Data, ConstraintError →
//! Constraint, ReadOnlyError → ReadOnly, TransactionInactiveError →
//! TransactionInactive.

mod common;

use flowdb::jsondb::{Direction, IndexSchema, JsonDB, KeyRange, StoreSchema, TransactionMode};
use flowdb::StatusCode;
use serde_json::{json, Value};

fn db(dir: &std::path::Path) -> JsonDB {
    let db = JsonDB::open(common::small_config(dir)).unwrap();
    db.create_store(
        &StoreSchema::new("s", "id")
            .auto_increment(true)
            .index(IndexSchema::new("name", "name")),
    )
    .unwrap();
    for (id, name) in [(1, "b"), (2, "a"), (3, "b"), (4, "c"), (5, "a")] {
        db.put("s", json!({"id": id, "name": name})).unwrap();
    }
    db
}

fn code<T: std::fmt::Debug>(r: flowdb::Result<T>) -> StatusCode {
    r.unwrap_err().code()
}

fn r(lo: i64, hi: i64) -> KeyRange {
    KeyRange::bound(&json!(lo), &json!(hi), false, false).unwrap()
}

/// §dom-idbcursor-advance: a count of 0 is a TypeError
/// (idbcursor-advance-invalid.any.js); advancing past the end leaves no entry
/// (idbcursor-advance.any.js).
#[test]
fn cursor_advance() {
    let d = tempfile::tempdir().unwrap();
    let db = db(d.path());
    let mut c = db
        .open_cursor("s", None, &KeyRange::all(), Direction::Next, false)
        .unwrap();
    assert_eq!(code(c.advance(0)), StatusCode::InvalidArgument);
    assert!(c.advance(2).unwrap());
    assert_eq!(c.key(), Some(&json!(3)));
    assert!(!c.advance(5).unwrap());
    assert_eq!(c.key(), None);
    assert_eq!(code(c.advance(1)), StatusCode::InvalidArgument);
}

/// §dom-idbcursor-continue: a key not past the cursor's position in its direction
/// is a DataError (idbcursor_continue_invalid.htm, idbcursor-continue-exception-order.any.js);
/// an index cursor moves to the first entry at or past the key
/// (idbcursor_continue_index.htm).
#[test]
fn cursor_continue_to() {
    let d = tempfile::tempdir().unwrap();
    let db = db(d.path());
    let mut c = db
        .open_cursor("s", Some("name"), &KeyRange::all(), Direction::Next, false)
        .unwrap();
    assert_eq!(
        (c.key(), c.primary_key()),
        (Some(&json!("a")), Some(&json!(2)))
    );
    assert_eq!(code(c.continue_to(&json!("a"))), StatusCode::Data);
    assert_eq!(code(c.continue_to(&json!({}))), StatusCode::Data); // not a key
    assert!(c.continue_to(&json!("bb")).unwrap());
    assert_eq!(c.key(), Some(&json!("c")));
    let mut p = db
        .open_cursor("s", Some("name"), &KeyRange::all(), Direction::Prev, false)
        .unwrap();
    assert_eq!(code(p.continue_to(&json!("d"))), StatusCode::Data);
    assert!(p.continue_to(&json!("b")).unwrap());
    assert_eq!(
        (p.key(), p.primary_key()),
        (Some(&json!("b")), Some(&json!(3)))
    );
}

/// §dom-idbcursor-continueprimarykey: only on index cursors in `next`/`prev`
/// (InvalidAccessError); (key, primary key) must lie past the position (DataError)
/// (idbcursor-continuePrimaryKey-exceptions.any.js, idbcursor-continuePrimaryKey.any.js).
#[test]
fn cursor_continue_primary_key() {
    let d = tempfile::tempdir().unwrap();
    let db = db(d.path());
    let mut s = db
        .open_cursor("s", None, &KeyRange::all(), Direction::Next, false)
        .unwrap();
    assert_eq!(
        code(s.continue_primary_key(&json!(2), &json!(2))),
        StatusCode::InvalidArgument
    );
    let mut u = db
        .open_cursor(
            "s",
            Some("name"),
            &KeyRange::all(),
            Direction::NextUnique,
            false,
        )
        .unwrap();
    assert_eq!(
        code(u.continue_primary_key(&json!("b"), &json!(1))),
        StatusCode::InvalidArgument
    );
    let mut c = db
        .open_cursor("s", Some("name"), &KeyRange::all(), Direction::Next, false)
        .unwrap();
    assert_eq!(
        code(c.continue_primary_key(&json!("a"), &json!(2))),
        StatusCode::Data
    );
    assert!(c.continue_primary_key(&json!("b"), &json!(2)).unwrap());
    assert_eq!(
        (c.key(), c.primary_key()),
        (Some(&json!("b")), Some(&json!(3)))
    );
}

/// §dom-idbcursor-update: the new value's key must be the cursor's primary key
/// (DataError); read-only transactions cannot update (ReadOnlyError); key cursors
/// have no value (InvalidStateError) (idbcursor_update_objectstore*.htm,
/// idbcursor_update_index*.htm).
#[test]
fn cursor_update_rules() {
    let d = tempfile::tempdir().unwrap();
    let db = db(d.path());
    let mut tx = db.transaction(&["s"], TransactionMode::ReadWrite).unwrap();
    let mut c = tx
        .open_cursor("s", &KeyRange::all(), Direction::Next)
        .unwrap();
    assert_eq!(
        code(c.update(json!({"id": 9, "name": "z"}))),
        StatusCode::Data
    );
    assert_eq!(c.update(json!({"id": 1, "name": "z"})).unwrap(), json!(1));
    assert_eq!(c.value().unwrap().unwrap()["name"], json!("b")); // until it moves
    drop(c);
    let mut k = tx
        .open_key_cursor("s", &KeyRange::all(), Direction::Next)
        .unwrap();
    assert_eq!(
        code(k.update(json!({"id": 1}))),
        StatusCode::InvalidArgument
    );
    assert_eq!(code(k.delete()), StatusCode::InvalidArgument);
    drop(k);
    tx.commit().unwrap();
    assert_eq!(db.get("s", &json!(1)).unwrap().unwrap()["name"], json!("z"));
    let mut c = db
        .open_cursor("s", None, &KeyRange::all(), Direction::Next, false)
        .unwrap();
    assert_eq!(code(c.update(json!({"id": 1}))), StatusCode::ReadOnly);
    assert_eq!(code(c.delete()), StatusCode::ReadOnly);
}

/// §dom-idbcursor-delete: deletes the record under the cursor, index entries too;
/// the cursor moves on normally (idbcursor_delete_objectstore.htm,
/// idbcursor_delete_index.htm).
#[test]
fn cursor_delete() {
    let d = tempfile::tempdir().unwrap();
    let db = db(d.path());
    let mut tx = db.transaction(&["s"], TransactionMode::ReadWrite).unwrap();
    let mut c = tx
        .open_index_cursor(
            "s",
            "name",
            &KeyRange::only(&json!("b")).unwrap(),
            Direction::Next,
        )
        .unwrap();
    let mut seen = Vec::new();
    while let Some(pk) = c.primary_key().cloned() {
        c.delete().unwrap();
        seen.push(pk);
        c.continue_().unwrap();
    }
    assert_eq!(seen, vec![json!(1), json!(3)]);
    drop(c);
    tx.commit().unwrap();
    assert_eq!(
        db.get_all_keys("s", &KeyRange::all(), None).unwrap(),
        vec![json!(2), json!(4), json!(5)]
    );
    assert!(db
        .get_by_index("s", "name", &json!("b"))
        .unwrap()
        .is_empty());
}

/// §transaction-lifetime: a cursor of a finished transaction fails with
/// TransactionInactiveError (idbcursor-continue-exception-order.any.js); a cursor
/// moved with another transaction is refused.
#[test]
fn cursor_after_its_transaction() {
    let d = tempfile::tempdir().unwrap();
    let db = db(d.path());
    let mut tx = db.transaction(&["s"], TransactionMode::ReadWrite).unwrap();
    let det = tx
        .open_detached_cursor("s", None, &KeyRange::all(), Direction::Next, false)
        .unwrap();
    let c = tx.resume_cursor(det).unwrap();
    assert_eq!(c.key(), Some(&json!(1)));
    let mut det = c.detach().unwrap();
    tx.commit_in_place().unwrap();
    assert_eq!(code(det.continue_in(&tx)), StatusCode::TransactionInactive);
    let other = db.transaction(&["s"], TransactionMode::ReadOnly).unwrap();
    assert_eq!(code(det.continue_in(&other)), StatusCode::InvalidArgument);
}

/// §dom-idbobjectstore-add: a key already there is a ConstraintError, and the
/// transaction stays usable (idbobjectstore_add4.htm, idbobjectstore_add8.htm).
#[test]
fn add_is_insert_only() {
    let d = tempfile::tempdir().unwrap();
    let db = db(d.path());
    let mut tx = db.transaction(&["s"], TransactionMode::ReadWrite).unwrap();
    assert_eq!(
        code(tx.add("s", json!({"id": 1, "name": "x"}))),
        StatusCode::Constraint
    );
    assert_eq!(tx.add("s", json!({"name": "new"})).unwrap(), json!(6));
    tx.commit().unwrap();
    assert_eq!(db.get("s", &json!(1)).unwrap().unwrap()["name"], json!("b"));
    assert_eq!(db.count("s").unwrap(), 6);
}

/// §dom-idbobjectstore-clear and §dom-idbobjectstore-delete: every record goes,
/// index entries too; the key generator is not reset (idbobjectstore_clear.htm,
/// idbobjectstore_clear2.htm, keygenerator-explicit.any.js); `delete(range)`
/// deletes the range (idbobjectstore_delete.htm).
#[test]
fn clear_and_delete_range() {
    let d = tempfile::tempdir().unwrap();
    let db = db(d.path());
    db.delete_range("s", &r(2, 4)).unwrap();
    assert_eq!(
        db.get_all_keys("s", &KeyRange::all(), None).unwrap(),
        vec![json!(1), json!(5)]
    );
    db.engine().flush().unwrap();
    let mut tx = db.transaction(&["s"], TransactionMode::ReadWrite).unwrap();
    tx.put("s", json!({"id": 7, "name": "q"})).unwrap();
    tx.clear("s").unwrap();
    assert_eq!(tx.count_range("s", &KeyRange::all()).unwrap(), 0);
    assert!(tx.get("s", &json!(1)).unwrap().is_none());
    tx.put("s", json!({"id": 2, "name": "a"})).unwrap();
    tx.commit().unwrap();
    assert_eq!(
        db.get_all_keys("s", &KeyRange::all(), None).unwrap(),
        vec![json!(2)]
    );
    assert_eq!(
        db.get_all_keys_by_index("s", "name", &KeyRange::all(), None)
            .unwrap(),
        vec![json!(2)]
    );
    assert_eq!(db.put_auto("s", json!({"name": "g"})).unwrap(), json!(8));
    // Aborted clear: nothing happened.
    let mut tx = db.transaction(&["s"], TransactionMode::ReadWrite).unwrap();
    tx.clear("s").unwrap();
    tx.abort();
    assert_eq!(db.count("s").unwrap(), 2);
}

/// §dom-idbobjectstore-getall: count 0 (or none) returns everything; the count
/// caps the results (idbobjectstore_getAll.any.js, idbindex_getAll.any.js,
/// idbobjectstore_getAllKeys.any.js, idbindex_getAllKeys.any.js);
/// §dom-idbobjectstore-getallrecords (idbobjectstore_getAllRecords.any.js);
/// §dom-idbobjectstore-count and §dom-idbobjectstore-getkey
/// (idbobjectstore_count.htm, idbobjectstore-getKey.any.js).
#[test]
fn bounded_reads() {
    let d = tempfile::tempdir().unwrap();
    let db = db(d.path());
    let all = KeyRange::all();
    assert_eq!(db.get_all("s", &all, Some(0)).unwrap().len(), 5);
    assert_eq!(
        db.get_all("s", &r(2, 5), Some(2)).unwrap()[1]["id"],
        json!(3)
    );
    let keys = db.get_all_keys_by_index("s", "name", &all, None).unwrap();
    assert_eq!(keys, [2, 5, 1, 3, 4].map(|k| json!(k)).to_vec());
    let recs = db
        .get_all_records_by_index::<Value>("s", "name", &all, Some(2), Direction::PrevUnique)
        .unwrap();
    let got: Vec<(Value, Value)> = recs.into_iter().map(|r| (r.key, r.primary_key)).collect();
    assert_eq!(got, vec![(json!("c"), json!(4)), (json!("b"), json!(1))]);
    assert_eq!(db.count_range("s", &r(2, 4)).unwrap(), 3);
    assert_eq!(
        db.get_key("s", &KeyRange::lower_bound(&json!(3), true).unwrap())
            .unwrap(),
        Some(json!(4))
    );
    assert_eq!(db.get_key("s", &r(10, 20)).unwrap(), None);
    assert_eq!(
        db.get_key_by_index("s", "name", &KeyRange::only(&json!("b")).unwrap())
            .unwrap(),
        Some(json!(1))
    );
    assert_eq!(code(db.get_all("nope", &all, None)), StatusCode::NotFound);
    assert_eq!(
        code(db.get_all_by_index("s", "nope", &all, None)),
        StatusCode::NotFound
    );
}

/// §cursor-iteration reads the transaction's current state: a cursor that read
/// ahead sees writes made after by another cursor or by a request of its
/// transaction (idbcursor-iterating-update.any.js, idbcursor_iterating.htm).
#[test]
fn cursors_see_writes_of_their_transaction_made_elsewhere() {
    let d = tempfile::tempdir().unwrap();
    let db = db(d.path());
    let mut tx = db.transaction(&["s"], TransactionMode::ReadWrite).unwrap();
    let all = KeyRange::all();
    let mut a = tx
        .open_detached_cursor("s", None, &all, Direction::Next, false)
        .unwrap();
    let mut b = tx
        .open_detached_cursor(
            "s",
            None,
            &KeyRange::only(&json!(3)).unwrap(),
            Direction::Next,
            false,
        )
        .unwrap();
    assert_eq!(a.key(), Some(&json!(1))); // `a` has read ahead 2..5
    b.update_in(&mut tx, json!({"id": 3, "name": "changed"}))
        .unwrap();
    tx.put("s", json!({"id": 2, "name": "new"})).unwrap();
    tx.delete("s", &json!(4)).unwrap();
    tx.put("s", json!({"id": 4.5, "name": "inserted"})).unwrap();
    let mut seen = Vec::new();
    while a.continue_in(&tx).unwrap() {
        let v: Value = a.value_as().unwrap().unwrap();
        seen.push((a.key().unwrap().clone(), v["name"].clone()));
    }
    assert_eq!(
        seen,
        vec![
            (json!(2), json!("new")),
            (json!(3), json!("changed")),
            (json!(4.5), json!("inserted")),
            (json!(5), json!("a")),
        ]
    );
}

/// §dom-idbcursor-continue: continuing a cursor that is past its end is an
/// InvalidStateError (idbcursor_continue_invalid.htm), also after its transaction
/// wrote a record beyond where it stopped (it once read on from there and came back).
#[test]
fn continuing_past_the_end_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    let db = db(d.path());
    let mut tx = db.transaction(&["s"], TransactionMode::ReadWrite).unwrap();
    let mut c = tx
        .open_detached_cursor("s", None, &r(1, 3), Direction::Next, false)
        .unwrap();
    while c.continue_in(&tx).unwrap() {}
    assert_eq!(code(c.continue_in(&tx)), StatusCode::InvalidArgument);
    tx.put("s", json!({"id": 2.5, "name": "late"})).unwrap();
    assert_eq!(code(c.continue_in(&tx)), StatusCode::InvalidArgument);
    assert_eq!(c.key(), None);
    // An empty range: past its end from the start.
    let mut empty = tx
        .open_detached_cursor("s", None, &r(10, 20), Direction::Next, false)
        .unwrap();
    assert_eq!(code(empty.continue_in(&tx)), StatusCode::InvalidArgument);
    drop(tx);
    let mut owned = db
        .open_cursor("s", None, &KeyRange::all(), Direction::Prev, true)
        .unwrap();
    while owned.continue_().unwrap() {}
    assert_eq!(code(owned.continue_()), StatusCode::InvalidArgument);
}

/// §cursor-iteration, prevunique: each step goes to a key below the current one,
/// also after the transaction adds an entry of the current key with a lower primary
/// key (idbcursor-direction-index.any.js; it was once reached, and the key shown
/// twice).
#[test]
fn prev_unique_moves_below_the_key_after_a_write() {
    let d = tempfile::tempdir().unwrap();
    let db = JsonDB::open(common::small_config(d.path())).unwrap();
    db.create_store(&StoreSchema::new("s", "id").index(IndexSchema::new("tag", "tag")))
        .unwrap();
    db.put("s", json!({"id": 2, "tag": "a"})).unwrap();
    db.put("s", json!({"id": 5, "tag": "b"})).unwrap();
    let mut tx = db.transaction(&["s"], TransactionMode::ReadWrite).unwrap();
    let open = |tx: &flowdb::jsondb::Transaction<'_>| {
        tx.open_detached_cursor(
            "s",
            Some("tag"),
            &KeyRange::all(),
            Direction::PrevUnique,
            false,
        )
        .unwrap()
    };
    let at = |c: &flowdb::jsondb::DetachedCursor| (c.key().cloned(), c.primary_key().cloned());
    let mut c = open(&tx);
    assert_eq!(at(&c), (Some(json!("b")), Some(json!(5))));
    tx.put("s", json!({"id": 1, "tag": "b"})).unwrap();
    assert!(c.continue_in(&tx).unwrap());
    assert_eq!(at(&c), (Some(json!("a")), Some(json!(2))));
    assert!(!c.continue_in(&tx).unwrap());
    // A fresh prevunique cursor sees the key's lowest primary key now.
    assert_eq!(at(&open(&tx)), (Some(json!("b")), Some(json!(1))));
}

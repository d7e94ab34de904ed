//! The change feed: `subscribe`, `subscribe_since`, `changes_since`, against what
//! was committed — in commit order, none missed or repeated across concurrent
//! writers, aborted transactions absent, resumable after a reopen, and a clear
//! error (not a silent gap) once the log no longer holds what is asked for.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use flowdb::jsondb::{
    Change, ChangeKind, JsonDB, KeyRange, StoreSchema, Subscription, TransactionMode,
};
use flowdb::StatusCode;
use serde_json::{json, Value};

fn open(dir: &std::path::Path) -> JsonDB {
    let db = JsonDB::open(common::small_config(dir)).unwrap();
    for s in ["a", "b"] {
        db.create_store(&StoreSchema::new(s, "id")).unwrap();
    }
    db
}

/// The keys of the changes after `seq`, in order.
fn keys_since(db: &JsonDB, seq: u64) -> Vec<Value> {
    db.changes_since(seq)
        .unwrap()
        .into_iter()
        .map(|c| c.key)
        .collect()
}

fn brief(c: &Change) -> (String, Value, ChangeKind) {
    (c.store.clone(), c.key.clone(), c.kind)
}

/// What `sub` has received so far, each change in brief.
/// The keys a subscription has received so far.
fn received_keys(sub: &Subscription) -> Vec<Value> {
    std::iter::from_fn(|| sub.try_recv())
        .map(|c| c.key)
        .collect()
}

/// Resuming at `since` is refused, by `changes_since` (`NotFound`, its message
/// saying `says`) and by `subscribe_since` alike.
fn refused(db: &JsonDB, since: u64, says: &str) {
    let err = db.changes_since(since).unwrap_err();
    assert_eq!(err.code(), StatusCode::NotFound, "{since}: {err}");
    assert!(err.to_string().contains(says), "{err}");
    let sub = db.subscribe_since(Some(since), &["a"], None);
    assert_eq!(sub.unwrap_err().code(), StatusCode::NotFound);
}

fn received(sub: &Subscription) -> Vec<(String, Value, ChangeKind)> {
    std::iter::from_fn(|| sub.try_recv())
        .map(|c| brief(&c))
        .collect()
}

#[test]
fn subscribers_get_committed_changes_in_order() {
    let d = tempfile::tempdir().unwrap();
    let db = open(d.path());
    let sub_a = db.subscribe(&["a"], None).unwrap();
    let ranged = db
        .subscribe(
            &["a", "b"],
            Some(&KeyRange::bound(&json!(2), &json!(3), false, false).unwrap()),
        )
        .unwrap();
    assert_eq!(
        db.subscribe(&["zz"], None).unwrap_err().code(),
        StatusCode::NotFound
    );

    let mut tx = db
        .transaction(&["a", "b"], TransactionMode::ReadWrite)
        .unwrap();
    tx.put("a", json!({"id": 1})).unwrap();
    tx.put("b", json!({"id": 2})).unwrap();
    tx.put("a", json!({"id": 3})).unwrap();
    tx.commit().unwrap();
    let mut tx = db.transaction(&["a"], TransactionMode::ReadWrite).unwrap();
    tx.put("a", json!({"id": 9})).unwrap();
    tx.abort(); // never delivered
    db.delete("a", &json!(1)).unwrap();
    db.delete("a", &json!(100)).unwrap(); // nothing there: no change
    db.clear("a").unwrap();

    let got: Vec<Change> = std::iter::from_fn(|| sub_a.try_recv()).collect();
    let brief_a: Vec<_> = got.iter().map(brief).collect();
    assert_eq!(
        brief_a,
        vec![
            ("a".into(), json!(1), ChangeKind::Put),
            ("a".into(), json!(3), ChangeKind::Put),
            ("a".into(), json!(1), ChangeKind::Delete),
            ("a".into(), Value::Null, ChangeKind::Clear),
        ]
    );
    assert_eq!(
        got[0].seq, got[1].seq,
        "one transaction, one sequence number"
    );
    assert!(got[1].seq < got[2].seq && got[2].seq < got[3].seq);
    let ranged = received(&ranged);
    assert_eq!(
        ranged,
        vec![
            // Within a commit: by store (in creation order), then key.
            ("a".into(), json!(3), ChangeKind::Put),
            ("b".into(), json!(2), ChangeKind::Put),
            ("a".into(), Value::Null, ChangeKind::Clear),
        ]
    );
    assert_eq!(db.last_change_seq(), got[3].seq);
}

/// A document put and deleted again in one transaction was never committed: no
/// change for it. One that was committed before is reported deleted, and one
/// whose store the transaction cleared is covered by the clear.
#[test]
fn a_document_created_and_deleted_in_one_transaction_is_no_change() {
    let d = tempfile::tempdir().unwrap();
    let db = open(d.path());
    db.put("a", json!({"id": 1})).unwrap();
    db.put("b", json!({"id": 5})).unwrap();
    let before = db.last_change_seq();
    let sub = db.subscribe(&["a", "b"], None).unwrap();

    let mut tx = db.transaction(&["a"], TransactionMode::ReadWrite).unwrap();
    tx.put("a", json!({"id": 2})).unwrap();
    tx.delete("a", &json!(2)).unwrap();
    tx.commit().unwrap();
    assert_eq!(sub.try_recv(), None, "nothing committed changed");
    assert_eq!(db.last_change_seq(), before);
    assert!(db.changes_since(before).unwrap().is_empty());

    let mut tx = db
        .transaction(&["a", "b"], TransactionMode::ReadWrite)
        .unwrap();
    tx.put("a", json!({"id": 1, "v": 2})).unwrap();
    tx.delete("a", &json!(1)).unwrap(); // committed before: a delete
    tx.put("a", json!({"id": 3})).unwrap();
    tx.delete("a", &json!(3)).unwrap(); // never committed
    tx.clear("b").unwrap();
    tx.put("b", json!({"id": 5})).unwrap();
    tx.delete("b", &json!(5)).unwrap(); // the clear covers it
    tx.commit().unwrap();
    let got = received(&sub);
    assert_eq!(
        got,
        vec![
            // Clears first: they are applied first.
            ("b".into(), Value::Null, ChangeKind::Clear),
            ("a".into(), json!(1), ChangeKind::Delete),
        ]
    );
    assert_eq!(db.get("a", &json!(1)).unwrap(), None);
    assert_eq!(db.get("b", &json!(5)).unwrap(), None);
}

#[test]
fn changes_since_resumes_after_a_reopen() {
    let d = tempfile::tempdir().unwrap();
    let db = open(d.path());
    for i in 0..5 {
        db.put("a", json!({"id": i})).unwrap();
    }
    let all = db.changes_since(0).unwrap();
    assert_eq!(all.len(), 5);
    let mid = all[2].seq;
    let last = db.last_change_seq();
    db.shutdown().unwrap();

    let db = open(d.path());
    assert_eq!(db.last_change_seq(), last, "the sequence is read back");
    let rest = keys_since(&db, mid);
    assert_eq!(rest, vec![json!(3), json!(4)]);
    assert!(db.changes_since(last).unwrap().is_empty());
    db.put("b", json!({"id": 7})).unwrap();
    assert!(
        db.last_change_seq() > last,
        "sequence numbers are never reused"
    );
    // subscribe_since: the logged changes after `mid`, then live ones, no seam.
    let sub = db.subscribe_since(Some(mid), &["a", "b"], None).unwrap();
    db.put("a", json!({"id": 8})).unwrap();
    assert_eq!(
        received_keys(&sub),
        vec![json!(3), json!(4), json!(7), json!(8)]
    );
}

#[test]
fn expired_changes_are_an_error_not_a_gap() {
    let d = tempfile::tempdir().unwrap();
    let db = open(d.path());
    db.put("a", json!({"id": 1})).unwrap();
    let first = db.last_change_seq();
    db.set_change_retention(Duration::from_micros(1));
    db.put("a", json!({"id": 2})).unwrap();
    db.put("a", json!({"id": 3})).unwrap();
    std::thread::sleep(Duration::from_millis(5));
    db.set_change_retention(Duration::from_secs(3600));
    db.put("a", json!({"id": 4})).unwrap();
    // From `first` on, the changes to 2 and 3 expired: resuming there must fail...
    refused(&db, first, "no longer");
    // ...and from the last expired commit on it works.
    let all_but = db.changes_since(0).unwrap_err();
    assert_eq!(all_but.code(), StatusCode::NotFound);
}

/// The same across a reopen after every log record expired: the last sequence
/// number is kept, so a resume from before the expired commits is still `NotFound`
/// (it was an empty answer, and after the next commit the changes after it alone:
/// the expired ones skipped without an error), and numbering goes on above it.
#[test]
fn a_gap_is_found_after_a_reopen_once_the_log_expired() {
    let d = tempfile::tempdir().unwrap();
    let db = open(d.path());
    db.set_change_retention(Duration::from_millis(1));
    db.put("a", json!({"id": 1})).unwrap();
    let first = db.last_change_seq();
    db.put("a", json!({"id": 2})).unwrap();
    let second = db.last_change_seq();
    std::thread::sleep(Duration::from_millis(20));
    drop(db);
    let db = JsonDB::open(common::small_config(d.path())).unwrap();
    assert_eq!(db.last_change_seq(), second);
    assert_eq!(
        db.changes_since(first).unwrap_err().code(),
        StatusCode::NotFound
    );
    assert!(db.changes_since(second).unwrap().is_empty());
    db.put("a", json!({"id": 3})).unwrap();
    assert!(db.last_change_seq() > second);
    assert_eq!(
        db.changes_since(first).unwrap_err().code(),
        StatusCode::NotFound
    );
    let after = keys_since(&db, second);
    assert_eq!(after, vec![json!(3)]);
}

/// Four writers commit at once; a subscriber sees every commit exactly once, in
/// one order, the log holds the same, and replaying it gives the stored documents.
#[test]
fn concurrent_writers_neither_lose_nor_repeat() {
    let mut rng = common::rng("jsondb_feed_concurrent");
    let seed = rng.u64(..);
    let d = tempfile::tempdir().unwrap();
    let db = open(d.path());
    let sub = db.subscribe(&["a", "b"], None).unwrap();
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let db = &db;
            s.spawn(move || {
                let mut rng = fastrand::Rng::with_seed(seed + t);
                let store = if t % 2 == 0 { "a" } else { "b" };
                for i in 0..150u64 {
                    let mut tx = db
                        .transaction(&[store], TransactionMode::ReadWrite)
                        .unwrap();
                    for _ in 0..rng.usize(1..4) {
                        let id = rng.u64(0..30);
                        if rng.u8(..4) == 0 {
                            tx.delete(store, &json!(id)).unwrap();
                        } else {
                            tx.put(store, json!({"id": id, "t": t, "i": i})).unwrap();
                        }
                    }
                    tx.commit().unwrap();
                }
            });
        }
    });
    let live: Vec<Change> = std::iter::from_fn(|| sub.try_recv()).collect();
    let logged = db.changes_since(0).unwrap();
    assert_eq!(live, logged, "delivered and logged agree");
    assert!(live.windows(2).all(|w| w[0].seq <= w[1].seq));
    let commits: std::collections::BTreeSet<u64> = live.iter().map(|c| c.seq).collect();
    assert!(commits.len() >= 500, "{} commits", commits.len());
    let mut model: BTreeMap<(String, String), bool> = BTreeMap::new();
    for c in &live {
        model.insert(
            (c.store.clone(), c.key.to_string()),
            c.kind == ChangeKind::Put,
        );
    }
    for store in ["a", "b"] {
        let stored: Vec<String> = db
            .get_all_keys(store, &KeyRange::all(), None)
            .unwrap()
            .iter()
            .map(|k| k.to_string())
            .collect();
        let replayed: Vec<String> = model
            .iter()
            .filter(|((s, _), live)| s == store && **live)
            .map(|((_, k), _)| k.clone())
            .collect();
        let mut replayed = replayed;
        replayed.sort_by_key(|k| k.parse::<u64>().unwrap());
        assert_eq!(stored, replayed, "{store}");
    }
}

/// A renamed store's changes follow it (IndexedDB's rename keeps the store, and
/// the feed identifies stores by id): the logged ones resume under its new name,
/// its old name is unknown, and a live subscription made under the old name keeps
/// receiving. Changes report the store's current name, the logged ones included.
/// (The feed once kept the name only: after a rename the backlog under the new
/// name lacked the changes logged before it, and the live subscription went quiet.)
#[test]
fn a_renamed_store_keeps_its_changes_in_the_feed() {
    let d = tempfile::tempdir().unwrap();
    let cfg = || common::small_config(d.path());
    let db = JsonDB::open_with_version(cfg(), 1, |_, _, up| {
        up.create_object_store("users", "id")?;
        up.create_object_store("other", "id")
    })
    .unwrap();
    let since = db.last_change_seq();
    let sub = db.subscribe(&["users"], None).unwrap();
    db.put("users", json!({"id": 1})).unwrap();
    db.put("other", json!({"id": 7})).unwrap();
    db.upgrade_to(2, |_, _, up| up.rename_store("users", "people"))
        .unwrap();
    db.put("people", json!({"id": 2})).unwrap();

    let expected = vec![
        ("people".to_string(), json!(1), ChangeKind::Put),
        ("people".to_string(), json!(2), ChangeKind::Put),
    ];
    let resumed = db.subscribe_since(Some(since), &["people"], None).unwrap();
    let got = received(&resumed);
    assert_eq!(got, expected, "the backlog follows the store");
    assert_eq!(
        db.subscribe_since(Some(since), &["users"], None)
            .unwrap_err()
            .code(),
        StatusCode::NotFound,
        "the old name is gone"
    );
    let live = received(&sub);
    assert_eq!(
        live,
        vec![
            ("users".to_string(), json!(1), ChangeKind::Put),
            ("people".to_string(), json!(2), ChangeKind::Put),
        ],
        "the live subscription keeps receiving, under the current name"
    );
    let logged: Vec<_> = db
        .changes_since(since)
        .unwrap()
        .iter()
        .map(brief)
        .filter(|c| c.0 != "other")
        .collect();
    assert_eq!(logged, expected, "logged changes report the current name");

    // Across a reopen, and a store created under the old name is another store.
    drop(sub);
    drop(resumed);
    db.shutdown().unwrap();
    let db = JsonDB::open_with_version(cfg(), 3, |_, _, up| up.create_object_store("users", "id"))
        .unwrap();
    db.put("users", json!({"id": 9})).unwrap();
    let resumed = db.subscribe_since(Some(since), &["people"], None).unwrap();
    let got = received(&resumed);
    assert_eq!(got, expected);
    let users = db.subscribe_since(Some(since), &["users"], None).unwrap();
    let got = received(&users);
    assert_eq!(got, vec![("users".to_string(), json!(9), ChangeKind::Put)]);
}

/// A change log written before store ids were logged (records of `(store, key,
/// kind)` only) still reads: its changes are matched by the name they were
/// logged under.
#[test]
fn a_log_written_before_store_ids_still_reads() {
    let d = tempfile::tempdir().unwrap();
    let db = open(d.path());
    // The previous format: `0x03 seq` → `{prev, changes: [[store, key, kind]]}`,
    // and the head `0x00 "feed"` → seq.
    let seq = flowdb::now_micros() as u64;
    let mut batch = flowdb::WriteBatch::new();
    let mut key = vec![0x03];
    key.extend_from_slice(&seq.to_be_bytes());
    let value = br#"{"prev":0,"changes":[["a",1,"Put"],["b",5,"Delete"]]}"#.to_vec();
    batch.put(flowdb::Record::new(key, 0, value).with_expire_at(i64::MAX));
    batch.put_permanent(flowdb::Record::new(
        b"\x00feed".to_vec(),
        0,
        seq.to_be_bytes().to_vec(),
    ));
    db.engine()
        .write(&batch, &flowdb::WriteOptions::default())
        .unwrap();
    db.shutdown().unwrap();

    let db = open(d.path());
    assert_eq!(db.last_change_seq(), seq);
    db.put("a", json!({"id": 2})).unwrap();
    let all: Vec<_> = db.changes_since(0).unwrap().iter().map(brief).collect();
    assert_eq!(
        all,
        vec![
            ("a".into(), json!(1), ChangeKind::Put),
            ("b".into(), json!(5), ChangeKind::Delete),
            ("a".into(), json!(2), ChangeKind::Put),
        ]
    );
    let sub = db.subscribe_since(Some(0), &["a"], None).unwrap();
    assert_eq!(received_keys(&sub), vec![json!(1), json!(2)]);
}

/// The newest log records expiring (the retention shortened after older ones were
/// written) is a gap too: `NotFound`, not the older changes without the newer.
#[test]
fn expired_newest_changes_are_an_error_not_a_gap() {
    let d = tempfile::tempdir().unwrap();
    let db = open(d.path());
    db.put("a", json!({"id": 1})).unwrap();
    let first = db.last_change_seq();
    db.set_change_retention(Duration::from_micros(1));
    db.put("a", json!({"id": 2})).unwrap();
    let second = db.last_change_seq();
    std::thread::sleep(Duration::from_millis(5));
    for since in [0, first] {
        refused(&db, since, "no longer");
    }
    assert!(db.changes_since(second).unwrap().is_empty());
}

/// A resume point this log never had (a sequence number from a newer copy of the
/// database, before an older checkpoint was restored, or from commits lost at a
/// crash) is `NotFound`, not an empty answer and then only the later changes.
#[test]
fn a_resume_point_this_log_never_had_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    let db = open(d.path());
    db.put("a", json!({"id": 1})).unwrap();
    let s1 = db.last_change_seq();
    let ck = d.path().join("ck");
    db.checkpoint(&ck).unwrap();
    db.put("a", json!({"id": 2})).unwrap();
    let s2 = db.last_change_seq();
    db.shutdown().unwrap();

    let db = JsonDB::open(common::small_config(&ck)).unwrap();
    assert_eq!(db.last_change_seq(), s1);
    let unknown = |db: &JsonDB| refused(db, s2, "not in this database");
    unknown(&db);
    // A point between two commits reads the commits after it (`first - 1` is how
    // a reader asks for a log from its first commit): once this copy has a newer
    // commit, a point from the lost future looks the same, and is read so.
    db.put("a", json!({"id": 3})).unwrap();
    assert!(db.last_change_seq() > s2);
    assert_eq!(keys_since(&db, s1 + 1), vec![json!(3)]);
    assert_eq!(keys_since(&db, s1), vec![json!(3)]);
}

/// `clear` is one `Clear` change, also when a transaction clears a store twice.
#[test]
fn clearing_twice_in_one_transaction_is_one_clear() {
    let d = tempfile::tempdir().unwrap();
    let db = open(d.path());
    db.put("a", json!({"id": 1})).unwrap();
    let since = db.last_change_seq();
    let sub = db.subscribe(&["a"], None).unwrap();
    let mut tx = db.transaction(&["a"], TransactionMode::ReadWrite).unwrap();
    tx.clear("a").unwrap();
    tx.put("a", json!({"id": 2})).unwrap();
    tx.clear("a").unwrap();
    tx.put("a", json!({"id": 3})).unwrap();
    tx.commit().unwrap();
    let expected = vec![
        ("a".to_string(), Value::Null, ChangeKind::Clear),
        ("a".to_string(), json!(3), ChangeKind::Put),
    ];
    let got = received(&sub);
    assert_eq!(got, expected);
    let logged: Vec<_> = db.changes_since(since).unwrap().iter().map(brief).collect();
    assert_eq!(logged, expected);
}

//! Randomized model test of cursors and bounded reads (IndexedDB's `openCursor`,
//! `openKeyCursor`, `getAll`, `getAllKeys`, `getAllRecords`, `getKey`, `count`) and
//! of `add`, `delete_range` and `clear`: random writes in read-write transactions
//! (checked before commit, through the transaction's own writes, and after commit
//! or abort), flushes, and on stores and on plain, unique and multi-entry indexes
//! every read form in every direction over random ranges, compared with a model
//! (a BTreeMap of documents and the index entries derived from it). Cursors move by
//! `continue_`, `continue_to`, `continue_primary_key` and `advance` at random.
//! Seed printed; replay with FLOWDB_SEED=<seed>.

mod common;

use std::collections::BTreeMap;

use flowdb::jsondb::{
    encode_key, Direction, DocRecord, IndexSchema, JsonDB, KeyRange, KeyRef, StoreSchema,
    Transaction, TransactionMode,
};
use flowdb::StatusCode;
use serde_json::{json, Value};

const DIRS: [Direction; 4] = [
    Direction::Next,
    Direction::Prev,
    Direction::NextUnique,
    Direction::PrevUnique,
];

/// Keys of mixed types: numbers, strings and arrays (IndexedDB key order).
fn random_key(rng: &mut fastrand::Rng) -> Value {
    match rng.u8(..6) {
        0..=2 => json!(rng.i64(0..30)),
        3 | 4 => json!(format!("k{}", rng.u8(0..12))),
        _ => json!([rng.u8(0..3), format!("s{}", rng.u8(0..3))]),
    }
}

fn random_doc(rng: &mut fastrand::Rng) -> Value {
    let mut d = json!({"id": random_key(rng)});
    if rng.u8(..8) != 0 {
        d["v"] = json!(rng.i64(0..6));
    }
    if rng.u8(..3) == 0 {
        d["u"] = json!(format!("u{}", rng.u8(0..25)));
    }
    let tags: Vec<Value> = (0..rng.usize(0..4))
        .map(|_| json!(format!("t{}", rng.u8(0..4))))
        .collect();
    d["tags"] = Value::Array(tags);
    d
}

fn enc(v: &Value) -> Vec<u8> {
    encode_key(v).unwrap()
}

/// The model: documents by encoded primary key.
type Docs = BTreeMap<Vec<u8>, Value>;

/// An entry as the model lists it: (encoded key, encoded primary key, key, primary key).
type Entry = (Vec<u8>, Vec<u8>, Value, Value);

/// A source's entries in ascending (key, primary key) order.
fn entries(docs: &Docs, index: Option<&str>) -> Vec<Entry> {
    let mut out = Vec::new();
    for (pk, d) in docs {
        let keys: Vec<Value> = match index {
            None => vec![d["id"].clone()],
            Some("v") | Some("u") => d
                .get(index.unwrap())
                .cloned()
                .into_iter()
                .collect::<Vec<_>>(),
            Some(_) => {
                let mut t: Vec<Value> = d["tags"].as_array().unwrap().clone();
                t.sort_by_key(enc);
                t.dedup();
                t
            }
        };
        for k in keys {
            out.push((enc(&k), pk.clone(), k, d["id"].clone()));
        }
    }
    out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    out
}

/// What a walk of `entries` in `range` and `dir` yields.
fn walk(entries: &[Entry], range: &KeyRange, dir: Direction, index: bool) -> Vec<Entry> {
    let mut v: Vec<Entry> = entries
        .iter()
        .filter(|e| range.includes(&e.2).unwrap())
        .cloned()
        .collect();
    let unique = index && matches!(dir, Direction::NextUnique | Direction::PrevUnique);
    if unique {
        v.dedup_by(|b, a| a.0 == b.0); // keeps the lowest primary key of each key
    }
    if matches!(dir, Direction::Prev | Direction::PrevUnique) {
        v.reverse();
    }
    v
}

fn unique_clash(docs: &Docs, doc: &Value) -> bool {
    let pk = enc(&doc["id"]);
    doc.get("u")
        .is_some_and(|u| docs.iter().any(|(k, d)| *k != pk && d.get("u") == Some(u)))
}

fn random_range(rng: &mut fastrand::Rng, index: Option<&str>) -> KeyRange {
    let key = |rng: &mut fastrand::Rng| match index {
        None => random_key(rng),
        Some("v") => json!(rng.i64(-1..7)),
        Some("u") => json!(format!("u{}", rng.u8(0..25))),
        Some(_) => json!(format!("t{}", rng.u8(0..4))),
    };
    match rng.u8(..5) {
        0 => KeyRange::all(),
        1 => KeyRange::only(&key(rng)).unwrap(),
        2 => KeyRange::lower_bound(&key(rng), rng.bool()).unwrap(),
        3 => KeyRange::upper_bound(&key(rng), rng.bool()).unwrap(),
        _ => {
            let (a, b) = (key(rng), key(rng));
            let (lo, hi) = if enc(&a) <= enc(&b) { (a, b) } else { (b, a) };
            KeyRange::bound(&lo, &hi, rng.bool(), rng.bool()).unwrap()
        }
    }
}

fn same(a: &Value, b: &Value) -> bool {
    enc(a) == enc(b)
}

/// Every bounded read of one source, one range, one direction, against the model.
fn check_reads(tx: &Transaction<'_>, docs: &Docs, rng: &mut fastrand::Rng, what: &str) {
    for index in [None, Some("v"), Some("u"), Some("tags")] {
        let range = random_range(rng, index);
        let dir = DIRS[rng.usize(..4)];
        let count = [None, Some(0), Some(rng.usize(1..6))][rng.usize(..3)];
        let all = entries(docs, index);
        let want = walk(&all, &range, dir, index.is_some());
        let limit = match count {
            None | Some(0) => usize::MAX,
            Some(n) => n,
        };
        let ctx = format!("{what}: {index:?} {range:?} {dir:?} count {count:?}");
        let got: Vec<DocRecord> = match index {
            None => tx.get_all_records("s", &range, count, dir),
            Some(i) => tx.get_all_records_by_index("s", i, &range, count, dir),
        }
        .unwrap();
        let want_n: Vec<&Entry> = want.iter().take(limit).collect();
        assert_eq!(got.len(), want_n.len(), "{ctx}: get_all_records");
        for (g, w) in got.iter().zip(&want_n) {
            assert!(same(&g.key, &w.2) && same(&g.primary_key, &w.3), "{ctx}");
            assert_eq!(g.value, docs[&w.1], "{ctx}");
        }
        // Ascending forms.
        let asc = walk(&all, &range, Direction::Next, index.is_some());
        let asc_n: Vec<&Entry> = asc.iter().take(limit).collect();
        let (keys, vals, first, n) = match index {
            None => (
                tx.get_all_keys("s", &range, count).unwrap(),
                tx.get_all("s", &range, count).unwrap(),
                tx.get_key("s", &range).unwrap(),
                tx.count_range("s", &range).unwrap(),
            ),
            Some(i) => (
                tx.get_all_keys_by_index("s", i, &range, count).unwrap(),
                tx.get_all_by_index("s", i, &range, count).unwrap(),
                tx.get_key_by_index("s", i, &range).unwrap(),
                tx.count_by_index("s", i, &range).unwrap(),
            ),
        };
        let text = match index {
            None => tx.get_all_keys_json("s", &range, count).unwrap(),
            Some(i) => tx
                .get_all_keys_by_index_json("s", i, &range, count)
                .unwrap(),
        };
        assert_eq!(
            text,
            serde_json::to_string(&keys).unwrap(),
            "{ctx}: get_all_keys_json"
        );
        // The lent form hands out the same keys, and stops when told to.
        let stop = rng.usize(..=asc_n.len() + 1);
        let mut lent = Vec::new();
        let mut take = |k: KeyRef<'_>| {
            lent.push(k.to_value().unwrap());
            lent.len() < stop
        };
        let handed = match index {
            None => tx.get_all_keys_each("s", &range, count, &mut take),
            Some(i) => tx.get_all_keys_by_index_each("s", i, &range, count, &mut take),
        }
        .unwrap();
        let want_lent = keys.len().min(stop.max(1));
        assert_eq!((handed, lent.len()), (want_lent, want_lent), "{ctx}: each");
        assert_eq!(lent[..], keys[..want_lent], "{ctx}: get_all_keys_each");
        assert_eq!(n, asc.len(), "{ctx}: count");
        assert_eq!(keys.len(), asc_n.len(), "{ctx}: get_all_keys");
        for (k, w) in keys.iter().zip(&asc_n) {
            assert!(same(k, &w.3), "{ctx}: get_all_keys");
        }
        let want_vals: Vec<&Value> = asc_n.iter().map(|w| &docs[&w.1]).collect();
        assert_eq!(vals.iter().collect::<Vec<_>>(), want_vals, "{ctx}: get_all");
        assert_eq!(
            first.map(|k| enc(&k)),
            asc.first().map(|w| enc(&w.3)),
            "{ctx}: get_key"
        );
    }
}

/// Walks a cursor with random moves and compares every position with the model.
fn check_cursor(tx: &mut Transaction<'_>, docs: &Docs, rng: &mut fastrand::Rng, what: &str) {
    let index = [None, Some("v"), Some("u"), Some("tags")][rng.usize(..4)];
    let range = random_range(rng, index);
    let dir = DIRS[rng.usize(..4)];
    let key_only = rng.bool();
    let want = walk(&entries(docs, index), &range, dir, index.is_some());
    let ctx = format!("{what}: cursor {index:?} {range:?} {dir:?} key_only {key_only}");
    let mut c = match (index, key_only) {
        (None, false) => tx.open_cursor("s", &range, dir),
        (None, true) => tx.open_key_cursor("s", &range, dir),
        (Some(i), false) => tx.open_index_cursor("s", i, &range, dir),
        (Some(i), true) => tx.open_index_key_cursor("s", i, &range, dir),
    }
    .unwrap();
    let reverse = matches!(dir, Direction::Prev | Direction::PrevUnique);
    let mut at = 0; // index into `want` of the cursor's entry
    loop {
        match want.get(at) {
            None => {
                assert!(c.key().is_none(), "{ctx}: past the end at {at}");
                break;
            }
            Some(w) => {
                let (k, pk) = (c.key().expect(&ctx), c.primary_key().unwrap());
                assert!(same(k, &w.2) && same(pk, &w.3), "{ctx}: at {at}: {k} {pk}");
                if key_only {
                    assert!(c.raw_value().is_none(), "{ctx}");
                } else {
                    assert_eq!(c.value().unwrap().as_ref(), Some(&docs[&w.1]), "{ctx}");
                }
            }
        }
        let cur = &want[at];
        match rng.u8(..6) {
            0 => {
                let n = rng.u32(1..4);
                c.advance(n).unwrap();
                at += n as usize;
            }
            1 => {
                // continue_to a key past the current one (or an error when it is not).
                let target = match index {
                    None => random_key(rng),
                    Some("v") => json!(rng.i64(-1..7)),
                    Some("u") => json!(format!("u{}", rng.u8(0..25))),
                    Some(_) => json!(format!("t{}", rng.u8(0..4))),
                };
                let t = enc(&target);
                let past = if reverse { t < cur.0 } else { t > cur.0 };
                let r = c.continue_to(&target);
                if !past {
                    assert_eq!(r.unwrap_err().code(), StatusCode::Data, "{ctx}");
                    continue;
                }
                r.unwrap();
                at = (at + 1..want.len())
                    .find(|&i| {
                        if reverse {
                            want[i].0 <= t
                        } else {
                            want[i].0 >= t
                        }
                    })
                    .unwrap_or(want.len());
            }
            2 if index.is_some() && matches!(dir, Direction::Next | Direction::Prev) => {
                // continue_primary_key to a later entry's key and a random primary key.
                let later = &want[rng.usize(at..want.len())];
                let pk = random_key(rng);
                let (tk, tp) = (later.0.clone(), enc(&pk));
                let past = if reverse {
                    (&tk, &tp) < (&cur.0, &cur.1)
                } else {
                    (&tk, &tp) > (&cur.0, &cur.1)
                };
                let r = c.continue_primary_key(&later.2, &pk);
                if !past {
                    assert_eq!(r.unwrap_err().code(), StatusCode::Data, "{ctx}");
                    continue;
                }
                r.unwrap();
                at = (at + 1..want.len())
                    .find(|&i| {
                        let e = (&want[i].0, &want[i].1);
                        if reverse {
                            e <= (&tk, &tp)
                        } else {
                            e >= (&tk, &tp)
                        }
                    })
                    .unwrap_or(want.len());
            }
            _ => {
                c.continue_().unwrap();
                at += 1;
            }
        }
        at = at.min(want.len());
    }
}

fn open(dir: &std::path::Path) -> JsonDB {
    let db = JsonDB::open(common::small_config(dir)).unwrap();
    db.create_store(
        &StoreSchema::new("s", "id")
            .index(IndexSchema::new("v", "v"))
            .index(IndexSchema::new("u", "u").unique(true))
            .index(IndexSchema::new("tags", "tags").multi_entry(true)),
    )
    .unwrap();
    db
}

#[test]
fn cursors_and_bounded_reads_match_the_model() {
    let mut rng = common::rng("jsondb_cursor_model");
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let mut docs = Docs::new();
    for round in 0..60 {
        let mut tx = db.transaction(&["s"], TransactionMode::ReadWrite).unwrap();
        let mut staged = docs.clone();
        for _ in 0..rng.usize(1..25) {
            match rng.u8(..20) {
                0..=10 => {
                    let d = random_doc(&mut rng);
                    let add = rng.u8(..4) == 0;
                    let exists = staged.contains_key(&enc(&d["id"]));
                    let r = if add {
                        tx.add("s", d.clone())
                    } else {
                        tx.put("s", d.clone())
                    };
                    if unique_clash(&staged, &d) || (add && exists) {
                        assert_eq!(r.unwrap_err().code(), StatusCode::Constraint);
                    } else {
                        r.unwrap();
                        staged.insert(enc(&d["id"]), d);
                    }
                }
                11..=13 => {
                    let k = random_key(&mut rng);
                    tx.delete("s", &k).unwrap();
                    staged.remove(&enc(&k));
                }
                14 | 15 => {
                    let range = random_range(&mut rng, None);
                    tx.delete_range("s", &range).unwrap();
                    staged.retain(|_, d| !range.includes(&d["id"]).unwrap());
                }
                16 if rng.u8(..4) == 0 => {
                    tx.clear("s").unwrap();
                    staged.clear();
                }
                _ => check_cursor(&mut tx, &staged, &mut rng, &format!("round {round} in txn")),
            }
        }
        check_reads(&tx, &staged, &mut rng, &format!("round {round} in txn"));
        if rng.u8(..5) == 0 {
            tx.abort();
        } else {
            tx.commit().unwrap();
            docs = staged;
        }
        if rng.u8(..6) == 0 {
            db.engine().flush().unwrap();
        }
        let tx = db.transaction(&["s"], TransactionMode::ReadOnly).unwrap();
        check_reads(&tx, &docs, &mut rng, &format!("round {round} committed"));
        drop(tx);
        let mut tx = db.transaction(&["s"], TransactionMode::ReadOnly).unwrap();
        for _ in 0..3 {
            check_cursor(
                &mut tx,
                &docs,
                &mut rng,
                &format!("round {round} committed"),
            );
        }
    }
}

/// A cursor holds one batch, not its results: it walks 5,000 documents (several
/// batches) in both directions, and sees writes made through it.
#[test]
fn cursors_read_in_batches_and_see_their_writes() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let mut tx = db.transaction(&["s"], TransactionMode::ReadWrite).unwrap();
    for i in 0..5000 {
        tx.put("s", json!({"id": i, "v": i % 10, "tags": []}))
            .unwrap();
    }
    tx.commit().unwrap();
    db.engine().flush().unwrap();
    for dir in [Direction::Next, Direction::Prev] {
        let mut c = db
            .open_cursor("s", None, &KeyRange::all(), dir, false)
            .unwrap();
        let mut n = 0i64;
        while let Some(k) = c.key() {
            let want = if dir == Direction::Next { n } else { 4999 - n };
            assert_eq!(k, &json!(want));
            n += 1;
            c.continue_().unwrap();
        }
        assert_eq!(n, 5000);
    }
    // Delete every odd document and double every even one through a cursor.
    let mut tx = db.transaction(&["s"], TransactionMode::ReadWrite).unwrap();
    let mut c = tx
        .open_cursor("s", &KeyRange::all(), Direction::Next)
        .unwrap();
    while let Some(k) = c.key().cloned() {
        let i = k.as_i64().unwrap();
        if i % 2 == 1 {
            c.delete().unwrap();
        } else {
            c.update(json!({"id": i, "v": i * 2, "tags": []})).unwrap();
        }
        c.continue_().unwrap();
    }
    drop(c);
    tx.commit().unwrap();
    assert_eq!(db.count("s").unwrap(), 2500);
    assert_eq!(db.get("s", &json!(42)).unwrap().unwrap()["v"], json!(84));
    assert_eq!(
        db.count_by_index("s", "v", &KeyRange::only(&json!(84)).unwrap())
            .unwrap(),
        1
    );
}

//! Randomized JsonDB model test: random puts (with unique-index clashes), deletes,
//! committed and aborted transactions, flushes and reopens, checked against a
//! BTreeMap; every query-builder query runs with and without indexes and is compared
//! with the model. Documents carry a `done` field that is true, false, null or
//! absent (null and booleans are keys: docs/jsondb.md), and the published crate's
//! lookups are checked too: `get_by_index` with a compound-index prefix and the
//! half-open `range_by_index`/`where_range`.
//! Seed printed; replay with FLOWDB_SEED=<seed>.

mod common;

use std::collections::BTreeMap;

use flowdb::jsondb::{
    Direction, IndexSchema, JsonDB, KeyRange, SortDir, StoreSchema, TransactionMode,
};
use flowdb::StatusCode;
use serde_json::{json, Value};

const CITIES: [&str; 3] = ["Oslo", "Lima", "Pune"];

fn random_doc(rng: &mut fastrand::Rng) -> Value {
    let id = rng.i64(0..40);
    let tags: Vec<&str> = ["a", "b", "c"].into_iter().filter(|_| rng.bool()).collect();
    let email = if rng.u8(..8) == 0 {
        "shared@x".to_string()
    } else {
        format!("u{id}@x")
    };
    let mut d = json!({"id": id, "city": CITIES[rng.usize(..3)], "tags": tags, "email": email});
    if rng.u8(..10) != 0 {
        d["age"] = json!(rng.i64(18..30));
    }
    match rng.u8(..4) {
        0 => {}
        1 => d["done"] = Value::Null,
        n => d["done"] = json!(n == 2),
    }
    d
}

/// Applies a put to the model as JsonDB must: a unique clash changes nothing.
fn model_put(model: &mut BTreeMap<i64, Value>, doc: &Value) -> Result<(), StatusCode> {
    let id = doc["id"].as_i64().unwrap();
    if model
        .iter()
        .any(|(k, d)| *k != id && d["email"] == doc["email"])
    {
        return Err(StatusCode::Constraint);
    }
    model.insert(id, doc.clone());
    Ok(())
}

fn check_queries(db: &JsonDB, model: &BTreeMap<i64, Value>, rng: &mut fastrand::Rng) {
    for _ in 0..4 {
        let city = CITIES[rng.usize(..3)];
        let (lo, hi) = (rng.i64(18..30), rng.i64(18..30));
        let (lo, hi) = (lo.min(hi), lo.max(hi));
        let ages: Vec<i64> = (0..rng.usize(1..4)).map(|_| rng.i64(18..30)).collect();
        let (limit, offset) = (rng.usize(1..15), rng.usize(0..5));
        let done = [json!(null), json!(false), json!(true)][rng.usize(..3)].clone();
        let kind = rng.u8(..8);
        let build = |scan: bool| {
            let mut q = db.query("p");
            q = match kind {
                0 => q.where_eq("city", json!(city)),
                1 => q.where_range("age", json!(lo), json!(hi)),
                2 => q.where_in("age", ages.iter().map(|a| json!(a)).collect()),
                3 => q
                    .where_eq("city", json!(city))
                    .order_by("age", SortDir::Asc),
                4 => q
                    .where_eq("city", json!(city))
                    .order_by("age", SortDir::Desc),
                5 => q
                    .order_by("age", SortDir::Asc)
                    .where_range("age", json!(lo), json!(hi)),
                6 => q.where_eq("done", done.clone()),
                // Two equalities and an order: the index repeating "city" must not
                // be taken as serving "done".
                _ => q
                    .where_eq("city", json!(city))
                    .where_eq("done", done.clone())
                    .order_by("age", SortDir::Asc),
            };
            q = q.offset(offset).limit(limit);
            if scan {
                q = q.scan_only();
            }
            q.collect().unwrap()
        };
        let age = |d: &Value| d.get("age").and_then(Value::as_i64);
        let mut want: Vec<Value> = model
            .values()
            .filter(|d| match kind {
                0 | 3 | 4 => d["city"] == city,
                1 | 5 => age(d).is_some_and(|a| lo <= a && a < hi),
                6 => d.get("done") == Some(&done),
                7 => d["city"] == city && d.get("done") == Some(&done),
                _ => age(d).is_some_and(|a| ages.contains(&a)),
            })
            .filter(|d| !(3..=5).contains(&kind) && kind != 7 || age(d).is_some())
            .cloned()
            .collect();
        if (3..=5).contains(&kind) || kind == 7 {
            want.sort_by_key(|d| (age(d), d["id"].as_i64()));
            if kind == 4 {
                want.reverse();
            }
        }
        let want: Vec<Value> = want.into_iter().skip(offset).take(limit).collect();
        assert_eq!(build(false), want, "indexed query kind {kind}");
        assert_eq!(build(true), want, "scanned query kind {kind}");

        // The published crate's lookups: an index on a null/boolean field, a
        // compound-index prefix (a scalar and a one-element array), a half-open
        // range (lo == hi is empty).
        let with = |f: &dyn Fn(&Value) -> bool| -> Vec<Value> {
            model.values().filter(|d| f(d)).cloned().collect()
        };
        let want = with(&|d| d.get("done") == Some(&done));
        assert_eq!(db.get_by_index("p", "done", &done).unwrap(), want);
        let mut want = with(&|d| d["city"] == city && age(d).is_some());
        want.sort_by_key(|d| (age(d), d["id"].as_i64()));
        assert_eq!(
            db.get_by_index("p", "city_age", &json!(city)).unwrap(),
            want
        );
        assert_eq!(
            db.get_by_index("p", "city_age", &json!([city])).unwrap(),
            want
        );
        let mut want = with(&|d| age(d).is_some_and(|a| lo <= a && a < hi));
        want.sort_by_key(|d| (age(d), d["id"].as_i64()));
        assert_eq!(
            db.range_by_index("p", "age", &json!(lo), &json!(hi))
                .unwrap(),
            want
        );
    }
    let tag = ["a", "b", "c"][rng.usize(..3)];
    let want: Vec<Value> = model
        .values()
        .filter(|d| d["tags"].as_array().unwrap().contains(&json!(tag)))
        .cloned()
        .collect();
    assert_eq!(db.get_by_index("p", "tags", &json!(tag)).unwrap(), want);
    // The unique index: point lookups and an ordered walk.
    let id = rng.i64(0..40);
    for email in [json!(format!("u{id}@x")), json!("shared@x")] {
        let want: Vec<Value> = model
            .values()
            .filter(|d| d["email"] == email)
            .cloned()
            .collect();
        assert_eq!(db.get_by_index("p", "email", &email).unwrap(), want);
    }
    let mut by_email: Vec<Value> = model.values().cloned().collect();
    by_email.sort_by(|a, b| a["email"].as_str().cmp(&b["email"].as_str()));
    assert_eq!(
        db.index_query("p", "email", &KeyRange::all(), Direction::Next)
            .unwrap(),
        by_email
    );
    assert_eq!(
        db.scan("p").unwrap(),
        model.values().cloned().collect::<Vec<_>>()
    );
    assert_eq!(db.count("p").unwrap(), model.len());
}

#[test]
fn random_document_operations_match_the_model() {
    let mut rng = common::rng("random_document_operations_match_the_model");
    let dir = tempfile::tempdir().unwrap();
    let mut db = Some(JsonDB::open(common::small_config(dir.path())).unwrap());
    let schema = StoreSchema::new("p", "id")
        .index(IndexSchema::new("age", "age"))
        .index(IndexSchema::new("city", "city"))
        .index(IndexSchema::compound("city_age", &["city", "age"]))
        // Repeats a key path: it covers "city" twice and no other field.
        .index(IndexSchema::compound(
            "city_city_age",
            &["city", "city", "age"],
        ))
        .index(IndexSchema::new("tags", "tags").multi_entry(true))
        .index(IndexSchema::new("email", "email").unique(true))
        .index(IndexSchema::new("done", "done"));
    db.as_ref().unwrap().create_store(&schema).unwrap();
    let mut model: BTreeMap<i64, Value> = BTreeMap::new();
    for step in 0..1500 {
        let d = db.as_ref().unwrap();
        match rng.u8(..100) {
            0..=44 => {
                let doc = random_doc(&mut rng);
                let want = model_put(&mut model, &doc);
                assert_eq!(
                    d.put("p", doc).map(|_| ()).map_err(|e| e.code()),
                    want,
                    "step {step}"
                );
            }
            45..=59 => {
                let id = rng.i64(0..40);
                d.delete("p", &json!(id)).unwrap();
                model.remove(&id);
            }
            60..=74 => {
                let mut staged = model.clone();
                let mut tx = d.transaction(&["p"], TransactionMode::ReadWrite).unwrap();
                for _ in 0..rng.usize(1..6) {
                    if rng.bool() {
                        let doc = random_doc(&mut rng);
                        let want = model_put(&mut staged, &doc);
                        assert_eq!(tx.put("p", doc).map(|_| ()).map_err(|e| e.code()), want);
                    } else {
                        let id = rng.i64(0..40);
                        tx.delete("p", &json!(id)).unwrap();
                        staged.remove(&id);
                    }
                }
                assert_eq!(
                    tx.scan("p").unwrap(),
                    staged.values().cloned().collect::<Vec<_>>(),
                    "read-your-writes"
                );
                if rng.u8(..3) == 0 {
                    tx.abort();
                } else {
                    tx.commit().unwrap();
                    model = staged;
                }
            }
            75..=94 => check_queries(d, &model, &mut rng),
            // Reads served by the memtable alone lend records from it; with a table
            // too, they merge (`Engine::visit_snapshot`). Both must agree.
            95..=97 => d.engine().flush().unwrap(),
            _ => {
                db.take().unwrap().shutdown().unwrap();
                db = Some(JsonDB::open(common::small_config(dir.path())).unwrap());
            }
        }
    }
    check_queries(db.as_ref().unwrap(), &model, &mut rng);
}

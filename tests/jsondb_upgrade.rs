//! Schema versions (`JsonDB::open_with_version`, `UpgradeTx`), after IndexedDB's
//! §opening and §upgrade-transaction, restating scenarios of the web-platform-tests
//! files named on each test (IndexedDB/).

mod common;

use std::cell::Cell;

use flowdb::jsondb::{IndexSchema, JsonDB, KeyRange, StoreSchema};
use flowdb::{Error, StatusCode};
use serde_json::json;

/// idbfactory_open.any.js: a new database runs the upgrade from 0; the same
/// version opens without one; a higher one upgrades from the stored version; a
/// lower one is a VersionError; version 0 a TypeError.
#[test]
fn versions_and_when_upgrades_run() {
    let d = tempfile::tempdir().unwrap();
    let cfg = || common::small_config(d.path());
    let calls = Cell::new(Vec::new());
    let log = |old, new| {
        let mut v = calls.take();
        v.push((old, new));
        calls.set(v);
    };
    let db = JsonDB::open_with_version(cfg(), 1, |old, new, up| {
        log(old, new);
        assert_eq!((up.old_version(), up.new_version()), (old, new));
        up.create_store(
            &StoreSchema::new("people", "id").index(IndexSchema::new("by_name", "name")),
        )?;
        up.put("people", json!({"id": 1, "name": "Ada"}))?; // the new store is usable at once
        Ok(())
    })
    .unwrap();
    assert_eq!(db.version(), 1);
    assert_eq!(
        db.get_by_index("people", "by_name", &json!("Ada"))
            .unwrap()
            .len(),
        1
    );
    db.shutdown().unwrap();

    let db = JsonDB::open_with_version(cfg(), 1, |old, new, _| {
        log(old, new);
        Ok(())
    })
    .unwrap();
    db.shutdown().unwrap();
    let db = JsonDB::open_with_version(cfg(), 3, |old, new, up| {
        log(old, new);
        up.rename_store("people", "persons")?;
        up.rename_index("persons", "by_name", "name")?;
        // A migration: every document gains a field.
        for mut doc in up.get_all("persons", &KeyRange::all(), None)? {
            doc["v"] = json!(3);
            up.put("persons", doc)?;
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(calls.take(), vec![(0, 1), (1, 3)]);
    assert_eq!(db.version(), 3);
    assert_eq!(db.store_names(), vec!["persons"]);
    let ada = db.get_by_index("persons", "name", &json!("Ada")).unwrap();
    assert_eq!(ada, vec![json!({"id": 1, "name": "Ada", "v": 3})]);
    assert_eq!(
        db.get("people", &json!(1)).unwrap_err().code(),
        StatusCode::NotFound
    );
    db.shutdown().unwrap();

    let err =
        JsonDB::open_with_version(cfg(), 2, |_, _, _| panic!("no upgrade downwards")).unwrap_err();
    assert_eq!(err.code(), StatusCode::InvalidArgument);
    assert!(err.to_string().contains("version 3"), "{err}");
    let err = JsonDB::open_with_version(cfg(), 0, |_, _, _| Ok(())).unwrap_err();
    assert_eq!(err.code(), StatusCode::InvalidArgument);
    // Plain opens keep working and keep the version; so does plain schema creation.
    let db = JsonDB::open(cfg()).unwrap();
    assert_eq!(db.version(), 3);
    db.create_object_store("persons", "id").unwrap();
    db.create_object_store("other", "id").unwrap();
    assert_eq!(db.version(), 3);
}

/// idbfactory_open.any.js ("error in version change transaction aborts open"): an
/// upgrade that fails changes nothing, schema, documents or version.
#[test]
fn a_failed_upgrade_changes_nothing() {
    let d = tempfile::tempdir().unwrap();
    let cfg = || common::small_config(d.path());
    let db = JsonDB::open_with_version(cfg(), 1, |_, _, up| {
        up.create_object_store("a", "id")?;
        up.put("a", json!({"id": 1}))?;
        Ok(())
    })
    .unwrap();
    drop(db);
    let err = JsonDB::open_with_version(cfg(), 2, |_, _, up| {
        up.create_object_store("b", "id")?;
        up.put("a", json!({"id": 2}))?;
        up.delete_object_store("a")?;
        Err(Error::Data("migration failed".into()))
    })
    .unwrap_err();
    assert_eq!(err.code(), StatusCode::Data);
    let db = JsonDB::open(cfg()).unwrap();
    assert_eq!(db.version(), 1);
    assert_eq!(db.store_names(), vec!["a"]);
    assert_eq!(
        db.get_all_keys("a", &KeyRange::all(), None).unwrap(),
        vec![json!(1)]
    );
    // A request error inside the upgrade that the upgrade handles does not abort it.
    drop(db);
    let db = JsonDB::open_with_version(cfg(), 2, |_, _, up| {
        assert_eq!(
            up.add("a", json!({"id": 1})).unwrap_err().code(),
            StatusCode::Constraint
        );
        up.create_index_with("a", &IndexSchema::new("x", "x"))
    })
    .unwrap();
    assert_eq!(db.version(), 2);
    assert_eq!(db.get_store("a").unwrap().indexes.len(), 1);
}

/// idbobjectstore_createIndex (WPT, "unique index on existing duplicates"): an
/// index whose build fails (a unique index over duplicates) is not created, also
/// when the upgrade goes on after the error and commits: no empty "unique" index
/// left that would then take duplicates.
#[test]
fn a_failed_index_build_leaves_no_index() {
    let d = tempfile::tempdir().unwrap();
    let cfg = || common::small_config(d.path());
    let db = JsonDB::open_with_version(cfg(), 1, |_, _, up| {
        up.create_object_store("a", "id")?;
        up.put("a", json!({"id": 1, "e": "x"}))?;
        up.put("a", json!({"id": 2, "e": "x"}))?;
        Ok(())
    })
    .unwrap();
    drop(db);
    let db = JsonDB::open_with_version(cfg(), 2, |_, _, up| {
        let failed = up.create_index_with("a", &IndexSchema::new("e", "e").unique(true));
        assert_eq!(failed.unwrap_err().code(), StatusCode::Constraint);
        Ok(())
    })
    .unwrap();
    assert_eq!(db.version(), 2);
    assert!(db.get_store("a").unwrap().indexes.is_empty());
    // Outside an upgrade too.
    let failed = db.create_index_with("a", &IndexSchema::new("e", "e").unique(true));
    assert_eq!(failed.unwrap_err().code(), StatusCode::Constraint);
    assert!(db.get_store("a").unwrap().indexes.is_empty());
    drop(db);
    let db = JsonDB::open(cfg()).unwrap();
    assert!(db.get_store("a").unwrap().indexes.is_empty());
}

/// idbobjectstore-rename-store and idbindex-rename (WPT): renames keep the data and
/// the indexes; a name in use is a ConstraintError, an unknown one NotFoundError;
/// a store deleted and created again in one upgrade starts empty
/// (idbdatabase_deleteObjectStore.any.js).
#[test]
fn renames_and_recreation() {
    let d = tempfile::tempdir().unwrap();
    let db = JsonDB::open_with_version(common::small_config(d.path()), 1, |_, _, up| {
        up.create_store(&StoreSchema::new("s", "id").index(IndexSchema::new("i", "n")))?;
        up.create_object_store("t", "id")?;
        up.put("s", json!({"id": 1, "n": 5}))?;
        assert_eq!(
            up.rename_store("s", "t").unwrap_err().code(),
            StatusCode::Constraint
        );
        assert_eq!(
            up.rename_store("zz", "y").unwrap_err().code(),
            StatusCode::NotFound
        );
        assert_eq!(
            up.rename_index("s", "zz", "y").unwrap_err().code(),
            StatusCode::NotFound
        );
        up.create_index_with("s", &IndexSchema::new("j", "m"))?;
        assert_eq!(
            up.rename_index("s", "i", "j").unwrap_err().code(),
            StatusCode::Constraint
        );
        up.rename_index("s", "i", "k")?;
        assert_eq!(
            up.get_all_keys_by_index("s", "k", &KeyRange::all(), None)?,
            vec![json!(1)]
        );
        up.delete_object_store("t")?;
        up.create_object_store("t", "id")?;
        Ok(())
    })
    .unwrap();
    db.put("t", json!({"id": 9})).unwrap();
    drop(db);
    let db = JsonDB::open_with_version(common::small_config(d.path()), 2, |_, _, up| {
        up.delete_object_store("t")?;
        up.create_object_store("t", "id")?;
        assert!(up.get_all("t", &KeyRange::all(), None)?.is_empty());
        Ok(())
    })
    .unwrap();
    assert_eq!(db.count("t").unwrap(), 0);
    let names: Vec<String> = db
        .get_store("s")
        .unwrap()
        .indexes
        .into_iter()
        .map(|i| i.name)
        .collect();
    assert_eq!(names, vec!["j", "k"]);
}

/// Inside an upgrade, the database's one-call schema methods (and a nested
/// upgrade) on the same thread are `Busy` at once — not a deadlock — and the
/// upgrade goes on.
#[test]
fn schema_calls_inside_an_upgrade_are_busy() {
    let d = tempfile::tempdir().unwrap();
    let db = JsonDB::open(common::small_config(d.path())).unwrap();
    db.upgrade_to(1, |_, _, up| {
        let err = db.create_object_store("x", "id").unwrap_err();
        assert_eq!(err.code(), StatusCode::Busy);
        let err = db.upgrade_to(2, |_, _, _| Ok(())).unwrap_err();
        assert_eq!(err.code(), StatusCode::Busy);
        up.create_object_store("y", "id")
    })
    .unwrap();
    assert_eq!(db.store_names(), vec!["y"]);
    db.create_object_store("x", "id").unwrap(); // the lock was released
    assert_eq!(db.version(), 1);
}

/// The upgrade's transaction commits when the upgrade returns (IndexedDB's
/// versionchange transaction, with the new schema and version together): a
/// commit inside it is `InvalidArgument` and writes nothing, and the upgrade goes
/// on to commit everything at once. (It once wrote the documents without the
/// schema, and the upgrade then failed.)
#[test]
fn an_upgrade_transaction_cannot_commit_inside() {
    let d = tempfile::tempdir().unwrap();
    let cfg = || common::small_config(d.path());
    let db = JsonDB::open_with_version(cfg(), 1, |_, _, up| {
        up.create_object_store("a", "id")?;
        up.put("a", json!({"id": 1}))?;
        Ok(())
    })
    .unwrap();
    drop(db);
    let db = JsonDB::open_with_version(cfg(), 2, |_, _, up| {
        up.delete_object_store("a")?;
        up.create_object_store("b", "id")?;
        up.put("b", json!({"id": 2}))?;
        let err = up.commit_in_place().unwrap_err();
        assert_eq!(err.code(), StatusCode::InvalidArgument);
        assert!(up.is_active());
        Ok(())
    })
    .unwrap();
    assert_eq!(db.version(), 2);
    assert_eq!(db.store_names(), vec!["b"]);
    assert_eq!(db.count("b").unwrap(), 1);
    drop(db);
    let db = JsonDB::open(cfg()).unwrap();
    assert_eq!((db.version(), db.store_names()), (2, vec!["b".to_string()]));
    assert_eq!(db.count("b").unwrap(), 1);
}

/// IndexedDB's schema methods throw (`TransactionInactiveError`/`InvalidStateError`)
/// once the upgrade's transaction has ended: so does every schema method of
/// `UpgradeTx` after `abort_in_place`, as its requests do, and nothing is created.
/// (They once went on changing the aborted transaction's schema and returned Ok.)
#[test]
fn schema_methods_of_an_ended_upgrade_are_inactive() {
    let d = tempfile::tempdir().unwrap();
    let cfg = || common::small_config(d.path());
    let err = JsonDB::open_with_version(cfg(), 1, |_, _, up| {
        up.create_store(&StoreSchema::new("a", "id").index(IndexSchema::new("i", "n")))?;
        up.abort_in_place();
        let inactive = |what: &str, r: flowdb::Result<()>| {
            let err = r.expect_err(what);
            assert_eq!(err.code(), StatusCode::TransactionInactive, "{what}: {err}");
        };
        inactive("put", up.put("a", json!({"id": 1})).map(|_| ()));
        inactive("create_object_store", up.create_object_store("x", "id"));
        inactive(
            "create_store",
            up.create_store(&StoreSchema::new("y", "id")),
        );
        inactive("delete_object_store", up.delete_object_store("a"));
        inactive(
            "create_index_with",
            up.create_index_with("a", &IndexSchema::new("j", "m")),
        );
        inactive("delete_index", up.delete_index("a", "i"));
        inactive("rename_store", up.rename_store("a", "b"));
        inactive("rename_index", up.rename_index("a", "i", "k"));
        Ok(())
    })
    .unwrap_err();
    assert_eq!(err.code(), StatusCode::TransactionInactive);
    let db = JsonDB::open(cfg()).unwrap();
    assert_eq!(db.version(), 0);
    assert!(db.store_names().is_empty());
}

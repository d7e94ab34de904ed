//! The traits every public type carries (Rust API guidelines: C-DEBUG, C-SEND-SYNC,
//! C-SERDE where the published crate has them), checked at compile time, plus what
//! flowdb keeps that the published crate lacks. The crate also denies
//! `missing_debug_implementations`, so a new public type without `Debug` does not
//! build; this file shows the list a user relies on.

use std::fmt::Debug;

use flowdb::jsondb::{
    Direction, IndexDef, IndexSchema, JsonDB, KeyRange, QueryBuilder, SortDir, StoreDef,
    StoreSchema, Transaction, TransactionMode,
};
use flowdb::{
    Config, Engine, EngineStats, Error, MaintenanceHandle, Query, ReadOptions, Record,
    ScanIterator, ScanRange, SyncMode, Tuning,
};
use serde::{de::DeserializeOwned, Serialize};

fn debug<T: Debug>() {}
fn send_sync<T: Send + Sync>() {}
fn send<T: Send>() {}
fn data<T: Serialize + DeserializeOwned>() {}

#[test]
fn every_public_type_is_debug() {
    debug::<Engine>();
    debug::<MaintenanceHandle>();
    debug::<ScanIterator>();
    debug::<EngineStats>();
    debug::<Config>();
    debug::<Tuning>();
    debug::<SyncMode>();
    debug::<ReadOptions>();
    debug::<Record>();
    debug::<Query>();
    debug::<ScanRange>();
    debug::<Error>();
    debug::<JsonDB>();
    debug::<Transaction<'static>>();
    debug::<QueryBuilder<'static>>();
    debug::<TransactionMode>();
    debug::<SortDir>();
    debug::<Direction>();
    debug::<KeyRange>();
    debug::<StoreDef>();
    debug::<IndexDef>();
    debug::<StoreSchema>();
    debug::<IndexSchema>();
    debug::<flowdb::fs::FaultFs>();
}

#[test]
fn handles_cross_threads() {
    send_sync::<Engine>();
    send_sync::<JsonDB>();
    send::<ScanIterator>();
    send::<MaintenanceHandle>();
    send::<Transaction<'static>>();
}

#[test]
fn configuration_and_records_are_data() {
    data::<Config>();
    data::<SyncMode>();
    data::<Record>();
}

/// Debug output names what a handle is on and says nothing it must not (no panics,
/// no locks held across the call).
#[test]
fn debug_output_describes_the_handle() {
    let dir = tempfile::tempdir().unwrap();
    let db = JsonDB::open(Config {
        auto_background: false,
        ..Config::new(dir.path())
    })
    .unwrap();
    db.create_object_store("users", "id").unwrap();
    let text = format!("{db:?}");
    assert!(
        text.contains("users") && text.contains("data_dir"),
        "{text}"
    );
    let tx = db
        .transaction(&["users"], TransactionMode::ReadWrite)
        .unwrap();
    let text = format!("{tx:?}");
    assert!(
        text.contains("read_write: true") && text.contains("active: true"),
        "{text}"
    );
    drop(tx);
    let q = db.query("users").where_eq("id", 1.into()).limit(3);
    assert!(format!("{q:?}").contains("limit: Some(3)"));
    let it = db.engine().scan(ScanRange::all()).unwrap();
    assert!(format!("{it:?}").contains("ScanIterator"));
    db.shutdown().unwrap();
}

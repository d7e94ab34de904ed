//! flowdb: an embedded time-series storage engine (an LSM tree) with a JSON document
//! layer, shipped as a Rust crate and a C library.
//!
//! Records are `(key, ts, expire_at, value)`, identified by `(key, ts)`, with `ts` and
//! `expire_at` in microseconds since the Unix epoch. Start with [`Engine::open`];
//! the meaning of every call is in README.md ("The rules"), the file formats in
//! docs/format.md and the design in docs/design.md.
//!
//! ```no_run
//! use flowdb::{Config, Engine, Record, ScanRange};
//! let engine = Engine::open(Config::new("./data")).unwrap();
//! engine.write_batch(&[Record::new("cpu.host-1", 1_000_000, b"42".to_vec())]).unwrap();
//! let latest = engine.get_latest("cpu.host-1").unwrap();
//! for r in engine.scan(ScanRange::prefix("cpu.")).unwrap() {
//!     println!("{} {}", r.unwrap().key_str(), latest.is_some());
//! }
//! engine.shutdown().unwrap();
//! ```

#![deny(clippy::unwrap_used)]
#![deny(missing_debug_implementations)]
#![warn(clippy::undocumented_unsafe_blocks)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod config;
pub mod engine;
mod entry;
pub mod error;
#[cfg(feature = "parquet")]
pub mod export;
pub mod fs;
mod iterator;
pub mod jsondb;
mod lock;
mod manifest;
mod memtable;
// The numeric series codecs (packed data blocks): public only for the fuzz harness
// and the measurement example.
#[doc(hidden)]
pub mod numeric;
mod point;
mod range;
pub mod record;
mod rollup;
mod sstable;
mod util;
pub mod verify;
mod version;
mod wal;

/// The published crate's path for [`EngineStats`], with the
/// field listing ([`StatField`](stats::StatField)).
pub mod stats {
    pub use crate::engine::{EngineStats, StatField, StatValue};
}

pub use config::{BlockCompression, Config, ReadOptions, SyncMode, Tuning};
pub use engine::{
    Engine, EngineStats, Event, EventListener, MaintenanceHandle, Rollup, SeriesInfo, Snapshot,
    WriteBatch, WriteOptions,
};
pub use error::{Error, FlowError, Result, StatusCode};
pub use iterator::scan::ScanIterator;
pub use point::{Agg, Bucket, GroupBy, Point};
pub use range::{prefix_successor, Query, ScanRange};
pub use record::{expiry_from_ttl, Record, MAX_KEY_LEN, MAX_VALUE_LEN, NEVER_EXPIRES};
pub use rollup::RollupRule;
pub use util::now_micros;

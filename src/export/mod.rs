//! Exports of flowdb data into files that other tools read directly (feature
//! `parquet`): [`parquet`] writes engine ranges and JsonDB stores as Apache Parquet,
//! which DuckDB, ClickHouse, Spark, pandas and polars read without flowdb.
//!
//! Exports read through the public read API (a lazy scan of one snapshot), so they
//! work on a read-only instance beside a writer, and stream: memory stays about one
//! Parquet row group whatever the size of the data. The `flowdb export` and
//! `flowdb docs DIR export STORE --format parquet` commands (docs/cli.md) are thin
//! drivers of this module.

pub mod parquet;

//! The command line: every command, argument and option, with its help (clap derive).
//! docs/cli.md describes the same commands with examples.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::keys::{parse_b64, KeyBytes};

const EXAMPLES: &str = "\
Examples:
  flowdb load ./data points.csv                  CSV with a header key,ts,value[,expire_at]
  flowdb scan ./data --prefix cpu. --reverse --limit 10 --format table
  flowdb scan ./data --from 2024-05-01T00:00:00Z --to 2024-05-02T00:00:00Z --format csv
  flowdb get ./data cpu.host-1                   the latest point
  flowdb get ./data --key-b64 /wBr               a key that is not UTF-8 (as dump prints it)
  flowdb load ./data temps.csv --numbers         values as numeric points
  flowdb aggregate ./data --prefix temp. --step 1h --fn min,max,avg
  flowdb dump ./data -o backup.jsonl && flowdb load ./copy backup.jsonl
  flowdb export ./data points.parquet --prefix cpu.   for DuckDB, ClickHouse, Spark, pandas
  flowdb verify ./data                           exit status 0 sound, 1 damaged, 2 not checked
  flowdb checkpoint ./data ./snap                also while another process writes ./data
  flowdb docs ./docs query users by_city --eq '\"Oslo\"'

docs/cli.md describes every command and format.";

/// Inspect, load, dump, verify and copy flowdb databases.
///
/// Commands that only read open the database read-only: they take no lock, so they
/// work on a database another process is writing (they see it as of their start).
/// Commands that write (load, compact, docs put/delete/import/create-*) open it
/// read-write and need the directory to themselves.
///
/// Timestamps are microseconds since the Unix epoch; where a command takes one, an
/// RFC 3339 time (2024-05-01T12:00:00Z, 2024-05-01T14:00:00.5+02:00) or a date
/// (2024-05-01, midnight UTC) is accepted too.
///
/// Keys are bytes. One that is not UTF-8 is given in standard base64, as the output
/// shows it (key_b64): each key, prefix or key range option has a -b64 twin
/// (--key-b64, --prefix-b64, --from-key-b64, --to-key-b64).
///
/// Exit status: 0 on success, 1 on failure (a message on stderr names what was
/// wrong), 2 for a usage error; `verify` has its own (0 sound, 1 damaged, 2 could not
/// check).
#[derive(Debug, Parser)]
#[command(
    name = "flowdb",
    version,
    max_term_width = 100,
    after_long_help = EXAMPLES
)]
pub struct Cli {
    /// No progress output on stderr (errors are still printed).
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Engine statistics and the table layout.
    ///
    /// Every EngineStats field with its meaning, then each live table (newest first):
    /// id, level, bytes, entries, tombstones, ts range and key range. Counters that
    /// count since the engine opened are those of this read-only instance.
    Stats {
        /// The database directory.
        dir: PathBuf,
        /// One JSON document instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Records of a key or time range, in (key, ts) order.
    ///
    /// Key and time ranges include both ends. Without --prefix or a key range, every
    /// key.
    Scan(ScanArgs),
    /// One record: the latest point of KEY, or the one at TS.
    ///
    /// Exit status 1 (and a message) when there is none. A key that is not UTF-8 is
    /// given as --key-b64 B64 instead of KEY (`get DIR --key-b64 B64 [TS]`).
    Get {
        /// The database directory.
        dir: PathBuf,
        /// The key (left out with --key-b64: the argument after DIR is then TS).
        #[arg(required_unless_present = "key_b64", allow_negative_numbers = true)]
        key: Option<String>,
        /// The timestamp (microseconds or RFC 3339); without it, the latest point.
        #[arg(allow_negative_numbers = true, conflicts_with = "key_b64")]
        ts: Option<String>,
        /// The key in standard base64 (as key_b64 in the output), instead of KEY.
        #[arg(long, value_name = "B64", value_parser = parse_b64)]
        key_b64: Option<KeyBytes>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Jsonl)]
        format: Format,
    },
    /// The series (distinct keys) under a prefix, from metadata.
    ///
    /// Point counts are estimates: overwritten points and deletes still in the tables
    /// count until compaction removes them.
    Series {
        /// The database directory.
        dir: PathBuf,
        /// Only keys beginning with this (default: every key).
        #[arg(conflicts_with = "prefix_b64")]
        prefix: Option<String>,
        /// PREFIX in standard base64 (for a prefix that is not UTF-8).
        #[arg(long, value_name = "B64", value_parser = parse_b64)]
        prefix_b64: Option<KeyBytes>,
        /// A JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Load records from a CSV or JSON lines file (streamed, in batches).
    ///
    /// CSV: a header naming the columns key, ts, value and optionally expire_at (in
    /// any order; key_b64 and value_b64 instead of key and value for base64). JSON
    /// lines: the `dump` format. By default the file is checked whole first and
    /// nothing is loaded if any line is malformed. The database is created if
    /// missing and shut down at the end, so everything loaded is durable.
    Load(LoadArgs),
    /// Numeric points aggregated per series (or group) and time bucket.
    ///
    /// Reads the points `load --numbers` or write_points wrote (records of bytes are
    /// left out): one row per series and bucket holding a point, the functions'
    /// results in --fn order.
    Aggregate(AggregateArgs),
    /// Every record as JSON lines (the format `load` reads back).
    ///
    /// {"key":..,"ts":..,"value":..} with "expire_at" when the record expires; a key
    /// or value that is not UTF-8 goes as "key_b64"/"value_b64" (standard base64).
    Dump {
        /// The database directory.
        dir: PathBuf,
        /// Only keys beginning with this.
        #[arg(long, conflicts_with = "prefix_b64")]
        prefix: Option<String>,
        /// --prefix in standard base64 (for a prefix that is not UTF-8).
        #[arg(long, value_name = "B64", value_parser = parse_b64)]
        prefix_b64: Option<KeyBytes>,
        /// Write to FILE instead of stdout.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Records as a Parquet file, for DuckDB, ClickHouse, Spark and pandas.
    ///
    /// Columns: key (STRING, dictionary-encoded), ts (TIMESTAMP(MICROS, UTC)),
    /// expire_at (the same, null when the record never expires) and value (binary),
    /// one row per live record in (key, ts) order, written in row groups as the scan
    /// streams (memory: about one row group). A key that is not UTF-8 stops the export
    /// (a STRING column cannot hold it) unless --binary-keys. OUT is written under a
    /// temporary name and renamed when complete.
    Export(ExportArgs),
    /// Check every checksum of every table and log record.
    ///
    /// Needs no lock and writes nothing: works on a database in use and on one that
    /// no longer opens. Exit status 0 when sound, 1 when damaged, 2 when the check
    /// could not run.
    Verify {
        /// The database directory.
        dir: PathBuf,
    },
    /// A consistent copy of the database in DEST (tables hard-linked).
    ///
    /// Opens the database read-only, so it works while another process writes it:
    /// the copy is of what that writer has on disk (its last record may be cut as
    /// after a kill). The source is left untouched.
    Checkpoint {
        /// The database directory.
        dir: PathBuf,
        /// Where the copy goes; must not exist.
        dest: PathBuf,
    },
    /// A consistent copy of the database in DEST, every file copied.
    ///
    /// Opens the database read-only, as `checkpoint` does.
    Backup {
        /// The database directory.
        dir: PathBuf,
        /// Where the copy goes; must not exist.
        dest: PathBuf,
    },
    /// Merge every table into one run (full compaction), then shut down.
    Compact {
        /// The database directory.
        dir: PathBuf,
    },
    /// The JSON document layer (JsonDB): stores, documents, indexes.
    Docs {
        /// The database directory.
        dir: PathBuf,
        #[command(subcommand)]
        command: DocsCommand,
    },
}

/// Output formats of records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Columns key,ts,value,expire_at,point (expire_at empty when the record never
    /// expires, point true for a numeric point); fields are raw bytes, quoted where
    /// needed.
    Csv,
    /// One JSON object a line, the `dump` format.
    Jsonl,
    /// Aligned columns for reading, with the time in UTC; long values cut.
    Table,
}

/// Input formats of `load`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    /// A header line, then key,ts,value[,expire_at] (see `load --help`).
    Csv,
    /// JSON lines, the `dump` format.
    Jsonl,
}

/// The key and time range of `scan`, `aggregate` and `export`. Each key option has a
/// `-b64` twin taking the key in base64 (`keys.rs`).
#[derive(Debug, Args)]
pub struct RangeArgs {
    /// Only keys beginning with this.
    #[arg(long, conflicts_with_all = ["prefix_b64", "from_key", "to_key", "from_key_b64", "to_key_b64"])]
    pub prefix: Option<String>,
    /// --prefix in standard base64 (for a prefix that is not UTF-8).
    #[arg(long, value_name = "B64", value_parser = parse_b64,
          conflicts_with_all = ["from_key", "to_key", "from_key_b64", "to_key_b64"])]
    pub prefix_b64: Option<KeyBytes>,
    /// Keys >= this (with --to-key: a key range, both ends included).
    #[arg(long, value_name = "KEY", conflicts_with = "from_key_b64")]
    pub from_key: Option<String>,
    /// --from-key in standard base64 (for a key that is not UTF-8).
    #[arg(long, value_name = "B64", value_parser = parse_b64)]
    pub from_key_b64: Option<KeyBytes>,
    /// Keys <= this.
    #[arg(long, value_name = "KEY", conflicts_with = "to_key_b64")]
    pub to_key: Option<String>,
    /// --to-key in standard base64 (for a key that is not UTF-8).
    #[arg(long, value_name = "B64", value_parser = parse_b64)]
    pub to_key_b64: Option<KeyBytes>,
    /// Points with ts >= T (microseconds or RFC 3339).
    #[arg(long, value_name = "T", allow_negative_numbers = true)]
    pub from: Option<String>,
    /// Points with ts <= T (microseconds or RFC 3339).
    #[arg(long, value_name = "T", allow_negative_numbers = true)]
    pub to: Option<String>,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The database directory.
    pub dir: PathBuf,
    #[command(flatten)]
    pub range: RangeArgs,
    /// Newest first: descending (key, ts).
    #[arg(long)]
    pub reverse: bool,
    /// At most N records (the first N in the scan's order).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Jsonl)]
    pub format: Format,
}

/// File formats of `export`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Apache Parquet.
    Parquet,
}

/// File formats of `docs export`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DocsFormat {
    /// One document a line, as stored (compact JSON).
    Jsonl,
    /// Apache Parquet: columns key (the primary key as JSON text) and doc (JSON).
    Parquet,
}

/// Parquet page compression.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CompressionArg {
    /// Uncompressed pages (large files).
    None,
    /// Snappy (what DuckDB and Spark write by default; for the oldest readers).
    Snappy,
    /// Zstandard at --zstd-level: the smallest files, about as fast as snappy.
    Zstd,
}

/// Parquet options shared by `export` and `docs export`.
#[derive(Debug, Args)]
pub struct ParquetArgs {
    /// Rows per row group, at most.
    #[arg(long, value_name = "N", default_value_t = 1 << 20,
          value_parser = clap::value_parser!(u64).range(1..=1 << 31))]
    pub row_group_rows: u64,
    /// MiB of data per row group, about (bounds memory: about one row group).
    #[arg(long, value_name = "MIB", default_value_t = 128,
          value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub row_group_mb: u64,
    /// Page compression.
    #[arg(long, value_enum, default_value_t = CompressionArg::Zstd)]
    pub compression: CompressionArg,
    /// The zstd level with --compression zstd (1..=22; negative levels down to -131072 are faster).
    #[arg(
        long,
        value_name = "L",
        default_value_t = 1,
        allow_negative_numbers = true
    )]
    pub zstd_level: i32,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The database directory.
    pub dir: PathBuf,
    /// The file to write (replaced if it exists).
    pub out: PathBuf,
    /// The file format.
    #[arg(long, value_enum, default_value_t = ExportFormat::Parquet)]
    pub format: ExportFormat,
    #[command(flatten)]
    pub range: RangeArgs,
    /// Write keys as binary (BYTE_ARRAY without STRING: BLOB in DuckDB), so keys
    /// that are not UTF-8 export too.
    #[arg(long)]
    pub binary_keys: bool,
    #[command(flatten)]
    pub parquet: ParquetArgs,
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// The database directory (created if missing).
    pub dir: PathBuf,
    /// The file to load.
    pub file: PathBuf,
    /// The file's format (default: from its extension, .csv or .jsonl/.ndjson/.json).
    #[arg(long, value_enum)]
    pub format: Option<InputFormat>,
    /// Records per write batch (each batch is atomic).
    #[arg(long, value_name = "N", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub batch: u64,
    /// Load the good lines and report the malformed ones, instead of loading nothing.
    #[arg(long)]
    pub skip_bad: bool,
    /// Skip the records on lines 1..=N (a resume point a failed load printed); a CSV
    /// header is read all the same.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub skip_lines: u64,
    /// Values are numbers (21.5, -3, 1e9, NaN, inf): write them as numeric points,
    /// which `aggregate` reads (a value that is not a number is a malformed line).
    #[arg(long)]
    pub numbers: bool,
}

#[derive(Debug, Args)]
pub struct AggregateArgs {
    /// The database directory.
    pub dir: PathBuf,
    #[command(flatten)]
    pub range: RangeArgs,
    /// The bucket width: 90s, 5m, 1h, 1d, 250ms, or microseconds. Buckets are
    /// aligned to the epoch.
    #[arg(long, value_name = "DURATION")]
    pub step: String,
    /// The functions, comma-separated: count, sum, min, max, avg, first, last,
    /// increase, rate.
    #[arg(long = "fn", value_name = "F,..", default_value = "count,min,max,avg")]
    pub functions: String,
    /// series (each key alone), all, prefix:N (keys sharing N bytes) or
    /// up-to-last:C (keys equal up to their last C, such as up-to-last:.).
    #[arg(long, value_name = "HOW", default_value = "series")]
    pub group: String,
    /// Descending (key, start) order.
    #[arg(long)]
    pub reverse: bool,
    /// At most N buckets.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Output format (jsonl: NaN and infinities as null).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Read the rollup NAME (DIR/rollups/NAME, series keyed <function>:<raw key>,
    /// such as --prefix max:cpu.) instead of the raw points (docs/numeric.md,
    /// "Rollups").
    #[arg(long, value_name = "NAME")]
    pub rollup: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum DocsCommand {
    /// The object stores, their key paths and indexes.
    Stores {
        /// One JSON document instead of text.
        #[arg(long)]
        json: bool,
        /// Count each store's documents too (reads them all).
        #[arg(long)]
        count: bool,
    },
    /// The document with a key (exit status 1 when there is none).
    Get {
        /// The object store.
        store: String,
        /// The primary key as JSON (42, "abc", [1,"a"]); text that is not JSON is
        /// taken as a string.
        #[arg(allow_hyphen_values = true)]
        key: String,
    },
    /// Store a document (replacing the one with its key); prints its key.
    Put {
        /// The object store.
        store: String,
        /// The document, a JSON object.
        json: String,
    },
    /// Delete the document with a key (absent: nothing happens).
    Delete {
        /// The object store.
        store: String,
        /// The primary key as JSON (text that is not JSON is taken as a string).
        #[arg(allow_hyphen_values = true)]
        key: String,
    },
    /// Documents by an index: equal to a key, or in a key range (both ends included).
    ///
    /// Without --eq, --from or --to: every document the index holds, in index order.
    /// Prints JSON lines.
    Query {
        /// The object store.
        store: String,
        /// The index's name.
        index: String,
        /// Index key equal to this JSON value (on a compound index, a shorter key
        /// matches every entry it begins).
        #[arg(long, value_name = "JSON", conflicts_with_all = ["from", "to"], allow_hyphen_values = true)]
        eq: Option<String>,
        /// Index key >= this JSON value.
        #[arg(long, value_name = "JSON", allow_hyphen_values = true)]
        from: Option<String>,
        /// Index key <= this JSON value.
        #[arg(long, value_name = "JSON", allow_hyphen_values = true)]
        to: Option<String>,
        /// Descending index order.
        #[arg(long)]
        reverse: bool,
        /// At most N documents.
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
    },
    /// Import documents from a JSON lines file, one document a line.
    ///
    /// In transactions of --batch documents. All or nothing for malformed lines, as
    /// `load`: the file is checked whole first unless --skip-bad.
    Import {
        /// The object store (it must exist).
        store: String,
        /// The JSON lines file.
        file: PathBuf,
        /// Documents per transaction.
        #[arg(long, value_name = "N", default_value_t = 1000,
              value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        batch: u64,
        /// Import the good lines and report the malformed ones.
        #[arg(long)]
        skip_bad: bool,
        /// Skip lines 1..=N (a resume point a failed import printed).
        #[arg(long, value_name = "N", default_value_t = 0)]
        skip_lines: u64,
    },
    /// Every document of a store, in primary-key order: JSON lines, or Parquet.
    ///
    /// JSON lines (the default) go to stdout, OUT or -o FILE. Parquet (--format
    /// parquet) needs OUT or -o FILE: one row per document, columns key (the primary
    /// key as JSON text, STRING) and doc (the document, JSON), streamed in row groups.
    Export {
        /// The object store.
        store: String,
        /// The file to write (for jsonl, default stdout).
        #[arg(value_name = "OUT", conflicts_with = "output")]
        out: Option<PathBuf>,
        /// Write to FILE (the same as OUT).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// The file format.
        #[arg(long, value_enum, default_value_t = DocsFormat::Jsonl)]
        format: DocsFormat,
        #[command(flatten)]
        parquet: ParquetArgs,
    },
    /// Create an object store (creating one that exists identically does nothing).
    CreateStore {
        /// The new store's name.
        store: String,
        /// Where documents hold their key (a dotted path, such as id or meta.id).
        #[arg(long, value_name = "PATH")]
        key_path: String,
        /// Generate keys for documents stored without one.
        #[arg(long)]
        auto_increment: bool,
    },
    /// Create an index on a store (kept in step with every write).
    CreateIndex {
        /// The object store.
        store: String,
        /// The new index's name.
        name: String,
        /// The indexed key path; several, comma-separated, make a compound index.
        key_path: String,
        /// At most one document per index key.
        #[arg(long)]
        unique: bool,
        /// An array value gives one entry per element.
        #[arg(long)]
        multi_entry: bool,
    },
}

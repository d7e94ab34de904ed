//! Numeric series codecs (issue 19): one series' points `(ts, f64)` — or `(ts, i64)`
//! — encoded as a **run**: how a numeric-packed data block stores each series' points
//! (src/sstable/packed.rs). Functions over slices; the engine's aggregation keeps its
//! running summaries in src/point.rs.
//!
//! ## Run format
//! ```text
//! head: u8     low nibble: value codec  0 raw, 1 Gorilla, 2 Chimp, 3 Chimp128,
//!                                       4 decimal, 5 i64 (integer codec)
//!              high nibble: ts codec    0 packed, 1 delta-of-delta
//! count: varint                         at most MAX_RUN_POINTS; 0 ends the run
//!                                       (value codec 0)
//! ts_len: varint, then ts_len bytes     the timestamp section
//! the value section                     to the end of the run
//! ```
//! Each section is one codec's output, described on its module in this directory:
//! `timestamps.rs` (and `ints.rs` with `blocks.rs`, the integer codec behind packed
//! timestamps, decimals and i64 values), `xor.rs` (Gorilla, Chimp, Chimp128),
//! `decimal.rs` (ALP-like). Raw values are `count` little-endian `f64` bit patterns.
//! Bit streams are packed low bit first (`bits.rs`). Separate sections let a reader decode only
//! what it needs (values for a sum, timestamps for a range cut).
//!
//! ## Guarantees
//! - Every input round-trips bit for bit: any `i64` timestamps in any order, any
//!   `f64` bit pattern (NaN payloads, -0.0, infinities, subnormals).
//! - Decoding never panics and rejects malformed input with a `Corruption` error:
//!   unknown codecs, truncation, trailing bytes, out-of-range fields. A count is
//!   checked against [`MAX_RUN_POINTS`] and against what the timestamp section can
//!   hold before anything is allocated for it.
//! - Encoding allocates per run, never per point; decoding into reused buffers
//!   ([`decode_run_into`]) allocates nothing.
//!
//! Why these codecs and this choice, with measurements: docs/numeric-codecs.md.

mod bits;
mod blocks;
mod decimal;
mod ints;
mod run;
#[cfg(test)]
mod tests;
mod timestamps;
mod xor;

pub(crate) use decimal::{put_scalar, scalar};
pub use run::{
    decode_run, decode_run_i64, decode_run_into, decode_timestamps_into, decode_values_into,
    encode_run, encode_run_i64, encode_run_with, read_header, Choice, RunHeader, ValueCodec,
    MAX_RUN_POINTS,
};
pub use timestamps::TsCodec;

/// A section that does not decode: which codec (`.0`) and what was wrong (`.1`).
/// The run turns it into a `Corruption` error with the section's offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Malformed(pub(crate) &'static str, pub(crate) &'static str);

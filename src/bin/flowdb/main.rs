//! `flowdb`: the command-line program over the flowdb crate (feature `cli`; docs/cli.md).
//!
//! One module per concern: `args` (the command line), `fail` (errors and exit
//! statuses), `open` (opening databases read-only or read-write), `time` (RFC 3339),
//! `progress` (stderr progress), `output` (record output formats), `input` (record
//! input: CSV and JSON lines parsing), `keys` (keys as text or base64), `load` (the
//! loader), and one module per command family: `read` (scan, get, series, dump),
//! `aggregate`, `stats`, `admin` (verify, checkpoint, backup, compact), `export`
//! (Parquet files) and `docs`/`docs_import` (JsonDB).

mod admin;
mod aggregate;
mod args;
mod docs;
mod docs_import;
mod export;
mod fail;
mod input;
mod keys;
mod load;
mod open;
mod output;
mod progress;
mod read;
mod stats;
mod time;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};
use fail::Failure;

/// mimalloc instead of the system allocator: `load` makes and frees two small
/// allocations per record, which glibc's malloc made a third of the load's CPU
/// (docs/benchmarks.md, "flowdb load").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Whether progress output is wanted (not `--quiet`).
#[derive(Clone, Copy, Debug)]
pub struct Ui {
    pub quiet: bool,
}

fn run(cli: Cli) -> Result<u8, Failure> {
    let ui = Ui { quiet: cli.quiet };
    match cli.command {
        Command::Stats { dir, json } => stats::run(&dir, json).map(|()| 0),
        Command::Scan(a) => read::scan(&a).map(|()| 0),
        Command::Get {
            dir,
            key,
            ts,
            key_b64,
            format,
        } => {
            // With --key-b64 the one argument after DIR is TS (clap fills KEY first,
            // and refuses a second one); without it clap requires KEY.
            let (key, ts) = match key_b64 {
                Some(k) => (k.0, key),
                None => (key.unwrap_or_default().into_bytes(), ts),
            };
            read::get(&dir, &key, ts.as_deref(), format).map(|()| 0)
        }
        Command::Series {
            dir,
            prefix,
            prefix_b64,
            json,
        } => {
            let prefix = keys::either(prefix.as_deref(), prefix_b64.as_ref());
            read::series(&dir, prefix.unwrap_or(b""), json).map(|()| 0)
        }
        Command::Load(a) => load::run(&a, ui).map(|()| 0),
        Command::Aggregate(a) => aggregate::run(&a).map(|()| 0),
        Command::Dump {
            dir,
            prefix,
            prefix_b64,
            output,
        } => {
            let prefix = keys::either(prefix.as_deref(), prefix_b64.as_ref());
            read::dump(&dir, prefix, output.as_deref(), ui).map(|()| 0)
        }
        Command::Export(a) => export::records(&a, ui).map(|()| 0),
        Command::Verify { dir } => Ok(admin::verify(&dir, ui)),
        Command::Checkpoint { dir, dest } => admin::copy(&dir, &dest, false, ui).map(|()| 0),
        Command::Backup { dir, dest } => admin::copy(&dir, &dest, true, ui).map(|()| 0),
        Command::Compact { dir } => admin::compact(&dir, ui).map(|()| 0),
        Command::Docs { dir, command } => docs::run(&dir, command, ui).map(|()| 0),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(f) => f.report(),
    }
}

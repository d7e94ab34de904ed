//! Opening databases. Commands that only read open read-only (no lock, nothing
//! written: they work beside a writer in another process); commands that write open
//! read-write, and a directory another process holds is reported as such, with what
//! to do instead.

use std::path::Path;

use flowdb::jsondb::JsonDB;
use flowdb::{Config, Engine};

use crate::fail::Failure;

/// A read command's directory must exist (read-only opens create nothing).
fn existing(dir: &Path) -> Result<(), Failure> {
    if !dir.is_dir() {
        let what = if dir.exists() {
            "is not a directory"
        } else {
            "does not exist"
        };
        return Err(Failure::new(format!(
            "{}: {what} (expected a flowdb data directory)",
            dir.display()
        )));
    }
    Ok(())
}

fn opening(dir: &Path, how: &str, e: flowdb::Error) -> Failure {
    Failure::new(format!("cannot open {} {how}: {e}", dir.display()))
}

/// The engine on `dir`, read-only, with `Config` defaults.
pub fn read_only(dir: &Path) -> Result<Engine, Failure> {
    existing(dir)?;
    Engine::open_read_only(Config::new(dir)).map_err(|e| opening(dir, "read-only", e))
}

/// The document database on `dir`, read-only.
pub fn docs_read_only(dir: &Path) -> Result<JsonDB, Failure> {
    existing(dir)?;
    JsonDB::open_read_only(Config::new(dir)).map_err(|e| opening(dir, "read-only", e))
}

/// What a command that writes needs from the directory.
#[derive(Clone, Copy, Debug)]
pub enum Writer<'a> {
    /// Creates the database when missing (`load`, `docs create-store`); `.0` names the
    /// command for the message when the directory is locked.
    Create(&'a str),
    /// An existing database only; `.0` names the command, `.1` the API call to make
    /// from the process holding the lock instead.
    Existing(&'a str, &'a str),
}

fn config(dir: &Path, how: Writer<'_>) -> Result<Config, Failure> {
    let mut config = Config::new(dir);
    if let Writer::Existing(..) = how {
        existing(dir)?;
        config.create_if_missing = false;
    }
    Ok(config)
}

fn writer_error(dir: &Path, how: Writer<'_>, e: flowdb::Error) -> Failure {
    if !matches!(e, flowdb::Error::Locked(_)) {
        return opening(dir, "read-write", e);
    }
    let advice = match how {
        Writer::Create(cmd) => format!(
            "{cmd} writes, so it needs the directory to itself: stop that process, or \
             write through it"
        ),
        Writer::Existing(cmd, call) => format!(
            "{cmd} needs the database opened read-write: call {call} from the process \
             that holds it"
        ),
    };
    Failure::new(format!(
        "{} is in use by another process (it holds the directory lock): {advice}",
        dir.display()
    ))
    .with_details(vec![e.to_string()])
}

/// The engine on `dir`, read-write (taking the directory lock).
pub fn read_write(dir: &Path, how: Writer<'_>) -> Result<Engine, Failure> {
    Engine::open(config(dir, how)?).map_err(|e| writer_error(dir, how, e))
}

/// The document database on `dir`, read-write.
pub fn docs_read_write(dir: &Path, how: Writer<'_>) -> Result<JsonDB, Failure> {
    JsonDB::open(config(dir, how)?).map_err(|e| writer_error(dir, how, e))
}

/// Shuts a read-write engine down (flush, sync, release the lock): what it wrote is
/// durable when this returns `Ok`.
pub fn shut_down(engine: Engine) -> Result<(), Failure> {
    let dir = engine.data_dir().to_path_buf();
    engine
        .shutdown()
        .map_err(|e| Failure::new(format!("shutting down {}: {e}", dir.display())))
}

//! The injection plan: which operations fail and with what error ([`Fault`],
//! [`Op`], [`Injected`]), and what a crash leaves behind ([`CrashMode`]).

use std::io;

/// What survives a crash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrashMode {
    /// The process was killed: everything written survives (the kernel has it).
    Kill,
    /// Power loss: only what was synced survives.
    PowerLoss,
    /// Power loss where some unsynced work reached the disk anyway: a random prefix of
    /// the name changes, and of each file's unsynced bytes, of which the last few may
    /// be garbage or zeros. The seed picks.
    PowerLossTorn(u64),
}

/// An injected failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Injected {
    /// EIO.
    Io,
    /// ENOSPC.
    NoSpace,
    /// ENOENT: the file went away (another process deleted it).
    NotFound,
}

impl Injected {
    pub(super) fn error(self) -> io::Error {
        io::Error::from_raw_os_error(match self {
            Injected::Io => libc::EIO,
            Injected::NoSpace => libc::ENOSPC,
            Injected::NotFound => libc::ENOENT,
        })
    }
}

/// The kinds of operation a fault can target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Append,
    SetLen,
    Sync,
    Create,
    Remove,
    Rename,
    SyncDir,
    Read,
}

/// Which operations to fail: those of kind `op` (any when `None`) on a file whose name
/// contains `name` (any when empty), after letting `skip` of them through, `times`
/// times (`u64::MAX`: until cleared).
#[derive(Clone, Debug)]
pub struct Fault {
    pub op: Option<Op>,
    pub name: String,
    pub skip: u64,
    pub times: u64,
    pub error: Injected,
}

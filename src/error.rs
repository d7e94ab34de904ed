//! The one error type of flowdb, with one variant per kind of failure.
//!
//! Every variant maps to a stable [`StatusCode`], the number the C ABI returns, so
//! that C, C++ and Go callers can branch on the same kinds Rust callers match on.
//! Messages say what was wrong and with which input (field, key, file, offset).

use std::fmt;

/// The published crate's name for [`Error`] (`flowdb::error::FlowError`). The variants
/// are flowdb's own, one per kind of failure; docs/compatibility.md maps the published
/// crate's variants onto them.
pub type FlowError = Error;

/// Result alias used throughout flowdb.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in flowdb.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A caller passed a value outside what the API accepts (names the argument).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The thing asked for does not exist (record, store, index, directory).
    #[error("not found: {0}")]
    NotFound(String),
    /// The operating system reported an I/O error.
    #[error("I/O error: {context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// Stored bytes failed a check; names the file and the offset.
    #[error("corruption in {file} at offset {offset}: {detail}")]
    Corruption {
        file: String,
        offset: u64,
        detail: String,
    },
    /// Another handle (in this process or another) holds the data directory.
    #[error("locked: {0}")]
    Locked(String),
    /// The handle was shut down.
    #[error("closed: {0}")]
    Closed(String),
    /// A uniqueness or key-generator constraint would be violated.
    #[error("constraint violated: {0}")]
    Constraint(String),
    /// A write was attempted in a read-only transaction.
    #[error("read-only: {0}")]
    ReadOnly(String),
    /// A transaction was used after commit or abort.
    #[error("transaction inactive: {0}")]
    TransactionInactive(String),
    /// A value is not acceptable as data (an invalid key, a document without a key).
    #[error("data error: {0}")]
    Data(String),
    /// A conflicting transaction did not finish within the wait timeout.
    #[error("busy: {0}")]
    Busy(String),
    /// A bug or an invariant broken inside flowdb.
    #[error("internal error: {0}")]
    Internal(String),
}

/// `StatusCode` from its one table: variant, number and stable name. The C ABI's
/// `flowdb_status_t` and Go's `Code` constants are generated from
/// [`StatusCode::ALL`] (bindings/c/src/gen.rs), so a new code is one line here.
macro_rules! status_codes {
    ( $( #[doc = $doc:literal] $variant:ident = $n:literal, $name:literal; )* ) => {
        /// Stable numeric codes, one per [`Error`] kind; `Ok` is 0. Never renumbered.
        #[repr(i32)]
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
        pub enum StatusCode {
            $( #[doc = $doc] $variant = $n, )*
        }

        impl StatusCode {
            /// Every code, in numeric order.
            pub const ALL: &'static [StatusCode] = &[ $( StatusCode::$variant, )* ];

            /// A short stable name, e.g. `"NOT_FOUND"`.
            pub fn name(self) -> &'static str {
                match self {
                    $( StatusCode::$variant => $name, )*
                }
            }

            /// What the code means (one sentence).
            pub fn description(self) -> &'static str {
                match self {
                    $( StatusCode::$variant => $doc.trim(), )*
                }
            }

            /// The code with this number, if there is one.
            pub fn from_i32(n: i32) -> Option<StatusCode> {
                match n {
                    $( $n => Some(StatusCode::$variant), )*
                    _ => None,
                }
            }
        }
    };
}

status_codes! {
    /// Success.
    Ok = 0, "OK";
    /// An argument was malformed or out of range; the message names it.
    InvalidArgument = 1, "INVALID_ARGUMENT";
    /// A named thing (store, index, file) does not exist.
    NotFound = 2, "NOT_FOUND";
    /// The operating system reported an I/O error.
    Io = 3, "IO";
    /// Stored data failed a check (checksum, format); the message names file and offset.
    Corruption = 4, "CORRUPTION";
    /// Another process holds the data directory.
    Locked = 5, "LOCKED";
    /// The engine, database or handle was shut down.
    Closed = 6, "CLOSED";
    /// A write broke a constraint (a unique index, an existing key).
    Constraint = 7, "CONSTRAINT";
    /// A write in a read-only transaction or on a read-only database.
    ReadOnly = 8, "READ_ONLY";
    /// The transaction has committed, aborted or failed.
    TransactionInactive = 9, "TRANSACTION_INACTIVE";
    /// A document or key is not what the schema requires.
    Data = 10, "DATA";
    /// A bug or a broken invariant inside flowdb.
    Internal = 11, "INTERNAL";
    /// The operation could not start in time (a transaction waiting for its scope).
    Busy = 12, "BUSY";
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Error {
    /// The stable status code of this error's kind.
    pub fn code(&self) -> StatusCode {
        match self {
            Error::InvalidArgument(_) => StatusCode::InvalidArgument,
            Error::NotFound(_) => StatusCode::NotFound,
            Error::Io { .. } => StatusCode::Io,
            Error::Corruption { .. } => StatusCode::Corruption,
            Error::Locked(_) => StatusCode::Locked,
            Error::Closed(_) => StatusCode::Closed,
            Error::Constraint(_) => StatusCode::Constraint,
            Error::ReadOnly(_) => StatusCode::ReadOnly,
            Error::TransactionInactive(_) => StatusCode::TransactionInactive,
            Error::Data(_) => StatusCode::Data,
            Error::Busy(_) => StatusCode::Busy,
            Error::Internal(_) => StatusCode::Internal,
        }
    }

    /// An [`Error::InvalidArgument`] with this message (for layers built on flowdb,
    /// such as the C ABI, to report bad input the way the crate does).
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::InvalidArgument(msg.into())
    }

    pub(crate) fn corruption(
        file: impl fmt::Display,
        offset: u64,
        detail: impl Into<String>,
    ) -> Self {
        Error::Corruption {
            file: file.to_string(),
            offset,
            detail: detail.into(),
        }
    }

    /// A copy of this error for handing one failure to several callers (group commit).
    pub(crate) fn duplicate(&self) -> Self {
        match self {
            Error::Io { context, source } => Error::Io {
                context: context.clone(),
                // Keep the errno (ENOSPC, EIO) where there is one: callers act on it.
                source: match source.raw_os_error() {
                    Some(code) => std::io::Error::from_raw_os_error(code),
                    None => std::io::Error::new(source.kind(), source.to_string()),
                },
            },
            Error::Corruption {
                file,
                offset,
                detail,
            } => Error::Corruption {
                file: file.clone(),
                offset: *offset,
                detail: detail.clone(),
            },
            Error::InvalidArgument(m) => Error::InvalidArgument(m.clone()),
            Error::NotFound(m) => Error::NotFound(m.clone()),
            Error::Locked(m) => Error::Locked(m.clone()),
            Error::Closed(m) => Error::Closed(m.clone()),
            Error::Constraint(m) => Error::Constraint(m.clone()),
            Error::ReadOnly(m) => Error::ReadOnly(m.clone()),
            Error::TransactionInactive(m) => Error::TransactionInactive(m.clone()),
            Error::Data(m) => Error::Data(m.clone()),
            Error::Busy(m) => Error::Busy(m.clone()),
            Error::Internal(m) => Error::Internal(m.clone()),
        }
    }
}

/// For `?` in code that returns `flowdb::Result` (as the published crate allows):
/// flowdb's own I/O errors always say what was being done (`IoContext`); one
/// converted this way says only that it came from the caller.
impl From<std::io::Error> for Error {
    fn from(source: std::io::Error) -> Self {
        Error::Io {
            context: "an I/O call outside flowdb".into(),
            source,
        }
    }
}

/// For `?` on JSON parsing in code that returns `flowdb::Result`: a `Data` error.
impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Data(format!("JSON: {e}"))
    }
}

/// Attaches what was being done to an `std::io::Error`.
pub(crate) trait IoContext<T> {
    fn ctx<C: fmt::Display>(self, context: impl FnOnce() -> C) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn ctx<C: fmt::Display>(self, context: impl FnOnce() -> C) -> Result<T> {
        self.map_err(|source| Error::Io {
            context: context().to_string(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_and_named() {
        assert_eq!(StatusCode::Ok as i32, 0);
        assert_eq!(Error::invalid("x").code() as i32, 1);
        assert_eq!(Error::Busy("x".into()).code() as i32, 12);
        assert_eq!(StatusCode::Corruption.name(), "CORRUPTION");
        let e = Error::corruption("a.sst", 17, "bad crc");
        assert_eq!(e.to_string(), "corruption in a.sst at offset 17: bad crc");
        assert_eq!(e.duplicate().to_string(), e.to_string());
    }
}

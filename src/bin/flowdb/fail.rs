//! Failures and exit statuses: every error ends as one `flowdb: <message>` line on
//! stderr (plus detail lines where there are several things to name) and exit
//! status 1. A closed stdout (as in `flowdb scan ... | head`) is no failure: the
//! program stops quietly with status 0.

use std::fmt::Display;
use std::io;
use std::process::ExitCode;

/// Why a command stopped.
#[derive(Debug)]
pub enum Failure {
    /// A message for stderr (after `flowdb: `), further lines, and the exit status.
    Message {
        message: String,
        details: Vec<String>,
        status: u8,
    },
    /// The reader of stdout went away: stop, successfully.
    BrokenPipe,
}

impl Failure {
    /// A failure with exit status 1.
    pub fn new(message: impl Into<String>) -> Self {
        Failure::Message {
            message: message.into(),
            details: Vec::new(),
            status: 1,
        }
    }

    /// This failure with lines printed after its message.
    pub fn with_details(mut self, lines: Vec<String>) -> Self {
        if let Failure::Message { details, .. } = &mut self {
            *details = lines;
        }
        self
    }

    /// Prints the failure and returns its exit status.
    pub fn report(self) -> ExitCode {
        match self {
            Failure::BrokenPipe => ExitCode::SUCCESS,
            Failure::Message {
                message,
                details,
                status,
            } => {
                eprintln!("flowdb: {message}");
                for d in details {
                    eprintln!("  {d}");
                }
                ExitCode::from(status)
            }
        }
    }
}

impl From<flowdb::Error> for Failure {
    fn from(e: flowdb::Error) -> Self {
        Failure::new(e.to_string())
    }
}

/// Writing the command's output (stdout or `-o FILE`) failed.
pub fn output_error(e: io::Error, to: &str) -> Failure {
    if e.kind() == io::ErrorKind::BrokenPipe {
        return Failure::BrokenPipe;
    }
    Failure::new(format!("writing {to}: {e}"))
}

/// `map_err` with a message naming what was being done.
pub trait Context<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, Failure>;
}

impl<T, E: Display> Context<T> for Result<T, E> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, Failure> {
        self.map_err(|e| Failure::new(format!("{}: {e}", what())))
    }
}

//! Progress of long operations, on stderr only (stdout is the data): an indicatif bar
//! (by bytes of the input when its size is known) or spinner when stderr is a
//! terminal; otherwise a plain line every million items and one at the end (count,
//! seconds, rate). `--quiet` silences both.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::Ui;

/// How often the plain form prints a line, in items.
const PLAIN_EVERY: u64 = 1_000_000;

#[derive(Debug)]
enum Sink {
    Quiet,
    Plain,
    Bar(ProgressBar),
}

/// The progress of one operation: `what` (`load`, `dump`...) over items of `unit`.
#[derive(Debug)]
pub struct Progress {
    what: &'static str,
    unit: &'static str,
    sink: Sink,
    started: Instant,
    count: u64,
    next_line: u64,
}

/// `n` with thousands separators.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `n` items over `took` as a rate: `1.25M`, `830K`, `12`.
pub fn rate(n: u64, took: Duration) -> String {
    let r = n as f64 / took.as_secs_f64().max(1e-9);
    if r >= 1e6 {
        format!("{:.2}M", r / 1e6)
    } else if r >= 1e3 {
        format!("{:.0}K", r / 1e3)
    } else {
        format!("{r:.0}")
    }
}

impl Progress {
    /// Starts reporting; `total_bytes` is the input's size when there is one.
    pub fn new(ui: Ui, what: &'static str, unit: &'static str, total_bytes: Option<u64>) -> Self {
        let sink = if ui.quiet {
            Sink::Quiet
        } else if std::io::stderr().is_terminal() {
            let bar = match total_bytes {
                Some(n) => ProgressBar::new(n).with_style(
                    ProgressStyle::with_template(
                        "{spinner} {prefix} [{bar:30}] {bytes}/{total_bytes} {msg} (eta {eta})",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                ),
                None => ProgressBar::new_spinner().with_style(
                    ProgressStyle::with_template("{spinner} {prefix} {msg} ({elapsed})")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                ),
            };
            bar.set_prefix(what);
            bar.enable_steady_tick(Duration::from_millis(120));
            Sink::Bar(bar)
        } else {
            Sink::Plain
        };
        Progress {
            what,
            unit,
            sink,
            started: Instant::now(),
            count: 0,
            next_line: PLAIN_EVERY,
        }
    }

    /// `count` items done (and `bytes` of the input read, when it has a size).
    pub fn set(&mut self, count: u64, bytes: Option<u64>) {
        self.count = count;
        match &self.sink {
            Sink::Quiet => {}
            Sink::Bar(bar) => {
                if let Some(b) = bytes {
                    bar.set_position(b);
                }
                bar.set_message(format!("{} {}", thousands(count), self.unit));
            }
            Sink::Plain => {
                if count >= self.next_line {
                    eprintln!("flowdb {}: {}", self.what, self.line());
                    self.next_line = (count / PLAIN_EVERY + 1) * PLAIN_EVERY;
                }
            }
        }
    }

    /// A message beside the bar or spinner (a phase: "checking", "writing").
    pub fn phase(&self, text: &str) {
        if let Sink::Bar(bar) = &self.sink {
            bar.set_prefix(format!("{} ({text})", self.what));
        }
    }

    fn line(&self) -> String {
        let took = self.started.elapsed();
        format!(
            "{} {}, {:.3} s, {} {}/s",
            thousands(self.count),
            self.unit,
            took.as_secs_f64(),
            rate(self.count, took),
            self.unit
        )
    }

    /// Ends the bar; prints the final line with `done` (such as "loaded") unless
    /// quiet, and returns the elapsed time.
    pub fn finish(self, done: &str) -> Duration {
        let took = self.started.elapsed();
        if let Sink::Bar(bar) = &self.sink {
            bar.finish_and_clear();
        }
        if !matches!(self.sink, Sink::Quiet) {
            eprintln!("flowdb {}: {done} {}", self.what, self.line());
        }
        took
    }

    /// Ends the bar without a final line (the operation failed; its error follows).
    pub fn abandon(self) {
        if let Sink::Bar(bar) = &self.sink {
            bar.finish_and_clear();
        }
    }
}

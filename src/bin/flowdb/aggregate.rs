//! `aggregate`: numeric points folded per series (or group) and time bucket
//! (`Engine::aggregate_by`), printed as JSON lines, CSV or a table.

use std::io::{self, BufWriter, Write};

use flowdb::{Agg, GroupBy, Query};

use crate::args::{AggregateArgs, Format};
use crate::fail::{output_error, Failure};
use crate::open;
use crate::output::printable;
use crate::read::{key_field, key_time_range};

/// Microseconds in a duration such as `90s`, `5m`, `1h`, `1d`, `250ms`, `10us`, or a
/// plain number of microseconds.
pub fn parse_step(text: &str) -> Result<i64, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: i64 = digits.parse().map_err(|_| {
        format!("--step {text:?}: a number and a unit (us, ms, s, m, h, d), such as 5m")
    })?;
    let scale: i64 = match unit {
        "" | "us" => 1,
        "ms" => 1_000,
        "s" => 1_000_000,
        "m" => 60_000_000,
        "h" => 3_600_000_000,
        "d" => 86_400_000_000,
        _ => {
            return Err(format!(
                "--step {text:?}: unknown unit {unit:?} (us, ms, s, m, h, d)"
            ))
        }
    };
    match n.checked_mul(scale) {
        Some(0) | None => Err(format!(
            "--step {text:?}: must be above 0 and below 292,000 years"
        )),
        Some(step) => Ok(step),
    }
}

/// `count,max` as functions.
pub fn parse_functions(text: &str) -> Result<Vec<Agg>, String> {
    text.split(',')
        .map(|name| {
            Agg::from_name(name.trim()).ok_or_else(|| {
                let all: Vec<&str> = Agg::ALL.iter().map(|a| a.name()).collect();
                format!(
                    "--fn: unknown function {name:?} (one of {})",
                    all.join(", ")
                )
            })
        })
        .collect()
}

/// `series`, `all`, `prefix:N` or `up-to-last:C` as a grouping.
pub fn parse_group(text: &str) -> Result<GroupBy, String> {
    let bad = || format!("--group {text:?}: series, all, prefix:N or up-to-last:C (one byte)");
    Ok(match text.split_once(':') {
        None if text == "series" => GroupBy::Series,
        None if text == "all" => GroupBy::All,
        Some(("prefix", n)) => GroupBy::Prefix(n.parse().map_err(|_| bad())?),
        Some(("up-to-last", c)) if c.len() == 1 => GroupBy::UpToLast(c.as_bytes()[0]),
        _ => return Err(bad()),
    })
}

pub fn run(a: &AggregateArgs) -> Result<(), Failure> {
    let step = parse_step(&a.step).map_err(Failure::new)?;
    let functions = parse_functions(&a.functions).map_err(Failure::new)?;
    let group = parse_group(&a.group).map_err(Failure::new)?;
    let mut query: Query = key_time_range(&a.range)?.into();
    if a.reverse {
        query = query.reverse();
    }
    if let Some(n) = a.limit {
        query = query.limit(n);
    }
    // A rollup is a database of its own; its reserved records are no points.
    let dir = match &a.rollup {
        Some(name) if !name.is_empty() && !name.contains(['/', '\\', '.']) => {
            a.dir.join("rollups").join(name)
        }
        Some(name) => {
            return Err(Failure::new(format!(
                "--rollup {name:?}: a rule's name (letters, digits, _ and -)"
            )))
        }
        None => a.dir.clone(),
    };
    let engine = open::read_only(&dir)?;
    // Streamed: each bucket written as the read lends it (per series as the read
    // goes; grouped ones once gathered), never the whole result held as text.
    let mut rows = Rows::new(BufWriter::new(io::stdout().lock()), a.format, &functions)
        .map_err(|e| output_error(e, "stdout"))?;
    let mut failed = None;
    engine.aggregate_by_with(query, step, &functions, group, |key, start, values| {
        if failed.is_none() {
            failed = rows.write(key, start, values).err();
        }
    })?;
    match failed {
        Some(e) => Err(output_error(e, "stdout")),
        None => rows.finish().map_err(|e| output_error(e, "stdout")),
    }
}

/// A value as JSON: a number, or `null` for NaN and the infinities (JSON has none).
fn json_number(v: f64) -> String {
    match v.is_finite() {
        true => format!("{v}"),
        false => "null".into(),
    }
}

/// Buckets written as rows of one format: JSON lines (a key that is not UTF-8 as
/// `key_b64`), CSV (raw key bytes, quoted as CSV quotes), or a table for reading.
struct Rows<'f, W: Write> {
    format: Format,
    fs: &'f [Agg],
    line: Vec<u8>,
    csv: Option<csv::Writer<W>>,
    out: Option<W>,
}

impl<'f, W: Write> Rows<'f, W> {
    /// Starts the output (a header for CSV and the table).
    fn new(mut out: W, format: Format, fs: &'f [Agg]) -> io::Result<Self> {
        let mut csv = None;
        match format {
            Format::Jsonl => {}
            Format::Csv => {
                let mut w = csv::Writer::from_writer(out);
                let head = ["key", "start"]
                    .into_iter()
                    .chain(fs.iter().map(|f| f.name()));
                w.write_record(head).map_err(io::Error::other)?;
                csv = Some(w);
                return Ok(Rows {
                    format,
                    fs,
                    line: Vec::new(),
                    csv,
                    out: None,
                });
            }
            Format::Table => {
                write!(out, "{:<24} {:<27}", "KEY", "START")?;
                for f in fs {
                    write!(out, " {:>14}", f.name().to_uppercase())?;
                }
                writeln!(out)?;
            }
        }
        Ok(Rows {
            format,
            fs,
            line: Vec::new(),
            csv,
            out: Some(out),
        })
    }

    fn write(&mut self, key: &[u8], start: i64, values: &[f64]) -> io::Result<()> {
        if let Some(w) = &mut self.csv {
            let mut row: Vec<Vec<u8>> = vec![key.to_vec(), start.to_string().into_bytes()];
            row.extend(values.iter().map(|v| v.to_string().into_bytes()));
            return w.write_record(&row).map_err(io::Error::other);
        }
        let Some(out) = &mut self.out else {
            return Ok(());
        };
        match self.format {
            Format::Table => {
                let at = crate::time::format(start).unwrap_or_else(|| start.to_string());
                write!(out, "{:<24} {:<27}", printable(key, 24), at)?;
                for v in values {
                    let v = format!("{v:.6}");
                    write!(
                        out,
                        " {:>14}",
                        v.trim_end_matches('0').trim_end_matches('.')
                    )?;
                }
                writeln!(out)
            }
            _ => {
                let line = &mut self.line;
                line.clear();
                line.push(b'{');
                key_field(line, key);
                line.extend_from_slice(format!(",\"start\":{start}").as_bytes());
                for (f, v) in self.fs.iter().zip(values) {
                    line.extend_from_slice(
                        format!(",\"{}\":{}", f.name(), json_number(*v)).as_bytes(),
                    );
                }
                line.extend_from_slice(b"}\n");
                out.write_all(line)
            }
        }
    }

    fn finish(self) -> io::Result<()> {
        if let Some(w) = self.csv {
            w.into_inner()
                .map_err(|e| io::Error::other(e.to_string()))?
                .flush()?;
        }
        if let Some(mut out) = self.out {
            out.flush()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps() {
        assert_eq!(parse_step("5m"), Ok(300_000_000));
        assert_eq!(parse_step("250ms"), Ok(250_000));
        assert_eq!(parse_step("1500"), Ok(1500));
        assert_eq!(parse_step("1d"), Ok(86_400_000_000));
        for bad in ["", "0s", "5x", "m", "-5s", "99999999999d"] {
            assert!(parse_step(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn functions_and_groups() {
        assert_eq!(
            parse_functions("max, count"),
            Ok(vec![Agg::Max, Agg::Count])
        );
        assert!(parse_functions("median").unwrap_err().contains("rate"));
        assert_eq!(parse_group("up-to-last:."), Ok(GroupBy::UpToLast(b'.')));
        assert_eq!(parse_group("prefix:4"), Ok(GroupBy::Prefix(4)));
        assert_eq!(parse_group("all"), Ok(GroupBy::All));
        for bad in ["prefix:x", "up-to-last:ab", "host"] {
            assert!(parse_group(bad).is_err(), "{bad}");
        }
    }
}

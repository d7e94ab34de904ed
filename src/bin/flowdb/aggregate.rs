//! `aggregate`: numeric points folded per series (or group) and time bucket
//! (`Engine::aggregate_by`), printed as JSON lines, CSV or a table.

use std::io::{self, BufWriter, Write};

use flowdb::{Agg, Bucket, GroupBy, Query};

use crate::args::{AggregateArgs, Format};
use crate::fail::{output_error, Failure};
use crate::open;
use crate::output::{json_str, printable};
use crate::read::key_time_range;

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
    let buckets = engine.aggregate_by(query, step, &functions, group)?;
    let mut out = BufWriter::new(io::stdout().lock());
    write(&mut out, a.format, &functions, &buckets)
        .and_then(|()| out.flush())
        .map_err(|e| output_error(e, "stdout"))
}

/// A value as JSON: a number, or `null` for NaN and the infinities (JSON has none).
fn json_number(v: f64) -> String {
    match v.is_finite() {
        true => format!("{v}"),
        false => "null".into(),
    }
}

fn write(out: &mut impl Write, format: Format, fs: &[Agg], buckets: &[Bucket]) -> io::Result<()> {
    let key = |b: &Bucket| String::from_utf8_lossy(&b.key).into_owned();
    match format {
        Format::Jsonl => {
            let mut line = Vec::new();
            for b in buckets {
                line.clear();
                line.extend_from_slice(b"{\"key\":");
                json_str(&mut line, &key(b));
                line.extend_from_slice(format!(",\"start\":{}", b.start).as_bytes());
                for (f, v) in fs.iter().zip(&b.values) {
                    line.extend_from_slice(
                        format!(",\"{}\":{}", f.name(), json_number(*v)).as_bytes(),
                    );
                }
                line.extend_from_slice(b"}\n");
                out.write_all(&line)?;
            }
        }
        Format::Csv => {
            let names: Vec<&str> = fs.iter().map(|f| f.name()).collect();
            writeln!(out, "key,start,{}", names.join(","))?;
            let mut w = csv::Writer::from_writer(Vec::new());
            for b in buckets {
                let mut row = vec![key(b), b.start.to_string()];
                row.extend(b.values.iter().map(|v| v.to_string()));
                w.write_record(&row).map_err(io::Error::other)?;
            }
            out.write_all(
                &w.into_inner()
                    .map_err(|e| io::Error::other(e.to_string()))?,
            )?;
        }
        Format::Table => {
            write!(out, "{:<24} {:<27}", "KEY", "START")?;
            for f in fs {
                write!(out, " {:>14}", f.name().to_uppercase())?;
            }
            writeln!(out)?;
            for b in buckets {
                let start = crate::time::format(b.start).unwrap_or_else(|| b.start.to_string());
                write!(out, "{:<24} {:<27}", printable(&b.key, 24), start)?;
                for v in &b.values {
                    write!(
                        out,
                        " {:>14}",
                        format!("{v:.6}")
                            .trim_end_matches('0')
                            .trim_end_matches('.')
                    )?;
                }
                writeln!(out)?;
            }
        }
    }
    Ok(())
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

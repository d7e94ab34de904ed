//! Downsampling rollups: [`RollupRule`], a rule of `Tuning::rollups` ("1-minute
//! min/max/sum/count of every series under `cpu.`, kept 90 days"), and what the
//! engine stores of it: the key of a rolled series (`max:cpu.h1.usage`), the
//! reserved records that hold a rule's progress, and the regions a late raw write
//! makes dirty (docs/numeric.md, "Rollups"; the engine side is
//! `src/engine/rollup.rs`).

use crate::error::{Error, Result};
use crate::point::Agg;
use crate::util::coding::{put_bytes, put_varint_i64, Decoder};

/// A downsampling rule: every `step` microseconds of time, the points of each raw
/// series whose key begins with `prefix` are folded by each of `functions`, and the
/// results written as points of their own (key `<function>:<raw key>`, ts the
/// bucket's start) into the rule's rollup, a database of its own in
/// `<data dir>/rollups/<name>/`, read with [`Engine::rollup`](crate::Engine::rollup).
///
/// ```
/// use flowdb::{Agg, RollupRule, Tuning};
/// let mut tuning = Tuning::default();
/// tuning.retention_max_age_secs = Some(7 * 86_400); // raw points: 7 days
/// tuning.rollups.push(
///     RollupRule::new("1m", 60_000_000, &[Agg::Min, Agg::Max, Agg::Sum, Agg::Count])
///         .prefix("cpu.")
///         .keep_secs(90 * 86_400), // the 1-minute rollup: 90 days
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RollupRule {
    /// The rule's name, and its directory's: 1 to 64 of `[A-Za-z0-9_-]`, unique.
    pub name: String,
    /// Which raw series: those whose key begins with these bytes (empty: all).
    pub prefix: Vec<u8>,
    /// The bucket width in microseconds (> 0); buckets are aligned to ts 0, as
    /// `Engine::aggregate`'s.
    pub step: i64,
    /// What is kept of each bucket: `Count`, `Sum`, `Min`, `Max`, `First`, `Last`
    /// (the functions that compose: a coarser bucket is a fold of finer ones), each
    /// once, at least one.
    pub functions: Vec<Agg>,
    /// The rollup's own retention by age (`None`: keep everything), as
    /// `Tuning::retention_max_age_secs` is the raw data's.
    pub keep_secs: Option<u64>,
    /// How long after a bucket's end it is rolled, in microseconds (>= 0; default
    /// `step`): points arriving later than that are late, and cost a re-roll.
    pub delay: i64,
}

impl RollupRule {
    /// A rule over every series (`prefix` empty), kept forever, rolled `step` after
    /// each bucket's end.
    pub fn new(name: impl Into<String>, step: i64, functions: &[Agg]) -> Self {
        RollupRule {
            name: name.into(),
            prefix: Vec::new(),
            step,
            functions: functions.to_vec(),
            keep_secs: None,
            delay: step,
        }
    }

    /// Only the series whose key begins with `prefix`.
    pub fn prefix(mut self, prefix: impl Into<Vec<u8>>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Keeps the rollup's points `secs` seconds (by their ts, as retention does).
    pub fn keep_secs(mut self, secs: u64) -> Self {
        self.keep_secs = Some(secs);
        self
    }

    /// Rolls a bucket `delay` microseconds after its end.
    pub fn delay(mut self, delay: i64) -> Self {
        self.delay = delay;
        self
    }

    /// The key of `function`'s rolled series of the raw key `raw`.
    pub fn rolled_key(function: Agg, raw: &[u8]) -> Vec<u8> {
        let name = function.name().as_bytes();
        let mut k = Vec::with_capacity(name.len() + 1 + raw.len());
        k.extend_from_slice(name);
        k.push(b':');
        k.extend_from_slice(raw);
        k
    }

    /// What a rollup's points depend on: the prefix, the step and the functions
    /// (not `keep_secs` or `delay`, which may change). Stored in the rollup, so a
    /// rule changed under the same name is refused rather than mixed with the old.
    /// A prefix that is not UTF-8 is written as `bytes:` and hex, so that two such
    /// prefixes never read alike (written lossily, `0xfe` and `0xff` both read as
    /// U+FFFD and a changed rule was taken for the old one).
    pub(crate) fn definition(&self) -> String {
        let prefix = match std::str::from_utf8(&self.prefix) {
            Ok(text) => format!("{text:?}"),
            Err(_) => {
                let hex: String = self.prefix.iter().map(|b| format!("{b:02x}")).collect();
                format!("bytes:{hex}")
            }
        };
        self.definition_with(prefix)
    }

    /// The definition as rollups made before the exact form stored it (the prefix
    /// written lossily); `None` when the prefix is UTF-8 (then it is the same).
    pub(crate) fn lossy_definition(&self) -> Option<String> {
        std::str::from_utf8(&self.prefix)
            .is_err()
            .then(|| self.definition_with(format!("{:?}", String::from_utf8_lossy(&self.prefix))))
    }

    fn definition_with(&self, prefix: String) -> String {
        let fns: Vec<&str> = self.functions.iter().map(|f| f.name()).collect();
        format!(
            "prefix={prefix} step={} functions={}",
            self.step,
            fns.join(",")
        )
    }

    fn check(&self, i: usize) -> Result<()> {
        let what = format!("Tuning::rollups[{i}] ({:?})", self.name);
        let bad = |m: String| Err(Error::invalid(format!("{what}: {m}")));
        let name_ok = (1..=64).contains(&self.name.len())
            && self
                .name
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-');
        if !name_ok {
            return bad("name must be 1 to 64 of [A-Za-z0-9_-] (it names a directory)".into());
        }
        if self.step <= 0 {
            return bad(format!(
                "step must be a positive number of microseconds, got {}",
                self.step
            ));
        }
        if self.delay < 0 {
            return bad(format!(
                "delay must be >= 0 microseconds, got {}",
                self.delay
            ));
        }
        if self.keep_secs == Some(0) {
            return bad("keep_secs = Some(0) would delete everything; use None".into());
        }
        if self.functions.is_empty() {
            return bad("functions is empty (count, sum, min, max, first, last)".into());
        }
        for (j, f) in self.functions.iter().enumerate() {
            if matches!(f, Agg::Avg | Agg::Increase | Agg::Rate) {
                return bad(format!(
                    "functions[{j}] = {} does not compose into coarser buckets; keep \
                     sum and count for avg, last for counters (increase and rate over \
                     the rolled last values)",
                    f.name()
                ));
            }
            if self.functions[..j].contains(f) {
                return bad(format!("functions[{j}] = {} is given twice", f.name()));
            }
        }
        Ok(())
    }
}

/// Checks `Tuning::rollups`: each rule, and no name twice.
pub(crate) fn validate_rules(rules: &[RollupRule]) -> Result<()> {
    for (i, r) in rules.iter().enumerate() {
        r.check(i)?;
        if rules[..i].iter().any(|o| o.name == r.name) {
            return Err(Error::invalid(format!(
                "Tuning::rollups[{i}]: name {:?} is given twice",
                r.name
            )));
        }
    }
    Ok(())
}

/// Reserved records of a rollup database begin with byte 0, which no rolled key
/// does (those begin with a function name); they are stored at `ts = i64::MAX`, so
/// no retention cutoff reaches them. Reads through `Rollup` never see them.
pub(crate) const RESERVED: u8 = 0;
/// The key of the watermark record: its value is the watermark, 8 bytes LE.
pub(crate) const WATERMARK_KEY: &[u8] = b"\0watermark";
/// The key of the rule's definition record (`RollupRule::definition`).
pub(crate) const RULE_KEY: &[u8] = b"\0rule";
/// Dirty marks: `DIRTY_PREFIX` + a big-endian id; the value is a list of regions.
pub(crate) const DIRTY_PREFIX: &[u8] = b"\0dirty.";
/// The key of the raw floor record (docs/numeric.md, "History"): the greatest cutoff
/// of raw retention a pass has seen, 8 bytes LE, then the sequence number of that
/// pass's snapshot of the raw data, 8 bytes LE (retention's deletes up to it are
/// counted). Absent: no cutoff seen.
pub(crate) const FLOOR_KEY: &[u8] = b"\0floor";
/// Every key above the reserved ones is below this; rolled keys are above it.
pub(crate) const FIRST_ROLLED_KEY: &[u8] = b"\x01";
/// The ts of reserved records.
pub(crate) const RESERVED_TS: i64 = i64::MAX;

/// A key × time region of raw data that changed below a watermark: keys `start <=
/// key < end` (`end: None`, no bound), `ts_lo <= ts <= ts_hi`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Region {
    pub start: Vec<u8>,
    pub end: Option<Vec<u8>>,
    pub ts_lo: i64,
    pub ts_hi: i64,
    /// Everything in the region was deleted (a range delete), rather than some of
    /// its records written or deleted: a bucket of rolled history (docs/numeric.md,
    /// "History") it covers whole goes with it.
    pub deleted: bool,
}

impl Region {
    /// The region of the one key `key` (written to, or deleted from, point by
    /// point).
    pub(crate) fn key(key: &[u8], ts_lo: i64, ts_hi: i64) -> Region {
        let mut end = key.to_vec();
        end.push(0);
        Region {
            start: key.to_vec(),
            end: Some(end),
            ts_lo,
            ts_hi,
            deleted: false,
        }
    }

    /// This region cut to the keys beginning with `prefix`; `None` when it holds
    /// none.
    pub(crate) fn within(&self, prefix: &[u8]) -> Option<Region> {
        let p_end = crate::range::prefix_successor(prefix);
        let start = self.start.as_slice().max(prefix).to_vec();
        let end = match (&self.end, p_end) {
            (Some(a), Some(b)) => Some(a.clone().min(b)),
            (Some(a), None) => Some(a.clone()),
            (None, b) => b,
        };
        match &end {
            Some(e) if *e <= start => None,
            _ => Some(Region {
                start,
                end,
                ..*self
            }),
        }
    }
}

/// In a region's tag byte: it has an end (else its keys have no bound).
const HAS_END: u8 = 1;
/// In a region's tag byte: `Region::deleted` (marks written before it was kept are
/// read as regions written to: history they cover in part or whole stays).
const DELETED: u8 = 2;

/// The value of a dirty mark: its regions, each its start, a tag byte (`HAS_END`,
/// `DELETED`), its end when it has one, and its least and greatest ts.
pub(crate) fn encode_regions(regions: &[Region]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in regions {
        put_bytes(&mut out, &r.start);
        let deleted = if r.deleted { DELETED } else { 0 };
        match &r.end {
            Some(e) => {
                out.push(HAS_END | deleted);
                put_bytes(&mut out, e);
            }
            None => out.push(deleted),
        }
        put_varint_i64(&mut out, r.ts_lo);
        put_varint_i64(&mut out, r.ts_hi);
    }
    out
}

/// The regions of a dirty mark's value.
pub(crate) fn decode_regions(value: &[u8]) -> Result<Vec<Region>> {
    let bad = || Error::Corruption {
        file: "rollup dirty mark".into(),
        offset: 0,
        detail: "the value does not decode as key × time regions".into(),
    };
    let mut d = Decoder::new(value);
    let mut out = Vec::new();
    while !d.is_empty() {
        let start = d.bytes().ok_or_else(bad)?.to_vec();
        let tag = d.u8().ok_or_else(bad)?;
        if tag & !(HAS_END | DELETED) != 0 {
            return Err(bad());
        }
        let end = match tag & HAS_END {
            0 => None,
            _ => Some(d.bytes().ok_or_else(bad)?.to_vec()),
        };
        let ts_lo = d.varint_i64().ok_or_else(bad)?;
        let ts_hi = d.varint_i64().ok_or_else(bad)?;
        out.push(Region {
            start,
            end,
            ts_lo,
            ts_hi,
            deleted: tag & DELETED != 0,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(rules: &[RollupRule]) -> String {
        validate_rules(rules).unwrap_err().to_string()
    }

    /// A UTF-8 prefix is written as before (rollups made earlier still match);
    /// two prefixes that are not UTF-8 are told apart, and their old lossy form
    /// (which could not) is offered for migration.
    #[test]
    fn definitions_tell_binary_prefixes_apart() {
        let r = |p: Vec<u8>| RollupRule::new("r", 60, &[Agg::Max]).prefix(p);
        let text = r(b"cpu.".to_vec());
        assert_eq!(text.definition(), "prefix=\"cpu.\" step=60 functions=max");
        assert_eq!(text.lossy_definition(), None);
        let (fe, ff) = (r(vec![b'a', 0xfe]), r(vec![b'a', 0xff]));
        assert_eq!(ff.definition(), "prefix=bytes:61ff step=60 functions=max");
        assert_ne!(fe.definition(), ff.definition());
        assert_eq!(fe.lossy_definition(), ff.lossy_definition());
        assert_eq!(
            ff.lossy_definition().unwrap(),
            "prefix=\"a\u{fffd}\" step=60 functions=max"
        );
    }

    #[test]
    fn rules_are_checked_and_named() {
        let ok = RollupRule::new("1m", 60_000_000, &[Agg::Min, Agg::Max]);
        let other = RollupRule::new("1h_all-b", 3_600_000_000, &Agg::ALL[..4])
            .prefix("x")
            .delay(0)
            .keep_secs(1);
        validate_rules(&[ok.clone(), other]).unwrap();
        for (rule, wanted) in [
            (RollupRule::new("", 1, &[Agg::Max]), "name must be"),
            (RollupRule::new("a/b", 1, &[Agg::Max]), "[A-Za-z0-9_-]"),
            (RollupRule::new("a", 0, &[Agg::Max]), "step must be"),
            (RollupRule::new("a", 1, &[Agg::Max]).delay(-1), "delay"),
            (
                RollupRule::new("a", 1, &[Agg::Max]).keep_secs(0),
                "keep_secs",
            ),
            (RollupRule::new("a", 1, &[]), "functions is empty"),
            (RollupRule::new("a", 1, &[Agg::Avg]), "functions[0] = avg"),
            (
                RollupRule::new("a", 1, &[Agg::Max, Agg::Rate]),
                "functions[1] = rate",
            ),
            (
                RollupRule::new("a", 1, &[Agg::Max, Agg::Max]),
                "given twice",
            ),
        ] {
            let msg = err(&[rule]);
            assert!(
                msg.contains("Tuning::rollups[0]") && msg.contains(wanted),
                "{msg}"
            );
        }
        assert!(err(&[ok.clone(), ok]).contains("rollups[1]: name \"1m\" is given twice"));
    }

    #[test]
    fn regions_round_trip_and_cut() {
        let rs = vec![
            Region::key(b"cpu.a", -5, 7),
            Region {
                start: Vec::new(),
                end: None,
                ts_lo: i64::MIN,
                ts_hi: i64::MAX,
                deleted: true,
            },
            Region {
                deleted: true,
                ..Region::key(b"cpu.b", 1, 2)
            },
        ];
        assert_eq!(decode_regions(&encode_regions(&rs)).unwrap(), rs);
        assert!(decode_regions(&[1, 2, 3]).is_err());
        // A mark written before `deleted` was kept: tags 0 and 1.
        let mut old = Vec::new();
        put_bytes(&mut old, b"cpu.a");
        old.push(1);
        put_bytes(&mut old, b"cpu.a\0");
        put_varint_i64(&mut old, -5);
        put_varint_i64(&mut old, 7);
        assert_eq!(decode_regions(&old).unwrap(), rs[..1]);
        old[6] = 4; // an unknown tag bit
        assert!(decode_regions(&old).is_err());
        let all = &rs[1];
        assert_eq!(
            all.within(b"cpu."),
            Some(Region {
                start: b"cpu.".to_vec(),
                end: Some(b"cpu/".to_vec()),
                ..all.clone()
            })
        );
        assert_eq!(rs[0].within(b"mem."), None);
        assert_eq!(rs[0].within(b"cpu."), Some(rs[0].clone()));
        assert_eq!(RollupRule::rolled_key(Agg::Max, b"c"), b"max:c");
    }
}

//! The rolled buckets a dirty region had before a pass rolls it again
//! (docs/numeric.md, "Late points and deletes"): a scan of the rollup from before
//! the pass's writes, of the first function's points (every bucket has each
//! function's), walked beside the roll. Both go in `(raw key, start)` order, so the
//! walk finds the buckets no raw point is left for, and their deletes go into the
//! same writes as the new points: readers never see the region cleared, and memory
//! stays a bucket or a run of them whatever the region's size.
//!
//! What a delete costs stays bounded by what the region holds, not by its buckets:
//! keys with no bucket left go by one key × time range per stretch of them (deleting
//! whole series), a run of buckets gone from a key that keeps others by a time range
//! once it is `RUN_AS_RANGE` long (a time-range delete inside series), and shorter
//! runs bucket by bucket (late writes leave no range tombstones behind).

use super::rollup_pass::rolled_range;
use super::Engine;
use crate::error::Result;
use crate::range::{Bounds, KeyEnd, ScanRange};
use crate::rollup::{Region, RollupRule};
use crate::wal::Op;
use crate::ScanIterator;

/// The shortest run of gone buckets of one key deleted as a time range.
const RUN_AS_RANGE: usize = 32;

pub(super) struct Leftovers {
    scan: ScanIterator,
    /// The length of the function's prefix on the rolled keys.
    skip: usize,
    next: Option<(Vec<u8>, i64)>,
    /// The region's time span (bucket starts).
    lo: i64,
    hi: i64,
    /// The last key the roll handed out a bucket of.
    rolled: Option<Vec<u8>>,
    /// The first and last of the keys met since then with no bucket left.
    gone: Option<(Vec<u8>, Vec<u8>)>,
}

/// Gone buckets of one key in a row: its key and their starts, or once the run is
/// `RUN_AS_RANGE` long (`long`), its first and last start.
struct Run {
    key: Vec<u8>,
    starts: Vec<i64>,
    long: bool,
}

impl Leftovers {
    pub(super) fn open(
        child: &Engine,
        rule: &RollupRule,
        region: &Region,
        lo: i64,
        hi: i64,
    ) -> Result<Self> {
        let f = rule.functions[0];
        let (start, end) = rolled_range(f, region);
        let bounds = Bounds {
            start,
            end: KeyEnd::Excluded(end),
            ..Bounds::all()
        }
        .with_time(lo, hi);
        let mut l = Leftovers {
            scan: child.scan(ScanRange {
                bounds,
                limit: None,
            })?,
            skip: f.name().len() + 1,
            next: None,
            lo,
            hi,
            rolled: None,
            gone: None,
        };
        l.advance()?;
        Ok(l)
    }

    fn advance(&mut self) -> Result<()> {
        self.next = match self.scan.next() {
            Some(r) => {
                let mut r = r?;
                r.key.drain(..self.skip);
                Some((r.key, r.ts))
            }
            None => None,
        };
        Ok(())
    }

    /// Moves past the bucket `(key, start)` the roll hands out next (`None`: the
    /// roll ended), adding the deletes of the buckets before it to `out`.
    pub(super) fn up_to(
        &mut self,
        upto: Option<(&[u8], i64)>,
        rule: &RollupRule,
        out: &mut Vec<Op>,
    ) -> Result<()> {
        let mut run: Option<Run> = None;
        while let Some((k, t)) = self.next.take() {
            let at = (k.as_slice(), t);
            match upto {
                Some(u) if at > u => {
                    self.next = Some((k, t));
                    break;
                }
                Some(u) if at == u => {}
                _ if self.rolled.as_ref() == Some(&k) || upto.is_some_and(|u| u.0 == k) => {
                    match &mut run {
                        Some(r) if r.key == k => {
                            if r.starts.len() >= RUN_AS_RANGE {
                                r.long = true;
                                r.starts.truncate(1);
                            }
                            r.starts.push(t);
                        }
                        _ => {
                            if let Some(r) = run.take() {
                                self.close_run(r, rule, out);
                            }
                            run = Some(Run {
                                key: k,
                                starts: vec![t],
                                long: false,
                            });
                        }
                    }
                }
                _ => match &mut self.gone {
                    Some((_, last)) => *last = k,
                    None => self.gone = Some((k.clone(), k)),
                },
            }
            self.advance()?;
        }
        if let Some(r) = run {
            self.close_run(r, rule, out);
        }
        // Past the stretch of gone keys: at a new rolled key, or at the end.
        let next_key = upto.map(|u| u.0);
        if next_key.is_none() || next_key != self.rolled.as_deref() {
            self.close_gone(rule, out);
            self.rolled = next_key.map(<[u8]>::to_vec);
        }
        Ok(())
    }

    /// Deletes a run of gone buckets of one key: bucket by bucket, or one time range
    /// a function once it is long.
    fn close_run(&self, run: Run, rule: &RollupRule, out: &mut Vec<Op>) {
        for &f in &rule.functions {
            let key = RollupRule::rolled_key(f, &run.key);
            if run.long {
                let (first, last) = (run.starts[0], run.starts[run.starts.len() - 1]);
                let end = [&key[..], &[0]].concat();
                out.push(Op::DeleteRange {
                    start: key,
                    end,
                    ts_lo: first,
                    ts_hi: last,
                });
            } else {
                for &t in &run.starts {
                    out.push(Op::Delete {
                        key: key.clone(),
                        ts: t,
                    });
                }
            }
        }
    }

    /// Deletes the stretch of keys with no bucket left: a key × time range a function.
    fn close_gone(&mut self, rule: &RollupRule, out: &mut Vec<Op>) {
        let Some((first, last)) = self.gone.take() else {
            return;
        };
        let past_last = [&last[..], &[0]].concat();
        for &f in &rule.functions {
            out.push(Op::DeleteRange {
                start: RollupRule::rolled_key(f, &first),
                end: RollupRule::rolled_key(f, &past_last),
                ts_lo: self.lo,
                ts_hi: self.hi,
            });
        }
    }
}

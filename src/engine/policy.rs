//! Which tables background compaction merges next: tiered merging inside time
//! windows (docs/design.md, "Compaction").
//!
//! The live tables form a list, newest first. A *run* is a stretch of neighbouring
//! tables written by one flush or merge (they share a sequence range and a level and
//! do not overlap in keys); a merge takes a contiguous stretch of runs and its output
//! run takes their place. A run belongs to the time *window* of its greatest `ts`
//! (windows are `Config::time_bucket_secs` wide), and runs only merge with runs of
//! their own window:
//! - in the newest window (data still arriving), `threshold` neighbouring runs of one
//!   level merge into a run of the next level, as tiered compaction does;
//! - a window older than the newest is *closed*: once, its neighbouring unfinished
//!   runs (less the largest, at an end of them) merge into one [`FINAL`] run, which
//!   background compaction never rewrites again (GC and retention still drop or
//!   rewrite it). Late points belong to the window of the newest point their flush
//!   holds, so they never reopen a closed one.
//!
//! Time-ordered ingest is thus rewritten about log_threshold(flushes per window)
//! times plus at most once, whatever the database's size, and no background merge
//! spans more than one window.
//!
//! Reads may ask for one more merge ([`Policy::for_reads`]): the newest window's
//! neighbouring unfinished runs, merged once range reads have paid for it.

use std::ops::Range;
use std::sync::Arc;

use crate::sstable::reader::Table;
use crate::version::{ReadMerge, Version};

/// The level of a run background compaction leaves alone: a closed window's merged
/// run, or the output of a full compaction.
pub(crate) const FINAL: u32 = u32::MAX;

/// What the policy needs: the window width and the merge fan-in.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Policy {
    /// Window width in microseconds of `ts` (at least 1).
    pub window: i64,
    /// Neighbouring runs of one level that make a tiered merge (at least 4:
    /// `Config::merge_threshold`).
    pub threshold: usize,
}

/// One run: where its tables are in the list, its level, its window and its size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Run {
    pub tables: Range<usize>,
    pub level: u32,
    pub window: i64,
    pub bytes: u64,
}

impl Policy {
    /// The runs of `version` (newest first), from the run ranges it found when it was
    /// made (neighbours with the same sequence range and level came from one flush or
    /// merge); a run's window is its newest table's.
    pub(crate) fn runs(&self, version: &Version) -> Vec<Run> {
        let tables = &version.tables;
        let mut runs: Vec<Run> = version
            .runs()
            .iter()
            .map(|r| {
                let members = &tables[r.clone()];
                Run {
                    level: members[0].meta.level,
                    // A run of only range tombstones has no window of its own.
                    window: members
                        .iter()
                        .filter(|t| t.props.entries > 0)
                        .map(|t| t.props.max_ts.div_euclid(self.window))
                        .max()
                        .unwrap_or(i64::MIN),
                    bytes: members.iter().map(|t| t.meta.size).sum(),
                    tables: r.clone(),
                }
            })
            .collect();
        // A run of only range tombstones joins the window of its newer neighbour (or,
        // the newest run, its older one): left in a window of its own, it was never
        // merged (a closed window of one run) and it kept the runs on either side of
        // it, of one window, from merging with each other.
        for i in 0..runs.len() {
            if runs[i].window == i64::MIN {
                let newer = runs[..i]
                    .iter()
                    .rev()
                    .map(|r| r.window)
                    .find(|&w| w != i64::MIN);
                let older = || {
                    runs[i + 1..]
                        .iter()
                        .map(|r| r.window)
                        .find(|&w| w != i64::MIN)
                };
                runs[i].window = newer.or_else(older).unwrap_or(i64::MIN);
            }
        }
        runs
    }

    /// The next merge: the tables it takes (a contiguous range) and its output level,
    /// or `None` when nothing is due.
    pub(crate) fn pick(&self, runs: &[Run]) -> Option<(Range<usize>, u32)> {
        // The window of the newest run (the last flush, or what it was merged into):
        // not the greatest window of all, which one point far in the future would
        // keep beyond every real window, closing them all for good.
        let newest = runs.iter().map(|r| r.window).find(|&w| w != i64::MIN)?;
        let mut i = 0;
        while i < runs.len() {
            let w = runs[i].window;
            let j = i + runs[i..].iter().take_while(|r| r.window == w).count();
            if let Some((s, level)) = stretch(&runs[i..j], w < newest, self.threshold) {
                let (a, b) = (&runs[i + s.start], &runs[i + s.end - 1]);
                return Some((a.tables.start..b.tables.end, level));
            }
            i = j;
        }
        None
    }

    /// A version of `tables` (newest first), knowing the merge reads would ask for.
    pub(crate) fn version(&self, tables: Vec<Arc<Table>>) -> Version {
        let version = Version::new(tables);
        let merge = self.for_reads(&self.runs(&version));
        version.with_read_merge(merge)
    }

    /// The merge range reads would gain from (docs/design.md, "Merges for reads"):
    /// the longest stretch of neighbouring unfinished runs of the newest window (the
    /// newest such stretch among equals), when it has two or more, into one run a
    /// level above the highest of them. Closed windows are left as `pick` leaves
    /// them: reads over many windows read a run or two of each, which no merge
    /// within a window reduces.
    pub(crate) fn for_reads(&self, runs: &[Run]) -> Option<ReadMerge> {
        let newest = runs.iter().map(|r| r.window).find(|&w| w != i64::MIN)?;
        let stretch =
            runs.split(|r| r.window != newest || r.level == FINAL)
                .fold(
                    &runs[..0],
                    |best, s| if s.len() > best.len() { s } else { best },
                );
        (stretch.len() >= 2).then(|| ReadMerge {
            tables: stretch[0].tables.start..stretch[stretch.len() - 1].tables.end,
            level: stretch.iter().map(|r| r.level).max().unwrap_or(0) + 1,
            bytes: stretch.iter().map(|r| r.bytes).sum(),
        })
    }
}

/// The first stretch of neighbouring unfinished runs of one window that is due: in
/// the open window `threshold` or more of one level, merged into the next level; in a
/// closed one, the unfinished runs less the largest when it is at either end (tiers
/// usually leave one run holding most of the window: rewriting it would cost a whole
/// extra write of the window for little), merged into a final run when two or more.
fn stretch(runs: &[Run], closed: bool, threshold: usize) -> Option<(Range<usize>, u32)> {
    let mut i = 0;
    while i < runs.len() {
        let level = runs[i].level;
        if level == FINAL {
            i += 1;
            continue;
        }
        let joins = |r: &Run| r.level != FINAL && (closed || r.level == level);
        let j = i + runs[i..].iter().take_while(|r| joins(r)).count();
        if !closed && j - i >= threshold {
            return Some((i..j, level + 1));
        }
        if closed {
            let largest = (i..j).max_by_key(|&k| runs[k].bytes).unwrap_or(i);
            let merge = match largest {
                k if k == i => i + 1..j,
                k if k + 1 == j => i..j - 1,
                _ => i..j,
            };
            if merge.len() >= 2 {
                return Some((merge, FINAL));
            }
        }
        i = j;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run of `len` tables of 1 MiB each.
    fn run(start: usize, len: usize, level: u32, window: i64) -> Run {
        Run {
            tables: start..start + len,
            level,
            window,
            bytes: len as u64 * (1 << 20),
        }
    }

    const P: Policy = Policy {
        window: 10,
        threshold: 2,
    };

    #[test]
    fn the_open_window_merges_by_tiers() {
        // Newest first: two level-0 runs, then a level-1 run, all in window 5.
        let runs = [run(0, 1, 0, 5), run(1, 1, 0, 5), run(2, 3, 1, 5)];
        assert_eq!(P.pick(&runs), Some((0..2, 1)));
        let runs = [run(0, 1, 0, 5), run(1, 2, 1, 5), run(3, 1, 1, 5)];
        assert_eq!(P.pick(&runs), Some((1..4, 2)));
        let runs = [run(0, 1, 0, 5), run(1, 2, 1, 5)];
        assert_eq!(P.pick(&runs), None);
    }

    #[test]
    fn a_closed_window_merges_once_into_a_final_run() {
        // Window 4 is closed: its three runs (levels 0, 0 and 1) merge, less the
        // largest, the level-1 run at the end, which stays as it is.
        let runs = [
            run(0, 1, 0, 5),
            run(1, 1, 0, 4),
            run(2, 1, 0, 4),
            run(3, 4, 1, 4),
        ];
        assert_eq!(P.pick(&runs), Some((1..3, FINAL)));
        // Then nothing more: a final run and one unfinished run.
        let runs = [run(0, 1, 0, 5), run(1, 2, FINAL, 4), run(3, 4, 1, 4)];
        assert_eq!(P.pick(&runs), None);
        // Two runs, one of them the largest: nothing to merge.
        let runs = [run(0, 1, 0, 5), run(1, 1, 0, 4), run(2, 4, 1, 4)];
        assert_eq!(P.pick(&runs), None);
        // The largest in the middle: all of them merge.
        let runs = [
            run(0, 1, 0, 5),
            run(1, 1, 0, 4),
            run(2, 4, 1, 4),
            run(6, 1, 0, 4),
        ];
        assert_eq!(P.pick(&runs), Some((1..7, FINAL)));
    }

    #[test]
    fn runs_never_merge_across_windows_or_past_a_final_run() {
        let runs = [run(0, 1, 0, 6), run(1, 1, 0, 5), run(2, 1, 0, 4)];
        assert_eq!(P.pick(&runs), None);
        // A late flush of window 4's data after its final run: the two stragglers are
        // not neighbours, so they stay.
        let runs = [
            run(0, 1, 0, 6),
            run(1, 1, 0, 4),
            run(2, 2, FINAL, 4),
            run(4, 1, 0, 4),
        ];
        assert_eq!(P.pick(&runs), None);
        // Of equal runs, the oldest counts as the largest and stays.
        let runs = [
            run(0, 1, 0, 6),
            run(1, 1, 0, 4),
            run(2, 1, 0, 4),
            run(3, 1, 0, 4),
        ];
        assert_eq!(P.pick(&runs), Some((1..3, FINAL)));
    }

    #[test]
    fn a_point_far_in_the_future_does_not_close_the_current_window() {
        // An old run holds one point in window 1000; the current window is 5.
        let runs = [
            run(0, 1, 0, 5),
            run(1, 1, 0, 5),
            run(2, 1, 0, 5),
            run(3, 1, 0, 5),
            run(4, 1, 0, 1000),
        ];
        // Window 5 is open (tiers of two here), not closed.
        assert_eq!(P.pick(&runs), Some((0..4, 1)));
    }

    #[test]
    fn an_empty_list_needs_nothing() {
        assert_eq!(P.pick(&[]), None);
        assert_eq!(P.for_reads(&[]), None);
    }

    /// Reads ask for the longest stretch of the newest window's unfinished runs,
    /// one level above the highest; never a final run, a closed window or one run.
    #[test]
    fn reads_ask_for_the_newest_windows_unfinished_runs() {
        let merge = |tables: Range<usize>, level, mib: u64| ReadMerge {
            tables,
            level,
            bytes: mib << 20,
        };
        // Three runs of window 5 (levels 0, 0, 2), then window 4's.
        let runs = [
            run(0, 1, 0, 5),
            run(1, 1, 0, 5),
            run(2, 1, 2, 5),
            run(3, 1, 0, 4),
            run(4, 1, 0, 4),
        ];
        assert_eq!(P.for_reads(&runs), Some(merge(0..3, 3, 3)));
        // A final run splits the window: the longer side is asked for.
        let runs = [
            run(0, 1, 0, 5),
            run(1, 1, FINAL, 5),
            run(2, 1, 0, 5),
            run(3, 2, 1, 5),
        ];
        assert_eq!(P.for_reads(&runs), Some(merge(2..5, 2, 3)));
        // Two stretches as long: the newest.
        let runs = [
            run(0, 1, 0, 5),
            run(1, 1, 1, 5),
            run(2, 1, FINAL, 5),
            run(3, 1, 0, 5),
            run(4, 1, 0, 5),
        ];
        assert_eq!(P.for_reads(&runs), Some(merge(0..2, 2, 2)));
        // One unfinished run in the newest window, or only final ones: nothing.
        let runs = [run(0, 1, 0, 5), run(1, 1, FINAL, 5), run(2, 1, 0, 4)];
        assert_eq!(P.for_reads(&runs), None);
        let runs = [run(0, 3, FINAL, 5), run(3, 1, 0, 4), run(4, 1, 0, 4)];
        assert_eq!(P.for_reads(&runs), None);
    }
}

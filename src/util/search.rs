//! A partition point found from a guess of where it lies: the few reads near a good
//! guess instead of a binary search's many, each of which may wait on memory. One
//! series' points come at a steady rate, so where a ts lies between two known ends
//! says where to look: among an index partition's blocks (their last ts), among a
//! block's restart points (its first and last ts).

/// The index of the first of `0..n` for which `pred` is false, `pred` being true
/// then false over `0..n` (as [`slice::partition_point`]), searched outwards from
/// `guess`: two calls of `pred` when the answer is `guess`, about `2 log2(d)` when
/// it is `d` away, never more than twice a binary search's.
pub(crate) fn partition_point_near(
    n: usize,
    guess: usize,
    mut pred: impl FnMut(usize) -> bool,
) -> usize {
    // The answer is in `lo..=hi`: `pred` holds below `lo` and fails from `hi` on.
    let (mut lo, mut hi) = (0, n);
    let g = guess.min(n);
    if g > 0 {
        if pred(g - 1) {
            lo = g;
        } else {
            hi = g - 1;
        }
    }
    // Gallop from the guess towards the answer, the step doubling.
    let mut step = 1;
    if lo == g {
        while lo < hi {
            let probe = (lo + step - 1).min(hi - 1);
            if pred(probe) {
                lo = probe + 1;
            } else {
                hi = probe;
                break;
            }
            step *= 2;
        }
    } else {
        while lo < hi {
            let probe = hi.saturating_sub(step).max(lo);
            if pred(probe) {
                lo = probe + 1;
                break;
            }
            hi = probe;
            step *= 2;
        }
    }
    // A binary search in what is left.
    lo + partition_point(hi - lo, |i| pred(lo + i))
}

/// [`slice::partition_point`] over `0..n`, by a binary search: `pred` true then
/// false, the index of its first false (or `n`).
pub(crate) fn partition_point(n: usize, mut pred: impl FnMut(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Where `ts` lies among `n` restart intervals of a block whose entries are one
/// key's with ts from `first` to `last`: the interval holding it if the points
/// are evenly spaced (a guess for [`partition_point_near`]). A span that is empty
/// or reversed says nothing: 0.
pub(crate) fn interval_guess(n: usize, ts: i64, (first, last): (i64, i64)) -> usize {
    if n == 0 || ts <= first || last <= first {
        return 0;
    }
    let at = (ts as i128 - first as i128) as f64 / (last as i128 - first as i128) as f64;
    ((at * n as f64) as usize).min(n - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every answer, from every guess, is `partition_point`'s, and a right guess
    /// takes at most two calls.
    #[test]
    fn near_is_partition_point() {
        let mut rng = crate::util::test_rng("near_is_partition_point");
        for _ in 0..3000 {
            let n = rng.usize(0..70);
            let cut = rng.usize(0..=n);
            let truth = |i: usize| i < cut;
            let guess = rng.usize(0..n + 5);
            let mut calls = 0;
            let got = partition_point_near(n, guess, |i| {
                assert!(i < n, "pred({i}) of {n}");
                calls += 1;
                truth(i)
            });
            assert_eq!(got, cut, "n {n} guess {guess}");
            let bound = 2 * (usize::BITS - n.leading_zeros()) as usize + 2;
            assert!(
                calls <= bound,
                "{calls} calls, n {n} guess {guess} cut {cut}"
            );
            if guess == cut {
                assert!(calls <= 2, "{calls} calls from a right guess");
            }
            assert_eq!(partition_point(n, truth), cut, "n {n}");
        }
    }

    #[test]
    fn interval_guess_interpolates() {
        assert_eq!(interval_guess(10, 50, (0, 100)), 5);
        assert_eq!(interval_guess(10, -5, (0, 100)), 0);
        assert_eq!(interval_guess(10, 500, (0, 100)), 9);
        assert_eq!(interval_guess(4, i64::MAX, (i64::MIN, i64::MAX)), 3);
        assert_eq!(interval_guess(0, 7, (0, 100)), 0);
        assert_eq!(interval_guess(3, 7, (7, 7)), 0);
        assert_eq!(interval_guess(3, 9, (7, 7)), 0, "empty span");
        assert_eq!(interval_guess(5, 50, (100, 0)), 0, "reversed span");
        assert_eq!(interval_guess(10, 100, (0, 100)), 9, "ts at the end");
        assert_eq!(interval_guess(1, 60, (0, 100)), 0, "one interval");
    }

    /// A `pred` that is not true-then-false (a damaged block) gets no panic and no
    /// call outside `0..n`, and some answer in `0..=n`.
    #[test]
    fn near_survives_a_non_monotone_pred() {
        let mut rng = crate::util::test_rng("near_survives_a_non_monotone_pred");
        for _ in 0..3000 {
            let n = rng.usize(0..70);
            let bits: Vec<bool> = (0..n).map(|_| rng.bool()).collect();
            let guess = rng.usize(0..n + 5);
            let got = partition_point_near(n, guess, |i| {
                assert!(i < n, "pred({i}) of {n}");
                bits[i]
            });
            assert!(got <= n, "{got} of {n}");
        }
    }
}

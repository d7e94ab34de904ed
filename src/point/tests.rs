//! Tests of the point types: the record round trip, agg names, group keys and group
//! sums, and the summaries' NaN, order and counter-reset rules (`extend` against
//! `push`, seeded).

use super::*;

#[test]
fn record_round_trip_is_bit_exact() {
    for bits in [
        0u64,
        1 << 63,
        0x7ff8_0000_0000_0001,
        0xfff0_0000_0000_0000,
        1,
    ] {
        let v = f64::from_bits(bits);
        let r = Point::new("k", 1, v).into_record();
        assert_eq!(r.as_f64().unwrap().to_bits(), bits);
    }
    assert_eq!(Record::new("k", 1, vec![1, 2]).as_f64(), None);
}

#[test]
fn group_keys() {
    let k = &b"cpu.host1.user"[..];
    assert_eq!(GroupBy::Series.group(k), k);
    assert_eq!(GroupBy::All.group(k), b"");
    assert_eq!(GroupBy::Prefix(3).group(k), b"cpu");
    assert_eq!(GroupBy::Prefix(99).group(k), k);
    assert_eq!(GroupBy::UpToLast(b'.').group(k), b"cpu.host1.");
    assert_eq!(GroupBy::UpToLast(b'/').group(k), k);
}

#[test]
fn groups_add_series() {
    let mut a = Summary::of(0, 1.0);
    a.push(2_000_000, 5.0); // rate 2/s
    let mut g = Group::of(&a);
    g.add(&Summary::of(1, 9.0), false); // one point: no rate
    let mut b = Summary::of(-5, 10.0);
    b.push(1_000_000, 11.0); // rate ~1/s
    g.add(&b, false);
    assert_eq!(g.get(Agg::Count), 5.0);
    assert_eq!((g.get(Agg::Min), g.get(Agg::Max)), (1.0, 11.0));
    assert_eq!((g.get(Agg::First), g.get(Agg::Last)), (10.0, 5.0));
    assert_eq!(g.get(Agg::Increase), 5.0);
    assert!((g.get(Agg::Rate) - (2.0 + 1.0 / 1.000005)).abs() < 1e-12);
    assert!(Group::of(&Summary::of(1, 1.0)).get(Agg::Rate).is_nan());
}

#[test]
fn names_round_trip() {
    for a in Agg::ALL {
        assert_eq!(Agg::from_name(a.name()), Some(a));
    }
    assert_eq!(Agg::from_name("median"), None);
}

#[test]
fn summary_nan_rules_and_order() {
    let mut s = Summary::of(5, 2.0);
    s.push(1, f64::NAN);
    s.push(9, -1.0);
    assert_eq!((s.min, s.max), (-1.0, 2.0));
    assert!(s.sum.is_nan() && s.first.is_nan());
    assert_eq!((s.first_ts, s.last_ts, s.last, s.count), (1, 9, -1.0, 3));
    let all_nan = Summary::of(1, f64::NAN);
    assert!(all_nan.get(Agg::Min).is_nan() && all_nan.get(Agg::Max).is_nan());
}

#[test]
fn counter_increase_counts_resets_in_either_direction() {
    let pts = [
        (0, 10.0),
        (1_000_000, 15.0),
        (2_000_000, 3.0),
        (4_000_000, 7.0),
    ];
    let fwd = pts[1..]
        .iter()
        .fold(Summary::of(pts[0].0, pts[0].1), |mut s, p| {
            s.push(p.0, p.1);
            s
        });
    let back = pts[..3]
        .iter()
        .rev()
        .fold(Summary::of(pts[3].0, pts[3].1), |mut s, p| {
            s.push(p.0, p.1);
            s
        });
    for s in [fwd, back] {
        // 10 -> 15 (+5), reset to 3 (+3), 3 -> 7 (+4)
        assert_eq!((s.get(Agg::Increase), s.get(Agg::Rate)), (12.0, 3.0));
        assert_eq!((s.first, s.last), (10.0, 7.0));
    }
    assert!(Summary::of(5, 1.0).get(Agg::Rate).is_nan());
    assert_eq!(Summary::of(5, 1.0).get(Agg::Increase), 0.0);
}

#[test]
fn extend_is_push_point_by_point() {
    let mut rng = crate::util::test_rng("extend_is_push_point_by_point");
    for _ in 0..500 {
        let n = rng.usize(1..200);
        let vals: Vec<f64> = (0..n)
            .map(|_| match rng.u8(..4) {
                0 => f64::from_bits(rng.u64(..)),
                1 => [0.0, -0.0, f64::NAN, f64::INFINITY][rng.usize(..4)],
                _ => rng.i32(-100..100) as f64 / 8.0,
            })
            .collect();
        let ts: Vec<i64> = (0..n as i64).map(|i| 10 + i * 3).collect();
        let first = Summary::of(0, rng.f64());
        let mut pushed = first;
        for (&t, &v) in ts.iter().zip(&vals) {
            pushed.push(t, v);
        }
        // Bit for bit, but for NaN's sign and payload: arithmetic leaves them
        // unspecified (Rust's float semantics), so any NaN is NaN; and but for
        // the sign of a zero minimum or maximum: `f64::min`/`max` of 0.0 and -0.0
        // may return either (the compiler may swap the operands), so any zero
        // is zero there.
        let bits = |s: &Summary| {
            let canon = |x: f64| if x.is_nan() { u64::MAX } else { x.to_bits() };
            let zero = |x: f64| canon(if x == 0.0 { 0.0 } else { x });
            let v = [canon(s.sum), zero(s.min), zero(s.max), canon(s.first)];
            (
                s.count,
                s.first_ts,
                s.last_ts,
                v,
                canon(s.last),
                canon(s.increase),
            )
        };
        let mut extended = first;
        extended.extend(&ts, &vals, Needs::ALL);
        assert_eq!(bits(&extended), bits(&pushed));
        // What a function reads is the same with only its needs.
        for f in Agg::ALL {
            let mut quick = first;
            quick.extend(&ts, &vals, Needs::of(&[f]));
            let g = |s: &Summary| s.get(f);
            let zero_ok = matches!(f, Agg::Min | Agg::Max) && g(&quick) == 0.0;
            let same = g(&quick).to_bits() == g(&pushed).to_bits()
                || (g(&quick).is_nan() && g(&pushed).is_nan())
                || (zero_ok && g(&pushed) == 0.0);
            assert!(same, "{f:?}: {} against {}", g(&quick), g(&pushed));
        }
    }
}

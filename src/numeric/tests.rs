//! Run-level properties over random and adversarial series: every choice of codec
//! round-trips bit for bit, and damaged runs fail cleanly. Seeded; the seed is
//! printed and `FLOWDB_SEED` replays it.

use super::*;

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|f| f.to_bits()).collect()
}

/// Timestamps of one of several shapes.
fn timestamps(rng: &mut fastrand::Rng, n: usize) -> Vec<i64> {
    let start = rng.i64(..);
    let step = [1, 1_000, 10_000_000, 15_000_000, rng.i64(..)][rng.usize(..5)];
    (0..n as i64)
        .map(|i| match rng.u8(..8) {
            _ if n < 3 => rng.i64(..),
            0 => start.wrapping_add(i.wrapping_mul(step)),
            1 => start
                .wrapping_add(i.wrapping_mul(step))
                .wrapping_add(rng.i64(-5000..=5000)),
            2 => start.wrapping_sub(i * 1000),
            3 => start.wrapping_add(i / 3 * 1000),
            4 => [i64::MIN, i64::MAX, 0, -1][rng.usize(..4)],
            5 => start.wrapping_add(i * 15_000_000 + rng.i64(-5..=5) * 1000),
            _ => rng.i64(..),
        })
        .collect()
}

/// Values of one of many shapes, adversarial ones included.
fn values(rng: &mut fastrand::Rng, n: usize) -> Vec<f64> {
    let kind = rng.u8(..12);
    let digits = rng.i32(0..=4);
    let scale = 10f64.powi(digits);
    let mut walk = f64::from(rng.i32(-100_000..100_000));
    let specials = [
        f64::NAN,
        f64::from_bits(0x7ff0_0000_0000_0002),
        f64::from_bits(0xfff8_dead_beef_0001),
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        0.0,
        5e-324,
        -2.2e-308,
        f64::MAX,
    ];
    (0..n)
        .map(|i| match kind {
            0 => f64::from_bits(rng.u64(..)),
            1 => specials[rng.usize(..specials.len())],
            2 => f64::from_bits(rng.u64(..1 << 52)) * if rng.bool() { 1.0 } else { -1.0 },
            3 => {
                if i % 2 == 0 {
                    1.25
                } else {
                    -1.25
                }
            }
            4 => 42.5,
            5 => {
                walk += f64::from(rng.i32(-3..=3));
                walk
            }
            6 | 7 => {
                walk += f64::from(rng.i32(-20..=20));
                walk / scale
            }
            8 => {
                // Decimals, some a few ulps off.
                walk += f64::from(rng.i32(-20..=20));
                let v = walk / scale;
                if rng.u8(..4) == 0 {
                    f64::from_bits(v.to_bits().wrapping_add(rng.u64(1..3)))
                } else {
                    v
                }
            }
            9 => {
                walk += rng.f64() - 0.5;
                walk
            }
            10 => {
                if rng.u8(..16) == 0 {
                    specials[rng.usize(..specials.len())]
                } else {
                    walk / scale
                }
            }
            _ => [0.1, 0.2, 0.1 + 0.2, 1e300, 1e-300][rng.usize(..5)],
        })
        .collect()
}

const CHOICES: [Choice; 7] = [
    Choice::Auto,
    Choice::Exhaustive,
    Choice::Force(ValueCodec::Raw),
    Choice::Force(ValueCodec::Gorilla),
    Choice::Force(ValueCodec::Chimp),
    Choice::Force(ValueCodec::Chimp128),
    Choice::Force(ValueCodec::Decimal),
];

fn check_round_trip(ts: &[i64], vals: &[f64], ts_codec: TsCodec, choice: Choice) -> Vec<u8> {
    let mut buf = vec![0xaa]; // appending must leave what was there
    let codec = encode_run_with(ts, vals, ts_codec, choice, &mut buf);
    assert_eq!(buf.remove(0), 0xaa);
    if let Choice::Force(c) = choice {
        assert!(c == codec || vals.is_empty());
    }
    let head = read_header(&buf).unwrap();
    assert_eq!((head.count, head.value_codec), (ts.len(), codec));
    let (got_ts, got_vals) = decode_run(&buf).unwrap_or_else(|e| panic!("{choice:?}: {e}"));
    assert_eq!(got_ts, ts, "{ts_codec:?} {choice:?}");
    assert_eq!(bits(&got_vals), bits(vals), "{ts_codec:?} {choice:?}");
    let (mut only_ts, mut only_vals) = (vec![7], vec![7.0]);
    decode_timestamps_into(&buf, &mut only_ts).unwrap();
    decode_values_into(&buf, &mut only_vals).unwrap();
    assert_eq!((only_ts, bits(&only_vals)), (got_ts, bits(&got_vals)));
    assert!(buf.len() <= 16 + 20 * ts.len(), "no blow-up");
    buf
}

#[test]
fn every_codec_round_trips_random_and_adversarial_runs() {
    let mut rng = crate::util::test_rng("numeric runs");
    for round in 0..400 {
        let n = match round % 4 {
            0 => rng.usize(0..3),
            1 => rng.usize(3..130),
            _ => rng.usize(100..1100),
        };
        let ts = timestamps(&mut rng, n);
        let vals = values(&mut rng, n);
        let mut sizes = Vec::new();
        for choice in CHOICES {
            let ts_codec = if rng.bool() {
                TsCodec::Packed
            } else {
                TsCodec::DeltaOfDelta
            };
            let buf = check_round_trip(&ts, &vals, ts_codec, choice);
            let ts_len = read_ts_len(&buf);
            sizes.push((buf.len() - ts_len, choice));
        }
        // Exhaustive is never larger than any codec it tried (or raw).
        let exhaustive = sizes[1].0;
        assert!(sizes.iter().all(|s| exhaustive <= s.0), "{sizes:?}");
        let ints: Vec<i64> = ts.iter().map(|t| t.rotate_left(rng.u32(..64))).collect();
        let buf = encode_run_i64(&ts, &ints);
        assert_eq!(decode_run_i64(&buf).unwrap(), (ts.clone(), ints));
        assert!(decode_run(&buf).is_err() || n == 0, "an i64 run is not f64");
    }
}

/// Bytes of a run's header and timestamp section.
fn read_ts_len(buf: &[u8]) -> usize {
    let mut d = crate::util::coding::Decoder::new(buf);
    d.u8();
    if d.varint() == Some(0) {
        return d.pos();
    }
    let len = d.varint_usize().unwrap();
    d.pos() + len
}

#[test]
fn empty_and_single_point_runs() {
    for choice in CHOICES {
        for ts_codec in [TsCodec::Packed, TsCodec::DeltaOfDelta] {
            let empty = check_round_trip(&[], &[], ts_codec, choice);
            assert_eq!(empty.len(), 2);
            for v in [f64::NAN, -0.0, 1.5, f64::from_bits(1)] {
                check_round_trip(&[i64::MIN], &[v], ts_codec, choice);
            }
        }
    }
    assert_eq!(
        decode_run_i64(&encode_run_i64(&[], &[])).unwrap(),
        (vec![], vec![])
    );
}

#[test]
fn regular_series_cost_about_a_bit_a_point_or_less() {
    let ts: Vec<i64> = (0..1000)
        .map(|i| 1_700_000_000_000_000 + i * 15_000_000)
        .collect();
    for (v, max_bytes) in [(0.0, 64), (42.17, 64), (f64::NAN, 170), (1.0 / 3.0, 170)] {
        let vals = vec![v; 1000];
        let buf = check_round_trip(&ts, &vals, TsCodec::Packed, Choice::Auto);
        assert!(buf.len() <= max_bytes, "{v}: {} bytes", buf.len());
    }
    // A slowly changing gauge: a temperature in tenths.
    let temps: Vec<f64> = (0..1000)
        .map(|i| f64::from(200 + (i / 37) % 9) / 10.0)
        .collect();
    let buf = check_round_trip(&ts, &temps, TsCodec::Packed, Choice::Auto);
    assert!(buf.len() <= 400, "temperatures: {} bytes", buf.len());
}

/// Runs of every codec to damage.
fn sample_runs() -> Vec<Vec<u8>> {
    let mut rng = fastrand::Rng::with_seed(19);
    let mut runs = Vec::new();
    for (i, choice) in CHOICES.into_iter().enumerate() {
        let ts = timestamps(&mut rng, 90);
        let mut vals = values(&mut rng, 90);
        vals[5] = f64::NAN; // an exception for the decimal codec
        let ts_codec = if i % 2 == 0 {
            TsCodec::Packed
        } else {
            TsCodec::DeltaOfDelta
        };
        let mut buf = Vec::new();
        encode_run_with(&ts, &vals, ts_codec, choice, &mut buf);
        runs.push(buf);
    }
    let ts: Vec<i64> = (0..70).map(|i| i * 10).collect();
    runs.push(encode_run_i64(&ts, &ts));
    runs
}

#[test]
fn every_truncation_is_an_error() {
    for run in sample_runs() {
        for cut in 0..run.len() {
            assert!(decode_run(&run[..cut]).is_err(), "cut at {cut} of {run:?}");
            assert!(
                decode_run_i64(&run[..cut]).is_err(),
                "cut at {cut} of {run:?}"
            );
        }
    }
}

#[test]
fn bit_flips_decode_to_an_error_or_to_points_never_a_panic() {
    let (mut ts, mut vals) = (Vec::new(), Vec::new());
    let mut decoded = 0;
    for run in sample_runs() {
        for i in 0..run.len() * 8 {
            let mut b = run.clone();
            b[i / 8] ^= 1 << (i % 8);
            if decode_run_into(&b, &mut ts, &mut vals).is_ok() {
                decoded += 1;
                assert_eq!(ts.len(), vals.len());
            }
            let _ = decode_run_i64(&b);
        }
    }
    assert!(
        decoded > 0,
        "some flips land in value bits and still decode"
    );
}

#[test]
fn corrupt_counts_are_rejected_before_allocating() {
    let mut big = vec![0u8];
    crate::util::coding::put_varint(&mut big, MAX_RUN_POINTS as u64 + 1);
    assert!(decode_run(&big).is_err());
    // A count the 3-byte timestamp section cannot hold.
    let mut run = vec![0u8];
    crate::util::coding::put_varint(&mut run, 60_000);
    run.extend_from_slice(&[3, 0, 0, 0]);
    let err = decode_run(&run).unwrap_err().to_string();
    assert!(err.contains("points in 3 bytes"), "{err}");
    assert!(decode_run(&[0x06, 1, 1, 0]).is_err(), "unknown value codec");
    assert!(
        decode_run(&[0x20, 1, 1, 0]).is_err(),
        "unknown timestamp codec"
    );
    assert!(
        decode_run(&[0x00, 0, 0]).is_err(),
        "bytes after an empty run"
    );
}

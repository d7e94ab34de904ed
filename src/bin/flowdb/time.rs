//! Timestamps on the command line and in files: microseconds since the Unix epoch, or
//! RFC 3339 text (`2024-05-01T12:00:00Z`, `2024-05-01T14:00:00.25+02:00`, `t`/`z`/a
//! space accepted as RFC 3339 allows) or a date alone (midnight UTC). Digits finer
//! than a microsecond are dropped. No leap seconds (`:60` is refused), as the Unix
//! time scale has none. Written without a date library: the civil-calendar
//! conversions are Howard Hinnant's `days_from_civil` and `civil_from_days`.

/// `text` as microseconds: an integer, or an RFC 3339 time.
pub fn parse(text: &str) -> Result<i64, String> {
    let t = text.trim();
    if let Ok(n) = t.parse::<i64>() {
        return Ok(n);
    }
    parse_rfc3339(t.as_bytes()).ok_or_else(|| {
        format!(
            "{text:?} is neither an integer (microseconds since the Unix epoch) nor an \
             RFC 3339 time such as 2024-05-01T12:00:00Z"
        )
    })
}

/// `bytes` as microseconds (for file fields, which are bytes).
pub fn parse_bytes(bytes: &[u8]) -> Result<i64, String> {
    if let Some(n) = parse_int(bytes) {
        return Ok(n);
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => parse(s),
        Err(_) => Err(format!(
            "{:?} is not a timestamp",
            String::from_utf8_lossy(bytes)
        )),
    }
}

/// A plain decimal i64, fast (the common case of every loaded line).
fn parse_int(b: &[u8]) -> Option<i64> {
    let (neg, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    let mut v: i64 = 0;
    for &c in digits {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v.checked_mul(10)?;
        v = if neg {
            v.checked_sub(d as i64)?
        } else {
            v.checked_add(d as i64)?
        };
    }
    Some(v)
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let s = b.get(at..at + n)?;
    s.iter().try_fold(0i64, |v, &c| {
        c.is_ascii_digit().then(|| v * 10 + (c - b'0') as i64)
    })
}

fn parse_rfc3339(b: &[u8]) -> Option<i64> {
    let (y, mo, d) = (digits(b, 0, 4)?, digits(b, 5, 2)?, digits(b, 8, 2)?);
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    if b.len() == 10 {
        return days.checked_mul(86_400_000_000);
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let (h, mi, s) = (digits(b, 11, 2)?, digits(b, 14, 2)?, digits(b, 17, 2)?);
    if b.get(13) != Some(&b':') || b.get(16) != Some(&b':') || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    let mut at = 19;
    let mut micros = 0i64;
    if b.get(at) == Some(&b'.') {
        at += 1;
        let start = at;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            if at - start < 6 {
                micros = micros * 10 + (b[at] - b'0') as i64;
            }
            at += 1;
        }
        if at == start {
            return None;
        }
        for _ in (at - start)..6 {
            micros *= 10;
        }
    }
    let offset = match b.get(at)? {
        b'Z' | b'z' if at + 1 == b.len() => 0,
        c @ (b'+' | b'-') if at + 6 == b.len() && b[at + 3] == b':' => {
            let (oh, om) = (digits(b, at + 1, 2)?, digits(b, at + 4, 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let secs = oh * 3600 + om * 60;
            if *c == b'-' {
                -secs
            } else {
                secs
            }
        }
        _ => return None,
    };
    let secs = days * 86_400 + h * 3600 + mi * 60 + s - offset;
    secs.checked_mul(1_000_000)?.checked_add(micros)
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the civil date `y-m-d` (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day number from 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `micros` as RFC 3339 UTC (`2024-05-01T12:00:00Z`, with `.ffffff` when not a whole
/// second), or `None` outside the years 0000..=9999.
pub fn format(micros: i64) -> Option<String> {
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        return None;
    }
    let (h, mi, s) = (rem / 3600, rem / 60 % 60, rem % 60);
    Some(if frac == 0 {
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{frac:06}Z")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for t in [
            0i64,
            1,
            -1,
            1_714_564_800_000_000,
            951_782_400_123_456,
            -62_167_219_200_000_000,
        ] {
            let s = format(t).expect("in range");
            assert_eq!(parse(&s), Ok(t), "{s}");
        }
        assert_eq!(parse("2024-05-01T12:00:00Z"), Ok(1_714_564_800_000_000));
        assert_eq!(
            parse("2024-05-01T14:00:00.5+02:00"),
            Ok(1_714_564_800_500_000)
        );
        assert_eq!(parse("2024-05-01"), Ok(1_714_521_600_000_000));
        assert_eq!(parse("1970-01-01T00:00:00.0000019Z"), Ok(1));
        assert!(parse("2023-02-29T00:00:00Z").is_err());
        assert!(parse("2024-05-01T12:00:60Z").is_err());
        assert!(parse("2024-05-01T12:00:00").is_err());
        assert_eq!(parse_bytes(b"-42"), Ok(-42));
        assert!(parse_bytes(b"99999999999999999999").is_err());
    }
}

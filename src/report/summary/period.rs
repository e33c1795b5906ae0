//! Report periods: RFC 3339 instants (`--from`, `--to`, flow `first_ts`/`last_ts`) and
//! durations (`--since 24h`), in nanoseconds since the Unix epoch, UTC.
//!
//! A flow is in a period `[from, to)` when its capture span `[first_ts, last_ts]` overlaps
//! it: `first_ts < to && last_ts >= from`. A flow that straddles a boundary is therefore in
//! both periods (a crossing is never missed); its bytes count in both.

use super::Error;

const NS: i64 = 1_000_000_000;

/// Parses a duration: one or more `<number><unit>` groups, units `ms`, `s`, `m`, `h`, `d`,
/// `w` (e.g. `24h`, `90m`, `1d12h`, `500ms`).
///
/// # Errors
/// An empty, zero, negative, unit-less or overflowing duration.
pub fn parse_duration(s: &str) -> Result<i64, Error> {
    let bad = |why: &str| Error::Argument(format!("duration '{s}': {why} (e.g. 24h, 7d, 90m)"));
    let mut total: i64 = 0;
    let mut rest = s.trim();
    if rest.is_empty() {
        return Err(bad("empty"));
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad("expected a number"));
        }
        let n: i64 = rest[..digits]
            .parse()
            .map_err(|_| bad("number too large"))?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = match &rest[..unit_len] {
            "ms" => 1_000_000,
            "s" => NS,
            "m" => 60 * NS,
            "h" => 3600 * NS,
            "d" => 86_400 * NS,
            "w" => 7 * 86_400 * NS,
            "" => return Err(bad("missing unit")),
            u => return Err(bad(&format!("unknown unit '{u}'"))),
        };
        rest = &rest[unit_len..];
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| bad("too large"))?;
    }
    if total == 0 {
        return Err(bad("must be positive"));
    }
    Ok(total)
}

/// Parses an instant: `YYYY-MM-DD` (midnight UTC) or
/// `YYYY-MM-DDTHH:MM[:SS[.fraction]]` followed by `Z`, `+HH:MM` or `-HH:MM` (UTC when the
/// offset is absent; a space may replace the `T`).
///
/// # Errors
/// Anything else, or an out-of-range field.
pub fn parse_time(s: &str) -> Result<i64, Error> {
    let bad = || {
        Error::Argument(format!(
            "time '{s}': expected RFC 3339 like 2026-11-01T00:00:00Z or a date like 2026-11-01"
        ))
    };
    let b = s.trim().as_bytes();
    let num = |r: std::ops::Range<usize>| -> Result<i64, Error> {
        let d = b.get(r).ok_or_else(bad)?;
        if d.is_empty() || !d.iter().all(u8::is_ascii_digit) {
            return Err(bad());
        }
        std::str::from_utf8(d)
            .ok()
            .and_then(|t| t.parse().ok())
            .ok_or_else(bad)
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad());
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) {
        return Err(bad());
    }
    let mut secs = days_from_civil(y, mo, d) * 86_400;
    let mut nanos = 0i64;
    let mut i = 10;
    if b.len() > 10 {
        if b[10] != b'T' && b[10] != b't' && b[10] != b' ' {
            return Err(bad());
        }
        if b.get(13) != Some(&b':') {
            return Err(bad());
        }
        let (h, mi) = (num(11..13)?, num(14..16)?);
        let mut sec = 0;
        i = 16;
        if b.get(16) == Some(&b':') {
            sec = num(17..19)?;
            i = 19;
            if b.get(19) == Some(&b'.') {
                let digits = b[20..].iter().take_while(|c| c.is_ascii_digit()).count();
                if digits == 0 || digits > 9 {
                    return Err(bad());
                }
                nanos = num(20..20 + digits)?
                    * 10i64.pow(9 - u32::try_from(digits).map_err(|_| bad())?);
                i = 20 + digits;
            }
        }
        if h > 23 || mi > 59 || sec > 60 {
            return Err(bad());
        }
        secs += h * 3600 + mi * 60 + sec;
        match b.get(i) {
            None => {}
            Some(b'Z' | b'z') => i += 1,
            Some(&sign @ (b'+' | b'-')) => {
                if b.get(i + 3) != Some(&b':') {
                    return Err(bad());
                }
                let off = num(i + 1..i + 3)? * 3600 + num(i + 4..i + 6)? * 60;
                secs -= if sign == b'+' { off } else { -off };
                i += 6;
            }
            Some(_) => return Err(bad()),
        }
    }
    if i != b.len() {
        return Err(bad());
    }
    secs.checked_mul(NS)
        .and_then(|v| v.checked_add(nanos))
        .ok_or_else(bad)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Formats an instant as RFC 3339 with only the fraction digits it needs.
pub fn show(ns: i64) -> String {
    let full = crate::report::rfc3339(crate::capture::Timestamp(ns));
    // full = YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ
    let (head, frac) = full.split_at(19);
    let digits = frac.trim_start_matches('.').trim_end_matches('Z');
    let trimmed = digits.trim_end_matches('0');
    if trimmed.is_empty() {
        format!("{head}Z")
    } else {
        let keep = trimmed.len().div_ceil(3) * 3;
        format!("{head}.{}Z", &digits[..keep])
    }
}

/// Human form of a duration in nanoseconds (`24h`, `1ms`, `1d12h`).
pub fn show_duration(ns: i64) -> String {
    let units = [
        (86_400 * NS, "d"),
        (3600 * NS, "h"),
        (60 * NS, "m"),
        (NS, "s"),
        (1_000_000, "ms"),
        (1_000, "us"),
        (1, "ns"),
    ];
    let mut out = String::new();
    let mut rest = ns;
    for (u, name) in units {
        if rest >= u {
            out.push_str(&format!("{}{name}", rest / u));
            rest %= u;
        }
    }
    if out.is_empty() { "0s".into() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("24h").unwrap(), 86_400 * NS);
        assert_eq!(parse_duration("1d12h").unwrap(), 36 * 3600 * NS);
        assert_eq!(parse_duration("500ms").unwrap(), 500_000_000);
        assert!(parse_duration("24").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("0h").is_err());
        assert!(parse_duration("3y").is_err());
        assert!(parse_duration("99999999999999w").is_err());
        assert_eq!(show_duration(36 * 3600 * NS), "1d12h");
    }

    #[test]
    fn instants_round_trip_with_rfc3339() {
        let t = parse_time("2026-11-01T00:00:00.007000000Z").unwrap();
        assert_eq!(
            crate::report::rfc3339(crate::capture::Timestamp(t)),
            "2026-11-01T00:00:00.007000000Z"
        );
        assert_eq!(show(t), "2026-11-01T00:00:00.007Z");
        assert_eq!(
            parse_time("2026-11-01").unwrap(),
            parse_time("2026-11-01T00:00:00Z").unwrap()
        );
        assert_eq!(
            parse_time("2026-11-01T02:00:00+02:00").unwrap(),
            parse_time("2026-11-01T00:00Z").unwrap()
        );
        assert_eq!(
            parse_time("2000-02-29T12:34:56.789Z").unwrap(),
            951_827_696_789_000_000
        );
        assert_eq!(parse_time("1969-12-31T23:59:59.999999999Z").unwrap(), -1);
        for bad in [
            "2026-13-01",
            "2026-02-30",
            "2026-11-01T25:00Z",
            "yesterday",
            "2026-11-01T00:00:00.Z",
            "2026-11-01Tx",
            "",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
    }
}

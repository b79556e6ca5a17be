//! Dates and times: serial numbers, Excel's 1900 and 1904 calendars, and date formats.

use chrono::{Datelike, NaiveDate};

use super::*;

pub(super) const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
pub(super) const DAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/// A calendar date from a serial day number, with Excel's 1900 leap-year bug.
/// Returns (year, month, day, weekday 0=Sunday).
pub fn serial_to_date(days: i64, date1904: bool) -> (i64, u32, u32, u32) {
    if date1904 {
        let (y, m, d) = civil_from_days(days + days_from_civil(1904, 1, 1));
        let wd = (days + 5).rem_euclid(7) as u32; // 1904-01-01 was a Friday
        return (y, m, d, wd);
    }
    if days == 0 {
        return (1900, 1, 0, 6);
    }
    if days == 60 {
        return (1900, 2, 29, 3);
    }
    let adj = if days > 60 { days - 1 } else { days };
    let (y, m, d) = civil_from_days(adj - 1 + days_from_civil(1900, 1, 1));
    // Excel counts serial 1 (1900-01-01) as a Sunday.
    let wd = (days - 1).rem_euclid(7) as u32;
    let wd = if days > 60 { (days - 1).rem_euclid(7) as u32 } else { wd };
    (y, m, d, (wd) % 7)
}

/// 1970-01-01 in chrono's count of days from 0001-01-01 (day 1).
const UNIX_EPOCH_FROM_CE: i64 = 719_163;

/// Days since 1970-01-01 for a proleptic Gregorian date. The day counts on from the month's
/// first, so day 0 is the last of the month before (Excel's serial 0 is 1900-01-00) and a day
/// past the month's end runs into the next month (its phantom 1900-02-29 is 1900-03-01).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let first = i32::try_from(y).ok().and_then(|y| NaiveDate::from_ymd_opt(y, m.clamp(1, 12), 1));
    // Years chrono cannot hold (beyond ±262,000) are far outside Excel's 1900–9999.
    let first = first.unwrap_or(if y < 0 { NaiveDate::MIN } else { NaiveDate::MAX });
    i64::from(first.num_days_from_ce()) - UNIX_EPOCH_FROM_CE + i64::from(d) - 1
}

/// The proleptic Gregorian date `z` days after 1970-01-01 (clamped to what chrono can hold).
pub(super) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let date = i32::try_from(z + UNIX_EPOCH_FROM_CE)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .unwrap_or(if z < 0 { NaiveDate::MIN } else { NaiveDate::MAX });
    (i64::from(date.year()), date.month(), date.day())
}

/// The number of days in a month of the proleptic Gregorian calendar.
pub fn days_in_month(y: i64, m: u32) -> u32 {
    let (next_y, next_m) = if m >= 12 { (y + 1, 1) } else { (y, m + 1) };
    (days_from_civil(next_y, next_m, 1) - days_from_civil(y, m, 1)) as u32
}

/// The serial number of a date in the 1900 system (with its phantom 1900-02-29).
pub fn date_to_serial(y: i64, m: u32, d: u32) -> f64 {
    let days = days_from_civil(y, m, d) - days_from_civil(1899, 12, 31);
    (if days >= 60 { days + 1 } else { days }) as f64
}

/// `2024-03-01T13:45:00` (ISO 8601, as in `t="d"` cells) to a 1900-system serial.
pub fn iso_to_serial(s: &str) -> Option<f64> {
    let (date, time) = match s.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let mut parts = date.split('-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.trim().parse().ok()?;
    // Excel writes serial 0 (and time-only values) on the OLE epoch, 1899-12-30.
    let mut serial = if y == 1899 && m == 12 && (d == 30 || d == 31) { 0.0 } else { date_to_serial(y, m, d) };
    if let Some(t) = time {
        let t = t.trim_end_matches('Z');
        let mut tp = t.split(':');
        let h: f64 = tp.next()?.parse().ok()?;
        let mi: f64 = tp.next().unwrap_or("0").parse().ok()?;
        let se: f64 = tp.next().unwrap_or("0").parse().ok()?;
        serial += (h * 3600.0 + mi * 60.0 + se) / 86400.0;
    }
    Some(serial)
}

pub(super) fn format_date(v: f64, toks: &[Tok], date1904: bool) -> Result<String, FormatError> {
    // A duration (`[h]:mm`, no calendar part) may be negative: shown with a minus sign.
    let calendar = toks.iter().any(|t| matches!(t, Tok::Year(_) | Tok::Month(_) | Tok::Day(_)));
    if v < 0.0 && !calendar && toks.iter().any(|t| matches!(t, Tok::Elapsed(..))) {
        return format_date(-v, toks, date1904).map(|s| format!("-{s}"));
    }
    if !(0.0..2_958_466.0).contains(&v) {
        return Err(FormatError::DateOutOfRange);
    }
    let sub_digits = toks.iter().find_map(|t| if let Tok::SubSecond(n) = t { Some(*n) } else { None }).unwrap_or(0);
    // Round the time to what is shown: whole seconds, or tenths/hundredths/thousandths.
    let scale = 10f64.powi(sub_digits as i32);
    let ticks = (v * 86_400.0 * scale + 0.5).floor();
    let total_secs_f = ticks / scale;
    let days = (total_secs_f / 86_400.0).floor() as i64;
    let secs_in_day = total_secs_f - days as f64 * 86_400.0;
    let whole_secs = secs_in_day.floor() as i64;
    let frac_ticks = (ticks as i64).rem_euclid(scale as i64);
    let (h, mi, s) = (whole_secs / 3600, (whole_secs / 60) % 60, whole_secs % 60);
    let (y, mo, d, wd) = serial_to_date(days, date1904);
    let has_ampm = toks.iter().any(|t| matches!(t, Tok::AmPm { .. }));
    let total_secs = (total_secs_f).floor() as i64;

    let mut out = String::new();
    for t in toks {
        match t {
            Tok::Year(n) => {
                if *n <= 2 {
                    out.push_str(&format!("{:02}", y.rem_euclid(100)));
                } else {
                    out.push_str(&format!("{y:04}"));
                }
            }
            Tok::Month(n) => match n {
                1 => out.push_str(&mo.to_string()),
                2 => out.push_str(&format!("{mo:02}")),
                3 => out.push_str(&MONTHS[(mo - 1) as usize][..3]),
                5 => out.push_str(&MONTHS[(mo - 1) as usize][..1]),
                _ => out.push_str(MONTHS[(mo - 1) as usize]),
            },
            Tok::Day(n) => match n {
                1 => out.push_str(&d.to_string()),
                2 => out.push_str(&format!("{d:02}")),
                3 => out.push_str(&DAYS[wd as usize][..3]),
                _ => out.push_str(DAYS[wd as usize]),
            },
            Tok::Hour(n) => {
                let hh = if has_ampm {
                    let x = h % 12;
                    if x == 0 {
                        12
                    } else {
                        x
                    }
                } else {
                    h
                };
                if *n >= 2 {
                    out.push_str(&format!("{hh:02}"));
                } else {
                    out.push_str(&hh.to_string());
                }
            }
            Tok::Minute(n) => {
                if *n >= 2 {
                    out.push_str(&format!("{mi:02}"));
                } else {
                    out.push_str(&mi.to_string());
                }
            }
            Tok::Second(n) => {
                if *n >= 2 {
                    out.push_str(&format!("{s:02}"));
                } else {
                    out.push_str(&s.to_string());
                }
            }
            Tok::SubSecond(n) => {
                out.push('.');
                out.push_str(&format!("{:0width$}", frac_ticks, width = *n));
            }
            Tok::Elapsed(unit, n) => {
                let val = match unit {
                    'h' => total_secs / 3600,
                    'm' => total_secs / 60,
                    _ => total_secs,
                };
                out.push_str(&format!("{val:0width$}", width = *n));
            }
            Tok::AmPm { full, lower } => {
                let pm = h >= 12;
                out.push_str(match (full, pm, lower) {
                    (true, false, _) => "AM",
                    (true, true, _) => "PM",
                    (false, false, false) => "A",
                    (false, true, false) => "P",
                    (false, false, true) => "a",
                    (false, true, true) => "p",
                });
            }
            Tok::Digit(c) => out.push(*c),
            other => push_literal(&mut out, other),
        }
    }
    Ok(out)
}

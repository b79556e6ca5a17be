//! Excel number formats: rendering a value the way Excel displays it (the Graph `text`
//! property, and the TEXT function).
//!
//! Covers sections and conditions, colours, locale and currency tags (`[$-409]`, `[$EUR]`,
//! `[$€-407]`), literals and escapes, digit placeholders with literals between them, grouping and
//! scaling commas, percent, scientific and engineering notation, fractions, dates and times in
//! the 1900 and 1904 systems, elapsed time (`[h]`), fractional seconds, AM/PM, and text (`@`).

use crate::value::Value;

mod dates;
mod lexer;
mod number;
#[cfg(test)]
mod tests;

use dates::format_date;
pub use dates::{date_to_serial, days_from_civil, days_in_month, iso_to_serial, serial_to_date};
use lexer::{split_sections, tokenize, Tok};
use number::{format_plain, push_literal};

/// Excel's built-in formats (en-US), by numFmtId.
pub fn builtin_format(id: u32) -> Option<&'static str> {
    Some(match id {
        0 => "General",
        1 => "0",
        2 => "0.00",
        3 => "#,##0",
        4 => "#,##0.00",
        5 => "\"$\"#,##0_);\\(\"$\"#,##0\\)",
        6 => "\"$\"#,##0_);[Red]\\(\"$\"#,##0\\)",
        7 => "\"$\"#,##0.00_);\\(\"$\"#,##0.00\\)",
        8 => "\"$\"#,##0.00_);[Red]\\(\"$\"#,##0.00\\)",
        9 => "0%",
        10 => "0.00%",
        11 => "0.00E+00",
        12 => "# ?/?",
        13 => "# ??/??",
        14 => "m/d/yyyy",
        15 => "d-mmm-yy",
        16 => "d-mmm",
        17 => "mmm-yy",
        18 => "h:mm AM/PM",
        19 => "h:mm:ss AM/PM",
        20 => "h:mm",
        21 => "h:mm:ss",
        22 => "m/d/yyyy h:mm",
        37 => "#,##0_);(#,##0)",
        38 => "#,##0_);[Red](#,##0)",
        39 => "#,##0.00_);(#,##0.00)",
        40 => "#,##0.00_);[Red](#,##0.00)",
        41 => "_(* #,##0_);_(* \\(#,##0\\);_(* \"-\"_);_(@_)",
        42 => "_(\"$\"* #,##0_);_(\"$\"* \\(#,##0\\);_(\"$\"* \"-\"_);_(@_)",
        43 => "_(* #,##0.00_);_(* \\(#,##0.00\\);_(* \"-\"??_);_(@_)",
        44 => "_(\"$\"* #,##0.00_);_(\"$\"* \\(#,##0.00\\);_(\"$\"* \"-\"??_);_(@_)",
        45 => "mm:ss",
        46 => "[h]:mm:ss",
        47 => "mm:ss.0",
        48 => "##0.0E+0",
        49 => "@",
        _ => return None,
    })
}

/// Why a value could not be rendered (TEXT answers `#VALUE!`; a cell shows `#`s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormatError {
    /// A date format applied to a negative or too large serial.
    DateOutOfRange,
}

/// Renders a cell value through a format code as Excel displays it.
pub fn format_value(value: &Value, code: &str, date1904: bool) -> String {
    match value {
        Value::Empty => String::new(),
        Value::Number(n) => format_number(*n, code, date1904).unwrap_or_else(|_| "#".repeat(11)),
        Value::Text(s) => format_text(s, code),
        Value::Bool(b) => (if *b { "TRUE" } else { "FALSE" }).to_string(),
        Value::Error(e) => e.as_str().to_string(),
    }
}

/// Text through a format: the text section (the 4th, or a lone section with `@`) if any.
pub fn format_text(s: &str, code: &str) -> String {
    let sections = split_sections(code);
    let text_section = match sections.len() {
        0 => None,
        1 if sections[0].contains('@') => Some(&sections[0]),
        4.. => Some(&sections[3]),
        _ => None,
    };
    let Some(section) = text_section else { return s.to_string() };
    let mut out = String::new();
    for tok in tokenize(section) {
        match tok {
            Tok::At => out.push_str(s),
            Tok::Lit(l) => out.push_str(&l),
            Tok::Space => out.push(' '),
            _ => {}
        }
    }
    out
}
fn cond_holds(op: &str, limit: f64, v: f64) -> bool {
    match op {
        "<" => v < limit,
        "<=" => v <= limit,
        ">" => v > limit,
        ">=" => v >= limit,
        "=" => v == limit,
        "<>" => v != limit,
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Numbers

/// Renders a number through a format code.
pub fn format_number(v: f64, code: &str, date1904: bool) -> Result<String, FormatError> {
    if !v.is_finite() {
        return Ok("#NUM!".into());
    }
    if code.is_empty() {
        return Ok(String::new());
    }
    if code.eq_ignore_ascii_case("general") {
        return Ok(general(v));
    }
    let sections: Vec<Vec<Tok>> = split_sections(code).iter().map(|s| tokenize(s)).collect();
    let has_cond = sections.iter().any(|s| s.iter().any(|t| matches!(t, Tok::Cond(..))));
    let (section, value, keep_sign) = if has_cond {
        let mut chosen = None;
        for (k, s) in sections.iter().enumerate().take(2) {
            if let Some(Tok::Cond(op, lim)) = s.iter().find(|t| matches!(t, Tok::Cond(..))) {
                if cond_holds(op, *lim, v) {
                    chosen = Some(k);
                    break;
                }
            }
        }
        match chosen {
            // A matching section shows the value's magnitude only when its condition is about
            // negatives (as `[<0]`); otherwise the sign stays.
            Some(k) => (k, v, true),
            None => {
                let k = if sections.len() > 2 {
                    2
                } else if sections.len() == 2 && !sections[1].iter().any(|t| matches!(t, Tok::Cond(..))) {
                    1
                } else if sections.len() == 1 {
                    // A lone conditional section that does not apply leaves the number in General.
                    return Ok(general(v));
                } else {
                    return Ok("#".repeat(11));
                };
                (k, v, true)
            }
        }
    } else {
        match sections.len() {
            1 => (0, v, true),
            2 => {
                if v < 0.0 {
                    (1, -v, false)
                } else {
                    (0, v, true)
                }
            }
            _ => {
                if v > 0.0 {
                    (0, v, true)
                } else if v < 0.0 {
                    (1, -v, false)
                } else {
                    (2, v, true)
                }
            }
        }
    };
    let toks = sections.get(section).cloned().unwrap_or_default();
    // An empty section shows nothing.
    let meaningful = toks.iter().any(|t| !matches!(t, Tok::Color | Tok::Cond(..)));
    if !meaningful && split_sections(code).len() > 1 {
        return Ok(String::new());
    }
    if toks.iter().all(|t| matches!(t, Tok::Color | Tok::Cond(..))) || is_general(&toks) {
        let prefix: String = toks
            .iter()
            .take_while(|t| !matches!(t, Tok::Lit(l) if l.starts_with('\u{0}')))
            .filter_map(|t| if let Tok::Lit(l) = t { Some(l.clone()) } else { None })
            .collect();
        let suffix: String = toks
            .iter()
            .skip_while(|t| !matches!(t, Tok::Lit(l) if l.starts_with('\u{0}')))
            .skip(1)
            .filter_map(|t| if let Tok::Lit(l) = t { Some(l.clone()) } else { None })
            .collect();
        let shown = if keep_sign { value } else { value.abs() };
        return Ok(format!("{prefix}{}{suffix}", general(shown)));
    }
    if toks.iter().any(|t| {
        matches!(
            t,
            Tok::Year(_)
                | Tok::Month(_)
                | Tok::Day(_)
                | Tok::Hour(_)
                | Tok::Minute(_)
                | Tok::Second(_)
                | Tok::Elapsed(..)
                | Tok::AmPm { .. }
        )
    }) {
        return format_date(value, &toks, date1904);
    }
    Ok(format_plain(value, &toks, keep_sign))
}

fn is_general(toks: &[Tok]) -> bool {
    toks.iter().any(|t| matches!(t, Tok::Lit(l) if l.starts_with('\u{0}')))
}

/// Excel's General format: at most 11 characters, switching to scientific when needed.
pub fn general(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if let Some(quick) = general_quick(v) {
        return quick;
    }
    general_rounded(v)
}

/// The common cases of [`general`] without rounding: whole numbers, and values whose shortest
/// exact form already fits in eleven characters (rounding would give the same digits).
fn general_quick(v: f64) -> Option<String> {
    let a = v.abs();
    if a < 1e11 && v.fract() == 0.0 {
        return Some((v as i64).to_string());
    }
    if (1e-9..1e11).contains(&a) {
        let shortest = v.to_string();
        if shortest.len() - usize::from(v < 0.0) <= 11 {
            return Some(shortest);
        }
    }
    None
}

/// General by rounding to the most decimals that fit in eleven characters.
fn general_rounded(v: f64) -> String {
    let a = v.abs();
    let neg = v < 0.0;
    // Eleven characters, not counting the minus sign.
    let width = 11;
    if (1e-9..1e11).contains(&a) {
        // Largest number of decimals that fits.
        let int_digits = if a >= 1.0 { a.log10().floor() as i32 + 1 } else { 1 };
        let max_dec = (width as i32 - int_digits - 1).max(0) as usize;
        let mut s = round_decimal(a, max_dec.min(15));
        if s.contains('.') {
            s = s.trim_end_matches('0').trim_end_matches('.').to_string();
        }
        // Rounding up may add an integer digit (9.99999999999 -> 10.0000000000).
        if s.len() <= width && s != "0" {
            return if neg { format!("-{s}") } else { s };
        }
        if s == "0" {
            return scientific_general(v, width);
        }
    }
    scientific_general(v, width)
}

fn scientific_general(v: f64, width: usize) -> String {
    let a = v.abs();
    let exp = a.log10().floor() as i32;
    let exp_str_len = if exp.abs() >= 100 { 5 } else { 4 };
    let mant_width = width.saturating_sub(exp_str_len);
    let decimals = mant_width.saturating_sub(2).min(14);
    let mut mant = a / 10f64.powi(exp);
    let mut e = exp;
    let mut m = round_decimal(mant, decimals);
    if m.starts_with("10") {
        mant /= 10.0;
        e += 1;
        m = round_decimal(mant, decimals);
    }
    if m.contains('.') {
        m = m.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    let sign = if v < 0.0 { "-" } else { "" };
    let esign = if e < 0 { '-' } else { '+' };
    format!("{sign}{m}E{esign}{:02}", e.abs())
}

/// Rounds half away from zero in decimal, on Excel's 15 significant digits, and writes the
/// result with exactly `decimals` digits after the point.
pub fn round_decimal(v: f64, decimals: usize) -> String {
    let neg = v < 0.0;
    let a = v.abs();
    if a == 0.0 {
        return if decimals == 0 { "0".into() } else { format!("0.{}", "0".repeat(decimals)) };
    }
    // 15 significant digits, as Excel keeps. The shortest round-trip form is cheap and, when it
    // has at most 15 digits, equals the value rounded to 15 digits; exact formatting is slow.
    let shortest = format!("{:e}", a);
    let mantissa_digits = shortest.split('e').next().map_or(99, |m| m.bytes().filter(u8::is_ascii_digit).count());
    let sci = if mantissa_digits <= 15 { shortest } else { format!("{:.14e}", a) };
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: Vec<u8> = mant.bytes().filter(|b| b.is_ascii_digit()).map(|b| b - b'0').collect();
    // Value = 0.d1d2d3... * 10^(exp+1)
    let point = exp + 1; // digits before the decimal point
    let keep = point + decimals as i32; // number of digits to keep
    let mut kept: Vec<u8> = if keep <= 0 { Vec::new() } else { digits.iter().copied().take(keep as usize).collect() };
    while (kept.len() as i32) < keep {
        kept.push(0);
    }
    let round_up = if keep < 0 { false } else { digits.get(keep as usize).is_some_and(|&d| d >= 5) };
    let mut int_len = point.max(0) as usize;
    if keep <= 0 {
        kept.clear();
        int_len = 0;
    }
    if round_up {
        let mut k = kept.len();
        loop {
            if k == 0 {
                kept.insert(0, 1);
                int_len += 1;
                break;
            }
            k -= 1;
            if kept[k] == 9 {
                kept[k] = 0;
            } else {
                kept[k] += 1;
                break;
            }
        }
    }
    // kept now holds int_len integer digits followed by `decimals` digits (when keep > 0).
    let total_needed = int_len + decimals;
    while kept.len() < total_needed {
        kept.insert(0, 0);
    }
    let int_part: String = kept[..kept.len() - decimals].iter().map(|d| (b'0' + d) as char).collect();
    let dec_part: String = kept[kept.len() - decimals..].iter().map(|d| (b'0' + d) as char).collect();
    let int_part = {
        let t = int_part.trim_start_matches('0');
        if t.is_empty() {
            "0".to_string()
        } else {
            t.to_string()
        }
    };
    let mut s = if decimals == 0 { int_part } else { format!("{int_part}.{dec_part}") };
    if neg && s.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
        s.insert(0, '-');
    }
    s
}

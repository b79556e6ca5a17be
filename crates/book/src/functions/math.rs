//! Rounding to multiples, roman numerals, GCD/LCM and base conversion, as Excel computes them.

use formualizer_common::{ExcelError, ExcelErrorKind, LiteralValue};

use super::{Args, Outcome};

/// `n / significance` rounded to 15 significant digits before it is rounded to a whole number,
/// so that CEILING(0.3, 0.1) is 0.3 and not 0.4 (the quotient is 2.9999999999999996).
fn quotient(n: f64, significance: f64) -> f64 {
    tidy(n / significance)
}

/// Removes the noise of the final multiplication (15 significant digits, as Excel stores).
fn tidy(v: f64) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return if v == 0.0 { 0.0 } else { v };
    }
    let digits = 15 - (v.abs().log10().floor() as i32) - 1;
    if !(-300..=300).contains(&digits) {
        return v;
    }
    let scale = 10f64.powi(digits);
    let r = (v * scale).round() / scale;
    if r.is_finite() {
        r
    } else {
        v
    }
}

/// CEILING.MATH (`up`) and FLOOR.MATH: a positive number goes up (down) to a multiple of
/// |significance|; a negative one towards zero (away from zero), or the other way when `mode` is
/// non-zero. A zero significance gives 0.
fn round_math(a: &Args, up: bool) -> Outcome {
    let n = a.number(0)?;
    let significance = a.number_given_or(1, 1.0)?.abs();
    let mode = a.number_or(2, 0.0)?;
    if significance == 0.0 {
        return Ok(LiteralValue::Number(0.0));
    }
    let q = quotient(n.abs(), significance);
    // For a negative number, the magnitude is rounded the other way unless `mode` says otherwise.
    let magnitude_up = if n >= 0.0 { up } else { (mode == 0.0) != up };
    let magnitude = if magnitude_up { q.ceil() } else { q.floor() } * significance;
    Ok(LiteralValue::Number(tidy(if n >= 0.0 { magnitude } else { -magnitude })))
}

pub(super) fn ceiling_math(a: &Args) -> Outcome {
    round_math(a, true)
}

pub(super) fn floor_math(a: &Args) -> Outcome {
    round_math(a, false)
}

/// CEILING.PRECISE and ISO.CEILING: CEILING.MATH without the mode argument.
pub(super) fn ceiling_precise(a: &Args) -> Outcome {
    if a.len() > 2 {
        return Err(ExcelError::new(ExcelErrorKind::Value));
    }
    ceiling_math(a)
}

pub(super) fn floor_precise(a: &Args) -> Outcome {
    if a.len() > 2 {
        return Err(ExcelError::new(ExcelErrorKind::Value));
    }
    floor_math(a)
}

/// CEILING(number, significance): rounds away from zero when both are negative, towards +∞
/// otherwise; a positive number with a negative significance is #NUM!.
pub(super) fn ceiling(a: &Args) -> Outcome {
    let n = a.number(0)?;
    let significance = a.number(1)?;
    if n == 0.0 || significance == 0.0 {
        return Ok(LiteralValue::Number(0.0));
    }
    if n > 0.0 && significance < 0.0 {
        return Err(ExcelError::new(ExcelErrorKind::Num));
    }
    Ok(LiteralValue::Number(tidy(quotient(n, significance).ceil() * significance)))
}

/// FLOOR(number, significance): the mirror of CEILING; a zero significance is #DIV/0!.
pub(super) fn floor(a: &Args) -> Outcome {
    let n = a.number(0)?;
    let significance = a.number(1)?;
    if n == 0.0 {
        return Ok(LiteralValue::Number(0.0));
    }
    if significance == 0.0 {
        return Err(ExcelError::new(ExcelErrorKind::Div));
    }
    if n > 0.0 && significance < 0.0 {
        return Err(ExcelError::new(ExcelErrorKind::Num));
    }
    Ok(LiteralValue::Number(tidy(quotient(n, significance).floor() * significance)))
}

const ROMAN_SYMBOLS: [(char, u32); 7] = [('M', 1000), ('D', 500), ('C', 100), ('L', 50), ('X', 10), ('V', 5), ('I', 1)];

/// ROMAN(number, [form]): form 0 is classic, 1–4 increasingly concise (TRUE is 0, FALSE is 4).
pub(super) fn roman(a: &Args) -> Outcome {
    let n = a.number(0)?.trunc();
    let form = match a.get(1) {
        None | Some(LiteralValue::Empty) => 0.0,
        Some(LiteralValue::Boolean(b)) => {
            if *b {
                0.0
            } else {
                4.0
            }
        }
        Some(_) => a.number(1)?.trunc(),
    };
    if !(0.0..=3999.0).contains(&n) || !(0.0..=4.0).contains(&form) {
        return Err(ExcelError::new(ExcelErrorKind::Value));
    }
    Ok(LiteralValue::Text(to_roman(n as u32, form as usize)))
}

/// Roman numeral of `value` (0–3999) in Excel's `form` (0–4).
///
/// Digits are written from the thousands down. A digit of 4 or 9 is a subtractive pair; in the
/// concise forms the subtracted symbol may be replaced by up to `form` smaller symbols, as long
/// as the pair still does not exceed what remains to be written.
pub fn to_roman(mut value: u32, form: usize) -> String {
    let mut out = String::new();
    // Indices of the powers of ten: M, C, X, I.
    for unit in [0usize, 2, 4, 6] {
        let unit_value = ROMAN_SYMBOLS[unit].1;
        let digit = value / unit_value;
        if digit % 5 == 4 {
            // The symbol subtracted from: five (for 4) or ten (for 9) units.
            let big = if digit == 4 { unit - 1 } else { unit - 2 };
            let mut small = unit;
            let mut steps = 0;
            while steps < form && small + 1 < ROMAN_SYMBOLS.len() {
                if ROMAN_SYMBOLS[big].1 - ROMAN_SYMBOLS[small + 1].1 <= value {
                    small += 1;
                    steps += 1;
                } else {
                    break;
                }
            }
            out.push(ROMAN_SYMBOLS[small].0);
            out.push(ROMAN_SYMBOLS[big].0);
            value -= ROMAN_SYMBOLS[big].1 - ROMAN_SYMBOLS[small].1;
        } else {
            if digit >= 5 {
                out.push(ROMAN_SYMBOLS[unit - 1].0);
            }
            for _ in 0..digit % 5 {
                out.push(ROMAN_SYMBOLS[unit].0);
            }
            value %= unit_value;
        }
    }
    out
}

/// ARABIC(text): the value of a roman numeral, any form, upper or lower case, with an optional
/// leading minus; the empty string is 0.
pub(super) fn arabic(a: &Args) -> Outcome {
    let text = match a.get(0) {
        Some(LiteralValue::Text(t)) => t.clone(),
        Some(LiteralValue::Empty) | None => String::new(),
        Some(LiteralValue::Error(e)) => return Err(e.clone()),
        Some(_) => return Err(ExcelError::new(ExcelErrorKind::Value)),
    };
    let trimmed = text.trim_matches(' ');
    if trimmed.len() > 255 {
        return Err(ExcelError::new(ExcelErrorKind::Value));
    }
    let (negative, digits) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed),
    };
    let values: Option<Vec<i64>> = digits
        .chars()
        .map(|c| ROMAN_SYMBOLS.iter().find(|(s, _)| *s == c.to_ascii_uppercase()).map(|(_, v)| i64::from(*v)))
        .collect();
    let values = values.ok_or_else(|| ExcelError::new(ExcelErrorKind::Value))?;
    let mut total = 0i64;
    for (i, v) in values.iter().enumerate() {
        if values.get(i + 1).is_some_and(|next| next > v) {
            total -= v;
        } else {
            total += v;
        }
    }
    Ok(LiteralValue::Number(if negative { -total } else { total } as f64))
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// The integers GCD and LCM read: every number of every argument (ranges and arrays included,
/// blank cells skipped), truncated; negative or too large is #NUM!, text in a range #VALUE!.
fn integer_args(a: &Args) -> Result<Vec<u64>, ExcelError> {
    let mut out = Vec::new();
    for i in 0..a.len() {
        let (values, from_grid) = a.flat(i);
        for v in values {
            let n = match v {
                LiteralValue::Empty => continue,
                LiteralValue::Number(n) => n,
                LiteralValue::Int(n) => n as f64,
                LiteralValue::Boolean(_) | LiteralValue::Text(_) if from_grid => {
                    return Err(ExcelError::new(ExcelErrorKind::Value))
                }
                LiteralValue::Boolean(_) => return Err(ExcelError::new(ExcelErrorKind::Value)),
                LiteralValue::Error(e) => return Err(e),
                other => super::coerce_number(&other)?,
            };
            let n = n.trunc();
            if !(0.0..9.007_199_254_740_992e15).contains(&n) {
                return Err(ExcelError::new(ExcelErrorKind::Num));
            }
            out.push(n as u64);
        }
    }
    Ok(out)
}

pub(super) fn gcd_fn(a: &Args) -> Outcome {
    let values = integer_args(a)?;
    Ok(LiteralValue::Number(values.into_iter().fold(0, gcd) as f64))
}

pub(super) fn lcm_fn(a: &Args) -> Outcome {
    let values = integer_args(a)?;
    let mut acc: u128 = 1;
    for v in values {
        if v == 0 {
            return Ok(LiteralValue::Number(0.0));
        }
        let g = gcd(acc as u64, v) as u128;
        acc = acc / g * u128::from(v);
        if acc >= 1u128 << 53 {
            return Err(ExcelError::new(ExcelErrorKind::Num));
        }
    }
    Ok(LiteralValue::Number(acc as f64))
}

/// Half of the ten-digit range of a base: values at or above it are negative (two's complement).
fn half_range(radix: u32) -> i64 {
    i64::from(radix).pow(10) / 2
}

/// The `places` argument of the base conversions: absent, or 1–10 digits.
fn places(a: &Args, i: usize) -> Result<Option<usize>, ExcelError> {
    if a.len() <= i {
        return Ok(None);
    }
    let p = a.number(i)?.trunc();
    if !(1.0..=10.0).contains(&p) {
        return Err(ExcelError::new(ExcelErrorKind::Num));
    }
    Ok(Some(p as usize))
}

/// A number written in `radix` with at most ten digits; ten digits with the top digit set are
/// negative, as Excel stores them.
fn parse_base(v: Option<&LiteralValue>, radix: u32) -> Result<i64, ExcelError> {
    let text = match v {
        None | Some(LiteralValue::Empty) => return Ok(0),
        Some(LiteralValue::Text(t)) => t.clone(),
        Some(LiteralValue::Number(n)) => super::literal_text(&LiteralValue::Number(*n)),
        Some(LiteralValue::Int(i)) => i.to_string(),
        Some(LiteralValue::Error(e)) => return Err(e.clone()),
        Some(_) => return Err(ExcelError::new(ExcelErrorKind::Value)),
    };
    let num = || ExcelError::new(ExcelErrorKind::Num);
    if text.is_empty() {
        return Ok(0);
    }
    if text.len() > 10 {
        return Err(num());
    }
    let mut value: i64 = 0;
    for c in text.chars() {
        let d = c.to_digit(radix).ok_or_else(num)?;
        value = value * i64::from(radix) + i64::from(d);
    }
    if text.len() == 10 && value >= half_range(radix) {
        value -= 2 * half_range(radix);
    }
    Ok(value)
}

/// `n` in `radix`: negative numbers as ten-digit two's complement (places ignored), others
/// padded to `places`; outside the ten-digit range is #NUM!.
fn format_base(n: i64, radix: u32, places: Option<usize>) -> Outcome {
    let half = half_range(radix);
    if n < -half || n >= half {
        return Err(ExcelError::new(ExcelErrorKind::Num));
    }
    let digits = |mut v: u64| -> String {
        if v == 0 {
            return "0".into();
        }
        let mut s = Vec::new();
        while v > 0 {
            s.push(std::char::from_digit((v % u64::from(radix)) as u32, radix).unwrap_or('0').to_ascii_uppercase());
            v /= u64::from(radix);
        }
        s.iter().rev().collect()
    };
    if n < 0 {
        return Ok(LiteralValue::Text(digits((n + 2 * half) as u64)));
    }
    let text = digits(n as u64);
    match places {
        None => Ok(LiteralValue::Text(text)),
        Some(p) if p < text.len() => Err(ExcelError::new(ExcelErrorKind::Num)),
        Some(p) => Ok(LiteralValue::Text(format!("{text:0>p$}"))),
    }
}

fn dec_to(a: &Args, radix: u32) -> Outcome {
    let n = match a.get(0) {
        Some(LiteralValue::Boolean(_)) => return Err(ExcelError::new(ExcelErrorKind::Value)),
        _ => a.number(0)?.trunc(),
    };
    let places = places(a, 1)?;
    if n.abs() >= 1e15 {
        return Err(ExcelError::new(ExcelErrorKind::Num));
    }
    format_base(n as i64, radix, places)
}

fn base_to(a: &Args, from: u32, to: Option<u32>) -> Outcome {
    let n = parse_base(a.get(0), from)?;
    match to {
        None => Ok(LiteralValue::Number(n as f64)),
        Some(radix) => format_base(n, radix, places(a, 1)?),
    }
}

pub(super) fn dec2bin(a: &Args) -> Outcome {
    dec_to(a, 2)
}
pub(super) fn dec2oct(a: &Args) -> Outcome {
    dec_to(a, 8)
}
pub(super) fn dec2hex(a: &Args) -> Outcome {
    dec_to(a, 16)
}
pub(super) fn bin2dec(a: &Args) -> Outcome {
    base_to(a, 2, None)
}
pub(super) fn bin2oct(a: &Args) -> Outcome {
    base_to(a, 2, Some(8))
}
pub(super) fn bin2hex(a: &Args) -> Outcome {
    base_to(a, 2, Some(16))
}
pub(super) fn oct2dec(a: &Args) -> Outcome {
    base_to(a, 8, None)
}
pub(super) fn oct2bin(a: &Args) -> Outcome {
    base_to(a, 8, Some(2))
}
pub(super) fn oct2hex(a: &Args) -> Outcome {
    base_to(a, 8, Some(16))
}
pub(super) fn hex2dec(a: &Args) -> Outcome {
    base_to(a, 16, None)
}
pub(super) fn hex2bin(a: &Args) -> Outcome {
    base_to(a, 16, Some(2))
}
pub(super) fn hex2oct(a: &Args) -> Outcome {
    base_to(a, 16, Some(8))
}

#[cfg(test)]
mod tests {
    use super::to_roman;

    #[test]
    fn roman_forms_match_excel() {
        assert_eq!(to_roman(499, 0), "CDXCIX");
        assert_eq!(to_roman(499, 1), "LDVLIV");
        assert_eq!(to_roman(499, 2), "XDIX");
        assert_eq!(to_roman(499, 3), "VDIV");
        assert_eq!(to_roman(499, 4), "ID");
        assert_eq!(to_roman(1999, 0), "MCMXCIX");
        assert_eq!(to_roman(3999, 0), "MMMCMXCIX");
        assert_eq!(to_roman(0, 0), "");
        assert_eq!(to_roman(4, 4), "IV");
    }
}

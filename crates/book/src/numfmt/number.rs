//! Numbers by a format's digit placeholders: decimals, grouping, percent, scientific, fractions.

use super::*;

pub(super) fn format_plain(value: f64, toks: &[Tok], keep_sign: bool) -> String {
    let mut v = value;
    // A percent sign scales the value, except in scientific notation, where it is only shown.
    let scientific = toks.iter().any(|t| matches!(t, Tok::Exp { .. }));
    let percents = if scientific { 0 } else { toks.iter().filter(|t| matches!(t, Tok::Percent)).count() };
    for _ in 0..percents {
        v *= 100.0;
    }
    if toks.iter().any(|t| matches!(t, Tok::Slash)) && toks.iter().any(|t| matches!(t, Tok::Digit(_))) {
        if let Some(s) = format_fraction(v, toks, keep_sign) {
            return s;
        }
    }
    // Locate the numeric part: from the first to the last digit placeholder (or point).
    let is_num = |t: &Tok| matches!(t, Tok::Digit(_) | Tok::Point | Tok::Exp { .. });
    let first = toks.iter().position(is_num);
    let Some(first) = first else {
        // No placeholders: literals only (e.g. `"-"` in accounting zero sections).
        let mut out = String::new();
        if keep_sign && value < 0.0 {
            out.push('-');
        }
        for t in toks {
            push_literal(&mut out, t);
        }
        return out;
    };
    let exp_pos = toks.iter().position(|t| matches!(t, Tok::Exp { .. }));
    let last_digit = toks.iter().rposition(|t| matches!(t, Tok::Digit(_) | Tok::Point)).unwrap_or(first);
    let mant_end = exp_pos.unwrap_or(last_digit + 1);
    let point = toks[first..mant_end].iter().position(|t| matches!(t, Tok::Point)).map(|p| p + first);
    // Scaling commas: commas right after the last integer/decimal placeholder, and commas right
    // before the decimal point (`#,.#,` shows millions).
    let mut scale_commas = 0;
    {
        let mut k = if exp_pos.is_some() { mant_end } else { last_digit + 1 };
        while k < toks.len() && matches!(toks[k], Tok::Comma) {
            scale_commas += 1;
            k += 1;
        }
        if let Some(p) = point {
            let mut k = p;
            while k > first && matches!(toks[k - 1], Tok::Comma) {
                k -= 1;
            }
            if k > first && exp_pos.is_none() {
                scale_commas += p - k;
            }
        }
    }
    for _ in 0..scale_commas {
        v /= 1000.0;
    }
    let int_toks: Vec<usize> =
        (first..point.unwrap_or(mant_end)).filter(|&k| matches!(toks[k], Tok::Digit(_))).collect();
    let dec_toks: Vec<usize> = match point {
        Some(p) => (p + 1..mant_end).filter(|&k| matches!(toks[k], Tok::Digit(_))).collect(),
        None => Vec::new(),
    };
    // Grouping: a comma with integer placeholders on both sides.
    let int_end = point.unwrap_or(mant_end);
    let grouping = (first..int_end).any(|k| {
        matches!(toks[k], Tok::Comma)
            && toks[first..k].iter().any(|x| matches!(x, Tok::Digit(_)))
            && toks[k + 1..int_end].iter().any(|x| matches!(x, Tok::Digit(_)))
    });

    let mut exponent_text = String::new();
    let mut mant = v.abs();
    if let Some(ep) = exp_pos {
        let int_count = int_toks.len().max(1) as i32;
        let mut e = if mant == 0.0 { 0 } else { mant.log10().floor() as i32 };
        // Engineering style (##0.0E+0): the exponent is a multiple of the integer placeholders.
        if int_count > 1 {
            e = e.div_euclid(int_count) * int_count;
        } else {
            e -= int_count - 1;
        }
        mant = if mant == 0.0 { 0.0 } else { mant / 10f64.powi(e) };
        // Rounding may push the mantissa to the next power of ten.
        let r: f64 = round_decimal(mant, dec_toks.len()).parse().unwrap_or(mant);
        if r >= 10f64.powi(int_count) && mant != 0.0 {
            e += int_count;
            mant /= 10f64.powi(int_count);
        }
        let plus = matches!(toks[ep], Tok::Exp { plus: true, .. });
        let exp_digits: Vec<&Tok> = toks[ep + 1..].iter().filter(|t| matches!(t, Tok::Digit(_))).collect();
        // The exponent's digits fill its placeholders from the right; unused ones pad with
        // zeros (`0`), spaces (`?`) or nothing (`#`).
        let digits = e.abs().to_string();
        let mut padded = String::new();
        for (k, t) in exp_digits.iter().enumerate() {
            if exp_digits.len() - k <= digits.len() {
                break;
            }
            padded.push_str(match t {
                Tok::Digit('0') => "0",
                Tok::Digit('?') => " ",
                _ => "",
            });
        }
        padded.push_str(&digits);
        let sign = if e < 0 {
            "-"
        } else if plus {
            "+"
        } else {
            ""
        };
        exponent_text = format!("{sign}{padded}");
    }
    let rounded = round_decimal(mant, dec_toks.len());
    let (int_str, dec_str) = match rounded.split_once('.') {
        Some((a, b)) => (a.to_string(), b.to_string()),
        None => (rounded.clone(), String::new()),
    };
    let int_digits: Vec<char> = if int_str == "0" { Vec::new() } else { int_str.chars().collect() };

    // Integer placeholders are filled right to left; extra digits go to the first one.
    let n_int = int_toks.len();
    let zero_scientific = exp_pos.is_some() && mant == 0.0;
    let mut int_fill: Vec<String> = vec![String::new(); n_int];
    if n_int > 0 {
        let nd = int_digits.len();
        for (j, slot) in int_fill.iter_mut().enumerate() {
            // placeholder j (from the left) receives digit index nd - (n_int - j)
            let from_right = n_int - j; // 1-based from right
            if j == 0 && nd > n_int {
                *slot = int_digits[..nd - n_int + 1].iter().collect();
            } else if from_right <= nd {
                *slot = int_digits[nd - from_right].to_string();
            } else {
                *slot = match toks[int_toks[j]] {
                    // Zero in scientific notation fills every integer place with 0.
                    _ if zero_scientific => "0".into(),
                    Tok::Digit('0') => "0".into(),
                    Tok::Digit('?') => " ".into(),
                    _ => String::new(),
                };
            }
        }
        if grouping {
            // Position p (from the right, 1-based) holds a digit, or its placeholder's filler;
            // a separator follows every third position. Between blank `?` positions the
            // separator is a space too, so `?,???` keeps the width of its widest number.
            let nd = int_digits.len();
            let filler = |p: usize| match toks[int_toks[n_int - p]] {
                _ if zero_scientific => "0",
                Tok::Digit('0') => "0",
                Tok::Digit('?') => " ",
                _ => "",
            };
            let mut grouped = String::new();
            for p in (1..=n_int.max(nd)).rev() {
                let cell: String = if p <= nd { int_digits[nd - p].to_string() } else { filler(p).to_string() };
                grouped.push_str(&cell);
                if p > 1 && (p - 1) % 3 == 0 {
                    grouped.push_str(match cell.as_str() {
                        "" => "",
                        " " => " ",
                        _ => ",",
                    });
                }
            }
            int_fill = vec![String::new(); n_int];
            int_fill[0] = grouped;
        }
    }
    // Decimal placeholders: trailing zeros become nothing for '#', spaces for '?'.
    let dec_chars: Vec<char> = dec_str.chars().collect();
    let mut dec_fill: Vec<String> = dec_chars.iter().map(|c| c.to_string()).collect();
    for j in (0..dec_fill.len()).rev() {
        if dec_chars[j] != '0' {
            break;
        }
        match toks[dec_toks[j]] {
            Tok::Digit('#') => dec_fill[j] = String::new(),
            Tok::Digit('?') => dec_fill[j] = " ".into(),
            _ => break,
        }
    }

    let mut out = String::new();
    let negative = keep_sign
        && value < 0.0
        && (rounded.bytes().any(|b| (b'1'..=b'9').contains(&b)) || exp_pos.is_some() && v != 0.0);
    if negative {
        out.push('-');
    }
    let mut int_k = 0;
    let mut dec_k = 0;
    let mut wrote_int_digits = false;
    for (k, t) in toks.iter().enumerate() {
        if exp_pos.is_some_and(|ep| k > ep) {
            match t {
                Tok::Digit(_) => {
                    out.push_str(&exponent_text);
                    exponent_text.clear();
                }
                // Commas after the exponent neither scale nor show.
                Tok::Comma => {}
                _ => push_literal(&mut out, t),
            }
            continue;
        }
        match t {
            Tok::Digit(_) if point.is_none_or(|p| k < p) && k < mant_end => {
                out.push_str(&int_fill[int_k]);
                wrote_int_digits |= !int_fill[int_k].is_empty();
                int_k += 1;
            }
            Tok::Digit(_) if k < mant_end => {
                if let Some(s) = dec_fill.get(dec_k) {
                    out.push_str(s);
                }
                dec_k += 1;
            }
            Tok::Point if Some(k) == point => out.push('.'),
            Tok::Exp { upper, .. } => out.push(if *upper { 'E' } else { 'e' }),
            // A comma before the first placeholder is plain text.
            Tok::Comma if k < first => out.push(','),
            Tok::Comma => {}
            Tok::Percent => out.push('%'),
            other => push_literal(&mut out, other),
        }
    }
    let _ = wrote_int_digits;
    out
}

pub(super) fn push_literal(out: &mut String, t: &Tok) {
    match t {
        Tok::Lit(l) if !l.starts_with('\u{0}') => out.push_str(l),
        Tok::Space => out.push(' '),
        Tok::Percent => out.push('%'),
        Tok::Slash => out.push('/'),
        Tok::Point => out.push('.'),
        Tok::Comma => out.push(','),
        Tok::At => {}
        _ => {}
    }
}

/// A fraction section: `[integer] [separator] numerator [literals] / [literals] denominator`.
///
/// The numerator is the last run of digit placeholders before the slash (literals may stand
/// between it and the slash), the denominator the first run after it; digit placeholders before
/// the numerator, with any literals among them, are the integer part. As Excel shows it: a zero
/// integer part shows nothing for `#` (spaces for `?`) and takes the separator with it; a zero
/// fraction disappears with everything between the integer and the denominator (or leaves
/// spaces when a `?` asks for alignment), unless the numerator has a `0` placeholder.
pub(super) fn format_fraction(v: f64, toks: &[Tok], keep_sign: bool) -> Option<String> {
    let is_digit = |k: usize| matches!(toks[k], Tok::Digit(_));
    let is_lit = |k: usize| matches!(toks[k], Tok::Lit(_) | Tok::Space);
    let slash = toks.iter().position(|t| matches!(t, Tok::Slash))?;
    let mut den_start = slash + 1;
    while den_start < toks.len() && is_lit(den_start) {
        den_start += 1;
    }
    let mut den_end = den_start;
    while den_end < toks.len() && is_digit(den_end) {
        den_end += 1;
    }
    if den_end == den_start {
        return None;
    }
    let mut num_end = slash;
    while num_end > 0 && is_lit(num_end - 1) {
        num_end -= 1;
    }
    let mut num_start = num_end;
    while num_start > 0 && is_digit(num_start - 1) {
        num_start -= 1;
    }
    if num_start == num_end {
        return None;
    }
    let int_toks: Vec<usize> = (0..num_start).filter(|&k| is_digit(k)).collect();
    let has_int = !int_toks.is_empty();
    let int_first = int_toks.first().copied().unwrap_or(num_start);
    let int_last = int_toks.last().copied().unwrap_or(num_start);
    let placeholder = |k: usize| if let Tok::Digit(c) = toks[k] { c } else { '#' };
    let den_text: String = (den_start..den_end).map(placeholder).collect();
    let fixed_den: Option<u64> =
        if den_text.chars().all(|c| c.is_ascii_digit()) { den_text.parse().ok().filter(|&d| d > 0) } else { None };

    let a = v.abs();
    let (mut whole, frac) = if has_int { (a.trunc(), a.fract()) } else { (0.0, a) };
    let (mut num, mut den) = match fixed_den {
        Some(d) => ((frac * d as f64).round() as u64, d),
        // `?` placeholders past 19 digits exceed u64: the bound is then the largest there is.
        None => best_fraction(frac, 10u64.checked_pow((den_end - den_start) as u32).map_or(u64::MAX, |p| p - 1)),
    };
    if has_int && num == den && den > 0 {
        whole += 1.0;
        num = 0;
    }
    if num == 0 && fixed_den.is_none() {
        den = 1;
    }
    let zero_fraction = has_int && num == 0;
    let num_shows_zero = (num_start..num_end).any(|k| placeholder(k) == '0');
    // `?` before the slash aligns the separator; `?` anywhere aligns a hidden fraction.
    let aligned_separator =
        int_toks.iter().any(|&k| placeholder(k) == '?') || (num_start..num_end).any(|k| placeholder(k) == '?');
    let aligned = aligned_separator || (den_start..den_end).any(|k| placeholder(k) == '?');
    // A zero fraction without a `0` in the numerator is not shown (nor what leads to it).
    let hide_fraction = zero_fraction && !num_shows_zero;

    let mut out = String::new();
    if keep_sign && v < 0.0 && (whole != 0.0 || num != 0) {
        out.push('-');
    }
    // Prefix literals.
    for t in &toks[..int_first.min(num_start)] {
        push_literal(&mut out, t);
    }
    // The integer part, filled right to left like an integer format.
    let mut int_text = String::new();
    if has_int {
        let digits: Vec<char> = if whole == 0.0 { Vec::new() } else { format!("{}", whole as u64).chars().collect() };
        let value_is_zero = whole == 0.0 && num == 0;
        let n = int_toks.len();
        for (j, &k) in int_toks.iter().enumerate() {
            let from_right = n - j;
            let cell: String = if j == 0 && digits.len() > n {
                digits[..digits.len() - n + 1].iter().collect()
            } else if from_right <= digits.len() {
                digits[digits.len() - from_right].to_string()
            } else {
                match placeholder(k) {
                    '0' => "0".into(),
                    '?' if value_is_zero && j == n - 1 => "0".into(),
                    '?' => " ".into(),
                    _ => String::new(),
                }
            };
            int_text.push_str(&cell);
            // Literals between integer placeholders stay where they are.
            if j + 1 < n {
                for t in &toks[k + 1..int_toks[j + 1]] {
                    push_literal(&mut int_text, t);
                }
            }
        }
        if hide_fraction && !int_text.chars().any(|c| c.is_ascii_digit()) {
            // A zero value shows at least "0" where the fraction would have been hidden.
            let trimmed = int_text.trim_end_matches(' ').len();
            int_text.truncate(trimmed);
            int_text.push('0');
        }
    }
    out.push_str(&int_text);
    let width_of = |range: std::ops::Range<usize>| -> usize {
        toks[range]
            .iter()
            .map(|t| match t {
                Tok::Lit(l) if !l.starts_with('\u{0}') => l.chars().count(),
                Tok::Lit(_) => 0,
                _ => 1,
            })
            .sum()
    };
    if hide_fraction {
        if aligned {
            out.push_str(&" ".repeat(width_of(int_last + 1..den_end)));
        }
    } else {
        // The separator between integer and numerator: kept after integer digits; without them
        // it turns to spaces where `?` aligns, and disappears otherwise.
        if has_int {
            let sep = int_last + 1..num_start;
            if int_text.chars().any(|c| c.is_ascii_digit()) {
                for t in &toks[sep] {
                    push_literal(&mut out, t);
                }
            } else if aligned_separator {
                out.push_str(&" ".repeat(width_of(sep)));
            }
        }
        out.push_str(&fill_right_aligned(&num.to_string(), &toks[num_start..num_end]));
        for t in &toks[num_end..den_start] {
            push_literal(&mut out, t);
        }
        let d = den.to_string();
        match fixed_den {
            Some(_) => out.push_str(&d),
            None if den_text.contains('0') => out.push_str(&fill_right_aligned(&d, &toks[den_start..den_end])),
            None => out.push_str(&pad_right(&d, den_end - den_start, toks.get(den_start))),
        }
    }
    for t in &toks[den_end..] {
        push_literal(&mut out, t);
    }
    Some(out)
}

/// `digits` in a run of placeholders, right-aligned: unused places show `0`, a space (`?`) or
/// nothing (`#`); surplus digits go in front.
pub(super) fn fill_right_aligned(digits: &str, places: &[Tok]) -> String {
    let n = digits.chars().count();
    let mut out = String::new();
    for (j, t) in places.iter().enumerate() {
        if places.len() - j > n {
            out.push_str(match t {
                Tok::Digit('0') => "0",
                Tok::Digit('?') => " ",
                _ => "",
            });
        }
    }
    out.push_str(digits);
    out
}

pub(super) fn pad_right(s: &str, width: usize, placeholder: Option<&Tok>) -> String {
    if s.len() >= width {
        return s.to_string();
    }
    let pad = match placeholder {
        Some(Tok::Digit('#')) => "",
        _ => " ",
    };
    format!("{s}{}", pad.repeat(width - s.len()))
}

/// Closest fraction to `x` (≥ 0) with a denominator up to `max_den`, the smaller denominator on a
/// tie: the last continued-fraction convergent within the bound, or the semiconvergent beyond
/// it, whichever is closer. Logarithmic in `max_den`, which a format's `?` placeholders make as
/// large as 10¹⁹ − 1.
pub(super) fn best_fraction(x: f64, max_den: u64) -> (u64, u64) {
    if x == 0.0 || !x.is_finite() || max_den == 0 {
        return (0, 1);
    }
    let err = |n: u64, d: u64| (x - n as f64 / d as f64).abs();
    // Convergents h/k: (p0, q0) the one before last, (p1, q1) the last.
    let (mut p0, mut q0, mut p1, mut q1) = (0u64, 1u64, 1u64, 0u64);
    let mut r = x;
    for _ in 0..64 {
        let a = r.floor();
        if a >= u64::MAX as f64 {
            break;
        }
        let a = a as u64;
        let next_q = a.checked_mul(q1).and_then(|v| v.checked_add(q0));
        let next_p = a.checked_mul(p1).and_then(|v| v.checked_add(p0));
        match (next_p, next_q) {
            (Some(p2), Some(q2)) if q2 <= max_den => {
                (p0, q0, p1, q1) = (p1, q1, p2, q2);
            }
            _ => {
                // The largest step toward the next convergent that stays within the bound.
                let step = (max_den - q0)
                    .checked_div(q1)
                    .filter(|&t| t > 0)
                    .and_then(|t| Some((t.checked_mul(p1)?.checked_add(p0)?, t.checked_mul(q1)?.checked_add(q0)?)));
                if let Some((sp, sq)) = step {
                    if err(sp, sq) < err(p1, q1) - 1e-12 {
                        return (sp, sq);
                    }
                }
                break;
            }
        }
        let frac = r - a as f64;
        if frac < 1e-12 {
            break;
        }
        r = 1.0 / frac;
    }
    if q1 == 0 {
        return (x.round() as u64, 1);
    }
    (p1, q1)
}

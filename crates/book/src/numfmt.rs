//! Excel number formats: rendering a value the way Excel displays it (the Graph `text`
//! property, and the TEXT function).
//!
//! Covers sections and conditions, colours, locale and currency tags (`[$-409]`, `[$EUR]`,
//! `[$€-407]`), literals and escapes, digit placeholders with literals between them, grouping and
//! scaling commas, percent, scientific and engineering notation, fractions, dates and times in
//! the 1900 and 1904 systems, elapsed time (`[h]`), fractional seconds, AM/PM, and text (`@`).

use crate::value::Value;

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

// ---------------------------------------------------------------------------------------------
// Sections and tokens

fn split_sections(code: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = code.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.last_mut().unwrap_or(&mut String::new()).push(c);
                for d in chars.by_ref() {
                    if let Some(l) = out.last_mut() {
                        l.push(d);
                    }
                    if d == '"' {
                        break;
                    }
                }
            }
            '\\' | '_' | '*' => {
                if let Some(l) = out.last_mut() {
                    l.push(c);
                    if let Some(d) = chars.next() {
                        l.push(d);
                    }
                }
            }
            '[' => {
                if let Some(l) = out.last_mut() {
                    l.push(c);
                    for d in chars.by_ref() {
                        l.push(d);
                        if d == ']' {
                            break;
                        }
                    }
                }
            }
            ';' => out.push(String::new()),
            c => {
                if let Some(l) = out.last_mut() {
                    l.push(c);
                }
            }
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Lit(String),
    /// `_x`: a space as wide as x.
    Space,
    Digit(char),
    Point,
    Comma,
    Percent,
    /// `E+`/`E-` (`plus`), written back in the case it was written (`upper`).
    Exp {
        plus: bool,
        upper: bool,
    },
    Slash,
    At,
    Year(usize),
    Month(usize),
    Day(usize),
    Hour(usize),
    Minute(usize),
    Second(usize),
    /// `.0`, `.00`, `.000` after seconds.
    SubSecond(usize),
    Elapsed(char, usize),
    /// `AM/PM` (full) or `A/P` (one letter, shown in the case it was written: `a/p` gives `p`).
    AmPm {
        full: bool,
        lower: bool,
    },
    Cond(String, f64),
    Color,
}

fn tokenize(section: &str) -> Vec<Tok> {
    let chars: Vec<char> = section.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let run = |c: char, i: usize| {
        let mut n = 0;
        while i + n < chars.len() && chars[i + n].eq_ignore_ascii_case(&c) {
            n += 1;
        }
        n
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            '"' => {
                let mut s = String::new();
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    s.push(chars[i]);
                    i += 1;
                }
                i += 1;
                out.push(Tok::Lit(s));
            }
            '\\' => {
                if let Some(&d) = chars.get(i + 1) {
                    out.push(Tok::Lit(d.to_string()));
                }
                i += 2;
            }
            '_' => {
                out.push(Tok::Space);
                i += 2;
            }
            '*' => i += 2, // fill: no width to fill here
            '[' => {
                let end = chars[i..].iter().position(|&d| d == ']').map_or(chars.len(), |p| i + p);
                let inner: String = chars[i + 1..end.min(chars.len())].iter().collect();
                i = end + 1;
                out.push(bracket(&inner));
            }
            '0' | '#' | '?' => {
                out.push(Tok::Digit(c));
                i += 1;
            }
            '1'..='9' => {
                out.push(Tok::Digit(c));
                i += 1;
            }
            '.' => {
                // After seconds, `.0` is fractional seconds.
                let n = run('0', i + 1);
                if n > 0
                    && out
                        .iter()
                        .rev()
                        .find(|t| !matches!(t, Tok::Lit(_)))
                        .is_some_and(|t| matches!(t, Tok::Second(_) | Tok::Elapsed('s', _)))
                {
                    out.push(Tok::SubSecond(n));
                    i += 1 + n;
                } else {
                    out.push(Tok::Point);
                    i += 1;
                }
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            '%' => {
                out.push(Tok::Percent);
                i += 1;
            }
            'E' | 'e' if matches!(chars.get(i + 1), Some('+') | Some('-')) => {
                out.push(Tok::Exp { plus: chars[i + 1] == '+', upper: c == 'E' });
                i += 2;
            }
            '/' => {
                out.push(Tok::Slash);
                i += 1;
            }
            '@' => {
                out.push(Tok::At);
                i += 1;
            }
            'y' | 'Y' | 'e' => {
                let n = run(c, i);
                out.push(Tok::Year(if c == 'e' { 4 } else { n }));
                i += n;
            }
            'm' | 'M' => {
                let n = run('m', i);
                out.push(Tok::Month(n));
                i += n;
            }
            'd' | 'D' => {
                let n = run('d', i);
                out.push(Tok::Day(n));
                i += n;
            }
            'h' | 'H' => {
                let n = run('h', i);
                out.push(Tok::Hour(n));
                i += n;
            }
            's' | 'S' => {
                let n = run('s', i);
                out.push(Tok::Second(n));
                i += n;
            }
            'A' | 'a' => {
                let rest: String = chars[i..].iter().take(5).collect();
                if rest.to_ascii_uppercase().starts_with("AM/PM") {
                    out.push(Tok::AmPm { full: true, lower: false });
                    i += 5;
                } else if rest.to_ascii_uppercase().starts_with("A/P") {
                    out.push(Tok::AmPm { full: false, lower: c == 'a' });
                    i += 3;
                } else {
                    out.push(Tok::Lit(c.to_string()));
                    i += 1;
                }
            }
            'G' | 'g'
                if section[section.char_indices().nth(i).map_or(0, |(b, _)| b)..]
                    .to_ascii_lowercase()
                    .starts_with("general") =>
            {
                // "General" inside a custom section: handled by the caller as a General number.
                out.push(Tok::Lit("\u{0}GENERAL".into()));
                i += 7;
            }
            'b' | 'B' if matches!(chars.get(i + 1), Some('1') | Some('2')) => i += 2, // calendar switch
            c => {
                out.push(Tok::Lit(c.to_string()));
                i += 1;
            }
        }
    }
    // Minutes: an `m` right after hours or right before seconds.
    let idx: Vec<usize> = (0..out.len()).filter(|&k| !matches!(out[k], Tok::Lit(_) | Tok::Space)).collect();
    for (pos, &k) in idx.iter().enumerate() {
        if let Tok::Month(n) = out[k] {
            if n > 2 {
                continue;
            }
            let prev = pos.checked_sub(1).map(|p| &out[idx[p]]);
            let next = idx.get(pos + 1).map(|&p| &out[p]);
            if matches!(prev, Some(Tok::Hour(_)) | Some(Tok::Elapsed('h', _)) | Some(Tok::Second(_)))
                || matches!(next, Some(Tok::Second(_)) | Some(Tok::Elapsed('s', _)))
            {
                out[k] = Tok::Minute(n);
            }
        }
    }
    out
}

fn bracket(inner: &str) -> Tok {
    let lower = inner.to_ascii_lowercase();
    if let Some(rest) = inner.strip_prefix('$') {
        // [$€-407], [$EUR], [$-409]: the part before '-' is shown.
        let sym = rest.split('-').next().unwrap_or("");
        return Tok::Lit(sym.to_string());
    }
    for (ch, name) in [('h', 'h'), ('m', 'm'), ('s', 's')] {
        if !lower.is_empty() && lower.chars().all(|c| c == ch) {
            return Tok::Elapsed(name, lower.len());
        }
    }
    for op in ["<=", ">=", "<>", "<", ">", "="] {
        if let Some(num) = inner.strip_prefix(op) {
            if let Ok(v) = num.trim().parse::<f64>() {
                return Tok::Cond(op.to_string(), v);
            }
        }
    }
    Tok::Color
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

fn format_plain(value: f64, toks: &[Tok], keep_sign: bool) -> String {
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

fn push_literal(out: &mut String, t: &Tok) {
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
fn format_fraction(v: f64, toks: &[Tok], keep_sign: bool) -> Option<String> {
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
fn fill_right_aligned(digits: &str, places: &[Tok]) -> String {
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

fn pad_right(s: &str, width: usize, placeholder: Option<&Tok>) -> String {
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
fn best_fraction(x: f64, max_den: u64) -> (u64, u64) {
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

// ---------------------------------------------------------------------------------------------
// Dates and times

const MONTHS: [&str; 12] = [
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
const DAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

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

/// Days since 1970-01-01 for a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
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

fn format_date(v: f64, toks: &[Tok], date1904: bool) -> Result<String, FormatError> {
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

#[cfg(test)]
mod tests {

    #[test]
    fn iso_dates_map_to_excel_serials() {
        assert_eq!(iso_to_serial("1899-12-30T12:00:00"), Some(0.5));
        assert_eq!(iso_to_serial("1900-01-01"), Some(1.0));
        assert_eq!(iso_to_serial("1900-03-01"), Some(61.0));
        assert_eq!(iso_to_serial("2024-01-01T06:00:00Z"), Some(45292.25));
    }

    use super::*;

    fn f(v: f64, code: &str) -> String {
        format_number(v, code, false).unwrap()
    }

    #[test]
    fn general_shortcuts_agree_with_rounding() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for i in 0..200_000 {
            // xorshift: values over many magnitudes, with short and long fractions.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mantissa = (x % 1_000_000_007) as f64 / [1.0, 8.0, 100.0, 3.0, 1e6, 7.0][i % 6];
            let v = mantissa * 10f64.powi((x >> 40) as i32 % 24 - 12) * if x & 1 == 0 { 1.0 } else { -1.0 };
            if v == 0.0 {
                continue;
            }
            if let Some(quick) = general_quick(v) {
                assert_eq!(quick, general_rounded(v), "{v:e}");
            }
        }
    }

    #[test]
    fn general_numbers() {
        assert_eq!(general(0.1 + 0.2), "0.3");
        assert_eq!(general(1.0 / 3.0), "0.333333333");
        assert_eq!(general(123456789012.0), "1.23457E+11");
        assert_eq!(general(-1234.5), "-1234.5");
        assert_eq!(general(1e-10), "1E-10");
        assert_eq!(general(12345678901.0), "12345678901");
    }

    #[test]
    fn placeholders_and_grouping() {
        assert_eq!(f(1234.567, "#,##0.00"), "1,234.57");
        assert_eq!(f(-1234.567, "#,##0.00"), "-1,234.57");
        assert_eq!(f(0.5, "0%"), "50%");
        assert_eq!(f(2.5, "0"), "3");
        assert_eq!(f(1.005, "0.00"), "1.01");
        assert_eq!(f(0.0, "#,##0"), "0");
        assert_eq!(f(5.0, "000"), "005");
        assert_eq!(f(1.5, "#.##"), "1.5");
        assert_eq!(f(1234567.0, "#,##0,"), "1,235");
        assert_eq!(f(1234567.0, "#,.#,"), "1.2");
        assert_eq!(f(1234567.0, "#,##0.0"), "1,234,567.0");
        assert_eq!(f(123456789.0, "000-00-0000"), "123-45-6789");
        assert_eq!(f(-5.0, "0;(0)"), "(5)");
        assert_eq!(f(0.0, "0;(0);\"zero\""), "zero");
        assert_eq!(f(1234.5, "#,##0.00 [$EUR]"), "1,234.50 EUR");
        assert_eq!(f(1234.5, "[$€-407]#,##0.00"), "€1,234.50");
        assert_eq!(f(12.0, "[Red]0.0"), "12.0");
        assert_eq!(f(150.0, "[>100]\"big\";\"small\""), "big");
        assert_eq!(f(1.0, "0.0_)"), "1.0 ");
        // Blank `?` places keep the width of the separators they would have had.
        assert_eq!(f(123.0, "?,??????"), "      123");
        assert_eq!(f(1234567.0, "?,?????????"), "    1,234,567");
    }

    #[test]
    fn best_fractions_match_a_search_of_every_denominator() {
        // The search it replaced: every denominator, a strictly better error needed to move on.
        fn by_search(x: f64, max_den: u64) -> (u64, u64) {
            let (mut best_n, mut best_d, mut best_err) = (x.round() as u64, 1u64, (x - x.round()).abs());
            for d in 1..=max_den {
                let n = (x * d as f64).round();
                let err = (x - n / d as f64).abs();
                if err < best_err - 1e-12 {
                    (best_n, best_d, best_err) = (n as u64, d, err);
                }
            }
            (best_n, best_d)
        }
        let mut x = 0.0;
        while x < 3.0 {
            for max_den in [1, 9, 16, 99, 999] {
                let (n, d) = super::best_fraction(x, max_den);
                let (sn, sd) = by_search(x, max_den);
                let (got, want) = ((x - n as f64 / d as f64).abs(), (x - sn as f64 / sd as f64).abs());
                assert!(d <= max_den && (got - want).abs() < 1e-12, "{x} ≤{max_den}: {n}/{d} vs {sn}/{sd}");
            }
            x += 0.000_731;
        }
        // Twenty `?`s: no overflow, no endless search.
        assert_eq!(super::best_fraction(0.5, u64::MAX), (1, 2));
        assert_eq!(f(0.3, "# ?/????????????????????").trim(), "3/10");
    }

    #[test]
    fn scientific() {
        assert_eq!(f(12345.0, "0.00E+00"), "1.23E+04");
        assert_eq!(f(0.00012, "0.00E+00"), "1.20E-04");
        assert_eq!(f(12345.0, "##0.0E+0"), "12.3E+3");
        // The E keeps its case; the sign goes with the exponent's digits, after any literal.
        assert_eq!(f(123456.789, "#.#|e-|#"), "1.2|e|5");
        assert_eq!(f(0.0000123456789, "0.0|E+|0"), "1.2|E|-5");
        // A percent sign is shown but does not scale; commas after the exponent vanish.
        assert_eq!(f(123456.789, "#%e-#"), "1%e5");
        assert_eq!(f(123456.789, "#e-#,"), "1e5");
        assert_eq!(f(0.0, "#,###.##E+0"), "0,000.E+0");
        assert_eq!(f(1.2e142, "0.0E+##0"), "1.2E+142");
        assert_eq!(f(1.2e42, "0.0E+??0"), "1.2E+ 42");
        assert_eq!(f(1.2e42, "0.0E+000"), "1.2E+042");
    }

    #[test]
    fn fractions() {
        assert_eq!(f(1.5, "# ?/?"), "1 1/2");
        assert_eq!(f(0.75, "?/?"), "3/4");
        assert_eq!(f(3.1414, "# ??/??"), "3 14/99");
        assert_eq!(f(0.5, "# ?/8"), " 4/8");
        // Literals between the parts; a zero whole part takes its separator with it.
        assert_eq!(f(23.75, "|#\\:#=/=#|"), "|23:3=/=4|");
        assert_eq!(f(23.75, "|#-#-#\\:#/#|"), "|-2-3:3/4|");
        assert_eq!(f(0.75, "|#\\:#=/=?|"), "|3=/=4|");
        assert_eq!(f(0.75, "|?\\:?0=/=#|"), "|   3=/=4|");
        // A zero fraction vanishes, leaving spaces where `?` aligns, unless a `0` shows it.
        assert_eq!(f(1.0, "|#\\:#=/=#|"), "|1|");
        assert_eq!(f(1.0, "|#\\:#=/=?|"), "|1      |");
        assert_eq!(f(1.0, "|#\\:0=/=#|"), "|1:0=/=1|");
        assert_eq!(f(0.0, "|#\\:0=/=?|"), "|0=/=1|");
        // No whole part: an improper fraction; `_x` is a space.
        assert_eq!(f(3.75, "|#_#/#|"), "|15 /4|");
        assert_eq!(f(23.75, "|#\\:? ?0#/000"), "|2:3  03/004");
    }

    #[test]
    fn dates_and_times() {
        let serial = date_to_serial(2024, 3, 1);
        assert_eq!(serial, 45352.0);
        assert_eq!(f(serial, "yyyy-mm-dd"), "2024-03-01");
        assert_eq!(f(serial, "[$-409]mmmm d, yyyy"), "March 1, 2024");
        assert_eq!(f(serial, "dddd"), "Friday");
        // 13:45 is the classic rounding trap: 0.5729166666... must not show 13:44.
        let t = serial + (13.0 * 3600.0 + 45.0 * 60.0) / 86400.0;
        assert_eq!(f(t, "dd/mm/yyyy hh:mm"), "01/03/2024 13:45");
        assert_eq!(f(t, "h:mm AM/PM"), "1:45 PM");
        assert_eq!(f(1.5, "[h]:mm:ss"), "36:00:00");
        assert_eq!(f(0.4791666666, "hh:mm:ss"), "11:30:00");
        assert_eq!(f(60.0, "yyyy-mm-dd"), "1900-02-29");
        assert_eq!(f(0.0, "m/d/yyyy"), "1/0/1900");
        assert_eq!(format_number(0.0, "yyyy-mm-dd", true).unwrap(), "1904-01-01");
        assert_eq!(f(45352.25, "mm:ss.0"), "00:00.0");
        assert!(format_number(-1.0, "yyyy", false).is_err());
    }

    #[test]
    fn text_sections() {
        assert_eq!(format_text("abc", "0;0;0;\"<\"@\">\""), "<abc>");
        assert_eq!(format_text("abc", "0.00"), "abc");
        assert_eq!(format_text("abc", "@"), "abc");
    }
}

//! A format code's sections and tokens.

pub(super) fn split_sections(code: &str) -> Vec<String> {
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
pub(super) enum Tok {
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

pub(super) fn tokenize(section: &str) -> Vec<Tok> {
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

pub(super) fn bracket(inner: &str) -> Tok {
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

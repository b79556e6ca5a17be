//! XLOOKUP, with all four match modes and all four search modes.

use std::cmp::Ordering;

use formualizer_common::{ExcelError, ExcelErrorKind, LiteralValue};

use super::{ArgValue, Args, Outcome};

fn value_err() -> ExcelError {
    ExcelError::new(ExcelErrorKind::Value)
}

fn na() -> ExcelError {
    ExcelError::new(ExcelErrorKind::Na)
}

/// An argument as a grid (a single value is a 1×1 grid).
fn grid(a: &Args, i: usize) -> Vec<Vec<LiteralValue>> {
    match a.values.get(i) {
        Some(ArgValue::Grid(rows)) => rows.clone(),
        Some(ArgValue::Scalar(v)) => vec![vec![v.clone()]],
        None => vec![vec![LiteralValue::Empty]],
    }
}

/// Excel's sort order of types: numbers, then text, then logicals; blanks and errors last.
fn rank(v: &LiteralValue) -> u8 {
    match v {
        LiteralValue::Number(_) | LiteralValue::Int(_) => 0,
        LiteralValue::Text(_) => 1,
        LiteralValue::Boolean(_) => 2,
        _ => 3,
    }
}

/// Orders two values the way lookups compare them: by type rank, then by value (text without
/// regard to case).
fn compare(a: &LiteralValue, b: &LiteralValue) -> Ordering {
    let number = |v: &LiteralValue| match v {
        LiteralValue::Number(n) => *n,
        LiteralValue::Int(i) => *i as f64,
        _ => 0.0,
    };
    match rank(a).cmp(&rank(b)) {
        Ordering::Equal => match (a, b) {
            (LiteralValue::Text(x), LiteralValue::Text(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
            (LiteralValue::Boolean(x), LiteralValue::Boolean(y)) => x.cmp(y),
            _ if rank(a) == 0 => number(a).total_cmp(&number(b)),
            _ => Ordering::Equal,
        },
        other => other,
    }
}

/// Excel's wildcards: `*` any run, `?` any one character, `~` escapes the next; case-insensitive.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    enum Tok {
        Lit(char),
        One,
        Any,
    }
    let mut toks = Vec::with_capacity(p.len());
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '~' if i + 1 < p.len() => {
                toks.push(Tok::Lit(p[i + 1]));
                i += 1;
            }
            '*' => toks.push(Tok::Any),
            '?' => toks.push(Tok::One),
            c => toks.push(Tok::Lit(c)),
        }
        i += 1;
    }
    // Greedy matching with backtracking to the last `*`.
    let (mut ti, mut ki) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match toks.get(ki) {
            Some(Tok::Lit(c)) if *c == t[ti] => {
                ti += 1;
                ki += 1;
            }
            Some(Tok::One) => {
                ti += 1;
                ki += 1;
            }
            Some(Tok::Any) => {
                star = Some((ki, ti));
                ki += 1;
            }
            _ => match star {
                Some((sk, st)) => {
                    ki = sk + 1;
                    ti = st + 1;
                    star = Some((sk, st + 1));
                }
                None => return false,
            },
        }
    }
    toks[ki..].iter().all(|t| matches!(t, Tok::Any))
}

/// The index of the match in `keys`, searched per `match_mode` and `search_mode`.
fn find(
    key: &LiteralValue,
    keys: &[&LiteralValue],
    match_mode: i64,
    search_mode: i64,
) -> Result<Option<usize>, ExcelError> {
    let exact = |v: &LiteralValue| {
        if match_mode == 2 {
            if let (LiteralValue::Text(p), LiteralValue::Text(t)) = (key, v) {
                return wildcard_match(p, t);
            }
        }
        match key {
            // A blank lookup value finds a blank cell.
            LiteralValue::Empty => matches!(v, LiteralValue::Empty),
            _ => rank(v) == rank(key) && rank(key) < 3 && compare(v, key) == Ordering::Equal,
        }
    };
    match search_mode {
        1 | -1 => {
            let order: Box<dyn Iterator<Item = usize>> =
                if search_mode == 1 { Box::new(0..keys.len()) } else { Box::new((0..keys.len()).rev()) };
            let mut best: Option<usize> = None;
            for i in order {
                let v = keys[i];
                if exact(v) {
                    return Ok(Some(i));
                }
                // Approximate matches compare across types in Excel's sort order (numbers, text,
                // logicals); blanks and errors are never candidates.
                if match_mode == 0 || match_mode == 2 || rank(v) == 3 || rank(key) == 3 {
                    continue;
                }
                let candidate = match match_mode {
                    -1 => compare(v, key) == Ordering::Less,
                    _ => compare(v, key) == Ordering::Greater,
                };
                let better = best.is_none_or(|b| {
                    let c = compare(v, keys[b]);
                    if match_mode == -1 {
                        c == Ordering::Greater
                    } else {
                        c == Ordering::Less
                    }
                });
                if candidate && better {
                    best = Some(i);
                }
            }
            Ok(best)
        }
        2 | -2 => {
            if match_mode == 2 {
                return Err(value_err());
            }
            // Binary search over data sorted ascending (2) or descending (-2). `before(i)` says
            // whether keys[i] sorts before the key in the data's order.
            let descending = search_mode == -2;
            let ord = |i: usize| {
                let c = compare(keys[i], key);
                if descending {
                    c.reverse()
                } else {
                    c
                }
            };
            // The first index after the key in the data's order (upper bound): with equal keys,
            // Excel's binary search lands on the last of them.
            let (mut lo, mut hi) = (0usize, keys.len());
            while lo < hi {
                let mid = (lo + hi) / 2;
                if ord(mid) == Ordering::Greater {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            let before = lo.checked_sub(1);
            if let Some(i) = before.filter(|&i| exact(keys[i])) {
                return Ok(Some(i));
            }
            let after = (lo < keys.len()).then_some(lo);
            let (smaller, larger) = if descending { (after, before) } else { (before, after) };
            let pick = match match_mode {
                -1 => smaller,
                1 => larger,
                _ => None,
            };
            Ok(pick.filter(|&i| rank(keys[i]) < 3))
        }
        _ => Err(value_err()),
    }
}

/// XLOOKUP(lookup_value, lookup_array, return_array, [if_not_found], [match_mode], [search_mode]).
pub(super) fn xlookup(a: &Args) -> Outcome {
    let lookup = grid(a, 1);
    let returns = grid(a, 2);
    let (rows, cols) = (lookup.len(), lookup.first().map_or(0, Vec::len));
    let by_rows = cols == 1; // a column of keys returns rows of the return array
    if rows != 1 && cols != 1 {
        return Err(value_err());
    }
    let keys: Vec<&LiteralValue> = lookup.iter().flatten().collect();
    let (ret_rows, ret_cols) = (returns.len(), returns.first().map_or(0, Vec::len));
    if (by_rows && ret_rows != keys.len()) || (!by_rows && ret_cols != keys.len()) {
        return Err(value_err());
    }
    let match_mode = a.number_or(4, 0.0)?.trunc() as i64;
    let search_mode = a.number_or(5, 1.0)?.trunc() as i64;
    if !matches!(match_mode, -1..=2) {
        return Err(value_err());
    }
    let if_not_found = a.get(3).filter(|v| !matches!(v, LiteralValue::Empty)).cloned();
    let one = |key: &LiteralValue| -> Outcome {
        if let LiteralValue::Error(e) = key {
            return Err(e.clone());
        }
        match find(key, &keys, match_mode, search_mode)? {
            Some(i) if by_rows => {
                Ok(if ret_cols == 1 { returns[i][0].clone() } else { LiteralValue::Array(vec![returns[i].clone()]) })
            }
            Some(i) => Ok(if ret_rows == 1 {
                returns[0][i].clone()
            } else {
                LiteralValue::Array(returns.iter().map(|r| vec![r[i].clone()]).collect())
            }),
            None => if_not_found.clone().ok_or_else(na),
        }
    };
    match a.values.first() {
        // Several lookup values spill one result each (the first cell of each result).
        Some(ArgValue::Grid(keys_in)) => Ok(LiteralValue::Array(
            keys_in
                .iter()
                .map(|row| {
                    row.iter()
                        .map(|k| match one(k) {
                            Ok(LiteralValue::Array(r)) => {
                                r.first().and_then(|r| r.first()).cloned().unwrap_or(LiteralValue::Empty)
                            }
                            Ok(v) => v,
                            Err(e) => LiteralValue::Error(e),
                        })
                        .collect()
                })
                .collect(),
        )),
        Some(ArgValue::Scalar(k)) => one(k),
        None => Err(value_err()),
    }
}

#[cfg(test)]
mod tests {
    use super::wildcard_match;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("a*", "Apple"));
        assert!(wildcard_match("?pple", "apple"));
        assert!(wildcard_match("*e", "apple"));
        assert!(!wildcard_match("a?", "apple"));
        assert!(wildcard_match("~*x", "*X"));
        assert!(!wildcard_match("~*x", "ax"));
        assert!(wildcard_match("a*p*e", "apple"));
    }
}

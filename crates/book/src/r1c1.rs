//! Formula text between A1 and R1C1 reference styles, relative to the cell that holds it
//! (Graph's `formulasR1C1`).
//!
//! A1 to R1C1 rewrites each reference the A1 lexer finds. R1C1 to A1 has a lexer of its own:
//! `R2C3`, `R[-1]C`, `RC[2]`, `R`, `C[1]`, `R1:R3`, `C:C[2]`, skipping strings, quoted sheet
//! names and function names (`ROUND(` is not a reference).

use crate::address::{MAX_COLS, MAX_ROWS};
use crate::formula::{format_part, quoted_end, rewrite_refs, skip_brackets, RefPart};

/// One axis of an R1C1 reference: absolute (1-based in the text) or an offset.
fn axis(out: &mut String, letter: char, value: u32, abs: bool, base: u32) {
    out.push(letter);
    if abs {
        out.push_str(&(value + 1).to_string());
    } else {
        let d = i64::from(value) - i64::from(base);
        if d != 0 {
            out.push_str(&format!("[{d}]"));
        }
    }
}

/// `formula` (A1 style, with or without `=`) written in R1C1 style as seen from (row, col).
pub fn to_r1c1(formula: &str, row: u32, col: u32) -> String {
    rewrite_refs(formula, |part| {
        let mut out = String::new();
        match part {
            RefPart::Cell { row: r, col: c, row_abs, col_abs } => {
                axis(&mut out, 'R', r, row_abs, row);
                axis(&mut out, 'C', c, col_abs, col);
            }
            RefPart::Col { col: c, abs } => axis(&mut out, 'C', c, abs, col),
            RefPart::Row { row: r, abs } => axis(&mut out, 'R', r, abs, row),
        }
        Some(out)
    })
}

/// Why R1C1 text could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct R1C1Error(pub String);

impl std::fmt::Display for R1C1Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'\\' | b'?') || b >= 0x80
}

/// Reads `R…` or `C…` at `i`: the axis value (`Some((n, abs))`, `None` for "this row/column")
/// and where it ends. `n` is 0-based for absolute, an offset for relative.
fn read_axis(b: &[u8], i: usize) -> Option<(Option<(i64, bool)>, usize)> {
    let mut j = i + 1;
    match b.get(j) {
        Some(b'[') => {
            let close = j + b[j..].iter().position(|&c| c == b']')?;
            let n: i64 = std::str::from_utf8(&b[j + 1..close]).ok()?.trim().parse().ok()?;
            Some((Some((n, false)), close + 1))
        }
        Some(c) if c.is_ascii_digit() => {
            while b.get(j).is_some_and(u8::is_ascii_digit) {
                j += 1;
            }
            let n: i64 = std::str::from_utf8(&b[i + 1..j]).ok()?.parse().ok()?;
            (n >= 1).then(|| (Some((n - 1, true)), j))
        }
        _ => Some((None, j)),
    }
}

/// One R1C1 reference at `i` (not inside a longer word): the A1 part and where it ends.
fn read_ref(b: &[u8], i: usize, row: u32, col: u32) -> Option<(Result<RefPart, ()>, usize)> {
    let upper = |k: usize| b.get(k).map(u8::to_ascii_uppercase);
    let resolve = |v: Option<(i64, bool)>, base: u32, limit: u32| -> Result<(u32, bool), ()> {
        let (n, abs) = match v {
            None => (i64::from(base), false),
            Some((n, true)) => (n, true),
            Some((d, false)) => (i64::from(base) + d, false),
        };
        if (0..i64::from(limit)).contains(&n) {
            Ok((n as u32, abs))
        } else {
            Err(())
        }
    };
    let (part, end) = match upper(i)? {
        b'R' => {
            let (r, after_r) = read_axis(b, i)?;
            if upper(after_r) == Some(b'C') {
                let (c, end) = read_axis(b, after_r)?;
                let part = match (resolve(r, row, MAX_ROWS), resolve(c, col, MAX_COLS)) {
                    (Ok((r, row_abs)), Ok((c, col_abs))) => Ok(RefPart::Cell { row: r, col: c, row_abs, col_abs }),
                    _ => Err(()),
                };
                (part, end)
            } else {
                (resolve(r, row, MAX_ROWS).map(|(r, abs)| RefPart::Row { row: r, abs }), after_r)
            }
        }
        b'C' => {
            let (c, end) = read_axis(b, i)?;
            (resolve(c, col, MAX_COLS).map(|(c, abs)| RefPart::Col { col: c, abs }), end)
        }
        _ => return None,
    };
    // A longer word (`ROUND`, `Rate`, `COUNT(`) or a function call is not a reference.
    if b.get(end).is_some_and(|&c| is_word(c) || c == b'(') {
        return None;
    }
    Some((part, end))
}

/// `formula` in R1C1 style, as seen from (row, col), written in A1 style. References that fall
/// off the sheet become `#REF!`; text that is not R1C1 is kept as it is.
pub fn from_r1c1(formula: &str, row: u32, col: u32) -> Result<String, R1C1Error> {
    let b = formula.as_bytes();
    let mut out = String::with_capacity(formula.len());
    let mut last = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'"' | b'\'') => {
                i = quoted_end(b, i).ok_or_else(|| R1C1Error(format!("unterminated {} in '{formula}'", q as char)))?;
            }
            // Structured references and array constants are not R1C1 references.
            b'[' => i = skip_brackets(b, i),
            c if (c == b'R' || c == b'r' || c == b'C' || c == b'c') && (i == 0 || !is_word(b[i - 1])) => {
                match read_ref(b, i, row, col) {
                    Some((part, end)) => {
                        out.push_str(&formula[last..i]);
                        match part {
                            Ok(p) => out.push_str(&format_part(p)),
                            Err(()) => out.push_str("#REF!"),
                        }
                        last = end;
                        i = end;
                    }
                    None => {
                        while i < b.len() && is_word(b[i]) {
                            i += 1;
                        }
                    }
                }
            }
            c if is_word(c) => {
                while i < b.len() && is_word(b[i]) {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    out.push_str(&formula[last..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{from_r1c1, to_r1c1};
    use proptest::prelude::*;

    #[test]
    fn a1_to_r1c1_and_back() {
        // From C3 (row 2, col 2).
        let cases = [
            ("=A1+$B$2", "=R[-2]C[-2]+R2C2"),
            ("=SUM(C3:C5)*$C3", "=SUM(RC:R[2]C)*RC3"),
            ("=SUM(A:B)+SUM(2:$4)", "=SUM(C[-2]:C[-1])+SUM(R[-1]:R4)"),
            ("=Sheet2!D4&\"A1\"", "=Sheet2!R[1]C[1]&\"A1\""),
            ("='My R1C1'!E5", "='My R1C1'!R[2]C[2]"),
            ("=ROUND(Rate,2)+COUNT(C3)", "=ROUND(Rate,2)+COUNT(RC)"),
        ];
        for (a1, r1c1) in cases {
            assert_eq!(to_r1c1(a1, 2, 2), r1c1, "{a1}");
            assert_eq!(from_r1c1(r1c1, 2, 2).unwrap(), a1, "{r1c1}");
        }
    }

    #[test]
    fn r1c1_off_the_sheet_is_ref_error_and_other_text_stays() {
        assert_eq!(from_r1c1("=R[-5]C+1", 2, 0).unwrap(), "=#REF!+1");
        assert_eq!(from_r1c1("=rc[1]*2", 0, 0).unwrap(), "=B1*2");
        assert_eq!(from_r1c1("=Table1[[#This Row],[Qty]]*2", 4, 0).unwrap(), "=Table1[[#This Row],[Qty]]*2");
        assert_eq!(from_r1c1("=R0C1", 0, 0).unwrap(), "=R0C1", "R0 is not a row: kept as a name");
        assert!(from_r1c1("=\"open", 0, 0).is_err());
    }

    proptest! {
        #[test]
        fn cell_references_survive_the_round_trip(
            r in 0u32..2000, c in 0u32..800, br in 0u32..2000, bc in 0u32..800, ra: bool, ca: bool
        ) {
            let a1 = format!("=1+{}", crate::formula::format_part(crate::formula::RefPart::Cell { row: r, col: c, row_abs: ra, col_abs: ca }));
            let r1c1 = to_r1c1(&a1, br, bc);
            prop_assert_eq!(from_r1c1(&r1c1, br, bc).unwrap(), a1);
        }
    }
}

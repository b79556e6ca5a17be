//! Finding and rewriting A1 references inside formula text.
//!
//! Used to expand shared formulas (`<f t="shared" si="0"/>` followers carry no text), and by
//! structural edits later. It is a lexer, not a parser: strings, quoted sheet names, structured
//! references and error literals are skipped so that nothing inside them is taken for a reference.

use crate::address::{column_index, column_name, MAX_COLS, MAX_ROWS};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefPart {
    Cell { row: u32, col: u32, row_abs: bool, col_abs: bool },
    Col { col: u32, abs: bool },
    Row { row: u32, abs: bool },
}

/// A reference found in formula text: the byte span of the reference part itself
/// (after any sheet prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefSpan {
    pub start: usize,
    pub end: usize,
    pub part: RefPart,
}

const ERROR_LITERALS: [&str; 10] =
    ["#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!", "#CALC!"];

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'$' | b'\\' | b'?') || b >= 0x80
}

/// Every A1 reference in `formula` (with or without the leading `=`).
pub fn references(formula: &str) -> Vec<RefSpan> {
    let b = formula.as_bytes();
    let mut out = Vec::new();
    // Words adjacent to ':' that may be whole-column or whole-row parts: (start, end).
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() {
                    if b[i] == b'"' {
                        if b.get(i + 1) == Some(&b'"') {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'\'' => {
                // Quoted sheet name; the reference after `!` is picked up next round.
                i += 1;
                while i < b.len() {
                    if b[i] == b'\'' {
                        if b.get(i + 1) == Some(&b'\'') {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'[' => {
                // Structured reference or external-book index: skip to the matching bracket.
                let mut depth = 0usize;
                while i < b.len() {
                    match b[i] {
                        b'[' => depth += 1,
                        b']' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        b'\'' => i += 1, // escape character inside structured references
                        _ => {}
                    }
                    i += 1;
                }
                i += 1;
            }
            b'#' => {
                let rest = &formula[i..];
                let lit =
                    ERROR_LITERALS.iter().find(|e| rest.len() >= e.len() && rest[..e.len()].eq_ignore_ascii_case(e));
                i += lit.map_or(1, |e| e.len());
            }
            c if is_word_byte(c) => {
                let start = i;
                while i < b.len() && is_word_byte(b[i]) {
                    i += 1;
                }
                let word = &formula[start..i];
                let prev = start.checked_sub(1).map(|p| b[p]);
                let next = b.get(i).copied();
                if next == Some(b'!') || next == Some(b'(') {
                    continue; // sheet prefix or function name
                }
                if let Some(part) = classify(word, prev == Some(b':') || next == Some(b':')) {
                    // A row-only or column-only part needs a partner on the other side of ':'.
                    let ok = match part {
                        RefPart::Cell { .. } => true,
                        _ => partner_matches(formula, start, i, part),
                    };
                    if ok {
                        out.push(RefSpan { start, end: i, part });
                    }
                }
            }
            _ => i += 1,
        }
    }
    out
}

fn partner_matches(formula: &str, start: usize, end: usize, part: RefPart) -> bool {
    let b = formula.as_bytes();
    let same_kind = |w: &str| {
        matches!(
            (classify(w, true), part),
            (Some(RefPart::Col { .. }), RefPart::Col { .. }) | (Some(RefPart::Row { .. }), RefPart::Row { .. })
        )
    };
    if b.get(end) == Some(&b':') {
        let s = end + 1;
        let mut e = s;
        while e < b.len() && is_word_byte(b[e]) {
            e += 1;
        }
        if same_kind(&formula[s..e]) {
            return true;
        }
    }
    if start > 0 && b[start - 1] == b':' {
        let e = start - 1;
        let mut s = e;
        while s > 0 && is_word_byte(b[s - 1]) {
            s -= 1;
        }
        if same_kind(&formula[s..e]) {
            return true;
        }
    }
    false
}

fn classify(word: &str, beside_colon: bool) -> Option<RefPart> {
    let b = word.as_bytes();
    let mut i = 0;
    let col_abs = b.first() == Some(&b'$');
    if col_abs {
        i += 1;
    }
    let ls = i;
    while i < b.len() && b[i].is_ascii_alphabetic() {
        i += 1;
    }
    let letters = &word[ls..i];
    let row_abs = b.get(i) == Some(&b'$');
    if row_abs {
        i += 1;
    }
    let ds = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i != b.len() {
        return None;
    }
    let digits = &word[ds..];
    match (letters.is_empty(), digits.is_empty()) {
        (false, false) => {
            let col = column_index(letters)?;
            let row: u32 = digits.parse().ok()?;
            if row == 0 || row > MAX_ROWS || col >= MAX_COLS {
                return None;
            }
            Some(RefPart::Cell { row: row - 1, col, row_abs, col_abs })
        }
        (false, true) if beside_colon && !row_abs => {
            let col = column_index(letters)?;
            (col < MAX_COLS).then_some(RefPart::Col { col, abs: col_abs })
        }
        (true, false) if beside_colon && !(col_abs && row_abs) => {
            let row: u32 = digits.parse().ok()?;
            (1..=MAX_ROWS).contains(&row).then_some(RefPart::Row { row: row - 1, abs: col_abs || row_abs })
        }
        _ => None,
    }
}

/// Writes a reference part back in A1 style.
pub fn format_part(part: RefPart) -> String {
    let d = |a: bool| if a { "$" } else { "" };
    match part {
        RefPart::Cell { row, col, row_abs, col_abs } => {
            format!("{}{}{}{}", d(col_abs), column_name(col), d(row_abs), row + 1)
        }
        RefPart::Col { col, abs } => format!("{}{}", d(abs), column_name(col)),
        RefPart::Row { row, abs } => format!("{}{}", d(abs), row + 1),
    }
}

/// Rewrites each reference through `f`; `None` from `f` keeps the reference as written.
pub fn rewrite_refs(formula: &str, mut f: impl FnMut(RefPart) -> Option<String>) -> String {
    let mut out = String::with_capacity(formula.len() + 8);
    let mut last = 0;
    for r in references(formula) {
        if let Some(new) = f(r.part) {
            out.push_str(&formula[last..r.start]);
            out.push_str(&new);
            last = r.end;
        }
    }
    out.push_str(&formula[last..]);
    out
}

/// Moves relative references by (`drow`, `dcol`), as Excel does when a formula is copied
/// (shared formulas are stored this way). A reference pushed off the sheet becomes `#REF!`.
pub fn shift(formula: &str, drow: i64, dcol: i64) -> String {
    if drow == 0 && dcol == 0 {
        return formula.to_string();
    }
    let mv = |v: u32, abs: bool, d: i64, limit: u32| -> Option<u32> {
        if abs {
            return Some(v);
        }
        let n = i64::from(v) + d;
        (0..i64::from(limit)).contains(&n).then_some(n as u32)
    };
    rewrite_refs(formula, |part| {
        let moved = match part {
            RefPart::Cell { row, col, row_abs, col_abs } => {
                match (mv(row, row_abs, drow, MAX_ROWS), mv(col, col_abs, dcol, MAX_COLS)) {
                    (Some(row), Some(col)) => Some(RefPart::Cell { row, col, row_abs, col_abs }),
                    _ => None,
                }
            }
            RefPart::Col { col, abs } => mv(col, abs, dcol, MAX_COLS).map(|col| RefPart::Col { col, abs }),
            RefPart::Row { row, abs } => mv(row, abs, drow, MAX_ROWS).map(|row| RefPart::Row { row, abs }),
        };
        Some(moved.map_or_else(|| "#REF!".to_string(), format_part))
    })
}

/// Writes ranges given corner-last (`O2:O1`, `B:A`) in Excel's normal order (`O1:O2`, `A:B`),
/// as Excel does on entry; `None` when every range is already in order.
pub fn normalize_ranges(formula: &str) -> Option<String> {
    let refs = references(formula);
    let mut out = String::new();
    let mut last = 0;
    let mut changed = false;
    for pair in refs.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if a.start < last || formula.as_bytes().get(a.end) != Some(&b':') || b.start != a.end + 1 {
            continue;
        }
        let swapped = match (a.part, b.part) {
            (
                RefPart::Cell { row: r1, col: c1, row_abs: ra1, col_abs: ca1 },
                RefPart::Cell { row: r2, col: c2, row_abs: ra2, col_abs: ca2 },
            ) if r1 > r2 || c1 > c2 => {
                let (top, top_abs, bottom, bottom_abs) = if r1 <= r2 { (r1, ra1, r2, ra2) } else { (r2, ra2, r1, ra1) };
                let (left, left_abs, right, right_abs) = if c1 <= c2 { (c1, ca1, c2, ca2) } else { (c2, ca2, c1, ca1) };
                Some((
                    RefPart::Cell { row: top, col: left, row_abs: top_abs, col_abs: left_abs },
                    RefPart::Cell { row: bottom, col: right, row_abs: bottom_abs, col_abs: right_abs },
                ))
            }
            (RefPart::Col { col: c1, .. }, RefPart::Col { col: c2, .. }) if c1 > c2 => Some((b.part, a.part)),
            (RefPart::Row { row: r1, .. }, RefPart::Row { row: r2, .. }) if r1 > r2 => Some((b.part, a.part)),
            _ => None,
        };
        if let Some((first, second)) = swapped {
            out.push_str(&formula[last..a.start]);
            out.push_str(&format_part(first));
            out.push(':');
            out.push_str(&format_part(second));
            last = b.end;
            changed = true;
        }
    }
    if !changed {
        return None;
    }
    out.push_str(&formula[last..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reversed_ranges_are_put_in_order() {
        assert_eq!(normalize_ranges("SUMIFS(O2:O1,N2:N1,N2)").as_deref(), Some("SUMIFS(O1:O2,N1:N2,N2)"));
        assert_eq!(normalize_ranges("SUM(B$1:$A3)").as_deref(), Some("SUM($A$1:B3)"));
        assert_eq!(normalize_ranges("SUM(C:A)+SUM(5:2)").as_deref(), Some("SUM(A:C)+SUM(2:5)"));
        assert_eq!(normalize_ranges("SUM(A1:B2)+C3"), None);
    }

    #[test]
    fn shifts_relative_references_only() {
        assert_eq!(shift("A1*2+$B$1+C$3+$D4", 2, 1), "B3*2+$B$1+D$3+$D6");
        assert_eq!(shift("SUM(A1:B2)", 1, 0), "SUM(A2:B3)");
        assert_eq!(shift("SUM(A:A)+SUM(1:1)", 1, 1), "SUM(B:B)+SUM(2:2)");
        assert_eq!(shift("Sheet2!A1+'My Sheet'!B2", 1, 0), "Sheet2!A2+'My Sheet'!B3");
    }

    #[test]
    fn leaves_non_references_alone() {
        assert_eq!(shift("\"A1\"&A1", 1, 0), "\"A1\"&A2");
        assert_eq!(shift("LOG10(A1)", 1, 0), "LOG10(A2)");
        assert_eq!(shift("Table1[Col1]+Table1[[#This Row],[A1]]", 1, 0), "Table1[Col1]+Table1[[#This Row],[A1]]");
        assert_eq!(shift("IF(ISERROR(A1),#N/A,#REF!)", 1, 0), "IF(ISERROR(A2),#N/A,#REF!)");
        assert_eq!(shift("'A1 sheet'!A1", 1, 0), "'A1 sheet'!A2");
        assert_eq!(shift("1E+10+A1", 1, 0), "1E+10+A2");
        assert_eq!(shift("_xlfn.XLOOKUP(A1,B:B,C:C)", 1, 0), "_xlfn.XLOOKUP(A2,B:B,C:C)");
    }

    #[test]
    fn off_sheet_becomes_ref_error() {
        assert_eq!(shift("A1", -1, 0), "#REF!");
        assert_eq!(shift("XFD1+1", 0, 1), "#REF!+1");
    }
}

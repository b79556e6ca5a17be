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
            // Structured reference or external-book index: skip to the matching bracket.
            b'[' => i = skip_brackets(b, i),
            b'#' => {
                let rest = &formula[i..];
                // Compared as bytes: the text after `#` may cut a character where a literal would end.
                let lit = ERROR_LITERALS
                    .iter()
                    .find(|e| rest.len() >= e.len() && rest.as_bytes()[..e.len()].eq_ignore_ascii_case(e.as_bytes()));
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
            (1..=MAX_ROWS).contains(&row).then(|| RefPart::Row { row: row - 1, abs: col_abs || row_abs })
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

/// Functions whose omitted arguments differ from an explicit 0, with what an omission means:
/// the engine hands a function an omitted argument as 0, so the text given to it spells the
/// default out. (XLOOKUP without `if_not_found` answers #N/A; without `search_mode`, searches
/// first to last.)
const OMITTED_DEFAULTS: &[(&str, &[(usize, &str)])] = &[("XLOOKUP", &[(3, "#N/A"), (5, "1")])];

/// Functions the engine is given under another name: replacements written on the engine's own
/// function interface (see `functions::register_all`). A replacement cannot take the plain
/// name, because the engine re-registers its built-ins over any function that displaced one;
/// it takes the `_xlfn.` spelling, which the engine looks up exactly before it strips the
/// prefix, and which still marks the cell as a nested AGGREGATE for SUBTOTAL and AGGREGATE.
pub const ENGINE_RENAMES: &[(&str, &str)] = &[("AGGREGATE", "_xlfn.AGGREGATE")];

/// The formula as the engine is given it: omitted arguments of [`OMITTED_DEFAULTS`] written out
/// and functions of [`ENGINE_RENAMES`] renamed; `None` when nothing changes.
pub fn for_engine(formula: &str) -> Option<String> {
    let bytes = formula.as_bytes();
    let mut fills: Vec<(usize, usize, &str)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' | b'\'' => i = skip_quoted(bytes, i),
            b if is_word_byte(b) && (i == 0 || !is_word_byte(bytes[i - 1]) && bytes[i - 1] != b'.') => {
                let start = i;
                while i < bytes.len() && (is_word_byte(bytes[i]) || bytes[i] == b'.') {
                    i += 1;
                }
                if bytes.get(i) != Some(&b'(') {
                    continue;
                }
                let word = &formula[start..i];
                let name = word.get(..6).filter(|p| p.eq_ignore_ascii_case("_xlfn.")).map_or(word, |_| &word[6..]);
                if let Some((_, renamed)) = ENGINE_RENAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
                    fills.push((start, i, renamed));
                }
                if let Some((_, defaults)) = OMITTED_DEFAULTS.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
                    let args = argument_spans(bytes, i);
                    for &(index, default) in defaults.iter() {
                        if let Some(&(a, b)) = args.get(index) {
                            if formula[a..b].trim().is_empty() {
                                fills.push((a, b, default));
                            }
                        }
                    }
                }
            }
            _ => i += 1,
        }
    }
    if fills.is_empty() {
        return None;
    }
    fills.sort_unstable();
    let mut out = String::with_capacity(formula.len() + 8);
    let mut last = 0;
    for (a, b, default) in fills {
        out.push_str(&formula[last..a]);
        out.push_str(default);
        last = b;
    }
    out.push_str(&formula[last..]);
    Some(out)
}

/// The index after the bracketed run starting at `i` (`[…]`, nested, with `'` escaping the
/// next character as in structured references).
pub(crate) fn skip_brackets(b: &[u8], mut i: usize) -> usize {
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
            b'\'' => i += 1,
            _ => {}
        }
        i += 1;
    }
    i + 1
}

/// The index after a quoted run (`"…"` or `'…'`, the quote doubled inside) starting at `i`;
/// the end of the text when the run is not closed.
fn skip_quoted(bytes: &[u8], i: usize) -> usize {
    quoted_end(bytes, i).unwrap_or(bytes.len())
}

/// The index after a quoted run starting at `i`, or `None` when it is not closed.
pub(crate) fn quoted_end(bytes: &[u8], i: usize) -> Option<usize> {
    let quote = bytes[i];
    let mut j = i + 1;
    while j < bytes.len() {
        if bytes[j] == quote {
            if bytes.get(j + 1) == Some(&quote) {
                j += 2;
                continue;
            }
            return Some(j + 1);
        }
        j += 1;
    }
    None
}

/// Byte spans of the arguments of the call whose `(` is at `open`.
fn argument_spans(bytes: &[u8], open: usize) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let (mut depth, mut start, mut i) = (0usize, open + 1, open + 1);
    while i < bytes.len() {
        match bytes[i] {
            b'"' | b'\'' => {
                i = skip_quoted(bytes, i);
                continue;
            }
            b'(' | b'{' => depth += 1,
            b')' if depth == 0 => {
                spans.push((start, i));
                return spans;
            }
            b')' | b'}' => depth = depth.saturating_sub(1),
            b',' if depth == 0 => {
                spans.push((start, i));
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    spans
}

#[cfg(test)]
mod omitted_tests {
    use super::for_engine as fill;

    #[test]
    fn omitted_xlookup_arguments_are_written_out() {
        assert_eq!(fill("_xlfn.XLOOKUP(D4,A:A,B:B,,-1)").as_deref(), Some("_xlfn.XLOOKUP(D4,A:A,B:B,#N/A,-1)"));
        assert_eq!(fill("XLOOKUP(D4,A:A,B:B,,,-1)").as_deref(), Some("XLOOKUP(D4,A:A,B:B,#N/A,,-1)"));
        assert_eq!(fill("xlookup(1,A1:A3,B1:B3,0,1,)").as_deref(), Some("xlookup(1,A1:A3,B1:B3,0,1,1)"));
        // Nested calls, commas inside strings, arrays and inner calls are not argument breaks.
        assert_eq!(
            fill(r#"XLOOKUP(XLOOKUP("a,b",{1,2},{3,4},),IF(1,A:A,B:B),C:C, )"#).as_deref(),
            Some(r#"XLOOKUP(XLOOKUP("a,b",{1,2},{3,4},#N/A),IF(1,A:A,B:B),C:C,#N/A)"#)
        );
        assert_eq!(fill("XLOOKUP(1,A:A,B:B)"), None);
        assert_eq!(fill(r#"MYXLOOKUP(1,A:A,B:B,,)&"XLOOKUP(1,2,3,,)""#), None);
    }
}

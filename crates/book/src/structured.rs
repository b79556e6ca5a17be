//! Structured references that depend on the formula's own row (`Table1[[#This Row],[Price]]`,
//! `Table1[@Price]`, `[@Price]`) and unqualified column references inside a table (`[Price]`),
//! rewritten into plain references for the engine, which resolves table names but not the row
//! a formula sits in. The file keeps its own text; only the engine's copy is rewritten.

use crate::address::{column_name, quote_sheet_name, Area};

/// What the rewrite needs to know about a table.
#[derive(Debug, Clone)]
pub struct TableInfo {
    pub name: String,
    pub sheet: String,
    pub area: Area,
    pub header_rows: u32,
    pub totals_rows: u32,
    pub columns: Vec<String>,
}

impl TableInfo {
    fn data_rows(&self) -> Option<(u32, u32)> {
        let first = self.area.first_row + self.header_rows;
        let last = self.area.last_row.checked_sub(self.totals_rows)?;
        (first <= last).then_some((first, last))
    }

    fn column(&self, name: &str) -> Option<u32> {
        let name = unescape(name.trim());
        self.columns.iter().position(|c| c.eq_ignore_ascii_case(&name)).map(|i| self.area.first_col + i as u32)
    }
}

/// Column names escape `[`, `]`, `#` and `'` with a leading `'`.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\'' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '\\')
}

/// The formula with row-relative structured references replaced, or `None` if it has none.
/// `row` and `col` are the formula's 0-based cell on `sheet`.
pub fn resolve(formula: &str, sheet: &str, row: u32, col: u32, tables: &[TableInfo]) -> Option<String> {
    if !formula.contains('[') || tables.is_empty() {
        return None;
    }
    let chars: Vec<(usize, char)> = formula.char_indices().collect();
    let mut out = String::with_capacity(formula.len());
    let mut last = 0usize;
    let mut changed = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i].1;
        match c {
            '"' | '\'' => {
                // Skip a string or a quoted sheet name, doubled quotes included.
                let q = c;
                i += 1;
                while i < chars.len() {
                    if chars[i].1 == q {
                        if chars.get(i + 1).is_some_and(|n| n.1 == q) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
            }
            '[' => {
                // The table name, if any, is the word right before the bracket.
                let mut start = i;
                while start > 0 && is_name_char(chars[start - 1].1) {
                    start -= 1;
                }
                let end = matching_bracket(&chars, i)?;
                let name: String = chars[start..i].iter().map(|x| x.1).collect();
                let inner: String = chars[i + 1..end].iter().map(|x| x.1).collect();
                let table = if name.is_empty() {
                    tables.iter().find(|t| t.sheet == sheet && t.area.contains(row, col))
                } else {
                    tables.iter().find(|t| t.name.eq_ignore_ascii_case(&name))
                };
                // A bracket after a word that is not a table (an external book `[1]`) is left.
                if let Some(t) = table {
                    if let Some(text) = rewrite(t, &inner, name.is_empty(), row) {
                        out.push_str(&formula[last..chars[start].0]);
                        out.push_str(&text);
                        last = chars.get(end + 1).map_or(formula.len(), |x| x.0);
                        changed = true;
                    }
                }
                i = end + 1;
            }
            _ => i += 1,
        }
    }
    if !changed {
        return None;
    }
    out.push_str(&formula[last..]);
    Some(out)
}

fn matching_bracket(chars: &[(usize, char)], open: usize) -> Option<usize> {
    let mut depth = 0;
    let mut k = open;
    while k < chars.len() {
        match chars[k].1 {
            '\'' => k += 1, // escaped character
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(k);
                }
            }
            _ => {}
        }
        k += 1;
    }
    None
}

/// Splits `[a],[b]:[c]` at top-level commas.
fn items(inner: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                continue;
            }
            '[' => depth += 1,
            ']' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out.into_iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
}

fn strip_brackets(s: &str) -> &str {
    s.strip_prefix('[').and_then(|x| x.strip_suffix(']')).unwrap_or(s)
}

/// The replacement for one structured reference, or `None` to leave it to the engine.
fn rewrite(t: &TableInfo, inner: &str, unqualified: bool, row: u32) -> Option<String> {
    let (this_row, columns): (bool, Vec<String>) = if let Some(rest) = inner.strip_prefix('@') {
        (true, if rest.is_empty() { Vec::new() } else { vec![rest.to_string()] })
    } else if inner.starts_with('[') {
        let parts = items(inner);
        let this_row = parts.iter().any(|p| strip_brackets(p).eq_ignore_ascii_case("#This Row"));
        let cols = parts.into_iter().filter(|p| !strip_brackets(p).starts_with('#')).collect();
        (this_row, cols)
    } else {
        (false, vec![inner.to_string()])
    };
    if !this_row && inner.trim().is_empty() {
        // `Table1[]` is the table's data.
        return Some(format!("{}[#Data]", t.name));
    }
    if !this_row {
        // `[Price]` inside its table means the table's column; give the engine the table name.
        // An unknown column (an external book's `[1]`) is not this table's.
        let known = columns
            .iter()
            .all(|c| c.split("]:[").all(|part| t.column(part.trim_start_matches('[').trim_end_matches(']')).is_some()));
        return (unqualified && known).then(|| format!("{}[{inner}]", t.name));
    }
    let Some((first, last)) = t.data_rows() else { return Some("#VALUE!".into()) };
    if row < first || row > last {
        return Some("#VALUE!".into());
    }
    let (c1, c2) = match columns.first() {
        None => (t.area.first_col, t.area.last_col),
        Some(spec) => {
            let spec = spec.as_str();
            match spec.split_once("]:[") {
                Some((a, b)) => (t.column(a.trim_start_matches('['))?, t.column(b.trim_end_matches(']'))?),
                None => {
                    let c = t.column(strip_brackets(spec))?;
                    (c, c)
                }
            }
        }
    };
    let sheet = quote_sheet_name(&t.sheet);
    let (c1, c2) = (c1.min(c2), c1.max(c2));
    Some(if c1 == c2 {
        format!("{sheet}!${}${}", column_name(c1), row + 1)
    } else {
        format!("{sheet}!${}${}:${}${}", column_name(c1), row + 1, column_name(c2), row + 1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Vec<TableInfo> {
        vec![TableInfo {
            name: "Sales".into(),
            sheet: "Data Sheet".into(),
            area: Area::cells(0, 1, 4, 3), // B1:D5, header row 1, totals row 5
            header_rows: 1,
            totals_rows: 1,
            columns: vec!["Item".into(), "Sales Amount".into(), "# Sold".into()],
        }]
    }

    #[test]
    fn this_row_becomes_a_cell() {
        let t = table();
        assert_eq!(
            resolve("Sales[[#This Row],[Sales Amount]]*2", "Data Sheet", 2, 4, &t).as_deref(),
            Some("'Data Sheet'!$C$3*2")
        );
        assert_eq!(resolve("[@Item]&\"x\"", "Data Sheet", 1, 3, &t).as_deref(), Some("'Data Sheet'!$B$2&\"x\""));
        assert_eq!(
            resolve("SUM(Sales[@[Item]:['# Sold]])", "Other", 3, 0, &t).as_deref(),
            Some("SUM('Data Sheet'!$B$4:$D$4)")
        );
        assert_eq!(resolve("Sales[@Item]", "Other", 9, 0, &t).as_deref(), Some("#VALUE!"));
    }

    #[test]
    fn other_references_are_left() {
        let t = table();
        assert_eq!(resolve("SUM(Sales[Sales Amount])", "Data Sheet", 2, 5, &t), None);
        assert_eq!(resolve("[1]Sheet1!A1+\"[@Item]\"", "Data Sheet", 2, 2, &t), None);
        assert_eq!(
            resolve("SUBTOTAL(109,[Sales Amount])", "Data Sheet", 4, 2, &t).as_deref(),
            Some("SUBTOTAL(109,Sales[Sales Amount])")
        );
    }
}

//! Structured references (`Table1[Price]`, `Table1[[#Headers],[Price]]`, `Table1[#All]`,
//! `Table1[@Price]`, and `[Price]` / `[@Price]` inside a table) rewritten into the plain
//! references they name for the engine, whose own table support misses row-relative and
//! special-item forms. The file keeps its own text; only the engine's copy is rewritten, so a
//! change to a table's extent means rewriting the formulas that name it.

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

/// The formula with references to table `from` naming table `to` (`From[Qty]` becomes
/// `To[Qty]`); `None` when it names no such table.
pub fn rename_table(formula: &str, from: &str, to: &str) -> Option<String> {
    replace_references(formula, |name, inner| {
        (!name.is_empty() && name.eq_ignore_ascii_case(from)).then(|| format!("{to}[{inner}]"))
    })
}

/// Calls `f` with each bracketed reference of a formula outside strings and quoted sheet names:
/// the word before the bracket (a table's name, or empty) and the text between the outer
/// brackets. What `f` returns replaces the reference, word and brackets. `None` when nothing
/// was replaced, or a bracket is left open.
fn replace_references(formula: &str, mut f: impl FnMut(&str, &str) -> Option<String>) -> Option<String> {
    if !formula.contains('[') {
        return None;
    }
    let chars: Vec<(usize, char)> = formula.char_indices().collect();
    let mut out = String::with_capacity(formula.len() + 16);
    let (mut last, mut changed, mut i) = (0usize, false, 0usize);
    while i < chars.len() {
        match chars[i].1 {
            '"' | '\'' => i = after_quoted(&chars, i),
            '[' => {
                let mut start = i;
                while start > 0 && is_name_char(chars[start - 1].1) {
                    start -= 1;
                }
                let end = matching_bracket(&chars, i)?;
                let name = &formula[chars[start].0..chars[i].0];
                let inner = &formula[chars[i].0 + 1..chars[end].0];
                if let Some(text) = f(name, inner) {
                    out.push_str(&formula[last..chars[start].0]);
                    out.push_str(&text);
                    last = chars.get(end + 1).map_or(formula.len(), |x| x.0);
                    changed = true;
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

/// What becomes of a table column named in a formula.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnFate {
    Renamed { from: String, to: String },
    Deleted(String),
}

/// The formula with its structured references to `table`'s columns following `fates` (applied in
/// order): a renamed column is named anew, a reference naming a deleted column becomes `#REF!`,
/// as Excel writes it. Bare references (`[Qty]`, `[@Qty]`) are the table's when `inside` (the
/// formula's cell lies in the table). `None` when nothing changes.
pub fn rewrite_columns(formula: &str, table: &str, inside: bool, fates: &[ColumnFate]) -> Option<String> {
    if fates.is_empty() {
        return None;
    }
    replace_references(formula, |name, inner| {
        let ours = if name.is_empty() { inside } else { name.eq_ignore_ascii_case(table) };
        if !ours {
            return None;
        }
        let mut text = inner.to_string();
        for fate in fates {
            let next = column_tokens(&text).into_iter().rev().try_fold(text.clone(), |mut acc, (a, b)| {
                let col = unescape(acc[a..b].trim());
                match fate {
                    ColumnFate::Renamed { from, to } if col.eq_ignore_ascii_case(from) => {
                        acc.replace_range(a..b, &escape_column(to));
                        Some(acc)
                    }
                    ColumnFate::Deleted(d) if col.eq_ignore_ascii_case(d) => None,
                    _ => Some(acc),
                }
            });
            match next {
                Some(t) => text = t,
                // A deleted column named: the whole reference is gone.
                None => return Some("#REF!".to_string()),
            }
        }
        (text != inner).then(|| format!("{name}[{text}]"))
    })
}

/// Where a structured reference's inside (between the table's brackets) names columns, as byte
/// ranges of their escaped text: `Qty`, `@Qty`, `[Qty]`, `@[Qty]`, `[#Headers],[Qty]:[Price]`
/// (and the unbracketed `[#This Row],Qty` some writers use).
fn column_tokens(inner: &str) -> Vec<(usize, usize)> {
    let body_from = usize::from(inner.starts_with('@'));
    let body = &inner[body_from..];
    if !body.trim_start().starts_with('[') {
        let t = body.trim();
        if t.is_empty() || t.starts_with('#') {
            return Vec::new();
        }
        let lead = body.len() - body.trim_start().len();
        return vec![(body_from + lead, body_from + lead + t.len())];
    }
    let mut out = Vec::new();
    let bytes = inner.as_bytes();
    let mut k = body_from;
    // A bare item runs from here to the next `,` or `:` at the top level.
    let mut bare: Option<usize> = None;
    let close_bare = |from: Option<usize>, to: usize, out: &mut Vec<(usize, usize)>| {
        if let Some(a) = from {
            let text = &inner[a..to];
            let t = text.trim();
            if !t.is_empty() && !t.starts_with('#') {
                let lead = text.len() - text.trim_start().len();
                out.push((a + lead, a + lead + t.len()));
            }
        }
    };
    while k < bytes.len() {
        match bytes[k] {
            b'\'' => {
                bare.get_or_insert(k);
                k += 2;
            }
            b'[' => {
                let open = k;
                k += 1;
                while k < bytes.len() && bytes[k] != b']' {
                    k += if bytes[k] == b'\'' { 2 } else { 1 };
                }
                let (a, b) = (open + 1, k.min(bytes.len()));
                if !inner[a..b].trim_start().starts_with('#') {
                    out.push((a, b));
                }
                k += 1;
            }
            b',' | b':' => {
                close_bare(bare.take(), k, &mut out);
                k += 1;
            }
            b' ' => k += 1,
            _ => {
                bare.get_or_insert(k);
                k += 1;
            }
        }
    }
    close_bare(bare.take(), bytes.len().min(inner.len()), &mut out);
    out.sort_unstable();
    out
}

/// A column name as a structured reference writes it: `[`, `]`, `#` and `'` escaped with `'`.
pub fn escape_column(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '[' | ']' | '#' | '\'') {
            out.push('\'');
        }
        out.push(c);
    }
    out
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
    if tables.is_empty() {
        return None;
    }
    replace_references(formula, |name, inner| {
        let table = if name.is_empty() {
            tables.iter().find(|t| t.sheet == sheet && t.area.contains(row, col))
        } else {
            tables.iter().find(|t| t.name.eq_ignore_ascii_case(name))
        };
        // A bracket after a word that is not a table (an external book `[1]`) is left.
        rewrite(table?, inner, name.is_empty(), row)
    })
}

/// The index after a string or quoted sheet name starting at `open` (doubled quotes inside).
fn after_quoted(chars: &[(usize, char)], open: usize) -> usize {
    let q = chars[open].1;
    let mut i = open + 1;
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
    i + 1
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

/// The replacement for one structured reference: the cells it names as an A1 reference (or
/// `#REF!` / `#VALUE!` where Excel gives them), or `None` to leave the text as it is (a bracket
/// that is not this table's, such as an external book's `[1]`).
fn rewrite(t: &TableInfo, inner: &str, unqualified: bool, row: u32) -> Option<String> {
    let (specials, columns): (Vec<String>, Vec<String>) = if let Some(rest) = inner.strip_prefix('@') {
        (vec!["#this row".into()], if rest.is_empty() { Vec::new() } else { vec![rest.to_string()] })
    } else if inner.starts_with('[') {
        let parts = items(inner);
        let (specials, cols): (Vec<String>, Vec<String>) =
            parts.into_iter().partition(|p| strip_brackets(p).starts_with('#'));
        (specials.iter().map(|p| strip_brackets(p).to_ascii_lowercase()).collect(), cols)
    } else if inner.starts_with('#') {
        (vec![inner.trim().to_ascii_lowercase()], Vec::new())
    } else if inner.trim().is_empty() {
        (Vec::new(), Vec::new())
    } else {
        (Vec::new(), vec![inner.to_string()])
    };
    let (c1, c2) = match columns.first() {
        None => (t.area.first_col, t.area.last_col),
        Some(spec) => {
            let spec = spec.as_str();
            let found = match spec.split_once("]:[") {
                Some((a, b)) => t.column(a.trim_start_matches('[')).zip(t.column(b.trim_end_matches(']'))),
                None => t.column(strip_brackets(spec)).map(|c| (c, c)),
            };
            match found {
                Some(cols) => cols,
                // An unknown column: not this table's when unqualified, Excel's #REF! otherwise.
                None if unqualified => return None,
                None => return Some("#REF!".into()),
            }
        }
    };
    let has = |name: &str| specials.iter().any(|s| s == name);
    let header = t.area.first_row;
    let totals = t.area.last_row;
    let data = t.data_rows();
    let (r1, r2) = if has("#this row") {
        let Some((first, last)) = data else { return Some("#VALUE!".into()) };
        if row < first || row > last {
            return Some("#VALUE!".into());
        }
        (row, row)
    } else if has("#all") {
        (t.area.first_row, t.area.last_row)
    } else {
        let wants_headers = has("#headers");
        let wants_totals = has("#totals");
        let wants_data = has("#data") || !(wants_headers || wants_totals);
        if (wants_headers && t.header_rows == 0) || (wants_totals && t.totals_rows == 0) {
            return Some("#REF!".into());
        }
        let first = if wants_headers {
            header
        } else if wants_data {
            match data {
                Some((first, _)) => first,
                None => return Some("#REF!".into()),
            }
        } else {
            totals
        };
        let last = if wants_totals {
            totals
        } else if wants_data {
            match data {
                Some((_, last)) => last,
                None => return Some("#REF!".into()),
            }
        } else {
            header
        };
        (first, last)
    };
    let sheet = quote_sheet_name(&t.sheet);
    let (c1, c2) = (c1.min(c2), c1.max(c2));
    Some(if c1 == c2 && r1 == r2 {
        format!("{sheet}!${}${}", column_name(c1), r1 + 1)
    } else {
        format!("{sheet}!${}${}:${}${}", column_name(c1), r1 + 1, column_name(c2), r2 + 1)
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
    fn table_references_become_ranges() {
        let t = table();
        let r = |f: &str| resolve(f, "Data Sheet", 2, 5, &t);
        assert_eq!(r("SUM(Sales[Sales Amount])").as_deref(), Some("SUM('Data Sheet'!$C$2:$C$4)"));
        assert_eq!(r("ROWS(Sales[#All])").as_deref(), Some("ROWS('Data Sheet'!$B$1:$D$5)"));
        assert_eq!(r("Sales[[#Headers],[Item]]").as_deref(), Some("'Data Sheet'!$B$1"));
        assert_eq!(
            r("SUM(Sales[[#Data],[#Totals],[Sales Amount]:['# Sold]])").as_deref(),
            Some("SUM('Data Sheet'!$C$2:$D$5)")
        );
        assert_eq!(r("COUNTA(Sales[])").as_deref(), Some("COUNTA('Data Sheet'!$B$2:$D$4)"));
        assert_eq!(r("Sales[Nope]").as_deref(), Some("#REF!"));
        // Inside the table, a bare column is the table's.
        assert_eq!(
            resolve("SUBTOTAL(109,[Sales Amount])", "Data Sheet", 4, 2, &t).as_deref(),
            Some("SUBTOTAL(109,'Data Sheet'!$C$2:$C$4)")
        );
    }

    #[test]
    fn other_brackets_are_left() {
        let t = table();
        assert_eq!(resolve("[1]Sheet1!A1+\"[@Item]\"", "Data Sheet", 2, 2, &t), None);
        assert_eq!(resolve("[Elsewhere]", "Data Sheet", 2, 2, &t), None);
    }

    #[test]
    fn columns_follow_renames_and_deletions() {
        let renamed = [ColumnFate::Renamed { from: "Sales Amount".into(), to: "Net [EUR]".into() }];
        let r = |f: &str, inside: bool| rewrite_columns(f, "Sales", inside, &renamed);
        assert_eq!(r("SUM(Sales[Sales Amount])", false).as_deref(), Some("SUM(Sales[Net '[EUR']])"));
        assert_eq!(r("sales[@[Sales Amount]]*2", false).as_deref(), Some("sales[@[Net '[EUR']]]*2"));
        assert_eq!(
            r("SUM(Sales[[#Data],[Item]:[Sales Amount]])", false).as_deref(),
            Some("SUM(Sales[[#Data],[Item]:[Net '[EUR']]])")
        );
        assert_eq!(r("[@Sales Amount]+1", true).as_deref(), Some("[@Net '[EUR']]+1"));
        assert_eq!(r("[@Sales Amount]+1", false), None);
        assert_eq!(r("Other[Sales Amount]&\"Sales[Sales Amount]\"", false), None);
        let deleted = [ColumnFate::Deleted("# sold".into())];
        assert_eq!(
            rewrite_columns("SUM(Sales['# Sold])+Sales[[#Totals],[Item]]", "Sales", false, &deleted).as_deref(),
            Some("SUM(#REF!)+Sales[[#Totals],[Item]]")
        );
        assert_eq!(rewrite_columns("COUNTA(Sales[#All])", "Sales", false, &deleted), None);
        // Unbracketed items after a special one, as some writers put them.
        let r = rewrite_columns("[[#This Row],Sales Amount]*2", "Sales", true, &renamed);
        assert_eq!(r.as_deref(), Some("[[#This Row],Net '[EUR']]*2"));
    }
}

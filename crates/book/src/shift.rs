//! Structural edits: inserting or deleting cells moves the cells after them, and every reference
//! to a moved cell follows, as in Excel. One [`Shift`] says what moves; it maps cell positions,
//! areas, `sqref` lists and formula text.
//!
//! Excel's rules, which these functions follow:
//! - Inserting at index `at` moves everything at or after `at` by `count`; an area that starts
//!   before `at` and ends at or after it grows.
//! - Deleting `at..at+count` moves what follows back; an area partly deleted shrinks; an area
//!   wholly deleted becomes `#REF!` in formulas and disappears from `sqref` lists.
//! - When only a band of columns (for a row shift) moves, an area is adjusted only if it lies
//!   within the band; areas that reach outside it keep their address.

use serde::{Deserialize, Serialize};

use crate::address::{Area, AreaKind, MAX_COLS, MAX_ROWS};
use crate::formula::{format_part, references, RefPart};

/// Which way cells move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Axis {
    /// Cells move down (insert) or up (delete).
    Rows,
    /// Cells move right (insert) or left (delete).
    Cols,
}

/// One insertion or deletion of cells on one sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shift {
    pub sheet: String,
    pub axis: Axis,
    /// First row (or column) inserted or deleted, 0-based.
    pub at: u32,
    pub count: u32,
    pub insert: bool,
    /// The columns (for a row shift) or rows (for a column shift) that move, inclusive.
    pub band: (u32, u32),
}

impl Shift {
    /// The shift that inserting (or deleting) `area` causes, moving cells along `axis`.
    pub fn of_area(sheet: &str, area: &Area, axis: Axis, insert: bool) -> Shift {
        let (at, count, band) = match axis {
            Axis::Rows => (area.first_row, area.last_row - area.first_row + 1, (area.first_col, area.last_col)),
            Axis::Cols => (area.first_col, area.last_col - area.first_col + 1, (area.first_row, area.last_row)),
        };
        Shift { sheet: sheet.to_string(), axis, at, count, insert, band }
    }

    fn limit(&self) -> u32 {
        match self.axis {
            Axis::Rows => MAX_ROWS,
            Axis::Cols => MAX_COLS,
        }
    }

    fn across_limit(&self) -> u32 {
        match self.axis {
            Axis::Rows => MAX_COLS,
            Axis::Cols => MAX_ROWS,
        }
    }

    /// Whole rows (or whole columns) move: nothing beside the band stays put.
    pub fn whole(&self) -> bool {
        self.band.0 == 0 && self.band.1 >= self.across_limit() - 1
    }

    /// Where index `i` along the axis goes; `None` when it is deleted or pushed off the sheet.
    pub fn map_index(&self, i: u32) -> Option<u32> {
        if i < self.at {
            return Some(i);
        }
        if self.insert {
            let n = u64::from(i) + u64::from(self.count);
            return (n < u64::from(self.limit())).then_some(n as u32);
        }
        let end = self.at.saturating_add(self.count);
        (i >= end).then(|| i - self.count)
    }

    /// Where the cell at (`row`, `col`) of the shifted sheet goes; `None` when it is deleted.
    pub fn map_cell(&self, row: u32, col: u32) -> Option<(u32, u32)> {
        match self.axis {
            Axis::Rows if (self.band.0..=self.band.1).contains(&col) => self.map_index(row).map(|r| (r, col)),
            Axis::Cols if (self.band.0..=self.band.1).contains(&row) => self.map_index(col).map(|c| (row, c)),
            _ => Some((row, col)),
        }
    }

    /// Maps an extent `lo..=hi` along the axis; `None` when all of it is deleted.
    fn map_extent(&self, lo: u32, hi: u32) -> Option<(u32, u32)> {
        let last = self.limit() - 1;
        if self.insert {
            let mv = |i: u32| if i >= self.at { i.saturating_add(self.count) } else { i };
            let (lo2, hi2) = (mv(lo), mv(hi));
            if lo2 > last {
                return None;
            }
            return Some((lo2, hi2.min(last)));
        }
        let end = self.at.saturating_add(self.count);
        if lo >= self.at && hi < end {
            return None;
        }
        let lo2 = if lo < self.at {
            lo
        } else if lo >= end {
            lo - self.count
        } else {
            self.at
        };
        let hi2 = if hi < self.at {
            hi
        } else if hi >= end {
            hi - self.count
        } else {
            self.at - 1
        };
        Some((lo2, hi2))
    }

    /// Maps an area of the shifted sheet. `Ok(None)`: wholly deleted; `Ok(Some(same))` when it
    /// does not move.
    pub fn map_area(&self, area: &Area) -> Option<Area> {
        let (along, across, whole_along) = match self.axis {
            Axis::Rows => {
                ((area.first_row, area.last_row), (area.first_col, area.last_col), area.kind == AreaKind::Columns)
            }
            Axis::Cols => {
                ((area.first_col, area.last_col), (area.first_row, area.last_row), area.kind == AreaKind::Rows)
            }
        };
        // A whole column does not change when rows move (and a whole row when columns move);
        // an area reaching outside the band that moves keeps its address.
        if whole_along || across.0 < self.band.0 || across.1 > self.band.1 {
            return Some(*area);
        }
        let (lo, hi) = self.map_extent(along.0, along.1)?;
        let mut out = *area;
        match self.axis {
            Axis::Rows => {
                out.first_row = lo;
                out.last_row = hi;
            }
            Axis::Cols => {
                out.first_col = lo;
                out.last_col = hi;
            }
        }
        Some(out)
    }

    /// Maps a space-separated list of areas (`sqref`): deleted areas leave the list, which may
    /// end up empty. `None` when nothing changes (or the text does not parse).
    pub fn map_sqref(&self, text: &str) -> Option<String> {
        let mut out = Vec::new();
        let mut changed = false;
        for piece in text.split_ascii_whitespace() {
            let Ok(area) = Area::parse_a1(piece) else { return None };
            match self.map_area(&area) {
                Some(a) if a == area => out.push(piece.to_string()),
                Some(a) => {
                    changed = true;
                    out.push(a.to_a1());
                }
                None => changed = true,
            }
        }
        changed.then(|| out.join(" "))
    }

    /// Rewrites the references of `formula` (held by a cell or item of sheet `host`) that point
    /// into the shifted sheet. `None` when nothing changes.
    pub fn formula(&self, formula: &str, host: &str) -> Option<String> {
        let refs = references(formula);
        if refs.is_empty() {
            return None;
        }
        let b = formula.as_bytes();
        let mut out = String::with_capacity(formula.len() + 8);
        let mut last = 0;
        let mut changed = false;
        let mut i = 0;
        while i < refs.len() {
            let first = refs[i];
            // `A1:B2`, `A:C`, `3:5`: two parts joined by a colon make one area.
            let second = refs
                .get(i + 1)
                .copied()
                .filter(|n| first.end < b.len() && b[first.end] == b':' && n.start == first.end + 1);
            let (start, end) = (first.start, second.map_or(first.end, |s| s.end));
            i += if second.is_some() { 2 } else { 1 };
            let target = match sheet_prefix(formula, start) {
                Prefix::None => host,
                Prefix::Sheet(name) => {
                    if !name.eq_ignore_ascii_case(&self.sheet) {
                        continue;
                    }
                    &self.sheet
                }
                Prefix::Other => continue,
            };
            if !target.eq_ignore_ascii_case(&self.sheet) {
                continue;
            }
            let Some(area) = area_of(first.part, second.map(|s| s.part)) else { continue };
            let new_text = match self.map_area(&area) {
                Some(a) if a == area => continue,
                Some(a) => write_like(&a, first.part, second.map(|s| s.part)),
                None => "#REF!".to_string(),
            };
            out.push_str(&formula[last..start]);
            out.push_str(&new_text);
            last = end;
            changed = true;
        }
        if !changed {
            return None;
        }
        out.push_str(&formula[last..]);
        Some(out)
    }
}

/// A change to the workbook's structure that formulas and addresses in the parts follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Cells inserted or deleted.
    Shift(Shift),
    /// A sheet renamed: references to it say the new name.
    RenameSheet { from: String, to: String },
    /// A sheet deleted: references to it become `#REF!`.
    DeleteSheet { name: String },
}

impl Change {
    /// The formula text after the change; `None` when it does not change.
    pub fn formula(&self, formula: &str, host: &str) -> Option<String> {
        match self {
            Change::Shift(s) => s.formula(formula, host),
            Change::RenameSheet { from, to } => rename_sheet(formula, from, to),
            Change::DeleteSheet { name } => delete_sheet(formula, name),
        }
    }

    pub fn shift(&self) -> Option<&Shift> {
        match self {
            Change::Shift(s) => Some(s),
            _ => None,
        }
    }
}

/// Every sheet qualifier in a formula: (start, index of its `!`, the sheet name). Names of other
/// books (`[1]Sheet1!`) and spans of sheets (`Sheet1:Sheet3!`) are left out.
fn sheet_prefixes(formula: &str) -> Vec<(usize, usize, String)> {
    let b = formula.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let word = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'\\') || c >= 0x80;
    while i < b.len() {
        match b[i] {
            b'"' => i = crate::formula::quoted_end(b, i).unwrap_or(b.len()),
            b'[' => i = crate::formula::skip_brackets(b, i),
            b'\'' => {
                let end = crate::formula::quoted_end(b, i).unwrap_or(b.len());
                if b.get(end) == Some(&b'!') {
                    let name = formula[i + 1..end - 1].replace("''", "'");
                    if !name.starts_with('[') && !name.contains(':') {
                        out.push((i, end, name));
                    }
                }
                i = end;
            }
            c if word(c) => {
                let start = i;
                while i < b.len() && word(b[i]) {
                    i += 1;
                }
                let after_other = start > 0 && matches!(b[start - 1], b']' | b':');
                if b.get(i) == Some(&b'!') && !after_other {
                    out.push((start, i, formula[start..i].to_string()));
                }
            }
            _ => i += 1,
        }
    }
    out
}

fn rename_sheet(formula: &str, from: &str, to: &str) -> Option<String> {
    let hits: Vec<_> = sheet_prefixes(formula).into_iter().filter(|(_, _, n)| n.eq_ignore_ascii_case(from)).collect();
    if hits.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(formula.len() + to.len());
    let mut last = 0;
    for (start, bang, _) in hits {
        out.push_str(&formula[last..start]);
        out.push_str(&crate::address::quote_sheet_name(to));
        last = bang;
    }
    out.push_str(&formula[last..]);
    Some(out)
}

fn delete_sheet(formula: &str, name: &str) -> Option<String> {
    let hits: Vec<_> = sheet_prefixes(formula).into_iter().filter(|(_, _, n)| n.eq_ignore_ascii_case(name)).collect();
    if hits.is_empty() {
        return None;
    }
    let refs = references(formula);
    let b = formula.as_bytes();
    let mut out = String::with_capacity(formula.len());
    let mut last = 0;
    for (start, bang, _) in hits {
        // The reference after the qualifier (a cell, a range, a name) goes with it.
        let after = bang + 1;
        let end = match refs.iter().position(|r| r.start == after) {
            Some(k) => match refs.get(k + 1) {
                Some(n) if b.get(refs[k].end) == Some(&b':') && n.start == refs[k].end + 1 => n.end,
                _ => refs[k].end,
            },
            None => {
                let mut e = after;
                while e < b.len()
                    && (b[e].is_ascii_alphanumeric() || matches!(b[e], b'_' | b'.' | b'$') || b[e] >= 0x80)
                {
                    e += 1;
                }
                e
            }
        };
        out.push_str(&formula[last..start]);
        out.push_str("#REF!");
        last = end;
    }
    out.push_str(&formula[last..]);
    Some(out)
}

/// The sheet qualifier before a reference starting at `start`.
enum Prefix<'a> {
    None,
    Sheet(std::borrow::Cow<'a, str>),
    /// Another book (`[1]Sheet1!`) or a span of sheets (`Sheet1:Sheet3!`): left alone.
    Other,
}

fn sheet_prefix(formula: &str, start: usize) -> Prefix<'_> {
    let b = formula.as_bytes();
    if start == 0 || b[start - 1] != b'!' {
        return Prefix::None;
    }
    let bang = start - 1;
    if bang > 0 && b[bang - 1] == b'\'' {
        // Quoted: walk back to the opening quote, stepping over doubled quotes.
        let mut j = bang - 1;
        loop {
            if j == 0 {
                return Prefix::Other;
            }
            j -= 1;
            if b[j] == b'\'' {
                if j > 0 && b[j - 1] == b'\'' {
                    j -= 1;
                    continue;
                }
                break;
            }
        }
        let name = formula[j + 1..bang - 1].replace("''", "'");
        if name.starts_with('[') || name.contains(':') {
            return Prefix::Other;
        }
        return Prefix::Sheet(std::borrow::Cow::Owned(name));
    }
    let mut j = bang;
    while j > 0 && (b[j - 1].is_ascii_alphanumeric() || matches!(b[j - 1], b'_' | b'.' | b'\\') || b[j - 1] >= 0x80) {
        j -= 1;
    }
    if j == bang || (j > 0 && matches!(b[j - 1], b']' | b':')) {
        return Prefix::Other;
    }
    Prefix::Sheet(std::borrow::Cow::Borrowed(&formula[j..bang]))
}

fn area_of(first: RefPart, second: Option<RefPart>) -> Option<Area> {
    let mut a = match (first, second) {
        (RefPart::Cell { row, col, .. }, None) => Area::cell(row, col),
        (RefPart::Cell { row: r1, col: c1, .. }, Some(RefPart::Cell { row: r2, col: c2, .. })) => {
            Area::cells(r1, c1, r2, c2)
        }
        (RefPart::Col { col: c1, .. }, Some(RefPart::Col { col: c2, .. })) => {
            let mut a = Area::cells(0, c1, MAX_ROWS - 1, c2);
            a.kind = AreaKind::Columns;
            a
        }
        (RefPart::Row { row: r1, .. }, Some(RefPart::Row { row: r2, .. })) => {
            let mut a = Area::cells(r1, 0, r2, MAX_COLS - 1);
            a.kind = AreaKind::Rows;
            a
        }
        _ => return None,
    };
    a.abs = [false; 4];
    Some(a)
}

/// Writes a mapped area with the `$` markers and the corner order of the text it came from.
fn write_like(area: &Area, first: RefPart, second: Option<RefPart>) -> String {
    let with_pos = |part: RefPart, row: u32, col: u32| match part {
        RefPart::Cell { row_abs, col_abs, .. } => RefPart::Cell { row, col, row_abs, col_abs },
        RefPart::Col { abs, .. } => RefPart::Col { col, abs },
        RefPart::Row { abs, .. } => RefPart::Row { row, abs },
    };
    match second {
        None => format_part(with_pos(first, area.first_row, area.first_col)),
        Some(second) => format!(
            "{}:{}",
            format_part(with_pos(first, area.first_row, area.first_col)),
            format_part(with_pos(second, area.last_row, area.last_col))
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(at: u32, count: u32, insert: bool) -> Shift {
        Shift { sheet: "Data".into(), axis: Axis::Rows, at, count, insert, band: (0, MAX_COLS - 1) }
    }

    #[test]
    fn inserted_rows_move_references_below_and_grow_ranges_across() {
        let s = rows(4, 2, true); // two rows before row 5
        assert_eq!(s.formula("A5+A4", "Data").as_deref(), Some("A7+A4"));
        assert_eq!(s.formula("SUM($B$2:B10)", "Data").as_deref(), Some("SUM($B$2:B12)"));
        assert_eq!(s.formula("SUM(Data!A1:A3)*2", "Other"), None, "above the insertion");
        assert_eq!(s.formula("'Data'!C9&\"A9\"", "Other").as_deref(), Some("'Data'!C11&\"A9\""));
        assert_eq!(s.formula("A9", "Other"), None, "a reference to its own sheet stays");
        assert_eq!(s.formula("SUM(A:A)+SUM(3:6)", "Data").as_deref(), Some("SUM(A:A)+SUM(3:8)"));
        assert_eq!(s.formula("[1]Data!A9+Book.xlsx!A9", "Data"), None);
        assert_eq!(s.formula("Sheet1:Data!A9", "Data"), None);
    }

    #[test]
    fn deleted_rows_shrink_ranges_and_leave_ref_errors() {
        let s = rows(4, 2, false); // rows 5 and 6
        assert_eq!(s.formula("A5+A7+A4", "Data").as_deref(), Some("#REF!+A5+A4"));
        assert_eq!(s.formula("SUM(A1:A5)", "Data").as_deref(), Some("SUM(A1:A4)"));
        assert_eq!(s.formula("SUM(A5:A9)", "Data").as_deref(), Some("SUM(A5:A7)"));
        assert_eq!(s.formula("SUM(Data!A5:B6)", "X").as_deref(), Some("SUM(Data!#REF!)"));
        assert_eq!(s.map_sqref("A1:B2 A5:A6 C10").as_deref(), Some("A1:B2 C8"));
        assert_eq!(s.map_cell(4, 0), None);
        assert_eq!(s.map_cell(6, 3), Some((4, 3)));
    }

    #[test]
    fn a_band_moves_only_areas_inside_it() {
        // Insert B3:C3, cells moving down: only columns B and C move.
        let area = Area::parse_a1("B3:C3").unwrap();
        let s = Shift::of_area("Data", &area, Axis::Rows, true);
        assert_eq!(s.formula("B5+D5+B2", "Data").as_deref(), Some("B6+D5+B2"));
        assert_eq!(s.formula("SUM(B3:C9)", "Data").as_deref(), Some("SUM(B4:C10)"));
        assert_eq!(s.formula("SUM(A3:C9)", "Data"), None, "reaches outside the band");
        assert_eq!(s.map_cell(2, 3), Some((2, 3)));
        assert_eq!(s.map_cell(2, 2), Some((3, 2)));
    }

    #[test]
    fn columns_shift_like_rows() {
        let s =
            Shift { sheet: "Data".into(), axis: Axis::Cols, at: 1, count: 1, insert: true, band: (0, MAX_ROWS - 1) };
        assert_eq!(s.formula("SUM(A1:C1)+$B$2+A:B", "Data").as_deref(), Some("SUM(A1:D1)+$C$2+A:C"));
        assert_eq!(s.formula("SUM(2:2)", "Data"), None);
        let d = Shift { insert: false, ..s };
        assert_eq!(d.formula("B1+C1+SUM(B:B)", "Data").as_deref(), Some("#REF!+B1+SUM(#REF!)"));
    }

    #[test]
    fn quoted_sheet_names_with_quotes_are_matched() {
        let s = Shift { sheet: "It's".into(), ..rows(0, 1, true) };
        assert_eq!(s.formula("'It''s'!A1+'Its'!A1", "X").as_deref(), Some("'It''s'!A2+'Its'!A1"));
    }

    #[test]
    fn renamed_and_deleted_sheets_in_formulas() {
        let rename = Change::RenameSheet { from: "Data".into(), to: "My Data".into() };
        assert_eq!(
            rename.formula("SUM(Data!A1:B2)+data!C3+'Data'!Rate+\"Data!A1\"+Other!A1", "X").as_deref(),
            Some("SUM('My Data'!A1:B2)+'My Data'!C3+'My Data'!Rate+\"Data!A1\"+Other!A1")
        );
        assert_eq!(rename.formula("[1]Data!A1+A1", "Data"), None);
        let delete = Change::DeleteSheet { name: "Data".into() };
        assert_eq!(delete.formula("SUM(Data!A1:B2)*2+Other!A1", "X").as_deref(), Some("SUM(#REF!)*2+Other!A1"));
        assert_eq!(delete.formula("'Data'!Rate+1", "X").as_deref(), Some("#REF!+1"));
        assert_eq!(delete.formula("A1", "Data"), None);
    }

    #[test]
    fn inserting_past_the_last_row_pushes_references_off() {
        let s = rows(MAX_ROWS - 2, 1, true);
        assert_eq!(s.formula("A1048576", "Data").as_deref(), Some("#REF!"));
        assert_eq!(s.formula("A1:A1048576", "Data"), None, "clamped to the last row");
    }
}

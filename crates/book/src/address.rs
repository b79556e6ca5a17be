//! A1 and R1C1 cell and range addresses: parsing, formatting, Excel's grid limits.
//!
//! Rows and columns are 0-based inside the crate and 1-based on the wire, as in Excel.

use std::borrow::Cow;
use std::fmt;

/// Rows in an Excel worksheet.
pub const MAX_ROWS: u32 = 1_048_576;
/// Columns in an Excel worksheet (A..XFD).
pub const MAX_COLS: u32 = 16_384;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("'{0}' is not a valid address")]
    Syntax(String),
    #[error("'{0}' is outside the worksheet (Excel has {MAX_ROWS} rows and {MAX_COLS} columns)")]
    OutOfBounds(String),
}

/// One cell, with the `$` markers it was written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CellRef {
    pub row: u32,
    pub col: u32,
    pub row_abs: bool,
    pub col_abs: bool,
}

impl CellRef {
    pub fn new(row: u32, col: u32) -> Self {
        CellRef { row, col, row_abs: false, col_abs: false }
    }
}

/// What shape of area an address names; it decides how the area is written back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AreaKind {
    /// `A1` or `A1:B2`.
    Cells,
    /// `A:C`, every row of some columns.
    Columns,
    /// `3:5`, every column of some rows.
    Rows,
}

/// A rectangle of cells, normalised so that `first <= last` on both axes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Area {
    pub first_row: u32,
    pub first_col: u32,
    pub last_row: u32,
    pub last_col: u32,
    pub kind: AreaKind,
    /// `$` markers: (first row, first col, last row, last col).
    pub abs: [bool; 4],
}

impl Area {
    pub fn cell(row: u32, col: u32) -> Self {
        Area::cells(row, col, row, col)
    }

    pub fn cells(first_row: u32, first_col: u32, last_row: u32, last_col: u32) -> Self {
        Area {
            first_row: first_row.min(last_row),
            first_col: first_col.min(last_col),
            last_row: first_row.max(last_row),
            last_col: first_col.max(last_col),
            kind: AreaKind::Cells,
            abs: [false; 4],
        }
    }

    pub fn whole_sheet() -> Self {
        Area {
            first_row: 0,
            first_col: 0,
            last_row: MAX_ROWS - 1,
            last_col: MAX_COLS - 1,
            kind: AreaKind::Rows,
            abs: [false; 4],
        }
    }

    pub fn rows(&self) -> u64 {
        u64::from(self.last_row - self.first_row) + 1
    }

    pub fn cols(&self) -> u64 {
        u64::from(self.last_col - self.first_col) + 1
    }

    pub fn cell_count(&self) -> u64 {
        self.rows() * self.cols()
    }

    pub fn is_single_cell(&self) -> bool {
        self.first_row == self.last_row && self.first_col == self.last_col
    }

    pub fn contains(&self, row: u32, col: u32) -> bool {
        (self.first_row..=self.last_row).contains(&row) && (self.first_col..=self.last_col).contains(&col)
    }

    /// Parses `A1`, `$A$1:B2`, `A:C`, `3:5` (no sheet name).
    pub fn parse_a1(text: &str) -> Result<Area, AddressError> {
        let err = || AddressError::Syntax(text.to_string());
        let (a, b) = match text.split_once(':') {
            Some((a, b)) => (a, Some(b)),
            None => (text, None),
        };
        match parse_a1_part(a).ok_or_else(err)? {
            Part::Cell(start) => {
                let end = match b {
                    None => start,
                    Some(b) => match parse_a1_part(b).ok_or_else(err)? {
                        Part::Cell(c) => c,
                        _ => return Err(err()),
                    },
                };
                check_cell(text, &start)?;
                check_cell(text, &end)?;
                let mut area = Area::cells(start.row, start.col, end.row, end.col);
                area.abs = order_abs(start, end);
                Ok(area)
            }
            Part::Col(c1, a1) => {
                let Some(Part::Col(c2, a2)) = b.map(parse_a1_part).ok_or_else(err)? else {
                    return Err(err());
                };
                if c1 >= MAX_COLS || c2 >= MAX_COLS {
                    return Err(AddressError::OutOfBounds(text.to_string()));
                }
                let (lo, hi, alo, ahi) = if c1 <= c2 { (c1, c2, a1, a2) } else { (c2, c1, a2, a1) };
                Ok(Area {
                    first_row: 0,
                    first_col: lo,
                    last_row: MAX_ROWS - 1,
                    last_col: hi,
                    kind: AreaKind::Columns,
                    abs: [false, alo, false, ahi],
                })
            }
            Part::Row(r1, a1) => {
                let Some(Part::Row(r2, a2)) = b.map(parse_a1_part).ok_or_else(err)? else {
                    return Err(err());
                };
                if r1 >= MAX_ROWS || r2 >= MAX_ROWS {
                    return Err(AddressError::OutOfBounds(text.to_string()));
                }
                let (lo, hi, alo, ahi) = if r1 <= r2 { (r1, r2, a1, a2) } else { (r2, r1, a2, a1) };
                Ok(Area {
                    first_row: lo,
                    first_col: 0,
                    last_row: hi,
                    last_col: MAX_COLS - 1,
                    kind: AreaKind::Rows,
                    abs: [alo, false, ahi, false],
                })
            }
        }
    }

    /// Writes the area in A1 style, keeping its `$` markers (`A1`, `A1:B2`, `A:C`, `3:5`).
    pub fn to_a1(&self) -> String {
        let mut out = String::with_capacity(16);
        self.write_a1(&mut out);
        out
    }

    /// Appends the A1 form to `out` (the range resource writes one per response).
    pub fn write_a1(&self, out: &mut String) {
        use fmt::Write as _;
        let dollar = |out: &mut String, abs: bool| {
            if abs {
                out.push('$');
            }
        };
        // Writing to a String cannot fail.
        match self.kind {
            AreaKind::Cells => {
                dollar(out, self.abs[1]);
                push_column_name(out, self.first_col);
                dollar(out, self.abs[0]);
                let _ = write!(out, "{}", self.first_row + 1);
                if !self.is_single_cell() {
                    out.push(':');
                    dollar(out, self.abs[3]);
                    push_column_name(out, self.last_col);
                    dollar(out, self.abs[2]);
                    let _ = write!(out, "{}", self.last_row + 1);
                }
            }
            AreaKind::Columns => {
                dollar(out, self.abs[1]);
                push_column_name(out, self.first_col);
                out.push(':');
                dollar(out, self.abs[3]);
                push_column_name(out, self.last_col);
            }
            AreaKind::Rows => {
                dollar(out, self.abs[0]);
                let _ = write!(out, "{}", self.first_row + 1);
                out.push(':');
                dollar(out, self.abs[2]);
                let _ = write!(out, "{}", self.last_row + 1);
            }
        }
    }

    /// Parses an R1C1 area (`R1C1`, `R[1]C[-1]:R5C5`, `R2:R4`, `C3`, `R`) relative to `base`.
    pub fn parse_r1c1(text: &str, base: (u32, u32)) -> Result<Area, AddressError> {
        let err = || AddressError::Syntax(text.to_string());
        let (a, b) = match text.split_once(':') {
            Some((a, b)) => (a, Some(b)),
            None => (text, None),
        };
        let first = parse_r1c1_part(a, base, text)?.ok_or_else(err)?;
        let last = match b {
            Some(b) => parse_r1c1_part(b, base, text)?.ok_or_else(err)?,
            None => first,
        };
        match (first, last) {
            (R1c1::Cell(s), R1c1::Cell(e)) => {
                let mut area = Area::cells(s.row, s.col, e.row, e.col);
                area.abs = order_abs(s, e);
                Ok(area)
            }
            (R1c1::Row(r1, a1), R1c1::Row(r2, a2)) => {
                let (lo, hi, alo, ahi) = if r1 <= r2 { (r1, r2, a1, a2) } else { (r2, r1, a2, a1) };
                Ok(Area {
                    first_row: lo,
                    first_col: 0,
                    last_row: hi,
                    last_col: MAX_COLS - 1,
                    kind: AreaKind::Rows,
                    abs: [alo, false, ahi, false],
                })
            }
            (R1c1::Col(c1, a1), R1c1::Col(c2, a2)) => {
                let (lo, hi, alo, ahi) = if c1 <= c2 { (c1, c2, a1, a2) } else { (c2, c1, a2, a1) };
                Ok(Area {
                    first_row: 0,
                    first_col: lo,
                    last_row: MAX_ROWS - 1,
                    last_col: hi,
                    kind: AreaKind::Columns,
                    abs: [false, alo, false, ahi],
                })
            }
            _ => Err(err()),
        }
    }

    /// Writes the area in R1C1 style: absolute parts as `R3`, relative ones as `R[-1]` from `base`.
    pub fn to_r1c1(&self, base: (u32, u32)) -> String {
        let row = |r: u32, abs: bool| {
            if abs {
                format!("R{}", r + 1)
            } else if r == base.0 {
                "R".to_string()
            } else {
                format!("R[{}]", i64::from(r) - i64::from(base.0))
            }
        };
        let col = |c: u32, abs: bool| {
            if abs {
                format!("C{}", c + 1)
            } else if c == base.1 {
                "C".to_string()
            } else {
                format!("C[{}]", i64::from(c) - i64::from(base.1))
            }
        };
        match self.kind {
            AreaKind::Cells => {
                let first = format!("{}{}", row(self.first_row, self.abs[0]), col(self.first_col, self.abs[1]));
                if self.is_single_cell() {
                    first
                } else {
                    format!("{first}:{}{}", row(self.last_row, self.abs[2]), col(self.last_col, self.abs[3]))
                }
            }
            AreaKind::Rows => {
                let a = row(self.first_row, self.abs[0]);
                if self.first_row == self.last_row && self.abs[0] == self.abs[2] {
                    a
                } else {
                    format!("{a}:{}", row(self.last_row, self.abs[2]))
                }
            }
            AreaKind::Columns => {
                let a = col(self.first_col, self.abs[1]);
                if self.first_col == self.last_col && self.abs[1] == self.abs[3] {
                    a
                } else {
                    format!("{a}:{}", col(self.last_col, self.abs[3]))
                }
            }
        }
    }
}

impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_a1())
    }
}

/// An area on a named sheet, as written in `'My Sheet'!A1:B2`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SheetArea {
    pub sheet: Option<String>,
    pub area: Area,
}

impl SheetArea {
    /// Parses `A1`, `Sheet1!A1:B2`, `'My Sheet'!A:A`, `'It''s'!3:5`.
    pub fn parse(text: &str) -> Result<SheetArea, AddressError> {
        let text = text.trim();
        let (sheet, rest) = split_sheet(text)?;
        Ok(SheetArea { sheet, area: Area::parse_a1(rest)? })
    }

    pub fn to_a1(&self) -> String {
        match &self.sheet {
            Some(s) => format!("{}!{}", quote_sheet_name(s), self.area.to_a1()),
            None => self.area.to_a1(),
        }
    }
}

impl fmt::Display for SheetArea {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_a1())
    }
}

/// Splits a leading sheet qualifier off an address.
pub fn split_sheet(text: &str) -> Result<(Option<String>, &str), AddressError> {
    let err = || AddressError::Syntax(text.to_string());
    if let Some(rest) = text.strip_prefix('\'') {
        // Quoted: '' is an escaped quote.
        let mut name = String::new();
        let mut chars = rest.char_indices().peekable();
        while let Some((i, ch)) = chars.next() {
            if ch == '\'' {
                if matches!(chars.peek(), Some((_, '\''))) {
                    chars.next();
                    name.push('\'');
                    continue;
                }
                let after = &rest[i + 1..];
                let area = after.strip_prefix('!').ok_or_else(err)?;
                if name.is_empty() {
                    return Err(err());
                }
                return Ok((Some(name), area));
            }
            name.push(ch);
        }
        Err(err())
    } else if let Some((sheet, area)) = text.rsplit_once('!') {
        if sheet.is_empty()
            || sheet.contains(['\'', '[', ']', '*', '?', '/', '\\', ':', ' '])
            || looks_like_reference(sheet)
        {
            return Err(err());
        }
        Ok((Some(sheet.to_string()), area))
    } else {
        Ok((None, text))
    }
}

/// Quotes a sheet name where Excel would (`'My Sheet'`, `'2024'`, `'It''s'`).
pub fn quote_sheet_name(name: &str) -> Cow<'_, str> {
    let plain = !name.is_empty()
        && name.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.')
        && !name.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && !looks_like_reference(name);
    if plain {
        Cow::Borrowed(name)
    } else {
        Cow::Owned(format!("'{}'", name.replace('\'', "''")))
    }
}

fn looks_like_reference(name: &str) -> bool {
    // Without a digit only `R`, `C` and `RC` (R1C1 forms) can be references: skip the parsers.
    if !name.bytes().any(|b| b.is_ascii_digit()) && name.len() > 2 {
        return false;
    }
    matches!(parse_a1_part(name), Some(Part::Cell(_)))
        || name.eq_ignore_ascii_case("r")
        || name.eq_ignore_ascii_case("c")
        || parse_r1c1_part(name, (0, 0), name).ok().flatten().is_some()
}

/// `0 -> "A"`, `25 -> "Z"`, `26 -> "AA"`.
pub fn column_name(col: u32) -> String {
    let mut out = String::with_capacity(3);
    push_column_name(&mut out, col);
    out
}

/// Appends the column's letters to `out`.
pub fn push_column_name(out: &mut String, col: u32) {
    let mut letters = [0u8; 8];
    let mut start = letters.len();
    let mut n = col + 1;
    while n > 0 && start > 0 {
        start -= 1;
        letters[start] = b'A' + ((n - 1) % 26) as u8;
        n = (n - 1) / 26;
    }
    out.extend(letters[start..].iter().map(|&b| char::from(b)));
}

/// `"A" -> 0`, `"xfd" -> 16383`; `None` when not letters or beyond 3 letters.
pub fn column_index(letters: &str) -> Option<u32> {
    if letters.is_empty() || letters.len() > 3 {
        return None;
    }
    let mut n: u32 = 0;
    for b in letters.bytes() {
        if !b.is_ascii_alphabetic() {
            return None;
        }
        n = n * 26 + u32::from(b.to_ascii_uppercase() - b'A' + 1);
    }
    Some(n - 1)
}

/// Formats a 0-based cell as `A1`.
pub fn cell_name(row: u32, col: u32) -> String {
    format!("{}{}", column_name(col), row + 1)
}

/// Parses a plain `A1` cell reference (as in `<c r="...">`), 0-based, no `$`.
pub fn parse_cell_name(text: &str) -> Option<(u32, u32)> {
    match parse_a1_part(text)? {
        Part::Cell(c) if c.row < MAX_ROWS && c.col < MAX_COLS => Some((c.row, c.col)),
        _ => None,
    }
}

enum Part {
    Cell(CellRef),
    Col(u32, bool),
    Row(u32, bool),
}

fn parse_a1_part(text: &str) -> Option<Part> {
    let b = text.as_bytes();
    let mut i = 0;
    let col_abs = b.first() == Some(&b'$');
    if col_abs {
        i += 1;
    }
    let letters_start = i;
    while i < b.len() && b[i].is_ascii_alphabetic() {
        i += 1;
    }
    let letters = &text[letters_start..i];
    let row_abs = b.get(i) == Some(&b'$');
    if row_abs {
        i += 1;
    }
    let digits = &text[i..];
    if !digits.is_empty() && !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    match (letters.is_empty(), digits.is_empty()) {
        (false, false) => {
            let col = column_index(letters)?;
            let row = parse_row_number(digits)?;
            Some(Part::Cell(CellRef { row, col, row_abs, col_abs }))
        }
        (false, true) if !row_abs => Some(Part::Col(column_index(letters)?, col_abs)),
        (true, false) => {
            // `$3` is a row; a lone `$` before letters was consumed as col_abs.
            let abs = col_abs || row_abs;
            if col_abs && row_abs {
                return None;
            }
            Some(Part::Row(parse_row_number(digits)?, abs))
        }
        _ => None,
    }
}

fn parse_row_number(digits: &str) -> Option<u32> {
    if digits.len() > 9 {
        // Still a syntactically valid number: report it as out of range via u32::MAX.
        return Some(u32::MAX);
    }
    let n: u32 = digits.parse().ok()?;
    if n == 0 {
        return None;
    }
    Some(n - 1)
}

fn check_cell(text: &str, c: &CellRef) -> Result<(), AddressError> {
    if c.row >= MAX_ROWS || c.col >= MAX_COLS {
        Err(AddressError::OutOfBounds(text.to_string()))
    } else {
        Ok(())
    }
}

fn order_abs(a: CellRef, b: CellRef) -> [bool; 4] {
    let (ra, rb) = if a.row <= b.row { (a.row_abs, b.row_abs) } else { (b.row_abs, a.row_abs) };
    let (ca, cb) = if a.col <= b.col { (a.col_abs, b.col_abs) } else { (b.col_abs, a.col_abs) };
    [ra, ca, rb, cb]
}

#[derive(Clone, Copy)]
enum R1c1 {
    Cell(CellRef),
    Row(u32, bool),
    Col(u32, bool),
}

/// One side of an R1C1 area. `Ok(None)` is a syntax error; `Err` is out of bounds.
fn parse_r1c1_part(part: &str, base: (u32, u32), whole: &str) -> Result<Option<R1c1>, AddressError> {
    let upper = part.to_ascii_uppercase();
    let bytes = upper.as_bytes();
    let mut i = 0;
    let mut row = None;
    let mut col = None;
    if bytes.first() == Some(&b'R') {
        i += 1;
        let (v, used) = match r1c1_index(&upper[i..], base.0, MAX_ROWS, whole)? {
            Some(x) => x,
            None => return Ok(None),
        };
        row = Some(v);
        i += used;
    }
    if bytes.get(i) == Some(&b'C') {
        i += 1;
        let (v, used) = match r1c1_index(&upper[i..], base.1, MAX_COLS, whole)? {
            Some(x) => x,
            None => return Ok(None),
        };
        col = Some(v);
        i += used;
    }
    if i != bytes.len() {
        return Ok(None);
    }
    Ok(match (row, col) {
        (Some((r, ra)), Some((c, ca))) => Some(R1c1::Cell(CellRef { row: r, col: c, row_abs: ra, col_abs: ca })),
        (Some((r, ra)), None) => Some(R1c1::Row(r, ra)),
        (None, Some((c, ca))) => Some(R1c1::Col(c, ca)),
        (None, None) => None,
    })
}

/// After `R` or `C`: `5` (absolute), `[-2]` (relative) or nothing (same as base).
#[allow(clippy::type_complexity)]
fn r1c1_index(s: &str, base: u32, limit: u32, whole: &str) -> Result<Option<((u32, bool), usize)>, AddressError> {
    let oob = || AddressError::OutOfBounds(whole.to_string());
    if let Some(rest) = s.strip_prefix('[') {
        let Some(end) = rest.find(']') else { return Ok(None) };
        let Ok(delta) = rest[..end].parse::<i64>() else { return Ok(None) };
        let v = i64::from(base) + delta;
        if v < 0 || v >= i64::from(limit) {
            return Err(oob());
        }
        return Ok(Some(((v as u32, false), end + 2)));
    }
    let digits = s.bytes().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return Ok(Some(((base, false), 0)));
    }
    let n: u64 = s[..digits].parse().map_err(|_| oob())?;
    if n == 0 {
        return Ok(None);
    }
    if n > u64::from(limit) {
        return Err(oob());
    }
    Ok(Some((((n - 1) as u32, true), digits)))
}

/// Whether two areas share a cell.
pub(crate) fn intersects(a: &Area, b: &Area) -> bool {
    a.first_row <= b.last_row && b.first_row <= a.last_row && a.first_col <= b.last_col && b.first_col <= a.last_col
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_common_forms() {
        let a = Area::parse_a1("$A$1:B2").unwrap();
        assert_eq!((a.first_row, a.first_col, a.last_row, a.last_col), (0, 0, 1, 1));
        assert_eq!(a.abs, [true, true, false, false]);
        assert_eq!(a.to_a1(), "$A$1:B2");

        let c = Area::parse_a1("A:A").unwrap();
        assert_eq!(c.kind, AreaKind::Columns);
        assert_eq!(c.cell_count(), u64::from(MAX_ROWS));

        let r = Area::parse_a1("3:5").unwrap();
        assert_eq!((r.first_row, r.last_row, r.kind), (2, 4, AreaKind::Rows));
        assert_eq!(r.to_a1(), "3:5");

        let s = SheetArea::parse("'My Sheet'!A:A").unwrap();
        assert_eq!(s.sheet.as_deref(), Some("My Sheet"));
        assert_eq!(s.to_a1(), "'My Sheet'!A:A");

        let q = SheetArea::parse("'It''s'!B3").unwrap();
        assert_eq!(q.sheet.as_deref(), Some("It's"));
        assert_eq!(q.to_a1(), "'It''s'!B3");

        assert_eq!(SheetArea::parse("Sheet1!xfd1048576").unwrap().to_a1(), "Sheet1!XFD1048576");
        // Reversed corners are normalised, as Excel does.
        assert_eq!(Area::parse_a1("B2:A1").unwrap().to_a1(), "A1:B2");
    }

    #[test]
    fn enforces_excel_limits() {
        assert!(matches!(Area::parse_a1("A1048577"), Err(AddressError::OutOfBounds(_))));
        assert!(matches!(Area::parse_a1("XFE1"), Err(AddressError::OutOfBounds(_))));
        assert!(matches!(Area::parse_a1("1:1048577"), Err(AddressError::OutOfBounds(_))));
        assert!(matches!(Area::parse_a1("A99999999999"), Err(AddressError::OutOfBounds(_))));
        assert!(matches!(Area::parse_a1("AAAA1"), Err(AddressError::Syntax(_))));
        for bad in ["", "A0", "1A", "A1:", ":A1", "A1:3", "A:1", "$$A1", "A1!B2", "'x!A1", "A-1", "A1:B2:C3"] {
            assert!(SheetArea::parse(bad).is_err(), "{bad} should fail");
        }
    }

    #[test]
    fn r1c1_relative_and_absolute() {
        let base = (4, 2); // C5
        let a = Area::parse_r1c1("R[-1]C[1]", base).unwrap();
        assert_eq!((a.first_row, a.first_col), (3, 3));
        assert_eq!(a.to_a1(), "D4");
        let b = Area::parse_r1c1("R1C1:R2C3", base).unwrap();
        assert_eq!(b.to_a1(), "$A$1:$C$2");
        assert_eq!(b.to_r1c1(base), "R1C1:R2C3");
        assert_eq!(Area::parse_r1c1("RC", base).unwrap().to_a1(), "C5");
        let rows = Area::parse_r1c1("R2:R4", base).unwrap();
        assert_eq!(rows.to_a1(), "$2:$4");
        assert!(matches!(Area::parse_r1c1("R[-10]C", base), Err(AddressError::OutOfBounds(_))));
        assert!(Area::parse_r1c1("X1", base).is_err());
    }

    #[test]
    fn column_names() {
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(25), "Z");
        assert_eq!(column_name(26), "AA");
        assert_eq!(column_name(MAX_COLS - 1), "XFD");
        assert_eq!(column_index("XFD"), Some(MAX_COLS - 1));
    }

    fn arb_area() -> impl Strategy<Value = Area> {
        let cells = (0..MAX_ROWS, 0..MAX_COLS, 0..MAX_ROWS, 0..MAX_COLS, any::<[bool; 4]>()).prop_map(
            |(r1, c1, r2, c2, abs)| {
                let mut a = Area::cells(r1, c1, r2, c2);
                a.abs = abs;
                a
            },
        );
        let cols = (0..MAX_COLS, 0..MAX_COLS, any::<(bool, bool)>()).prop_map(|(c1, c2, (x, y))| Area {
            first_row: 0,
            first_col: c1.min(c2),
            last_row: MAX_ROWS - 1,
            last_col: c1.max(c2),
            kind: AreaKind::Columns,
            abs: [false, x, false, y],
        });
        let rows = (0..MAX_ROWS, 0..MAX_ROWS, any::<(bool, bool)>()).prop_map(|(r1, r2, (x, y))| Area {
            first_row: r1.min(r2),
            first_col: 0,
            last_row: r1.max(r2),
            last_col: MAX_COLS - 1,
            kind: AreaKind::Rows,
            abs: [x, false, y, false],
        });
        prop_oneof![cells, cols, rows]
    }

    /// Single cells carry only their first-corner markers.
    fn canonical(mut a: Area) -> Area {
        if a.kind == AreaKind::Cells && a.is_single_cell() {
            a.abs[2] = a.abs[0];
            a.abs[3] = a.abs[1];
        }
        a
    }

    proptest! {
        #[test]
        fn a1_round_trip(a in arb_area()) {
            let a = canonical(a);
            prop_assert_eq!(canonical(Area::parse_a1(&a.to_a1()).unwrap()), a);
        }

        #[test]
        fn r1c1_round_trip(a in arb_area(), br in 0..MAX_ROWS, bc in 0..MAX_COLS) {
            let a = canonical(a);
            let text = a.to_r1c1((br, bc));
            let back = canonical(Area::parse_r1c1(&text, (br, bc)).unwrap());
            prop_assert_eq!(back, a, "{}", text);
        }

        #[test]
        fn sheet_names_round_trip(name in "[A-Za-z0-9 '_.()-]{1,31}", a in arb_area()) {
            prop_assume!(!name.starts_with('\'') && !name.ends_with('\''));
            let a = canonical(a);
            let sa = SheetArea { sheet: Some(name), area: a };
            let back = SheetArea::parse(&sa.to_a1()).unwrap();
            prop_assert_eq!(back.sheet, sa.sheet);
            prop_assert_eq!(canonical(back.area), a);
        }

        #[test]
        fn parser_never_panics(s in "\\PC{0,40}") {
            let _ = SheetArea::parse(&s);
            let _ = Area::parse_r1c1(&s, (0, 0));
        }
    }
}

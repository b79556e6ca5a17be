//! What the API needs from a package, parsed: sheets, names, strings, styles, tables, cells.
//! Everything else stays in the package untouched.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use crate::address::{parse_cell_name, Area, MAX_COLS, MAX_ROWS};
use crate::error::{BookError, Result};
use crate::formula;
use crate::ooxml::cellscan::{scan_cell, CellChildren, ScannedCell};
use crate::ooxml::package::Package;
use crate::ooxml::xml::{attr, attr_bool, attr_cow, attrs_cow, decode_x_escapes, local, rel_id, Ev, XmlReader};
use crate::value::{ErrorKind, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Visibility {
    Visible,
    Hidden,
    VeryHidden,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SheetKind {
    Worksheet,
    Chartsheet,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CalcMode {
    Automatic,
    AutomaticNoTables,
    Manual,
}

#[derive(Debug, Clone)]
pub struct DefinedName {
    pub name: String,
    /// Index into the workbook's sheet list for sheet-scoped names.
    pub local_sheet: Option<usize>,
    /// The formula without a leading `=`.
    pub formula: String,
    pub hidden: bool,
    pub comment: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub id: u32,
    pub name: String,
    pub display_name: String,
    pub area: Area,
    pub header_rows: u32,
    pub totals_rows: u32,
    pub columns: Vec<String>,
    /// Each column's `id` attribute, beside `columns`.
    pub column_ids: Vec<u32>,
    /// Each column's total-row definition (`totalsRowLabel`, `totalsRowFunction`), beside
    /// `columns`: what a total row shown again holds.
    pub totals: Vec<ColumnTotal>,
    /// Each column's calculated-column formula (without `=`), beside `columns`: what a row
    /// added to the table gets in that column.
    pub calculated: Vec<Option<String>>,
    pub part: String,
    pub style: TableStyle,
}

/// What a column's cell in the total row holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnTotal {
    pub label: Option<String>,
    pub function: Option<String>,
}

/// A table's `tableStyleInfo`, and whether it has an autoFilter (its filter buttons).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableStyle {
    pub name: Option<String>,
    pub show_first_column: bool,
    pub show_last_column: bool,
    pub show_row_stripes: bool,
    pub show_column_stripes: bool,
    pub auto_filter: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FormulaKind {
    Normal,
    /// A shared formula group member; `master` holds the text in the file.
    Shared {
        si: u32,
        master: bool,
    },
    /// Anchor of a legacy (CSE) or dynamic array formula.
    Array {
        area: Area,
        dynamic: bool,
    },
    /// `TABLE()` what-if data tables: kept as cached values, never recalculated.
    DataTable,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// The constant, or the formula's cached / computed result.
    pub value: Value,
    /// The formula text without `=`; for shared-formula followers, expanded to their position.
    pub formula: Option<String>,
    pub kind: FormulaKind,
    /// Index into cellXfs.
    pub style: u32,
}

/// Counts of the sheet features the loss guard watches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeatureCounts(pub BTreeMap<&'static str, usize>);

pub const GUARDED_ELEMENTS: [&str; 10] = [
    "dataValidation",
    "conditionalFormatting",
    "tablePart",
    "drawing",
    "legacyDrawing",
    "legacyDrawingHF",
    "hyperlink",
    "mergeCell",
    "sheetProtection",
    "extLst",
];

#[derive(Debug, Clone)]
pub struct Sheet {
    pub name: String,
    pub sheet_id: u32,
    pub rel_id: String,
    pub part: String,
    pub visibility: Visibility,
    pub kind: SheetKind,
    pub cells: BTreeMap<(u32, u32), Cell>,
    pub merges: Vec<Area>,
    pub tables: Vec<Table>,
    pub features: FeatureCounts,
    /// Hidden rows (0-based, ascending), as SUBTOTAL and AGGREGATE need them.
    pub hidden_rows: Vec<u32>,
    /// Hidden columns (0-based, ascending).
    pub hidden_cols: Vec<u32>,
    /// The sheet's autoFilter range: hidden rows inside it count as filtered out.
    pub auto_filter: Option<Area>,
}

#[derive(Debug, Clone, Default)]
pub struct Styles {
    /// Custom number formats by id.
    pub num_fmts: HashMap<u32, String>,
    /// numFmtId of each cellXfs entry.
    pub xf_num_fmt: Vec<u32>,
}

impl Styles {
    /// The format code a style index shows its values with.
    /// The number format a cell style shows: a built-in one (most cells: General) costs nothing.
    pub fn format_code(&self, style: u32) -> Cow<'static, str> {
        let id = self.xf_num_fmt.get(style as usize).copied().unwrap_or(0);
        self.code_for_id(id)
    }

    pub fn code_for_id(&self, id: u32) -> Cow<'static, str> {
        if let Some(code) = self.num_fmts.get(&id) {
            return Cow::Owned(code.clone());
        }
        Cow::Borrowed(crate::numfmt::builtin_format(id).unwrap_or("General"))
    }
}

#[derive(Debug, Clone)]
pub struct BookModel {
    pub workbook_part: String,
    pub sheets: Vec<Sheet>,
    pub names: Vec<DefinedName>,
    pub shared_strings: Vec<String>,
    pub shared_strings_part: Option<String>,
    pub styles: Styles,
    pub styles_part: Option<String>,
    pub date1904: bool,
    pub calc_mode: CalcMode,
    pub full_calc_on_load: bool,
    pub strict: bool,
}

impl BookModel {
    pub fn parse(pkg: &Package) -> Result<BookModel> {
        let workbook_part = pkg.workbook_part()?;
        let wb_xml = pkg.read(&workbook_part)?.ok_or_else(|| BookError::MissingPart(workbook_part.clone()))?;
        let strict = contains(&wb_xml, crate::ooxml::consts::MAIN_NS_STRICT.as_bytes());
        let rels = pkg.rels(&workbook_part)?;
        let mut model = BookModel {
            workbook_part: workbook_part.clone(),
            sheets: Vec::new(),
            names: Vec::new(),
            shared_strings: Vec::new(),
            shared_strings_part: None,
            styles: Styles::default(),
            styles_part: None,
            date1904: false,
            calc_mode: CalcMode::Automatic,
            full_calc_on_load: false,
            strict,
        };
        parse_workbook_xml(&wb_xml, &workbook_part, &mut model)?;

        for rel in &rels {
            if rel.external {
                continue;
            }
            if rel.rel_type.ends_with("/sharedStrings") {
                if let Some(data) = pkg.read(&rel.target)? {
                    model.shared_strings = parse_shared_strings(&data, &rel.target)?;
                    model.shared_strings_part = pkg.entry(&rel.target).map(|e| e.name.clone());
                }
            } else if rel.rel_type.ends_with("/styles") {
                if let Some(data) = pkg.read(&rel.target)? {
                    model.styles = parse_styles(&data, &rel.target)?;
                    model.styles_part = pkg.entry(&rel.target).map(|e| e.name.clone());
                }
            }
        }

        let mut total_cells: u64 = 0;
        for sheet in &mut model.sheets {
            let Some(rel) = rels.iter().find(|r| r.id == sheet.rel_id) else {
                return Err(BookError::MissingPart(format!("relationship {} of sheet '{}'", sheet.rel_id, sheet.name)));
            };
            sheet.kind = if rel.rel_type.ends_with("/worksheet") {
                SheetKind::Worksheet
            } else if rel.rel_type.ends_with("/chartsheet") {
                SheetKind::Chartsheet
            } else {
                SheetKind::Other
            };
            let Some(entry) = pkg.entry(&rel.target) else {
                return Err(BookError::MissingPart(rel.target.clone()));
            };
            sheet.part = entry.name.clone();
            if sheet.kind != SheetKind::Worksheet {
                continue;
            }
            let data = pkg.read(&sheet.part)?.unwrap_or_default();
            let parsed = parse_sheet_xml(
                &data,
                &sheet.part,
                &model.shared_strings,
                pkg.limits().max_cells - total_cells.min(pkg.limits().max_cells),
            )?;
            total_cells += parsed.cells.len() as u64;
            sheet.cells = parsed.cells;
            sheet.merges = parsed.merges;
            sheet.features = parsed.features;
            sheet.hidden_rows = parsed.hidden_rows;
            sheet.hidden_cols = parsed.hidden_cols;
            sheet.auto_filter = parsed.auto_filter;
            let sheet_rels = pkg.rels(&sheet.part)?;
            for rid in parsed.table_rel_ids {
                let Some(trel) = sheet_rels.iter().find(|r| r.id == rid && !r.external) else { continue };
                let Some(tentry) = pkg.entry(&trel.target) else {
                    return Err(BookError::MissingPart(trel.target.clone()));
                };
                let tdata = pkg.read(&tentry.name)?.unwrap_or_default();
                // A table part that cannot be read (an empty `ref`, seen from some writers) is
                // kept in the package as it is, but not modelled.
                if let Ok(table) = parse_table(&tdata, &tentry.name) {
                    sheet.tables.push(table);
                }
            }
        }
        Ok(model)
    }

    pub fn sheet_index(&self, name: &str) -> Option<usize> {
        self.sheets.iter().position(|s| s.name.eq_ignore_ascii_case(name))
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn parse_workbook_xml(data: &[u8], part: &str, model: &mut BookModel) -> Result<()> {
    let mut r = XmlReader::new(data, part);
    loop {
        match r.next()? {
            Ev::Start(e) | Ev::Empty(e) if local(&e) == b"sheet" => {
                let name = attr(&e, b"name").ok_or_else(|| r.err("sheet without a name"))?;
                let visibility = match attr(&e, b"state").as_deref() {
                    Some("hidden") => Visibility::Hidden,
                    Some("veryHidden") => Visibility::VeryHidden,
                    _ => Visibility::Visible,
                };
                model.sheets.push(Sheet {
                    name,
                    sheet_id: attr(&e, b"sheetId").and_then(|v| v.parse().ok()).unwrap_or(0),
                    rel_id: rel_id(&e).unwrap_or_default(),
                    part: String::new(),
                    visibility,
                    kind: SheetKind::Worksheet,
                    cells: BTreeMap::new(),
                    merges: Vec::new(),
                    hidden_rows: Vec::new(),
                    hidden_cols: Vec::new(),
                    auto_filter: None,
                    tables: Vec::new(),
                    features: FeatureCounts::default(),
                });
            }
            Ev::Start(e) if local(&e) == b"definedName" => {
                let name = attr(&e, b"name").unwrap_or_default();
                let local_sheet = attr(&e, b"localSheetId").and_then(|v| v.parse().ok());
                let hidden = attr_bool(&e, b"hidden").unwrap_or(false);
                let comment = attr(&e, b"comment");
                let formula = r.text_content()?;
                model.names.push(DefinedName { name, local_sheet, formula, hidden, comment });
            }
            Ev::Start(e) | Ev::Empty(e) if local(&e) == b"workbookPr" => {
                model.date1904 = attr_bool(&e, b"date1904").unwrap_or(false);
            }
            Ev::Start(e) | Ev::Empty(e) if local(&e) == b"calcPr" => {
                model.calc_mode = match attr(&e, b"calcMode").as_deref() {
                    Some("manual") => CalcMode::Manual,
                    Some("autoNoTable") => CalcMode::AutomaticNoTables,
                    _ => CalcMode::Automatic,
                };
                model.full_calc_on_load = attr_bool(&e, b"fullCalcOnLoad").unwrap_or(false);
            }
            Ev::Eof => return Ok(()),
            _ => {}
        }
    }
}

/// Text of an `<si>` or `<is>` element: its `<t>` runs, without phonetic (`<rPh>`) runs.
fn rich_text(r: &mut XmlReader<'_>) -> Result<String> {
    let end_depth = r.depth() - 1;
    let mut out = String::new();
    let mut in_t = false;
    let mut skip_depth: Option<usize> = None;
    loop {
        match r.next()? {
            Ev::Start(e) => {
                let l = local(&e);
                if skip_depth.is_none() && (l == b"rPh" || l == b"phoneticPr") {
                    skip_depth = Some(r.depth() - 1);
                } else if l == b"t" {
                    in_t = true;
                }
            }
            Ev::Text(t) if in_t && skip_depth.is_none() => out.push_str(&t),
            Ev::End => {
                if r.depth() == end_depth {
                    return Ok(decode_x_escapes(&out).into_owned());
                }
                if skip_depth == Some(r.depth()) {
                    skip_depth = None;
                }
                in_t = false;
            }
            Ev::Eof => return Err(r.err("unexpected end of part")),
            _ => {}
        }
    }
}

pub fn parse_shared_strings(data: &[u8], part: &str) -> Result<Vec<String>> {
    let mut r = XmlReader::new(data, part);
    let mut out = Vec::new();
    loop {
        match r.next()? {
            Ev::Start(e) if local(&e) == b"si" => out.push(rich_text(&mut r)?),
            Ev::Empty(e) if local(&e) == b"si" => out.push(String::new()),
            Ev::Eof => return Ok(out),
            _ => {}
        }
    }
}

pub fn parse_styles(data: &[u8], part: &str) -> Result<Styles> {
    let mut r = XmlReader::new(data, part);
    let mut styles = Styles::default();
    let mut in_cell_xfs = false;
    let mut xfs_depth = 0;
    loop {
        match r.next()? {
            Ev::Start(e) | Ev::Empty(e) if local(&e) == b"numFmt" => {
                if let (Some(id), Some(code)) =
                    (attr(&e, b"numFmtId").and_then(|v| v.parse().ok()), attr(&e, b"formatCode"))
                {
                    styles.num_fmts.insert(id, code);
                }
            }
            Ev::Start(e) if local(&e) == b"cellXfs" => {
                in_cell_xfs = true;
                xfs_depth = r.depth();
            }
            Ev::Start(e) | Ev::Empty(e) if in_cell_xfs && local(&e) == b"xf" => {
                styles.xf_num_fmt.push(attr(&e, b"numFmtId").and_then(|v| v.parse().ok()).unwrap_or(0));
            }
            Ev::End if in_cell_xfs && r.depth() < xfs_depth => in_cell_xfs = false,
            Ev::Eof => return Ok(styles),
            _ => {}
        }
    }
}

pub fn parse_table(data: &[u8], part: &str) -> Result<Table> {
    let mut r = XmlReader::new(data, part);
    let mut table: Option<Table> = None;
    loop {
        match r.next()? {
            // The root `<table>`; an extension's `<x14:table>` further down is not another one.
            Ev::Start(e) | Ev::Empty(e) if local(&e) == b"table" && table.is_none() => {
                let area_text = attr(&e, b"ref").unwrap_or_default();
                let area = Area::parse_a1(&area_text).map_err(|_| r.err(format!("bad table ref '{area_text}'")))?;
                let name = attr(&e, b"name").unwrap_or_default();
                table = Some(Table {
                    id: attr(&e, b"id").and_then(|v| v.parse().ok()).unwrap_or(0),
                    display_name: attr(&e, b"displayName").unwrap_or_else(|| name.clone()),
                    name,
                    area,
                    header_rows: attr(&e, b"headerRowCount").and_then(|v| v.parse().ok()).unwrap_or(1),
                    totals_rows: attr(&e, b"totalsRowCount").and_then(|v| v.parse().ok()).unwrap_or(0),
                    columns: Vec::new(),
                    column_ids: Vec::new(),
                    totals: Vec::new(),
                    calculated: Vec::new(),
                    part: part.to_string(),
                    style: TableStyle::default(),
                });
            }
            Ev::Start(e) | Ev::Empty(e) if local(&e) == b"tableColumn" => {
                if let Some(t) = table.as_mut() {
                    t.columns.push(decode_x_escapes(&attr(&e, b"name").unwrap_or_default()).into_owned());
                    let id = attr(&e, b"id").and_then(|v| v.parse().ok()).unwrap_or(t.columns.len() as u32);
                    t.column_ids.push(id);
                    t.totals.push(ColumnTotal {
                        label: attr(&e, b"totalsRowLabel").map(|v| decode_x_escapes(&v).into_owned()),
                        function: attr(&e, b"totalsRowFunction"),
                    });
                    t.calculated.push(None);
                }
            }
            // Array formulas are not filled into new rows (Excel does not make them calculated).
            Ev::Start(e) if local(&e) == b"calculatedColumnFormula" && !attr_bool(&e, b"array").unwrap_or(false) => {
                let text = r.text_content()?;
                if let Some(slot) = table.as_mut().and_then(|t| t.calculated.last_mut()) {
                    *slot = Some(text.trim_start_matches('=').to_string());
                }
            }
            Ev::Start(e) | Ev::Empty(e) if local(&e) == b"tableStyleInfo" && r.depth() <= 2 => {
                if let Some(t) = table.as_mut() {
                    let flag = |key: &[u8]| attr_bool(&e, key).unwrap_or(false);
                    t.style.name = attr(&e, b"name");
                    t.style.show_first_column = flag(b"showFirstColumn");
                    t.style.show_last_column = flag(b"showLastColumn");
                    t.style.show_row_stripes = flag(b"showRowStripes");
                    t.style.show_column_stripes = flag(b"showColumnStripes");
                }
            }
            Ev::Start(e) | Ev::Empty(e) if local(&e) == b"autoFilter" && r.depth() <= 2 => {
                if let Some(t) = table.as_mut() {
                    t.style.auto_filter = true;
                }
            }
            Ev::Eof => return table.ok_or_else(|| BookError::corrupt(part, "no <table> element")),
            _ => {}
        }
    }
}

#[derive(Debug, PartialEq)]
pub struct ParsedSheet {
    pub hidden_cols: Vec<u32>,
    pub cells: BTreeMap<(u32, u32), Cell>,
    pub merges: Vec<Area>,
    pub table_rel_ids: Vec<String>,
    pub features: FeatureCounts,
    pub hidden_rows: Vec<u32>,
    pub auto_filter: Option<Area>,
}

/// Reads the children of a `<c>` whose start tag was just read, up to its end tag.
fn read_cell_children<'a>(r: &mut XmlReader<'a>) -> Result<CellChildren<'a>> {
    let mut out = CellChildren::default();
    let end_depth = r.depth() - 1;
    loop {
        match r.next()? {
            Ev::Start(ce) => match local(&ce) {
                b"v" => out.value = Some(r.text_content_cow()?),
                b"is" => out.inline = Some(rich_text(r)?),
                b"f" => {
                    let attrs = (attr(&ce, b"t"), attr(&ce, b"ref"), attr(&ce, b"si"));
                    out.formula = Some((attrs, r.text_content()?));
                }
                _ => r.skip()?,
            },
            Ev::Empty(ce) if local(&ce) == b"f" => {
                out.formula = Some(((attr(&ce, b"t"), attr(&ce, b"ref"), attr(&ce, b"si")), String::new()));
            }
            Ev::End if r.depth() == end_depth => return Ok(out),
            Ev::Eof => return Err(r.err("unexpected end of part")),
            _ => {}
        }
    }
}

/// The indices a list of inclusive spans covers, ascending and once each.
pub(crate) fn spans_to_indices(mut spans: Vec<(u32, u32)>) -> Vec<u32> {
    spans.sort_unstable();
    let mut out: Vec<u32> = Vec::new();
    for (lo, hi) in spans {
        let from = out.last().map_or(lo, |&l| lo.max(l + 1));
        out.extend(from..=hi);
    }
    out
}

/// Reads a worksheet part. `max_cells` bounds memory on hostile or oversize sheets.
pub fn parse_sheet_xml(data: &[u8], part: &str, sst: &[String], max_cells: u64) -> Result<ParsedSheet> {
    read_sheet(data, part, sst, max_cells, true)
}

/// `scan_cells` false reads every cell with the XML reader (tests compare the two ways).
fn read_sheet(data: &[u8], part: &str, sst: &[String], max_cells: u64, scan_cells: bool) -> Result<ParsedSheet> {
    let mut r = XmlReader::new(data, part);
    let mut cells = SheetCells { sst, max_cells, ..SheetCells::default() };
    let mut merges = Vec::new();
    let mut table_rel_ids = Vec::new();
    let mut features = FeatureCounts::default();
    let mut hidden_rows = Vec::new();
    // (first, last) 0-based: a hostile sheet may repeat wide ranges, merged once at the end.
    let mut hidden_col_spans: Vec<(u32, u32)> = Vec::new();
    let mut auto_filter = None;

    loop {
        // Most cells are read here without the XML reader; the rest fall through to it.
        if let Some((len, cell)) = r.rest().filter(|_| scan_cells).and_then(scan_cell) {
            r.consume(len);
            cells.add(&r, cell)?;
            continue;
        }
        let ev = r.next()?;
        let (e, empty) = match ev {
            Ev::Start(e) => (e, false),
            Ev::Empty(e) => (e, true),
            Ev::Eof => break,
            _ => continue,
        };
        let name = local(&e);
        // `c` and `row` are most of a sheet and never guarded.
        if name != b"c" && name != b"row" {
            if let Some(key) = GUARDED_ELEMENTS.iter().find(|k| k.as_bytes() == name) {
                *features.0.entry(key).or_default() += 1;
            }
        }
        match name {
            b"row" => {
                let row = match attr_cow(&e, b"r").and_then(|v| v.parse::<u32>().ok()) {
                    Some(n) if (1..=MAX_ROWS).contains(&n) => n - 1,
                    Some(_) => return Err(r.err("row number outside the sheet")),
                    None => cells.next_row,
                };
                cells.start_row(row);
                if attr_cow(&e, b"hidden").is_some_and(|v| v == "1" || v == "true") {
                    hidden_rows.push(row);
                }
            }
            b"col" if attr_cow(&e, b"hidden").is_some_and(|v| v == "1" || v == "true") => {
                let bound = |k: &[u8]| {
                    attr_cow(&e, k).and_then(|v| v.parse::<u32>().ok()).filter(|n| (1..=MAX_COLS).contains(n))
                };
                if let (Some(lo), Some(hi)) = (bound(b"min"), bound(b"max")) {
                    hidden_col_spans.push((lo - 1, hi.max(lo) - 1));
                }
            }
            // The sheet's own filter (a custom view's copy comes later, inside `customSheetView`).
            b"autoFilter" if auto_filter.is_none() => {
                auto_filter = attr_cow(&e, b"ref").and_then(|a| Area::parse_a1(&a).ok());
            }
            b"c" => {
                let [cell_ref, t, s, cm] = attrs_cow(&e, [b"r", b"t", b"s", b"cm"]);
                let children = if empty { CellChildren::default() } else { read_cell_children(&mut r)? };
                let cell = ScannedCell {
                    cell_ref: cell_ref.as_deref(),
                    t: t.as_deref(),
                    s: s.as_deref(),
                    cm: cm.is_some(),
                    children,
                };
                cells.add(&r, cell)?;
            }
            b"mergeCell" => {
                if let Some(a) = attr(&e, b"ref").and_then(|a| Area::parse_a1(&a).ok()) {
                    merges.push(a);
                }
            }
            b"tablePart" => {
                if let Some(id) = rel_id(&e) {
                    table_rel_ids.push(id);
                }
            }
            _ => {}
        }
    }
    let cells = cells.finish();
    let hidden_cols = spans_to_indices(hidden_col_spans);
    Ok(ParsedSheet { hidden_cols, cells, merges, table_rel_ids, features, hidden_rows, auto_filter })
}

/// The cells of a sheet as they are read, and what reading them needs to remember.
#[derive(Default)]
struct SheetCells<'s> {
    sst: &'s [String],
    max_cells: u64,
    /// Collected in document order and built into the map in one go at the end: cells almost
    /// always come sorted, and a bulk build of sorted keys is far cheaper than a million inserts.
    cells: Vec<((u32, u32), Cell)>,
    shared_masters: HashMap<u32, (u32, u32, String)>,
    pending_followers: Vec<(u32, u32, u32)>,
    row: u32,
    next_row: u32,
    next_col: u32,
}

impl SheetCells<'_> {
    fn start_row(&mut self, row: u32) {
        self.row = row;
        self.next_row = row + 1;
        self.next_col = 0;
    }

    fn add(&mut self, r: &XmlReader<'_>, cell: ScannedCell<'_>) -> Result<()> {
        // A missing or unreadable `r` (some writers put "0") means the next cell.
        let (crow, ccol) = cell.cell_ref.and_then(parse_cell_name).unwrap_or((self.row, self.next_col));
        if ccol >= MAX_COLS {
            return Err(r.err("cell outside the sheet"));
        }
        self.next_col = ccol + 1;
        let style = cell.s.and_then(|v| v.parse().ok()).unwrap_or(0);
        let children = cell.children;
        let value = cell_value(cell.t, children.value, children.inline, self.sst).map_err(|m| r.err(m))?;
        let mut formula = None;
        let mut kind = FormulaKind::Normal;
        if let Some(((ft, fref, si), text)) = children.formula {
            match ft.as_deref() {
                Some("shared") => {
                    let si: u32 = si.and_then(|v| v.parse().ok()).ok_or_else(|| r.err("shared formula without si"))?;
                    if !text.is_empty() {
                        self.shared_masters.insert(si, (crow, ccol, text.clone()));
                        formula = Some(text);
                        kind = FormulaKind::Shared { si, master: true };
                    } else {
                        self.pending_followers.push((crow, ccol, si));
                        kind = FormulaKind::Shared { si, master: false };
                    }
                }
                Some("array") => {
                    let area =
                        fref.as_deref().and_then(|a| Area::parse_a1(a).ok()).unwrap_or_else(|| Area::cell(crow, ccol));
                    kind = FormulaKind::Array { area, dynamic: cell.cm };
                    formula = Some(text);
                }
                Some("dataTable") => kind = FormulaKind::DataTable,
                _ => {
                    // `<f ca="1"/>` with no text marks spill members in some writers: no formula.
                    if !text.is_empty() {
                        formula = Some(text);
                    }
                }
            }
        }
        if value.is_empty() && formula.is_none() && !matches!(kind, FormulaKind::Shared { .. }) && style == 0 {
            return Ok(());
        }
        if self.cells.len() as u64 >= self.max_cells {
            return Err(BookError::TooLarge(format!("more than {} cells", self.max_cells)));
        }
        self.cells.push(((crow, ccol), Cell { value, formula, kind, style }));
        Ok(())
    }

    fn finish(self) -> BTreeMap<(u32, u32), Cell> {
        // A later cell with the same address replaces an earlier one, as inserting would.
        let mut cells: BTreeMap<(u32, u32), Cell> = self.cells.into_iter().collect();
        for (crow, ccol, si) in self.pending_followers {
            if let Some((mr, mc, text)) = self.shared_masters.get(&si) {
                let shifted = formula::shift(text, i64::from(crow) - i64::from(*mr), i64::from(ccol) - i64::from(*mc));
                if let Some(c) = cells.get_mut(&(crow, ccol)) {
                    c.formula = Some(shifted);
                }
            }
        }
        cells
    }
}

fn cell_value(
    t: Option<&str>,
    v: Option<Cow<'_, str>>,
    inline: Option<String>,
    sst: &[String],
) -> std::result::Result<Value, String> {
    Ok(match t {
        Some("s") => match v {
            Some(v) => {
                let idx: usize = v.trim().parse().map_err(|_| format!("bad shared string index '{v}'"))?;
                Value::Text(sst.get(idx).cloned().ok_or_else(|| format!("shared string {idx} does not exist"))?)
            }
            None => Value::Empty,
        },
        Some("inlineStr") => Value::Text(inline.or(v.map(Cow::into_owned)).unwrap_or_default()),
        Some("str") => Value::Text(decode_x_escapes(&v.unwrap_or_default()).into_owned()),
        Some("b") => match v.as_deref().map(str::trim) {
            Some("1") | Some("true") => Value::Bool(true),
            Some(_) => Value::Bool(false),
            None => Value::Empty,
        },
        Some("e") => match v {
            Some(v) => Value::Error(ErrorKind::parse(&v).unwrap_or(ErrorKind::Value)),
            None => Value::Empty,
        },
        Some("d") => match v {
            Some(v) => crate::numfmt::iso_to_serial(v.trim()).map(Value::Number).unwrap_or(Value::Text(v.into_owned())),
            None => Value::Empty,
        },
        _ => match v {
            Some(v) if !v.trim().is_empty() => {
                let n: f64 = v.trim().parse().map_err(|_| format!("bad number '{v}'"))?;
                Value::Number(n)
            }
            _ => match inline {
                Some(s) => Value::Text(s),
                None => Value::Empty,
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::{parse_table, FormulaKind, Value};

    #[test]
    fn a_table_extension_is_not_a_second_table() {
        let xml = format!(
            r#"<table xmlns="{NS}" id="1" name="T" displayName="T" ref="A1:B3"><tableColumns count="2"><tableColumn id="1" name="a"/><tableColumn id="2" name="b"/></tableColumns><extLst><ext uri="x"><x14:table xmlns:x14="urn:x14" altText="t"/></ext></extLst></table>"#
        );
        let t = parse_table(xml.as_bytes(), "t.xml").unwrap();
        assert_eq!(t.columns, ["a", "b"]);
        assert_eq!(t.area.last_row, 2);
    }

    const NS: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";

    #[test]
    fn cells_read_alike_with_and_without_the_cell_scanner() {
        // Shapes the scanner reads and shapes it leaves to the XML reader, side by side.
        let xml = format!(
            r#"<?xml version="1.0"?>
<worksheet xmlns="{NS}" xmlns:x="{NS}"><sheetData>
  <row r="1" hidden="1">
    <c r="A1"><v>1.5</v></c> <c r="B1" s="2" t="s"><v>1</v></c><c r="C1" t="str"><f>"a"&amp;"&lt;b"</f><v>a&lt;b</v></c>
    <c r="D1" t="inlineStr"><is><t>in</t><r><t>line</t></r></is></c><c r="E1" t="b"><v>1</v></c><c r="F1" t="e"><v>#N/A</v></c>
    <c s="3"/><c r="H1"><!-- note --><v>7</v></c><x:c r="I1"><x:v>8</x:v></x:c><c r="J1"><v>&#57;</v></c>
  </row>
  <row r="2"><c r="A2"><f t="shared" ref="A2:A4" si="0">B2*2</f><v>0</v></c><c r="B2"><f>SUM(A1:F1)</f></c></row>
  <row r="3"><c r="A3"><f t="shared" si="0"/><v>0</v></c><c r="B3" cm="1"><f t="array" ref="B3:B4">SEQUENCE(2)</f><v>1</v></c></row>
  <row><c><f t="shared" si="0"/><v>0</v></c><c r="B4"><v><![CDATA[2]]></v></c></row>
  <row r="5"><c r="A5"><v>1</v></c><c r="A5"><v>2</v></c></row>
</sheetData><mergeCells count="1"><mergeCell ref="A6:B6"/></mergeCells></worksheet>"#
        );
        let sst = vec!["zero".to_string(), "one".to_string()];
        let scanned = super::read_sheet(xml.as_bytes(), "s.xml", &sst, 100, true).unwrap();
        let read = super::read_sheet(xml.as_bytes(), "s.xml", &sst, 100, false).unwrap();
        assert_eq!(scanned, read);
        let value = |r, c| scanned.cells.get(&(r, c)).map(|c| c.value.clone());
        let formula = |r, c| scanned.cells.get(&(r, c)).and_then(|c| c.formula.clone());
        assert_eq!(value(0, 0), Some(Value::Number(1.5)));
        assert_eq!(value(0, 1), Some(Value::Text("one".into())));
        assert_eq!(formula(0, 2).as_deref(), Some(r#""a"&"<b""#));
        assert_eq!(value(0, 3), Some(Value::Text("inline".into())));
        assert_eq!(value(0, 7), Some(Value::Number(7.0)));
        assert_eq!(value(0, 8), Some(Value::Number(8.0)));
        assert_eq!(value(0, 9), Some(Value::Number(9.0)));
        assert_eq!(formula(3, 0).as_deref(), Some("B4*2"));
        assert_eq!(value(3, 1), Some(Value::Number(2.0)));
        assert_eq!(value(4, 0), Some(Value::Number(2.0)), "a repeated address keeps the later cell");
        assert!(matches!(scanned.cells[&(2, 1)].kind, FormulaKind::Array { dynamic: true, .. }));
        assert_eq!(scanned.hidden_rows, [0]);
        assert_eq!(scanned.merges.len(), 1);
        // Errors name the same place either way.
        let bad = format!(
            r#"<worksheet xmlns="{NS}"><sheetData><row r="1"><c r="A1"><v>1</v></c><c r="B1" t="s"><v>9</v></c></row></sheetData></worksheet>"#
        );
        let a = super::read_sheet(bad.as_bytes(), "s.xml", &sst, 100, true).unwrap_err().to_string();
        let b = super::read_sheet(bad.as_bytes(), "s.xml", &sst, 100, false).unwrap_err().to_string();
        assert!(a.contains("shared string 9 does not exist"), "{a}");
        assert_eq!(a.split(" (at byte").next(), b.split(" (at byte").next());
    }
}

//! What edits changed since the package was opened or last saved. The save reads this to know
//! which parts to patch; every other part it copies byte for byte.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::model::BookModel;

/// A new cell format: the style it was derived from and the number format it shows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct NewXf {
    pub base: u32,
    pub num_fmt_id: u32,
}

/// A table taken out of the model, whose part the save removes.
#[derive(Debug, Clone)]
pub(crate) struct RemovedTable {
    /// The part of the sheet that held it.
    pub sheet_part: String,
    pub part: String,
}

#[derive(Debug)]
pub(crate) struct Changes {
    /// Insertions and deletions, in order: the save applies them to the parts.
    pub pending_changes: Vec<crate::shift::Change>,
    /// The sheet names in the order workbook.xml lists them in the package (what a defined
    /// name's `localSheetId` counts).
    pub pkg_sheet_names: Vec<String>,
    /// The relationship ids of those sheets, in the same order: how a sheet is known across
    /// renames, moves and deletions.
    pub pkg_sheet_rel_ids: Vec<String>,
    /// Sheets deleted: their parts go at the save.
    pub deleted_sheets: Vec<crate::model::Sheet>,
    /// Table parts whose extent changed other than by a shift: their `ref` is written anew.
    pub tables_changed: BTreeSet<String>,
    /// Sheets whose merged cells changed: their `<mergeCells>` is written anew.
    pub merges_changed: BTreeSet<usize>,
    /// Defined names were added or changed: workbook.xml's `<definedNames>` is written anew.
    pub names_changed: bool,
    /// Tables removed (deleted or converted to a range): their parts go at the save.
    pub removed_tables: Vec<RemovedTable>,
    /// Columns renamed or deleted, per table part, in order: the formulas the table part keeps
    /// follow them at the save.
    pub column_fates: BTreeMap<String, Vec<crate::structured::ColumnFate>>,
    /// Tables added: their parts are written at the save.
    pub added_tables: BTreeSet<String>,
    /// Sheets whose hidden rows or columns changed: their rows and `<cols>` follow at the save.
    pub hidden_changed: BTreeSet<usize>,
    /// Table parts given a total row: their first and last columns get its label and function.
    pub totals_added: BTreeSet<String>,
    /// Cells whose content or style an edit changed: (sheet index, row, col).
    pub touched: BTreeSet<(usize, u32, u32)>,
    /// A formula was added, removed or changed: calcChain goes, full-calc-on-load is set.
    pub formulas_changed: bool,
    /// Sheets were added, or a sheet's name, place or visibility changed: workbook.xml's
    /// `<sheets>` is written anew (with the new parts' relationships and content types).
    pub sheets_changed: bool,
    /// Shared-formula groups whose master cell an edit replaced: (sheet index, si).
    pub broken_shared: BTreeSet<(usize, u32)>,
    /// Strings appended to the shared string table.
    pub new_strings: Vec<String>,
    sst_index: Option<HashMap<String, u32>>,
    pub new_num_fmts: Vec<(u32, String)>,
    pub new_xfs: Vec<NewXf>,
    /// The cell formats the package has; new ones are numbered from here.
    pub base_xf_count: u32,
}

impl Changes {
    /// Nothing changed yet in a package just read into `model`.
    pub fn new(model: &BookModel) -> Changes {
        Changes {
            pending_changes: Vec::new(),
            pkg_sheet_names: model.sheets.iter().map(|s| s.name.clone()).collect(),
            pkg_sheet_rel_ids: model.sheets.iter().map(|s| s.rel_id.clone()).collect(),
            deleted_sheets: Vec::new(),
            tables_changed: BTreeSet::new(),
            merges_changed: BTreeSet::new(),
            names_changed: false,
            removed_tables: Vec::new(),
            column_fates: BTreeMap::new(),
            added_tables: BTreeSet::new(),
            hidden_changed: BTreeSet::new(),
            totals_added: BTreeSet::new(),
            touched: BTreeSet::new(),
            formulas_changed: false,
            sheets_changed: false,
            broken_shared: BTreeSet::new(),
            new_strings: Vec::new(),
            sst_index: None,
            new_num_fmts: Vec::new(),
            new_xfs: Vec::new(),
            base_xf_count: model.styles.xf_num_fmt.len() as u32,
        }
    }

    /// After a save, the saved package is the base: nothing is pending against it. (The
    /// strings stay: the saved table holds them, at the indices handed out.)
    pub fn saved(&mut self, model: &BookModel) {
        let strings = std::mem::take(&mut self.new_strings);
        let index = self.sst_index.take();
        *self = Changes::new(model);
        self.new_strings = strings;
        self.sst_index = index;
    }

    /// Index of a string in the shared string table (`existing` followed by the new strings),
    /// appending it if new.
    pub fn shared_string(&mut self, existing: &[String], s: &str) -> u32 {
        let base = existing.len() as u32;
        let index = self.sst_index.get_or_insert_with(|| {
            let mut m = HashMap::new();
            for (i, s) in existing.iter().enumerate() {
                m.entry(s.clone()).or_insert(i as u32);
            }
            m
        });
        if let Some(&i) = index.get(s) {
            return i;
        }
        let i = base + self.new_strings.len() as u32;
        index.insert(s.to_string(), i);
        self.new_strings.push(s.to_string());
        i
    }
}

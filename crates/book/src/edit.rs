//! Edits as journal records: versioned, serialisable, replayable on the original package.

use serde::{Deserialize, Serialize};

use crate::error::{BookError, Result};

/// The journal record format this build writes. Older versions are upgraded on read.
pub const RECORD_VERSION: u32 = 1;

/// What a user put into one cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", content = "v", rename_all = "camelCase")]
pub enum CellInput {
    /// Clears the value and formula (Graph: an empty string).
    Empty,
    Number(f64),
    Text(String),
    Bool(bool),
    /// Formula text without the leading `=`.
    Formula(String),
}

/// Sets values / formulas / number formats over a rectangle. `None` entries leave the cell as it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetCells {
    pub sheet: String,
    pub row: u32,
    pub col: u32,
    pub rows: u32,
    pub cols: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<Vec<Vec<Option<CellInput>>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_formats: Option<Vec<Vec<Option<String>>>>,
}

/// Clears cells of a rectangle, 0-based and inclusive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClearCells {
    pub sheet: String,
    pub first_row: u32,
    pub first_col: u32,
    pub last_row: u32,
    pub last_col: u32,
    pub contents: bool,
    pub formats: bool,
}

/// One edit. Structural edits (insert/delete ranges, sheets, tables, names) join here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase")]
pub enum Edit {
    SetCells(SetCells),
    /// Clears a rectangle (Graph's range clear): contents (values and formulas), formats (the
    /// cells' styles back to the default), or both.
    ClearCells(ClearCells),
    /// Adds an empty worksheet after the last sheet (Graph's worksheets/add).
    AddSheet {
        name: String,
    },
    /// Shows or hides a worksheet.
    SetSheetVisibility {
        sheet: String,
        visibility: crate::model::Visibility,
    },
    /// Inserts or deletes cells, moving the cells after them and every reference to them
    /// (Graph's range insert and delete).
    ShiftCells(crate::shift::Shift),
    /// Inserts `count` rows into a table at data row `index` (at the end when `None`), cells
    /// below moving down within the table's columns, then writes `inputs` into them (Graph's
    /// table rows add).
    AddTableRows {
        table: String,
        index: Option<u32>,
        count: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        inputs: Option<Vec<Vec<Option<CellInput>>>>,
    },
    /// Deletes `count` data rows of a table from data row `index`, cells below moving up.
    DeleteTableRows {
        table: String,
        index: u32,
        count: u32,
    },
    /// Renames, moves (to the `position`-th worksheet) or shows/hides a worksheet; references to
    /// a renamed sheet follow (Graph's worksheet update).
    UpdateSheet {
        sheet: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        position: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        visibility: Option<crate::model::Visibility>,
    },
    /// Merges the cells of an area, in A1 style (each row on its own when `across`).
    Merge {
        sheet: String,
        area: String,
        across: bool,
    },
    /// Unmerges the merged cells meeting an area, in A1 style.
    Unmerge {
        sheet: String,
        area: String,
    },
    /// Takes a table away: converted to a range (`keep_cells`; formulas naming it are rewritten
    /// to plain references) or deleted (its cells cleared).
    RemoveTable {
        table: String,
        keep_cells: bool,
    },
    /// Renames a table (formulas naming it follow) or changes its style.
    UpdateTable {
        table: String,
        #[serde(flatten)]
        update: TableUpdate,
    },
    /// Adds a defined name, to the workbook or to a worksheet's scope.
    AddName {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sheet: Option<String>,
        formula: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
    },
    /// Shows or hides a defined name, sets its comment.
    UpdateName {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sheet: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        visible: Option<bool>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
    },
    /// Makes a table of an area, in A1 style (Graph's tables add). Without `has_headers` a
    /// header row is inserted above the area.
    AddTable {
        sheet: String,
        area: String,
        has_headers: bool,
    },
    /// Adds a table column at `index` (at the end when `None`), named `name`, filled with
    /// `values` (one per row of the table, header first).
    AddTableColumn {
        table: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        index: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        values: Option<Vec<Option<CellInput>>>,
    },
    /// Deletes a table column, by name or id; formulas naming it get `#REF!`.
    DeleteTableColumn {
        table: String,
        column: String,
    },
    /// Hides or shows whole rows (or columns) `first..=last`, 0-based (Graph's `rowHidden` and
    /// `columnHidden`).
    SetHidden {
        sheet: String,
        axis: crate::shift::Axis,
        first: u32,
        last: u32,
        hidden: bool,
    },
    /// Deletes a worksheet; references to it become `#REF!`.
    DeleteSheet {
        sheet: String,
    },
    /// Recalculates (Graph's application/calculate); recorded so that replay gives the same book.
    Calculate {
        full: bool,
    },
    /// Edits of one request applied in order as one record: a crash or a timeout keeps all of
    /// them or none (a range PATCH of values and `rowHidden`).
    Several {
        edits: Vec<Edit>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub version: u32,
    pub seq: u64,
    pub edit: Edit,
}

impl Record {
    pub fn new(seq: u64, edit: Edit) -> Record {
        Record { version: RECORD_VERSION, seq, edit }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Record> {
        #[derive(Deserialize)]
        struct Head {
            version: u32,
        }
        let head: Head =
            serde_json::from_slice(bytes).map_err(|e| BookError::InvalidEdit(format!("journal record: {e}")))?;
        if head.version > RECORD_VERSION || head.version == 0 {
            return Err(BookError::RecordVersion(head.version));
        }
        serde_json::from_slice(bytes).map_err(|e| BookError::InvalidEdit(format!("journal record: {e}")))
    }
}

impl SetCells {
    pub fn validate(&self) -> Result<()> {
        let shape_ok = |rows: usize, mut cols: std::vec::IntoIter<usize>| {
            rows == self.rows as usize && cols.all(|c| c == self.cols as usize)
        };
        if let Some(inputs) = &self.inputs {
            if !shape_ok(inputs.len(), inputs.iter().map(Vec::len).collect::<Vec<_>>().into_iter()) {
                return Err(BookError::InvalidEdit(format!("values must be {} x {}", self.rows, self.cols)));
            }
        }
        if let Some(formats) = &self.number_formats {
            if !shape_ok(formats.len(), formats.iter().map(Vec::len).collect::<Vec<_>>().into_iter()) {
                return Err(BookError::InvalidEdit(format!("number formats must be {} x {}", self.rows, self.cols)));
            }
        }
        if self.rows == 0 || self.cols == 0 {
            return Err(BookError::InvalidEdit("empty rectangle".into()));
        }
        let last_row = u64::from(self.row) + u64::from(self.rows);
        let last_col = u64::from(self.col) + u64::from(self.cols);
        if last_row > u64::from(crate::address::MAX_ROWS) || last_col > u64::from(crate::address::MAX_COLS) {
            return Err(BookError::InvalidEdit("rectangle outside the sheet".into()));
        }
        Ok(())
    }
}

/// What a table update changes; `None` leaves it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TableUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_column: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_column: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_stripes: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column_stripes: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_headers: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_totals: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_filter_button: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structural_records_round_trip() {
        let edits = [
            Edit::ShiftCells(crate::shift::Shift {
                sheet: "S".into(),
                axis: crate::shift::Axis::Cols,
                at: 2,
                count: 3,
                insert: false,
                band: (0, 9),
            }),
            Edit::AddTableRows { table: "T".into(), index: None, count: 1, inputs: Some(vec![vec![None]]) },
            Edit::DeleteTableRows { table: "T".into(), index: 0, count: 1 },
            Edit::UpdateSheet { sheet: "S".into(), name: Some("N".into()), position: Some(1), visibility: None },
            Edit::DeleteSheet { sheet: "S".into() },
            Edit::Merge { sheet: "S".into(), area: "A1:B2".into(), across: true },
            Edit::Unmerge { sheet: "S".into(), area: "A1".into() },
            Edit::RemoveTable { table: "T".into(), keep_cells: true },
            Edit::UpdateTable {
                table: "T".into(),
                update: TableUpdate { name: Some("U".into()), row_stripes: Some(false), ..Default::default() },
            },
            Edit::AddName { name: "N".into(), sheet: None, formula: "S!$A$1".into(), comment: Some("c".into()) },
            Edit::UpdateName { name: "N".into(), sheet: Some("S".into()), visible: Some(false), comment: None },
            Edit::AddTable { sheet: "S".into(), area: "A1:C4".into(), has_headers: false },
            Edit::AddTableColumn {
                table: "T".into(),
                index: Some(1),
                name: None,
                values: Some(vec![Some(CellInput::Text("H".into())), None]),
            },
            Edit::DeleteTableColumn { table: "T".into(), column: "2".into() },
            Edit::SetHidden { sheet: "S".into(), axis: crate::shift::Axis::Rows, first: 1, last: 3, hidden: true },
            Edit::Several { edits: vec![Edit::DeleteSheet { sheet: "S".into() }, Edit::Calculate { full: false }] },
        ];
        for (i, edit) in edits.into_iter().enumerate() {
            let r = Record::new(i as u64 + 1, edit);
            assert_eq!(Record::from_bytes(&r.to_bytes()).unwrap(), r);
        }
    }

    #[test]
    fn records_round_trip_and_refuse_future_versions() {
        let r = Record::new(
            7,
            Edit::SetCells(SetCells {
                sheet: "Sheet1".into(),
                row: 0,
                col: 0,
                rows: 1,
                cols: 3,
                inputs: Some(vec![vec![Some(CellInput::Number(1.5)), None, Some(CellInput::Formula("A1*2".into()))]]),
                number_formats: None,
            }),
        );
        let bytes = r.to_bytes();
        assert_eq!(Record::from_bytes(&bytes).unwrap(), r);
        let future = String::from_utf8(bytes).unwrap().replace("\"version\":1", "\"version\":99");
        assert_eq!(Record::from_bytes(future.as_bytes()), Err(BookError::RecordVersion(99)));
        assert!(Record::from_bytes(b"{not json").is_err());
    }
}

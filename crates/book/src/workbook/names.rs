//! Defined names added and updated (Graph's named items). Their rules and their XML are in
//! `defined_names`.

use super::Workbook;
use crate::defined_names::check_name_text;
use crate::error::{BookError, Result};
use crate::model::DefinedName;

impl Workbook {
    /// Adds a name, to the workbook or (with `sheet`) to a worksheet's scope. `formula` is a
    /// reference, a constant or a formula, with or without the leading `=`.
    pub(crate) fn add_name(
        &mut self,
        name: &str,
        sheet: Option<&str>,
        formula: &str,
        comment: Option<&str>,
    ) -> Result<()> {
        check_name_text(name)?;
        let local_sheet = match sheet {
            Some(s) => Some(self.sheet_idx(s)?),
            None => None,
        };
        if self.model.names.iter().any(|n| n.local_sheet == local_sheet && n.name.eq_ignore_ascii_case(name)) {
            return Err(BookError::NameExists(name.to_string()));
        }
        let formula = formula.trim();
        let formula = formula.strip_prefix('=').unwrap_or(formula).to_string();
        if formula.is_empty() {
            return Err(BookError::InvalidEdit("a name refers to something".into()));
        }
        if formualizer_parse::parser::parse(format!("={formula}")).is_err() {
            return Err(BookError::InvalidEdit(format!("'{formula}' is not a formula Excel reads")));
        }
        self.model.names.push(DefinedName {
            name: name.to_string(),
            local_sheet,
            formula,
            hidden: false,
            comment: comment.map(str::to_string).filter(|c| !c.is_empty()),
        });
        self.changes.names_changed = true;
        self.reload_engine()
    }

    /// Shows or hides a name and sets its comment.
    pub(crate) fn update_name(
        &mut self,
        name: &str,
        sheet: Option<&str>,
        visible: Option<bool>,
        comment: Option<&str>,
    ) -> Result<()> {
        let local_sheet = match sheet {
            Some(s) => Some(self.sheet_idx(s)?),
            None => None,
        };
        let Some(n) =
            self.model.names.iter_mut().find(|n| n.local_sheet == local_sheet && n.name.eq_ignore_ascii_case(name))
        else {
            return Err(BookError::NoSuchName(name.to_string()));
        };
        if let Some(v) = visible {
            n.hidden = !v;
        }
        if let Some(c) = comment {
            n.comment = Some(c.to_string()).filter(|c| !c.is_empty());
        }
        self.changes.names_changed = true;
        Ok(())
    }
}

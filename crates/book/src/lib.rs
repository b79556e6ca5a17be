//! The document core of workbookd: open, edit, recalculate and save real .xlsx files without
//! losing anything. No HTTP, no async runtime, no storage: bytes in, bytes out.
//!
//! Authority is the original package plus a journal of [`edit::Record`]s. Saving patches the
//! package ([`Workbook::save`]); parts the edits did not touch are copied byte for byte.

pub mod address;
mod changes;
pub mod defined_names;
pub mod edit;
pub mod engine;
pub mod error;
pub mod fail_point;
pub mod formula;
pub mod functions;
#[doc(hidden)]
pub mod fuzz_checks;
pub mod legacy;
pub mod model;
pub mod numfmt;
pub mod ooxml;
pub mod r1c1;
pub mod save;
pub mod shift;
pub mod structured;
pub mod value;
mod workbook;

pub use address::{Area, SheetArea};
pub use edit::{CellInput, ClearCells, Edit, Record, SetCells};
pub use error::{BookError, Result};
pub use ooxml::package::Limits;
pub use shift::{Axis, Shift};
pub use value::{ErrorKind, Value};
pub use workbook::{CellView, Workbook};

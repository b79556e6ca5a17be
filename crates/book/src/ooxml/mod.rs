//! The OOXML package at the byte level: the zip package, a hardened XML reader, the fast cell
//! scanner, and the rewriters that change a part in place and keep every byte they have no
//! reason to change (a shift of cells, hidden rows and columns, table parts, merged cells).
//! Nothing here knows the workbook model's operations; `model` reads through it and `save`
//! patches through it.

pub(crate) mod cellscan;
pub mod consts;
pub(crate) mod hidden;
pub mod package;
pub(crate) mod shift;
pub(crate) mod xml;

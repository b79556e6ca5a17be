//! The one error type of the document core. Every failure on user input ends here, typed.

use crate::address::AddressError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BookError {
    /// The bytes are not a zip package at all.
    #[error("not an .xlsx package: {0}")]
    NotAPackage(String),
    /// A password-protected workbook (an OLE2 container or encrypted zip entries).
    #[error("the workbook is encrypted")]
    Encrypted,
    /// Limits exceeded on purpose by the input: zip bombs, entity bombs, oversize sheets.
    #[error("refused: {0}")]
    Hostile(String),
    /// A limit of this server, not necessarily hostile input.
    #[error("too large: {0}")]
    TooLarge(String),
    /// A part is damaged: bad CRC, malformed XML, impossible values.
    #[error("damaged part {part}: {detail}")]
    Corrupt { part: String, detail: String },
    /// A part the workbook cannot do without is missing.
    #[error("missing part: {0}")]
    MissingPart(String),
    #[error(transparent)]
    Address(#[from] AddressError),
    #[error("no sheet named '{0}'")]
    NoSuchSheet(String),
    /// A sheet of that name exists (names compare without case).
    #[error("a sheet named '{0}' exists")]
    SheetExists(String),
    /// A defined name of that name exists in the scope (names compare without case).
    #[error("a name '{0}' exists")]
    NameExists(String),
    #[error("no name '{0}'")]
    NoSuchName(String),
    /// An edit that is not valid (wrong shape, part of an array, ...).
    #[error("invalid edit: {0}")]
    InvalidEdit(String),
    /// Inserting or deleting cells that Excel refuses, or that would need parts rewritten that
    /// are not modelled (charts, drawings, pivot tables).
    #[error("cannot insert or delete here: {0}")]
    StructureConflict(String),
    /// The save would have lost something no edit removed; nothing was written.
    #[error("save refused, it would lose: {0}")]
    LossDetected(String),
    /// The journal record has a format version this build does not know.
    #[error("unsupported journal record version {0}")]
    RecordVersion(u32),
    #[error("engine: {0}")]
    Engine(String),
}

impl BookError {
    pub fn corrupt(part: &str, detail: impl Into<String>) -> Self {
        BookError::Corrupt { part: part.to_string(), detail: detail.into() }
    }
}

pub type Result<T, E = BookError> = std::result::Result<T, E>;

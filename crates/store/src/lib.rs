//! Drive storage: drives, items (folders and files), content versions and the journal of edits
//! made to a file since its content was last written.
//!
//! A file's content is a *generation*: the bytes last uploaded or checkpointed, plus the journal
//! records appended since. Appending a record is durable when it returns. A checkpoint replaces
//! the bytes with a saved workbook that includes the journal, and starts an empty journal; the
//! item's eTag and cTag do not change at a checkpoint, since what the file says did not change.
//!
//! Two implementations share one test suite ([`suite`]): [`LocalStore`] (SQLite for metadata, files
//! for content and journals, the embedded default) and [`MemoryStore`].

mod journal;
mod local;
mod memory;
pub mod suite;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

pub use local::LocalStore;
pub use memory::MemoryStore;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("item not found")]
    NotFound,
    /// A child of that name exists and the caller asked not to replace it.
    #[error("an item named '{0}' already exists")]
    NameExists(String),
    /// The parent is a file, or a folder was asked to take content.
    #[error("{0}")]
    Invalid(String),
    /// The content changed under the caller (another generation is current).
    #[error("the content changed (generation {current} is current)")]
    GenerationChanged { current: u64 },
    #[error("storage: {0}")]
    Io(String),
    /// The disk (or the user's quota on it) is full: nothing was written.
    #[error("storage full: {0}")]
    Full(String),
}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        // ENOSPC and EDQUOT: the disk or the quota is full.
        if e.kind() == std::io::ErrorKind::StorageFull || matches!(e.raw_os_error(), Some(28 | 122)) {
            return StoreError::Full(e.to_string());
        }
        StoreError::Io(e.to_string())
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) {
            return StoreError::Full(format!("sqlite: {e}"));
        }
        StoreError::Io(format!("sqlite: {e}"))
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A drive: one per user (created on first use), or one per site or group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drive {
    pub id: String,
    /// Who the drive belongs to: `user:{id}`, `site:{id}` or `group:{id}`.
    pub owner: String,
    pub root_id: String,
}

/// A folder or a file, with the revisions its eTag and cTag are made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub id: String,
    pub drive_id: String,
    /// `None` for a drive's root folder.
    pub parent_id: Option<String>,
    pub name: String,
    pub is_folder: bool,
    /// Bytes of the current content generation (the journal is not counted until a checkpoint).
    pub size: u64,
    /// Milliseconds since the Unix epoch.
    pub created_ms: i64,
    pub modified_ms: i64,
    /// The item's GUID in its eTag and cTag.
    pub tag_guid: String,
    /// Bumped on every change to the item (metadata or content); journal records count.
    pub meta_rev: u64,
    /// Bumped on every change to the content; journal records count.
    pub content_rev: u64,
    /// The content generation the journal belongs to.
    pub generation: u64,
    /// Records in the journal of the current generation.
    pub journal_len: u64,
}

impl Item {
    /// `"{GUID},N"`, changing with every change to the item.
    pub fn etag(&self) -> String {
        format!("\"{{{}}},{}\"", self.tag_guid, self.meta_rev + self.journal_len)
    }

    /// `"c:{GUID},N"`, changing with every change to the content.
    pub fn ctag(&self) -> String {
        format!("\"c:{{{}}},{}\"", self.tag_guid, self.content_rev + self.journal_len)
    }
}

/// What to do when an upload names an existing file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    Fail,
    Replace,
    Rename,
}

/// A file's content generation: the base bytes and the journal records appended to them.
#[derive(Debug, Clone)]
pub struct Content {
    pub generation: u64,
    pub bytes: Arc<[u8]>,
    pub journal: Vec<Vec<u8>>,
}

/// Storage behind the drive API. Calls block (file and database I/O); async callers run them on
/// blocking threads. Every mutating call is durable when it returns.
pub trait DriveStore: Send + Sync + 'static {
    /// The drive of an owner, created with its root folder on first use.
    fn drive_for_owner(&self, owner: &str) -> Result<Drive>;
    fn drive(&self, drive_id: &str) -> Result<Option<Drive>>;
    /// Every drive, in no particular order (for the emulator's state view).
    fn drives(&self) -> Result<Vec<Drive>>;
    /// Drops every drive, item, content generation and journal: an empty store, as at first start.
    fn reset(&self) -> Result<()>;
    fn item(&self, item_id: &str) -> Result<Option<Item>>;
    /// The child of a folder with this name, compared case-insensitively as OneDrive does.
    fn child(&self, parent_id: &str, name: &str) -> Result<Option<Item>>;
    /// Children of a folder, folders first, then by name.
    fn children(&self, parent_id: &str) -> Result<Vec<Item>>;
    /// The folder named `name` under the parent, created if missing.
    fn ensure_folder(&self, parent_id: &str, name: &str) -> Result<Item>;
    /// Creates a file, or gives an existing one new content, as `conflict` says. Returns the item
    /// and whether it was created.
    fn put_file(&self, parent_id: &str, name: &str, bytes: &[u8], conflict: Conflict) -> Result<(Item, bool)>;
    /// New content for an existing file: a new generation with an empty journal.
    fn replace_content(&self, item_id: &str, bytes: &[u8]) -> Result<Item>;
    /// Deletes an item and, for a folder, everything below it. A drive's root cannot be deleted.
    fn delete(&self, item_id: &str) -> Result<()>;
    /// The current content generation of a file.
    fn content(&self, item_id: &str) -> Result<Content>;
    /// Appends one edit record to the journal of `generation`; durable when it returns.
    fn append_journal(&self, item_id: &str, generation: u64, record: &[u8]) -> Result<Item>;
    /// Replaces the content of `generation` with `bytes`, which hold every journal record, and
    /// starts an empty journal. eTag and cTag are unchanged.
    fn checkpoint(&self, item_id: &str, generation: u64, bytes: &[u8]) -> Result<Item>;
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// OneDrive-style item ids: `01` followed by 32 characters of base32 randomness.
pub(crate) fn new_item_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let bits = uuid::Uuid::new_v4().as_u128() ^ (uuid::Uuid::new_v4().as_u128() << 7);
    let mut id = String::from("01");
    for i in 0..32 {
        id.push(ALPHABET[((bits >> (i * 4)) & 31) as usize] as char);
    }
    id
}

/// A new item at its first revision and generation, both stores alike.
pub(crate) fn new_item(drive_id: &str, parent: Option<&str>, name: &str, is_folder: bool, size: u64) -> Item {
    let now = now_ms();
    Item {
        id: new_item_id(),
        drive_id: drive_id.to_string(),
        parent_id: parent.map(str::to_string),
        name: name.to_string(),
        is_folder,
        size,
        created_ms: now,
        modified_ms: now,
        tag_guid: new_guid(),
        meta_rev: 1,
        content_rev: 1,
        generation: 1,
        journal_len: 0,
    }
}

pub(crate) fn new_drive_id() -> String {
    format!("b!{}", uuid::Uuid::new_v4().simple())
}

pub(crate) fn new_guid() -> String {
    uuid::Uuid::new_v4().hyphenated().to_string().to_uppercase()
}

/// The longest path OneDrive takes, in characters, from the drive's root to the item, its own
/// name included.
pub const MAX_PATH_CHARS: usize = 400;

/// Checks a name for an item as OneDrive does: not empty, none of `" * : < > ? / \ |` or
/// control characters, no leading or trailing blanks, no trailing period, and none of the
/// reserved names (`.lock`, `CON`, `PRN`, `AUX`, `NUL`, `COM0`–`COM9`, `LPT0`–`LPT9`, with or
/// without an extension; `desktop.ini`; names holding `_vti_` or starting with `~$`).
pub fn valid_name(name: &str) -> Result<()> {
    let refuse = |why: &str| Err(StoreError::Invalid(format!("'{name}' is not a valid item name: {why}.")));
    if name.is_empty() || name == "." || name == ".." {
        return refuse("it is empty");
    }
    if name.chars().count() > 255 {
        return refuse("it is longer than 255 characters");
    }
    if name.starts_with(char::is_whitespace) || name.ends_with(char::is_whitespace) {
        return refuse("it starts or ends with a blank");
    }
    if name.ends_with('.') {
        return refuse("it ends with a period");
    }
    if let Some(c) =
        name.chars().find(|&c| matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') || c.is_control())
    {
        return refuse(&format!("it holds '{}'", c.escape_default()));
    }
    let lower = name.to_ascii_lowercase();
    let stem = lower.split('.').next().unwrap_or("");
    let device = matches!(stem, "con" | "prn" | "aux" | "nul")
        || ((stem.starts_with("com") || stem.starts_with("lpt"))
            && stem.len() == 4
            && stem.as_bytes()[3].is_ascii_digit());
    if device || lower == ".lock" || lower == "desktop.ini" {
        return refuse("the name is reserved");
    }
    if lower.contains("_vti_") {
        return refuse("names may not hold '_vti_'");
    }
    if lower.starts_with("~$") {
        return refuse("names may not start with '~$'");
    }
    Ok(())
}

/// How names are compared: case-insensitively by the one-to-one upper-case mapping of each
/// character, as Windows and OneDrive compare them. No full Unicode folding: `ß` is not `SS`,
/// and the Kelvin sign `K` (U+212A) is not the letter `k`, so their files stay apart.
pub fn name_key(name: &str) -> String {
    name.chars()
        .map(|c| {
            let mut upper = c.to_uppercase();
            match (upper.next(), upper.next()) {
                (Some(u), None) => u,
                _ => c,
            }
        })
        .collect()
}

/// `Report.xlsx` -> `Report 1.xlsx`, `Report 2.xlsx`, … for conflictBehavior=rename.
pub(crate) fn renamed(name: &str, n: u32) -> String {
    match name.rfind('.') {
        Some(dot) if dot > 0 => format!("{} {}{}", &name[..dot], n, &name[dot..]),
        _ => format!("{name} {n}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names() {
        assert!(super::valid_name("Book 1.xlsx").is_ok());
        for bad in ["", "a/b", "a:b", "..", "x.", "tab\t"] {
            assert!(super::valid_name(bad).is_err(), "{bad}");
        }
        assert_eq!(super::renamed("Book.xlsx", 2), "Book 2.xlsx");
        assert_eq!(super::renamed("README", 1), "README 1");
        let id = super::new_item_id();
        assert_eq!(id.len(), 34);
        assert!(id.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(id, super::new_item_id());
    }
}

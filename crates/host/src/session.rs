//! Sessions and long-running operations as records.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use book::Workbook;

use crate::HostError;

/// What createSession answers: Graph's workbookSessionInfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub id: String,
    pub persist_changes: bool,
}

pub(crate) struct Session {
    pub id: String,
    pub user: String,
    pub item_id: String,
    pub persistent: bool,
    pub last_activity: Instant,
    /// What a non-persistent session sees: the file as it was when the session began.
    pub private: Option<Arc<Snapshot>>,
}

impl Session {
    pub fn new(user: &str, item_id: &str, persistent: bool, private: Option<Snapshot>) -> Session {
        Session {
            id: new_session_id(),
            user: user.to_string(),
            item_id: item_id.to_string(),
            persistent,
            last_activity: Instant::now(),
            private: private.map(Arc::new),
        }
    }
}

/// A non-persistent session's workbook. Until the session first writes, or the shared workbook
/// changes, it reads the shared workbook itself: twenty-five sessions that only read cost one
/// workbook, not twenty-six. Then it gets its own copy, opened from the content of its start.
pub(crate) struct Snapshot {
    /// The shared workbook's version when the session began.
    pub version: u64,
    /// The stored content of that version (shared by the sessions begun at it).
    pub source: Arc<store::Content>,
    own: Mutex<Option<Arc<tokio::sync::RwLock<Workbook>>>>,
}

impl Snapshot {
    pub fn new(version: u64, source: Arc<store::Content>) -> Snapshot {
        Snapshot { version, source, own: Mutex::new(None) }
    }

    /// The session's own copy, once it has one.
    pub fn own(&self) -> Option<Arc<tokio::sync::RwLock<Workbook>>> {
        self.own.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Keeps `wb` as the session's own copy, unless a concurrent call made one first.
    pub fn set_own(&self, wb: Workbook) -> Arc<tokio::sync::RwLock<Workbook>> {
        let mut own = self.own.lock().unwrap_or_else(|p| p.into_inner());
        own.get_or_insert_with(|| Arc::new(tokio::sync::RwLock::new(wb))).clone()
    }
}

/// Opaque, URL-safe, 244 bits of randomness; says nothing of the user or the file.
fn new_session_id() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EndReason {
    Closed,
    Expired,
    ContentReplaced,
    FileDeleted,
    /// An edit of the session's own copy failed part-way or panicked.
    Failed,
}

/// Graph's workbookOperationStatus, written in lower camel case on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationStatus {
    NotStarted,
    Running,
    Succeeded,
    Failed,
}

impl OperationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OperationStatus::NotStarted => "notStarted",
            OperationStatus::Running => "running",
            OperationStatus::Succeeded => "succeeded",
            OperationStatus::Failed => "failed",
        }
    }
}

/// What a finished operation made: a session (async createSession) or a resource shown as
/// JSON (an async table row add's row).
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Session(SessionInfo),
    Value(serde_json::Value),
}

/// An operation as a poll shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationView {
    pub id: String,
    pub status: OperationStatus,
    /// Set once the operation finished.
    pub result: Option<Result<Outcome, HostError>>,
}

pub(crate) struct Operation {
    pub id: String,
    pub user: String,
    pub item_id: String,
    pub status: OperationStatus,
    pub result: Option<Result<Outcome, HostError>>,
    pub created: Instant,
    pub done: Arc<tokio::sync::Notify>,
}

impl Operation {
    pub fn new(user: &str, item_id: &str) -> Operation {
        Operation {
            id: uuid::Uuid::new_v4().hyphenated().to_string(),
            user: user.to_string(),
            item_id: item_id.to_string(),
            status: OperationStatus::NotStarted,
            result: None,
            created: Instant::now(),
            done: Arc::new(tokio::sync::Notify::new()),
        }
    }

    pub fn is_finished(&self) -> bool {
        matches!(self.status, OperationStatus::Succeeded | OperationStatus::Failed)
    }

    pub fn view(&self) -> OperationView {
        OperationView { id: self.id.clone(), status: self.status, result: self.result.clone() }
    }
}

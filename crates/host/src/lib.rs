//! Live workbooks and the sessions on them. No HTTP here: the Graph face calls these functions
//! with the caller's identity and the drive item it resolved.
//!
//! - One live [`Workbook`] per file, shared by its persistent sessions and by sessionless calls.
//!   Its lock is fair (FIFO), so requests are applied one at a time in arrival order. A write is
//!   applied, then its journal record is appended and synced by the store, then acknowledged.
//! - A non-persistent session sees the workbook as it was when the session was created; nothing
//!   it does reaches the store. Until it writes, or the shared workbook changes, it reads the
//!   shared workbook itself; then it opens a private copy from the content of its start.
//! - Sessions expire after a sliding idle time. Ending a session never loses an acknowledged write:
//!   those are in the journal already.
//! - Long-running createSession is an operation record polled by the client.

mod access;
mod files;
mod live;
mod operations;
pub mod seed;
mod session;
mod sessions;
mod stats;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use book::{BookError, Edit, Limits, Record, Workbook};
use store::{Conflict, DriveStore, Item, StoreError};

use session::{EndReason, Operation, Session, Snapshot};
pub use session::{OperationStatus, OperationView, Outcome, SessionInfo};
pub use stats::{BookView, HostState, SessionView, Stats};

#[derive(Debug, Clone)]
pub struct Config {
    pub persistent_idle: Duration,
    pub nonpersistent_idle: Duration,
    /// createSession with `Prefer: respond-async` always answers 202, so clients can test polling.
    pub force_async_sessions: bool,
    /// How long an async createSession may take before it answers 202 instead of 201.
    pub async_threshold: Duration,
    pub limits: Limits,
    /// A live workbook with this many journal records is saved and its journal started anew.
    pub checkpoint_records: u64,
    /// A live workbook nobody used for this long, with no session on it, is saved and unloaded.
    pub unload_after: Duration,
    /// Most open sessions on one file (Graph caps it around 25); more: [`HostError::TooManySessions`].
    pub max_sessions_per_workbook: usize,
    /// Most workbooks kept in memory: past it, the least recently used are saved and unloaded
    /// (even with sessions on them; they are opened again on their next use).
    pub max_open_workbooks: usize,
    /// The server's memory budget in bytes (resident set): above it, workbooks are unloaded,
    /// least recently used first, and work that would load one, open a session's copy or take
    /// an upload is refused with [`HostError::Busy`] until memory is back under it.
    pub max_memory: Option<u64>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            persistent_idle: Duration::from_secs(5 * 60),
            nonpersistent_idle: Duration::from_secs(7 * 60),
            force_async_sessions: false,
            async_threshold: Duration::from_millis(500),
            limits: Limits::default(),
            checkpoint_records: 1000,
            unload_after: Duration::from_secs(60),
            max_sessions_per_workbook: 25,
            max_open_workbooks: 256,
            max_memory: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HostError {
    /// The session is unknown, expired, closed, another user's, on another file, or ended because
    /// the file's content was replaced: the client may create a new one.
    #[error("the session does not exist or has expired")]
    SessionRecreatable,
    /// The session's file was deleted.
    #[error("the session's workbook was deleted")]
    SessionFileGone,
    #[error("the item was not found")]
    ItemNotFound,
    #[error("the item is a folder, not a workbook")]
    NotAFile,
    /// The stored file is not a workbook this server can open (damaged, encrypted, hostile).
    #[error("the workbook cannot be opened: {0}")]
    Unopenable(BookError),
    /// The file has as many sessions as it may: one ends (closed or idle) in `retry_after`.
    #[error("the workbook has too many open sessions")]
    TooManySessions { retry_after: Duration },
    /// An operation id that is unknown, or another user's.
    #[error("the operation was not found")]
    OperationNotFound,
    /// Over the memory budget: try again in `retry_after`.
    #[error("the server is over its memory budget")]
    Busy { retry_after: Duration },
    /// A panic under the call (a bug here or in the calculation engine). The workbook it was
    /// changing is reloaded from its store and journal, so nothing half-applied stays live.
    #[error("an internal error occurred: {0}")]
    Internal(String),
    #[error(transparent)]
    Book(BookError),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for HostError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => HostError::ItemNotFound,
            other => HostError::Store(other),
        }
    }
}

pub type Result<T, E = HostError> = std::result::Result<T, E>;

/// The shared live workbook of a file.
struct LiveBook {
    state: Arc<tokio::sync::RwLock<BookState>>,
    last_used: Instant,
}

struct BookState {
    /// `None` after a failed write left the workbook in doubt: the next use reloads it.
    workbook: Option<Workbook>,
    generation: u64,
    /// Journal records since the last checkpoint.
    unsaved: u64,
    /// What the file says, counted: the item's content revision plus the journal records after
    /// it. A checkpoint leaves it as it is; every acknowledged edit adds one.
    version: u64,
    /// The stored content at `version`, kept for non-persistent sessions begun at that version
    /// (each one that writes opens its own copy from it).
    source: Option<(u64, Arc<store::Content>)>,
}

#[derive(Default)]
struct Registry {
    books: HashMap<String, LiveBook>,
    sessions: HashMap<String, Session>,
    /// Why recently ended sessions ended (a deleted file answers differently from expiry).
    ended: HashMap<String, (EndReason, Instant)>,
    operations: HashMap<String, Operation>,
}

pub struct Host {
    store: Arc<dyn DriveStore>,
    config: Config,
    registry: Mutex<Registry>,
    stats: Stats,
    /// The resident set at the last sample, in bytes (0 before the first).
    resident: std::sync::atomic::AtomicU64,
}

/// Which workbook a call works on.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    Sessionless,
    Session(&'a str),
}

/// What a session points at: the shared live workbook, or its private copy.
enum Handle {
    Shared(Arc<tokio::sync::RwLock<BookState>>),
    Private(Arc<tokio::sync::RwLock<Workbook>>),
    /// A non-persistent session with no copy of its own yet: the shared workbook while it is at
    /// the session's version.
    Snapshot(Arc<tokio::sync::RwLock<BookState>>, Arc<Snapshot>),
}

/// Whether a failed edit may have changed the workbook before it failed: anything but a plain
/// refusal, and any refusal part-way through several edits.
fn in_doubt_after(several: bool, e: &BookError) -> bool {
    several || !matches!(e, BookError::InvalidEdit(_) | BookError::NoSuchSheet(_) | BookError::Address(_))
}

/// Runs `f` on the blocking pool. A panic in it is an [`HostError::Internal`]: whatever `f` held
/// is dropped in the unwind, so a workbook it had taken out of its state (see `write`) is gone
/// and reloads from the store and journal on next use.
async fn blocking<R: Send + 'static>(f: impl FnOnce() -> Result<R> + Send + 'static) -> Result<R> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(e) if e.is_panic() => Err(HostError::Internal(panic_text(e.into_panic().as_ref()))),
        Err(_) => Err(HostError::Internal("the call was cancelled".into())),
    }
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    match (payload.downcast_ref::<&str>(), payload.downcast_ref::<String>()) {
        (Some(s), _) => (*s).to_string(),
        (_, Some(s)) => s.clone(),
        _ => "a panic".into(),
    }
}

impl Host {
    pub fn new(store: Arc<dyn DriveStore>, config: Config) -> Arc<Host> {
        Arc::new(Host {
            store,
            config,
            registry: Mutex::new(Registry::default()),
            stats: Stats::default(),
            resident: std::sync::atomic::AtomicU64::new(0),
        })
    }

    pub fn store(&self) -> &Arc<dyn DriveStore> {
        &self.store
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Timings the host records (journal syncs, recalculation), for the metrics endpoint.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs a blocking store call off the async threads.
    pub async fn with_store<R: Send + 'static>(&self, f: impl FnOnce(&dyn DriveStore) -> R + Send + 'static) -> R {
        let store = self.store.clone();
        // A store call holds no workbook: a panic in it goes on up to the request's own catch.
        match tokio::task::spawn_blocking(move || f(store.as_ref())).await {
            Ok(r) => r,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
}

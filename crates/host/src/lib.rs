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

pub mod seed;
mod session;
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

    /// Reads the process's resident set (`VmRSS`); with a memory budget, the sweeper and the
    /// admission checks use the last sample.
    pub fn sample_memory(&self) -> u64 {
        let rss = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                let line = s.lines().find(|l| l.starts_with("VmRSS:"))?.to_string();
                line.split_whitespace().nth(1)?.parse::<u64>().ok()
            })
            .map_or(0, |kib| kib * 1024);
        self.resident.store(rss, std::sync::atomic::Ordering::Relaxed);
        rss
    }

    /// Whether the last sample was over the memory budget.
    pub fn over_memory_budget(&self) -> bool {
        self.config.max_memory.is_some_and(|max| self.resident.load(std::sync::atomic::Ordering::Relaxed) > max)
    }

    /// Refuses new work that would take memory while over the budget: loading a workbook that
    /// is not loaded (`item_id`), or any new copy (`None`).
    fn admit(&self, item_id: Option<&str>) -> Result<()> {
        if !self.over_memory_budget() {
            return Ok(());
        }
        if item_id.is_some_and(|id| self.registry().books.contains_key(id)) {
            return Ok(());
        }
        Err(HostError::Busy { retry_after: Duration::from_secs(5) })
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

    /// The live workbook state of a file, registered (not yet loaded) if new.
    fn live(&self, item_id: &str) -> Arc<tokio::sync::RwLock<BookState>> {
        let mut reg = self.registry();
        if let Some(live) = reg.books.get_mut(item_id) {
            live.last_used = Instant::now();
            return live.state.clone();
        }
        let live = reg.books.entry(item_id.to_string()).or_insert_with(|| LiveBook {
            state: Arc::new(tokio::sync::RwLock::new(BookState {
                workbook: None,
                generation: 0,
                unsaved: 0,
                version: 0,
                source: None,
            })),
            last_used: Instant::now(),
        });
        live.last_used = Instant::now();
        live.state.clone()
    }

    /// Loads the workbook into a locked state if it is not loaded: the stored content plus its journal.
    fn ensure_loaded(store: &dyn DriveStore, limits: &Limits, item_id: &str, state: &mut BookState) -> Result<()> {
        if state.workbook.is_some() {
            return Ok(());
        }
        let item = store.item(item_id)?.ok_or(HostError::ItemNotFound)?;
        if item.is_folder {
            return Err(HostError::NotAFile);
        }
        let content = store.content(item_id)?;
        let mut wb = Workbook::open_with(content.bytes.clone(), limits).map_err(HostError::Unopenable)?;
        wb.calculate_if_file_asks().map_err(HostError::Unopenable)?;
        for raw in &content.journal {
            let record = Record::from_bytes(raw).map_err(HostError::Unopenable)?;
            wb.apply(&record).map_err(HostError::Unopenable)?;
        }
        state.generation = content.generation;
        state.unsaved = content.journal.len() as u64;
        state.version = item.content_rev + content.journal.len() as u64;
        state.workbook = Some(wb);
        Ok(())
    }

    /// A private copy of the workbook as a snapshot's source has it.
    fn open_copy(source: &store::Content, limits: &Limits) -> Result<Workbook> {
        let mut wb = Workbook::open_with(source.bytes.clone(), limits).map_err(HostError::Unopenable)?;
        wb.calculate_if_file_asks().map_err(HostError::Unopenable)?;
        for raw in &source.journal {
            wb.apply(&Record::from_bytes(raw).map_err(HostError::Unopenable)?).map_err(HostError::Unopenable)?;
        }
        Ok(wb)
    }

    /// A non-persistent session's own copy, opened from its snapshot on first need (its first
    /// write, or a read after the shared workbook moved on).
    async fn own_copy(&self, snap: &Arc<Snapshot>) -> Result<Arc<tokio::sync::RwLock<Workbook>>> {
        if let Some(own) = snap.own() {
            return Ok(own);
        }
        self.admit(None)?;
        let (source, limits) = (snap.source.clone(), self.config.limits.clone());
        let wb = blocking(move || Self::open_copy(&source, &limits)).await?;
        Ok(snap.set_own(wb))
    }

    /// Opens a session on a file. A persistent one loads the shared live workbook; a
    /// non-persistent one opens its own copy of the file as it is now.
    pub async fn create_session(&self, user: &str, item_id: &str, persistent: bool) -> Result<SessionInfo> {
        self.admit(Some(item_id))?;
        self.room_for_session(&self.registry(), item_id)?;
        let state = self.live(item_id);
        let mut guard = state.clone().write_owned().await;
        let (store, limits, id) = (self.store.clone(), self.config.limits.clone(), item_id.to_string());
        let snapshot = blocking(move || -> Result<Option<(u64, Arc<store::Content>)>> {
            Self::ensure_loaded(store.as_ref(), &limits, &id, &mut guard)?;
            if persistent {
                return Ok(None);
            }
            // The session's start: the stored content and journal, which hold every acknowledged
            // write. Sessions begun at one version share it; none copies the workbook until it
            // must (see `own_copy`).
            let version = guard.version;
            let source = match &guard.source {
                Some((v, c)) if *v == version => c.clone(),
                _ => {
                    let content = Arc::new(store.content(&id)?);
                    guard.source = Some((version, content.clone()));
                    content
                }
            };
            Ok(Some((version, source)))
        })
        .await?;
        let private = snapshot.map(|(version, source)| Snapshot::new(version, source));
        let session = Session::new(user, item_id, persistent, private);
        let info = SessionInfo { id: session.id.clone(), persist_changes: persistent };
        let mut reg = self.registry();
        // Again under the lock that inserts: creates racing past the first check stop here.
        self.room_for_session(&reg, item_id)?;
        reg.sessions.insert(session.id.clone(), session);
        Ok(info)
    }

    /// Whether the file may have one more session; if not, when one of its sessions will idle out.
    fn room_for_session(&self, reg: &Registry, item_id: &str) -> Result<()> {
        let now = Instant::now();
        let on_file: Vec<&Session> =
            reg.sessions.values().filter(|s| s.item_id == item_id && !self.expired(s, now)).collect();
        if on_file.len() < self.config.max_sessions_per_workbook {
            return Ok(());
        }
        let retry_after = on_file
            .iter()
            .map(|s| {
                let idle = if s.persistent { self.config.persistent_idle } else { self.config.nonpersistent_idle };
                idle.saturating_sub(now.duration_since(s.last_activity))
            })
            .min()
            .unwrap_or_default();
        Err(HostError::TooManySessions { retry_after })
    }

    /// Starts an asynchronous createSession and returns its operation id at once.
    pub fn start_create_session(self: &Arc<Self>, user: &str, item_id: &str, persistent: bool) -> String {
        let (host, owner, item) = (self.clone(), user.to_string(), item_id.to_string());
        self.start_operation(user, item_id, async move {
            host.create_session(&owner, &item, persistent).await.map(Outcome::Session)
        })
    }

    /// Runs `work` in the background as an operation of `user` on the file; returns its id.
    pub fn start_operation(
        self: &Arc<Self>,
        user: &str,
        item_id: &str,
        work: impl std::future::Future<Output = Result<Outcome>> + Send + 'static,
    ) -> String {
        let op = Operation::new(user, item_id);
        let op_id = op.id.clone();
        self.registry().operations.insert(op_id.clone(), op);
        let (host, id) = (self.clone(), op_id.clone());
        tokio::spawn(async move {
            host.set_operation(&id, OperationStatus::Running, None);
            let result = work.await;
            let status = if result.is_ok() { OperationStatus::Succeeded } else { OperationStatus::Failed };
            host.set_operation(&id, status, Some(result));
        });
        op_id
    }

    /// What a finished operation of the caller's made, shown as JSON (`tableRowOperationResult`).
    pub fn operation_value(&self, user: &str, item_id: &str, id: &str) -> Result<serde_json::Value> {
        let reg = self.registry();
        match reg.operations.get(id).filter(|op| op.user == user && op.item_id == item_id) {
            Some(op) => match &op.result {
                Some(Ok(Outcome::Value(v))) => Ok(v.clone()),
                Some(Err(e)) => Err(e.clone()),
                _ => Err(HostError::OperationNotFound),
            },
            None => Err(HostError::OperationNotFound),
        }
    }

    fn set_operation(&self, id: &str, status: OperationStatus, result: Option<Result<Outcome>>) {
        if let Some(op) = self.registry().operations.get_mut(id) {
            op.status = status;
            if result.is_some() {
                op.result = result;
            }
            op.done.notify_waiters();
        }
    }

    /// Waits up to `timeout` for an operation to finish; returns its state either way.
    pub async fn wait_operation(&self, id: &str, timeout: Duration) -> Option<OperationView> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notify = {
                let reg = self.registry();
                let op = reg.operations.get(id)?;
                if op.is_finished() || tokio::time::Instant::now() >= deadline {
                    return Some(op.view());
                }
                op.done.clone()
            };
            let notified = notify.notified();
            // A finish between the check above and here would be missed: poll at least every 20 ms.
            let _ = tokio::time::timeout_at(
                deadline.min(tokio::time::Instant::now() + Duration::from_millis(20)),
                notified,
            )
            .await;
        }
    }

    /// An operation as its creator sees it, on the file it was started on.
    pub fn operation(&self, user: &str, item_id: &str, id: &str) -> Result<OperationView> {
        let reg = self.registry();
        match reg.operations.get(id) {
            Some(op) if op.user == user && op.item_id == item_id => Ok(op.view()),
            _ => Err(HostError::OperationNotFound),
        }
    }

    /// `sessionInfoResource(key=…)`: the session an async createSession made (the key is its
    /// operation id), or a session id of the caller's.
    pub fn session_info(&self, user: &str, item_id: &str, key: &str) -> Result<SessionInfo> {
        let reg = self.registry();
        if let Some(op) = reg.operations.get(key).filter(|op| op.user == user && op.item_id == item_id) {
            return match &op.result {
                Some(Ok(Outcome::Session(info))) if reg.sessions.contains_key(&info.id) => Ok(info.clone()),
                Some(Ok(Outcome::Session(_))) => Err(HostError::SessionRecreatable),
                Some(Ok(Outcome::Value(_))) => Err(HostError::OperationNotFound),
                Some(Err(e)) => Err(e.clone()),
                None => Err(HostError::OperationNotFound),
            };
        }
        match reg.sessions.get(key) {
            Some(s) if s.user == user && s.item_id == item_id => {
                Ok(SessionInfo { id: s.id.clone(), persist_changes: s.persistent })
            }
            _ => Err(HostError::OperationNotFound),
        }
    }

    /// The session, checked against its owner and file, with its idle time reset. Returns its
    /// private workbook for a non-persistent session, `None` for a persistent one.
    fn touch_session(&self, user: &str, item_id: &str, session_id: &str) -> Result<Option<Arc<Snapshot>>> {
        let mut reg = self.registry();
        let now = Instant::now();
        if let Some(s) = reg.sessions.get_mut(session_id) {
            // Another user's session, or one on another file, looks exactly like an unknown one.
            if s.user != user || s.item_id != item_id {
                return Err(HostError::SessionRecreatable);
            }
            if !self.expired(s, now) {
                s.last_activity = now;
                return Ok(s.private.clone());
            }
        }
        match reg.ended.get(session_id) {
            Some((EndReason::FileDeleted, _)) => Err(HostError::SessionFileGone),
            _ => Err(HostError::SessionRecreatable),
        }
    }

    fn expired(&self, s: &Session, now: Instant) -> bool {
        let idle = if s.persistent { self.config.persistent_idle } else { self.config.nonpersistent_idle };
        now.duration_since(s.last_activity) >= idle
    }

    /// Which workbook a call uses: a session's, or the shared one for sessionless calls.
    fn handle(&self, user: &str, item_id: &str, target: Target<'_>) -> Result<Handle> {
        self.admit(Some(item_id))?;
        match target {
            Target::Session(id) => match self.touch_session(user, item_id, id)? {
                Some(snap) => Ok(match snap.own() {
                    Some(own) => Handle::Private(own),
                    None => Handle::Snapshot(self.live(item_id), snap),
                }),
                None => Ok(Handle::Shared(self.live(item_id))),
            },
            Target::Sessionless => Ok(Handle::Shared(self.live(item_id))),
        }
    }

    /// A session's call that waited for the shared workbook may find its session ended in the
    /// meantime (the file's content replaced, or the file deleted): it must not then run on
    /// whatever replaced the workbook. Checked once the call holds the workbook's lock, which a
    /// replace holds until it has ended the sessions.
    fn still_open(&self, target: Target<'_>) -> Result<()> {
        let Target::Session(id) = target else { return Ok(()) };
        let reg = self.registry();
        if reg.sessions.contains_key(id) {
            return Ok(());
        }
        Err(match reg.ended.get(id) {
            Some((EndReason::FileDeleted, _)) => HostError::SessionFileGone,
            _ => HostError::SessionRecreatable,
        })
    }

    /// The version a non-persistent session without its own copy reads at.
    fn session_version(&self, user: &str, item_id: &str, target: Target<'_>) -> Option<u64> {
        let Target::Session(id) = target else { return None };
        let reg = self.registry();
        let s = reg.sessions.get(id).filter(|s| s.user == user && s.item_id == item_id)?;
        s.private.as_ref().map(|snap| snap.version)
    }

    pub fn refresh_session(&self, user: &str, item_id: &str, session_id: &str) -> Result<()> {
        self.touch_session(user, item_id, session_id).map(|_| ())
    }

    /// Ends a session now as idle expiry would (fault injection: "the session expired").
    /// Returns whether there was such a session.
    pub fn expire_session(&self, session_id: &str) -> bool {
        self.end_session(session_id, EndReason::Expired)
    }

    fn end_session(&self, session_id: &str, reason: EndReason) -> bool {
        let mut reg = self.registry();
        let found = reg.sessions.remove(session_id).is_some();
        if found {
            reg.ended.insert(session_id.to_string(), (reason, Instant::now()));
        }
        found
    }

    /// Ends a session. When the last persistent session on a file closes, its journal is compacted
    /// into the file in the background: a later open, or a restart, has nothing to replay.
    pub fn close_session(&self, user: &str, item_id: &str, session_id: &str) -> Result<()> {
        self.touch_session(user, item_id, session_id)?;
        let mut reg = self.registry();
        let closed = reg.sessions.remove(session_id);
        reg.ended.insert(session_id.to_string(), (EndReason::Closed, Instant::now()));
        let last = !reg.sessions.values().any(|s| s.item_id == item_id);
        let live = reg.books.get(item_id).map(|b| b.state.clone());
        drop(reg);
        if let (Some(state), true, true) = (live, last, closed.is_some_and(|s| s.persistent)) {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                let (store, id) = (self.store.clone(), item_id.to_string());
                runtime.spawn(async move {
                    let mut guard = state.write_owned().await;
                    // A failed checkpoint leaves the journal, which stays correct.
                    let _ = blocking(move || Self::checkpoint_locked(store.as_ref(), &id, &mut guard)).await;
                });
            }
        }
        Ok(())
    }
    /// Runs `f` over the workbook a call targets, sharing it with other reads.
    pub async fn read<R: Send + 'static>(
        &self,
        user: &str,
        item_id: &str,
        target: Target<'_>,
        f: impl FnOnce(&Workbook) -> Result<R, BookError> + Send + 'static,
    ) -> Result<R> {
        self.read_readied(user, item_id, target, false, f).await
    }

    /// Like [`Host::read`] for evaluating formulas over the workbook (Graph's functions): a
    /// workbook not calculated since it was opened is readied first, under the write lock; that
    /// changes no cell anyone wrote, so nothing is journaled.
    pub async fn evaluate<R: Send + 'static>(
        &self,
        user: &str,
        item_id: &str,
        target: Target<'_>,
        f: impl FnOnce(&Workbook) -> Result<R, BookError> + Send + 'static,
    ) -> Result<R> {
        self.read_readied(user, item_id, target, true, f).await
    }

    async fn read_readied<R: Send + 'static>(
        &self,
        user: &str,
        item_id: &str,
        target: Target<'_>,
        for_evaluation: bool,
        f: impl FnOnce(&Workbook) -> Result<R, BookError> + Send + 'static,
    ) -> Result<R> {
        let private = self.session_version(user, item_id, target).is_some();
        let done = self.read_readied_in(user, item_id, target, for_evaluation, f).await;
        // Readying a session's own copy for evaluation changes it: after a panic it is in doubt.
        if let (Err(HostError::Internal(_)), Target::Session(id), true) = (&done, target, private) {
            self.end_session(id, EndReason::Failed);
        }
        done
    }

    async fn read_readied_in<R: Send + 'static>(
        &self,
        user: &str,
        item_id: &str,
        target: Target<'_>,
        for_evaluation: bool,
        f: impl FnOnce(&Workbook) -> Result<R, BookError> + Send + 'static,
    ) -> Result<R> {
        let ready = |wb: &Workbook| !for_evaluation || wb.is_ready_for_evaluation();
        let make_ready = move |wb: &mut Workbook| if for_evaluation { wb.ready_for_evaluation() } else { Ok(()) };
        let (state, snapshot) = match self.handle(user, item_id, target)? {
            Handle::Private(wb) => return Self::read_private(wb, for_evaluation, f).await,
            Handle::Shared(state) => (state, None),
            Handle::Snapshot(state, snap) => (state, Some(snap)),
        };
        // A session that has not written reads the shared workbook while it is at its version.
        let at = snapshot.as_ref().map(|s| s.version);
        // Reads share the workbook; only loading (or readying) it needs it to themselves.
        let guard = state.clone().read_owned().await;
        self.still_open(target)?;
        if guard.workbook.as_ref().is_some_and(ready) && at.is_none_or(|v| v == guard.version) {
            return blocking(move || {
                let wb = guard.workbook.as_ref().ok_or(HostError::ItemNotFound)?;
                f(wb).map_err(HostError::Book)
            })
            .await;
        }
        let loaded_elsewhere = guard.workbook.is_some() && at.is_some_and(|v| v != guard.version);
        drop(guard);
        if let (Some(snap), true) = (&snapshot, loaded_elsewhere) {
            return Self::read_private(self.own_copy(snap).await?, for_evaluation, f).await;
        }
        let mut guard = state.write_owned().await;
        self.still_open(target)?;
        let (store, limits, id) = (self.store.clone(), self.config.limits.clone(), item_id.to_string());
        let done = blocking(move || {
            Self::ensure_loaded(store.as_ref(), &limits, &id, &mut guard)?;
            if at.is_some_and(|v| v != guard.version) {
                // Moved on since the session began: the caller reads the session's own copy.
                return Ok(Err(f));
            }
            // Out of its state while readied: a panic drops it (see `write`).
            let mut wb = guard.workbook.take().ok_or(HostError::ItemNotFound)?;
            let readied = make_ready(&mut wb);
            let wb = guard.workbook.insert(wb);
            readied.map_err(HostError::Book)?;
            f(wb).map(Ok).map_err(HostError::Book)
        })
        .await?;
        match (done, snapshot) {
            (Ok(r), _) => Ok(r),
            (Err(f), Some(snap)) => Self::read_private(self.own_copy(&snap).await?, for_evaluation, f).await,
            (Err(_), None) => Err(HostError::ItemNotFound),
        }
    }

    /// A read of a session's own copy.
    async fn read_private<R: Send + 'static>(
        wb: Arc<tokio::sync::RwLock<Workbook>>,
        for_evaluation: bool,
        f: impl FnOnce(&Workbook) -> Result<R, BookError> + Send + 'static,
    ) -> Result<R> {
        let guard = wb.clone().read_owned().await;
        if !for_evaluation || guard.is_ready_for_evaluation() {
            return blocking(move || f(&guard).map_err(HostError::Book)).await;
        }
        drop(guard);
        let mut guard = wb.write_owned().await;
        blocking(move || {
            guard.ready_for_evaluation().map_err(HostError::Book)?;
            f(&guard).map_err(HostError::Book)
        })
        .await
    }

    /// Like [`Host::read`] for reads that take microseconds (a few cells, the sheet list): when the
    /// workbook is loaded they run on the calling task, sparing two thread hand-offs.
    pub async fn peek<R: Send + 'static>(
        &self,
        user: &str,
        item_id: &str,
        target: Target<'_>,
        f: impl FnOnce(&Workbook) -> Result<R, BookError> + Send + 'static,
    ) -> Result<R> {
        match self.handle(user, item_id, target)? {
            Handle::Private(wb) => {
                let guard = wb.read().await;
                f(&guard).map_err(HostError::Book)
            }
            Handle::Shared(state) | Handle::Snapshot(state, _) => {
                let at = self.session_version(user, item_id, target);
                let guard = state.read().await;
                self.still_open(target)?;
                match guard.workbook.as_ref() {
                    Some(wb) if at.is_none_or(|v| v == guard.version) => f(wb).map_err(HostError::Book),
                    _ => {
                        drop(guard);
                        self.read(user, item_id, target, f).await
                    }
                }
            }
        }
    }

    /// Applies an edit to the workbook a call targets and, for the shared workbook, makes it
    /// durable before returning; `then` reads the result in the same turn (recalculated values).
    pub async fn write<R: Send + 'static>(
        &self,
        user: &str,
        item_id: &str,
        target: Target<'_>,
        edit: Edit,
        then: impl FnOnce(&Workbook) -> Result<R, BookError> + Send + 'static,
    ) -> Result<R> {
        let handle = match self.handle(user, item_id, target)? {
            // A non-persistent session's first write: its own copy now.
            Handle::Snapshot(_, snap) => Handle::Private(self.own_copy(&snap).await?),
            other => other,
        };
        match handle {
            Handle::Snapshot(..) => Err(HostError::SessionRecreatable),
            Handle::Private(wb) => {
                let mut guard = wb.write_owned().await;
                let stats = self.stats.clone();
                let several = matches!(edit, Edit::Several { .. });
                let done = blocking(move || {
                    let edited = guard.edit(edit);
                    stats.observe_calc(guard.take_calc_time());
                    edited.map_err(HostError::Book)?;
                    then(&guard).map_err(HostError::Book)
                })
                .await;
                // A session's own copy keeps no journal to reload from: when an edit left it in
                // doubt, the session ends (Graph: after a 500, the session is not to be used again).
                if let (Err(e), Target::Session(id)) = (&done, target) {
                    if matches!(e, HostError::Internal(_))
                        || matches!(e, HostError::Book(b) if in_doubt_after(several, b))
                    {
                        self.end_session(id, EndReason::Failed);
                    }
                }
                done
            }
            Handle::Shared(state) => {
                let mut guard = state.write_owned().await;
                self.still_open(target)?;
                let (store, config, id) = (self.store.clone(), self.config.clone(), item_id.to_string());
                let stats = self.stats.clone();
                blocking(move || {
                    Self::ensure_loaded(store.as_ref(), &config.limits, &id, &mut guard)?;
                    // A refused part of several edits may follow parts already applied.
                    let several = matches!(edit, Edit::Several { .. });
                    let generation = guard.generation;
                    // The workbook is out of its state while the edit runs: should the edit panic,
                    // the unwind drops it and the next call reloads the store and journal, which
                    // hold every acknowledged write and nothing of this one.
                    let Some(mut wb) = guard.workbook.take() else { return Err(HostError::ItemNotFound) };
                    let edited = wb.edit(edit);
                    stats.observe_calc(wb.take_calc_time());
                    let record = match edited {
                        Ok(r) => r,
                        Err(e) => {
                            // A refused edit changed nothing; one that failed half-way leaves the
                            // workbook in doubt, so it is reloaded from the store next time.
                            if !in_doubt_after(several, &e) {
                                guard.workbook = Some(wb);
                            }
                            return Err(HostError::Book(e));
                        }
                    };
                    guard.workbook = Some(wb);
                    let started = Instant::now();
                    let appended = store.append_journal(&id, generation, &record.to_bytes());
                    stats.observe_journal_append(started.elapsed());
                    if let Err(e) = appended {
                        guard.workbook = None;
                        return Err(e.into());
                    }
                    guard.unsaved += 1;
                    guard.version += 1;
                    let wb = guard.workbook.as_ref().ok_or(HostError::ItemNotFound)?;
                    let out = then(wb).map_err(HostError::Book);
                    if guard.unsaved >= config.checkpoint_records {
                        // Bounds replay time; a failed checkpoint leaves the journal, which is fine.
                        let _ = Self::checkpoint_locked(store.as_ref(), &id, &mut guard);
                    }
                    out
                })
                .await
            }
        }
    }

    /// Saves a loaded workbook with unsaved journal records into a new content generation.
    fn checkpoint_locked(store: &dyn DriveStore, item_id: &str, state: &mut BookState) -> Result<()> {
        if state.unsaved == 0 {
            return Ok(());
        }
        let Some(wb) = state.workbook.as_mut() else { return Ok(()) };
        let bytes = wb.save().map_err(HostError::Book)?;
        let item = store.checkpoint(item_id, state.generation, &bytes)?;
        state.generation = item.generation;
        state.unsaved = 0;
        Ok(())
    }

    /// Makes the stored content include every journal record (before a download or a metadata
    /// read, whose size must be the file's). Loads the workbook if a journal is pending.
    pub async fn flush(&self, item_id: &str) -> Result<()> {
        let item = self
            .with_store({
                let id = item_id.to_string();
                move |s| s.item(&id)
            })
            .await?
            .ok_or(HostError::ItemNotFound)?;
        if item.is_folder || item.journal_len == 0 {
            return Ok(());
        }
        let state = self.live(item_id);
        let mut guard = state.write_owned().await;
        let (store, limits, id) = (self.store.clone(), self.config.limits.clone(), item_id.to_string());
        blocking(move || {
            Self::ensure_loaded(store.as_ref(), &limits, &id, &mut guard)?;
            Self::checkpoint_locked(store.as_ref(), &id, &mut guard)
        })
        .await
    }

    /// The file's bytes with every acknowledged write in them: the stored content after a flush,
    /// or, when the disk is too full to checkpoint, the live workbook saved in memory (the
    /// journal stays, so nothing is lost; a download must not fail for want of space).
    pub async fn content_bytes(&self, item_id: &str) -> Result<Arc<[u8]>> {
        match self.flush(item_id).await {
            Ok(()) => {}
            Err(HostError::Store(StoreError::Full(_))) => {
                let state = self.live(item_id);
                let mut guard = state.write_owned().await;
                let (store, limits, id) = (self.store.clone(), self.config.limits.clone(), item_id.to_string());
                return blocking(move || {
                    Self::ensure_loaded(store.as_ref(), &limits, &id, &mut guard)?;
                    let wb = guard.workbook.as_mut().ok_or(HostError::ItemNotFound)?;
                    Ok(Arc::from(wb.save().map_err(HostError::Book)?))
                })
                .await;
            }
            Err(e) => return Err(e),
        }
        let id = item_id.to_string();
        Ok(self.with_store(move |s| s.content(&id)).await?.bytes)
    }

    /// Uploads a file. Replacing a file's content ends its sessions and unloads its live workbook.
    pub async fn put_file(
        &self,
        parent_id: &str,
        name: &str,
        bytes: Vec<u8>,
        conflict: Conflict,
    ) -> Result<(Item, bool)> {
        let existing = self
            .with_store({
                let (p, n) = (parent_id.to_string(), name.to_string());
                move |s| s.child(&p, &n)
            })
            .await?;
        let held = match &existing {
            Some(e) if conflict == Conflict::Replace && !e.is_folder => Some(self.live(&e.id).write_owned().await),
            _ => None,
        };
        let (p, n) = (parent_id.to_string(), name.to_string());
        let result = self.with_store(move |s| s.put_file(&p, &n, &bytes, conflict)).await;
        if let (Some(mut guard), Ok((item, false))) = (held, &result) {
            guard.workbook = None;
            self.end_sessions_of(&item.id, EndReason::ContentReplaced);
        }
        Ok(result?)
    }

    /// New content for an existing file (`PUT items/{id}/content`).
    pub async fn replace_content(&self, item_id: &str, bytes: Vec<u8>) -> Result<Item> {
        let mut guard = self.live(item_id).write_owned().await;
        let id = item_id.to_string();
        let result = self.with_store(move |s| s.replace_content(&id, &bytes)).await;
        guard.workbook = None;
        if result.is_ok() {
            self.end_sessions_of(item_id, EndReason::ContentReplaced);
        }
        Ok(result?)
    }

    /// Deletes an item; sessions on it, or on files below it, end as "file gone".
    pub async fn delete(&self, item_id: &str) -> Result<()> {
        let id = item_id.to_string();
        self.with_store(move |s| s.delete(&id)).await?;
        let on_files: Vec<String> = self.registry().sessions.values().map(|s| s.item_id.clone()).collect();
        for file in on_files {
            let f = file.clone();
            if self.with_store(move |s| s.item(&f)).await.ok().flatten().is_none() {
                self.end_sessions_of(&file, EndReason::FileDeleted);
                self.registry().books.remove(&file);
            }
        }
        self.registry().books.remove(item_id);
        Ok(())
    }

    fn end_sessions_of(&self, item_id: &str, reason: EndReason) {
        let mut reg = self.registry();
        let ids: Vec<String> = reg.sessions.values().filter(|s| s.item_id == item_id).map(|s| s.id.clone()).collect();
        for id in ids {
            reg.sessions.remove(&id);
            reg.ended.insert(id, (reason, Instant::now()));
        }
        if reason != EndReason::ContentReplaced {
            reg.books.remove(item_id);
        }
    }

    /// Ends idle sessions, forgets old operations and end reasons, and saves and unloads live
    /// workbooks nobody uses. Run periodically.
    pub async fn sweep(&self) {
        let now = Instant::now();
        let idle_books: Vec<(String, Arc<tokio::sync::RwLock<BookState>>)> = {
            let mut reg = self.registry();
            let expired: Vec<String> =
                reg.sessions.values().filter(|s| self.expired(s, now)).map(|s| s.id.clone()).collect();
            for id in expired {
                reg.sessions.remove(&id);
                reg.ended.insert(id, (EndReason::Expired, now));
            }
            let keep = Duration::from_secs(3600);
            reg.ended.retain(|_, (_, at)| now.duration_since(*at) < keep);
            reg.operations.retain(|_, op| now.duration_since(op.created) < keep);
            let in_use: std::collections::HashSet<String> = reg.sessions.values().map(|s| s.item_id.clone()).collect();
            let mut idle: Vec<(String, Arc<tokio::sync::RwLock<BookState>>)> = reg
                .books
                .iter()
                .filter(|(id, b)| !in_use.contains(*id) && now.duration_since(b.last_used) >= self.config.unload_after)
                .map(|(id, b)| (id.clone(), b.state.clone()))
                .collect();
            // Over the cap: the least recently used go too, sessions or not; over the memory
            // budget, the least recently used half of the rest.
            let mut over = reg.books.len().saturating_sub(idle.len()).saturating_sub(self.config.max_open_workbooks);
            if let Some(max) = self.config.max_memory {
                if self.sample_memory() > max {
                    over = over.max(reg.books.len().saturating_sub(idle.len()).div_ceil(2));
                }
            }
            if over > 0 {
                let mut rest: Vec<(&String, &LiveBook)> =
                    reg.books.iter().filter(|(id, _)| !idle.iter().any(|(i, _)| i == *id)).collect();
                rest.sort_by_key(|(_, b)| b.last_used);
                idle.extend(rest.into_iter().take(over).map(|(id, b)| (id.clone(), b.state.clone())));
            }
            idle
        };
        for (id, state) in idle_books {
            let Ok(mut guard) = state.clone().try_write_owned() else { continue };
            let store = self.store.clone();
            let item = id.clone();
            let saved = blocking(move || Self::checkpoint_locked(store.as_ref(), &item, &mut guard)).await;
            if saved.is_ok() {
                let mut reg = self.registry();
                // Unload only if nobody picked it up meanwhile.
                if reg.books.get(&id).is_some_and(|b| Arc::ptr_eq(&b.state, &state) && Arc::strong_count(&state) <= 2) {
                    reg.books.remove(&id);
                }
            }
        }
    }

    /// Saves every live workbook with unsaved records (at shutdown; the journals are durable anyway).
    pub async fn checkpoint_all(&self) {
        let books: Vec<(String, Arc<tokio::sync::RwLock<BookState>>)> =
            self.registry().books.iter().map(|(id, b)| (id.clone(), b.state.clone())).collect();
        for (id, state) in books {
            let mut guard = state.write_owned().await;
            let store = self.store.clone();
            let _ = blocking(move || Self::checkpoint_locked(store.as_ref(), &id, &mut guard)).await;
        }
    }

    /// Whether a session ended because its file was deleted (its file can no longer be found
    /// to check the session against).
    pub fn session_ended_by_delete(&self, session_id: &str) -> bool {
        matches!(self.registry().ended.get(session_id), Some((EndReason::FileDeleted, _)))
    }

    /// Open sessions (for tests and the health endpoint).
    pub fn session_count(&self) -> usize {
        self.registry().sessions.len()
    }

    /// Open sessions and live workbooks, as the emulator's state view and the metrics show them.
    pub fn state(&self) -> HostState {
        let now = Instant::now();
        let reg = self.registry();
        let mut sessions: Vec<SessionView> = reg
            .sessions
            .values()
            .map(|s| SessionView {
                id: s.id.clone(),
                user: s.user.clone(),
                item_id: s.item_id.clone(),
                persistent: s.persistent,
                own_copy: s.private.as_ref().is_some_and(|p| p.own().is_some()),
                idle: now.saturating_duration_since(s.last_activity),
            })
            .collect();
        sessions.sort_by(|a, b| (&a.item_id, &a.id).cmp(&(&b.item_id, &b.id)));
        let mut books: Vec<BookView> = reg
            .books
            .iter()
            .map(|(id, b)| BookView { item_id: id.clone(), idle: now.saturating_duration_since(b.last_used) })
            .collect();
        books.sort_by(|a, b| a.item_id.cmp(&b.item_id));
        HostState { sessions, books }
    }

    /// Forgets every session, operation and live workbook and empties the store, as at a first
    /// start (the emulator's reset). Sessions that were open answer as unknown afterwards.
    pub async fn reset(&self) -> Result<()> {
        *self.registry() = Registry::default();
        self.with_store(|s| s.reset()).await?;
        // A request that was loading a workbook during the reset may have registered it again.
        self.registry().books.clear();
        Ok(())
    }
}

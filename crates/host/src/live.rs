//! The live workbooks of files: loading (content plus journal replay), private copies, checkpoints, the memory budget and eviction.

use super::*;

impl Host {
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
    pub(crate) fn admit(&self, item_id: Option<&str>) -> Result<()> {
        if !self.over_memory_budget() {
            return Ok(());
        }
        if item_id.is_some_and(|id| self.registry().books.contains_key(id)) {
            return Ok(());
        }
        Err(HostError::Busy { retry_after: Duration::from_secs(5) })
    }

    /// The live workbook state of a file, registered (not yet loaded) if new.
    pub(crate) fn live(&self, item_id: &str) -> Arc<tokio::sync::RwLock<BookState>> {
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
    pub(crate) fn ensure_loaded(
        store: &dyn DriveStore,
        limits: &Limits,
        item_id: &str,
        state: &mut BookState,
    ) -> Result<()> {
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
    pub(crate) fn open_copy(source: &store::Content, limits: &Limits) -> Result<Workbook> {
        let mut wb = Workbook::open_with(source.bytes.clone(), limits).map_err(HostError::Unopenable)?;
        wb.calculate_if_file_asks().map_err(HostError::Unopenable)?;
        for raw in &source.journal {
            wb.apply(&Record::from_bytes(raw).map_err(HostError::Unopenable)?).map_err(HostError::Unopenable)?;
        }
        Ok(wb)
    }

    /// A non-persistent session's own copy, opened from its snapshot on first need (its first
    /// write, or a read after the shared workbook moved on).
    pub(crate) async fn own_copy(&self, snap: &Arc<Snapshot>) -> Result<Arc<tokio::sync::RwLock<Workbook>>> {
        if let Some(own) = snap.own() {
            return Ok(own);
        }
        self.admit(None)?;
        let (source, limits) = (snap.source.clone(), self.config.limits.clone());
        let wb = blocking(move || Self::open_copy(&source, &limits)).await?;
        Ok(snap.set_own(wb))
    }

    /// Saves a loaded workbook with unsaved journal records into a new content generation.
    pub(crate) fn checkpoint_locked(store: &dyn DriveStore, item_id: &str, state: &mut BookState) -> Result<()> {
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
}

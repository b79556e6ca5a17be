//! Reads and writes of the workbook a call targets: the shared one, a snapshot, or a session's own copy.

use super::*;

impl Host {
    /// Which workbook a call uses: a session's, or the shared one for sessionless calls.
    pub(crate) fn handle(&self, user: &str, item_id: &str, target: Target<'_>) -> Result<Handle> {
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
    pub(crate) fn still_open(&self, target: Target<'_>) -> Result<()> {
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
    pub(crate) fn session_version(&self, user: &str, item_id: &str, target: Target<'_>) -> Option<u64> {
        let Target::Session(id) = target else { return None };
        let reg = self.registry();
        let s = reg.sessions.get(id).filter(|s| s.user == user && s.item_id == item_id)?;
        s.private.as_ref().map(|snap| snap.version)
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

    pub(crate) async fn read_readied<R: Send + 'static>(
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

    pub(crate) async fn read_readied_in<R: Send + 'static>(
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
    pub(crate) async fn read_private<R: Send + 'static>(
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
}

//! Sessions on a file: create, find, refresh, close, expire, end.

use super::*;

impl Host {
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
    pub(crate) fn room_for_session(&self, reg: &Registry, item_id: &str) -> Result<()> {
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
    pub(crate) fn touch_session(&self, user: &str, item_id: &str, session_id: &str) -> Result<Option<Arc<Snapshot>>> {
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

    pub(crate) fn expired(&self, s: &Session, now: Instant) -> bool {
        let idle = if s.persistent { self.config.persistent_idle } else { self.config.nonpersistent_idle };
        now.duration_since(s.last_activity) >= idle
    }

    pub fn refresh_session(&self, user: &str, item_id: &str, session_id: &str) -> Result<()> {
        self.touch_session(user, item_id, session_id).map(|_| ())
    }

    /// Ends a session now as idle expiry would (fault injection: "the session expired").
    /// Returns whether there was such a session.
    pub fn expire_session(&self, session_id: &str) -> bool {
        self.end_session(session_id, EndReason::Expired)
    }

    pub(crate) fn end_session(&self, session_id: &str, reason: EndReason) -> bool {
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

    pub(crate) fn end_sessions_of(&self, item_id: &str, reason: EndReason) {
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

    /// Whether a session ended because its file was deleted (its file can no longer be found
    /// to check the session against).
    pub fn session_ended_by_delete(&self, session_id: &str) -> bool {
        matches!(self.registry().ended.get(session_id), Some((EndReason::FileDeleted, _)))
    }

    /// Open sessions (for tests and the health endpoint).
    pub fn session_count(&self) -> usize {
        self.registry().sessions.len()
    }
}

//! Whole files: flush the journal into the content, download, upload, replace, delete, reset.

use super::*;

impl Host {
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

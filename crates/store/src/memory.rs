//! The in-memory store (`--in-memory`): the same contract as the local one, gone at exit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::{
    new_drive_id, new_item, now_ms, renamed, valid_name, Conflict, Content, Drive, DriveStore, Item, Result, StoreError,
};

#[derive(Default)]
struct State {
    drives: HashMap<String, Drive>,
    owners: HashMap<String, String>,
    items: HashMap<String, Item>,
    contents: HashMap<String, Content>,
}

#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl State {
    fn folder(&self, id: &str) -> Result<&Item> {
        match self.items.get(id) {
            Some(i) if i.is_folder => Ok(i),
            Some(_) => Err(StoreError::Invalid("the parent is a file".into())),
            None => Err(StoreError::NotFound),
        }
    }

    fn child(&self, parent: &str, name: &str) -> Option<&Item> {
        let key = crate::name_key(name);
        self.items.values().find(|i| i.parent_id.as_deref() == Some(parent) && crate::name_key(&i.name) == key)
    }

    fn touch_parent(&mut self, parent: &str) {
        if let Some(p) = self.items.get_mut(parent) {
            p.meta_rev += 1;
            p.modified_ms = now_ms();
        }
    }

    fn set_content(&mut self, id: &str, bytes: &[u8]) -> Result<Item> {
        let item = self.items.get_mut(id).ok_or(StoreError::NotFound)?;
        if item.is_folder {
            return Err(StoreError::Invalid("a folder has no content".into()));
        }
        item.meta_rev += item.journal_len + 1;
        item.content_rev += item.journal_len + 1;
        item.generation += 1;
        item.journal_len = 0;
        item.size = bytes.len() as u64;
        item.modified_ms = now_ms();
        let item = item.clone();
        self.contents.insert(
            id.to_string(),
            Content { generation: item.generation, bytes: Arc::from(bytes), journal: Vec::new() },
        );
        Ok(item)
    }
}

impl DriveStore for MemoryStore {
    fn drives(&self) -> Result<Vec<Drive>> {
        Ok(self.lock().drives.values().cloned().collect())
    }

    fn reset(&self) -> Result<()> {
        *self.lock() = State::default();
        Ok(())
    }

    fn drive_for_owner(&self, owner: &str) -> Result<Drive> {
        let mut s = self.lock();
        if let Some(d) = s.owners.get(owner).and_then(|id| s.drives.get(id)) {
            return Ok(d.clone());
        }
        let id = new_drive_id();
        let root = new_item(&id, None, "root", true, 0);
        let drive = Drive { id: id.clone(), owner: owner.to_string(), root_id: root.id.clone() };
        s.items.insert(root.id.clone(), root);
        s.owners.insert(owner.to_string(), id.clone());
        s.drives.insert(id, drive.clone());
        Ok(drive)
    }

    fn drive(&self, drive_id: &str) -> Result<Option<Drive>> {
        Ok(self.lock().drives.get(drive_id).cloned())
    }

    fn item(&self, item_id: &str) -> Result<Option<Item>> {
        Ok(self.lock().items.get(item_id).cloned())
    }

    fn child(&self, parent_id: &str, name: &str) -> Result<Option<Item>> {
        Ok(self.lock().child(parent_id, name).cloned())
    }

    fn children(&self, parent_id: &str) -> Result<Vec<Item>> {
        let s = self.lock();
        s.folder(parent_id)?;
        let mut out: Vec<Item> =
            s.items.values().filter(|i| i.parent_id.as_deref() == Some(parent_id)).cloned().collect();
        out.sort_by(|a, b| {
            b.is_folder.cmp(&a.is_folder).then_with(|| crate::name_key(&a.name).cmp(&crate::name_key(&b.name)))
        });
        Ok(out)
    }

    fn ensure_folder(&self, parent_id: &str, name: &str) -> Result<Item> {
        valid_name(name)?;
        let mut s = self.lock();
        let drive_id = s.folder(parent_id)?.drive_id.clone();
        if let Some(existing) = s.child(parent_id, name) {
            return if existing.is_folder {
                Ok(existing.clone())
            } else {
                Err(StoreError::NameExists(existing.name.clone()))
            };
        }
        let item = new_item(&drive_id, Some(parent_id), name, true, 0);
        s.items.insert(item.id.clone(), item.clone());
        s.touch_parent(parent_id);
        Ok(item)
    }

    fn put_file(&self, parent_id: &str, name: &str, bytes: &[u8], conflict: Conflict) -> Result<(Item, bool)> {
        valid_name(name)?;
        let mut s = self.lock();
        let drive_id = s.folder(parent_id)?.drive_id.clone();
        let mut name = name.to_string();
        if let Some(existing) = s.child(parent_id, &name).cloned() {
            match conflict {
                Conflict::Fail => return Err(StoreError::NameExists(existing.name)),
                Conflict::Replace if !existing.is_folder => return Ok((s.set_content(&existing.id, bytes)?, false)),
                Conflict::Replace => return Err(StoreError::NameExists(existing.name)),
                Conflict::Rename => {
                    let mut n = 1;
                    while s.child(parent_id, &renamed(&name, n)).is_some() {
                        n += 1;
                    }
                    name = renamed(&name, n);
                }
            }
        }
        let item = new_item(&drive_id, Some(parent_id), &name, false, bytes.len() as u64);
        s.contents.insert(
            item.id.clone(),
            Content { generation: item.generation, bytes: Arc::from(bytes), journal: Vec::new() },
        );
        s.items.insert(item.id.clone(), item.clone());
        s.touch_parent(parent_id);
        Ok((item, true))
    }

    fn replace_content(&self, item_id: &str, bytes: &[u8]) -> Result<Item> {
        self.lock().set_content(item_id, bytes)
    }

    fn delete(&self, item_id: &str) -> Result<()> {
        let mut s = self.lock();
        let item = s.items.get(item_id).cloned().ok_or(StoreError::NotFound)?;
        let Some(parent) = item.parent_id else {
            return Err(StoreError::Invalid("the root folder cannot be deleted".into()));
        };
        let mut doomed = vec![item.id];
        let mut i = 0;
        while i < doomed.len() {
            let id = doomed[i].clone();
            doomed.extend(s.items.values().filter(|c| c.parent_id.as_deref() == Some(&id)).map(|c| c.id.clone()));
            i += 1;
        }
        for id in doomed {
            s.items.remove(&id);
            s.contents.remove(&id);
        }
        s.touch_parent(&parent);
        Ok(())
    }

    fn content(&self, item_id: &str) -> Result<Content> {
        self.lock().contents.get(item_id).cloned().ok_or(StoreError::NotFound)
    }

    fn append_journal(&self, item_id: &str, generation: u64, record: &[u8]) -> Result<Item> {
        let mut s = self.lock();
        let content = s.contents.get_mut(item_id).ok_or(StoreError::NotFound)?;
        if content.generation != generation {
            return Err(StoreError::GenerationChanged { current: content.generation });
        }
        content.journal.push(record.to_vec());
        let item = s.items.get_mut(item_id).ok_or(StoreError::NotFound)?;
        item.journal_len += 1;
        item.modified_ms = now_ms();
        Ok(item.clone())
    }

    fn checkpoint(&self, item_id: &str, generation: u64, bytes: &[u8]) -> Result<Item> {
        let mut s = self.lock();
        let content = s.contents.get_mut(item_id).ok_or(StoreError::NotFound)?;
        if content.generation != generation {
            return Err(StoreError::GenerationChanged { current: content.generation });
        }
        *content = Content { generation: generation + 1, bytes: Arc::from(bytes), journal: Vec::new() };
        let item = s.items.get_mut(item_id).ok_or(StoreError::NotFound)?;
        item.meta_rev += item.journal_len;
        item.content_rev += item.journal_len;
        item.journal_len = 0;
        item.generation = generation + 1;
        item.size = bytes.len() as u64;
        Ok(item.clone())
    }
}

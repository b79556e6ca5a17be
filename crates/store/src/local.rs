//! The embedded default store: a data directory with SQLite for drives and items, and files for
//! content generations (`content/{item}/{generation}.xlsx`) and their journals
//! (`content/{item}/{generation}.journal`).
//!
//! Order of writes keeps every crash consistent: content bytes are written to a temporary file,
//! synced and renamed into place before the database points at them; old generations are removed
//! only after the database stopped pointing at them. Journal records are synced before an append
//! returns; a torn last record was never acknowledged and is ignored.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{params, Connection, OptionalExtension};

use crate::{
    journal, new_drive_id, new_item, now_ms, renamed, valid_name, Conflict, Content, Drive, DriveStore, Item, Result,
    StoreError,
};

const SCHEMA_VERSION: i64 = 2;

/// What is known of a journal file: its generation, valid length in bytes, and record count.
#[derive(Debug, Clone, Copy)]
struct JournalState {
    generation: u64,
    valid_len: usize,
    records: u64,
    modified_ms: i64,
}

pub struct LocalStore {
    dir: PathBuf,
    db: Mutex<Connection>,
    journals: Mutex<HashMap<String, JournalState>>,
    /// Drives never change once made: looked up by owner on every request, kept here.
    drives: Mutex<HashMap<String, Drive>>,
    /// Item rows read on every request. Filled by readers and emptied by writers, both while
    /// holding the database lock, so a reader never caches a row a writer is changing.
    rows: Mutex<HashMap<String, Item>>,
}

const ITEM_COLUMNS: &str =
    "id, drive_id, parent_id, name, is_folder, size, created_ms, modified_ms, tag_guid, meta_rev, content_rev, generation";

fn row_to_item(row: &rusqlite::Row<'_>) -> rusqlite::Result<Item> {
    Ok(Item {
        id: row.get(0)?,
        drive_id: row.get(1)?,
        parent_id: row.get(2)?,
        name: row.get(3)?,
        is_folder: row.get(4)?,
        size: row.get::<_, i64>(5)? as u64,
        created_ms: row.get(6)?,
        modified_ms: row.get(7)?,
        tag_guid: row.get(8)?,
        meta_rev: row.get::<_, i64>(9)? as u64,
        content_rev: row.get::<_, i64>(10)? as u64,
        generation: row.get::<_, i64>(11)? as u64,
        journal_len: 0,
    })
}

/// Schema 1 keyed names by full lower-casing; schema 2 by `name_key`. Items are re-keyed one
/// by one; the rare pair the new key would merge keeps its old key (both stay reachable by id).
fn rekey_names(conn: &Connection) -> Result<()> {
    let rows: Vec<(String, String)> = {
        let mut stmt = conn.prepare("SELECT id, name FROM items")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<std::result::Result<_, _>>()?
    };
    for (id, name) in rows {
        let _ = conn.execute("UPDATE items SET name_key = ?1 WHERE id = ?2", params![crate::name_key(&name), id]);
    }
    Ok(())
}

impl LocalStore {
    /// Opens (creating if needed) the store in `dir`.
    pub fn open(dir: impl AsRef<Path>) -> Result<LocalStore> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(dir.join("content"))?;
        let conn = Connection::open(dir.join("workbookd.sqlite3"))?;
        // One process owns a data directory: the exclusive lock keeps a second server out, and
        // spares a file-lock system call on every read.
        conn.execute_batch(
            "PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;",
        )?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::Io(format!(
                "the data directory was written by a newer workbookd (schema {version}, this build knows {SCHEMA_VERSION})"
            )));
        }
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS drives (
                 id TEXT PRIMARY KEY,
                 owner TEXT NOT NULL UNIQUE,
                 root_id TEXT NOT NULL
             );
             CREATE TABLE IF NOT EXISTS items (
                 id TEXT PRIMARY KEY,
                 drive_id TEXT NOT NULL REFERENCES drives(id),
                 parent_id TEXT REFERENCES items(id),
                 name TEXT NOT NULL,
                 name_key TEXT NOT NULL,
                 is_folder INTEGER NOT NULL,
                 size INTEGER NOT NULL,
                 created_ms INTEGER NOT NULL,
                 modified_ms INTEGER NOT NULL,
                 tag_guid TEXT NOT NULL,
                 meta_rev INTEGER NOT NULL,
                 content_rev INTEGER NOT NULL,
                 generation INTEGER NOT NULL
             );
             CREATE UNIQUE INDEX IF NOT EXISTS items_by_parent_name ON items(parent_id, name_key);",
        )?;
        if version < 2 {
            rekey_names(&conn)?;
        }
        conn.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION};"))?;
        let store = LocalStore {
            dir,
            db: Mutex::new(conn),
            journals: Mutex::new(HashMap::new()),
            drives: Mutex::new(HashMap::new()),
            rows: Mutex::new(HashMap::new()),
        };
        store.remove_orphans(&store.db())?;
        Ok(store)
    }

    fn load_or_create_drive(&self, owner: &str) -> Result<Drive> {
        let mut conn = self.db();
        let found = conn
            .query_row("SELECT id, owner, root_id FROM drives WHERE owner = ?1", [owner], |r| {
                Ok(Drive { id: r.get(0)?, owner: r.get(1)?, root_id: r.get(2)? })
            })
            .optional()?;
        if let Some(d) = found {
            return Ok(d);
        }
        let id = new_drive_id();
        let root = new_item(&id, None, "root", true, 0);
        let tx = conn.transaction()?;
        tx.execute("INSERT INTO drives (id, owner, root_id) VALUES (?1, ?2, ?3)", params![id, owner, root.id])?;
        Self::insert(&tx, &root)?;
        tx.commit()?;
        Ok(Drive { id, owner: owner.to_string(), root_id: root.id })
    }

    fn rows(&self) -> MutexGuard<'_, HashMap<String, Item>> {
        self.rows.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Drops cached rows; call with the database lock held, after the change.
    fn forget(&self, ids: &[&str]) {
        let mut rows = self.rows();
        for id in ids {
            rows.remove(*id);
        }
    }

    fn db(&self) -> MutexGuard<'_, Connection> {
        self.db.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn item_dir(&self, id: &str) -> PathBuf {
        self.dir.join("content").join(id)
    }

    fn content_path(&self, id: &str, generation: u64) -> PathBuf {
        self.item_dir(id).join(format!("{generation}.xlsx"))
    }

    fn journal_path(&self, id: &str, generation: u64) -> PathBuf {
        self.item_dir(id).join(format!("{generation}.journal"))
    }

    /// Writes content bytes durably: temporary file, sync, rename, sync the directory.
    fn write_content(&self, id: &str, generation: u64, bytes: &[u8]) -> Result<()> {
        let dir = self.item_dir(id);
        let new_dir = !dir.exists();
        fs::create_dir_all(&dir)?;
        let tmp = dir.join(format!("{generation}.xlsx.tmp"));
        let written = (|| -> Result<()> {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
            drop(f);
            fs::rename(&tmp, self.content_path(id, generation))?;
            sync_dir(&dir)?;
            sync_dir(&self.dir.join("content"))
        })();
        if written.is_err() {
            // A failed write (a full disk, say) leaves nothing behind.
            let _ = fs::remove_file(&tmp);
            if new_dir {
                let _ = fs::remove_dir(&dir);
            }
        }
        written
    }

    /// Start-up clean-up of what a crash or a failed write can leave: temporary files, the
    /// folders of items the database does not know, and generations other than an item's
    /// current one (a checkpoint that crashed before the database moved on).
    fn remove_orphans(&self, conn: &Connection) -> Result<usize> {
        let current: HashMap<String, u64> = {
            let mut stmt = conn.prepare("SELECT id, generation FROM items WHERE is_folder = 0")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))?;
            rows.collect::<std::result::Result<_, _>>()?
        };
        let mut removed = 0;
        for entry in fs::read_dir(self.dir.join("content"))?.flatten() {
            let path = entry.path();
            let id = entry.file_name().to_string_lossy().to_string();
            let Some(&generation) = current.get(&id) else {
                let gone = if path.is_dir() { fs::remove_dir_all(&path) } else { fs::remove_file(&path) };
                removed += usize::from(gone.is_ok());
                continue;
            };
            for file in fs::read_dir(&path).into_iter().flatten().flatten() {
                let name = file.file_name().to_string_lossy().to_string();
                let of_generation = name.split('.').next().and_then(|g| g.parse::<u64>().ok());
                if name.ends_with(".tmp") || of_generation != Some(generation) {
                    removed += usize::from(fs::remove_file(file.path()).is_ok());
                }
            }
        }
        Ok(removed)
    }

    /// Removes the files of generations other than `keep` (after the database moved on).
    fn remove_other_generations(&self, id: &str, keep: u64) {
        let Ok(entries) = fs::read_dir(self.item_dir(id)) else { return };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            let generation = name.split('.').next().and_then(|g| g.parse::<u64>().ok());
            if generation != Some(keep) {
                let _ = fs::remove_file(e.path());
            }
        }
    }

    fn journal_state(&self, id: &str, generation: u64) -> Result<JournalState> {
        let mut journals = self.journals.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = journals.get(id).filter(|s| s.generation == generation) {
            return Ok(*s);
        }
        let path = self.journal_path(id, generation);
        let (records, valid_len) = journal::read(&path)?;
        let modified_ms = fs::metadata(&path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_millis() as i64);
        let state = JournalState { generation, valid_len, records: records.len() as u64, modified_ms };
        journals.insert(id.to_string(), state);
        Ok(state)
    }

    /// An item with its journal counted in.
    fn complete(&self, mut item: Item) -> Result<Item> {
        if !item.is_folder {
            let j = self.journal_state(&item.id, item.generation)?;
            item.journal_len = j.records;
            if j.records > 0 {
                item.modified_ms = item.modified_ms.max(j.modified_ms);
            }
        }
        Ok(item)
    }

    fn get(conn: &Connection, id: &str) -> Result<Option<Item>> {
        let mut stmt = conn.prepare_cached(&format!("SELECT {ITEM_COLUMNS} FROM items WHERE id = ?1"))?;
        Ok(stmt.query_row([id], row_to_item).optional()?)
    }

    fn get_child(conn: &Connection, parent: &str, name: &str) -> Result<Option<Item>> {
        let mut stmt =
            conn.prepare_cached(&format!("SELECT {ITEM_COLUMNS} FROM items WHERE parent_id = ?1 AND name_key = ?2"))?;
        Ok(stmt.query_row(params![parent, crate::name_key(name)], row_to_item).optional()?)
    }

    fn folder(conn: &Connection, id: &str) -> Result<Item> {
        match Self::get(conn, id)? {
            Some(i) if i.is_folder => Ok(i),
            Some(_) => Err(StoreError::Invalid("the parent is a file".into())),
            None => Err(StoreError::NotFound),
        }
    }

    fn insert(conn: &Connection, item: &Item) -> Result<()> {
        conn.execute(
            &format!(
                "INSERT INTO items ({ITEM_COLUMNS}, name_key) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)"
            ),
            params![
                item.id,
                item.drive_id,
                item.parent_id,
                item.name,
                item.is_folder,
                item.size as i64,
                item.created_ms,
                item.modified_ms,
                item.tag_guid,
                item.meta_rev as i64,
                item.content_rev as i64,
                item.generation as i64,
                crate::name_key(&item.name)
            ],
        )?;
        Ok(())
    }

    fn touch(conn: &Connection, id: &str) -> Result<()> {
        conn.execute(
            "UPDATE items SET meta_rev = meta_rev + 1, modified_ms = ?2 WHERE id = ?1",
            params![id, now_ms()],
        )?;
        Ok(())
    }

    /// Points an existing file at a new generation of content (already written).
    fn set_generation(&self, conn: &Connection, item: &Item, generation: u64, size: usize, bump: u64) -> Result<()> {
        conn.execute(
            "UPDATE items SET generation = ?2, size = ?3, meta_rev = meta_rev + ?4, content_rev = content_rev + ?4,
                 modified_ms = ?5 WHERE id = ?1",
            params![item.id, generation as i64, size as i64, bump as i64, now_ms()],
        )?;
        Ok(())
    }

    fn new_content(&self, conn: &Connection, existing: &Item, bytes: &[u8]) -> Result<Item> {
        if existing.is_folder {
            return Err(StoreError::Invalid("a folder has no content".into()));
        }
        let journal = self.journal_state(&existing.id, existing.generation)?;
        let generation = existing.generation + 1;
        self.write_content(&existing.id, generation, bytes)?;
        self.set_generation(conn, existing, generation, bytes.len(), journal.records + 1)?;
        self.forget(&[&existing.id]);
        self.remove_other_generations(&existing.id, generation);
        let item = Self::get(conn, &existing.id)?.ok_or(StoreError::NotFound)?;
        self.complete(item)
    }
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<()> {
    fs::File::open(dir)?.sync_all()?;
    Ok(())
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> Result<()> {
    Ok(())
}

impl DriveStore for LocalStore {
    fn drive_for_owner(&self, owner: &str) -> Result<Drive> {
        if let Some(d) = self.drives.lock().unwrap_or_else(|p| p.into_inner()).get(owner) {
            return Ok(d.clone());
        }
        let drive = self.load_or_create_drive(owner)?;
        self.drives.lock().unwrap_or_else(|p| p.into_inner()).insert(owner.to_string(), drive.clone());
        Ok(drive)
    }

    fn drive(&self, drive_id: &str) -> Result<Option<Drive>> {
        Ok(self
            .db()
            .query_row("SELECT id, owner, root_id FROM drives WHERE id = ?1", [drive_id], |r| {
                Ok(Drive { id: r.get(0)?, owner: r.get(1)?, root_id: r.get(2)? })
            })
            .optional()?)
    }

    fn drives(&self) -> Result<Vec<Drive>> {
        let conn = self.db();
        let mut stmt = conn.prepare("SELECT id, owner, root_id FROM drives")?;
        let drives = stmt
            .query_map([], |r| Ok(Drive { id: r.get(0)?, owner: r.get(1)?, root_id: r.get(2)? }))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(drives)
    }

    fn reset(&self) -> Result<()> {
        let mut conn = self.db();
        let tx = conn.transaction()?;
        // Items point at their parents: clear the links, then the rows.
        tx.execute_batch("UPDATE items SET parent_id = NULL; DELETE FROM items; DELETE FROM drives;")?;
        tx.commit()?;
        self.rows().clear();
        self.drives.lock().unwrap_or_else(|p| p.into_inner()).clear();
        self.journals.lock().unwrap_or_else(|p| p.into_inner()).clear();
        // The rows are gone (durably); the files they named go now. A crash in between leaves
        // unreferenced files, which nothing reads.
        let content = self.dir.join("content");
        fs::remove_dir_all(&content)?;
        fs::create_dir_all(&content)?;
        sync_dir(&self.dir)
    }

    fn item(&self, item_id: &str) -> Result<Option<Item>> {
        let cached = self.rows().get(item_id).cloned();
        let found = match cached {
            Some(row) => Some(row),
            None => {
                let conn = self.db();
                let row = Self::get(&conn, item_id)?;
                if let Some(r) = &row {
                    self.rows().insert(item_id.to_string(), r.clone());
                }
                row
            }
        };
        found.map(|i| self.complete(i)).transpose()
    }

    fn child(&self, parent_id: &str, name: &str) -> Result<Option<Item>> {
        let found = Self::get_child(&self.db(), parent_id, name)?;
        found.map(|i| self.complete(i)).transpose()
    }

    fn children(&self, parent_id: &str) -> Result<Vec<Item>> {
        let conn = self.db();
        Self::folder(&conn, parent_id)?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {ITEM_COLUMNS} FROM items WHERE parent_id = ?1 ORDER BY is_folder DESC, name_key"
        ))?;
        let items = stmt.query_map([parent_id], row_to_item)?.collect::<rusqlite::Result<Vec<_>>>()?;
        drop(stmt);
        drop(conn);
        items.into_iter().map(|i| self.complete(i)).collect()
    }

    fn ensure_folder(&self, parent_id: &str, name: &str) -> Result<Item> {
        valid_name(name)?;
        let mut conn = self.db();
        let parent = Self::folder(&conn, parent_id)?;
        if let Some(existing) = Self::get_child(&conn, parent_id, name)? {
            return if existing.is_folder { Ok(existing) } else { Err(StoreError::NameExists(existing.name)) };
        }
        let item = new_item(&parent.drive_id, Some(parent_id), name, true, 0);
        let tx = conn.transaction()?;
        Self::insert(&tx, &item)?;
        Self::touch(&tx, parent_id)?;
        tx.commit()?;
        self.forget(&[parent_id]);
        Ok(item)
    }

    fn put_file(&self, parent_id: &str, name: &str, bytes: &[u8], conflict: Conflict) -> Result<(Item, bool)> {
        valid_name(name)?;
        let mut conn = self.db();
        let parent = Self::folder(&conn, parent_id)?;
        let mut name = name.to_string();
        if let Some(existing) = Self::get_child(&conn, parent_id, &name)? {
            match conflict {
                Conflict::Fail => return Err(StoreError::NameExists(existing.name)),
                Conflict::Replace if !existing.is_folder => {
                    return Ok((self.new_content(&conn, &existing, bytes)?, false));
                }
                Conflict::Replace => return Err(StoreError::NameExists(existing.name)),
                Conflict::Rename => {
                    let mut n = 1;
                    while Self::get_child(&conn, parent_id, &renamed(&name, n))?.is_some() {
                        n += 1;
                    }
                    name = renamed(&name, n);
                }
            }
        }
        let item = new_item(&parent.drive_id, Some(parent_id), &name, false, bytes.len() as u64);
        self.write_content(&item.id, item.generation, bytes)?;
        let tx = conn.transaction()?;
        Self::insert(&tx, &item)?;
        Self::touch(&tx, parent_id)?;
        tx.commit()?;
        self.forget(&[parent_id]);
        Ok((item, true))
    }

    fn replace_content(&self, item_id: &str, bytes: &[u8]) -> Result<Item> {
        let conn = self.db();
        let existing = Self::get(&conn, item_id)?.ok_or(StoreError::NotFound)?;
        self.new_content(&conn, &existing, bytes)
    }

    fn delete(&self, item_id: &str) -> Result<()> {
        let mut conn = self.db();
        let item = Self::get(&conn, item_id)?.ok_or(StoreError::NotFound)?;
        let Some(parent) = item.parent_id else {
            return Err(StoreError::Invalid("the root folder cannot be deleted".into()));
        };
        let mut doomed = vec![item.id];
        let mut i = 0;
        while i < doomed.len() {
            let mut stmt = conn.prepare("SELECT id FROM items WHERE parent_id = ?1")?;
            let kids =
                stmt.query_map([&doomed[i]], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
            drop(stmt);
            doomed.extend(kids);
            i += 1;
        }
        let tx = conn.transaction()?;
        // Children first, so that no row points at a removed parent.
        for id in doomed.iter().rev() {
            tx.execute("DELETE FROM items WHERE id = ?1", [id])?;
        }
        Self::touch(&tx, &parent)?;
        tx.commit()?;
        let mut gone: Vec<&str> = doomed.iter().map(String::as_str).collect();
        gone.push(&parent);
        self.forget(&gone);
        let mut journals = self.journals.lock().unwrap_or_else(|p| p.into_inner());
        for id in &doomed {
            journals.remove(id);
            let _ = fs::remove_dir_all(self.item_dir(id));
        }
        Ok(())
    }

    fn content(&self, item_id: &str) -> Result<Content> {
        let item = Self::get(&self.db(), item_id)?.ok_or(StoreError::NotFound)?;
        if item.is_folder {
            return Err(StoreError::Invalid("a folder has no content".into()));
        }
        let bytes = fs::read(self.content_path(item_id, item.generation))?;
        let (journal, _) = journal::read(&self.journal_path(item_id, item.generation))?;
        Ok(Content { generation: item.generation, bytes: Arc::from(bytes), journal })
    }

    fn append_journal(&self, item_id: &str, generation: u64, record: &[u8]) -> Result<Item> {
        let item = Self::get(&self.db(), item_id)?.ok_or(StoreError::NotFound)?;
        if item.generation != generation {
            return Err(StoreError::GenerationChanged { current: item.generation });
        }
        let state = self.journal_state(item_id, generation)?;
        let valid_len = journal::append(&self.journal_path(item_id, generation), state.valid_len, record)?;
        if state.records == 0 {
            // The journal file is new: make its directory entry durable too.
            sync_dir(&self.item_dir(item_id))?;
        }
        let state = JournalState { generation, valid_len, records: state.records + 1, modified_ms: now_ms() };
        self.journals.lock().unwrap_or_else(|p| p.into_inner()).insert(item_id.to_string(), state);
        self.complete(item)
    }

    fn checkpoint(&self, item_id: &str, generation: u64, bytes: &[u8]) -> Result<Item> {
        let conn = self.db();
        let item = Self::get(&conn, item_id)?.ok_or(StoreError::NotFound)?;
        if item.generation != generation {
            return Err(StoreError::GenerationChanged { current: item.generation });
        }
        let journal = self.journal_state(item_id, generation)?;
        let next = generation + 1;
        self.write_content(item_id, next, bytes)?;
        conn.execute(
            "UPDATE items SET generation = ?2, size = ?3, meta_rev = meta_rev + ?4, content_rev = content_rev + ?4,
                 modified_ms = MAX(modified_ms, ?5) WHERE id = ?1",
            params![item_id, next as i64, bytes.len() as i64, journal.records as i64, journal.modified_ms],
        )?;
        self.forget(&[item_id]);
        self.remove_other_generations(item_id, next);
        let item = Self::get(&conn, item_id)?.ok_or(StoreError::NotFound)?;
        drop(conn);
        self.complete(item)
    }
}

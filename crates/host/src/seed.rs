//! A drive filled from a folder (`--seed DIR`) at start and after a reset, so tests and CI begin
//! with their fixtures.

use std::path::Path;

use store::{Conflict, DriveStore, StoreError};

/// Deepest folder nesting followed (a guard against symlink loops).
const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seeded {
    pub uploaded: usize,
    /// Files already in the drive (from an earlier start): left as they are, with their edits.
    pub kept: usize,
}

/// Uploads every file below `dir` into the drive of `owner`, at the same relative path.
pub fn seed(store: &dyn DriveStore, dir: &Path, owner: &str) -> Result<Seeded, String> {
    let drive = store.drive_for_owner(owner).map_err(|e| format!("--seed: {e}"))?;
    let mut seeded = Seeded { uploaded: 0, kept: 0 };
    seed_folder(store, dir, &drive.root_id, 0, &mut seeded)?;
    Ok(seeded)
}

fn seed_folder(
    store: &dyn DriveStore,
    dir: &Path,
    folder_id: &str,
    depth: usize,
    seeded: &mut Seeded,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!("--seed: {} is nested more than {MAX_DEPTH} folders deep", dir.display()));
    }
    let cannot = |e: &dyn std::fmt::Display| format!("--seed: cannot read {}: {e}", dir.display());
    let mut entries: Vec<_> =
        std::fs::read_dir(dir).map_err(|e| cannot(&e))?.collect::<Result<_, _>>().map_err(|e| cannot(&e))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        let meta = std::fs::metadata(&path).map_err(|e| cannot(&e))?;
        let refused = |e: StoreError| format!("--seed: {}: {e}", path.display());
        if meta.is_dir() {
            let folder = store.ensure_folder(folder_id, &name).map_err(refused)?;
            seed_folder(store, &path, &folder.id, depth + 1, seeded)?;
        } else if meta.is_file() {
            if store.child(folder_id, &name).map_err(refused)?.is_some() {
                seeded.kept += 1;
                continue;
            }
            let bytes = std::fs::read(&path).map_err(|e| cannot(&e))?;
            store.put_file(folder_id, &name, &bytes, Conflict::Fail).map_err(refused)?;
            seeded.uploaded += 1;
        }
    }
    Ok(())
}

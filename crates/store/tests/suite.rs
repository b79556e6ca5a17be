//! The shared store suite against every implementation, plus what only a store on disk can show:
//! everything survives reopening, and a torn journal tail is not seen.

use store::{suite, Conflict, DriveStore, LocalStore, MemoryStore};

#[test]
fn memory_store_passes_the_suite() {
    for (name, check) in suite::CHECKS {
        eprintln!("memory: {name}");
        check(&MemoryStore::new());
    }
}

#[test]
fn local_store_passes_the_suite() {
    for (name, check) in suite::CHECKS {
        eprintln!("local: {name}");
        let dir = tempfile::tempdir().unwrap();
        check(&LocalStore::open(dir.path()).unwrap());
    }
}

#[test]
fn local_store_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let (drive, item, etag) = {
        let s = LocalStore::open(dir.path()).unwrap();
        let d = s.drive_for_owner("user:a").unwrap();
        let folder = s.ensure_folder(&d.root_id, "Reports").unwrap();
        let (item, _) = s.put_file(&folder.id, "Q1.xlsx", b"base", Conflict::Fail).unwrap();
        s.append_journal(&item.id, item.generation, b"r1").unwrap();
        let item = s.append_journal(&item.id, item.generation, b"r2").unwrap();
        (d, item.clone(), item.etag())
    };
    let s = LocalStore::open(dir.path()).unwrap();
    assert_eq!(s.drive_for_owner("user:a").unwrap(), drive);
    let again = s.item(&item.id).unwrap().unwrap();
    assert_eq!(again.etag(), etag);
    assert_eq!(again.journal_len, 2);
    let c = s.content(&item.id).unwrap();
    assert_eq!((&*c.bytes, c.journal.len()), (&b"base"[..], 2));

    // A crash in the middle of a third append leaves a torn frame: it is not a record.
    let journal = dir.path().join("content").join(&item.id).join(format!("{}.journal", item.generation));
    let mut bytes = std::fs::read(&journal).unwrap();
    bytes.extend_from_slice(&[9, 0, 0, 0, 1, 2]);
    std::fs::write(&journal, bytes).unwrap();
    drop(s);
    let s = LocalStore::open(dir.path()).unwrap();
    assert_eq!(s.content(&item.id).unwrap().journal.len(), 2);
    s.append_journal(&item.id, item.generation, b"r3").unwrap();
    let c = s.content(&item.id).unwrap();
    assert_eq!(c.journal, vec![b"r1".to_vec(), b"r2".to_vec(), b"r3".to_vec()]);

    // After a checkpoint only the new generation's files remain.
    s.checkpoint(&item.id, item.generation, b"saved").unwrap();
    let files = std::fs::read_dir(dir.path().join("content").join(&item.id)).unwrap().count();
    assert_eq!(files, 1);
    drop(s);
    let s = LocalStore::open(dir.path()).unwrap();
    assert_eq!(&*s.content(&item.id).unwrap().bytes, b"saved");
}

#[test]
fn local_store_refuses_a_newer_schema() {
    let dir = tempfile::tempdir().unwrap();
    drop(LocalStore::open(dir.path()).unwrap());
    mark_newer_schema(dir.path()).unwrap();
    assert!(LocalStore::open(dir.path()).is_err());
}

/// Marks the database as written by a future schema, without a SQLite dependency here: the
/// header's user_version field lives at byte offset 60 of the main file.
fn mark_newer_schema(dir: &std::path::Path) -> std::io::Result<()> {
    let path = dir.join("workbookd.sqlite3");
    let mut bytes = std::fs::read(&path)?;
    bytes[60..64].copy_from_slice(&99u32.to_be_bytes());
    std::fs::write(&path, bytes)
}

//! The one test suite every [`DriveStore`] implementation passes. Each check takes a fresh store;
//! `tests/suite.rs` runs them all against each implementation.

use crate::{Conflict, DriveStore, StoreError};

/// One check: it panics when the store breaks the contract.
pub type Check = fn(&dyn DriveStore);

/// Every check of the suite, by name.
pub const CHECKS: &[(&str, Check)] = &[
    ("drives_are_per_owner", drives_are_per_owner),
    ("folders_and_children", folders_and_children),
    ("upload_conflicts", upload_conflicts),
    ("tags_follow_changes", tags_follow_changes),
    ("journal_and_checkpoint", journal_and_checkpoint),
    ("stale_generation_is_refused", stale_generation_is_refused),
    ("delete_is_recursive", delete_is_recursive),
    ("bad_names_and_parents", bad_names_and_parents),
    ("drives_are_listed_and_reset", drives_are_listed_and_reset),
];

pub fn drives_are_per_owner(s: &dyn DriveStore) {
    let a = s.drive_for_owner("user:a").unwrap();
    let b = s.drive_for_owner("user:b").unwrap();
    assert_ne!(a.id, b.id);
    assert_eq!(s.drive_for_owner("user:a").unwrap(), a);
    assert_eq!(s.drive(&a.id).unwrap(), Some(a.clone()));
    assert_eq!(s.drive("b!nope").unwrap(), None);
    let root = s.item(&a.root_id).unwrap().unwrap();
    assert!(root.is_folder);
    assert_eq!(root.parent_id, None);
    assert_eq!(root.drive_id, a.id);
}

pub fn folders_and_children(s: &dyn DriveStore) {
    let d = s.drive_for_owner("user:a").unwrap();
    let reports = s.ensure_folder(&d.root_id, "Reports").unwrap();
    assert_eq!(s.ensure_folder(&d.root_id, "reports").unwrap().id, reports.id, "names are case-insensitive");
    let (file, created) = s.put_file(&reports.id, "Q1.xlsx", b"one", Conflict::Fail).unwrap();
    assert!(created);
    s.put_file(&d.root_id, "b.xlsx", b"b", Conflict::Fail).unwrap();
    s.put_file(&d.root_id, "A.xlsx", b"a", Conflict::Fail).unwrap();
    let names: Vec<String> = s.children(&d.root_id).unwrap().into_iter().map(|i| i.name).collect();
    assert_eq!(names, ["Reports", "A.xlsx", "b.xlsx"], "folders first, then by name");
    assert_eq!(s.child(&reports.id, "q1.XLSX").unwrap().unwrap().id, file.id);
    assert_eq!(s.child(&reports.id, "Q2.xlsx").unwrap(), None);
    assert_eq!(file.parent_id.as_deref(), Some(reports.id.as_str()));
    assert_eq!(file.size, 3);
    assert_eq!(&*s.content(&file.id).unwrap().bytes, b"one");
    assert_eq!(s.children(&file.id), Err(StoreError::Invalid("the parent is a file".into())));
}

pub fn upload_conflicts(s: &dyn DriveStore) {
    let d = s.drive_for_owner("user:a").unwrap();
    let (first, _) = s.put_file(&d.root_id, "Book.xlsx", b"v1", Conflict::Fail).unwrap();
    assert_eq!(
        s.put_file(&d.root_id, "book.xlsx", b"v2", Conflict::Fail),
        Err(StoreError::NameExists("Book.xlsx".into()))
    );
    let (renamed, created) = s.put_file(&d.root_id, "Book.xlsx", b"v3", Conflict::Rename).unwrap();
    assert!(created);
    assert_eq!(renamed.name, "Book 1.xlsx");
    let (again, _) = s.put_file(&d.root_id, "Book.xlsx", b"v4", Conflict::Rename).unwrap();
    assert_eq!(again.name, "Book 2.xlsx");
    let (replaced, created) = s.put_file(&d.root_id, "Book.xlsx", b"v5!", Conflict::Replace).unwrap();
    assert!(!created);
    assert_eq!(replaced.id, first.id);
    assert_eq!(replaced.size, 3);
    assert_eq!(&*s.content(&first.id).unwrap().bytes, b"v5!");
    s.ensure_folder(&d.root_id, "Folder").unwrap();
    assert!(matches!(s.put_file(&d.root_id, "Folder", b"x", Conflict::Replace), Err(StoreError::NameExists(_))));
}

pub fn tags_follow_changes(s: &dyn DriveStore) {
    let d = s.drive_for_owner("user:a").unwrap();
    let (v1, _) = s.put_file(&d.root_id, "Book.xlsx", b"v1", Conflict::Fail).unwrap();
    assert!(v1.etag().starts_with("\"{") && v1.ctag().starts_with("\"c:{"), "{} {}", v1.etag(), v1.ctag());
    let v2 = s.replace_content(&v1.id, b"v2").unwrap();
    assert_ne!(v1.etag(), v2.etag());
    assert_ne!(v1.ctag(), v2.ctag());
    let v3 = s.append_journal(&v2.id, v2.generation, b"edit").unwrap();
    assert_ne!(v2.etag(), v3.etag(), "a journal record changes the content");
    assert_ne!(v2.ctag(), v3.ctag());
    assert_eq!(s.item(&v1.id).unwrap().unwrap().etag(), v3.etag());
    let v4 = s.checkpoint(&v3.id, v3.generation, b"v2+edit").unwrap();
    assert_eq!((v3.etag(), v3.ctag()), (v4.etag(), v4.ctag()), "a checkpoint does not change what the file says");
    assert_eq!(v4.size, 7);
    let parent_before = s.item(&d.root_id).unwrap().unwrap().etag();
    s.put_file(&d.root_id, "Other.xlsx", b"o", Conflict::Fail).unwrap();
    assert_ne!(s.item(&d.root_id).unwrap().unwrap().etag(), parent_before, "a new child changes the folder");
}

pub fn journal_and_checkpoint(s: &dyn DriveStore) {
    let d = s.drive_for_owner("user:a").unwrap();
    let (item, _) = s.put_file(&d.root_id, "Book.xlsx", b"base", Conflict::Fail).unwrap();
    let g = item.generation;
    s.append_journal(&item.id, g, b"r1").unwrap();
    let after = s.append_journal(&item.id, g, b"r2").unwrap();
    assert_eq!(after.journal_len, 2);
    let c = s.content(&item.id).unwrap();
    assert_eq!((c.generation, &*c.bytes, c.journal.clone()), (g, &b"base"[..], vec![b"r1".to_vec(), b"r2".to_vec()]));
    let cp = s.checkpoint(&item.id, g, b"base+r1+r2").unwrap();
    assert_eq!(cp.journal_len, 0);
    assert!(cp.generation > g);
    let c = s.content(&item.id).unwrap();
    assert_eq!((&*c.bytes, c.journal.len()), (&b"base+r1+r2"[..], 0));
    s.append_journal(&item.id, cp.generation, b"r3").unwrap();
    assert_eq!(s.content(&item.id).unwrap().journal, vec![b"r3".to_vec()]);
    // New content starts a new generation with an empty journal.
    let replaced = s.replace_content(&item.id, b"fresh").unwrap();
    let c = s.content(&item.id).unwrap();
    assert_eq!((c.generation, &*c.bytes, c.journal.len()), (replaced.generation, &b"fresh"[..], 0));
}

pub fn stale_generation_is_refused(s: &dyn DriveStore) {
    let d = s.drive_for_owner("user:a").unwrap();
    let (item, _) = s.put_file(&d.root_id, "Book.xlsx", b"base", Conflict::Fail).unwrap();
    let now = s.replace_content(&item.id, b"new").unwrap();
    assert_eq!(
        s.append_journal(&item.id, item.generation, b"late"),
        Err(StoreError::GenerationChanged { current: now.generation })
    );
    assert!(matches!(s.checkpoint(&item.id, item.generation, b"x"), Err(StoreError::GenerationChanged { .. })));
    assert_eq!(s.content(&item.id).unwrap().journal.len(), 0);
    assert_eq!(s.append_journal("01NOPE", 1, b"x").unwrap_err(), StoreError::NotFound);
}

pub fn delete_is_recursive(s: &dyn DriveStore) {
    let d = s.drive_for_owner("user:a").unwrap();
    let a = s.ensure_folder(&d.root_id, "a").unwrap();
    let b = s.ensure_folder(&a.id, "b").unwrap();
    let (f, _) = s.put_file(&b.id, "f.xlsx", b"x", Conflict::Fail).unwrap();
    s.append_journal(&f.id, f.generation, b"r").unwrap();
    s.delete(&a.id).unwrap();
    for id in [&a.id, &b.id, &f.id] {
        assert_eq!(s.item(id).unwrap(), None);
    }
    assert_eq!(s.content(&f.id).unwrap_err(), StoreError::NotFound);
    assert_eq!(s.delete(&a.id), Err(StoreError::NotFound));
    assert!(matches!(s.delete(&d.root_id), Err(StoreError::Invalid(_))));
    assert!(s.children(&d.root_id).unwrap().is_empty());
    // The name is free again.
    s.ensure_folder(&d.root_id, "a").unwrap();
}

pub fn bad_names_and_parents(s: &dyn DriveStore) {
    let d = s.drive_for_owner("user:a").unwrap();
    assert!(matches!(s.put_file(&d.root_id, "a/b.xlsx", b"x", Conflict::Fail), Err(StoreError::Invalid(_))));
    assert!(matches!(s.ensure_folder(&d.root_id, ""), Err(StoreError::Invalid(_))));
    assert_eq!(s.put_file("01NOPE", "a.xlsx", b"x", Conflict::Fail), Err(StoreError::NotFound));
    let (f, _) = s.put_file(&d.root_id, "f.xlsx", b"x", Conflict::Fail).unwrap();
    assert!(matches!(s.put_file(&f.id, "g.xlsx", b"x", Conflict::Fail), Err(StoreError::Invalid(_))));
    assert!(matches!(s.ensure_folder(&d.root_id, "f.xlsx"), Err(StoreError::NameExists(_))));
    assert!(matches!(s.content(&d.root_id), Err(StoreError::Invalid(_)) | Err(StoreError::NotFound)));
}

pub fn drives_are_listed_and_reset(s: &dyn DriveStore) {
    assert!(s.drives().unwrap().is_empty());
    let a = s.drive_for_owner("user:a").unwrap();
    let b = s.drive_for_owner("user:b").unwrap();
    let mut listed: Vec<String> = s.drives().unwrap().into_iter().map(|d| d.id).collect();
    listed.sort();
    let mut made = vec![a.id.clone(), b.id.clone()];
    made.sort();
    assert_eq!(listed, made);
    let folder = s.ensure_folder(&a.root_id, "Reports").unwrap();
    let (file, _) = s.put_file(&folder.id, "Q1.xlsx", b"base", Conflict::Fail).unwrap();
    s.append_journal(&file.id, file.generation, b"r1").unwrap();

    s.reset().unwrap();
    assert!(s.drives().unwrap().is_empty());
    assert_eq!(s.drive(&a.id).unwrap(), None);
    assert_eq!(s.item(&file.id).unwrap(), None);
    assert_eq!(s.item(&a.root_id).unwrap(), None);
    assert!(matches!(s.content(&file.id), Err(StoreError::NotFound)));
    // The store works as new: the owner gets a new, empty drive.
    let again = s.drive_for_owner("user:a").unwrap();
    assert_ne!(again.id, a.id);
    assert!(s.children(&again.root_id).unwrap().is_empty());
    let (file, created) = s.put_file(&again.root_id, "Q1.xlsx", b"new", Conflict::Fail).unwrap();
    assert!(created);
    assert_eq!(&*s.content(&file.id).unwrap().bytes, b"new");
}

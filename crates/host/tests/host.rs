//! The host's contract: shared and private workbooks, durable writes, session ends and their
//! reasons, async createSession, and restart on the same store.

mod support;

use std::sync::Arc;
use std::time::Duration;

use book::{CellInput, Edit, SetCells, Value};
use host::{Config, Host, HostError, OperationStatus, Target};
use store::{Conflict, DriveStore, LocalStore, MemoryStore};
use support::{set_a1, workbook_bytes};

async fn upload(host: &Host, user: &str) -> String {
    let drive = host.store().drive_for_owner(&format!("user:{user}")).unwrap();
    let (item, _) = host.put_file(&drive.root_id, "Book.xlsx", workbook_bytes(), Conflict::Fail).await.unwrap();
    item.id
}

async fn a3(host: &Host, item: &str, target: Target<'_>) -> Value {
    host.read("alice", item, target, |wb| Ok(wb.cell("Sheet1", 2, 0)?.value)).await.unwrap()
}

/// A1 of the stored file, read by reopening its bytes.
fn stored_a1(store: &dyn DriveStore, item: &str) -> Value {
    let c = store.content(item).unwrap();
    assert!(c.journal.is_empty(), "flushed before reading");
    book::Workbook::open(c.bytes).unwrap().cell("Sheet1", 0, 0).unwrap().value
}

#[tokio::test(flavor = "multi_thread")]
async fn persistent_writes_are_shared_and_durable() {
    let host = Host::new(Arc::new(MemoryStore::new()), Config::default());
    let item = upload(&host, "alice").await;
    let s = host.create_session("alice", &item, true).await.unwrap();
    assert!(s.persist_changes);
    assert!(s.id.len() >= 32 && s.id.chars().all(|c| c.is_ascii_alphanumeric()));
    let a3_after = host
        .write("alice", &item, Target::Session(&s.id), set_a1(10.0), |wb| Ok(wb.cell("Sheet1", 2, 0)?.value))
        .await
        .unwrap();
    assert_eq!(a3_after, Value::Number(12.0), "the response shows the recalculated dependent");
    assert_eq!(host.store().content(&item).unwrap().journal.len(), 1, "journaled before the acknowledgement");
    assert_eq!(a3(&host, &item, Target::Sessionless).await, Value::Number(12.0), "sessionless calls share the book");
    host.flush(&item).await.unwrap();
    assert_eq!(stored_a1(host.store().as_ref(), &item), Value::Number(10.0));
}

#[tokio::test(flavor = "multi_thread")]
async fn non_persistent_sessions_work_on_a_private_copy() {
    let host = Host::new(Arc::new(MemoryStore::new()), Config::default());
    let item = upload(&host, "alice").await;
    let private = host.create_session("alice", &item, false).await.unwrap();
    assert!(!private.persist_changes);
    host.write("alice", &item, Target::Session(&private.id), set_a1(100.0), |_| Ok(())).await.unwrap();
    assert_eq!(a3(&host, &item, Target::Session(&private.id)).await, Value::Number(102.0));
    assert_eq!(a3(&host, &item, Target::Sessionless).await, Value::Number(3.0));
    assert!(host.store().content(&item).unwrap().journal.is_empty());
    // A later shared write is not seen by the copy taken earlier.
    host.write("alice", &item, Target::Sessionless, set_a1(5.0), |_| Ok(())).await.unwrap();
    assert_eq!(a3(&host, &item, Target::Session(&private.id)).await, Value::Number(102.0));
    host.close_session("alice", &item, &private.id).unwrap();
    host.flush(&item).await.unwrap();
    assert_eq!(stored_a1(host.store().as_ref(), &item), Value::Number(5.0));
}

/// Non-persistent sessions that only read share the live workbook; one that writes, or one read
/// after the shared workbook changed, opens a copy of its own from the content of its start.
#[tokio::test(flavor = "multi_thread")]
async fn non_persistent_sessions_copy_only_when_they_must() {
    let host = Host::new(Arc::new(MemoryStore::new()), Config::default());
    let item = upload(&host, "alice").await;
    let readers: Vec<String> = futures_ids(&host, &item, 5).await;
    for id in &readers {
        assert_eq!(a3(&host, &item, Target::Session(id)).await, Value::Number(3.0));
    }
    let copies = |host: &Host| host.state().sessions.iter().filter(|s| s.own_copy).count();
    assert_eq!(copies(&host), 0, "reading sessions share the workbook");
    // One writes: it alone gets a copy, and only it sees its write.
    host.write("alice", &item, Target::Session(&readers[0]), set_a1(100.0), |_| Ok(())).await.unwrap();
    assert_eq!(copies(&host), 1);
    assert_eq!(a3(&host, &item, Target::Session(&readers[0])).await, Value::Number(102.0));
    assert_eq!(a3(&host, &item, Target::Session(&readers[1])).await, Value::Number(3.0));
    assert_eq!(copies(&host), 1);
    // The shared workbook changes: a session begun before reads its start, from a copy.
    host.write("alice", &item, Target::Sessionless, set_a1(7.0), |_| Ok(())).await.unwrap();
    assert_eq!(a3(&host, &item, Target::Sessionless).await, Value::Number(9.0));
    assert_eq!(a3(&host, &item, Target::Session(&readers[2])).await, Value::Number(3.0));
    let peeked = host.peek("alice", &item, Target::Session(&readers[3]), |wb| Ok(wb.cell("Sheet1", 0, 0)?.value));
    assert_eq!(peeked.await.unwrap(), Value::Number(1.0));
    // A session begun now starts from the new content, and shares it.
    let late = host.create_session("alice", &item, false).await.unwrap();
    assert_eq!(a3(&host, &item, Target::Session(&late.id)).await, Value::Number(9.0));
    assert!(!host.state().sessions.iter().any(|s| s.id == late.id && s.own_copy));
    // A checkpoint changes no content: sessions still share.
    host.flush(&item).await.unwrap();
    assert_eq!(a3(&host, &item, Target::Session(&late.id)).await, Value::Number(9.0));
    assert!(!host.state().sessions.iter().any(|s| s.id == late.id && s.own_copy));
    assert_eq!(stored_a1(host.store().as_ref(), &item), Value::Number(7.0));
}

async fn futures_ids(host: &Host, item: &str, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..n {
        ids.push(host.create_session("alice", item, false).await.unwrap().id);
    }
    ids
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_belong_to_their_user_and_file() {
    let host = Host::new(Arc::new(MemoryStore::new()), Config::default());
    let item = upload(&host, "alice").await;
    let other = upload(&host, "bob").await;
    let s = host.create_session("alice", &item, true).await.unwrap();
    assert_eq!(host.refresh_session("bob", &item, &s.id), Err(HostError::SessionRecreatable));
    assert_eq!(host.refresh_session("alice", &other, &s.id), Err(HostError::SessionRecreatable));
    assert_eq!(host.refresh_session("alice", &item, "nope"), Err(HostError::SessionRecreatable));
    host.refresh_session("alice", &item, &s.id).unwrap();
    host.close_session("alice", &item, &s.id).unwrap();
    assert_eq!(host.close_session("alice", &item, &s.id), Err(HostError::SessionRecreatable));
    let read = host.read("alice", &item, Target::Session(&s.id), |_| Ok(())).await;
    assert_eq!(read, Err(HostError::SessionRecreatable));
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_sessions_expire_and_refresh_slides() {
    let config = Config {
        persistent_idle: Duration::from_millis(300),
        nonpersistent_idle: Duration::from_millis(300),
        ..Config::default()
    };
    let host = Host::new(Arc::new(MemoryStore::new()), config);
    let item = upload(&host, "alice").await;
    let kept = host.create_session("alice", &item, true).await.unwrap();
    let idle = host.create_session("alice", &item, false).await.unwrap();
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(120)).await;
        host.refresh_session("alice", &item, &kept.id).unwrap();
    }
    assert_eq!(host.refresh_session("alice", &item, &idle.id), Err(HostError::SessionRecreatable));
    host.sweep().await;
    assert_eq!(host.session_count(), 1);
    host.refresh_session("alice", &item, &kept.id).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn replaced_or_deleted_files_end_their_sessions() {
    let host = Host::new(Arc::new(MemoryStore::new()), Config::default());
    let item = upload(&host, "alice").await;
    let s1 = host.create_session("alice", &item, true).await.unwrap();
    host.write("alice", &item, Target::Session(&s1.id), set_a1(7.0), |_| Ok(())).await.unwrap();
    host.replace_content(&item, workbook_bytes()).await.unwrap();
    assert_eq!(host.refresh_session("alice", &item, &s1.id), Err(HostError::SessionRecreatable));
    assert_eq!(a3(&host, &item, Target::Sessionless).await, Value::Number(3.0), "the new content is served");
    let s2 = host.create_session("alice", &item, true).await.unwrap();
    host.delete(&item).await.unwrap();
    assert_eq!(host.refresh_session("alice", &item, &s2.id), Err(HostError::SessionFileGone));
    assert_eq!(host.create_session("alice", &item, true).await, Err(HostError::ItemNotFound));
}

#[tokio::test(flavor = "multi_thread")]
async fn async_create_session_is_an_operation() {
    let host = Host::new(Arc::new(MemoryStore::new()), Config::default());
    let item = upload(&host, "alice").await;
    let op = host.start_create_session("alice", &item, false);
    let view = host.wait_operation(&op, Duration::from_secs(30)).await.unwrap();
    assert_eq!(view.status, OperationStatus::Succeeded);
    let info = host.session_info("alice", &item, &op).unwrap();
    assert!(!info.persist_changes);
    assert_ne!(info.id, op, "operation ids are not session ids");
    host.refresh_session("alice", &item, &info.id).unwrap();
    assert_eq!(host.operation("bob", &item, &op), Err(HostError::OperationNotFound));
    assert_eq!(host.operation("alice", &item, &op).unwrap().status, OperationStatus::Succeeded);

    // A file that is not a workbook fails the operation (a poll still succeeds).
    let drive = host.store().drive_for_owner("user:alice").unwrap();
    let (junk, _) = host.put_file(&drive.root_id, "junk.xlsx", b"not a zip".to_vec(), Conflict::Fail).await.unwrap();
    let op = host.start_create_session("alice", &junk.id, true);
    let view = host.wait_operation(&op, Duration::from_secs(30)).await.unwrap();
    assert_eq!(view.status, OperationStatus::Failed);
    assert!(matches!(view.result, Some(Err(HostError::Unopenable(_)))));
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_edits_change_nothing() {
    let host = Host::new(Arc::new(MemoryStore::new()), Config::default());
    let item = upload(&host, "alice").await;
    let bad = Edit::SetCells(SetCells {
        sheet: "Nope".into(),
        row: 0,
        col: 0,
        rows: 1,
        cols: 1,
        inputs: Some(vec![vec![Some(CellInput::Number(1.0))]]),
        number_formats: None,
    });
    let r = host.write("alice", &item, Target::Sessionless, bad, |_| Ok(())).await;
    assert!(matches!(r, Err(HostError::Book(book::BookError::NoSuchSheet(_)))));
    assert!(host.store().content(&item).unwrap().journal.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn acknowledged_writes_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let item = {
        let host = Host::new(Arc::new(LocalStore::open(dir.path()).unwrap()), Config::default());
        let item = upload(&host, "alice").await;
        let s = host.create_session("alice", &item, true).await.unwrap();
        host.write("alice", &item, Target::Session(&s.id), set_a1(41.0), |_| Ok(())).await.unwrap();
        // Dropped without a checkpoint: only the journal holds the write.
        item
    };
    let host = Host::new(Arc::new(LocalStore::open(dir.path()).unwrap()), Config::default());
    assert_eq!(a3(&host, &item, Target::Sessionless).await, Value::Number(43.0));
    host.flush(&item).await.unwrap();
    assert_eq!(stored_a1(host.store().as_ref(), &item), Value::Number(41.0));
}

#[tokio::test(flavor = "multi_thread")]
async fn many_writes_checkpoint_on_their_own() {
    let config = Config { checkpoint_records: 3, ..Config::default() };
    let host = Host::new(Arc::new(MemoryStore::new()), config);
    let item = upload(&host, "alice").await;
    for n in 1..=4 {
        host.write("alice", &item, Target::Sessionless, set_a1(f64::from(n)), |_| Ok(())).await.unwrap();
    }
    let c = host.store().content(&item).unwrap();
    assert_eq!(c.journal.len(), 1, "three records were folded into the content");
    assert_eq!(a3(&host, &item, Target::Sessionless).await, Value::Number(6.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_share_the_live_workbook() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let host = Host::new(Arc::new(MemoryStore::new()), Config::default());
    let item = upload(&host, "alice").await;
    let s = host.create_session("alice", &item, true).await.unwrap();
    // Each read waits inside the workbook (up to 10 s) for the other to be inside too; if reads
    // took the workbook for themselves, neither would see the other.
    let inside = Arc::new(AtomicUsize::new(0));
    let read = |host: Arc<Host>, item: String, session: String, inside: Arc<AtomicUsize>| async move {
        host.read("alice", &item, Target::Session(&session), move |wb| {
            inside.fetch_add(1, Ordering::SeqCst);
            let start = std::time::Instant::now();
            while inside.load(Ordering::SeqCst) < 2 && start.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(1));
            }
            Ok((inside.load(Ordering::SeqCst), wb.cell("Sheet1", 2, 0)?.value))
        })
        .await
        .unwrap()
    };
    let first = tokio::spawn(read(host.clone(), item.clone(), s.id.clone(), inside.clone()));
    let second = tokio::spawn(read(host.clone(), item.clone(), s.id.clone(), inside));
    let (first, second) = (first.await.unwrap(), second.await.unwrap());
    assert_eq!(first.0.min(second.0), 2, "both reads were inside the workbook at once");
    assert_eq!((first.1, second.1), (Value::Number(3.0), Value::Number(3.0)));
    // A write still has the workbook to itself, and reads after it see it.
    host.write("alice", &item, Target::Session(&s.id), set_a1(5.0), |_| Ok(())).await.unwrap();
    assert_eq!(a3(&host, &item, Target::Session(&s.id)).await, Value::Number(7.0));
}

//! A panic inside an edit (the calculation engine is young) must leave no half-applied workbook
//! live. Its own test binary: the fail point is process-wide.

mod support;

use std::sync::Arc;

use book::fail_point::{self, BEFORE_RECALC};
use book::Value;
use host::{Config, Host, HostError, Target};
use store::{Conflict, MemoryStore};
use support::{set_a1, workbook_bytes};

async fn a1_a3(host: &Host, item: &str, target: Target<'_>) -> Result<(Value, Value), HostError> {
    host.read("alice", item, target, |wb| Ok((wb.cell("Sheet1", 0, 0)?.value, wb.cell("Sheet1", 2, 0)?.value))).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panic_inside_an_edit_leaves_the_workbook_as_it_was() {
    let host = Host::new(Arc::new(MemoryStore::new()), Config::default());
    let drive = host.store().drive_for_owner("user:alice").unwrap();
    let (item, _) = host.put_file(&drive.root_id, "Book.xlsx", workbook_bytes(), Conflict::Fail).await.unwrap();
    let item = item.id;
    host.write("alice", &item, Target::Sessionless, set_a1(5.0), |_| Ok(())).await.unwrap();

    // The shared workbook: the cells are changed, then the engine panics before recalculating.
    fail_point::arm(BEFORE_RECALC, 1);
    let panicked = host.write("alice", &item, Target::Sessionless, set_a1(7.0), |_| Ok(())).await;
    assert!(matches!(panicked, Err(HostError::Internal(_))), "{panicked:?}");
    assert_eq!(a1_a3(&host, &item, Target::Sessionless).await.unwrap(), (Value::Number(5.0), Value::Number(7.0)));
    assert_eq!(host.store().content(&item).unwrap().journal.len(), 1, "nothing of the panicked edit was journaled");
    // And the workbook takes writes again.
    host.write("alice", &item, Target::Sessionless, set_a1(9.0), |_| Ok(())).await.unwrap();
    assert_eq!(a1_a3(&host, &item, Target::Sessionless).await.unwrap(), (Value::Number(9.0), Value::Number(11.0)));

    // A persistent session writes the shared workbook: the same, and the session goes on.
    let persistent = host.create_session("alice", &item, true).await.unwrap().id;
    fail_point::arm(BEFORE_RECALC, 1);
    let panicked = host.write("alice", &item, Target::Session(&persistent), set_a1(70.0), |_| Ok(())).await;
    assert!(matches!(panicked, Err(HostError::Internal(_))), "{panicked:?}");
    assert_eq!(
        a1_a3(&host, &item, Target::Session(&persistent)).await.unwrap(),
        (Value::Number(9.0), Value::Number(11.0))
    );

    // A non-persistent session's own copy has no journal to reload: the session ends, and the
    // shared workbook never saw its writes.
    let private = host.create_session("alice", &item, false).await.unwrap().id;
    host.write("alice", &item, Target::Session(&private), set_a1(100.0), |_| Ok(())).await.unwrap();
    fail_point::arm(BEFORE_RECALC, 1);
    let panicked = host.write("alice", &item, Target::Session(&private), set_a1(200.0), |_| Ok(())).await;
    assert!(matches!(panicked, Err(HostError::Internal(_))), "{panicked:?}");
    let after = a1_a3(&host, &item, Target::Session(&private)).await;
    assert!(matches!(after, Err(HostError::SessionRecreatable)), "{after:?}");
    assert_eq!(a1_a3(&host, &item, Target::Sessionless).await.unwrap(), (Value::Number(9.0), Value::Number(11.0)));
    assert_eq!(host.store().content(&item).unwrap().journal.len(), 2);
}

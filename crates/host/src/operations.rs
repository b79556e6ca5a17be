//! Long-running operations (async createSession, async table row add), polled by the client.

use super::*;

impl Host {
    /// Starts an asynchronous createSession and returns its operation id at once.
    pub fn start_create_session(self: &Arc<Self>, user: &str, item_id: &str, persistent: bool) -> String {
        let (host, owner, item) = (self.clone(), user.to_string(), item_id.to_string());
        self.start_operation(user, item_id, async move {
            host.create_session(&owner, &item, persistent).await.map(Outcome::Session)
        })
    }

    /// Runs `work` in the background as an operation of `user` on the file; returns its id.
    pub fn start_operation(
        self: &Arc<Self>,
        user: &str,
        item_id: &str,
        work: impl std::future::Future<Output = Result<Outcome>> + Send + 'static,
    ) -> String {
        let op = Operation::new(user, item_id);
        let op_id = op.id.clone();
        self.registry().operations.insert(op_id.clone(), op);
        let (host, id) = (self.clone(), op_id.clone());
        tokio::spawn(async move {
            host.set_operation(&id, OperationStatus::Running, None);
            let result = work.await;
            let status = if result.is_ok() { OperationStatus::Succeeded } else { OperationStatus::Failed };
            host.set_operation(&id, status, Some(result));
        });
        op_id
    }

    /// What a finished operation of the caller's made, shown as JSON (`tableRowOperationResult`).
    pub fn operation_value(&self, user: &str, item_id: &str, id: &str) -> Result<serde_json::Value> {
        let reg = self.registry();
        match reg.operations.get(id).filter(|op| op.user == user && op.item_id == item_id) {
            Some(op) => match &op.result {
                Some(Ok(Outcome::Value(v))) => Ok(v.clone()),
                Some(Err(e)) => Err(e.clone()),
                _ => Err(HostError::OperationNotFound),
            },
            None => Err(HostError::OperationNotFound),
        }
    }

    pub(crate) fn set_operation(&self, id: &str, status: OperationStatus, result: Option<Result<Outcome>>) {
        if let Some(op) = self.registry().operations.get_mut(id) {
            op.status = status;
            if result.is_some() {
                op.result = result;
            }
            op.done.notify_waiters();
        }
    }

    /// Waits up to `timeout` for an operation to finish; returns its state either way.
    pub async fn wait_operation(&self, id: &str, timeout: Duration) -> Option<OperationView> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notify = {
                let reg = self.registry();
                let op = reg.operations.get(id)?;
                if op.is_finished() || tokio::time::Instant::now() >= deadline {
                    return Some(op.view());
                }
                op.done.clone()
            };
            let notified = notify.notified();
            // A finish between the check above and here would be missed: poll at least every 20 ms.
            let _ = tokio::time::timeout_at(
                deadline.min(tokio::time::Instant::now() + Duration::from_millis(20)),
                notified,
            )
            .await;
        }
    }

    /// An operation as its creator sees it, on the file it was started on.
    pub fn operation(&self, user: &str, item_id: &str, id: &str) -> Result<OperationView> {
        let reg = self.registry();
        match reg.operations.get(id) {
            Some(op) if op.user == user && op.item_id == item_id => Ok(op.view()),
            _ => Err(HostError::OperationNotFound),
        }
    }
}

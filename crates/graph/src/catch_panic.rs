//! A panic under a request becomes Graph's 500, not a dropped connection. The host has already
//! put the workbook the call was changing out of use (it reloads from its store and journal).

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::error::GraphError;

/// Polls the inner future, turning a panic in any poll into `Err` with its text.
pub(crate) struct CatchPanic<F>(pub Pin<Box<F>>);

impl<F: Future> Future for CatchPanic<F> {
    type Output = Result<F::Output, GraphError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match catch_unwind(AssertUnwindSafe(|| self.0.as_mut().poll(cx))) {
            Ok(Poll::Ready(out)) => Poll::Ready(Ok(out)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => {
                let text = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                tracing::error!(target: "workbookd::panic", panic = text, "a request panicked");
                Poll::Ready(Err(GraphError::internal()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CatchPanic;

    #[tokio::test]
    async fn a_panicking_future_is_a_500() {
        let ok = CatchPanic(Box::pin(async { 7 })).await;
        assert_eq!(ok, Ok(7));
        let failed = CatchPanic(Box::pin(async {
            tokio::task::yield_now().await;
            if std::hint::black_box(true) {
                panic!("inside a handler");
            }
            7
        }))
        .await;
        let e = failed.unwrap_err();
        assert_eq!(
            (e.status(), e.code.as_str(), e.inner_code),
            (500, "internalServerError", Some("internalServerErrorUncategorized"))
        );
    }
}

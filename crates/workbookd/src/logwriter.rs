//! Log lines written to stderr in batches. A line per request written on its own would cost
//! each request a system call, and a writer thread woken per line a context switch; here lines
//! are appended to a shared buffer, which a thread writes out every few milliseconds (or at
//! once past a size), and which is flushed at exit.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// How long a line may wait in the buffer.
const FLUSH_EVERY: Duration = Duration::from_millis(20);
/// A buffer this large is written out without waiting.
const FLUSH_AT: usize = 256 * 1024;
/// Beyond this, lines are dropped (stderr is not keeping up) rather than slowing requests.
const DROP_AT: usize = 16 * 1024 * 1024;

#[derive(Default)]
struct Shared {
    buffer: Mutex<Vec<u8>>,
    wake: Condvar,
}

/// The `MakeWriter` handed to tracing: each event's line is appended to the buffer.
#[derive(Clone)]
pub struct BatchedStderr {
    shared: Arc<Shared>,
}

/// Writes what is left when dropped (at exit).
pub struct FlushGuard {
    shared: Arc<Shared>,
}

impl BatchedStderr {
    pub fn start() -> (BatchedStderr, FlushGuard) {
        let shared = Arc::new(Shared::default());
        let worker = shared.clone();
        std::thread::Builder::new()
            .name("workbookd-log".into())
            .spawn(move || loop {
                let lines = {
                    let buffer = worker.buffer.lock().unwrap_or_else(|p| p.into_inner());
                    let (mut buffer, _) =
                        worker.wake.wait_timeout(buffer, FLUSH_EVERY).unwrap_or_else(|p| p.into_inner());
                    std::mem::take(&mut *buffer)
                };
                if !lines.is_empty() {
                    let _ = std::io::stderr().lock().write_all(&lines);
                }
            })
            .expect("start the log writer thread");
        (BatchedStderr { shared: shared.clone() }, FlushGuard { shared })
    }
}

fn write_out(shared: &Shared) {
    let lines = std::mem::take(&mut *shared.buffer.lock().unwrap_or_else(|p| p.into_inner()));
    let _ = std::io::stderr().lock().write_all(&lines);
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        write_out(&self.shared);
    }
}

impl Write for BatchedStderr {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let mut buffer = self.shared.buffer.lock().unwrap_or_else(|p| p.into_inner());
        if buffer.len() < DROP_AT {
            buffer.extend_from_slice(line);
        }
        if buffer.len() >= FLUSH_AT {
            self.shared.wake.notify_one();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for BatchedStderr {
    type Writer = BatchedStderr;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

//! What the host measures and shows of itself: timings for the metrics endpoint, and the open
//! sessions and live workbooks for the emulator's state view.

use std::time::Duration;

use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};

/// Timings recorded as the host works. Cloning shares the same histograms (a `Histogram` is a
/// handle on shared counts).
#[derive(Clone)]
pub struct Stats {
    /// Seconds one journal record took to append and sync (the durability cost of a write).
    pub journal_append: Histogram,
    /// Seconds the engine spent recalculating for one edit.
    pub recalc: Histogram,
}

impl Default for Stats {
    fn default() -> Self {
        // 50 µs to about 26 s, doubling.
        let buckets = || Histogram::new(exponential_buckets(0.000_05, 2.0, 20));
        Stats { journal_append: buckets(), recalc: buckets() }
    }
}

impl Stats {
    pub(crate) fn observe_journal_append(&self, took: Duration) {
        self.journal_append.observe(took.as_secs_f64());
    }

    /// Edits that changed no formula input (formats, names) do not recalculate: not counted.
    pub(crate) fn observe_calc(&self, took: Duration) {
        if !took.is_zero() {
            self.recalc.observe(took.as_secs_f64());
        }
    }
}

/// One open session.
#[derive(Debug, Clone)]
pub struct SessionView {
    pub id: String,
    pub user: String,
    pub item_id: String,
    pub persistent: bool,
    /// A non-persistent session holds its own copy of the workbook (it has written, or the
    /// shared workbook moved on since it began); until then it reads the shared one.
    pub own_copy: bool,
    /// Time since the session was last used.
    pub idle: Duration,
}

/// One workbook loaded in memory (the shared live copy; private copies belong to their session).
#[derive(Debug, Clone)]
pub struct BookView {
    pub item_id: String,
    pub idle: Duration,
}

#[derive(Debug, Clone, Default)]
pub struct HostState {
    pub sessions: Vec<SessionView>,
    pub books: Vec<BookView>,
}

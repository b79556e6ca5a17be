//! Prometheus metrics at `/_workbookd/metrics`, in the OpenMetrics text format.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    /// The Graph reference page of the operation (`range-update`), `unresolved` for paths no
    /// operation matched: a bounded set, never the raw path.
    operation: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModeLabels {
    mode: &'static str,
}

fn latency_histogram() -> Histogram {
    // 100 µs to about 52 s, doubling.
    Histogram::new(exponential_buckets(0.000_1, 2.0, 20))
}

pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<OperationLabels, Histogram, fn() -> Histogram>,
    sessions: Family<ModeLabels, Gauge>,
    workbooks: Gauge,
}

impl Metrics {
    pub fn new(host: &host::Stats) -> Metrics {
        let mut registry = Registry::with_prefix("workbookd");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("requests", "Graph requests answered, by operation and status", requests.clone());
        let latency = Family::<OperationLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        registry.register("request_duration_seconds", "Time to answer a Graph request, by operation", latency.clone());
        let sessions = Family::<ModeLabels, Gauge>::default();
        registry.register("sessions_open", "Open workbook sessions, by persistence mode", sessions.clone());
        let workbooks = Gauge::default();
        registry.register("workbooks_open", "Shared workbooks loaded in memory", workbooks.clone());
        registry.register(
            "journal_append_duration_seconds",
            "Time to append and sync one journal record (before a write is acknowledged)",
            host.journal_append.clone(),
        );
        registry.register(
            "recalc_duration_seconds",
            "Time the calculation engine spent on one edit",
            host.recalc.clone(),
        );
        Metrics { registry, requests, latency, sessions, workbooks }
    }

    pub fn observe(&self, operation: &str, status: u16, took: Duration) {
        self.requests.get_or_create(&RequestLabels { operation: operation.to_string(), status }).inc();
        self.latency.get_or_create(&OperationLabels { operation: operation.to_string() }).observe(took.as_secs_f64());
    }

    /// The exposition, with the gauges read from the host's state now.
    pub fn render(&self, state: &host::HostState) -> String {
        let persistent = state.sessions.iter().filter(|s| s.persistent).count() as i64;
        let total = state.sessions.len() as i64;
        self.sessions.get_or_create(&ModeLabels { mode: "persistent" }).set(persistent);
        self.sessions.get_or_create(&ModeLabels { mode: "nonpersistent" }).set(total - persistent);
        self.workbooks.set(state.books.len() as i64);
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// The content type of the OpenMetrics text format, which Prometheus scrapes.
pub(crate) const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

//! Prometheus metrics: HTTP requests by method, route template and status, their latency, and every
//! back-office call by back office, operation and outcome, with its latency.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use bankgate_backoffice::{CallObserver, CircuitState};
use bankgate_domain::ids::BackOfficeId;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    back_office: String,
    operation: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    back_office: String,
    operation: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BackOfficeLabels {
    back_office: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CircuitLabels {
    back_office: String,
    state: &'static str,
}

/// Every state a circuit can be in, so each gets a 0 or 1 series.
const CIRCUIT_STATES: [CircuitState; 4] = [
    CircuitState::Closed,
    CircuitState::Open,
    CircuitState::HalfOpen,
    CircuitState::Maintenance,
];

fn latency_histogram() -> Histogram {
    // 0.25 ms to about 4 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 15))
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Family<RouteLabels, Histogram, fn() -> Histogram>,
    calls: Family<CallLabels, Counter>,
    call_seconds: Family<OperationLabels, Histogram, fn() -> Histogram>,
    healthy: Family<BackOfficeLabels, Gauge>,
    circuit: Family<CircuitLabels, Gauge>,
}

impl Metrics {
    pub fn new() -> Arc<Metrics> {
        let mut registry = Registry::with_prefix("bankgate");
        let requests = Family::<RequestLabels, Counter>::default();
        let request_seconds =
            Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_histogram as fn() -> Histogram,
            );
        let calls = Family::<CallLabels, Counter>::default();
        let call_seconds =
            Family::<OperationLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_histogram as fn() -> Histogram,
            );
        let healthy = Family::<BackOfficeLabels, Gauge>::default();
        let circuit = Family::<CircuitLabels, Gauge>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route template and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route template",
            request_seconds.clone(),
        );
        registry.register(
            "backoffice_calls",
            "Back-office calls by operation and outcome",
            calls.clone(),
        );
        registry.register(
            "backoffice_call_duration_seconds",
            "Back-office call latency by operation",
            call_seconds.clone(),
        );
        registry.register(
            "backoffice_up",
            "1 when the back office answered its last health check",
            healthy.clone(),
        );
        registry.register(
            "backoffice_circuit",
            "1 for the state each back office's circuit is in (closed, open, half_open, maintenance)",
            circuit.clone(),
        );
        Arc::new(Metrics {
            registry,
            requests,
            request_seconds,
            calls,
            call_seconds,
            healthy,
            circuit,
        })
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "encoding metrics");
        }
        out
    }

    fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let (method, route) = (method.to_owned(), route.to_owned());
        self.request_seconds
            .get_or_create(&RouteLabels {
                method: method.clone(),
                route: route.clone(),
            })
            .observe(elapsed.as_secs_f64());
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route,
                status,
            })
            .inc();
    }

    pub fn set_back_office_health(&self, back_office: &BackOfficeId, up: bool) {
        self.healthy
            .get_or_create(&BackOfficeLabels {
                back_office: back_office.to_string(),
            })
            .set(i64::from(up));
    }
}

impl Metrics {
    /// Records the state of a back office's circuit: 1 for `state`, 0 for the others.
    pub fn set_circuit(&self, back_office: &BackOfficeId, state: CircuitState) {
        for candidate in CIRCUIT_STATES {
            self.circuit
                .get_or_create(&CircuitLabels {
                    back_office: back_office.to_string(),
                    state: candidate.as_str(),
                })
                .set(i64::from(candidate == state));
        }
    }
}

impl CallObserver for Metrics {
    fn observe(
        &self,
        back_office: &BackOfficeId,
        operation: &'static str,
        outcome: &'static str,
        elapsed: Duration,
    ) {
        let back_office = back_office.to_string();
        self.call_seconds
            .get_or_create(&OperationLabels {
                back_office: back_office.clone(),
                operation: operation.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
        self.calls
            .get_or_create(&CallLabels {
                back_office,
                operation: operation.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }
}

/// Middleware timing each request under its matched route template (never the raw URL, so ids do not
/// explode the label space).
pub async fn track_requests(
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    metrics.observe_request(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

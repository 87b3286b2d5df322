//! Fault injection, for testing how callers live with a back office that misbehaves. The settings are
//! changed at run time through `PUT /admin/faults` and apply to every request that starts afterwards:
//!
//! * `latencyMs`: wait this long before handling the request.
//! * `hang`: never answer (the request is held, without blocking anything else, until the server stops).
//! * `errorRate`: with this probability, answer 503 `unavailable` without doing the work.
//! * `dropReplyRate`: with this probability, do the work (so it commits) and then never deliver the reply:
//!   the request is held like a hung one.
//!
//! The back-office routes take all four; `GET /health` takes only the latency and the hang, so health
//! checks see a back office that is slow or stuck; the admin routes and the OpenAPI document take none.
//! When the server stops, held requests are let go with a 503 so that shutdown can finish; by then their
//! callers have given up waiting.

use crate::error::ErrorReply;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bankgate_backoffice::BackOfficeError;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::watch;
use utoipa::ToSchema;

/// What to inject. The default injects nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct FaultSettings {
    /// Added before every request is handled, in milliseconds.
    pub latency_ms: u64,
    /// Hold every request without answering.
    pub hang: bool,
    /// The probability (0 to 1) of answering 503 without doing the work.
    pub error_rate: f64,
    /// The probability (0 to 1) of doing the work and then never delivering the reply.
    pub drop_reply_rate: f64,
}

impl FaultSettings {
    /// Refuses probabilities outside 0..=1 (and NaN).
    pub fn validate(&self) -> Result<(), String> {
        for (name, rate) in [
            ("errorRate", self.error_rate),
            ("dropReplyRate", self.drop_reply_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be a probability from 0 to 1"));
            }
        }
        Ok(())
    }
}

/// The fault settings of one server, shared by its routes.
#[derive(Clone)]
pub struct Faults {
    settings: Arc<Mutex<FaultSettings>>,
    /// Turns true when the server stops, letting held requests go.
    released: Arc<watch::Sender<bool>>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            settings: Arc::default(),
            released: Arc::new(watch::Sender::new(false)),
        }
    }
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Faults").field(&self.get()).finish()
    }
}

impl Faults {
    pub fn get(&self) -> FaultSettings {
        *self.settings.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Replaces the settings; refuses invalid ones (see [`FaultSettings::validate`]).
    pub fn set(&self, settings: FaultSettings) -> Result<(), String> {
        settings.validate()?;
        *self.settings.lock().unwrap_or_else(PoisonError::into_inner) = settings;
        Ok(())
    }

    pub fn clear(&self) {
        *self.settings.lock().unwrap_or_else(PoisonError::into_inner) = FaultSettings::default();
    }

    /// Lets every held request go (with a 503), now and from now on: the server is stopping.
    pub fn release_held(&self) {
        self.released.send_replace(true);
    }

    /// Holds the request until the server stops, then answers 503: the caller never gets the reply.
    async fn hold(&self) -> Response {
        let mut released = self.released.subscribe();
        // The sender lives in `self`, so this only ends when the server stops.
        let _ = released.wait_for(|released| *released).await;
        unavailable("the back office is shutting down")
    }
}

fn unavailable(message: &str) -> Response {
    ErrorReply::from(BackOfficeError::Unavailable(message.to_owned())).into_response()
}

/// Whether an event of probability `rate` happens this time.
fn happens(rate: f64) -> bool {
    rate > 0.0 && rand::random::<f64>() < rate
}

/// Latency and hang, then the two probabilistic faults around the handler.
pub(crate) async fn inject(State(faults): State<Faults>, request: Request, next: Next) -> Response {
    let settings = faults.get();
    if let Some(held) = delay(&faults, settings).await {
        return held;
    }
    if happens(settings.error_rate) {
        return unavailable("injected fault: error rate");
    }
    let response = next.run(request).await;
    if happens(settings.drop_reply_rate) {
        tracing::info!(status = %response.status(), "injected fault: dropping the reply");
        return faults.hold().await;
    }
    response
}

/// Latency and hang only (for the health check).
pub(crate) async fn inject_delay(
    State(faults): State<Faults>,
    request: Request,
    next: Next,
) -> Response {
    match delay(&faults, faults.get()).await {
        Some(held) => held,
        None => next.run(request).await,
    }
}

/// Applies the hang (returning what a held request finally answers) and the latency.
async fn delay(faults: &Faults, settings: FaultSettings) -> Option<Response> {
    if settings.hang {
        return Some(faults.hold().await);
    }
    if settings.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(settings.latency_ms)).await;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probabilities_must_be_probabilities() {
        let faults = Faults::default();
        for bad in [-0.1, 1.5, f64::NAN] {
            let settings = FaultSettings {
                error_rate: bad,
                ..FaultSettings::default()
            };
            assert!(faults.set(settings).is_err(), "{bad}");
            let settings = FaultSettings {
                drop_reply_rate: bad,
                ..FaultSettings::default()
            };
            assert!(faults.set(settings).is_err(), "{bad}");
        }
        assert_eq!(faults.get(), FaultSettings::default());
        let settings = FaultSettings {
            latency_ms: 5,
            hang: false,
            error_rate: 1.0,
            drop_reply_rate: 0.0,
        };
        faults.set(settings).unwrap();
        assert_eq!(faults.get(), settings);
        faults.clear();
        assert_eq!(faults.get(), FaultSettings::default());
    }

    #[test]
    fn certain_and_impossible_events() {
        assert!((0..1000).all(|_| happens(1.0)));
        assert!((0..1000).all(|_| !happens(0.0)));
    }

    #[test]
    fn settings_read_the_documented_json() {
        let settings: FaultSettings = serde_json::from_str(
            r#"{ "latencyMs": 250, "hang": false, "errorRate": 0.5, "dropReplyRate": 0.25 }"#,
        )
        .unwrap();
        assert_eq!(settings.latency_ms, 250);
        assert_eq!(settings.error_rate, 0.5);
        assert_eq!(settings.drop_reply_rate, 0.25);
        let partial: FaultSettings = serde_json::from_str(r#"{ "hang": true }"#).unwrap();
        assert!(partial.hang);
        assert_eq!(partial.latency_ms, 0);
        assert!(serde_json::from_str::<FaultSettings>(r#"{ "latency": 1 }"#).is_err());
    }
}

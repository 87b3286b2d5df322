//! The registry's door: a deadline on every call, and a circuit per back office that stops calling one
//! that keeps failing to answer, then probes it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use async_trait::async_trait;
use bankgate_backoffice::{
    BackOffice, BackOfficeError, BackOfficeRegistry, CircuitState, ResiliencePolicy,
};
use bankgate_domain::ids::BackOfficeId;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

struct Fake(BackOfficeId);

#[async_trait]
impl BackOffice for Fake {
    fn id(&self) -> &BackOfficeId {
        &self.0
    }
    async fn health(&self) -> Result<(), BackOfficeError> {
        Ok(())
    }
}

fn registry(policy: ResiliencePolicy) -> (BackOfficeRegistry, BackOfficeId) {
    let id = BackOfficeId::parse("fake").unwrap();
    let mut registry = BackOfficeRegistry::new().with_policy(policy);
    registry.register(Arc::new(Fake(id.clone())));
    (registry, id)
}

#[tokio::test]
async fn a_call_past_its_deadline_is_unavailable() {
    let (registry, id) = registry(ResiliencePolicy {
        deadline: Duration::from_millis(50),
        ..ResiliencePolicy::default()
    });
    let result: Result<(), _> = registry
        .call(&id, "test.hang", |_| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok(())
        })
        .await;
    assert!(
        matches!(result, Err(BackOfficeError::Unavailable(_))),
        "{result:?}"
    );
    // A prompt call still goes through.
    let ok: Result<u8, _> = registry.call(&id, "test.ok", |_| async { Ok(7) }).await;
    assert_eq!(ok, Ok(7));
}

#[tokio::test]
async fn an_open_circuit_fails_at_once_until_a_probe_answers() {
    let (registry, id) = registry(ResiliencePolicy {
        deadline: Duration::from_secs(5),
        failures_to_open: 3,
        cool_down: Duration::from_millis(100),
        ..ResiliencePolicy::default()
    });
    let calls = Arc::new(AtomicUsize::new(0));
    let failing = || {
        let calls = calls.clone();
        move |_| async move {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(BackOfficeError::Unavailable("connection refused".into()))
        }
    };
    for _ in 0..3 {
        let _ = registry.call(&id, "test.fail", failing()).await;
    }
    assert_eq!(registry.circuit(&id), Some(CircuitState::Open));
    let refused = registry.call(&id, "test.fail", failing()).await;
    assert!(matches!(refused, Err(BackOfficeError::Unavailable(_))));
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "an open circuit must not call the back office"
    );
    // A refusal is an answer: it does not count against the back office.
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(registry.circuit(&id), Some(CircuitState::HalfOpen));
    let refusal: Result<(), _> = registry
        .call(&id, "test.refuse", |_| async {
            Err(BackOfficeError::Rejected {
                code: "NO",
                message: "no".into(),
            })
        })
        .await;
    assert!(matches!(refusal, Err(BackOfficeError::Rejected { .. })));
    assert_eq!(registry.circuit(&id), Some(CircuitState::Closed));
}

#[tokio::test]
async fn a_repeatable_call_is_tried_again_after_fast_failures_only() {
    let (registry, id) = registry(ResiliencePolicy {
        deadline: Duration::from_secs(2),
        failures_to_open: 10,
        retries: 2,
        retry_backoff: Duration::from_millis(5),
        ..ResiliencePolicy::default()
    });
    // Refused twice, then answered: the caller sees the answer.
    let attempts = AtomicUsize::new(0);
    let result: Result<u8, _> = registry
        .call_repeatable(&id, "test.flaky", |_| {
            let n = attempts.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < 2 {
                    Err(BackOfficeError::Unavailable("refused".into()))
                } else {
                    Ok(9)
                }
            }
        })
        .await;
    assert_eq!(result, Ok(9));
    assert_eq!(attempts.load(Ordering::SeqCst), 3);

    // Always refused: the first try and two more, then the failure.
    let attempts = AtomicUsize::new(0);
    let result: Result<u8, _> = registry
        .call_repeatable(&id, "test.down", |_| {
            attempts.fetch_add(1, Ordering::SeqCst);
            async { Err(BackOfficeError::Unavailable("refused".into())) }
        })
        .await;
    assert!(matches!(result, Err(BackOfficeError::Unavailable(_))));
    assert_eq!(attempts.load(Ordering::SeqCst), 3);

    // A business answer is final.
    let attempts = AtomicUsize::new(0);
    let result: Result<u8, _> = registry
        .call_repeatable(&id, "test.refused", |_| {
            attempts.fetch_add(1, Ordering::SeqCst);
            async { Err(BackOfficeError::NotFound("card")) }
        })
        .await;
    assert_eq!(result, Err(BackOfficeError::NotFound("card")));
    assert_eq!(attempts.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_repeatable_call_that_used_its_deadline_is_not_repeated() {
    let (registry, id) = registry(ResiliencePolicy {
        deadline: Duration::from_millis(40),
        failures_to_open: 10,
        ..ResiliencePolicy::default()
    });
    let attempts = AtomicUsize::new(0);
    let result: Result<(), _> = registry
        .call_repeatable(&id, "test.hang", |_| {
            attempts.fetch_add(1, Ordering::SeqCst);
            async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                Ok(())
            }
        })
        .await;
    assert!(matches!(result, Err(BackOfficeError::Unavailable(_))));
    assert_eq!(attempts.load(Ordering::SeqCst), 1);
}

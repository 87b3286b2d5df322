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

//! The registry of configured back offices, and the one door every call goes through: it finds the back
//! office by id, bounds the call by the resilience policy (a deadline, and the back office's circuit
//! breaker), times it and reports it to a [`CallObserver`] (metrics). No service calls an adapter
//! directly.

use crate::resilience::{answered, Admission, CircuitBreaker, CircuitState, ResiliencePolicy};
use crate::{BackOffice, BackOfficeError};
use bankgate_domain::ids::BackOfficeId;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Told about every back-office call once it ends.
pub trait CallObserver: Send + Sync + 'static {
    fn observe(
        &self,
        back_office: &BackOfficeId,
        operation: &'static str,
        outcome: &'static str,
        elapsed: Duration,
    );
}

#[derive(Clone, Default)]
pub struct BackOfficeRegistry {
    offices: BTreeMap<BackOfficeId, Arc<dyn BackOffice>>,
    breakers: BTreeMap<BackOfficeId, Arc<CircuitBreaker>>,
    policy: ResiliencePolicy,
    observer: Option<Arc<dyn CallObserver>>,
}

impl BackOfficeRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_observer(mut self, observer: Arc<dyn CallObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Sets the policy for back offices registered from now on.
    pub fn with_policy(mut self, policy: ResiliencePolicy) -> Self {
        self.policy = policy;
        self
    }

    pub fn register(&mut self, office: Arc<dyn BackOffice>) {
        let id = office.id().clone();
        self.breakers
            .insert(id.clone(), Arc::new(CircuitBreaker::new(self.policy)));
        self.offices.insert(id, office);
    }

    /// The state of a back office's circuit, for readiness and metrics.
    pub fn circuit(&self, id: &BackOfficeId) -> Option<CircuitState> {
        self.breakers.get(id).map(|b| b.state())
    }

    pub fn ids(&self) -> impl Iterator<Item = &BackOfficeId> {
        self.offices.keys()
    }

    pub fn get(&self, id: &BackOfficeId) -> Result<&Arc<dyn BackOffice>, BackOfficeError> {
        self.offices
            .get(id)
            .ok_or_else(|| BackOfficeError::UnknownBackOffice(id.clone()))
    }

    /// Runs `call` against back office `id`, timed and observed under `operation`
    /// (such as `"cards.get"`).
    pub async fn call<T, F, Fut>(
        &self,
        id: &BackOfficeId,
        operation: &'static str,
        call: F,
    ) -> Result<T, BackOfficeError>
    where
        F: FnOnce(Arc<dyn BackOffice>) -> Fut,
        Fut: Future<Output = Result<T, BackOfficeError>>,
    {
        let office = self.get(id)?.clone();
        let breaker = self.breakers.get(id).cloned();
        let started = Instant::now();
        let result = match breaker.as_ref().map_or(Admission::Go, |b| b.admit()) {
            Admission::Refused => Err(BackOfficeError::Unavailable(format!(
                "circuit open: {id} failed to answer recently"
            ))),
            Admission::Go => {
                let result = tokio::time::timeout(self.policy.deadline, call(office))
                    .await
                    .unwrap_or_else(|_| {
                        Err(BackOfficeError::Unavailable(format!(
                            "{operation} at {id} took longer than {:?}",
                            self.policy.deadline
                        )))
                    });
                if let Some(breaker) = &breaker {
                    breaker.record(answered(&result));
                }
                result
            }
        };
        if let Some(observer) = &self.observer {
            let outcome = match &result {
                Ok(_) => "ok",
                Err(e) => e.kind(),
            };
            observer.observe(id, operation, outcome, started.elapsed());
        }
        result
    }
}

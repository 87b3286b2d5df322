//! The registry of configured back offices, and the one door every call goes through: it finds the back
//! office by id, bounds the call by the resilience policy (a deadline, and the back office's circuit
//! breaker), times it and reports it to a [`CallObserver`] (metrics). No service calls an adapter
//! directly.

use crate::resilience::{answered, Admission, CircuitBreaker, CircuitState, ResiliencePolicy};
use crate::{BackOffice, BackOfficeError};
use bankgate_domain::ids::BackOfficeId;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

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
    recoveries: Arc<Notify>,
    /// Counts recoveries, so work can tell whether one happened while it ran.
    recovery_epoch: Arc<AtomicU64>,
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

    /// Takes back office `id` out of service or puts it back (see [`CircuitBreaker::set_maintenance`]).
    pub fn set_maintenance(&self, id: &BackOfficeId, on: bool) -> Result<(), BackOfficeError> {
        self.breakers
            .get(id)
            .ok_or_else(|| BackOfficeError::UnknownBackOffice(id.clone()))?
            .set_maintenance(on);
        if !on {
            self.recovered();
        }
        Ok(())
    }

    /// Notified when a back office comes back: its circuit closed after being open, or it left
    /// maintenance. Work waiting for it (queued jobs) can run now. Meant for one listener per registry
    /// (a notification is kept for it if it is not waiting).
    pub fn recoveries(&self) -> Arc<Notify> {
        self.recoveries.clone()
    }

    /// How many recoveries there have been; compare two readings to learn whether one came between.
    pub fn recovery_epoch(&self) -> u64 {
        self.recovery_epoch.load(Ordering::SeqCst)
    }

    fn recovered(&self) {
        self.recovery_epoch.fetch_add(1, Ordering::SeqCst);
        self.recoveries.notify_one();
    }

    pub fn ids(&self) -> impl Iterator<Item = &BackOfficeId> {
        self.offices.keys()
    }

    pub fn get(&self, id: &BackOfficeId) -> Result<&Arc<dyn BackOffice>, BackOfficeError> {
        self.offices
            .get(id)
            .ok_or_else(|| BackOfficeError::UnknownBackOffice(id.clone()))
    }

    /// Runs `call`, which must be safe to repeat (a read, or a change carrying its idempotency key),
    /// like [`Self::call`], trying again after a short, jittered wait when an attempt fails fast for want
    /// of an answer (refused, reset, an error on the back office's side) and its circuit is still closed.
    pub async fn call_repeatable<T, F, Fut>(
        &self,
        id: &BackOfficeId,
        operation: &'static str,
        call: F,
    ) -> Result<T, BackOfficeError>
    where
        F: Fn(Arc<dyn BackOffice>) -> Fut,
        Fut: Future<Output = Result<T, BackOfficeError>>,
    {
        let mut attempt = 0;
        loop {
            let started = Instant::now();
            let result = self.call(id, operation, &call).await;
            let wait = match &result {
                Ok(_) => None,
                Err(_) if answered(&result) => None,
                Err(_) if self.circuit(id) != Some(CircuitState::Closed) => None,
                Err(_) => self.policy.retry_after(attempt, started.elapsed()),
            };
            match wait {
                Some(wait) => {
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                None => return result,
            }
        }
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
            Admission::Maintenance => Err(BackOfficeError::Unavailable(format!(
                "{id} is in maintenance"
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
                    if breaker.record(answered(&result)) {
                        self.recovered();
                    }
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

//! The registry of configured back offices, and the one door every call goes through: it finds the back
//! office by id, times the call and reports it to a [`CallObserver`] (metrics). The resilience layer will
//! wrap calls here too, so no service ever calls an adapter directly.

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

    pub fn register(&mut self, office: Arc<dyn BackOffice>) {
        self.offices.insert(office.id().clone(), office);
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
        let started = Instant::now();
        let result = call(office).await;
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

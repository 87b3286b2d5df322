//! The use cases, one module per domain area. Services speak domain types, read and write the store, and
//! reach back offices only through the registry. Their errors say what went wrong in domain terms; the
//! HTTP layer decides the status code the contract wants for each.

pub mod accounts;
pub mod admin;
pub mod alerts;
pub mod auth;
pub mod back_office_changes;
pub mod beneficiaries;
pub mod card_switch;
pub mod cards;
pub mod devices;
pub mod idempotency;
pub mod jobs;
pub mod memos;
pub mod messages;
pub mod movements;
pub mod onboarding;
pub mod push;
pub mod rates;
pub mod stand_in;
pub mod transactions;
pub mod undo;
pub mod users;

use bankgate_backoffice::{BackOfficeError, BackOfficeRegistry};
use bankgate_domain::ids::{BackOfficeId, BoRef, UserId};
use bankgate_domain::Clock;
use bankgate_store::{BackOfficeLink, Store, StoreError};
use std::sync::Arc;
use std::time::Duration;

/// Things a request can be about that may not exist (or not be the caller's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    User,
    Account,
    Card,
    Transaction,
    Device,
    Beneficiary,
    /// A queued action, by its undo id.
    Undo,
    Message,
    /// An alert type outside the catalogue.
    Alert,
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0:?} not found")]
    NotFound(Entity),
    /// Input that fails validation; `code` is the stable machine code.
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    #[error("wrong user name or password")]
    BadCredentials,
    #[error("this device is not allowed to log in")]
    DeviceBlocked,
    #[error("missing, unknown, expired or revoked token")]
    Unauthenticated,
    #[error("too many failed logins")]
    RateLimited { retry_after: Duration },
    /// The user already has as many push connections open on this node as one user may.
    #[error("too many push connections")]
    TooManyConnections { limit: usize },
    /// The address already has as many WebSockets waiting for their hello on this node as one may.
    #[error("too many WebSockets waiting for their hello")]
    TooManyPendingHellos { limit: usize },
    #[error("the PIN must be sent as exactly 8 characters")]
    PinWrongLength,
    #[error("Invalid PIN")]
    PinNotDigits,
    #[error("on/off must be \"on\" or \"off\"")]
    BadOnOff,
    #[error("{0}")]
    RestrictionRefused(String),
    /// The request is well formed but the state of things refuses it (not enough money, too late to undo).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// A client's own id for an operation (`AFiRemittanceId`) was used before for a different one.
    #[error("{message}")]
    IdempotencyMismatch { code: &'static str, message: String },
    #[error("the back office refused: {message}")]
    BackOfficeRefused { message: String },
    #[error("a back office needed for this call is unavailable")]
    BackOfficeUnavailable,
    #[error("the back office does not offer {0}")]
    Unsupported(&'static str),
    /// A bug or a broken dependency; logged once at the edge, never shown.
    #[error("internal: {0}")]
    Internal(String),
}

impl ServiceError {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        ServiceError::Invalid {
            code,
            message: message.into(),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        ServiceError::Conflict {
            code,
            message: message.into(),
        }
    }

    /// Maps a back-office failure, naming `entity` when the back office does not know the object.
    pub fn from_back_office(err: BackOfficeError, entity: Entity) -> Self {
        match err {
            BackOfficeError::NotFound(_) => ServiceError::NotFound(entity),
            BackOfficeError::Rejected { message, .. } => {
                ServiceError::BackOfficeRefused { message }
            }
            BackOfficeError::Unavailable(detail) => {
                tracing::warn!(%detail, "back office unavailable");
                ServiceError::BackOfficeUnavailable
            }
            BackOfficeError::Unsupported { capability, .. } => {
                ServiceError::Unsupported(capability)
            }
            other => ServiceError::Internal(other.to_string()),
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        ServiceError::Internal(format!("store: {e}"))
    }
}

pub type Result<T> = std::result::Result<T, ServiceError>;

/// Jobs a node runs at once unless configured otherwise. A job spends most of its time waiting (on a
/// back office's answer, on the store's writer), so many in flight keep the CPU busy: on the 2-core
/// benchmark machine 32 executed about half of what 128 did (README, transfer benchmark).
pub const DEFAULT_JOB_WORKERS: usize = 128;

/// Settings the services need.
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    pub session_idle: Duration,
    pub session_absolute: Duration,
    pub login_window: Duration,
    pub login_max_failures_per_user: i64,
    pub login_max_failures_per_address: i64,
    /// Undo window of transfers, remittances and card payments.
    pub undo_window_movement: Duration,
    pub undo_window_beneficiary_deletion: Duration,
    /// Attempts a job gets before it fails, while failing is still safe (no money has moved).
    pub job_max_attempts: u32,
    /// Jobs this node runs at once.
    pub job_workers: usize,
    /// How often the runner looks for due jobs when nothing wakes it sooner.
    pub job_poll_interval: Duration,
    /// How long a claim on a running job lasts before another node may take the job over.
    pub job_lease: Duration,
    /// How long an Idempotency-Key claimed by a request that never answered blocks its retries.
    pub idempotency_abandon: Duration,
    /// What may be accepted while a back office is unavailable.
    pub stand_in: stand_in::StandInLimits,
    /// How often an idle push connection gets a heartbeat and checks its session.
    pub push_heartbeat: Duration,
    /// How many WebSockets from one address may wait for their hello at once on this node.
    pub push_pending_hellos_per_address: usize,
    /// How often back offices' change feeds are read when nothing is pending.
    pub change_feed_poll: Duration,
    /// How often the customers of a back office without a change feed are refreshed.
    pub back_office_refresh: Duration,
}

impl Default for ServiceSettings {
    fn default() -> Self {
        ServiceSettings {
            session_idle: Duration::from_secs(30 * 60),
            session_absolute: Duration::from_secs(12 * 60 * 60),
            login_window: Duration::from_secs(15 * 60),
            login_max_failures_per_user: 5,
            login_max_failures_per_address: 20,
            undo_window_movement: Duration::from_secs(10),
            undo_window_beneficiary_deletion: Duration::from_secs(120),
            job_max_attempts: 5,
            job_workers: DEFAULT_JOB_WORKERS,
            job_poll_interval: Duration::from_millis(50),
            job_lease: Duration::from_secs(60),
            idempotency_abandon: Duration::from_secs(60),
            stand_in: stand_in::StandInLimits::default(),
            push_heartbeat: Duration::from_secs(15),
            push_pending_hellos_per_address: 64,
            change_feed_poll: Duration::from_secs(1),
            back_office_refresh: Duration::from_secs(5 * 60),
        }
    }
}

/// Everything a use case needs, shared by all requests.
#[derive(Clone)]
pub struct Services {
    pub store: Store,
    pub back_offices: BackOfficeRegistry,
    pub clock: Arc<dyn Clock>,
    pub settings: ServiceSettings,
    pub(crate) memos: Arc<memos::Memos>,
    /// Names this node's job claims.
    pub(crate) node_id: String,
    /// Wakes this node's job runner: a job became due, or a slot freed.
    pub(crate) job_wakeup: Arc<tokio::sync::Notify>,
    /// Turns true when this node stops: long-lived work (push connections) ends so shutdown can finish.
    stopping: Arc<tokio::sync::watch::Sender<bool>>,
    /// Open push connections on this node, per user.
    pub(crate) push_connections: Arc<push::Slots<bankgate_domain::ids::UserId>>,
    /// WebSockets on this node waiting for their hello, per address.
    pub(crate) push_hellos: Arc<push::Slots<std::net::IpAddr>>,
}

impl Services {
    pub fn new(
        store: Store,
        back_offices: BackOfficeRegistry,
        clock: Arc<dyn Clock>,
        settings: ServiceSettings,
    ) -> Self {
        Services {
            store,
            back_offices,
            clock,
            settings,
            memos: Arc::default(),
            node_id: format!("node-{}", bankgate_domain::ids::random_base36(10)),
            job_wakeup: Arc::default(),
            stopping: Arc::new(tokio::sync::watch::Sender::new(false)),
            push_connections: Arc::default(),
            push_hellos: Arc::default(),
        }
    }

    /// Tells long-lived work on this node to end: the node is stopping.
    pub fn begin_stopping(&self) {
        self.stopping.send_replace(true);
    }

    /// Resolves once this node is stopping.
    pub async fn stopped(&self) {
        let mut stopping = self.stopping.subscribe();
        let _ = stopping.wait_for(|stop| *stop).await;
    }

    /// The back offices where the user is a customer.
    pub async fn links(&self, user: &UserId) -> Result<Arc<Vec<BackOfficeLink>>> {
        if let Some(links) = self.memos.links.get(user) {
            return Ok(links);
        }
        let links = Arc::new(self.store.back_office_links(user).await?);
        self.memos.links.insert(user.clone(), links.clone());
        Ok(links)
    }

    /// Records that the user became a customer of a back office.
    pub async fn link_back_office(
        &self,
        user: &UserId,
        back_office: &BackOfficeId,
        customer: &BoRef,
    ) -> Result<()> {
        self.store
            .link_back_office(user, back_office, customer, self.clock.now())
            .await?;
        self.memos.links.remove(user);
        Ok(())
    }

    /// The user's cards as far as linking them to accounts and transactions needs.
    pub async fn card_links(&self, user: &UserId) -> Result<Arc<Vec<memos::CardLink>>> {
        if let Some(cards) = self.memos.cards.get(user) {
            return Ok(cards);
        }
        let cards: Vec<memos::CardLink> = self
            .store
            .list_cards(user)
            .await?
            .into_iter()
            .map(|c| memos::CardLink {
                id: c.id,
                account_id: c.account_id,
                back_office_id: c.back_office_id,
                card_id_bo: c.card.id_bo,
            })
            .collect();
        let cards = Arc::new(cards);
        self.memos.cards.insert(user.clone(), cards.clone());
        Ok(cards)
    }

    /// Records cards a back office reported, keeping the card memo right.
    pub async fn record_cards(
        &self,
        user: &UserId,
        back_office: &BackOfficeId,
        cards: &[(bankgate_backoffice::BoCard, bankgate_domain::ids::AccountId)],
    ) -> Result<Vec<bankgate_store::StoredCard>> {
        let recorded = self
            .store
            .record_cards(user, back_office, cards, self.clock.now())
            .await?;
        self.memos.cards.remove(user);
        Ok(recorded)
    }

    /// The display name of a configured back office.
    pub fn back_office_name(&self, id: &BackOfficeId) -> String {
        self.back_offices
            .get(id)
            .map(|b| b.display_name().to_owned())
            .unwrap_or_else(|_| id.to_string())
    }
}

impl Services {
    /// Like [`Self::call_back_office`], for a call that is safe to repeat (a read): an attempt that
    /// fails fast for want of an answer is tried again (see `BackOfficeRegistry::call_repeatable`).
    pub async fn read_back_office<T, F, Fut>(
        &self,
        back_office: &BackOfficeId,
        operation: &'static str,
        entity: Entity,
        call: F,
    ) -> Result<T>
    where
        F: Fn(Arc<dyn bankgate_backoffice::BackOffice>) -> Fut,
        Fut: std::future::Future<Output = std::result::Result<T, BackOfficeError>>,
    {
        self.back_offices
            .call_repeatable(back_office, operation, call)
            .await
            .map_err(|e| ServiceError::from_back_office(e, entity))
    }

    /// Calls back office `back_office` through the registry, mapping its failures to service errors
    /// about `entity`.
    pub async fn call_back_office<T, F, Fut>(
        &self,
        back_office: &BackOfficeId,
        operation: &'static str,
        entity: Entity,
        call: F,
    ) -> Result<T>
    where
        F: FnOnce(Arc<dyn bankgate_backoffice::BackOffice>) -> Fut,
        Fut: std::future::Future<Output = std::result::Result<T, BackOfficeError>>,
    {
        self.back_offices
            .call(back_office, operation, call)
            .await
            .map_err(|e| ServiceError::from_back_office(e, entity))
    }
}

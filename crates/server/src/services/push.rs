//! Push: what a user's open connections (`GET /events`, `GET /socket`) are sent. A connection reads the
//! user's event log from where it stands, in order, whenever the store announces new events for the user
//! (see `bankgate_store::events`), and sends each changed object as it now is. Events about sessions are
//! not sent: they make the connection check that its own session still stands.

use super::accounts::AccountView;
use super::beneficiaries::BeneficiaryView;
use super::stand_in::Freshness;
use super::transactions::TransactionView;
use super::users::UserView;
use super::{Result, Services};
use bankgate_domain::alerts::AlertType;
use bankgate_domain::ids::{AccountId, BeneficiaryId, CardId, OperationId, TransactionId, UserId};
use bankgate_store::{AlertSetting, EventKind, JobRecord, MessageRecord, StoredCard};
use time::OffsetDateTime;

/// The most events read from the log at once.
pub const BATCH: u32 = 200;
/// How long events are kept for reconnecting clients.
pub const KEEP_EVENTS: time::Duration = time::Duration::days(7);

/// The most push connections one user may have open on one node (phones, tablets, browser tabs): enough
/// for any person, few enough that a runaway client cannot hold a node's memory.
pub const MAX_CONNECTIONS_PER_USER: usize = 16;

/// Places counted per key on this node (a user's open push connections, an address's WebSockets awaiting
/// their hello), each freed when its [`Slot`] is dropped.
#[derive(Debug)]
pub struct Slots<K> {
    open: std::sync::Mutex<std::collections::HashMap<K, usize>>,
}

impl<K> Default for Slots<K> {
    fn default() -> Self {
        Slots {
            open: Default::default(),
        }
    }
}

impl<K: Eq + std::hash::Hash + Clone> Slots<K> {
    /// A place for `key`, unless it already holds `limit`.
    pub fn take(self: &std::sync::Arc<Self>, key: &K, limit: usize) -> Option<Slot<K>> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(key.clone()).or_insert(0);
        if *count >= limit {
            return None;
        }
        *count += 1;
        Some(Slot {
            slots: self.clone(),
            key: key.clone(),
        })
    }
}

/// One place taken in [`Slots`]; dropping it frees it.
#[derive(Debug)]
pub struct Slot<K: Eq + std::hash::Hash> {
    slots: std::sync::Arc<Slots<K>>,
    key: K,
}

impl<K: Eq + std::hash::Hash> Drop for Slot<K> {
    fn drop(&mut self) {
        let mut open = self.slots.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// A user's place among this node's push connections.
pub type ConnectionSlot = Slot<UserId>;

/// The object an event is about, as it now stands.
#[derive(Debug, Clone)]
pub enum PushObject {
    Undo(JobRecord),
    Message(MessageRecord),
    Account(Box<AccountView>),
    Card(Box<StoredCard>),
    Transaction(Box<TransactionView>),
    Beneficiary(Box<BeneficiaryView>),
    User(Box<UserView>),
    Alert(AlertSetting),
}

/// One event ready to send.
#[derive(Debug, Clone)]
pub struct PushEvent {
    pub id: i64,
    pub kind: EventKind,
    pub at: OffsetDateTime,
    pub object: PushObject,
}

/// Where a connection starts reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushStart {
    /// Send events after this one.
    pub cursor: i64,
    /// The client asked to resume from an event no longer kept: it missed changes and must read
    /// everything again.
    pub resync: bool,
}

/// The next events of a connection.
#[derive(Debug, Clone, Default)]
pub struct PushBatch {
    pub events: Vec<PushEvent>,
    /// Where the connection now stands.
    pub cursor: i64,
    /// A session of the user changed: the connection checks its own.
    pub session_changed: bool,
    /// The log may hold more after `cursor`.
    pub more: bool,
}

impl Services {
    /// Takes a place for a new push connection of `user`, unless they already have
    /// [`MAX_CONNECTIONS_PER_USER`] open on this node.
    pub fn open_push_connection(&self, user: &UserId) -> Result<ConnectionSlot> {
        self.push_connections
            .take(user, MAX_CONNECTIONS_PER_USER)
            .ok_or(super::ServiceError::TooManyConnections {
                limit: MAX_CONNECTIONS_PER_USER,
            })
    }

    /// A place for a WebSocket from `address` that will authenticate with its first message, held until
    /// that hello is read. A hello takes at most 10 s, so the limit bounds what one address can hold open
    /// without a token (`push_pending_hellos_per_address`).
    pub fn await_push_hello(&self, address: std::net::IpAddr) -> Result<Slot<std::net::IpAddr>> {
        let limit = self.settings.push_pending_hellos_per_address;
        self.push_hellos
            .take(&address, limit)
            .ok_or(super::ServiceError::TooManyPendingHellos { limit })
    }

    /// Where a connection of `user` starts: after `last_seen` (the last event id the client has), or,
    /// for a new client, after the latest event (it reads the current state the usual way).
    pub async fn push_start(&self, user: &UserId, last_seen: Option<i64>) -> Result<PushStart> {
        let latest = self.store.last_event(user).await?;
        let Some(seen) = last_seen.filter(|seen| (0..=latest).contains(seen)) else {
            return Ok(PushStart {
                cursor: latest,
                resync: last_seen.is_some(),
            });
        };
        let first_kept = self.store.first_kept_event(user).await?;
        let missed_some = seen < latest && first_kept.is_none_or(|first| first > seen + 1);
        Ok(PushStart {
            cursor: if missed_some { latest } else { seen },
            resync: missed_some,
        })
    }

    /// The user's next events after `cursor`, each with its object as it now stands.
    pub async fn push_batch(&self, user: &UserId, cursor: i64) -> Result<PushBatch> {
        let records = self.store.events_after(user, cursor, BATCH).await?;
        let mut batch = PushBatch {
            cursor,
            more: records.len() == BATCH as usize,
            ..PushBatch::default()
        };
        for record in records {
            batch.cursor = record.seq;
            let Some(kind) = record.kind else {
                // Written by a newer build (nodes are upgraded one at a time): passed over.
                continue;
            };
            if kind == EventKind::Session {
                batch.session_changed = true;
                continue;
            }
            let object = self.pushed_object(user, kind, &record.subject).await?;
            // An object gone since (pruned) has nothing left to show.
            if let Some(object) = object {
                batch.events.push(PushEvent {
                    id: record.seq,
                    kind,
                    at: record.at,
                    object,
                });
            }
        }
        Ok(batch)
    }

    /// The object an event names, as it now stands; None when it is gone (or was never the user's).
    async fn pushed_object(
        &self,
        user: &UserId,
        kind: EventKind,
        subject: &str,
    ) -> Result<Option<PushObject>> {
        let store = &self.store;
        Ok(match kind {
            EventKind::Session => None,
            EventKind::Undo => match OperationId::parse(subject) {
                Some(id) => store
                    .job(&id)
                    .await?
                    .filter(|j| &j.user_id == user)
                    .map(PushObject::Undo),
                None => None,
            },
            EventKind::Messages => store.message(user, subject).await?.map(PushObject::Message),
            EventKind::Accounts => match AccountId::parse(subject) {
                Some(id) => match store.get_account(user, &id).await? {
                    Some(stored) => self
                        .account_views(user, vec![(stored, Freshness::Confirmed)])
                        .await?
                        .pop()
                        .map(|view| PushObject::Account(Box::new(view))),
                    None => None,
                },
                None => None,
            },
            EventKind::Card | EventKind::Cards => match CardId::parse(subject) {
                Some(id) => store
                    .get_card(user, &id)
                    .await?
                    .map(|card| PushObject::Card(Box::new(card))),
                None => None,
            },
            EventKind::Transactions => match TransactionId::parse(subject) {
                Some(id) => match store.find_user_transaction(user, &id).await? {
                    Some(stored) => self
                        .transaction_views(user, vec![stored], Freshness::Confirmed)
                        .await?
                        .pop()
                        .map(|view| PushObject::Transaction(Box::new(view))),
                    None => None,
                },
                None => None,
            },
            EventKind::Beneficiaries => match BeneficiaryId::parse(subject) {
                Some(id) => match store.beneficiary_as_kept(user, &id).await? {
                    Some(record) => Some(PushObject::Beneficiary(Box::new(
                        super::beneficiaries::view(record)?,
                    ))),
                    None => None,
                },
                None => None,
            },
            EventKind::User => Some(PushObject::User(Box::new(self.get_user(user).await?))),
            EventKind::Alerts => match AlertType::parse(subject) {
                Some(alert) => self
                    .alerts(user)
                    .await?
                    .into_iter()
                    .find(|s| s.alert == alert)
                    .map(PushObject::Alert),
                None => None,
            },
        })
    }

    /// Forgets events older than [`KEEP_EVENTS`].
    pub async fn prune_events(&self) -> Result<u64> {
        Ok(self
            .store
            .prune_events(self.clock.now() - KEEP_EVENTS)
            .await?)
    }
}

//! bankgate's own store: users and their back-office links, devices, sessions, login throttling, and the
//! middleware's copy of every back-office object that passes through (accounts, cards, transactions),
//! each kept whole with when it was last confirmed; the job queue and holds behind money movement; the
//! event log behind push, messages and alert settings, and how far back offices' own changes are
//! followed.
//!
//! One implementation serves SQLite and PostgreSQL through [`bankgate_db::Db`]; the store contract suite
//! in `tests/` runs against both. Methods are use-case shaped and do their own transactions.
#![forbid(unsafe_code)]

mod accounts;
mod alerts;
mod announce;
mod beneficiaries;
mod cache;
mod cards;
mod events;
mod feeds;
mod holds;
mod idempotency;
mod jobs;
mod json;
pub mod memo;
mod messages;
mod on_demand;
mod records;
mod relay;
mod sessions;
mod transactions;
mod users;

pub use alerts::{AlertOccasion, AlertSetting, AlertSettingChange};
pub use announce::Announcements;
pub use beneficiaries::{BeneficiaryRecord, NewBeneficiaryRecord};
pub use events::{EventKind, EventRecord};
pub use feeds::FeedPosition;
pub use holds::{HoldPosition, NewHold};
pub use idempotency::{IdempotencyBegin, IdempotencyClaim, StoredResponse};
pub use jobs::{Cancelled, Enqueued, JobClaim, JobKind, JobOutcome, JobRecord, JobState, NewJob};
pub use messages::{MessageDetails, MessageRecord, NewMessage};
pub use records::*;
pub use relay::EVENTS_CHANNEL;

use bankgate_db::{Db, DbError};

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Errors of the store layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken (a user name already taken, ...).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// A row this call depends on does not exist.
    #[error("missing: {0}")]
    Missing(&'static str),
    #[error(transparent)]
    Db(#[from] DbError),
    /// A stored value bankgate wrote itself could not be read back.
    #[error("invalid stored {0}")]
    Invalid(&'static str),
    /// A write committed with others failed for a reason all of them share (told once in full).
    #[error("not written: {0}")]
    Unwritten(String),
    #[error("stored JSON could not be read: {0}")]
    Corrupt(#[from] serde_json::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Db(DbError::Sqlx(e))
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// The parameters `$first`, `$first + 1`, ... of a list of `count` values, for `IN (...)`.
pub(crate) fn parameter_list(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The middleware's store.
#[derive(Clone)]
pub struct Store {
    db: Db,
    /// This node's memo of the last recorded copy of each object, so that refreshing an unchanged object
    /// costs no query (see `cache.rs`).
    copies: std::sync::Arc<cache::CopyMemo>,
    /// This node's memo of each user's held amounts, dropped by any event of the user (see `holds.rs`).
    held: std::sync::Arc<holds::HeldMemo>,
    /// Hints that a user has new events, for this node's push connections (see `announce.rs`).
    announcer: std::sync::Arc<announce::Announcer>,
    /// Running jobs' writes waiting to be committed together (see `jobs/group.rs`).
    job_writes: std::sync::Arc<jobs::JobWriteQueue>,
    /// Users whose changes this node has yet to tell the other nodes of (see `relay.rs`).
    outgoing: std::sync::Arc<relay::OutgoingAnnouncements>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Wraps a connected database, applying bankgate's migrations first. Both engines share one set of
    /// migrations while their SQL is the same.
    pub async fn open(db: Db) -> Result<Store> {
        db.migrate(&MIGRATIONS, &MIGRATIONS).await?;
        Ok(Store {
            db,
            copies: std::sync::Arc::new(cache::new_copy_memo()),
            held: std::sync::Arc::new(holds::new_held_memo()),
            announcer: Default::default(),
            job_writes: Default::default(),
            outgoing: Default::default(),
        })
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Closes the database, once the other nodes have been told of this node's last changes (waiting a
    /// second at most for that).
    pub async fn close(&self) {
        self.finish_telling_other_nodes(std::time::Duration::from_secs(1))
            .await;
        self.db.close().await;
    }
}

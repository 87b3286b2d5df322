//! The shapes the store reads and writes: bankgate's own records, and back-office objects wrapped with
//! bankgate's id, the user's preferences for them, and when they were last confirmed.

use bankgate_backoffice::{BoAccount, BoCard, BoTransaction};
use bankgate_domain::ids::{
    AccountId, BackOfficeId, BoRef, CardId, DeviceId, TransactionId, UserId,
};
use bankgate_domain::user::UserProfile;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: UserId,
    pub user_name: String,
    pub profile: UserProfile,
    pub created_at: OffsetDateTime,
    pub modified_at: OffsetDateTime,
}

/// A new user, with its password already hashed.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: UserId,
    pub user_name: String,
    pub password_hash: String,
    pub profile: UserProfile,
    pub created_at: OffsetDateTime,
}

/// Where a user is a customer: back office and that back office's customer id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackOfficeLink {
    pub back_office_id: BackOfficeId,
    pub customer_id_bo: BoRef,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    pub id: DeviceId,
    pub user_id: UserId,
    pub channel: String,
    pub platform: Option<String>,
    pub is_active: bool,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    /// Absolute expiry of the device's newest live session, if it has one.
    pub session_expires_at: Option<OffsetDateTime>,
}

/// A device as seen at login: which user, channel and client-chosen key.
#[derive(Debug, Clone)]
pub struct DeviceLogin<'a> {
    pub user_id: &'a UserId,
    pub channel: &'a str,
    pub device_key: &'a str,
    pub platform: Option<&'a str>,
    pub at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub token_hash: String,
    pub user_id: UserId,
    pub device_id: DeviceId,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
}

/// What the user chose about an account; bankgate keeps these, the back office does not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccountPrefs {
    pub is_main: bool,
    pub is_hidden: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAccount {
    pub id: AccountId,
    pub user_id: UserId,
    pub back_office_id: BackOfficeId,
    pub account: BoAccount,
    pub prefs: AccountPrefs,
    pub refreshed_at: OffsetDateTime,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CardPrefs {
    pub name: Option<String>,
    pub is_main: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCard {
    pub id: CardId,
    pub user_id: UserId,
    pub account_id: AccountId,
    pub back_office_id: BackOfficeId,
    pub card: BoCard,
    pub prefs: CardPrefs,
    pub refreshed_at: OffsetDateTime,
}

/// The user's own notes on a transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TransactionAnnotations {
    pub comment: Option<String>,
    pub labels: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTransaction {
    pub id: TransactionId,
    pub user_id: UserId,
    pub account_id: AccountId,
    pub back_office_id: BackOfficeId,
    pub transaction: BoTransaction,
    pub annotations: TransactionAnnotations,
    pub refreshed_at: OffsetDateTime,
}

/// How long a confirmed-unchanged copy may go without rewriting its `refreshed_at`. Reads stay
/// write-free on the hot path; a stored `refreshed_at` lags the truth by at most this.
pub const REFRESH_REWRITE_MS: i64 = 5_000;

/// How long a stored copy's back-office version outranks a lower one offered after it: longer than a
/// read can take to be stored, and short enough that if a back office's clock steps back, its copies
/// are accepted again within a minute.
pub const VERSION_TRUST_MS: i64 = 60_000;

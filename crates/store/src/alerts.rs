//! Alert settings (section 17), and the alert messages new transactions send. Saving settings appends an
//! `alerts` event per changed setting; a transaction recorded for the first time sends, in the same
//! transaction as its row, a message for each of the user's alerts it fires (see
//! `bankgate_domain::alerts`), deduplicated by `<alertTypeId>:<transactionId>` so it is sent once
//! however many nodes record the line.

use crate::events::EventKind;
use crate::json::from_text;
use crate::messages::{insert_message, MessageDetails, NewMessage};
use crate::{Result, Store};
use bankgate_backoffice::{BoAccount, BoTransaction};
use bankgate_db::Conn;
use bankgate_db::Engine;
use bankgate_domain::alerts::{
    min_amount_of, transaction_notice, AlertNotice, AlertType, SummaryPeriod, TransactionFacts,
    ALERTS_SENDER,
};
use bankgate_domain::ids::{MessageId, UserId};
use bankgate_domain::time_format::{from_millis, to_millis};
use sqlx::{query, query_as};
use time::OffsetDateTime;

/// How far a back office's clock may lag bankgate's before its new lines look older than an alert.
const CLOCK_GRACE: time::Duration = time::Duration::minutes(1);
/// How old a line may be when bankgate first stores it and still be news: older ones are history the
/// user is only now looking at (a statement for last spring, an account linked with its past).
const NEWS_FOR: time::Duration = time::Duration::days(1);

/// A user's setting for one alert type.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertSetting {
    pub alert: AlertType,
    pub is_enabled: bool,
    /// A JSON object.
    pub parameters: serde_json::Value,
    /// When the user last changed it; None for a type never set.
    pub updated_at: Option<OffsetDateTime>,
}

impl AlertSetting {
    /// The setting of a type the user never set: off, without parameters.
    pub fn unset(alert: AlertType) -> Self {
        AlertSetting {
            alert,
            is_enabled: false,
            parameters: serde_json::Value::Object(Default::default()),
            updated_at: None,
        }
    }
}

/// A change to one setting; absent fields stay as they are.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertSettingChange {
    pub alert: AlertType,
    pub is_enabled: Option<bool>,
    /// A JSON object, checked by the caller.
    pub parameters: Option<serde_json::Value>,
}

/// Every type of the catalogue with its setting among `set` (unset types are off).
fn catalogue(set: Vec<AlertSetting>) -> Vec<AlertSetting> {
    AlertType::ALL
        .into_iter()
        .map(|alert| {
            set.iter()
                .find(|s| s.alert == alert)
                .cloned()
                .unwrap_or_else(|| AlertSetting::unset(alert))
        })
        .collect()
}

/// A transaction just stored for the first time.
pub(crate) struct NewLine<'a> {
    pub id: &'a str,
    pub account_id: &'a str,
    pub data: &'a str,
}

type SettingRow = (String, i64, String, i64);

async fn settings(conn: &mut Conn, user: &UserId, only_enabled: bool) -> Result<Vec<AlertSetting>> {
    let sql = if only_enabled {
        "SELECT alert_type_id, is_enabled, parameters, updated_at FROM alert_settings WHERE user_id = $1 AND is_enabled = 1"
    } else {
        "SELECT alert_type_id, is_enabled, parameters, updated_at FROM alert_settings WHERE user_id = $1"
    };
    let rows: Vec<SettingRow> = query_as(sql)
        .bind(user.as_str())
        .fetch_all(&mut *conn)
        .await?;
    let mut found = Vec::with_capacity(rows.len());
    for (id, enabled, parameters, updated) in rows {
        // A type since dropped from the catalogue is no longer offered.
        if let Some(alert) = AlertType::parse(&id) {
            found.push(AlertSetting {
                alert,
                is_enabled: enabled != 0,
                parameters: from_text(&parameters)?,
                updated_at: Some(from_millis(updated)),
            });
        }
    }
    Ok(found)
}

impl Store {
    /// The user's setting of every alert type in the catalogue, in catalogue order.
    pub async fn alert_settings(&self, user: &UserId) -> Result<Vec<AlertSetting>> {
        let mut conn = self.db.read().acquire().await?;
        Ok(catalogue(settings(&mut conn, user, false).await?))
    }

    /// Applies changes to the user's settings (absent fields stay as they are), merged with what is set
    /// inside the transaction, so concurrent changes of different fields both stand; settings that end
    /// up different get an `alerts` event. Every setting afterwards, in catalogue order.
    pub async fn change_alert_settings(
        &self,
        user: &UserId,
        changes: &[AlertSettingChange],
        at: OffsetDateTime,
    ) -> Result<Vec<AlertSetting>> {
        let mut tx = self.db.write().begin().await?;
        if self.db.engine() == Engine::Postgres {
            // One user's setting changes go one at a time (SQLite's single writer already does that).
            query("SELECT id FROM users WHERE id = $1 FOR UPDATE")
                .bind(user.as_str())
                .execute(&mut *tx)
                .await?;
        }
        let mut current = catalogue(settings(&mut tx, user, false).await?);
        let mut changed = Vec::new();
        for change in changes {
            let Some(setting) = current.iter_mut().find(|s| s.alert == change.alert) else {
                continue;
            };
            let is_enabled = change.is_enabled.unwrap_or(setting.is_enabled);
            let parameters = change
                .parameters
                .as_ref()
                .unwrap_or(&setting.parameters)
                .clone();
            if setting.is_enabled == is_enabled && setting.parameters == parameters {
                continue;
            }
            query(
                "INSERT INTO alert_settings (user_id, alert_type_id, is_enabled, parameters, updated_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, alert_type_id) DO UPDATE SET \
                 is_enabled = excluded.is_enabled, parameters = excluded.parameters, updated_at = excluded.updated_at",
            )
            .bind(user.as_str())
            .bind(change.alert.id())
            .bind(i64::from(is_enabled))
            .bind(parameters.to_string())
            .bind(to_millis(at))
            .execute(&mut *tx)
            .await?;
            *setting = AlertSetting {
                alert: change.alert,
                is_enabled,
                parameters,
                updated_at: Some(at),
            };
            changed.push(change.alert.id());
        }
        self.commit_with_events(tx, user, EventKind::Alerts, &changed, at)
            .await?;
        Ok(current)
    }

    /// Up to `limit` users (after `after`, in id order) who have `alert` on, each with when they set it.
    pub async fn users_with_alert_on(
        &self,
        alert: AlertType,
        after: Option<&UserId>,
        limit: u32,
    ) -> Result<Vec<(UserId, OffsetDateTime)>> {
        let rows: Vec<(String, i64)> = query_as(
            "SELECT user_id, updated_at FROM alert_settings WHERE alert_type_id = $1 AND is_enabled = 1 \
             AND user_id > $2 ORDER BY user_id LIMIT $3",
        )
        .bind(alert.id())
        .bind(after.map_or("", UserId::as_str))
        .bind(i64::from(limit))
        .fetch_all(self.db.read())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(user, at)| (UserId::from_trusted(user), from_millis(at)))
            .collect())
    }

    /// Sends the alerts that `lines`, just stored for the first time, fire; inside the caller's
    /// transaction, after its own events. How many were sent.
    pub(crate) async fn send_transaction_alerts(
        &self,
        conn: &mut Conn,
        user: &UserId,
        lines: &[NewLine<'_>],
        at: OffsetDateTime,
    ) -> Result<usize> {
        if lines.is_empty() {
            return Ok(0);
        }
        let enabled: Vec<AlertSetting> = settings(conn, user, true)
            .await?
            .into_iter()
            .filter(|s| s.alert.is_per_transaction())
            .collect();
        if enabled.is_empty() {
            return Ok(0);
        }
        let mut sent = 0;
        for line in lines {
            let transaction: BoTransaction = from_text(line.data)?;
            if transaction.recorded_at < at - NEWS_FOR {
                continue;
            }
            let account_name = account_name(conn, line.account_id).await?;
            let facts = TransactionFacts {
                amount: transaction.amount,
                by_card: transaction.card_id_bo.is_some(),
                narrative: &transaction.narrative,
                account_name: &account_name,
            };
            for setting in &enabled {
                // A line older than the setting is history the user is only now seeing (a first read
                // of an account), not news. The grace allows for the back office's clock.
                let since = setting.updated_at.map(|t| t - CLOCK_GRACE);
                if since.is_some_and(|since| transaction.recorded_at < since) {
                    continue;
                }
                // Parameters were checked when saved; a setting unreadable since fires without them.
                let min_amount = min_amount_of(&setting.parameters).ok().flatten();
                let Some(notice) = transaction_notice(setting.alert, min_amount, &facts) else {
                    continue;
                };
                let alert = AlertOccasion {
                    user,
                    alert: setting.alert,
                    occasion: line.id,
                    at,
                };
                if insert_alert(conn, self.db.engine(), &alert, notice).await? {
                    sent += 1;
                }
            }
        }
        Ok(sent)
    }
}

/// An alert to send: which, to whom, and on what occasion (a transaction id, a period), which with the
/// alert type makes its dedup code, so an occasion sends it once.
pub struct AlertOccasion<'a> {
    pub user: &'a UserId,
    pub alert: AlertType,
    pub occasion: &'a str,
    pub at: OffsetDateTime,
}

impl<'a> AlertOccasion<'a> {
    /// A summary report for `period`: its label is the occasion.
    pub fn summary(
        user: &'a UserId,
        alert: AlertType,
        period: &'a SummaryPeriod,
        at: OffsetDateTime,
    ) -> Self {
        AlertOccasion {
            user,
            alert,
            occasion: &period.label,
            at,
        }
    }

    /// `<alertTypeId>:<occasion>`: the same alert on the same occasion is the same message.
    pub fn dedup_code(&self) -> String {
        format!("{}:{}", self.alert.id(), self.occasion)
    }
}

/// Stores an alert's message (from [`ALERTS_SENDER`]) inside the caller's transaction, unless its
/// occasion already sent it. True when it was stored.
async fn insert_alert(
    conn: &mut Conn,
    engine: bankgate_db::Engine,
    alert: &AlertOccasion<'_>,
    notice: AlertNotice,
) -> Result<bool> {
    let details = MessageDetails {
        title: Some(notice.title),
        category: Some("alerts".to_owned()),
        severity: Some("info".to_owned()),
        ..MessageDetails::default()
    };
    let dedup_code = alert.dedup_code();
    let message = NewMessage {
        id: MessageId::generate(),
        user: alert.user,
        from: ALERTS_SENDER,
        to: alert.user.as_str(),
        text: &notice.text,
        details: &details,
        dedup_code: &dedup_code,
        at: alert.at,
    };
    insert_message(conn, engine, &message).await
}

impl Store {
    /// Sends an alert's message, once per occasion; true when this call sent it.
    pub async fn send_alert(&self, alert: &AlertOccasion<'_>, notice: AlertNotice) -> Result<bool> {
        let mut tx = self.db.write().begin().await?;
        if !insert_alert(&mut tx, self.db.engine(), alert, notice).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        tx.commit().await?;
        self.announce(alert.user);
        Ok(true)
    }
}

/// The name the user knows an account by, for alert texts.
async fn account_name(conn: &mut Conn, account_id: &str) -> Result<String> {
    let row: Option<(String,)> = query_as("SELECT data FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(match row {
        Some((data,)) => from_text::<BoAccount>(&data)?.name,
        None => "your account".to_owned(),
    })
}

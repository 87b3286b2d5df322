//! Alerts (section 17): the user's settings of the catalogue's alert types, and the periodic summary
//! reports. The store sends the transaction alerts, as messages, when a transaction that fires one is
//! recorded (see `bankgate_store`'s `alerts.rs`); every change of a setting is pushed.

use super::{Entity, Result, ServiceError, Services};
use bankgate_domain::alerts::{
    last_completed_period, min_amount_of, summary_notice, AccountSummary, AlertType, SummaryPeriod,
    ALERTS_SENDER,
};
use bankgate_domain::ids::UserId;
use bankgate_domain::Money;
use bankgate_store::{AlertOccasion, AlertSetting, AlertSettingChange};

/// The largest `parameters` object accepted, serialized.
const MAX_PARAMETERS_BYTES: usize = 2_048;

/// A change to one alert setting, as a sync item sends it; absent fields stay as they are.
#[derive(Debug, Clone)]
pub struct AlertChange {
    pub alert_type_id: String,
    pub is_enabled: Option<bool>,
    pub parameters: Option<serde_json::Value>,
}

impl Services {
    /// The user's setting of every alert type, in catalogue order.
    pub async fn alerts(&self, user: &UserId) -> Result<Vec<AlertSetting>> {
        Ok(self.store.alert_settings(user).await?)
    }

    /// Applies sync items to the user's settings: items naming a type outside the catalogue are ignored,
    /// as the contract expects; every item is checked before any is saved.
    pub async fn sync_alerts(
        &self,
        user: &UserId,
        changes: Vec<AlertChange>,
    ) -> Result<Vec<AlertSetting>> {
        let mut checked = Vec::with_capacity(changes.len());
        for change in changes {
            let Some(alert) = AlertType::parse(change.alert_type_id.trim()) else {
                continue;
            };
            let parameters = change.parameters.map(checked_parameters).transpose()?;
            checked.push(AlertSettingChange {
                alert,
                is_enabled: change.is_enabled,
                parameters,
            });
        }
        Ok(self
            .store
            .change_alert_settings(user, &checked, self.clock.now())
            .await?)
    }

    /// Turns one alert type on or off.
    pub async fn set_alert(&self, user: &UserId, alert_type_id: &str, enabled: bool) -> Result<()> {
        let alert = AlertType::parse(alert_type_id).ok_or(ServiceError::NotFound(Entity::Alert))?;
        let change = AlertSettingChange {
            alert,
            is_enabled: Some(enabled),
            parameters: None,
        };
        self.store
            .change_alert_settings(user, &[change], self.clock.now())
            .await?;
        Ok(())
    }
}

/// Users whose summaries are written per page.
const SUMMARY_PAGE: u32 = 200;
/// How long after a period ends its summary waits, so lines dated in it that reach bankgate a little
/// later (a settlement, a back office refreshed on schedule) are counted.
const SUMMARY_GRACE: time::Duration = time::Duration::days(1);

impl Services {
    /// Sends each summary report due: for every summary alert, the latest period that ended more than a
    /// day ago, to every user who had it on before that period ended. Repeats send nothing (each summary's dedup code
    /// is `<alertTypeId>:<period>`), so every node may run this. How many were sent.
    pub async fn send_due_summaries(&self) -> Result<usize> {
        let now = self.clock.now();
        let mut sent = 0;
        for alert in AlertType::ALL {
            let Some(period) = last_completed_period(alert, now - SUMMARY_GRACE) else {
                continue;
            };
            let mut after: Option<UserId> = None;
            loop {
                let users = self
                    .store
                    .users_with_alert_on(alert, after.as_ref(), SUMMARY_PAGE)
                    .await?;
                for (user, set_at) in &users {
                    // Turned on after the period ended: its first summary is the next one. One
                    // already sent (by this node or another) is not worked out again.
                    let code = AlertOccasion::summary(user, alert, &period, now).dedup_code();
                    if *set_at >= period.end
                        || self.store.message_sent(user, ALERTS_SENDER, &code).await?
                    {
                        continue;
                    }
                    if self.send_summary(user, alert, &period).await? {
                        sent += 1;
                    }
                }
                if users.len() < SUMMARY_PAGE as usize {
                    break;
                }
                after = users.last().map(|(user, _)| user.clone());
            }
        }
        Ok(sent)
    }

    /// Sends `user` the `alert` summary of `period`, from the transactions bankgate holds; false when it
    /// was already sent.
    async fn send_summary(
        &self,
        user: &UserId,
        alert: AlertType,
        period: &SummaryPeriod,
    ) -> Result<bool> {
        let mut summaries = Vec::new();
        let last_moment = period.end - time::Duration::milliseconds(1);
        for account in self.store.list_accounts(user).await? {
            let lines = self
                .store
                .list_stored_transactions(user, &account.id, period.start, last_moment, i64::MAX)
                .await?;
            let currency = account.account.ledger.currency;
            let mut summary = AccountSummary {
                account_name: account.account.name.clone(),
                credits: Money::zero(currency),
                credit_count: 0,
                debits: Money::zero(currency),
                debit_count: 0,
            };
            for line in lines.iter().map(|l| l.transaction.amount) {
                if line.currency != currency {
                    continue;
                }
                if line.minor > 0 {
                    summary.credits.minor = summary.credits.minor.saturating_add(line.minor);
                    summary.credit_count += 1;
                } else if line.minor < 0 {
                    summary.debits.minor = summary.debits.minor.saturating_sub(line.minor);
                    summary.debit_count += 1;
                }
            }
            if summary.credit_count + summary.debit_count > 0 {
                summaries.push(summary);
            }
        }
        let notice = summary_notice(alert, period, &summaries);
        let occasion = AlertOccasion::summary(user, alert, period, self.clock.now());
        Ok(self.store.send_alert(&occasion, notice).await?)
    }
}

/// Parameters must be a JSON object (`{}` clears them), small, with a readable `minAmount` if any.
fn checked_parameters(parameters: serde_json::Value) -> Result<serde_json::Value> {
    if !parameters.is_object() {
        return Err(ServiceError::invalid(
            "INVALID_PARAMETERS",
            "parameters must be a JSON object",
        ));
    }
    if parameters.to_string().len() > MAX_PARAMETERS_BYTES {
        return Err(ServiceError::invalid(
            "INVALID_PARAMETERS",
            format!("parameters are limited to {MAX_PARAMETERS_BYTES} bytes"),
        ));
    }
    min_amount_of(&parameters).map_err(|e| ServiceError::invalid("INVALID_PARAMETERS", e))?;
    Ok(parameters)
}

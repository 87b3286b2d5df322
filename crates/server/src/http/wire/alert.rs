//! Alerts (section 17) on the wire.

use super::common::dts;
use crate::services::alerts::AlertChange;
use bankgate_store::AlertSetting;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One alert type of the catalogue with the user's setting of it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AlertWire {
    /// `alert1` (Credit), `alert2` (Purchase), `alert21` (Debit), `alert4` (Loans due),
    /// `summaryReportsMonthly`, `summaryReportsQuarterly`, `summaryReportsAnnually`.
    pub alert_type_id: &'static str,
    pub category: &'static str,
    pub name: &'static str,
    pub is_enabled: bool,
    pub description_on: &'static str,
    pub description_off: &'static str,
    /// The user's parameters; transaction alerts read `minAmount` (a decimal, in the line's currency).
    #[schema(value_type = Object)]
    pub parameters: serde_json::Value,
    /// When the user last changed the setting; null if never.
    pub dts_updated: Option<String>,
}

impl From<&AlertSetting> for AlertWire {
    fn from(s: &AlertSetting) -> Self {
        AlertWire {
            alert_type_id: s.alert.id(),
            category: s.alert.category(),
            name: s.alert.name(),
            is_enabled: s.is_enabled,
            description_on: s.alert.description_on(),
            description_off: s.alert.description_off(),
            parameters: s.parameters.clone(),
            dts_updated: s.updated_at.map(dts),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlertsResponse {
    pub success: bool,
    /// Every alert type, on or off.
    pub alerts: Vec<AlertWire>,
}

/// One item of `POST /alerts`. `category` and `name` belong to the catalogue and are not changed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AlertSyncItem {
    pub alert_type_id: String,
    pub category: Option<String>,
    pub name: Option<String>,
    pub is_enabled: Option<bool>,
    /// A JSON object; `{}` clears it.
    #[schema(value_type = Option<Object>)]
    pub parameters: Option<serde_json::Value>,
}

impl From<AlertSyncItem> for AlertChange {
    fn from(item: AlertSyncItem) -> Self {
        AlertChange {
            alert_type_id: item.alert_type_id,
            is_enabled: item.is_enabled,
            parameters: item.parameters,
        }
    }
}

/// `POST /alert/:alertTypeId`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AlertToggleBody {
    pub is_enabled: bool,
}

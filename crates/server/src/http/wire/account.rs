//! The account object and the modify-account body.

use super::common::{dts, lenient_bool, Amount};
use crate::services::accounts::{AccountChanges, AccountView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct BalanceWire {
    #[schema(example = "USD")]
    pub currency: String,
    /// Ledger balance.
    #[schema(value_type = f64, example = 1000.00)]
    pub native: Amount,
    /// What can be spent now.
    #[schema(value_type = f64, example = 1000.00)]
    pub available: Amount,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountWire {
    #[serde(rename = "AFiAccountId")]
    pub afi_account_id: String,
    pub id: String,
    pub is_sync: bool,
    pub name: String,
    #[serde(rename = "AFiUserId")]
    pub afi_user_id: String,
    #[serde(rename = "primaryUserAFiUserId")]
    pub primary_user_afi_user_id: Option<String>,
    #[serde(rename = "AFiCardId")]
    pub afi_card_id: Option<String>,
    #[serde(rename = "accountIdBO")]
    pub account_id_bo: String,
    pub back_office_id: String,
    pub back_office_name: String,
    pub type_id: String,
    /// Routing number.
    pub rn: Option<String>,
    /// Account number, masked.
    #[schema(example = "100000******9622")]
    pub num: String,
    pub balance: BalanceWire,
    #[schema(example = "active")]
    pub status: String,
    pub is_active: bool,
    pub is_main: bool,
    pub is_hidden: bool,
    pub is_closed: bool,
    pub dts_opened: String,
    pub dts_updated: String,
    /// When the back office last confirmed this copy.
    pub dts_refreshed: String,
    /// True when served from bankgate's store while the back office is unavailable.
    pub is_stale: bool,
}

impl AccountWire {
    pub fn new(view: AccountView, back_office_name: String) -> Self {
        let available = view.available();
        let is_stale = view.freshness.is_stale();
        let s = view.stored;
        let a = s.account;
        AccountWire {
            afi_account_id: s.id.as_str().to_owned(),
            id: s.id.into_string(),
            is_sync: true,
            name: a.name,
            afi_user_id: s.user_id.into_string(),
            primary_user_afi_user_id: None,
            afi_card_id: view.card_id.map(|c| c.into_string()),
            account_id_bo: a.id_bo.0,
            back_office_id: s.back_office_id.to_string(),
            back_office_name,
            type_id: a.type_id,
            rn: a.routing_number,
            num: a.number_masked,
            balance: BalanceWire {
                currency: a.ledger.currency.to_string(),
                native: Amount(a.ledger),
                available: Amount(available),
            },
            status: a.status.as_str().to_owned(),
            is_active: a.status == bankgate_backoffice::AccountStatus::Active && !a.is_closed,
            is_main: s.prefs.is_main,
            is_hidden: s.prefs.is_hidden,
            is_closed: a.is_closed,
            dts_opened: dts(a.opened_at),
            dts_updated: dts(a.updated_at),
            dts_refreshed: dts(s.refreshed_at),
            is_stale,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountsResponse {
    pub success: bool,
    /// Present and true when a back office was unavailable and some accounts come from bankgate's store.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stand_in: bool,
    pub accounts: Vec<AccountWire>,
    /// When the client should refresh next.
    pub dts_update_next: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountResponse {
    pub account: AccountWire,
    pub success: bool,
    /// Present and true when the account's back office was unavailable and it comes from bankgate's store.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stand_in: bool,
    pub user_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ModifiedAccountResponse {
    pub success: bool,
    pub account: AccountWire,
}

/// `POST /accounts/{id}` body; other fields are ignored.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct AccountChangesBody {
    pub name: Option<String>,
    #[serde(deserialize_with = "lenient_bool")]
    pub is_main: Option<bool>,
    #[serde(deserialize_with = "lenient_bool")]
    pub is_hidden: Option<bool>,
}

impl From<AccountChangesBody> for AccountChanges {
    fn from(b: AccountChangesBody) -> Self {
        AccountChanges {
            name: b.name,
            is_main: b.is_main,
            is_hidden: b.is_hidden,
        }
    }
}

//! Beneficiaries on the wire: the add and modify bodies (every rail's fields, `isFavorite` or
//! `isFavourite`) here, and the beneficiary object and the answers in `view`. Account numbers, IBANs
//! and card numbers come back masked.

use super::common::{lenient_bool, patch, DecimalInput};
use crate::http::error::ApiError;
use crate::services::beneficiaries::{NewBeneficiary, SettingsChanges};
use bankgate_domain::beneficiary::{AddressFields, DestinationFields, Rail};
use bankgate_domain::ids::AccountId;
use bankgate_domain::patch::Patch;
use bankgate_domain::Currency;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

mod view;

pub use view::{
    BeneficiariesResponse, BeneficiaryDeletionResponse, BeneficiaryResponse, BeneficiaryWire,
};

/// The cheque address.
#[derive(Debug, Default, Clone, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct AddressWire {
    /// PRIMARY or SECONDARY.
    #[serde(rename = "type")]
    pub address_type: Option<String>,
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub province: Option<String>,
    pub postal_code: Option<String>,
    #[serde(alias = "countryCode")]
    pub country: Option<String>,
}

/// The destination fields of every rail; which are required depends on `txnType`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct DestinationWire {
    pub destination_name: Option<String>,
    pub destination_first_name: Option<String>,
    pub destination_last_name: Option<String>,
    pub bank_name: Option<String>,
    /// Exactly 9 digits with a valid ABA check digit.
    pub routing_number: Option<String>,
    pub account_number: Option<String>,
    /// CHECKING or SAVINGS.
    #[serde(rename = "type")]
    pub account_type: Option<String>,
    pub bic: Option<String>,
    pub iban: Option<String>,
    pub paypal_id: Option<String>,
    #[serde(rename = "destinationPAN")]
    pub destination_pan: Option<String>,
    #[serde(rename = "expiryYYYYMM")]
    pub expiry_yyyymm: Option<String>,
    #[serde(rename = "expiryMM")]
    pub expiry_mm: Option<String>,
    #[serde(rename = "expiryYY")]
    pub expiry_yy: Option<String>,
    pub legal_name: Option<String>,
    pub mobile: Option<String>,
    pub address: Option<AddressWire>,
}

impl From<DestinationWire> for DestinationFields {
    fn from(w: DestinationWire) -> Self {
        DestinationFields {
            destination_name: w.destination_name,
            destination_first_name: w.destination_first_name,
            destination_last_name: w.destination_last_name,
            bank_name: w.bank_name,
            routing_number: w.routing_number,
            account_number: w.account_number,
            account_type: w.account_type,
            bic: w.bic,
            iban: w.iban,
            paypal_id: w.paypal_id,
            destination_pan: w.destination_pan,
            expiry_yyyymm: w.expiry_yyyymm,
            expiry_mm: w.expiry_mm,
            expiry_yy: w.expiry_yy,
            legal_name: w.legal_name,
            mobile: w.mobile,
            address: w.address.map(|a| AddressFields {
                address_type: a.address_type,
                address_line1: a.address_line1,
                address_line2: a.address_line2,
                city: a.city,
                state: a.state,
                province: a.province,
                postal_code: a.postal_code,
                country: a.country,
            }),
        }
    }
}

/// The user's settings for a beneficiary, in add and modify bodies.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SettingsWire {
    pub name: Option<String>,
    /// A number or a numeric string.
    #[serde(default, deserialize_with = "flattened_amount")]
    #[schema(value_type = Option<f64>)]
    pub default_amount: Patch<DecimalInput>,
    /// The currency of `defaultAmount`: when left out, the kept default's, or else USD. Sent alone, it
    /// changes the currency of the kept default amount.
    pub default_currency: Option<String>,
    #[serde(default, deserialize_with = "patch")]
    #[schema(value_type = Option<String>)]
    pub default_source_account_id: Patch<String>,
    pub status: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub is_active: Option<bool>,
    #[serde(default, alias = "isFavorite", deserialize_with = "lenient_bool")]
    pub is_favourite: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub is_hidden: Option<bool>,
}

/// `defaultAmount` as a number or a numeric string; `null` clears it. The settings are flattened into the
/// request bodies, and serde buffers flattened fields as plain values, which [`DecimalInput`]'s raw-text
/// reading cannot see: the value is taken as JSON here and handed over as text.
fn flattened_amount<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Patch<DecimalInput>, D::Error> {
    use serde::de::Error as _;
    match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => Ok(Patch::Clear),
        Some(serde_json::Value::String(s)) => Ok(Patch::Set(DecimalInput(s.trim().to_owned()))),
        Some(serde_json::Value::Number(n)) => Ok(Patch::Set(DecimalInput(n.to_string()))),
        Some(_) => Err(D::Error::custom(
            "defaultAmount must be a number or a numeric string",
        )),
    }
}

impl SettingsWire {
    fn into_changes(self) -> Result<SettingsChanges, ApiError> {
        let default_currency = match self.default_currency.as_deref().map(str::trim) {
            Some(code) => Some(
                Currency::parse(code)
                    .map_err(|e| ApiError::bad_request("INVALID_CURRENCY", e.to_string()))?,
            ),
            None => None,
        };
        let default_amount = match self.default_amount {
            Patch::Set(amount) => Patch::Set(amount.0),
            Patch::Clear => Patch::Clear,
            Patch::Keep => Patch::Keep,
        };
        let default_source_account_id = match self.default_source_account_id {
            Patch::Set(id) => Patch::Set(
                AccountId::parse(id.trim())
                    .ok_or_else(|| ApiError::not_found("ACCOUNT_NOT_FOUND", "Account not found"))?,
            ),
            Patch::Clear => Patch::Clear,
            Patch::Keep => Patch::Keep,
        };
        Ok(SettingsChanges {
            name: self.name,
            default_amount,
            default_currency,
            default_source_account_id,
            status: self.status,
            is_active: self.is_active,
            is_favourite: self.is_favourite,
            is_hidden: self.is_hidden,
        })
    }
}

/// `PUT /beneficiaries` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewBeneficiaryBody {
    /// USA, USA_wire, international, paypal, tocard or cheque.
    #[schema(value_type = String, example = "USA")]
    pub txn_type: Option<serde_json::Value>,
    #[serde(flatten)]
    pub settings: SettingsWire,
    #[serde(flatten)]
    pub destination: DestinationWire,
}

impl NewBeneficiaryBody {
    pub fn into_new(self) -> Result<NewBeneficiary, ApiError> {
        const RAILS: &str = "USA, USA_wire, international, paypal, tocard or cheque";
        let rail = match self.txn_type {
            None | Some(serde_json::Value::Null) => {
                return Err(ApiError::bad_request(
                    "MISSING_FIELD",
                    format!("txnType is required: {RAILS}"),
                ))
            }
            // An unknown rail is a refused beneficiary naming its field, like any other bad value.
            Some(value) => Rail::deserialize(value).map_err(|_| {
                ApiError::bad_request(
                    "INVALID_BENEFICIARY",
                    format!("txnType is invalid: must be {RAILS}"),
                )
            })?,
        };
        Ok(NewBeneficiary {
            rail,
            fields: self.destination.into(),
            settings: self.settings.into_changes()?,
        })
    }
}

/// `POST /beneficiary/{id}` body: only the fields being changed. `txnType` cannot change.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BeneficiaryChangesBody {
    #[serde(flatten)]
    pub settings: SettingsWire,
    #[serde(flatten)]
    pub destination: DestinationWire,
}

impl BeneficiaryChangesBody {
    pub fn into_changes(self) -> Result<(SettingsChanges, DestinationFields), ApiError> {
        Ok((self.settings.into_changes()?, self.destination.into()))
    }
}

//! The beneficiary object as the wire shows it, and the answers that carry it.

use super::AddressWire;
use crate::http::wire::common::{dts, Amount};
use crate::http::wire::movement::UndoWire;
use crate::services::beneficiaries::{BeneficiaryView, KeptDestination};
use bankgate_domain::beneficiary::{Destination, Rail};
use bankgate_domain::Money;
use serde::Serialize;
use utoipa::ToSchema;

/// A beneficiary.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BeneficiaryWire {
    #[serde(rename = "AFiBeneficiaryId")]
    pub afi_beneficiary_id: String,
    pub id: String,
    #[serde(rename = "AFiUserId")]
    pub afi_user_id: String,
    pub user_id: String,
    #[schema(value_type = String, example = "USA")]
    pub txn_type: Rail,
    /// The rail, in words.
    pub type_name: String,
    pub name: String,
    #[schema(value_type = Option<f64>)]
    pub default_amount: Option<Amount>,
    pub default_currency: Option<String>,
    pub default_source_account_id: Option<String>,
    pub status: String,
    pub is_active: bool,
    pub is_favourite: bool,
    pub is_deleted: bool,
    pub is_hidden: bool,
    pub dts_created: String,
    pub dts_modified: String,
    /// CHECKING or SAVINGS, for US bank accounts.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub account_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routing_number: Option<String>,
    /// Masked: `****6789`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bic: Option<String>,
    /// Masked: country code and last four.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iban: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paypal_id: Option<String>,
    /// Masked: first four and last four.
    #[serde(rename = "destinationPAN", skip_serializing_if = "Option::is_none")]
    pub destination_pan: Option<String>,
    #[serde(rename = "expiryMM", skip_serializing_if = "Option::is_none")]
    pub expiry_mm: Option<String>,
    #[serde(rename = "expiryYY", skip_serializing_if = "Option::is_none")]
    pub expiry_yy: Option<String>,
    #[serde(rename = "expiryYYYYMM", skip_serializing_if = "Option::is_none")]
    pub expiry_yyyymm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legal_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<AddressWire>,
}

fn type_name(rail: Rail) -> &'static str {
    match rail {
        Rail::Ach => "USA interbank transfer",
        Rail::Wire => "USA wire transfer",
        Rail::Swift => "International transfer",
        Rail::Paypal => "PayPal",
        Rail::PushToCard => "Card",
        Rail::Cheque => "Cheque",
    }
}

impl From<BeneficiaryView> for BeneficiaryWire {
    fn from(view: BeneficiaryView) -> Self {
        let (record, data) = (view.record, view.data);
        let settings = data.settings;
        let mut wire = BeneficiaryWire {
            afi_beneficiary_id: record.id.to_string(),
            id: record.id.to_string(),
            afi_user_id: record.user_id.to_string(),
            user_id: record.user_id.to_string(),
            txn_type: data.rail,
            type_name: type_name(data.rail).to_owned(),
            name: settings.name,
            default_amount: settings.default_amount.map(Amount),
            default_currency: settings
                .default_amount
                .map(|m: Money| m.currency.to_string()),
            default_source_account_id: settings.default_source_account_id.map(|a| a.to_string()),
            status: settings.status,
            is_active: settings.is_active,
            is_favourite: settings.is_favourite,
            is_deleted: record.deleted_at.is_some(),
            is_hidden: settings.is_hidden,
            dts_created: dts(record.created_at),
            dts_modified: dts(record.updated_at),
            account_type: None,
            destination_name: None,
            destination_first_name: None,
            destination_last_name: None,
            bank_name: None,
            routing_number: None,
            account_number: None,
            bic: None,
            iban: None,
            paypal_id: None,
            destination_pan: None,
            expiry_mm: None,
            expiry_yy: None,
            expiry_yyyymm: None,
            legal_name: None,
            address: None,
        };
        match data.destination {
            KeptDestination::Card(card) => {
                wire.destination_pan = Some(card.masked_pan.as_str().to_owned());
                wire.destination_first_name = Some(card.first_name);
                wire.destination_last_name = Some(card.last_name);
                wire.expiry_yyyymm = Some(card.expiry.yyyymm());
                wire.expiry_mm = Some(format!("{:02}", card.expiry.month));
                wire.expiry_yy = Some(format!("{:02}", card.expiry.year % 100));
            }
            KeptDestination::Details(Destination::Ach(bank) | Destination::Wire(bank)) => {
                wire.account_number = Some(bank.masked_account_number());
                wire.account_type = Some(bank.account_type.as_str().to_owned());
                wire.destination_name = Some(bank.destination_name);
                wire.bank_name = Some(bank.bank_name);
                wire.routing_number = Some(bank.routing_number);
            }
            KeptDestination::Details(Destination::Swift {
                bic,
                iban,
                destination_name,
                bank_name,
            }) => {
                wire.bic = Some(bic.as_str().to_owned());
                wire.iban = Some(iban.masked());
                wire.destination_name = destination_name;
                wire.bank_name = bank_name;
            }
            KeptDestination::Details(Destination::Paypal { paypal_id }) => {
                wire.paypal_id = Some(paypal_id)
            }
            KeptDestination::Details(Destination::Cheque {
                legal_name,
                address,
            }) => {
                wire.legal_name = Some(legal_name);
                wire.address = Some(AddressWire {
                    address_type: address.address_type,
                    address_line1: Some(address.address_line1),
                    address_line2: address.address_line2,
                    city: Some(address.city),
                    state: address.state,
                    province: Some(address.province),
                    postal_code: Some(address.postal_code),
                    country: address.country,
                });
            }
            KeptDestination::Details(Destination::PushToCard(card)) => {
                wire.destination_pan = Some(card.masked_pan().as_str().to_owned());
            }
        }
        wire
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BeneficiariesResponse {
    pub success: bool,
    pub beneficiaries: Vec<BeneficiaryWire>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BeneficiaryResponse {
    pub success: bool,
    pub beneficiary: BeneficiaryWire,
}

/// The answer to a deletion: queued, undoable.
#[derive(Debug, Serialize, ToSchema)]
pub struct BeneficiaryDeletionResponse {
    pub success: bool,
    #[schema(example = "queued the beneficiary deletion")]
    pub text: String,
    pub undo: UndoWire,
}

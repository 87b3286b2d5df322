//! What a beneficiary is made of: the destination as bankgate keeps it (a card as its mask and vault
//! references, never its number), the user's settings, and the shapes requests and answers take.

use bankgate_domain::beneficiary::{Destination, DestinationFields, Rail};
use bankgate_domain::card::Expiry;
use bankgate_domain::ids::{AccountId, BackOfficeId};
use bankgate_domain::mask::MaskedPan;
use bankgate_domain::patch::Patch;
use bankgate_domain::{Currency, Money};
use bankgate_store::BeneficiaryRecord;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A card destination as bankgate keeps it: no number, only its mask and where it is vaulted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardOnFile {
    pub masked_pan: MaskedPan,
    pub expiry: Expiry,
    pub first_name: String,
    pub last_name: String,
    /// Back-office id to that back office's vault reference for the card.
    pub vault_refs: BTreeMap<BackOfficeId, String>,
}

/// The destination as kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeptDestination {
    /// Every rail but push-to-card, as validated.
    Details(Destination),
    Card(CardOnFile),
}

/// What the user chose about a beneficiary, beside where it pays to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeneficiarySettings {
    pub name: String,
    pub default_amount: Option<Money>,
    pub default_source_account_id: Option<AccountId>,
    pub status: String,
    pub is_active: bool,
    pub is_favourite: bool,
    pub is_hidden: bool,
}

/// A beneficiary's stored JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeneficiaryData {
    pub rail: Rail,
    pub destination: KeptDestination,
    pub settings: BeneficiarySettings,
}

/// A beneficiary as services and the wire see it.
#[derive(Debug, Clone)]
pub struct BeneficiaryView {
    pub record: BeneficiaryRecord,
    pub data: BeneficiaryData,
}

/// Changes to the user's settings for a beneficiary; absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct SettingsChanges {
    pub name: Option<String>,
    /// The decimal text sent, in `default_currency` if sent, else in the kept default's currency, else
    /// in USD.
    pub default_amount: Patch<String>,
    /// Sent without an amount, it re-denominates the kept default amount (or sets 0 in it).
    pub default_currency: Option<Currency>,
    pub default_source_account_id: Patch<AccountId>,
    pub status: Option<String>,
    pub is_active: Option<bool>,
    pub is_favourite: Option<bool>,
    pub is_hidden: Option<bool>,
}

/// `PUT /beneficiaries`, parsed.
#[derive(Debug, Clone)]
pub struct NewBeneficiary {
    pub rail: Rail,
    pub fields: DestinationFields,
    pub settings: SettingsChanges,
}

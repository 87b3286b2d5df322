//! Beneficiaries: the payment destinations a user registers, one shape per rail (`txnType`), each
//! validated by `parse` at the edge so a stored destination is always payable in form.
//!
//! [`DestinationFields`] is what the client sent, untouched; [`Destination::parse`] turns it into a
//! [`Destination`] or a [`BeneficiaryError`] naming the wire field at fault.

mod destination;
mod swift;

pub use destination::{
    BankAccountDestination, BankAccountType, CardDestination, Destination, PostalAddress,
};
pub use swift::{Bic, Iban};

use serde::{Deserialize, Serialize};

/// The payment rails of beneficiaries, named on the wire by `txnType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub enum Rail {
    /// US ACH.
    #[serde(rename = "USA")]
    Ach,
    /// US domestic wire.
    #[serde(rename = "USA_wire")]
    Wire,
    /// SWIFT.
    #[serde(rename = "international")]
    Swift,
    #[serde(rename = "paypal")]
    Paypal,
    /// Push to a card.
    #[serde(rename = "tocard")]
    PushToCard,
    /// A paper cheque sent by post.
    #[serde(rename = "cheque")]
    Cheque,
}

/// Why a destination was refused. `field` is the wire (camelCase) name of the offending field, with
/// `address.` in front for the cheque address, so the client can be told exactly what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BeneficiaryError {
    #[error("{field} is required")]
    Missing { field: &'static str },
    #[error("{field} is invalid: {reason}")]
    Invalid { field: &'static str, reason: String },
}

impl BeneficiaryError {
    /// The wire name of the field at fault.
    pub fn field(&self) -> &'static str {
        match self {
            BeneficiaryError::Missing { field } | BeneficiaryError::Invalid { field, .. } => field,
        }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        BeneficiaryError::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

/// The raw, unvalidated destination fields as they arrive; the HTTP layer fills it from JSON. Which of
/// them matter depends on the rail; the others are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DestinationFields {
    pub destination_name: Option<String>,
    pub destination_first_name: Option<String>,
    pub destination_last_name: Option<String>,
    pub bank_name: Option<String>,
    pub routing_number: Option<String>,
    pub account_number: Option<String>,
    /// `type` on the wire: "CHECKING" or "SAVINGS".
    pub account_type: Option<String>,
    pub bic: Option<String>,
    pub iban: Option<String>,
    pub paypal_id: Option<String>,
    pub destination_pan: Option<String>,
    pub expiry_yyyymm: Option<String>,
    pub expiry_mm: Option<String>,
    pub expiry_yy: Option<String>,
    pub legal_name: Option<String>,
    pub mobile: Option<String>,
    pub address: Option<AddressFields>,
}

/// The raw cheque address (`address` on the wire).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressFields {
    /// `type` on the wire: "PRIMARY" or "SECONDARY".
    pub address_type: Option<String>,
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub province: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

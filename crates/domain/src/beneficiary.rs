//! Beneficiaries: the payment destinations a user registers, one shape per rail (`txnType`), each
//! validated by `parse` at the edge so a stored destination is always payable in form.

use serde::{Deserialize, Serialize};

/// The payment rails of beneficiaries, named on the wire by `txnType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

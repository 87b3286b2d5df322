//! Building blocks of the wire format: exact decimal amounts in and out, lenient booleans, partial-update
//! fields, and the `{ success: true }` acknowledgement.

use bankgate_domain::patch::Patch;
use bankgate_domain::time_format::format_dts;
use bankgate_domain::{Currency, Money};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use time::OffsetDateTime;
use utoipa::ToSchema;

/// An amount written as a JSON number with exactly its currency's decimals (`1000.00`, `-0.01`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amount(pub Money);

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let raw =
            RawValue::from_string(self.0.to_decimal_string()).map_err(serde::ser::Error::custom)?;
        raw.serialize(s)
    }
}

/// A decimal amount as the client sent it, JSON number or string, kept as text so it converts to minor
/// units exactly once its currency is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecimalInput(pub String);

impl<'de> Deserialize<'de> for DecimalInput {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        let text = raw.get().trim();
        if text.starts_with('"') {
            let s: String = serde_json::from_str(text).map_err(D::Error::custom)?;
            Ok(DecimalInput(s.trim().to_owned()))
        } else if text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            Ok(DecimalInput(text.to_owned()))
        } else {
            Err(D::Error::custom(
                "amount must be a number or a numeric string",
            ))
        }
    }
}

impl DecimalInput {
    pub fn to_money(&self, currency: Currency) -> Result<Money, bankgate_domain::MoneyError> {
        Money::parse_decimal(&self.0, currency)
    }
}

/// `dts` text for a time.
pub fn dts(t: OffsetDateTime) -> String {
    format_dts(t)
}

/// A boolean that may arrive as `true` or as the string `"true"`.
pub fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Text(String),
    }
    match Option::<Flag>::deserialize(d)? {
        None => Ok(None),
        Some(Flag::Bool(b)) => Ok(Some(b)),
        Some(Flag::Text(t)) => match t.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(Some(true)),
            "false" | "0" | "no" => Ok(Some(false)),
            _ => Err(D::Error::custom(format!("expected a boolean, got {t:?}"))),
        },
    }
}

/// A field of a partial update: absent leaves it (via `#[serde(default)]`), `null` clears it.
pub fn patch<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Patch<T>, D::Error> {
    Ok(match Option::<T>::deserialize(d)? {
        Some(v) => Patch::Set(v),
        None => Patch::Clear,
    })
}

/// The plain acknowledgement.
#[derive(Debug, Serialize, ToSchema)]
pub struct Success {
    pub success: bool,
}

impl Success {
    pub const OK: Success = Success { success: true };
}

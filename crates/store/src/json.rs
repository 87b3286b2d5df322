//! Objects are kept as JSON text so a stored copy is complete whatever fields it has.

use crate::Result;
use serde::de::DeserializeOwned;
use serde::Serialize;

pub(crate) fn to_text<T: Serialize>(value: &T) -> Result<String> {
    Ok(serde_json::to_string(value)?)
}

pub(crate) fn from_text<T: DeserializeOwned>(text: &str) -> Result<T> {
    Ok(serde_json::from_str(text)?)
}

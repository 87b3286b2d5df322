//! The contract's JSON, exactly: camelCase names with the reference's `AFi`/`BO`/`dts` spellings,
//! amounts as JSON numbers written from exact minor units, times in the `dts` format. Wire types are not
//! domain types; each module converts between the two.

pub mod account;
pub mod alert;
pub mod auth;
pub mod beneficiary;
pub mod card;
pub mod common;
pub mod message;
pub mod movement;
pub mod rates;
pub mod transaction;
pub mod user;

//! One module per resource; each handler carries its own OpenAPI description, so the document is
//! generated from the real routes and cannot drift.

pub mod accounts;
pub mod alerts;
pub mod beneficiaries;
pub mod cards;
pub mod devices;
pub mod docs;
pub mod messages;
pub mod ping;
pub mod push;
pub mod rates;
pub mod token;
pub mod transactions;
pub mod transfers;
pub mod undo;
pub mod user;

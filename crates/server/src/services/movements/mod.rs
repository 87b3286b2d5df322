//! Money movements: transfers between the user's accounts (acc2acc and credit-card payments), remittances
//! and payments to beneficiaries. Accepting one fixes its plan (accounts, amounts, rate), places a hold on
//! the source and queues its job in one store transaction; executing it (`execute`) carries the plan out
//! at the back offices, as a saga when two are involved.

mod accept;
mod execute;
mod payments;
pub mod plan;
mod saga;

pub use accept::{Accepted, TransferRequest};
pub use payments::PaymentRequest;

//! The back-office side of bankgate: one async, object-safe trait per capability (customers, accounts,
//! cards, card authorization), the domain types they exchange, their error type, and the registry that
//! routes a call to the back office holding an object. An adapter implements the capabilities its system
//! has; asking for one it lacks is [`BackOfficeError::Unsupported`], never a panic.
#![forbid(unsafe_code)]

mod api;
mod error;
mod registry;
mod resilience;
#[cfg(feature = "schema")]
pub mod schema;
mod types;

pub use api::{
    AccountsApi, BackOffice, CardAuthorizationApi, CardsApi, ChangesApi, CustomersApi, PaymentsApi,
    RatesApi, TransfersApi,
};
pub use error::BackOfficeError;
pub use registry::{BackOfficeRegistry, CallObserver};
pub use resilience::{CircuitBreaker, CircuitState, ResiliencePolicy};
pub use types::*;

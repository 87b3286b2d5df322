//! A back office over HTTP. [`server`] exposes any [`bankgate_backoffice::BackOffice`] as an HTTP API of
//! its own (one route per trait method, described by its own OpenAPI document), with [`faults`] to inject
//! on an admin route; [`serve`] runs it, as `bankgate backoffice serve` does for a sandbox. [`client`]'s
//! [`HttpBackOffice`] is the adapter bankgate uses to reach such a back office: it implements the same
//! traits, so the registry and the services cannot tell it from an in-process one, and every error
//! crosses the wire as the variant it was ([`error`]).
#![forbid(unsafe_code)]

pub mod client;
pub mod error;
pub mod faults;
pub mod serve;
pub mod server;
pub mod wire;

pub use client::{parse_base_url, HttpBackOffice, HttpOptions};
pub use error::ErrorBody;
pub use faults::{FaultSettings, Faults};
pub use serve::{BackOfficeServer, SandboxServerSettings};
pub use server::{openapi, router, sandbox_router, LedgerAudit};

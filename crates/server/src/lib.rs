//! bankgate: one REST API for banking front ends, in front of several back-office banking systems.
//!
//! Layers, top to bottom (nothing reaches up): [`http`] (routing, wire types, errors) and [`admin`]
//! (the operations listener), [`services`] (the use cases), then the store (`bankgate-store`) and the
//! back offices (`bankgate-backoffice` traits, `bankgate-sandbox` implementation). [`app`] wires them.
#![forbid(unsafe_code)]

pub mod admin;
pub mod app;
pub mod config;
pub mod cross_node;
pub mod demo;
pub mod http;
pub mod metrics;
pub mod services;

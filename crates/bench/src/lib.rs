//! Load generators and the bank test for bankgate: an in-process world of customers (`world`), the
//! audited bank run (`bank`) and the transfer throughput run (`transfers`); a cluster of nodes and
//! back-office servers that can be killed and restarted (`cluster`), the calls that reach it
//! (`gateway`), the bank run under disruption (`chaos`), and push delivery to many WebSocket clients
//! (`push`), and reads against a running server (`reads`). The `bankgate-bench` binary
//! prints their figures; the bench crate's tests run the bank test on every engine.
#![forbid(unsafe_code)]

pub mod bank;
pub mod chaos;
pub mod cluster;
pub mod gateway;
pub mod push;
pub mod reads;
pub mod stats;
pub mod transfers;
pub mod world;

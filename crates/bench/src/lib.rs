//! Load generators and the bank test for bankgate: an in-process world of customers (`world`), the
//! audited bank run (`bank`), and the transfer throughput run (`transfers`). The `bankgate-bench` binary
//! prints their figures; the bench crate's tests run the bank test on every engine.
#![forbid(unsafe_code)]

pub mod bank;
pub mod stats;
pub mod transfers;
pub mod world;

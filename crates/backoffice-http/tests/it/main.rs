//! The back office over real HTTP: an in-process server on port 0 over a sandbox on a fresh database
//! (SQLite always, PostgreSQL too when `BANKGATE_TEST_POSTGRES_URL` is set), used through
//! `HttpBackOffice`. One test binary (its modules below) keeps linking cheap.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod banking;
mod common;
mod errors;
mod faults;
mod restart;

//! The sandbox's behaviour through its public API, on SQLite always and on PostgreSQL when
//! `BANKGATE_TEST_POSTGRES_URL` is set. One test binary (its modules below) keeps linking cheap.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod authorization;
mod cards;
mod changes;
mod common;
mod concurrency;
mod idempotency;
mod onboarding;
mod payouts;
mod persistence;
mod rates;
mod settlement;
mod statements;
mod transfers;

//! Integration tests of the storage, driven through the `Storage` traits:
//! every test on both backends, each with a real database of its own (an
//! SQLite file in a temporary directory; a PostgreSQL schema, see
//! `support.rs`). `sqlite::…` and `postgres::…` name the two runs;
//! `sqlite_only`/`postgres_only` hold what only one engine has (file
//! permissions; schemas, locks and replicas).

#![allow(
    clippy::duplicate_mod,
    reason = "each test file is compiled twice on purpose, once per backend"
)]

mod postgres;
mod sqlite;

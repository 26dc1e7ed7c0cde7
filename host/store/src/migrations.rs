//! The one list of schema migrations, for both backends.
//!
//! A migration has a version, a name, and its SQL per engine: SQLite's in
//! `sqlite::schema`, PostgreSQL's in `postgres::schema`. Each backend
//! applies the versions it lacks in order, each in its own transaction, and
//! records them in its `schema_migrations` table; it refuses a database
//! whose schema is newer than this list. A released migration is never
//! edited: a change is a new entry here, with both engines' SQL.

use crate::postgres::schema as pg;
use crate::sqlite::schema as lite;

/// One schema change, on either engine.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Migration {
    /// Applied in increasing order; recorded in `schema_migrations`.
    pub(crate) version: i64,
    /// A short name, for the log and `schema_migrations`.
    pub(crate) name: &'static str,
    /// The change on SQLite.
    pub(crate) sqlite: &'static str,
    /// The same change on PostgreSQL.
    pub(crate) postgres: &'static str,
}

/// Every migration, oldest first.
pub(crate) const MIGRATIONS: &[Migration] = &[
    m(1, "initial", lite::V1, pg::V1),
    m(2, "api-tokens", lite::V2, pg::V2),
    m(3, "corecase", lite::V3, pg::V3),
    m(4, "retention", lite::V4, pg::V4),
    m(5, "body-digest", lite::V5, pg::V5),
    m(6, "uninstalls", lite::V6, pg::V6),
    m(7, "approvals", lite::V7, pg::V7),
    m(8, "poison-and-fair-claims", lite::V8, pg::V8),
    m(9, "deaths", lite::V9, pg::V9),
    m(10, "started-suspects", lite::V10, pg::V10),
];

const fn m(
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
) -> Migration {
    Migration {
        version,
        name,
        sqlite,
        postgres,
    }
}

/// The newest schema version this build knows.
pub(crate) fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_increase_by_one_and_every_engine_has_sql() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{}", m.name);
            assert!(!m.sqlite.trim().is_empty(), "{}: no SQLite SQL", m.name);
            assert!(
                !m.postgres.trim().is_empty(),
                "{}: no PostgreSQL SQL",
                m.name
            );
        }
    }
}

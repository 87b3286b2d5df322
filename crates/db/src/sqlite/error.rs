//! SQLite's errors as sqlx errors, so that callers see the same `sqlx::Error::Database` (with its
//! constraint kind and SQLite's extended code) whichever way the statement ran.

use rusqlite::ffi;
use sqlx::error::{DatabaseError, ErrorKind};
use std::borrow::Cow;
use std::error::Error as StdError;

/// An error SQLite reported for a statement.
#[derive(Debug, thiserror::Error)]
#[error("(code: {code}) {message}")]
pub(crate) struct SqliteDbError {
    /// SQLite's extended result code.
    code: i32,
    message: String,
}

impl DatabaseError for SqliteDbError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Owned(self.code.to_string()))
    }

    fn as_error(&self) -> &(dyn StdError + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn StdError + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn StdError + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> ErrorKind {
        match self.code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                ErrorKind::UniqueViolation
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ErrorKind::ForeignKeyViolation,
            ffi::SQLITE_CONSTRAINT_NOTNULL => ErrorKind::NotNullViolation,
            ffi::SQLITE_CONSTRAINT_CHECK => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}

/// A rusqlite error as the sqlx error sqlx's SQLite driver would have returned.
pub(crate) fn from_rusqlite(e: rusqlite::Error) -> sqlx::Error {
    match e {
        rusqlite::Error::SqliteFailure(failure, message) => {
            sqlx::Error::Database(Box::new(SqliteDbError {
                code: failure.extended_code,
                message: message.unwrap_or_else(|| failure.to_string()),
            }))
        }
        rusqlite::Error::Utf8Error(e) => sqlx::Error::Decode(Box::new(e)),
        rusqlite::Error::ToSqlConversionFailure(e) => sqlx::Error::Encode(e),
        other => sqlx::Error::Protocol(other.to_string()),
    }
}

/// The database was locked by another connection and the statement did nothing: worth trying again.
/// (`SQLITE_BUSY_SNAPSHOT` is not: the transaction read a state that has since changed.)
pub(super) fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(failure, _)
        if matches!(failure.extended_code,
            ffi::SQLITE_BUSY | ffi::SQLITE_BUSY_RECOVERY | ffi::SQLITE_LOCKED))
}

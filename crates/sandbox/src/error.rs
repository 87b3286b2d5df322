//! The sandbox's error type and how it crosses into the back-office contract: business outcomes keep
//! their meaning, everything else becomes an opaque [`BackOfficeError::Internal`] whose detail is logged
//! here and never shown to callers.

use bankgate_backoffice::BackOfficeError;
use bankgate_db::DbError;
use bankgate_domain::restrictions::RestrictionError;

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The sandbox does not know the object.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request was understood and refused for a business reason.
    #[error("rejected ({code}): {message}")]
    Rejected { code: &'static str, message: String },
    #[error("database: {0}")]
    Db(#[from] DbError),
    /// A stored value the sandbox wrote itself could not be read back: a bug or a tampered database.
    #[error("corrupt sandbox data: {0}")]
    Corrupt(String),
    /// An internal rule (a balanced ledger entry, a free number) could not be kept; the transaction is
    /// abandoned instead.
    #[error("sandbox invariant violated: {0}")]
    Invariant(String),
    #[error("PIN hashing failed: {0}")]
    PinHash(String),
    /// [`crate::SandboxOptions`] the sandbox cannot run with.
    #[error("invalid sandbox options: {0}")]
    InvalidOptions(String),
}

impl SandboxError {
    pub(crate) fn rejected(code: &'static str, message: impl Into<String>) -> Self {
        SandboxError::Rejected {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn corrupt(what: impl std::fmt::Display) -> Self {
        SandboxError::Corrupt(what.to_string())
    }
}

impl From<sqlx::Error> for SandboxError {
    fn from(e: sqlx::Error) -> Self {
        SandboxError::Db(DbError::Sqlx(e))
    }
}

impl From<serde_json::Error> for SandboxError {
    fn from(e: serde_json::Error) -> Self {
        SandboxError::corrupt(format_args!("JSON: {e}"))
    }
}

/// Conflicting MCC lists are a state problem the user can fix; malformed keys are a bad request.
impl From<RestrictionError> for SandboxError {
    fn from(e: RestrictionError) -> Self {
        let code = match e {
            RestrictionError::BothMccLists | RestrictionError::OtherMccListPresent { .. } => {
                "RESTRICTION_CONFLICT"
            }
            RestrictionError::BadDay(_)
            | RestrictionError::BadTimeRange(_)
            | RestrictionError::BadMcc(_) => "RESTRICTION_INVALID",
        };
        SandboxError::rejected(code, e.to_string())
    }
}

impl From<SandboxError> for BackOfficeError {
    fn from(e: SandboxError) -> Self {
        match e {
            SandboxError::NotFound(what) => BackOfficeError::NotFound(what),
            SandboxError::Rejected { code, message } => BackOfficeError::Rejected { code, message },
            internal => {
                tracing::error!(error = %internal, "sandbox back office failed");
                BackOfficeError::Internal("sandbox back office error".to_owned())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_detail_is_not_leaked() {
        let e = SandboxError::corrupt("sbx_cards.restrictions of cd_x: expected value at line 1");
        assert_eq!(
            BackOfficeError::from(e),
            BackOfficeError::Internal("sandbox back office error".into())
        );
    }

    #[test]
    fn restriction_errors_keep_their_category() {
        let conflict = SandboxError::from(RestrictionError::BothMccLists);
        assert!(matches!(
            conflict,
            SandboxError::Rejected {
                code: "RESTRICTION_CONFLICT",
                ..
            }
        ));
        let invalid = SandboxError::from(RestrictionError::BadMcc("54".into()));
        assert!(matches!(
            invalid,
            SandboxError::Rejected {
                code: "RESTRICTION_INVALID",
                ..
            }
        ));
    }
}

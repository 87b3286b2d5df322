//! The one error type every back-office call returns.

use bankgate_domain::ids::BackOfficeId;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackOfficeError {
    /// The back office does not know the object (or it is not this customer's).
    #[error("{0} not found at the back office")]
    NotFound(&'static str),
    /// The back office understood the request and refused it for a business reason.
    #[error("rejected by the back office: {message}")]
    Rejected { code: &'static str, message: String },
    /// The back office could not be reached or did not answer in time.
    #[error("back office unavailable: {0}")]
    Unavailable(String),
    /// No back office with this id is configured.
    #[error("no back office {0} is configured")]
    UnknownBackOffice(BackOfficeId),
    /// The back office exists but has no such capability.
    #[error("back office {back_office} does not offer {capability}")]
    Unsupported {
        back_office: BackOfficeId,
        capability: &'static str,
    },
    /// Anything else: a bug or corrupt state at the back office. Logged, never shown to users.
    #[error("back office internal error: {0}")]
    Internal(String),
}

impl BackOfficeError {
    /// A label for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            BackOfficeError::NotFound(_) => "not_found",
            BackOfficeError::Rejected { .. } => "rejected",
            BackOfficeError::Unavailable(_) => "unavailable",
            BackOfficeError::UnknownBackOffice(_) => "unknown",
            BackOfficeError::Unsupported { .. } => "unsupported",
            BackOfficeError::Internal(_) => "internal",
        }
    }
}

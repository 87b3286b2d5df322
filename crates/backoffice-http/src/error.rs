//! The error body of the back-office API, and the mapping between it and [`BackOfficeError`] in both
//! directions. Every variant has its own `error` kind and status code, and the client turns a body back
//! into the same variant: names the contract keeps as `&'static str` (a not-found entity, a refusal code,
//! a capability) come back through tables of the names back offices use, with a generic name for any
//! other.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use bankgate_backoffice::BackOfficeError;
use bankgate_domain::ids::BackOfficeId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Every failure answers this body. `error` says what kind of failure it is; the other fields are there
/// for the kinds that carry them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// `not_found`, `rejected`, `unavailable`, `unknown_back_office`, `unsupported`, `internal`, or
    /// `bad_request` (the request itself was malformed: a caller's bug).
    #[schema(example = "rejected")]
    pub error: String,
    /// For `rejected`: the back office's refusal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "INSUFFICIENT_FUNDS")]
    pub code: Option<String>,
    #[schema(example = "the account's available balance does not cover 12.50 USD")]
    pub message: String,
    /// For `not_found`: what was not found (`account`, `card`, `customer`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    /// For `unsupported` and `unknown_back_office`: the back office meant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub back_office: Option<String>,
    /// For `unsupported`: the capability the back office does not offer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capability: Option<String>,
}

pub(crate) const BAD_REQUEST: &str = "bad_request";

/// The refusal codes back offices are known to use (all of the sandbox's). Any other code comes back as
/// [`GENERIC_REFUSAL`], with the code it had at the front of the message.
const REFUSAL_CODES: &[&str] = &[
    "ACCOUNT_BLOCKED",
    "ACCOUNT_CLOSED",
    "AMOUNT_TOO_LARGE",
    "CARD_EXPIRED",
    "CARD_INVALID",
    "CURRENCY_MISMATCH",
    "FX_MISMATCH",
    "INSUFFICIENT_FUNDS",
    "INVALID_AMOUNT",
    "PAYEE_INVALID",
    "RESTRICTION_CONFLICT",
    "RESTRICTION_INVALID",
    "SAME_ACCOUNT",
];

/// The refusal code given to a refusal whose own code this build does not know.
pub const GENERIC_REFUSAL: &str = "REJECTED";

/// The entities back offices report as not found; any other comes back as `"object"`.
const ENTITIES: &[&str] = &[
    "account",
    "card",
    "customer",
    "transaction",
    "payee",
    "object",
];

/// The capabilities of the back-office contract (as `require_*` names them), and the server's own.
const CAPABILITIES: &[&str] = &[
    "customers",
    "accounts",
    "cards",
    "card authorization",
    "transfers",
    "payments",
    "rates",
    "ledger report",
];

fn known(table: &[&'static str], name: &str) -> Option<&'static str> {
    table.iter().copied().find(|known| *known == name)
}

/// The status code and body that answer `error`.
pub fn to_wire(error: &BackOfficeError) -> (StatusCode, ErrorBody) {
    let body = |kind: &str, message: String| ErrorBody {
        error: kind.to_owned(),
        code: None,
        message,
        entity: None,
        back_office: None,
        capability: None,
    };
    match error {
        BackOfficeError::NotFound(entity) => (
            StatusCode::NOT_FOUND,
            ErrorBody {
                entity: Some((*entity).to_owned()),
                ..body("not_found", error.to_string())
            },
        ),
        BackOfficeError::Rejected { code, message } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorBody {
                code: Some((*code).to_owned()),
                ..body("rejected", message.clone())
            },
        ),
        BackOfficeError::Unavailable(detail) => (
            StatusCode::SERVICE_UNAVAILABLE,
            body("unavailable", detail.clone()),
        ),
        BackOfficeError::UnknownBackOffice(id) => (
            StatusCode::NOT_FOUND,
            ErrorBody {
                back_office: Some(id.to_string()),
                ..body("unknown_back_office", error.to_string())
            },
        ),
        BackOfficeError::Unsupported {
            back_office,
            capability,
        } => (
            StatusCode::NOT_IMPLEMENTED,
            ErrorBody {
                back_office: Some(back_office.to_string()),
                capability: Some((*capability).to_owned()),
                ..body("unsupported", error.to_string())
            },
        ),
        BackOfficeError::Internal(detail) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            body("internal", detail.clone()),
        ),
    }
}

/// The error an error body stands for. `back_office` is the id the caller knows the server by, used
/// when the body names none it can read.
pub fn from_wire(body: ErrorBody, back_office: &BackOfficeId) -> BackOfficeError {
    let named_office = |named: Option<String>| {
        named
            .as_deref()
            .and_then(BackOfficeId::parse)
            .unwrap_or_else(|| back_office.clone())
    };
    match body.error.as_str() {
        "not_found" => BackOfficeError::NotFound(
            body.entity
                .as_deref()
                .and_then(|e| known(ENTITIES, e))
                .unwrap_or("object"),
        ),
        "rejected" => {
            let code = body.code.unwrap_or_default();
            match known(REFUSAL_CODES, &code) {
                Some(code) => BackOfficeError::Rejected {
                    code,
                    message: body.message,
                },
                None => BackOfficeError::Rejected {
                    code: GENERIC_REFUSAL,
                    message: format!("{code}: {}", body.message),
                },
            }
        }
        "unavailable" => BackOfficeError::Unavailable(body.message),
        "unknown_back_office" => BackOfficeError::UnknownBackOffice(named_office(body.back_office)),
        "unsupported" => BackOfficeError::Unsupported {
            back_office: named_office(body.back_office),
            capability: body
                .capability
                .as_deref()
                .and_then(|c| known(CAPABILITIES, c))
                .unwrap_or("capability"),
        },
        "internal" => BackOfficeError::Internal(body.message),
        // `bad_request`, and kinds this build does not know: the two sides disagree about the API.
        other => BackOfficeError::Internal(format!(
            "back office {back_office} answered {other}: {}",
            body.message
        )),
    }
}

/// A failure as the server answers it.
#[derive(Debug)]
pub struct ErrorReply {
    pub status: StatusCode,
    pub body: ErrorBody,
}

impl ErrorReply {
    /// The request was malformed (a body or header that does not parse).
    pub fn bad_request(message: impl Into<String>) -> Self {
        ErrorReply {
            status: StatusCode::BAD_REQUEST,
            body: ErrorBody {
                error: BAD_REQUEST.to_owned(),
                code: None,
                message: message.into(),
                entity: None,
                back_office: None,
                capability: None,
            },
        }
    }

    pub fn no_such_route() -> Self {
        ErrorReply {
            status: StatusCode::NOT_FOUND,
            ..Self::bad_request("no such route")
        }
    }

    pub fn method_not_allowed() -> Self {
        ErrorReply {
            status: StatusCode::METHOD_NOT_ALLOWED,
            ..Self::bad_request("method not allowed on this route")
        }
    }
}

impl From<BackOfficeError> for ErrorReply {
    fn from(error: BackOfficeError) -> Self {
        let (status, body) = to_wire(&error);
        ErrorReply { status, body }
    }
}

impl IntoResponse for ErrorReply {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn office(id: &str) -> BackOfficeId {
        BackOfficeId::from_trusted(id.to_owned())
    }

    fn round_trip(error: &BackOfficeError) -> BackOfficeError {
        let (_, body) = to_wire(error);
        // Through JSON text, as on the wire.
        let text = serde_json::to_string(&body).unwrap();
        let back: ErrorBody = serde_json::from_str(&text).unwrap();
        from_wire(back, &office("caller-view"))
    }

    #[test]
    fn every_variant_comes_back_as_it_left() {
        let mut errors = vec![
            BackOfficeError::Unavailable("database busy".into()),
            BackOfficeError::UnknownBackOffice(office("sandbox-z")),
            BackOfficeError::Internal("sandbox back office error".into()),
        ];
        errors.extend(ENTITIES.iter().map(|e| BackOfficeError::NotFound(e)));
        errors.extend(REFUSAL_CODES.iter().map(|code| BackOfficeError::Rejected {
            code,
            message: format!("refused: {code}"),
        }));
        errors.extend(
            CAPABILITIES
                .iter()
                .map(|capability| BackOfficeError::Unsupported {
                    back_office: office("sandbox-a"),
                    capability,
                }),
        );
        for error in errors {
            assert_eq!(round_trip(&error), error);
        }
    }

    #[test]
    fn every_variant_has_its_own_kind_and_a_failure_status() {
        let cases = [
            (BackOfficeError::NotFound("card"), 404, "not_found"),
            (
                BackOfficeError::Rejected {
                    code: "INSUFFICIENT_FUNDS",
                    message: "no".into(),
                },
                422,
                "rejected",
            ),
            (BackOfficeError::Unavailable("x".into()), 503, "unavailable"),
            (
                BackOfficeError::UnknownBackOffice(office("b")),
                404,
                "unknown_back_office",
            ),
            (
                BackOfficeError::Unsupported {
                    back_office: office("b"),
                    capability: "rates",
                },
                501,
                "unsupported",
            ),
            (BackOfficeError::Internal("x".into()), 500, "internal"),
        ];
        for (error, status, kind) in cases {
            let (got_status, body) = to_wire(&error);
            assert_eq!(got_status.as_u16(), status, "{error:?}");
            assert_eq!(body.error, kind);
        }
    }

    #[test]
    fn unknown_names_fall_back_to_generic_ones() {
        let body = |error: &str| ErrorBody {
            error: error.into(),
            code: Some("NEW_RULE".into()),
            message: "a rule this build does not know".into(),
            entity: Some("mandate".into()),
            back_office: Some("not a valid id!".into()),
            capability: Some("loans".into()),
        };
        let caller = office("caller-view");
        assert_eq!(
            from_wire(body("rejected"), &caller),
            BackOfficeError::Rejected {
                code: GENERIC_REFUSAL,
                message: "NEW_RULE: a rule this build does not know".into()
            }
        );
        assert_eq!(
            from_wire(body("not_found"), &caller),
            BackOfficeError::NotFound("object")
        );
        assert_eq!(
            from_wire(body("unsupported"), &caller),
            BackOfficeError::Unsupported {
                back_office: caller.clone(),
                capability: "capability"
            }
        );
        assert!(matches!(
            from_wire(body("bad_request"), &caller),
            BackOfficeError::Internal(m) if m.contains("bad_request")
        ));
        assert!(matches!(
            from_wire(body("teapot"), &caller),
            BackOfficeError::Internal(_)
        ));
    }
}

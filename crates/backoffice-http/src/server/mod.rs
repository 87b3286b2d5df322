//! The back-office API: one route per method of the capability traits, serving any
//! [`BackOffice`]. Bodies are the serde types of `bankgate-backoffice` (wrapped in [`crate::wire`] only
//! where a method takes or gives something else), keyed calls take an `Idempotency-Key` header, and
//! every failure answers an [`ErrorBody`]; a capability the back office lacks answers `unsupported`.
//! Beside them: `GET /health`, the fault-injection admin routes, `GET /admin/ledger` (the ledger's
//! self-check, when the back office can give one) and `GET /openapi.json`.
//!
//! The handlers live by capability in the submodules; this module holds what they share (state,
//! extractors, the failures they document) and assembles the routes and the OpenAPI document.

use crate::error::{ErrorBody, ErrorReply};
use crate::faults::{self, Faults};
use crate::wire::{AccountMismatchBody, IDEMPOTENCY_KEY};
use async_trait::async_trait;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::middleware::from_fn_with_state;
use axum::{Json, Router};
use bankgate_backoffice::{BackOffice, BackOfficeError, IdempotencyKey};
use bankgate_domain::ids::BoRef;
use bankgate_sandbox::{LedgerReport, Sandbox};
use serde::de::DeserializeOwned;
use std::sync::Arc;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

mod accounts;
mod cards;
mod movements;
mod operations;

/// A back office that can check its own ledger (`GET /admin/ledger`).
#[async_trait]
pub trait LedgerAudit: Send + Sync + 'static {
    async fn ledger_report(&self) -> Result<LedgerReport, BackOfficeError>;
}

#[async_trait]
impl LedgerAudit for Sandbox {
    async fn ledger_report(&self) -> Result<LedgerReport, BackOfficeError> {
        Ok(Sandbox::ledger_report(self).await?)
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "bankgate back office",
        description = "One back office (a sandbox core-banking system) over HTTP: one route per method of \
            bankgate's back-office capability traits. Calls that create objects or move money take an \
            `Idempotency-Key` header: a repeat with the same key is answered with the first result and \
            applies nothing again. Failures answer an `ErrorBody`. Times are written as arrays of \
            integers (see the `DateTime`, `Date` and `LocalDateTime` schemas); money is `{minor, \
            currency}` in minor units."
    ),
    components(schemas(ErrorBody, AccountMismatchBody))
)]
struct ApiDoc;

/// The failures any back-office route can answer, each with an [`ErrorBody`].
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // Only describes responses; values are never built.
enum Failures {
    /// The request is malformed (`bad_request`).
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// The object is not known (`not_found`).
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// Refused for a business reason (`rejected`, with its `code`).
    #[response(status = 422)]
    Rejected(ErrorBody),
    /// Failed on the back office's side (`internal`).
    #[response(status = 500)]
    Internal(ErrorBody),
    /// The back office does not offer this capability (`unsupported`).
    #[response(status = 501)]
    Unsupported(ErrorBody),
    /// Could not be served now (`unavailable`); it may have been applied only if the reply was lost.
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

/// What the handlers share.
#[derive(Clone)]
struct AppState {
    back_office: Arc<dyn BackOffice>,
    ledger: Option<Arc<dyn LedgerAudit>>,
    faults: Faults,
    openapi: Arc<str>,
}

type Reply<T> = Result<T, ErrorReply>;

/// A JSON body whose rejection is an [`ErrorBody`].
struct JsonBody<T>(T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ErrorReply;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => Err(ErrorReply::bad_request(rejection.body_text())),
        }
    }
}

/// The `Idempotency-Key` header, required.
struct Key(IdempotencyKey);

impl<S: Send + Sync> FromRequestParts<S> for Key {
    type Rejection = ErrorReply;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .headers
            .get(IDEMPOTENCY_KEY)
            .and_then(|value| value.to_str().ok())
            .filter(|key| !key.is_empty())
            .map(|key| Key(IdempotencyKey(key.to_owned())))
            .ok_or_else(|| ErrorReply::bad_request("an Idempotency-Key header is required"))
    }
}

/// The one object reference in the path.
struct Ref(BoRef);

impl<S: Send + Sync> FromRequestParts<S> for Ref {
    type Rejection = ErrorReply;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(Ref(BoRef(id))),
            Err(rejection) => Err(ErrorReply::bad_request(rejection.body_text())),
        }
    }
}

/// The back-office routes, which take every fault.
fn back_office_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(accounts::create_customer))
        .routes(routes!(accounts::list_accounts, accounts::open_account))
        .routes(routes!(accounts::get_account, accounts::rename_account))
        .routes(routes!(accounts::list_transactions))
        .routes(routes!(accounts::deposit))
        .routes(routes!(cards::list_cards))
        .routes(routes!(cards::get_card))
        .routes(routes!(cards::issue_card))
        .routes(routes!(cards::activate_card))
        .routes(routes!(cards::set_card_enabled))
        .routes(routes!(cards::set_pin))
        .routes(routes!(cards::reissue_card))
        .routes(routes!(cards::update_restrictions))
        .routes(routes!(cards::authorize))
        .routes(routes!(movements::book_transfer))
        .routes(routes!(movements::debit_to_settlement))
        .routes(routes!(movements::credit_from_settlement))
        .routes(routes!(movements::pay_out))
        .routes(routes!(movements::vault_card))
        .routes(routes!(movements::rate_board))
        .routes(routes!(movements::changes_since))
}

fn api_routes(faults: &Faults) -> OpenApiRouter<AppState> {
    let back_office =
        back_office_routes().route_layer(from_fn_with_state(faults.clone(), faults::inject));
    let health = OpenApiRouter::new()
        .routes(routes!(operations::health))
        .route_layer(from_fn_with_state(faults.clone(), faults::inject_delay));
    let admin = OpenApiRouter::new()
        .routes(routes!(
            operations::get_faults,
            operations::set_faults,
            operations::clear_faults
        ))
        .routes(routes!(operations::ledger_report))
        .routes(routes!(operations::openapi_json));
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(back_office)
        .merge(health)
        .merge(admin)
}

/// The OpenAPI document of the back-office API.
pub fn openapi() -> OpenApiDoc {
    api_routes(&Faults::default()).split_for_parts().1
}

/// The router serving `back_office`, with `ledger` behind `GET /admin/ledger` when given, and the fault
/// settings `faults`.
pub fn router(
    back_office: Arc<dyn BackOffice>,
    ledger: Option<Arc<dyn LedgerAudit>>,
    faults: Faults,
) -> Router {
    let (router, api) = api_routes(&faults).split_for_parts();
    let state = AppState {
        back_office,
        ledger,
        faults,
        openapi: api.to_pretty_json().unwrap_or_default().into(),
    };
    router
        .fallback(|| async { ErrorReply::no_such_route() })
        .method_not_allowed_fallback(|| async { ErrorReply::method_not_allowed() })
        .with_state(state)
}

/// Serves a sandbox: every capability, and its ledger report.
pub fn sandbox_router(sandbox: Arc<Sandbox>, faults: Faults) -> Router {
    router(sandbox.clone(), Some(sandbox), faults)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn refs<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    found.push(target);
                }
                map.values().for_each(|v| refs(v, found));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
            _ => {}
        }
    }

    #[test]
    fn the_document_lists_every_route_and_every_reference_resolves() {
        let doc = serde_json::to_value(openapi()).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        let mut operations: Vec<String> = paths
            .iter()
            .flat_map(|(path, item)| {
                item.as_object()
                    .unwrap()
                    .keys()
                    .map(move |method| format!("{} {path}", method.to_uppercase()))
            })
            .collect();
        operations.sort();
        let expected = [
            "DELETE /admin/faults",
            "GET /accounts/{account}",
            "GET /admin/faults",
            "GET /admin/ledger",
            "GET /cards/{card}",
            "GET /changes/{after}/{limit}",
            "GET /customers/{customer}/accounts",
            "GET /customers/{customer}/cards",
            "GET /health",
            "GET /openapi.json",
            "GET /rates",
            "PATCH /accounts/{account}",
            "PATCH /cards/{card}/restrictions",
            "POST /accounts/{account}/cards",
            "POST /accounts/{account}/deposits",
            "POST /accounts/{account}/transactions/query",
            "POST /authorizations",
            "POST /cards/{card}/activate",
            "POST /cards/{card}/reissue",
            "POST /customers",
            "POST /customers/{customer}/accounts",
            "POST /payouts",
            "POST /transfers/book",
            "POST /transfers/credit-from-settlement",
            "POST /transfers/debit-to-settlement",
            "POST /vault/cards",
            "PUT /admin/faults",
            "PUT /cards/{card}/enabled",
            "PUT /cards/{card}/pin",
        ];
        assert_eq!(operations, expected);

        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(!found.is_empty());
        for target in found {
            let name = target
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("unexpected reference {target}"));
            assert!(schemas.contains_key(name), "{target} does not resolve");
        }
        // Times are described as what serde writes, arrays of integers, not as strings.
        assert_eq!(schemas["DateTime"]["type"], "array");
        assert_eq!(schemas["DateTime"]["maxItems"], 9);
        assert_eq!(schemas["Rate"]["type"], "string");
        assert_eq!(schemas["Currency"]["type"], "string");
        assert_eq!(
            schemas["Money"]["properties"]["minor"]["type"], "integer",
            "money is minor units"
        );
    }
}

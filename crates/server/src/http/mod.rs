//! The public HTTP API: routing, the `token` extractor, the contract's wire types, and errors mapped to
//! the contract's status codes. Handlers are thin: parse the wire, call a service, write the wire.

pub mod docs_page;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod paths;
pub mod routes;
pub mod wire;

use crate::metrics::{track_requests, Metrics};
use crate::services::Services;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::Router;
use error::ApiError;
use routes::{
    accounts, alerts, beneficiaries, cards, devices, docs, messages, ping, push, rates, token,
    transactions, transfers, undo, user,
};
use std::sync::Arc;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Largest request body accepted; larger ones get 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(title = "bankgate", description = "One REST API for banking front ends, in front of several back-office systems. \
        Every call but the heartbeat, login and these docs needs the `token` header from `PUT /token`. \
        Failures answer `{ success: false, code, message }`."),
    modifiers(&TokenHeader),
    security(("token" = [])),
    components(schemas(error::ErrorBody))
)]
struct ApiDoc;

struct TokenHeader;

impl Modify for TokenHeader {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("token"))),
        );
    }
}

/// The OpenAPI document and its HTML rendering, built once.
pub struct Docs {
    pub json: String,
    pub html: String,
}

#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub docs: Arc<Docs>,
}

/// Every public route, with its OpenAPI description.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(ping::heartbeat))
        .routes(routes!(token::login, token::logout))
        .routes(routes!(user::get_user, user::update_user))
        .routes(routes!(devices::list_devices))
        .routes(routes!(devices::sync_authenticated_devices))
        .routes(routes!(accounts::list_accounts))
        .routes(routes!(accounts::get_account, accounts::modify_account))
        .routes(routes!(transactions::latest_transactions))
        .routes(routes!(transactions::transactions_between))
        .routes(routes!(transactions::modify_transaction))
        .routes(routes!(cards::list_cards))
        .routes(routes!(cards::get_card, cards::modify_card))
        .routes(routes!(cards::activate_card))
        .routes(routes!(cards::set_card_pin))
        .routes(routes!(cards::reissue_card))
        .routes(routes!(cards::restrict_card))
        .routes(routes!(cards::switch_card))
        .routes(routes!(transfers::acc2acc))
        .routes(routes!(transfers::acc2ben))
        .routes(routes!(transfers::remittance))
        .routes(routes!(transfers::credit_card_payment))
        .routes(routes!(
            beneficiaries::list_beneficiaries,
            beneficiaries::add_beneficiary
        ))
        .routes(routes!(
            beneficiaries::modify_beneficiary,
            beneficiaries::delete_beneficiary
        ))
        .routes(routes!(undo::list_undo))
        .routes(routes!(undo::get_undo, undo::cancel_undo))
        .routes(routes!(undo::undo_now))
        .routes(routes!(undo::undo_all_now))
        .routes(routes!(rates::get_rates))
        .routes(routes!(messages::list_messages, messages::send_message))
        .routes(routes!(messages::messages_since))
        .routes(routes!(messages::read_message))
        .routes(routes!(alerts::list_alerts, alerts::sync_alerts))
        .routes(routes!(alerts::set_alert))
        .routes(routes!(push::events))
        .routes(routes!(push::socket))
        .routes(routes!(docs::openapi_json))
        .routes(routes!(docs::docs_page))
}

/// The OpenAPI document of the public API.
pub fn openapi() -> OpenApiDoc {
    api_routes().split_for_parts().1
}

/// The public API's router. Path aliases are resolved by [`paths::normalize_request`], which the
/// listener applies before this router sees a request.
pub fn router(services: Services, metrics: Arc<Metrics>) -> Router {
    let (router, api) = api_routes().split_for_parts();
    let json = api.to_pretty_json().unwrap_or_default();
    let html = serde_json::from_str(&json)
        .map(|doc| docs_page::render(&doc))
        .unwrap_or_default();
    let state = AppState {
        services,
        docs: Arc::new(Docs { json, html }),
    };
    router
        .fallback(|| async { ApiError::not_found("NO_SUCH_ROUTE", "no such route") })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(from_fn_with_state(state.clone(), idempotency::idempotency))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(from_fn_with_state(metrics, track_requests))
        .with_state(state)
}

//! The back-office API: one route per method of the capability traits, serving any
//! [`BackOffice`]. Bodies are the serde types of `bankgate-backoffice` (wrapped in [`crate::wire`] only
//! where a method takes or gives something else), keyed calls take an `Idempotency-Key` header, and
//! every failure answers an [`ErrorBody`]; a capability the back office lacks answers `unsupported`.
//! Beside them: `GET /health`, the fault-injection admin routes, `GET /admin/ledger` (the ledger's
//! self-check, when the back office can give one) and `GET /openapi.json`.

use crate::error::{ErrorBody, ErrorReply};
use crate::faults::{self, FaultSettings, Faults};
use crate::wire::{
    AccountMismatchBody, CardSwitch, CreatedRef, Health, LedgerReportBody, NewPin, Reissue,
    RenameAccount, RestrictionPatch, IDEMPOTENCY_KEY,
};
use async_trait::async_trait;
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::response::IntoResponse;
use axum::{Json, Router};
use bankgate_backoffice::{
    AuthorizationOutcome, AuthorizationRequest, BackOffice, BackOfficeError, BoAccount, BoCard,
    BoChange, BoTransaction, BookTransfer, CardToVault, Deposit, IdempotencyKey, IssueCard,
    NewCustomer, OpenAccount, Payout, RateBoard, SettlementLeg, TransactionQuery, TransferLegs,
};
use bankgate_domain::card::Pin;
use bankgate_domain::ids::BoRef;
use bankgate_sandbox::{LedgerReport, Sandbox};
use serde::de::DeserializeOwned;
use std::sync::Arc;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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
        .routes(routes!(create_customer))
        .routes(routes!(list_accounts, open_account))
        .routes(routes!(get_account, rename_account))
        .routes(routes!(list_transactions))
        .routes(routes!(deposit))
        .routes(routes!(list_cards))
        .routes(routes!(get_card))
        .routes(routes!(issue_card))
        .routes(routes!(activate_card))
        .routes(routes!(set_card_enabled))
        .routes(routes!(set_pin))
        .routes(routes!(reissue_card))
        .routes(routes!(update_restrictions))
        .routes(routes!(authorize))
        .routes(routes!(book_transfer))
        .routes(routes!(debit_to_settlement))
        .routes(routes!(credit_from_settlement))
        .routes(routes!(pay_out))
        .routes(routes!(vault_card))
        .routes(routes!(rate_board))
        .routes(routes!(changes_since))
}

fn api_routes(faults: &Faults) -> OpenApiRouter<AppState> {
    let back_office =
        back_office_routes().route_layer(from_fn_with_state(faults.clone(), faults::inject));
    let health = OpenApiRouter::new()
        .routes(routes!(health))
        .route_layer(from_fn_with_state(faults.clone(), faults::inject_delay));
    let admin = OpenApiRouter::new()
        .routes(routes!(get_faults, set_faults, clear_faults))
        .routes(routes!(ledger_report))
        .routes(routes!(openapi_json));
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

// ---- customers ----

/// Registers a customer.
#[utoipa::path(post, path = "/customers", tag = "customers",
    params(("Idempotency-Key" = String, Header, description = "Makes the call safe to repeat")),
    request_body = NewCustomer,
    responses((status = 201, description = "The new customer's reference", body = CreatedRef), Failures))]
async fn create_customer(
    State(s): State<AppState>,
    Key(key): Key,
    JsonBody(customer): JsonBody<NewCustomer>,
) -> Reply<(StatusCode, Json<CreatedRef>)> {
    let customers = s.back_office.require_customers()?;
    let id_bo = customers.create_customer(&customer, &key).await?;
    Ok((StatusCode::CREATED, Json(CreatedRef { id_bo })))
}

// ---- accounts ----

/// The customer's accounts.
#[utoipa::path(get, path = "/customers/{customer}/accounts", tag = "accounts",
    params(("customer" = String, Path, description = "The customer's reference")),
    responses((status = 200, body = Vec<BoAccount>), Failures))]
async fn list_accounts(
    State(s): State<AppState>,
    Ref(customer): Ref,
) -> Reply<Json<Vec<BoAccount>>> {
    let accounts = s.back_office.require_accounts()?;
    Ok(Json(accounts.list_accounts(&customer).await?))
}

/// Opens an account for the customer.
#[utoipa::path(post, path = "/customers/{customer}/accounts", tag = "accounts",
    params(("customer" = String, Path, description = "The customer's reference"),
        ("Idempotency-Key" = String, Header, description = "Makes the call safe to repeat")),
    request_body = OpenAccount,
    responses((status = 201, body = BoAccount), Failures))]
async fn open_account(
    State(s): State<AppState>,
    Ref(customer): Ref,
    Key(key): Key,
    JsonBody(request): JsonBody<OpenAccount>,
) -> Reply<(StatusCode, Json<BoAccount>)> {
    let accounts = s.back_office.require_accounts()?;
    let account = accounts.open_account(&customer, &request, &key).await?;
    Ok((StatusCode::CREATED, Json(account)))
}

#[utoipa::path(get, path = "/accounts/{account}", tag = "accounts",
    params(("account" = String, Path, description = "The account's reference")),
    responses((status = 200, body = BoAccount), Failures))]
async fn get_account(State(s): State<AppState>, Ref(account): Ref) -> Reply<Json<BoAccount>> {
    let accounts = s.back_office.require_accounts()?;
    Ok(Json(accounts.get_account(&account).await?))
}

/// Renames the account.
#[utoipa::path(patch, path = "/accounts/{account}", tag = "accounts",
    params(("account" = String, Path, description = "The account's reference")),
    request_body = RenameAccount,
    responses((status = 200, body = BoAccount), Failures))]
async fn rename_account(
    State(s): State<AppState>,
    Ref(account): Ref,
    JsonBody(rename): JsonBody<RenameAccount>,
) -> Reply<Json<BoAccount>> {
    let accounts = s.back_office.require_accounts()?;
    Ok(Json(accounts.rename_account(&account, &rename.name).await?))
}

/// The account's transactions that match the query (a query body, hence POST).
#[utoipa::path(post, path = "/accounts/{account}/transactions/query", tag = "accounts",
    params(("account" = String, Path, description = "The account's reference")),
    request_body = TransactionQuery,
    responses((status = 200, body = Vec<BoTransaction>), Failures))]
async fn list_transactions(
    State(s): State<AppState>,
    Ref(account): Ref,
    JsonBody(query): JsonBody<TransactionQuery>,
) -> Reply<Json<Vec<BoTransaction>>> {
    let accounts = s.back_office.require_accounts()?;
    Ok(Json(accounts.list_transactions(&account, &query).await?))
}

/// Credits money arriving from outside the back office.
#[utoipa::path(post, path = "/accounts/{account}/deposits", tag = "accounts",
    params(("account" = String, Path, description = "The account's reference"),
        ("Idempotency-Key" = String, Header, description = "Makes the call safe to repeat")),
    request_body = Deposit,
    responses((status = 200, body = BoTransaction), Failures))]
async fn deposit(
    State(s): State<AppState>,
    Ref(account): Ref,
    Key(key): Key,
    JsonBody(deposit): JsonBody<Deposit>,
) -> Reply<Json<BoTransaction>> {
    let accounts = s.back_office.require_accounts()?;
    Ok(Json(accounts.deposit(&account, &deposit, &key).await?))
}

// ---- cards ----

/// The customer's cards.
#[utoipa::path(get, path = "/customers/{customer}/cards", tag = "cards",
    params(("customer" = String, Path, description = "The customer's reference")),
    responses((status = 200, body = Vec<BoCard>), Failures))]
async fn list_cards(State(s): State<AppState>, Ref(customer): Ref) -> Reply<Json<Vec<BoCard>>> {
    let cards = s.back_office.require_cards()?;
    Ok(Json(cards.list_cards(&customer).await?))
}

#[utoipa::path(get, path = "/cards/{card}", tag = "cards",
    params(("card" = String, Path, description = "The card's reference")),
    responses((status = 200, body = BoCard), Failures))]
async fn get_card(State(s): State<AppState>, Ref(card): Ref) -> Reply<Json<BoCard>> {
    let cards = s.back_office.require_cards()?;
    Ok(Json(cards.get_card(&card).await?))
}

/// Issues a card on the account.
#[utoipa::path(post, path = "/accounts/{account}/cards", tag = "cards",
    params(("account" = String, Path, description = "The account's reference"),
        ("Idempotency-Key" = String, Header, description = "Makes the call safe to repeat")),
    request_body = IssueCard,
    responses((status = 201, body = BoCard), Failures))]
async fn issue_card(
    State(s): State<AppState>,
    Ref(account): Ref,
    Key(key): Key,
    JsonBody(request): JsonBody<IssueCard>,
) -> Reply<(StatusCode, Json<BoCard>)> {
    let cards = s.back_office.require_cards()?;
    let card = cards.issue_card(&account, &request, &key).await?;
    Ok((StatusCode::CREATED, Json(card)))
}

/// Activates the card (an activated card stays as it is).
#[utoipa::path(post, path = "/cards/{card}/activate", tag = "cards",
    params(("card" = String, Path, description = "The card's reference")),
    responses((status = 200, body = BoCard), Failures))]
async fn activate_card(State(s): State<AppState>, Ref(card): Ref) -> Reply<Json<BoCard>> {
    let cards = s.back_office.require_cards()?;
    Ok(Json(cards.activate_card(&card).await?))
}

/// Turns the card on or off.
#[utoipa::path(put, path = "/cards/{card}/enabled", tag = "cards",
    params(("card" = String, Path, description = "The card's reference")),
    request_body = CardSwitch,
    responses((status = 200, body = BoCard), Failures))]
async fn set_card_enabled(
    State(s): State<AppState>,
    Ref(card): Ref,
    JsonBody(switch): JsonBody<CardSwitch>,
) -> Reply<Json<BoCard>> {
    let cards = s.back_office.require_cards()?;
    Ok(Json(cards.set_card_enabled(&card, switch.enabled).await?))
}

/// Sets the card's PIN.
#[utoipa::path(put, path = "/cards/{card}/pin", tag = "cards",
    params(("card" = String, Path, description = "The card's reference")),
    request_body = NewPin,
    responses((status = 204, description = "The PIN is set"), Failures))]
async fn set_pin(
    State(s): State<AppState>,
    Ref(card): Ref,
    JsonBody(new_pin): JsonBody<NewPin>,
) -> Reply<StatusCode> {
    let pin = Pin::parse_digits(&new_pin.pin)
        .ok_or_else(|| ErrorReply::bad_request("a PIN is four digits"))?;
    let cards = s.back_office.require_cards()?;
    cards.set_pin(&card, &pin).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reissues the card: `lost` keeps its number, `stolen` replaces it.
#[utoipa::path(post, path = "/cards/{card}/reissue", tag = "cards",
    params(("card" = String, Path, description = "The card's reference")),
    request_body = Reissue,
    responses((status = 200, body = BoCard), Failures))]
async fn reissue_card(
    State(s): State<AppState>,
    Ref(card): Ref,
    JsonBody(reissue): JsonBody<Reissue>,
) -> Reply<Json<BoCard>> {
    let cards = s.back_office.require_cards()?;
    Ok(Json(cards.reissue_card(&card, reissue.reason).await?))
}

/// Changes the card's restrictions.
#[utoipa::path(patch, path = "/cards/{card}/restrictions", tag = "cards",
    params(("card" = String, Path, description = "The card's reference")),
    request_body = RestrictionPatch,
    responses((status = 200, body = BoCard), Failures))]
async fn update_restrictions(
    State(s): State<AppState>,
    Ref(card): Ref,
    JsonBody(patch): JsonBody<RestrictionPatch>,
) -> Reply<Json<BoCard>> {
    let cards = s.back_office.require_cards()?;
    let update = patch.into();
    Ok(Json(cards.update_restrictions(&card, &update).await?))
}

/// The card network's decision on a purchase (simulators only).
#[utoipa::path(post, path = "/authorizations", tag = "card network",
    request_body = AuthorizationRequest,
    responses((status = 200, body = AuthorizationOutcome), Failures))]
async fn authorize(
    State(s): State<AppState>,
    JsonBody(request): JsonBody<AuthorizationRequest>,
) -> Reply<Json<AuthorizationOutcome>> {
    let network = s.back_office.require_card_authorization()?;
    Ok(Json(network.authorize(&request).await?))
}

// ---- transfers and payments ----

/// Moves money between two accounts of this back office in one ledger entry.
#[utoipa::path(post, path = "/transfers/book", tag = "transfers",
    params(("Idempotency-Key" = String, Header, description = "Makes the call safe to repeat")),
    request_body = BookTransfer,
    responses((status = 200, body = TransferLegs), Failures))]
async fn book_transfer(
    State(s): State<AppState>,
    Key(key): Key,
    JsonBody(transfer): JsonBody<BookTransfer>,
) -> Reply<Json<TransferLegs>> {
    let transfers = s.back_office.require_transfers()?;
    Ok(Json(transfers.book_transfer(&transfer, &key).await?))
}

/// Debits a customer account into the settlement account.
#[utoipa::path(post, path = "/transfers/debit-to-settlement", tag = "transfers",
    params(("Idempotency-Key" = String, Header, description = "Makes the call safe to repeat")),
    request_body = SettlementLeg,
    responses((status = 200, body = BoTransaction), Failures))]
async fn debit_to_settlement(
    State(s): State<AppState>,
    Key(key): Key,
    JsonBody(leg): JsonBody<SettlementLeg>,
) -> Reply<Json<BoTransaction>> {
    let transfers = s.back_office.require_transfers()?;
    Ok(Json(transfers.debit_to_settlement(&leg, &key).await?))
}

/// Credits a customer account out of the settlement account.
#[utoipa::path(post, path = "/transfers/credit-from-settlement", tag = "transfers",
    params(("Idempotency-Key" = String, Header, description = "Makes the call safe to repeat")),
    request_body = SettlementLeg,
    responses((status = 200, body = BoTransaction), Failures))]
async fn credit_from_settlement(
    State(s): State<AppState>,
    Key(key): Key,
    JsonBody(leg): JsonBody<SettlementLeg>,
) -> Reply<Json<BoTransaction>> {
    let transfers = s.back_office.require_transfers()?;
    Ok(Json(transfers.credit_from_settlement(&leg, &key).await?))
}

/// Pays money out of the bank to a payee.
#[utoipa::path(post, path = "/payouts", tag = "payments",
    params(("Idempotency-Key" = String, Header, description = "Makes the call safe to repeat")),
    request_body = Payout,
    responses((status = 200, body = BoTransaction), Failures))]
async fn pay_out(
    State(s): State<AppState>,
    Key(key): Key,
    JsonBody(payout): JsonBody<Payout>,
) -> Reply<Json<BoTransaction>> {
    let payments = s.back_office.require_payments()?;
    Ok(Json(payments.pay_out(&payout, &key).await?))
}

/// Keeps a card number for push-to-card payments; answers the reference to pay it by.
#[utoipa::path(post, path = "/vault/cards", tag = "payments",
    params(("Idempotency-Key" = String, Header, description = "Makes the call safe to repeat")),
    request_body = CardToVault,
    responses((status = 201, body = CreatedRef), Failures))]
async fn vault_card(
    State(s): State<AppState>,
    Key(key): Key,
    JsonBody(card): JsonBody<CardToVault>,
) -> Reply<(StatusCode, Json<CreatedRef>)> {
    let payments = s.back_office.require_payments()?;
    let id_bo = payments.vault_card(&card, &key).await?;
    Ok((StatusCode::CREATED, Json(CreatedRef { id_bo })))
}

/// Every currency pair the back office quotes.
#[utoipa::path(get, path = "/rates", tag = "rates",
    responses((status = 200, body = RateBoard), Failures))]
async fn rate_board(State(s): State<AppState>) -> Reply<Json<RateBoard>> {
    let rates = s.back_office.require_rates()?;
    Ok(Json(rates.rate_board().await?))
}

/// Up to `limit` (at most 1,000) entries of the change feed numbered above `after`, in number order.
#[utoipa::path(get, path = "/changes/{after}/{limit}", tag = "changes",
    params(("after" = i64, Path), ("limit" = u32, Path)),
    responses((status = 200, body = Vec<BoChange>), Failures))]
async fn changes_since(
    State(s): State<AppState>,
    Path((after, limit)): Path<(i64, u32)>,
) -> Reply<Json<Vec<BoChange>>> {
    let changes = s.back_office.require_changes()?;
    Ok(Json(changes.changes_since(after, limit).await?))
}

// ---- health, admin, docs ----

/// Whether the back office can serve (its database answers). Takes the latency and hang faults.
#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, body = Health), Failures))]
async fn health(State(s): State<AppState>) -> Reply<Json<Health>> {
    s.back_office.health().await?;
    Ok(Json(Health {
        back_office: s.back_office.id().to_string(),
        status: "up".to_owned(),
    }))
}

/// The faults in force.
#[utoipa::path(get, path = "/admin/faults", tag = "operations",
    responses((status = 200, body = FaultSettings)))]
async fn get_faults(State(s): State<AppState>) -> Json<FaultSettings> {
    Json(s.faults.get())
}

/// Sets the faults for requests from now on. Fields left out are off.
#[utoipa::path(put, path = "/admin/faults", tag = "operations",
    request_body = FaultSettings,
    responses((status = 200, body = FaultSettings), (status = 400, body = ErrorBody)))]
async fn set_faults(
    State(s): State<AppState>,
    JsonBody(settings): JsonBody<FaultSettings>,
) -> Reply<Json<FaultSettings>> {
    s.faults.set(settings).map_err(ErrorReply::bad_request)?;
    tracing::warn!(?settings, "fault injection changed");
    Ok(Json(s.faults.get()))
}

/// Turns every fault off.
#[utoipa::path(delete, path = "/admin/faults", tag = "operations",
    responses((status = 200, body = FaultSettings)))]
async fn clear_faults(State(s): State<AppState>) -> Json<FaultSettings> {
    s.faults.clear();
    tracing::info!("fault injection cleared");
    Json(s.faults.get())
}

/// The ledger's self-check: every currency's postings sum to zero, every entry balances, every account's
/// stored balances equal its postings.
#[utoipa::path(get, path = "/admin/ledger", tag = "operations",
    responses((status = 200, body = LedgerReportBody), Failures))]
async fn ledger_report(State(s): State<AppState>) -> Reply<Json<LedgerReportBody>> {
    let ledger = s
        .ledger
        .as_ref()
        .ok_or_else(|| BackOfficeError::Unsupported {
            back_office: s.back_office.id().clone(),
            capability: "ledger report",
        })?;
    let report = ledger.ledger_report().await?;
    Ok(Json(LedgerReportBody::from(&report)))
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json")))]
async fn openapi_json(State(s): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        s.openapi.to_string(),
    )
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

//! Customers and their accounts: registering a customer, opening, reading and renaming accounts, their
//! statement lines, and deposits.

use super::{AppState, Failures, JsonBody, Key, Ref, Reply};
use crate::wire::{CreatedRef, RenameAccount};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use bankgate_backoffice::{
    BoAccount, BoTransaction, Deposit, NewCustomer, OpenAccount, TransactionQuery,
};

/// Registers a customer.
#[utoipa::path(post, path = "/customers", tag = "customers",
    params(("Idempotency-Key" = String, Header, description = "Makes the call safe to repeat")),
    request_body = NewCustomer,
    responses((status = 201, description = "The new customer's reference", body = CreatedRef), Failures))]
pub(super) async fn create_customer(
    State(s): State<AppState>,
    Key(key): Key,
    JsonBody(customer): JsonBody<NewCustomer>,
) -> Reply<(StatusCode, Json<CreatedRef>)> {
    let customers = s.back_office.require_customers()?;
    let id_bo = customers.create_customer(&customer, &key).await?;
    Ok((StatusCode::CREATED, Json(CreatedRef { id_bo })))
}

/// The customer's accounts.
#[utoipa::path(get, path = "/customers/{customer}/accounts", tag = "accounts",
    params(("customer" = String, Path, description = "The customer's reference")),
    responses((status = 200, body = Vec<BoAccount>), Failures))]
pub(super) async fn list_accounts(
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
pub(super) async fn open_account(
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
pub(super) async fn get_account(
    State(s): State<AppState>,
    Ref(account): Ref,
) -> Reply<Json<BoAccount>> {
    let accounts = s.back_office.require_accounts()?;
    Ok(Json(accounts.get_account(&account).await?))
}

/// Renames the account.
#[utoipa::path(patch, path = "/accounts/{account}", tag = "accounts",
    params(("account" = String, Path, description = "The account's reference")),
    request_body = RenameAccount,
    responses((status = 200, body = BoAccount), Failures))]
pub(super) async fn rename_account(
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
pub(super) async fn list_transactions(
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
pub(super) async fn deposit(
    State(s): State<AppState>,
    Ref(account): Ref,
    Key(key): Key,
    JsonBody(deposit): JsonBody<Deposit>,
) -> Reply<Json<BoTransaction>> {
    let accounts = s.back_office.require_accounts()?;
    Ok(Json(accounts.deposit(&account, &deposit, &key).await?))
}

//! An account's transactions. Lists are bare arrays, as the contract has them.

use super::accounts::account_id;
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::Path;
use crate::http::extract::{Authenticated, JsonBody};
use crate::http::wire::transaction::{
    TransactionChangesBody, TransactionResponse, TransactionWire,
};
use crate::http::AppState;
use crate::services::stand_in::any_stand_in;
use crate::services::{Entity, ServiceError};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::Json;
use bankgate_domain::ids::TransactionId;
use bankgate_domain::time_format::parse_date;

/// Set on bare-array answers served in stand-in.
pub const STAND_IN_HEADER: &str = "stand-in";

/// The list as the contract has it, a bare array; with no envelope to carry `standIn`, a stand-in answer
/// says so in the `Stand-In: true` header (each line also has `isStale`).
fn wires(
    views: Vec<crate::services::transactions::TransactionView>,
) -> (HeaderMap, Json<Vec<TransactionWire>>) {
    let mut headers = HeaderMap::new();
    if any_stand_in(views.iter().map(|v| v.freshness)) {
        headers.insert(STAND_IN_HEADER, HeaderValue::from_static("true"));
    }
    (headers, Json(views.into_iter().map(Into::into).collect()))
}

/// The fewer of: the last 30 transactions, or those of the last 12 months. Newest first.
#[utoipa::path(get, path = "/accounts/{AFiAccountId}/transactions/latest", tag = "transactions",
    params(("AFiAccountId" = String, Path)),
    responses((status = 200, body = Vec<TransactionWire>), (status = 404, body = ErrorBody)))]
pub async fn latest_transactions(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<(HeaderMap, Json<Vec<TransactionWire>>)> {
    let views = state
        .services
        .latest_transactions(&caller.user_id, &account_id(&id)?)
        .await?;
    Ok(wires(views))
}

/// Every transaction valued between two dates (`YYYY-MM-DD`, both inclusive). Newest first.
#[utoipa::path(get, path = "/accounts/{AFiAccountId}/transactions/{dateStart}/{dateEnd}", tag = "transactions",
    params(("AFiAccountId" = String, Path), ("dateStart" = String, Path, example = "2024-01-01"), ("dateEnd" = String, Path, example = "2024-12-31")),
    responses((status = 200, body = Vec<TransactionWire>), (status = 400, description = "Bad dates", body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn transactions_between(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path((id, start, end)): Path<(String, String, String)>,
) -> ApiResult<(HeaderMap, Json<Vec<TransactionWire>>)> {
    let bad_date = || ServiceError::invalid("INVALID_DATE", "dates must be YYYY-MM-DD");
    let from = parse_date(&start).ok_or_else(bad_date)?;
    let to = parse_date(&end).ok_or_else(bad_date)?;
    let views = state
        .services
        .transactions_between(&caller.user_id, &account_id(&id)?, from, to)
        .await?;
    Ok(wires(views))
}

/// Set a transaction's `comment` and `labels`. Also reachable with `account` and `transaction` singular.
#[utoipa::path(post, path = "/accounts/{AFiAccountId}/transactions/{transactionId}", tag = "transactions",
    request_body = TransactionChangesBody,
    params(("AFiAccountId" = String, Path), ("transactionId" = String, Path)),
    responses((status = 200, body = TransactionResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn modify_transaction(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path((id, transaction)): Path<(String, String)>,
    JsonBody(body): JsonBody<TransactionChangesBody>,
) -> ApiResult<Json<TransactionResponse>> {
    let transaction =
        TransactionId::parse(&transaction).ok_or(ServiceError::NotFound(Entity::Transaction))?;
    let view = state
        .services
        .modify_transaction(
            &caller.user_id,
            &account_id(&id)?,
            &transaction,
            body.changes.into(),
        )
        .await?;
    Ok(Json(TransactionResponse {
        success: true,
        transaction: view.into(),
    }))
}

//! Money movements and what they rest on: transfers within the back office and through its settlement
//! account, payouts, vaulted cards, the rate board and the change feed.

use super::{AppState, Failures, JsonBody, Key, Reply};
use crate::wire::CreatedRef;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use bankgate_backoffice::{
    BoChange, BoTransaction, BookTransfer, CardToVault, Payout, RateBoard, SettlementLeg,
    TransferLegs,
};

/// Moves money between two accounts of this back office in one ledger entry.
#[utoipa::path(post, path = "/transfers/book", tag = "transfers",
    params(("Idempotency-Key" = String, Header, description = "Makes the call safe to repeat")),
    request_body = BookTransfer,
    responses((status = 200, body = TransferLegs), Failures))]
pub(super) async fn book_transfer(
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
pub(super) async fn debit_to_settlement(
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
pub(super) async fn credit_from_settlement(
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
pub(super) async fn pay_out(
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
pub(super) async fn vault_card(
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
pub(super) async fn rate_board(State(s): State<AppState>) -> Reply<Json<RateBoard>> {
    let rates = s.back_office.require_rates()?;
    Ok(Json(rates.rate_board().await?))
}

/// Up to `limit` (at most 1,000) entries of the change feed numbered above `after`, in number order.
#[utoipa::path(get, path = "/changes/{after}/{limit}", tag = "changes",
    params(("after" = i64, Path), ("limit" = u32, Path)),
    responses((status = 200, body = Vec<BoChange>), Failures))]
pub(super) async fn changes_since(
    State(s): State<AppState>,
    Path((after, limit)): Path<(i64, u32)>,
) -> Reply<Json<Vec<BoChange>>> {
    let changes = s.back_office.require_changes()?;
    Ok(Json(changes.changes_since(after, limit).await?))
}

//! Moving money: transfers between the user's accounts, credit-card payments and remittances (queued,
//! undoable), and payments to beneficiaries (immediate).

use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{Authenticated, JsonBody, Path};
use crate::http::idempotency::IDEMPOTENCY_KEY_HEADER;
use crate::http::wire::common::{dts, Amount};
use crate::http::wire::movement::{
    PaymentBody, PaymentDoneResponse, QueuedResponse, RemittanceResponse, TransferBody, UndoWire,
};
use crate::http::AppState;
use crate::services::movements::plan::MovementResult;
use crate::services::movements::Accepted;
use crate::services::ServiceError;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bankgate_store::{JobKind, JobState};

const MAX_REMITTANCE_ID_LEN: usize = 64;

/// 200 for an operation accepted as usual; 202 when accepted in stand-in (its bank unavailable).
fn status_of(accepted: &Accepted) -> StatusCode {
    if accepted.stand_in {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    }
}

/// The request's Idempotency-Key, kept with the job it queues: a retry whose first answer was lost
/// finds that job by it, even on another node and even after the key's claim was abandoned, instead of
/// queueing the movement twice.
fn retry_key(headers: &HeaderMap) -> Option<String> {
    headers
        .get(IDEMPOTENCY_KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn queued(state: &AppState, accepted: &Accepted) -> (StatusCode, Json<QueuedResponse>) {
    let job = &accepted.job;
    let body = QueuedResponse {
        success: true,
        queued: accepted.stand_in,
        undo: UndoWire::new(job, state.services.clock.now()),
        reference: job.id.to_string(),
    };
    (status_of(accepted), Json(body))
}

/// Move money between two of the user's accounts, at one back office or two, in one currency or two
/// (converted at the source bank's rate, fixed now). Queued for the undo window; the source's available
/// balance is held from now.
#[utoipa::path(post, path = "/transfer/acc2acc", tag = "transfers", request_body = TransferBody,
    responses((status = 200, body = QueuedResponse),
        (status = 202, body = QueuedResponse, description = "Accepted in stand-in (the source's bank is unavailable): queued: true"), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "INSUFFICIENT_FUNDS, RATE_UNAVAILABLE, STAND_IN_LIMIT")))]
pub async fn acc2acc(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    headers: HeaderMap,
    JsonBody(body): JsonBody<TransferBody>,
) -> ApiResult<(StatusCode, Json<QueuedResponse>)> {
    let request = body.into_request()?;
    let accepted = state
        .services
        .accept_transfer(
            &caller.user_id,
            JobKind::Transfer,
            request,
            retry_key(&headers),
        )
        .await?;
    Ok(queued(&state, &accepted))
}

/// Pay a credit-card account from another of the user's accounts. Queued and undoable like a transfer.
#[utoipa::path(post, path = "/remittance/creditCardPayment", tag = "transfers", request_body = TransferBody,
    responses((status = 200, body = QueuedResponse),
        (status = 202, body = QueuedResponse, description = "Accepted in stand-in (the source's bank is unavailable): queued: true"), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn credit_card_payment(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    headers: HeaderMap,
    JsonBody(body): JsonBody<TransferBody>,
) -> ApiResult<(StatusCode, Json<QueuedResponse>)> {
    let request = body.into_request()?;
    let accepted = state
        .services
        .accept_transfer(
            &caller.user_id,
            JobKind::CardPayment,
            request,
            retry_key(&headers),
        )
        .await?;
    Ok(queued(&state, &accepted))
}

/// Pay a beneficiary, queued and undoable. `AFiRemittanceId` is the client's own id for the payment:
/// repeating it answers with the first payment's queue entry and pays nothing more.
#[utoipa::path(post, path = "/remittance/{AFiRemittanceId}", tag = "transfers", request_body = PaymentBody,
    params(("AFiRemittanceId" = String, Path, description = "Chosen by the client; unique per payment")),
    responses((status = 200, body = RemittanceResponse),
        (status = 202, body = RemittanceResponse, description = "Accepted in stand-in: queued: true"), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn remittance(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(remittance_id): Path<String>,
    JsonBody(body): JsonBody<PaymentBody>,
) -> ApiResult<(StatusCode, Json<RemittanceResponse>)> {
    let remittance_id = remittance_id.trim().to_owned();
    if remittance_id.is_empty() || remittance_id.len() > MAX_REMITTANCE_ID_LEN {
        return Err(ApiError::bad_request(
            "INVALID_REMITTANCE_ID",
            format!("AFiRemittanceId must be 1 to {MAX_REMITTANCE_ID_LEN} characters"),
        ));
    }
    let request = body.into_request(None)?;
    let accepted = state
        .services
        .accept_remittance(&caller.user_id, &remittance_id, request)
        .await?;
    let body = RemittanceResponse {
        success: true,
        queued: accepted.stand_in,
        undo: UndoWire::new(&accepted.job, state.services.clock.now()),
        reference: accepted.job.id.to_string(),
        afi_remittance_id: remittance_id,
        is_replay: accepted.replayed,
    };
    Ok((status_of(&accepted), Json(body)))
}

/// Pay a beneficiary now. Not queued and not undoable: the answer comes once the payment is made.
#[utoipa::path(post, path = "/transfer/acc2ben/{AFiBeneficiaryId}", tag = "transfers", request_body = PaymentBody,
    params(("AFiBeneficiaryId" = String, Path)),
    responses((status = 200, body = PaymentDoneResponse),
        (status = 202, body = QueuedResponse, description = "The source's bank is unavailable: queued, paid when it answers"), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "INSUFFICIENT_FUNDS, PAYMENT_FAILED")))]
pub async fn acc2ben(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(beneficiary): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<PaymentBody>,
) -> ApiResult<Response> {
    let request = body.into_request(Some(beneficiary.trim()))?;
    let accepted = state
        .services
        .pay_beneficiary_now(&caller.user_id, request, retry_key(&headers))
        .await?;
    if accepted.stand_in {
        return Ok(queued(&state, &accepted).into_response());
    }
    let job = accepted.job;
    match job.state {
        JobState::Done => {}
        JobState::Failed => {
            return Err(ServiceError::conflict(
                "PAYMENT_FAILED",
                job.failure
                    .unwrap_or_else(|| "the payment failed".to_owned()),
            )
            .into())
        }
        _ => {
            return Err(ServiceError::conflict(
                "PAYMENT_PENDING",
                format!(
                    "the payment {} is still being made; it will complete",
                    job.id
                ),
            )
            .into())
        }
    }
    let result: MovementResult = job
        .result
        .as_deref()
        .and_then(|r| serde_json::from_str(r).ok())
        .ok_or_else(|| ServiceError::Internal(format!("payment {} has no result", job.id)))?;
    let transaction_id = state
        .services
        .transaction_id_for(&caller.user_id, &job, &result.debit)
        .await?;
    let amount = result.debit.amount;
    Ok(Json(PaymentDoneResponse {
        success: true,
        reference: job.id.to_string(),
        transaction_id: transaction_id.into_string(),
        transaction_id_bo: result.debit.id_bo.0.clone(),
        amount: Amount(bankgate_domain::Money::new(
            amount.minor.saturating_abs(),
            amount.currency,
        )),
        currency: amount.currency.to_string(),
        dts_completed: result.debit.completed_at.map(dts),
    })
    .into_response())
}

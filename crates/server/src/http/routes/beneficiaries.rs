//! The user's beneficiaries: list, add (validated per `txnType`), modify, and queued deletion.

use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{Authenticated, JsonBody, Path};
use crate::http::wire::beneficiary::{
    BeneficiariesResponse, BeneficiaryChangesBody, BeneficiaryDeletionResponse,
    BeneficiaryResponse, NewBeneficiaryBody,
};
use crate::http::wire::movement::UndoWire;
use crate::http::AppState;
use crate::services::{Entity, ServiceError};
use axum::extract::State;
use axum::Json;
use bankgate_domain::ids::BeneficiaryId;

fn beneficiary_id(raw: &str) -> Result<BeneficiaryId, ServiceError> {
    BeneficiaryId::parse(raw).ok_or(ServiceError::NotFound(Entity::Beneficiary))
}

/// The user's beneficiaries.
#[utoipa::path(get, path = "/beneficiaries", tag = "beneficiaries",
    responses((status = 200, body = BeneficiariesResponse), (status = 401, body = ErrorBody)))]
pub async fn list_beneficiaries(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> ApiResult<Json<BeneficiariesResponse>> {
    let list = state.services.list_beneficiaries(&caller.user_id).await?;
    Ok(Json(BeneficiariesResponse {
        success: true,
        beneficiaries: list.into_iter().map(Into::into).collect(),
    }))
}

/// Add a beneficiary. Required fields depend on `txnType`: USA and USA_wire need bankName,
/// destinationName, type, routingNumber (ABA check digit) and accountNumber; international needs bic and
/// iban (checksum); paypal needs paypalId; tocard needs destinationPAN (Luhn), expiryYYYYMM (or
/// expiryMM and expiryYY), destinationFirstName and destinationLastName; cheque needs legalName and an
/// address with addressLine1, city, province and postalCode. A missing field is 400 `MISSING_FIELD`, a bad
/// value 400 `INVALID_BENEFICIARY`; the message names the wire field.
#[utoipa::path(put, path = "/beneficiaries", tag = "beneficiaries", request_body = NewBeneficiaryBody,
    responses((status = 200, body = BeneficiaryResponse), (status = 400, body = ErrorBody)))]
pub async fn add_beneficiary(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonBody(body): JsonBody<NewBeneficiaryBody>,
) -> ApiResult<Json<BeneficiaryResponse>> {
    let new = body.into_new()?;
    let view = state.services.add_beneficiary(&caller.user_id, new).await?;
    Ok(Json(BeneficiaryResponse {
        success: true,
        beneficiary: view.into(),
    }))
}

/// Change a beneficiary: only the fields sent change, and a changed destination is validated again (a
/// refused change changes nothing). A card's new expiry needs its destinationPAN.
#[utoipa::path(post, path = "/beneficiary/{AFiBeneficiaryId}", tag = "beneficiaries",
    request_body = BeneficiaryChangesBody, params(("AFiBeneficiaryId" = String, Path)),
    responses((status = 200, body = BeneficiaryResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn modify_beneficiary(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<BeneficiaryChangesBody>,
) -> ApiResult<Json<BeneficiaryResponse>> {
    let id = beneficiary_id(&id)?;
    let (settings, fields) = body.into_changes()?;
    let view = state
        .services
        .modify_beneficiary(&caller.user_id, &id, settings, fields)
        .await?;
    Ok(Json(BeneficiaryResponse {
        success: true,
        beneficiary: view.into(),
    }))
}

/// Delete a beneficiary, queued for its undo window (120 s by default); it stays payable until then. Asked
/// again while queued, it answers the same queue entry.
#[utoipa::path(delete, path = "/beneficiary/{AFiBeneficiaryId}", tag = "beneficiaries",
    params(("AFiBeneficiaryId" = String, Path)),
    responses((status = 200, body = BeneficiaryDeletionResponse), (status = 404, body = ErrorBody)))]
pub async fn delete_beneficiary(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<BeneficiaryDeletionResponse>> {
    let id = beneficiary_id(&id)?;
    let job = state
        .services
        .queue_beneficiary_deletion(&caller.user_id, &id)
        .await?;
    Ok(Json(BeneficiaryDeletionResponse {
        success: true,
        text: "queued the beneficiary deletion".to_owned(),
        undo: UndoWire::new(&job, state.services.clock.now()),
    }))
}

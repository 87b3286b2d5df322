//! Operating the back office: health, the fault-injection admin routes, the ledger's self-check and the
//! OpenAPI document.

use super::{AppState, Failures, JsonBody, Reply};
use crate::error::{ErrorBody, ErrorReply};
use crate::faults::FaultSettings;
use crate::wire::{Health, LedgerReportBody};
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use bankgate_backoffice::BackOfficeError;

/// Whether the back office can serve (its database answers). Takes the latency and hang faults.
#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, body = Health), Failures))]
pub(super) async fn health(State(s): State<AppState>) -> Reply<Json<Health>> {
    s.back_office.health().await?;
    Ok(Json(Health {
        back_office: s.back_office.id().to_string(),
        status: "up".to_owned(),
    }))
}

/// The faults in force.
#[utoipa::path(get, path = "/admin/faults", tag = "operations",
    responses((status = 200, body = FaultSettings)))]
pub(super) async fn get_faults(State(s): State<AppState>) -> Json<FaultSettings> {
    Json(s.faults.get())
}

/// Sets the faults for requests from now on. Fields left out are off.
#[utoipa::path(put, path = "/admin/faults", tag = "operations",
    request_body = FaultSettings,
    responses((status = 200, body = FaultSettings), (status = 400, body = ErrorBody)))]
pub(super) async fn set_faults(
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
pub(super) async fn clear_faults(State(s): State<AppState>) -> Json<FaultSettings> {
    s.faults.clear();
    tracing::info!("fault injection cleared");
    Json(s.faults.get())
}

/// The ledger's self-check: every currency's postings sum to zero, every entry balances, every account's
/// stored balances equal its postings.
#[utoipa::path(get, path = "/admin/ledger", tag = "operations",
    responses((status = 200, body = LedgerReportBody), Failures))]
pub(super) async fn ledger_report(State(s): State<AppState>) -> Reply<Json<LedgerReportBody>> {
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
pub(super) async fn openapi_json(State(s): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        s.openapi.to_string(),
    )
}

//! Alerts (section 17): the user's alert settings.

use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{Authenticated, JsonArray, JsonBody, Path};
use crate::http::wire::alert::{AlertSyncItem, AlertToggleBody, AlertWire, AlertsResponse};
use crate::http::wire::common::Success;
use crate::http::AppState;
use axum::extract::State;
use axum::Json;
use bankgate_store::AlertSetting;

fn alerts_response(settings: &[AlertSetting]) -> Json<AlertsResponse> {
    Json(AlertsResponse {
        success: true,
        alerts: settings.iter().map(AlertWire::from).collect(),
    })
}

/// The user's setting of every alert type, on or off.
#[utoipa::path(get, path = "/alerts", tag = "alerts",
    responses((status = 200, body = AlertsResponse), (status = 401, body = ErrorBody)))]
pub async fn list_alerts(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> ApiResult<Json<AlertsResponse>> {
    let settings = state.services.alerts(&caller.user_id).await?;
    Ok(alerts_response(&settings))
}

/// Sync alert settings: the body is an array of items; items of unknown alert types are ignored.
/// Answers every alert type's setting.
#[utoipa::path(post, path = "/alerts", tag = "alerts", request_body = Vec<AlertSyncItem>,
    responses((status = 200, body = AlertsResponse),
        (status = 400, description = "Not an array, or parameters that are not a small JSON object with a readable minAmount", body = ErrorBody),
        (status = 401, body = ErrorBody)))]
pub async fn sync_alerts(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonArray(items): JsonArray<AlertSyncItem>,
) -> ApiResult<Json<AlertsResponse>> {
    let changes = items.into_iter().map(Into::into).collect();
    let settings = state.services.sync_alerts(&caller.user_id, changes).await?;
    Ok(alerts_response(&settings))
}

/// Turn one alert type on or off.
#[utoipa::path(post, path = "/alert/{alertTypeId}", tag = "alerts", request_body = AlertToggleBody,
    params(("alertTypeId" = String, Path)),
    responses((status = 200, body = Success), (status = 400, body = ErrorBody),
        (status = 404, description = "Not an alert type of the catalogue", body = ErrorBody)))]
pub async fn set_alert(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(alert_type_id): Path<String>,
    JsonBody(body): JsonBody<AlertToggleBody>,
) -> ApiResult<Json<Success>> {
    state
        .services
        .set_alert(&caller.user_id, &alert_type_id, body.is_enabled)
        .await?;
    Ok(Json(Success::OK))
}

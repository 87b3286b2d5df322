//! Devices the user has logged in from, and which may still log in.

use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{Authenticated, JsonArray};
use crate::http::wire::auth::{DevicesResponse, LinkLinkChange, LinkLinksResponse};
use crate::http::AppState;
use crate::services::devices::DeviceActivation;
use crate::services::{Entity, ServiceError};
use axum::extract::State;
use axum::Json;
use bankgate_domain::ids::DeviceId;

/// Every device the user has logged in from.
#[utoipa::path(get, path = "/devices", tag = "devices",
    responses((status = 200, body = DevicesResponse), (status = 401, body = ErrorBody)))]
pub async fn list_devices(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> ApiResult<Json<DevicesResponse>> {
    let devices = state.services.list_devices(&caller.user_id).await?;
    Ok(Json(DevicesResponse {
        success: true,
        devices: devices.into_iter().map(Into::into).collect(),
    }))
}

/// List, and optionally change, the devices allowed to log in ("linklinks"). The body must be a JSON
/// array, possibly empty; items with `isActive` allow or bar that device (barring ends its sessions).
#[utoipa::path(post, path = "/authenticateddevices", tag = "devices", request_body = Vec<LinkLinkChange>,
    responses((status = 200, body = LinkLinksResponse), (status = 400, description = "The body is not an array", body = ErrorBody),
        (status = 404, description = "A device that is not the user's", body = ErrorBody)))]
pub async fn sync_authenticated_devices(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonArray(changes): JsonArray<LinkLinkChange>,
) -> ApiResult<Json<LinkLinksResponse>> {
    let activations = changes
        .into_iter()
        .map(|c| {
            let device_id = DeviceId::parse(&c.afi_link_link_id)
                .ok_or(ServiceError::NotFound(Entity::Device))?;
            Ok(DeviceActivation {
                device_id,
                is_active: c.is_active,
            })
        })
        .collect::<Result<Vec<_>, ServiceError>>()?;
    let devices = state
        .services
        .sync_devices(&caller.user_id, &activations)
        .await?;
    Ok(Json(LinkLinksResponse {
        success: true,
        linklinks: devices.into_iter().map(Into::into).collect(),
    }))
}

//! Liveness.

use crate::http::wire::common::dts;
use crate::http::AppState;
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct Heartbeat {
    pub success: bool,
    /// Server time.
    pub dts: String,
}

/// Health check; needs no token.
#[utoipa::path(get, path = "/ping/heartbeat", tag = "ping", security(()),
    responses((status = 200, body = Heartbeat)))]
pub async fn heartbeat(State(state): State<AppState>) -> Json<Heartbeat> {
    Json(Heartbeat {
        success: true,
        dts: dts(state.services.clock.now()),
    })
}

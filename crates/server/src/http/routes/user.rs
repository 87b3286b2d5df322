//! The current user's record.

use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{Authenticated, JsonBody};
use crate::http::wire::user::{UserResponse, UserUpdateBody};
use crate::http::AppState;
use axum::extract::State;
use axum::Json;

/// The logged-in user. `ssn` is never returned; `ssnMasked` is.
#[utoipa::path(get, path = "/user", tag = "user",
    responses((status = 200, body = UserResponse), (status = 401, body = ErrorBody)))]
pub async fn get_user(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> ApiResult<Json<UserResponse>> {
    let view = state.services.get_user(&caller.user_id).await?;
    Ok(Json(UserResponse {
        success: true,
        user: view.into(),
    }))
}

/// Change the current user: send only changed fields; only editable ones are applied.
#[utoipa::path(post, path = "/user", tag = "user", request_body = UserUpdateBody,
    responses((status = 200, body = UserResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn update_user(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonBody(body): JsonBody<UserUpdateBody>,
) -> ApiResult<Json<UserResponse>> {
    let view = state
        .services
        .update_user(&caller.user_id, body.into())
        .await?;
    Ok(Json(UserResponse {
        success: true,
        user: view.into(),
    }))
}

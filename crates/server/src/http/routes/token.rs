//! Logging in (`PUT /token`) and out (`DELETE /token`).

use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{Authenticated, ClientAddr, JsonBody};
use crate::http::wire::auth::{LoginBody, LoginResponse, LogoutResponse};
use crate::http::wire::common::dts;
use crate::http::AppState;
use crate::services::auth::LoginRequest;
use axum::extract::State;
use axum::Json;

/// Log in. Channel `internet` with `userName` and `password`. Wrong credentials and unknown users get the
/// same 401; repeated failures per user name or per client address get 429 with `Retry-After`.
#[utoipa::path(put, path = "/token", tag = "authentication", security(()), request_body = LoginBody,
    responses(
        (status = 200, body = LoginResponse),
        (status = 400, description = "Malformed body or unsupported channel", body = ErrorBody),
        (status = 401, description = "Wrong user name or password, or a barred device", body = ErrorBody),
        (status = 429, description = "Too many failed logins; see Retry-After", body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    JsonBody(body): JsonBody<LoginBody>,
) -> ApiResult<Json<LoginResponse>> {
    let (Some(user_name), Some(password)) = (body.user_name, body.password) else {
        return Err(ApiError::bad_request(
            "MISSING_CREDENTIALS",
            "userName and password are required",
        ));
    };
    let platform = body.device_data.or(body.specifics).and_then(|d| d.platform);
    let outcome = state
        .services
        .login(LoginRequest {
            channel: body.channel,
            user_name,
            password,
            device_tag: body.device_tag,
            platform,
            client_addr: addr,
        })
        .await?;
    let user_id = outcome.user_id.into_string();
    Ok(Json(LoginResponse {
        success: true,
        token: outcome.token,
        afi_user_id: user_id.clone(),
        user_id,
        dts_expiry: dts(outcome.expires_at),
    }))
}

/// Log out: the token stops working at once.
#[utoipa::path(delete, path = "/token", tag = "authentication",
    responses((status = 200, body = LogoutResponse), (status = 401, body = ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> ApiResult<Json<LogoutResponse>> {
    state.services.logout(&caller).await?;
    Ok(Json(LogoutResponse {
        success: true,
        text: "Logged out successfully".to_owned(),
    }))
}

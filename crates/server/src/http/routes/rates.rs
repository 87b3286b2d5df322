//! Exchange rates of the user's back offices.

use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::Authenticated;
use crate::http::wire::rates::RatesResponse;
use crate::http::AppState;
use axum::extract::State;
use axum::Json;

/// Rates from every back office the user holds products at, fetched now (they may differ between back
/// offices), with the routes a transfer between them can take.
#[utoipa::path(get, path = "/rates", tag = "rates",
    responses((status = 200, body = RatesResponse), (status = 401, body = ErrorBody)))]
pub async fn get_rates(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> ApiResult<Json<RatesResponse>> {
    let view = state.services.rates(&caller.user_id).await?;
    Ok(Json(RatesResponse::new(view, state.services.clock.now())))
}

//! The user's accounts.

use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::Path;
use crate::http::extract::{Authenticated, JsonBody};
use crate::http::wire::account::{
    AccountChangesBody, AccountResponse, AccountWire, AccountsResponse, ModifiedAccountResponse,
};
use crate::http::wire::common::dts;
use crate::http::AppState;
use crate::services::accounts::AccountView;
use crate::services::stand_in::any_stand_in;
use crate::services::{Entity, ServiceError};
use axum::extract::State;
use axum::Json;
use bankgate_domain::ids::AccountId;

/// How soon a client should refresh its accounts.
const UPDATE_NEXT: time::Duration = time::Duration::seconds(60);

pub(crate) fn account_id(raw: &str) -> Result<AccountId, ServiceError> {
    AccountId::parse(raw).ok_or(ServiceError::NotFound(Entity::Account))
}

fn wire(state: &AppState, view: AccountView) -> AccountWire {
    let name = state.services.back_office_name(&view.stored.back_office_id);
    AccountWire::new(view, name)
}

/// All accounts of the current user, at every back office.
#[utoipa::path(get, path = "/accounts", tag = "accounts",
    responses((status = 200, body = AccountsResponse), (status = 401, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn list_accounts(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> ApiResult<Json<AccountsResponse>> {
    let views = state.services.list_accounts(&caller.user_id).await?;
    let stand_in = any_stand_in(views.iter().map(|v| v.freshness));
    let accounts = views.into_iter().map(|v| wire(&state, v)).collect();
    let next = state.services.clock.now() + UPDATE_NEXT;
    Ok(Json(AccountsResponse {
        success: true,
        stand_in,
        accounts,
        dts_update_next: dts(next),
    }))
}

/// One account of the current user.
#[utoipa::path(get, path = "/accounts/{AFiAccountId}", tag = "accounts",
    params(("AFiAccountId" = String, Path, description = "Also reachable as /account/{AFiAccountId}")),
    responses((status = 200, body = AccountResponse), (status = 404, body = ErrorBody)))]
pub async fn get_account(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<AccountResponse>> {
    let view = state
        .services
        .get_account(&caller.user_id, &account_id(&id)?)
        .await?;
    Ok(Json(AccountResponse {
        stand_in: view.freshness.is_stale(),
        account: wire(&state, view),
        success: true,
        user_id: caller.user_id.into_string(),
    }))
}

/// Change an account's `name` (kept by the back office), `isMain` and `isHidden`; other fields are ignored.
#[utoipa::path(post, path = "/accounts/{AFiAccountId}", tag = "accounts", request_body = AccountChangesBody,
    params(("AFiAccountId" = String, Path)),
    responses((status = 200, body = ModifiedAccountResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn modify_account(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<AccountChangesBody>,
) -> ApiResult<Json<ModifiedAccountResponse>> {
    let view = state
        .services
        .modify_account(&caller.user_id, &account_id(&id)?, body.into())
        .await?;
    Ok(Json(ModifiedAccountResponse {
        success: true,
        account: wire(&state, view),
    }))
}

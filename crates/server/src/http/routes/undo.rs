//! The undo queue: list, cancel, and "do now" for one or all of the user's queued actions.

use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{Authenticated, Path};
use crate::http::wire::movement::{UndoListResponse, UndoResponse, UndoWire};
use crate::http::AppState;
use axum::extract::State;
use axum::Json;

/// The user's queued actions that have not ended, oldest first.
#[utoipa::path(get, path = "/undo", tag = "undo",
    responses((status = 200, body = UndoListResponse), (status = 401, body = ErrorBody)))]
pub async fn list_undo(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> ApiResult<Json<UndoListResponse>> {
    let jobs = state.services.pending_undos(&caller.user_id).await?;
    let now = state.services.clock.now();
    Ok(Json(UndoListResponse {
        success: true,
        undos: jobs.iter().map(|j| UndoWire::new(j, now)).collect(),
    }))
}

/// One queued action, whatever its state (including how it ended).
#[utoipa::path(get, path = "/undo/{id}", tag = "undo", params(("id" = String, Path)),
    responses((status = 200, body = UndoResponse), (status = 404, body = ErrorBody)))]
pub async fn get_undo(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<UndoResponse>> {
    let job = state.services.undo_entry(&caller.user_id, &id).await?;
    Ok(undo_response(&state, &job))
}

/// Cancel a queued action that has not begun; its hold is released at once. Also
/// `POST /undo/{id}/cancel`. 409 `UNDO_TOO_LATE` once it has begun.
#[utoipa::path(delete, path = "/undo/{id}", tag = "undo", params(("id" = String, Path)),
    responses((status = 200, body = UndoResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel_undo(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<UndoResponse>> {
    let job = state.services.cancel_undo(&caller.user_id, &id).await?;
    Ok(undo_response(&state, &job))
}

/// Run one queued action now instead of at the end of its undo window.
#[utoipa::path(post, path = "/undo/now/{id}", tag = "undo", params(("id" = String, Path)),
    responses((status = 200, body = UndoResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn undo_now(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<UndoResponse>> {
    let job = state.services.undo_now(&caller.user_id, &id).await?;
    Ok(undo_response(&state, &job))
}

/// Run all of the user's waiting actions now.
#[utoipa::path(post, path = "/undo/now", tag = "undo",
    responses((status = 200, body = UndoListResponse), (status = 401, body = ErrorBody)))]
pub async fn undo_all_now(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> ApiResult<Json<UndoListResponse>> {
    let jobs = state.services.undo_all_now(&caller.user_id).await?;
    let now = state.services.clock.now();
    Ok(Json(UndoListResponse {
        success: true,
        undos: jobs.iter().map(|j| UndoWire::new(j, now)).collect(),
    }))
}

fn undo_response(state: &AppState, job: &bankgate_store::JobRecord) -> Json<UndoResponse> {
    Json(UndoResponse {
        success: true,
        undo: UndoWire::new(job, state.services.clock.now()),
    })
}

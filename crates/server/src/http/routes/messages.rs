//! Messages between the user and support (section 13).

use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{Authenticated, JsonBody, Path};
use crate::http::wire::common::Success;
use crate::http::wire::message::{MessageResponse, MessagesResponse, SendMessageBody};
use crate::http::AppState;
use axum::extract::State;
use axum::Json;
use bankgate_domain::time_format::parse_dts;

/// The user's latest messages to and from support (at most 200), oldest first.
#[utoipa::path(get, path = "/messages", tag = "messages",
    responses((status = 200, body = MessagesResponse), (status = 401, body = ErrorBody)))]
pub async fn list_messages(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> ApiResult<Json<MessagesResponse>> {
    let messages = state.services.messages(&caller.user_id, None).await?;
    Ok(Json(MessagesResponse {
        success: true,
        messages: messages.iter().map(Into::into).collect(),
    }))
}

/// The user's messages created after `dtsStart` (ISO 8601), oldest first: the first 200 of them, so a
/// client with more to read asks again from the last one's `dtsCreated`.
#[utoipa::path(get, path = "/messages/{dtsStart}", tag = "messages", params(("dtsStart" = String, Path)),
    responses((status = 200, body = MessagesResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn messages_since(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(start): Path<String>,
) -> ApiResult<Json<MessagesResponse>> {
    let since = parse_dts(start.trim()).ok_or_else(|| {
        ApiError::bad_request("INVALID_DATE", "dtsStart must be an ISO 8601 time")
    })?;
    let messages = state
        .services
        .messages(&caller.user_id, Some(since))
        .await?;
    Ok(Json(MessagesResponse {
        success: true,
        messages: messages.iter().map(Into::into).collect(),
    }))
}

/// Send a message to support. With a `dedupCode` used before, the first message is answered and no
/// other is sent.
#[utoipa::path(put, path = "/messages", tag = "messages", request_body = SendMessageBody,
    responses((status = 200, body = MessageResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn send_message(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonBody(body): JsonBody<SendMessageBody>,
) -> ApiResult<Json<MessageResponse>> {
    let message = state
        .services
        .send_to_support(&caller.user_id, &body.text, body.dedup_code.as_deref())
        .await?;
    Ok(Json(MessageResponse {
        success: true,
        message: (&message).into(),
    }))
}

/// Mark one of the user's messages read.
#[utoipa::path(post, path = "/message/read/{AFiMessageId}", tag = "messages",
    params(("AFiMessageId" = String, Path)),
    responses((status = 200, body = Success), (status = 404, body = ErrorBody)))]
pub async fn read_message(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<Success>> {
    state
        .services
        .mark_message_read(&caller.user_id, &id)
        .await?;
    Ok(Json(Success::OK))
}

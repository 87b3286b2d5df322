//! The `Idempotency-Key` request header on every state-changing call (section 25): the first request
//! with a key runs and its response is kept; a repeat with the same method, path and body gets that
//! response again with `Idempotent-Replayed: true` and changes nothing; the same key with a different
//! request is 422; a repeat while the first still runs is 409. Keys are per user.
//!
//! Responses that say "try again" (401, 429, 500, 503) are not kept, so a retry with the same key runs
//! afresh. Login and logout (`/token`) take no key: a login's answer is a secret not to be stored.

use super::error::ApiError;
use super::extract::TOKEN_HEADER;
use super::{AppState, MAX_BODY_BYTES};
use crate::services::idempotency::{request_fingerprint, MAX_KEY_LEN};
use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bankgate_store::{IdempotencyBegin, StoredResponse};

pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";
/// 409 answers that mean "not now" rather than "no": a retry with the same key must run again.
const TRY_AGAIN_CODES: &[&str] = &["BALANCE_CHANGING", "PAYMENT_PENDING"];
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
/// Largest response kept for replay; bigger ones are not kept (none of the state-changing routes
/// answers anything near this).
const MAX_KEPT_RESPONSE_BYTES: usize = 1024 * 1024;

fn keyed_request(request: &Request) -> bool {
    matches!(
        *request.method(),
        Method::POST | Method::PUT | Method::DELETE
    ) && request.uri().path() != "/token"
}

/// Whether a response is the request's final answer, to be replayed, rather than "try again".
fn kept(status: StatusCode, body: &[u8]) -> bool {
    if matches!(status.as_u16(), 401 | 429 | 500 | 503) {
        return false;
    }
    if status == StatusCode::CONFLICT {
        let code = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|b| b["code"].as_str().map(str::to_owned));
        return !code.is_some_and(|c| TRY_AGAIN_CODES.contains(&c.as_str()));
    }
    true
}

pub async fn idempotency(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !keyed_request(&request) {
        return next.run(request).await;
    }
    let Some(key) = request.headers().get(IDEMPOTENCY_KEY_HEADER).cloned() else {
        return next.run(request).await;
    };
    let key = match key.to_str() {
        Ok(k)
            if !k.is_empty()
                && k.len() <= MAX_KEY_LEN
                && k.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            k.to_owned()
        }
        _ => {
            return ApiError::bad_request(
                "INVALID_IDEMPOTENCY_KEY",
                format!("Idempotency-Key must be 1 to {MAX_KEY_LEN} printable characters"),
            )
            .into_response()
        }
    };
    let token = request
        .headers()
        .get(TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let services = &state.services;
    let caller = match token {
        Some(token) => services.authenticate(&token).await.ok(),
        None => None,
    };
    // Without a valid caller the route answers 401 itself; there is nothing to key.
    let Some(caller) = caller else {
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    let bytes = match to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "BODY_TOO_LARGE",
                "the request body is too large",
            )
            .into_response()
        }
    };
    let fingerprint = request_fingerprint(parts.method.as_str(), parts.uri.path(), &bytes);
    let user = &caller.user_id;
    let begun = match services.begin_idempotent(user, &key, &fingerprint).await {
        Ok(begun) => begun,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let claim = match begun {
        IdempotencyBegin::Fresh(claim) => claim,
        IdempotencyBegin::Replay(stored) => return replay(stored),
        IdempotencyBegin::Mismatch => {
            return ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "IDEMPOTENCY_KEY_REUSED",
                "this Idempotency-Key was used for a different request",
            )
            .into_response()
        }
        IdempotencyBegin::InFlight => {
            return ApiError::new(
                StatusCode::CONFLICT,
                "IDEMPOTENCY_KEY_IN_USE",
                "a request with this Idempotency-Key is still running",
            )
            .into_response()
        }
    };
    // The keyed request runs on a task of its own: a client that hangs up must not cancel it half-way
    // and leave its key claimed with no answer recorded.
    let services = services.clone();
    let user = user.clone();
    let run = tokio::spawn(async move {
        let response = next
            .run(Request::from_parts(parts, Body::from(bytes)))
            .await;
        record(&services, &user, &key, claim, response).await
    });
    run.await.unwrap_or_else(|e| {
        tracing::error!(error = %e, "a keyed request's task failed");
        internal_error()
    })
}

/// Keeps the response under the key (or frees the key for a retry) and hands it back.
async fn record(
    services: &crate::services::Services,
    user: &bankgate_domain::ids::UserId,
    key: &str,
    claim: bankgate_store::IdempotencyClaim,
    response: Response,
) -> Response {
    let (response_parts, response_body) = response.into_parts();
    let body = to_bytes(response_body, MAX_KEPT_RESPONSE_BYTES).await;
    let keep = body
        .as_ref()
        .is_ok_and(|bytes| kept(response_parts.status, bytes));
    let outcome = match (&body, keep) {
        (Ok(bytes), true) => {
            let stored = StoredResponse {
                status: response_parts.status.as_u16(),
                body: String::from_utf8_lossy(bytes).into_owned(),
            };
            services
                .complete_idempotent(user, key, claim, &stored)
                .await
        }
        _ => services.abandon_idempotent(user, key, claim).await,
    };
    if let Err(e) = outcome {
        tracing::error!(error = %e, "recording an idempotent response failed");
    }
    match body {
        Ok(bytes) => Response::from_parts(response_parts, Body::from(bytes)),
        Err(_) => internal_error(),
    }
}

fn internal_error() -> Response {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL",
        "something went wrong on our side",
    )
    .into_response()
}

fn replay(stored: StoredResponse) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = (status, stored.body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    response
}

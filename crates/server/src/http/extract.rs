//! Request extractors: JSON bodies and path parameters whose failures answer in the contract's error body
//! (400, or 413 over the size limit), the `token` header turned into the caller, and the client's address.

use super::error::ApiError;
use super::AppState;
use crate::services::auth::Caller;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The name of the header carrying the session token.
pub const TOKEN_HEADER: &str = "token";

/// A JSON body. Content-Type is not insisted on, since the contract's clients do not always send it.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "BODY_TOO_LARGE",
                    "the request body is too large",
                )
            } else {
                ApiError::bad_request("INVALID_BODY", "the request body could not be read")
            }
        })?;
        let body = if bytes.iter().all(u8::is_ascii_whitespace) {
            &b"null"[..]
        } else {
            &bytes[..]
        };
        serde_json::from_slice(body)
            .map(JsonBody)
            .map_err(|e| ApiError::bad_request("INVALID_JSON", format!("invalid JSON body: {e}")))
    }
}

/// A body that must be a JSON array (the contract's "sync" bodies), of items `T`: anything else is 400
/// `BODY_MUST_BE_ARRAY`, an item that does not read as `T` is 400 `INVALID_JSON`.
pub struct JsonArray<T>(pub Vec<T>);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonArray<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let JsonBody(body) = JsonBody::<serde_json::Value>::from_request(req, state).await?;
        let serde_json::Value::Array(items) = body else {
            return Err(ApiError::bad_request(
                "BODY_MUST_BE_ARRAY",
                "the body must be a JSON array",
            ));
        };
        serde_json::from_value(serde_json::Value::Array(items))
            .map(JsonArray)
            .map_err(|e| ApiError::bad_request("INVALID_JSON", format!("invalid item: {e}")))
    }
}

/// Path parameters. A path axum cannot decode into them (such as invalid UTF-8 after percent-decoding)
/// answers 400 in the contract's error body instead of axum's plain-text rejection.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Path(value))
            .map_err(|rejection| {
                tracing::debug!(%rejection, "undecodable path");
                ApiError::bad_request("INVALID_PATH", "the request path could not be decoded")
            })
    }
}

/// The authenticated caller, from the `token` header.
pub struct Authenticated(pub Caller);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(TOKEN_HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|t| !t.is_empty() && t.len() <= 256)
            .ok_or_else(ApiError::unauthorized)?;
        let caller = state.services.authenticate(token).await?;
        Ok(Authenticated(caller))
    }
}

/// The client's IP address as the listener saw it.
pub struct ClientAddr(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let addr = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        Ok(ClientAddr(addr))
    }
}

//! The contract's error body, `{ success: false, code, message }`, and the one place where service
//! errors become status codes. Internal details are logged here, once, and never put in a body.

use crate::services::{Entity, ServiceError};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use std::borrow::Cow;
use utoipa::ToSchema;

/// Every failure's body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Always false.
    pub success: bool,
    /// Stable machine code, UPPER_SNAKE_CASE.
    #[schema(example = "CARD_NOT_FOUND")]
    pub code: Cow<'static, str>,
    /// Human-readable explanation.
    #[schema(example = "Card not found")]
    pub message: Cow<'static, str>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: Cow<'static, str>,
    pub message: Cow<'static, str>,
    pub retry_after_secs: Option<u64>,
}

/// Seconds a client should wait before retrying a call that needed an unavailable back office.
const BACK_OFFICE_RETRY_AFTER_SECS: u64 = 5;

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        ApiError {
            status,
            code: Cow::Borrowed(code),
            message: message.into(),
            retry_after_secs: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, code, message)
    }

    /// A known path called with a method it does not take (axum adds the `Allow` header).
    pub fn method_not_allowed() -> Self {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "this path does not take that method",
        )
    }

    pub fn unauthorized() -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "a valid token header is required",
        )
    }

    fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs.max(1));
        self
    }
}

fn not_found(entity: Entity) -> ApiError {
    let (code, message) = match entity {
        Entity::User => ("USER_NOT_FOUND", "User not found"),
        Entity::Account => ("ACCOUNT_NOT_FOUND", "Account not found"),
        Entity::Card => ("CARD_NOT_FOUND", "Card not found"),
        Entity::Transaction => ("TRANSACTION_NOT_FOUND", "Transaction not found"),
        Entity::Device => ("DEVICE_NOT_FOUND", "Device not found"),
        Entity::Beneficiary => ("BENEFICIARY_NOT_FOUND", "Beneficiary not found"),
        Entity::Undo => ("UNDO_NOT_FOUND", "No such queued action"),
        Entity::Message => ("MESSAGE_NOT_FOUND", "Message not found"),
        Entity::Alert => ("ALERT_NOT_FOUND", "No such alert type"),
    };
    ApiError::not_found(code, message)
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        use ServiceError as E;
        match err {
            E::NotFound(entity) => not_found(entity),
            E::Invalid { code, message } => ApiError::bad_request(code, message),
            E::BadCredentials => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "BAD_CREDENTIALS",
                "wrong user name or password",
            ),
            E::DeviceBlocked => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "DEVICE_NOT_AUTHORISED",
                "this device is not allowed to log in",
            ),
            E::Unauthenticated => ApiError::unauthorized(),
            E::RateLimited { retry_after } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "TOO_MANY_ATTEMPTS",
                "too many failed logins; try again later",
            )
            .with_retry_after(retry_after.as_secs()),
            E::TooManyConnections { limit } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "TOO_MANY_CONNECTIONS",
                format!("at most {limit} push connections per user; close one first"),
            ),
            E::TooManyPendingHellos { limit } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "TOO_MANY_CONNECTIONS",
                format!("at most {limit} WebSockets per address may wait for their hello"),
            ),
            E::PinWrongLength => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "PIN_WRONG_LENGTH",
                "pin must be exactly 8 characters",
            ),
            E::PinNotDigits => ApiError::not_found("INVALID_PIN", "Invalid PIN"),
            E::BadOnOff => {
                ApiError::not_found("WRONG_ONOFF", "Wrong input to ampliFi.cards.cardOnOff")
            }
            E::RestrictionRefused(reason) => ApiError::not_found(
                "RESTRICTION_REFUSED",
                format!("Failed modifying card restrictions: {reason}"),
            ),
            E::Conflict { code, message } => ApiError::new(StatusCode::CONFLICT, code, message),
            E::IdempotencyMismatch { code, message } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
            }
            E::BackOfficeRefused { message } => {
                ApiError::new(StatusCode::CONFLICT, "BACK_OFFICE_REFUSED", message)
            }
            E::BackOfficeUnavailable => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "BACK_OFFICE_UNAVAILABLE",
                "a back office needed for this call is unavailable; try again shortly",
            )
            .with_retry_after(BACK_OFFICE_RETRY_AFTER_SECS),
            E::Unsupported(capability) => ApiError::new(
                StatusCode::CONFLICT,
                "NOT_SUPPORTED_BY_BACK_OFFICE",
                format!("the back office holding this product does not offer {capability}"),
            ),
            E::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "INTERNAL",
                    "something went wrong on our side",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            success: false,
            code: self.code,
            message: self.message,
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

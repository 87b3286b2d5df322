//! The operations listener, on its own port: Prometheus metrics, readiness with each back office's
//! health, and bearer-token admin routes: the sandbox card-authorization simulator, a back office's
//! maintenance switch, and support's messages to users.

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::JsonBody;
use crate::http::wire::common::DecimalInput;
use crate::http::wire::message::MessageResponse;
use crate::metrics::Metrics;
use crate::services::admin::{PurchaseResult, PurchaseSimulation};
use crate::services::messages::SupportMessage;
use crate::services::{Entity, ServiceError, Services};
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bankgate_domain::ids::{BackOfficeId, CardId, UserId};
use bankgate_domain::time_format::parse_dts;
use bankgate_domain::Currency;
use bankgate_store::MessageDetails;
use futures::future::join_all;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// How long readiness waits for a back office's health check.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Clone)]
struct AdminState {
    services: Services,
    metrics: Arc<Metrics>,
    token: Option<Arc<str>>,
}

pub fn router(services: Services, metrics: Arc<Metrics>, token: Option<String>) -> Router {
    let state = AdminState {
        services,
        metrics,
        token: token.map(Into::into),
    };
    let protected = Router::new()
        .route("/admin/sandbox/authorize", post(authorize))
        .route(
            "/admin/back-offices/{id}/maintenance",
            axum::routing::put(set_maintenance),
        )
        .route(
            "/admin/users/{id}/messages",
            axum::routing::put(send_support_message),
        )
        .layer(from_fn_with_state(state.clone(), require_token));
    Router::new()
        .route("/metrics", get(render_metrics))
        .route("/ready", get(ready))
        .merge(protected)
        .fallback(|| async { ApiError::not_found("NO_SUCH_ROUTE", "no such route") })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .with_state(state)
}

async fn require_token(State(state): State<AdminState>, request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match (&state.token, presented) {
        (Some(expected), Some(given))
            if constant_time_eq(expected.as_bytes(), given.as_bytes()) =>
        {
            next.run(request).await
        }
        _ => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "a valid admin bearer token is required",
        )
        .into_response(),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn render_metrics(State(state): State<AdminState>) -> impl IntoResponse {
    let registry = &state.services.back_offices;
    for id in registry.ids() {
        if let Some(circuit) = registry.circuit(id) {
            state.metrics.set_circuit(id, circuit);
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BackOfficeHealth {
    id: String,
    name: String,
    healthy: bool,
    error: Option<String>,
    /// The back office's circuit: closed (calls go through), open (calls fail at once after repeated
    /// unanswered calls) or half_open (the next call probes it).
    circuit: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Readiness {
    success: bool,
    back_offices: Vec<BackOfficeHealth>,
}

/// 200 when every back office answers its health check, 503 otherwise; the body lists each.
async fn ready(State(state): State<AdminState>) -> (StatusCode, Json<Readiness>) {
    let state = &state;
    let registry = &state.services.back_offices;
    let checks = registry.ids().map(|id| async move {
        let result = match registry.get(id) {
            Ok(office) => match tokio::time::timeout(HEALTH_TIMEOUT, office.health()).await {
                Ok(r) => r.map_err(|e| e.kind().to_owned()),
                Err(_) => Err("timeout".to_owned()),
            },
            Err(e) => Err(e.kind().to_owned()),
        };
        state.metrics.set_back_office_health(id, result.is_ok());
        BackOfficeHealth {
            id: id.to_string(),
            name: state.services.back_office_name(id),
            healthy: result.is_ok(),
            error: result.err(),
            circuit: registry.circuit(id).map(|c| c.as_str()),
        }
    });
    let back_offices = join_all(checks).await;
    let success = back_offices.iter().all(|b| b.healthy);
    let status = if success {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Readiness {
            success,
            back_offices,
        }),
    )
}

#[derive(Deserialize)]
struct MaintenanceBody {
    maintenance: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MaintenanceResponse {
    success: bool,
    id: String,
    circuit: &'static str,
}

/// Takes a back office out of service (`{"maintenance": true}`) or puts it back (`false`) on this node.
/// While out, bankgate stands in for it: reads come from the store, queueable writes are queued.
async fn set_maintenance(
    State(state): State<AdminState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    JsonBody(body): JsonBody<MaintenanceBody>,
) -> ApiResult<Json<MaintenanceResponse>> {
    let unknown = || ApiError::not_found("NO_SUCH_BACK_OFFICE", "no back office with this id");
    let id = BackOfficeId::parse(&id).ok_or_else(unknown)?;
    let registry = &state.services.back_offices;
    registry
        .set_maintenance(&id, body.maintenance)
        .map_err(|_| unknown())?;
    tracing::warn!(back_office = %id, maintenance = body.maintenance, "back-office maintenance changed");
    let circuit = registry.circuit(&id).map_or("closed", |c| c.as_str());
    Ok(Json(MaintenanceResponse {
        success: true,
        id: id.to_string(),
        circuit,
    }))
}

/// A message from support to a user.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SupportMessageBody {
    text: String,
    title: Option<String>,
    href: Option<String>,
    category: Option<String>,
    severity: Option<String>,
    message_priority_code: Option<String>,
    dedup_code: Option<String>,
}

/// Support replies to a user (`AFiUserId` in the path): stored in the user's messages and pushed to
/// their connected apps.
async fn send_support_message(
    State(state): State<AdminState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    JsonBody(body): JsonBody<SupportMessageBody>,
) -> ApiResult<Json<MessageResponse>> {
    let user = UserId::parse(id.trim()).ok_or(ServiceError::NotFound(Entity::User))?;
    let reply = SupportMessage {
        text: body.text,
        details: MessageDetails {
            title: body.title,
            href: body.href,
            category: body.category,
            severity: body.severity,
            priority_code: body.message_priority_code,
        },
        dedup_code: body.dedup_code,
    };
    let message = state.services.send_from_support(&user, &reply).await?;
    Ok(Json(MessageResponse {
        success: true,
        message: (&message).into(),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthorizeBody {
    #[serde(rename = "AFiCardId")]
    afi_card_id: String,
    amount: DecimalInput,
    currency: String,
    mcc: String,
    merchant: Option<String>,
    /// The merchant's local time, ISO-8601 with its offset.
    dts_local: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AuthorizeResponse {
    success: bool,
    approved: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    decline_reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transaction_id: Option<String>,
}

/// Simulates a card purchase at the card's sandbox back office.
async fn authorize(
    State(state): State<AdminState>,
    JsonBody(body): JsonBody<AuthorizeBody>,
) -> ApiResult<Json<AuthorizeResponse>> {
    let currency = Currency::parse(&body.currency)
        .map_err(|e| ApiError::bad_request("INVALID_CURRENCY", e.to_string()))?;
    let amount = body
        .amount
        .to_money(currency)
        .map_err(|e| ApiError::bad_request("INVALID_AMOUNT", e.to_string()))?;
    let local_time = match body.dts_local.as_deref() {
        Some(text) => Some(parse_dts(text).ok_or_else(|| {
            ApiError::bad_request("INVALID_DTS", "dtsLocal must be ISO-8601 with an offset")
        })?),
        None => None,
    };
    let card_id = CardId::parse(&body.afi_card_id).ok_or(ServiceError::NotFound(Entity::Card))?;
    let purchase = PurchaseSimulation {
        card_id,
        amount,
        mcc: body.mcc,
        merchant: body.merchant,
        local_time,
    };
    let response = match state.services.simulate_purchase(purchase).await? {
        PurchaseResult::Approved { transaction_id } => AuthorizeResponse {
            success: true,
            approved: true,
            decline_reason: None,
            transaction_id: Some(transaction_id.into_string()),
        },
        PurchaseResult::Declined { reason } => AuthorizeResponse {
            success: true,
            approved: false,
            decline_reason: Some(reason.as_str()),
            transaction_id: None,
        },
    };
    Ok(Json(response))
}

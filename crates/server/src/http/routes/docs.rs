//! The API's own description: the OpenAPI document and a readable page rendered from it.

use crate::http::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse};

/// The OpenAPI 3.1 document of every route.
#[utoipa::path(get, path = "/openapi.json", tag = "docs", security(()),
    responses((status = 200, description = "OpenAPI document", content_type = "application/json")))]
pub async fn openapi_json(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.docs.json.clone(),
    )
}

/// The API reference as a self-contained HTML page (nothing is fetched from elsewhere).
#[utoipa::path(get, path = "/docs", tag = "docs", security(()),
    responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn docs_page(State(state): State<AppState>) -> Html<String> {
    Html(state.docs.html.clone())
}

//! Cards: listing, issuing, activating, enabling, PINs, reissues, restrictions, and the card network's
//! authorizations.

use super::{AppState, Failures, JsonBody, Key, Ref, Reply};
use crate::error::ErrorReply;
use crate::wire::{CardSwitch, NewPin, Reissue, RestrictionPatch};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use bankgate_backoffice::{AuthorizationOutcome, AuthorizationRequest, BoCard, IssueCard};
use bankgate_domain::card::Pin;

/// The customer's cards.
#[utoipa::path(get, path = "/customers/{customer}/cards", tag = "cards",
    params(("customer" = String, Path, description = "The customer's reference")),
    responses((status = 200, body = Vec<BoCard>), Failures))]
pub(super) async fn list_cards(
    State(s): State<AppState>,
    Ref(customer): Ref,
) -> Reply<Json<Vec<BoCard>>> {
    let cards = s.back_office.require_cards()?;
    Ok(Json(cards.list_cards(&customer).await?))
}

#[utoipa::path(get, path = "/cards/{card}", tag = "cards",
    params(("card" = String, Path, description = "The card's reference")),
    responses((status = 200, body = BoCard), Failures))]
pub(super) async fn get_card(State(s): State<AppState>, Ref(card): Ref) -> Reply<Json<BoCard>> {
    let cards = s.back_office.require_cards()?;
    Ok(Json(cards.get_card(&card).await?))
}

/// Issues a card on the account.
#[utoipa::path(post, path = "/accounts/{account}/cards", tag = "cards",
    params(("account" = String, Path, description = "The account's reference"),
        ("Idempotency-Key" = String, Header, description = "Makes the call safe to repeat")),
    request_body = IssueCard,
    responses((status = 201, body = BoCard), Failures))]
pub(super) async fn issue_card(
    State(s): State<AppState>,
    Ref(account): Ref,
    Key(key): Key,
    JsonBody(request): JsonBody<IssueCard>,
) -> Reply<(StatusCode, Json<BoCard>)> {
    let cards = s.back_office.require_cards()?;
    let card = cards.issue_card(&account, &request, &key).await?;
    Ok((StatusCode::CREATED, Json(card)))
}

/// Activates the card (an activated card stays as it is).
#[utoipa::path(post, path = "/cards/{card}/activate", tag = "cards",
    params(("card" = String, Path, description = "The card's reference")),
    responses((status = 200, body = BoCard), Failures))]
pub(super) async fn activate_card(
    State(s): State<AppState>,
    Ref(card): Ref,
) -> Reply<Json<BoCard>> {
    let cards = s.back_office.require_cards()?;
    Ok(Json(cards.activate_card(&card).await?))
}

/// Turns the card on or off.
#[utoipa::path(put, path = "/cards/{card}/enabled", tag = "cards",
    params(("card" = String, Path, description = "The card's reference")),
    request_body = CardSwitch,
    responses((status = 200, body = BoCard), Failures))]
pub(super) async fn set_card_enabled(
    State(s): State<AppState>,
    Ref(card): Ref,
    JsonBody(switch): JsonBody<CardSwitch>,
) -> Reply<Json<BoCard>> {
    let cards = s.back_office.require_cards()?;
    Ok(Json(cards.set_card_enabled(&card, switch.enabled).await?))
}

/// Sets the card's PIN.
#[utoipa::path(put, path = "/cards/{card}/pin", tag = "cards",
    params(("card" = String, Path, description = "The card's reference")),
    request_body = NewPin,
    responses((status = 204, description = "The PIN is set"), Failures))]
pub(super) async fn set_pin(
    State(s): State<AppState>,
    Ref(card): Ref,
    JsonBody(new_pin): JsonBody<NewPin>,
) -> Reply<StatusCode> {
    let pin = Pin::parse_digits(&new_pin.pin)
        .ok_or_else(|| ErrorReply::bad_request("a PIN is four digits"))?;
    let cards = s.back_office.require_cards()?;
    cards.set_pin(&card, &pin).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reissues the card: `lost` keeps its number, `stolen` replaces it.
#[utoipa::path(post, path = "/cards/{card}/reissue", tag = "cards",
    params(("card" = String, Path, description = "The card's reference")),
    request_body = Reissue,
    responses((status = 200, body = BoCard), Failures))]
pub(super) async fn reissue_card(
    State(s): State<AppState>,
    Ref(card): Ref,
    JsonBody(reissue): JsonBody<Reissue>,
) -> Reply<Json<BoCard>> {
    let cards = s.back_office.require_cards()?;
    Ok(Json(cards.reissue_card(&card, reissue.reason).await?))
}

/// Changes the card's restrictions.
#[utoipa::path(patch, path = "/cards/{card}/restrictions", tag = "cards",
    params(("card" = String, Path, description = "The card's reference")),
    request_body = RestrictionPatch,
    responses((status = 200, body = BoCard), Failures))]
pub(super) async fn update_restrictions(
    State(s): State<AppState>,
    Ref(card): Ref,
    JsonBody(patch): JsonBody<RestrictionPatch>,
) -> Reply<Json<BoCard>> {
    let cards = s.back_office.require_cards()?;
    let update = patch.into();
    Ok(Json(cards.update_restrictions(&card, &update).await?))
}

/// The card network's decision on a purchase (simulators only).
#[utoipa::path(post, path = "/authorizations", tag = "card network",
    request_body = AuthorizationRequest,
    responses((status = 200, body = AuthorizationOutcome), Failures))]
pub(super) async fn authorize(
    State(s): State<AppState>,
    JsonBody(request): JsonBody<AuthorizationRequest>,
) -> Reply<Json<AuthorizationOutcome>> {
    let network = s.back_office.require_card_authorization()?;
    Ok(Json(network.authorize(&request).await?))
}

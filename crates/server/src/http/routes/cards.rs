//! The cards module. `/card/...` and `/cards/...` are interchangeable (see `http::paths`).

use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::Path;
use crate::http::extract::{Authenticated, JsonBody};
use crate::http::wire::card::{
    CardChangesBody, CardResponse, CardSwitchResponse, CardWire, CardsResponse, PinBody,
    ReissueBody, RestrictionBody, RestrictionResponse, RestrictionWire,
};
use crate::http::wire::common::Success;
use crate::http::wire::movement::UndoWire;
use crate::http::AppState;
use crate::services::auth::Caller;
use crate::services::card_switch::Switched;
use crate::services::cards::CardView;
use crate::services::stand_in::any_stand_in;
use crate::services::{Entity, ServiceError};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use bankgate_domain::card::ReissueReason;
use bankgate_domain::ids::CardId;
use bankgate_store::StoredCard;

fn card_id(raw: &str) -> Result<CardId, ServiceError> {
    CardId::parse(raw).ok_or(ServiceError::NotFound(Entity::Card))
}

fn wire(state: &AppState, stored: StoredCard) -> CardWire {
    let name = state.services.back_office_name(&stored.back_office_id);
    CardWire::new(stored, name)
}

fn card_response(
    state: &AppState,
    caller: Caller,
    card: impl Into<CardView>,
) -> Json<CardResponse> {
    let card = card.into();
    let stand_in = card.freshness.is_stale();
    let mut wire = wire(state, card.stored);
    wire.is_stale = stand_in;
    Json(CardResponse {
        success: true,
        stand_in,
        card: wire,
        user_id: caller.user_id.into_string(),
    })
}

/// All cards of the current user.
#[utoipa::path(get, path = "/cards", tag = "cards",
    responses((status = 200, body = CardsResponse), (status = 401, body = ErrorBody)))]
pub async fn list_cards(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> ApiResult<Json<CardsResponse>> {
    let cards = state.services.list_cards(&caller.user_id).await?;
    let stand_in = any_stand_in(cards.iter().map(|c| c.freshness));
    let cards = cards
        .into_iter()
        .map(|c| {
            let mut wire = wire(&state, c.stored);
            wire.is_stale = c.freshness.is_stale();
            wire
        })
        .collect();
    Ok(Json(CardsResponse {
        success: true,
        stand_in,
        cards,
        user_id: caller.user_id.into_string(),
    }))
}

/// One card.
#[utoipa::path(get, path = "/cards/{AFiCardId}", tag = "cards", params(("AFiCardId" = String, Path)),
    responses((status = 200, body = CardResponse), (status = 404, body = ErrorBody)))]
pub async fn get_card(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<CardResponse>> {
    let card = state
        .services
        .get_card(&caller.user_id, &card_id(&id)?)
        .await?;
    Ok(card_response(&state, caller, card))
}

/// Change the card's nickname (`name`) and `isMain` (which may be sent as a string).
#[utoipa::path(post, path = "/cards/{AFiCardId}", tag = "cards", request_body = CardChangesBody,
    params(("AFiCardId" = String, Path)),
    responses((status = 200, body = CardResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn modify_card(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<CardChangesBody>,
) -> ApiResult<Json<CardResponse>> {
    let card = state
        .services
        .modify_card(&caller.user_id, &card_id(&id)?, body.into())
        .await?;
    Ok(card_response(&state, caller, card))
}

/// Activate the card; on an activated card this changes nothing and still returns it.
#[utoipa::path(post, path = "/cards/{AFiCardId}/activate", tag = "cards", params(("AFiCardId" = String, Path)),
    responses((status = 200, body = CardResponse), (status = 404, body = ErrorBody)))]
pub async fn activate_card(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<CardResponse>> {
    let card = state
        .services
        .activate_card(&caller.user_id, &card_id(&id)?)
        .await?;
    Ok(card_response(&state, caller, card))
}

/// Set the PIN: `pin` is 8 characters whose 3rd to 6th are the 4-digit PIN; the others are padding and
/// are not checked. Only the 4 digits reach the back office; the PIN is never stored or returned.
#[utoipa::path(post, path = "/card/{AFiCardId}/pin", tag = "cards", request_body = PinBody,
    params(("AFiCardId" = String, Path)),
    responses((status = 200, body = Success),
        (status = 401, description = "pin is not exactly 8 characters", body = ErrorBody),
        (status = 404, description = "\"Invalid PIN\" (characters 3 to 6 not digits), or not the user's card", body = ErrorBody)))]
pub async fn set_card_pin(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PinBody>,
) -> ApiResult<Json<Success>> {
    let envelope = body.pin.unwrap_or_default();
    state
        .services
        .set_card_pin(&caller.user_id, &card_id(&id)?, &envelope)
        .await?;
    Ok(Json(Success::OK))
}

/// Reissue the card: `lost` keeps the number with a new expiry, `stolen` issues a new number. The new
/// card needs activating.
#[utoipa::path(post, path = "/card/{AFiCardId}/reissue", tag = "cards", request_body = ReissueBody,
    params(("AFiCardId" = String, Path)),
    responses((status = 200, body = CardResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reissue_card(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ReissueBody>,
) -> ApiResult<Json<CardResponse>> {
    let reason = ReissueReason::parse(&body.reason).ok_or_else(|| {
        ApiError::bad_request("INVALID_REASON", "reason must be \"lost\" or \"stolen\"")
    })?;
    let card = state
        .services
        .reissue_card(&caller.user_id, &card_id(&id)?, reason)
        .await?;
    Ok(card_response(&state, caller, card))
}

/// Set restrictions: `dayOfWeek` ("0" = Sunday .. "6"), `timesOfDay` (ranges like "am9pm5"), and one of
/// `allowedMCCs` / `restrictedMCCs`. Sending both lists, or one while the card has the other, is a 404;
/// send the other as null to switch. `restrictedMCCs` values are stored as false.
#[utoipa::path(post, path = "/card/{AFiCardId}/restriction", tag = "cards", request_body = RestrictionBody,
    params(("AFiCardId" = String, Path)),
    responses((status = 200, body = RestrictionResponse),
        (status = 404, description = "Not found, or \"Failed modifying card restrictions\"", body = ErrorBody)))]
pub async fn restrict_card(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RestrictionBody>,
) -> ApiResult<Json<RestrictionResponse>> {
    let card = state
        .services
        .restrict_card(&caller.user_id, &card_id(&id)?, body.into())
        .await?;
    let restriction = RestrictionWire {
        afi_card_id: card.id.into_string(),
        restrictions: card.card.restrictions.into(),
    };
    Ok(Json(RestrictionResponse {
        success: true,
        restriction,
    }))
}

/// Turn the card on or off. `off`: status "blocked", isActive false, nothing is authorised. While the
/// card's bank is unavailable the switch is queued (202, `queued: true`, `undo`; the card shown is the
/// stored copy) and made when the bank answers again.
#[utoipa::path(post, path = "/cards/{AFiCardId}/{onoff}", tag = "cards",
    params(("AFiCardId" = String, Path), ("onoff" = String, Path, description = "\"on\" or \"off\"")),
    responses((status = 200, body = CardSwitchResponse),
        (status = 202, body = CardSwitchResponse, description = "Queued: the card's bank is unavailable"),
        (status = 404, description = "\"Wrong input to ampliFi.cards.cardOnOff\" or \"Card not found\"", body = ErrorBody)))]
pub async fn switch_card(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path((id, onoff)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<CardSwitchResponse>)> {
    let switched = state
        .services
        .switch_card(&caller.user_id, &card_id(&id)?, &onoff)
        .await?;
    let (status, card, undo) = match switched {
        Switched::Done(card) => (StatusCode::OK, wire(&state, card), None),
        Switched::Queued { card, job } => {
            let mut card = wire(&state, card);
            card.is_stale = true;
            let undo = UndoWire::new(&job, state.services.clock.now());
            (StatusCode::ACCEPTED, card, Some(undo))
        }
    };
    let body = CardSwitchResponse {
        success: true,
        queued: undo.is_some(),
        undo,
        status: card.status.clone(),
        is_active: card.is_active,
        card,
        user_id: caller.user_id.into_string(),
    };
    Ok((status, Json(body)))
}

//! The card object, its restrictions, and the bodies of the card-changing calls.

use super::common::{dts, lenient_bool, patch};
use crate::services::cards::CardChanges;
use bankgate_domain::patch::Patch;
use bankgate_domain::restrictions::{CardRestrictions, FlagMap, RestrictionUpdate};
use bankgate_store::StoredCard;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Restrictions as the contract shows them; a null list means none of that kind.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestrictionsWire {
    #[schema(value_type = Option<Object>, example = json!({"0": false}))]
    pub day_of_week: Option<FlagMap>,
    #[schema(value_type = Option<Object>, example = json!({"am9pm5": true}))]
    pub times_of_day: Option<FlagMap>,
    #[serde(rename = "allowedMCCs")]
    #[schema(value_type = Option<Object>)]
    pub allowed_mccs: Option<FlagMap>,
    #[serde(rename = "restrictedMCCs")]
    #[schema(value_type = Option<Object>)]
    pub restricted_mccs: Option<FlagMap>,
}

impl From<CardRestrictions> for RestrictionsWire {
    fn from(r: CardRestrictions) -> Self {
        RestrictionsWire {
            day_of_week: r.day_of_week,
            times_of_day: r.times_of_day,
            allowed_mccs: r.allowed_mccs,
            restricted_mccs: r.restricted_mccs,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CardWire {
    #[serde(rename = "AFiCardId")]
    pub afi_card_id: String,
    pub id: String,
    #[serde(rename = "AFiAccountId")]
    pub afi_account_id: String,
    #[serde(rename = "AFiUserId")]
    pub afi_user_id: String,
    pub is_sync: bool,
    #[serde(rename = "cardIdBO")]
    pub card_id_bo: String,
    #[serde(rename = "accountIdBO")]
    pub account_id_bo: String,
    pub back_office_id: String,
    pub back_office_name: String,
    pub type_id: String,
    /// The user's nickname for the card.
    pub name: Option<String>,
    #[serde(rename = "name_on_card")]
    pub name_on_card: String,
    /// Card number, masked to first 4 and last 4.
    #[schema(example = "4000********1234")]
    pub num: String,
    pub currency: String,
    #[serde(rename = "expiryYYYYMM")]
    pub expiry_yyyymm: String,
    pub restrictions: RestrictionsWire,
    #[schema(example = "active")]
    pub status: String,
    pub is_active: bool,
    pub is_activated: bool,
    pub is_closed: bool,
    pub is_main: bool,
    pub dts_opened: String,
    pub dts_updated: String,
    pub dts_activated: Option<String>,
    pub dts_refreshed: String,
    pub is_stale: bool,
}

impl CardWire {
    pub fn new(stored: StoredCard, back_office_name: String) -> Self {
        let c = stored.card;
        let is_active = c.enabled && !c.closed;
        CardWire {
            afi_card_id: stored.id.as_str().to_owned(),
            id: stored.id.into_string(),
            afi_account_id: stored.account_id.into_string(),
            afi_user_id: stored.user_id.into_string(),
            is_sync: true,
            card_id_bo: c.id_bo.0,
            account_id_bo: c.account_id_bo.0,
            back_office_id: stored.back_office_id.to_string(),
            back_office_name,
            type_id: c.type_id,
            name: stored.prefs.name,
            name_on_card: c.name_on_card,
            num: c.number_masked.as_str().to_owned(),
            currency: c.currency.to_string(),
            expiry_yyyymm: c.expiry.yyyymm(),
            restrictions: c.restrictions.into(),
            status: if is_active { "active" } else { "blocked" }.to_owned(),
            is_active,
            is_activated: c.activated,
            is_closed: c.closed,
            is_main: stored.prefs.is_main,
            dts_opened: dts(c.issued_at),
            dts_updated: dts(c.updated_at),
            dts_activated: c.activated_at.map(dts),
            dts_refreshed: dts(stored.refreshed_at),
            is_stale: false,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CardsResponse {
    pub success: bool,
    /// Present and true when a back office was unavailable and some cards come from bankgate's store.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stand_in: bool,
    pub cards: Vec<CardWire>,
    pub user_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CardResponse {
    pub success: bool,
    /// Present and true when the card's back office was unavailable and it comes from bankgate's store.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stand_in: bool,
    pub card: CardWire,
    pub user_id: String,
}

/// The on/off answer: the card's new `status` and `isActive` also at the top level.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CardSwitchResponse {
    pub success: bool,
    /// Present and true when the switch was queued because the card's bank is unavailable.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub queued: bool,
    /// The queued switch, when it was queued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub undo: Option<super::movement::UndoWire>,
    pub status: String,
    pub is_active: bool,
    pub card: CardWire,
    pub user_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestrictionWire {
    #[serde(rename = "AFiCardId")]
    pub afi_card_id: String,
    #[serde(flatten)]
    pub restrictions: RestrictionsWire,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RestrictionResponse {
    pub success: bool,
    pub restriction: RestrictionWire,
}

/// `POST /cards/{id}` body.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct CardChangesBody {
    #[serde(deserialize_with = "patch")]
    #[schema(value_type = Option<String>)]
    pub name: Patch<String>,
    #[serde(deserialize_with = "lenient_bool")]
    #[schema(value_type = Option<bool>)]
    pub is_main: Option<bool>,
}

impl From<CardChangesBody> for CardChanges {
    fn from(b: CardChangesBody) -> Self {
        CardChanges {
            name: b.name,
            is_main: b.is_main,
        }
    }
}

/// `POST /card/{id}/pin` body: 8 characters whose 3rd to 6th are the PIN.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct PinBody {
    #[serde(deserialize_with = "pin_text")]
    #[schema(value_type = String, example = "12345678")]
    pub pin: Option<String>,
}

/// The PIN envelope as text, also when a client sends it as a JSON number.
fn pin_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        None => None,
        Some(_) => return Err(D::Error::custom("pin must be a string")),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReissueBody {
    #[schema(example = "lost")]
    pub reason: String,
}

/// `POST /card/{id}/restriction` body. A kind left out stays as it is; `null` removes it.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct RestrictionBody {
    #[serde(rename = "AFiCardId")]
    pub afi_card_id: Option<String>,
    #[serde(deserialize_with = "flags")]
    #[schema(value_type = Option<Object>)]
    pub day_of_week: Patch<FlagMap>,
    #[serde(deserialize_with = "flags")]
    #[schema(value_type = Option<Object>)]
    pub times_of_day: Patch<FlagMap>,
    #[serde(rename = "allowedMCCs", deserialize_with = "flags")]
    #[schema(value_type = Option<Object>)]
    pub allowed_mccs: Patch<FlagMap>,
    /// Every value is stored as false, whatever is sent.
    #[serde(rename = "restrictedMCCs", deserialize_with = "any_flags")]
    #[schema(value_type = Option<Object>)]
    pub restricted_mccs: Patch<FlagMap>,
}

impl From<RestrictionBody> for RestrictionUpdate {
    fn from(b: RestrictionBody) -> Self {
        RestrictionUpdate {
            day_of_week: b.day_of_week,
            times_of_day: b.times_of_day,
            allowed_mccs: b.allowed_mccs,
            restricted_mccs: b.restricted_mccs,
        }
    }
}

fn flags<'de, D: Deserializer<'de>>(d: D) -> Result<Patch<FlagMap>, D::Error> {
    flag_patch(d, |v| match v {
        serde_json::Value::Bool(b) => Some(b),
        serde_json::Value::String(s) if s == "true" => Some(true),
        serde_json::Value::String(s) if s == "false" => Some(false),
        _ => None,
    })
}

fn any_flags<'de, D: Deserializer<'de>>(d: D) -> Result<Patch<FlagMap>, D::Error> {
    flag_patch(d, |_| Some(false))
}

fn flag_patch<'de, D: Deserializer<'de>>(
    d: D,
    value: impl Fn(serde_json::Value) -> Option<bool>,
) -> Result<Patch<FlagMap>, D::Error> {
    let Some(map) = Option::<BTreeMap<String, serde_json::Value>>::deserialize(d)? else {
        return Ok(Patch::Clear);
    };
    let mut flags = FlagMap::new();
    for (key, v) in map {
        let flag = value(v).ok_or_else(|| {
            D::Error::custom(format!("restriction {key:?} must be true or false"))
        })?;
        flags.insert(key, flag);
    }
    Ok(Patch::Set(flags))
}
